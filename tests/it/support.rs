//! Test support: real servers, uniquely named scratch databases, and skip rules.
//!
//! A suite whose server is unreachable prints why it skipped and passes, unless
//! `LOCKSTEP_REQUIRE_SERVICES=1` (CI), where it fails.

#![allow(dead_code)]

use lockstep_db::{Db, DbUrl};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

pub fn require_services() -> bool {
    std::env::var("LOCKSTEP_REQUIRE_SERVICES").is_ok_and(|v| v == "1")
}

pub fn pg_admin_url() -> String {
    std::env::var("LOCKSTEP_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

pub fn corpus_dir() -> PathBuf {
    PathBuf::from(std::env::var("LOCKSTEP_CORPUS").unwrap_or_else(|_| "/tmp/corpus".into()))
}

/// Prints why a test is skipped, or fails it when services are required.
pub fn skip(msg: &str) {
    if require_services() {
        panic!("LOCKSTEP_REQUIRE_SERVICES=1 but {msg}");
    }
    eprintln!("SKIPPED: {msg}");
}

/// The corpus path, or None after printing why the test is skipped.
pub fn corpus(rel: &str) -> Option<PathBuf> {
    let p = corpus_dir().join(rel);
    if p.exists() {
        return Some(p);
    }
    skip(&format!(
        "corpus file {} is missing; run ../shared/corpus/get.sh",
        p.display()
    ));
    None
}

pub fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

pub fn unique_name(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_micros();
    format!(
        "{prefix}_{}_{}_{}",
        std::process::id(),
        t % 1_000_000_000,
        n
    )
}

/// A uniquely named database for one test on the server at `admin` (`quote` is the
/// engine's identifier quote): its name and URL, or None after printing why the `suite`
/// is skipped.
pub fn create_database(
    admin: &str,
    prefix: &str,
    quote: char,
    suite: &str,
) -> Option<(String, String)> {
    let name = unique_name(&format!("ls_{prefix}"));
    let created = crate::harness::exec(admin, &format!("CREATE DATABASE {quote}{name}{quote}"));
    if let Err(e) = created {
        skip(&format!(
            "{suite} suite: server unavailable at {}: {e}",
            lockstep_db::url::redact(admin)
        ));
        return None;
    }
    let url = DbUrl::parse(admin).unwrap().with_database(&name);
    Some((name, url.raw().to_string()))
}

/// A PostgreSQL database created for one test and dropped when it goes out of scope.
pub struct TestPg {
    pub name: String,
    pub url: String,
    admin: String,
}

impl TestPg {
    /// Creates a fresh database, or returns None (after printing why) when the server is
    /// unreachable and services are not required.
    pub fn new(prefix: &str) -> Option<TestPg> {
        let admin = pg_admin_url();
        let (name, url) = create_database(&admin, prefix, '"', "PostgreSQL")?;
        Some(TestPg { name, url, admin })
    }

    pub fn exec(&self, sql: &str) {
        TestPg::exec_url(&self.url, sql)
    }

    /// Runs `sql` on another URL of a test database (another role, an application name).
    pub fn exec_url(url: &str, sql: &str) {
        crate::harness::exec(url, sql).unwrap_or_else(|e| panic!("{e}"));
    }

    pub fn try_exec(&self, sql: &str) -> Result<(), lockstep_db::DbError> {
        crate::harness::exec(&self.url, sql)
    }

    pub fn inspect(&self) -> lockstep_core::model::Database {
        inspect(&self.url)
    }
}

impl Drop for TestPg {
    fn drop(&mut self) {
        let drop = format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name);
        let _ = crate::harness::exec(&self.admin, &drop);
    }
}

/// The model of the database at `url`, as lockstep inspects it.
pub fn inspect(url: &str) -> lockstep_core::model::Database {
    let u = DbUrl::parse(url).unwrap();
    rt().block_on(lockstep_db::inspect_url(&u))
        .unwrap_or_else(|e| panic!("inspect {url}: {e}"))
}

// One copy of the read-back through an exception serves this module's callers too.
pub use crate::harness::pg_value;

/// A SQLite file in a temporary directory.
pub struct TestSqlite {
    pub dir: tempfile::TempDir,
    pub path: PathBuf,
    pub url: String,
}

impl TestSqlite {
    pub fn new() -> TestSqlite {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("test.db");
        let url = format!("sqlite://{}", path.display());
        TestSqlite { dir, path, url }
    }

    pub fn exec(&self, sql: &str) {
        let u = DbUrl::parse(&self.url).unwrap();
        rt().block_on(async {
            let mut db = Db::connect(&u, true).await.unwrap();
            db.execute_script(sql)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            db.close().await;
        });
    }

    pub fn inspect(&self) -> lockstep_core::model::Database {
        inspect(&self.url)
    }
}

/// Runs git in `dir` (with a throwaway identity for commits); panics when it fails.
pub fn git(dir: &Path, args: &[&str]) {
    let o = std::process::Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git");
    assert!(o.status.success(), "git {args:?}: {o:?}");
}

/// Whether git is installed; prints why a test skips when it is not.
pub fn has_git() -> bool {
    let ok = std::process::Command::new("git")
        .arg("--version")
        .output()
        .is_ok();
    if !ok {
        eprintln!("SKIPPED: git is not installed");
    }
    ok
}

/// What a guarded run of `lockstep ARGS` printed; fails the test when the guard had to
/// kill it after `limit`.
#[track_caller]
pub fn finished(
    r: crate::harness::Run,
    args: &[&str],
    limit: std::time::Duration,
) -> std::process::Output {
    assert!(
        !r.killed_by_guard,
        "`lockstep {}` did not finish within {limit:?}\n{}",
        args.join(" "),
        r.text()
    );
    r.out
}

/// `pg_dump --schema-only` of a database as sorted lines, comments and blank lines
/// left out: two databases with the same schema print the same lines, whatever order
/// their objects were created in. None (after printing why) without pg_dump.
pub fn pg_dump_lines(url: &str) -> Option<Vec<String>> {
    let out = match std::process::Command::new("pg_dump")
        .args(["--schema-only", "--no-comments", "-d", url])
        .output()
    {
        Ok(o) => o,
        Err(e) => {
            if require_services() {
                panic!("LOCKSTEP_REQUIRE_SERVICES=1 but pg_dump cannot run: {e}");
            }
            eprintln!("SKIPPED: pg_dump cannot run: {e}");
            return None;
        }
    };
    assert!(
        out.status.success(),
        "pg_dump failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        // `\restrict` and `\unrestrict` carry a random key per dump.
        .filter(|l| {
            !l.trim().is_empty()
                && !l.starts_with("--")
                && !l.starts_with("\\restrict")
                && !l.starts_with("\\unrestrict")
        })
        .map(str::to_string)
        .collect();
    lines.sort();
    Some(lines)
}

/// The lines only one of two sorted dumps has, `-` for the first and `+` for the
/// second, as `diff` would show them; empty when they are the same.
pub fn dump_difference(a: &[String], b: &[String]) -> Vec<String> {
    let (sa, sb): (
        std::collections::BTreeMap<&String, usize>,
        std::collections::BTreeMap<&String, usize>,
    ) = (
        a.iter().fold(Default::default(), |mut m, l| {
            *m.entry(l).or_default() += 1;
            m
        }),
        b.iter().fold(Default::default(), |mut m, l| {
            *m.entry(l).or_default() += 1;
            m
        }),
    );
    let mut out = vec![];
    for (l, n) in &sa {
        for _ in *sb.get(l).unwrap_or(&0)..*n {
            out.push(format!("- {l}"));
        }
    }
    for (l, n) in &sb {
        for _ in *sa.get(l).unwrap_or(&0)..*n {
            out.push(format!("+ {l}"));
        }
    }
    out
}
