//! lockstep's history and progress tables, written once against [`Driver`]: each
//! dialect's `history.rs` gives the SQL. Also: adoption of other tools' history tables
//! (read, never written) and the recent deploys the status page shows.

use crate::apply::Who;
use crate::driver::{Driver, HistorySql};
use crate::{dispatch, Db, DbError};
use lockstep_core::migrate::state::{HistoryRow, ProgressRow};
use lockstep_core::migrate::Version;
use lockstep_core::sql::split::Stmt;
use serde::Serialize;
use sqlx::Row;
use std::time::Instant;

/// A value bound to one of the history statements.
pub(crate) enum Val<'a> {
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

/// A version as the history stores it; a row lockstep cannot read as one counts as 0.
fn version(s: &str) -> Version {
    Version::parse(s).unwrap_or_else(|| Version::parse("0").expect("digits"))
}

/// A migration recorded as applied without running it (adopted from another tool's
/// history, or baselined).
#[derive(Debug, Clone)]
pub struct Applied {
    pub version: Version,
    pub name: String,
    pub checksum: String,
    pub code_checksum: String,
}

/// What a history row says about its migration.
pub(crate) struct Recorded<'a> {
    pub version: &'a Version,
    pub name: &'a str,
    pub checksum: &'a str,
    pub code_checksum: &'a str,
}

/// One row of lockstep's history, newest first, for the status page.
#[derive(Debug, Clone, Serialize)]
pub struct DeployRow {
    pub version: String,
    pub name: String,
    pub direction: String,
    pub outcome: String,
    pub started_at: String,
    pub duration_ms: Option<i64>,
    pub os_user: Option<String>,
    pub db_role: Option<String>,
    pub client_host: Option<String>,
    pub deploy_id: String,
}

impl Db {
    pub(crate) async fn exec(&mut self, what: &str, sql: &str) -> Result<(), DbError> {
        let r = self.raw(sql).await;
        r.map_err(|e| DbError::query(what, &self.url, e))
    }

