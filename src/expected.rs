//! The expected schema of an environment: its applied history replayed on a scratch
//! database, or read from a committed snapshot.

use crate::cmd::deploy::{self, Opened};
use crate::config::Config;
use crate::project::{self, Migrations};
use anyhow::{bail, Context, Result};
use lockstep_core::drift::map_role;
use lockstep_core::migrate::state::{self, HistoryRow};
use lockstep_core::migrate::{Migration, Version};
use lockstep_core::model::Database;
use lockstep_db::scratch::{ReplayScript, Scratch};
use lockstep_db::DbUrl;
use std::path::PathBuf;

#[derive(Clone, Copy, Debug, PartialEq, clap::ValueEnum)]
pub enum Mode {
    Snapshot,
    Replay,
}

pub struct Expected {
    pub model: Database,
    /// "snapshot" or "replay".
    pub from: &'static str,
    pub detail: String,
}

pub fn snapshot_path(config: &Config, v: &Version) -> PathBuf {
    config.snapshots.join(format!("{v}.json"))
}

/// Where replays for an environment run: its `scratch` server, or its own server.
pub fn scratch_server(config: &Config, env: &str) -> Result<DbUrl> {
    let e = project::env(config, env)?;
    match &e.scratch {
        Some(s) => Ok(DbUrl::sqlite_relative_to(s, &config.dir)?),
        None => project::env_url(config, env),
    }
}

/// Replays `migrations` in order on a fresh scratch database and inspects it.
pub async fn replay(server: &DbUrl, m: &Migrations, migrations: &[&Migration]) -> Result<Database> {
    let mut scratch = Scratch::create(server).await?;
    let paths: Vec<String> = migrations.iter().map(|x| m.display(&x.up.path)).collect();
    let scripts: Vec<ReplayScript> = migrations
        .iter()
        .zip(&paths)
        .map(|(x, p)| ReplayScript {
            path: p,
            first_line: x.up.first_line,
            text: &x.up.text,
        })
        .collect();
    let r = scratch.run(&scripts).await;
    let model = match r {
        Ok(()) => scratch.inspect().await.map_err(anyhow::Error::from),
        Err(e) => Err(e.into()),
    };
    let role = scratch.role().await;
    scratch.drop().await;
    let mut model = model?;
    model.replay_role = role;
    Ok(model)
}

/// The role that deployed the environment, from its newest applied history row.
pub fn deploy_role(history: &[HistoryRow]) -> Option<String> {
    history
        .iter()
        .rev()
        .filter(|r| r.is_applied())
        .find_map(|r| r.db_role.clone())
}

/// Maps a replayed model's owners and grants to the environment's deploy role.
pub fn map_to_deployer(model: &mut Database, history: &[HistoryRow]) {
    if let (Some(from), Some(to)) = (model.replay_role.clone(), deploy_role(history)) {
        map_role(model, &from, &to);
    }
}

/// The expected schema of an opened environment.
pub async fn expected(
    config: &Config,
    env: &str,
    o: &Opened,
    mode: Option<Mode>,
) -> Result<Expected> {
    let history = o.effective_history();
    let st = state::state(&o.migrations.set, &history, &o.progress);
    if let Some(p) = st.problems.iter().find(|p| {
        matches!(
            p,
            state::Problem::Missing { .. } | state::Problem::Edited { .. }
        )
    }) {
        bail!(
            "cannot build {env}'s expected schema: {}",
            p.message().replace("ENV", env)
        );
    }
    let current = st.current().cloned();
    if mode != Some(Mode::Replay) {
        if let Some(v) = &current {
            let path = snapshot_path(config, v);
            if path.is_file() {
                let mut model = crate::source::load_snapshot(&path)?.model;
                map_to_deployer(&mut model, &history);
                return Ok(Expected {
                    model,
                    from: "snapshot",
                    detail: project::display_path(&path),
                });
            }
            if mode == Some(Mode::Snapshot) {
                bail!(
                    "there is no snapshot for {env}'s version {v} ({})\n  hint: write it with `lockstep snapshot --to {v}`, or use --expected replay",
                    project::display_path(&path)
                );
            }
        } else if mode == Some(Mode::Snapshot) {
            bail!("{env} has no applied migrations, so there is no snapshot to compare with");
        }
    }
    // Replay in the order the history applied them: by the row that applied each one
    // (a later failed rollback does not move it).
    let applied_at = |v: &Version| {
        history
            .iter()
            .rev()
            .find(|r| {
                &r.version == v && matches!(r.direction.as_str(), "up" | "adopt") && r.is_applied()
            })
            .map(|r| r.id)
            .unwrap_or(i64::MAX)
    };
    let mut order: Vec<(i64, &Migration)> = o
        .migrations
        .set
        .migrations
        .iter()
        .filter(|m| st.applied.contains(&m.version))
        .map(|m| (applied_at(&m.version), m))
        .collect();
    order.sort_by_key(|(id, m)| (*id, m.version.clone()));
    let migrations: Vec<&Migration> = order.into_iter().map(|(_, m)| m).collect();
    let server = scratch_server(config, env)?;
    let mut model = replay(&server, &o.migrations, &migrations)
        .await
        .with_context(|| format!("replaying {env}'s {} applied migrations", migrations.len()))?;
    map_to_deployer(&mut model, &history);
    Ok(Expected {
        model,
        from: "replay",
        detail: format!(
            "{} applied migration(s) replayed on {}",
            migrations.len(),
            if server.dialect() == lockstep_core::model::Dialect::Sqlite {
                "an in-memory SQLite database".to_string()
            } else {
                format!("a scratch database on {}", server.redacted())
            }
        ),
    })
}

/// `@VERSION` / `@latest`: the directory replayed up to VERSION, on the scratch server of
/// the first environment (one with `scratch` preferred).
pub async fn at_version(config: &Config, spec: &str) -> Result<Database> {
    let m = Migrations::load(config)?;
    let to = if spec == "latest" {
        None
    } else {
        Some(deploy::parse_version(spec)?)
    };
    let env = config
        .envs
        .values()
        .find(|e| e.scratch.is_some())
        .or_else(|| config.envs.values().next())
        .ok_or_else(|| anyhow::anyhow!("@{spec} needs a server to replay on\n  hint: add an [env.NAME] with a url (and optionally scratch) to lockstep.toml"))?;
    let server = scratch_server(config, &env.name)?;
    let migrations: Vec<&Migration> = m
        .set
        .migrations
        .iter()
        .filter(|x| to.as_ref().is_none_or(|t| &x.version <= t))
        .collect();
    replay(&server, &m, &migrations).await
}
