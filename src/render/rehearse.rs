//! `lockstep rehearse`.

use lockstep_engine::rehearse::RehearseReport;

pub fn text(r: &RehearseReport) -> String {
    match &r.failure {
        None => format!(
            "{env}: rehearsal passed: {} apply to a copy of {env}'s actual schema",
            super::count(r.pending, "pending migration", "pending migrations"),
            env = r.env
        ),
        Some(f) => format!("{}: rehearsal FAILED: {f}", r.env),
    }
}
