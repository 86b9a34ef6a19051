//! `lockstep drift`.

use crate::ui::{paint, OK, WARN};
use lockstep_engine::drift::DriftReport;

pub fn text(r: &DriftReport) -> String {
    if r.items.is_empty() {
        return format!(
            "{}: {} (expected schema from {}: {})",
            r.env,
            paint(OK, "no drift"),
            r.expected_from,
            r.expected_detail
        );
    }
    let mut s = format!(
        "{}: {} (expected schema from {}: {})\n",
        r.env,
        paint(
            WARN,
            super::count(r.items.len(), "drift item", "drift items")
        ),
        r.expected_from,
        r.expected_detail
    );
    for (i, it) in r.items.iter().enumerate() {
        s.push_str(&format!("  {}. {}\n", i + 1, it.describe()));
        if let Some(a) = r.author_of(it) {
            s.push_str(&format!("     {}\n", super::audit::author(&it.change, a)));
        }
        match (r.seen_after_of(it), r.first_seen_of(it)) {
            (Some(before), Some(at)) => s.push_str(&format!(
                "     first seen between {before} and {at} (`lockstep watch` checks)\n"
            )),
            (None, Some(at)) => {
                s.push_str(&format!("     first seen by `lockstep watch` at {at}\n"))
            }
            _ => {}
        }
    }
    if let Some(n) = &r.audit_note {
        s.push_str(&format!("  note: {n}\n"));
    }
    s.push_str(
        "  hint: adopt each change in a new migration (`lockstep new NAME`), or revert it\n",
    );
    s
}
