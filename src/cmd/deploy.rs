//! `lockstep deploy --env E [--to VERSION] [--dry-run] [--resolve done|retry]` and
//! `lockstep rollback --env E --to VERSION`.

use crate::cli::{OutFormat, Resolve};
use crate::config::Config;
use crate::project::{self, Migrations};
use anyhow::Result;
use lockstep_core::migrate::state::{self, HistoryRow, Problem, ProgressRow};
use lockstep_core::migrate::{sum, Migration, Version};
use lockstep_db::migrate::{apply, ApplyError, Direction, LockEvent, LockWait, Step, Who};
use lockstep_db::Db;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::Instant;

pub fn who() -> Who {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_default();
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    Who {
        os_user: std::env::var("USER")
            .or_else(|_| std::env::var("LOGNAME"))
            .unwrap_or_default(),
        client_host: host,
        lockstep_version: env!("CARGO_PKG_VERSION").to_string(),
        deploy_id: format!("{millis}-{}", std::process::id()),
    }
}

pub fn parse_version(s: &str) -> Result<Version> {
    Version::parse(s).ok_or_else(|| {
        anyhow::anyhow!("`{s}` is not a version\n  hint: a version is digits, optionally with - or _ (2019-02-26-002946)")
    })
}

/// An environment opened for migration work: connection, directory and history.
pub struct Opened {
    pub db: Db,
    pub migrations: Migrations,
    pub history: Vec<HistoryRow>,
    pub progress: Vec<ProgressRow>,
    pub foreign: Option<(String, Vec<Version>)>,
}

pub async fn open(config: &Config, env: &str, create: bool) -> Result<Opened> {
    let url = project::env_url(config, env)?;
    let mut migrations = Migrations::load(config)?;
    let sqlite_missing = url
        .sqlite_path()
        .is_some_and(|p| p != ":memory:" && !std::path::Path::new(&p).exists());
    let mut db = if sqlite_missing && !create {
        // A SQLite file that does not exist yet is an empty database: status and dry
        // runs report everything pending instead of failing, and create nothing.
        let mut db = Db::connect(&lockstep_db::DbUrl::parse("sqlite::memory:")?, false).await?;
        db.url = url.clone();
        db
    } else {
        Db::connect(&url, create).await?
    };
    let (history, progress) = db.read_history().await?;
    let foreign = if history.is_empty() {
        db.foreign_history().await?
    } else {
        None
    };
    migrations.settle_layout(foreign.as_ref().map(|(t, _)| t.as_str()))?;
    Ok(Opened {
        db,
        migrations,
        history,
        progress,
        foreign,
    })
}

impl Opened {
    /// History rows, with another tool's applied versions counted as adopted when
    /// lockstep has no history of its own yet.
    pub fn effective_history(&self) -> Vec<HistoryRow> {
        let mut rows = self.history.clone();
        if let (true, Some((tool, versions))) = (rows.is_empty(), &self.foreign) {
            // golang-migrate records only the current version: all up to it are applied.
            let expanded: Vec<Version> = if tool == "golang-migrate" {
                let max = versions.iter().max();
                self.migrations
                    .set
                    .migrations
                    .iter()
                    .map(|m| m.version.clone())
                    .filter(|v| max.is_some_and(|m| v <= m))
                    .collect()
            } else {
                versions.clone()
            };
            for (i, v) in expanded.iter().enumerate() {
                let m = self
                    .migrations
                    .set
                    .migrations
                    .iter()
                    .find(|m| &m.version == v);
                rows.push(HistoryRow {
                    id: i as i64,
                    version: v.clone(),
                    name: m
                        .map(|m| m.name.clone())
                        .unwrap_or_else(|| format!("({tool})")),
                    checksum: m.map(|m| m.checksum.clone()).unwrap_or_default(),
                    direction: "adopt".into(),
                    outcome: "adopted".into(),
                    started_at: String::new(),
                    error: None,
                    failed_statement: None,
                    failed_line: None,
                    db_role: None,
                });
            }
        }
        rows
    }
}

