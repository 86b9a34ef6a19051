//! Drift: every difference between an environment's expected schema and its live one,
//! as one item per object.
//!
//! The diff is built to be applied, so it re-creates dependents around a change (a view
//! around a retyped column). Drift is built to be read: a drop and a create of the same
//! object with the same definition are such a re-creation and are not reported, and a
//! drop plus create with different definitions is one "changed" item.

use crate::diff::{diff, grants_text, Change};
use crate::model::*;
use crate::normalize::sql_text;
use serde::Serialize;
use std::borrow::Cow;
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DriftItem {
    /// The object: `public.orders.segment`, `role analyst`, `setting TimeZone`.
    pub object: String,
    /// table, column, index, constraint, view, function, trigger, policy, sequence,
    /// type, schema, extension, role, grant, setting, engine.
    pub kind: String,
    /// `added` (only in the live database), `removed` (only expected), `changed`.
    pub change: String,
    pub expected: Option<String>,
    pub actual: Option<String>,
}

impl DriftItem {
    pub fn describe(&self) -> String {
        match self.change.as_str() {
            "added" => format!(
                "{} {} was added outside migrations: {}",
                self.kind,
                self.object,
                self.actual.as_deref().unwrap_or("")
            ),
            "removed" => format!(
                "{} {} was removed outside migrations (expected: {})",
                self.kind,
                self.object,
                self.expected.as_deref().unwrap_or("")
            ),
            _ => format!(
                "{} {} was changed outside migrations: expected {}, found {}",
                self.kind,
                self.object,
                self.expected.as_deref().unwrap_or("none"),
                self.actual.as_deref().unwrap_or("none")
            ),
        }
    }
}

/// Settings compared by drift. Session settings and storage details of a scratch
/// database (SQLite's journal mode in memory) would only add noise.
const DRIFT_SETTINGS: &[&str] = &[
    "server_encoding",
    "lc_collate",
    "lc_ctype",
    "encoding",
    "user_version",
    "application_id",
];

fn column_text(c: &Column) -> String {
    let mut s = c.type_.clone();
    if c.not_null {
        s.push_str(" not null");
    }
    if let Some(d) = &c.default {
        s.push_str(&format!(" default {d}"));
    }
    if let Some(i) = &c.identity {
        s.push_str(if i.always {
            " identity always"
        } else {
            " identity by default"
        });
    }
    if let Some(g) = &c.generated {
        s.push_str(&format!(" generated ({})", g.expression));
    }
    // MySQL's column extras: a change to one of them alone is drift too.
    if let Some(cs) = &c.charset {
        s.push_str(&format!(" character set {cs}"));
    }
    if let Some(c) = &c.collation {
        s.push_str(&format!(" collate {c}"));
    }
    if let Some(u) = &c.on_update {
        s.push_str(&format!(" on update {u}"));
    }
    if c.auto_increment {
        s.push_str(" auto_increment");
    }
    if c.invisible {
        s.push_str(" invisible");
    }
    if !c.storage.is_default() {
        s.push_str(&format!(" {}", c.storage.text()));
    }
    s
}

fn constraint_text(d: Dialect, c: &Constraint) -> String {
    let mut s = crate::dialect::constraint_text(d, c);
    if c.not_valid {
        s.push_str(" NOT VALID");
    }
    s
}

