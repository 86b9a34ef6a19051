//! Table sizes and data checks for size-aware lint (`lockstep lint --env E`).
//!
//! Reads only, inside read-only transactions that are rolled back:
//! - PostgreSQL: one catalog query for every ordinary and partitioned table outside the
//!   system schemas and `lockstep`: `pg_class.reltuples` (the planner's estimate, set by
//!   ANALYZE and autovacuum) and `pg_total_relation_size`. A partitioned table sums its
//!   leaf partitions. A second query maps each index to its table (`pg_index`).
//! - SQLite: `SELECT count(*)` for each table the linted statements name (SQLite keeps
//!   no cheap estimate), and for each table one of whose indexes a statement drops;
//!   bytes are unknown.
//!
//! Data checks count the rows that would make a statement fail: NULLs for SET NOT NULL,
//! duplicate groups for a new unique constraint. Each is one query, run only on tables
//! below [`lockstep_core::lint::COUNT_MAX_ROWS`] rows, with a statement timeout.

use crate::{Conn, Db, DbError};
use lockstep_core::lint::{
    DataCheck, IndexTables, Probe, ProbeResult, Sizes, TableSize, COUNT_MAX_ROWS,
};
use sqlx::{Connection, Row};
use std::collections::{BTreeMap, BTreeSet};

/// Sizes by unqualified, lowercased table name, and the schema each lives in.
#[derive(Debug, Default, Clone)]
pub struct Stats {
    pub sizes: Sizes,
    /// PostgreSQL: the schema of each table in `sizes` (the biggest one wins when a name
    /// is in several schemas).
    pub schema: BTreeMap<String, String>,
    /// Each index's table, so DROP INDEX is sized by its table.
    pub index_table: IndexTables,
}

const PG_INDEXES: &str = r#"
SELECT i.relname::text AS index, t.relname::text AS tbl
FROM pg_index x
  JOIN pg_class i ON i.oid = x.indexrelid
  JOIN pg_class t ON t.oid = x.indrelid
  JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'lockstep')
  AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp%'
"#;

const PG_SIZES: &str = r#"
SELECT n.nspname::text AS schema, c.relname::text AS name,
  CASE WHEN c.relkind = 'p' THEN
    (SELECT sum(CASE WHEN p.reltuples < 0 THEN NULL ELSE p.reltuples END)::float8
       FROM pg_partition_tree(c.oid) t JOIN pg_class p ON p.oid = t.relid WHERE t.isleaf)
  ELSE CASE WHEN c.reltuples < 0 THEN NULL ELSE c.reltuples::float8 END
  END AS rows,
  CASE WHEN c.relkind = 'p' THEN
    (SELECT coalesce(sum(pg_total_relation_size(t.relid)), 0)::int8
       FROM pg_partition_tree(c.oid) t WHERE t.isleaf)
  ELSE pg_total_relation_size(c.oid)::int8
  END AS bytes
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'lockstep')
  AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp%'
"#;

/// Reads table sizes. `named` limits SQLite's counts to the tables the linted
/// statements name; PostgreSQL reads every table in one query, within lockstep's time
/// limits (`pg_total_relation_size` waits for a lock on each table).
pub async fn table_sizes(db: &mut Db, named: &BTreeSet<String>) -> Result<Stats, DbError> {
    let url = db.url.clone();
    let (pid, limits) = (db.pid, db.limits);
    match &mut db.conn {
        Conn::Postgres(c) => crate::wait::own(&url, pid, &limits, pg_sizes(c, &url, &limits)).await,
        Conn::Sqlite(c) => sqlite_sizes(c, &url, named).await,
        Conn::Mysql(_) => Err(DbError::mysql_not_yet(&url, "reading table sizes")),
    }
}

async fn pg_sizes(
    c: &mut sqlx::PgConnection,
    url: &crate::DbUrl,
    limits: &crate::Limits,
) -> Result<Stats, DbError> {
    let err = |what: &'static str| move |e: sqlx::Error| DbError::query(what, url, e);
    let mut out = Stats::default();
    let begin = format!("BEGIN READ ONLY; {}", limits.set_local());
    let mut tx = c
        .begin_with(sqlx::AssertSqlSafe(begin))
        .await
        .map_err(err("starting a read-only transaction"))?;
    let rows = sqlx::query(PG_SIZES)
        .fetch_all(&mut *tx)
        .await
        .map_err(err("reading table sizes"))?;
    let indexes: Vec<(String, String)> = sqlx::query_as(PG_INDEXES)
        .fetch_all(&mut *tx)
        .await
        .map_err(err("reading which table each index is on"))?;
    tx.rollback().await.map_err(err("ending the transaction"))?;
    out.index_table = indexes.into_iter().collect();
    for r in rows {
        let schema: String = r.try_get("schema").map_err(err("reading table sizes"))?;
        let name: String = r.try_get("name").map_err(err("reading table sizes"))?;
        let rows: Option<f64> = r.try_get("rows").map_err(err("reading table sizes"))?;
        let bytes: Option<i64> = r.try_get("bytes").map_err(err("reading table sizes"))?;
        let size = TableSize {
            rows: rows.map(|x| x.max(0.0) as u64),
            bytes: bytes.map(|x| x.max(0) as u64),
        };
        let key = name.to_string();
        let bigger = out
            .sizes
            .get(&key)
            .is_none_or(|old| (size.rows, size.bytes) > (old.rows, old.bytes));
        if bigger {
            out.sizes.insert(key.clone(), size);
            out.schema.insert(key, schema);
        }
    }
    Ok(out)
}

