//! Applying migrations: the history and progress tables, the deploy lock, adoption of
//! other tools' histories, and the executor.
//!
//! Invariants:
//! - Transactional scripts run in one transaction together with their history rows:
//!   either all of them are applied and recorded, or the database is as before.
//! - A no-transaction statement is recorded `started` (committed) before it runs and
//!   `done` after, so a crash leaves at most one statement in doubt, and it is named.
//! - The deploy lock is a session-level advisory lock on PostgreSQL, released by the
//!   server when the connection dies, so a killed process never leaves it held.

use crate::{Conn, Db, DbError};
use lockstep_core::migrate::split::{split, Stmt};
use lockstep_core::migrate::state::{HistoryRow, ProgressRow};
use lockstep_core::migrate::Version;
use sqlx::{Executor, Row};
use std::time::Instant;

/// An arbitrary constant: advisory locks are scoped to the database already.
const LOCK_KEY: i64 = 0x6c6f_636b_7374_6570; // "lockstep"

/// Who runs the deploy, recorded in every history row.
#[derive(Debug, Clone, Default)]
pub struct Who {
    pub os_user: String,
    pub client_host: String,
    pub lockstep_version: String,
    pub deploy_id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Up,
    Down,
}

impl Direction {
    fn as_str(self) -> &'static str {
        match self {
            Direction::Up => "up",
            Direction::Down => "down",
        }
    }
}

/// One script to run.
#[derive(Debug, Clone)]
pub struct Step {
    pub version: Version,
    pub name: String,
    /// The up script's checksum: what the history records for this migration.
    pub checksum: String,
    pub path: String,
    pub first_line: usize,
    pub text: String,
    pub direction: Direction,
    pub no_transaction: bool,
}

/// Why applying stopped.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// A statement failed; everything transactional since the last commit was undone.
    #[error(
        "{path}:{line}: migration {version} failed: {message}\n  statement: {statement}\n  {undo}"
    )]
    Statement {
        version: String,
        path: String,
        line: usize,
        statement: String,
        message: String,
        undo: String,
    },
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Progress callback: (step index, step count, statement index, statement count).
pub type OnProgress<'a> = &'a mut dyn FnMut(usize, usize, usize, usize);

fn pg(db: &mut Db) -> Option<&mut sqlx::PgConnection> {
    match &mut db.conn {
        Conn::Postgres(c) => Some(c),
        Conn::Sqlite(_) | Conn::Mysql(_) => None,
    }
}

impl Db {
    async fn exec(&mut self, what: &str, sql: &str) -> Result<(), DbError> {
        let r = self.raw(sql).await;
        r.map_err(|e| DbError::query(what, &self.url, e))
    }

    /// Whether lockstep's history table exists.
    pub async fn history_exists(&mut self) -> Result<bool, DbError> {
        let url = self.url.clone();
        let found = match &mut self.conn {
            Conn::Postgres(c) => sqlx::query(
                "SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'lockstep' AND c.relname = 'history'",
            )
            .fetch_optional(&mut *c)
            .await
            .map(|r| r.is_some()),
            Conn::Sqlite(c) => sqlx::query(
                "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'lockstep_history'",
            )
            .fetch_optional(&mut *c)
            .await
            .map(|r| r.is_some()),
            Conn::Mysql(c) => sqlx::query(
                "SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'lockstep_history'",
            )
            .fetch_optional(&mut *c)
            .await
            .map(|r| r.is_some()),
        };
        found.map_err(|e| DbError::query("looking for the history table", &url, e))
    }

