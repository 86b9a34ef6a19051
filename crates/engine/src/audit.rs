//! `lockstep audit`: the DDL audit (install, uninstall, log), and the author of each
//! drift item, matched from the audit's records. See docs/audit.md.

use crate::error::Result;
use crate::{Session, Target};
use lockstep_core::drift::DriftItem;
use lockstep_db::audit::{AuditRow, Support};
use serde::Serialize;

/// Who made a change, as the audit recorded it: the contract's drift `author`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Author {
    pub role: Option<String>,
    pub application: Option<String>,
    /// The client's address; None for a local (Unix socket) connection.
    pub client: Option<String>,
    /// UTC; None where the source keeps no time (pg_stat_statements).
    pub at: Option<String>,
    pub statement: Option<String>,
    /// `audit` (lockstep.audit) or `pg_stat_statements` (role and statement only).
    pub source: &'static str,
}

impl Author {
    fn of(r: &AuditRow) -> Author {
        Author {
            role: r.role.clone().or_else(|| r.session_role.clone()),
            application: r.application.clone(),
            client: r.client_addr.clone(),
            at: (!r.at.is_empty()).then(|| r.at.clone()),
            statement: r.statement.clone(),
            source: if from_statistics(r) {
                "pg_stat_statements"
            } else {
                "audit"
            },
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct InstallReport {
    pub env: String,
    /// Whether the audit is in place now.
    pub installed: bool,
    /// It was there before (install repaired or refreshed it).
    pub already: bool,
    /// Why it cannot be installed here.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why_not: Option<String>,
    /// What lockstep does instead, one line each.
    pub instead: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct UninstallReport {
    pub env: String,
    /// Whether there was an audit to remove.
    pub removed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why_not: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LogReport {
    pub env: String,
    pub installed: bool,
    /// Newest first.
    pub records: Vec<AuditRow>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// What lockstep does where the audit cannot be installed.
fn fallbacks(env: &str) -> Vec<String> {
    vec![
        format!("`lockstep watch --env {env}` keeps the last schema it saw: each drift item then says when it was first seen, between the last check without it and the first with it"),
        "where pg_stat_statements is installed, drift names the role and statement it recorded for the changed object (PostgreSQL)".to_string(),
    ]
}

/// `lockstep audit install`: event triggers on PostgreSQL; elsewhere, or for a role that
/// may not create them, why not and what lockstep does instead. Idempotent.
pub async fn install(s: &Session, env: &str) -> Result<InstallReport> {
    s.env(env)?;
    let mut t = s.open(env, false).await?;
    let r = install_on(&mut t).await;
    t.close().await;
    let r = r?;
    if r.installed {
        s.events.note(
            Some(env),
            "the audit records every DDL statement in lockstep.audit from now on",
        );
    }
    Ok(r)
}

async fn install_on(t: &mut Target) -> Result<InstallReport> {
    let env = t.env.clone();
    let support = t.db.audit_support().await?;
    let not = |why: String| InstallReport {
        env: env.clone(),
        installed: false,
        already: false,
        why_not: Some(why),
        instead: fallbacks(&env),
    };
    match support {
        Support::Installable => {
            let already = t.db.audit_installed().await?;
            t.db.audit_install().await?;
            Ok(InstallReport {
                env: env.clone(),
                installed: true,
                already,
                why_not: None,
                instead: vec![],
            })
        }
        Support::NotAllowed(why) => {
            let role = t.db.role().await.unwrap_or_default();
            Ok(not(format!(
                "role {role} is not a superuser, and {why}; ask a superuser to run `lockstep audit install --env {env}` once"
            )))
        }
        Support::NoHook { why, server_log } => {
            let mut r = not(why);
            r.instead.truncate(1);
            if let Some(log) = server_log {
                r.instead.push(format!("{log}: its log names who ran each DDL statement (query_ddl events), read it there"));
            }
            Ok(r)
        }
    }
}

/// `lockstep audit uninstall`: removes the triggers, the functions and the records.
pub async fn uninstall(s: &Session, env: &str) -> Result<UninstallReport> {
    s.env(env)?;
    let mut t = s.open(env, false).await?;
    let r = async {
        let support = t.db.audit_support().await?;
        if let Support::NoHook { why, .. } = support {
            return Ok(UninstallReport {
                env: env.to_string(),
                removed: false,
                why_not: Some(why),
            });
        }
        let removed = t.db.audit_installed().await?;
        t.db.audit_uninstall().await?;
        Ok(UninstallReport {
            env: env.to_string(),
            removed,
            why_not: None,
        })
    }
    .await;
    t.close().await;
    r
}

/// `lockstep audit log`: the records, newest first, those within the last `within`.
pub async fn log(s: &Session, env: &str, within: Option<std::time::Duration>) -> Result<LogReport> {
    s.env(env)?;
    let mut t = s.open(env, false).await?;
    let r = async {
        if let Support::NoHook { why, .. } = t.db.audit_support().await? {
            return Ok(LogReport {
                env: env.to_string(),
                installed: false,
                records: vec![],
                note: Some(why),
            });
        }
        let installed = t.db.audit_installed().await?;
        let records = t
            .db
            .audit_read(None, within.map(|d| d.as_secs_f64()))
            .await?;
        Ok(LogReport {
            env: env.to_string(),
            installed,
            note: (!installed).then(|| {
                format!("the audit is not installed: `lockstep audit install --env {env}` records every DDL statement from then on")
            }),
            records,
        })
    }
    .await;
    t.close().await;
    r
}

/// The authors of `items`, by [`crate::watch::item_key`], from the audit's out-of-band
/// records since the target's last deploy; and a note when there are none to be had
/// (no hook, not installed, or unreadable). Never fails: drift goes on without authors.
pub async fn authors(
    t: &mut Target,
    items: &[DriftItem],
) -> (std::collections::BTreeMap<String, Author>, Option<String>) {
    let mut out = std::collections::BTreeMap::new();
    if items.is_empty() {
        return (out, None);
    }
    let env = t.env.clone();
    let watch = format!(
        "`lockstep watch --env {env}` dates each change instead (first seen between two checks)"
    );
    let rows = match t.db.audit_support().await {
        Ok(Support::NoHook { why, .. }) => return (out, Some(format!("{why}; {watch}"))),
        Ok(_) => match t.db.audit_installed().await {
            Ok(false) => match t.db.ddl_statements().await {
                Some(stmts) => Ok(statement_rows(stmts)),
                None => {
                    return (
                        out,
                        Some(format!("who made these changes is not recorded: `lockstep audit install --env {env}` records it from now on")),
                    )
                }
            },
            Ok(true) => {
                let since = t.history.last().map(|h| h.started_at.clone());
                t.db.audit_read(since.as_deref(), None).await
            }
            Err(e) => Err(e),
        },
        Err(e) => Err(e),
    };
    let rows = match rows {
        Ok(r) => r,
        Err(e) => {
            return (
                out,
                Some(format!(
                    "the audit could not be read, so drift names no authors: {}\n  hint: `lockstep audit install --env {env}` repairs it",
                    lockstep_db::url::redact(&e.to_string())
                )),
            )
        }
    };
    let outside: Vec<&AuditRow> = rows.iter().filter(|r| r.deploy_id.is_none()).collect();
    for i in items {
        if let Some(r) = best_match(i, &outside) {
            out.insert(crate::watch::item_key(i), Author::of(r));
        }
    }
    (out, None)
}

/// Whether a record came from pg_stat_statements rather than the audit.
fn from_statistics(r: &AuditRow) -> bool {
    r.id < 0
}

/// pg_stat_statements' DDL as records without time, client or objects (negative ids
/// tell them apart): they match drift items by what their statements say.
fn statement_rows(stmts: Vec<(String, String)>) -> Vec<AuditRow> {
    stmts
        .into_iter()
        .enumerate()
        .map(|(i, (role, query))| {
            let toks = lockstep_core::sql::lex::code(&query);
            let tag: Vec<String> = toks
                .iter()
                .take(2)
                .map(|t| t.text.to_ascii_uppercase())
                .collect();
            let tag = match tag.first().map(String::as_str) {
                Some("GRANT" | "REVOKE" | "COMMENT") => tag[0].clone(),
                _ => tag.join(" "),
            };
            AuditRow {
                id: -1 - i as i64,
                at: String::new(),
                session_role: Some(role.clone()),
                role: Some(role),
                application: None,
                client_addr: None,
                client_port: None,
                backend_pid: None,
                txid: None,
                command_tags: vec![tag],
                object_types: vec![],
                objects: vec![],
                statement: Some(query),
                search_path: None,
                deploy_id: None,
            }
        })
        .collect()
}

/// A name as the server prints it in an identity, without quotes, and a function without
/// its arguments (`public.f(integer)` and `public.f(a integer)` are the same function).
fn norm(s: &str) -> String {
    let s = s.split('(').next().unwrap_or(s);
    s.replace('"', "")
}

/// What an item's object is, for matching: identities that name it exactly, the table it
/// belongs to, the last part of its name, and a grantee.
#[derive(Default)]
struct ObjectRef {
    exact: Vec<String>,
    parent: Option<String>,
    leaf: Option<String>,
    grantee: Option<String>,
}

fn target_of(kind: &str, object: &str) -> ObjectRef {
    let parts = |o: &str| -> (Option<String>, String) {
        match o.rsplit_once('.') {
            Some((p, l)) => (Some(p.to_string()), l.to_string()),
            None => (None, o.to_string()),
        }
    };
    match kind {
        "column" => {
            let (p, l) = parts(object);
            ObjectRef {
                exact: vec![norm(object)],
                parent: p.map(|p| norm(&p)),
                leaf: Some(l),
                grantee: None,
            }
        }
        "constraint" | "policy" | "trigger" => {
            let (p, l) = parts(object);
            ObjectRef {
                exact: p.iter().map(|p| norm(&format!("{l} on {p}"))).collect(),
                parent: p.map(|p| norm(&p)),
                leaf: Some(l),
                grantee: None,
            }
        }
        "owner" | "comment" | "grant" => {
            // `table public.orders`, `table public.orders to bi_etl`.
            let (inner_kind, rest) = object.split_once(' ').unwrap_or(("", object));
            let (inner, grantee) = match rest.rsplit_once(" to ") {
                Some((o, g)) if kind == "grant" => (o, Some(g.to_string())),
                _ => (rest, None),
            };
            let mut t = target_of(inner_kind, inner);
            if t.leaf.is_none() {
                t.leaf = Some(parts(&norm(inner)).1);
            }
            t.grantee = grantee;
            t
        }
        _ => {
            let (_, l) = parts(&norm(object));
            ObjectRef {
                exact: vec![norm(object)],
                parent: None,
                leaf: Some(l),
                grantee: None,
            }
        }
    }
}

/// The identifiers a statement mentions, folded as PostgreSQL folds them.
fn mentions(statement: &str) -> std::collections::BTreeSet<String> {
    lockstep_core::sql::lex::code(statement)
        .iter()
        .filter_map(|t| t.ident())
        .collect()
}

/// The record that best explains `item`: one naming its object, else one naming its
/// table and mentioning it, else one naming its table; the newest of the best. GRANT and
/// REVOKE name no object, so they match by the object and grantee they mention.
fn best_match<'a>(item: &DriftItem, rows: &[&'a AuditRow]) -> Option<&'a AuditRow> {
    let t = target_of(&item.kind, &item.object);
    let mut best: Option<(u8, &AuditRow)> = None;
    for r in rows {
        let objs: Vec<String> = r.objects.iter().map(|o| norm(o)).collect();
        let said = || mentions(r.statement.as_deref().unwrap_or(""));
        let grant = r.command_tags.iter().any(|c| c == "GRANT" || c == "REVOKE");
        let score = if item.kind == "grant" {
            let m = said();
            let named = t.leaf.as_ref().is_some_and(|l| m.contains(l));
            let to = t
                .grantee
                .as_ref()
                .is_none_or(|g| g == "PUBLIC" || m.contains(g));
            if grant && named && to {
                4
            } else {
                0
            }
        } else if matches!(item.kind.as_str(), "owner" | "comment") {
            // The statement must be of that kind: ALTER … OWNER TO, COMMENT ON.
            let m = said();
            let kind_ok = if item.kind == "owner" {
                m.contains("owner")
            } else {
                r.command_tags.iter().any(|c| c == "COMMENT")
            };
            let named = objs.iter().any(|o| t.exact.contains(o))
                || t.leaf.as_ref().is_some_and(|l| m.contains(l));
            if kind_ok && named {
                4
            } else {
                0
            }
        } else if from_statistics(r) {
            // A statement without recorded objects (pg_stat_statements): what it says.
            let toks: Vec<Option<String>> =
                lockstep_core::sql::lex::code(r.statement.as_deref().unwrap_or(""))
                    .iter()
                    .map(|t| t.ident())
                    .collect();
            let leaf = t.leaf.as_deref().unwrap_or("");
            let table = t
                .parent
                .as_deref()
                .map(|p| p.rsplit('.').next().unwrap_or(p));
            let has = |w: &str| toks.iter().any(|t| t.as_deref() == Some(w));
            let about = toks.windows(2).any(|w| {
                w[1].as_deref() == Some(leaf)
                    && matches!(
                        w[0].as_deref(),
                        Some(
                            "column"
                                | "constraint"
                                | "add"
                                | "trigger"
                                | "policy"
                                | "table"
                                | "index"
                                | "view"
                                | "sequence"
                                | "type"
                                | "schema"
                                | "function"
                                | "procedure"
                                | "exists"
                        )
                    )
            });
            if table.is_some_and(|tb| !has(tb)) {
                0
            } else if about {
                3
            } else if has(leaf) {
                2
            } else {
                0
            }
        } else if objs.iter().any(|o| t.exact.contains(o)) {
            4
        } else if t.parent.as_ref().is_some_and(|p| objs.contains(p)) {
            let leaf = t.leaf.as_deref().unwrap_or("");
            let toks: Vec<Option<String>> =
                lockstep_core::sql::lex::code(r.statement.as_deref().unwrap_or(""))
                    .iter()
                    .map(|t| t.ident())
                    .collect();
            // `ADD COLUMN segment`, `ALTER COLUMN segment`, `CONSTRAINT name`: the
            // statement is about the item, not just mentions it.
            let about = toks.windows(2).any(|w| {
                w[1].as_deref() == Some(leaf)
                    && matches!(
                        w[0].as_deref(),
                        Some("column" | "constraint" | "add" | "trigger" | "policy")
                    )
            });
            if about {
                3
            } else if toks.iter().any(|t| t.as_deref() == Some(leaf)) {
                2
            } else {
                1
            }
        } else {
            0
        };
        // Rows come newest first: a later one wins only with a better match.
        if score > 0 && best.is_none_or(|(b, _)| score > b) {
            best = Some((score, r));
        }
    }
    best.map(|(_, r)| r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: i64, tags: &[&str], objects: &[&str], statement: &str) -> AuditRow {
        AuditRow {
            id,
            at: format!("2026-11-14T02:1{id}:00Z"),
            session_role: Some("bi_etl".into()),
            role: Some("bi_etl".into()),
            application: Some("psql".into()),
            client_addr: Some("10.1.4.7".into()),
            client_port: Some(5000),
            backend_pid: Some(1),
            txid: Some(1),
            command_tags: tags.iter().map(|s| s.to_string()).collect(),
            object_types: vec![],
            objects: objects.iter().map(|s| s.to_string()).collect(),
            statement: Some(statement.into()),
            search_path: None,
            deploy_id: None,
        }
    }

    fn item(kind: &str, object: &str) -> DriftItem {
        DriftItem {
            object: object.into(),
            kind: kind.into(),
            change: "added".into(),
            expected: None,
            actual: None,
        }
    }

    #[test]
    fn items_find_the_statement_that_made_them() {
        let rows = [
            row(5, &["GRANT"], &[], "GRANT SELECT ON orders TO bi_etl"),
            row(
                4,
                &["ALTER TABLE"],
                &["public.orders"],
                "ALTER TABLE orders ADD COLUMN note text",
            ),
            row(
                3,
                &["CREATE INDEX"],
                &["public.orders_seg"],
                "CREATE INDEX orders_seg ON orders (total_cents)",
            ),
            row(
                6,
                &["ALTER TABLE"],
                &["public.orders"],
                "ALTER TABLE orders ADD CHECK (total_cents > 0)",
            ),
            row(
                2,
                &["ALTER TABLE"],
                &["public.orders"],
                "ALTER TABLE orders ADD COLUMN segment text",
            ),
            row(
                1,
                &["CREATE FUNCTION"],
                &["public.f(integer)"],
                "CREATE FUNCTION f(a int) ...",
            ),
            row(
                0,
                &["ALTER TABLE"],
                &["public.orders"],
                "ALTER TABLE orders OWNER TO bi",
            ),
            row(
                7,
                &["ALTER TABLE"],
                &["public.orders"],
                "ALTER TABLE orders ALTER COLUMN total_cents TYPE bigint",
            ),
        ];
        let refs: Vec<&AuditRow> = rows.iter().collect();
        let id = |k: &str, o: &str| best_match(&item(k, o), &refs).map(|r| r.id);
        assert_eq!(id("column", "public.orders.segment"), Some(2));
        assert_eq!(id("column", "public.orders.note"), Some(4));
        assert_eq!(id("index", "public.orders_seg"), Some(3));
        assert_eq!(id("function", "public.f(a integer)"), Some(1));
        assert_eq!(id("grant", "table public.orders to bi_etl"), Some(5));
        assert_eq!(id("grant", "table public.orders to other"), None);
        assert_eq!(id("table", "public.customers"), None);
        assert_eq!(id("owner", "table public.orders"), Some(0));
        assert_eq!(id("column", "public.orders.total_cents"), Some(7));
        assert_eq!(id("comment", "table public.orders"), None);
        // Only the table named: the newest change to it.
        assert_eq!(id("constraint", "public.orders.orders_check"), Some(4));
    }

    #[test]
    fn statistics_match_by_what_the_statement_says() {
        let rows = statement_rows(vec![
            (
                "bi".into(),
                "CREATE INDEX orders_seg ON orders (segment)".into(),
            ),
            (
                "bi".into(),
                "ALTER TABLE orders ADD COLUMN segment text".into(),
            ),
            (
                "bi".into(),
                "ALTER TABLE customers ADD COLUMN segment text".into(),
            ),
            ("bi".into(), "COMMENT ON TABLE orders IS 'x'".into()),
        ]);
        let refs: Vec<&AuditRow> = rows.iter().collect();
        let stmt =
            |k: &str, o: &str| best_match(&item(k, o), &refs).and_then(|r| r.statement.clone());
        assert_eq!(
            stmt("column", "public.orders.segment").as_deref(),
            Some("ALTER TABLE orders ADD COLUMN segment text")
        );
        assert_eq!(
            stmt("index", "public.orders_seg").as_deref(),
            Some("CREATE INDEX orders_seg ON orders (segment)")
        );
        assert_eq!(
            stmt("comment", "table public.orders").as_deref(),
            Some("COMMENT ON TABLE orders IS 'x'")
        );
        assert_eq!(stmt("table", "public.invoices"), None);
        let a = Author::of(&rows[1]);
        assert_eq!((a.source, a.at), ("pg_stat_statements", None));
    }
}
