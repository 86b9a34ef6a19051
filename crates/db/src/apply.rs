//! The executor: applying migration steps, written once for every dialect (the history
//! it records is `history.rs`, the lock each dialect's `lock.rs`).
//!
//! Invariants:
//! - Transactional scripts run in one transaction together with their history rows:
//!   either all of them are applied and recorded, or the database is as before.
//! - A no-transaction statement is recorded `started` (committed) before it runs and
//!   `done` after, so a crash leaves at most one statement in doubt, and it is named.
//! - The deploy lock dies with the connection (PostgreSQL: a session-level advisory lock;
//!   MySQL: `GET_LOCK`; SQLite: its write lock per transaction), so a killed process
//!   never leaves it held. Waiting for it holds no snapshot (see `postgres/lock.rs`).
//! - Deploy statements run with a `lock_timeout` ([`LockWait`]); when it fires, what
//!   ran since the last commit is rolled back and tried again after a pause, a bounded
//!   number of times, and the sessions in the way are named while it waits.
//! - A run stopped by the server rather than by the migration's SQL (a lock timeout, a
//!   resource limit such as "out of shared memory") is recorded `aborted`, not `failed`:
//!   nothing is wrong with the migration.

use crate::wait::{self, Wait};
use crate::{server_message, Db, DbError, DbUrl};
use lockstep_core::migrate::state::ProgressRow;
use lockstep_core::migrate::Version;
use lockstep_core::sql::split::{self, Stmt};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Who runs the deploy, recorded in every history row.
#[derive(Debug, Clone, Default)]
pub struct Who {
    pub os_user: String,
    pub client_host: String,
    pub lockstep_version: String,
    pub deploy_id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Up,
    Down,
}

impl Direction {
    fn as_str(self) -> &'static str {
        match self {
            Direction::Up => "up",
            Direction::Down => "down",
        }
    }
}

/// One script to run.
#[derive(Debug, Clone)]
pub struct Step {
    pub version: Version,
    pub name: String,
    /// The up script's checksum: what the history records for this migration.
    pub checksum: String,
    /// The up script's code checksum (comments and layout left out), recorded too.
    pub code_checksum: String,
    pub path: String,
    pub first_line: usize,
    pub text: String,
    pub direction: Direction,
    pub no_transaction: bool,
    /// The SQL the text is split in (MySQL's `#` comments and backslash escapes).
    pub dialect: lockstep_core::sql::lex::Dialect,
}

impl Step {
    fn recorded(&self) -> crate::history::Recorded<'_> {
        crate::history::Recorded {
            version: &self.version,
            name: &self.name,
            checksum: &self.checksum,
            code_checksum: &self.code_checksum,
        }
    }
}

/// Why applying stopped.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// A statement failed; everything transactional since the last commit was undone.
    #[error(
        "{path}:{line}: migration {version} failed: {message}\n  statement: {statement}\n  {undo}"
    )]
    Statement {
        version: String,
        path: String,
        line: usize,
        statement: String,
        message: String,
        undo: String,
    },
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Progress callback: (step index, step count, statement index, statement count).
pub type OnProgress<'a> = &'a mut dyn FnMut(usize, usize, usize, usize);

/// 1-based line within the file of the server's error position, when it reports one.
fn error_line(e: &sqlx::Error, stmt: &Stmt) -> usize {
    if let sqlx::Error::Database(d) = e {
        if let Some(pe) = d.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
            if let Some(sqlx::postgres::PgErrorPosition::Original(pos)) = pe.position() {
                let before: String = stmt.sql.chars().take(pos.saturating_sub(1)).collect();
                return stmt.line + before.matches('\n').count();
            }
        }
    }
    stmt.line
}

/// How deploy statements wait for locks another session holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockWait {
    /// `lock_timeout` for each statement of the deploy, unless a migration sets its own.
    /// A queued ALTER blocks every later reader of its table, so the wait is short.
    pub timeout: Duration,
    /// How many times in all a transaction (or a no-transaction statement) is tried.
    pub attempts: u32,
    /// The pause before the second attempt; it doubles before each further one.
    pub backoff: Duration,
}

