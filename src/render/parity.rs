//! `lockstep parity`: a table with one column per environment.

use lockstep_engine::parity::ParityReport;

pub fn text(r: &ParityReport) -> String {
    let names: Vec<&str> = r.environments.iter().map(|e| e.env.as_str()).collect();
    let w0 = r
        .rows
        .iter()
        .map(|r| r.fact.len())
        .max()
        .unwrap_or(4)
        .max(4);
    let widths: Vec<usize> = (0..names.len())
        .map(|i| {
            r.rows
                .iter()
                .map(|row| row.values[i].len())
                .chain([names[i].len()])
                .max()
                .unwrap_or(4)
        })
        .collect();
    let mut s = format!("{:<w0$}", "");
    for (n, w) in names.iter().zip(&widths) {
        s.push_str(&format!("  {n:<w$}"));
    }
    s.push('\n');
    let mut marked = false;
    for row in &r.rows {
        s.push_str(&format!("{:<w0$}", row.fact));
        for (i, (v, w)) in row.values.iter().zip(&widths).enumerate() {
            let mark = if row.odd.contains(&i) {
                marked = true;
                "*"
            } else {
                " "
            };
            s.push_str(&format!(" {mark}{v:<w$}"));
        }
        s.push('\n');
    }
    if marked {
        s.push_str("(* marks the odd one out)\n");
    }
    for e in &r.environments {
        if let Some(err) = &e.error {
            s.push_str(&format!(
                "{}: could not be read: {}\n",
                e.env,
                super::indent_rest(err, "  ")
            ));
        }
        if let Some(err) = &e.drift_error {
            s.push_str(&format!(
                "{}: drift could not be checked: {}\n",
                e.env,
                super::indent_rest(err, "  ")
            ));
        }
        for (i, item) in e.drift.iter().enumerate() {
            s.push_str(&format!("{}: drift {}. {item}\n", e.env, i + 1));
        }
    }
    s
}
