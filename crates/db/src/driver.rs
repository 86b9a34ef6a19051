//! What every dialect folder provides (`postgres/`, `sqlite/`, `mysql/`, each with the
//! same file names: connect, inspect, history, lock, stats, scratch, audit). `Db` in
//! lib.rs is the crate's only dispatch on the dialect; the executor (`apply.rs`), the
//! history (`history.rs`), scratch work (`scratch.rs`) and table statistics (`stats.rs`)
//! are written once against this trait.

use crate::stats::Stats;
use crate::wait::{Limits, OwnRead, Wait};
use crate::{DbError, DbUrl, SchemaMemo};
use lockstep_core::model::{Database, Dialect};
use std::collections::BTreeSet;
use std::sync::Arc;

/// lockstep's own tables in one dialect: the SQL of each statement the history needs.
/// Parameters are bound in the order the comments give.
pub struct HistorySql {
    /// One row when the history table exists.
    pub exists: &'static str,
    /// Creates the history and progress tables (and their schema) when missing.
    pub create: &'static str,
    /// id, version, name, checksum, direction, outcome, started_at (text), error,
    /// failed_statement, failed_line, db_role, code_checksum; ordered by id.
    pub read_history: &'static str,
    /// The same from a table an older lockstep made, without code_checksum (NULL).
    pub read_history_v1: &'static str,
    /// One row when the history table has the code_checksum column.
    pub has_code_checksum: &'static str,
    /// Adds it (lockstep's own table, upgraded by deploy).
    pub add_code_checksum: &'static str,
    /// version, statement_no, statement, line, state; ordered.
    pub read_progress: &'static str,
    /// Binds: version, name, checksum, direction, outcome, started_at (text or NULL for
    /// now), duration_ms, os_user, client_host, lockstep_version, deploy_id, error,
    /// failed_statement, failed_line, code_checksum.
    pub insert_history: &'static str,
    /// Binds: version, statement_no, statement, line, state, deploy_id.
    pub set_progress: &'static str,
    /// Binds: version, statement_no.
    pub progress_done: &'static str,
    /// Binds: version, statement_no.
    pub progress_forget: &'static str,
    /// Binds: version.
    pub progress_clear: &'static str,
    /// The newest rows first (version, name, direction, outcome, started_at, duration_ms,
    /// os_user, db_role, client_host, deploy_id). Binds: limit.
    pub recent: &'static str,
    /// The server's clock as text.
    pub now: &'static str,
    /// Starts the deploy transaction (SQLite takes its write lock at once).
    pub begin_deploy: &'static str,
}

/// The DDL audit in one dialect (`audit.rs`): the SQL of each statement, or empty where
/// the dialect has no hook.
pub struct AuditSql {
    /// Installs the audit, idempotently (empty: no hook).
    pub install: &'static str,
    /// Removes everything `install` made.
    pub uninstall: &'static str,
    /// One row when the audit is installed.
    pub exists: &'static str,
    /// One boolean: whether this role may install the audit.
    pub can_install: &'static str,
    /// One row of text describing the server's own audit log where it has one (MySQL's
    /// and MariaDB's server_audit plugin); empty where there is none to ask about.
    pub server_log: &'static str,
}

impl AuditSql {
    /// No hook and no server log: every statement empty.
    pub const NONE: AuditSql = AuditSql {
        install: "",
        uninstall: "",
        exists: "",
        can_install: "",
        server_log: "",
    };
}

/// Statement `no` of `version` (at `line` of its file), done by deploy `deploy_id`: what
/// a checkpoint records.
pub struct Checkpoint<'a> {
    pub version: &'a str,
    pub no: usize,
    pub statement: &'a str,
    pub line: usize,
    pub deploy_id: &'a str,
}

/// One dialect. The methods take the dialect's own connection; `Db` passes it.
#[allow(async_fn_in_trait)]
pub trait Driver {
    type Conn;
    const DIALECT: Dialect;
    const HISTORY: HistorySql;
    const AUDIT: AuditSql;
    /// Why this dialect has no DDL audit hook, or what it needs, and what lockstep does
    /// instead: prose for people, so it is not among the audit's SQL.
    const NO_AUDIT_HOOK: &'static str;
    /// The type a value is cast to, to read it as text (`TEXT`, MySQL's `CHAR`).
    const TEXT_TYPE: &'static str;
    /// Replays may send many statements in one round trip (one implicit transaction).
    const BATCHED_REPLAY: bool;

    // connect.rs
    async fn connect(url: &DbUrl, create: bool) -> Result<Self::Conn, DbError>;
    /// The server process serving this connection, for lock-wait watchers.
    async fn pid(c: &mut Self::Conn) -> Option<i32>;
    /// Sends a script as written, with no parameters and no transaction of its own.
    async fn raw(c: &mut Self::Conn, sql: &str) -> Result<(), sqlx::Error>;
    async fn close(c: Self::Conn);

    // inspect.rs
    /// The whole schema, in one read-only consistent snapshot, with a fixed number of
    /// catalog queries; or `memo`'s model of it, where the dialect can tell cheaply that
    /// this schema is one read before.
    async fn inspect(
        c: &mut Self::Conn,
        read: OwnRead<'_>,
        memo: Option<&SchemaMemo>,
    ) -> Result<Arc<Database>, DbError>;

