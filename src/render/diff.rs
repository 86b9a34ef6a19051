//! `lockstep diff` and `lockstep inspect`.

use crate::ui::{paint, ADDED, CHANGED, DESTRUCTIVE, FAIL};
use lockstep_engine::core::diff::{constraint_label, Change};
use lockstep_engine::core::model::{Constraint, ConstraintKind, Database};
use lockstep_engine::diff::DiffReport;
use lockstep_engine::source::Loaded;

pub fn text(r: &DiffReport) -> String {
    let (a, b) = (&r.from, &r.to);
    if r.changes.is_empty() {
        return format!("{} and {} are identical", a.label, b.label);
    }
    let lines = lines(&r.changes);
    let mut s = format!(
        "{} → {}: {}\n",
        a.label,
        b.label,
        super::count(lines.len(), "difference", "differences")
    );
    for (text, destructive) in &lines {
        let style = match text.chars().next() {
            Some('+') => ADDED,
            Some('-') => DESTRUCTIVE,
            _ => CHANGED,
        };
        let (mark, rest) = text.split_at(text.chars().next().map_or(0, char::len_utf8));
        s.push_str(&format!(
            "  {}{rest}{}\n",
            paint(style, mark),
            if *destructive {
                format!("  {}", paint(DESTRUCTIVE, "[destructive]"))
            } else {
                String::new()
            }
        ));
    }
    for u in &r.plan.unsupported {
        s.push_str(&format!("  {} {u}\n", paint(FAIL, "! cannot be planned:")));
    }
    for n in &r.plan.notes {
        s.push_str(&format!("  {} {n}\n", paint(CHANGED, "note:")));
    }
    for d in &r.renames {
        s.push_str(&format!(
            "  {} {}.{} → {} (declared by {})\n",
            paint(CHANGED, "rename:"),
            d.rename.table,
            d.rename.from,
            d.rename.to,
            d.declared_by
        ));
    }
    s
}

/// One line per change, for people, with whether it destroys data. A constraint the
/// diff drops and adds again under the same name (how a changed `ON DELETE` is applied)
/// is one `~` line that says what changed, not a removal and an identical-looking
/// addition; the changes themselves (and the JSON and SQL) keep both steps.
fn lines(changes: &[Change]) -> Vec<(String, bool)> {
    let mut used = vec![false; changes.len()];
    let mut out = vec![];
    for (i, c) in changes.iter().enumerate() {
        if used[i] {
            continue;
        }
        if let Change::DropConstraint {
            table,
            constraint: from,
        } = c
        {
            let readded = changes.iter().enumerate().skip(i + 1).find(|(j, d)| {
                !used[*j]
                    && matches!(d, Change::AddConstraint { table: t, constraint: to }
                        if t == table && same_identity(from, to))
            });
            if let Some((j, Change::AddConstraint { constraint: to, .. })) = readded {
                used[j] = true;
                out.push((
                    format!(
                        "~ {} {} on {}: {}",
                        to.kind.label(),
                        constraint_label(to),
                        table,
                        what_changed(from, to)
                    ),
                    false,
                ));
                continue;
            }
        }
        out.push((c.describe(), c.destructive()));
    }
    out
}

/// The same constraint on both sides: the same name, or (unnamed) the same columns and
/// target.
fn same_identity(a: &Constraint, b: &Constraint) -> bool {
    a.kind.label() == b.kind.label() && constraint_label(a) == constraint_label(b)
}

/// `ON DELETE CASCADE → SET NULL`, `CHECK (a > 0) → (a >= 0)`, …
fn what_changed(a: &Constraint, b: &Constraint) -> String {
    let mut parts = vec![];
    let mut diff = |what: &str, x: String, y: String| {
        if x != y {
            parts.push(format!("{what} {x} → {y}"));
        }
    };
    match (&a.kind, &b.kind) {
        (
            ConstraintKind::ForeignKey {
                columns: c1,
                references: r1,
                ref_columns: rc1,
                on_delete: d1,
                on_update: u1,
                match_: m1,
            },
            ConstraintKind::ForeignKey {
                columns: c2,
                references: r2,
                ref_columns: rc2,
                on_delete: d2,
                on_update: u2,
                match_: m2,
            },
        ) => {
            diff("columns", c1.join(", "), c2.join(", "));
            diff(
                "references",
                format!("{}({})", r1.name, rc1.join(", ")),
                format!("{}({})", r2.name, rc2.join(", ")),
            );
            diff("ON DELETE", d1.clone(), d2.clone());
            diff("ON UPDATE", u1.clone(), u2.clone());
            diff("MATCH", m1.clone(), m2.clone());
        }
        (
            ConstraintKind::Check { expression: e1, .. },
            ConstraintKind::Check { expression: e2, .. },
        ) => diff("CHECK", format!("({e1})"), format!("({e2})")),
        (
            ConstraintKind::PrimaryKey { columns: c1, .. }
            | ConstraintKind::Unique { columns: c1, .. },
            ConstraintKind::PrimaryKey { columns: c2, .. }
            | ConstraintKind::Unique { columns: c2, .. },
        ) => diff("columns", c1.join(", "), c2.join(", ")),
        _ => {}
    }
    let yes_no = |b: bool| if b { "yes" } else { "no" }.to_string();
    diff("deferrable", yes_no(a.deferrable), yes_no(b.deferrable));
    diff(
        "initially deferred",
        yes_no(a.initially_deferred),
        yes_no(b.initially_deferred),
    );
    diff("NOT VALID", yes_no(a.not_valid), yes_no(b.not_valid));
    if parts.is_empty() {
        "re-created (its definition changed)".into()
    } else {
        parts.join(", ")
    }
}

/// `inspect --format text`: the counts of each kind of object.
pub fn summary(l: &Loaded) -> String {
    let m: &Database = &l.model;
    let mut s = format!("{} ({} {})\n", l.label, m.env.engine, m.env.version);
    for (k, v) in m.counts() {
        s.push_str(&format!("  {k:<12} {v}\n"));
    }
    // What could not be read, and what is seen but not modelled (`not modelled: KIND NAME`).
    for w in &m.env.warnings {
        s.push_str(&format!("  {w}\n"));
    }
    s
}
