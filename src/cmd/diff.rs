//! `lockstep diff FROM TO [--format text|sql|json]`: exit 0 identical, 1 different.

use crate::cli::DiffFormat;
use crate::config::Config;
use crate::source;
use anyhow::bail;
use lockstep_core::{diff::diff, plan};
use std::process::ExitCode;

pub async fn run(
    from: &str,
    to: &str,
    format: DiffFormat,
    config: Option<&Config>,
) -> anyhow::Result<ExitCode> {
    let a = source::load(from, config).await?;
    let b = source::load(to, config).await?;
    if a.model.dialect != b.model.dialect {
        bail!(
            "cannot diff a {} schema ({}) against a {} schema ({})\n  hint: compare sources of the same engine",
            a.model.dialect,
            a.label,
            b.model.dialect,
            b.label
        );
    }
    let changes = diff(&a.model, &b.model);
    let p = plan::plan(&changes, &a.model, &b.model);
    match format {
        DiffFormat::Json => {
            let items: Vec<serde_json::Value> = changes
                .iter()
                .map(|c| {
                    let mut v = serde_json::to_value(c).unwrap_or_default();
                    if let Some(o) = v.as_object_mut() {
                        o.insert("description".into(), c.describe().into());
                        o.insert("destructive".into(), c.destructive().into());
                    }
                    v
                })
                .collect();
            let doc = serde_json::json!({
                "from": a.label,
                "to": b.label,
                "identical": changes.is_empty(),
                "changes": items,
                "statements": p.statements,
                "unsupported": p.unsupported,
            });
            super::out(&serde_json::to_string_pretty(&doc)?)?;
        }
        DiffFormat::Sql => {
            if !changes.is_empty() {
                super::out(&p.to_sql())?;
            }
        }
        DiffFormat::Text => {
            if changes.is_empty() {
                super::out(&format!("{} and {} are identical", a.label, b.label))?;
            } else {
                let mut s = format!(
                    "{} → {}: {} difference(s)\n",
                    a.label,
                    b.label,
                    changes.len()
                );
                for c in &changes {
                    s.push_str(&format!(
                        "  {}{}\n",
                        c.describe(),
                        if c.destructive() {
                            "  [destructive]"
                        } else {
                            ""
                        }
                    ));
                }
                for u in &p.unsupported {
                    s.push_str(&format!("  ! cannot be planned: {u}\n"));
                }
                super::out(&s)?;
            }
        }
    }
    Ok(if changes.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