impl Default for LockWait {
    fn default() -> LockWait {
        LockWait {
            timeout: Duration::from_secs(5),
            attempts: 3,
            backoff: Duration::from_secs(1),
        }
    }
}

impl LockWait {
    fn pause(&self, attempt: u32) -> Duration {
        self.backoff * 2u32.saturating_pow(attempt.saturating_sub(1))
    }
}

/// What a deploy reports while one of its statements waits for a lock.
#[derive(Debug)]
pub enum LockEvent<'a> {
    /// The statement at `path:line` has waited a moment; `wait` says for what, and whose
    /// sessions are in the way.
    Waiting {
        version: &'a Version,
        path: &'a str,
        line: usize,
        wait: &'a Wait,
    },
    /// The lock timeout (`timeout`, as set) fired: what ran since the last commit was
    /// rolled back, and runs again after `pause`, as attempt `attempt` of `attempts`.
    Retrying {
        version: &'a Version,
        path: &'a str,
        line: usize,
        timeout: &'a str,
        attempt: u32,
        attempts: u32,
        pause: Duration,
    },
}

/// Lock-wait callback.
pub type OnLock<'a> = &'a mut dyn FnMut(&LockEvent<'_>);

/// What an interrupted deploy was doing, for the message after Ctrl-C.
#[derive(Debug, Clone, PartialEq)]
pub enum InFlight {
    /// A transaction holding these migrations was open.
    Transaction { versions: Vec<String> },
    /// A statement of a migration that runs without a transaction was running.
    Statement {
        version: String,
        statement_no: usize,
        line: usize,
        /// The statement was sent with its checkpoint, to commit together: it is done
        /// and recorded, or (ended before its commit) rolled back, never in doubt.
        with_checkpoint: bool,
    },
}

struct Flight {
    url: DbUrl,
    pid: Option<i32>,
    what: InFlight,
}

/// The deploy transaction or statement this process has open, if any.
static IN_FLIGHT: Mutex<Option<Flight>> = Mutex::new(None);

/// Versions this process has committed as applied (or rolled back).
static COMMITTED: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn committed(versions: impl IntoIterator<Item = String>) {
    COMMITTED
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .extend(versions);
}

/// What a cancelled deploy leaves.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Interrupted {
    /// Migrations this process committed before it was stopped.
    pub committed: Vec<String>,
    /// What was open when it was stopped.
    pub in_flight: Option<InFlight>,
}

fn set_flight(db: &Db, what: Option<InFlight>) {
    let f = what.map(|what| Flight {
        url: db.url.clone(),
        pid: db.pid,
        what,
    });
    *IN_FLIGHT.lock().unwrap_or_else(|p| p.into_inner()) = f;
}

/// After the running command was cancelled (SIGINT, SIGTERM): ends the server process of
/// a deploy that was in flight, so that its transaction is rolled back now rather than
/// when the server notices the closed connection, and says what state that leaves.
pub async fn interrupt() -> Interrupted {
    let committed = std::mem::take(&mut *COMMITTED.lock().unwrap_or_else(|p| p.into_inner()));
    let flight = IN_FLIGHT.lock().unwrap_or_else(|p| p.into_inner()).take();
    let Some(f) = flight else {
        return Interrupted {
            committed,
            in_flight: None,
        };
    };
    if let Some(pid) = f.pid {
        if let Ok(mut c) = Db::connect(&f.url, false).await {
            c.terminate(pid).await;
            c.close().await;
        }
    }
    Interrupted {
        committed,
        in_flight: Some(f.what),
    }
}

/// A lock_timeout a migration sets: the value as written, and whether it lasts only
/// until its transaction ends (`SET LOCAL`).
#[derive(Debug, Clone, PartialEq)]
struct OwnTimeout {
    value: String,
    local: bool,
}

