//! Safety on a bad night (issue 9): the defects fixed in the engine and the binary, each
//! as it was reported.

use crate::cli::lockstep;
use crate::support::TestSqlite;
use std::path::Path;
use std::process::{Command, Stdio};

/// A project with one SQLite environment `prod` at three migrations, each with a down.
fn project(dir: &Path, db: &TestSqlite) {
    std::fs::create_dir_all(dir.join("migrations")).unwrap();
    std::fs::write(
        dir.join("lockstep.toml"),
        format!(
            "migrations = \"migrations\"\n[env.prod]\nurl = \"{}\"\n",
            db.url
        ),
    )
    .unwrap();
    for (v, up, down) in [
        (
            "1",
            "CREATE TABLE orders (id INTEGER PRIMARY KEY, total INTEGER);",
            "DROP TABLE orders;",
        ),
        (
            "2",
            "CREATE TABLE stores (id INTEGER PRIMARY KEY);",
            "DROP TABLE stores;",
        ),
        (
            "3",
            "CREATE INDEX orders_total ON orders (total);",
            "DROP INDEX orders_total;",
        ),
    ] {
        std::fs::write(dir.join(format!("migrations/{v}_m{v}.up.sql")), up).unwrap();
        std::fs::write(dir.join(format!("migrations/{v}_m{v}.down.sql")), down).unwrap();
    }
    let o = lockstep(&["deploy", "--env", "prod"], dir);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    db.exec("INSERT INTO orders (total) VALUES (10), (20);");
}

fn all(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Item 1: `rollback --to 999` rolled prod back to nothing, with no dry run, no drift
/// gate and no question.
#[test]
fn rollback_validates_its_version_passes_the_drift_gate_and_asks() {
    let db = TestSqlite::new();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    project(dir, &db);
    let o = lockstep(&["rollback", "--env", "prod", "--to", "999"], dir);
    assert_eq!(o.status.code(), Some(2), "{}", all(&o));
    assert!(
        all(&o).contains("version 999 is not a migration"),
        "{}",
        all(&o)
    );

    // A dry run says what would run and the rows at stake, and changes nothing.
    let o = lockstep(
        &["rollback", "--env", "prod", "--to", "0", "--dry-run"],
        dir,
    );
    let out = all(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("would roll back 3 migrations"), "{out}");
    assert!(
        out.contains("drops table orders") && out.contains("about 2 row(s)"),
        "{out}"
    );
    assert_eq!(db.inspect().tables.len(), 2);

    // Not on a terminal, without --yes: refused.
    let o = lockstep(&["rollback", "--env", "prod", "--to", "0"], dir);
    assert_eq!(o.status.code(), Some(1), "{}", all(&o));
    assert!(all(&o).contains("nobody confirmed them"), "{}", all(&o));
    assert_eq!(db.inspect().tables.len(), 2);

    // Drift: refused even with --yes, unless --allow-drift.
    db.exec("ALTER TABLE orders ADD COLUMN segment TEXT;");
    let o = lockstep(&["rollback", "--env", "prod", "--to", "0", "--yes"], dir);
    assert_eq!(o.status.code(), Some(1), "{}", all(&o));
    assert!(
        all(&o).contains("drift item 1: column main.orders.segment"),
        "{}",
        all(&o)
    );
    assert_eq!(db.inspect().tables.len(), 2);
    let o = lockstep(
        &[
            "rollback",
            "--env",
            "prod",
            "--to",
            "2",
            "--yes",
            "--allow-drift",
        ],
        dir,
    );
    assert_eq!(o.status.code(), Some(0), "{}", all(&o));
    assert!(all(&o).contains("rolled back 1 migration"), "{}", all(&o));
}

/// Item 12: `check` said "drift ok could not be checked".
#[test]
fn a_check_that_could_not_run_is_an_error_never_ok() {
    let db = TestSqlite::new();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    project(dir, &db);
    // The expected schema cannot be built: an applied migration's file is gone.
    std::fs::remove_file(dir.join("migrations/2_m2.up.sql")).unwrap();
    std::fs::remove_file(dir.join("migrations/2_m2.down.sql")).unwrap();
    let o = lockstep(&["check", "--env", "prod", "--format", "json"], dir);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let drift = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "drift")
        .unwrap();
    assert_eq!(drift["ok"], false, "{v}");
    assert_eq!(drift["status"], "error", "{v}");
    assert_ne!(v["verdict"], "pass", "{v}");
    assert_ne!(o.status.code(), Some(0));
}

