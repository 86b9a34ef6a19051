//! SQLite's deploy lock is its write lock, taken per transaction (`BEGIN IMMEDIATE`,
//! bounded by the busy timeout); nothing to take for the whole run, and no other
//! sessions to name while waiting.

use crate::wait::Wait;
use crate::{DbError, DbUrl};
use sqlx::SqliteConnection;

pub async fn lock(
    _: &mut SqliteConnection,
    _: &DbUrl,
    _: &mut dyn FnMut(Option<i32>),
) -> Result<(), DbError> {
    Ok(())
}

pub async fn unlock(_: &mut SqliteConnection) {}

/// SQLite has no statements that run outside a transaction, so nothing is in doubt that
/// the schema could settle.
pub async fn decide(_: &mut SqliteConnection, _: &DbUrl, _: &str) -> Result<Option<bool>, DbError> {
    Ok(None)
}

pub async fn blockers(_: &mut SqliteConnection, _: i32) -> Option<Wait> {
    None
}

/// SQLite waits for its write lock up to the busy timeout; nothing to set.
pub fn session_lock_timeout(_: std::time::Duration) -> Option<String> {
    None
}

/// There is no server process to end: the file's transaction rolls back when the
/// process that held it is gone.
pub async fn terminate(_: &mut SqliteConnection, _: i32) {}
