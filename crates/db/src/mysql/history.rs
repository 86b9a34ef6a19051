//! lockstep's tables on MySQL and MariaDB: `lockstep_history` and `lockstep_progress`
//! (inspection leaves out every `lockstep_*` table). Times are ISO 8601 text in UTC, as
//! on SQLite, so every dialect reads them the same way.

use crate::driver::HistorySql;

/// `2026-12-04T10:11:12.123456Z`, in UTC.
macro_rules! now {
    () => {
        "DATE_FORMAT(UTC_TIMESTAMP(6), '%Y-%m-%dT%H:%i:%s.%fZ')"
    };
}

pub const SQL: HistorySql = HistorySql {
    exists: "SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'lockstep_history'",
    // The progress table first: a deploy killed between the two leaves no history table,
    // which reads as "never deployed" and is created next time, never a history table
    // without the progress table every read of it needs.
    create: "CREATE TABLE IF NOT EXISTS lockstep_progress (
            version VARCHAR(255) NOT NULL,
            statement_no INT NOT NULL,
            statement LONGTEXT NOT NULL,
            line INT NOT NULL,
            state VARCHAR(16) NOT NULL,
            deploy_id VARCHAR(64) NOT NULL,
            updated_at VARCHAR(40) NOT NULL,
            PRIMARY KEY (version, statement_no));
        CREATE TABLE IF NOT EXISTS lockstep_history (
            id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
            version VARCHAR(255) NOT NULL,
            name TEXT NOT NULL,
            checksum VARCHAR(128) NOT NULL,
            direction VARCHAR(16) NOT NULL,
            outcome VARCHAR(16) NOT NULL,
            started_at VARCHAR(40) NOT NULL,
            finished_at VARCHAR(40),
            duration_ms BIGINT,
            os_user TEXT,
            db_role TEXT,
            client_host TEXT,
            lockstep_version TEXT,
            deploy_id VARCHAR(64) NOT NULL,
            error TEXT,
            failed_statement LONGTEXT,
            failed_line INT,
            code_checksum VARCHAR(128));",
    read_history: "SELECT id, version, name, checksum, direction, outcome, started_at, error, failed_statement, CAST(failed_line AS SIGNED) AS failed_line, db_role, code_checksum FROM lockstep_history ORDER BY id",
    read_history_v1: "SELECT id, version, name, checksum, direction, outcome, started_at, error, failed_statement, CAST(failed_line AS SIGNED) AS failed_line, db_role, CAST(NULL AS CHAR) AS code_checksum FROM lockstep_history ORDER BY id",
    has_code_checksum: "SELECT 1 FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'lockstep_history' AND COLUMN_NAME = 'code_checksum'",
    add_code_checksum: "ALTER TABLE lockstep_history ADD COLUMN code_checksum VARCHAR(128)",
    read_progress: "SELECT version, CAST(statement_no AS SIGNED) AS statement_no, statement, CAST(line AS SIGNED) AS line, state FROM lockstep_progress ORDER BY version, statement_no",
    insert_history: concat!(
        "INSERT INTO lockstep_history (version, name, checksum, direction, outcome, started_at, finished_at, duration_ms, os_user, db_role, client_host, lockstep_version, deploy_id, error, failed_statement, failed_line, code_checksum) ",
        "VALUES (?, ?, ?, ?, ?, COALESCE(?, ", now!(), "), ", now!(), ", ?, ?, CURRENT_USER(), ?, ?, ?, ?, ?, ?, ?)"
    ),
    set_progress: concat!(
        "INSERT INTO lockstep_progress (version, statement_no, statement, line, state, deploy_id, updated_at) VALUES (?, ?, ?, ?, ?, ?, ", now!(), ") ",
        "ON DUPLICATE KEY UPDATE state = VALUES(state), deploy_id = VALUES(deploy_id), updated_at = VALUES(updated_at)"
    ),
    progress_done: "UPDATE lockstep_progress SET state = 'done' WHERE version = ? AND statement_no = ?",
    progress_forget: "DELETE FROM lockstep_progress WHERE version = ? AND statement_no = ?",
    progress_clear: "DELETE FROM lockstep_progress WHERE version = ?",
    recent: "SELECT version, name, direction, outcome, started_at, duration_ms, os_user, db_role, client_host, deploy_id FROM lockstep_history ORDER BY id DESC LIMIT ?",
    now: concat!("SELECT ", now!()),
    begin_deploy: "BEGIN",
};

pub fn table_exists(table: &str) -> String {
    format!("SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '{table}'")
}

pub fn column_exists(table: &str, column: &str) -> String {
    format!("SELECT 1 FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '{table}' AND COLUMN_NAME = '{column}'")
}

/// The type a version number is cast to, to read it as text.
pub const TEXT: &str = "CHAR";

/// No time limits to set on lockstep's own reads here.
pub fn begin_own_read(_: &crate::Limits) -> Option<String> {
    None
}

/// None: MySQL and MariaDB commit DDL by itself, so a statement and its checkpoint cannot commit together.
pub fn checkpoint_with(_: &crate::driver::Checkpoint) -> Option<String> {
    None
}
