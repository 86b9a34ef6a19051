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
    pub environments: Vec<EnvStatus>,
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
    let dir = crate::project::display_path(&m.dir);
    match sum::parse(&text) {
        Ok(lines) => sum::verify(&m.set, &lines)
            .into_iter()
            .map(|p| {
                format!(
                    "{dir}/{p}\n  hint: deploy refuses until {} agrees; if the change is intended and the migration is not applied anywhere, run `lockstep hash` and commit it",
                    sum::FILE_NAME
                )
            })
            .collect(),
        Err(e) => vec![format!(
            "{dir}/{e}\n  hint: restore the file from git, or run `lockstep hash` to write it again"
        )],
    }
}

pub async fn status(s: &Session, envs: &[String]) -> Result<StatusReport> {
    let mut out = vec![];
    for env in envs {
        s.env(env)?;
        out.push(match one(s, env).await {
            Ok(state) => EnvStatus {
                env: env.clone(),
                error: None,
                state: Some(state),
            },
            Err(e) => EnvStatus {
                env: env.clone(),
                error: Some(e.text()),
                state: None,
            },
        });
    }
    Ok(StatusReport { environments: out })
}

async fn one(s: &Session, env: &str) -> Result<EnvState> {
    let t = s.open(env, false).await?;
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
    t.close().await;
    Ok(state)
}