/// Checks lockstep.sum: writes it when missing (and says so), refuses when it disagrees.
fn check_sum(m: &Migrations, dry_run: bool) -> Result<Option<Vec<String>>> {
    let path = m.sum_path();
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let lines = sum::parse(&text)
                .map_err(|e| anyhow::anyhow!("{}: {e}", project::display_path(&m.dir)))?;
            let problems: Vec<String> = sum::verify(&m.set, &lines)
                .into_iter()
                .map(|p| {
                    format!(
                        "{}/{p}\n  hint: if the change is intended (the migration is not applied anywhere yet), run `lockstep hash` and commit {}",
                        project::display_path(&m.dir),
                        sum::FILE_NAME
                    )
                })
                .collect();
            Ok((!problems.is_empty()).then_some(problems))
        }
        Err(_) => {
            if !dry_run {
                write_atomic(&path, &sum::render(&m.set))?;
                eprintln!(
                    "lockstep: wrote {} with the checksums of {} migrations; commit it",
                    project::display_path(&path),
                    m.set.migrations.len()
                );
            }
            Ok(None)
        }
    }
}

fn progress_line<'a>(
    env: &'a str,
    names: &'a [String],
) -> impl FnMut(usize, usize, usize, usize) + 'a {
    let tty = std::io::stderr().is_terminal();
    let start = Instant::now();
    move |si, total, i, n| {
        if tty {
            let _ = write!(
                std::io::stderr(),
                "\r\x1b[K{env}: migration {}/{total} {} · statement {}/{n} · {:.1}s",
                si + 1,
                names.get(si).map(String::as_str).unwrap_or(""),
                i + 1,
                start.elapsed().as_secs_f64()
            );
        }
    }
}

fn clear_progress_line() {
    if std::io::stderr().is_terminal() {
        let _ = write!(std::io::stderr(), "\r\x1b[K");
    }
}

/// Says who a statement waits for, and each retry after a lock timeout.
fn lock_notes(env: &str) -> impl FnMut(&LockEvent<'_>) + '_ {
    move |ev| {
        clear_progress_line();
        match ev {
            LockEvent::Waiting {
                version,
                path,
                line,
                wait,
            } => eprintln!(
                "lockstep: {env}: migration {version} ({path}:{line}) is waiting for {}",
                wait.describe()
            ),
            LockEvent::Retrying {
                version,
                path,
                line,
                timeout,
                attempt,
                attempts,
                pause,
            } => eprintln!(
                "lockstep: {env}: migration {version} ({path}:{line}) waited {timeout} for a lock; rolled back, trying again in {} (attempt {attempt} of {attempts})",
                lockstep_db::wait::human(*pause)
            ),
        }
    }
}

pub fn step(m: &Migration, migrations: &Migrations, direction: Direction) -> Step {
    let script = match direction {
        Direction::Up => &m.up,
        Direction::Down => m.down.as_ref().expect("checked by the caller"),
    };
    Step {
        version: m.version.clone(),
        name: m.name.clone(),
        checksum: m.checksum.clone(),
        path: migrations.display(&script.path),
        first_line: script.first_line,
        text: script.text.clone(),
        direction,
        // A down script that alone must run outside a transaction (DROP INDEX
        // CONCURRENTLY) runs without one, whatever its up script does.
        no_transaction: m.no_transaction
            || lockstep_core::migrate::split::implicitly_no_transaction(&script.text),
    }
}

fn report_refusal(env: &str, problems: &[String], format: OutFormat) -> Result<ExitCode> {
    if format == OutFormat::Json {
        super::out(&serde_json::to_string_pretty(&serde_json::json!({
            "env": env, "refused": true, "problems": problems,
        }))?)?;
    } else {
        eprintln!("lockstep: deploy to {env} refused:");
        for p in problems {
            eprintln!("  {}", p.replace('\n', "\n  "));
        }
    }
    Ok(ExitCode::from(1))
}

pub struct DeployArgs<'a> {
    pub env: &'a str,
    pub to: Option<&'a str>,
    pub dry_run: bool,
    pub resolve: Option<Resolve>,
    pub allow_drift: bool,
    pub lock: LockWait,
    pub format: OutFormat,
}