/// `SET [SESSION|LOCAL] lock_timeout = V` / `TO V` in a migration.
fn own_lock_timeout(sql: &str) -> Option<OwnTimeout> {
    let flat = lockstep_core::migrate::state::one_line(sql);
    let lower = flat.to_ascii_lowercase().replace('=', " = ");
    let words: Vec<&str> = lower.split_whitespace().collect();
    let (at, local) = match words.as_slice() {
        ["set", "lock_timeout", ..] => (2, false),
        ["set", "session", "lock_timeout", ..] => (3, false),
        ["set", "local", "lock_timeout", ..] => (3, true),
        _ if lower.contains("set_config") && lower.contains("'lock_timeout'") => {
            return Some(OwnTimeout {
                value: "the value".into(),
                local: lower.contains("true"),
            })
        }
        _ => return None,
    };
    let rest: Vec<&str> = words[at..]
        .iter()
        .copied()
        .skip_while(|w| *w == "=" || *w == "to")
        .collect();
    let v = rest.join(" ");
    let v = v
        .trim_start_matches('=')
        .trim()
        .trim_end_matches(';')
        .trim();
    Some(OwnTimeout {
        value: v.trim_matches('\'').to_string(),
        local,
    })
}

/// How one attempt at a transaction ended, when it did not commit.
enum Stop {
    /// A statement waited longer than the lock timeout (`timeout`, as it was set);
    /// everything was rolled back.
    Lock {
        si: usize,
        stmt: Stmt,
        error: sqlx::Error,
        seen: Option<Wait>,
        started: (Instant, String),
        timeout: String,
    },
    /// Anything else: recorded, and final.
    Failed(ApplyError),
}

/// What `apply` carries from statement to statement.
struct Run<'a, 'b> {
    who: &'a Who,
    steps: &'a [Step],
    lock: &'a LockWait,
    on_progress: OnProgress<'b>,
    on_lock: OnLock<'b>,
    /// The lock_timeout a migration set for itself, in force now. lockstep's own is set
    /// once per session, so the migration's wins without lockstep doing anything.
    own_timeout: Option<OwnTimeout>,
}

impl Run<'_, '_> {
    /// Tells `on_lock` that the statement at `step`'s `line`, which waited out
    /// `timeout`, runs again, then waits the pause before that attempt.
    async fn pause_before_retry(
        &mut self,
        step: &Step,
        line: usize,
        timeout: &str,
        attempt: &mut u32,
    ) {
        let pause = self.lock.pause(*attempt);
        *attempt += 1;
        (self.on_lock)(&LockEvent::Retrying {
            version: &step.version,
            path: &step.path,
            line,
            timeout,
            attempt: *attempt,
            attempts: self.lock.attempts,
            pause,
        });
        tokio::time::sleep(pause).await;
    }

    fn timeout_label(&self) -> String {
        match &self.own_timeout {
            Some(v) => format!("{} (the lock_timeout the migration sets)", v.value),
            None => format!(
                "{} (lockstep's --lock-timeout)",
                wait::human(self.lock.timeout)
            ),
        }
    }

    /// Runs one statement, watched: while it waits for a lock, `on_lock` hears whose.
    /// `send`, when given, is what goes to the server instead (the statement with its
    /// checkpoint).
    async fn statement(
        &mut self,
        db: &mut Db,
        step: &Step,
        s: &Stmt,
        send: Option<&str>,
    ) -> (Result<(), sqlx::Error>, Option<Wait>) {
        if let Some(v) = own_lock_timeout(&s.sql) {
            self.own_timeout = Some(v);
        }
        let (url, pid) = (db.url.clone(), db.pid);
        let on_lock = &mut *self.on_lock;
        let mut waiting = |w: &Wait| {
            on_lock(&LockEvent::Waiting {
                version: &step.version,
                path: &step.path,
                line: s.line,
                wait: w,
            })
        };
        wait::watch(&url, pid, db.raw(send.unwrap_or(&s.sql)), &mut waiting).await
    }
}

