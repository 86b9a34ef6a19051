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

pub fn mark_deploy(_id: &str) -> Option<String> {
    None
}

pub async fn rows<C>(
    _c: &mut C,
    _since: Option<&str>,
    _within_secs: Option<f64>,
) -> Result<Vec<crate::audit::AuditRow>, sqlx::Error> {
    Ok(vec![])
}

pub async fn ddl_statements<C>(_c: &mut C) -> Option<Vec<(String, String)>> {
    None
}
