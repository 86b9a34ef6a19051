//! Comparing two models into an ordered list of changes.
//!
//! The order is the order in which the changes can be applied: dependents are dropped
//! before what they depend on and re-created after it, and foreign keys are added once
//! every table exists. Each dialect's planner (`plan::postgres`, `plan::sqlite`) turns
//! the list into SQL; it may group changes (SQLite rebuilds a table) but never reorders
//! across tables.

use crate::model::*;
use crate::normalize::{looks_system_named, sql_code, sql_text};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

// Changes are built once per diff and moved, never stored in bulk: boxing the big
// variants would buy nothing but noise.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Change {
    CreateRole {
        role: Role,
    },
    AlterRole {
        from: Role,
        to: Role,
    },
    CreateSchema {
        schema: Namespace,
    },
    AlterSchema {
        from: Namespace,
        to: Namespace,
    },
    DropSchema {
        schema: Namespace,
    },
    CreateExtension {
        extension: Extension,
    },
    AlterExtension {
        from: Extension,
        to: Extension,
    },
    DropExtension {
        extension: Extension,
    },
    CreateType {
        typ: TypeDef,
    },
    /// Enum labels added (the only in-place change besides owner, comment and grants).
    AlterType {
        from: TypeDef,
        to: TypeDef,
    },
    DropType {
        typ: TypeDef,
    },
    CreateSequence {
        sequence: Sequence,
    },
    AlterSequence {
        from: Sequence,
        to: Sequence,
    },
    DropSequence {
        sequence: Sequence,
    },
    CreateFunction {
        function: Function,
    },
    /// `CREATE OR REPLACE` in place; used when the result type is unchanged.
    ReplaceFunction {
        from: Function,
        to: Function,
    },
    DropFunction {
        function: Function,
    },
    /// A new table, without its foreign keys (those come as `AddConstraint` later).
    CreateTable {
        table: Table,
    },
    /// Table-level properties: owner, comment, grants, RLS, options, logging, partition
    /// attachment, inheritance.
    AlterTable {
        from: Table,
        to: Table,
    },
    DropTable {
        table: Table,
    },
    AddColumn {
        table: QualName,
        column: Column,
    },
    /// Only when declared (a migration's `RENAME COLUMN`, or `--rename`): two schemas
    /// alone never prove a rename. See docs/diff.md.
    RenameColumn {
        table: QualName,
        from: String,
        to: String,
    },
    AlterColumn {
        table: QualName,
        from: Column,
        to: Column,
    },
    DropColumn {
        table: QualName,
        column: Column,
    },
    /// Column order differs. No engine reorders columns in place; see docs/diff.md.
    ColumnOrder {
        table: QualName,
        from: Vec<String>,
        to: Vec<String>,
    },
    AddConstraint {
        table: QualName,
        constraint: Constraint,
    },
    /// Only the comment differs.
    AlterConstraint {
        table: QualName,
        from: Constraint,
        to: Constraint,
    },
    DropConstraint {
        table: QualName,
        constraint: Constraint,
    },
    CreateIndex {
        index: Index,
    },
    AlterIndex {
        from: Index,
        to: Index,
    },
    DropIndex {
        index: Index,
    },
    CreateView {
        view: View,
    },
    AlterView {
        from: View,
        to: View,
    },
    DropView {
        view: View,
    },
    CreatePolicy {
        table: QualName,
        policy: Policy,
    },
    DropPolicy {
        table: QualName,
        policy: Policy,
    },
    CreateTrigger {
        trigger: Trigger,
    },
    AlterTrigger {
        from: Trigger,
        to: Trigger,
    },
    DropTrigger {
        trigger: Trigger,
    },
    /// An object compared by definition only ([`Other`]); a changed one is dropped and
    /// created again.
    CreateOther {
        other: Other,
    },
    DropOther {
        other: Other,
    },
}

impl Change {
    /// Whether applying the change can lose data or break running code.
    pub fn destructive(&self) -> bool {
        match self {
            Change::DropSchema { .. }
            | Change::DropTable { .. }
            | Change::DropColumn { .. }
            | Change::DropSequence { .. }
            | Change::DropType { .. }
            | Change::DropExtension { .. } => true,
            Change::AlterColumn { from, to, .. } => !keeps_values(&from.type_, &to.type_),
            Change::DropView { view } => view.materialized,
            _ => false,
        }
    }

    /// One line for people: `+` create, `-` drop, `~` alter.
    pub fn describe(&self) -> String {
        use Change::*;
        match self {
            CreateRole { role } => format!("+ role {}", role.name),
            AlterRole { to, .. } => format!("~ role {}: attributes or memberships", to.name),
            CreateSchema { schema } => format!("+ schema {}", schema.name),
            AlterSchema { from, to } => format!(
                "~ schema {}: {}",
                to.name,
                props(from_props_ns(from), from_props_ns(to))
            ),
            DropSchema { schema } => format!("- schema {}", schema.name),
            CreateExtension { extension } => {
                format!("+ extension {} {}", extension.name, extension.version)
            }
            AlterExtension { from, to } => format!(
                "~ extension {}: version {} → {}, schema {} → {}",
                to.name, from.version, to.version, from.schema, to.schema
            ),
            DropExtension { extension } => format!("- extension {}", extension.name),
            CreateType { typ } => format!("+ type {}", typ.name),
            AlterType { to, .. } => format!("~ type {}", to.name),
            DropType { typ } => format!("- type {}", typ.name),
            CreateSequence { sequence } => format!("+ sequence {}", sequence.name),
            AlterSequence { from, to } => {
                format!("~ sequence {}: {}", to.name, seq_delta(from, to))
            }
            DropSequence { sequence } => format!("- sequence {}", sequence.name),
            CreateFunction { function } => format!(
                "+ {} {}({})",
                function.kind, function.name, function.arguments
            ),
            ReplaceFunction { to, .. } => {
                format!("~ {} {}({})", to.kind, to.name, to.arguments)
            }
            DropFunction { function } => format!(
                "- {} {}({})",
                function.kind, function.name, function.arguments
            ),
            CreateTable { table } => format!("+ table {}", table.name),
            AlterTable { from, to } => format!("~ table {}: {}", to.name, table_delta(from, to)),
            DropTable { table } => format!("- table {}", table.name),
            AddColumn { table, column } => {
                format!("+ column {}.{} {}", table, column.name, column.type_)
            }
            AlterColumn { table, from, to } => {
                format!("~ column {}.{}: {}", table, to.name, column_delta(from, to))
            }
            DropColumn { table, column } => format!("- column {}.{}", table, column.name),
            RenameColumn { table, from, to } => {
                format!("~ column {}.{} renamed to {} (declared)", table, from, to)
            }
            ColumnOrder { table, from, to } => format!(
                "~ table {}: column order ({}) → ({})",
                table,
                from.join(", "),
                to.join(", ")
            ),
            AddConstraint { table, constraint } => format!(
                "+ {} {} on {}",
                constraint.kind.label(),
                constraint_label(constraint),
                table
            ),
            AlterConstraint { table, to, .. } => format!(
                "~ {} {} on {}: comment",
                to.kind.label(),
                constraint_label(to),
                table
            ),
            DropConstraint { table, constraint } => format!(
                "- {} {} on {}",
                constraint.kind.label(),
                constraint_label(constraint),
                table
            ),
            CreateIndex { index } => format!("+ index {} on {}", index.name, index.table),
            AlterIndex { to, .. } => format!("~ index {}: comment", to.name),
            DropIndex { index } => format!("- index {} on {}", index.name, index.table),
            CreateView { view } => format!("+ {} {}", view_word(view), view.name),
            AlterView { to, .. } => {
                format!("~ {} {}: owner, comment or grants", view_word(to), to.name)
            }
            DropView { view } => format!("- {} {}", view_word(view), view.name),
            CreatePolicy { table, policy } => format!("+ policy {} on {}", policy.name, table),
            DropPolicy { table, policy } => format!("- policy {} on {}", policy.name, table),
            CreateTrigger { trigger } => format!("+ trigger {} on {}", trigger.name, trigger.table),
            AlterTrigger { to, .. } => {
                format!("~ trigger {} on {}: enabled or comment", to.name, to.table)
            }
            DropTrigger { trigger } => format!("- trigger {} on {}", trigger.name, trigger.table),
            CreateOther { other } => format!("+ {} {}", other.kind, other.name),
            DropOther { other } => format!("- {} {}", other.kind, other.name),
        }
    }
}

/// A constraint's name, or for an unnamed one what it covers: `(customer_id) → customers`.
pub fn constraint_label(c: &Constraint) -> String {
    if let Some(n) = &c.name {
        return n.clone();
    }
    match &c.kind {
        ConstraintKind::PrimaryKey { columns, .. } | ConstraintKind::Unique { columns, .. } => {
            format!("({})", columns.join(", "))
        }
        ConstraintKind::ForeignKey {
            columns,
            references,
            ref_columns,
            ..
        } => format!(
            "({}) → {}({})",
            columns.join(", "),
            references.name,
            ref_columns.join(", ")
        ),
        ConstraintKind::Check { expression, .. } => format!("({expression})"),
        ConstraintKind::Exclusion { definition } => definition.clone(),
    }
}

fn view_word(v: &View) -> &'static str {
    if v.materialized {
        "materialized view"
    } else {
        "view"
    }
}

