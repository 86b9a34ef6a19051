//! Time limits and lock waits, written once; what a session waits for is each dialect's
//! `lock.rs` (`Driver::blockers`; PostgreSQL reads `pg_locks` and `pg_blocking_pids`).
//!
//! Every query lockstep runs for itself (inspection, table sizes, history reads, data
//! counts) runs in a transaction that starts with `SET LOCAL lock_timeout` and
//! `SET LOCAL statement_timeout` ([`Limits::set_local`]): nothing of lockstep's waits
//! forever behind another session's lock, and the server process of a killed lockstep
//! gives up by itself instead of queueing in front of every other reader of the table.
//!
//! A time limit that fires should say what it waited for and who holds it, but by then
//! the wait is over and `pg_blocking_pids` is empty. So while one of these queries (or a
//! deploy statement) runs longer than a moment, a watcher on a second connection looks
//! at the first one's ungranted lock in `pg_locks` and at its `pg_blocking_pids`, joined
//! to `pg_stat_activity`; the last thing it saw explains the error ([`own`]), and deploy
//! reports it while it waits ([`watch`]'s callback).

use crate::{Db, DbError, DbUrl};
use std::cell::RefCell;
use std::convert::Infallible;
use std::future::Future;
use std::time::Duration;

/// Time limits on lockstep's own queries (never on a migration's statements: see
/// `apply::LockWait` for those).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// How long one of lockstep's reads waits for a lock another session holds.
    pub lock: Duration,
    /// How long one of lockstep's reads may run.
    pub statement: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            lock: Duration::from_secs(5),
            statement: Duration::from_secs(300),
        }
    }
}

impl Limits {
    /// The statements that put these limits on the open transaction.
    pub(crate) fn set_local(&self) -> String {
        format!(
            "SET LOCAL lock_timeout = {}; SET LOCAL statement_timeout = {}",
            millis(self.lock),
            millis(self.statement)
        )
    }
}

/// A duration as a PostgreSQL setting literal. Zero would mean "no limit": never sent.
pub(crate) fn millis(d: Duration) -> String {
    format!("'{}ms'", d.as_millis().clamp(1, i32::MAX as u128))
}

