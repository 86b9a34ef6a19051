//! `inspect` and `diff`: sources read into models, compared, and planned as SQL.

use crate::error::Result;
use crate::source::{self, Loaded};
use crate::{fail, Session};
use lockstep_core::diff::{diff_with as compare, renames_in_migrations, Change, ColumnRename};
use lockstep_core::model::{Database, QualName};
use lockstep_core::plan::{self, Plan};
use serde::Serialize;

/// What the caller declares for a diff.
#[derive(Debug, Clone, Default)]
pub struct DiffOptions {
    /// Column renames as typed after `--rename`: `table.old=new` or
    /// `schema.table.old=new`.
    pub renames: Vec<String>,
    /// Plan a rebuild where no ALTER can make a change (`--allow-rebuild`).
    pub allow_rebuild: bool,
}

/// A rename the diff planned, and who declared it.
#[derive(Debug, Clone, Serialize)]
pub struct Declared {
    #[serde(flatten)]
    pub rename: ColumnRename,
    /// `--rename`, or the migration that renames the column (`VERSION NAME`).
    pub declared_by: String,
}

pub struct DiffReport {
    pub from: Loaded,
    pub to: Loaded,
    pub changes: Vec<Change>,
    pub plan: Plan,
    pub renames: Vec<Declared>,
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
            "notes": self.plan.notes,
            "renames": self.renames,
        })
    }
}

pub async fn inspect(s: Option<&Session>, src: &str) -> Result<Loaded> {
    source::load(src, s).await
}

pub async fn diff(
    s: Option<&Session>,
    from: &str,
    to: &str,
    opts: &DiffOptions,
) -> Result<DiffReport> {
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
    let mut renames = vec![];
    for arg in &opts.renames {
        let r = parse_rename(arg, &a.model, &b.model)?;
        if let Err(why) = r.check(&a.model, &b.model) {
            fail!(
                "--rename {arg}: {why}\n  hint: a rename names a column FROM has and TO has under the new name instead"
            );
        }
        renames.push(Declared {
            rename: r,
            declared_by: "--rename".into(),
        });
    }
    if let Some(s) = s {
        for d in migration_renames(s, &a.model, &b.model) {
            let taken = renames.iter().any(|x| {
                x.rename.table == d.rename.table
                    && (x.rename.from == d.rename.from || x.rename.to == d.rename.to)
            });
            if !taken {
                renames.push(d);
            }
        }
    }
    let declared: Vec<ColumnRename> = renames.iter().map(|d| d.rename.clone()).collect();
    let changes = compare(&a.model, &b.model, &declared);
    let plan = plan::plan_with(
        &changes,
        &a.model,
        &b.model,
        plan::Options {
            allow_rebuild: opts.allow_rebuild,
        },
    );
    Ok(DiffReport {
        from: a,
        to: b,
        changes,
        plan,
        renames,
    })
}

/// `table.old=new` or `schema.table.old=new`, the table found on both sides.
fn parse_rename(arg: &str, from: &Database, to: &Database) -> Result<ColumnRename> {
    let usage = "  hint: write --rename TABLE.OLD=NEW (or SCHEMA.TABLE.OLD=NEW), e.g. --rename orders.total=amount";
    let Some((left, new)) = arg.split_once('=') else {
        fail!("--rename {arg}: no `=` between the old column and the new name\n{usage}");
    };
    let Some((table, old)) = left.rsplit_once('.') else {
        fail!("--rename {arg}: no table before the column\n{usage}");
    };
    if table.is_empty() || old.is_empty() || new.is_empty() {
        fail!("--rename {arg}: a table, a column and a new name are all needed\n{usage}");
    }
    let both = |q: &QualName| from.tables.contains_key(q) && to.tables.contains_key(q);
    let found: Vec<&QualName> = match table.split_once('.') {
        Some((schema, name)) => from
            .tables
            .keys()
            .filter(|q| q.schema == schema && q.name == name && both(q))
            .collect(),
        None => from
            .tables
            .keys()
            .filter(|q| q.name == table && both(q))
            .collect(),
    };
    match found.as_slice() {
        [q] => Ok(ColumnRename {
            table: (*q).clone(),
            from: old.to_string(),
            to: new.to_string(),
        }),
        [] => fail!("--rename {arg}: no table {table} on both sides\n{usage}"),
        many => fail!(
            "--rename {arg}: {} tables are called {table} ({})\n  hint: name the schema: --rename SCHEMA.{table}.{old}={new}",
            many.len(),
            many.iter()
                .map(|q| q.key())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Column renames the project's migrations declare that explain the two sides.
fn migration_renames(s: &Session, from: &Database, to: &Database) -> Vec<Declared> {
    let Ok(m) = s.migrations() else {
        return vec![];
    };
    let scripts = m.set.migrations.iter().map(|x| {
        (
            format!("migration {} {}", x.version, x.name),
            x.up.text.as_str(),
        )
    });
    renames_in_migrations(scripts, from, to)
        .into_iter()
        .map(|(rename, declared_by)| Declared {
            rename,
            declared_by,
        })
        .collect()
}