fn from_props_ns(n: &Namespace) -> Vec<(&'static str, String)> {
    vec![
        ("owner", format!("{:?}", n.owner)),
        ("comment", format!("{:?}", n.comment)),
        ("grants", grants_text(&n.grants)),
    ]
}

fn props(a: Vec<(&'static str, String)>, b: Vec<(&'static str, String)>) -> String {
    a.iter()
        .zip(b.iter())
        .filter(|(x, y)| x.1 != y.1)
        .map(|(x, y)| format!("{} {} → {}", x.0, x.1, y.1))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn grants_text(g: &[Grant]) -> String {
    if g.is_empty() {
        return "none".into();
    }
    g.iter()
        .map(|g| {
            format!(
                "{}:{}{}",
                g.grantee,
                g.privilege,
                if g.grantable { "*" } else { "" }
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn opt(o: &Option<String>) -> String {
    o.clone().unwrap_or_else(|| "none".into())
}

/// "label old → new" where an optional text differs.
fn text_change(parts: &mut Vec<String>, label: &str, x: &Option<String>, y: &Option<String>) {
    if x != y {
        parts.push(format!("{label} {} → {}", opt(x), opt(y)));
    }
}

fn column_delta(a: &Column, b: &Column) -> String {
    let mut parts = vec![];
    if a.type_ != b.type_ {
        parts.push(format!("type {} → {}", a.type_, b.type_));
    }
    if a.not_null != b.not_null {
        parts.push(
            if b.not_null {
                "set not null"
            } else {
                "drop not null"
            }
            .into(),
        );
    }
    if !same_expr(&a.default, &b.default) {
        parts.push(format!("default {} → {}", opt(&a.default), opt(&b.default)));
    }
    if a.identity != b.identity {
        parts.push("identity".into());
    }
    if a.generated != b.generated {
        let expr = |c: &Column| c.generated.as_ref().map(|g| g.expression.clone());
        parts.push(format!("generated {} → {}", opt(&expr(a)), opt(&expr(b))));
    }
    text_change(&mut parts, "collation", &a.collation, &b.collation);
    text_change(&mut parts, "charset", &a.charset, &b.charset);
    text_change(&mut parts, "on update", &a.on_update, &b.on_update);
    if a.auto_increment != b.auto_increment {
        parts.push("auto increment".into());
    }
    if a.invisible != b.invisible {
        parts.push(if b.invisible { "invisible" } else { "visible" }.into());
    }
    text_change(&mut parts, "comment", &a.comment, &b.comment);
    if a.grants != b.grants {
        parts.push(format!(
            "grants {} → {}",
            grants_text(&a.grants),
            grants_text(&b.grants)
        ));
    }
    if a.storage != b.storage {
        parts.push(format!(
            "physical ({}) → ({})",
            a.storage.text(),
            b.storage.text()
        ));
    }
    parts.join(", ")
}

fn table_delta(a: &Table, b: &Table) -> String {
    let mut parts = vec![];
    if a.owner != b.owner {
        parts.push(format!("owner {} → {}", opt(&a.owner), opt(&b.owner)));
    }
    if a.comment != b.comment {
        parts.push(format!("comment {} → {}", opt(&a.comment), opt(&b.comment)));
    }
    if a.grants != b.grants {
        parts.push(format!(
            "grants {} → {}",
            grants_text(&a.grants),
            grants_text(&b.grants)
        ));
    }
    if a.rls_enabled != b.rls_enabled || a.rls_forced != b.rls_forced {
        parts.push("row level security".into());
    }
    if a.options != b.options {
        parts.push(format!("options {:?} → {:?}", a.options, b.options));
    }
    if a.unlogged != b.unlogged {
        parts.push(if b.unlogged {
            "set unlogged".into()
        } else {
            "set logged".into()
        });
    }
    if a.partition_of != b.partition_of {
        parts.push(format!(
            "partition of {} → {}",
            a.partition_of
                .as_ref()
                .map(|p| format!("{} {}", p.parent, p.bound))
                .unwrap_or("none".into()),
            b.partition_of
                .as_ref()
                .map(|p| format!("{} {}", p.parent, p.bound))
                .unwrap_or("none".into())
        ));
    }
    if a.inherits != b.inherits {
        parts.push("inheritance".into());
    }
    if a.engine != b.engine || a.charset != b.charset || a.collation != b.collation {
        parts.push("engine, charset or collation".into());
    }
    if a.partition_key != b.partition_key {
        parts.push("partitioning".into());
    }
    if a.replica_identity != b.replica_identity {
        parts.push(format!(
            "replica identity {} → {}",
            a.replica_identity.as_deref().unwrap_or("DEFAULT"),
            b.replica_identity.as_deref().unwrap_or("DEFAULT")
        ));
    }
    if a.foreign_server != b.foreign_server {
        parts.push(format!(
            "foreign server {} → {}",
            opt(&a.foreign_server),
            opt(&b.foreign_server)
        ));
    }
    if let Some(m) = b.mismatch.as_ref().or(a.mismatch.as_ref()) {
        parts.push(format!("not read faithfully: {m}"));
    }
    parts.join(", ")
}

fn seq_delta(a: &Sequence, b: &Sequence) -> String {
    let mut parts = vec![];
    macro_rules! f {
        ($f:ident) => {
            if a.$f != b.$f {
                parts.push(format!("{} {:?} → {:?}", stringify!($f), a.$f, b.$f));
            }
        };
    }
    f!(type_);
    f!(start);
    f!(increment);
    f!(min);
    f!(max);
    f!(cache);
    f!(cycle);
    f!(owned_by);
    f!(owner);
    f!(comment);
    if a.grants != b.grants {
        parts.push(format!(
            "grants {} → {}",
            grants_text(&a.grants),
            grants_text(&b.grants)
        ));
    }
    parts.join(", ")
}

fn same_expr(a: &Option<String>, b: &Option<String>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a == b || sql_text(a) == sql_text(b),
        (None, None) => true,
        _ => false,
    }
}

/// Column equality, with expressions compared whitespace-insensitively.
fn same_column(a: &Column, b: &Column) -> bool {
    let mut a2 = a.clone();
    let mut b2 = b.clone();
    if same_expr(&a.default, &b.default) {
        a2.default = None;
        b2.default = None;
    }
    a2 == b2
}

/// Comparison form of a view: the query whitespace-normalized, dependency metadata and
/// the stored CREATE text (SQLite) aside.
fn view_core(v: &View) -> View {
    let mut v = v.clone();
    v.definition = sql_text(&v.definition);
    v.depends_on.clear();
    v.sql = v.sql.as_deref().map(sql_text);
    // The query determines the columns; SQLite expands `SELECT *` at query time, so
    // they change with the table while the view itself does not.
    v.columns.clear();
    v.owner = None;
    v.comment = None;
    v.grants.clear();
    v.column_comments.clear();
    v
}

fn function_core(f: &Function) -> (String, String) {
    (sql_code(&f.definition), f.returns.clone())
}

fn trigger_core(t: &Trigger) -> String {
    sql_code(&t.definition)
}

fn constraint_suffix(k: &ConstraintKind) -> &'static str {
    match k {
        ConstraintKind::PrimaryKey { .. } => "pkey",
        ConstraintKind::Unique { .. } => "key",
        ConstraintKind::ForeignKey { .. } => "fkey",
        ConstraintKind::Check { .. } => "check",
        ConstraintKind::Exclusion { .. } => "excl",
    }
}

/// Whether two constraints are the same apart from name and comment.
fn same_constraint_body(a: &Constraint, b: &Constraint) -> bool {
    let norm = |c: &Constraint| {
        let mut c = c.clone();
        c.name = None;
        c.comment = None;
        if let ConstraintKind::Check { expression, .. } = &mut c.kind {
            *expression = sql_text(expression);
        }
        c
    };
    norm(a) == norm(b)
}

/// Pairs constraints of one table across two sides: by name first, then, for names the
/// system chose (or no name at all), by definition. Returns (pairs, only_a, only_b).
#[allow(clippy::type_complexity)]
fn pair_constraints<'a>(
    table: &str,
    a: &'a [Constraint],
    b: &'a [Constraint],
    dialect: Dialect,
) -> (
    Vec<(&'a Constraint, &'a Constraint)>,
    Vec<&'a Constraint>,
    Vec<&'a Constraint>,
) {
    let mut pairs = vec![];
    let mut used_b = vec![false; b.len()];
    let mut rest_a = vec![];
    for ca in a {
        let found = ca.name.as_ref().and_then(|n| {
            b.iter()
                .enumerate()
                .find(|(i, cb)| !used_b[*i] && cb.name.as_ref() == Some(n))
        });
        match found {
            Some((i, cb)) => {
                used_b[i] = true;
                pairs.push((ca, cb));
            }
            None => rest_a.push(ca),
        }
    }
    let auto = |c: &Constraint| match &c.name {
        None => true,
        Some(n) if dialect == Dialect::Mysql => {
            crate::dialect::mysql::types::is_system_named(table, n)
        }
        Some(n) => looks_system_named(table, n, constraint_suffix(&c.kind)),
    };
    let mut only_a = vec![];
    for ca in rest_a {
        let found = if auto(ca) {
            b.iter()
                .enumerate()
                .find(|(i, cb)| !used_b[*i] && auto(cb) && same_constraint_body(ca, cb))
        } else {
            None
        };
        match found {
            Some((i, cb)) => {
                used_b[i] = true;
                pairs.push((ca, cb));
            }
            None => only_a.push(ca),
        }
    }
    let only_b = b
        .iter()
        .enumerate()
        .filter(|(i, _)| !used_b[*i])
        .map(|(_, c)| c)
        .collect();
    (pairs, only_a, only_b)
}

/// Whether two indexes are the same apart from name and comment.
fn same_index_body(a: &Index, b: &Index) -> bool {
    a.table == b.table && a.unique == b.unique && sql_text(&a.definition) == sql_text(&b.definition)
}

/// Pairs indexes by name, then system-named ones by definition. Returns
/// (pairs, only_a, only_b) as keys.
#[allow(clippy::type_complexity)]
fn pair_indexes<'a>(
    a: &'a BTreeMap<QualName, Index>,
    b: &'a BTreeMap<QualName, Index>,
    dialect: Dialect,
) -> (Vec<(&'a Index, &'a Index)>, Vec<&'a Index>, Vec<&'a Index>) {
    let mut pairs = vec![];
    let mut only_a = vec![];
    let mut used_b: BTreeSet<&QualName> = BTreeSet::new();
    for (k, ia) in a {
        if let Some(ib) = b.get(k) {
            if ia.table == ib.table {
                pairs.push((ia, ib));
                used_b.insert(k);
                continue;
            }
        }
        only_a.push(ia);
    }
    // MySQL names an unnamed index after its first column, predictably: a name there is
    // always an identity.
    let auto = |i: &Index| {
        dialect != Dialect::Mysql && looks_system_named(&i.table.name, &i.name.name, "idx")
            || looks_system_named(&i.table.name, &i.name.name, "key")
            || i.name.name.starts_with("sqlite_autoindex_")
    };
    let mut still_a = vec![];
    for ia in only_a {
        let found = if auto(ia) {
            b.iter().find(|(k, ib)| {
                !used_b.contains(k) && !a.contains_key(k) && auto(ib) && same_index_body(ia, ib)
            })
        } else {
            None
        };
        match found {
            Some((k, ib)) => {
                used_b.insert(k);
                pairs.push((ia, ib));
            }
            None => still_a.push(ia),
        }
    }
    let only_b = b
        .iter()
        .filter(|(k, _)| !used_b.contains(k))
        .map(|(_, i)| i)
        .collect();
    (pairs, still_a, only_b)
}

/// Declares [`Phases`] with one bucket of changes per phase, in the order the phases
/// run, so the order is written once.
macro_rules! phases {
    ($($phase:ident),* $(,)?) => {
        /// Changes, bucketed by the phase they run in.
        #[derive(Default)]
        struct Phases {
            $($phase: Vec<Change>,)*
        }

        impl Phases {
            /// Every phase's changes, phase after phase.
            fn into_changes(self) -> Vec<Change> {
                [$(self.$phase),*].into_iter().flatten().collect()
            }
        }
    };
}

phases! {
    drop_others,
    drop_triggers,
    drop_policies,
    drop_views,
    drop_fks,
    drop_constraints,
    drop_indexes,
    drop_functions_early,
    drop_types_early,
    seq_disown,
    drop_columns,
    drop_tables,
    renames,
    pre,
    others_before_types,
    types_create,
    sequences,
    functions_early,
    others_before_tables,
    tables_create,
    columns,
    constraints,
    indexes,
    functions_late,
    views,
    view_indexes,
    fks,
    triggers,
    policies,
    table_props,
    others_after_tables,
    drop_functions,
    drop_sequences,
    drop_types,
    drop_schemas,
    drop_extensions,
    others_last,
}

/// Diffs `from` into `to`: the returned changes, applied in order, turn `from` into `to`.
/// A column on one side only is added or dropped, never renamed: see [`diff_with`].
pub fn diff(from: &Database, to: &Database) -> Vec<Change> {
    diff_with(from, to, &[])
}

/// [`diff`], with column renames someone declared (a migration's `RENAME COLUMN`, or
/// `--rename`). A declared rename that does not fit the two sides is ignored; callers
/// check it first with [`ColumnRename::check`].
pub fn diff_with(from: &Database, to: &Database, renames: &[ColumnRename]) -> Vec<Change> {
    let mut p = Phases::default();

    // Roles are server-wide: they are created when missing and altered, never dropped,
    // because other databases on the server may use them.
    for (name, r) in &to.roles {
        match from.roles.get(name) {
            None => p.pre.push(Change::CreateRole { role: r.clone() }),
            Some(f) if f != r => p.pre.push(Change::AlterRole {
                from: f.clone(),
                to: r.clone(),
            }),
            _ => {}
        }
    }
    for (name, s) in &to.schemas {
        match from.schemas.get(name) {
            None => p.pre.push(Change::CreateSchema { schema: s.clone() }),
            Some(f) if f != s => p.table_props.push(Change::AlterSchema {
                from: f.clone(),
                to: s.clone(),
            }),
            _ => {}
        }
    }
    for (name, s) in &from.schemas {
        if !to.schemas.contains_key(name) {
            p.drop_schemas
                .push(Change::DropSchema { schema: s.clone() });
        }
    }
    for (name, e) in &to.extensions {
        match from.extensions.get(name) {
            None => p.pre.push(Change::CreateExtension {
                extension: e.clone(),
            }),
            Some(f) if f != e => p.pre.push(Change::AlterExtension {
                from: f.clone(),
                to: e.clone(),
            }),
            _ => {}
        }
    }
    for (name, e) in &from.extensions {
        if !to.extensions.contains_key(name) {
            p.drop_extensions.push(Change::DropExtension {
                extension: e.clone(),
            });
        }
    }

    // Tables whose columns change type or disappear, or that are dropped: views that
    // read them must be dropped first and re-created after.
    let mut disturbed: BTreeSet<String> = BTreeSet::new();
    // Tables and columns that go away: what they own (sequences) goes with them, and what
    // depends on their row type must go first.
    let dropped_tables: BTreeSet<&QualName> = from
        .tables
        .keys()
        .filter(|k| !to.tables.contains_key(*k))
        .collect();
    let column_goes = |c: &ColumnRef| {
        dropped_tables.contains(&c.table)
            || to
                .tables
                .get(&c.table)
                .is_some_and(|t| t.column(&c.column).is_none())
    };

    // Types.
    let mut type_creates = vec![];
    for (k, t) in &to.types {
        match from.types.get(k) {
            None => type_creates.push(t.clone()),
            Some(f) if f != t => {
                if type_alterable(f, t) {
                    // Before tables and columns: their defaults may use new labels.
                    p.types_create.push(Change::AlterType {
                        from: f.clone(),
                        to: t.clone(),
                    });
                } else {
                    // No ALTER covers it: replace. Columns using it block the drop, which
                    // the server reports; listed in docs/diff.md.
                    p.drop_types_early.push(Change::DropType { typ: f.clone() });
                    type_creates.push(t.clone());
                    disturbed.insert(k.key());
                }
            }
            _ => {}
        }
    }
    for t in topo(type_creates, |t| t.name.key(), |t| t.depends_on.clone()) {
        p.types_create.push(Change::CreateType { typ: t });
    }
    for (k, t) in &from.types {
        if !to.types.contains_key(k) {
            p.drop_types.push(Change::DropType { typ: t.clone() });
        }
    }

    // Sequences: created before tables (defaults call nextval), dropped after them.
    for (k, s) in &to.sequences {
        match from.sequences.get(k) {
            None => {
                let mut bare = s.clone();
                bare.owned_by = None;
                p.sequences.push(Change::CreateSequence { sequence: bare });
                if s.owned_by.is_some() {
                    // OWNED BY needs the table, which comes later.
                    let mut unowned = s.clone();
                    unowned.owned_by = None;
                    p.table_props.push(Change::AlterSequence {
                        from: unowned,
                        to: s.clone(),
                    });
                }
            }
            Some(f) if f != s => {
                let mut f = f.clone();
                if f.owned_by.as_ref().is_some_and(column_goes) {
                    // Its owner is dropped before tables are created; release the
                    // sequence first or the drop takes it along.
                    let mut free = f.clone();
                    free.owned_by = None;
                    p.seq_disown.push(Change::AlterSequence {
                        from: f.clone(),
                        to: free.clone(),
                    });
                    f = free;
                }
                if &f != s {
                    p.table_props.push(Change::AlterSequence {
                        from: f,
                        to: s.clone(),
                    });
                }
            }
            _ => {}
        }
    }
    for (k, s) in &from.sequences {
        // A sequence owned by a dropped table or column is dropped with it.
        if !to.sequences.contains_key(k) && !s.owned_by.as_ref().is_some_and(column_goes) {
            p.drop_sequences.push(Change::DropSequence {
                sequence: s.clone(),
            });
        }
    }

    // Functions. A changed body is replaced in place; a changed result type needs a drop.
    let mut fn_creates = vec![];
    for (k, f) in &to.functions {
        match from.functions.get(k) {
            None => fn_creates.push(f.clone()),
            Some(old) => {
                if function_core(old) != function_core(f) {
                    if old.returns == f.returns && old.kind == f.kind {
                        p.functions_early.push(Change::ReplaceFunction {
                            from: old.clone(),
                            to: f.clone(),
                        });
                    } else {
                        p.drop_functions_early.push(Change::DropFunction {
                            function: old.clone(),
                        });
                        fn_creates.push(f.clone());
                        disturbed.insert(k.clone());
                    }
                } else if old.owner != f.owner || old.comment != f.comment || old.grants != f.grants
                {
                    p.table_props.push(Change::ReplaceFunction {
                        from: old.clone(),
                        to: f.clone(),
                    });
                }
            }
        }
    }
    for f in topo(
        fn_creates,
        |f| format!("{}({})", f.name, f.arguments),
        |f| f.depends_on.clone(),
    ) {
        // A function whose signature names a table's row type can only follow the table.
        let late = f.depends_on.iter().any(|d| {
            to.tables.keys().any(|t| &t.key() == d) || to.views.keys().any(|v| &v.key() == d)
        });
        let c = Change::CreateFunction { function: f };
        if late {
            p.functions_late.push(c);
        } else {
            p.functions_early.push(c);
        }
    }
    for (k, f) in &from.functions {
        if !to.functions.contains_key(k) {
            let ch = Change::DropFunction {
                function: f.clone(),
            };
            // One that names a dropped table's row type must go before the table.
            if f.depends_on
                .iter()
                .any(|d| dropped_tables.iter().any(|t| &t.key() == d))
            {
                p.drop_functions_early.push(ch);
            } else {
                p.drop_functions.push(ch);
            }
            disturbed.insert(k.clone());
        }
    }

    // Tables.
    let mut table_creates = vec![];
    for (k, t) in &to.tables {
        match from.tables.get(k) {
            None => table_creates.push(t.clone()),
            Some(f) => diff_table(f, t, to.dialect, renames, &mut p, &mut disturbed),
        }
    }
    for t in topo(
        table_creates,
        |t| t.name.key(),
        |t| {
            let mut d: Vec<String> = t.inherits.iter().map(|q| q.key()).collect();
            if let Some(po) = &t.partition_of {
                d.push(po.parent.key());
            }
            d
        },
    ) {
        let mut bare = t.clone();
        // Foreign keys wait until every table exists; policies and RLS come after
        // the functions they may call.
        bare.constraints
            .retain(|c| !matches!(c.kind, ConstraintKind::ForeignKey { .. }));
        bare.policies.clear();
        for c in &t.constraints {
            if matches!(c.kind, ConstraintKind::ForeignKey { .. }) {
                p.fks.push(Change::AddConstraint {
                    table: t.name.clone(),
                    constraint: c.clone(),
                });
            }
        }
        for pol in t.policies.values() {
            p.policies.push(Change::CreatePolicy {
                table: t.name.clone(),
                policy: pol.clone(),
            });
        }
        // `REPLICA IDENTITY USING INDEX` needs the index, which comes later.
        if t.replica_identity.is_some() {
            bare.replica_identity = None;
            let mut from = t.clone();
            from.replica_identity = None;
            p.table_props.push(Change::AlterTable {
                from,
                to: t.clone(),
            });
        }
        p.tables_create.push(Change::CreateTable { table: bare });
    }
    let mut table_drops = vec![];
    for (k, t) in &from.tables {
        if !to.tables.contains_key(k) {
            disturbed.insert(k.key());
            for c in &t.constraints {
                if matches!(c.kind, ConstraintKind::ForeignKey { .. }) {
                    p.drop_fks.push(Change::DropConstraint {
                        table: t.name.clone(),
                        constraint: c.clone(),
                    });
                }
            }
            table_drops.push(t.clone());
        }
    }
    // Partitions and inheritance children go before their parents.
    let ordered = topo(
        table_drops,
        |t| t.name.key(),
        |t| {
            let mut d: Vec<String> = t.inherits.iter().map(|q| q.key()).collect();
            if let Some(po) = &t.partition_of {
                d.push(po.parent.key());
            }
            d
        },
    );
    for t in ordered.into_iter().rev() {
        p.drop_tables.push(Change::DropTable { table: t });
    }

    // Views: changed or disturbed ones are dropped and re-created.
    let mut rebuild: BTreeSet<String> = BTreeSet::new();
    loop {
        let before = rebuild.len();
        for (k, v) in &from.views {
            let key = k.key();
            if rebuild.contains(&key) {
                continue;
            }
            let changed = match to.views.get(k) {
                None => true,
                Some(t) => view_core(v) != view_core(t),
            };
            if changed
                || v.depends_on
                    .iter()
                    .any(|d| disturbed.contains(d) || rebuild.contains(d))
            {
                rebuild.insert(key);
            }
        }
        if rebuild.len() == before {
            break;
        }
    }
    let view_drops: Vec<View> = from
        .views
        .values()
        .filter(|v| rebuild.contains(&v.name.key()))
        .cloned()
        .collect();
    for v in topo(view_drops, |v| v.name.key(), |v| v.depends_on.clone())
        .into_iter()
        .rev()
    {
        p.drop_views.push(Change::DropView { view: v });
    }
    let view_creates: Vec<View> = to
        .views
        .values()
        .filter(|v| !from.views.contains_key(&v.name) || rebuild.contains(&v.name.key()))
        .cloned()
        .collect();
    let recreated: BTreeSet<String> = view_creates.iter().map(|v| v.name.key()).collect();
    for v in topo(view_creates, |v| v.name.key(), |v| v.depends_on.clone()) {
        p.views.push(Change::CreateView { view: v });
    }
    // What AlterView changes; columns and depends_on are derived, not properties.
    let view_props = |x: &View| {
        (
            x.owner.clone(),
            x.comment.clone(),
            x.grants.clone(),
            x.column_comments.clone(),
        )
    };
    for (k, v) in &to.views {
        if let Some(f) = from.views.get(k) {
            if !recreated.contains(&k.key())
                && view_props(f) != view_props(v)
                && view_core(f) == view_core(v)
            {
                p.table_props.push(Change::AlterView {
                    from: f.clone(),
                    to: v.clone(),
                });
            }
        }
    }

    // Indexes. Those on dropped tables or views go with them; those on re-created
    // materialized views are re-created with them.
    let (pairs, only_from, only_to) = pair_indexes(&from.indexes, &to.indexes, to.dialect);
    // An index whose expression calls a function that is dropped and re-created must be
    // dropped first; its definition names the function.
    let calls_disturbed = |i: &Index| {
        disturbed.iter().any(|d| {
            d.split_once('(').is_some_and(|(qual, _)| {
                let name = qual.rsplit('.').next().unwrap_or(qual);
                i.definition.contains(&format!("{name}("))
            })
        })
    };
    for (a, b) in pairs {
        let on_rebuilt = recreated.contains(&b.table.key());
        if on_rebuilt {
            p.view_indexes
                .push(Change::CreateIndex { index: b.clone() });
        } else if !same_index_body(a, b) || calls_disturbed(a) {
            p.drop_indexes.push(Change::DropIndex { index: a.clone() });
            push_index(&mut p, to, b);
        } else if a.comment != b.comment {
            p.table_props.push(Change::AlterIndex {
                from: a.clone(),
                to: b.clone(),
            });
        }
    }
    for a in only_from {
        let gone_with_owner = !to.tables.contains_key(&a.table)
            && from.tables.contains_key(&a.table)
            || rebuild.contains(&a.table.key());
        if !gone_with_owner {
            p.drop_indexes.push(Change::DropIndex { index: a.clone() });
        }
    }
    for b in only_to {
        push_index(&mut p, to, b);
    }

    // Triggers. A trigger that another one follows (MySQL's FOLLOWS, in `depends_on`)
    // takes its follower along when it is re-created: a re-created trigger goes last.
    let mut redo: BTreeSet<&String> = BTreeSet::new();
    for (k, t) in &to.triggers {
        let changed = match from.triggers.get(k) {
            None => true,
            Some(f) => {
                trigger_core(f) != trigger_core(t)
                    || recreated.contains(&t.table.key())
                    || disturbed.iter().any(|d| t.depends_on.contains(d))
            }
        };
        if changed {
            redo.insert(k);
        }
    }
    loop {
        let before = redo.len();
        for (k, t) in &to.triggers {
            if t.depends_on.iter().any(|d| redo.contains(d)) {
                redo.insert(k);
            }
        }
        if redo.len() == before {
            break;
        }
    }
    for (k, t) in &to.triggers {
        match from.triggers.get(k) {
            None => p
                .triggers
                .push(Change::CreateTrigger { trigger: t.clone() }),
            Some(f) => {
                let owner_rebuilt = recreated.contains(&t.table.key());
                if redo.contains(k) {
                    if !owner_rebuilt {
                        p.drop_triggers
                            .push(Change::DropTrigger { trigger: f.clone() });
                    }
                    p.triggers
                        .push(Change::CreateTrigger { trigger: t.clone() });
                } else if f.enabled != t.enabled || f.comment != t.comment {
                    p.triggers.push(Change::AlterTrigger {
                        from: f.clone(),
                        to: t.clone(),
                    });
                }
            }
        }
    }
    for (k, t) in &from.triggers {
        if !to.triggers.contains_key(k) {
            let owner_dropped = (from.tables.contains_key(&t.table)
                && !to.tables.contains_key(&t.table))
                || rebuild.contains(&t.table.key());
            if !owner_dropped {
                p.drop_triggers
                    .push(Change::DropTrigger { trigger: t.clone() });
            }
        }
    }

    diff_others(from, to, &mut p);

    p.into_changes()
}

/// Objects compared by definition: a changed one is dropped and created again, each in
/// its phase; drops come first, in the reverse of creation order.
fn diff_others(from: &Database, to: &Database, p: &mut Phases) {
    let same = |a: &Other, b: &Other| sql_text(&a.definition) == sql_text(&b.definition);
    let creates: Vec<Other> = to
        .others
        .iter()
        .filter(|(k, o)| !from.others.get(*k).is_some_and(|f| same(f, o)))
        .map(|(_, o)| o.clone())
        .collect();
    let drops: Vec<Other> = from
        .others
        .iter()
        .filter(|(k, o)| !to.others.get(*k).is_some_and(|t| same(o, t)))
        .map(|(_, o)| o.clone())
        .collect();
    let order = |v: Vec<Other>| {
        let mut v = topo(v, Other::key, |o| o.depends_on.clone());
        // Stable: within a phase the dependency order holds.
        v.sort_by_key(|o| o.phase);
        v
    };
    for o in order(drops).into_iter().rev() {
        p.drop_others.push(Change::DropOther { other: o });
    }
    for o in order(creates) {
        let bucket = match o.phase {
            OtherPhase::BeforeTypes => &mut p.others_before_types,
            OtherPhase::BeforeTables => &mut p.others_before_tables,
            OtherPhase::AfterTables => &mut p.others_after_tables,
            OtherPhase::Last => &mut p.others_last,
        };
        bucket.push(Change::CreateOther { other: o });
    }
}

fn push_index(p: &mut Phases, to: &Database, idx: &Index) {
    let c = Change::CreateIndex { index: idx.clone() };
    if to.views.contains_key(&idx.table) {
        p.view_indexes.push(c);
    } else {
        p.indexes.push(c);
    }
}

/// Same number of labels, some renamed in place: the renames, position by position.
/// None when a new label already exists elsewhere (a swap), which renames cannot do
/// one at a time, or when nothing was renamed.
pub fn enum_renames(la: &[String], lb: &[String]) -> Option<Vec<(String, String)>> {
    if la.len() != lb.len() || la == lb {
        return None;
    }
    let mut out = vec![];
    for (a, b) in la.iter().zip(lb) {
        if a != b {
            if la.contains(b) {
                return None;
            }
            out.push((a.clone(), b.clone()));
        }
    }
    Some(out)
}

/// Enum labels can be added (or renamed) in place, and owner, comment and grants altered; anything
/// else about a type needs a replacement.
fn type_alterable(a: &TypeDef, b: &TypeDef) -> bool {
    match (&a.kind, &b.kind) {
        (TypeKind::Enum { labels: la }, TypeKind::Enum { labels: lb })
            if enum_renames(la, lb).is_some() =>
        {
            true
        }
        (TypeKind::Enum { labels: la }, TypeKind::Enum { labels: lb }) => {
            // Every old label must survive in the same relative order.
            let mut it = lb.iter();
            la.iter().all(|l| it.any(|x| x == l))
        }
        (TypeKind::Domain { base: ba, .. }, TypeKind::Domain { base: bb, .. }) => ba == bb,
        (ka, kb) => ka == kb,
    }
}

/// A column rename someone declared: `table.from` is `table.to` on the other side.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ColumnRename {
    pub table: QualName,
    pub from: String,
    pub to: String,
}

