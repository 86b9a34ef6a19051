//! Scratch databases on a MySQL or MariaDB server (a database is a schema there). MySQL
//! keeps no comment on a database, so the owner is in the name alone.

use sqlx::{Executor, MySqlConnection, Row};

fn quote(ident: &str) -> String {
    format!("`{}`", ident.replace('`', "``"))
}

pub async fn create(c: &mut MySqlConnection, name: &str, _owner: &str) -> Result<(), sqlx::Error> {
    c.execute(sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "CREATE DATABASE {}",
        quote(name)
    ))))
    .await
    .map(|_| ())
}

pub async fn drop(c: &mut MySqlConnection, name: &str) -> Result<(), sqlx::Error> {
    c.execute(sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {}",
        quote(name)
    ))))
    .await
    .map(|_| ())
}

pub async fn list(c: &mut MySqlConnection) -> Vec<String> {
    sqlx::query("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE 'lockstep\\_scratch\\_%' ORDER BY 1")
        .fetch_all(&mut *c)
        .await
        .map(|rows| rows.iter().filter_map(|r| r.try_get::<String, _>(0).ok()).collect())
        .unwrap_or_default()
}

/// CREATE DATABASE is quick and atomic on MySQL: nothing to wait for.
pub async fn wait_for_create(_: &mut MySqlConnection, _: &str) {}

/// Not told: the caller waits for the drop's end.
pub async fn drop_running(_: &mut MySqlConnection, _: &str) -> bool {
    false
}

pub async fn role(c: &mut MySqlConnection) -> Option<String> {
    sqlx::query("SELECT CURRENT_USER()")
        .fetch_one(&mut *c)
        .await
        .ok()
        .and_then(|r| r.try_get::<String, _>(0).ok())
}
