//! The expected schema of an environment: its applied history replayed on a scratch
//! database, or read from a committed snapshot.

use crate::config::Config;
use crate::error::{Context, Result};
use crate::fail;
use crate::project::{self, Migrations};
use lockstep_core::drift::map_role;
use lockstep_core::migrate::state::{HistoryRow, State};
use lockstep_core::migrate::{Migration, Version};
use lockstep_core::model::{Database, Dialect};
use lockstep_db::scratch::{ReplayScript, Scratch};
use lockstep_db::DbUrl;
use std::path::PathBuf;

/// Where the expected schema comes from, when the user chooses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Snapshot,
    Replay,
}

pub struct Expected {
    pub model: Database,
    /// "snapshot" or "replay".
    pub from: &'static str,
    pub detail: String,
    /// What the pending migrations make of `model`, when asked for and they all apply.
    pub after_pending: Option<Database>,
}

pub fn snapshot_path(config: &Config, v: &Version) -> PathBuf {
    config.snapshots.join(format!("{v}.json"))
}

/// Where replays for an environment run: its `scratch` server, or its own server (a
/// fleet's first member's).
pub fn scratch_server(config: &Config, env: &str) -> Result<DbUrl> {
    let e = project::env(config, env)?;
    match (&e.scratch, &e.fleet) {
        (Some(s), _) => Ok(DbUrl::sqlite_relative_to(s, &config.dir)?),
        (None, Some(f)) => project::url_of(config, env, &f.members[0].url),
        (None, None) => project::env_url(config, env),
    }
}

pub fn describe_server(server: &DbUrl) -> String {
    if server.dialect() == Dialect::Sqlite {
        "an in-memory SQLite database".to_string()
    } else {
        // The server, not the database: every environment on it shares the replay.
        format!("a scratch database on {}", server.server_identity())
    }
}

/// Replays `migrations` in order on a fresh scratch database and inspects it; then, when
/// `then` is not empty, applies those too and inspects again (None when one fails).
pub async fn replay(
    server: &DbUrl,
    m: &Migrations,
    migrations: &[&Migration],
    then: &[&Migration],
) -> Result<(Database, Option<Database>)> {
    let mut scratch = Scratch::create(server).await?;
    let r = run_and_inspect(&mut scratch, m, migrations).await;
    let after = match (&r, then.is_empty()) {
        (Ok(_), false) => run_and_inspect(&mut scratch, m, then).await.ok(),
        _ => None,
    };
    let role = scratch.role().await;
    scratch.drop().await;
    let mut model = r?;
    model.replay_role = role.clone();
    let after = after.map(|mut a| {
        a.replay_role = role;
        a
    });
    Ok((model, after))
}

