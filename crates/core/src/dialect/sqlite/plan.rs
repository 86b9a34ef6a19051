//! SQLite plans.
//!
//! SQLite's ALTER TABLE can add, drop and rename columns and nothing else. Every other
//! change to a table is made by rebuilding it, following the procedure in
//! <https://www.sqlite.org/lang_altertable.html> ("Making Other Kinds Of Table Schema
//! Changes"): create the new shape under a temporary name, copy the rows, drop the old
//! table, rename the new one, re-create its indexes and triggers. All changes of one
//! table become one rebuild, so a table is copied at most once per plan.
//!
//! The [`text`] module reads SQLite's stored CREATE text; the inspector uses it for what
//! the pragmas do not expose, and the planner for the few decisions that depend on
//! expression shapes.

use super::text;
use super::types::type_sql;
use crate::dialect::{foreign_key_sql, ForeignKeyStyle};
use crate::diff::Change;
use crate::model::*;
use crate::normalize::sql_text;
use crate::plan::{ident, literal, shown, shown_qual, Plan, Statement};
use std::collections::{BTreeMap, BTreeSet};

/// Prefix of the temporary name a rebuilt table has until it is renamed. lockstep's own
/// prefix, so that inspection never reports a leftover.
const REBUILD_PREFIX: &str = "lockstep_new_";

pub fn plan(changes: &[Change], from: &Database, to: &Database) -> Plan {
    let created = crate::plan::tables_created(changes);
    let dropped = crate::plan::tables_dropped(changes);

    // SQLite cannot add a foreign key to an existing table, and the diff emits the keys
    // of new tables after all tables exist: fold them back into CREATE TABLE.
    let mut folded: BTreeMap<&QualName, Vec<&Constraint>> = BTreeMap::new();
    for c in changes {
        if let Change::AddConstraint { table, constraint } = c {
            if created.contains(table) {
                folded.entry(table).or_default().push(constraint);
            }
        }
    }

    let mut first_change: BTreeMap<&QualName, usize> = BTreeMap::new();
    let mut rebuild: BTreeSet<&QualName> = BTreeSet::new();
    for (i, c) in changes.iter().enumerate() {
        let Some(t) = structural_table(c) else {
            continue;
        };
        if created.contains(t) || dropped.contains(t) {
            continue;
        }
        first_change.entry(t).or_insert(i);
        if needs_rebuild(c, from, to) {
            rebuild.insert(t);
        }
    }
    // A rebuild runs where its table's first change would have, but never before the
    // last CREATE TABLE: its new foreign keys may name a table created in this plan, and
    // copying rows with foreign keys enforced needs that table to exist.
    let last_create = changes
        .iter()
        .rposition(|c| matches!(c, Change::CreateTable { .. }));
    let mut rebuild_at: BTreeMap<usize, Vec<&QualName>> = BTreeMap::new();
    for t in &rebuild {
        let first = first_change.get(t).copied().unwrap_or(0);
        let at = last_create.map_or(first, |l| l.max(first));
        rebuild_at.entry(at).or_default().push(t);
    }

    let mut renames: BTreeMap<QualName, Vec<(String, String)>> = BTreeMap::new();
    for c in changes {
        if let Change::RenameColumn { table, from, to } = c {
            renames
                .entry(table.clone())
                .or_default()
                .push((from.clone(), to.clone()));
        }
    }
    let mut p = Planner {
        out: Plan::default(),
        from,
        to,
        deferred: false,
        renames,
    };
    for (i, c) in changes.iter().enumerate() {
        if !absorbed(c, &rebuild, &created, &dropped) {
            p.change(c, &folded);
        }
        for t in rebuild_at.get(&i).into_iter().flatten() {
            p.rebuild(t);
        }
    }
    p.out
}

/// The table a change alters in place, for the changes a rebuild absorbs.
fn structural_table(c: &Change) -> Option<&QualName> {
    match c {
        Change::AddColumn { table, .. }
        | Change::AlterColumn { table, .. }
        | Change::DropColumn { table, .. }
        | Change::ColumnOrder { table, .. }
        | Change::AddConstraint { table, .. }
        | Change::AlterConstraint { table, .. }
        | Change::DropConstraint { table, .. } => Some(table),
        Change::AlterTable { to, .. } => Some(&to.name),
        _ => None,
    }
}

