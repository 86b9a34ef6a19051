//! `lockstep parity`: a table with one column per environment, the odd one out marked.

use super::table::{Grid, Styled};
use crate::ui::{paint, BOLD, FAIL, WARN};
use lockstep_engine::parity::ParityReport;

pub fn text(r: &ParityReport) -> String {
    let mut header: Vec<Styled> = vec!["".into()];
    // Values carry a one-character mark column; names sit above the values.
    header.extend(r.environments.iter().map(|e| {
        if e.error.is_some() {
            Styled::new(format!(" {} (unreachable)", e.env), FAIL)
        } else {
            Styled::new(format!(" {}", e.env), BOLD)
        }
    }));
    let mut g = Grid::new(header);
    let mut marked = false;
    for row in &r.rows {
        let mut cells: Vec<Styled> = vec![row.fact.as_str().into()];
        for (i, v) in row.values.iter().enumerate() {
            if row.odd.contains(&i) {
                marked = true;
                cells.push(Styled::new(format!("*{v}"), WARN));
            } else {
                cells.push(format!(" {v}").into());
            }
        }
        g.row(cells);
    }
    let mut s = g.render();
    if marked {
        s.push_str("(* marks the odd one out)\n");
    }
    for e in &r.environments {
        if let Some(err) = &e.error {
            s.push_str(&format!(
                "{}: {} {}\n",
                e.env,
                paint(FAIL, "could not be read:"),
                super::indent_rest(err, "  ")
            ));
        }
        if let Some(err) = &e.drift_error {
            s.push_str(&format!(
                "{}: {} {}\n",
                e.env,
                paint(FAIL, "drift could not be checked:"),
                super::indent_rest(err, "  ")
            ));
        }
        for (i, item) in e.drift.iter().enumerate() {
            s.push_str(&format!("{}: drift {}. {item}\n", e.env, i + 1));
        }
    }
    s
}