async fn sqlite_sizes(
    c: &mut sqlx::SqliteConnection,
    url: &crate::DbUrl,
    named: &BTreeSet<String>,
) -> Result<Stats, DbError> {
    let err = |what: &'static str| move |e: sqlx::Error| DbError::query(what, url, e);
    let mut out = Stats::default();
    let mut tx = c.begin().await.map_err(err("starting a transaction"))?;
    let existing: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
    )
    .fetch_all(&mut *tx)
    .await
    .map_err(err("listing tables"))?;
    let indexes: Vec<(String, String)> = sqlx::query_as(
        "SELECT lower(name), lower(tbl_name) FROM sqlite_master WHERE type = 'index'",
    )
    .fetch_all(&mut *tx)
    .await
    .map_err(err("listing indexes"))?;
    out.index_table = indexes.into_iter().collect();
    for name in existing {
        let key = name.to_lowercase();
        // A table is counted when a statement names it or drops one of its indexes.
        let dropped_index = out
            .index_table
            .iter()
            .any(|(i, t)| *t == key && named.contains(i));
        if !named.contains(&key) && !dropped_index {
            continue;
        }
        let sql = format!("SELECT count(*) FROM {}", quote(&name));
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_one(&mut *tx)
            .await
            .map_err(err("counting rows"))?;
        out.sizes.insert(
            key,
            TableSize {
                rows: Some(n.max(0) as u64),
                bytes: None,
            },
        );
    }
    tx.rollback().await.map_err(err("ending the transaction"))?;
    Ok(out)
}

fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

/// The query that counts the rows `probe` would fail on.
fn probe_sql(table: &str, check: &DataCheck) -> String {
    match check {
        DataCheck::Nulls { column } => {
            format!(
                "SELECT count(*) FROM {table} WHERE {} IS NULL",
                quote(column)
            )
        }
        DataCheck::Rows { .. } => format!("SELECT count(*) FROM {table}"),
        DataCheck::Duplicates { columns } => {
            let cols: Vec<String> = columns.iter().map(|c| quote(c)).collect();
            let not_null: Vec<String> = cols.iter().map(|c| format!("{c} IS NOT NULL")).collect();
            format!(
                "SELECT count(*) FROM (SELECT 1 FROM {table} WHERE {} GROUP BY {} HAVING count(*) > 1) d",
                not_null.join(" AND "),
                cols.join(", ")
            )
        }
    }
}

/// The longest a data count may run.
const COUNT_LIMIT: std::time::Duration = std::time::Duration::from_secs(30);

/// Counts the rows `probe` would fail on, in a read-only transaction with lockstep's lock
/// timeout and a 30 s statement timeout. Never an error: a check that cannot run says
/// why (and, when it waited for a lock, whose).
pub async fn count_failing(db: &mut Db, stats: &Stats, probe: &Probe) -> ProbeResult {
    let Some(size) = stats.sizes.get(&probe.table) else {
        return ProbeResult::NotCounted(format!("table {} not found", probe.table));
    };
    if size.rows.is_some_and(|r| r >= COUNT_MAX_ROWS) {
        return ProbeResult::NotCounted(format!(
            "table too big (about {} rows; counts run below {COUNT_MAX_ROWS})",
            size.rows.unwrap_or_default()
        ));
    }
    let url = db.url.clone();
    let (pid, limits) = (db.pid, db.limits);
    let r: Result<i64, DbError> = match &mut db.conn {
        Conn::Mysql(_) => Err(DbError::mysql_not_yet(&url, "counting rows")),
        Conn::Postgres(c) => {
            let table = match stats.schema.get(&probe.table) {
                Some(s) => format!("{}.{}", quote(s), quote(&probe.table)),
                None => quote(&probe.table),
            };
            let sql = probe_sql(&table, &probe.check);
            // A count is worth less than the time it would hold up lint: 30 s at most.
            let limits = crate::Limits {
                statement: limits.statement.min(COUNT_LIMIT),
                ..limits
            };
            let count = async {
                let begin = format!("BEGIN READ ONLY; {}", limits.set_local());
                let mut tx = c.begin_with(sqlx::AssertSqlSafe(begin)).await?;
                let n = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                    .fetch_one(&mut *tx)
                    .await;
                tx.rollback().await?;
                n
            };
            let count = async {
                count
                    .await
                    .map_err(|e| DbError::query("counting rows", &url, e))
            };
            crate::wait::own(&url, pid, &limits, count).await
        }
        Conn::Sqlite(c) => {
            let sql = probe_sql(&quote(&probe.table), &probe.check);
            async {
                let mut tx = c.begin().await?;
                let n = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                    .fetch_one(&mut *tx)
                    .await;
                tx.rollback().await?;
                n
            }
            .await
            .map_err(|e| DbError::query("counting rows", &url, e))
        }
    };
    match r {
        Ok(n) => ProbeResult::Counted(n.max(0) as u64),
        Err(DbError::Query { message, .. }) => ProbeResult::NotCounted(message),
        Err(other) => ProbeResult::NotCounted(other.to_string()),
    }
}
