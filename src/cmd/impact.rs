//! `lockstep impact [--env E]`: every source line that refers to a table or column the
//! pending migrations (and, with `--env`, the environment's drift) drop, rename or
//! retype, grouped by change, with a confidence.
//!
//! Pending migrations: with `--env E`, those not applied to E; without it, those new or
//! changed compared with the git default branch (`--base REF` picks another), as for
//! `lockstep lint`; outside git, every migration in the directory. The changes come from a
//! light scan of each statement: DROP TABLE, ALTER TABLE ... DROP COLUMN / RENAME
//! COLUMN / RENAME TO / ALTER COLUMN ... TYPE, and MySQL's MODIFY / CHANGE.

use crate::cli::OutFormat;
use crate::config::Config;
use crate::project::{self, Migrations};
use anyhow::Result;
use lockstep_core::migrate::{split::split, state};
use lockstep_search::{Hit, Options, Target};
use std::process::ExitCode;

pub struct Change {
    pub target: Target,
    /// `column orders.segment renamed to x`.
    pub describe: String,
    pub references: Vec<Hit>,
}

/// Which migrations counted as pending.
pub enum Pending {
    /// Not applied to this environment.
    Env,
    /// New or changed compared with this git ref.
    Base(String),
    /// Every migration in the directory (no git, or no default branch found).
    All,
}

/// The changes and their references, and which migrations counted. `env` adds that
/// environment's drift and limits the migrations to the ones pending there; without it,
/// `base` (default: the git default branch) picks them.
pub async fn compute(
    config: &Config,
    env: Option<&str>,
    base: Option<&str>,
) -> Result<(Vec<Change>, Pending)> {
    let mut targets = vec![];
    let pending = match env {
        None => {
            let m = Migrations::load(config)?;
            let (migrations, base) = super::lint::since_base(&m, base)?;
            for mig in migrations {
                targets.extend(scan(&mig.up.text));
            }
            base.map_or(Pending::All, Pending::Base)
        }
        Some(env) => {
            project::env(config, env)?;
            let o = super::deploy::open(config, env, false).await?;
            let history = o.effective_history();
            let st = state::state(&o.migrations.set, &history, &o.progress);
            for mig in &st.pending {
                targets.extend(scan(&mig.up.text));
            }
            drop(st);
            o.db.close().await;
            let d = super::drift::compute(config, env, None).await?;
            for it in &d.items {
                targets.extend(from_drift(&it.object, &it.kind, &it.change));
            }
            Pending::Env
        }
    };
    let mut seen = std::collections::HashSet::new();
    targets.retain(|t| seen.insert(describe(t)));
    let hits = lockstep_search::search_with(
        &config.code,
        &targets,
        &Options {
            exclude: vec![config.migrations.clone(), config.snapshots.clone()],
        },
    );
    let mut out: Vec<Change> = targets
        .into_iter()
        .map(|t| Change {
            describe: describe(&t),
            target: t,
            references: vec![],
        })
        .collect();
    for h in hits {
        out[h.target].references.push(h);
    }
    Ok((out, pending))
}

