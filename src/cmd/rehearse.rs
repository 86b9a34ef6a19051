//! `lockstep rehearse --env E [--with-data]`: a scratch copy of the environment's actual
//! schema, drift included, with the pending migrations applied the way `deploy` would.
//! The environment itself is only read.

use crate::cli::OutFormat;
use crate::config::Config;
use crate::project;
use anyhow::Result;
use lockstep_core::diff::diff;
use lockstep_core::drift::DriftItem;
use lockstep_core::migrate::state;
use lockstep_core::model::{Database, Dialect};
use lockstep_core::plan;
use lockstep_db::migrate::{apply, ApplyError, Direction, LockWait, Step};
use lockstep_db::scratch::Scratch;
use lockstep_db::{Db, DbUrl};
use std::process::ExitCode;

pub struct Outcome {
    pub pending: usize,
    /// None when every pending migration applied.
    pub failure: Option<String>,
    /// The drift item the failure touches, numbered as `drift` numbers them.
    pub blamed: Option<(usize, DriftItem)>,
    /// After a passing rehearsal: how the rehearsed schema differs from what the
    /// migrations alone produce (applied and pending, replayed). Empty means the
    /// pending migrations reconcile any drift: after the deploy the environment will be
    /// exactly what its migrations say.
    pub residual: Option<Vec<DriftItem>>,
}

/// The drift item whose object the failing statement or message names.
fn blame(items: &[DriftItem], statement: &str, message: &str) -> Option<(usize, DriftItem)> {
    let hay = format!("{statement} {message}").to_lowercase();
    let mentions = |name: &str| {
        let n = name.to_lowercase();
        hay.match_indices(&n).any(|(i, _)| {
            let before = hay[..i].chars().last();
            let after = hay[i + n.len()..].chars().next();
            let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
            !word(before) && !word(after)
        })
    };
    items.iter().enumerate().find_map(|(i, it)| {
        let parts: Vec<&str> = it.object.split('.').collect();
        let hit = match it.kind.as_str() {
            // schema.table.column: both the table and the column are named.
            "column" if parts.len() >= 3 => {
                mentions(parts[parts.len() - 1]) && mentions(parts[parts.len() - 2])
            }
            _ => parts.last().is_some_and(|n| mentions(n)),
        };
        hit.then(|| (i + 1, it.clone()))
    })
}