/// Runs the steps in order. Consecutive transactional steps share one transaction,
/// committed only when every one of them and their history rows succeeded; a
/// no-transaction step commits what came before, then runs statement by statement with
/// checkpoints. Progress already recorded `done` for a step is skipped (resume).
///
/// Every statement runs with `lock.timeout` as its `lock_timeout` (PostgreSQL), unless
/// a migration sets its own. When it fires, the transaction is rolled back and run again
/// after a pause, up to `lock.attempts` times in all; `on_lock` hears who is in the way
/// while a statement waits, and of each retry.
pub async fn apply(
    db: &mut Db,
    who: &Who,
    steps: &[Step],
    done: &[ProgressRow],
    lock: &LockWait,
    on_progress: OnProgress<'_>,
    on_lock: OnLock<'_>,
) -> Result<(), ApplyError> {
    // Where DDL commits on its own (MySQL, MariaDB), a transaction around a migration
    // would promise an all-or-nothing it cannot keep: each statement is checkpointed
    // instead, so a kill or a failure leaves at most one statement in doubt.
    let checkpointed: Vec<Step>;
    let steps = if lockstep_core::dialect::capabilities(db.dialect()).transactional_ddl {
        steps
    } else {
        let dialect = lex_dialect(db.dialect());
        checkpointed = steps
            .iter()
            .cloned()
            .map(|s| checkpoint_every_statement(s, dialect))
            .collect();
        &checkpointed
    };
    preflight(steps).map_err(|e| *e)?;
    let mut run = Run {
        who,
        steps,
        lock,
        on_progress,
        on_lock,
        own_timeout: None,
    };
    let r = apply_all(db, &mut run, done).await;
    // Reached only when not cancelled: a cancelled deploy leaves its flight for
    // `interrupt` to settle.
    set_flight(db, None);
    r
}

async fn apply_all(
    db: &mut Db,
    run: &mut Run<'_, '_>,
    done: &[ProgressRow],
) -> Result<(), ApplyError> {
    if let Some(sql) = db.session_lock_timeout(run.lock.timeout) {
        db.exec("setting the deploy's lock_timeout", &sql).await?;
    }
    let steps = run.steps;
    let mut si = 0;
    while si < steps.len() {
        if steps[si].no_transaction {
            no_transaction(db, run, si, done).await?;
            si += 1;
            continue;
        }
        let end = (si..steps.len())
            .find(|&i| steps[i].no_transaction)
            .unwrap_or(steps.len());
        transaction(db, run, si..end).await?;
        si = end;
    }
    Ok(())
}

/// Runs `range` of transactional steps in one transaction, again after a lock timeout.
async fn transaction(
    db: &mut Db,
    run: &mut Run<'_, '_>,
    range: std::ops::Range<usize>,
) -> Result<(), ApplyError> {
    let mut attempt = 1;
    loop {
        let (si, stmt, error, seen, started, timeout) =
            match try_transaction(db, run, range.clone()).await {
                Ok(()) => return Ok(()),
                Err(Stop::Failed(e)) => return Err(e),
                Err(Stop::Lock {
                    si,
                    stmt,
                    error,
                    seen,
                    started,
                    timeout,
                }) => (si, stmt, error, seen, started, timeout),
            };
        let step = &run.steps[si];
        if attempt < run.lock.attempts {
            run.pause_before_retry(step, stmt.line, &timeout, &mut attempt)
                .await;
            continue;
        }
        let undo = "the transaction was rolled back: the database is as it was before this run (or the last no-transaction step)".to_string();
        return Err(lock_failed(
            db, run, step, started, &stmt, &error, seen, attempt, &timeout, undo,
        )
        .await);
    }
}