/// Whether a change is replaced by something else in the plan: a rebuild of its table, the
/// CREATE TABLE it is folded into, or the DROP TABLE that takes it along.
fn absorbed(
    c: &Change,
    rebuild: &BTreeSet<&QualName>,
    created: &BTreeSet<&QualName>,
    dropped: &BTreeSet<&QualName>,
) -> bool {
    if let Some(t) = structural_table(c) {
        return rebuild.contains(t)
            || (matches!(c, Change::AddConstraint { .. }) && created.contains(t))
            || (matches!(c, Change::DropConstraint { .. }) && dropped.contains(t));
    }
    match c {
        Change::CreateIndex { index } | Change::DropIndex { index } => {
            rebuild.contains(&index.table)
        }
        Change::AlterIndex { to, .. } => rebuild.contains(&to.table),
        Change::CreateTrigger { trigger } | Change::DropTrigger { trigger } => {
            rebuild.contains(&trigger.table)
        }
        Change::AlterTrigger { to, .. } => rebuild.contains(&to.table),
        // A rebuild copies the column under its new name instead.
        Change::RenameColumn { table, .. } => rebuild.contains(table),
        _ => false,
    }
}

fn needs_rebuild(c: &Change, from: &Database, to: &Database) -> bool {
    let virtual_table = |q: &QualName| {
        from.tables
            .get(q)
            .is_some_and(|t| t.virtual_using.is_some())
            || to.tables.get(q).is_some_and(|t| t.virtual_using.is_some())
    };
    if structural_table(c).is_some_and(virtual_table) {
        // A virtual table's shape is its module arguments; it can only be re-created.
        return match c {
            Change::AlterConstraint { .. } => false,
            Change::AlterTable { from: a, to: b } => table_flags_differ(a, b),
            _ => true,
        };
    }
    match c {
        Change::AddColumn { table, column } => {
            match (from.tables.get(table), to.tables.get(table)) {
                (Some(f), Some(t)) => !can_add_column(f, t, column),
                _ => true,
            }
        }
        Change::DropColumn { table, column } => !can_drop_column(from, table, column),
        Change::AlterColumn { from: a, to: b, .. } => column_differs(a, b),
        Change::ColumnOrder { .. } | Change::AddConstraint { .. } => true,
        Change::DropConstraint { .. } => true,
        // Only the comment, which SQLite does not have.
        Change::AlterConstraint { .. } => false,
        Change::AlterTable { from: a, to: b } => table_flags_differ(a, b),
        _ => false,
    }
}

fn table_flags_differ(a: &Table, b: &Table) -> bool {
    a.without_rowid != b.without_rowid || a.strict != b.strict || a.virtual_using != b.virtual_using
}

/// Whether two columns differ in anything SQLite stores (comments, grants and the like
/// come from other engines' snapshots and have nowhere to go).
fn column_differs(a: &Column, b: &Column) -> bool {
    let dflt = |c: &Column| c.default.as_deref().map(sql_text);
    a.type_ != b.type_
        || a.not_null != b.not_null
        || dflt(a) != dflt(b)
        || a.generated != b.generated
        || a.collation != b.collation
        || a.auto_increment != b.auto_increment
}

/// `ALTER TABLE ADD COLUMN` applies only to a column appended last that no key covers, with
/// a constant default (non-NULL when NOT NULL), and not stored-generated.
fn can_add_column(from: &Table, to: &Table, c: &Column) -> bool {
    let Some(pos) = to.columns.iter().position(|x| x.name == c.name) else {
        return false;
    };
    let appended = to.columns[pos + 1..]
        .iter()
        .all(|later| from.column(&later.name).is_none());
    let keyed = to.constraints.iter().any(|k| match &k.kind {
        ConstraintKind::PrimaryKey { columns, .. }
        | ConstraintKind::Unique { columns, .. }
        | ConstraintKind::ForeignKey { columns, .. } => columns.contains(&c.name),
        ConstraintKind::Check { expression, .. } => text::mentions(expression, &c.name),
        ConstraintKind::Exclusion { .. } => false,
    });
    let default_ok = match &c.default {
        None => !c.not_null,
        Some(d) => {
            text::is_literal(d)
                && !text::is_time_keyword(d)
                && !(c.not_null && d.trim().eq_ignore_ascii_case("NULL"))
        }
    };
    let generated_ok = match &c.generated {
        None => true,
        Some(g) => !g.stored && !c.not_null,
    };
    appended && !keyed && default_ok && generated_ok && !c.auto_increment
}