impl ColumnRename {
    /// Whether the rename explains the two tables: `from` before and `to` after, and not
    /// `to` before. `from` may be there after too: a new column that took the old name
    /// (Lemmy renames `newest_comment_time` and adds a new one).
    pub fn fits(&self, before: &Table, after: &Table) -> bool {
        before.column(&self.from).is_some()
            && before.column(&self.to).is_none()
            && after.column(&self.to).is_some()
    }

    /// Why the rename does not apply to these two schemas, if it does not.
    pub fn check(&self, before: &Database, after: &Database) -> Result<(), String> {
        let (Some(b), Some(a)) = (
            before.tables.get(&self.table),
            after.tables.get(&self.table),
        ) else {
            return Err(format!("table {} is not on both sides", self.table));
        };
        let has = |t: &Table, c: &str| t.column(c).is_some();
        let problem = if !has(b, &self.from) {
            format!("FROM has no column {}.{}", self.table, self.from)
        } else if has(b, &self.to) {
            format!("FROM already has a column {}.{}", self.table, self.to)
        } else if !has(a, &self.to) {
            format!("TO has no column {}.{}", self.table, self.to)
        } else {
            return Ok(());
        };
        Err(problem)
    }

    /// The `--rename` argument that declares it: `t.old=new` (`schema.t.old=new` outside
    /// the default schema).
    pub fn arg(&self) -> String {
        let t = if matches!(self.table.schema.as_str(), "public" | "main") {
            self.table.name.clone()
        } else {
            self.table.key()
        };
        format!("{t}.{}={}", self.from, self.to)
    }

