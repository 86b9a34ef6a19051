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
use lockstep_core::sql::shapes::Touch;
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

/// The tables and columns one migration drops, renames or retypes, as targets.
pub fn scan(text: &str) -> Vec<Target> {
    lockstep_core::sql::shapes::touched(text)
        .into_iter()
        .map(|t| {
            let column = t.column.as_deref();
            match &t.touch {
                Touch::Dropped => target(&t.table, column, "dropped", None),
                Touch::Retyped => target(&t.table, column, "retyped", None),
                Touch::RenamedTo(n) => target(&t.table, column, "", Some(n)),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(sql: &str) -> Vec<String> {
        scan(sql).iter().map(describe).collect()
    }

    /// The statement reading is the core's (`sql::shapes::touched`); this is the mapping
    /// to search targets.
    #[test]
    fn scan_maps_what_migrations_touch_to_targets() {
        assert_eq!(
            d("DROP TABLE old_orders;\n\
               ALTER TABLE orders DROP COLUMN segment, RENAME COLUMN a TO b;\n\
               ALTER TABLE stores RENAME TO shops, ALTER COLUMN total TYPE numeric;"),
            vec![
                "table old_orders dropped",
                "column orders.segment dropped",
                "column orders.a renamed to b",
                "table stores renamed to shops",
                "column stores.total retyped",
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