/// `ALTER TABLE DROP COLUMN` refuses a column that anything else names: keys, checks,
/// indexes, generated columns, views and triggers. Names are matched as tokens, which
/// errs towards a rebuild; a rebuild always works.
fn can_drop_column(from: &Database, table: &QualName, c: &Column) -> bool {
    let Some(t) = from.tables.get(table) else {
        return false;
    };
    if t.virtual_using.is_some() {
        return false;
    }
    let in_constraint = t.constraints.iter().any(|k| match &k.kind {
        ConstraintKind::PrimaryKey { columns, .. }
        | ConstraintKind::Unique { columns, .. }
        | ConstraintKind::ForeignKey { columns, .. } => columns.contains(&c.name),
        ConstraintKind::Check { expression, .. } => text::mentions(expression, &c.name),
        ConstraintKind::Exclusion { .. } => true,
    });
    let referenced = from.tables.values().any(|o| {
        o.constraints.iter().any(|k| {
            matches!(&k.kind, ConstraintKind::ForeignKey { references, ref_columns, .. }
                if references == table && (ref_columns.contains(&c.name) || ref_columns.is_empty()))
        })
    });
    let indexed = from.indexes.values().any(|i| {
        i.table == *table && (i.columns.contains(&c.name) || text::mentions(&i.definition, &c.name))
    });
    let generated_use = t.columns.iter().any(|o| {
        o.generated
            .as_ref()
            .is_some_and(|g| text::mentions(&g.expression, &c.name))
    });
    let view_use = from
        .views
        .values()
        .any(|v| text::mentions(v.sql.as_deref().unwrap_or(&v.definition), &c.name));
    let trigger_use = from
        .triggers
        .values()
        .any(|tr| text::mentions(&tr.definition, &c.name));
    !(c.auto_increment
        || in_constraint
        || referenced
        || indexed
        || generated_use
        || view_use
        || trigger_use)
}

struct Planner<'a> {
    out: Plan,
    from: &'a Database,
    to: &'a Database,
    /// Whether `PRAGMA defer_foreign_keys` was already emitted.
    deferred: bool,
    /// Declared column renames per table, old name → new name.
    renames: BTreeMap<QualName, Vec<(String, String)>>,
}

