//! `lockstep lint`: exit codes, the JSON contract, GitHub annotations, suppression.

use crate::cli::lockstep;
use std::path::Path;

fn project(dir: &Path) {
    let m = dir.join("migrations");
    std::fs::create_dir_all(&m).unwrap();
    std::fs::write(
        dir.join("lockstep.toml"),
        "migrations = \"migrations\"\n[env.dev]\nurl = \"sqlite://dev.db\"\n",
    )
    .unwrap();
    std::fs::write(
        m.join("1_orders.up.sql"),
        "CREATE TABLE orders (id int, note text);\n",
    )
    .unwrap();
    std::fs::write(m.join("1_orders.down.sql"), "DROP TABLE orders;\n").unwrap();
    // orders is created by an earlier linted migration: the index is not flagged.
    std::fs::write(
        m.join("2_index.up.sql"),
        "CREATE INDEX orders_id ON orders (id);\n",
    )
    .unwrap();
}

fn json(out: &[u8]) -> Vec<serde_json::Value> {
    let v: serde_json::Value = serde_json::from_slice(out)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(out)));
    v["findings"].as_array().expect("findings array").clone()
}

fn rules(findings: &[serde_json::Value]) -> Vec<&str> {
    findings
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect()
}

#[test]
fn lints_the_project_migrations_without_files() {
    let dir = tempfile::tempdir().unwrap();
    project(dir.path());
    for args in [
        &["lint", "--format", "json"][..],
        &["lint", "--env", "dev", "--format", "json"][..],
    ] {
        let o = lockstep(args, dir.path());
        assert_eq!(o.status.code(), Some(0), "{args:?}: {o:?}");
        let f = json(&o.stdout);
        assert_eq!(rules(&f), ["missing-down"], "{args:?}: {f:?}");
        assert!(f[0]["file"].as_str().unwrap().ends_with("2_index.up.sql"));
        assert_eq!(f[0]["severity"], "warning");
    }
}

#[test]
fn errors_exit_1_with_every_contract_field() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("x.sql");
    std::fs::write(
        &file,
        "SET lock_timeout = '2s'; SET statement_timeout = '5min';\n\nALTER TABLE orders DROP COLUMN note;\n",
    )
    .unwrap();
    let o = lockstep(&["lint", "x.sql", "--format", "json"], dir.path());
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let f = json(&o.stdout);
    assert_eq!(rules(&f), ["drop-column"]);
    for key in ["rule", "severity", "file", "line", "message", "help"] {
        assert!(f[0].get(key).is_some(), "{key} missing: {f:?}");
    }
    assert_eq!(f[0]["line"], 3);
    assert_eq!(f[0]["severity"], "error");
    assert_eq!(f[0]["file"], "x.sql");

    let o = lockstep(&["lint", "x.sql"], dir.path());
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.starts_with("error[drop-column]: dropping column orders.note"),
        "{out}"
    );
    assert!(
        out.contains(
            " --> x.sql:3:20\n  |\n3 | ALTER TABLE orders DROP COLUMN note;\n  |                    ^^^^^^^^^^^^^^^^\n  |\n  = help: "
        ),
        "the caret is under DROP COLUMN note: {out}"
    );

    let o = lockstep(&["lint", "x.sql", "--format", "github"], dir.path());
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.starts_with("::error file=x.sql,line=3,title=drop-column::"),
        "{out}"
    );
    assert_eq!(o.status.code(), Some(1));

    let o = lockstep(&["lint", "x.sql", "--format", "gitlab"], dir.path());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let first = &v.as_array().unwrap()[0];
    assert_eq!(first["check_name"], "drop-column");
    assert_eq!(first["severity"], "major");
    assert_eq!(first["location"]["path"], "x.sql");
    assert_eq!(first["location"]["lines"]["begin"], 3);
    assert_eq!(first["fingerprint"].as_str().unwrap().len(), 64);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn suppression_with_a_reason_silences_one_rule() {
    let dir = tempfile::tempdir().unwrap();
    let body = "SET lock_timeout = '2s'; SET statement_timeout = '5min';\n{}\nALTER TABLE orders DROP COLUMN note;\n";
    std::fs::write(
        dir.path().join("ok.sql"),
        body.replace(
            "{}",
            "-- lockstep:ignore drop-column no code reads it since 4.2",
        ),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("bad.sql"),
        body.replace("{}", "-- lockstep:ignore drop-column"),
    )
    .unwrap();
    let o = lockstep(&["lint", "ok.sql", "--format", "json"], dir.path());
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert!(json(&o.stdout).is_empty());
    let o = lockstep(&["lint", "bad.sql", "--format", "json"], dir.path());
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        rules(&json(&o.stdout)),
        ["invalid-suppression", "drop-column"]
    );
}

#[test]
fn unparsable_statements_are_reported_not_skipped() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("p.sql"),
        "CREATE TABLE t (id int);\nCREATE FROBNICATOR t;\nCREATE TABLE u (id int);\n",
    )
    .unwrap();
    let o = lockstep(&["lint", "p.sql", "--format", "json"], dir.path());
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let f = json(&o.stdout);
    assert_eq!(rules(&f), ["could-not-parse"]);
    assert_eq!(f[0]["line"], 2);
}

#[test]
fn a_missing_file_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let o = lockstep(&["lint", "nope.sql"], dir.path());
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("hint:"));
}
