//! SQLite has no hook that sees DDL from other connections, so there is no DDL audit:
//! `lockstep watch` dates out-of-band changes instead ("first seen between").

use crate::driver::AuditSql;

/// Why there is no audit hook here, or what it needs (`Driver::NO_AUDIT_HOOK`).
pub const NO_HOOK: &str =
    "SQLite has no hook that sees schema changes made by other connections, so there is no DDL audit";

pub const SQL: AuditSql = AuditSql::NONE;

pub use crate::audit::no_hook::{ddl_statements, mark_deploy, rows};