/// (kind, object, text) of one side of a change; None for changes drift ignores.
fn side(d: Dialect, c: &Change) -> Option<(&'static str, String, Side, String)> {
    use Change::*;
    Some(match c {
        CreateSchema { schema } => (
            "schema",
            schema.name.clone(),
            Side::Actual,
            format!("owner {}", schema.owner.clone().unwrap_or_default()),
        ),
        DropSchema { schema } => (
            "schema",
            schema.name.clone(),
            Side::Expected,
            format!("owner {}", schema.owner.clone().unwrap_or_default()),
        ),
        CreateExtension { extension: e } => (
            "extension",
            e.name.clone(),
            Side::Actual,
            format!("version {}", e.version),
        ),
        DropExtension { extension: e } => (
            "extension",
            e.name.clone(),
            Side::Expected,
            format!("version {}", e.version),
        ),
        CreateType { typ } => ("type", typ.name.key(), Side::Actual, type_text(typ)),
        DropType { typ } => ("type", typ.name.key(), Side::Expected, type_text(typ)),
        CreateSequence { sequence } => (
            "sequence",
            sequence.name.key(),
            Side::Actual,
            seq_text(sequence),
        ),
        DropSequence { sequence } => (
            "sequence",
            sequence.name.key(),
            Side::Expected,
            seq_text(sequence),
        ),
        CreateFunction { function: f } => (
            fn_kind(f),
            format!("{}({})", f.name, f.arguments),
            Side::Actual,
            sql_text(&f.definition),
        ),
        DropFunction { function: f } => (
            fn_kind(f),
            format!("{}({})", f.name, f.arguments),
            Side::Expected,
            sql_text(&f.definition),
        ),
        CreateTable { table } => (
            "table",
            table.name.key(),
            Side::Actual,
            format!("{} columns", table.columns.len()),
        ),
        DropTable { table } => (
            "table",
            table.name.key(),
            Side::Expected,
            format!("{} columns", table.columns.len()),
        ),
        AddColumn { table, column } => (
            "column",
            format!("{}.{}", table, column.name),
            Side::Actual,
            column_text(column),
        ),
        DropColumn { table, column } => (
            "column",
            format!("{}.{}", table, column.name),
            Side::Expected,
            column_text(column),
        ),
        AddConstraint { table, constraint } => (
            "constraint",
            format!("{}.{}", table, constraint_name(d, constraint)),
            Side::Actual,
            constraint_text(d, constraint),
        ),
        DropConstraint { table, constraint } => (
            "constraint",
            format!("{}.{}", table, constraint_name(d, constraint)),
            Side::Expected,
            constraint_text(d, constraint),
        ),
        CreateIndex { index } => ("index", index.name.key(), Side::Actual, index_text(index)),
        DropIndex { index } => ("index", index.name.key(), Side::Expected, index_text(index)),
        CreateView { view } => (
            view_kind(view),
            view.name.key(),
            Side::Actual,
            sql_text(&view.definition),
        ),
        DropView { view } => (
            view_kind(view),
            view.name.key(),
            Side::Expected,
            sql_text(&view.definition),
        ),
        CreatePolicy { table, policy } => (
            "policy",
            format!("{}.{}", table, policy.name),
            Side::Actual,
            policy_text(policy),
        ),
        DropPolicy { table, policy } => (
            "policy",
            format!("{}.{}", table, policy.name),
            Side::Expected,
            policy_text(policy),
        ),
        CreateTrigger { trigger } => (
            "trigger",
            format!("{}.{}", trigger.table, trigger.name),
            Side::Actual,
            sql_text(&trigger.definition),
        ),
        DropTrigger { trigger } => (
            "trigger",
            format!("{}.{}", trigger.table, trigger.name),
            Side::Expected,
            sql_text(&trigger.definition),
        ),
        _ => return None,
    })
}

/// (kind, object) → (expected text, actual text).
type Sides = BTreeMap<(&'static str, String), (Option<String>, Option<String>)>;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Side {
    Expected,
    Actual,
}

fn fn_kind(f: &Function) -> &'static str {
    match f.kind.as_str() {
        "procedure" => "procedure",
        "aggregate" => "aggregate",
        _ => "function",
    }
}

fn view_kind(v: &View) -> &'static str {
    if v.materialized {
        "materialized view"
    } else {
        "view"
    }
}

fn constraint_name(d: Dialect, c: &Constraint) -> String {
    c.name
        .clone()
        .unwrap_or_else(|| format!("({})", constraint_text(d, c)))
}

fn index_text(i: &Index) -> String {
    format!("{}{}", if i.unique { "UNIQUE " } else { "" }, i.definition)
}

fn policy_text(p: &Policy) -> String {
    format!(
        "{} FOR {} TO {} USING {} WITH CHECK {}",
        if p.permissive {
            "PERMISSIVE"
        } else {
            "RESTRICTIVE"
        },
        p.command,
        p.roles.join(", "),
        p.using.as_deref().unwrap_or("-"),
        p.with_check.as_deref().unwrap_or("-")
    )
}