impl Planner<'_> {
    fn push(&mut self, sql: impl Into<String>) {
        self.out.statements.push(Statement::new(sql));
    }

    fn push_destructive(&mut self, sql: impl Into<String>, d: bool) {
        self.out.statements.push(Statement::new(sql).destructive(d));
    }

    fn change(&mut self, c: &Change, folded: &BTreeMap<&QualName, Vec<&Constraint>>) {
        match c {
            Change::CreateTable { table } => {
                let extra = folded.get(&table.name).cloned().unwrap_or_default();
                let sql = self.create_table(&table.name.name, table, &extra);
                self.push(sql);
            }
            Change::DropTable { table } => {
                self.push_destructive(format!("DROP TABLE {}", ident(&table.name.name)), true);
            }
            Change::AddColumn { table, column } => {
                // Only reached when `can_add_column` held; otherwise the table is rebuilt.
                let sql = format!(
                    "ALTER TABLE {} ADD COLUMN {}",
                    ident(&table.name),
                    column_sql(column, None)
                );
                self.push(sql);
            }
            Change::DropColumn { table, column } => {
                let sql = format!(
                    "ALTER TABLE {} DROP COLUMN {}",
                    ident(&table.name),
                    ident(&column.name)
                );
                self.push_destructive(sql, true);
            }
            Change::CreateIndex { index } => {
                if let Some(sql) = create_index(index) {
                    self.push(sql);
                }
            }
            Change::DropIndex { index } if !index.constraint => {
                self.push(format!("DROP INDEX {}", ident(&index.name.name)));
            }
            // SQLite cannot rename an index; comments do not exist.
            Change::AlterIndex { from, to } if from.name != to.name => {
                self.push(format!("DROP INDEX {}", ident(&from.name.name)));
                if let Some(sql) = create_index(to) {
                    self.push(sql);
                }
            }
            Change::CreateView { view } => {
                if view.materialized {
                    self.out
                        .unsupported
                        .push(format!("materialized view {}", shown_qual(&view.name)));
                } else {
                    self.push(create_view(view));
                }
            }
            Change::DropView { view } if !view.materialized => {
                self.push(format!("DROP VIEW {}", ident(&view.name.name)));
            }
            Change::CreateTrigger { trigger } => self.push(trigger.definition.clone()),
            Change::DropTrigger { trigger } => {
                self.push(format!("DROP TRIGGER {}", ident(&trigger.name)));
            }
            Change::RenameColumn { table, from, to } => self.push(format!(
                "ALTER TABLE {} RENAME COLUMN {} TO {}",
                ident(&table.name),
                ident(from),
                ident(to)
            )),
            // Reached only for changes that need no statement in SQLite: a column whose
            // difference SQLite does not store, table properties of other engines.
            Change::AlterColumn { .. }
            | Change::ColumnOrder { .. }
            | Change::AddConstraint { .. }
            | Change::DropConstraint { .. }
            | Change::AlterConstraint { .. }
            | Change::AlterTable { .. } => {}
            // Not SQLite concepts: roles, schemas, grants, types, sequences, functions,
            // policies, extensions.
            _ => {}
        }
    }

    fn create_table(&mut self, name: &str, t: &Table, extra: &[&Constraint]) -> String {
        if let Some(using) = &t.virtual_using {
            return format!("CREATE VIRTUAL TABLE {} USING {}", ident(name), using);
        }
        let mut constraints: Vec<&Constraint> = t.constraints.iter().collect();
        for c in extra {
            if !constraints.contains(c) {
                constraints.push(*c);
            }
        }
        // AUTOINCREMENT is only legal on a column-level INTEGER PRIMARY KEY.
        let inline_pk = constraints.iter().copied().find(|c| {
            matches!(&c.kind, ConstraintKind::PrimaryKey { columns, .. }
                if columns.len() == 1
                    && t.column(&columns[0]).is_some_and(|col| col.auto_increment))
        });
        let mut parts: Vec<String> = vec![];
        for col in &t.columns {
            let pk = inline_pk.filter(|c| {
                matches!(&c.kind, ConstraintKind::PrimaryKey { columns, .. }
                    if columns.first() == Some(&col.name))
            });
            parts.push(column_sql(col, pk));
        }
        for c in constraints {
            if inline_pk.is_some_and(|pk| std::ptr::eq(pk, c)) {
                continue;
            }
            match constraint_sql(c) {
                Some(s) => parts.push(s),
                None => self.out.unsupported.push(format!(
                    "{} constraint {} on {}",
                    c.kind.label(),
                    c.name.as_deref().map_or("(unnamed)".into(), shown),
                    shown_qual(&t.name)
                )),
            }
        }
        let mut options = vec![];
        if t.without_rowid {
            options.push("WITHOUT ROWID");
        }
        if t.strict {
            options.push("STRICT");
        }
        let options = if options.is_empty() {
            String::new()
        } else {
            format!(" {}", options.join(", "))
        };
        format!(
            "CREATE TABLE {} (\n  {}\n){}",
            ident(name),
            parts.join(",\n  "),
            options
        )
    }

    /// The documented rebuild, for one table, into the target's shape.
    fn rebuild(&mut self, q: &QualName) {
        let Some(tt) = self.to.tables.get(q) else {
            return;
        };
        let ft = self.from.tables.get(q);
        let name = &q.name;
        let triggers: Vec<&Trigger> = self
            .to
            .triggers
            .values()
            .filter(|tr| tr.table == *q)
            .collect();
        let indexes: Vec<&Index> = self.to.indexes.values().filter(|i| i.table == *q).collect();
        if tt.virtual_using.is_some() || ft.is_some_and(|f| f.virtual_using.is_some()) {
            // A virtual table's content belongs to its module: re-create it empty.
            self.push_destructive(format!("DROP TABLE {}", ident(name)), true);
            let sql = self.create_table(name, tt, &[]);
            self.push(sql);
        } else {
            if !self.deferred {
                // With foreign keys enforced, DROP TABLE deletes the old rows first and
                // fires ON DELETE actions in child tables. foreign_keys cannot change
                // inside a transaction (lockstep's own connection has it off); outside
                // one, this turns it off. Inside one, deferral at least lets rows move
                // while keys point at the old or the new table, checked at COMMIT.
                self.push("PRAGMA foreign_keys = OFF");
                self.push("PRAGMA defer_foreign_keys = ON");
                self.deferred = true;
            }
            let tmp = format!("{REBUILD_PREFIX}{name}");
            let sql = self.create_table(&tmp, tt, &[]);
            self.push(sql);
            let renames = self.renames.get(q).cloned().unwrap_or_default();
            // The old name a target column is copied from.
            let source = |target: &str| -> String {
                renames
                    .iter()
                    .find(|(_, new)| new == target)
                    .map(|(old, _)| old.clone())
                    .unwrap_or_else(|| target.to_string())
            };
            let shared: Vec<(String, String)> = tt
                .columns
                .iter()
                .filter(|c| c.generated.is_none())
                .filter(|c| ft.is_some_and(|f| f.column(&source(&c.name)).is_some()))
                .map(|c| (ident(&c.name), ident(&source(&c.name))))
                .collect();
            if !shared.is_empty() {
                let targets: Vec<&str> = shared.iter().map(|(t, _)| t.as_str()).collect();
                let sources: Vec<&str> = shared.iter().map(|(_, s)| s.as_str()).collect();
                self.push(format!(
                    "INSERT INTO {} ({}) SELECT {} FROM {}",
                    ident(&tmp),
                    targets.join(", "),
                    sources.join(", "),
                    ident(name)
                ));
            }
            let had_autoinc = ft.is_some_and(|f| f.columns.iter().any(|c| c.auto_increment));
            let has_autoinc = tt.columns.iter().any(|c| c.auto_increment);
            if had_autoinc && has_autoinc {
                // The copy only records the highest id still present; keep the old
                // high-water mark so deleted ids are not handed out again.
                self.push(format!(
                    "DELETE FROM sqlite_sequence WHERE name = {}",
                    literal(&tmp)
                ));
                self.push(format!(
                    "INSERT INTO sqlite_sequence (name, seq) SELECT {}, seq FROM sqlite_sequence WHERE name = {}",
                    literal(&tmp),
                    literal(name)
                ));
            }
            let lossy = ft.is_some_and(|f| {
                f.columns.iter().any(|c| {
                    let target = renames
                        .iter()
                        .find(|(old, _)| *old == c.name)
                        .map(|(_, new)| new.as_str())
                        .unwrap_or(&c.name);
                    match tt.column(target) {
                        None => true,
                        Some(n) => n.type_ != c.type_,
                    }
                })
            });
            self.push_destructive(format!("DROP TABLE {}", ident(name)), lossy);
            // Views and other tables' triggers that name the table are left as they are:
            // in legacy mode RENAME neither rewrites nor re-checks them, and they resolve
            // to the new table once it has the old name.
            self.push("PRAGMA legacy_alter_table = ON");
            self.push(format!(
                "ALTER TABLE {} RENAME TO {}",
                ident(&tmp),
                ident(name)
            ));
            self.push("PRAGMA legacy_alter_table = OFF");
        }
        for i in indexes {
            if let Some(sql) = create_index(i) {
                self.push(sql);
            }
        }
        for tr in triggers {
            self.push(tr.definition.clone());
        }
        if tt.virtual_using.is_none() {
            self.push(format!("PRAGMA foreign_key_check({})", ident(name)));
        }
    }
}

