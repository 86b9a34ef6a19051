//! Opening a SQLite file (or an in-memory database). Foreign keys stay off, as the
//! `sqlite3` shell has them: migrations written for it must behave the same here.

use crate::{DbError, DbUrl};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Connection, Executor, SqliteConnection};

/// A file must exist unless `create` is set.
pub async fn connect(url: &DbUrl, create: bool) -> Result<SqliteConnection, DbError> {
    let path = url.sqlite_path().unwrap_or_default();
    if !create && path != ":memory:" && !std::path::Path::new(&path).exists() {
        return Err(DbError::SqliteMissing { path });
    }
    let opts = if path == ":memory:" {
        SqliteConnectOptions::new().in_memory(true)
    } else {
        SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(create)
    }
    .foreign_keys(false);
    SqliteConnection::connect_with(&opts)
        .await
        .map_err(|e| DbError::connect(url, e))
}

pub async fn raw(c: &mut SqliteConnection, sql: &str) -> Result<(), sqlx::Error> {
    c.execute(sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string())))
        .await
        .map(|_| ())
}

/// SQLite has no server process to watch.
pub async fn pid(_: &mut SqliteConnection) -> Option<i32> {
    None
}

/// The library's major.minor version (`3.45`): the SQLite that replays run in.
pub async fn engine_major(c: &mut SqliteConnection) -> Option<String> {
    let v: String = sqlx::query_scalar("SELECT sqlite_version()")
        .fetch_one(&mut *c)
        .await
        .ok()?;
    Some(v.split('.').take(2).collect::<Vec<_>>().join("."))
}
