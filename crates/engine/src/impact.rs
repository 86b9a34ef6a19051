//! Every source line that refers to a table or column the pending migrations (and the
//! environment's drift) drop, rename or retype, grouped by change, with a confidence.
//!
//! Pending migrations: with an environment, those not applied to it; without one, those
//! new or changed compared with the git default branch (`base` picks another), as for
//! lint; outside git, every migration in the directory. The changes come from a light
//! scan of each statement: DROP TABLE, ALTER TABLE ... DROP COLUMN / RENAME COLUMN /
//! RENAME TO / ALTER COLUMN ... TYPE, and MySQL's MODIFY / CHANGE.

use crate::drift::DriftReport;
use crate::error::Result;
use crate::{Session, Target as EnvTarget};
use lockstep_core::migrate::split::split;
use lockstep_search::{Hit, Options, Target};
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

#[derive(Debug)]
pub struct Change {
    pub target: Target,
    /// `column orders.segment renamed to x`.
    pub describe: String,
    pub references: Vec<Hit>,
}

/// Which migrations counted as pending.
#[derive(Debug)]
pub enum Pending {
    /// Not applied to this environment.
    Env(String),
    /// New or changed compared with this git ref.
    Base(String),
    /// Every migration in the directory (no git, or no default branch found).
    All,
}

#[derive(Debug)]
pub struct ImpactReport {
    pub pending: Pending,
    pub changes: Vec<Change>,
    /// The project directory, which reference paths are shown relative to.
    pub root: std::path::PathBuf,
}

impl ImpactReport {
    pub fn references(&self) -> usize {
        self.changes.iter().map(|c| c.references.len()).sum()
    }

    /// References found with high confidence: lines that surely use a changed name.
    pub fn high_confidence(&self) -> usize {
        self.changes
            .iter()
            .flat_map(|c| &c.references)
            .filter(|h| h.confidence == lockstep_search::Confidence::High)
            .count()
    }

    /// A reference path relative to the project.
    pub fn rel(&self, h: &Hit) -> String {
        lockstep_search::relative(&h.file, &self.root)
    }
}

impl Serialize for ImpactReport {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let changes: Vec<_> = self
            .changes
            .iter()
            .map(|c| {
                serde_json::json!({
                    "change": c.describe,
                    "table": c.target.table,
                    "column": c.target.column,
                    "new_name": c.target.new_name,
                    "references": c.references.iter().map(|h| serde_json::json!({
                        "file": self.rel(h),
                        "line": h.line,
                        "text": h.text.trim(),
                        "confidence": h.confidence.as_str(),
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        let pending = match &self.pending {
            Pending::Env(e) => serde_json::json!({ "env": e }),
            Pending::Base(b) => serde_json::json!({ "base": b }),
            Pending::All => serde_json::json!("all"),
        };
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("pending", &pending)?;
        m.serialize_entry("changes", &changes)?;
        m.end()
    }
}

/// Searches the project's code for `targets`.
fn search(s: &Session, mut targets: Vec<Target>, pending: Pending) -> ImpactReport {
    let config = &s.config;
    let mut seen = std::collections::HashSet::new();
    targets.retain(|t| seen.insert(describe(t)));
    let hits = lockstep_search::search_with(
        &config.code,
        &targets,
        &Options {
            exclude: vec![config.migrations.clone(), config.snapshots.clone()],
        },
    );
    let mut changes: Vec<Change> = targets
        .into_iter()
        .map(|t| Change {
            describe: describe(&t),
            target: t,
            references: vec![],
        })
        .collect();
    for h in hits {
        changes[h.target].references.push(h);
    }
    ImpactReport {
        pending,
        changes,
        root: config.dir.clone(),
    }
}

/// Without an environment: the migrations since the git base.
pub fn impact_base(s: &Session, base: Option<&str>) -> Result<ImpactReport> {
    let m = s.migrations()?;
    let (migrations, base) = crate::git::since_base(&m, base)?;
    let targets = migrations.iter().flat_map(|x| scan(&x.up.text)).collect();
    Ok(search(s, targets, base.map_or(Pending::All, Pending::Base)))
}

/// An opened environment's pending migrations, plus its drift (computed when not given).
pub async fn impact_target(
    s: &Session,
    t: &mut EnvTarget,
    drift: Option<&DriftReport>,
) -> Result<ImpactReport> {
    let mut targets: Vec<Target> = {
        let h = t.effective_history();
        let st = t.state_of(&h);
        st.pending.iter().flat_map(|m| scan(&m.up.text)).collect()
    };
    let computed;
    let drift = match drift {
        Some(d) => d,
        None => {
            computed = crate::drift::drift_of(s, t, None).await?;
            &computed
        }
    };
    for it in &drift.items {
        targets.extend(from_drift(&it.object, &it.kind, &it.change));
    }
    Ok(search(s, targets, Pending::Env(t.env.clone())))
}

pub async fn impact_env(s: &Session, env: &str, member: Option<&str>) -> Result<ImpactReport> {
    s.env(env)?;
    let mut t = s.open_in(env, member, false).await?;
    let r = impact_target(s, &mut t, None).await;
    t.close().await;
    r
}

pub fn describe(t: &Target) -> String {
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