async fn try_transaction(
    db: &mut Db,
    run: &mut Run<'_, '_>,
    range: std::ops::Range<usize>,
) -> Result<(), Stop> {
    let fail = |e: DbError| Stop::Failed(e.into());
    db.begin_deploy().await.map_err(fail)?;
    let versions = run.steps[range.clone()]
        .iter()
        .map(|s| s.version.to_string())
        .collect();
    set_flight(db, Some(InFlight::Transaction { versions }));
    // A rollback undoes what the migrations SET as well.
    let own_before = run.own_timeout.clone();
    let total = run.steps.len();
    let mut ran = 0;
    for si in range.clone() {
        let step = &run.steps[si];
        let stmts = statements(step);
        let started_at = match db.now_text().await {
            Ok(t) => t,
            Err(e) => {
                let _ = db.exec("rolling back", "ROLLBACK").await;
                return Err(fail(e));
            }
        };
        let started = Instant::now();
        for (i, s) in stmts.iter().enumerate() {
            (run.on_progress)(si, total, i, stmts.len());
            let (r, seen) = run.statement(db, step, s, None).await;
            ran += 1;
            let Err(e) = r else { continue };
            let _ = db.exec("rolling back", "ROLLBACK").await;
            set_flight(db, None);
            let timeout = run.timeout_label();
            run.own_timeout = own_before;
            if wait::is_lock_timeout(sql_code(&e).as_deref()) {
                return Err(Stop::Lock {
                    si,
                    stmt: s.clone(),
                    error: e,
                    seen,
                    started: (started, started_at),
                    timeout,
                });
            }
            let mut undo = "the transaction was rolled back: the database is as it was before this run (or the last no-transaction step)".to_string();
            if is_resource(&e) {
                let migrations = si - range.start + 1;
                undo = format!(
                    "cause: the size of the one transaction this deploy runs ({migrations} migration(s), {ran} statement(s) so far), not the statement: every table, index or sequence a transaction creates or alters holds one of the server's lock slots until it commits, and they ran out\n  {undo}\n  hint: deploy in smaller steps (`lockstep deploy --to VERSION`), put `-- lockstep:no-transaction` on the first line of a big migration so that its statements commit one by one, or raise max_locks_per_transaction on the server (it needs a restart)"
                );
            }
            return Err(Stop::Failed(
                failed(db, run.who, step, (started, started_at), s, &e, undo).await,
            ));
        }
        if let Err(e) = record_done(db, run.who, step, (started, started_at)).await {
            let _ = db.exec("rolling back", "ROLLBACK").await;
            set_flight(db, None);
            run.own_timeout = own_before;
            return Err(fail(e));
        }
    }
    let r = db.exec("committing the deploy", "COMMIT").await;
    set_flight(db, None);
    if r.is_err() {
        run.own_timeout = own_before;
    } else if run.own_timeout.as_ref().is_some_and(|t| t.local) {
        // SET LOCAL ends with its transaction.
        run.own_timeout = own_before.filter(|t| !t.local);
    }
    r.map_err(fail)?;
    committed(run.steps[range].iter().map(|s| s.version.to_string()));
    Ok(())
}