pub async fn run(
    config: Option<&Config>,
    env: Option<&str>,
    base: Option<&str>,
    format: OutFormat,
) -> Result<ExitCode> {
    let config = project::require_config(config)?;
    let (changes, pending) = compute(config, env, base).await?;
    let rel = |h: &Hit| lockstep_search::relative(&h.file, &config.dir);
    if format == OutFormat::Json {
        let changes: Vec<_> = changes
            .iter()
            .map(|c| {
                serde_json::json!({
                    "change": c.describe,
                    "table": c.target.table,
                    "column": c.target.column,
                    "new_name": c.target.new_name,
                    "references": c.references.iter().map(|h| serde_json::json!({
                        "file": rel(h),
                        "line": h.line,
                        "text": h.text.trim(),
                        "confidence": h.confidence.as_str(),
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        let pending = match &pending {
            Pending::Env => serde_json::json!({ "env": env }),
            Pending::Base(b) => serde_json::json!({ "base": b }),
            Pending::All => serde_json::json!("all"),
        };
        super::out(&serde_json::to_string_pretty(
            &serde_json::json!({ "pending": pending, "changes": changes }),
        )?)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut s = String::new();
    if changes.is_empty() {
        s.push_str("impact: the pending migrations drop, rename or retype nothing\n");
    }
    for c in &changes {
        let mark = if c.target.change == "dropped" {
            '-'
        } else {
            '~'
        };
        s.push_str(&format!("{mark} {}\n", c.describe));
        if c.references.is_empty() {
            s.push_str("  no references found\n");
        }
        for h in &c.references {
            s.push_str(&format!(
                "  {}:{}: {}  [{}]\n",
                rel(h),
                h.line,
                h.text.trim(),
                h.confidence.as_str()
            ));
        }
    }
    match &pending {
        Pending::Env => {}
        Pending::Base(b) => s.push_str(&format!(
            "  note: pending = the migrations new or changed since {b} (--base REF picks another; --env E uses what E has not applied)\n"
        )),
        Pending::All => s.push_str(
            "  note: no git default branch to compare with, so every migration in the directory counts as pending (--env E uses what E has not applied)\n",
        ),
    }
    super::out(&s)?;
    Ok(ExitCode::SUCCESS)
}

fn describe(t: &Target) -> String {
    let what = match &t.column {
        Some(c) => format!("column {}.{c}", t.table),
        None => format!("table {}", t.table),
    };
    format!("{what} {}", t.change)
}

fn target(table: &str, column: Option<&str>, change: &str, new_name: Option<&str>) -> Target {
    Target {
        table: table.to_string(),
        column: column.map(str::to_string),
        change: match new_name {
            Some(n) => format!("renamed to {n}"),
            None => change.to_string(),
        },
        new_name: new_name.map(str::to_string),
    }
}

/// A drift item's object (`public.orders.segment`, `main.orders`) as a target, for
/// tables and columns that drift changed or removed.
fn from_drift(object: &str, kind: &str, change: &str) -> Option<Target> {
    let change = match change {
        "removed" => "dropped (drift)",
        "changed" => "changed (drift)",
        _ => return None,
    };
    let parts: Vec<&str> = object.split('.').collect();
    match (kind, parts.as_slice()) {
        ("column", [.., t, c]) => Some(target(t, Some(c), change, None)),
        ("table", [.., t]) => Some(target(t, None, change, None)),
        _ => None,
    }
}

/// SQL words and punctuation, with strings and comments left out and identifier
/// quotes removed. Words keep their case; compare with `kw`.
fn words(sql: &str) -> Vec<String> {
    let b = sql.as_bytes();
    let mut out = vec![];
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c == b'-' && b.get(i + 1) == Some(&b'-') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if c == b'/' && b.get(i + 1) == Some(&b'*') {
            i += 2;
            while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                i += 1;
            }
            i += 2;
        } else if c == b'\'' {
            i += 1;
            while i < b.len() && b[i] != b'\'' {
                i += 1;
            }
            i += 1;
            out.push("'".to_string());
        } else if c == b'"' || c == b'`' || c == b'[' {
            let close = if c == b'[' { b']' } else { c };
            let s = i + 1;
            i = s;
            while i < b.len() && b[i] != close {
                i += 1;
            }
            out.push(sql[s..i.min(b.len())].to_string());
            i += 1;
        } else if c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80 {
            let s = i;
            while i < b.len()
                && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'$' || b[i] >= 0x80)
            {
                i += 1;
            }
            out.push(sql[s..i].to_string());
        } else {
            out.push((c as char).to_string());
            i += 1;
        }
    }
    out
}

fn kw(w: Option<&String>, k: &str) -> bool {
    w.is_some_and(|w| w.eq_ignore_ascii_case(k))
}

/// A possibly qualified name starting at `w[*i]`: its last part. Advances `*i`.
fn name(w: &[String], i: &mut usize) -> Option<String> {
    let mut last = w.get(*i)?.clone();
    *i += 1;
    while w.get(*i).is_some_and(|p| p == ".") && w.get(*i + 1).is_some() {
        last = w[*i + 1].clone();
        *i += 2;
    }
    Some(last)
}

fn skip(w: &[String], i: &mut usize, ks: &[&str]) {
    while ks.iter().any(|k| kw(w.get(*i), k)) {
        *i += 1;
    }
}

/// The tables and columns one migration drops, renames or retypes.
pub fn scan(text: &str) -> Vec<Target> {
    let mut out = vec![];
    for stmt in split(text) {
        let w = words(&stmt.sql);
        let mut i;
        if kw(w.first(), "drop") && kw(w.get(1), "table") {
            i = 2;
            skip(&w, &mut i, &["if", "exists"]);
            while let Some(t) = name(&w, &mut i) {
                out.push(target(&t, None, "dropped", None));
                if w.get(i).is_some_and(|p| p == ",") {
                    i += 1;
                } else {
                    break;
                }
            }
            continue;
        }
        if !(kw(w.first(), "alter") && kw(w.get(1), "table")) {
            continue;
        }
        i = 2;
        skip(&w, &mut i, &["if", "exists", "only"]);
        let Some(table) = name(&w, &mut i) else {
            continue;
        };
        // The actions, split at commas outside parentheses.
        let mut actions: Vec<&[String]> = vec![];
        let (mut depth, mut start) = (0i32, i);
        for j in i..w.len() {
            match w[j].as_str() {
                "(" => depth += 1,
                ")" => depth -= 1,
                "," if depth == 0 => {
                    actions.push(&w[start..j]);
                    start = j + 1;
                }
                _ => {}
            }
        }
        actions.push(&w[start..]);
        for a in actions {
            let a = a.to_vec();
            let mut k = 1;
            if kw(a.first(), "drop") {
                if kw(a.get(1), "column") {
                    k = 2;
                } else if [
                    "constraint",
                    "index",
                    "key",
                    "primary",
                    "foreign",
                    "check",
                    "partition",
                    "default",
                ]
                .iter()
                .any(|x| kw(a.get(1), x))
                {
                    continue;
                }
                skip(&a, &mut k, &["if", "exists"]);
                if let Some(c) = a.get(k) {
                    out.push(target(&table, Some(c), "dropped", None));
                }
            } else if kw(a.first(), "rename") {
                if kw(a.get(1), "to") || kw(a.get(1), "as") {
                    if let Some(u) = name(&a, &mut 2) {
                        out.push(target(&table, None, "", Some(&u)));
                    }
                    continue;
                }
                if kw(a.get(1), "column") {
                    k = 2;
                }
                if ["constraint", "index", "key"]
                    .iter()
                    .any(|x| kw(a.get(1), x))
                {
                    continue;
                }
                if let (Some(c), true, Some(n)) = (a.get(k), kw(a.get(k + 1), "to"), a.get(k + 2)) {
                    out.push(target(&table, Some(c), "", Some(n)));
                }
            } else if kw(a.first(), "alter") {
                if kw(a.get(1), "column") {
                    k = 2;
                }
                let retype = kw(a.get(k + 1), "type")
                    || (kw(a.get(k + 1), "set")
                        && kw(a.get(k + 2), "data")
                        && kw(a.get(k + 3), "type"));
                if let (Some(c), true) = (a.get(k), retype) {
                    out.push(target(&table, Some(c), "retyped", None));
                }
            } else if kw(a.first(), "modify") {
                if kw(a.get(1), "column") {
                    k = 2;
                }
                if let Some(c) = a.get(k) {
                    out.push(target(&table, Some(c), "retyped", None));
                }
            } else if kw(a.first(), "change") {
                if kw(a.get(1), "column") {
                    k = 2;
                }
                if let (Some(c), Some(n)) = (a.get(k), a.get(k + 1)) {
                    if c.eq_ignore_ascii_case(n) {
                        out.push(target(&table, Some(c), "retyped", None));
                    } else {
                        out.push(target(&table, Some(c), "", Some(n)));
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(sql: &str) -> Vec<String> {
        scan(sql).iter().map(describe).collect()
    }

    #[test]
    fn scan_finds_drops_renames_and_retypes() {
        assert_eq!(
            d("DROP TABLE IF EXISTS public.old_orders, \"tmp\";\n\
               ALTER TABLE orders DROP COLUMN segment, DROP CONSTRAINT x, ADD COLUMN y int;\n\
               ALTER TABLE ONLY public.orders RENAME COLUMN cust_ref TO customer_ref;\n\
               ALTER TABLE stores RENAME TO shops;\n\
               ALTER TABLE orders ALTER COLUMN total TYPE numeric(12, 2), ALTER COLUMN x SET DEFAULT 1;\n\
               ALTER TABLE t CHANGE a b int, MODIFY c text, DROP d;\n\
               CREATE TABLE z (a int); -- DROP TABLE q;\n\
               INSERT INTO t VALUES ('DROP TABLE w');"),
            vec![
                "table old_orders dropped",
                "table tmp dropped",
                "column orders.segment dropped",
                "column orders.cust_ref renamed to customer_ref",
                "table stores renamed to shops",
                "column orders.total retyped",
                "column t.a renamed to b",
                "column t.c retyped",
                "column t.d dropped",
            ]
        );
    }

    #[test]
    fn drift_items_become_targets_only_when_removed_or_changed() {
        let t = from_drift("public.orders.segment", "column", "removed").unwrap();
        assert_eq!(describe(&t), "column orders.segment dropped (drift)");
        let t = from_drift("main.orders", "table", "changed").unwrap();
        assert_eq!(describe(&t), "table orders changed (drift)");
        assert!(from_drift("main.orders.segment", "column", "added").is_none());
        assert!(from_drift("main.orders_segment", "index", "removed").is_none());
    }
}
