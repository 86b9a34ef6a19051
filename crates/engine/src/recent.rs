//! Recent deploys of an environment, newest first, from its history table: who ran what,
//! when, and how it ended. The status page shows them; nothing here writes.

use crate::error::{Context, Result};
use crate::events::Event;
use crate::Session;
pub use lockstep_db::history::DeployRow;
use lockstep_db::Db;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct RecentReport {
    pub env: String,
    pub deploys: Vec<DeployRow>,
}

impl RecentReport {
    /// The newest row that applied or adopted something (a failed attempt is not "the
    /// last deploy").
    pub fn last_applied(&self) -> Option<&DeployRow> {
        self.deploys
            .iter()
            .find(|d| matches!(d.outcome.as_str(), "applied" | "adopted" | "rolled_back"))
            .or_else(|| self.deploys.first())
    }
}

/// The `limit` newest history rows of `env`. A SQLite file that does not exist yet has
/// none (this never creates it).
pub async fn recent(s: &Session, env: &str, limit: usize) -> Result<RecentReport> {
    let url = crate::project::env_url(&s.config, env)?;
    if url
        .sqlite_path()
        .is_some_and(|p| p != ":memory:" && !std::path::Path::new(&p).exists())
    {
        return Ok(RecentReport {
            env: env.to_string(),
            deploys: vec![],
        });
    }
    let mut db = Db::connect(&url, false).await?;
    s.events.send(Event::Opened { env: env.into() });
    let r = db
        .recent_deploys(limit as i64)
        .await
        .with_context(|| format!("reading {env}'s recent deploys"));
    db.close().await;
    Ok(RecentReport {
        env: env.to_string(),
        deploys: r?,
    })
}
