//! MySQL and MariaDB: event triggers do not exist, so there is no audit lockstep can
//! install. The `server_audit` plugin's log, where it is enabled, can name who ran a DDL
//! statement; lockstep says where it is. Otherwise `lockstep watch` dates out-of-band
//! changes.

use crate::driver::AuditSql;

/// Why there is no audit hook here, or what it needs (`Driver::NO_AUDIT_HOOK`).
pub const NO_HOOK: &str =
    "MySQL and MariaDB have no DDL triggers, so lockstep cannot record who changes the schema";

pub const SQL: AuditSql = AuditSql {
    // Fails (unknown system variable) where the plugin is not loaded.
    server_log: "SELECT CONCAT('the server_audit plugin is loaded: logging ', IF(@@server_audit_logging, 'ON', 'OFF'), ', events ''', @@server_audit_events, ''', output ', @@server_audit_output_type, IF(@@server_audit_output_type = 'file', CONCAT(' to ', @@server_audit_file_path, ' on the server'), ''))",
    ..AuditSql::NONE
};

pub use crate::audit::no_hook::{ddl_statements, mark_deploy, rows};