/// Runs a no-transaction step statement by statement, each checkpointed; a statement
/// that times out waiting for a lock runs again (unless the migration manages its own
/// transactions, which the timeout aborted).
async fn no_transaction(
    db: &mut Db,
    run: &mut Run<'_, '_>,
    si: usize,
    done: &[ProgressRow],
) -> Result<(), ApplyError> {
    let step = &run.steps[si];
    let stmts = statements(step);
    let own_transactions = stmts
        .iter()
        .any(|s| lockstep_core::sql::split::tx_control(&s.sql).is_some());
    let started_at = db.now_text().await?;
    let started = Instant::now();
    let total = run.steps.len();
    for (i, s) in stmts.iter().enumerate() {
        (run.on_progress)(si, total, i, stmts.len());
        let no = i + 1;
        if done
            .iter()
            .any(|p| p.version == step.version && p.statement_no == no as i64 && p.state == "done")
        {
            // A resumed run is a new session: what the finished statements set for
            // their session (`SET FOREIGN_KEY_CHECKS=0`, `SET NAMES`) is set again, or
            // the statements after them would run under other rules.
            if sets_session_state(&s.sql) {
                db.raw(&s.sql).await.map_err(|e| {
                    DbError::query(
                        "setting again what the migration set for its session",
                        &db.url,
                        e,
                    )
                })?;
            }
            continue;
        }
        // Where the statement and its checkpoint can commit together, they go in one
        // round trip: one commit instead of three, and nothing is ever in doubt.
        // Otherwise `started` is committed first and `done` after, so that a crash
        // leaves at most this one statement in doubt.
        let with_checkpoint = (!own_transactions && split::shares_a_transaction(&s.sql))
            .then(|| db.checkpoint_with(run.who, &step.version, no, s))
            .flatten()
            .map(|done| format!("{}\n;\n{done}", s.sql));
        let mut attempt = 1;
        loop {
            if with_checkpoint.is_none() {
                db.set_progress(run.who, &step.version, no, s, "started")
                    .await?;
            }
            set_flight(
                db,
                Some(InFlight::Statement {
                    version: step.version.to_string(),
                    statement_no: no,
                    line: s.line,
                    with_checkpoint: with_checkpoint.is_some(),
                }),
            );
            let (r, seen) = run.statement(db, step, s, with_checkpoint.as_deref()).await;
            set_flight(db, None);
            let Err(e) = r else { break };
            // The statement failed, so it is not in doubt: forget the checkpoint
            // and let decide() clean up leftovers (an INVALID index) on retry.
            let _ = db.resolve(&step.version, no as i64, false).await;
            let _ = db.decide(&s.sql).await;
            let undo = if lockstep_core::dialect::capabilities(db.dialect()).transactional_ddl {
                format!(
                    "this migration runs outside a transaction: statements before this one stay applied and are recorded; the next deploy resumes at statement {no}"
                )
            } else {
                format!(
                    "MySQL and MariaDB commit every DDL statement on its own, so lockstep ran this migration statement by statement, each recorded: the next deploy resumes at statement {no}"
                )
            };
            if wait::is_lock_timeout(sql_code(&e).as_deref()) {
                let timeout = run.timeout_label();
                if attempt < run.lock.attempts && !own_transactions {
                    run.pause_before_retry(step, s.line, &timeout, &mut attempt)
                        .await;
                    continue;
                }
                return Err(lock_failed(
                    db,
                    run,
                    step,
                    (started, started_at),
                    s,
                    &e,
                    seen,
                    attempt,
                    &timeout,
                    undo,
                )
                .await);
            }
            let undo = if is_resource(&e) {
                format!("cause: this one statement needs more of the server's lock slots than it has, not an error in its SQL\n  {undo}\n  hint: split the statement, or raise max_locks_per_transaction on the server (it needs a restart)")
            } else {
                undo
            };
            return Err(failed(db, run.who, step, (started, started_at), s, &e, undo).await);
        }
        if with_checkpoint.is_none() {
            db.set_progress(run.who, &step.version, no, s, "done")
                .await?;
        }
    }
    db.exec("recording history", "BEGIN").await?;
    record_done(db, run.who, step, (started, started_at)).await?;
    db.clear_progress(&step.version).await?;
    db.exec("recording history", "COMMIT").await?;
    committed([step.version.to_string()]);
    Ok(())
}

/// The lexer's rules for files run on `d`.
pub fn lex_dialect(d: lockstep_core::model::Dialect) -> lockstep_core::sql::lex::Dialect {
    match d {
        lockstep_core::model::Dialect::Mysql => lockstep_core::sql::lex::Dialect::Mysql,
        _ => Default::default(),
    }
}

/// `step`, to run statement by statement with a checkpoint each.
fn checkpoint_every_statement(mut step: Step, dialect: lockstep_core::sql::lex::Dialect) -> Step {
    step.no_transaction = true;
    step.dialect = dialect;
    step
}

/// A statement that only sets this session's variables (`SET x = ...`, `SET NAMES`),
/// which is harmless to run again; not `SET GLOBAL`/`PERSIST`, a password, a role, or
/// `SET TRANSACTION`.
pub fn sets_session_state(sql: &str) -> bool {
    let toks = lockstep_core::lint::tokenize(sql);
    if !toks.first().is_some_and(|t| t.is("SET")) {
        return false;
    }
    !toks.get(1).is_some_and(|t| {
        [
            "GLOBAL",
            "PERSIST",
            "PERSIST_ONLY",
            "PASSWORD",
            "ROLE",
            "DEFAULT",
            "TRANSACTION",
            "STATEMENT",
        ]
        .iter()
        .any(|w| t.is(w))
    })
}