pub async fn rehearse(
    config: &Config,
    env: &str,
    with_data: bool,
    drift: Option<&[DriftItem]>,
) -> Result<Outcome> {
    let url = project::env_url(config, env)?;
    let mut o = super::deploy::open(config, env, false).await?;
    let history = o.effective_history();
    let st = state::state(&o.migrations.set, &history, &o.progress);
    let pending: Vec<Step> = st
        .pending
        .iter()
        .map(|m| super::deploy::step(m, &o.migrations, Direction::Up))
        .collect();
    let applied_order: Vec<lockstep_core::migrate::Version> = st.applied.clone();
    let actual = o.db.inspect().await?;
    o.db.close().await;

    // The scratch copy: a copied SQLite file with --with-data, otherwise the actual
    // schema's create script on a scratch database. The copy's folder goes when `_tmp`
    // does, on every path out of here (an error, a cancelled future).
    let mut _tmp: Option<tempfile::TempDir> = None;
    let mut scratch: Option<Scratch> = None;
    let mut db = if with_data && url.dialect() == Dialect::Sqlite {
        let src = url.sqlite_path().unwrap_or_default();
        let tmp = tempfile::Builder::new()
            .prefix("lockstep-rehearse-")
            .tempdir()?;
        let copy = tmp.path().join("rehearsal.db");
        _tmp = Some(tmp);
        std::fs::copy(&src, &copy)?;
        Db::connect(
            &DbUrl::parse(&format!("sqlite://{}", copy.display()))?,
            false,
        )
        .await?
    } else {
        if with_data {
            anyhow::bail!(
                "--with-data copies SQLite files only\n  hint: for PostgreSQL, restore a backup (pg_dump/pg_restore) into a database, add it as an environment, and rehearse against that one (see docs/drift.md)"
            );
        }
        let server = crate::expected::scratch_server(config, env)?;
        let mut s = Scratch::create(&server).await?;
        let empty = Database::empty(actual.dialect);
        let script = plan::plan(&diff(&empty, &actual), &empty, &actual).to_sql();
        if let Err(e) = s.build(&script).await {
            s.drop().await;
            anyhow::bail!("could not build the scratch copy of {env}: {e}");
        }
        let db = std::mem::replace(
            &mut s.db,
            Db::connect(&DbUrl::parse("sqlite::memory:")?, true).await?,
        );
        scratch = Some(s);
        db
    };
    db.ensure_history().await?;
    let who = super::deploy::who();
    let result = apply(
        &mut db,
        &who,
        &pending,
        &[],
        &LockWait::default(),
        &mut |_, _, _, _| {},
        &mut |_| {},
    )
    .await;
    let after = match &result {
        Ok(()) => Some(db.inspect().await?),
        Err(_) => None,
    };
    db.close().await;
    if let Some(s) = scratch {
        s.drop().await;
    }
    match result {
        Ok(()) => {
            // What the migrations alone give: the applied ones, then the pending ones.
            let residual = match after {
                Some(after) => {
                    let m = crate::project::Migrations::load(config)?;
                    let ordered: Vec<&lockstep_core::migrate::Migration> = applied_order
                        .iter()
                        .chain(pending.iter().map(|p| &p.version))
                        .filter_map(|v| m.set.migrations.iter().find(|x| &x.version == v))
                        .collect();
                    let server = crate::expected::scratch_server(config, env)?;
                    let mut model = crate::expected::replay(&server, &m, &ordered).await?;
                    crate::expected::map_to_deployer(&mut model, &history);
                    Some(lockstep_core::drift::drift(&model, &after))
                }
                None => None,
            };
            Ok(Outcome {
                pending: pending.len(),
                failure: None,
                blamed: None,
                residual,
            })
        }
        Err(ApplyError::Statement {
            version,
            path,
            line,
            statement,
            message,
            ..
        }) => {
            let blamed = drift.and_then(|items| blame(items, &statement, &message));
            let mut failure = format!(
                "{path}:{line}: migration {version} fails: {message}\n  statement: {statement}"
            );
            if let Some((n, it)) = &blamed {
                failure.push_str(&format!("\n  cause: {} (drift item {n})", it.describe()));
            }
            Ok(Outcome {
                pending: pending.len(),
                failure: Some(failure),
                blamed,
                residual: None,
            })
        }
        Err(ApplyError::Db(e)) => Err(e.into()),
    }
}

pub async fn run(
    config: Option<&Config>,
    env: &str,
    with_data: bool,
    format: OutFormat,
) -> Result<ExitCode> {
    let config = project::require_config(config)?;
    project::env(config, env)?;
    // Drift is computed only to explain a failure; a failure to compute it must not
    // hide the rehearsal's own result.
    let drift = super::drift::compute(config, env, None).await.ok();
    let out = rehearse(
        config,
        env,
        with_data,
        drift.as_ref().map(|d| d.items.as_slice()),
    )
    .await?;
    if format == OutFormat::Json {
        super::out(&serde_json::to_string_pretty(&serde_json::json!({
            "env": env,
            "pending": out.pending,
            "ok": out.failure.is_none(),
            "failure": out.failure,
            "drift_item": out.blamed.as_ref().map(|(n, it)| serde_json::json!({"number": n, "item": it})),
        }))?)?;
    } else {
        match &out.failure {
            None => super::out(&format!(
                "{env}: rehearsal passed: {} pending migration(s) apply to a copy of {env}'s actual schema",
                out.pending
            ))?,
            Some(f) => super::out(&format!("{env}: rehearsal FAILED: {f}"))?,
        }
    }
    Ok(if out.failure.is_none() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