    /// Creates the history and progress tables when missing.
    pub async fn ensure_history(&mut self) -> Result<(), DbError> {
        let sql = match self.conn {
            Conn::Mysql(_) => {
                return Err(DbError::mysql_not_yet(
                    &self.url,
                    "creating lockstep's history table",
                ))
            }
            Conn::Postgres(_) => {
                "CREATE SCHEMA IF NOT EXISTS lockstep;
                 CREATE TABLE IF NOT EXISTS lockstep.history (
                    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    version text NOT NULL,
                    name text NOT NULL,
                    checksum text NOT NULL,
                    direction text NOT NULL,
                    outcome text NOT NULL,
                    started_at timestamptz NOT NULL,
                    finished_at timestamptz,
                    duration_ms bigint,
                    os_user text,
                    db_role text,
                    client_host text,
                    lockstep_version text,
                    deploy_id text NOT NULL,
                    error text,
                    failed_statement text,
                    failed_line integer);
                 CREATE TABLE IF NOT EXISTS lockstep.progress (
                    version text NOT NULL,
                    statement_no integer NOT NULL,
                    statement text NOT NULL,
                    line integer NOT NULL,
                    state text NOT NULL,
                    deploy_id text NOT NULL,
                    updated_at timestamptz NOT NULL,
                    PRIMARY KEY (version, statement_no));"
            }
            Conn::Sqlite(_) => {
                "CREATE TABLE IF NOT EXISTS lockstep_history (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    version TEXT NOT NULL,
                    name TEXT NOT NULL,
                    checksum TEXT NOT NULL,
                    direction TEXT NOT NULL,
                    outcome TEXT NOT NULL,
                    started_at TEXT NOT NULL,
                    finished_at TEXT,
                    duration_ms INTEGER,
                    os_user TEXT,
                    db_role TEXT,
                    client_host TEXT,
                    lockstep_version TEXT,
                    deploy_id TEXT NOT NULL,
                    error TEXT,
                    failed_statement TEXT,
                    failed_line INTEGER);
                 CREATE TABLE IF NOT EXISTS lockstep_progress (
                    version TEXT NOT NULL,
                    statement_no INTEGER NOT NULL,
                    statement TEXT NOT NULL,
                    line INTEGER NOT NULL,
                    state TEXT NOT NULL,
                    deploy_id TEXT NOT NULL,
                    updated_at TEXT NOT NULL,
                    PRIMARY KEY (version, statement_no));"
            }
        };
        self.exec("creating lockstep's history table", sql).await
    }

    /// History and progress rows; empty when lockstep has never deployed here.
    pub async fn read_history(&mut self) -> Result<(Vec<HistoryRow>, Vec<ProgressRow>), DbError> {
        if !self.history_exists().await? {
            return Ok((vec![], vec![]));
        }
        let url = self.url.clone();
        let (hist_sql, prog_sql) = match self.conn {
            Conn::Mysql(_) => {
                return Err(DbError::mysql_not_yet(&url, "reading lockstep's history"))
            }
            Conn::Postgres(_) => (
                "SELECT id, version, name, checksum, direction, outcome, started_at::text AS started_at, error, failed_statement, failed_line::bigint AS failed_line, db_role FROM lockstep.history ORDER BY id",
                "SELECT version, statement_no::bigint AS statement_no, statement, line::bigint AS line, state FROM lockstep.progress ORDER BY version, statement_no",
            ),
            Conn::Sqlite(_) => (
                "SELECT id, version, name, checksum, direction, outcome, started_at, error, failed_statement, failed_line, db_role FROM lockstep_history ORDER BY id",
                "SELECT version, statement_no, statement, line, state FROM lockstep_progress ORDER BY version, statement_no",
            ),
        };
        let err = |e| DbError::query("reading lockstep's history", &url, e);
        let mut hist = vec![];
        let mut prog = vec![];
        macro_rules! read {
            ($c:expr) => {{
                for r in sqlx::query(hist_sql)
                    .fetch_all(&mut *$c)
                    .await
                    .map_err(err)?
                {
                    let version: String = r.try_get("version").map_err(err)?;
                    hist.push(HistoryRow {
                        id: r.try_get("id").map_err(err)?,
                        version: Version::parse(&version)
                            .unwrap_or_else(|| Version::parse("0").expect("digits")),
                        name: r.try_get("name").map_err(err)?,
                        checksum: r.try_get("checksum").map_err(err)?,
                        direction: r.try_get("direction").map_err(err)?,
                        outcome: r.try_get("outcome").map_err(err)?,
                        started_at: r.try_get("started_at").map_err(err)?,
                        error: r.try_get("error").map_err(err)?,
                        failed_statement: r.try_get("failed_statement").map_err(err)?,
                        failed_line: r.try_get("failed_line").map_err(err)?,
                        db_role: r.try_get("db_role").map_err(err)?,
                    });
                }
                for r in sqlx::query(prog_sql)
                    .fetch_all(&mut *$c)
                    .await
                    .map_err(err)?
                {
                    let version: String = r.try_get("version").map_err(err)?;
                    prog.push(ProgressRow {
                        version: Version::parse(&version)
                            .unwrap_or_else(|| Version::parse("0").expect("digits")),
                        statement_no: r.try_get("statement_no").map_err(err)?,
                        statement: r.try_get("statement").map_err(err)?,
                        line: r.try_get("line").map_err(err)?,
                        state: r.try_get("state").map_err(err)?,
                    });
                }
            }};
        }
        match &mut self.conn {
            Conn::Postgres(c) => read!(c),
            Conn::Sqlite(c) => read!(c),
            Conn::Mysql(c) => read!(c),
        }
        Ok((hist, prog))
    }

    /// Takes the deploy lock. On PostgreSQL, calls `on_wait` once if another deploy
    /// holds it, then waits. On SQLite the write lock is taken per transaction, and
    /// waiting is bounded by the busy timeout.
    pub async fn lock(&mut self, on_wait: &mut dyn FnMut(Option<i32>)) -> Result<(), DbError> {
        let url = self.url.clone();
        let Some(c) = pg(self) else {
            return Ok(());
        };
        let err = |e| DbError::query("taking the deploy lock", &url, e);
        let got: bool = sqlx::query("SELECT pg_try_advisory_lock($1)")
            .bind(LOCK_KEY)
            .fetch_one(&mut *c)
            .await
            .map_err(err)?
            .try_get(0)
            .map_err(err)?;
        if got {
            return Ok(());
        }
        let holder: Option<i32> = sqlx::query(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND objid = ($1 & 4294967295)::oid LIMIT 1",
        )
        .bind(LOCK_KEY)
        .fetch_optional(&mut *c)
        .await
        .ok()
        .flatten()
        .and_then(|r| r.try_get(0).ok());
        on_wait(holder);
        sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(LOCK_KEY)
            .execute(&mut *c)
            .await
            .map_err(err)?;
        Ok(())
    }

    pub async fn unlock(&mut self) {
        if let Some(c) = pg(self) {
            let _ = sqlx::query("SELECT pg_advisory_unlock($1)")
                .bind(LOCK_KEY)
                .execute(&mut *c)
                .await;
        }
    }

    /// Versions recorded by another tool's history table, and the tool's name, when
    /// lockstep has none of its own yet. Never writes to their tables.
    pub async fn foreign_history(&mut self) -> Result<Option<(String, Vec<Version>)>, DbError> {
        let url = self.url.clone();
        let is_pg = matches!(self.conn, Conn::Postgres(_));
        let exists = |table: &str| -> String {
            match is_pg {
                true => format!("SELECT to_regclass('{table}') IS NOT NULL"),
                false => format!(
                    "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = '{table}')"
                ),
            }
        };
        // (tool, table, query returning applied versions as text)
        let candidates: [(&str, &str, &str); 5] = [
            (
                "diesel",
                "__diesel_schema_migrations",
                "SELECT version FROM __diesel_schema_migrations",
            ),
            (
                "sqlx",
                "_sqlx_migrations",
                "SELECT CAST(version AS TEXT) AS version FROM _sqlx_migrations WHERE success",
            ),
            (
                "flyway",
                "flyway_schema_history",
                "SELECT version FROM flyway_schema_history WHERE success AND version IS NOT NULL",
            ),
            ("golang-migrate", "schema_migrations", ""),
            (
                "dbmate",
                "schema_migrations",
                "SELECT CAST(version AS TEXT) AS version FROM schema_migrations",
            ),
        ];
        let err = |e| DbError::query("reading another tool's history table", &url, e);
        for (tool, table, query) in candidates {
            let q = exists(table);
            let found: bool = match &mut self.conn {
                Conn::Mysql(_) => {
                    return Err(DbError::mysql_not_yet(
                        &url,
                        "reading another tool's history table",
                    ))
                }
                Conn::Postgres(c) => sqlx::query(sqlx::AssertSqlSafe(q))
                    .fetch_one(&mut *c)
                    .await
                    .map_err(err)?
                    .try_get(0)
                    .map_err(err)?,
                Conn::Sqlite(c) => sqlx::query(sqlx::AssertSqlSafe(q))
                    .fetch_one(&mut *c)
                    .await
                    .map_err(err)?
                    .try_get(0)
                    .map_err(err)?,
            };
            if !found {
                continue;
            }
            let query = if tool == "golang-migrate" {
                // golang-migrate keeps one row: the current version and a dirty flag.
                let has_dirty = match &mut self.conn {
                    Conn::Mysql(_) => continue,
                    Conn::Postgres(c) => sqlx::query("SELECT 1 FROM information_schema.columns WHERE table_name = 'schema_migrations' AND column_name = 'dirty'").fetch_optional(&mut *c).await.map_err(err)?.is_some(),
                    Conn::Sqlite(c) => sqlx::query("SELECT 1 FROM pragma_table_info('schema_migrations') WHERE name = 'dirty'").fetch_optional(&mut *c).await.map_err(err)?.is_some(),
                };
                if !has_dirty {
                    continue;
                }
                "SELECT CAST(version AS TEXT) AS version FROM schema_migrations WHERE NOT dirty"
            } else {
                query
            };
            let rows: Vec<String> = match &mut self.conn {
                Conn::Mysql(_) => continue,
                Conn::Postgres(c) => sqlx::query(query)
                    .fetch_all(&mut *c)
                    .await
                    .map_err(err)?
                    .iter()
                    .filter_map(|r| r.try_get::<String, _>(0).ok())
                    .collect(),
                Conn::Sqlite(c) => sqlx::query(query)
                    .fetch_all(&mut *c)
                    .await
                    .map_err(err)?
                    .iter()
                    .filter_map(|r| r.try_get::<String, _>(0).ok())
                    .collect(),
            };
            let versions = rows.iter().filter_map(|v| Version::parse(v)).collect();
            return Ok(Some((tool.to_string(), versions)));
        }
        Ok(None)
    }

    /// Records versions applied by another tool as adopted, with the files' checksums,
    /// so that lockstep's history is complete from here on.
    pub async fn adopt(
        &mut self,
        who: &Who,
        rows: &[(Version, String, String)],
    ) -> Result<(), DbError> {
        self.exec("adopting history", "BEGIN").await?;
        for (v, name, checksum) in rows {
            let r = self
                .insert_history(who, v, name, checksum, "adopt", "adopted", None, None)
                .await;
            if let Err(e) = r {
                let _ = self.exec("rolling back", "ROLLBACK").await;
                return Err(e);
            }
        }
        self.exec("adopting history", "COMMIT").await
    }

    #[allow(clippy::too_many_arguments)]
    async fn insert_history(
        &mut self,
        who: &Who,
        version: &Version,
        name: &str,
        checksum: &str,
        direction: &str,
        outcome: &str,
        started: Option<(Instant, String)>,
        failure: Option<(&str, &str, usize)>,
    ) -> Result<(), DbError> {
        let (elapsed_ms, started_at) = match &started {
            Some((i, s)) => (Some(i.elapsed().as_millis() as i64), Some(s.clone())),
            None => (None, None),
        };
        let (error, stmt, line) = match failure {
            Some((e, s, l)) => (Some(e.to_string()), Some(s.to_string()), Some(l as i64)),
            None => (None, None, None),
        };
        self.write(
            "recording history",
            "INSERT INTO lockstep.history (version, name, checksum, direction, outcome, started_at, finished_at, duration_ms, os_user, db_role, client_host, lockstep_version, deploy_id, error, failed_statement, failed_line)
             VALUES ($1, $2, $3, $4, $5, COALESCE($6::timestamptz, clock_timestamp()), clock_timestamp(), $7, $8, current_user, $9, $10, $11, $12, $13, $14)",
            "INSERT INTO lockstep_history (version, name, checksum, direction, outcome, started_at, finished_at, duration_ms, os_user, db_role, client_host, lockstep_version, deploy_id, error, failed_statement, failed_line)
             VALUES (?1, ?2, ?3, ?4, ?5, COALESCE(?6, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')), strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), ?7, ?8, NULL, ?9, ?10, ?11, ?12, ?13, ?14)",
            &[
                Val::Text(Some(version.as_str())),
                Val::Text(Some(name)),
                Val::Text(Some(checksum)),
                Val::Text(Some(direction)),
                Val::Text(Some(outcome)),
                Val::Text(started_at.as_deref()),
                Val::Int(elapsed_ms),
                Val::Text(Some(&who.os_user)),
                Val::Text(Some(&who.client_host)),
                Val::Text(Some(&who.lockstep_version)),
                Val::Text(Some(&who.deploy_id)),
                Val::Text(error.as_deref()),
                Val::Text(stmt.as_deref()),
                Val::Int(line),
            ],
        )
        .await
    }

    async fn now_text(&mut self) -> Result<String, DbError> {
        let url = self.url.clone();
        let err = |e| DbError::query("reading the clock", &url, e);
        match &mut self.conn {
            Conn::Postgres(c) => sqlx::query("SELECT clock_timestamp()::text")
                .fetch_one(&mut *c)
                .await
                .map_err(err)?
                .try_get(0)
                .map_err(err),
            Conn::Sqlite(c) => sqlx::query("SELECT strftime('%Y-%m-%dT%H:%M:%fZ', 'now')")
                .fetch_one(&mut *c)
                .await
                .map_err(err)?
                .try_get(0)
                .map_err(err),
            Conn::Mysql(c) => {
                sqlx::query("SELECT DATE_FORMAT(UTC_TIMESTAMP(6), '%Y-%m-%dT%H:%i:%s.%fZ')")
                    .fetch_one(&mut *c)
                    .await
                    .map_err(err)?
                    .try_get(0)
                    .map_err(err)
            }
        }
    }

    async fn set_progress(
        &mut self,
        who: &Who,
        v: &Version,
        no: usize,
        s: &Stmt,
        state: &str,
    ) -> Result<(), DbError> {
        self.write(
            "checkpointing progress",
            "INSERT INTO lockstep.progress (version, statement_no, statement, line, state, deploy_id, updated_at) VALUES ($1, $2, $3, $4, $5, $6, clock_timestamp())
             ON CONFLICT (version, statement_no) DO UPDATE SET state = EXCLUDED.state, deploy_id = EXCLUDED.deploy_id, updated_at = EXCLUDED.updated_at",
            "INSERT INTO lockstep_progress (version, statement_no, statement, line, state, deploy_id, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
             ON CONFLICT (version, statement_no) DO UPDATE SET state = excluded.state, deploy_id = excluded.deploy_id, updated_at = excluded.updated_at",
            &[
                Val::Text(Some(v.as_str())),
                Val::Int(Some(no as i64)),
                Val::Text(Some(&s.sql)),
                Val::Int(Some(s.line as i64)),
                Val::Text(Some(state)),
                Val::Text(Some(&who.deploy_id)),
            ],
        )
        .await
    }

    /// Marks an in-doubt statement: `done` keeps it as finished; `retry` forgets it so
    /// the next deploy runs it again.
    pub async fn resolve(
        &mut self,
        v: &Version,
        statement_no: i64,
        done: bool,
    ) -> Result<(), DbError> {
        let vals = [Val::Text(Some(v.as_str())), Val::Int(Some(statement_no))];
        let (pg, sqlite) = if done {
            (
                "UPDATE lockstep.progress SET state = 'done', updated_at = clock_timestamp() WHERE version = $1 AND statement_no = $2",
                "UPDATE lockstep_progress SET state = 'done' WHERE version = ?1 AND statement_no = ?2",
            )
        } else {
            (
                "DELETE FROM lockstep.progress WHERE version = $1 AND statement_no = $2",
                "DELETE FROM lockstep_progress WHERE version = ?1 AND statement_no = ?2",
            )
        };
        self.write("marking the statement", pg, sqlite, &vals).await
    }

    /// Runs one statement written twice, for PostgreSQL (`pg`) and SQLite (`sqlite`),
    /// with `vals` bound in order.
    async fn write(
        &mut self,
        what: &'static str,
        pg: &'static str,
        sqlite: &'static str,
        vals: &[Val<'_>],
    ) -> Result<(), DbError> {
        let url = self.url.clone();
        let r = match &mut self.conn {
            Conn::Postgres(c) => bind(sqlx::query(pg), vals)
                .execute(&mut *c)
                .await
                .map(|_| ()),
            Conn::Sqlite(c) => bind(sqlx::query(sqlite), vals)
                .execute(&mut *c)
                .await
                .map(|_| ()),
            Conn::Mysql(_) => return Err(DbError::mysql_not_yet(&url, what)),
        };
        r.map_err(|e| DbError::query(what, &url, e))
    }

    /// Tries to tell from the schema whether an in-doubt statement took effect.
    /// Returns Some(true) when it did, Some(false) when it did not (after cleaning up
    /// any half-built leftovers), None when lockstep cannot tell.
    pub async fn decide(&mut self, statement: &str) -> Result<Option<bool>, DbError> {
        let url = self.url.clone();
        let Some(c) = pg(self) else {
            return Ok(None);
        };
        let Some((kind, schema, name)) = concurrent_index_target(statement) else {
            return Ok(None);
        };
        let err = |e| DbError::query("checking an in-doubt statement", &url, e);
        let valid: Option<bool> = sqlx::query(
            "SELECT i.indisvalid FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relname = $1 AND (($2::text IS NULL AND pg_catalog.pg_table_is_visible(c.oid)) OR n.nspname = $2)",
        )
        .bind(&name)
        .bind(&schema)
        .fetch_optional(&mut *c)
        .await
        .map_err(err)?
        .map(|r| r.try_get(0))
        .transpose()
        .map_err(err)?;
        Ok(match (kind, valid) {
            ("create", None) => Some(false),
            ("create", Some(true)) => Some(true),
            ("create", Some(false)) => {
                // CREATE INDEX CONCURRENTLY died halfway and left an INVALID index: drop
                // it so that the retry can build it.
                let target = match &schema {
                    Some(s) => format!("{}.{}", quote(s), quote(&name)),
                    None => quote(&name),
                };
                c.execute(sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                    "DROP INDEX CONCURRENTLY IF EXISTS {target}"
                ))))
                .await
                .map_err(err)?;
                Some(false)
            }
            ("drop", None) => Some(true),
            ("drop", Some(_)) => Some(false),
            _ => None,
        })
    }
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// `CREATE [UNIQUE] INDEX CONCURRENTLY [IF NOT EXISTS] name ...` or
/// `DROP INDEX CONCURRENTLY [IF EXISTS] name`: ("create" | "drop", schema, name).
fn concurrent_index_target(stmt: &str) -> Option<(&'static str, Option<String>, String)> {
    let code: String = stmt
        .lines()
        .filter(|l| !l.trim_start().starts_with("--"))
        .collect::<Vec<_>>()
        .join(" ");
    let words: Vec<&str> = code.split_whitespace().collect();
    let up: Vec<String> = words.iter().map(|w| w.to_ascii_uppercase()).collect();
    let at = |i: usize| up.get(i).map(String::as_str);
    let (kind, mut i) = match (at(0), at(1), at(2), at(3)) {
        (Some("CREATE"), Some("INDEX"), Some("CONCURRENTLY"), _) => ("create", 3),
        (Some("CREATE"), Some("UNIQUE"), Some("INDEX"), Some("CONCURRENTLY")) => ("create", 4),
        (Some("DROP"), Some("INDEX"), Some("CONCURRENTLY"), _) => ("drop", 3),
        _ => return None,
    };
    if at(i) == Some("IF") {
        i += if kind == "create" { 3 } else { 2 };
    }
    let raw = words.get(i)?.trim_end_matches(';');
    if kind == "create" && (raw.eq_ignore_ascii_case("ON") || raw.starts_with('(')) {
        return None; // unnamed index: nothing to look up
    }
    let parts: Vec<String> = raw
        .split('.')
        .map(|p| {
            if p.starts_with('"') {
                p.trim_matches('"').replace("\"\"", "\"")
            } else {
                p.to_ascii_lowercase()
            }
        })
        .collect();
    match parts.as_slice() {
        [n] => Some((kind, None, n.clone())),
        [s, n] => Some((kind, Some(s.clone()), n.clone())),
        _ => None,
    }
}