/// Item 13: `check --env prod | (exec 0<&-; true)` turned a FAIL verdict into exit 0.
#[test]
fn a_closed_stdout_does_not_turn_a_failing_gate_into_a_pass() {
    let db = TestSqlite::new();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    project(dir, &db);
    db.exec("ALTER TABLE orders ADD COLUMN segment TEXT;");
    let mut child = Command::new(env!("CARGO_BIN_EXE_lockstep"))
        .args(["check", "--env", "prod"])
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // The reader goes away before anything is written.
    drop(child.stdout.take());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(1), "a failing gate must fail");
}

/// Item 14: status exited 0 with lockstep.sum out of date, and kept reporting a failure
/// after a rollback to nothing.
#[test]
fn status_reports_a_stale_sum_and_forgets_a_failure_a_later_run_resolved() {
    let db = TestSqlite::new();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    project(dir, &db);
    std::fs::write(
        dir.join("migrations/4_bad.up.sql"),
        "CREATE TABLE broken (;",
    )
    .unwrap();
    std::fs::write(dir.join("migrations/4_bad.down.sql"), "DROP TABLE broken;").unwrap();
    // A new file lockstep.sum does not list: status says so, and exits 1.
    let o = lockstep(&["status", "--env", "prod"], dir);
    assert_eq!(o.status.code(), Some(1), "{}", all(&o));
    assert!(
        all(&o).contains("not listed in lockstep.sum"),
        "{}",
        all(&o)
    );
    assert_eq!(lockstep(&["hash"], dir).status.code(), Some(0));
    // The failed deploy is a problem…
    let o = lockstep(&["deploy", "--env", "prod"], dir);
    assert_eq!(o.status.code(), Some(1), "{}", all(&o));
    let o = lockstep(&["status", "--env", "prod"], dir);
    assert_eq!(o.status.code(), Some(1), "{}", all(&o));
    assert!(all(&o).contains("failed on its last run"), "{}", all(&o));
    // …until a later run succeeds: the rollback to nothing resolves it.
    let o = lockstep(&["rollback", "--env", "prod", "--to", "0", "--yes"], dir);
    assert_eq!(o.status.code(), Some(0), "{}", all(&o));
    let o = lockstep(&["status", "--env", "prod"], dir);
    assert_eq!(o.status.code(), Some(0), "{}", all(&o));
    assert!(!all(&o).contains("failed on its last run"), "{}", all(&o));
}

/// Item 15: `snapshot --to 42` wrote 42.json; `deploy --to` below the current version said
/// "up to date".
#[test]
fn versions_that_name_no_migration_or_go_backwards_are_refused() {
    let db = TestSqlite::new();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    project(dir, &db);
    let o = lockstep(&["snapshot", "--to", "42"], dir);
    assert_eq!(o.status.code(), Some(2), "{}", all(&o));
    assert!(all(&o).contains("42 is not a migration"), "{}", all(&o));
    assert!(!dir.join("snapshots/42.json").exists());
    let o = lockstep(&["deploy", "--env", "prod", "--to", "1"], dir);
    assert_eq!(o.status.code(), Some(1), "{}", all(&o));
    assert!(all(&o).contains("deploy never goes back"), "{}", all(&o));
    assert!(
        all(&o).contains("lockstep rollback --env prod --to 1"),
        "{}",
        all(&o)
    );
    let o = lockstep(&["deploy", "--env", "prod", "--to", "123"], dir);
    assert_eq!(o.status.code(), Some(2), "{}", all(&o));
}

/// Item 19: connection errors repeated their cause three times and ended with the
/// server's source line.
#[test]
fn a_connection_error_says_its_cause_once() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::create_dir_all(dir.join("migrations")).unwrap();
    std::fs::write(
        dir.join("lockstep.toml"),
        "[env.prod]\nurl = \"postgres://lockstep:pw@127.0.0.1:9/db\"\n",
    )
    .unwrap();
    let o = lockstep(&["drift", "--env", "prod"], dir);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(err.matches("could not connect").count(), 1, "{err}");
    assert_eq!(err.matches("hint:").count(), 1, "{err}");
    assert!(!err.contains("at line"), "{err}");
    assert!(!err.contains("pw"), "{err}");
}
