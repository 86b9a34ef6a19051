//! The only crate that talks to databases: connections, inspection per dialect, and
//! running scripts. Everything it reads is handed to `lockstep-core` as a model.

pub mod inspect;
pub mod migrate;
pub mod mysql;
pub mod recent;
pub mod scratch;
pub mod stats;
pub mod url;
pub mod wait;

use lockstep_core::model::{Database, Dialect};
use sqlx::{Connection, Executor, Row};

pub use crate::url::DbUrl;
pub use crate::wait::Limits;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("{0}")]
    BadUrl(String),
    // The driver's message may quote the URL it was given: redacted like the URL.
    #[error("could not connect to {url}: {}\n  hint: check that the server is running, the URL's host, port, user and database, and that this role may log in", crate::url::redact(&.source.to_string()))]
    Connect {
        url: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("SQLite database {path} does not exist\n  hint: check the path; only `deploy` creates a missing SQLite file")]
    SqliteMissing { path: String },
    #[error("{what} failed on {url}: {message}{hint}")]
    Query {
        what: String,
        url: String,
        /// The server's message, with its DETAIL and HINT lines when it sent them.
        message: String,
        hint: String,
        /// The SQLSTATE, when the server sent one.
        code: Option<String>,
    },
}

impl DbError {
    /// For what MySQL and MariaDB do not have yet (history, deploy, scratch, stats).
    pub(crate) fn mysql_not_yet(url: &DbUrl, what: &str) -> DbError {
        DbError::Query {
            what: what.into(),
            url: url.redacted(),
            message: "not available on MySQL/MariaDB yet".into(),
            hint: "\n  hint: on MySQL and MariaDB, `lockstep inspect` and `lockstep diff` work today; the other commands follow".into(),
            code: None,
        }
    }

    pub(crate) fn query(what: impl Into<String>, url: &DbUrl, e: sqlx::Error) -> DbError {
        let code = match &e {
            sqlx::Error::Database(d) => d.code().map(|c| c.to_string()),
            _ => None,
        };
        let hint = match code.as_deref() {
            Some("42501") => {
                "\n  hint: the role lacks a privilege on an object the message names; connect as a role that has it, or grant it".to_string()
            }
            _ => String::new(),
        };
        DbError::Query {
            what: what.into(),
            url: url.redacted(),
            message: crate::url::redact(&server_message(&e)),
            hint,
            code,
        }
    }

    /// The SQLSTATE of a failed query.
    pub fn code(&self) -> Option<&str> {
        match self {
            DbError::Query { code, .. } => code.as_deref(),
            _ => None,
        }
    }
}

/// The server's message for `e`, followed by the DETAIL and HINT it sent: PostgreSQL's
/// hint is often the fix ("You might need to increase max_locks_per_transaction").
pub fn server_message(e: &sqlx::Error) -> String {
    let sqlx::Error::Database(d) = e else {
        return e.to_string();
    };
    let mut s = d.message().to_string();
    if let Some(pe) = d.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
        if let Some(detail) = pe.detail() {
            s.push_str(&format!("\n  server detail: {detail}"));
        }
        if let Some(hint) = pe.hint() {
            s.push_str(&format!("\n  server hint: {hint}"));
        }
    }
    s
}

/// An open connection, dispatched on the URL scheme.
pub enum Conn {
    Postgres(sqlx::PgConnection),
    Sqlite(sqlx::SqliteConnection),
    Mysql(sqlx::MySqlConnection),
}

pub struct Db {
    pub url: DbUrl,
    pub conn: Conn,
    /// The server process of this connection (PostgreSQL): what a watcher looks up in
    /// `pg_locks` when one of lockstep's queries waits.
    pub(crate) pid: Option<i32>,
    /// Time limits on lockstep's own queries on this connection.
    pub limits: Limits,
}