    /// What a plan says about a drop and an add that may be this rename.
    pub fn hint(&self) -> String {
        format!(
            "possible rename: {t}.{} -> {t}.{}; pass `--rename {}` if it is one (as planned, {t}.{} is dropped with its data and {t}.{} added)",
            self.from,
            self.to,
            self.arg(),
            self.from,
            self.to,
            t = self.table
        )
    }
}

/// Column renames that migrations declare (`RENAME COLUMN`, MySQL's `CHANGE`) and that
/// explain `from` → `to`: the old name only in `from`, the new one only in `to`. A rename
/// of a renamed column counts from the first name too; two declarations for one column
/// are none. Each comes with the label of the migration that declares it. `migrations`
/// are (label, up script) in order.
pub fn renames_in_migrations<'m>(
    migrations: impl IntoIterator<Item = (String, &'m str)>,
    from: &Database,
    to: &Database,
) -> Vec<(ColumnRename, String)> {
    use crate::sql::shapes::{touched, Touch};
    // (table, old, new, label), chains followed.
    let mut seen: Vec<(String, String, String, String)> = vec![];
    for (label, text) in migrations {
        for t in touched(text) {
            let (Some(col), Touch::RenamedTo(new)) = (t.column, t.touch) else {
                continue;
            };
            let chained: Vec<_> = seen
                .iter()
                .filter(|(tb, _, n, _)| {
                    tb.eq_ignore_ascii_case(&t.table) && n.eq_ignore_ascii_case(&col)
                })
                .map(|(tb, o, _, _)| (tb.clone(), o.clone(), new.clone(), label.clone()))
                .collect();
            seen.extend(chained);
            seen.push((t.table, col, new, label.clone()));
        }
    }
    // Names are as written; PostgreSQL folds unquoted ones to lower case.
    let same = |model: &str, written: &str| model == written || model == written.to_lowercase();
    let mut out: Vec<(ColumnRename, String)> = vec![];
    for (table, old, new, label) in seen {
        for (q, f) in from.tables.iter().filter(|(q, _)| same(&q.name, &table)) {
            let Some(t) = to.tables.get(q) else {
                continue;
            };
            let name = |tb: &Table, n: &str| {
                tb.columns
                    .iter()
                    .find(|c| same(&c.name, n))
                    .map(|c| c.name.clone())
            };
            let (Some(o), Some(n)) = (name(f, &old), name(t, &new)) else {
                continue;
            };
            let r = ColumnRename {
                table: q.clone(),
                from: o,
                to: n,
            };
            if r.fits(f, t) && !out.iter().any(|(x, _)| *x == r) {
                out.push((r, label.clone()));
            }
        }
    }
    let all: Vec<ColumnRename> = out.iter().map(|(r, _)| r.clone()).collect();
    out.retain(|(r, _)| {
        !all.iter()
            .any(|x| x != r && x.table == r.table && (x.from == r.from || x.to == r.to))
    });
    out
}

