//! Scratch databases: where replays and rehearsals run, never the target itself; written
//! once, with each dialect's `scratch.rs` creating, dropping and listing them. On a
//! server (PostgreSQL, MySQL): a uniquely named database created for the run and dropped
//! afterwards. SQLite: an in-memory database.
//!
//! A scratch database must not outlive its run, on a server that may be production's:
//! - the process keeps a registry of the ones it has, and the binary drops them all when
//!   a command is cancelled (SIGINT, SIGTERM) or ends without dropping one ([`drop_all`]);
//! - what a killed process leaves, the next one removes: names record the owner's host,
//!   pid and start time, and before creating one lockstep drops those whose owner is
//!   provably gone (same host, and that pid runs no more or runs another process).

use crate::driver::Driver;
use crate::{dispatch, Db, DbError, DbUrl};
use lockstep_core::model::Database;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};

/// A script to replay: its display path, first line in the file, and text.
pub struct ReplayScript<'a> {
    pub path: &'a str,
    pub first_line: usize,
    pub text: &'a str,
}

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("{path}:{line}: replaying failed: {message}\n  statement: {statement}\n  hint: the migration does not apply to an empty database on the scratch server; check extensions and roles it needs")]
    Statement {
        path: String,
        line: usize,
        statement: String,
        message: String,
    },
    #[error(transparent)]
    Db(#[from] DbError),
}

/// A created scratch database. Call `drop` when done. Until then it is in a process-wide
/// registry, so that [`drop_all`] can drop it when the command is cancelled (Ctrl-C) or
/// returns early; and its name records its owner (host, pid, process start time), so
/// that a later run can drop it once that owner is provably dead (SIGKILL, a crash).
pub struct Scratch {
    pub db: Db,
    admin: Option<DbUrl>,
    name: String,
}

impl Scratch {
    /// `server` is any URL on the server (PostgreSQL) or any SQLite URL (ignored: SQLite
    /// scratches live in memory). Before creating one, drops the scratch databases on
    /// that server whose owners are provably dead, and says so through [`on_note`].
    pub async fn create(server: &DbUrl) -> Result<Scratch, DbError> {
        match crate::scratch_in_memory(server.dialect()) {
            true => {
                let db = Db::connect(&DbUrl::parse("sqlite::memory:")?, true).await?;
                Ok(Scratch {
                    db,
                    admin: None,
                    name: String::new(),
                })
            }
            false => {
                let mut admin = Db::connect(server, false).await?;
                let owner = Owner::me();
                let name = owner.name();
                let swept = sweep(&mut admin, server).await;
                if !swept.is_empty() {
                    note(&format!(
                        "dropped {} scratch database(s) left by killed runs on {}: {}",
                        swept.len(),
                        server.redacted(),
                        swept.join(", ")
                    ));
                }
                // Registered before it exists: a Ctrl-C during CREATE DATABASE leaves a
                // database the server finishes creating after the client is gone.
                register(server, &name, true);
                let describe = owner.describe();
                let r = dispatch!(&mut admin.conn, |c, D| D::create_scratch(
                    c, &name, &describe
                )
                .await)
                .map_err(|e| DbError::query("creating a scratch database", server, e));
                if r.is_ok() {
                    register(server, &name, false);
                } else {
                    unregister(&name);
                }
                admin.close().await;
                r.map_err(|e| match e {
                    DbError::Query { message, url, code, .. } => DbError::Query {
                        what: "creating a scratch database".into(),
                        url,
                        message,
                        hint: "\n  hint: replays and rehearsals run on a scratch database: set `scratch` in the environment's config to a server where this role may create databases (CREATEDB); for drift alone, snapshots can stand in for replays, but `lockstep snapshot` replays too, so write them with a role that can (elsewhere) and commit them".into(),
                        code,
                    },
                    other => other,
                })?;
                let db = match Db::connect(&server.with_database(&name), false).await {
                    Ok(db) => db,
                    Err(e) => {
                        drop_named(server, &name, Keep::Registered).await;
                        return Err(e);
                    }
                };
                Ok(Scratch {
                    db,
                    admin: Some(server.clone()),
                    name,
                })
            }
        }
    }

