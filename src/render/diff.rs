//! `lockstep diff` and `lockstep inspect`.

use lockstep_engine::core::model::Database;
use lockstep_engine::diff::DiffReport;
use lockstep_engine::source::Loaded;

pub fn text(r: &DiffReport) -> String {
    let (a, b) = (&r.from, &r.to);
    if r.changes.is_empty() {
        return format!("{} and {} are identical", a.label, b.label);
    }
    let mut s = format!(
        "{} → {}: {} difference(s)\n",
        a.label,
        b.label,
        r.changes.len()
    );
    for c in &r.changes {
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
    for u in &r.plan.unsupported {
        s.push_str(&format!("  ! cannot be planned: {u}\n"));
    }
    s
}

/// `inspect --format text`: the counts of each kind of object.
pub fn summary(l: &Loaded) -> String {
    let m: &Database = &l.model;
    let mut s = format!("{} ({} {})\n", l.label, m.env.engine, m.env.version);
    for (k, v) in m.counts() {
        s.push_str(&format!("  {k:<12} {v}\n"));
    }
    s
}