/// `5s`, `1.5s`, `250ms`, `2min`.
pub fn human(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms.is_multiple_of(60_000) {
        format!("{}min", ms / 60_000)
    } else if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

/// A session that holds (or is ahead in the queue for) a lock another one waits for.
#[derive(Debug, Clone, PartialEq)]
pub struct Blocker {
    pub pid: i32,
    pub user: Option<String>,
    pub application: Option<String>,
    pub client: Option<String>,
    /// `active`, `idle in transaction`, ...
    pub state: Option<String>,
    /// When its transaction (or else its query) started, as the server prints it.
    pub since: Option<String>,
    pub seconds: Option<f64>,
    /// The start of its current or last query, on one line.
    pub query: Option<String>,
}

impl Blocker {
    pub fn describe(&self) -> String {
        let mut parts = vec![];
        if let Some(u) = &self.user {
            parts.push(format!("user {u}"));
        }
        if let Some(a) = &self.application {
            parts.push(format!("application_name \"{a}\""));
        }
        if let Some(c) = &self.client {
            parts.push(format!("client {c}"));
        }
        match (&self.state, &self.since, self.seconds) {
            (Some(st), Some(since), Some(s)) => parts.push(format!("{st} since {since} ({s:.0}s)")),
            (Some(st), _, _) => parts.push(st.clone()),
            _ => {}
        }
        let mut s = format!("pid {}", self.pid);
        if parts.is_empty() {
            s.push_str(" (this role may not see its details)");
        } else {
            s.push_str(&format!(" ({})", parts.join(", ")));
        }
        if let Some(q) = &self.query {
            s.push_str(&format!(": {q}"));
        }
        s
    }
}

/// What a session was seen waiting for, and who was in its way.
#[derive(Debug, Clone, PartialEq)]
pub struct Wait {
    /// `an AccessExclusiveLock on table public.t`, ...
    pub waiting_for: String,
    pub blockers: Vec<Blocker>,
}

impl Wait {
    /// `an AccessShareLock on table public.t, held by pid 42 (...)`, one blocker a line.
    pub fn describe(&self) -> String {
        let mut s = self.waiting_for.clone();
        match self.blockers.as_slice() {
            [] => s.push_str(" (the session in the way has ended)"),
            [one] => s.push_str(&format!(", held by {}", one.describe())),
            many => {
                s.push_str(", held by:");
                for b in many {
                    s.push_str(&format!("\n    {}", b.describe()));
                }
            }
        }
        s
    }

    /// The same lock and the same sessions in the way (their clocks aside).
    pub fn same(&self, other: &Wait) -> bool {
        let pids = |w: &Wait| w.blockers.iter().map(|b| b.pid).collect::<Vec<_>>();
        self.waiting_for == other.waiting_for && pids(self) == pids(other)
    }

    /// The SQL that ends the blocking sessions, for hints.
    pub fn terminate_sql(&self) -> Option<String> {
        let pids: Vec<String> = self.blockers.iter().map(|b| b.pid.to_string()).collect();
        match pids.as_slice() {
            [] => None,
            [one] => Some(format!("SELECT pg_terminate_backend({one})")),
            _ => Some(format!(
                "SELECT pg_terminate_backend(pid) FROM unnest(ARRAY[{}]) pid",
                pids.join(", ")
            )),
        }
    }
}

/// Another session's query text may carry a secret (`ALTER ROLE … PASSWORD '…'`): such
/// a query is not shown.
pub(crate) fn scrub(q: &str) -> String {
    let lower = q.to_ascii_lowercase();
    if ["password", "secret", "passwd"]
        .iter()
        .any(|w| lower.contains(w))
    {
        "(query not shown: it may hold a secret)".into()
    } else {
        q.to_string()
    }
}

/// When the watcher first looks, and how often after that.
const FIRST_LOOK: Duration = Duration::from_millis(700);
const LOOK_EVERY: Duration = Duration::from_millis(1000);

/// Runs `fut` (a query on the connection whose server process is `pid`); should it take
/// longer than a moment, watches from a second connection what that process waits for,
/// reports each new sighting (another lock, other sessions) to `on_wait`, and returns
/// the last one with the result.
pub async fn watch<F: Future>(
    url: &DbUrl,
    pid: Option<i32>,
    fut: F,
    on_wait: &mut dyn FnMut(&Wait),
) -> (F::Output, Option<Wait>) {
    let Some(pid) = pid else {
        return (fut.await, None);
    };
    let seen: RefCell<Option<Wait>> = RefCell::new(None);
    let side: RefCell<Option<Db>> = RefCell::new(None);
    let out = {
        let watcher = watcher(url, pid, &seen, &side, on_wait);
        tokio::pin!(fut);
        tokio::pin!(watcher);
        tokio::select! {
            biased;
            r = &mut fut => r,
            never = &mut watcher => match never {},
        }
    };
    if let Some(c) = side.into_inner() {
        c.close().await;
    }
    (out, seen.into_inner())
}

async fn watcher(
    url: &DbUrl,
    pid: i32,
    seen: &RefCell<Option<Wait>>,
    side: &RefCell<Option<Db>>,
    on_wait: &mut dyn FnMut(&Wait),
) -> Infallible {
    tokio::time::sleep(FIRST_LOOK).await;
    match Db::connect(url, false).await {
        Ok(c) => *side.borrow_mut() = Some(c),
        Err(_) => return std::future::pending().await,
    }
    loop {
        // The connection is taken out while in use, so no borrow is held across an await.
        let taken = side.borrow_mut().take();
        if let Some(mut c) = taken {
            let w = c.blockers(pid).await;
            *side.borrow_mut() = Some(c);
            if let Some(w) = w {
                let new = !seen.borrow().as_ref().is_some_and(|s| s.same(&w));
                if new {
                    on_wait(&w);
                }
                *seen.borrow_mut() = Some(w);
            }
        }
        tokio::time::sleep(LOOK_EVERY).await;
    }
}

/// Whether `e` is a lock timeout (or `NOWAIT` finding the lock taken).
pub fn is_lock_timeout(code: Option<&str>) -> bool {
    code == Some("55P03")
}

/// One of lockstep's own reads of a target: where it goes (named in errors), the server
/// process serving it (for the lock-wait watcher) and its time limits.
#[derive(Debug, Clone, Copy)]
pub struct OwnRead<'a> {
    pub url: &'a DbUrl,
    pub pid: Option<i32>,
    pub limits: &'a Limits,
}