fn sql_code(e: &sqlx::Error) -> Option<String> {
    match e {
        sqlx::Error::Database(d) => d.code().map(|c| c.to_string()),
        _ => None,
    }
}

/// Class 53, insufficient resources: out of shared memory (lock slots), disk full, out
/// of memory, too many connections. The server stopped the run, not the migration's SQL.
fn is_resource(e: &sqlx::Error) -> bool {
    sql_code(e).is_some_and(|c| c.starts_with("53"))
}

/// Records and describes a statement that waited out every attempt.
#[allow(clippy::too_many_arguments)]
async fn lock_failed(
    db: &mut Db,
    run: &Run<'_, '_>,
    step: &Step,
    started: (Instant, String),
    s: &Stmt,
    e: &sqlx::Error,
    seen: Option<Wait>,
    attempts: u32,
    timeout: &str,
    undo: String,
) -> ApplyError {
    let what = match &seen {
        Some(w) => w.describe(),
        None => "a lock another session holds (that session had ended by the time lockstep looked)"
            .into(),
    };
    let message = format!(
        "{}: {attempts} attempt(s), each waiting {timeout} for {what}",
        server_message(e),
    );
    let end = seen
        .as_ref()
        .and_then(Wait::terminate_sql)
        .map(|sql| format!(", or end the blocking session ({sql})"))
        .unwrap_or_default();
    let undo = format!(
        "{undo}\n  hint: deploy again when that session is done; `--lock-timeout 30s` waits longer per attempt and `--lock-retries N` tries more often{end}"
    );
    record_failure(db, run.who, step, started, s, e, message, undo, "aborted").await
}

