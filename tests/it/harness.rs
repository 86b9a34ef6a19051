//! Running the binary against a project, with a wall-clock guard, and reading values back
//! from PostgreSQL, for the fault tests (locks, interrupts, roles, resource limits).
//!
//! The test crate has no SQL client of its own: values come back from PostgreSQL in the
//! message of a deliberate exception (`pg_value`), as in `deploy.rs`.

#![allow(dead_code)]

use crate::support;
use lockstep_db::{Db, DbError, DbUrl};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_lockstep")
}

pub fn spawn(dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> Child {
    let mut c = Command::new(bin());
    c.args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in envs {
        c.env(k, v);
    }
    c.spawn().expect("spawn lockstep")
}

/// What a guarded run gave: its output, and whether the guard had to kill it.
pub struct Run {
    pub out: Output,
    pub killed_by_guard: bool,
    pub took: Duration,
}

impl Run {
    pub fn code(&self) -> Option<i32> {
        self.out.status.code()
    }

    /// stdout and stderr together.
    pub fn text(&self) -> String {
        text(&self.out)
    }
}

/// Waits for `child`, killing it once `limit` has passed (the guard only turns a hang
/// into a failure; it is never the thing measured). Its pipes are read while it runs:
/// a child blocked on a full pipe would otherwise look like a hang.
pub fn wait_guarded(mut child: Child, limit: Duration) -> Run {
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let start = Instant::now();
    let mut killed = false;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            killed = true;
            break child.wait().expect("wait");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let took = start.elapsed();
    Run {
        out: Output {
            status,
            stdout: stdout.join().expect("stdout reader"),
            stderr: stderr.join().expect("stderr reader"),
        },
        killed_by_guard: killed,
        took,
    }
}

/// Reads a pipe to its end on a thread of its own; nothing when there is no pipe.
fn drain(pipe: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut p) = pipe {
            let _ = p.read_to_end(&mut bytes);
        }
        bytes
    })
}

pub fn run_guarded(dir: &Path, args: &[&str], limit: Duration) -> Run {
    wait_guarded(spawn(dir, args, &[]), limit)
}

/// How long a run of lockstep may take unless a test says otherwise.
pub const LIMIT: Duration = Duration::from_secs(300);

/// Runs `lockstep ARGS` in `dir`; fails the test when it runs longer than `limit` (a
/// hang, such as a lock left behind, fails instead of hanging the suite).
#[track_caller]
pub fn lockstep(dir: &Path, args: &[&str], limit: Duration) -> Output {
    support::finished(run_guarded(dir, args, limit), args, limit)
}

/// Runs lockstep and insists on an exit code.
#[track_caller]
pub fn expect(dir: &Path, args: &[&str], code: i32) -> Run {
    let r = run_guarded(dir, args, LIMIT);
    assert!(
        !r.killed_by_guard && r.code() == Some(code),
        "`lockstep {}`: expected exit {code}, got {:?}{}\n{}",
        args.join(" "),
        r.code(),
        if r.killed_by_guard {
            format!(" (killed after {LIMIT:?})")
        } else {
            String::new()
        },
        r.text()
    );
    r
}

/// A project directory: lockstep.toml and its migrations directory, run through the one
/// guarded runner. `new` leaves out the `layout` key (lockstep detects the layout);
/// `set_envs` rewrites lockstep.toml with other environments.
pub struct Project {
    pub dir: tempfile::TempDir,
    layout: Option<String>,
}

impl Project {
    pub fn new(envs: &[(&str, &str)]) -> Project {
        Project::create(None, envs)
    }

    /// A project with `layout = "…"` in lockstep.toml (no detection).
    pub fn with_layout(layout: &str, envs: &[(&str, &str)]) -> Project {
        Project::create(Some(layout.to_string()), envs)
    }