fn seq_text(s: &Sequence) -> String {
    format!(
        "{} start {} increment {} min {} max {} cache {}{}",
        s.type_,
        s.start,
        s.increment,
        s.min,
        s.max,
        s.cache,
        if s.cycle { " cycle" } else { "" }
    )
}

fn type_text(t: &TypeDef) -> String {
    match &t.kind {
        TypeKind::Enum { labels } => format!("enum ({})", labels.join(", ")),
        TypeKind::Domain {
            base,
            not_null,
            default,
            checks,
            ..
        } => format!(
            "domain {base}{}{}{}",
            if *not_null { " not null" } else { "" },
            default
                .as_ref()
                .map(|d| format!(" default {d}"))
                .unwrap_or_default(),
            checks.values().map(|c| format!(" {c}")).collect::<String>()
        ),
        TypeKind::Composite { attributes } => format!(
            "({})",
            attributes
                .iter()
                .map(|a| format!("{} {}", a.name, a.type_))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        TypeKind::Range { subtype, .. } => format!("range of {subtype}"),
    }
}

fn opt(o: &Option<String>) -> String {
    o.clone().unwrap_or_else(|| "none".into())
}

/// Items for a property change (owner, comment, grants) between two versions of one
/// object.
fn props(
    out: &mut Vec<DriftItem>,
    kind: &str,
    object: &str,
    owner: (&Option<String>, &Option<String>),
    comment: (&Option<String>, &Option<String>),
    grants: (&[Grant], &[Grant]),
) {
    if owner.0 != owner.1 {
        out.push(item(
            "owner",
            &format!("{kind} {object}"),
            "changed",
            Some(opt(owner.0)),
            Some(opt(owner.1)),
        ));
    }
    if comment.0 != comment.1 {
        let change = match (comment.0, comment.1) {
            (None, Some(_)) => "added",
            (Some(_), None) => "removed",
            _ => "changed",
        };
        out.push(item(
            "comment",
            &format!("{kind} {object}"),
            change,
            comment.0.clone(),
            comment.1.clone(),
        ));
    }
    if grants.0 != grants.1 {
        // One item per grantee, so "who can read the customer table" is one line.
        let mut by: BTreeMap<&str, (Vec<&Grant>, Vec<&Grant>)> = BTreeMap::new();
        for g in grants.0 {
            by.entry(&g.grantee).or_default().0.push(g);
        }
        for g in grants.1 {
            by.entry(&g.grantee).or_default().1.push(g);
        }
        for (grantee, (a, b)) in by {
            if a != b {
                let text = |v: &[&Grant]| {
                    let owned: Vec<Grant> = v.iter().map(|g| (*g).clone()).collect();
                    grants_text(&owned)
                };
                let change = match (a.is_empty(), b.is_empty()) {
                    (true, false) => "added",
                    (false, true) => "removed",
                    _ => "changed",
                };
                out.push(item(
                    "grant",
                    &format!("{kind} {object} to {grantee}"),
                    change,
                    (!a.is_empty()).then(|| text(&a)),
                    (!b.is_empty()).then(|| text(&b)),
                ));
            }
        }
    }
}

fn item(
    kind: &str,
    object: &str,
    change: &str,
    expected: Option<String>,
    actual: Option<String>,
) -> DriftItem {
    DriftItem {
        object: object.to_string(),
        kind: kind.to_string(),
        change: change.to_string(),
        expected,
        actual,
    }
}

/// History tables of the tools lockstep adopts. They live in the target but no
/// migration creates them, so they are never drift.
pub const TOOL_HISTORY_TABLES: &[&str] = &[
    "__diesel_schema_migrations",
    "_sqlx_migrations",
    "schema_migrations",
    "flyway_schema_history",
    "_prisma_migrations",
    "atlas_schema_revisions",
];

/// Schemas a tool creates for its history table alone (Atlas on PostgreSQL).
const TOOL_HISTORY_SCHEMAS: &[&str] = &["atlas_schema_revisions"];

/// The database without other tools' history tables, borrowed when it has none (the
/// usual case: cloning two models of 10,000 tables and freeing them again was a fifth
/// of a drift check's time outside the server).
fn without_tool_tables(db: &Database) -> Cow<'_, Database> {
    let tool = |q: &QualName| TOOL_HISTORY_TABLES.contains(&q.name.as_str());
    let tool_schema = |s: &String| TOOL_HISTORY_SCHEMAS.contains(&s.as_str());
    // Indexes, triggers and owned sequences of a tool table only exist with the table.
    if !db.tables.keys().any(tool) && !db.schemas.keys().any(tool_schema) {
        return Cow::Borrowed(db);
    }
    let mut db = db.clone();
    db.tables.retain(|k, _| !tool(k));
    db.schemas
        .retain(|k, _| !TOOL_HISTORY_SCHEMAS.contains(&k.as_str()));
    db.indexes.retain(|_, i| !tool(&i.table));
    db.triggers.retain(|_, t| !tool(&t.table));
    db.sequences
        .retain(|_, s| !s.owned_by.as_ref().is_some_and(|o| tool(&o.table)));
    Cow::Owned(db)
}

