//! `lockstep snapshot [--to VERSION] [--env E]`: writes the expected schema at VERSION
//! (default: the newest) to `snapshots/VERSION.json`, so drift checks need no scratch
//! server.

use crate::config::Config;
use crate::expected;
use crate::project::{self, Migrations};
use anyhow::Result;
use std::process::ExitCode;

pub async fn run(config: Option<&Config>, to: Option<&str>, env: Option<&str>) -> Result<ExitCode> {
    let config = project::require_config(config)?;
    let m = Migrations::load(config)?;
    let to = match to {
        Some(v) => super::deploy::parse_version(v)?,
        None => match m.set.migrations.last() {
            Some(x) => x.version.clone(),
            None => anyhow::bail!("there are no migrations to snapshot"),
        },
    };
    let env = match env {
        Some(e) => e.to_string(),
        None => config
            .envs
            .values()
            .find(|e| e.scratch.is_some())
            .or_else(|| config.envs.values().next())
            .map(|e| e.name.clone())
            .ok_or_else(|| anyhow::anyhow!("snapshot needs a server to replay on\n  hint: add an [env.NAME] with a url (and optionally scratch)"))?,
    };
    let server = expected::scratch_server(config, &env)?;
    let migrations: Vec<_> = m
        .set
        .migrations
        .iter()
        .filter(|x| x.version <= to)
        .collect();
    let mut model = expected::replay(&server, &m, &migrations).await?;
    // Server facts of the scratch database are not part of what migrations produce.
    model.env.settings.clear();
    let path = expected::snapshot_path(config, &to);
    std::fs::create_dir_all(&config.snapshots)?;
    std::fs::write(&path, serde_json::to_string_pretty(&model)? + "\n")?;
    super::out(&format!(
        "wrote {} ({} migrations replayed); commit it",
        project::display_path(&path),
        migrations.len()
    ))?;
    Ok(ExitCode::SUCCESS)
}
