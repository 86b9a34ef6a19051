//! `lockstep audit install|uninstall|log`, and the author line of a drift item.

use crate::ui::{paint, OK, WARN};
use lockstep_engine::audit::{Author, InstallReport, LogReport, UninstallReport};

pub fn install(r: &InstallReport) -> String {
    if r.installed {
        return format!(
            "{}: {} every DDL statement is recorded in lockstep.audit (who, from where, when, what); drift names the author of each item\n",
            r.env,
            paint(
                OK,
                if r.already {
                    "audit repaired:"
                } else {
                    "audit installed:"
                }
            ),
        );
    }
    let mut s = format!(
        "{}: {} {}\n",
        r.env,
        paint(WARN, "no audit:"),
        r.why_not.as_deref().unwrap_or("")
    );
    if !r.instead.is_empty() {
        s.push_str("  instead:\n");
        for i in &r.instead {
            s.push_str(&format!("  - {i}\n"));
        }
    }
    s
}

pub fn uninstall(r: &UninstallReport) -> String {
    match (&r.why_not, r.removed) {
        (Some(why), _) => format!("{}: nothing to remove: {why}\n", r.env),
        (None, true) => format!(
            "{}: audit removed (its triggers, functions and records)\n",
            r.env
        ),
        (None, false) => format!("{}: no audit was installed; nothing left behind\n", r.env),
    }
}

pub fn log(r: &LogReport) -> String {
    let mut s = String::new();
    if let Some(n) = &r.note {
        s.push_str(&format!("{}: {n}\n", r.env));
    }
    if r.records.is_empty() {
        if r.installed {
            s.push_str(&format!("{}: no records\n", r.env));
        }
        return s;
    }
    s.push_str(&format!(
        "{}: {}, newest first\n",
        r.env,
        super::count(r.records.len(), "record", "records")
    ));
    for x in &r.records {
        let by = x
            .role
            .as_deref()
            .or(x.session_role.as_deref())
            .unwrap_or("?");
        let from = x.client_addr.as_deref().unwrap_or("local");
        let app = x.application.as_deref().unwrap_or("?");
        let whose = match &x.deploy_id {
            Some(id) => format!(" [lockstep deploy {id}]"),
            None => String::new(),
        };
        s.push_str(&format!(
            "  {} {} by {by} from {from} ({app}){whose}: {}\n",
            x.at,
            x.command_tags.join(", "),
            statement(x.statement.as_deref().unwrap_or(""))
        ));
        if !x.objects.is_empty() {
            s.push_str(&format!("      objects: {}\n", x.objects.join(", ")));
        }
    }
    s
}

/// A statement on one line, shortened: enough to recognise it.
fn statement(s: &str) -> String {
    let one: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    let one = one.trim_end_matches(';');
    if one.chars().count() > 160 {
        format!("`{}…`", one.chars().take(159).collect::<String>())
    } else {
        format!("`{one}`")
    }
}

/// "added by bi_etl from 10.1.4.7 (psql) on 2026-11-14 02:13: `ALTER TABLE …`".
pub fn author(change: &str, a: &Author) -> String {
    let Some(at) = &a.at else {
        // pg_stat_statements: a role and a statement, nothing else.
        return format!(
            "{change} by {}, says pg_stat_statements (no time or client recorded): {}",
            a.role.as_deref().unwrap_or("?"),
            statement(a.statement.as_deref().unwrap_or(""))
        );
    };
    let at = at.replace('T', " ");
    let at = at.get(..16).unwrap_or(&at);
    format!(
        "{change} by {} from {} ({}) on {at}: {}",
        a.role.as_deref().unwrap_or("?"),
        a.client.as_deref().unwrap_or("a local connection"),
        a.application.as_deref().unwrap_or("no application name"),
        statement(a.statement.as_deref().unwrap_or(""))
    )
}