impl Db {
    /// Connects. A SQLite file must exist unless `create` is set.
    pub async fn connect(url: &DbUrl, create: bool) -> Result<Db, DbError> {
        let conn = match url.dialect() {
            Dialect::Postgres => {
                let c = pg_connect(url).await?;
                Conn::Postgres(c)
            }
            Dialect::Sqlite => {
                let path = url.sqlite_path().unwrap_or_default();
                if !create && path != ":memory:" && !std::path::Path::new(&path).exists() {
                    return Err(DbError::SqliteMissing { path });
                }
                use sqlx::sqlite::SqliteConnectOptions;
                let opts = if path == ":memory:" {
                    SqliteConnectOptions::new().in_memory(true)
                } else {
                    SqliteConnectOptions::new()
                        .filename(&path)
                        .create_if_missing(create)
                }
                .foreign_keys(false);
                let c = sqlx::SqliteConnection::connect_with(&opts)
                    .await
                    .map_err(|e| DbError::Connect {
                        url: url.redacted(),
                        source: e,
                    })?;
                Conn::Sqlite(c)
            }
            Dialect::Mysql => Conn::Mysql(mysql::connect::connect(url).await?),
        };
        let mut db = Db {
            url: url.clone(),
            conn,
            pid: None,
            limits: Limits::default(),
        };
        if let Conn::Postgres(c) = &mut db.conn {
            db.pid = sqlx::query("SELECT pg_backend_pid()")
                .fetch_one(&mut *c)
                .await
                .ok()
                .and_then(|r| r.try_get(0).ok());
        }
        Ok(db)
    }

    pub fn dialect(&self) -> Dialect {
        match self.conn {
            Conn::Postgres(_) => Dialect::Postgres,
            Conn::Sqlite(_) => Dialect::Sqlite,
            Conn::Mysql(_) => Dialect::Mysql,
        }
    }

    /// Reads the whole schema in one read-only, consistent snapshot.
    pub async fn inspect(&mut self) -> Result<Database, DbError> {
        match &mut self.conn {
            Conn::Postgres(c) => {
                let run = inspect::postgres::inspect(c, &self.url, &self.limits);
                wait::own(&self.url, self.pid, &self.limits, run).await
            }
            Conn::Sqlite(c) => inspect::sqlite::inspect(c, &self.url).await,
            Conn::Mysql(c) => mysql::inspect::inspect(c, &self.url).await,
        }
    }

    /// Runs a multi-statement script as one unit (no implicit transaction added).
    pub async fn execute_script(&mut self, sql: &str) -> Result<(), DbError> {
        let r = self.raw(sql).await;
        r.map_err(|e| DbError::query("running SQL", &self.url, e))
    }

    /// Sends `sql` as written (a migration's text, or lockstep's own statements), with
    /// no parameters and no transaction of its own.
    pub(crate) async fn raw(&mut self, sql: &str) -> Result<(), sqlx::Error> {
        if let Conn::Mysql(c) = &mut self.conn {
            return mysql::execute(c, sql).await;
        }
        let sql = sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()));
        match &mut self.conn {
            Conn::Postgres(c) => c.execute(sql).await.map(|_| ()),
            Conn::Sqlite(c) => c.execute(sql).await.map(|_| ()),
            Conn::Mysql(c) => c.execute(sql).await.map(|_| ()),
        }
    }

    pub async fn close(self) {
        let _ = match self.conn {
            Conn::Postgres(c) => c.close().await,
            Conn::Sqlite(c) => c.close().await,
            Conn::Mysql(c) => c.close().await,
        };
    }
}

/// Connects to PostgreSQL as `lockstep` (unless the URL names an application), so that
/// its sessions can be told apart in `pg_stat_activity`.
pub(crate) async fn pg_connect(url: &DbUrl) -> Result<sqlx::PgConnection, DbError> {
    use std::str::FromStr;
    let err = |e| DbError::Connect {
        url: url.redacted(),
        source: e,
    };
    let mut opts = sqlx::postgres::PgConnectOptions::from_str(url.raw()).map_err(err)?;
    if opts.get_application_name().is_none() {
        opts = opts.application_name("lockstep");
    }
    sqlx::PgConnection::connect_with(&opts).await.map_err(err)
}

/// Connects and inspects in one call.
pub async fn inspect_url(url: &DbUrl) -> Result<Database, DbError> {
    let mut db = Db::connect(url, false).await?;
    let model = db.inspect().await;
    db.close().await;
    model
}