/// 1-based line within the file of the server's error position, when it reports one.
fn error_line(e: &sqlx::Error, stmt: &Stmt) -> usize {
    if let sqlx::Error::Database(d) = e {
        if let Some(pe) = d.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
            if let Some(sqlx::postgres::PgErrorPosition::Original(pos)) = pe.position() {
                let before: String = stmt.sql.chars().take(pos.saturating_sub(1)).collect();
                return stmt.line + before.matches('\n').count();
            }
        }
    }
    stmt.line
}

fn server_message(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(d) => d.message().to_string(),
        other => other.to_string(),
    }
}

/// Runs the steps in order. Consecutive transactional steps share one transaction,
/// committed only when every one of them and their history rows succeeded; a
/// no-transaction step commits what came before, then runs statement by statement with
/// checkpoints. Progress already recorded `done` for a step is skipped (resume).
pub async fn apply(
    db: &mut Db,
    who: &Who,
    steps: &[Step],
    done: &[ProgressRow],
    on_progress: OnProgress<'_>,
) -> Result<(), ApplyError> {
    preflight(steps).map_err(|e| *e)?;
    let mut in_tx = false;
    let total = steps.len();
    for (si, step) in steps.iter().enumerate() {
        let stmts = statements(step);
        let started_at = db.now_text().await?;
        let started = Instant::now();
        if step.no_transaction {
            if in_tx {
                db.exec("committing", "COMMIT").await?;
                in_tx = false;
            }
            for (i, s) in stmts.iter().enumerate() {
                on_progress(si, total, i, stmts.len());
                let no = i + 1;
                if done.iter().any(|p| {
                    p.version == step.version && p.statement_no == no as i64 && p.state == "done"
                }) {
                    continue;
                }
                db.set_progress(who, &step.version, no, s, "started")
                    .await?;
                if let Err(e) = db.raw(&s.sql).await {
                    // The statement failed, so it is not in doubt: forget the checkpoint
                    // and let decide() clean up leftovers (an INVALID index) on retry.
                    let _ = db.resolve(&step.version, no as i64, false).await;
                    let _ = db.decide(&s.sql).await;
                    let undo = format!(
                        "this migration runs outside a transaction: statements before this one stay applied and are recorded; the next deploy resumes at statement {no}"
                    );
                    return Err(failed(db, who, step, (started, started_at), s, &e, undo).await);
                }
                db.set_progress(who, &step.version, no, s, "done").await?;
            }
            db.exec("recording history", "BEGIN").await?;
            record_done(db, who, step, (started, started_at)).await?;
            clear_progress(db, &step.version).await?;
            db.exec("recording history", "COMMIT").await?;
            continue;
        }
        if !in_tx {
            let begin = match db.conn {
                // IMMEDIATE takes SQLite's write lock now, so a second deploy waits
                // rather than failing halfway.
                Conn::Sqlite(_) => "BEGIN IMMEDIATE",
                Conn::Postgres(_) | Conn::Mysql(_) => "BEGIN",
            };
            db.exec("starting the deploy transaction", begin).await?;
            in_tx = true;
        }
        for (i, s) in stmts.iter().enumerate() {
            on_progress(si, total, i, stmts.len());
            if let Err(e) = db.raw(&s.sql).await {
                let _ = db.exec("rolling back", "ROLLBACK").await;
                let undo = "the transaction was rolled back: the database is as it was before this run (or the last no-transaction step)".to_string();
                return Err(failed(db, who, step, (started, started_at), s, &e, undo).await);
            }
        }
        if let Err(e) = record_done(db, who, step, (started, started_at)).await {
            let _ = db.exec("rolling back", "ROLLBACK").await;
            return Err(e.into());
        }
    }
    if in_tx {
        db.exec("committing the deploy", "COMMIT").await?;
    }
    Ok(())
}