    /// Runs `body` (lockstep's own reads) in a read-only transaction with lockstep's time
    /// limits, watched so that a limit that fires names who was in the way; as it is on
    /// a dialect without such limits.
    pub(crate) async fn own_read<T>(
        &mut self,
        body: impl for<'a> FnOnce(
            &'a mut Db,
        ) -> std::pin::Pin<
            Box<dyn std::future::Future<Output = Result<T, DbError>> + 'a>,
        >,
    ) -> Result<T, DbError> {
        let limits = self.limits;
        let Some(begin) = dispatch!(&self.conn, |_c, D| D::begin_own_read(&limits)) else {
            return body(self).await;
        };
        let (url, pid) = (self.url.clone(), self.pid);
        let run = async {
            self.exec("starting a read-only transaction", &begin)
                .await?;
            let r = body(self).await;
            let end = if r.is_ok() { "COMMIT" } else { "ROLLBACK" };
            let ended = self.exec("ending the read-only transaction", end).await;
            let r = r?;
            ended.map(|()| r)
        };
        crate::wait::own(&url, pid, &limits, run).await
    }

    /// lockstep's statement `pick` on this connection: as the dialect writes it, or, on a
    /// session confined to one schema (schema-per-tenant), with lockstep's tables inside
    /// that schema. Only PostgreSQL URLs can name a schema.
    fn own_sql(&self, pick: fn(&HistorySql) -> &'static str) -> String {
        let sql = dispatch!(&self.conn, |_c, D| pick(&D::HISTORY));
        match self.url.schema() {
            Some(schema) => crate::postgres::history::in_schema(sql, &schema),
            None => sql.to_string(),
        }
    }

    /// Whether lockstep's history table exists.
    pub async fn history_exists(&mut self) -> Result<bool, DbError> {
        let sql = sqlx::AssertSqlSafe(self.own_sql(|h| h.exists));
        let found = dispatch!(&mut self.conn, |c, D| sqlx::query(sql)
            .fetch_optional(&mut *c)
            .await
            .map(|r| r.is_some()));
        found.map_err(|e| DbError::query("looking for the history table", &self.url, e))
    }

    /// Creates the history and progress tables when missing, and brings a table an
    /// older lockstep made up to date.
    pub async fn ensure_history(&mut self) -> Result<(), DbError> {
        if self.history_current {
            return Ok(());
        }
        let sql = self.own_sql(|h| h.create);
        self.exec("creating lockstep's history table", &sql).await?;
        if !self.has_code_checksum().await? {
            let sql = self.own_sql(|h| h.add_code_checksum);
            self.exec("upgrading lockstep's history table", &sql)
                .await?;
        }
        Ok(())
    }

    async fn has_code_checksum(&mut self) -> Result<bool, DbError> {
        let sql = sqlx::AssertSqlSafe(self.own_sql(|h| h.has_code_checksum));
        let found = dispatch!(&mut self.conn, |c, D| sqlx::query(sql)
            .fetch_optional(&mut *c)
            .await
            .map(|r| r.is_some()));
        found.map_err(|e| DbError::query("reading lockstep's history table", &self.url, e))
    }

    /// History and progress rows; empty when lockstep has never deployed here.
    pub async fn read_history(&mut self) -> Result<(Vec<HistoryRow>, Vec<ProgressRow>), DbError> {
        self.own_read(|db| Box::pin(db.read_history_now())).await
    }

    async fn read_history_now(&mut self) -> Result<(Vec<HistoryRow>, Vec<ProgressRow>), DbError> {
        let current = if self.history_current {
            true
        } else {
            // A table with the current columns exists: only a database without one is
            // asked whether it has an older table, which saves a fleet's members (all
            // current, as a rule) a statement each. Reads never write: a table an older
            // lockstep made is read as it is.
            let current = self.has_code_checksum().await?;
            if !current && !self.history_exists().await? {
                return Ok((vec![], vec![]));
            }
            self.history_current = current;
            current
        };
        let url = self.url.clone();
        let err = |e| DbError::query("reading lockstep's history", &url, e);
        let mut hist = vec![];
        let mut prog = vec![];
        let read = sqlx::AssertSqlSafe(if current {
            self.own_sql(|h| h.read_history)
        } else {
            self.own_sql(|h| h.read_history_v1)
        });
        let read_progress = sqlx::AssertSqlSafe(self.own_sql(|h| h.read_progress));
        dispatch!(&mut self.conn, |c, D| {
            for r in sqlx::query(read).fetch_all(&mut *c).await.map_err(err)? {
                let v: String = r.try_get("version").map_err(err)?;
                hist.push(HistoryRow {
                    id: r.try_get("id").map_err(err)?,
                    version: version(&v),
                    name: r.try_get("name").map_err(err)?,
                    checksum: r.try_get("checksum").map_err(err)?,
                    direction: r.try_get("direction").map_err(err)?,
                    outcome: r.try_get("outcome").map_err(err)?,
                    started_at: r.try_get("started_at").map_err(err)?,
                    error: r.try_get("error").map_err(err)?,
                    failed_statement: r.try_get("failed_statement").map_err(err)?,
                    failed_line: r.try_get("failed_line").map_err(err)?,
                    db_role: r.try_get("db_role").map_err(err)?,
                    code_checksum: r.try_get("code_checksum").map_err(err)?,
                });
            }
            for r in sqlx::query(read_progress)
                .fetch_all(&mut *c)
                .await
                .map_err(err)?
            {
                let v: String = r.try_get("version").map_err(err)?;
                prog.push(ProgressRow {
                    version: version(&v),
                    statement_no: r.try_get("statement_no").map_err(err)?,
                    statement: r.try_get("statement").map_err(err)?,
                    line: r.try_get("line").map_err(err)?,
                    state: r.try_get("state").map_err(err)?,
                });
            }
        });
        Ok((hist, prog))
    }

    /// The `limit` newest history rows, newest first; none when lockstep never deployed
    /// here.
    pub async fn recent_deploys(&mut self, limit: i64) -> Result<Vec<DeployRow>, DbError> {
        if !self.history_exists().await? {
            return Ok(vec![]);
        }
        let url = self.url.clone();
        let err = |e| DbError::query("reading lockstep's recent deploys", &url, e);
        let mut out = vec![];
        let recent = sqlx::AssertSqlSafe(self.own_sql(|h| h.recent));
        dispatch!(&mut self.conn, |c, D| {
            for r in sqlx::query(recent)
                .bind(limit)
                .fetch_all(&mut *c)
                .await
                .map_err(err)?
            {
                out.push(DeployRow {
                    version: r.try_get("version").map_err(err)?,
                    name: r.try_get("name").map_err(err)?,
                    direction: r.try_get("direction").map_err(err)?,
                    outcome: r.try_get("outcome").map_err(err)?,
                    started_at: r.try_get("started_at").map_err(err)?,
                    duration_ms: r.try_get("duration_ms").map_err(err)?,
                    os_user: r.try_get("os_user").map_err(err)?,
                    db_role: r.try_get("db_role").map_err(err)?,
                    client_host: r.try_get("client_host").map_err(err)?,
                    deploy_id: r.try_get("deploy_id").map_err(err)?,
                });
            }
        });
        Ok(out)
    }

    /// Versions recorded by another tool's history table, and the tool's name, when
    /// lockstep has none of its own yet. Never writes to their tables.
    pub async fn foreign_history(&mut self) -> Result<Option<(String, Vec<Version>)>, DbError> {
        self.own_read(|db| Box::pin(db.foreign_history_now())).await
    }

    async fn foreign_history_now(&mut self) -> Result<Option<(String, Vec<Version>)>, DbError> {
        let url = self.url.clone();
        let text = dispatch!(&self.conn, |_c, D| D::TEXT_TYPE);
        // (tool, table, query returning applied versions as text)
        let atlas =
            "SELECT version FROM {t} WHERE applied = total AND (error IS NULL OR error = '')";
        let candidates: [(&str, &str, String); 8] = [
            (
                "diesel",
                "__diesel_schema_migrations",
                "SELECT version FROM __diesel_schema_migrations".into(),
            ),
            (
                "sqlx",
                "_sqlx_migrations",
                format!("SELECT CAST(version AS {text}) AS version FROM _sqlx_migrations WHERE success"),
            ),
            (
                "flyway",
                "flyway_schema_history",
                "SELECT version FROM flyway_schema_history WHERE success AND version IS NOT NULL".into(),
            ),
            // golang-migrate keeps one row: the current version and a dirty flag.
            (
                "golang-migrate",
                "schema_migrations",
                format!("SELECT CAST(version AS {text}) AS version FROM schema_migrations WHERE NOT dirty"),
            ),
            (
                "dbmate",
                "schema_migrations",
                format!("SELECT CAST(version AS {text}) AS version FROM schema_migrations"),
            ),
            // Prisma names a migration `<timestamp>_<name>`; a failed attempt stays as a
            // row that is either unfinished or marked rolled back.
            (
                "prisma",
                "_prisma_migrations",
                "SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL".into(),
            ),
            // Atlas keeps its table in a schema of its own on PostgreSQL, and in the
            // connected database elsewhere.
            (
                "atlas",
                "atlas_schema_revisions.atlas_schema_revisions",
                atlas.replace("{t}", "atlas_schema_revisions.atlas_schema_revisions"),
            ),
            (
                "atlas",
                "atlas_schema_revisions",
                atlas.replace("{t}", "atlas_schema_revisions"),
            ),
        ];
        let err = |e| DbError::query("reading another tool's history table", &url, e);
        for (tool, table, query) in candidates {
            let (exists, dirty) = dispatch!(&self.conn, |_c, D| (
                D::table_exists(table),
                D::column_exists(table, "dirty")
            ));
            let found = dispatch!(&mut self.conn, |c, D| sqlx::query(sqlx::AssertSqlSafe(
                exists
            ))
            .fetch_optional(&mut *c)
            .await
            .map(|r| r.is_some()))
            .map_err(err)?;
            if !found {
                continue;
            }
            if tool == "golang-migrate" {
                let has_dirty = dispatch!(&mut self.conn, |c, D| sqlx::query(sqlx::AssertSqlSafe(
                    dirty
                ))
                .fetch_optional(&mut *c)
                .await
                .map(|r| r.is_some()))
                .map_err(err)?;
                if !has_dirty {
                    continue;
                }
            }
            let rows: Vec<String> = dispatch!(&mut self.conn, |c, D| sqlx::query(
                sqlx::AssertSqlSafe(query)
            )
            .fetch_all(&mut *c)
            .await
            .map(|rows| rows
                .iter()
                .filter_map(|r| r.try_get::<String, _>(0).ok())
                .collect()))
            .map_err(err)?;
            let mut versions: Vec<Version> = rows
                .iter()
                .filter_map(|v| match tool {
                    "prisma" => Version::parse(v.split('_').next().unwrap_or_default()),
                    _ => Version::parse(v),
                })
                .collect();
            versions.sort();
            versions.dedup();
            return Ok(Some((tool.to_string(), versions)));
        }
        Ok(None)
    }

    /// Records versions applied by another tool as adopted, with the files' checksums,
    /// so that lockstep's history is complete from here on.
    pub async fn adopt(&mut self, who: &Who, rows: &[Applied]) -> Result<(), DbError> {
        self.record_applied(who, rows, "adopt", "adopted").await
    }

    /// Records versions as applied without running them (`lockstep baseline`): the
    /// database was built before lockstep, by hand or by another tool.
    pub async fn baseline(&mut self, who: &Who, rows: &[Applied]) -> Result<(), DbError> {
        self.record_applied(who, rows, "baseline", "baselined")
            .await
    }

    async fn record_applied(
        &mut self,
        who: &Who,
        rows: &[Applied],
        direction: &str,
        outcome: &str,
    ) -> Result<(), DbError> {
        self.exec("recording history", "BEGIN").await?;
        for a in rows {
            let r = self
                .insert_history(
                    who,
                    &Recorded {
                        version: &a.version,
                        name: &a.name,
                        checksum: &a.checksum,
                        code_checksum: &a.code_checksum,
                    },
                    direction,
                    outcome,
                    None,
                    None,
                )
                .await;
            if let Err(e) = r {
                let _ = self.exec("rolling back", "ROLLBACK").await;
                return Err(e);
            }
        }
        self.exec("recording history", "COMMIT").await
    }

    pub(crate) async fn insert_history(
        &mut self,
        who: &Who,
        m: &Recorded<'_>,
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
        let sql = self.own_sql(|h| h.insert_history);
        self.write(
            "recording history",
            sql,
            &[
                Val::Text(Some(m.version.as_str())),
                Val::Text(Some(m.name)),
                Val::Text(Some(m.checksum)),
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
                Val::Text(Some(m.code_checksum)),
            ],
        )
        .await
    }

    pub(crate) async fn now_text(&mut self) -> Result<String, DbError> {
        let url = self.url.clone();
        let err = |e| DbError::query("reading the clock", &url, e);
        let now = self.own_sql(|h| h.now);
        dispatch!(&mut self.conn, |c, D| sqlx::query(sqlx::AssertSqlSafe(now))
            .fetch_one(&mut *c)
            .await
            .map_err(err)?
            .try_get(0)
            .map_err(err))
    }

    pub(crate) async fn set_progress(
        &mut self,
        who: &Who,
        v: &Version,
        no: usize,
        s: &Stmt,
        state: &str,
    ) -> Result<(), DbError> {
        let sql = self.own_sql(|h| h.set_progress);
        self.write(
            "checkpointing progress",
            sql,
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

    /// The checkpoint of statement `no` as SQL to send with the statement in one round
    /// trip, where the dialect lets the two commit together (see `Driver::checkpoint_with`).
    pub(crate) fn checkpoint_with(
        &self,
        who: &Who,
        v: &Version,
        no: usize,
        s: &Stmt,
    ) -> Option<String> {
        let c = crate::driver::Checkpoint {
            version: v.as_str(),
            no,
            statement: &s.sql,
            line: s.line,
            deploy_id: &who.deploy_id,
        };
        let sql = dispatch!(&self.conn, |_c, D| D::checkpoint_with(&c))?;
        // A tenant's progress table lives in its schema, like the rest of its history.
        // Only the part before the values names tables: the statement's own text, in
        // the values, is left as written.
        Some(match (self.url.schema(), sql.find(" VALUES (")) {
            (Some(schema), Some(at)) => format!(
                "{}{}",
                crate::postgres::history::in_schema(&sql[..at], &schema),
                &sql[at..]
            ),
            _ => sql,
        })
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
        let sql = if done {
            self.own_sql(|h| h.progress_done)
        } else {
            self.own_sql(|h| h.progress_forget)
        };
        self.write("marking the statement", sql, &vals).await
    }

    pub async fn clear_progress(&mut self, v: &Version) -> Result<(), DbError> {
        let sql = self.own_sql(|h| h.progress_clear);
        self.write("clearing progress", sql, &[Val::Text(Some(v.as_str()))])
            .await
    }

    /// Starts the deploy transaction.
    pub(crate) async fn begin_deploy(&mut self) -> Result<(), DbError> {
        let sql = self.own_sql(|h| h.begin_deploy);
        self.exec("starting the deploy transaction", &sql).await
    }

    /// Runs one of the history statements with `vals` bound in order.
    pub(crate) async fn write(
        &mut self,
        what: &'static str,
        sql: String,
        vals: &[Val<'_>],
    ) -> Result<(), DbError> {
        let sql = sqlx::AssertSqlSafe(sql);
        let r = dispatch!(&mut self.conn, |c, D| bind(sqlx::query(sql), vals)
            .execute(&mut *c)
            .await
            .map(|_| ()));
        r.map_err(|e| DbError::query(what, &self.url, e))
    }
}
