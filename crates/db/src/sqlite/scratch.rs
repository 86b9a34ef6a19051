//! Scratch work on SQLite runs in an in-memory database: there is no server to create
//! one on, nothing to list, and nothing a killed process can leave behind.

use sqlx::SqliteConnection;

pub async fn create(_: &mut SqliteConnection, _: &str, _: &str) -> Result<(), sqlx::Error> {
    Ok(())
}

pub async fn drop(_: &mut SqliteConnection, _: &str) -> Result<(), sqlx::Error> {
    Ok(())
}

pub async fn list(_: &mut SqliteConnection) -> Vec<String> {
    vec![]
}

pub async fn wait_for_create(_: &mut SqliteConnection, _: &str) {}

/// SQLite scratch databases live in memory: nothing is ever dropped on a server.
pub async fn drop_running(_: &mut SqliteConnection, _: &str) -> bool {
    false
}

/// SQLite has no roles.
pub async fn role(_: &mut SqliteConnection) -> Option<String> {
    None
}
