//! Resolving a SOURCE argument into a schema model, in the contract's order:
//! a database URL, a configured environment, `@VERSION`, a JSON snapshot path.

use crate::error::{Context, Error, Result};
use crate::fail;
use crate::Session;
use lockstep_core::model::Database;
use lockstep_db::DbUrl;
use std::path::Path;

/// Where a model came from, for messages (never holds a password).
pub struct Loaded {
    pub model: Database,
    pub label: String,
}

pub async fn load(arg: &str, session: Option<&Session>) -> Result<Loaded> {
    let config = session.map(|s| &s.config);
    if DbUrl::looks_like_url(arg) {
        // On the command line a relative SQLite path is relative to the working directory.
        let url = DbUrl::parse(arg)?;
        let model = lockstep_db::inspect_url(&url).await?;
        return Ok(Loaded {
            model,
            label: url.redacted(),
        });
    }
    if let Some(env) = config.and_then(|c| c.envs.get(arg)) {
        let cfg = config.expect("env came from the config");
        // In the config a relative SQLite path is relative to the config file.
        let url = DbUrl::sqlite_relative_to(&env.url, &cfg.dir)
            .with_context(|| format!("environment {arg} in {}", cfg.path.display()))?;
        let model = lockstep_db::inspect_url(&url)
            .await
            .with_context(|| format!("inspecting environment {arg}"))?;
        return Ok(Loaded {
            model,
            label: format!("env {arg}"),
        });
    }
    if let Some(spec) = arg.strip_prefix('@') {
        let Some(s) = session else {
            fail!("{arg} needs a lockstep.toml with a migrations directory\n  hint: run in a project directory, or pass --config PATH");
        };
        let model = crate::expected::at_version(s, spec)
            .await
            .with_context(|| {
                format!("building {arg} (the migrations replayed on a scratch database)")
            })?;
        return Ok(Loaded {
            model,
            label: arg.to_string(),
        });
    }
    let path = Path::new(arg);
    if path.is_file() {
        return load_snapshot(path);
    }
    let envs = config
        .map(|c| c.envs.keys().cloned().collect::<Vec<_>>().join(", "))
        .unwrap_or_default();
    fail!(
        "`{}` is not a database URL, a configured environment{}, or a snapshot file\n  hint: use postgres://USER@HOST/DB, sqlite://PATH, an [env.NAME] from lockstep.toml, or a file written by `lockstep inspect --format json`",
        lockstep_db::url::redact(arg),
        if envs.is_empty() {
            " (no lockstep.toml with environments was found)".to_string()
        } else {
            format!(" (known: {envs})")
        }
    )
}

pub fn load_snapshot(path: &Path) -> Result<Loaded> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let model: Database = serde_json::from_str(&text).map_err(|e| {
        Error::msg(format!(
            "{}:{}:{}: not a lockstep snapshot: {e}\n  hint: snapshots are written by `lockstep inspect SOURCE --format json`",
            path.display(),
            e.line(),
            e.column()
        ))
    })?;
    if model.format != lockstep_core::model::FORMAT_VERSION {
        fail!(
            "{}: snapshot format {} is not supported (this lockstep reads format {})\n  hint: write the snapshot again with this version of lockstep",
            path.display(),
            model.format,
            lockstep_core::model::FORMAT_VERSION
        );
    }
    Ok(Loaded {
        model,
        label: path.display().to_string(),
    })
}
