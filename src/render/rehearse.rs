//! `lockstep rehearse`.

use crate::ui::{paint, FAIL, OK};
use lockstep_engine::rehearse::RehearseReport;

pub fn text(r: &RehearseReport) -> String {
    match &r.failure {
        None => format!(
            "{env}: {}: {} apply to a copy of {env}'s actual schema",
            paint(OK, "rehearsal passed"),
            super::count(r.pending, "pending migration", "pending migrations"),
            env = r.env
        ),
        Some(f) => format!("{}: {} {f}", r.env, paint(FAIL, "rehearsal FAILED:")),
    }
}
