//! Fleets: an environment that is many databases of one schema (stores, tenants,
//! shards). Work fans out to the members with bounded concurrency, one connection per
//! member at a time; a member that fails is a row with its error, never an abort. All
//! members at the same applied versions share one replay (the session memoizes it).

use crate::check::CheckReport;
use crate::config::{Fleet, Member};
use crate::deploy::{DeployOptions, DeployReport, Outcome};
use crate::drift::DriftReport;
use crate::error::Result;
use crate::events::{Event, MemberState};
use crate::expected::Mode;
use crate::{fail, Session};
use futures_util::stream::{self, StreamExt};
use lockstep_core::drift::DriftItem;
use serde::Serialize;
use std::future::Future;

/// The fleet behind `env`, or an error for a single-database environment.
pub fn fleet<'a>(s: &'a Session, env: &str) -> Result<&'a Fleet> {
    match &s.env(env)?.fleet {
        Some(f) => Ok(f),
        None => fail!("environment {env} is one database, not a fleet"),
    }
}

/// Runs `f` for every member, at most `concurrency` at once, and returns the results in
/// the members' order.
pub async fn fan_out<'m, T, F, Fut>(
    members: &'m [Member],
    concurrency: usize,
    f: F,
) -> Vec<(&'m Member, Result<T>)>
where
    F: Fn(&'m Member) -> Fut,
    Fut: Future<Output = Result<T>>,
{
    stream::iter(members.iter().map(|m| {
        let fut = f(m);
        async move { (m, fut.await) }
    }))
    .buffered(concurrency.max(1))
    .collect()
    .await
}

/// Splits `n` members into waves: each spec is a cumulative count or percentage of the
/// fleet; a last wave takes the rest when the specs stop short; empty waves are left out.
pub fn waves(specs: &[String], n: usize) -> Result<Vec<std::ops::Range<usize>>> {
    let mut out = vec![];
    let mut done = 0;
    for spec in specs {
        let upto = crate::config::wave_size(spec, n)?.max(done);
        if upto > done {
            out.push(done..upto);
            done = upto;
        }
    }
    if done < n {
        out.push(done..n);
    }
    Ok(out)
}

// ------------------------------------------------------------------------ drift

#[derive(Debug, Serialize)]
pub struct DriftGroup {
    pub items: Vec<DriftItem>,
    pub members: Vec<String>,
    /// The SQL that reverts this drift on each member of the group.
    #[serde(skip)]
    pub revert_sql: String,
    /// Tenants (schemas of a database) group by drift within their schema; the items
    /// and the SQL are then the ones of this member, and each member's are the same in
    /// its own schema.
    #[serde(skip)]
    pub shown_for: Option<String>,
    /// The items as compared: names relative to the member's schema, for tenants.
    #[serde(skip)]
    key: Vec<DriftItem>,
}

#[derive(Debug, Serialize)]
pub struct MemberError {
    pub member: String,
    pub error: String,
}

/// Members whose drift items are identical share one group, largest group first.
#[derive(Debug, Serialize)]
pub struct FleetDriftReport {
    pub env: String,
    pub groups: Vec<DriftGroup>,
    pub clean: Vec<String>,
    pub errors: Vec<MemberError>,
}

impl FleetDriftReport {
    pub fn drifted(&self) -> usize {
        self.groups.iter().map(|g| g.members.len()).sum()
    }
}

pub async fn drift(s: &Session, env: &str, mode: Option<Mode>) -> Result<FleetDriftReport> {
    let f = fleet(s, env)?;
    let results = fan_out(&f.members, f.concurrency, |m| async move {
        let mut t = s.open_member_reading(env, m).await?;
        let r = crate::drift::drift_of(s, &mut t, mode).await;
        s.put_back(t, r.is_ok()).await;
        r
    })
    .await;
    s.close_idle().await;
    Ok(group(env, results))
}

fn group(env: &str, results: Vec<(&Member, Result<DriftReport>)>) -> FleetDriftReport {
    let mut groups: Vec<DriftGroup> = vec![];
    let mut clean = vec![];
    let mut errors = vec![];
    for (m, r) in results {
        match r {
            Ok(d) if d.items.is_empty() => clean.push(m.name.clone()),
            Ok(d) => {
                let schema = lockstep_db::DbUrl::parse(&m.url)
                    .ok()
                    .and_then(|u| u.schema());
                let key = match &schema {
                    Some(s) => relative_to(&d.items, s),
                    None => d.items.clone(),
                };
                match groups.iter_mut().find(|g| g.key == key) {
                    Some(g) => g.members.push(m.name.clone()),
                    None => groups.push(DriftGroup {
                        items: d.items,
                        members: vec![m.name.clone()],
                        revert_sql: d.revert_sql,
                        shown_for: schema.map(|_| m.name.clone()),
                        key,
                    }),
                }
            }
            Err(e) => errors.push(MemberError {
                member: m.name.clone(),
                error: e.text(),
            }),
        }
    }
    // Largest first; ties keep the members' order.
    groups.sort_by_key(|g| std::cmp::Reverse(g.members.len()));
    FleetDriftReport {
        env: env.to_string(),
        groups,
        clean,
        errors,
    }
}

/// Drift items with `schema.` taken out of their text: what two tenants' drift is
/// compared by.
fn relative_to(items: &[DriftItem], schema: &str) -> Vec<DriftItem> {
    let prefixes = [
        format!("{schema}."),
        format!("{}.", lockstep_core::plan::ident(schema)),
    ];
    let strip = |s: &str| prefixes.iter().fold(s.to_string(), |s, p| s.replace(p, ""));
    items
        .iter()
        .map(|it| DriftItem {
            object: strip(&it.object),
            expected: it.expected.as_deref().map(strip),
            actual: it.actual.as_deref().map(strip),
            ..it.clone()
        })
        .collect()
}

// ------------------------------------------------------------------------ check

#[derive(Debug, Serialize)]
pub struct FleetCheckReport {
    pub env: String,
    /// "pass", "fail" or "error", over every member.
    pub verdict: &'static str,
    pub members: Vec<CheckReport>,
    pub errors: Vec<MemberError>,
}

pub async fn check(s: &Session, env: &str) -> Result<FleetCheckReport> {
    let f = fleet(s, env)?;
    let results = fan_out(&f.members, f.concurrency, |m| async move {
        crate::check::check_target(s, s.open_member(env, m, false).await?).await
    })
    .await;
    let mut members = vec![];
    let mut errors = vec![];
    for (m, r) in results {
        match r {
            Ok(c) => members.push(c),
            Err(e) => errors.push(MemberError {
                member: m.name.clone(),
                error: e.text(),
            }),
        }
    }
    let verdict = if members.iter().any(|c| c.verdict == "fail") {
        "fail"
    } else if !errors.is_empty() || members.iter().any(|c| c.verdict == "error") {
        "error"
    } else {
        "pass"
    };
    Ok(FleetCheckReport {
        env: env.to_string(),
        verdict,
        members,
        errors,
    })
}

// ------------------------------------------------------------------------ deploy

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MemberOutcome {
    Applied,
    UpToDate,
    Failed,
    Skipped,
}

#[derive(Debug, Serialize)]
pub struct MemberResult {
    pub member: String,
    pub outcome: MemberOutcome,
    pub error: Option<String>,
    #[serde(skip)]
    pub report: Option<DeployReport>,
}

#[derive(Debug, Serialize)]
pub struct FleetWave {
    pub members: Vec<MemberResult>,
}

#[derive(Debug, Serialize)]
pub struct FleetDeployReport {
    pub env: String,
    pub waves: Vec<FleetWave>,
}

impl FleetDeployReport {
    pub fn ok(&self) -> bool {
        self.waves
            .iter()
            .flat_map(|w| &w.members)
            .all(|m| matches!(m.outcome, MemberOutcome::Applied | MemberOutcome::UpToDate))
    }

    pub fn count(&self, o: MemberOutcome) -> usize {
        self.waves
            .iter()
            .flat_map(|w| &w.members)
            .filter(|m| m.outcome == o)
            .count()
    }
}

fn outcome_of(r: Result<DeployReport>) -> (MemberOutcome, Option<String>, Option<DeployReport>) {
    match r {
        Err(e) => (MemberOutcome::Failed, Some(e.text()), None),
        Ok(d) => match &d.outcome {
            Outcome::Applied { .. } => (MemberOutcome::Applied, None, Some(d)),
            Outcome::UpToDate { .. } | Outcome::DryRun { .. } => {
                (MemberOutcome::UpToDate, None, Some(d))
            }
            Outcome::Refused { problems } => {
                let e = problems.join("\n");
                (MemberOutcome::Failed, Some(e), Some(d))
            }
            Outcome::Failed { error } => {
                let e = error.clone();
                (MemberOutcome::Failed, Some(e), Some(d))
            }
        },
    }
}

/// Runs `op` on the fleet in waves: a wave starts only when the one before it succeeded
/// on every member; after a failure, later waves are reported as skipped. Running it
/// again resumes: members already done are up to date.
async fn in_waves<'s, F, Fut>(
    s: &'s Session,
    env: &str,
    wave_specs: Option<&[String]>,
    op: F,
) -> Result<FleetDeployReport>
where
    F: Fn(&'s Member) -> Fut,
    Fut: Future<Output = Result<DeployReport>>,
{
    let f = fleet(s, env)?;
    let specs = wave_specs.unwrap_or(&f.waves);
    let ranges = waves(specs, f.members.len())?;
    let mut out = vec![];
    let mut halted = false;
    let total = ranges.len();
    for (i, r) in ranges.into_iter().enumerate() {
        let members = &f.members[r];
        if halted {
            out.push(FleetWave {
                members: members
                    .iter()
                    .map(|m| MemberResult {
                        member: m.name.clone(),
                        outcome: MemberOutcome::Skipped,
                        error: None,
                        report: None,
                    })
                    .collect(),
            });
            continue;
        }
        s.events.stage(
            env,
            format!("wave {}/{total}: {} member(s)", i + 1, members.len()),
        );
        let member_event = |m: &Member, state| {
            s.events.send(Event::Member {
                env: env.to_string(),
                member: m.name.clone(),
                state,
            })
        };
        let results = fan_out(members, f.concurrency, |m| {
            let run = op(m);
            async move {
                member_event(m, MemberState::Started);
                let r = run.await;
                let failed = match &r {
                    Err(_) => true,
                    Ok(d) => matches!(d.outcome, Outcome::Refused { .. } | Outcome::Failed { .. }),
                };
                let state = if failed {
                    MemberState::Failed
                } else {
                    MemberState::Finished
                };
                member_event(m, state);
                r
            }
        })
        .await;
        let wave: Vec<MemberResult> = results
            .into_iter()
            .map(|(m, r)| {
                let (outcome, error, report) = outcome_of(r);
                MemberResult {
                    member: m.name.clone(),
                    outcome,
                    error,
                    report,
                }
            })
            .collect();
        halted = wave.iter().any(|m| m.outcome == MemberOutcome::Failed);
        out.push(FleetWave { members: wave });
    }
    Ok(FleetDeployReport {
        env: env.to_string(),
        waves: out,
    })
}

pub async fn deploy(
    s: &Session,
    env: &str,
    o: &DeployOptions<'_>,
    wave_specs: Option<&[String]>,
) -> Result<FleetDeployReport> {
    if let Some(v) = &o.to {
        crate::require_known_version(&*s.migrations()?, &crate::parse_version(v)?)?;
    }
    in_waves(s, env, wave_specs, |m| async move {
        let mut t = s.open_member(env, m, !o.dry_run).await?;
        let r = crate::deploy::deploy_target(s, &mut t, o).await;
        t.close().await;
        r
    })
    .await
}

pub async fn rollback(
    s: &Session,
    env: &str,
    to: &str,
    o: &DeployOptions<'_>,
    wave_specs: Option<&[String]>,
) -> Result<FleetDeployReport> {
    let target = crate::parse_version(to)?;
    crate::require_known_version(&*s.migrations()?, &target)?;
    in_waves(s, env, wave_specs, |m| {
        let target = target.clone();
        async move {
            let mut t = s.open_member(env, m, false).await?;
            let r = crate::deploy::rollback_target(s, &mut t, &target, o).await;
            t.close().await;
            r
        }
    })
    .await
}

pub async fn baseline(
    s: &Session,
    env: &str,
    o: &crate::baseline::BaselineOptions,
) -> Result<FleetDeployReport> {
    crate::require_known_version(&*s.migrations()?, &crate::parse_version(&o.to)?)?;
    in_waves(s, env, None, |m| async move {
        let mut t = s.open_member(env, m, false).await?;
        let r = crate::baseline::baseline_target(s, &mut t, o).await;
        t.close().await;
        r
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::waves;

    #[test]
    fn waves_are_cumulative_and_cover_the_fleet() {
        let w = |specs: &[&str], n| {
            waves(&specs.iter().map(|s| s.to_string()).collect::<Vec<_>>(), n).unwrap()
        };
        assert_eq!(w(&["1", "10%", "100%"], 200), vec![0..1, 1..20, 20..200]);
        assert_eq!(w(&["1", "10%", "100%"], 5), vec![0..1, 1..5]);
        assert_eq!(w(&[], 3), vec![0..3]);
        assert_eq!(w(&["2"], 5), vec![0..2, 2..5]);
    }
}
