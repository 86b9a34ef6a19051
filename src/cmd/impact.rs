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
use lockstep_core::migrate::state;
use lockstep_core::sql::shapes::Touch;
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
