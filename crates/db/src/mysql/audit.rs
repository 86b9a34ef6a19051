//! MySQL and MariaDB: event triggers do not exist, so there is no audit lockstep can
//! install. The `server_audit` plugin's log, where it is enabled, can name who ran a DDL
//! statement; lockstep says where it is. Otherwise `lockstep watch` dates out-of-band
//! changes.

use crate::driver::AuditSql;

pub const SQL: AuditSql = AuditSql {
    install: "",
    uninstall: "",
    exists: "",
    can_install: "",
    no_hook: "MySQL and MariaDB have no DDL triggers, so lockstep cannot record who changes the schema",
    // Fails (unknown system variable) where the plugin is not loaded.
    server_log: "SELECT CONCAT('the server_audit plugin is loaded: logging ', IF(@@server_audit_logging, 'ON', 'OFF'), ', events ''', @@server_audit_events, ''', output ', @@server_audit_output_type, IF(@@server_audit_output_type = 'file', CONCAT(' to ', @@server_audit_file_path, ' on the server'), ''))",
};

pub use crate::audit::no_hook::{ddl_statements, mark_deploy, rows};
