//! The deploy lock on MySQL and MariaDB: `GET_LOCK`, a named lock the server releases
//! when the connection ends, so a killed deploy never leaves it held.

use crate::wait::Wait;
use crate::{DbError, DbUrl};
use sqlx::{MySqlConnection, Row};
use std::time::Duration;

/// Named locks are server-wide: the name carries the database.
const LOCK: &str = "CONCAT('lockstep:', DATABASE())";

pub async fn lock(
    c: &mut MySqlConnection,
    url: &DbUrl,
    on_wait: &mut dyn FnMut(Option<i32>),
) -> Result<(), DbError> {
    let err = |e| DbError::query("taking the deploy lock", url, e);
    let mut said = false;
    loop {
        // A zero timeout polls: waiting in GET_LOCK would hold nothing else, but a short
        // poll keeps the wait interruptible and the note timely.
        let got: Option<i64> =
            sqlx::query(sqlx::AssertSqlSafe(format!("SELECT GET_LOCK({LOCK}, 0)")))
                .fetch_one(&mut *c)
                .await
                .map_err(err)?
                .try_get(0)
                .map_err(err)?;
        if got == Some(1) {
            return Ok(());
        }
        if !said {
            said = true;
            let holder: Option<i64> =
                sqlx::query(sqlx::AssertSqlSafe(format!("SELECT IS_USED_LOCK({LOCK})")))
                    .fetch_one(&mut *c)
                    .await
                    .ok()
                    .and_then(|r| r.try_get(0).ok());
            on_wait(holder.map(|h| h as i32));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

pub async fn unlock(c: &mut MySqlConnection) {
    let _ = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT RELEASE_LOCK({LOCK})")))
        .fetch_one(&mut *c)
        .await;
}

/// No statement shape is settled from the schema yet on MySQL: the user decides with
/// `--resolve`.
pub async fn decide(_: &mut MySqlConnection, _: &DbUrl, _: &str) -> Result<Option<bool>, DbError> {
    Ok(None)
}

/// Who holds a lock is not read yet on MySQL.
pub async fn blockers(_: &mut MySqlConnection, _: i32) -> Option<Wait> {
    None
}

/// `lock_wait_timeout` is in whole seconds (at least 1) and covers metadata locks, the
/// ones an ALTER waits for.
pub fn session_lock_timeout(d: Duration) -> Option<String> {
    Some(format!(
        "SET SESSION lock_wait_timeout = {}",
        d.as_secs().max(1)
    ))
}

/// Ends a server process (`KILL`), which rolls back its open transaction.
pub async fn terminate(c: &mut MySqlConnection, pid: i32) {
    let _ = sqlx::query(sqlx::AssertSqlSafe(format!("KILL {pid}")))
        .execute(&mut *c)
        .await;
}
