//! The DDL audit, written once against [`Driver`]: each dialect's `audit.rs` gives the
//! SQL, or says why it has none. Reading it is read-only, like every read of lockstep's
//! own tables.

use crate::driver::Driver;
use crate::{dispatch, Db, DbError};
use serde::Serialize;
use sqlx::Row;

/// One statement the audit recorded.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct AuditRow {
    pub id: i64,
    /// UTC, `2026-11-14T02:13:05Z`.
    pub at: String,
    /// The role that logged in.
    pub session_role: Option<String>,
    /// The role the statement ran as (`SET ROLE`).
    pub role: Option<String>,
    pub application: Option<String>,
    pub client_addr: Option<String>,
    pub client_port: Option<i32>,
    pub backend_pid: Option<i32>,
    pub txid: Option<i64>,
    pub command_tags: Vec<String>,
    pub object_types: Vec<String>,
    /// The objects the statement created, changed or dropped, as the server names them
    /// (`public.orders`, `orders_pkey on public.orders`, `public.orders.segment`).
    pub objects: Vec<String>,
    /// The text the client sent (all of it, when it sent several statements at once).
    pub statement: Option<String>,
    pub search_path: Option<String>,
    /// lockstep's deploy that ran it; None for a change made outside lockstep.
    pub deploy_id: Option<String>,
}

/// Whether this connection can have the audit.
#[derive(Debug, Clone, PartialEq)]
pub enum Support {
    Installable,
    /// The dialect has the hook but this role or server may not use it: why.
    NotAllowed(String),
    /// The dialect has no hook: why, and what the server offers instead, if anything.
    NoHook {
        why: String,
        server_log: Option<String>,
    },
}

impl Db {
    /// Whether the audit can be installed here, and why not.
    pub async fn audit_support(&mut self) -> Result<Support, DbError> {
        let a = dispatch!(&self.conn, |_c, D| D::AUDIT);
        if a.install.is_empty() {
            let server_log = if a.server_log.is_empty() {
                None
            } else {
                // A server without the plugin refuses the query: that is the answer.
                dispatch!(&mut self.conn, |c, D| sqlx::query(a.server_log)
                    .fetch_one(&mut *c)
                    .await
                    .ok()
                    .and_then(|r| r.try_get::<String, _>(0).ok()))
            };
            return Ok(Support::NoHook {
                why: dispatch!(&self.conn, |_c, D| D::NO_AUDIT_HOOK).to_string(),
                server_log,
            });
        }
        let url = self.url.clone();
        let may: bool = dispatch!(&mut self.conn, |c, D| sqlx::query(a.can_install)
            .fetch_optional(&mut *c)
            .await
            .map(|r| r.and_then(|r| r.try_get(0).ok()).unwrap_or(false)))
        .map_err(|e| DbError::query("checking whether this role may install the audit", &url, e))?;
        Ok(if may {
            Support::Installable
        } else {
            Support::NotAllowed(dispatch!(&self.conn, |_c, D| D::NO_AUDIT_HOOK).to_string())
        })
    }

    /// Whether the audit is installed.
    pub async fn audit_installed(&mut self) -> Result<bool, DbError> {
        let a = dispatch!(&self.conn, |_c, D| D::AUDIT);
        if a.exists.is_empty() {
            return Ok(false);
        }
        let url = self.url.clone();
        let found = dispatch!(&mut self.conn, |c, D| sqlx::query(a.exists)
            .fetch_optional(&mut *c)
            .await
            .map(|r| r.is_some()));
        found.map_err(|e| DbError::query("looking for the audit", &url, e))
    }

    /// Installs (or repairs) the audit, in one transaction.
    pub async fn audit_install(&mut self) -> Result<(), DbError> {
        let sql = dispatch!(&self.conn, |_c, D| D::AUDIT.install);
        self.exec("installing the audit", sql).await
    }

    /// Removes the audit and its records, in one transaction.
    pub async fn audit_uninstall(&mut self) -> Result<(), DbError> {
        let sql = dispatch!(&self.conn, |_c, D| D::AUDIT.uninstall);
        self.exec("removing the audit", sql).await
    }

    /// DDL statements and their roles from the server's statement statistics, where it
    /// keeps them (pg_stat_statements); None otherwise.
    pub async fn ddl_statements(&mut self) -> Option<Vec<(String, String)>> {
        dispatch!(&mut self.conn, |c, D| D::ddl_statements(c).await)
    }

    /// Marks this session's DDL as lockstep's deploy `id`, where the dialect can.
    pub async fn mark_deploy(&mut self, id: &str) -> Result<(), DbError> {
        match dispatch!(&self.conn, |_c, D| D::mark_deploy(id)) {
            Some(sql) => {
                self.exec("marking the session as lockstep's deploy", &sql)
                    .await
            }
            None => Ok(()),
        }
    }

    /// The audit's records, newest first: those at or after `since` (a timestamp the
    /// server reads) and within the last `within_secs` seconds, when given. Read-only,
    /// within lockstep's time limits.
    pub async fn audit_read(
        &mut self,
        since: Option<&str>,
        within_secs: Option<f64>,
    ) -> Result<Vec<AuditRow>, DbError> {
        let since = since.map(str::to_string);
        self.own_read(move |db| Box::pin(db.audit_read_now(since, within_secs)))
            .await
    }

    async fn audit_read_now(
        &mut self,
        since: Option<String>,
        within_secs: Option<f64>,
    ) -> Result<Vec<AuditRow>, DbError> {
        let url = self.url.clone();
        let rows = dispatch!(&mut self.conn, |c, D| D::audit_rows(
            c,
            since.as_deref(),
            within_secs
        )
        .await);
        rows.map_err(|e| DbError::query("reading the audit (lockstep.audit)", &url, e))
    }
}

/// The audit's functions for an engine without a DDL hook: nothing to mark, nothing
/// recorded, no statement statistics to read.
pub(crate) mod no_hook {
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
}
