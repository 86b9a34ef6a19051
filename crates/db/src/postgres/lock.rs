//! The deploy lock (a session-level advisory lock), deciding in-doubt statements, and
//! what a waiting session waits for (`pg_locks`, `pg_blocking_pids`).

use crate::wait::{Blocker, Wait};
use crate::{DbError, DbUrl};
use sqlx::{Executor, PgConnection, Row};
use std::time::Duration;

/// An arbitrary constant: advisory locks are scoped to the database already.
const LOCK_KEY: i64 = 0x6c6f_636b_7374_6570; // "lockstep"

/// The lock of a database, or of one schema of it (schema-per-tenant): tenants of one
/// database deploy in parallel, each under its own lock, rather than one at a time
/// under the database's. FNV-1a of the name, so every lockstep computes the same key.
fn key(url: &DbUrl) -> i64 {
    match url.schema() {
        None => LOCK_KEY,
        Some(s) => {
            let h = s.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
            });
            LOCK_KEY ^ h as i64
        }
    }
}

/// Takes the deploy lock; calls `on_wait` once if another deploy holds it, then waits.
///
/// The wait polls `pg_try_advisory_lock` and stays idle in between, outside any
/// transaction. A session sitting in `pg_advisory_lock()` holds a snapshot for as long
/// as it waits; the deploy it waits for may be building an index `CONCURRENTLY`, which
/// waits for every older snapshot to go away: each would wait for the other, and the
/// server would end one of them with "deadlock detected".
pub async fn lock(
    c: &mut PgConnection,
    url: &DbUrl,
    on_wait: &mut dyn FnMut(Option<i32>),
) -> Result<(), DbError> {
    let err = |e| DbError::query("taking the deploy lock", url, e);
    let lock_key = key(url);
    let mut pause = Duration::from_millis(50);
    let mut said = false;
    loop {
        let got: bool = sqlx::query("SELECT pg_try_advisory_lock($1)")
            .bind(lock_key)
            .fetch_one(&mut *c)
            .await
            .map_err(err)?
            .try_get(0)
            .map_err(err)?;
        if got {
            return Ok(());
        }
        if !said {
            said = true;
            let holder: Option<i32> = sqlx::query(
                "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND objid = ($1 & 4294967295)::oid LIMIT 1",
            )
            .bind(lock_key)
            .fetch_optional(&mut *c)
            .await
            .ok()
            .flatten()
            .and_then(|r| r.try_get(0).ok());
            on_wait(holder);
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 3 / 2).min(Duration::from_secs(1));
    }
}

pub async fn unlock(c: &mut PgConnection) {
    // The deploy lock is the only advisory lock lockstep takes, and its key depends on
    // the schema a session is confined to: releasing all of them releases it.
    let _ = sqlx::query("SELECT pg_advisory_unlock_all()")
        .execute(&mut *c)
        .await;
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// An in-doubt `CREATE | DROP INDEX CONCURRENTLY`: took effect when the index is there
/// and valid (create) or gone (drop). An INVALID index left by a build that died is
/// dropped, so that the retry can build it. Anything else: cannot tell.
pub async fn decide(
    c: &mut PgConnection,
    url: &DbUrl,
    statement: &str,
) -> Result<Option<bool>, DbError> {
    use lockstep_core::sql::shapes::{concurrent_index_target, IndexOp};
    let Some(t) = concurrent_index_target(statement) else {
        return Ok(None);
    };
    let err = |e| DbError::query("checking an in-doubt statement", url, e);
    let valid: Option<bool> = sqlx::query(
        "SELECT i.indisvalid FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relname = $1 AND (($2::text IS NULL AND pg_catalog.pg_table_is_visible(c.oid)) OR n.nspname = $2)",
    )
    .bind(&t.name)
    .bind(&t.schema)
    .fetch_optional(&mut *c)
    .await
    .map_err(err)?
    .map(|r| r.try_get(0))
    .transpose()
    .map_err(err)?;
    Ok(match (t.op, valid) {
        (IndexOp::Create, None) => Some(false),
        (IndexOp::Create, Some(true)) => Some(true),
        (IndexOp::Create, Some(false)) => {
            let target = match &t.schema {
                Some(s) => format!("{}.{}", quote(s), quote(&t.name)),
                None => quote(&t.name),
            };
            c.execute(sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "DROP INDEX CONCURRENTLY IF EXISTS {target}"
            ))))
            .await
            .map_err(err)?;
            Some(false)
        }
        (IndexOp::Drop, None) => Some(true),
        (IndexOp::Drop, Some(_)) => Some(false),
    })
}