    /// Lets the server's parser settle one statement that lockstep's could not parse: it
    /// runs here, in a transaction that is rolled back (PostgreSQL bounds it with a
    /// statement timeout). None when the server parsed it, whatever else then went wrong
    /// (this database is empty, so the tables it names are missing); the server's message
    /// when it is a syntax error (PostgreSQL's SQLSTATE 42601, MySQL's parse error,
    /// SQLite's "syntax error" or "incomplete input").
    pub async fn syntax_error(&mut self, sql: &str) -> Result<Option<String>, DbError> {
        let dialect = self.db.dialect();
        if dialect == lockstep_core::model::Dialect::Postgres {
            self.db
                .execute_script("SET statement_timeout = '10s'")
                .await?;
        }
        self.db.execute_script("BEGIN").await?;
        let r = self.db.execute_script(sql).await;
        self.db.execute_script("ROLLBACK").await?;
        let Err(DbError::Query { message, code, .. }) = r else {
            return Ok(None);
        };
        let syntax = match dialect {
            lockstep_core::model::Dialect::Postgres => code.as_deref() == Some("42601"),
            lockstep_core::model::Dialect::Mysql => message.contains("in your SQL syntax"),
            lockstep_core::model::Dialect::Sqlite => {
                message.contains("syntax error") || message.contains("incomplete input")
            }
        };
        Ok(syntax.then_some(message))
    }

    /// Runs a create script (`plan(diff(empty, model))`) on the scratch database.
    pub async fn build(&mut self, script: &str) -> Result<(), DbError> {
        self.db.execute_script(script).await.map_err(|e| match e {
            DbError::Query {
                what,
                url,
                message,
                code,
                ..
            } if code.as_deref() == Some("42501") => DbError::Query {
                what,
                url,
                message,
                hint: "\n  hint: building the scratch copy needs a privilege this role lacks on the scratch server (the message names it); set `scratch` in the environment's config to a server where the role has it".into(),
                code,
            },
            other => other,
        })
    }

