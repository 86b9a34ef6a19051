//! `lockstep check`: the verdict, then a table with one row per check and its items,
//! each on its own line.

use super::table::{Grid, Styled};
use crate::ui::{paint, FAIL, OK, PASS};
use lockstep_engine::check::{CheckReport, Status};

pub fn text(r: &CheckReport) -> String {
    let verdict = r.verdict.to_uppercase();
    let mut s = format!(
        "check {}: {}\n",
        r.env,
        paint(if r.verdict == "pass" { PASS } else { FAIL }, verdict)
    );
    let mut g = Grid::new(vec![]).indent("  ");
    for c in &r.checks {
        let mark = match c.status {
            Status::Ok => Styled::new("ok", OK),
            Status::Fail => Styled::new("FAIL", FAIL),
            Status::Error => Styled::new("ERROR", FAIL),
        };
        let mut lines = c.detail.lines();
        g.row(vec![
            c.name.into(),
            mark,
            lines.next().unwrap_or_default().into(),
        ]);
        for l in lines {
            g.row(vec!["".into(), "".into(), format!("  {l}").into()]);
        }
    }
    s.push_str(&g.render());
    s
}