    // history.rs
    /// The statement that starts a read of lockstep's own tables within lockstep's time
    /// limits, when the dialect has such limits.
    fn begin_own_read(limits: &Limits) -> Option<String>;
    /// Whether `table` exists (another tool's history table), as one boolean.
    fn table_exists(table: &str) -> String;
    /// Whether `table` has `column`, as zero or one row.
    fn column_exists(table: &str, column: &str) -> String;
    /// The statement that records statement `no` of `version` (at `line`) as done, every
    /// value a literal, for sending in the same round trip as the statement itself so
    /// that the two commit together, or not at all. None where they cannot share one
    /// transaction (MySQL commits DDL by itself) or one round trip.
    fn checkpoint_with(c: &Checkpoint) -> Option<String>;
    /// The engine's major version (PostgreSQL `15`, MariaDB `10.11`, SQLite `3.45`):
    /// what a replayed schema may depend on besides the migrations.
    async fn engine_major(c: &mut Self::Conn) -> Option<String>;

    // audit.rs
    /// The statement that marks this session's DDL as lockstep's deploy `id`, for the
    /// audit, where the dialect has one.
    fn mark_deploy(id: &str) -> Option<String>;
    /// DDL statements with their role from the server's statement statistics
    /// (PostgreSQL's pg_stat_statements) for this database; None where there are none
    /// to read (no such extension, not loaded, or not readable by this role).
    async fn ddl_statements(c: &mut Self::Conn) -> Option<Vec<(String, String)>>;
    /// The audit's records, newest first; none where there is no hook.
    async fn audit_rows(
        c: &mut Self::Conn,
        since: Option<&str>,
        within_secs: Option<f64>,
    ) -> Result<Vec<crate::audit::AuditRow>, sqlx::Error>;

    // lock.rs
    /// Takes the deploy lock, calling `on_wait` once (with the holder's server pid when
    /// known) if another deploy holds it. The lock dies with the connection.
    async fn lock(
        c: &mut Self::Conn,
        url: &DbUrl,
        on_wait: &mut dyn FnMut(Option<i32>),
    ) -> Result<(), DbError>;
    async fn unlock(c: &mut Self::Conn);
    /// Whether an in-doubt statement took effect, from the schema: Some(true) it did,
    /// Some(false) it did not (half-built leftovers cleaned up), None cannot tell.
    async fn decide(
        c: &mut Self::Conn,
        url: &DbUrl,
        statement: &str,
    ) -> Result<Option<bool>, DbError>;
    /// What the session `pid` waits for and who holds it, seen from this (other)
    /// connection; None when it waits for no lock.
    async fn blockers(c: &mut Self::Conn, pid: i32) -> Option<Wait>;

    /// The statement that makes every later statement of this session wait at most `d`
    /// for a lock (a migration's own setting then overrides it), when the dialect has one.
    fn session_lock_timeout(d: std::time::Duration) -> Option<String>;
    /// Ends the server process `pid` (an interrupted deploy's), so its transaction rolls
    /// back now, and waits (bounded) until it is gone.
    async fn terminate(c: &mut Self::Conn, pid: i32);

    // stats.rs
    async fn table_sizes(
        c: &mut Self::Conn,
        read: OwnRead<'_>,
        named: &BTreeSet<String>,
    ) -> Result<Stats, DbError>;
    /// The one number `sql` (a data check's count, see `stats::probe_sql`) returns, in a
    /// read-only transaction within the count's time limit.
    async fn count_failing(
        c: &mut Self::Conn,
        read: OwnRead<'_>,
        sql: String,
    ) -> Result<i64, DbError>;
    /// A name quoted as an identifier, for the data checks' SQL.
    fn quote(name: &str) -> String;

    // scratch.rs
    /// Creates the scratch database `name` on the admin connection's server, with a
    /// comment naming its owner. Dialects whose scratch work is in memory never get here.
    async fn create_scratch(c: &mut Self::Conn, name: &str, owner: &str)
        -> Result<(), sqlx::Error>;
    async fn drop_scratch(c: &mut Self::Conn, name: &str) -> Result<(), sqlx::Error>;
    /// Scratch databases on the server this role may drop.
    async fn list_scratch(c: &mut Self::Conn) -> Vec<String>;
    /// Waits (bounded) until no session still runs the creation of `name`.
    async fn wait_for_create(c: &mut Self::Conn, name: &str);
    /// Whether another session is seen running the drop of `name` (which the server
    /// then finishes on its own). False where that cannot be told.
    async fn drop_running(c: &mut Self::Conn, name: &str) -> bool;
    /// The role a connection runs as, for owner mapping of replays.
    async fn role(c: &mut Self::Conn) -> Option<String>;
    /// Scratch databases live in memory (no server to create them on).
    const SCRATCH_IN_MEMORY: bool;
}

