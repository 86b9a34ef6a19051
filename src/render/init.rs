//! `lockstep init`: what was written, and the next steps.

use crate::ui::{paint, BOLD, WARN};
use lockstep_engine::init::InitReport;

pub fn text(r: &InitReport) -> String {
    let mut s = format!("wrote {}\n", paint(BOLD, &r.path));
    if r.migrations_found {
        s.push_str(&format!(
            "  migrations  {} ({})\n",
            r.migrations,
            super::count(r.count, "migration", "migrations")
        ));
    }
    match &r.layout {
        Some(l) => s.push_str(&format!("  layout      {l}: {}\n", r.layout_reason)),
        None => s.push_str(&format!("  layout      not set: {}\n", r.layout_reason)),
    }
    for n in &r.notes {
        s.push_str(&format!("  {} {n}\n", paint(WARN, "note:")));
    }
    s.push_str(
        "next:\n  1. set DATABASE_URL, or edit [env.dev] (and add staging, prod) in the file\n  2. lockstep status\n  3. a database built before lockstep: lockstep baseline --env prod --to VERSION\n",
    );
    s
}