/// Records a failed run of `step` (outside any transaction, so it survives the
/// rollback) and builds the error that names file, line, statement and message. A run
/// the server stopped for lack of resources is recorded `aborted`: the migration's SQL
/// is not at fault.
async fn failed(
    db: &mut Db,
    who: &Who,
    step: &Step,
    started: (Instant, String),
    s: &Stmt,
    e: &sqlx::Error,
    undo: String,
) -> ApplyError {
    let outcome = if is_resource(e) { "aborted" } else { "failed" };
    record_failure(
        db,
        who,
        step,
        started,
        s,
        e,
        server_message(e),
        undo,
        outcome,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn record_failure(
    db: &mut Db,
    who: &Who,
    step: &Step,
    (started, started_at): (Instant, String),
    s: &Stmt,
    e: &sqlx::Error,
    message: String,
    undo: String,
    outcome: &str,
) -> ApplyError {
    let line = error_line(e, s);
    // The history keeps the explanation too: `status` shows it.
    let recorded = match undo.find("cause: ") {
        Some(at) => format!(
            "{message}\n  {}",
            undo[at..].lines().next().unwrap_or_default()
        ),
        None => message.clone(),
    };
    let _ = db
        .insert_history(
            who,
            &step.recorded(),
            step.direction.as_str(),
            outcome,
            Some((started, started_at)),
            Some((&recorded, &s.sql, line)),
        )
        .await;
    ApplyError::Statement {
        version: step.version.to_string(),
        path: step.path.clone(),
        line,
        statement: lockstep_core::migrate::state::one_line(&s.sql),
        message,
        undo,
    }
}

/// Records `step` as applied (or rolled back), in whatever transaction is open.
async fn record_done(
    db: &mut Db,
    who: &Who,
    step: &Step,
    started: (Instant, String),
) -> Result<(), DbError> {
    let outcome = match step.direction {
        Direction::Up => "applied",
        Direction::Down => "rolled_back",
    };
    db.insert_history(
        who,
        &step.recorded(),
        step.direction.as_str(),
        outcome,
        Some(started),
        None,
    )
    .await
}

/// The statements of `step` as they run, with file lines (dbmate sections start
/// mid-file). A transactional step loses its own wrapping BEGIN first and COMMIT last:
/// it runs inside lockstep's transaction. What the file leaves open (an unterminated
/// comment or quote) is [`preflight`]'s to refuse.
pub fn statements(step: &Step) -> Vec<Stmt> {
    let all = split::split_with(&step.text, step.dialect).statements;
    let stmts = if step.no_transaction {
        all
    } else {
        split::without_wrapper(all)
    };
    stmts
        .into_iter()
        .map(|mut s| {
            s.line += step.first_line - 1;
            s
        })
        .collect()
}

/// Refuses, before anything runs:
/// - a step that leaves a comment, string, quoted name or dollar quote open: the text
///   after the opening would be swallowed, and the statements in it silently not run;
/// - a transactional step that ends or opens a transaction part way: its COMMIT would
///   commit lockstep's deploy transaction early, and a later failure could not be
///   rolled back.
pub fn preflight(steps: &[Step]) -> Result<(), Box<ApplyError>> {
    let refuse = |step: &Step, line, statement, message, undo| {
        Err(Box::new(ApplyError::Statement {
            version: step.version.to_string(),
            path: step.path.clone(),
            line,
            statement,
            message,
            undo,
        }))
    };
    for step in steps {
        if let Some(p) = split::split_with(&step.text, step.dialect).problems.first() {
            return refuse(
                step,
                p.line + step.first_line - 1,
                lockstep_core::migrate::state::one_line(&step.text[p.offset..]),
                format!("{p}: it runs to the end of the file and swallows the statements after it"),
                format!("nothing was run\n  hint: {}", p.hint()),
            );
        }
    }
    for step in steps.iter().filter(|s| !s.no_transaction) {
        for s in statements(step) {
            if split::tx_control(&s.sql).is_some() {
                let statement = lockstep_core::migrate::state::one_line(&s.sql);
                return refuse(
                    step,
                    s.line,
                    statement.clone(),
                    format!("`{statement}` inside a migration that lockstep runs in a transaction would end that transaction part way, so a later failure could not be rolled back"),
                    "nothing was run. Remove the statement (a BEGIN as the first statement with a COMMIT as the last is allowed), or put `-- lockstep:no-transaction` on the file's first line to manage transactions yourself".into(),
                );
            }
        }
    }
    Ok(())
}

/// The statements of a script to replay, or the replay error for what it leaves open
/// (an unterminated comment or quote), as deploy refuses it.
pub fn replay_statements(
    s: &crate::scratch::ReplayScript<'_>,
    dialect: lockstep_core::model::Dialect,
) -> Result<Vec<Stmt>, crate::scratch::ReplayError> {
    split::split_with(s.text, lex_dialect(dialect))
        .checked()
        .map_err(|p| crate::scratch::ReplayError::Statement {
            path: s.path.to_string(),
            line: p.line + s.first_line - 1,
            statement: lockstep_core::migrate::state::one_line(&s.text[p.offset..]),
            message: format!(
                "{p}: it runs to the end of the file and swallows the statements after it ({})",
                p.hint()
            ),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_migrations_own_lock_timeout_is_read_as_written() {
        let t = |sql: &str| own_lock_timeout(sql).map(|t| (t.value, t.local));
        assert_eq!(t("SET lock_timeout = '2s';"), Some(("2s".into(), false)));
        assert_eq!(
            t("-- wait less\nset local lock_timeout to 500"),
            Some(("500".into(), true))
        );
        assert_eq!(
            t("SET SESSION lock_timeout='1min'"),
            Some(("1min".into(), false))
        );
        assert_eq!(t("SET statement_timeout = '2s'"), None);
        assert_eq!(t("ALTER TABLE lock_timeout ADD x int"), None);
    }

    #[test]
    fn retries_pause_longer_each_time() {
        let w = LockWait::default();
        assert_eq!(w.pause(1), Duration::from_secs(1));
        assert_eq!(w.pause(2), Duration::from_secs(2));
        assert_eq!(w.pause(3), Duration::from_secs(4));
    }
}