const WAITING_FOR: &str = "
SELECT l.locktype, l.mode,
       CASE WHEN l.relation IS NOT NULL THEN l.relation::regclass::text END AS rel,
       CASE WHEN l.relation IS NOT NULL THEN
         (SELECT CASE c.relkind WHEN 'i' THEN 'index' WHEN 'I' THEN 'index' WHEN 'S' THEN 'sequence'
                   WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' ELSE 'table' END
          FROM pg_catalog.pg_class c WHERE c.oid = l.relation) END AS kind
FROM pg_catalog.pg_locks l
WHERE l.pid = $1 AND NOT l.granted
LIMIT 1";

const BLOCKERS: &str = "
SELECT a.pid, a.usename::text AS usr, nullif(a.application_name, '') AS app,
       host(a.client_addr) AS client, a.state,
       to_char(coalesce(a.xact_start, a.query_start), 'YYYY-MM-DD HH24:MI:SS TZ') AS since,
       extract(epoch FROM clock_timestamp() - coalesce(a.xact_start, a.query_start))::float8 AS secs,
       left(regexp_replace(a.query, '\\s+', ' ', 'g'), 200) AS query
FROM pg_catalog.pg_stat_activity a
WHERE a.pid = ANY (pg_catalog.pg_blocking_pids($1))
ORDER BY a.pid";

/// What the session `pid` waits for right now, and who is in its way; None when it does
/// not wait for a lock.
pub async fn blockers(side: &mut PgConnection, pid: i32) -> Option<Wait> {
    let row = sqlx::query(WAITING_FOR)
        .bind(pid)
        .fetch_optional(&mut *side)
        .await
        .ok()??;
    let locktype: String = row.try_get("locktype").ok()?;
    let mode: String = row.try_get("mode").unwrap_or_default();
    let rel: Option<String> = row.try_get("rel").ok().flatten();
    let kind: Option<String> = row.try_get("kind").ok().flatten();
    let waiting_for = match (locktype.as_str(), rel) {
        ("relation", Some(r)) => format!(
            "a{} {mode} on {} {r}",
            if mode.starts_with(['A', 'E']) {
                "n"
            } else {
                ""
            },
            kind.unwrap_or_else(|| "relation".into())
        ),
        ("transactionid", _) => "a row lock (another transaction is writing the same rows)".into(),
        ("virtualxid", _) => "another transaction to finish".into(),
        ("advisory", _) => "an advisory lock".into(),
        (other, _) => format!("a {mode} on a {other}"),
    };
    let rows = sqlx::query(BLOCKERS)
        .bind(pid)
        .fetch_all(&mut *side)
        .await
        .ok()?;
    let blockers = rows
        .iter()
        .map(|r| Blocker {
            pid: r.try_get("pid").unwrap_or_default(),
            user: r.try_get("usr").ok().flatten(),
            application: r.try_get("app").ok().flatten(),
            client: r.try_get("client").ok().flatten(),
            state: r.try_get("state").ok().flatten(),
            since: r.try_get("since").ok().flatten(),
            seconds: r.try_get("secs").ok().flatten(),
            query: r
                .try_get::<Option<String>, _>("query")
                .ok()
                .flatten()
                .map(|q| crate::wait::scrub(&q)),
        })
        .collect();
    Some(Wait {
        waiting_for,
        blockers,
    })
}

/// Session-wide, so a migration's own `SET lock_timeout` overrides it.
pub fn session_lock_timeout(d: Duration) -> Option<String> {
    Some(format!("SET lock_timeout = {}", crate::wait::millis(d)))
}

/// Ends a server process and waits (up to 5 s) until it is gone: its transaction has
/// then been rolled back.
pub async fn terminate(c: &mut PgConnection, pid: i32) {
    let _ = sqlx::query("SELECT pg_terminate_backend($1)")
        .bind(pid)
        .execute(&mut *c)
        .await;
    for _ in 0..100 {
        let alive = sqlx::query("SELECT 1 FROM pg_stat_activity WHERE pid = $1")
            .bind(pid)
            .fetch_optional(&mut *c)
            .await
            .map(|r| r.is_some())
            .unwrap_or(false);
        if !alive {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