/// Tables present only in `expected` paired with tables present only in `actual` that
/// have the same columns: renamed outside migrations. Only one-to-one matches count.
fn infer_table_renames(expected: &Database, actual: &Database) -> Vec<(QualName, QualName)> {
    let shape = |t: &Table| {
        t.columns
            .iter()
            .map(|c| (c.name.clone(), c.type_.clone(), c.not_null))
            .collect::<Vec<_>>()
    };
    let gone: Vec<&Table> = expected
        .tables
        .values()
        .filter(|t| !actual.tables.contains_key(&t.name))
        .collect();
    let new: Vec<&Table> = actual
        .tables
        .values()
        .filter(|t| !expected.tables.contains_key(&t.name))
        .collect();
    let mut out = vec![];
    for g in &gone {
        let matches: Vec<&&Table> = new
            .iter()
            .filter(|n| !n.columns.is_empty() && shape(n) == shape(g))
            .collect();
        let back: usize = gone.iter().filter(|o| shape(o) == shape(g)).count();
        if matches.len() == 1 && back == 1 {
            out.push((g.name.clone(), matches[0].name.clone()));
        }
    }
    out
}

/// Renames a table everywhere the model names it.
fn rename_table(db: &mut Database, from: &QualName, to: &QualName) {
    if let Some(mut t) = db.tables.remove(from) {
        t.name = to.clone();
        db.tables.insert(to.clone(), t);
    }
    let fix = |q: &mut QualName| {
        if q == from {
            *q = to.clone();
        }
    };
    for t in db.tables.values_mut() {
        for c in &mut t.constraints {
            if let ConstraintKind::ForeignKey { references, .. } = &mut c.kind {
                fix(references);
            }
        }
        if let Some(po) = &mut t.partition_of {
            fix(&mut po.parent);
        }
        t.inherits.iter_mut().for_each(fix);
    }
    for i in db.indexes.values_mut() {
        fix(&mut i.table);
    }
    for s in db.sequences.values_mut() {
        if let Some(o) = &mut s.owned_by {
            fix(&mut o.table);
        }
    }
    let triggers = std::mem::take(&mut db.triggers);
    for (_, mut t) in triggers {
        fix(&mut t.table);
        db.triggers.insert(format!("{}.{}", t.table, t.name), t);
    }
    for v in db.views.values_mut() {
        for d in &mut v.depends_on {
            if *d == from.key() {
                *d = to.key();
            }
        }
    }
}

