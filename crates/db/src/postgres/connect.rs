//! Connecting to PostgreSQL, as `lockstep` unless the URL names an application, so that
//! lockstep's sessions can be told apart in `pg_stat_activity`.

use crate::{DbError, DbUrl};
use sqlx::{Connection, Executor, PgConnection, Row};

pub async fn connect(url: &DbUrl, _create: bool) -> Result<PgConnection, DbError> {
    use std::str::FromStr;
    let err = |e| DbError::connect(url, e);
    let mut opts = sqlx::postgres::PgConnectOptions::from_str(url.raw()).map_err(err)?;
    if opts.get_application_name().is_none() {
        opts = opts.application_name("lockstep");
    }
    PgConnection::connect_with(&opts).await.map_err(err)
}

pub async fn pid(c: &mut PgConnection) -> Option<i32> {
    sqlx::query("SELECT pg_backend_pid()")
        .fetch_one(&mut *c)
        .await
        .ok()
        .and_then(|r| r.try_get(0).ok())
}

pub async fn raw(c: &mut PgConnection, sql: &str) -> Result<(), sqlx::Error> {
    c.execute(sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string())))
        .await
        .map(|_| ())
}

/// The major version the server announced when the connection started (no round trip).
pub async fn engine_major(c: &mut PgConnection) -> Option<String> {
    c.server_version_num().map(|n| (n / 10000).to_string())
}