/// Columns a diff drops and adds in one table that may be one column renamed: paired one
/// to one by the same definition apart from the name, or the only column dropped with the
/// only column added. Never planned as renames; plans and reports point them out.
pub fn possible_renames(changes: &[Change]) -> Vec<ColumnRename> {
    let mut gone: BTreeMap<&QualName, Vec<&Column>> = BTreeMap::new();
    let mut new: BTreeMap<&QualName, Vec<&Column>> = BTreeMap::new();
    for c in changes {
        match c {
            Change::DropColumn { table, column } => gone.entry(table).or_default().push(column),
            Change::AddColumn { table, column } => new.entry(table).or_default().push(column),
            _ => {}
        }
    }
    let same = |a: &Column, b: &Column| {
        let mut b = b.clone();
        b.name = a.name.clone();
        b.comment = a.comment.clone();
        b.grants = a.grants.clone();
        same_column(a, &b)
    };
    let mut out = vec![];
    for (table, mut g) in gone {
        let Some(mut n) = new.remove(table) else {
            continue;
        };
        let mut pairs = vec![];
        for a in g.clone() {
            let ms: Vec<&&Column> = n.iter().filter(|b| same(a, b)).collect();
            if let [b] = ms.as_slice() {
                if g.iter().filter(|x| same(x, b)).count() == 1 {
                    pairs.push((a.name.clone(), b.name.clone()));
                }
            }
        }
        g.retain(|a| !pairs.iter().any(|(x, _)| *x == a.name));
        n.retain(|b| !pairs.iter().any(|(_, y)| *y == b.name));
        if let ([a], [b]) = (g.as_slice(), n.as_slice()) {
            pairs.push((a.name.clone(), b.name.clone()));
        }
        out.extend(pairs.into_iter().map(|(from, to)| ColumnRename {
            table: table.clone(),
            from,
            to,
        }));
    }
    out
}