/// Every difference between `expected` and `actual`, one item per object.
pub fn drift(expected: &Database, actual: &Database) -> Vec<DriftItem> {
    let (mut expected, actual) = (without_tool_tables(expected), without_tool_tables(actual));
    let mut out = vec![];
    // A renamed table is one item, not a drop and a create plus every foreign key that
    // now names it differently: compare against the expected schema with it renamed.
    for (from, to) in infer_table_renames(&expected, &actual) {
        out.push(item(
            "table",
            &from.key(),
            "changed",
            Some(format!("named {}", from.name)),
            Some(format!("named {}", to.name)),
        ));
        rename_table(expected.to_mut(), &from, &to);
    }
    let (expected, actual): (&Database, &Database) = (&expected, &actual);
    let changes = diff(expected, actual);
    // A column gone and one come that may be it renamed are one item, "named a → named
    // b", as they were made. Plans never take the guess (see `diff::possible_renames`).
    let possible = crate::diff::possible_renames(&changes);
    let changes = if possible.is_empty() {
        changes
    } else {
        crate::diff::diff_with(expected, actual, &possible)
    };
    // Tables that became or stopped being partitions: the constraints they share with
    // the parent move between "cloned" and "local" in the catalog without changing.
    let repartitioned: Vec<&QualName> = actual
        .tables
        .values()
        .filter(|t| {
            expected
                .tables
                .get(&t.name)
                .is_some_and(|e| e.partition_of != t.partition_of)
        })
        .map(|t| &t.name)
        .collect();
    let parent_has = |table: &QualName, c: &Constraint| {
        [expected, actual].iter().any(|db| {
            let parents = [db.tables.get(table).and_then(|t| t.partition_of.as_ref())];
            parents.iter().flatten().any(|po| {
                [expected, actual].iter().any(|d| {
                    d.tables.get(&po.parent).is_some_and(|p| {
                        p.constraints.iter().any(|pc| {
                            let mut a = pc.clone();
                            let mut b = c.clone();
                            a.name = None;
                            b.name = None;
                            a.comment = None;
                            b.comment = None;
                            a == b
                        })
                    })
                })
            })
        })
    };
    let created = crate::plan::tables_created(&changes);
    // (kind, object) → (expected text, actual text)
    let mut pairs: Sides = BTreeMap::new();
    for c in &changes {
        match c {
            Change::AddConstraint { table, constraint }
            | Change::DropConstraint { table, constraint }
                if repartitioned.contains(&table) && parent_has(table, constraint) =>
            {
                continue
            }
            // A new table's indexes and triggers are part of the table item, as its
            // columns are (a dropped table's never show up in the diff at all).
            Change::CreateIndex { index } if created.contains(&&index.table) => continue,
            Change::CreateTrigger { trigger } if created.contains(&&trigger.table) => continue,
            // A new table's replica identity is set once its indexes exist.
            Change::AlterTable { to, .. } if created.contains(&&to.name) => continue,
            _ => {}
        }
        if let Some((kind, object, s, text)) = side(actual.dialect, c) {
            let e = pairs.entry((kind, object)).or_default();
            match s {
                Side::Expected => e.0 = Some(text),
                Side::Actual => e.1 = Some(text),
            }
            // A new or dropped table's columns, constraints and grants are part of the
            // table item; only the table is reported.
            continue;
        }
        use Change::*;
        match c {
            AlterColumn { table, from, to } => {
                let object = format!("{}.{}", table, to.name);
                if column_text(from) != column_text(to) {
                    out.push(item(
                        "column",
                        &object,
                        "changed",
                        Some(column_text(from)),
                        Some(column_text(to)),
                    ));
                }
                props(
                    &mut out,
                    "column",
                    &object,
                    (&None, &None),
                    (&from.comment, &to.comment),
                    (&from.grants, &to.grants),
                );
            }
            RenameColumn { table, from, to } => out.push(item(
                "column",
                &format!("{table}.{from}"),
                "changed",
                Some(format!("named {from}")),
                Some(format!("named {to}")),
            )),
            ColumnOrder { table, from, to } => out.push(item(
                "table",
                &table.key(),
                "changed",
                Some(format!("columns ({})", from.join(", "))),
                Some(format!("columns ({})", to.join(", "))),
            )),
            AlterTable { from, to } => {
                let object = to.name.key();
                props(
                    &mut out,
                    "table",
                    &object,
                    (&from.owner, &to.owner),
                    (&from.comment, &to.comment),
                    (&from.grants, &to.grants),
                );
                if from.rls_enabled != to.rls_enabled || from.rls_forced != to.rls_forced {
                    let t = |x: &Table| {
                        format!(
                            "row level security {}{}",
                            if x.rls_enabled { "enabled" } else { "disabled" },
                            if x.rls_forced { ", forced" } else { "" }
                        )
                    };
                    out.push(item(
                        "table",
                        &object,
                        "changed",
                        Some(t(from)),
                        Some(t(to)),
                    ));
                }
                if from.partition_of != to.partition_of {
                    let t = |x: &Table| {
                        x.partition_of
                            .as_ref()
                            .map(|p| format!("partition of {} {}", p.parent, p.bound))
                            .unwrap_or_else(|| "not a partition".into())
                    };
                    out.push(item(
                        "partition",
                        &object,
                        "changed",
                        Some(t(from)),
                        Some(t(to)),
                    ));
                }
                let text = |o: &Option<String>, default: &str| {
                    o.clone().unwrap_or_else(|| default.to_string())
                };
                if from.replica_identity != to.replica_identity {
                    out.push(item(
                        "replica identity",
                        &object,
                        "changed",
                        Some(text(&from.replica_identity, "DEFAULT")),
                        Some(text(&to.replica_identity, "DEFAULT")),
                    ));
                }
                if from.foreign_server != to.foreign_server {
                    out.push(item(
                        "foreign table",
                        &object,
                        "changed",
                        Some(text(&from.foreign_server, "none")),
                        Some(text(&to.foreign_server, "none")),
                    ));
                }
                let mut a = from.clone();
                let mut b = to.clone();
                for x in [&mut a, &mut b] {
                    x.replica_identity = None;
                    x.foreign_server = None;
                    x.columns.clear();
                    x.constraints.clear();
                    x.policies.clear();
                    x.owner = None;
                    x.comment = None;
                    x.grants.clear();
                    x.rls_enabled = false;
                    x.rls_forced = false;
                    x.partition_of = None;
                }
                if a != b {
                    out.push(item(
                        "table",
                        &object,
                        "changed",
                        Some(format!(
                            "{:?} {:?} logged={}",
                            a.options,
                            a.inherits.iter().map(|q| q.key()).collect::<Vec<_>>(),
                            !a.unlogged
                        )),
                        Some(format!(
                            "{:?} {:?} logged={}",
                            b.options,
                            b.inherits.iter().map(|q| q.key()).collect::<Vec<_>>(),
                            !b.unlogged
                        )),
                    ));
                }
            }
            AlterSchema { from, to } => props(
                &mut out,
                "schema",
                &to.name,
                (&from.owner, &to.owner),
                (&from.comment, &to.comment),
                (&from.grants, &to.grants),
            ),
            AlterExtension { from, to } => out.push(item(
                "extension",
                &to.name,
                "changed",
                Some(format!("version {} in {}", from.version, from.schema)),
                Some(format!("version {} in {}", to.version, to.schema)),
            )),
            AlterType { from, to } => {
                if from.kind != to.kind {
                    out.push(item(
                        "type",
                        &to.name.key(),
                        "changed",
                        Some(type_text(from)),
                        Some(type_text(to)),
                    ));
                }
                props(
                    &mut out,
                    "type",
                    &to.name.key(),
                    (&from.owner, &to.owner),
                    (&from.comment, &to.comment),
                    (&from.grants, &to.grants),
                );
            }
            AlterSequence { from, to } => {
                if seq_text(from) != seq_text(to) || from.owned_by != to.owned_by {
                    out.push(item(
                        "sequence",
                        &to.name.key(),
                        "changed",
                        Some(seq_text(from)),
                        Some(seq_text(to)),
                    ));
                }
                props(
                    &mut out,
                    "sequence",
                    &to.name.key(),
                    (&from.owner, &to.owner),
                    (&from.comment, &to.comment),
                    (&from.grants, &to.grants),
                );
            }
            ReplaceFunction { from, to } => {
                let object = format!("{}({})", to.name, to.arguments);
                if sql_text(&from.definition) != sql_text(&to.definition) {
                    out.push(item(
                        fn_kind(to),
                        &object,
                        "changed",
                        Some(sql_text(&from.definition)),
                        Some(sql_text(&to.definition)),
                    ));
                }
                props(
                    &mut out,
                    fn_kind(to),
                    &object,
                    (&from.owner, &to.owner),
                    (&from.comment, &to.comment),
                    (&from.grants, &to.grants),
                );
            }
            AlterConstraint { table, from, to } => props(
                &mut out,
                "constraint",
                &format!("{}.{}", table, constraint_name(actual.dialect, to)),
                (&None, &None),
                (&from.comment, &to.comment),
                (&[], &[]),
            ),
            AlterIndex { from, to } => props(
                &mut out,
                "index",
                &to.name.key(),
                (&None, &None),
                (&from.comment, &to.comment),
                (&[], &[]),
            ),
            AlterView { from, to } => {
                props(
                    &mut out,
                    view_kind(to),
                    &to.name.key(),
                    (&from.owner, &to.owner),
                    (&from.comment, &to.comment),
                    (&from.grants, &to.grants),
                );
                if from.column_comments != to.column_comments {
                    out.push(item(
                        "comment",
                        &format!("{} {} columns", view_kind(to), to.name),
                        "changed",
                        Some(format!("{:?}", from.column_comments)),
                        Some(format!("{:?}", to.column_comments)),
                    ));
                }
            }
            AlterTrigger { from, to } => {
                let object = format!("{}.{}", to.table, to.name);
                if from.enabled != to.enabled {
                    out.push(item(
                        "trigger",
                        &object,
                        "changed",
                        Some(format!(
                            "enabled {}",
                            from.enabled.as_deref().unwrap_or("O")
                        )),
                        Some(format!("enabled {}", to.enabled.as_deref().unwrap_or("O"))),
                    ));
                }
                props(
                    &mut out,
                    "trigger",
                    &object,
                    (&None, &None),
                    (&from.comment, &to.comment),
                    (&[], &[]),
                );
            }
            CreateRole { .. } | AlterRole { .. } => {}
            _ => {}
        }
    }
    others(expected, actual, &mut out);
    for ((kind, object), (e, a)) in pairs {
        let change = match (&e, &a) {
            (Some(x), Some(y)) if x == y => continue, // re-created around another change
            (Some(_), Some(_)) => "changed",
            (None, Some(_)) => "added",
            (Some(_), None) => "removed",
            (None, None) => continue,
        };
        out.push(item(kind, &object, change, e, a));
    }
    // Roles: the model holds those that own or hold privileges here, so a role that
    // appears is one that was given something in this database.
    for (name, r) in &actual.roles {
        match expected.roles.get(name) {
            None => out.push(item("role", name, "added", None, Some(role_text(r)))),
            Some(e) if e != r => out.push(item(
                "role",
                name,
                "changed",
                Some(role_text(e)),
                Some(role_text(r)),
            )),
            _ => {}
        }
    }
    for (name, r) in &expected.roles {
        if !actual.roles.contains_key(name) {
            out.push(item("role", name, "removed", Some(role_text(r)), None));
        }
    }
    // Environment facts.
    if !expected.env.version.is_empty() && !actual.env.version.is_empty() {
        let major = |v: &str| v.split(['.', ' ']).next().unwrap_or("").to_string();
        if major(&expected.env.version) != major(&actual.env.version) {
            out.push(item(
                "engine",
                &actual.env.engine,
                "changed",
                Some(expected.env.version.clone()),
                Some(actual.env.version.clone()),
            ));
        }
    }
    for key in DRIFT_SETTINGS {
        let (e, a) = (
            expected.env.settings.get(*key),
            actual.env.settings.get(*key),
        );
        if e.is_some() && a.is_some() && e != a {
            out.push(item("setting", key, "changed", e.cloned(), a.cloned()));
        }
    }
    out
}

