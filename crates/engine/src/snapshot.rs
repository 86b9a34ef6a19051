//! Writes the expected schema at a version to `snapshots/VERSION.json`, so drift checks
//! need no scratch server.

use crate::error::{Context, Result};
use crate::{fail, project, Session};
use lockstep_core::migrate::Migration;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct SnapshotReport {
    pub path: String,
    pub version: String,
    pub replayed: usize,
}

/// `to`: a version of the directory (default: the newest); `env`: whose scratch server
/// replays (default: the first one with `scratch`, else the first).
pub async fn snapshot(s: &Session, to: Option<&str>, env: Option<&str>) -> Result<SnapshotReport> {
    let m = s.migrations()?;
    let to = match to {
        Some(v) => {
            let v = crate::parse_version(v)?;
            if !m.set.migrations.iter().any(|x| x.version == v) {
                crate::require_known_version(&m, &v)?;
                fail!("there is no migration {v} to snapshot\n  hint: name a version from `lockstep status`");
            }
            v
        }
        None => match m.set.migrations.last() {
            Some(x) => x.version.clone(),
            None => fail!("there are no migrations to snapshot"),
        },
    };
    let env = match env {
        Some(e) => {
            s.env(e)?;
            e.to_string()
        }
        None => crate::expected::replay_env(&s.config, "snapshot")?,
    };
    let migrations: Vec<&Migration> = m
        .set
        .migrations
        .iter()
        .filter(|x| x.version <= to)
        .collect();
    let server = s.scratch_server(&env)?;
    let mut model = s
        .replay_on(&env, &server, &m, &migrations, &[])
        .await?
        .model
        .clone();
    // Server facts of the scratch database are not part of what migrations produce.
    model.env.settings.clear();
    let path = crate::expected::snapshot_path(&s.config, &to);
    std::fs::create_dir_all(&s.config.snapshots)
        .with_context(|| format!("creating {}", s.config.snapshots.display()))?;
    crate::deploy::write_atomic(&path, &(serde_json::to_string_pretty(&model)? + "\n"))?;
    Ok(SnapshotReport {
        path: project::display_path(&path),
        version: to.to_string(),
        replayed: migrations.len(),
    })
}