/// Runs one of lockstep's own reads under watch; when a time limit fires, the error says
/// what the read waited for, who holds it, and what to do.
pub(crate) async fn own<T>(
    url: &DbUrl,
    pid: Option<i32>,
    limits: &Limits,
    fut: impl Future<Output = Result<T, DbError>>,
) -> Result<T, DbError> {
    let (r, seen) = watch(url, pid, fut, &mut |_| {}).await;
    r.map_err(|e| explain(e, seen.as_ref(), limits))
}

/// Rewrites a time-limit error of one of lockstep's reads.
pub(crate) fn explain(e: DbError, seen: Option<&Wait>, limits: &Limits) -> DbError {
    let DbError::Query {
        what,
        url,
        message,
        hint,
        code,
    } = e
    else {
        return e;
    };
    let (message, hint) = match (code.as_deref(), seen) {
        (Some("55P03"), Some(w)) => (
            format!(
                "gave up after waiting {} (lockstep's lock_timeout) for {}",
                human(limits.lock),
                w.describe()
            ),
            blocked_hint(w),
        ),
        (Some("55P03"), None) => (
            format!(
                "gave up after waiting {} (lockstep's lock_timeout) for a lock another session holds; that session had ended or could not be seen by the time lockstep looked",
                human(limits.lock)
            ),
            "\n  hint: run lockstep again; if it keeps waiting, look for long transactions in pg_stat_activity".into(),
        ),
        (Some("57014"), Some(w)) => (
            format!(
                "stopped after {} (lockstep's statement_timeout) while waiting for {}",
                human(limits.statement),
                w.describe()
            ),
            blocked_hint(w),
        ),
        (Some("57014"), None) => (
            format!(
                "{message} (lockstep's statement_timeout is {})",
                human(limits.statement)
            ),
            "\n  hint: the server is slow or very busy; run lockstep again when it is quieter".into(),
        ),
        _ => (message, hint),
    };
    DbError::Query {
        what,
        url,
        message,
        hint,
        code,
    }
}

fn blocked_hint(w: &Wait) -> String {
    match w.terminate_sql() {
        Some(sql) => format!(
            "\n  hint: wait until that session commits or rolls back and run lockstep again, or end it: {sql}"
        ),
        None => "\n  hint: run lockstep again".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(human(Duration::from_millis(250)), "250ms");
        assert_eq!(human(Duration::from_secs(5)), "5s");
        assert_eq!(human(Duration::from_millis(1500)), "1.5s");
        assert_eq!(human(Duration::from_secs(120)), "2min");
        assert_eq!(millis(Duration::ZERO), "'1ms'");
    }

    #[test]
    fn a_blocker_names_its_session_and_hides_secrets() {
        let b = Blocker {
            pid: 42,
            user: Some("app".into()),
            application: Some("psql".into()),
            client: Some("10.0.0.7/32".into()),
            state: Some("idle in transaction".into()),
            since: Some("2024-05-01 10:00:00 UTC".into()),
            seconds: Some(12.4),
            query: Some(scrub("ALTER ROLE x PASSWORD 'hunter2'")),
        };
        let d = b.describe();
        assert!(d.starts_with("pid 42 (user app, application_name \"psql\", client 10.0.0.7/32, idle in transaction since 2024-05-01 10:00:00 UTC (12s))"), "{d}");
        assert!(!d.contains("hunter2"), "{d}");
        let w = Wait {
            waiting_for: "an AccessShareLock on table public.t".into(),
            blockers: vec![b],
        };
        assert_eq!(
            w.terminate_sql().as_deref(),
            Some("SELECT pg_terminate_backend(42)")
        );
    }
}
