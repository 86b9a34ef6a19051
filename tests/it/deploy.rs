//! Acceptance tests for migrations, deploy and rollback (issue 3), written against the
//! command-line contract (PRODUCT.md "Interface contract", docs/migrations.md).
//!
//! - Lemmy's 233 diesel migrations: deploy, status, schema equal to the files applied
//!   one by one, and a rollback that breaks partway and leaves the database as it was.
//! - Crash safety: `deploy` killed with SIGKILL at seeded random moments, on
//!   PostgreSQL (transactional and no-transaction files) and SQLite.
//! - Concurrency: 8 deploys at once against one database.
//! - Bad input: a syntax error in migration 5 of 10, an edited applied migration, a
//!   CRLF-only change, a wrong URL, a missing privilege.
//! - Dry run, rollback of the native layout, `lockstep new`.
//!
//! Every PostgreSQL test skips (prints why and passes) when the server is missing, and
//! the Lemmy test when the corpus is missing, unless `LOCKSTEP_REQUIRE_SERVICES=1`.
//!
//! The test crate has no SQL client of its own, so values are read back from PostgreSQL
//! with `RAISE EXCEPTION` (see `pg_value`) and conditions are checked on SQLite with a
//! deliberate integer overflow (see `sqlite_true`).

use crate::harness::{block, text, Project};
use crate::support::{self, inspect, pg_value, TestPg, TestSqlite};
use lockstep_core::diff::{diff, Change};
use lockstep_core::model::Database;
use lockstep_db::{Db, DbError, DbUrl};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Output};
use std::time::{Duration, Instant};

// ------------------------------------------------------------------------ running lockstep

fn code(o: &Output) -> Option<i32> {
    o.status.code()
}

#[track_caller]
fn expect_code(o: &Output, want: i32, what: &str) {
    if code(o) != Some(want) {
        panic!(
            "{what}: expected exit {want}, got {:?}\n--- output ---\n{}",
            code(o),
            text(o)
        );
    }
}

/// Digits of a version (the contract's normal form).
fn digits(v: &str) -> String {
    v.chars().filter(|c| c.is_ascii_digit()).collect()
}

fn json_versions(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("expected an array of versions, got {v}"))
        .iter()
        .map(|x| match x {
            Value::String(s) => digits(s),
            Value::Number(n) => n.to_string(),
            Value::Object(o) => digits(
                o.get("version")
                    .map(|v| v.as_str().map(str::to_string).unwrap_or(v.to_string()))
                    .unwrap_or_default()
                    .as_str(),
            ),
            other => panic!("unexpected version entry {other}"),
        })
        .collect()
}

/// `lockstep status --env E --format json`: (exit code, the environment's object).
fn status(p: &Project, env: &str) -> (Option<i32>, Value, String) {
    let o = p.run_timeout(
        &["status", "--env", env, "--format", "json"],
        Duration::from_secs(60),
    );
    let out = String::from_utf8_lossy(&o.stdout);
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| {
        panic!(
            "status --format json did not print one JSON object ({e}):\n{}",
            text(&o)
        )
    });
    let envs = v["environments"]
        .as_array()
        .unwrap_or_else(|| panic!("status JSON has no environments array: {out}"));
    let e = envs
        .iter()
        .find(|e| e["env"] == env)
        .unwrap_or_else(|| panic!("status JSON has no environment {env}: {out}"))
        .clone();
    (code(&o), e, text(&o))
}

// ------------------------------------------------------------------------ reading databases

/// Like `pg_value`, or None when `table` does not exist.
fn pg_value_if(url: &str, table: &str, sql: &str) -> Option<String> {
    let exists = pg_value(
        url,
        &format!("SELECT (to_regclass('{table}') IS NOT NULL)::text"),
    );
    (exists == "true").then(|| pg_value(url, sql))
}

/// Versions whose newest history row says applied, ascending, comma-separated.
fn pg_applied(url: &str) -> Vec<String> {
    let v = pg_value_if(
        url,
        "lockstep.history",
        "SELECT coalesce(string_agg(v, ',' ORDER BY v), '') FROM ( \
           SELECT DISTINCT ON (version) version::text AS v, direction, outcome \
           FROM lockstep.history ORDER BY version, id DESC) s \
         WHERE (direction = 'up' AND outcome = 'applied') \
            OR (direction = 'adopt' AND outcome = 'adopted')",
    )
    .unwrap_or_default();
    v.split(',').filter(|s| !s.is_empty()).map(digits).collect()
}