fn create_index(i: &Index) -> Option<String> {
    if i.constraint {
        return None;
    }
    Some(format!(
        "CREATE {}INDEX {} ON {} {}",
        if i.unique { "UNIQUE " } else { "" },
        ident(&i.name.name),
        ident(&i.table.name),
        i.definition
    ))
}

fn create_view(v: &View) -> String {
    match &v.sql {
        Some(sql) => sql.clone(),
        None => format!("CREATE VIEW {} AS {}", ident(&v.name.name), v.definition),
    }
}

/// A column definition; `pk` is the primary key when it must be written on the column.
fn column_sql(c: &Column, pk: Option<&Constraint>) -> String {
    let mut s = ident(&c.name);
    if !c.type_.is_empty() {
        s.push(' ');
        s.push_str(&type_sql(&c.type_));
    }
    if let Some(pk) = pk {
        if let Some(n) = &pk.name {
            s.push_str(&format!(" CONSTRAINT {}", ident(n)));
        }
        s.push_str(" PRIMARY KEY");
        if let ConstraintKind::PrimaryKey { extra, .. } = &pk.kind {
            s.push_str(&conflict_sql(extra));
        }
        s.push_str(" AUTOINCREMENT");
    }
    if let Some(coll) = &c.collation {
        s.push_str(&format!(" COLLATE {}", ident(coll)));
    }
    if c.not_null {
        s.push_str(" NOT NULL");
    }
    match (&c.generated, &c.default) {
        (Some(g), _) => s.push_str(&format!(
            " GENERATED ALWAYS AS ({}) {}",
            expr(&g.expression),
            if g.stored { "STORED" } else { "VIRTUAL" }
        )),
        (None, Some(d)) => {
            s.push_str(" DEFAULT ");
            s.push_str(&default_sql(d));
        }
        (None, None) => {}
    }
    s
}

