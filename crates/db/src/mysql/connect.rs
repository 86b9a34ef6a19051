//! Connecting to MySQL and MariaDB.
//!
//! `mariadb://` URLs are `mysql://` URLs to sqlx. The session keeps the server's own
//! `sql_mode` and time zone: sqlx would add `PIPES_AS_CONCAT` and set UTC by default,
//! and a trigger or routine created under a changed `sql_mode` keeps that mode forever
//! (`||` would mean concatenation in its body, not OR), unlike the same file run by
//! the `mysql` client.

use crate::{DbError, DbUrl};
use sqlx::mysql::{MySqlConnectOptions, MySqlConnection};
use sqlx::{ConnectOptions, Executor};
use std::str::FromStr;

/// The URL as sqlx reads it.
fn sqlx_url(url: &DbUrl) -> String {
    let raw = url.raw();
    match raw.get(..10) {
        Some(p) if p.eq_ignore_ascii_case("mariadb://") => format!("mysql://{}", &raw[10..]),
        _ => raw.to_string(),
    }
}

pub fn options(url: &DbUrl) -> Result<MySqlConnectOptions, DbError> {
    let opts = MySqlConnectOptions::from_str(&sqlx_url(url)).map_err(|e| {
        DbError::BadUrl(format!(
            "`{}` is not a valid MySQL URL: {}\n  hint: use mysql://USER[:PASSWORD]@HOST[:PORT]/DATABASE (or mariadb://...), with special characters percent-encoded",
            url.redacted(),
            crate::url::redact(&e.to_string())
        ))
    })?;
    Ok(opts
        .pipes_as_concat(false)
        .no_engine_substitution(false)
        .timezone(None))
}

pub async fn connect(url: &DbUrl, _create: bool) -> Result<MySqlConnection, DbError> {
    let opts = options(url)?;
    opts.connect().await.map_err(|e| DbError::connect(url, e))
}

/// Runs a script. The server splits a multi-statement query itself, compound bodies
/// (`BEGIN ... END`) included; only the `mysql` client's `DELIMITER` lines need the
/// splitter, which then sends one statement at a time.
pub async fn raw(c: &mut MySqlConnection, script: &str) -> Result<(), sqlx::Error> {
    let has_delimiter = script.lines().any(|l| {
        l.trim_start()
            .get(..10)
            .is_some_and(|w| w.eq_ignore_ascii_case("delimiter "))
    });
    if !has_delimiter {
        c.execute(sqlx::raw_sql(sqlx::AssertSqlSafe(script.to_string())))
            .await?;
        return Ok(());
    }
    let split =
        lockstep_core::sql::split::split_with(script, lockstep_core::sql::lex::Dialect::Mysql);
    for st in split.statements {
        c.execute(sqlx::raw_sql(sqlx::AssertSqlSafe(st.sql)))
            .await?;
    }
    Ok(())
}

/// Lock waits are not watched on MySQL yet, so no server process is looked up.
pub async fn pid(_: &mut MySqlConnection) -> Option<i32> {
    None
}

/// The server's series (`8.0`, MariaDB `10.11`) and which engine it is: MySQL and MariaDB
/// of one number are not the same server.
pub async fn engine_major(c: &mut MySqlConnection) -> Option<String> {
    let v: String = sqlx::query_scalar("SELECT CAST(VERSION() AS CHAR)")
        .fetch_one(&mut *c)
        .await
        .ok()?;
    let series: Vec<&str> = v.split(['.', '-']).take(2).collect();
    let kind = if v.to_ascii_lowercase().contains("mariadb") {
        "mariadb"
    } else {
        "mysql"
    };
    Some(format!("{kind} {}", series.join(".")))
}