pub async fn deploy(config: Option<&Config>, a: DeployArgs<'_>) -> Result<ExitCode> {
    let config = project::require_config(config)?;
    let to = a.to.map(parse_version).transpose()?;
    let mut o = open(config, a.env, !a.dry_run).await?;
    if let Some(problems) = check_sum(&o.migrations, a.dry_run)? {
        return report_refusal(a.env, &problems, a.format);
    }
    let who = who();
    if !a.dry_run {
        let env = a.env.to_string();
        o.db.lock(&mut |pid| {
            eprintln!(
                "lockstep: another deploy to {env} holds the lock{}; waiting for it to finish",
                pid.map(|p| format!(" (server pid {p})"))
                    .unwrap_or_default()
            )
        })
        .await?;
        o.db.ensure_history().await?;
        // Re-read under the lock: a deploy that held it may have applied migrations.
        let (history, progress) = o.db.read_history().await?;
        o.history = history;
        o.progress = progress;
        if o.history.is_empty() {
            if let Some((tool, _)) = o.foreign.clone() {
                let rows: Vec<(Version, String, String)> = o
                    .effective_history()
                    .into_iter()
                    .map(|r| (r.version, r.name, r.checksum))
                    .collect();
                o.db.adopt(&who, &rows).await?;
                eprintln!(
                    "lockstep: adopted {} applied migrations from {tool}'s history table (it is read, never written)",
                    rows.len()
                );
                o.history = o.db.read_history().await?.0;
            }
        }
    }
    let history = o.effective_history();

    // In-doubt statements: settle them by flag, by looking at the schema, or stop.
    let mut progress = o.progress.clone();
    for p in o.progress.iter().filter(|p| p.state == "started") {
        let decided = match a.resolve {
            Some(Resolve::Done) => Some(true),
            Some(Resolve::Retry) => Some(false),
            None if a.dry_run => None,
            None => o.db.decide(&p.statement).await?,
        };
        match decided {
            Some(done) => {
                if !a.dry_run {
                    o.db.resolve(&p.version, p.statement_no, done).await?;
                }
                eprintln!(
                    "lockstep: migration {} statement {} (line {}) was in doubt; {}",
                    p.version,
                    p.statement_no,
                    p.line,
                    if done {
                        "it took effect: marked done"
                    } else {
                        "it did not take effect: it will run again"
                    }
                );
                progress.retain(|q| !(q.version == p.version && q.statement_no == p.statement_no));
                if done {
                    let mut q = p.clone();
                    q.state = "done".into();
                    progress.push(q);
                }
            }
            None => {
                let msg = Problem::InDoubt {
                    version: p.version.to_string(),
                    statement_no: p.statement_no,
                    line: p.line,
                    statement: p.statement.clone(),
                }
                .message()
                .replace("ENV", a.env);
                o.db.unlock().await;
                return report_refusal(a.env, &[msg], a.format);
            }
        }
    }

    let st = state::state(&o.migrations.set, &history, &progress);
    let blocking: Vec<String> = st
        .problems
        .iter()
        .filter(|p| p.blocks_deploy())
        .map(|p| p.message())
        .collect();
    if !blocking.is_empty() {
        o.db.unlock().await;
        return report_refusal(a.env, &blocking, a.format);
    }
    let pending: Vec<&Migration> = st
        .pending
        .iter()
        .copied()
        .filter(|m| to.as_ref().is_none_or(|t| &m.version <= t))
        .collect();
    let label = format!("{} ({})", a.env, o.db.url.redacted());
    if pending.is_empty() {
        o.db.unlock().await;
        let current = st
            .current()
            .map(|v| v.to_string())
            .unwrap_or_else(|| "none".into());
        if a.format == OutFormat::Json {
            super::out(&serde_json::to_string_pretty(&serde_json::json!({
                "env": a.env, "dry_run": a.dry_run, "applied": [], "current": current,
            }))?)?;
        } else {
            super::out(&format!(
                "{label}: nothing to deploy; up to date at version {current}"
            ))?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    // The drift gate: deploying onto a schema that is not what the history says is how
    // a release collides with an out-of-band change halfway through. Skipped when
    // nothing is applied yet (no expected schema) and while a no-transaction migration
    // is partly applied (its finished statements are not in any expected schema).
    if !a.allow_drift && !st.applied.is_empty() && progress.is_empty() {
        let exp = crate::expected::expected(config, a.env, &o, None).await?;
        let actual = o.db.inspect().await?;
        let items = lockstep_core::drift::drift(&exp.model, &actual);
        // Drift the pending migrations adopt (a rehearsal passes and leaves exactly what
        // the migrations say) does not block.
        let adopted = !items.is_empty()
            && super::rehearse::rehearse(config, a.env, false, None)
                .await
                .is_ok_and(|r| r.failure.is_none() && r.residual.is_some_and(|x| x.is_empty()));
        if adopted {
            eprintln!(
                "lockstep: {} has {} drift item(s); the pending migrations adopt them (rehearsed)",
                a.env,
                items.len()
            );
        }
        if !items.is_empty() && !adopted {
            o.db.unlock().await;
            let mut problems: Vec<String> = items
                .iter()
                .enumerate()
                .map(|(i, it)| format!("drift item {}: {}", i + 1, it.describe()))
                .collect();
            problems.push(format!(
                "{} has drifted from its migrations (expected schema from {}: {})\n  hint: adopt each change in a new migration (`lockstep new NAME`), or revert it; `--allow-drift` deploys anyway",
                a.env, exp.from, exp.detail
            ));
            return report_refusal(a.env, &problems, a.format);
        }
    }
    let steps: Vec<Step> = pending
        .iter()
        .map(|m| step(m, &o.migrations, Direction::Up))
        .collect();
    if a.dry_run {
        if let Err(e) = lockstep_db::migrate::preflight(&steps) {
            eprintln!("lockstep: deploy to {} would fail: {e}", a.env);
            return Ok(ExitCode::from(1));
        }
        let mut s = format!(
            "{label}: would apply {} migration(s) (dry run: nothing was changed)\n",
            steps.len()
        );
        for st in &steps {
            let n = lockstep_db::migrate::statements(st).len();
            s.push_str(&format!(
                "  {} {}  {} statement(s){}  {}\n",
                st.version,
                st.name,
                n,
                if st.no_transaction {
                    ", no transaction"
                } else {
                    ""
                },
                st.path
            ));
        }
        if a.format == OutFormat::Json {
            let items: Vec<_> = steps.iter().map(|s| serde_json::json!({"version": s.version.to_string(), "name": s.name, "path": s.path, "no_transaction": s.no_transaction})).collect();
            super::out(&serde_json::to_string_pretty(
                &serde_json::json!({"env": a.env, "dry_run": true, "would_apply": items}),
            )?)?;
        } else {
            super::out(&s)?;
        }
        return Ok(ExitCode::SUCCESS);
    }

    let names: Vec<String> = steps
        .iter()
        .map(|s| format!("{}_{}", s.version, s.name))
        .collect();
    let started = Instant::now();
    let mut on_progress = progress_line(a.env, &names);
    let mut on_lock = lock_notes(a.env);
    let result = apply(
        &mut o.db,
        &who,
        &steps,
        &progress,
        &a.lock,
        &mut on_progress,
        &mut on_lock,
    )
    .await;
    clear_progress_line();
    o.db.unlock().await;
    o.db.close().await;
    match result {
        Ok(()) => {
            let last = steps
                .last()
                .map(|s| s.version.to_string())
                .unwrap_or_default();
            if a.format == OutFormat::Json {
                let applied: Vec<String> = steps.iter().map(|s| s.version.to_string()).collect();
                super::out(&serde_json::to_string_pretty(&serde_json::json!({
                    "env": a.env, "dry_run": false, "applied": applied, "current": last,
                    "seconds": started.elapsed().as_secs_f64(),
                }))?)?;
            } else {
                super::out(&format!(
                    "{label}: applied {} migration(s) in {:.2}s; now at version {last}",
                    steps.len(),
                    started.elapsed().as_secs_f64()
                ))?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(ApplyError::Statement { .. }) => {
            let e = result.unwrap_err();
            if a.format == OutFormat::Json {
                super::out(&serde_json::to_string_pretty(
                    &serde_json::json!({"env": a.env, "failed": true, "error": e.to_string()}),
                )?)?;
            } else {
                eprintln!("lockstep: deploy to {} failed: {e}", a.env);
            }
            Ok(ExitCode::from(1))
        }
        Err(ApplyError::Db(e)) => Err(e.into()),
    }
}

pub async fn rollback(
    config: Option<&Config>,
    env: &str,
    to: &str,
    lock: LockWait,
    format: OutFormat,
) -> Result<ExitCode> {
    let config = project::require_config(config)?;
    let target = parse_version(to)?;
    let mut o = open(config, env, false).await?;
    let who = who();
    let e = env.to_string();
    o.db.lock(&mut |pid| {
        eprintln!(
            "lockstep: another deploy to {e} holds the lock{}; waiting for it to finish",
            pid.map(|p| format!(" (server pid {p})"))
                .unwrap_or_default()
        )
    })
    .await?;
    let (history, progress) = o.db.read_history().await?;
    o.history = history;
    let history = o.effective_history();
    let st = state::state(&o.migrations.set, &history, &progress);
    let mut blocking: Vec<String> = st
        .problems
        .iter()
        .filter(|p| {
            matches!(
                p,
                Problem::Edited { .. } | Problem::Missing { .. } | Problem::InDoubt { .. }
            )
        })
        .map(|p| p.message().replace("ENV", env))
        .collect();
    let mut to_undo: Vec<&Migration> = vec![];
    for v in st.applied.iter().rev().filter(|v| **v > target) {
        match o.migrations.set.migrations.iter().find(|m| &m.version == v) {
            Some(m) if m.down.is_some() => to_undo.push(m),
            Some(m) => blocking.push(format!(
                "{}: migration {} has no down script, so it cannot be rolled back\n  hint: write one, or roll back to {} or later",
                o.migrations.display(&m.up.path),
                m.version,
                m.version
            )),
            None => {}
        }
    }
    if !blocking.is_empty() {
        o.db.unlock().await;
        if format == OutFormat::Json {
            super::out(&serde_json::to_string_pretty(
                &serde_json::json!({"env": env, "refused": true, "problems": blocking}),
            )?)?;
        } else {
            eprintln!("lockstep: rollback of {env} refused:");
            for p in &blocking {
                eprintln!("  {}", p.replace('\n', "\n  "));
            }
        }
        return Ok(ExitCode::from(1));
    }
    if to_undo.is_empty() {
        o.db.unlock().await;
        super::out(&format!(
            "{env}: nothing to roll back; no applied migration is newer than {target}"
        ))?;
        return Ok(ExitCode::SUCCESS);
    }
    o.db.ensure_history().await?;
    let steps: Vec<Step> = to_undo
        .iter()
        .map(|m| step(m, &o.migrations, Direction::Down))
        .collect();
    let names: Vec<String> = steps
        .iter()
        .map(|s| format!("{}_{}", s.version, s.name))
        .collect();
    let started = Instant::now();
    let mut on_progress = progress_line(env, &names);
    let mut on_lock = lock_notes(env);
    let result = apply(
        &mut o.db,
        &who,
        &steps,
        &progress,
        &lock,
        &mut on_progress,
        &mut on_lock,
    )
    .await;
    clear_progress_line();
    o.db.unlock().await;
    o.db.close().await;
    match result {
        Ok(()) => {
            let now = st
                .applied
                .iter()
                .rfind(|v| **v <= target)
                .map(|v| v.to_string())
                .unwrap_or_else(|| "none".into());
            super::out(&format!(
                "{env}: rolled back {} migration(s) in {:.2}s; now at version {now}",
                steps.len(),
                started.elapsed().as_secs_f64()
            ))?;
            Ok(ExitCode::SUCCESS)
        }
        Err(e @ ApplyError::Statement { .. }) => {
            eprintln!("lockstep: rollback of {env} failed: {e}");
            Ok(ExitCode::from(1))
        }
        Err(ApplyError::Db(e)) => Err(e.into()),
    }
}

/// `lockstep hash`: rewrites lockstep.sum from the files.
pub fn hash(config: Option<&Config>) -> Result<ExitCode> {
    let config = project::require_config(config)?;
    let m = Migrations::load(config)?;
    let path = m.sum_path();
    write_atomic(&path, &sum::render(&m.set))?;
    super::out(&format!(
        "wrote {} ({} migrations); commit it",
        project::display_path(&path),
        m.set.migrations.len()
    ))?;
    Ok(ExitCode::SUCCESS)
}

/// Writes through a temporary file and a rename, so a process killed mid-write never
/// leaves a truncated lockstep.sum that the next deploy would refuse.
fn write_atomic(path: &std::path::Path, text: &str) -> Result<()> {
    let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}