/// Whether matching columns by name leaves an order that appending and dropping cannot
/// produce: shared columns in another order, or a new column before a shared one.
fn order_problem(f: &Table, t: &Table) -> bool {
    let shared_from = f
        .columns
        .iter()
        .filter(|c| t.column(&c.name).is_some())
        .map(|c| &c.name);
    let shared_to = t
        .columns
        .iter()
        .filter(|c| f.column(&c.name).is_some())
        .map(|c| &c.name);
    let added_in_middle = t.columns.iter().enumerate().any(|(i, c)| {
        f.column(&c.name).is_none()
            && t.columns[i..]
                .iter()
                .any(|later| f.column(&later.name).is_some())
    });
    !shared_from.eq(shared_to) || added_in_middle
}

/// The table as it is after the renames: columns and the constraints' column lists.
fn apply_renames(f: &Table, renames: &[(String, String)]) -> Table {
    let map = |n: &mut String| {
        if let Some((_, to)) = renames.iter().find(|(from, _)| from == n) {
            *n = to.clone();
        }
    };
    let mut t = f.clone();
    for c in &mut t.columns {
        map(&mut c.name);
    }
    for c in &mut t.constraints {
        match &mut c.kind {
            ConstraintKind::PrimaryKey { columns, .. }
            | ConstraintKind::Unique { columns, .. }
            | ConstraintKind::ForeignKey { columns, .. } => columns.iter_mut().for_each(map),
            _ => {}
        }
    }
    t
}

fn diff_table(
    f: &Table,
    t: &Table,
    dialect: Dialect,
    declared: &[ColumnRename],
    p: &mut Phases,
    disturbed: &mut BTreeSet<String>,
) {
    let key = t.name.key();
    // A table inspection could not read faithfully is reported as a whole, never
    // diffed column by column from a model that may be wrong.
    if f.mismatch.is_some() || t.mismatch.is_some() {
        p.table_props.push(Change::AlterTable {
            from: f.clone(),
            to: t.clone(),
        });
        return;
    }
    // Only declared renames: two schemas alone never prove one (a column added in the
    // middle looks like one). See docs/diff.md.
    let renames: Vec<(String, String)> = declared
        .iter()
        .filter(|r| r.table == t.name && r.fits(f, t))
        .map(|r| (r.from.clone(), r.to.clone()))
        .collect();
    let renamed;
    let f = if renames.is_empty() {
        f
    } else {
        for (a, b) in &renames {
            p.renames.push(Change::RenameColumn {
                table: t.name.clone(),
                from: a.clone(),
                to: b.clone(),
            });
        }
        // Views print column names, so they are re-created around a rename.
        disturbed.insert(key.clone());
        renamed = apply_renames(f, &renames);
        &renamed
    };
    // Columns: matched by name.
    for c in &t.columns {
        match f.column(&c.name) {
            None => p.columns.push(Change::AddColumn {
                table: t.name.clone(),
                column: c.clone(),
            }),
            Some(old) if !same_column(old, c) => {
                if old.type_ != c.type_ || old.generated != c.generated {
                    disturbed.insert(key.clone());
                }
                p.columns.push(Change::AlterColumn {
                    table: t.name.clone(),
                    from: old.clone(),
                    to: c.clone(),
                });
            }
            _ => {}
        }
    }
    for c in &f.columns {
        if t.column(&c.name).is_none() {
            disturbed.insert(key.clone());
            p.drop_columns.push(Change::DropColumn {
                table: t.name.clone(),
                column: c.clone(),
            });
        }
    }
    if order_problem(f, t) {
        p.columns.push(Change::ColumnOrder {
            table: t.name.clone(),
            from: f.columns.iter().map(|c| c.name.clone()).collect(),
            to: t.columns.iter().map(|c| c.name.clone()).collect(),
        });
    }

    // Constraints.
    let (pairs, only_f, only_t) =
        pair_constraints(&t.name.name, &f.constraints, &t.constraints, dialect);
    let fk = |c: &Constraint| matches!(c.kind, ConstraintKind::ForeignKey { .. });
    let drop = |c: &Constraint, p: &mut Phases| {
        let ch = Change::DropConstraint {
            table: t.name.clone(),
            constraint: c.clone(),
        };
        if fk(c) {
            p.drop_fks.push(ch)
        } else {
            p.drop_constraints.push(ch)
        }
    };
    let add = |c: &Constraint, p: &mut Phases| {
        let ch = Change::AddConstraint {
            table: t.name.clone(),
            constraint: c.clone(),
        };
        if fk(c) {
            p.fks.push(ch)
        } else {
            p.constraints.push(ch)
        }
    };
    for (a, b) in pairs {
        if !same_constraint_body(a, b) {
            drop(a, p);
            add(b, p);
        } else if a.comment != b.comment {
            p.table_props.push(Change::AlterConstraint {
                table: t.name.clone(),
                from: a.clone(),
                to: b.clone(),
            });
        }
    }
    for c in only_f {
        drop(c, p);
    }
    for c in only_t {
        add(c, p);
    }

    // Policies.
    for (name, pol) in &t.policies {
        match f.policies.get(name) {
            Some(old) if old == pol => {}
            Some(old) => {
                p.drop_policies.push(Change::DropPolicy {
                    table: t.name.clone(),
                    policy: old.clone(),
                });
                p.policies.push(Change::CreatePolicy {
                    table: t.name.clone(),
                    policy: pol.clone(),
                });
            }
            None => p.policies.push(Change::CreatePolicy {
                table: t.name.clone(),
                policy: pol.clone(),
            }),
        }
    }
    for (name, pol) in &f.policies {
        if !t.policies.contains_key(name) {
            p.drop_policies.push(Change::DropPolicy {
                table: t.name.clone(),
                policy: pol.clone(),
            });
        }
    }

    let props = |x: &Table| {
        let mut x = x.clone();
        x.columns.clear();
        x.constraints.clear();
        x.policies.clear();
        x
    };
    if props(f) != props(t) {
        if f.partition_key != t.partition_key || f.kind != t.kind {
            // Only a rebuild changes partitioning; views that read the table go around it.
            disturbed.insert(key.clone());
        }
        p.table_props.push(Change::AlterTable {
            from: f.clone(),
            to: t.clone(),
        });
    }
}

/// Stable topological sort: items keep their input order unless a dependency (among the
/// items themselves) must come first. Cycles fall back to input order.
pub fn topo<T>(
    items: Vec<T>,
    key: impl Fn(&T) -> String,
    deps: impl Fn(&T) -> Vec<String>,
) -> Vec<T> {
    let keys: Vec<String> = items.iter().map(&key).collect();
    let index: BTreeMap<&str, usize> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| (k.as_str(), i))
        .collect();
    let n = items.len();
    let mut state = vec![0u8; n]; // 0 new, 1 visiting, 2 done
    let mut order = Vec::with_capacity(n);
    let dep_idx: Vec<Vec<usize>> = items
        .iter()
        .enumerate()
        .map(|(i, it)| {
            deps(it)
                .iter()
                .filter_map(|d| index.get(d.as_str()).copied())
                .filter(|&j| j != i)
                .collect()
        })
        .collect();
    for start in 0..n {
        if state[start] != 0 {
            continue;
        }
        // Iterative DFS so deep chains cannot overflow the stack.
        let mut stack = vec![(start, 0usize)];
        state[start] = 1;
        while let Some((node, next)) = stack.pop() {
            if next < dep_idx[node].len() {
                stack.push((node, next + 1));
                let d = dep_idx[node][next];
                if state[d] == 0 {
                    state[d] = 1;
                    stack.push((d, 0));
                }
            } else {
                state[node] = 2;
                order.push(node);
            }
        }
    }
    let mut slots: Vec<Option<T>> = items.into_iter().map(Some).collect();
    order.into_iter().filter_map(|i| slots[i].take()).collect()
}

/// Whether every value of type `from` converts to `to` unchanged, so the change
/// loses nothing: a wider varchar, varchar to text, a wider integer or numeric.
/// Anything not known to widen counts as destructive; a wrong "safe" would let a
/// deploy truncate data without asking.
pub fn keeps_values(from: &str, to: &str) -> bool {
    if from == to {
        return true;
    }
    let (Some((fb, fa)), Some((tb, ta))) = (parse_type(from), parse_type(to)) else {
        return false;
    };
    // MySQL's text types by the bytes they hold; PostgreSQL's text is unbounded,
    // which the largest rank covers for any varchar a PostgreSQL schema uses.
    let text_rank = |b: &str| match b {
        "tinytext" => Some(1),
        "text" => Some(2),
        "mediumtext" => Some(3),
        "longtext" => Some(4),
        _ => None,
    };
    let int_rank = |b: &str| match b {
        "tinyint" => Some(1),
        "smallint" | "int2" => Some(2),
        "mediumint" => Some(3),
        "integer" | "int" | "int4" => Some(4),
        "bigint" | "int8" => Some(8),
        _ => None,
    };
    match (fb.as_str(), tb.as_str()) {
        // char(n) pads with blanks that varchar keeps; char to varchar is not lossless.
        ("character varying" | "varchar", "character varying" | "varchar") => {
            match (fa.first(), ta.first()) {
                (_, None) => true,
                (Some(a), Some(b)) => b >= a,
                (None, Some(_)) => false,
            }
        }
        ("character" | "char" | "bpchar", "character" | "char" | "bpchar") => fa == ta,
        // Four bytes a character (utf8mb4) must fit the text type's bytes.
        ("character varying" | "varchar", b) if text_rank(b).is_some() => match fa.first() {
            None => text_rank(b) >= Some(2),
            Some(n) => match b {
                "tinytext" => *n <= 63,
                "text" => *n <= 16383,
                _ => true,
            },
        },
        (a, b) if text_rank(a).is_some() && text_rank(b).is_some() => text_rank(b) >= text_rank(a),
        ("text", "character varying" | "varchar") => ta.is_empty(),
        (a, b) if int_rank(a).is_some() && int_rank(b).is_some() => {
            int_rank(b) >= int_rank(a) && unsigned(from) == unsigned(to)
        }
        (a, "numeric" | "decimal") if int_rank(a).is_some() => match ta.as_slice() {
            [] => true,
            [p] => *p >= 20,
            [p, s] => p - s >= 20,
            _ => false,
        },
        ("numeric" | "decimal", "numeric" | "decimal") => match (fa.as_slice(), ta.as_slice()) {
            (_, []) => true,
            ([], _) => false,
            (f, t) => {
                let (fp, fs) = (f[0], f.get(1).copied().unwrap_or(0));
                let (tp, ts) = (t[0], t.get(1).copied().unwrap_or(0));
                ts >= fs && tp - ts >= fp - fs
            }
        },
        ("real" | "float4", "double precision" | "float8") => true,
        ("float", "double") => true,
        ("timestamp without time zone", "timestamp without time zone")
        | ("timestamp with time zone", "timestamp with time zone")
        | ("time without time zone", "time without time zone") => {
            // Precision only: fewer fractional digits round.
            match (fa.first(), ta.first()) {
                (_, None) => true,
                (Some(a), Some(b)) => b >= a,
                (None, Some(b)) => *b >= 6,
            }
        }
        _ => false,
    }
}