/// Implements [`Driver`] for a dialect folder by delegating each method to the function
/// of the same name in the file of the same name (connect.rs, inspect.rs, history.rs,
/// lock.rs, stats.rs, scratch.rs, audit.rs): the folders differ in those files, never in how
/// they are wired.
macro_rules! dialect {
    ($ty:ident, $conn:ty, $dialect:ident, batched_replay: $batched:expr, scratch_in_memory: $mem:expr) => {
        pub struct $ty;

        impl $crate::driver::Driver for $ty {
            type Conn = $conn;
            const DIALECT: lockstep_core::model::Dialect = lockstep_core::model::Dialect::$dialect;
            const HISTORY: $crate::driver::HistorySql = history::SQL;
            const AUDIT: $crate::driver::AuditSql = audit::SQL;
            const NO_AUDIT_HOOK: &'static str = audit::NO_HOOK;
            const TEXT_TYPE: &'static str = history::TEXT;
            const BATCHED_REPLAY: bool = $batched;
            const SCRATCH_IN_MEMORY: bool = $mem;

            async fn connect(url: &$crate::DbUrl, create: bool) -> Result<$conn, $crate::DbError> {
                connect::connect(url, create).await
            }
            async fn pid(c: &mut $conn) -> Option<i32> {
                connect::pid(c).await
            }
            async fn raw(c: &mut $conn, sql: &str) -> Result<(), sqlx::Error> {
                connect::raw(c, sql).await
            }
            async fn close(c: $conn) {
                let _ = sqlx::Connection::close(c).await;
            }
            async fn inspect(
                c: &mut $conn,
                read: $crate::wait::OwnRead<'_>,
                memo: Option<&$crate::SchemaMemo>,
            ) -> Result<std::sync::Arc<lockstep_core::model::Database>, $crate::DbError> {
                inspect::schema(c, read, memo).await
            }
            fn begin_own_read(limits: &$crate::wait::Limits) -> Option<String> {
                history::begin_own_read(limits)
            }
            fn table_exists(table: &str) -> String {
                history::table_exists(table)
            }
            fn column_exists(table: &str, column: &str) -> String {
                history::column_exists(table, column)
            }
            fn mark_deploy(id: &str) -> Option<String> {
                audit::mark_deploy(id)
            }
            async fn ddl_statements(c: &mut $conn) -> Option<Vec<(String, String)>> {
                audit::ddl_statements(c).await
            }
            async fn audit_rows(
                c: &mut $conn,
                since: Option<&str>,
                within_secs: Option<f64>,
            ) -> Result<Vec<$crate::audit::AuditRow>, sqlx::Error> {
                audit::rows(c, since, within_secs).await
            }
            fn checkpoint_with(c: &$crate::driver::Checkpoint) -> Option<String> {
                history::checkpoint_with(c)
            }
            async fn engine_major(c: &mut $conn) -> Option<String> {
                connect::engine_major(c).await
            }
            async fn lock(
                c: &mut $conn,
                url: &$crate::DbUrl,
                on_wait: &mut dyn FnMut(Option<i32>),
            ) -> Result<(), $crate::DbError> {
                lock::lock(c, url, on_wait).await
            }
            async fn unlock(c: &mut $conn) {
                lock::unlock(c).await
            }
            async fn decide(
                c: &mut $conn,
                url: &$crate::DbUrl,
                statement: &str,
            ) -> Result<Option<bool>, $crate::DbError> {
                lock::decide(c, url, statement).await
            }
            async fn blockers(c: &mut $conn, pid: i32) -> Option<$crate::wait::Wait> {
                lock::blockers(c, pid).await
            }
            fn session_lock_timeout(d: std::time::Duration) -> Option<String> {
                lock::session_lock_timeout(d)
            }
            async fn terminate(c: &mut $conn, pid: i32) {
                lock::terminate(c, pid).await
            }
            async fn table_sizes(
                c: &mut $conn,
                read: $crate::wait::OwnRead<'_>,
                named: &std::collections::BTreeSet<String>,
            ) -> Result<$crate::stats::Stats, $crate::DbError> {
                stats::sizes(c, read, named).await
            }
            async fn count_failing(
                c: &mut $conn,
                read: $crate::wait::OwnRead<'_>,
                sql: String,
            ) -> Result<i64, $crate::DbError> {
                stats::count(c, read, sql).await
            }
            fn quote(name: &str) -> String {
                stats::quote(name)
            }
            async fn create_scratch(
                c: &mut $conn,
                name: &str,
                owner: &str,
            ) -> Result<(), sqlx::Error> {
                scratch::create(c, name, owner).await
            }
            async fn drop_scratch(c: &mut $conn, name: &str) -> Result<(), sqlx::Error> {
                scratch::drop(c, name).await
            }
            async fn list_scratch(c: &mut $conn) -> Vec<String> {
                scratch::list(c).await
            }
            async fn wait_for_create(c: &mut $conn, name: &str) {
                scratch::wait_for_create(c, name).await
            }
            async fn drop_running(c: &mut $conn, name: &str) -> bool {
                scratch::drop_running(c, name).await
            }
            async fn role(c: &mut $conn) -> Option<String> {
                scratch::role(c).await
            }
        }
    };
}
pub(crate) use dialect;