/// An expression SQLite kept as it was typed, without its comments: a line comment at
/// the end of a default (`DEFAULT (1 -- one)` is reported as `1 -- one`) would swallow
/// the rest of the column definition.
pub fn expr(e: &str) -> String {
    if e.contains("--") || e.contains("/*") {
        text::squash_str(e)
    } else {
        e.to_string()
    }
}

/// SQLite reports a parenthesized default without its parentheses; anything but a
/// literal needs them back.
pub fn default_sql(d: &str) -> String {
    let d = expr(d);
    let d = d.trim();
    if text::is_literal(d) || text::is_parenthesized(d) {
        d.to_string()
    } else {
        format!("({d})")
    }
}

/// ` ON CONFLICT X` when `extra` is a conflict clause; other engines' extras (INCLUDE ...)
/// have no SQLite form.
fn conflict_sql(extra: &Option<String>) -> String {
    match extra.as_deref().map(str::trim) {
        Some(e) if is_conflict_clause(e) => format!(" {}", e.to_ascii_uppercase()),
        _ => String::new(),
    }
}

fn is_conflict_clause(e: &str) -> bool {
    let words: Vec<&str> = e.split_whitespace().collect();
    matches!(words.as_slice(), [on, conflict, action]
        if on.eq_ignore_ascii_case("ON")
            && conflict.eq_ignore_ascii_case("CONFLICT")
            && ["ROLLBACK", "ABORT", "FAIL", "IGNORE", "REPLACE"]
                .iter()
                .any(|a| a.eq_ignore_ascii_case(action)))
}

fn fk_action(a: &str) -> Option<&'static str> {
    ["CASCADE", "SET NULL", "SET DEFAULT", "RESTRICT"]
        .into_iter()
        .find(|x| x.eq_ignore_ascii_case(a.trim()))
}

const FOREIGN_KEY: ForeignKeyStyle = ForeignKeyStyle {
    ident,
    // SQLite names the table alone, and the columns only when they were written.
    target: |t, c| match c {
        [] => ident(&t.name),
        c => format!("{} ({})", ident(&t.name), cols(c)),
    },
    clauses: |_, on_update, on_delete| {
        [("ON DELETE", on_delete), ("ON UPDATE", on_update)]
            .into_iter()
            .filter_map(|(w, a)| fk_action(a).map(|a| format!("{w} {a}")))
            .collect()
    },
};

fn cols(v: &[String]) -> String {
    v.iter().map(|c| ident(c)).collect::<Vec<_>>().join(", ")
}

/// A table constraint, or None when SQLite has no form for it.
fn constraint_sql(c: &Constraint) -> Option<String> {
    let body = match &c.kind {
        ConstraintKind::PrimaryKey { columns, extra } => {
            format!("PRIMARY KEY ({}){}", cols(columns), conflict_sql(extra))
        }
        ConstraintKind::Unique { columns, extra, .. } => {
            format!("UNIQUE ({}){}", cols(columns), conflict_sql(extra))
        }
        ConstraintKind::Check { expression, .. } => format!("CHECK ({})", expr(expression)),
        ConstraintKind::ForeignKey { .. } => {
            let mut s = foreign_key_sql(&c.kind, &FOREIGN_KEY);
            if c.deferrable {
                s.push_str(if c.initially_deferred {
                    " DEFERRABLE INITIALLY DEFERRED"
                } else {
                    " DEFERRABLE INITIALLY IMMEDIATE"
                });
            }
            s
        }
        ConstraintKind::Exclusion { .. } => return None,
    };
    Some(match &c.name {
        Some(n) => format!("CONSTRAINT {} {body}", ident(n)),
        None => body,
    })
}