/// Records `step` as applied (or rolled back), in whatever transaction is open.
async fn record_done(
    db: &mut Db,
    who: &Who,
    step: &Step,
    started: (Instant, String),
) -> Result<(), DbError> {
    let outcome = match step.direction {
        Direction::Up => "applied",
        Direction::Down => "rolled_back",
    };
    db.insert_history(
        who,
        &step.version,
        &step.name,
        &step.checksum,
        step.direction.as_str(),
        outcome,
        Some(started),
        None,
    )
    .await
}

/// The statements of `step` as they run, with file lines (dbmate sections start
/// mid-file). A transactional step loses its own wrapping BEGIN first and COMMIT last:
/// it runs inside lockstep's transaction.
pub fn statements(step: &Step) -> Vec<Stmt> {
    let all = split(&step.text);
    let stmts = if step.no_transaction {
        all
    } else {
        lockstep_core::migrate::split::without_wrapper(all)
    };
    stmts
        .into_iter()
        .map(|mut s| {
            s.line += step.first_line - 1;
            s
        })
        .collect()
}

/// Refuses, before anything runs, a transactional step that ends or opens a transaction
/// part way: its COMMIT would commit lockstep's deploy transaction early, and a later
/// failure could not be rolled back.
pub fn preflight(steps: &[Step]) -> Result<(), Box<ApplyError>> {
    for step in steps.iter().filter(|s| !s.no_transaction) {
        for s in statements(step) {
            if lockstep_core::migrate::split::tx_control(&s.sql).is_some() {
                let statement = lockstep_core::migrate::state::one_line(&s.sql);
                return Err(Box::new(ApplyError::Statement {
                    version: step.version.to_string(),
                    path: step.path.clone(),
                    line: s.line,
                    message: format!("`{statement}` inside a migration that lockstep runs in a transaction would end that transaction part way, so a later failure could not be rolled back"),
                    statement,
                    undo: "nothing was run. Remove the statement (a BEGIN as the first statement with a COMMIT as the last is allowed), or put `-- lockstep:no-transaction` on the file's first line to manage transactions yourself".into(),
                }));
            }
        }
    }
    Ok(())
}

