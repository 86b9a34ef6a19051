//! Table sizes (the planner's estimates and `pg_total_relation_size`, in one catalog
//! query) and data counts, within lockstep's time limits.

use crate::stats::{Stats, COUNT_LIMIT};
use crate::wait::Limits;
use crate::wait::OwnRead;
use crate::{DbError, DbUrl};
use lockstep_core::lint::TableSize;
use sqlx::{Connection, PgConnection, Row};

pub(crate) fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
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

/// Every table's size, within lockstep's time limits (`pg_total_relation_size` waits for
/// a lock on each table).
pub async fn sizes(
    c: &mut PgConnection,
    r: OwnRead<'_>,
    _named: &std::collections::BTreeSet<String>,
) -> Result<Stats, DbError> {
    crate::wait::own(r.url, r.pid, r.limits, read_sizes(c, r.url, r.limits)).await
}

async fn read_sizes(c: &mut PgConnection, url: &DbUrl, limits: &Limits) -> Result<Stats, DbError> {
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

/// Counts the rows `probe` would fail on, read-only, with lockstep's lock timeout and a
/// statement timeout of 30 s at most: a count is worth less than the time it would hold
/// up lint.
pub async fn count(c: &mut PgConnection, r: OwnRead<'_>, sql: String) -> Result<i64, DbError> {
    let (url, pid) = (r.url, r.pid);
    let limits = Limits {
        statement: r.limits.statement.min(COUNT_LIMIT),
        ..*r.limits
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
            .map_err(|e| DbError::query("counting rows", url, e))
    };
    crate::wait::own(url, pid, &limits, count).await
}
