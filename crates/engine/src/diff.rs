//! `inspect` and `diff`: sources read into models, compared, and planned as SQL.

use crate::error::Result;
use crate::source::{self, Loaded};
use crate::{fail, Session};
use lockstep_core::diff::{diff as compare, Change};
use lockstep_core::plan::{self, Plan};

pub struct DiffReport {
    pub from: Loaded,
    pub to: Loaded,
    pub changes: Vec<Change>,
    pub plan: Plan,
}

impl DiffReport {
    pub fn identical(&self) -> bool {
        self.changes.is_empty()
    }

    pub fn json(&self) -> serde_json::Value {
        let items: Vec<serde_json::Value> = self
            .changes
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
        serde_json::json!({
            "from": self.from.label,
            "to": self.to.label,
            "identical": self.changes.is_empty(),
            "changes": items,
            "statements": self.plan.statements,
            "unsupported": self.plan.unsupported,
        })
    }
}

pub async fn inspect(s: Option<&Session>, src: &str) -> Result<Loaded> {
    source::load(src, s).await
}

pub async fn diff(s: Option<&Session>, from: &str, to: &str) -> Result<DiffReport> {
    let a = source::load(from, s).await?;
    let b = source::load(to, s).await?;
    if a.model.dialect != b.model.dialect {
        fail!(
            "cannot diff a {} schema ({}) against a {} schema ({})\n  hint: compare sources of the same engine",
            a.model.dialect,
            a.label,
            b.model.dialect,
            b.label
        );
    }
    let changes = compare(&a.model, &b.model);
    let plan = plan::plan(&changes, &a.model, &b.model);
    Ok(DiffReport {
        from: a,
        to: b,
        changes,
        plan,
    })
}