fn unsigned(ty: &str) -> bool {
    ty.to_ascii_lowercase().contains("unsigned")
}

/// A type's base name and its numeric arguments: `character varying(20)` gives
/// (`character varying`, [20]); `numeric(10,2)` gives (`numeric`, [10, 2]). MySQL's
/// display widths (`int(11)`) are arguments too but do not bound values, so integer
/// ranks ignore them.
fn parse_type(ty: &str) -> Option<(String, Vec<i64>)> {
    let ty = ty.trim().to_ascii_lowercase();
    let ty = ty.strip_suffix(" unsigned").unwrap_or(&ty).trim();
    let (base, args) = match ty.find('(') {
        Some(i) => {
            let close = ty.rfind(')')?;
            let args = ty[i + 1..close]
                .split(',')
                .map(|a| a.trim().parse::<i64>().ok())
                .collect::<Option<Vec<_>>>()?;
            // `timestamp(3) with time zone`: the words after the arguments belong to the base.
            let rest = ty[close + 1..].trim();
            let base = if rest.is_empty() {
                ty[..i].trim().to_string()
            } else {
                format!("{} {rest}", ty[..i].trim())
            };
            (base, args)
        }
        None => (ty.to_string(), vec![]),
    };
    if base.contains(['[', '"', '.']) {
        return None;
    }
    Some((base, args))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Database {
        Database::empty(Dialect::Postgres)
    }

    fn table(name: &str, cols: &[(&str, &str)]) -> Table {
        let mut t = Table::new(QualName::new("public", name));
        t.columns = cols.iter().map(|(n, ty)| Column::new(*n, *ty)).collect();
        t
    }

    #[test]
    fn identical_models_have_no_changes() {
        let mut a = db();
        let t = table("orders", &[("id", "integer"), ("total", "numeric")]);
        a.tables.insert(t.name.clone(), t);
        assert!(diff(&a, &a.clone()).is_empty());
    }

    #[test]
    fn column_type_change_is_in_place_and_destructive() {
        let mut a = db();
        let t = table("orders", &[("id", "bigint")]);
        a.tables.insert(t.name.clone(), t);
        let mut b = a.clone();
        b.tables.values_mut().next().unwrap().columns[0].type_ = "integer".into();
        let ch = diff(&a, &b);
        assert_eq!(ch.len(), 1);
        assert!(matches!(ch[0], Change::AlterColumn { .. }));
        assert!(ch[0].destructive());
    }

    #[test]
    fn widening_a_type_is_not_destructive() {
        for (from, to) in [
            ("character varying(20)", "text"),
            ("character varying(20)", "character varying(40)"),
            ("character varying(20)", "character varying"),
            ("character varying", "text"),
            ("text", "character varying"),
            ("smallint", "integer"),
            ("integer", "bigint"),
            ("integer", "numeric"),
            ("numeric(10,2)", "numeric(12,2)"),
            ("numeric(10,2)", "numeric(12,4)"),
            ("numeric(10,2)", "numeric"),
            ("real", "double precision"),
            (
                "timestamp(3) without time zone",
                "timestamp without time zone",
            ),
            ("varchar(20)", "varchar(255)"),
            ("varchar(255)", "text"),
            ("text", "mediumtext"),
            ("int(11)", "bigint(20)"),
            ("int(10) unsigned", "bigint(20) unsigned"),
        ] {
            assert!(keeps_values(from, to), "{from} -> {to} keeps every value");
        }
        for (from, to) in [
            ("text", "character varying(20)"),
            ("character varying(40)", "character varying(20)"),
            ("character varying", "character varying(20)"),
            ("character(5)", "text"),
            ("bigint", "integer"),
            ("integer", "smallint"),
            ("numeric(12,2)", "numeric(10,2)"),
            ("numeric(10,4)", "numeric(10,2)"),
            ("numeric", "numeric(10,2)"),
            ("bigint", "numeric(10,0)"),
            ("double precision", "real"),
            ("text", "integer"),
            ("timestamp without time zone", "timestamp with time zone"),
            ("varchar(20000)", "text"),
            ("varchar(100)", "tinytext"),
            ("mediumtext", "text"),
            ("int(10) unsigned", "int(11)"),
            ("integer[]", "bigint[]"),
        ] {
            assert!(!keeps_values(from, to), "{from} -> {to} may lose values");
        }
    }

    #[test]
    fn widening_varchar_to_text_is_not_marked_destructive() {
        let mut a = db();
        let t = table("orders", &[("note", "character varying(20)")]);
        a.tables.insert(t.name.clone(), t);
        let mut b = a.clone();
        b.tables.values_mut().next().unwrap().columns[0].type_ = "text".into();
        let ch = diff(&a, &b);
        assert_eq!(ch.len(), 1);
        assert!(!ch[0].destructive(), "{}", ch[0].describe());
        let back = diff(&b, &a);
        assert!(back[0].destructive(), "text -> varchar(20) can truncate");
    }

    #[test]
    fn column_order_is_reported() {
        let mut a = db();
        let t = table("t", &[("a", "integer"), ("b", "integer")]);
        a.tables.insert(t.name.clone(), t);
        let mut b = a.clone();
        b.tables.values_mut().next().unwrap().columns.reverse();
        let ch = diff(&a, &b);
        assert!(
            ch.iter().any(|c| matches!(c, Change::ColumnOrder { .. })),
            "{ch:?}"
        );
    }

    #[test]
    fn system_named_constraints_pair_by_definition() {
        let mut a = db();
        let mut t = table("orders", &[("id", "integer"), ("c", "integer")]);
        t.constraints.push(Constraint::new(
            Some("orders_c_check".into()),
            ConstraintKind::Check {
                expression: "(c > 0)".into(),
                no_inherit: false,
            },
        ));
        a.tables.insert(t.name.clone(), t);
        let mut b = a.clone();
        b.tables.values_mut().next().unwrap().constraints[0].name = Some("orders_c_check1".into());
        assert!(diff(&a, &b).is_empty());
        // A user-chosen name is an identity: renaming it is a change.
        b.tables.values_mut().next().unwrap().constraints[0].name = Some("positive_c".into());
        assert_eq!(diff(&a, &b).len(), 2);
    }

    #[test]
    fn foreign_keys_follow_tables_and_views_follow_tables() {
        let a = db();
        let mut b = db();
        let mut child = table("child", &[("id", "integer"), ("p", "integer")]);
        child.constraints.push(Constraint::new(
            Some("child_p_fkey".into()),
            ConstraintKind::ForeignKey {
                columns: vec!["p".into()],
                references: QualName::new("public", "parent"),
                ref_columns: vec!["id".into()],
                on_delete: "NO ACTION".into(),
                on_update: "NO ACTION".into(),
                match_: "SIMPLE".into(),
            },
        ));
        b.tables.insert(child.name.clone(), child);
        let parent = table("parent", &[("id", "integer")]);
        b.tables.insert(parent.name.clone(), parent);
        let ch = diff(&a, &b);
        let pos_fk = ch
            .iter()
            .position(|c| matches!(c, Change::AddConstraint { .. }))
            .unwrap();
        let last_table = ch
            .iter()
            .rposition(|c| matches!(c, Change::CreateTable { .. }))
            .unwrap();
        assert!(pos_fk > last_table);
    }

    #[test]
    fn dependent_view_is_rebuilt_around_a_type_change() {
        let mut a = db();
        let t = table("t", &[("a", "integer")]);
        a.tables.insert(t.name.clone(), t);
        let v = View {
            columns: vec!["a".into()],
            depends_on: vec!["public.t".into()],
            ..View::new(QualName::new("public", "v"), "SELECT a FROM t")
        };
        a.views.insert(v.name.clone(), v);
        let mut b = a.clone();
        b.tables.values_mut().next().unwrap().columns[0].type_ = "bigint".into();
        let ch = diff(&a, &b);
        let kinds: Vec<&str> = ch
            .iter()
            .map(|c| match c {
                Change::DropView { .. } => "drop view",
                Change::AlterColumn { .. } => "alter column",
                Change::CreateView { .. } => "create view",
                _ => "other",
            })
            .collect();
        assert_eq!(kinds, ["drop view", "alter column", "create view"]);
    }

    fn kinds(ch: &[Change]) -> Vec<&'static str> {
        ch.iter()
            .map(|c| match c {
                Change::RenameColumn { .. } => "rename",
                Change::AddColumn { .. } => "add",
                Change::DropColumn { .. } => "drop",
                Change::AlterColumn { .. } => "alter",
                Change::ColumnOrder { .. } => "order",
                _ => "other",
            })
            .collect()
    }

    #[test]
    fn renames_only_when_declared() {
        let mut a = db();
        let t = table("t", &[("a", "integer"), ("c", "text")]);
        a.tables.insert(t.name.clone(), t);
        // The case: a column added in the middle is added at the end, and the
        // order is reported; c keeps its data.
        let mut b = db();
        let t = table("t", &[("a", "integer"), ("b", "timestamp"), ("c", "text")]);
        b.tables.insert(t.name.clone(), t);
        assert_eq!(kinds(&diff(&a, &b)), ["add", "order"]);
        assert!(possible_renames(&diff(&a, &b)).is_empty());
        // c replaced by b: a drop and an add, with the possible rename pointed out.
        let mut c = db();
        let t = table("t", &[("a", "integer"), ("b", "text")]);
        c.tables.insert(t.name.clone(), t);
        let ch = diff(&a, &c);
        assert_eq!(kinds(&ch), ["drop", "add"]);
        let r = possible_renames(&ch);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].arg(), "t.c=b");
        assert!(r[0].hint().contains("pass `--rename t.c=b` if it is one"));
        // Declared: a rename, then what else differs.
        let q = QualName::new("public", "t");
        let declared = [ColumnRename {
            table: q.clone(),
            from: "c".into(),
            to: "b".into(),
        }];
        assert_eq!(kinds(&diff_with(&a, &c, &declared)), ["rename"]);
        let mut d = c.clone();
        d.tables.get_mut(&q).unwrap().columns[1].type_ = "varchar(10)".into();
        assert_eq!(kinds(&diff_with(&a, &d, &declared)), ["rename", "alter"]);
        // A declaration that does not fit is refused by check and ignored by the diff.
        let wrong = ColumnRename {
            table: q.clone(),
            from: "a".into(),
            to: "c".into(),
        };
        assert!(wrong.check(&a, &c).is_err());
        assert!(declared[0].check(&a, &c).is_ok());
        assert_eq!(kinds(&diff_with(&a, &c, &[wrong])), ["drop", "add"]);
        // Two columns swapped: only the order differs.
        let mut g = a.clone();
        g.tables.get_mut(&q).unwrap().columns.swap(0, 1);
        assert_eq!(kinds(&diff(&a, &g)), ["order"]);
    }

    #[test]
    fn migrations_declare_renames_that_fit() {
        let side = |cols: &[(&str, &str)]| {
            let mut d = db();
            let t = table("orders", cols);
            d.tables.insert(t.name.clone(), t);
            d
        };
        let a = side(&[
            ("id", "integer"),
            ("cust_ref", "text"),
            ("total", "numeric"),
        ]);
        let b = side(&[
            ("id", "integer"),
            ("customer", "text"),
            ("amount", "numeric"),
        ]);
        let migs = [
            (
                "1".to_string(),
                "ALTER TABLE orders RENAME COLUMN cust_ref TO customer_ref;",
            ),
            (
                "2".to_string(),
                "ALTER TABLE Orders RENAME customer_ref TO Customer;",
            ),
            (
                "3".to_string(),
                "ALTER TABLE orders RENAME COLUMN total TO amount;",
            ),
            (
                "4".to_string(),
                "ALTER TABLE other RENAME COLUMN total TO amount;",
            ),
        ];
        let got: Vec<String> =
            renames_in_migrations(migs.iter().map(|(l, t)| (l.clone(), *t)), &a, &b)
                .into_iter()
                .map(|(r, by)| format!("{} by {by}", r.arg()))
                .collect();
        // A chain counts from its first name; unquoted names fold to lower case.
        assert_eq!(
            got,
            ["orders.cust_ref=customer by 2", "orders.total=amount by 3"]
        );
        // A new column may take the old name.
        let mut c = b.clone();
        c.tables
            .values_mut()
            .next()
            .unwrap()
            .columns
            .push(Column::new("total", "integer"));
        let ch = diff_with(
            &a,
            &c,
            &renames_in_migrations(migs.iter().map(|(l, t)| (l.clone(), *t)), &a, &c)
                .into_iter()
                .map(|(r, _)| r)
                .collect::<Vec<_>>(),
        );
        assert_eq!(kinds(&ch), ["rename", "rename", "add"], "{ch:?}");
        // The other direction does not fit.
        assert!(
            renames_in_migrations(migs.iter().map(|(l, t)| (l.clone(), *t)), &b, &a).is_empty()
        );
    }

    #[test]
    fn possible_renames_pair_one_to_one() {
        let ch = |from: &[(&str, &str)], to: &[(&str, &str)]| {
            let mut a = db();
            let t = table("t", from);
            a.tables.insert(t.name.clone(), t);
            let mut b = db();
            let t = table("t", to);
            b.tables.insert(t.name.clone(), t);
            possible_renames(&diff(&a, &b))
                .into_iter()
                .map(|r| format!("{}>{}", r.from, r.to))
                .collect::<Vec<_>>()
        };
        // By definition, whatever the positions.
        assert_eq!(
            ch(
                &[("x", "integer"), ("y", "text"), ("k", "bigint")],
                &[("k", "bigint"), ("yy", "text"), ("xx", "integer")]
            ),
            ["x>xx", "y>yy"]
        );
        // Two dropped of one type and one added: no telling which.
        assert!(ch(&[("x", "text"), ("y", "text")], &[("z", "text")]).is_empty());
        // Retyped as well: only as the one dropped and the one added.
        assert_eq!(ch(&[("x", "text")], &[("z", "integer")]), ["x>z"]);
    }

    proptest::proptest! {
        /// Inserting, dropping and reordering columns never plans a rename on any
        /// engine; declaring the possible ones plans exactly those.
        #[test]
        fn no_plan_renames_what_nobody_declared(
            types in proptest::collection::vec(0usize..3, 1..7),
            dropped in proptest::collection::vec(proptest::bool::weighted(0.3), 7),
            added in proptest::collection::vec((0usize..9, 0usize..3), 0..4),
            shuffle in proptest::bool::ANY,
        ) {
            const TYPES: [&str; 3] = ["integer", "text", "bigint"];
            for dialect in [Dialect::Postgres, Dialect::Sqlite, Dialect::Mysql] {
                let schema = if dialect == Dialect::Postgres { "public" } else { "main" };
                let mut t = Table::new(QualName::new(schema, "t"));
                t.columns = types
                    .iter()
                    .enumerate()
                    .map(|(i, ty)| Column::new(format!("c{i}"), TYPES[*ty]))
                    .collect();
                let mut a = Database::empty(dialect);
                a.tables.insert(t.name.clone(), t.clone());
                let mut cols: Vec<Column> = t
                    .columns
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| !dropped[*i])
                    .map(|(_, c)| c.clone())
                    .collect();
                if shuffle {
                    cols.reverse();
                }
                for (k, (pos, ty)) in added.iter().enumerate() {
                    let at = pos % (cols.len() + 1);
                    cols.insert(at, Column::new(format!("n{k}"), TYPES[*ty]));
                }
                let mut b = a.clone();
                b.tables.get_mut(&t.name).unwrap().columns = cols;
                let ch = diff(&a, &b);
                proptest::prop_assert!(
                    !ch.iter().any(|c| matches!(c, Change::RenameColumn { .. })),
                    "{:?}",
                    ch
                );
                let sql = crate::plan::plan(&ch, &a, &b).to_sql();
                proptest::prop_assert!(!sql.contains("RENAME COLUMN"), "{}", sql);
                let possible = possible_renames(&ch);
                let declared = diff_with(&a, &b, &possible);
                let renamed = declared
                    .iter()
                    .filter(|c| matches!(c, Change::RenameColumn { .. }))
                    .count();
                proptest::prop_assert_eq!(renamed, possible.len());
            }
        }
    }

    #[test]
    fn enum_labels_renamed_in_place() {
        let l = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            enum_renames(&l(&["open", "closed"]), &l(&["Open", "Closed"])),
            Some(vec![
                ("open".into(), "Open".into()),
                ("closed".into(), "Closed".into())
            ])
        );
        assert_eq!(enum_renames(&l(&["a", "b"]), &l(&["b", "a"])), None);
    }

    #[test]
    fn topo_orders_dependencies_first() {
        let items = vec![("c", vec!["b"]), ("b", vec!["a"]), ("a", vec![])];
        let out = topo(
            items,
            |x| x.0.to_string(),
            |x| x.1.iter().map(|s| s.to_string()).collect(),
        );
        let names: Vec<&str> = out.iter().map(|x| x.0).collect();
        assert_eq!(names, ["a", "b", "c"]);
    }
}
