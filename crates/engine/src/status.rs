//! Per environment: the current version, applied and pending migrations, and problems.
//! An environment that cannot be reached is a row with its error; the others are still
//! reported.

use crate::error::Result;
use crate::Session;
use lockstep_core::migrate::state::Problem;
use lockstep_core::migrate::sum;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct StatusReport {
    /// One entry per environment; a fleet's members are entries of their own
    /// (`ENV/MEMBER`).
    pub environments: Vec<EnvStatus>,
    /// Per fleet, how its members stand.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fleets: Vec<FleetSummary>,
}

/// A fleet at a glance: how many members at each version, pending, with problems,
/// unreachable, and who they are when they are the exception.
#[derive(Debug, Serialize)]
pub struct FleetSummary {
    pub env: String,
    pub members: usize,
    /// Members per current version ("none" for nothing applied).
    pub versions: std::collections::BTreeMap<String, usize>,
    /// Members with migrations pending.
    pub pending: usize,
    /// Members with a failed migration, an edited file or a statement in doubt.
    pub problems: Vec<String>,
    pub unreachable: Vec<String>,
    /// Members not at the most common version.
    pub behind_or_ahead: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct EnvStatus {
    pub env: String,
    /// Why the environment could not be read; nothing else is set then.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub state: Option<EnvState>,
}

#[derive(Debug, Serialize)]
pub struct EnvState {
    pub current: Option<String>,
    pub applied: Vec<String>,
    pub pending: Vec<String>,
    /// One message per problem, for people.
    pub problems: Vec<String>,
    pub problem_details: Vec<Problem>,
    /// Applied migrations edited in comments or layout only: accepted, and said.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// The environment's URL, password removed (for human output).
    #[serde(skip)]
    pub url: String,
    #[serde(skip)]
    pub pending_names: Vec<(String, String)>,
    /// Another tool's history table the versions come from, before adoption.
    #[serde(skip)]
    pub adopting_from: Option<String>,
}

impl StatusReport {
    /// A migration failed, a checksum disagrees, or a deploy was interrupted somewhere.
    pub fn has_problems(&self) -> bool {
        self.environments
            .iter()
            .any(|e| e.state.as_ref().is_some_and(|s| !s.problems.is_empty()))
    }

    pub fn has_errors(&self) -> bool {
        self.environments.iter().any(|e| e.error.is_some())
    }
}

/// The problems of `lockstep.sum` against the directory, each with what to do. A missing
/// file is not a problem here: deploy writes it.
pub fn sum_problems(m: &crate::project::Migrations) -> Vec<String> {
    let Ok(text) = std::fs::read_to_string(m.sum_path()) else {
        return vec![];
    };
    // Resolved only for a message: it canonicalizes, and a fleet checks once per member.
    let dir = || crate::project::display_path(&m.dir);
    match sum::parse(&text) {
        Ok(lines) => sum::verify(&m.set, &lines)
            .into_iter()
            .map(|p| {
                format!(
                    "{}/{p}\n  hint: deploy refuses until {} agrees; if the change is intended and the migration is not applied anywhere, run `lockstep hash` and commit it",
                    dir(),
                    sum::FILE_NAME
                )
            })
            .collect(),
        Err(e) => vec![format!(
            "{}/{e}\n  hint: restore the file from git, or run `lockstep hash` to write it again",
            dir()
        )],
    }
}

fn row(env: String, r: Result<EnvState>) -> EnvStatus {
    match r {
        Ok(state) => EnvStatus {
            env,
            error: None,
            state: Some(state),
        },
        Err(e) => EnvStatus {
            env,
            error: Some(e.text()),
            state: None,
        },
    }
}

/// `envs`; with `member`, only that member of the (one) fleet named.
pub async fn status(s: &Session, envs: &[String], member: Option<&str>) -> Result<StatusReport> {
    let mut out = vec![];
    let mut fleets = vec![];
    for env in envs {
        let e = s.env(env)?;
        match (&e.fleet, member) {
            (_, Some(m)) => {
                let t = s.open_in(env, Some(m), false).await;
                out.push(row(format!("{env}/{m}"), state_of(s, t).await));
            }
            (None, None) => out.push(row(
                env.clone(),
                state_of(s, s.open(env, false).await).await,
            )),
            (Some(f), None) => {
                let rows = crate::fleet::fan_out(&f.members, f.concurrency, |m| async move {
                    Ok(row(
                        format!("{env}/{}", m.name),
                        state_of(s, s.open_member_reading(env, m).await).await,
                    ))
                })
                .await;
                s.close_idle().await;
                let rows: Vec<EnvStatus> = rows.into_iter().filter_map(|(_, r)| r.ok()).collect();
                fleets.push(summary(env, &rows));
                out.extend(rows);
            }
        }
    }
    Ok(StatusReport {
        environments: out,
        fleets,
    })
}

fn summary(env: &str, rows: &[EnvStatus]) -> FleetSummary {
    let name = |r: &EnvStatus| r.env.rsplit('/').next().unwrap_or(&r.env).to_string();
    let mut versions = std::collections::BTreeMap::new();
    let mut pending = 0;
    let mut problems = vec![];
    let mut unreachable = vec![];
    for r in rows {
        match &r.state {
            None => unreachable.push(name(r)),
            Some(st) => {
                let v = st.current.clone().unwrap_or_else(|| "none".into());
                *versions.entry(v).or_insert(0) += 1;
                if !st.pending.is_empty() {
                    pending += 1;
                }
                if !st.problems.is_empty() {
                    problems.push(name(r));
                }
            }
        }
    }
    let common = versions
        .iter()
        .max_by_key(|(_, n)| **n)
        .map(|(v, _)| v.clone());
    let behind_or_ahead = rows
        .iter()
        .filter(|r| {
            r.state.as_ref().is_some_and(|st| {
                Some(st.current.clone().unwrap_or_else(|| "none".into())) != common
            })
        })
        .map(name)
        .collect();
    FleetSummary {
        env: env.to_string(),
        members: rows.len(),
        versions,
        pending,
        problems,
        unreachable,
        behind_or_ahead,
    }
}

async fn state_of(s: &crate::Session, t: Result<crate::Target>) -> Result<EnvState> {
    let t = t?;
    let env = t.env.clone();
    let env = env.as_str();
    let history = t.effective_history();
    let st = t.state_of(&history);
    let mut problems: Vec<String> = st.problems.iter().map(|p| p.message_for(env)).collect();
    problems.extend(sum_problems(&t.migrations));
    let state = EnvState {
        current: st.current().map(|v| v.to_string()),
        applied: st.applied.iter().map(|v| v.to_string()).collect(),
        pending: st.pending.iter().map(|m| m.version.to_string()).collect(),
        problems,
        problem_details: st.problems.clone(),
        notes: st
            .reworded
            .iter()
            .map(|(v, path)| {
                format!(
                    "{path}: migration {v} changed in comments or layout only after it was applied; accepted (the code is the one that ran)"
                )
            })
            .collect(),
        url: t.url.redacted(),
        pending_names: st
            .pending
            .iter()
            .map(|m| (m.version.to_string(), m.name.clone()))
            .collect(),
        adopting_from: match &t.foreign {
            Some((tool, _)) if t.history.is_empty() => Some(tool.clone()),
            _ => None,
        },
    };
    drop(st);
    s.put_back(t, true).await;
    Ok(state)
}