    /// Runs scripts. On PostgreSQL, consecutive statements that may share a
    /// transaction go in batches (one round trip and one implicit transaction each); a
    /// batch that fails is rolled back by the server and re-run statement by statement
    /// to find the failing line. A statement that controls transactions, cannot run
    /// inside one, or adds an enum value (unusable until it commits) runs alone. SQLite
    /// runs statement by statement.
    pub async fn run(&mut self, scripts: &[ReplayScript<'_>]) -> Result<(), ReplayError> {
        // A batch holds its locks until it commits: about 4.4 per statement of DDL
        // (889 for 200 CREATE TABLE/INDEX statements of bench/gen_10k.py), out of a
        // lock table shared by every session of the server (64 per connection by
        // default). At 200 a replay on a busy shared server took an eighth of it and
        // could run another session out of shared memory; at 50 it takes about 220.
        // Batches of 50 and of 200 replayed 10,000 tables in times within each
        // other's noise (bench/README.md, issue 16).
        const BATCH: usize = 50;
        let batching = dispatch!(&self.db.conn, |_c, D| D::BATCHED_REPLAY);
        let batchable = |sql: &str| {
            lockstep_core::sql::split::shares_a_transaction(sql) && !adds_enum_value(sql)
        };
        for s in scripts {
            let stmts = crate::apply::replay_statements(s, self.db.dialect())?;
            let mut start = 0;
            while start < stmts.len() {
                let mut end = start;
                while batching
                    && end < stmts.len()
                    && end - start < BATCH
                    && batchable(&stmts[end].sql)
                {
                    end += 1;
                }
                if end - start > 1 {
                    let chunk = &stmts[start..end];
                    let joined: String = chunk.iter().map(|st| format!("{};\n", st.sql)).collect();
                    if self.db.execute_script(&joined).await.is_err() {
                        self.run_one_by_one(s, chunk).await?;
                    }
                } else {
                    end = start + 1;
                    self.run_one_by_one(s, &stmts[start..end]).await?;
                }
                start = end;
            }
        }
        Ok(())
    }

    async fn run_one_by_one(
        &mut self,
        s: &ReplayScript<'_>,
        chunk: &[lockstep_core::sql::split::Stmt],
    ) -> Result<(), ReplayError> {
        {
            for st in chunk {
                if let Err(e) = self.db.execute_script(&st.sql).await {
                    let message = match e {
                        DbError::Query { message, .. } => message,
                        other => other.to_string(),
                    };
                    return Err(ReplayError::Statement {
                        path: s.path.to_string(),
                        line: st.line + s.first_line - 1,
                        statement: lockstep_core::migrate::state::one_line(&st.sql),
                        message,
                    });
                }
            }
        }
        Ok(())
    }

    pub async fn inspect(&mut self) -> Result<Database, DbError> {
        self.db.inspect().await
    }

    /// The role the scratch connection runs as, for owner mapping.
    pub async fn role(&mut self) -> Option<String> {
        self.db.role().await
    }

    pub async fn drop(self) {
        self.db.close().await;
        if let Some(admin) = self.admin {
            drop_named(&admin, &self.name, Keep::Registered).await;
        }
    }
}

/// The engine's major version where scratch work for `server` runs (an in-memory
/// database for SQLite): what keys cached replays besides the migrations.
pub async fn engine_major(server: &DbUrl) -> Result<Option<String>, DbError> {
    let url = match crate::scratch_in_memory(server.dialect()) {
        true => DbUrl::parse("sqlite::memory:")?,
        false => server.clone(),
    };
    let mut db = Db::connect(&url, false).await?;
    let v = db.engine_major().await;
    db.close().await;
    Ok(v)
}

/// `ALTER TYPE … ADD VALUE`: the new value cannot be used before its transaction
/// commits, so it never shares a batch with the statements that may use it.
fn adds_enum_value(sql: &str) -> bool {
    use lockstep_core::sql::lex::code_tokens;
    let mut t = code_tokens(sql, lockstep_core::sql::lex::Dialect::Postgres);
    let head: Vec<_> = t.by_ref().take(2).collect();
    if !(head.len() == 2 && head[0].is("ALTER") && head[1].is("TYPE")) {
        return false;
    }
    let mut prev_add = false;
    t.any(|x| {
        let hit = prev_add && x.is("VALUE");
        prev_add = x.is("ADD");
        hit
    })
}

// ---------------------------------------------------------------------------- notes

type NoteSink = Box<dyn Fn(&str) + Send + Sync>;

static NOTES: OnceLock<NoteSink> = OnceLock::new();

/// Where notes about scratch databases go (the binary prints them). Set once.
pub fn on_note(f: impl Fn(&str) + Send + Sync + 'static) {
    let _ = NOTES.set(Box::new(f));
}

fn note(s: &str) {
    if let Some(f) = NOTES.get() {
        f(s);
    }
}

// ---------------------------------------------------------------------------- registry

struct Live {
    server: DbUrl,
    name: String,
    /// CREATE DATABASE was sent and has not been seen to finish.
    creating: bool,
}

static LIVE: Mutex<Vec<Live>> = Mutex::new(Vec::new());

fn live() -> std::sync::MutexGuard<'static, Vec<Live>> {
    LIVE.lock().unwrap_or_else(|p| p.into_inner())
}

fn register(server: &DbUrl, name: &str, creating: bool) {
    let mut l = live();
    l.retain(|x| x.name != name);
    l.push(Live {
        server: server.clone(),
        name: name.to_string(),
        creating,
    });
}

fn unregister(name: &str) {
    live().retain(|x| x.name != name);
}

/// What becomes of a database whose drop failed.
#[derive(Clone, Copy, PartialEq)]
enum Keep {
    /// This process's own: registered again, for [`drop_all`].
    Registered,
    /// One a sweep found: the next sweep tries again.
    Unregistered,
}

