//! The only crate that talks to databases. One folder per dialect (`postgres/`,
//! `sqlite/`, `mysql/`), each with the same files behind the [`driver::Driver`] trait;
//! `Db` here is the crate's only dispatch on the dialect, and the executor (`apply`),
//! the history (`history`), scratch databases (`scratch`) and table statistics
//! (`stats`) are written once against it. Everything it reads is handed to
//! `lockstep-core` as a model.

pub mod apply;
pub mod audit;
pub mod driver;
pub mod history;
pub mod memo;
pub mod mysql;
pub mod postgres;
pub mod scratch;
pub mod sqlite;
pub mod stats;
pub mod url;
pub mod wait;

use crate::driver::Driver;
use lockstep_core::model::{Database, Dialect};
use std::collections::BTreeSet;

pub use crate::memo::SchemaMemo;
pub use crate::url::DbUrl;
pub use crate::wait::Limits;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("{0}")]
    BadUrl(String),
    // The driver's message may quote the URL it was given: redacted like the URL. The
    // cause is part of the message, not a `source()`, so it is printed once.
    #[error("could not connect to {url}: {message}\n  hint: check that the server is running, the URL's host, port, user and database, and that this role may log in")]
    Connect { url: String, message: String },
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
    /// A failed connection: the server's own words (without the driver's "error returned
    /// from database" prefix and the server's source line), redacted.
    pub(crate) fn connect(url: &DbUrl, e: sqlx::Error) -> DbError {
        let message = match &e {
            sqlx::Error::Database(_) => server_message(&e),
            sqlx::Error::Io(io) => io.to_string(),
            other => other.to_string(),
        };
        DbError::Connect {
            url: url.redacted(),
            message: crate::url::redact(&message),
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

/// An open connection, one variant per dialect folder.
pub enum Conn {
    Postgres(<postgres::Postgres as Driver>::Conn),
    Sqlite(<sqlite::Sqlite as Driver>::Conn),
    Mysql(<mysql::Mysql as Driver>::Conn),
}

/// Runs `$body` with `$c` bound to the connection and `$D` to its dialect's [`Driver`]:
/// the crate's one dispatch on the dialect. The body is written once and compiled per
/// dialect.
macro_rules! dispatch {
    ($conn:expr, |$c:ident, $D:ident| $body:expr) => {
        match $conn {
            $crate::Conn::Postgres($c) => {
                #[allow(dead_code)]
                type $D = $crate::postgres::Postgres;
                $body
            }
            $crate::Conn::Sqlite($c) => {
                #[allow(dead_code)]
                type $D = $crate::sqlite::Sqlite;
                $body
            }
            $crate::Conn::Mysql($c) => {
                #[allow(dead_code)]
                type $D = $crate::mysql::Mysql;
                $body
            }
        }
    };
}
pub(crate) use dispatch;

pub struct Db {
    pub url: DbUrl,
    pub conn: Conn,
    /// The server process of this connection, where the dialect has one to watch: what a
    /// watcher looks up when one of lockstep's queries waits for a lock.
    pub(crate) pid: Option<i32>,
    /// Time limits on lockstep's own queries on this connection.
    pub limits: Limits,
    /// lockstep's tables were read on this connection with every column this version
    /// writes, so a deploy neither looks them up again nor creates them (nothing
    /// lockstep runs drops them): a fleet member's deploy with nothing to apply is then
    /// two reads of history instead of four statements each, and no DDL. Set only by a
    /// read, never by `ensure_history`, whose work a rolled-back transaction could undo.
    pub(crate) history_current: bool,
}

impl Db {
    /// Connects. A SQLite file must exist unless `create` is set.
    pub async fn connect(url: &DbUrl, create: bool) -> Result<Db, DbError> {
        let conn = match url.dialect() {
            Dialect::Postgres => Conn::Postgres(postgres::Postgres::connect(url, create).await?),
            Dialect::Sqlite => Conn::Sqlite(sqlite::Sqlite::connect(url, create).await?),
            Dialect::Mysql => Conn::Mysql(mysql::Mysql::connect(url, create).await?),
        };
        let mut db = Db {
            url: url.clone(),
            conn,
            pid: None,
            limits: Limits::default(),
            history_current: false,
        };
        db.pid = dispatch!(&mut db.conn, |c, D| D::pid(c).await);
        Ok(db)
    }

    pub fn dialect(&self) -> Dialect {
        dispatch!(&self.conn, |_c, D| D::DIALECT)
    }

    /// Reads the whole schema in one read-only, consistent snapshot.
    pub async fn inspect(&mut self) -> Result<Database, DbError> {
        self.inspect_with(None)
            .await
            .map(std::sync::Arc::unwrap_or_clone)
    }

    /// The same, sharing the model of a schema `memo` has seen (and remembering this
    /// one) where the dialect can tell that cheaply: the members of a fleet.
    pub async fn inspect_shared(
        &mut self,
        memo: &SchemaMemo,
    ) -> Result<std::sync::Arc<Database>, DbError> {
        self.inspect_with(Some(memo)).await
    }

    async fn inspect_with(
        &mut self,
        memo: Option<&SchemaMemo>,
    ) -> Result<std::sync::Arc<Database>, DbError> {
        let (conn, read) = self.conn_and_read();
        dispatch!(conn, |c, D| D::inspect(c, read, memo).await)
    }

    /// The connection, and what one of lockstep's own reads on it needs to know.
    fn conn_and_read(&mut self) -> (&mut Conn, wait::OwnRead<'_>) {
        let read = wait::OwnRead {
            url: &self.url,
            pid: self.pid,
            limits: &self.limits,
        };
        (&mut self.conn, read)
    }

    /// Runs a multi-statement script as one unit (no implicit transaction added).
    pub async fn execute_script(&mut self, sql: &str) -> Result<(), DbError> {
        let r = self.raw(sql).await;
        r.map_err(|e| DbError::query("running SQL", &self.url, e))
    }

    /// Sends `sql` as written (a migration's text, or lockstep's own statements), with
    /// no parameters and no transaction of its own.
    pub(crate) async fn raw(&mut self, sql: &str) -> Result<(), sqlx::Error> {
        dispatch!(&mut self.conn, |c, D| D::raw(c, sql).await)
    }

    pub async fn close(self) {
        dispatch!(self.conn, |c, D| D::close(c).await)
    }

    /// Whether this connection could serve `url` after [`Db::reconfine`]: both are
    /// tenants (schemas) of the same PostgreSQL database, reached with the same user,
    /// password and options, and no transaction is open on it.
    pub fn can_serve(&self, url: &DbUrl) -> bool {
        use sqlx::Connection;
        match &self.conn {
            Conn::Postgres(c) => {
                !c.is_in_transaction()
                    && self.url.schema().is_some()
                    && url.schema().is_some()
                    && self.url.driver_url() == url.driver_url()
            }
            _ => false,
        }
    }

    /// Confines this connection to the tenant `url` names, as a new connection to it
    /// would be: read-only work over a fleet's tenants then visits them one after
    /// another on one server process instead of starting one per tenant (a backend's
    /// start and its first reads of the catalogs are most of a small tenant's cost).
    /// The caller checks [`Db::can_serve`] first.
    pub async fn reconfine(&mut self, url: &DbUrl) -> Result<(), DbError> {
        let (Conn::Postgres(c), Some(schema)) = (&mut self.conn, url.schema()) else {
            return Err(DbError::BadUrl(format!(
                "{url}: only a PostgreSQL connection can be confined to another schema"
            )));
        };
        // The statements the previous tenant prepared go: one whose text is the same
        // for every tenant (another tool's history table, named unqualified) would be
        // planned again against this tenant's tables, and the server refuses a cached
        // plan whose result type changed.
        use sqlx::Connection;
        let err = |e| DbError::query(format!("confining the session to schema {schema}"), url, e);
        c.clear_cached_statements().await.map_err(err)?;
        postgres::connect::confine(c, &schema).await.map_err(err)?;
        self.url = url.clone();
        // What was read of lockstep's tables was the previous tenant's.
        self.history_current = false;
        Ok(())
    }

    /// Takes the deploy lock (it dies with the connection); `on_wait` is called once if
    /// another deploy holds it.
    pub async fn lock(&mut self, on_wait: &mut dyn FnMut(Option<i32>)) -> Result<(), DbError> {
        let url = &self.url;
        dispatch!(&mut self.conn, |c, D| D::lock(c, url, on_wait).await)
    }

    pub async fn unlock(&mut self) {
        dispatch!(&mut self.conn, |c, D| D::unlock(c).await)
    }

    /// Tries to tell from the schema whether an in-doubt statement took effect:
    /// Some(true) it did, Some(false) it did not (leftovers cleaned up), None cannot tell.
    pub async fn decide(&mut self, statement: &str) -> Result<Option<bool>, DbError> {
        let url = &self.url;
        dispatch!(&mut self.conn, |c, D| D::decide(c, url, statement).await)
    }

    /// What the session `pid` waits for, seen from this connection.
    pub(crate) async fn blockers(&mut self, pid: i32) -> Option<wait::Wait> {
        dispatch!(&mut self.conn, |c, D| D::blockers(c, pid).await)
    }

    pub(crate) async fn table_sizes(
        &mut self,
        named: &BTreeSet<String>,
    ) -> Result<stats::Stats, DbError> {
        let (conn, read) = self.conn_and_read();
        dispatch!(conn, |c, D| D::table_sizes(c, read, named).await)
    }

    pub(crate) async fn count_failing(
        &mut self,
        s: &stats::Stats,
        probe: &lockstep_core::lint::Probe,
    ) -> Result<i64, DbError> {
        // Where names are schema-qualified (PostgreSQL), the table's schema is the one
        // its size was read from.
        let (conn, read) = self.conn_and_read();
        dispatch!(conn, |c, D| {
            let table = match s.schema.get(&probe.table) {
                Some(schema) => format!("{}.{}", D::quote(schema), D::quote(&probe.table)),
                None => D::quote(&probe.table),
            };
            let sql = stats::probe_sql(&table, &probe.check, D::quote);
            D::count_failing(c, read, sql).await
        })
    }

    /// The statement that bounds every later lock wait of this session, if any.
    pub(crate) fn session_lock_timeout(&self, d: std::time::Duration) -> Option<String> {
        dispatch!(&self.conn, |_c, D| D::session_lock_timeout(d))
    }

    /// Ends the server process `pid` (its transaction rolls back) and waits until it is gone.
    pub(crate) async fn terminate(&mut self, pid: i32) {
        dispatch!(&mut self.conn, |c, D| D::terminate(c, pid).await)
    }

    /// The role this connection runs as (for owner mapping of replays).
    pub async fn role(&mut self) -> Option<String> {
        dispatch!(&mut self.conn, |c, D| D::role(c).await)
    }

    /// The engine's major version, for keys of cached replays (None when unknown).
    pub async fn engine_major(&mut self) -> Option<String> {
        dispatch!(&mut self.conn, |c, D| D::engine_major(c).await)
    }
}

/// Whether scratch work for a server of this dialect runs in memory (nothing to create
/// on the server).
pub(crate) fn scratch_in_memory(d: Dialect) -> bool {
    match d {
        Dialect::Postgres => postgres::Postgres::SCRATCH_IN_MEMORY,
        Dialect::Sqlite => sqlite::Sqlite::SCRATCH_IN_MEMORY,
        Dialect::Mysql => mysql::Mysql::SCRATCH_IN_MEMORY,
    }
}

/// Connects and inspects in one call.
pub async fn inspect_url(url: &DbUrl) -> Result<Database, DbError> {
    let mut db = Db::connect(url, false).await?;
    let model = db.inspect().await;
    db.close().await;
    model
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    fn files(dir: &Path) -> BTreeSet<String> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    }

    /// A dialect is one folder with the same file names as every other: a new dialect is
    /// a folder of known files, and dialects can be read side by side.
    #[test]
    fn every_dialect_folder_has_the_same_files() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let pg = files(&src.join("postgres"));
        for d in ["sqlite", "mysql"] {
            assert_eq!(files(&src.join(d)), pg, "{d}/ against postgres/");
        }
        for f in [
            "mod.rs",
            "connect.rs",
            "inspect.rs",
            "history.rs",
            "lock.rs",
            "stats.rs",
            "scratch.rs",
            "audit.rs",
        ] {
            assert!(pg.contains(f), "postgres/{f}");
        }
    }

    /// `Db` in lib.rs is the only dispatch on the dialect: no other file matches on the
    /// connection's variants.
    #[test]
    fn only_lib_rs_dispatches_on_the_dialect() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut found = vec![];
        let mut stack = vec![src.clone()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|x| x == "rs") && p != src.join("lib.rs") {
                    let text = std::fs::read_to_string(&p).unwrap();
                    for (n, l) in text.lines().enumerate() {
                        if l.contains("Conn::Postgres")
                            || l.contains("Conn::Sqlite")
                            || l.contains("Conn::Mysql")
                        {
                            found.push(format!("{}:{}: {}", p.display(), n + 1, l.trim()));
                        }
                    }
                }
            }
        }
        assert!(found.is_empty(), "{}", found.join("\n"));
    }
}
