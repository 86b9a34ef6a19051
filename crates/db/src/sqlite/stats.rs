//! Table sizes: `SELECT count(*)` for each table the linted statements name (SQLite
//! keeps no cheap estimate), and for each table one of whose indexes a statement drops;
//! bytes are unknown. Data counts in a transaction that is rolled back.

use crate::stats::Stats;
use crate::wait::OwnRead;
use crate::DbError;
use lockstep_core::lint::TableSize;
use sqlx::{Connection, SqliteConnection};
use std::collections::BTreeSet;

pub(crate) fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

pub async fn sizes(
    c: &mut SqliteConnection,
    r: OwnRead<'_>,
    named: &BTreeSet<String>,
) -> Result<Stats, DbError> {
    let url = r.url;
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

pub async fn count(c: &mut SqliteConnection, r: OwnRead<'_>, sql: String) -> Result<i64, DbError> {
    async {
        let mut tx = c.begin().await?;
        let n = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_one(&mut *tx)
            .await;
        tx.rollback().await?;
        n
    }
    .await
    .map_err(|e| DbError::query("counting rows", r.url, e))
}