/// Objects compared by definition: one item each, named by kind and name.
fn others(expected: &Database, actual: &Database, out: &mut Vec<DriftItem>) {
    let keys: std::collections::BTreeSet<&String> =
        expected.others.keys().chain(actual.others.keys()).collect();
    for k in keys {
        let (e, a) = (expected.others.get(k), actual.others.get(k));
        let def = |o: Option<&Other>| o.map(|o| sql_text(&o.definition));
        let change = match (def(e), def(a)) {
            (Some(x), Some(y)) if x == y => continue,
            (Some(_), Some(_)) => "changed",
            (None, Some(_)) => "added",
            _ => "removed",
        };
        let o = a.or(e).expect("a key of one side");
        out.push(item(&o.kind, &o.name, change, def(e), def(a)));
    }
}

fn role_text(r: &Role) -> String {
    let mut parts = vec![];
    if r.login {
        parts.push("login".to_string());
    }
    if r.superuser {
        parts.push("superuser".into());
    }
    if !r.member_of.is_empty() {
        parts.push(format!("member of {}", r.member_of.join(", ")));
    }
    if parts.is_empty() {
        "no login".into()
    } else {
        parts.join(", ")
    }
}

/// Replaces one role by another in owners, grants, policies and the role list: a replay
/// runs as the scratch server's role, while the environment was deployed by another.
pub fn map_role(db: &mut Database, from: &str, to: &str) {
    if from == to {
        return;
    }
    let swap = |o: &mut Option<String>| {
        if o.as_deref() == Some(from) {
            *o = Some(to.to_string());
        }
    };
    let swap_grants = |g: &mut Vec<Grant>| {
        for x in g.iter_mut() {
            if x.grantee == from {
                x.grantee = to.to_string();
            }
        }
        // The new owner's own privileges are implicit, as inspection leaves them out.
        g.sort();
        g.dedup();
    };
    for s in db.schemas.values_mut() {
        swap(&mut s.owner);
        swap_grants(&mut s.grants);
    }
    for t in db.tables.values_mut() {
        swap(&mut t.owner);
        let owner = t.owner.clone();
        swap_grants(&mut t.grants);
        t.grants.retain(|g| Some(&g.grantee) != owner.as_ref());
        for c in &mut t.columns {
            swap_grants(&mut c.grants);
        }
        for p in t.policies.values_mut() {
            for r in &mut p.roles {
                if r == from {
                    *r = to.to_string();
                }
            }
        }
    }
    for v in db.views.values_mut() {
        swap(&mut v.owner);
        swap_grants(&mut v.grants);
    }
    for s in db.sequences.values_mut() {
        swap(&mut s.owner);
        swap_grants(&mut s.grants);
    }
    for t in db.types.values_mut() {
        swap(&mut t.owner);
        swap_grants(&mut t.grants);
    }
    for f in db.functions.values_mut() {
        swap(&mut f.owner);
        swap_grants(&mut f.grants);
    }
    if let Some(mut r) = db.roles.remove(from) {
        r.name = to.to_string();
        db.roles.entry(to.to_string()).or_insert(r);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rebuilt_views_are_not_drift_but_the_column_is() {
        let mut e = Database::empty(Dialect::Postgres);
        let mut t = Table::new(QualName::new("public", "t"));
        t.columns.push(Column::new("a", "integer"));
        e.tables.insert(t.name.clone(), t);
        e.views.insert(
            QualName::new("public", "v"),
            View {
                columns: vec!["a".into()],
                depends_on: vec!["public.t".into()],
                ..View::new(QualName::new("public", "v"), "SELECT a FROM t")
            },
        );
        let mut a = e.clone();
        a.tables.values_mut().next().unwrap().columns[0].type_ = "bigint".into();
        let items = drift(&e, &a);
        assert_eq!(items.len(), 1, "{items:?}");
        assert_eq!(items[0].object, "public.t.a");
        assert_eq!(items[0].change, "changed");
    }

    #[test]
    fn new_role_with_a_grant() {
        let mut e = Database::empty(Dialect::Postgres);
        let t = Table::new(QualName::new("public", "customers"));
        e.tables.insert(t.name.clone(), t);
        let mut a = e.clone();
        a.tables.values_mut().next().unwrap().grants.push(Grant {
            grantee: "analyst".into(),
            privilege: "SELECT".into(),
            grantable: false,
        });
        a.roles.insert(
            "analyst".into(),
            Role {
                name: "analyst".into(),
                login: true,
                ..Default::default()
            },
        );
        let items = drift(&e, &a);
        let kinds: Vec<&str> = items.iter().map(|i| i.kind.as_str()).collect();
        assert_eq!(kinds, ["grant", "role"], "{items:?}");
        assert_eq!(items[0].object, "table public.customers to analyst");
    }
}