    fn create(layout: Option<String>, envs: &[(&str, &str)]) -> Project {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("migrations")).unwrap();
        let p = Project { dir, layout };
        p.set_envs(envs);
        p
    }

    /// Rewrites lockstep.toml with these environments (name, URL), keeping the layout.
    pub fn set_envs(&self, envs: &[(&str, &str)]) {
        let mut toml = String::from("migrations = \"migrations\"\n");
        if let Some(l) = &self.layout {
            toml.push_str(&format!("layout = \"{l}\"\n"));
        }
        for (name, url) in envs {
            toml.push_str(&format!("\n[env.{name}]\nurl = \"{url}\"\n"));
        }
        std::fs::write(self.path().join("lockstep.toml"), toml).unwrap();
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn migrations(&self) -> PathBuf {
        self.path().join("migrations")
    }

    /// Writes a native-layout migration, with a down file when `down` is given; returns
    /// the up file's name.
    pub fn native(&self, version: &str, name: &str, up: &str, down: Option<&str>) -> String {
        let up_name = format!("{version}_{name}.up.sql");
        std::fs::write(self.migrations().join(&up_name), up).unwrap();
        if let Some(d) = down {
            std::fs::write(
                self.migrations().join(format!("{version}_{name}.down.sql")),
                d,
            )
            .unwrap();
        }
        up_name
    }

    /// A native migration whose down file is a no-op; returns the up file's path.
    pub fn migration(&self, version: &str, name: &str, up: &str) -> PathBuf {
        let up_name = self.native(version, name, up, Some("SELECT 1;\n"));
        self.migrations().join(up_name)
    }

    /// Starts `lockstep ARGS` in the project directory.
    pub fn spawn(&self, args: &[&str]) -> Child {
        spawn(self.path(), args, &[])
    }

    /// Runs `lockstep ARGS` here, guarded by [`LIMIT`].
    #[track_caller]
    pub fn run(&self, args: &[&str]) -> Output {
        self.run_timeout(args, LIMIT)
    }

    /// Runs `lockstep ARGS` here, guarded by `limit`.
    #[track_caller]
    pub fn run_timeout(&self, args: &[&str], limit: Duration) -> Output {
        lockstep(self.path(), args, limit)
    }
}

/// stdout and stderr together, for "the message names X" checks.
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

pub fn block<T>(f: impl std::future::Future<Output = T>) -> T {
    support::rt().block_on(f)
}

pub fn exec(url: &str, sql: &str) -> Result<(), DbError> {
    let u = DbUrl::parse(url).unwrap();
    block(async {
        let mut db = Db::connect(&u, false).await?;
        let r = db.execute_script(sql).await;
        db.close().await;
        r
    })
}

/// One text value from PostgreSQL: the first column of the first row, carried back in
/// the message of a deliberate exception. NULL reads as "<null>".
pub fn pg_value(url: &str, sql: &str) -> String {
    let script = format!(
        "DO $lsq$ DECLARE v text; BEGIN EXECUTE $q${sql}$q$ INTO v; \
         RAISE EXCEPTION 'LSQ[%]LSQ', coalesce(v, '<null>'); END $lsq$"
    );
    let msg = match exec(url, &script) {
        Ok(()) => panic!("pg_value: no exception from {sql}"),
        Err(DbError::Query { message, .. }) => message,
        Err(e) => panic!("pg_value({sql}): {e}"),
    };
    match (msg.find("LSQ["), msg.rfind("]LSQ")) {
        (Some(a), Some(b)) if b >= a + 4 => msg[a + 4..b].to_string(),
        _ => panic!("pg_value({sql}): {msg}"),
    }
}

/// A deterministic generator (xorshift64*), seeded per test.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in 0..n.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// Drops a server role when the test ends, also on failure.
pub struct RoleGuard(pub String);

impl Drop for RoleGuard {
    fn drop(&mut self) {
        let _ = exec(
            &support::pg_admin_url(),
            &format!("DROP ROLE IF EXISTS \"{}\"", self.0),
        );
    }
}

/// `url` with its database replaced and a user (no password: the test server trusts).
pub fn url_as(url: &str, user: &str, database: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL");
    let host = rest.rsplit_once('@').map(|(_, h)| h).unwrap_or(rest);
    let host = host.split(['/', '?']).next().unwrap_or(host);
    format!("{scheme}://{user}@{host}/{database}")
}

/// `url` with `application_name` set, so that a test's own sessions can be told apart.
pub fn with_app(url: &str, app: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}application_name={app}")
}

/// A session that stays open (for holding locks) until dropped.
pub struct Session {
    rt: tokio::runtime::Runtime,
    db: Option<Db>,
}

impl Session {
    pub fn open(url: &str) -> Session {
        let rt = support::rt();
        let db = rt
            .block_on(Db::connect(&DbUrl::parse(url).unwrap(), false))
            .unwrap_or_else(|e| panic!("{e}"));
        Session { rt, db: Some(db) }
    }

    pub fn exec(&mut self, sql: &str) {
        let db = self.db.as_mut().expect("open");
        self.rt
            .block_on(db.execute_script(sql))
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    pub fn close(&mut self) {
        if let Some(db) = self.db.take() {
            self.rt.block_on(db.close());
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.close();
    }
}