/// Drops a scratch database; with [`Keep::Registered`] it stays registered when that
/// fails, for [`drop_all`].
///
/// The caller waits until the server is seen running the drop, not for its end: on
/// PostgreSQL, `DROP DATABASE` unlinks every file of the database (a cold replay of
/// 10,000 tables leaves some 80,000; minutes on a slow disk) and forces a checkpoint,
/// all after the result the command wanted is out; once begun, the server finishes it
/// whether the client stays or not (it commits before it answers). If the drop
/// fails, the database is registered again, for [`drop_all`] or, after the process
/// is gone, the next run's sweep. Where the server cannot be seen running it (the
/// dialect's `drop_running` says no), the caller waits for the end.
async fn drop_named(server: &DbUrl, name: &str, keep: Keep) -> bool {
    let Ok(mut a) = Db::connect(server, false).await else {
        return false;
    };
    let Ok(mut watch) = Db::connect(server, false).await else {
        let ok = a.drop_scratch(name).await.is_ok();
        if ok {
            unregister(name);
        }
        a.close().await;
        return ok;
    };
    let (srv, n) = (server.clone(), name.to_string());
    let mut dropping = tokio::spawn(async move {
        let r = a.drop_scratch(&n).await;
        a.close().await;
        match r {
            Ok(()) => unregister(&n),
            Err(_) if keep == Keep::Registered => register(&srv, &n, false),
            Err(_) => {}
        }
        r.is_ok()
    });
    let begun = loop {
        tokio::select! {
            r = &mut dropping => break r.unwrap_or(false),
            _ = tokio::time::sleep(std::time::Duration::from_millis(20)) => {}
        }
        if dispatch!(&mut watch.conn, |c, D| D::drop_running(c, name).await) {
            unregister(name);
            break true;
        }
    };
    watch.close().await;
    begun
}

/// Drops every scratch database this process still has: after its command was cancelled
/// (SIGINT, SIGTERM) or returned without dropping one. Returns their names.
pub async fn drop_all() -> Vec<String> {
    let all: Vec<Live> = std::mem::take(&mut *live());
    let mut dropped = vec![];
    for x in all {
        let Ok(mut a) = Db::connect(&x.server, false).await else {
            continue;
        };
        if x.creating {
            let name = &x.name;
            dispatch!(&mut a.conn, |c, D| D::wait_for_create(c, name).await);
        }
        let r = a.drop_scratch(&x.name).await;
        a.close().await;
        if r.is_ok() {
            dropped.push(x.name);
        }
    }
    dropped
}

impl Db {
    async fn drop_scratch(&mut self, name: &str) -> Result<(), sqlx::Error> {
        dispatch!(&mut self.conn, |c, D| D::drop_scratch(c, name).await)
    }
}

// ---------------------------------------------------------------------------- owners

const PREFIX: &str = "lockstep_scratch_";

/// Who creates a scratch database: this host and this process.
struct Owner {
    /// A hash of the host name, the kernel's boot id and the PID namespace: processes
    /// with the same id see each other in /proc, so a pid there can be checked. Two
    /// machines that share a name do not share a boot id; containers on one kernel do
    /// not share a PID namespace. Not known off Linux: nothing is then ever swept.
    host: Option<String>,
    pid: u32,
    /// The process start time, in clock ticks since boot (/proc/self/stat field 22):
    /// a pid reused by a later process has another one.
    start: u64,
    host_name: String,
}

static SEQ: AtomicU32 = AtomicU32::new(0);

impl Owner {
    fn me() -> Owner {
        let pid = std::process::id();
        let host_name = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|s| s.trim().to_string())
            .unwrap_or_default();
        Owner {
            host: host_id(),
            pid,
            start: start_time(pid).unwrap_or(0),
            host_name,
        }
    }

    /// `lockstep_scratch_{host}_{pid}_{start}_{n}`: about 50 bytes, under PostgreSQL's
    /// 63 (a pid has at most 7 digits; 11 digits of clock ticks are 30 years of uptime).
    fn name(&self) -> String {
        let n = SEQ.fetch_add(1, Ordering::Relaxed);
        format!(
            "{PREFIX}{}_{}_{}_{n}",
            self.host.as_deref().unwrap_or("unknown"),
            self.pid,
            self.start
        )
    }

    fn describe(&self) -> String {
        format!(
            "lockstep scratch database of process {} on host {} (a replay or rehearsal); lockstep drops it when done, and a later run drops it once that process is gone",
            self.pid, self.host_name
        )
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn host_id() -> Option<String> {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").ok()?;
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
    let pidns = std::fs::read_link("/proc/self/ns/pid").ok()?;
    let key = format!(
        "{}\0{}\0{}",
        host.trim(),
        boot.trim(),
        pidns.to_string_lossy()
    );
    Some(format!("{:08x}", fnv1a(key.as_bytes()) as u32))
}

/// Field 22 of /proc/PID/stat; Err(NotFound) when no such process runs.
fn read_start_time(pid: u32) -> std::io::Result<Option<u64>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command name (field 2) is in parentheses and may hold spaces and ')'.
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    // Field 3 is the first after it, so field 22 is the 20th.
    Ok(after
        .split_whitespace()
        .nth(19)
        .and_then(|v| v.parse().ok()))
}