#[cfg(test)]
mod tests {
    use super::super::text::*;
    use super::*;

    #[test]
    fn reads_create_table_text() {
        let t = parse_create_table(
            "CREATE TABLE \"t\" ( -- comment, with a comma\n id INTEGER PRIMARY KEY AUTOINCREMENT,
              name VARCHAR( 20 ) COLLATE nocase CONSTRAINT nn NOT NULL DEFAULT 'a,b',
              g INT GENERATED ALWAYS AS ( id * 2 ) STORED,
              h AS (id+1),
              p INT REFERENCES parent(id) ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED,
              q TEXT CONSTRAINT q_ok CHECK (q <> ''),
              CONSTRAINT u1 UNIQUE (name, [g]) ON CONFLICT replace,
              CHECK (id > 0),
              FOREIGN KEY (q) REFERENCES other ON UPDATE CASCADE
            ) WITHOUT ROWID, STRICT",
        )
        .unwrap();
        assert_eq!(t.columns.len(), 6);
        assert!(t.columns[0].autoincrement);
        assert_eq!(t.columns[1].collation.as_deref(), Some("NOCASE"));
        assert_eq!(t.columns[2].generated, Some(("id * 2".into(), true)));
        assert_eq!(t.columns[3].generated, Some(("id+1".into(), false)));
        assert!(t.without_rowid && t.strict);
        let names: Vec<Option<&str>> = t.constraints.iter().map(|c| c.name.as_deref()).collect();
        assert_eq!(
            names,
            [None, None, Some("q_ok"), Some("u1"), None, None],
            "{t:#?}"
        );
        assert_eq!(
            t.constraints[3].conflict.as_deref(),
            Some("ON CONFLICT REPLACE")
        );
        assert_eq!(
            t.constraints[3].kind,
            ConstraintSqlKind::Unique(vec!["name".into(), "g".into()])
        );
        assert!(t.constraints[1].deferrable && t.constraints[1].initially_deferred);
        assert_eq!(
            t.constraints[2].kind,
            ConstraintSqlKind::Check("q <> ''".into())
        );
    }

    #[test]
    fn reads_virtual_tables_and_indexes() {
        let t = parse_create_table("CREATE VIRTUAL TABLE s USING fts4 ( a, b )").unwrap();
        assert_eq!(t.virtual_using.as_deref(), Some("fts4 (a, b)"));
        let i = parse_create_index(
            "CREATE UNIQUE INDEX i ON t (a COLLATE nocase DESC, \"b\", lower(c) ASC)\n WHERE  c > 0",
        )
        .unwrap();
        assert_eq!(
            i.definition,
            "(\"a\" COLLATE \"NOCASE\" DESC, \"b\", lower(c) ASC) WHERE c > 0"
        );
        assert_eq!(i.items, ["a", "b", "lower(c)"]);
        assert_eq!(i.predicate.as_deref(), Some("c > 0"));
        assert_eq!(
            parse_create_view("CREATE VIEW v(x) AS SELECT a AS x FROM t").as_deref(),
            Some("SELECT a AS x FROM t")
        );
    }

    #[test]
    fn garbage_does_not_panic() {
        let more = [
            "CREATE TABLE t (a CHECK (",
            "'",
            "[",
            "x'",
            "CREATE INDEX i ON",
        ];
        for s in crate::sql::lex::CUT_SHORT.into_iter().chain(more) {
            let _ = parse_create_table(s);
            let _ = parse_create_index(s);
            let _ = parse_create_view(s);
            let _ = squash_str(s);
        }
    }

    #[test]
    fn defaults_regain_parentheses() {
        assert_eq!(default_sql("'x'"), "'x'");
        assert_eq!(default_sql("-1"), "-1");
        assert_eq!(default_sql("CURRENT_TIMESTAMP"), "CURRENT_TIMESTAMP");
        assert_eq!(default_sql("datetime('now')"), "(datetime('now'))");
        assert_eq!(default_sql("1 + 2"), "(1 + 2)");
        assert_eq!(default_sql("(1) + (2)"), "((1) + (2))");
    }

    fn table(name: &str, cols: &[(&str, &str)]) -> Table {
        let mut t = Table::new(QualName::new("main", name));
        t.columns = cols.iter().map(|(n, ty)| Column::new(*n, *ty)).collect();
        t
    }

    fn sqlite_db(tables: Vec<Table>) -> Database {
        let mut d = Database::empty(Dialect::Sqlite);
        for t in tables {
            d.tables.insert(t.name.clone(), t);
        }
        d
    }

    #[test]
    fn foreign_keys_of_new_tables_fold_into_create_table() {
        let from = Database::empty(Dialect::Sqlite);
        let parent = table("parent", &[("id", "INTEGER")]);
        let mut child = table("child", &[("id", "INTEGER"), ("p", "INTEGER")]);
        child.constraints.push(Constraint::new(
            None,
            ConstraintKind::ForeignKey {
                columns: vec!["p".into()],
                references: QualName::new("main", "parent"),
                ref_columns: vec!["id".into()],
                on_delete: "CASCADE".into(),
                on_update: "NO ACTION".into(),
                match_: "SIMPLE".into(),
            },
        ));
        let to = sqlite_db(vec![parent, child]);
        let p = plan(&crate::diff::diff(&from, &to), &from, &to);
        assert_eq!(p.statements.len(), 2, "{p:#?}");
        assert!(p.statements[0]
            .sql
            .contains("FOREIGN KEY (\"p\") REFERENCES \"parent\" (\"id\") ON DELETE CASCADE"));
    }

    #[test]
    fn one_rebuild_per_table() {
        let from = sqlite_db(vec![table("t", &[("a", "INTEGER"), ("b", "TEXT")])]);
        let mut t = table("t", &[("b", "INT"), ("a", "INTEGER"), ("c", "TEXT")]);
        t.constraints.push(Constraint::new(
            Some("c_ok".into()),
            ConstraintKind::Check {
                expression: "c <> ''".into(),
                no_inherit: false,
            },
        ));
        let to = sqlite_db(vec![t]);
        let p = plan(&crate::diff::diff(&from, &to), &from, &to);
        let creates = p
            .statements
            .iter()
            .filter(|s| s.sql.starts_with("CREATE TABLE"))
            .count();
        assert_eq!(creates, 1, "{}", p.to_sql());
        assert!(p.to_sql().contains(
            "INSERT INTO \"lockstep_new_t\" (\"b\", \"a\") SELECT \"b\", \"a\" FROM \"t\""
        ));
        assert!(p
            .statements
            .iter()
            .any(|s| s.destructive && s.sql == "DROP TABLE \"t\""));
    }

    #[test]
    fn simple_column_changes_use_alter_table() {
        let from = sqlite_db(vec![table("t", &[("a", "INTEGER"), ("b", "TEXT")])]);
        let mut t = table("t", &[("a", "INTEGER"), ("c", "TEXT")]);
        t.columns[1].default = Some("'x'".into());
        t.columns[1].not_null = true;
        let to = sqlite_db(vec![t]);
        let p = plan(&crate::diff::diff(&from, &to), &from, &to);
        let sql: Vec<&str> = p.statements.iter().map(|s| s.sql.as_str()).collect();
        assert_eq!(
            sql,
            // Drops come before additions, so a name can be reused in one plan.
            [
                "ALTER TABLE \"t\" DROP COLUMN \"b\"",
                "ALTER TABLE \"t\" ADD COLUMN \"c\" TEXT NOT NULL DEFAULT 'x'"
            ]
        );
        assert!(p.statements[0].destructive);
    }

    #[test]
    fn create_schema_main_is_silent() {
        let from = Database::empty(Dialect::Sqlite);
        let mut to = Database::empty(Dialect::Sqlite);
        to.schemas.insert(
            "main".into(),
            Namespace {
                name: "main".into(),
                ..Default::default()
            },
        );
        assert!(plan(&crate::diff::diff(&from, &to), &from, &to)
            .statements
            .is_empty());
    }
}
