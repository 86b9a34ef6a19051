//! MySQL and MariaDB: one folder with the file names every dialect will have
//! (`connect`, `inspect`; later `history`, `lock`, `stats`, `scratch`, `audit`).

pub mod connect;
pub mod inspect;

use sqlx::mysql::MySqlConnection;
use sqlx::Executor;

/// Runs a script. The server splits a multi-statement query itself, compound bodies
/// (`BEGIN ... END`) included; only the `mysql` client's `DELIMITER` lines need the
/// splitter, which then sends one statement at a time.
pub async fn execute(c: &mut MySqlConnection, script: &str) -> Result<(), sqlx::Error> {
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
