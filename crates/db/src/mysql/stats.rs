//! Table sizes on MySQL and MariaDB: `information_schema.TABLES` (the engine's row
//! estimate and data plus index length) in one query, indexes from `STATISTICS`; data
//! counts in a read-only transaction with a statement time limit.

use crate::stats::{Stats, COUNT_LIMIT};
use crate::wait::OwnRead;
use crate::DbError;
use lockstep_core::lint::TableSize;
use sqlx::{Executor, MySqlConnection, Row};

pub(crate) fn quote(ident: &str) -> String {
    format!("`{}`", ident.replace('`', "``"))
}

const SIZES: &str = "SELECT TABLE_NAME, CAST(TABLE_ROWS AS SIGNED) AS r, CAST(DATA_LENGTH + INDEX_LENGTH AS SIGNED) AS b FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' AND TABLE_NAME NOT LIKE 'lockstep\\_%'";
const INDEXES: &str = "SELECT DISTINCT LOWER(INDEX_NAME), LOWER(TABLE_NAME) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE()";

pub async fn sizes(
    c: &mut MySqlConnection,
    r: OwnRead<'_>,
    _named: &std::collections::BTreeSet<String>,
) -> Result<Stats, DbError> {
    let url = r.url;
    let err = |what: &'static str| move |e: sqlx::Error| DbError::query(what, url, e);
    let mut out = Stats::default();
    for r in sqlx::query(SIZES)
        .fetch_all(&mut *c)
        .await
        .map_err(err("reading table sizes"))?
    {
        let name: String = r.try_get(0).map_err(err("reading table sizes"))?;
        let rows: Option<i64> = r.try_get(1).map_err(err("reading table sizes"))?;
        let bytes: Option<i64> = r.try_get(2).map_err(err("reading table sizes"))?;
        out.sizes.insert(
            name.to_lowercase(),
            TableSize {
                rows: rows.map(|x| x.max(0) as u64),
                bytes: bytes.map(|x| x.max(0) as u64),
            },
        );
    }
    let indexes: Vec<(String, String)> = sqlx::query_as(INDEXES)
        .fetch_all(&mut *c)
        .await
        .map_err(err("reading which table each index is on"))?;
    out.index_table = indexes.into_iter().collect();
    Ok(out)
}

pub async fn count(c: &mut MySqlConnection, r: OwnRead<'_>, sql: String) -> Result<i64, DbError> {
    let limit_ms = COUNT_LIMIT.as_millis();
    async {
        // MariaDB reads max_statement_time in seconds, MySQL max_execution_time in ms;
        // whichever the server lacks is ignored.
        let _ = c
            .execute(sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "SET SESSION max_statement_time = {}",
                limit_ms / 1000
            ))))
            .await;
        let _ = c
            .execute(sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "SET SESSION max_execution_time = {limit_ms}"
            ))))
            .await;
        c.execute("START TRANSACTION READ ONLY").await?;
        let n: Result<i64, sqlx::Error> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_one(&mut *c)
            .await;
        c.execute("ROLLBACK").await?;
        n
    }
    .await
    .map_err(|e| DbError::query("counting rows", r.url, e))
}
