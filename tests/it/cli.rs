//! The binary's interface contract: exit codes, formats, errors, redaction.

use crate::support::{self, TestSqlite};
use std::process::Output;

/// The guarded runner of `harness`, arguments first.
#[track_caller]
pub fn lockstep(args: &[&str], dir: &std::path::Path) -> Output {
    crate::harness::lockstep(dir, args, crate::harness::LIMIT)
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

const SHOP: &str = "
CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE);
CREATE TABLE orders (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
  total NUMERIC NOT NULL DEFAULT 0 CHECK (total >= 0)
);
CREATE INDEX orders_customer ON orders(customer_id);
CREATE VIEW big_orders AS SELECT * FROM orders WHERE total > 100;
";

#[test]
fn diff_exit_codes_and_formats() {
    let a = TestSqlite::new();
    a.exec(SHOP);
    let b = TestSqlite::new();
    b.exec(SHOP);
    let dir = tempfile::tempdir().unwrap();
    let o = lockstep(&["diff", &a.url, &b.url], dir.path());
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(out.contains("identical"), "{out}");

    b.exec("ALTER TABLE orders ADD COLUMN note TEXT;");
    let o = lockstep(&["diff", &a.url, &b.url], dir.path());
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}{err}");
    assert!(out.contains("+ column main.orders.note"), "{out}");

    let o = lockstep(&["diff", &a.url, &b.url, "--format", "sql"], dir.path());
    let (out, _) = text(&o);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        out.contains("ALTER TABLE \"orders\" ADD COLUMN \"note\" TEXT"),
        "{out}"
    );

    let o = lockstep(&["diff", &a.url, &b.url, "--format", "json"], dir.path());
    let (out, _) = text(&o);
    let v: serde_json::Value = serde_json::from_str(&out).expect("one JSON object");
    assert_eq!(v["identical"], false);
    assert_eq!(v["changes"].as_array().unwrap().len(), 1);
}

#[test]
fn inspect_json_snapshot_round_trips_through_diff() {
    let a = TestSqlite::new();
    a.exec(SHOP);
    let dir = tempfile::tempdir().unwrap();
    let o = lockstep(&["inspect", &a.url, "--format", "json"], dir.path());
    assert_eq!(o.status.code(), Some(0));
    let snap = dir.path().join("shop.json");
    std::fs::write(&snap, &o.stdout).unwrap();
    let o = lockstep(&["diff", snap.to_str().unwrap(), &a.url], dir.path());
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
}

#[test]
fn environments_resolve_relative_to_the_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestSqlite::new();
    db.exec(SHOP);
    std::fs::copy(&db.path, dir.path().join("dev.db")).unwrap();
    std::fs::write(
        dir.path().join("lockstep.toml"),
        "[env.dev]\nurl = \"sqlite://dev.db\"\n",
    )
    .unwrap();
    let sub = dir.path().join("deep/er");
    std::fs::create_dir_all(&sub).unwrap();
    let o = lockstep(&["inspect", "dev", "--format", "text"], &sub);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(out.contains("tables") && out.contains('2'), "{out}");
}

#[test]
fn bad_input_exits_2_with_a_hint_and_no_password() {
    let dir = tempfile::tempdir().unwrap();
    // A server that refuses connections: port 1 on loopback.
    let o = lockstep(
        &["inspect", "postgres://alice:hunter2@127.0.0.1:1/db"],
        dir.path(),
    );
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}{err}");
    assert!(
        !out.contains("hunter2") && !err.contains("hunter2"),
        "{err}"
    );
    assert!(
        err.contains("could not connect") && err.contains("hint"),
        "{err}"
    );

    let o = lockstep(&["inspect", "nonsense"], dir.path());
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2));
    assert!(err.contains("not a database URL"), "{err}");

    let o = lockstep(&["inspect", "sqlite://does/not/exist.db"], dir.path());
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2));
    assert!(err.contains("does not exist"), "{err}");
    assert!(
        !dir.path().join("does").exists(),
        "inspect must not create files"
    );

    std::fs::write(dir.path().join("lockstep.toml"), "migratons = \"x\"\n").unwrap();
    let o = lockstep(&["inspect", "dev"], dir.path());
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2));
    assert!(err.contains("migratons"), "{err}");

    std::fs::write(
        dir.path().join("lockstep.toml"),
        "[env.prod]\nurl = \"${LOCKSTEP_UNSET_FOR_TEST}\"\n",
    )
    .unwrap();
    let o = lockstep(&["inspect", "prod"], dir.path());
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2));
    assert!(err.contains("LOCKSTEP_UNSET_FOR_TEST"), "{err}");

    let snap = dir.path().join("broken.json");
    std::fs::write(&snap, "{\"format\": 1,\n \"dialect\": \"oracle\"}").unwrap();
    std::fs::remove_file(dir.path().join("lockstep.toml")).unwrap();
    let o = lockstep(&["inspect", snap.to_str().unwrap()], dir.path());
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2));
    assert!(err.contains("broken.json:2"), "{err}");
}

#[test]
fn postgres_wrong_password_is_redacted() {
    let Some(pg) = support::TestPg::new("cli") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // Trust auth ignores passwords, so use a role that does not exist instead.
    let url = pg.url.replace("postgres@", "nobody_here:sekret@");
    let o = lockstep(&["inspect", &url], dir.path());
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}{err}");
    assert!(!err.contains("sekret"), "{err}");
    assert!(err.contains("nobody_here"), "{err}");
}
