//! Deploy, rollback and `hash`: the commands that change a target (or lockstep.sum).
//!
//! Both deploy and rollback refuse before touching anything when: the target version is
//! not a migration, lockstep.sum or the history disagrees with the files, the target has
//! drifted (unless allowed), or a step would destroy data that nobody confirmed.

use crate::error::{Context, Result};
use crate::events::Event;
use crate::project::{self, Migrations};
use crate::{Session, Target};
use lockstep_core::lint;
use lockstep_core::migrate::state::{Problem, ProgressRow};
use lockstep_core::migrate::{sum, Migration, Version};
use lockstep_db::apply::{apply, ApplyError, LockEvent, Step, Who};
pub use lockstep_db::apply::{Direction, LockWait};
use lockstep_db::history::Applied;
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
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

pub fn step(m: &Migration, migrations: &Migrations, direction: Direction) -> Step {
    let script = match direction {
        Direction::Up => &m.up,
        Direction::Down => m.down.as_ref().expect("checked by the caller"),
    };
    Step {
        version: m.version.clone(),
        name: m.name.clone(),
        checksum: m.checksum.clone(),
        code_checksum: m.code_checksum.clone(),
        path: migrations.display(&script.path),
        first_line: script.first_line,
        text: script.text.clone(),
        direction,
        // A down script that alone must run outside a transaction (DROP INDEX
        // CONCURRENTLY) runs without one, whatever its up script does.
        no_transaction: m.no_transaction
            || lockstep_core::sql::split::implicitly_no_transaction(&script.text),
        dialect: Default::default(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolve {
    /// The statement took effect: record it as finished.
    Done,
    /// It did not: run it again.
    Retry,
}

/// Asked, on a terminal, whether to go ahead with steps that destroy data.
pub type Confirm<'a> = &'a (dyn Fn(&[Destruction]) -> bool + Send + Sync);

#[derive(Default)]
pub struct DeployOptions<'a> {
    pub to: Option<String>,
    pub dry_run: bool,
    pub resolve: Option<Resolve>,
    pub allow_drift: bool,
    /// Steps that destroy data go ahead without asking.
    pub yes: bool,
    /// How to ask when `yes` is not given; without it such steps are refused.
    pub confirm: Option<Confirm<'a>>,
    /// How long a statement waits for a lock, and how often it is tried.
    pub lock: LockWait,
}

/// A statement that destroys data, and how much.
#[derive(Debug, Clone, Serialize)]
pub struct Destruction {
    pub file: String,
    pub line: usize,
    pub rule: String,
    pub message: String,
    /// The estimated rows of the table it destroys or empties (None when unknown).
    pub rows: Option<u64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlannedStep {
    pub version: String,
    pub name: String,
    pub path: String,
    pub no_transaction: bool,
    pub statements: usize,
}

#[derive(Debug, Clone)]
pub enum Outcome {
    /// Nothing ran. Each problem says what and what to do.
    Refused {
        problems: Vec<String>,
    },
    UpToDate {
        current: String,
    },
    DryRun {
        steps: Vec<PlannedStep>,
    },
    Applied {
        versions: Vec<String>,
        current: String,
        seconds: f64,
    },
    /// A statement failed; `error` says which and what state the target is in.
    Failed {
        error: String,
    },
}

/// What a deploy or rollback did. Serializes as the contract's JSON.
#[derive(Debug, Clone)]
pub struct DeployReport {
    pub env: String,
    /// The target's URL, password removed.
    pub label: String,
    pub direction: Direction,
    pub outcome: Outcome,
    /// Steps that destroy data, as counted before running (shown with dry runs and
    /// refusals).
    pub destructive: Vec<Destruction>,
    /// Recorded by `baseline`: applied without running.
    pub baseline: bool,
}

impl DeployReport {
    /// A report on `t` that says "refused" until the work says otherwise.
    pub(crate) fn start(t: &Target, direction: Direction, baseline: bool) -> Self {
        DeployReport {
            env: t.env.clone(),
            label: format!("{} ({})", t.env, t.url.redacted()),
            direction,
            outcome: Outcome::Refused { problems: vec![] },
            destructive: vec![],
            baseline,
        }
    }

    pub fn ok(&self) -> bool {
        !matches!(
            self.outcome,
            Outcome::Refused { .. } | Outcome::Failed { .. }
        )
    }
}

impl Serialize for DeployReport {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("env", &self.env)?;
        if self.direction == Direction::Down {
            m.serialize_entry("direction", "rollback")?;
        }
        if self.baseline {
            m.serialize_entry("baselined", &true)?;
        }
        match &self.outcome {
            Outcome::Refused { problems } => {
                m.serialize_entry("refused", &true)?;
                m.serialize_entry("problems", problems)?;
            }
            Outcome::UpToDate { current } => {
                m.serialize_entry("dry_run", &false)?;
                m.serialize_entry("applied", &Vec::<String>::new())?;
                m.serialize_entry("current", current)?;
            }
            Outcome::DryRun { steps } => {
                m.serialize_entry("dry_run", &true)?;
                m.serialize_entry("would_apply", steps)?;
            }
            Outcome::Applied {
                versions,
                current,
                seconds,
            } => {
                m.serialize_entry("dry_run", &false)?;
                m.serialize_entry("applied", versions)?;
                m.serialize_entry("current", current)?;
                m.serialize_entry("seconds", seconds)?;
            }
            Outcome::Failed { error } => {
                m.serialize_entry("failed", &true)?;
                m.serialize_entry("error", error)?;
            }
        }
        if !self.destructive.is_empty() {
            m.serialize_entry("destructive", &self.destructive)?;
        }
        m.end()
    }
}

/// Checks lockstep.sum: writes it when missing (and says so), refuses when it disagrees.
fn check_sum(s: &Session, m: &Migrations, dry_run: bool) -> Result<Vec<String>> {
    let path = m.sum_path();
    if path.exists() {
        return Ok(crate::status::sum_problems(m));
    }
    if !dry_run {
        write_atomic(&path, &sum::render(&m.set))?;
        s.events.note(
            None,
            format!(
                "wrote {} with the checksums of {} migrations; commit it",
                project::display_path(&path),
                m.set.migrations.len()
            ),
        );
    }
    Ok(vec![])
}

/// Statements that destroy data that exists now (drop a table or column, truncate),
/// with the rows at stake from the target's own statistics. A table the same deploy
/// creates holds nothing yet, so dropping it destroys nothing.
async fn destruction(t: &mut Target, steps: &[Step]) -> Vec<Destruction> {
    let mut found: Vec<(String, usize, String, String, String)> = vec![];
    for st in steps {
        for s in lockstep_db::apply::statements(st) {
            for x in crate::impact::scan(&s.sql) {
                if x.change == "dropped" {
                    let what = match &x.column {
                        Some(c) => format!("drops column {}.{c}", x.table),
                        None => format!("drops table {}", x.table),
                    };
                    found.push((st.path.clone(), s.line, "drop".into(), what, x.table));
                }
            }
            for table in truncated(&s.sql) {
                found.push((
                    st.path.clone(),
                    s.line,
                    "truncate".into(),
                    format!("empties table {table}"),
                    table,
                ));
            }
        }
    }
    if found.is_empty() {
        return vec![];
    }
    let named: std::collections::BTreeSet<String> =
        found.iter().map(|f| f.4.to_lowercase()).collect();
    let sizes = lockstep_db::stats::table_sizes(&mut t.db, &named)
        .await
        .map(|s| s.sizes)
        .ok();
    found
        .into_iter()
        .filter_map(|(file, line, rule, message, table)| {
            let rows = match &sizes {
                // Not there now: the deploy creates it first.
                Some(sz) => sz.get(&table.to_lowercase())?.rows,
                None => None,
            };
            Some(Destruction {
                file,
                line,
                rule,
                message,
                rows,
            })
        })
        .collect()
}

/// The tables a `TRUNCATE` statement empties.
fn truncated(sql: &str) -> Vec<String> {
    let toks = lint::tokenize(sql);
    if !toks.first().is_some_and(|t| t.is("TRUNCATE")) {
        return vec![];
    }
    let mut out = vec![];
    let mut i = lint::skip(&toks, 1, &["TABLE", "ONLY"]);
    while let Some((name, next)) = lint::qualified_name(&toks, i) {
        out.push(name);
        i = next;
        if toks.get(i).is_some_and(|t| t.is_punct("*")) {
            i += 1;
        }
        if toks.get(i).is_some_and(|t| t.is_punct(",")) {
            i = lint::skip(&toks, i + 1, &["ONLY"]);
        } else {
            break;
        }
    }
    out
}

/// Whether the destructive steps may run: confirmed by flag or by a person.
fn destruction_allowed(d: &[Destruction], o: &DeployOptions<'_>) -> Option<String> {
    // A drop of a table known to be empty destroys nothing.
    let d: Vec<Destruction> = d.iter().filter(|x| x.rows != Some(0)).cloned().collect();
    if d.is_empty() || o.yes || o.dry_run {
        return None;
    }
    if let Some(ask) = o.confirm {
        if ask(&d) {
            return None;
        }
        return Some("not confirmed: nothing was run".to_string());
    }
    let rows: u64 = d.iter().filter_map(|x| x.rows).sum();
    Some(format!(
        "{} statement(s) destroy data ({}); nobody confirmed them\n  hint: review them with --dry-run, then pass --yes (or run on a terminal to be asked)",
        d.len(),
        if rows > 0 {
            format!("about {rows} row(s) at stake")
        } else {
            "row counts unknown or zero".to_string()
        }
    ))
}

/// The drift gate: deploying onto a schema that is not what the history says is how a
/// release collides with an out-of-band change halfway through. Drift that the pending
/// migrations adopt (a rehearsal passes and leaves exactly what the migrations say) does
/// not block a deploy.
async fn drift_gate(s: &Session, t: &mut Target, adoptable: bool) -> Result<Vec<String>> {
    let d = crate::drift::drift_of(s, t, None).await?;
    if d.items.is_empty() {
        return Ok(vec![]);
    }
    if adoptable {
        let r = crate::rehearse::rehearse_of(s, t, false, Some(&d.items), true).await;
        if r.is_ok_and(|r| r.adopts_drift()) {
            s.events.note(
                Some(&t.env),
                format!(
                    "{} has {} drift item(s); the pending migrations adopt them (rehearsed)",
                    t.env,
                    d.items.len()
                ),
            );
            return Ok(vec![]);
        }
    }
    let mut problems: Vec<String> = d
        .items
        .iter()
        .enumerate()
        .map(|(i, it)| format!("drift item {}: {}", i + 1, it.describe()))
        .collect();
    problems.push(format!(
        "{} has drifted from its migrations (expected schema from {}: {})\n  hint: adopt each change in a new migration (`lockstep new NAME`), or revert it; `--allow-drift` goes ahead anyway",
        t.env, d.expected_from, d.expected_detail
    ));
    Ok(problems)
}

pub async fn deploy(
    s: &Session,
    env: &str,
    member: Option<&str>,
    o: &DeployOptions<'_>,
) -> Result<DeployReport> {
    s.env(env)?;
    let m = s.migrations()?;
    if let Some(v) = &o.to {
        crate::require_known_version(&m, &crate::parse_version(v)?)?;
    }
    let mut t = s.open_in(env, member, !o.dry_run).await?;
    let r = deploy_target(s, &mut t, o).await;
    t.close().await;
    r
}

/// Deploys to an opened target.
pub async fn deploy_target(
    s: &Session,
    t: &mut Target,
    o: &DeployOptions<'_>,
) -> Result<DeployReport> {
    let to = o.to.as_deref().map(crate::parse_version).transpose()?;
    deploy_to(s, t, to, o).await
}

async fn deploy_to(
    s: &Session,
    t: &mut Target,
    to: Option<Version>,
    o: &DeployOptions<'_>,
) -> Result<DeployReport> {
    let mut report = DeployReport::start(t, Direction::Up, false);
    let refuse = |mut r: DeployReport, problems: Vec<String>| {
        r.outcome = Outcome::Refused { problems };
        Ok(r)
    };
    let sum_problems = check_sum(s, &t.migrations, o.dry_run)?;
    if !sum_problems.is_empty() {
        return refuse(report, sum_problems);
    }
    let who = who();
    if !o.dry_run {
        lock_target(s, t).await?;
        t.db.mark_deploy(&who.deploy_id).await?;
        t.db.ensure_history().await?;
        // Re-read under the lock: a deploy that held it may have applied migrations.
        t.refresh().await?;
        if t.history.is_empty() {
            if let Some((tool, _)) = t.foreign.clone() {
                let rows: Vec<Applied> = t
                    .effective_history()
                    .into_iter()
                    .map(|r| Applied {
                        code_checksum: t
                            .migrations
                            .set
                            .migrations
                            .iter()
                            .find(|m| m.version == r.version)
                            .map(|m| m.code_checksum.clone())
                            .unwrap_or_default(),
                        version: r.version,
                        name: r.name,
                        checksum: r.checksum,
                    })
                    .collect();
                t.db.adopt(&who, &rows).await?;
                s.events.note(
                    Some(&t.env),
                    format!(
                        "adopted {} applied migrations from {tool}'s history table (it is read, never written)",
                        rows.len()
                    ),
                );
                t.refresh().await?;
            }
        }
    }
    let result = deploy_locked(s, t, to, o, &who, &mut report).await;
    if !o.dry_run {
        t.db.unlock().await;
    }
    result?;
    Ok(report)
}

/// Takes the target's deploy lock, telling when another deploy holds it. A caller that
/// changes the schema then marks the session (`Db::mark_deploy`), so that the audit
/// records its DDL as lockstep's own, never as out-of-band.
pub async fn lock_target(s: &Session, t: &mut Target) -> Result<()> {
    let env = t.env.clone();
    let events = s.events.clone();
    t.db.lock(&mut |pid| {
        events.warn(
            Some(&env),
            format!(
                "another deploy to {env} holds the lock{}; waiting for it to finish",
                pid.map(|p| format!(" (server pid {p})"))
                    .unwrap_or_default()
            ),
        )
    })
    .await?;
    Ok(())
}

/// Settles statements left in doubt by an interrupted deploy: by flag, by looking at the
/// schema, or not at all (a refusal that names the statement).
async fn settle_in_doubt(
    s: &Session,
    t: &mut Target,
    resolve: Option<Resolve>,
    dry_run: bool,
) -> Result<std::result::Result<Vec<ProgressRow>, String>> {
    let mut progress = t.progress.clone();
    for p in t.progress.clone().iter().filter(|p| p.state == "started") {
        let decided = match resolve {
            Some(Resolve::Done) => Some(true),
            Some(Resolve::Retry) => Some(false),
            None if dry_run => None,
            None => match t.db.decide(&p.statement).await? {
                Some(d) => Some(d),
                None => decide_by_replay(s, t, p).await?,
            },
        };
        let Some(done) = decided else {
            let msg = Problem::InDoubt {
                version: p.version.to_string(),
                statement_no: p.statement_no,
                line: p.line,
                statement: p.statement.clone(),
            }
            .message_for(&t.env);
            return Ok(Err(msg));
        };
        if !dry_run {
            t.db.resolve(&p.version, p.statement_no, done).await?;
        }
        s.events.note(
            Some(&t.env),
            format!(
                "migration {} statement {} (line {}) was in doubt; {}",
                p.version,
                p.statement_no,
                p.line,
                if done {
                    "it took effect: marked done"
                } else {
                    "it did not take effect: it will run again"
                }
            ),
        );
        progress.retain(|q| !(q.version == p.version && q.statement_no == p.statement_no));
        if done {
            let mut q = p.clone();
            q.state = "done".into();
            progress.push(q);
        }
    }
    Ok(Ok(progress))
}

/// Whether a statement left in doubt took effect, where DDL commits statement by
/// statement (MySQL, MariaDB): each such statement is atomic, so the live schema is
/// either what the statements before it made or what it makes. Both are built on a
/// scratch database (the applied history, then this script's finished statements, then
/// the statement itself) and compared with the live schema. None when they cannot tell
/// (a statement that changes data, not schema) and the user decides with `--resolve`.
async fn decide_by_replay(s: &Session, t: &mut Target, p: &ProgressRow) -> Result<Option<bool>> {
    if lockstep_core::dialect::capabilities(t.db.dialect()).transactional_ddl {
        return Ok(None);
    }
    // Running it again changes nothing that was not meant.
    if lockstep_db::apply::sets_session_state(&p.statement) {
        return Ok(Some(false));
    }
    let Some(m) = t
        .migrations
        .set
        .migrations
        .iter()
        .find(|m| m.version == p.version)
    else {
        return Ok(None);
    };
    let no = p.statement_no as usize;
    let nth = |d: Direction| -> Option<Vec<lockstep_core::sql::split::Stmt>> {
        if d == Direction::Down && m.down.is_none() {
            return None;
        }
        let mut st = step(m, &t.migrations, d);
        // Split as the deploy that left it in doubt split it.
        st.dialect = lockstep_db::apply::lex_dialect(t.db.dialect());
        let stmts = lockstep_db::apply::statements(&st);
        let same = stmts
            .get(no.checked_sub(1)?)
            .is_some_and(|x| x.sql == p.statement);
        same.then_some(stmts)
    };
    // A rollback checkpoints the down script's statements under the same version.
    let (direction, stmts) = match (nth(Direction::Up), nth(Direction::Down)) {
        (Some(up), _) => (Direction::Up, up),
        (None, Some(down)) => (Direction::Down, down),
        (None, None) => return Ok(None),
    };
    let history = t.effective_history();
    let st = t.state_of(&history);
    let mut order = crate::expected::replay_order(&t.migrations, &history, &st);
    drop(st);
    if direction == Direction::Up {
        order.retain(|x| x.version != m.version);
    }
    let paths: Vec<String> = order
        .iter()
        .map(|x| t.migrations.display(&x.up.path))
        .collect();
    let scripts: Vec<lockstep_db::scratch::ReplayScript> = order
        .iter()
        .zip(&paths)
        .map(|(x, path)| lockstep_db::scratch::ReplayScript {
            path,
            first_line: x.up.first_line,
            text: &x.up.text,
        })
        .collect();
    let server = s.scratch_server(&t.env)?;
    let mut scratch = lockstep_db::scratch::Scratch::create(&server).await?;
    let built = async {
        scratch
            .run(&scripts)
            .await
            .map_err(|e| crate::Error::msg(e.to_string()))?;
        for x in &stmts[..no - 1] {
            scratch.build(&x.sql).await?;
        }
        let before = scratch.inspect().await?;
        let after = match scratch.build(&p.statement).await {
            Ok(()) => Some(scratch.inspect().await?),
            Err(_) => None,
        };
        Ok::<_, crate::Error>((before, after))
    }
    .await;
    scratch.drop().await;
    let (mut before, after) = built.with_context(|| {
        format!(
            "rebuilding {}'s schema around migration {} statement {} to settle it",
            t.env, p.version, p.statement_no
        )
    })?;
    crate::expected::map_to_deployer(&mut before, &history);
    let live = t.db.inspect().await?;
    let is_live =
        |m: &lockstep_core::model::Database| lockstep_core::drift::drift(m, &live).is_empty();
    let as_before = is_live(&before);
    let as_after = after.map(|mut a| {
        crate::expected::map_to_deployer(&mut a, &history);
        is_live(&a)
    });
    Ok(match (as_before, as_after) {
        (true, Some(false)) | (true, None) => Some(false),
        (false, Some(true)) => Some(true),
        // It changes no schema (an ALTER to what already was, a table option the model
        // does not hold): run again, it leaves the same schema. Not so a statement that
        // changes data: only the user knows whether its rows are there.
        (true, Some(true)) if !changes_data(&p.statement) => Some(false),
        _ => None,
    })
}

/// Whether a statement reads or writes rows rather than schema.
fn changes_data(sql: &str) -> bool {
    const DATA: &[&str] = &[
        "INSERT", "UPDATE", "DELETE", "REPLACE", "CALL", "LOAD", "DO", "SELECT", "WITH", "HANDLER",
        "TRUNCATE",
    ];
    lint::tokenize(sql)
        .first()
        .is_none_or(|t| DATA.iter().any(|w| t.is(w)))
}

async fn deploy_locked(
    s: &Session,
    t: &mut Target,
    to: Option<Version>,
    o: &DeployOptions<'_>,
    who: &Who,
    report: &mut DeployReport,
) -> Result<()> {
    let progress = match settle_in_doubt(s, t, o.resolve, o.dry_run).await? {
        Ok(p) => p,
        Err(msg) => {
            report.outcome = Outcome::Refused {
                problems: vec![msg],
            };
            return Ok(());
        }
    };
    let history = t.effective_history();
    let (blocking, applied_any, current, pending): (Vec<String>, bool, Option<Version>, Vec<Step>) = {
        let st = lockstep_core::migrate::state::state(&t.migrations.set, &history, &progress);
        let blocking = st
            .problems
            .iter()
            .filter(|p| p.blocks_deploy())
            .map(|p| p.message_for(&t.env))
            .collect();
        let pending = st
            .pending
            .iter()
            .copied()
            .filter(|m| to.as_ref().is_none_or(|v| &m.version <= v))
            .map(|m| step(m, &t.migrations, Direction::Up))
            .collect();
        (
            blocking,
            !st.applied.is_empty(),
            st.current().cloned(),
            pending,
        )
    };
    if !blocking.is_empty() {
        report.outcome = Outcome::Refused { problems: blocking };
        return Ok(());
    }
    if pending.is_empty() {
        let cur = current
            .as_ref()
            .map(|v| v.to_string())
            .unwrap_or_else(|| "none".into());
        if let (Some(v), Some(c)) = (&to, &current) {
            if v < c {
                report.outcome = Outcome::Refused {
                    problems: vec![format!(
                        "{} is at version {c}, newer than --to {v}; deploy never goes back\n  hint: `lockstep rollback --env {} --to {v}` runs the down scripts of what is newer",
                        t.env, t.env
                    )],
                };
                return Ok(());
            }
        }
        report.outcome = Outcome::UpToDate { current: cur };
        return Ok(());
    }
    // Skipped when nothing is applied yet (no expected schema) and while a
    // no-transaction migration is partly applied (its finished statements are not in any
    // expected schema).
    if !o.allow_drift && applied_any && progress.is_empty() {
        let problems = drift_gate(s, t, true).await?;
        if !problems.is_empty() {
            report.outcome = Outcome::Refused { problems };
            return Ok(());
        }
    }
    if let Err(e) = lockstep_db::apply::preflight(&pending) {
        report.outcome = Outcome::Refused {
            problems: vec![e.to_string()],
        };
        return Ok(());
    }
    report.destructive = destruction(t, &pending).await;
    if o.dry_run {
        report.outcome = Outcome::DryRun {
            steps: planned(&pending, t.db.dialect()),
        };
        return Ok(());
    }
    if let Some(why) = destruction_allowed(&report.destructive, o) {
        report.outcome = Outcome::Refused {
            problems: vec![why],
        };
        return Ok(());
    }
    run(s, t, who, &pending, &progress, &o.lock, report).await
}

fn planned(steps: &[Step], dialect: lockstep_core::model::Dialect) -> Vec<PlannedStep> {
    // Where DDL commits on its own, every migration runs checkpointed (see apply).
    let checkpointed = !lockstep_core::dialect::capabilities(dialect).transactional_ddl;
    steps
        .iter()
        .map(|st| PlannedStep {
            version: st.version.to_string(),
            name: st.name.clone(),
            path: st.path.clone(),
            no_transaction: st.no_transaction || checkpointed,
            statements: {
                let mut st = st.clone();
                st.dialect = lockstep_db::apply::lex_dialect(dialect);
                lockstep_db::apply::statements(&st).len()
            },
        })
        .collect()
}

/// Runs the steps, reporting progress, and records the outcome in `report`.
async fn run(
    s: &Session,
    t: &mut Target,
    who: &Who,
    steps: &[Step],
    progress: &[ProgressRow],
    lock: &LockWait,
    report: &mut DeployReport,
) -> Result<()> {
    let names: Vec<String> = steps
        .iter()
        .map(|s| format!("{}_{}", s.version, s.name))
        .collect();
    let started = Instant::now();
    let env = t.env.clone();
    let events = s.events.clone();
    let mut on_progress = |si: usize, total: usize, i: usize, n: usize| {
        events.send(Event::Progress {
            env: env.clone(),
            step: si,
            steps: total,
            name: names.get(si).cloned().unwrap_or_default(),
            statement: i,
            statements: n,
        })
    };
    let events = s.events.clone();
    let mut on_lock = |ev: &LockEvent<'_>| {
        events.warn(
            Some(&env),
            match ev {
                LockEvent::Waiting {
                    version,
                    path,
                    line,
                    wait,
                } => format!(
                    "{env}: migration {version} ({path}:{line}) is waiting for {}",
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
                } => format!(
                    "{env}: migration {version} ({path}:{line}) waited {timeout} for a lock; rolled back, trying again in {} (attempt {attempt} of {attempts})",
                    lockstep_db::wait::human(*pause)
                ),
            },
        )
    };
    let result = apply(
        &mut t.db,
        who,
        steps,
        progress,
        lock,
        &mut on_progress,
        &mut on_lock,
    )
    .await;
    s.events.send(Event::Done { env: t.env.clone() });
    match result {
        Ok(()) => {
            let current = match report.direction {
                Direction::Up => steps
                    .last()
                    .map(|s| s.version.to_string())
                    .unwrap_or_default(),
                Direction::Down => {
                    t.refresh().await?;
                    let h = t.effective_history();
                    t.state_of(&h)
                        .current()
                        .map(|v| v.to_string())
                        .unwrap_or_else(|| "none".into())
                }
            };
            report.outcome = Outcome::Applied {
                versions: steps.iter().map(|s| s.version.to_string()).collect(),
                current,
                seconds: started.elapsed().as_secs_f64(),
            };
            Ok(())
        }
        Err(e @ ApplyError::Statement { .. }) => {
            let mut error = e.to_string();
            if report.direction == Direction::Up {
                error.push_str(&compensation(t).await);
            }
            report.outcome = Outcome::Failed { error };
            Ok(())
        }
        Err(ApplyError::Db(e)) => Err(e.into()),
    }
}

/// For a migration that just failed part way: which of its statements stay applied, and
/// the down file that undoes them.
async fn compensation(t: &mut Target) -> String {
    if t.refresh().await.is_err() {
        return String::new();
    }
    let h = t.effective_history();
    let st = t.state_of(&h);
    let Some((m, ran)) = partly_applied(t, &st).into_iter().next() else {
        return String::new();
    };
    let rollback_to = st
        .problems
        .iter()
        .find_map(|p| match p {
            Problem::Failed {
                version,
                rollback_to,
                ..
            } if *version == m.version.to_string() => Some(rollback_to.clone()),
            _ => None,
        })
        .unwrap_or_else(|| "0".into());
    let undo = match &m.down {
        Some(d) => format!(
            "the compensating step is its down file, {}: `lockstep rollback --env {} --to {rollback_to}` runs it (it must tolerate the statements that did not run)",
            t.migrations.display(&d.path),
            t.env
        ),
        None => "it has no down file to undo them: write one, or fix the statement".into(),
    };
    format!(
        "\n  statements {} of migration {} ran and stay applied\n  hint: fix the statement and deploy again (it resumes there); or {undo}",
        lockstep_core::migrate::state::statement_list(&ran),
        m.version
    )
}

/// Runs down scripts so that only migrations with version <= `to` stay applied.
/// `o.to` and `o.resolve` are deploy's; a rollback goes to `to`.
pub async fn rollback(
    s: &Session,
    env: &str,
    member: Option<&str>,
    to: &str,
    o: &DeployOptions<'_>,
) -> Result<DeployReport> {
    s.env(env)?;
    let m = s.migrations()?;
    let target = crate::parse_version(to)?;
    crate::require_known_version(&m, &target)?;
    let mut t = s.open_in(env, member, false).await?;
    let r = rollback_target(s, &mut t, &target, o).await;
    t.close().await;
    r
}

/// Rolls an opened target back to `target`.
pub async fn rollback_target(
    s: &Session,
    t: &mut Target,
    target: &Version,
    o: &DeployOptions<'_>,
) -> Result<DeployReport> {
    let mut report = DeployReport::start(t, Direction::Down, false);
    let who = who();
    if !o.dry_run {
        lock_target(s, t).await?;
        t.db.mark_deploy(&who.deploy_id).await?;
        t.refresh().await?;
    }
    let r = rollback_locked(s, t, target, o, &who, &mut report).await;
    if !o.dry_run {
        t.db.unlock().await;
    }
    r?;
    Ok(report)
}

async fn rollback_locked(
    s: &Session,
    t: &mut Target,
    target: &Version,
    o: &DeployOptions<'_>,
    who: &Who,
    report: &mut DeployReport,
) -> Result<()> {
    let history = t.effective_history();
    let (mut blocking, steps, progress) = {
        let st = t.state_of(&history);
        let mut blocking: Vec<String> = st
            .problems
            .iter()
            .filter(|p| {
                matches!(
                    p,
                    Problem::Edited { .. } | Problem::Missing { .. } | Problem::InDoubt { .. }
                )
            })
            .map(|p| p.message_for(&t.env))
            .collect();
        let mut steps = vec![];
        // A migration that failed part way, its finished statements still applied (DDL
        // that commits on its own, or no transaction): its down file compensates, first.
        for (m, _) in partly_applied(t, &st)
            .into_iter()
            .filter(|(m, _)| &m.version > target)
        {
            match &m.down {
                Some(_) => steps.push(step(m, &t.migrations, Direction::Down)),
                None => blocking.push(format!(
                    "{}: migration {} ran part way and has no down script to undo that\n  hint: write one (it must tolerate the statements that did not run: IF EXISTS), or fix the migration and deploy again",
                    t.migrations.display(&m.up.path),
                    m.version
                )),
            }
        }
        for v in st.applied.iter().rev().filter(|v| *v > target) {
            match t.migrations.set.migrations.iter().find(|m| &m.version == v) {
                Some(m) if m.down.is_some() => steps.push(step(m, &t.migrations, Direction::Down)),
                Some(m) => blocking.push(format!(
                    "{}: migration {} has no down script, so it cannot be rolled back\n  hint: write one, or roll back to {} or later",
                    t.migrations.display(&m.up.path),
                    m.version,
                    m.version
                )),
                None => {}
            }
        }
        (blocking, steps, t.progress.clone())
    };
    // Skipped while a migration is partly applied: what ran of it is in no expected
    // schema, and undoing it is what this rollback is for.
    if blocking.is_empty() && !steps.is_empty() && !o.allow_drift && progress.is_empty() {
        blocking.extend(drift_gate(s, t, false).await?);
    }
    if !blocking.is_empty() {
        report.outcome = Outcome::Refused { problems: blocking };
        return Ok(());
    }
    if steps.is_empty() {
        let h = t.effective_history();
        let current = t
            .state_of(&h)
            .current()
            .map(|v| v.to_string())
            .unwrap_or_else(|| "none".into());
        report.outcome = Outcome::UpToDate { current };
        return Ok(());
    }
    if let Err(e) = lockstep_db::apply::preflight(&steps) {
        report.outcome = Outcome::Refused {
            problems: vec![e.to_string()],
        };
        return Ok(());
    }
    report.destructive = destruction(t, &steps).await;
    if o.dry_run {
        report.outcome = Outcome::DryRun {
            steps: planned(&steps, t.db.dialect()),
        };
        return Ok(());
    }
    // A rollback always asks: even without a counted drop, it undoes what a release did.
    let ask = if report.destructive.is_empty() {
        vec![Destruction {
            file: steps[0].path.clone(),
            line: steps[0].first_line,
            rule: "rollback".into(),
            message: format!(
                "rolls back {} migration(s) on {}: {}",
                steps.len(),
                t.env,
                steps
                    .iter()
                    .map(|s| s.version.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            rows: None,
        }]
    } else {
        report.destructive.clone()
    };
    if let Some(why) = destruction_allowed(&ask, o) {
        report.outcome = Outcome::Refused {
            problems: vec![why],
        };
        return Ok(());
    }
    t.db.ensure_history().await?;
    // The finished statements of a partly applied migration are the up script's: its
    // down script starts from statement 1.
    let mut progress = progress;
    for st in &steps {
        if progress.iter().any(|p| p.version == st.version) {
            t.db.clear_progress(&st.version).await?;
            progress.retain(|p| p.version != st.version);
        }
    }
    run(s, t, who, &steps, &progress, &o.lock, report).await
}

/// Migrations whose last run failed after some of their statements finished (they stay
/// applied: no transaction held them), with those statements' numbers, newest first.
fn partly_applied<'a>(
    t: &'a Target,
    st: &lockstep_core::migrate::state::State<'_>,
) -> Vec<(&'a Migration, Vec<i64>)> {
    let mut out: Vec<(&Migration, Vec<i64>)> = st
        .problems
        .iter()
        .filter_map(|p| match p {
            Problem::Failed { version, ran, .. } if !ran.is_empty() => t
                .migrations
                .set
                .migrations
                .iter()
                .find(|m| m.version.to_string() == *version)
                .map(|m| (m, ran.clone())),
            _ => None,
        })
        .collect();
    out.sort_by(|a, b| b.0.version.cmp(&a.0.version));
    out
}

#[derive(Debug, Serialize)]
pub struct HashReport {
    pub path: String,
    pub migrations: usize,
    /// Migrations whose checksum changed although an environment has them applied.
    pub applied_changed: Vec<String>,
    pub written: bool,
}

/// Rewrites lockstep.sum from the files. A changed checksum of a migration that an
/// environment has applied is refused unless `allow_applied`: the fix for an edited
/// applied migration is a new migration, not a new checksum.
pub async fn hash(s: &Session, allow_applied: bool) -> Result<HashReport> {
    let m = s.migrations()?;
    let path = m.sum_path();
    let old: Vec<sum::SumLine> = std::fs::read_to_string(&path)
        .ok()
        .and_then(|t| sum::parse(&t).ok())
        .unwrap_or_default();
    let changed: Vec<&Migration> = m
        .set
        .migrations
        .iter()
        .filter(|x| {
            old.iter()
                .any(|l| l.version == x.version && l.up != x.checksum)
        })
        .collect();
    let mut applied_changed = vec![];
    if !changed.is_empty() {
        for env in s.config.envs.keys() {
            let Ok(t) = s.open(env, false).await else {
                s.events.warn(
                    Some(env),
                    format!("{env} could not be read to check whether the edited migrations are applied there"),
                );
                continue;
            };
            let h = t.effective_history();
            let st = t.state_of(&h);
            for x in &changed {
                // An edit of comments or layout only (the recorded code is the same) is
                // harmless: it may be hashed.
                let same_code = st.reworded.iter().any(|(v, _)| *v == x.version.to_string());
                if st.applied.contains(&x.version) && !same_code {
                    applied_changed.push(format!("{} (applied on {env})", m.display(&x.up.path)));
                }
            }
            drop(st);
            t.close().await;
        }
    }
    if !applied_changed.is_empty() && !allow_applied {
        return Ok(HashReport {
            path: project::display_path(&path),
            migrations: m.set.migrations.len(),
            applied_changed,
            written: false,
        });
    }
    write_atomic(&path, &sum::render(&m.set))?;
    Ok(HashReport {
        path: project::display_path(&path),
        migrations: m.set.migrations.len(),
        applied_changed,
        written: true,
    })
}

/// Writes through a temporary file and a rename, so a process killed mid-write never
/// leaves a truncated file behind.
pub fn write_atomic(path: &std::path::Path, text: &str) -> Result<()> {
    let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
    std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
