//! Scratch databases: where replays and rehearsals run, never the target itself.
//! PostgreSQL: a uniquely named database created on a server and dropped afterwards.
//! SQLite: an in-memory database.

use crate::{Db, DbError, DbUrl};
use lockstep_core::migrate::split::split;
use lockstep_core::model::{Database, Dialect};

/// A script to replay: its display path, first line in the file, and text.
pub struct ReplayScript<'a> {
    pub path: &'a str,
    pub first_line: usize,
    pub text: &'a str,
}

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("{path}:{line}: replaying failed: {message}\n  statement: {statement}\n  hint: the migration does not apply to an empty database on the scratch server; check extensions and roles it needs")]
    Statement {
        path: String,
        line: usize,
        statement: String,
        message: String,
    },
    #[error(transparent)]
    Db(#[from] DbError),
}

/// A created scratch database. Call `drop` when done; a crash leaves a database named
/// `lockstep_scratch_*` that is safe to drop.
pub struct Scratch {
    pub db: Db,
    admin: Option<DbUrl>,
    name: String,
}

impl Scratch {
    /// `server` is any URL on the server (PostgreSQL) or any SQLite URL (ignored: SQLite
    /// scratches live in memory).
    pub async fn create(server: &DbUrl) -> Result<Scratch, DbError> {
        match server.dialect() {
            Dialect::Sqlite => {
                let db = Db::connect(&DbUrl::parse("sqlite::memory:")?, true).await?;
                Ok(Scratch {
                    db,
                    admin: None,
                    name: String::new(),
                })
            }
            _ => {
                let name = format!(
                    "lockstep_scratch_{}_{}",
                    std::process::id(),
                    std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map(|d| d.as_nanos() % 1_000_000_000)
                        .unwrap_or(0)
                );
                let mut admin = Db::connect(server, false).await?;
                let r = admin
                    .execute_script(&format!("CREATE DATABASE \"{name}\""))
                    .await;
                admin.close().await;
                r.map_err(|e| match e {
                    DbError::Query { message, url, .. } => DbError::Query {
                        what: "creating a scratch database".into(),
                        url,
                        message,
                        hint: "\n  hint: set `scratch` in the environment's config to a server where this role may CREATE DATABASE, or commit snapshots with `lockstep snapshot`".into(),
                    },
                    other => other,
                })?;
                let db = Db::connect(&server.with_database(&name), false).await?;
                Ok(Scratch {
                    db,
                    admin: Some(server.clone()),
                    name,
                })
            }
        }
    }

    /// Runs scripts. On PostgreSQL, statements go in batches (one round trip and one
    /// implicit transaction each); a batch that fails is rolled back by the server and
    /// re-run statement by statement to find the failing line, as is a batch holding
    /// statements that control transactions or cannot run inside one. SQLite runs
    /// statement by statement.
    pub async fn run(&mut self, scripts: &[ReplayScript<'_>]) -> Result<(), ReplayError> {
        const BATCH: usize = 200;
        let batching = matches!(self.db.conn, crate::Conn::Postgres(_));
        for s in scripts {
            let stmts = split(s.text);
            let mut start = 0;
            while start < stmts.len() {
                let end = (start + BATCH).min(stmts.len());
                let chunk = &stmts[start..end];
                // Batches run as one implicit transaction: leave out what must run
                // outside one, controls transactions, or (a new enum value) cannot be
                // used until its transaction commits.
                let plain = |sql: &str| {
                    use lockstep_core::migrate::split::{outside_transaction_only, tx_control};
                    let code = lockstep_core::migrate::state::one_line(sql).to_ascii_uppercase();
                    tx_control(sql).is_none()
                        && !outside_transaction_only(sql)
                        && !["SAVEPOINT", "RELEASE", "ROLLBACK"]
                            .iter()
                            .any(|k| code.starts_with(k))
                        && !code.contains("ADD VALUE")
                };
                if batching && chunk.len() > 1 && chunk.iter().all(|st| plain(&st.sql)) {
                    let joined: String = chunk.iter().map(|st| format!("{};\n", st.sql)).collect();
                    if self.db.execute_script(&joined).await.is_ok() {
                        start = end;
                        continue;
                    }
                }
                self.run_one_by_one(s, chunk).await?;
                start = end;
            }
        }
        Ok(())
    }

    async fn run_one_by_one(
        &mut self,
        s: &ReplayScript<'_>,
        chunk: &[lockstep_core::migrate::split::Stmt],
    ) -> Result<(), ReplayError> {
        {
            for st in chunk {
                if let Err(e) = self.db.execute_script(&st.sql).await {
                    let message = match e {
                        DbError::Query { message, .. } => message,
                        other => other.to_string(),
                    };
                    return Err(ReplayError::Statement {
                        path: s.path.to_string(),
                        line: st.line + s.first_line - 1,
                        statement: lockstep_core::migrate::state::one_line(&st.sql),
                        message,
                    });
                }
            }
        }
        Ok(())
    }

    pub async fn inspect(&mut self) -> Result<Database, DbError> {
        self.db.inspect().await
    }

    /// The role the scratch connection runs as (PostgreSQL), for owner mapping.
    pub async fn role(&mut self) -> Option<String> {
        match &mut self.db.conn {
            crate::Conn::Postgres(c) => {
                use sqlx::Row;
                sqlx::query("SELECT current_user::text")
                    .fetch_one(&mut *c)
                    .await
                    .ok()
                    .and_then(|r| r.try_get(0).ok())
            }
            crate::Conn::Sqlite(_) | crate::Conn::Mysql(_) => None,
        }
    }

    pub async fn drop(self) {
        self.db.close().await;
        if let Some(admin) = self.admin {
            if let Ok(mut a) = Db::connect(&admin, false).await {
                let _ = a
                    .execute_script(&format!(
                        "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                        self.name
                    ))
                    .await;
                a.close().await;
            }
        }
    }
}
