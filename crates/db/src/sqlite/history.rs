//! lockstep's tables on SQLite: `lockstep_history` and `lockstep_progress` (inspection
//! leaves out every `lockstep_*` table). Times are ISO 8601 text.

use crate::driver::HistorySql;

pub const SQL: HistorySql = HistorySql {
    exists: "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'lockstep_history'",
    // The progress table first: a deploy killed between the two leaves no history table,
    // which reads as "never deployed" and is created next time, never a history table
    // without the progress table every read of it needs.
    create: "CREATE TABLE IF NOT EXISTS lockstep_progress (
            version TEXT NOT NULL,
            statement_no INTEGER NOT NULL,
            statement TEXT NOT NULL,
            line INTEGER NOT NULL,
            state TEXT NOT NULL,
            deploy_id TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (version, statement_no));
        CREATE TABLE IF NOT EXISTS lockstep_history (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            version TEXT NOT NULL,
            name TEXT NOT NULL,
            checksum TEXT NOT NULL,
            direction TEXT NOT NULL,
            outcome TEXT NOT NULL,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            duration_ms INTEGER,
            os_user TEXT,
            db_role TEXT,
            client_host TEXT,
            lockstep_version TEXT,
            deploy_id TEXT NOT NULL,
            error TEXT,
            failed_statement TEXT,
            failed_line INTEGER,
            code_checksum TEXT);",
    read_history: "SELECT id, version, name, checksum, direction, outcome, started_at, error, failed_statement, failed_line, db_role, code_checksum FROM lockstep_history ORDER BY id",
    read_history_v1: "SELECT id, version, name, checksum, direction, outcome, started_at, error, failed_statement, failed_line, db_role, NULL AS code_checksum FROM lockstep_history ORDER BY id",
    has_code_checksum: "SELECT 1 FROM pragma_table_info('lockstep_history') WHERE name = 'code_checksum'",
    add_code_checksum: "ALTER TABLE lockstep_history ADD COLUMN code_checksum TEXT",
    read_progress: "SELECT version, statement_no, statement, line, state FROM lockstep_progress ORDER BY version, statement_no",
    insert_history: "INSERT INTO lockstep_history (version, name, checksum, direction, outcome, started_at, finished_at, duration_ms, os_user, db_role, client_host, lockstep_version, deploy_id, error, failed_statement, failed_line, code_checksum)
        VALUES (?1, ?2, ?3, ?4, ?5, COALESCE(?6, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')), strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), ?7, ?8, NULL, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
    set_progress: "INSERT INTO lockstep_progress (version, statement_no, statement, line, state, deploy_id, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
        ON CONFLICT (version, statement_no) DO UPDATE SET state = excluded.state, deploy_id = excluded.deploy_id, updated_at = excluded.updated_at",
    progress_done: "UPDATE lockstep_progress SET state = 'done' WHERE version = ?1 AND statement_no = ?2",
    progress_forget: "DELETE FROM lockstep_progress WHERE version = ?1 AND statement_no = ?2",
    progress_clear: "DELETE FROM lockstep_progress WHERE version = ?1",
    recent: "SELECT version, name, direction, outcome, started_at, duration_ms, os_user, db_role, client_host, deploy_id FROM lockstep_history ORDER BY id DESC LIMIT ?1",
    now: "SELECT strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
    // IMMEDIATE takes SQLite's write lock now, so a second deploy waits rather than
    // failing halfway.
    begin_deploy: "BEGIN IMMEDIATE",
};

pub fn table_exists(table: &str) -> String {
    format!("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = '{table}'")
}

pub fn column_exists(table: &str, column: &str) -> String {
    format!("SELECT 1 FROM pragma_table_info('{table}') WHERE name = '{column}'")
}

/// The type a version number is cast to, to read it as text.
pub const TEXT: &str = "TEXT";

/// No time limits to set on lockstep's own reads here.
pub fn begin_own_read(_: &crate::Limits) -> Option<String> {
    None
}

/// None: SQLite runs each statement of a script in its own transaction unless told otherwise; its no-transaction files are rare and small.
pub fn checkpoint_with(_: &crate::driver::Checkpoint) -> Option<String> {
    None
}