/// Records a failed run of `step` (outside any transaction, so it survives the
/// rollback) and builds the error that names file, line, statement and message.
async fn failed(
    db: &mut Db,
    who: &Who,
    step: &Step,
    (started, started_at): (Instant, String),
    s: &Stmt,
    e: &sqlx::Error,
    undo: String,
) -> ApplyError {
    let line = error_line(e, s);
    let message = server_message(e);
    let _ = db
        .insert_history(
            who,
            &step.version,
            &step.name,
            &step.checksum,
            step.direction.as_str(),
            "failed",
            Some((started, started_at)),
            Some((&message, &s.sql, line)),
        )
        .await;
    ApplyError::Statement {
        version: step.version.to_string(),
        path: step.path.clone(),
        line,
        statement: lockstep_core::migrate::state::one_line(&s.sql),
        message,
        undo,
    }
}

async fn clear_progress(db: &mut Db, v: &Version) -> Result<(), DbError> {
    db.write(
        "clearing progress",
        "DELETE FROM lockstep.progress WHERE version = $1",
        "DELETE FROM lockstep_progress WHERE version = ?1",
        &[Val::Text(Some(v.as_str()))],
    )
    .await
}

/// A value bound to a statement that is written for both PostgreSQL and SQLite. Integers
/// are bound as 64-bit: PostgreSQL casts them on assignment to its `int` columns.
enum Val<'a> {
    Text(Option<&'a str>),
    Int(Option<i64>),
}

fn bind<'q, DB: sqlx::Database>(
    mut q: sqlx::query::Query<'q, DB, DB::Arguments>,
    vals: &[Val<'_>],
) -> sqlx::query::Query<'q, DB, DB::Arguments>
where
    for<'t> Option<&'t str>: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> Option<i64>: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    for v in vals {
        q = match v {
            Val::Text(t) => q.bind(*t),
            Val::Int(i) => q.bind(*i),
        };
    }
    q
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concurrent_index_statements() {
        assert_eq!(
            concurrent_index_target("CREATE INDEX CONCURRENTLY idx_a ON t (a)"),
            Some(("create", None, "idx_a".into()))
        );
        assert_eq!(
            concurrent_index_target(
                "-- c\ncreate unique index concurrently if not exists \"Big\" on t(a);"
            ),
            Some(("create", None, "Big".into()))
        );
        assert_eq!(
            concurrent_index_target("DROP INDEX CONCURRENTLY IF EXISTS s.i"),
            Some(("drop", Some("s".into()), "i".into()))
        );
        assert_eq!(
            concurrent_index_target("CREATE INDEX CONCURRENTLY ON t (a)"),
            None
        );
        assert_eq!(concurrent_index_target("VACUUM t"), None);
    }
}
