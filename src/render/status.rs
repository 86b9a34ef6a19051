//! `lockstep status`: a table with one row per environment, then what is pending and
//! what is wrong where. A fleet is one summary row per fleet; its members get rows of
//! their own only when they are the exception (another version, a problem, unreachable).

use super::table::{Grid, Styled};
use crate::ui::{paint, BOLD, FAIL, OK, WARN};
use lockstep_engine::status::{EnvStatus, FleetSummary, StatusReport};
use std::collections::BTreeSet;

pub fn text(r: &StatusReport) -> String {
    // Members folded into their fleet's summary.
    let mut folded: BTreeSet<String> = BTreeSet::new();
    for f in &r.fleets {
        let shown: BTreeSet<&String> = f
            .problems
            .iter()
            .chain(&f.unreachable)
            .chain(&f.behind_or_ahead)
            .collect();
        for e in &r.environments {
            if let Some(m) = e
                .env
                .strip_prefix(f.env.as_str())
                .and_then(|m| m.strip_prefix('/'))
            {
                if !shown.contains(&m.to_string()) {
                    folded.insert(e.env.clone());
                }
            }
        }
    }
    let shown: Vec<&EnvStatus> = r
        .environments
        .iter()
        .filter(|e| !folded.contains(&e.env))
        .collect();

    let mut text = String::new();
    if !r.fleets.is_empty() {
        text.push_str(&fleets(&r.fleets));
        if !shown.is_empty() {
            text.push('\n');
        }
    }
    if !shown.is_empty() {
        let mut g = Grid::new(vec![
            Styled::new("env", BOLD),
            Styled::new("version", BOLD),
            Styled::new("applied", BOLD),
            Styled::new("pending", BOLD),
            Styled::new("url", BOLD),
        ]);
        for e in &shown {
            match &e.state {
                None => g.row(vec![
                    e.env.as_str().into(),
                    Styled::new("unreachable", FAIL),
                    "".into(),
                    "".into(),
                    "".into(),
                ]),
                Some(st) => g.row(vec![
                    e.env.as_str().into(),
                    if st.problems.is_empty() {
                        st.current.clone().unwrap_or_else(|| "none".into()).into()
                    } else {
                        Styled::new(st.current.clone().unwrap_or_else(|| "none".into()), FAIL)
                    },
                    st.applied.len().to_string().into(),
                    Styled::new(
                        st.pending.len().to_string(),
                        if st.pending.is_empty() { OK } else { WARN },
                    ),
                    st.url.as_str().into(),
                ]),
            }
        }
        text.push_str(&g.render());
    }
    for e in &shown {
        let Some(st) = &e.state else {
            text.push_str(&format!(
                "{}: {} {}\n",
                e.env,
                paint(FAIL, "could not be read:"),
                super::indent_rest(e.error.as_deref().unwrap_or(""), "  ")
            ));
            continue;
        };
        if let Some(tool) = &st.adopting_from {
            text.push_str(&format!(
                "{}: versions from {tool}'s history; adopted on the next deploy\n",
                e.env
            ));
        }
        if !st.pending_names.is_empty() {
            text.push_str(&format!("{}: pending\n", e.env));
            for (v, name) in &st.pending_names {
                text.push_str(&format!("  {} {name}\n", paint(WARN, v)));
            }
        }
        for n in &st.notes {
            text.push_str(&format!("  note     {n}\n"));
        }
        for p in &st.problems {
            text.push_str(&format!(
                "{}: {} {}\n",
                e.env,
                paint(FAIL, "problem:"),
                super::indent_rest(p, "  ")
            ));
        }
    }
    for f in &r.fleets {
        let n = r
            .environments
            .iter()
            .filter(|e| folded.contains(&e.env) && e.env.starts_with(&format!("{}/", f.env)))
            .count();
        if n > 0 {
            text.push_str(&format!(
                "{}: {} at the common version not listed (`--member NAME` shows one; `--format json` every one)\n",
                f.env,
                super::count(n, "member", "members"),
            ));
        }
    }
    text
}

fn fleets(fleets: &[FleetSummary]) -> String {
    let mut g = Grid::new(vec![
        Styled::new("fleet", BOLD),
        Styled::new("members", BOLD),
        Styled::new("versions", BOLD),
        Styled::new("pending", BOLD),
        Styled::new("problems", BOLD),
        Styled::new("unreachable", BOLD),
    ]);
    for f in fleets {
        // The most common version first.
        let mut versions: Vec<(&String, &usize)> = f.versions.iter().collect();
        versions.sort_by(|a, b| b.1.cmp(a.1).then(b.0.cmp(a.0)));
        let versions: Vec<String> = versions
            .into_iter()
            .map(|(v, n)| format!("{v} ×{n}"))
            .collect();
        let count = |n: usize| Styled::new(n.to_string(), if n == 0 { OK } else { FAIL });
        g.row(vec![
            f.env.as_str().into(),
            f.members.to_string().into(),
            versions.join(", ").into(),
            Styled::new(
                f.pending.to_string(),
                if f.pending == 0 { OK } else { WARN },
            ),
            count(f.problems.len()),
            count(f.unreachable.len()),
        ]);
    }
    g.render()
}
