//! SQLite has no hook that sees DDL from other connections, so there is no DDL audit:
//! `lockstep watch` dates out-of-band changes instead ("first seen between").

use crate::driver::AuditSql;

pub const SQL: AuditSql = AuditSql {
    install: "",
    uninstall: "",
    exists: "",
    can_install: "",
    no_hook: "SQLite has no hook that sees schema changes made by other connections, so there is no DDL audit",
    server_log: "",
};

pub use crate::audit::no_hook::{ddl_statements, mark_deploy, rows};