/// Waits until no other session is connected to the database: a killed client's
/// server process finishes its statement before it notices, so this is when the
/// database's state after the kill is settled.
fn pg_wait_idle(url: &str) {
    let start = Instant::now();
    loop {
        let n = pg_value(
            url,
            "SELECT count(*)::text FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        );
        if n == "0" {
            return;
        }
        if start.elapsed() > Duration::from_secs(60) {
            panic!("sessions of a killed deploy still connected after 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Evaluates a condition on SQLite: true, false, or a panic when the SQL is wrong.
fn sqlite_true(url: &str, cond: &str) -> bool {
    let sql = format!("SELECT CASE WHEN ({cond}) THEN 1 ELSE abs(-9223372036854775808) END");
    let u = DbUrl::parse(url).unwrap();
    let r = block(async {
        let mut db = Db::connect(&u, false).await?;
        let r = db.execute_script(&sql).await;
        db.close().await;
        r
    });
    match r {
        Ok(()) => true,
        Err(DbError::Query { message, .. }) if message.contains("overflow") => false,
        Err(e) => panic!("sqlite_true({cond}): {e}"),
    }
}

fn sqlite_has_table(url: &str, t: &str) -> bool {
    sqlite_true(
        url,
        &format!("(SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '{t}') = 1"),
    )
}

/// The number of leading `versions` that SQLite's history says are applied (and no
/// others), or a panic naming what the history holds instead.
fn sqlite_applied_prefix(url: &str, versions: &[String]) -> usize {
    if !sqlite_has_table(url, "lockstep_history") {
        return 0;
    }
    let applied = "(SELECT group_concat(v, ',') FROM (SELECT CAST(h.version AS TEXT) AS v \
         FROM lockstep_history h \
         WHERE h.id = (SELECT max(h2.id) FROM lockstep_history h2 WHERE h2.version = h.version) \
           AND ((h.direction = 'up' AND h.outcome = 'applied') \
             OR (h.direction = 'adopt' AND h.outcome = 'adopted')) \
         ORDER BY CAST(h.version AS TEXT)))";
    for k in 0..=versions.len() {
        let cond = if k == 0 {
            format!("{applied} IS NULL")
        } else {
            format!("{applied} = '{}'", versions[..k].join(","))
        };
        if sqlite_true(url, &cond) {
            return k;
        }
    }
    panic!("SQLite history's applied versions are not a prefix of {versions:?}");
}

fn describe(changes: &[Change]) -> String {
    let mut out: Vec<String> = changes
        .iter()
        .take(20)
        .map(|c| format!("    {}", c.describe()))
        .collect();
    if changes.len() > 20 {
        out.push(format!("    ... and {} more", changes.len() - 20));
    }
    out.join("\n")
}

fn same(a: &Database, b: &Database) -> bool {
    diff(a, b).is_empty()
}

#[track_caller]
/// Roles are the cluster's, not the database's: tests running at the same time create,
/// grant and drop them, so comparing them here would compare other tests' state.
fn assert_same(a: &Database, b: &Database, what: &str) {
    let (mut a, mut b) = (a.clone(), b.clone());
    a.roles.clear();
    b.roles.clear();
    let d = diff(&a, &b);
    if !d.is_empty() {
        panic!("{what}: schemas differ:\n{}", describe(&d));
    }
}

/// `lockstep inspect URL --format json` without the server facts (roles created by
/// tests running at the same time would change them).
fn inspect_json(p: &Project, url: &str) -> Value {
    let o = p.run(&["inspect", url, "--format", "json"]);
    expect_code(&o, 0, "inspect --format json");
    let mut v: Value = serde_json::from_slice(&o.stdout).expect("inspect JSON");
    if let Some(m) = v.as_object_mut() {
        m.remove("env");
    }
    v
}

fn run_script(url: &str, sql: &str) -> Result<(), DbError> {
    let u = DbUrl::parse(url).unwrap();
    block(async {
        let mut db = Db::connect(&u, true).await?;
        let r = db.execute_script(sql).await;
        db.close().await;
        r
    })
}

/// A deterministic generator (xorshift64*), seeded per test.
use crate::harness::Rng;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Drops a role when the test ends, also on failure.
struct RoleGuard {
    name: String,
}

impl Drop for RoleGuard {
    fn drop(&mut self) {
        let _ = run_script(
            &support::pg_admin_url(),
            &format!("DROP ROLE IF EXISTS \"{}\"", self.name),
        );
    }
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

// ------------------------------------------------------------------------ Lemmy

/// Lemmy's migration directories in order.
use crate::corpus_pg::lemmy_dirs;

/// Where Lemmy's down files break when all of them run in one transaction, newest
/// first, on a database built by the up files: (directory, line, server message).
/// Found independently of lockstep, and undone (ROLLBACK) afterwards.
fn lemmy_first_failing_down(
    url: &str,
    mig: &Path,
    dirs: &[String],
) -> Option<(String, usize, String)> {
    let u = DbUrl::parse(url).unwrap();
    block(async {
        let mut db = Db::connect(&u, false).await.unwrap();
        db.execute_script("BEGIN").await.unwrap();
        let mut found = None;
        'outer: for d in dirs.iter().rev() {
            if digits(d).chars().all(|c| c == '0') {
                continue;
            }
            let text = std::fs::read_to_string(mig.join(d).join("down.sql")).unwrap();
            for s in lockstep_core::sql::split::split(&text).statements {
                if let Err(e) = db.execute_script(&s.sql).await {
                    let message = match e {
                        DbError::Query { message, .. } => message,
                        other => other.to_string(),
                    };
                    found = Some((d.clone(), s.line, message));
                    break 'outer;
                }
            }
        }
        let _ = db.execute_script("ROLLBACK").await;
        db.close().await;
        found
    })
}

#[test]
fn deploy_lemmy_then_rollback_fails_and_changes_nothing() {
    let Some(src) = support::corpus("lemmy-0.19.21/migrations") else {
        return;
    };
    let Some(target) = TestPg::new("deploy_lemmy") else {
        return;
    };
    let Some(reference) = TestPg::new("deploy_lemmy_ref") else {
        return;
    };
    let dirs = lemmy_dirs(&src);
    assert_eq!(dirs.len(), 233, "Lemmy migrations in the corpus");
    let p = Project::with_layout("diesel", &[("dev", &target.url)]);
    std::fs::remove_dir(p.migrations()).unwrap();
    copy_dir(&src, &p.migrations());
    let versions: Vec<String> = dirs
        .iter()
        .map(|d| digits(&d[..d.find('_').unwrap()]))
        .collect();

    // A dry run changes nothing: same schema, no history rows.
    let before = inspect_json(&p, &target.url);
    let o = p.run(&["deploy", "--env", "dev", "--dry-run"]);
    expect_code(&o, 0, "deploy --dry-run");
    assert!(
        text(&o).contains("create_user"),
        "dry run lists what would run:\n{}",
        text(&o)
    );
    assert_eq!(
        inspect_json(&p, &target.url),
        before,
        "dry run changed the schema"
    );
    let rows = pg_value_if(
        &target.url,
        "lockstep.history",
        "SELECT count(*)::text FROM lockstep.history",
    );
    assert!(
        rows.is_none() || rows.as_deref() == Some("0"),
        "dry run wrote history: {rows:?}"
    );

    // Deploy everything.
    let sum = p.migrations().join("lockstep.sum");
    let sum_existed = sum.exists();
    let t = Instant::now();
    let o = p.run(&["deploy", "--env", "dev"]);
    let took = t.elapsed();
    expect_code(&o, 0, "deploy of Lemmy's 233 migrations");
    eprintln!("Lemmy: deploy of 233 migrations took {took:.2?}");
    assert!(sum.exists(), "deploy writes lockstep.sum when missing");
    assert!(
        sum_existed
            || (text(&o).contains("lockstep.sum") && text(&o).to_lowercase().contains("commit")),
        "deploy tells you to commit lockstep.sum:\n{}",
        text(&o)
    );
    let sum_lines = std::fs::read_to_string(&sum)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .count();
    assert_eq!(sum_lines, 233, "one lockstep.sum line per migration");

    let (c, e, out) = status(&p, "dev");
    assert_eq!(c, Some(0), "status after deploy:\n{out}");
    assert_eq!(json_versions(&e["applied"]), versions, "status: applied");
    assert!(
        json_versions(&e["pending"]).is_empty(),
        "status: pending\n{out}"
    );
    assert!(
        e["problems"].as_array().is_some_and(|a| a.is_empty()),
        "status: problems\n{out}"
    );
    let current = e["current"]
        .as_str()
        .map(str::to_string)
        .unwrap_or(e["current"].to_string());
    assert_eq!(digits(&current), versions[232], "status: current\n{out}");
    // Every migration applied exactly once.
    let dup = pg_value(
        &target.url,
        "SELECT count(*)::text FROM (SELECT version FROM lockstep.history \
         WHERE direction = 'up' AND outcome = 'applied' GROUP BY version HAVING count(*) <> 1) s",
    );
    assert_eq!(dup, "0", "versions with other than one up/applied row");
    let n = pg_value(
        &target.url,
        "SELECT count(DISTINCT version)::text FROM lockstep.history WHERE direction = 'up' AND outcome = 'applied'",
    );
    assert_eq!(n, "233");

    // The same files applied one by one, each in its own transaction.
    let t = Instant::now();
    for d in &dirs {
        let sql = std::fs::read_to_string(src.join(d).join("up.sql")).unwrap();
        if let Err(e) = reference.try_exec(&sql) {
            panic!("reference: {d}/up.sql failed: {e}");
        }
    }
    eprintln!(
        "Lemmy: the same files one by one through the driver: {:.2?}",
        t.elapsed()
    );
    let o = p.run(&["diff", &target.url, &reference.url]);
    expect_code(&o, 0, "lockstep diff deployed vs applied-by-hand");

    // Rollback to the diesel setup migration: the downs break partway.
    let (fail_dir, fail_line, fail_msg) = lemmy_first_failing_down(&reference.url, &src, &dirs)
        .expect("Lemmy's down files are expected to break partway");
    eprintln!("Lemmy: the downs break at {fail_dir}/down.sql:{fail_line}: {fail_msg}");
    let json_before = inspect_json(&p, &target.url);
    let model_before = inspect(&target.url);
    let o = p.run(&[
        "rollback",
        "--env",
        "dev",
        "--to",
        "00000000000000",
        "--yes",
    ]);
    let out = text(&o);
    expect_code(&o, 1, "rollback through Lemmy's broken downs");
    assert!(
        out.contains(&fail_dir),
        "the failure names the migration {fail_dir}:\n{out}"
    );
    assert!(
        out.contains("down.sql"),
        "the failure names the down file:\n{out}"
    );
    assert!(
        out.contains(&format!("down.sql:{fail_line}")),
        "the failure names the line (down.sql:{fail_line}):\n{out}"
    );
    assert!(
        out.contains(&fail_msg),
        "the failure carries the server's message ({fail_msg}):\n{out}"
    );

    // Exactly as before: same model, same JSON, and still equal to the reference.
    assert_same(
        &model_before,
        &inspect(&target.url),
        "rollback left changes behind",
    );
    assert_eq!(
        inspect_json(&p, &target.url),
        json_before,
        "inspect JSON before/after rollback"
    );
    let o = p.run(&["diff", &target.url, &reference.url]);
    expect_code(&o, 0, "lockstep diff after the failed rollback");
    let (_, e, out) = status(&p, "dev");
    assert_eq!(
        json_versions(&e["applied"]),
        versions,
        "status after the failed rollback:\n{out}"
    );
}

// ------------------------------------------------------------------------ crash safety

/// One migration of the crash-test directory.
struct Mig {
    version: String,
    name: &'static str,
    no_tx: bool,
    body: String,
}

impl Mig {
    fn file_text(&self) -> String {
        if self.no_tx {
            format!(
                "-- {}\n-- lockstep:no-transaction\n{}",
                self.name, self.body
            )
        } else {
            format!("-- {}\n{}", self.name, self.body)
        }
    }

    /// One statement per non-comment line (the files are written that way).
    fn statements(&self) -> Vec<String> {
        self.body
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with("--"))
            .map(str::to_string)
            .collect()
    }
}

fn pg_crash_migrations() -> Vec<Mig> {
    let v = |n: u32| format!("2024010100000{n}");
    vec![
        Mig {
            version: v(1),
            name: "items",
            no_tx: false,
            body: "CREATE TABLE items (id bigint PRIMARY KEY, a int NOT NULL, b text NOT NULL, c int);\n\
                   INSERT INTO items SELECT g, g % 1000, md5(g::text), g % 7 FROM generate_series(1, 30000) g;\n"
                .into(),
        },
        Mig {
            version: v(2),
            name: "tags",
            no_tx: false,
            body: "ALTER TABLE items ADD COLUMN d int;\n\
                   SELECT pg_sleep(0.05);\n\
                   CREATE TABLE tags (id int PRIMARY KEY, label text);\n\
                   SELECT pg_sleep(0.05);\n"
                .into(),
        },
        Mig {
            version: v(3),
            name: "concurrent_indexes",
            no_tx: true,
            body: "CREATE INDEX CONCURRENTLY items_a ON items (a);\n\
                   SELECT pg_sleep(0.05);\n\
                   CREATE INDEX CONCURRENTLY items_b ON items (b);\n\
                   SELECT pg_sleep(0.05);\n\
                   CREATE INDEX CONCURRENTLY items_c ON items (c);\n\
                   ALTER TABLE tags ADD COLUMN note text;\n"
                .into(),
        },
        Mig {
            version: v(4),
            name: "view_and_function",
            no_tx: false,
            body: "CREATE VIEW big_items AS SELECT id, a FROM items WHERE a > 900;\n\
                   SELECT pg_sleep(0.05);\n\
                   CREATE FUNCTION item_count() RETURNS bigint LANGUAGE sql AS 'SELECT count(*) FROM items';\n"
                .into(),
        },
        Mig {
            version: v(5),
            name: "more_concurrent",
            no_tx: true,
            body: "CREATE INDEX CONCURRENTLY items_ab ON items (a, b);\n\
                   SELECT pg_sleep(0.05);\n\
                   CREATE INDEX CONCURRENTLY items_lower_b ON items (lower(b));\n\
                   SELECT pg_sleep(0.05);\n\
                   CREATE UNIQUE INDEX CONCURRENTLY tags_label ON tags (label);\n"
                .into(),
        },
        Mig {
            version: v(6),
            name: "audit",
            no_tx: false,
            body: "CREATE TABLE audit (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now(), what text);\n\
                   SELECT pg_sleep(0.05);\n\
                   CREATE INDEX audit_at ON audit (at);\n"
                .into(),
        },
    ]
}

/// The schema after each checkpoint: `states[k][j]` is the state with the first `k`
/// migrations applied and the first `j` statements of migration `k + 1` done (only
/// no-transaction migrations have j > 0). `states[len][0]` is the full deploy.
struct States {
    states: Vec<Vec<Database>>,
}

impl States {
    fn at(&self, k: usize, j: usize) -> &Database {
        if j < self.states[k].len() {
            &self.states[k][j]
        } else {
            &self.states[k + 1][0]
        }
    }
    fn full(&self) -> &Database {
        &self.states[self.states.len() - 1][0]
    }
}

fn build_states(migs: &[Mig], exec: impl Fn(&str), inspect_now: impl Fn() -> Database) -> States {
    let mut states = Vec::new();
    for m in migs {
        let mut row = vec![inspect_now()];
        if m.no_tx {
            let stmts = m.statements();
            for (i, s) in stmts.iter().enumerate() {
                exec(s);
                if i + 1 < stmts.len() {
                    row.push(inspect_now());
                }
            }
        } else {
            exec(&m.body);
        }
        states.push(row);
    }
    states.push(vec![inspect_now()]);
    States { states }
}

/// One kill's outcome, for the summary.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Point {
    /// The deploy finished before the kill.
    Finished,
    /// k migrations applied, j statements of the next one done, and whether one
    /// statement was in doubt.
    At { k: usize, j: usize, doubt: bool },
}

impl Point {
    /// The outcome of a trial that ended with `k` migrations applied, `j` statements of the
    /// next done, and `doubt` (whether one statement was in doubt).
    fn of(finished: bool, k: usize, j: usize, doubt: bool) -> Point {
        if finished {
            Point::Finished
        } else {
            Point::At { k, j, doubt }
        }
    }
}

fn print_outcomes(outcomes: &BTreeMap<Point, usize>) {
    for (p, n) in outcomes {
        eprintln!("    {n:3} × {p:?}");
    }
}

/// A project holding the crash-test directory, with one environment `dev` at `url`.
fn crash_project(migs: &[Mig], url: &str) -> Project {
    let p = Project::new(&[("dev", url)]);
    for m in migs {
        p.native(&m.version, m.name, &m.file_text(), None);
    }
    p
}

/// How long one uninterrupted deploy of `p` takes; the schema it leaves (read by `live`)
/// must be the reference's.
fn time_full_deploy(
    p: &Project,
    states: &States,
    live: impl Fn() -> Database,
    engine: &str,
) -> Duration {
    let t = Instant::now();
    let o = p.run(&["deploy", "--env", "dev"]);
    let took = t.elapsed();
    expect_code(&o, 0, &format!("uninterrupted {engine} deploy"));
    assert_same(
        states.full(),
        &live(),
        &format!("uninterrupted {engine} deploy vs reference"),
    );
    took
}

/// Starts `deploy --env dev` in `p` and kills it after `delay` ms unless it has finished
/// by then, in which case it must have succeeded. Returns whether it finished.
fn deploy_killed_after(p: &Project, delay: u64, ctx: &str) -> bool {
    let mut child = p.spawn(&["deploy", "--env", "dev"]);
    std::thread::sleep(Duration::from_millis(delay));
    let finished = child.try_wait().unwrap().is_some();
    if !finished {
        child.kill().unwrap();
    }
    let o = child.wait_with_output().unwrap();
    if finished {
        expect_code(&o, 0, &format!("{ctx}: deploy finished before the kill"));
    }
    finished
}

/// The deploy after a kill (with `extra` arguments), guarded for a minute.
fn redeploy(p: &Project, extra: &[&str]) -> Output {
    let args = [&["deploy", "--env", "dev"][..], extra].concat();
    p.run_timeout(&args, Duration::from_secs(60))
}

#[test]
fn crash_safety_sigkill_postgres() {
    let Some(refdb) = TestPg::new("crash_ref") else {
        return;
    };
    let migs = pg_crash_migrations();
    let versions: Vec<String> = migs.iter().map(|m| m.version.clone()).collect();
    let states = build_states(&migs, |s| refdb.exec(s), || refdb.inspect());
    drop(refdb);

    let trials = env_usize("LOCKSTEP_CRASH_TRIALS", 50);
    let seed = env_usize("LOCKSTEP_CRASH_SEED", 20240101) as u64;
    let mut rng = Rng::new(seed);
    let started = Instant::now();

    // Calibrate: how long one uninterrupted deploy takes here.
    let full_time = {
        let db = TestPg::new("crash_cal").unwrap();
        let p = crash_project(&migs, &db.url);
        time_full_deploy(&p, &states, || db.inspect(), "PostgreSQL")
    };
    let window = (full_time.as_millis() as u64 * 11 / 10).max(50);
    eprintln!("crash (PostgreSQL): one deploy takes {full_time:.2?}; kills uniform in 0..{window} ms, seed {seed}");

    let mut outcomes: BTreeMap<Point, usize> = BTreeMap::new();
    let mut stopped_on_doubt = 0;
    let mut resolved = BTreeMap::<&str, usize>::new();
    for trial in 0..trials {
        let delay = rng.below(window);
        let db = TestPg::new("crash").unwrap();
        let p = crash_project(&migs, &db.url);
        let ctx = format!("trial {trial} (kill after {delay} ms, seed {seed})");

        let finished = deploy_killed_after(&p, delay, &ctx);
        pg_wait_idle(&db.url);

        // What the history and the checkpoints say.
        let applied = pg_applied(&db.url);
        let k = applied.len();
        assert_eq!(
            applied,
            versions[..k],
            "{ctx}: applied versions are not a prefix"
        );
        let (mut j, mut doubt_stmt) = (0usize, None::<String>);
        if k < migs.len() {
            let v = &versions[k];
            if let Some(s) = pg_value_if(
                &db.url,
                "lockstep.progress",
                &format!(
                    "SELECT count(*) FILTER (WHERE state = 'done') || ',' || \
                     count(*) FILTER (WHERE state = 'started') || ',' || \
                     coalesce(max(statement) FILTER (WHERE state = 'started'), '') \
                     FROM lockstep.progress WHERE version::text = '{v}'"
                ),
            ) {
                let mut parts = s.splitn(3, ',');
                j = parts.next().unwrap().parse().unwrap();
                let started: usize = parts.next().unwrap().parse().unwrap();
                assert!(
                    started <= 1,
                    "{ctx}: {started} statements in doubt (at most one)"
                );
                if started == 1 {
                    doubt_stmt = Some(parts.next().unwrap_or("").to_string());
                }
                assert!(
                    migs[k].no_tx || (j == 0 && started == 0),
                    "{ctx}: progress rows for transactional migration {v}"
                );
            }
        }
        let live = db.inspect();
        let without = states.at(k, j);
        let matches_without = same(&live, without);
        let matches_with = doubt_stmt.is_some() && same(&live, states.at(k, j + 1));
        if !matches_without && !matches_with {
            let mut msg = format!(
                "{ctx}: the schema matches neither the state before the deploy nor the state its \
                 history/progress describes ({k} applied, {j} statements of the next done, in doubt: {doubt_stmt:?})\n\
                 against the recorded state:\n{}",
                describe(&diff(without, &live))
            );
            if doubt_stmt.is_some() {
                msg.push_str(&format!(
                    "\nagainst the recorded state plus the statement in doubt:\n{}",
                    describe(&diff(states.at(k, j + 1), &live))
                ));
            }
            panic!("{msg}");
        }
        *outcomes
            .entry(Point::of(finished, k, j, doubt_stmt.is_some()))
            .or_default() += 1;

        // The statement in doubt is reported.
        let (sc, _, sout) = status(&p, "dev");
        if let Some(stmt) = &doubt_stmt {
            assert_eq!(
                sc,
                Some(1),
                "{ctx}: status with a statement in doubt exits 1:\n{sout}"
            );
            let head = code_head(stmt);
            assert!(
                sout.contains(&head),
                "{ctx}: status names the statement in doubt ({head}):\n{sout}"
            );
        } else {
            assert_eq!(sc, Some(0), "{ctx}: status after the kill:\n{sout}");
        }

        // The lock is free and the next deploy completes or stops on the doubt.
        let o = redeploy(&p, &[]);
        match code(&o) {
            Some(0) => {}
            Some(1) => {
                let Some(stmt) = &doubt_stmt else {
                    panic!(
                        "{ctx}: deploy after the kill failed without a statement in doubt:\n{}",
                        text(&o)
                    );
                };
                stopped_on_doubt += 1;
                let head = code_head(stmt);
                let out = text(&o);
                assert!(
                    out.contains(&head),
                    "{ctx}: the refusal names the statement in doubt ({head}):\n{out}"
                );
                assert!(
                    out.contains("--resolve"),
                    "{ctx}: the refusal says how to resolve:\n{out}"
                );
                let invalid = pg_value(
                    &db.url,
                    "SELECT count(*)::text FROM pg_index WHERE NOT indisvalid",
                );
                // When the statement changes no schema (pg_sleep), both answers are
                // right: alternate, so that both paths are exercised.
                let no_effect = same(states.at(k, j), states.at(k, j + 1));
                let how = if invalid != "0" {
                    "retry"
                } else if no_effect {
                    if trial % 2 == 0 {
                        "done"
                    } else {
                        "retry"
                    }
                } else if matches_with {
                    "done"
                } else {
                    "retry"
                };
                *resolved.entry(how).or_default() += 1;
                let o = redeploy(&p, &["--resolve", how]);
                expect_code(&o, 0, &format!("{ctx}: deploy --resolve {how}"));
                let o = redeploy(&p, &[]);
                expect_code(&o, 0, &format!("{ctx}: deploy after --resolve {how}"));
            }
            other => panic!(
                "{ctx}: deploy after the kill exited {other:?}:\n{}",
                text(&o)
            ),
        }

        // Fully deployed, recorded once each, nothing left in doubt.
        assert_same(
            states.full(),
            &db.inspect(),
            &format!("{ctx}: after recovery"),
        );
        let invalid = pg_value(
            &db.url,
            "SELECT count(*)::text FROM pg_index WHERE NOT indisvalid",
        );
        assert_eq!(invalid, "0", "{ctx}: invalid indexes left behind");
        assert_eq!(
            pg_applied(&db.url),
            versions,
            "{ctx}: applied after recovery"
        );
        let dup = pg_value(
            &db.url,
            "SELECT count(*)::text FROM (SELECT version FROM lockstep.history \
             WHERE direction = 'up' AND outcome = 'applied' GROUP BY version HAVING count(*) <> 1) s",
        );
        assert_eq!(
            dup, "0",
            "{ctx}: a version with more than one up/applied row"
        );
        let (sc, e, sout) = status(&p, "dev");
        assert_eq!(sc, Some(0), "{ctx}: status after recovery:\n{sout}");
        assert!(
            json_versions(&e["pending"]).is_empty(),
            "{ctx}: pending after recovery"
        );
    }

    eprintln!(
        "crash (PostgreSQL): {trials} trials in {:.1?}; {stopped_on_doubt} stopped on a statement in doubt, resolved {resolved:?}",
        started.elapsed()
    );
    print_outcomes(&outcomes);
    // The kills covered both kinds of file.
    let in_no_tx = outcomes
        .keys()
        .filter(|p| match p {
            Point::At { k, j, doubt } => *k < migs.len() && migs[*k].no_tx && (*j > 0 || *doubt),
            Point::Finished => false,
        })
        .count();
    let in_tx = outcomes
        .keys()
        .filter(
            |p| matches!(p, Point::At { k, .. } if *k > 0 && *k < migs.len() && !migs[*k].no_tx),
        )
        .count();
    assert!(
        in_no_tx > 0,
        "no kill landed inside a no-transaction migration: {outcomes:?}"
    );
    assert!(
        in_tx > 0,
        "no kill landed between transactional migrations: {outcomes:?}"
    );
}

fn sqlite_crash_migrations() -> Vec<Mig> {
    let v = |n: u32| format!("2024010100000{n}");
    let rows = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 60000)";
    vec![
        Mig {
            version: v(1),
            name: "items",
            no_tx: false,
            body: format!(
                "CREATE TABLE items (id INTEGER PRIMARY KEY, a INTEGER NOT NULL, b TEXT NOT NULL, c INTEGER);\n\
                 {rows} INSERT INTO items SELECT x, x % 1000, hex(randomblob(16)), x % 7 FROM c;\n"
            ),
        },
        Mig {
            version: v(2),
            name: "index_a",
            no_tx: false,
            body: "CREATE INDEX items_a ON items (a);\nCREATE TABLE tags (id INTEGER PRIMARY KEY, label TEXT);\n".into(),
        },
        Mig {
            version: v(3),
            name: "index_b",
            no_tx: false,
            body: format!("CREATE INDEX items_b ON items (b);\n{rows} SELECT count(*) FROM c;\n"),
        },
        Mig {
            version: v(4),
            name: "column",
            no_tx: false,
            body: "ALTER TABLE items ADD COLUMN d TEXT;\nUPDATE items SET d = b || 'x';\n".into(),
        },
        Mig {
            version: v(5),
            name: "index_ab",
            no_tx: false,
            body: "CREATE INDEX items_ab ON items (a, b);\nCREATE VIEW big_items AS SELECT id, a FROM items WHERE a > 900;\n".into(),
        },
        Mig {
            version: v(6),
            name: "audit",
            no_tx: false,
            body: format!("CREATE TABLE audit (id INTEGER PRIMARY KEY, what TEXT);\n{rows} SELECT count(*) FROM c;\n"),
        },
    ]
}

#[test]
fn crash_safety_sigkill_sqlite() {
    let migs = sqlite_crash_migrations();
    let versions: Vec<String> = migs.iter().map(|m| m.version.clone()).collect();
    let refdb = TestSqlite::new();
    refdb.exec("");
    let states = build_states(&migs, |s| refdb.exec(s), || refdb.inspect());

    let trials = env_usize("LOCKSTEP_CRASH_TRIALS_SQLITE", 25);
    let seed = env_usize("LOCKSTEP_CRASH_SEED", 20240101) as u64;
    let mut rng = Rng::new(seed ^ 0x5eed);
    let started = Instant::now();
    let full_time = {
        let p = crash_project(&migs, "sqlite://dev.db");
        let url = format!("sqlite://{}", p.path().join("dev.db").display());
        time_full_deploy(&p, &states, || inspect(&url), "SQLite")
    };
    let window = (full_time.as_millis() as u64 * 11 / 10).max(20);
    eprintln!("crash (SQLite): one deploy takes {full_time:.2?}; kills uniform in 0..{window} ms");

    let mut outcomes: BTreeMap<Point, usize> = BTreeMap::new();
    for trial in 0..trials {
        let mut delay = rng.below(window);
        let p = crash_project(&migs, "sqlite://dev.db");
        let url = format!("sqlite://{}", p.path().join("dev.db").display());
        // Odd trials start from a database with the first three migrations applied.
        let start_k = if trial % 2 == 1 { 3 } else { 0 };
        if start_k > 0 {
            let o = p.run(&["deploy", "--env", "dev", "--to", &versions[start_k - 1]]);
            expect_code(&o, 0, "deploy --to 3");
            delay /= 2; // half the work is left
        }
        let ctx = format!("SQLite trial {trial} (from {start_k} applied, kill after {delay} ms)");
        let finished = deploy_killed_after(&p, delay, &ctx);
        if !p.path().join("dev.db").exists() {
            *outcomes
                .entry(Point::At {
                    k: 0,
                    j: 0,
                    doubt: false,
                })
                .or_default() += 1;
        } else {
            // Opening the file rolls back a hot journal, as any next client would.
            let k = sqlite_applied_prefix(&url, &versions);
            assert!(
                k >= start_k,
                "{ctx}: history lost applied migrations ({k} applied)"
            );
            let live = inspect(&url);
            if !same(&live, states.at(k, 0)) {
                panic!(
                    "{ctx}: history says {k} applied but the schema differs:\n{}",
                    describe(&diff(states.at(k, 0), &live))
                );
            }
            *outcomes
                .entry(Point::of(finished, k, 0, false))
                .or_default() += 1;
        }
        let o = redeploy(&p, &[]);
        expect_code(&o, 0, &format!("{ctx}: deploy after the kill"));
        assert_same(
            states.full(),
            &inspect(&url),
            &format!("{ctx}: after recovery"),
        );
        assert_eq!(
            sqlite_applied_prefix(&url, &versions),
            versions.len(),
            "{ctx}: history after recovery"
        );
        assert!(
            sqlite_true(
                &url,
                "(SELECT count(*) FROM (SELECT version FROM lockstep_history WHERE direction = 'up' \
                 AND outcome = 'applied' GROUP BY version HAVING count(*) <> 1)) = 0"
            ),
            "{ctx}: a version with more than one up/applied row"
        );
    }
    eprintln!(
        "crash (SQLite): {trials} trials in {:.1?}",
        started.elapsed()
    );
    print_outcomes(&outcomes);
    // SQLite runs the whole deploy in one transaction, so a kill leaves either the
    // starting state or (after COMMIT) everything; require kills from both starts.
    for k0 in [0, 3] {
        assert!(
            outcomes
                .keys()
                .any(|p| matches!(p, Point::At { k, .. } if *k == k0)),
            "no SQLite kill landed mid-deploy from {k0} applied: {outcomes:?}"
        );
    }
}

// ------------------------------------------------------------------------ concurrency

#[test]
fn eight_concurrent_deploys_apply_each_migration_once() {
    let Some(db) = TestPg::new("concurrent") else {
        return;
    };
    let Some(refdb) = TestPg::new("concurrent_ref") else {
        return;
    };
    let p = Project::new(&[("dev", &db.url)]);
    let mut versions = Vec::new();
    for i in 1..=7 {
        let v = format!("2024020100000{i}");
        let up = format!(
            "CREATE TABLE t{i} (id int PRIMARY KEY, v text);\nSELECT pg_sleep(0.1);\nINSERT INTO t{i} VALUES (1, 'x');\n"
        );
        p.native(
            &v,
            &format!("table_{i}"),
            &up,
            Some(&format!("DROP TABLE t{i};\n")),
        );
        refdb.exec(&up);
        versions.push(v);
    }
    // lockstep.sum is written by the first deploy: apply migration 1 alone so that the
    // eight deploys do not race on writing the file (not what this test is about).
    let o = p.run(&["deploy", "--env", "dev", "--to", &versions[0]]);
    expect_code(&o, 0, "deploy --to 1");

    let children: Vec<Child> = (0..8)
        .map(|_| p.spawn(&["deploy", "--env", "dev"]))
        .collect();
    let start = Instant::now();
    let mut results = Vec::new();
    for mut c in children {
        loop {
            if c.try_wait().unwrap().is_some() {
                break;
            }
            if start.elapsed() > Duration::from_secs(120) {
                let _ = c.kill();
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        results.push(c.wait_with_output().unwrap());
    }
    let took = start.elapsed();
    let mut summary = BTreeMap::<String, usize>::new();
    for (i, o) in results.iter().enumerate() {
        let out = text(o);
        match code(o) {
            Some(0) => *summary.entry("exit 0".into()).or_default() += 1,
            Some(c) => {
                assert!(
                    out.to_lowercase().contains("lock"),
                    "deploy #{i} exited {c} without mentioning the lock:\n{out}"
                );
                *summary.entry(format!("exit {c} (lock)")).or_default() += 1;
            }
            None => panic!("deploy #{i} was killed after 120 s (hung):\n{out}"),
        }
    }
    eprintln!("concurrency: 8 deploys in {took:.2?}: {summary:?}");
    assert!(
        summary.get("exit 0").copied().unwrap_or(0) >= 1,
        "no deploy succeeded"
    );

    let per_version = pg_value(
        &db.url,
        "SELECT coalesce(string_agg(version::text || '=' || n, ',' ORDER BY version), '') FROM ( \
           SELECT version, count(*) AS n FROM lockstep.history \
           WHERE direction = 'up' AND outcome = 'applied' GROUP BY version) s",
    );
    let want: Vec<String> = versions.iter().map(|v| format!("{v}=1")).collect();
    assert_eq!(per_version, want.join(","), "up/applied rows per version");
    let failed = pg_value(
        &db.url,
        "SELECT count(*)::text FROM lockstep.history WHERE outcome = 'failed'",
    );
    assert_eq!(failed, "0", "failed rows: a migration ran twice?");
    let rows = pg_value(&db.url, "SELECT (SELECT count(*) FROM t1)::text");
    assert_eq!(rows, "1", "migration 1's insert ran once");
    assert_same(
        &refdb.inspect(),
        &db.inspect(),
        "after 8 concurrent deploys",
    );
    let (c, e, out) = status(&p, "dev");
    assert_eq!(c, Some(0), "{out}");
    assert_eq!(json_versions(&e["applied"]), versions);
}

// ------------------------------------------------------------------------ bad input

/// Ten migrations; the fifth has a syntax error on line 3. Returns the fifth's file name.
fn ten_with_error(p: &Project) -> String {
    let mut bad = String::new();
    for i in 1..=10 {
        let v = format!("202403010000{i:02}");
        let up = if i == 5 {
            format!("CREATE TABLE t{i}a (id int);\n\nCREATE TABL t{i}b (id int);\n")
        } else {
            format!("CREATE TABLE t{i} (id int);\nCREATE INDEX t{i}_id ON t{i} (id);\n")
        };
        let f = p.native(
            &v,
            &format!("step_{i}"),
            &up,
            Some(&format!("DROP TABLE t{i};\n")),
        );
        if i == 5 {
            bad = f;
        }
    }
    bad
}

#[track_caller]
fn assert_names_syntax_error(o: &Output, bad: &str) {
    let out = text(o);
    expect_code(o, 1, "deploy with a syntax error in migration 5");
    assert!(
        out.contains(&format!("{bad}:3")),
        "the error names {bad}:3:\n{out}"
    );
    assert!(
        out.contains("syntax error"),
        "the error carries the server's message:\n{out}"
    );
}

/// Deploys `ten_with_error` to `url`: the deploy fails, names the file, and changes
/// neither the schema (as `live` reads it) nor what `inspect` prints; then `status`
/// shows nothing applied and exits 1. Returns the project and the status JSON.
fn failed_deploy_changes_nothing(url: &str, live: impl Fn() -> Database) -> (Project, Value) {
    let p = Project::new(&[("dev", url)]);
    let bad = ten_with_error(&p);
    let before = live();
    let json_before = inspect_json(&p, url);
    let o = p.run(&["deploy", "--env", "dev"]);
    assert_names_syntax_error(&o, &bad);
    assert_same(
        &before,
        &live(),
        &format!("a failed deploy to {url} changed the schema"),
    );
    assert_eq!(inspect_json(&p, url), json_before);
    let (c, e, out) = status(&p, "dev");
    assert!(json_versions(&e["applied"]).is_empty(), "{out}");
    assert_eq!(
        c,
        Some(1),
        "status exits 1 after a failed migration:\n{out}"
    );
    (p, e)
}

#[test]
fn syntax_error_in_migration_5_leaves_postgres_unchanged() {
    let Some(db) = TestPg::new("syntax") else {
        return;
    };
    db.exec("CREATE TABLE existing (id int PRIMARY KEY);");
    let (_p, e) = failed_deploy_changes_nothing(&db.url, || db.inspect());
    assert_eq!(json_versions(&e["pending"]).len(), 10, "{e}");
    let applied = pg_value_if(
        &db.url,
        "lockstep.history",
        "SELECT count(*)::text FROM lockstep.history WHERE outcome = 'applied'",
    );
    assert!(
        applied.is_none() || applied.as_deref() == Some("0"),
        "applied rows after a failed deploy: {applied:?}"
    );
}

#[test]
fn syntax_error_in_migration_5_leaves_sqlite_unchanged() {
    let db = TestSqlite::new();
    db.exec("CREATE TABLE existing (id INTEGER PRIMARY KEY);");
    failed_deploy_changes_nothing(&db.url, || db.inspect());
    if sqlite_has_table(&db.url, "lockstep_history") {
        assert!(
            sqlite_true(
                &db.url,
                "(SELECT count(*) FROM lockstep_history WHERE outcome = 'applied') = 0"
            ),
            "applied rows after a failed deploy"
        );
    }
    for i in 1..=4 {
        assert!(
            !sqlite_has_table(&db.url, &format!("t{i}")),
            "t{i} left behind"
        );
    }
}

/// A file's own transaction control: a wrapping BEGIN/COMMIT pair runs inside lockstep's
/// transaction (the migration and its history row stay atomic); a COMMIT part way is
/// refused before anything runs; a lone CREATE INDEX CONCURRENTLY, which cannot run in a
/// transaction, runs without one though the file does not say so.
#[test]
fn transaction_control_in_files_on_postgres() {
    let Some(db) = TestPg::new("txctl") else {
        return;
    };
    let p = Project::new(&[("dev", &db.url)]);
    p.native(
        "20240301000001",
        "wrapped",
        "BEGIN;\nCREATE TABLE orders (id int PRIMARY KEY, note text);\nALTER TABLE orders ADD COLUMN state text;\nCOMMIT;\n",
        Some("DROP TABLE orders;\n"),
    );
    p.native(
        "20240301000002",
        "index",
        "CREATE INDEX CONCURRENTLY orders_note ON orders (note);\n",
        Some("DROP INDEX orders_note;\n"),
    );
    p.native(
        "20240301000003",
        "state_index",
        "CREATE INDEX orders_state ON orders (state);\n",
        Some("DROP INDEX CONCURRENTLY orders_state;\n"),
    );
    let o = p.run(&["deploy", "--env", "dev"]);
    expect_code(
        &o,
        0,
        "deploy of a wrapped file and a lone CONCURRENTLY index",
    );
    assert_eq!(pg_applied(&db.url).len(), 3);
    let valid = pg_value(
        &db.url,
        "SELECT string_agg(indisvalid::text, ',') FROM pg_index WHERE indexrelid = 'orders_note'::regclass",
    );
    assert_eq!(valid, "true");

    // A COMMIT in the middle: refused, nothing run, the message says where and why.
    let before = db.inspect();
    let bad = p.native(
        "20240301000004",
        "split_in_two",
        "ALTER TABLE orders ADD COLUMN a int;\nCOMMIT;\nALTER TABLE orders ADD COLUMN b int;\n",
        Some("ALTER TABLE orders DROP COLUMN a, DROP COLUMN b;\n"),
    );
    expect_code(&p.run(&["hash"]), 0, "hash");
    let dry = p.run(&["deploy", "--env", "dev", "--dry-run"]);
    expect_code(&dry, 1, "dry run of a file with COMMIT part way");
    assert!(text(&dry).contains("refused"), "{}", text(&dry));
    assert!(text(&dry).contains("nothing was run"), "{}", text(&dry));
    let o = p.run(&["deploy", "--env", "dev"]);
    expect_code(&o, 1, "deploy of a file with COMMIT part way");
    let out = text(&o);
    assert!(
        out.contains(&format!("{bad}:2")),
        "names file and line:\n{out}"
    );
    assert!(out.contains("nothing was run"), "{out}");
    assert!(
        out.contains("lockstep:no-transaction"),
        "says what to do:\n{out}"
    );
    assert_same(
        &before,
        &db.inspect(),
        "a refused deploy changed the schema",
    );
    assert_eq!(pg_applied(&db.url).len(), 3);
    // lint reports the same statement.
    let path = p.migrations().join(&bad);
    let l = p.run(&["lint", path.to_str().unwrap()]);
    assert!(text(&l).contains("transaction-control"), "{}", text(&l));

    // A down script of only DROP INDEX CONCURRENTLY runs without a transaction, though
    // its up script ran in one.
    std::fs::remove_file(&path).unwrap();
    std::fs::remove_file(path.with_file_name(bad.replace(".up.", ".down."))).unwrap();
    expect_code(&p.run(&["hash"]), 0, "hash");
    let o = p.run(&[
        "rollback",
        "--env",
        "dev",
        "--to",
        "20240301000002",
        "--yes",
    ]);
    expect_code(
        &o,
        0,
        "rollback through a DROP INDEX CONCURRENTLY down script",
    );
    assert_eq!(
        pg_value(
            &db.url,
            "SELECT count(*)::text FROM pg_class WHERE relname = 'orders_state'"
        ),
        "0"
    );
}

#[test]
fn transaction_control_in_files_on_sqlite() {
    let db = TestSqlite::new();
    db.exec("CREATE TABLE orders (id INTEGER PRIMARY KEY);");
    let p = Project::new(&[("dev", &db.url)]);
    p.native(
        "20240301000001",
        "wrapped",
        "BEGIN;\nCREATE TABLE a (id int);\nCOMMIT;\n",
        Some("DROP TABLE a;\n"),
    );
    p.native(
        "20240301000002",
        "split_in_two",
        "CREATE TABLE b (id int);\nCOMMIT;\nCREATE TABLE c (id int);\n",
        Some("DROP TABLE c;\nDROP TABLE b;\n"),
    );
    let o = p.run(&["deploy", "--env", "dev"]);
    expect_code(&o, 1, "deploy of a file with COMMIT part way");
    assert!(text(&o).contains("nothing was run"), "{}", text(&o));
    // The refusal comes before the first migration runs, so `a` is not there either.
    for t in ["a", "b", "c"] {
        assert!(!sqlite_has_table(&db.url, t), "{t} left behind");
    }
}

#[test]
fn edited_migration_is_refused_and_crlf_only_is_not() {
    let db = TestSqlite::new();
    let p = Project::new(&[("dev", &db.url)]);
    let f1 = p.native(
        "20240401000001",
        "one",
        "CREATE TABLE one (id int);\nCREATE INDEX one_id ON one (id);\n",
        None,
    );
    let f2 = p.native(
        "20240401000002",
        "two",
        "CREATE TABLE two (id int);\n",
        None,
    );
    let f3 = p.native(
        "20240401000003",
        "three",
        "CREATE TABLE three (id int);\n",
        None,
    );
    let o = p.run(&["deploy", "--env", "dev", "--to", "20240401000002"]);
    expect_code(&o, 0, "deploy --to 2");
    assert!(
        p.migrations().join("lockstep.sum").exists(),
        "lockstep.sum written"
    );
    let (_, e, _) = status(&p, "dev");
    assert_eq!(
        json_versions(&e["applied"]),
        ["20240401000001", "20240401000002"]
    );

    // CRLF only: the same migration.
    let path1 = p.migrations().join(&f1);
    let original = std::fs::read_to_string(&path1).unwrap();
    std::fs::write(&path1, original.replace('\n', "\r\n")).unwrap();
    let (c, _, out) = status(&p, "dev");
    assert_eq!(c, Some(0), "CRLF-only change flagged by status:\n{out}");
    let o = p.run(&["deploy", "--env", "dev", "--to", "20240401000002"]);
    expect_code(&o, 0, "deploy after a CRLF-only change");

    // A real edit of an applied migration.
    let path2 = p.migrations().join(&f2);
    std::fs::write(&path2, "CREATE TABLE two (id int, extra text);\n").unwrap();
    let before = db.inspect();
    let o = p.run(&["deploy", "--env", "dev"]);
    expect_code(&o, 1, "deploy with an edited applied migration");
    assert!(
        text(&o).contains(&f2),
        "the refusal names {f2}:\n{}",
        text(&o)
    );
    assert_same(
        &before,
        &db.inspect(),
        "a refused deploy changed the schema",
    );
    assert!(
        !sqlite_has_table(&db.url, "three"),
        "a refused deploy ran migration 3"
    );
    let (c, _, out) = status(&p, "dev");
    assert_eq!(
        c,
        Some(1),
        "status exits 1 when a checksum disagrees:\n{out}"
    );
    assert!(out.contains(&f2), "status names the edited file:\n{out}");

    // Restored, the deploy goes on.
    std::fs::write(&path2, "CREATE TABLE two (id int);\n").unwrap();
    let o = p.run(&["deploy", "--env", "dev"]);
    expect_code(&o, 0, "deploy after restoring the file");
    assert!(sqlite_has_table(&db.url, "three"));
    let _ = f3;
}

#[test]
fn lockstep_sum_disagreeing_with_a_pending_file_is_refused() {
    let db = TestSqlite::new();
    let p = Project::new(&[("dev", &db.url)]);
    p.native(
        "20240501000001",
        "one",
        "CREATE TABLE one (id int);\n",
        None,
    );
    let f2 = p.native(
        "20240501000002",
        "two",
        "CREATE TABLE two (id int);\n",
        None,
    );
    let o = p.run(&["deploy", "--env", "dev", "--to", "20240501000001"]);
    expect_code(&o, 0, "deploy --to 1");
    let sum =
        std::fs::read_to_string(p.migrations().join("lockstep.sum")).expect("lockstep.sum written");
    assert!(
        sum.contains("20240501000002"),
        "lockstep.sum lists every migration:\n{sum}"
    );
    std::fs::write(
        p.migrations().join(&f2),
        "CREATE TABLE two (id int, changed int);\n",
    )
    .unwrap();
    let o = p.run(&["deploy", "--env", "dev"]);
    expect_code(&o, 1, "deploy with lockstep.sum disagreeing");
    assert!(
        text(&o).contains(&f2),
        "the refusal names {f2}:\n{}",
        text(&o)
    );
    assert!(!sqlite_has_table(&db.url, "two"));
}

#[test]
fn wrong_url_exits_2() {
    let db = TestSqlite::new();
    let p = Project::new(&[("dev", "postgres://alice:hunter2@127.0.0.1:1/nowhere")]);
    p.native(
        "20240601000001",
        "one",
        "CREATE TABLE one (id int);\n",
        None,
    );
    let o = p.run(&["deploy", "--env", "dev"]);
    let out = text(&o);
    expect_code(&o, 2, "deploy to an unreachable server");
    assert!(out.contains("could not connect"), "{out}");
    assert!(!out.contains("hunter2"), "password printed:\n{out}");
    let o = p.run(&["status", "--env", "dev"]);
    expect_code(&o, 2, "status of an unreachable server");
    let o = p.run(&["deploy", "--env", "nosuchenv"]);
    expect_code(&o, 2, "deploy to an unknown environment");
    assert!(text(&o).contains("nosuchenv"), "{}", text(&o));
    drop(db);
}

#[test]
fn missing_privilege_exits_2_with_a_clear_message() {
    let Some(db) = TestPg::new("noperm") else {
        return;
    };
    let role = support::unique_name("ls_noperm");
    run_script(
        &support::pg_admin_url(),
        &format!("CREATE ROLE \"{role}\" LOGIN"),
    )
    .unwrap();
    let _guard = RoleGuard { name: role.clone() };
    db.exec(&format!(
        "REVOKE CREATE ON DATABASE \"{}\" FROM PUBLIC; REVOKE CREATE ON SCHEMA public FROM PUBLIC;",
        db.name
    ));
    let url = db.url.replacen("postgres@", &format!("{role}@"), 1);
    assert_ne!(
        url, db.url,
        "the test URL has no postgres@ user to replace: {}",
        db.url
    );
    let p = Project::new(&[("dev", &url)]);
    p.native(
        "20240701000001",
        "one",
        "CREATE TABLE one (id int);\n",
        None,
    );
    let o = p.run(&["deploy", "--env", "dev"]);
    let out = text(&o);
    expect_code(&o, 2, "deploy as a role without CREATE");
    let low = out.to_lowercase();
    assert!(
        low.contains("permission") || low.contains("privilege"),
        "message about privileges:\n{out}"
    );
    assert!(db.inspect().tables.is_empty(), "a table was created anyway");
}

// ------------------------------------------------------------------------ dry run, rollback, new

#[test]
fn dry_run_changes_nothing_on_sqlite() {
    let db = TestSqlite::new();
    db.exec("CREATE TABLE existing (id INTEGER PRIMARY KEY);");
    let p = Project::new(&[("dev", &db.url)]);
    p.native(
        "20240801000001",
        "first_table",
        "CREATE TABLE first (id int);\n",
        None,
    );
    p.native(
        "20240801000002",
        "second_table",
        "CREATE TABLE second (id int);\n",
        None,
    );
    let json_before = inspect_json(&p, &db.url);
    let o = p.run(&["deploy", "--env", "dev", "--dry-run"]);
    expect_code(&o, 0, "dry run");
    let out = text(&o);
    assert!(
        out.contains("first_table") && out.contains("second_table"),
        "dry run lists what would run:\n{out}"
    );
    assert_eq!(inspect_json(&p, &db.url), json_before);
    assert!(
        !sqlite_has_table(&db.url, "lockstep_history")
            || sqlite_true(&db.url, "(SELECT count(*) FROM lockstep_history) = 0"),
        "dry run wrote history"
    );
    let (c, e, out) = status(&p, "dev");
    assert_eq!(c, Some(0), "{out}");
    assert_eq!(json_versions(&e["pending"]).len(), 2, "{out}");
}

#[test]
fn rollback_keeps_versions_up_to_target_and_refuses_a_missing_down() {
    let Some(db) = TestPg::new("rollback") else {
        return;
    };
    let Some(refdb) = TestPg::new("rollback_ref") else {
        return;
    };
    let p = Project::new(&[("dev", &db.url)]);
    let ups = [
        "CREATE TABLE a (id int PRIMARY KEY);\n",
        "CREATE TABLE b (id int PRIMARY KEY, a_id int REFERENCES a);\n",
        "ALTER TABLE a ADD COLUMN note text;\nCREATE INDEX a_note ON a (note);\n",
        "CREATE VIEW av AS SELECT id, note FROM a;\n",
    ];
    let downs = [
        Some("DROP TABLE a;\n"),
        None, // no down file: rolling back past it is refused
        Some("DROP INDEX a_note;\nALTER TABLE a ALTER COLUMN note TYPE int USING note::int;\nALTER TABLE a DROP COLUMN note;\n"),
        Some("DROP VIEW av;\n"),
    ];
    let names = ["make_a", "make_b", "note", "view"];
    let versions: Vec<String> = (1..=4).map(|i| format!("2024-09-01-00000{i}")).collect();
    let digits_v: Vec<String> = versions.iter().map(|v| digits(v)).collect();
    let mut states = vec![refdb.inspect()];
    for i in 0..4 {
        p.native(&digits_v[i], names[i], ups[i], downs[i]);
        refdb.exec(ups[i]);
        states.push(refdb.inspect());
    }
    let o = p.run(&["deploy", "--env", "dev"]);
    expect_code(&o, 0, "deploy");
    assert_same(&states[4], &db.inspect(), "deployed");

    // Back to version 2 (given with dashes): 4 and 3 roll back.
    let o = p.run(&["rollback", "--env", "dev", "--to", &versions[1], "--yes"]);
    expect_code(&o, 0, "rollback --to 2");
    assert_same(&states[2], &db.inspect(), "after rollback --to 2");
    let (c, e, out) = status(&p, "dev");
    assert_eq!(c, Some(0), "{out}");
    assert_eq!(json_versions(&e["applied"]), digits_v[..2], "{out}");
    assert_eq!(json_versions(&e["pending"]), digits_v[2..], "{out}");
    let rb = pg_value(
        &db.url,
        "SELECT count(*)::text FROM lockstep.history WHERE direction = 'down' AND outcome = 'rolled_back'",
    );
    assert_eq!(rb, "2", "down/rolled_back rows");

    // Past version 2 there is no down file: refused, nothing changes.
    let o = p.run(&["rollback", "--env", "dev", "--to", "0", "--yes"]);
    expect_code(&o, 1, "rollback past a missing down file");
    let out = text(&o);
    assert!(
        out.contains(&digits_v[1]) || out.contains(&versions[1]),
        "names the migration:\n{out}"
    );
    assert!(
        out.contains(names[1]),
        "names the migration without a down file:\n{out}"
    );
    assert_same(
        &states[2],
        &db.inspect(),
        "a refused rollback changed the schema",
    );

    // Forward again, then a rollback whose down fails midway changes nothing.
    let o = p.run(&["deploy", "--env", "dev"]);
    expect_code(&o, 0, "redeploy");
    assert_same(&states[4], &db.inspect(), "redeployed");
    db.exec("INSERT INTO a VALUES (1, 'not a number');"); // breaks line 2 of down 3
    let before = db.inspect();
    let o = p.run(&["rollback", "--env", "dev", "--to", &digits_v[1], "--yes"]);
    expect_code(&o, 1, "rollback whose down 3 fails on the data");
    let out = text(&o);
    assert!(
        out.contains("invalid input syntax"),
        "the server's message:\n{out}"
    );
    assert_eq!(
        pg_value(
            &db.url,
            "SELECT (to_regclass('public.av') IS NOT NULL)::text"
        ),
        "true",
        "down 4 (DROP VIEW av) was not undone"
    );
    let down3 = format!("{}_{}.down.sql", digits_v[2], names[2]);
    assert!(
        out.contains(&format!("{down3}:2")),
        "names {down3}:2:\n{out}"
    );
    assert_same(
        &before,
        &db.inspect(),
        "a failed rollback must change nothing (all-or-nothing)",
    );
    let (_, e, out) = status(&p, "dev");
    assert_eq!(json_versions(&e["applied"]), digits_v, "{out}");
}

#[test]
fn new_creates_the_next_migration_in_the_layout() {
    // Native layout.
    let p = Project::new(&[]);
    p.native(
        "20240101000001",
        "first",
        "CREATE TABLE first (id int);\n",
        Some("DROP TABLE first;\n"),
    );
    let o = p.run(&["new", "add_users"]);
    expect_code(&o, 0, "lockstep new (native)");
    let files: Vec<String> = std::fs::read_dir(p.migrations())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("add_users"))
        .collect();
    let up = files
        .iter()
        .find(|n| n.ends_with("_add_users.up.sql"))
        .unwrap_or_else(|| panic!("{files:?}"));
    assert!(
        files.iter().any(|n| n.ends_with("_add_users.down.sql")),
        "{files:?}"
    );
    let v = digits(&up[..up.find('_').unwrap()]);
    assert!(
        v.len() > 14 || (v.len() == 14 && v.as_str() > "20240101000001"),
        "the new version {v} sorts after the existing one"
    );

    // Diesel layout.
    let p = Project::with_layout("diesel", &[]);
    std::fs::create_dir_all(p.migrations().join("2019-02-26-002946_create_user")).unwrap();
    std::fs::write(
        p.migrations().join("2019-02-26-002946_create_user/up.sql"),
        "CREATE TABLE u (id int);\n",
    )
    .unwrap();
    std::fs::write(
        p.migrations()
            .join("2019-02-26-002946_create_user/down.sql"),
        "DROP TABLE u;\n",
    )
    .unwrap();
    let o = p.run(&["new", "add_posts"]);
    expect_code(&o, 0, "lockstep new (diesel)");
    let d = std::fs::read_dir(p.migrations())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.is_dir()
                && p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .ends_with("_add_posts")
        })
        .expect("a diesel migration directory");
    assert!(
        d.join("up.sql").exists() && d.join("down.sql").exists(),
        "{}",
        d.display()
    );
}

/// The read-back helpers above must be able to say no, or the checks built on them
/// would pass vacuously.
#[test]
fn read_back_helpers_can_fail() {
    let s = TestSqlite::new();
    s.exec("CREATE TABLE x (id int); INSERT INTO x VALUES (1);");
    assert!(sqlite_true(&s.url, "(SELECT count(*) FROM x) = 1"));
    assert!(!sqlite_true(&s.url, "(SELECT count(*) FROM x) = 2"));
    assert!(sqlite_has_table(&s.url, "x") && !sqlite_has_table(&s.url, "y"));
    let Some(pg) = TestPg::new("helpers") else {
        return;
    };
    pg.exec("CREATE TABLE x (id int); INSERT INTO x VALUES (41), (1);");
    assert_eq!(pg_value(&pg.url, "SELECT sum(id)::text FROM x"), "42");
    assert_eq!(pg_value(&pg.url, "SELECT NULL::text"), "<null>");
    assert_eq!(pg_value_if(&pg.url, "public.nope", "SELECT 'x'"), None);
    assert!(pg_applied(&pg.url).is_empty());
}

/// The first 30 characters of a statement's code, as messages show it: leading comment
/// lines left out, whitespace collapsed.
fn code_head(stmt: &str) -> String {
    let code: Vec<&str> = stmt
        .lines()
        .skip_while(|l| l.trim().is_empty() || l.trim_start().starts_with("--"))
        .collect();
    code.join(" ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(30)
        .collect()
}
