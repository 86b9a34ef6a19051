//! `lockstep impact`.

use crate::ui::{paint, DIM, FAIL, WARN};
use lockstep_engine::impact::{ImpactReport, Pending};

pub fn text(r: &ImpactReport) -> String {
    let mut s = String::new();
    if r.changes.is_empty() {
        s.push_str("impact: the pending migrations drop, rename or retype nothing\n");
    }
    for c in &r.changes {
        let mark = if c.target.change == "dropped" {
            paint(FAIL, '-')
        } else {
            paint(WARN, '~')
        };
        s.push_str(&format!("{mark} {}\n", c.describe));
        if c.references.is_empty() {
            s.push_str("  no references found\n");
        }
        for h in &c.references {
            let level = h.confidence.as_str();
            let style = match level {
                "high" => FAIL,
                "medium" => WARN,
                _ => DIM,
            };
            s.push_str(&format!(
                "  {}:{}: {}  {}\n",
                r.rel(h),
                h.line,
                h.text.trim(),
                paint(style, format!("[{level}]"))
            ));
        }
    }
    match &r.pending {
        Pending::Env(_) => {}
        Pending::Base(b) => s.push_str(&format!(
            "  note: pending = the migrations new or changed since {b} (--base REF picks another; --env E uses what E has not applied)\n"
        )),
        Pending::All => s.push_str(
            "  note: no git default branch to compare with, so every migration in the directory counts as pending (--env E uses what E has not applied)\n",
        ),
    }
    s
}
