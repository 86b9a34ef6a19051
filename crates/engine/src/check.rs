//! The gate: integrity, drift, rehearsal, lint and impact for one environment, one
//! verdict. The target is opened once, its live schema read once, and the expected schema
//! replayed at most once (the same replay answers drift and the rehearsal's question of
//! whether the pending migrations adopt the drift).
//!
//! A check that could not run is an error, never "ok": the verdict is then `error`.

use crate::drift::DriftReport;
use crate::error::Result;
use crate::impact::ImpactReport;
use crate::lint::LintReport;
use crate::rehearse::RehearseReport;
use crate::Session;
use lockstep_core::lint::Severity;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Fail,
    /// The check could not run.
    Error,
}

#[derive(Debug, Serialize)]
pub struct CheckItem {
    pub name: &'static str,
    pub ok: bool,
    pub status: Status,
    /// A summary line, then one line per item.
    pub detail: String,
    #[serde(skip)]
    pub lines: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct CheckReport {
    pub env: String,
    /// "pass", "fail" or "error".
    pub verdict: &'static str,
    pub checks: Vec<CheckItem>,
    #[serde(skip)]
    pub drift: Option<DriftReport>,
    #[serde(skip)]
    pub rehearsal: Option<RehearseReport>,
    #[serde(skip)]
    pub lint: Option<LintReport>,
    #[serde(skip)]
    pub impact: Option<ImpactReport>,
}

fn item(name: &'static str, status: Status, summary: String, lines: Vec<String>) -> CheckItem {
    let mut detail = summary;
    for l in &lines {
        detail.push('\n');
        detail.push_str(l);
    }
    CheckItem {
        name,
        ok: status == Status::Ok,
        status,
        detail,
        lines,
    }
}

fn error(name: &'static str, e: &crate::Error) -> CheckItem {
    item(
        name,
        Status::Error,
        format!("could not run: {}", e.text()),
        vec![],
    )
}

pub async fn check(s: &Session, env: &str, member: Option<&str>) -> Result<CheckReport> {
    s.env(env)?;
    let t = s.open_in(env, member, false).await?;
    check_target(s, t).await
}

/// The gate on an opened target (closed when done).
pub async fn check_target(s: &Session, mut t: crate::Target) -> Result<CheckReport> {
    let env = t.env.clone();
    let env = env.as_str();
    let mut checks = vec![];

    // Integrity: the sum file and the history against the directory.
    s.events.stage(env, "integrity");
    let (problems, applied, pending) = {
        let h = t.effective_history();
        let st = t.state_of(&h);
        let mut problems = crate::status::sum_problems(&t.migrations);
        problems.extend(st.problems.iter().map(|p| p.message_for(env)));
        (problems, st.applied.len(), st.pending.len())
    };
    checks.push(if problems.is_empty() {
        item(
            "integrity",
            Status::Ok,
            format!("{applied} applied, {pending} pending, checksums agree"),
            vec![],
        )
    } else {
        item(
            "integrity",
            Status::Fail,
            format!("{} problem(s)", problems.len()),
            problems,
        )
    });

    // One replay answers drift and, when there is drift, whether the pending migrations
    // adopt it.
    s.events.stage(env, "drift");
    let drift = match s.expected_with_pending(&t).await {
        Ok(_) => crate::drift::drift_of(s, &mut t, None).await,
        Err(e) => Err(e),
    };
    let drift = match drift {
        Ok(d) => Some(d),
        Err(e) => {
            checks.push(error("drift", &e));
            None
        }
    };

    s.events.stage(env, "rehearsal");
    let items = drift.as_ref().map(|d| d.items.as_slice());
    let has_drift = items.is_some_and(|i| !i.is_empty());
    let rehearsal = crate::rehearse::rehearse_of(s, &mut t, false, items, has_drift).await;
    if let Some(d) = &drift {
        let lines: Vec<String> = d
            .items
            .iter()
            .enumerate()
            .map(|(i, it)| format!("{}. {}", i + 1, it.describe()))
            .collect();
        let adopted = rehearsal.as_ref().is_ok_and(|r| r.adopts_drift());
        checks.push(if d.items.is_empty() {
            item(
                "drift",
                Status::Ok,
                format!("none (expected schema from {})", d.expected_from),
                vec![],
            )
        } else if adopted {
            item(
                "drift",
                Status::Ok,
                format!(
                    "{} item(s), all adopted by the pending migrations",
                    d.items.len()
                ),
                lines,
            )
        } else {
            item(
                "drift",
                Status::Fail,
                format!(
                    "{} item(s) (expected schema from {})",
                    d.items.len(),
                    d.expected_from
                ),
                lines,
            )
        });
    }
    let rehearsal = match rehearsal {
        Ok(r) => {
            checks.push(match &r.failure {
                None => item(
                    "rehearsal",
                    Status::Ok,
                    format!(
                        "{} pending migration(s) apply to a copy of {env}",
                        r.pending
                    ),
                    vec![],
                ),
                Some(f) => {
                    let mut lines = f.lines();
                    let first = lines.next().unwrap_or_default().to_string();
                    item(
                        "rehearsal",
                        Status::Fail,
                        first,
                        lines.map(|l| l.trim().to_string()).collect(),
                    )
                }
            });
            Some(r)
        }
        Err(e) => {
            checks.push(error("rehearsal", &e));
            None
        }
    };

    s.events.stage(env, "lint");
    let scratch = s.scratch_server(env).ok();
    let lint = match crate::lint::lint_target(&mut t, None, scratch.as_ref()).await {
        Ok(l) => {
            let errors: Vec<String> = l
                .findings
                .iter()
                .filter(|f| f.severity == Severity::Error)
                .map(|f| format!("{}:{}: {}: {}", f.file, f.line, f.rule, f.message))
                .collect();
            let summary = format!(
                "{} pending migration(s): {} error(s), {} other finding(s)",
                l.inputs.len(),
                errors.len(),
                l.findings.len() - errors.len()
            );
            let status = if errors.is_empty() {
                Status::Ok
            } else {
                Status::Fail
            };
            checks.push(item("lint", status, summary, errors));
            Some(l)
        }
        Err(e) => {
            checks.push(error("lint", &e));
            None
        }
    };

    // Impact is informational: it lists how many code references the pending changes and
    // the drift touch, and never fails the gate.
    s.events.stage(env, "impact");
    let impact = match &drift {
        Some(d) => Some(crate::impact::impact_target(s, &mut t, Some(d)).await),
        None => None,
    };
    let impact = match impact {
        Some(Ok(r)) => {
            let refs = r.references();
            let mut lines: Vec<String> = r
                .changes
                .iter()
                .filter(|c| !c.references.is_empty())
                .map(|c| format!("{}: {} reference(s)", c.describe, c.references.len()))
                .collect();
            if refs > 0 {
                lines.push(format!(
                    "run `lockstep impact --env {env}` for files and lines"
                ));
            }
            checks.push(item(
                "impact",
                Status::Ok,
                format!(
                    "{} schema change(s) drop, rename or retype; {refs} code reference(s) found",
                    r.changes.len()
                ),
                lines,
            ));
            Some(r)
        }
        Some(Err(e)) => {
            checks.push(error("impact", &e));
            None
        }
        None => {
            checks.push(item(
                "impact",
                Status::Error,
                "could not run: it needs the drift, which could not be checked".into(),
                vec![],
            ));
            None
        }
    };
    t.close().await;
    let verdict = if checks.iter().any(|c| c.status == Status::Fail) {
        "fail"
    } else if checks.iter().any(|c| c.status == Status::Error) {
        "error"
    } else {
        "pass"
    };
    Ok(CheckReport {
        env: env.to_string(),
        verdict,
        checks,
        drift,
        rehearsal,
        lint,
        impact,
    })
}
