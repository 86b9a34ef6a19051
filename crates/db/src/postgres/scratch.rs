//! Scratch databases on a PostgreSQL server: created with a comment that names their
//! owner, dropped `WITH (FORCE)`, and listed for the sweep of ones killed runs left.

use sqlx::{Executor, PgConnection, Row};

fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

pub async fn create(c: &mut PgConnection, name: &str, owner: &str) -> Result<(), sqlx::Error> {
    c.execute(sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "CREATE DATABASE {}",
        quote(name)
    ))))
    .await?;
    // Throwaway work: a crash loses nothing worth keeping, so commits need not wait for
    // the WAL to reach the disk (replays commit once per batch of statements). Set on
    // the database, so every connection to it has it.
    let _ = c
        .execute(sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "ALTER DATABASE {} SET synchronous_commit = off",
            quote(name)
        ))))
        .await;
    // For people who find it: who made it, and that it may go.
    let _ = c
        .execute(sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "COMMENT ON DATABASE {} IS {}",
            quote(name),
            literal(owner)
        ))))
        .await;
    Ok(())
}

pub async fn drop(c: &mut PgConnection, name: &str) -> Result<(), sqlx::Error> {
    c.execute(sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {} WITH (FORCE)",
        quote(name)
    ))))
    .await
    .map(|_| ())
}

/// The scratch databases this role may drop.
pub async fn list(c: &mut PgConnection) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT datname::text FROM pg_catalog.pg_database WHERE left(datname, 17) = 'lockstep_scratch_' AND pg_catalog.pg_has_role(datdba, 'MEMBER') ORDER BY 1",
    )
    .fetch_all(&mut *c)
    .await
    .unwrap_or_default()
}

/// Waits (up to 30 s) until no server process still runs the CREATE DATABASE of
/// `name`: the client that sent it is gone, but the server finishes it.
pub async fn wait_for_create(c: &mut PgConnection, name: &str) {
    let sent = format!("CREATE DATABASE {}", quote(name));
    for _ in 0..300 {
        if !running(c, &sent).await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Whether another session runs the DROP DATABASE of `name` that [`drop`] sends.
pub async fn drop_running(c: &mut PgConnection, name: &str) -> bool {
    running(c, &format!("DROP DATABASE IF EXISTS {}", quote(name))).await
}

/// Whether another session is running a statement that contains `sent`.
async fn running(c: &mut PgConnection, sent: &str) -> bool {
    sqlx::query(
        "SELECT 1 FROM pg_catalog.pg_stat_activity WHERE state = 'active' AND pid <> pg_backend_pid() AND position($1 in query) > 0",
    )
    .bind(sent)
    .fetch_optional(&mut *c)
    .await
    .map(|r| r.is_some())
    .unwrap_or(false)
}

pub async fn role(c: &mut PgConnection) -> Option<String> {
    sqlx::query("SELECT current_user::text")
        .fetch_one(&mut *c)
        .await
        .ok()
        .and_then(|r| r.try_get(0).ok())
}
