//! `lockstep check`: one line per check, then its items, each on its own line.

use lockstep_engine::check::{CheckReport, Status};

pub fn text(r: &CheckReport) -> String {
    let mut s = format!("check {}: {}\n", r.env, r.verdict.to_uppercase());
    for c in &r.checks {
        let mark = match c.status {
            Status::Ok => "ok",
            Status::Fail => "FAIL",
            Status::Error => "ERROR",
        };
        let mut lines = c.detail.lines();
        s.push_str(&format!(
            "  {:<10} {:<5} {}\n",
            c.name,
            mark,
            lines.next().unwrap_or_default()
        ));
        for l in lines {
            s.push_str(&format!("                     {l}\n"));
        }
    }
    s
}
