//! Every difference between an environment's expected schema and its live one.

use crate::error::Result;
use crate::expected::Mode;
use crate::{Session, Target};
use lockstep_core::drift::{drift as compare, DriftItem};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct DriftReport {
    pub env: String,
    /// "snapshot" or "replay".
    pub expected_from: &'static str,
    pub expected_detail: String,
    pub items: Vec<DriftItem>,
    /// The SQL that turns the live schema back into the expected one.
    #[serde(skip)]
    pub revert_sql: String,
}

impl DriftReport {
    pub fn is_clean(&self) -> bool {
        self.items.is_empty()
    }
}

/// Drift of an opened target (its live schema is read once per target).
pub async fn drift_of(s: &Session, t: &mut Target, mode: Option<Mode>) -> Result<DriftReport> {
    let exp = s.expected(t, mode).await?;
    let env = t.env.clone();
    let actual = t.actual().await?;
    let items = compare(&exp.model, actual);
    let revert_sql = if items.is_empty() {
        String::new()
    } else {
        let changes = lockstep_core::diff::diff(actual, &exp.model);
        lockstep_core::plan::plan(&changes, actual, &exp.model).to_sql()
    };
    Ok(DriftReport {
        env,
        expected_from: exp.from,
        expected_detail: exp.detail,
        items,
        revert_sql,
    })
}

pub async fn drift(
    s: &Session,
    env: &str,
    member: Option<&str>,
    mode: Option<Mode>,
) -> Result<DriftReport> {
    s.env(env)?;
    let mut t = s.open_in(env, member, false).await?;
    let r = drift_of(s, &mut t, mode).await;
    t.close().await;
    r
}
