//! Connecting to PostgreSQL, as `lockstep` unless the URL names an application, so that
//! lockstep's sessions can be told apart in `pg_stat_activity`.

use crate::{DbError, DbUrl};
use sqlx::{Connection, Executor, PgConnection, Row};

pub async fn connect(url: &DbUrl, _create: bool) -> Result<PgConnection, DbError> {
    use std::str::FromStr;
    let err = |e| DbError::connect(url, e);
    let mut opts = sqlx::postgres::PgConnectOptions::from_str(&url.driver_url()).map_err(err)?;
    if opts.get_application_name().is_none() {
        opts = opts.application_name("lockstep");
    }
    let mut c = PgConnection::connect_with(&opts).await.map_err(err)?;
    if let Some(schema) = url.schema() {
        confine(&mut c, &schema).await.map_err(|e| {
            DbError::query(format!("confining the session to schema {schema}"), url, e)
        })?;
    }
    Ok(c)
}

/// Schema-per-tenant: migrations run with the tenant's schema as the search path, so
/// their unqualified names land in it; `lockstep.schema` tells inspection which schema
/// to read (the session keeps both for as long as it lives).
pub(crate) async fn confine(c: &mut PgConnection, schema: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "SELECT pg_catalog.set_config('search_path', pg_catalog.quote_ident($1), false), pg_catalog.set_config('lockstep.schema', $1, false)",
    )
    .bind(schema)
    .execute(&mut *c)
    .await
    .map(|_| ())
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