fn start_time(pid: u32) -> Option<u64> {
    read_start_time(pid).ok().flatten()
}

/// (host, pid, start) from a scratch database's name, when it records its owner.
fn parse_owner(name: &str) -> Option<(&str, u32, u64)> {
    let rest = name.strip_prefix(PREFIX)?;
    let parts: Vec<&str> = rest.split('_').collect();
    let [host, pid, start, n] = parts.as_slice() else {
        return None;
    };
    n.parse::<u32>().ok()?;
    Some((host, pid.parse().ok()?, start.parse().ok()?))
}

/// Whether the owner recorded in `name` is provably gone: same host as this process
/// (so /proc shows its processes), and its pid runs no longer, or runs a process that
/// started at another time. Anything unsure (another host, an unreadable /proc, an old
/// name without an owner) is not gone.
fn owner_gone(name: &str, my_host: &str) -> bool {
    let Some((host, pid, start)) = parse_owner(name) else {
        return false;
    };
    if host != my_host || start == 0 {
        return false;
    }
    match read_start_time(pid) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
        Ok(Some(now)) => now != start,
        _ => false,
    }
}

/// Drops the scratch databases on `admin`'s server that this role may drop and whose
/// owners are provably gone. Returns their names.
///
/// Like a run's own, these drops are waited for only until the server runs them, and
/// one the server is already running is left to it: a run returns before its scratch
/// database's files are gone, so the next run, a second later, finds that database
/// with its owner gone; sending the drop again would wait on the first one's lock until
/// every file is unlinked (tens of seconds for 2,000 tables), and charge that run for
/// the previous one's drop.
async fn sweep(admin: &mut Db, server: &DbUrl) -> Vec<String> {
    let Some(me) = host_id() else {
        return vec![];
    };
    let names: Vec<String> = dispatch!(&mut admin.conn, |c, D| D::list_scratch(c).await);
    let mine: Vec<String> = live().iter().map(|x| x.name.clone()).collect();
    let mut dropped = vec![];
    for name in names {
        if mine.contains(&name) || !owner_gone(&name, &me) {
            continue;
        }
        if dispatch!(&mut admin.conn, |c, D| D::drop_running(c, &name).await) {
            continue;
        }
        if drop_named(server, &name, Keep::Unregistered).await {
            dropped.push(name);
        }
    }
    dropped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_record_their_owner() {
        let me = Owner::me();
        let name = me.name();
        assert!(name.len() <= 63, "{name}");
        let (host, pid, start) = parse_owner(&name).expect("parses");
        assert_eq!(pid, std::process::id());
        assert_eq!(start, me.start);
        assert_eq!(Some(host), me.host.as_deref());
        assert_eq!(parse_owner("lockstep_scratch_123_456"), None);
        assert_eq!(parse_owner("lockstep_scratch_a_b_c_d"), None);
    }

    #[test]
    fn only_provably_dead_owners_are_gone() {
        let Some(host) = host_id() else {
            return; // not Linux: nothing is ever swept
        };
        let me = Owner::me();
        // This very process is alive.
        assert!(!owner_gone(&me.name(), &host));
        // The same pid with another start time: reused, so the owner is gone.
        let reused = format!("{PREFIX}{host}_{}_{}_0", me.pid, me.start + 1);
        assert!(owner_gone(&reused, &host));
        // No such process (pids never reach this high on Linux: 2^22 at most).
        let dead = format!("{PREFIX}{host}_99999999_{}_0", me.start);
        assert!(owner_gone(&dead, &host));
        // Another host, or an old name without an owner: never.
        let other = format!("{PREFIX}0badf00d_99999999_{}_0", me.start);
        assert!(host == "0badf00d" || !owner_gone(&other, &host));
        assert!(!owner_gone("lockstep_scratch_99999999_123", &host));
    }
}
