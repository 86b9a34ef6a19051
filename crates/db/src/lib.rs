//! The only crate that talks to databases: connections, inspection per dialect, and
//! running scripts. Everything it reads is handed to `lockstep-core` as a model.

pub mod inspect;
pub mod migrate;
pub mod recent;
pub mod scratch;
pub mod stats;
pub mod url;

use lockstep_core::model::{Database, Dialect};
use sqlx::{Connection, Executor};

pub use crate::url::DbUrl;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("{0}")]
    BadUrl(String),
    #[error("could not connect to {url}: {source}\n  hint: check that the server is running, the URL's host, port, user and database, and that this role may log in")]
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
        message: String,
        hint: String,
    },
}

impl DbError {
    pub(crate) fn query(what: impl Into<String>, url: &DbUrl, e: sqlx::Error) -> DbError {
        let message = match &e {
            sqlx::Error::Database(d) => d.message().to_string(),
            other => other.to_string(),
        };
        let hint = match &e {
            sqlx::Error::Database(d) if d.code().as_deref() == Some("42501") => {
                "\n  hint: the role lacks a privilege; connect as a role that may read the catalog and the objects named".to_string()
            }
            _ => String::new(),
        };
        DbError::Query {
            what: what.into(),
            url: url.redacted(),
            message,
            hint,
        }
    }
}

/// An open connection, dispatched on the URL scheme.
pub enum Conn {
    Postgres(sqlx::PgConnection),
    Sqlite(sqlx::SqliteConnection),
}

pub struct Db {
    pub url: DbUrl,
    pub conn: Conn,
}

impl Db {
    /// Connects. A SQLite file must exist unless `create` is set.
    pub async fn connect(url: &DbUrl, create: bool) -> Result<Db, DbError> {
        let conn = match url.dialect() {
            Dialect::Postgres => {
                let c =
                    sqlx::PgConnection::connect(url.raw())
                        .await
                        .map_err(|e| DbError::Connect {
                            url: url.redacted(),
                            source: e,
                        })?;
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
            Dialect::Mysql => {
                return Err(DbError::BadUrl(format!(
                "{}: MySQL/MariaDB support is not built yet; use a postgres:// or sqlite:// URL",
                url.redacted()
            )))
            }
        };
        Ok(Db {
            url: url.clone(),
            conn,
        })
    }

    pub fn dialect(&self) -> Dialect {
        match self.conn {
            Conn::Postgres(_) => Dialect::Postgres,
            Conn::Sqlite(_) => Dialect::Sqlite,
        }
    }

    /// Reads the whole schema in one read-only, consistent snapshot.
    pub async fn inspect(&mut self) -> Result<Database, DbError> {
        match &mut self.conn {
            Conn::Postgres(c) => inspect::postgres::inspect(c, &self.url).await,
            Conn::Sqlite(c) => inspect::sqlite::inspect(c, &self.url).await,
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
        let sql = sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()));
        match &mut self.conn {
            Conn::Postgres(c) => c.execute(sql).await.map(|_| ()),
            Conn::Sqlite(c) => c.execute(sql).await.map(|_| ()),
        }
    }

    pub async fn close(self) {
        let _ = match self.conn {
            Conn::Postgres(c) => c.close().await,
            Conn::Sqlite(c) => c.close().await,
        };
    }
}

/// Connects and inspects in one call.
pub async fn inspect_url(url: &DbUrl) -> Result<Database, DbError> {
    let mut db = Db::connect(url, false).await?;
    let model = db.inspect().await;
    db.close().await;
    model
}
