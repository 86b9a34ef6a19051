//! Fleet reports: grouped drift (largest group first, each with its members and one
//! fix), deploy waves, the gate over every member.

use super::table::{Grid, Styled};
use crate::ui::{paint, BOLD, FAIL, OK};
use lockstep_engine::fleet::{
    FleetCheckReport, FleetDeployReport, FleetDriftReport, MemberOutcome,
};

/// Member names, shortened when there are many.
fn names(members: &[String]) -> String {
    const SHOW: usize = 12;
    if members.len() <= SHOW {
        members.join(", ")
    } else {
        format!(
            "{}, … and {} more",
            members[..SHOW].join(", "),
            members.len() - SHOW
        )
    }
}

pub fn drift(r: &FleetDriftReport) -> String {
    let total = r.drifted() + r.clean.len() + r.errors.len();
    let mut s = format!(
        "{}: {} of {} members drifted, in {}; {} clean{}\n",
        r.env,
        r.drifted(),
        total,
        super::count(r.groups.len(), "group", "groups"),
        r.clean.len(),
        if r.errors.is_empty() {
            String::new()
        } else {
            format!("; {} could not be read", r.errors.len())
        }
    );
    for (i, g) in r.groups.iter().enumerate() {
        s.push_str(&format!(
            "\ngroup {} ({}): {}\n",
            i + 1,
            super::count(g.members.len(), "member", "members"),
            names(&g.members)
        ));
        for (j, it) in g.items.iter().enumerate() {
            s.push_str(&format!("  {}. {}\n", j + 1, it.describe()));
        }
        if let (Some(m), true) = (&g.shown_for, g.members.len() > 1) {
            s.push_str(&format!(
                "  (as {m} has it; each member the same in its own schema)\n"
            ));
        }
        if !g.revert_sql.trim().is_empty() {
            s.push_str("  fix (reverts it; or adopt it in a new migration):\n");
            for l in g.revert_sql.lines() {
                s.push_str(&format!("    {l}\n"));
            }
        }
    }
    for e in &r.errors {
        s.push_str(&format!(
            "{}/{}: could not be read: {}\n",
            r.env,
            e.member,
            super::indent_rest(&e.error, "  ")
        ));
    }
    s
}

pub fn deploy(r: &FleetDeployReport, verb: &str) -> String {
    let failed = r.count(MemberOutcome::Failed);
    let mut s = format!(
        "{}: {} {} applied, {} up to date, {} failed, {} skipped\n",
        r.env,
        verb,
        r.count(MemberOutcome::Applied),
        r.count(MemberOutcome::UpToDate),
        if failed == 0 {
            "0".to_string()
        } else {
            paint(FAIL, failed)
        },
        r.count(MemberOutcome::Skipped),
    );
    let mut g = Grid::new(vec![
        Styled::new("wave", BOLD),
        Styled::new("members", BOLD),
        Styled::new("applied", BOLD),
        Styled::new("up to date", BOLD),
        Styled::new("failed", BOLD),
        Styled::new("skipped", BOLD),
    ])
    .indent("  ");
    for (i, w) in r.waves.iter().enumerate() {
        let n = |o| w.members.iter().filter(|m| m.outcome == o).count();
        let failed = n(MemberOutcome::Failed);
        g.row(vec![
            (i + 1).to_string().into(),
            w.members.len().to_string().into(),
            Styled::new(n(MemberOutcome::Applied).to_string(), OK),
            n(MemberOutcome::UpToDate).to_string().into(),
            if failed == 0 {
                "0".into()
            } else {
                Styled::new(failed.to_string(), FAIL)
            },
            n(MemberOutcome::Skipped).to_string().into(),
        ]);
    }
    s.push_str(&g.render());
    for (i, w) in r.waves.iter().enumerate() {
        for m in w
            .members
            .iter()
            .filter(|m| m.outcome == MemberOutcome::Failed)
        {
            s.push_str(&format!(
                "  wave {}: {}: {} {}\n",
                i + 1,
                m.member,
                paint(FAIL, "failed:"),
                super::indent_rest(m.error.as_deref().unwrap_or(""), "    ")
            ));
        }
    }
    if r.count(MemberOutcome::Skipped) > 0 {
        s.push_str("  later waves were not started; fix the failure and run the same command again to resume\n");
    }
    s
}

pub fn check(r: &FleetCheckReport) -> String {
    let mut s = format!(
        "check {}: {} ({} members",
        r.env,
        r.verdict.to_uppercase(),
        r.members.len() + r.errors.len()
    );
    let failing: Vec<&str> = r
        .members
        .iter()
        .filter(|c| c.verdict != "pass")
        .map(|c| c.env.as_str())
        .collect();
    s.push_str(&format!(
        ", {} not passing)\n",
        failing.len() + r.errors.len()
    ));
    for c in r.members.iter().filter(|c| c.verdict != "pass") {
        s.push_str(&super::check::text(c));
    }
    for e in &r.errors {
        s.push_str(&format!(
            "{}/{}: could not be checked: {}\n",
            r.env,
            e.member,
            super::indent_rest(&e.error, "  ")
        ));
    }
    s
}