async fn run_and_inspect(
    scratch: &mut Scratch,
    m: &Migrations,
    migrations: &[&Migration],
) -> Result<Database> {
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
    scratch
        .run(&scripts)
        .await
        .map_err(|e| crate::Error::msg(e.to_string()))?;
    Ok(scratch.inspect().await?)
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

/// The schema a tenant's scratch work (replays, rehearsals) is confined to.
pub const TENANT_SCRATCH_SCHEMA: &str = "public";

/// Moves a model from schema `from` to schema `to`: every name qualified with `from`,
/// and every key and field that is `from` itself. Schema-per-tenant: one replay,
/// confined to `public`, read with names relative to it, is the expected schema of
/// every tenant, each under its own schema's name. Text (view bodies, defaults) reads
/// unqualified on both sides and is left alone.
pub fn move_schema(model: &mut Database, from: &str, to: &str) -> Result<()> {
    fn walk(v: &mut serde_json::Value, from: &str, to: &str) {
        let moved = |s: &str| -> Option<String> {
            if s == from {
                return Some(to.to_string());
            }
            s.strip_prefix(from)
                .and_then(|r| r.strip_prefix('.'))
                .map(|rest| format!("{to}.{rest}"))
        };
        match v {
            serde_json::Value::String(s) => {
                if let Some(m) = moved(s) {
                    *s = m;
                }
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(|x| walk(x, from, to)),
            serde_json::Value::Object(o) => {
                let entries = std::mem::take(o);
                for (k, mut x) in entries {
                    walk(&mut x, from, to);
                    o.insert(moved(&k).unwrap_or(k), x);
                }
            }
            _ => {}
        }
    }
    if from == to {
        return Ok(());
    }
    let mut v = serde_json::to_value(&*model)
        .map_err(|e| crate::error::Error::msg(format!("moving a model to schema {to}: {e}")))?;
    walk(&mut v, from, to);
    *model = serde_json::from_value(v)
        .map_err(|e| crate::error::Error::msg(format!("moving a model to schema {to}: {e}")))?;
    // Objects of the other kinds are keyed, and refer to each other, as `kind name`,
    // which the walk does not take for a name in `from`.
    let (old, new) = (format!(" {from}."), format!(" {to}."));
    let others = std::mem::take(&mut model.others);
    model.others = others
        .into_values()
        .map(|mut o| {
            for d in &mut o.depends_on {
                *d = d.replacen(&old, &new, 1);
            }
            (o.key(), o)
        })
        .collect();
    Ok(())
}

/// History rows, with another tool's applied versions counted as adopted when lockstep
/// has no history of its own yet.
pub fn effective_history(
    history: &[HistoryRow],
    foreign: &Option<(String, Vec<Version>)>,
    m: &Migrations,
) -> Vec<HistoryRow> {
    let mut rows = history.to_vec();
    if let (true, Some((tool, versions))) = (rows.is_empty(), foreign) {
        // golang-migrate records only the current version: all up to it are applied.
        let expanded: Vec<Version> = if tool == "golang-migrate" {
            let max = versions.iter().max();
            m.set
                .migrations
                .iter()
                .map(|m| m.version.clone())
                .filter(|v| max.is_some_and(|m| v <= m))
                .collect()
        } else {
            versions.clone()
        };
        for (i, v) in expanded.iter().enumerate() {
            let mig = m.set.migrations.iter().find(|m| &m.version == v);
            rows.push(HistoryRow {
                id: i as i64,
                version: v.clone(),
                name: mig
                    .map(|m| m.name.clone())
                    .unwrap_or_else(|| format!("({tool})")),
                checksum: mig.map(|m| m.checksum.clone()).unwrap_or_default(),
                direction: "adopt".into(),
                outcome: "adopted".into(),
                started_at: String::new(),
                error: None,
                failed_statement: None,
                failed_line: None,
                db_role: None,
                code_checksum: mig.map(|m| m.code_checksum.clone()),
            });
        }
    }
    rows
}

/// The applied migrations in the order the history applied them: by the row that
/// applied each one (a later failed rollback does not move it).
pub fn replay_order<'a>(
    m: &'a Migrations,
    history: &[HistoryRow],
    st: &State<'_>,
) -> Vec<&'a Migration> {
    let applied_at = |v: &Version| {
        history
            .iter()
            .rev()
            .find(|r| {
                &r.version == v
                    && matches!(r.direction.as_str(), "up" | "adopt" | "baseline")
                    && r.is_applied()
            })
            .map(|r| r.id)
            .unwrap_or(i64::MAX)
    };
    let mut order: Vec<(i64, &Migration)> = m
        .set
        .migrations
        .iter()
        .filter(|x| st.applied.contains(&x.version))
        .map(|x| (applied_at(&x.version), x))
        .collect();
    order.sort_by_key(|(id, x)| (*id, x.version.clone()));
    order.into_iter().map(|(_, x)| x).collect()
}

/// The committed snapshot for the environment's applied version, when there is one (and
/// `mode` allows it); an error when `mode` demands one that is missing.
pub fn from_snapshot(
    config: &Config,
    env: &str,
    st: &State<'_>,
    mode: Option<Mode>,
) -> Result<Option<Expected>> {
    let Some(v) = st.current() else {
        if mode == Some(Mode::Snapshot) {
            fail!("{env} has no applied migrations, so there is no snapshot to compare with");
        }
        return Ok(None);
    };
    let path = snapshot_path(config, v);
    if path.is_file() {
        let model = crate::source::load_snapshot(&path)?.model;
        return Ok(Some(Expected {
            model,
            from: "snapshot",
            detail: project::display_path(&path),
            after_pending: None,
        }));
    }
    if mode == Some(Mode::Snapshot) {
        fail!(
            "there is no snapshot for {env}'s version {v} ({})\n  hint: write it with `lockstep snapshot --to {v}`, or use --expected replay",
            project::display_path(&path)
        );
    }
    Ok(None)
}

/// The environment that `@VERSION` sources and `snapshot` replay on: the first one with
/// a `scratch` server, else the first one.
pub fn replay_env(config: &Config, what: &str) -> Result<String> {
    config
        .envs
        .values()
        .find(|e| e.scratch.is_some())
        .or_else(|| config.envs.values().next())
        .map(|e| e.name.clone())
        .with_context(|| format!("{what} needs a server to replay on\n  hint: add an [env.NAME] with a url (and optionally scratch) to lockstep.toml"))
}

/// `@VERSION` / `@latest`: the directory replayed up to VERSION.
pub async fn at_version(s: &crate::Session, spec: &str) -> Result<Database> {
    let m = s.migrations()?;
    let to = if spec == "latest" {
        None
    } else {
        Some(crate::parse_version(spec)?)
    };
    if let Some(t) = &to {
        crate::require_known_version(&m, t)?;
    }
    let env = replay_env(&s.config, &format!("@{spec}"))?;
    let migrations: Vec<&Migration> = m
        .set
        .migrations
        .iter()
        .filter(|x| to.as_ref().is_none_or(|t| &x.version <= t))
        .collect();
    let server = s.scratch_server(&env)?;
    Ok(
        s.replay_on(&format!("@{spec}"), &server, &m, &migrations, &[])
            .await?
            .model
            .clone(),
    )
}
