//! The engine's promises seen from the outside: failure is per target, and a target is
//! opened once and its expected schema replayed at most once per run.

use crate::cli::lockstep;
use crate::harness::Project;
use crate::support::{corpus, TestPg, TestSqlite};

/// A project of one migration (a `customers` table), with `envs` as its environments.
fn customers_project(envs: &[(&str, &str)]) -> Project {
    let p = Project::new(envs);
    p.native(
        "20260101000000",
        "init",
        "CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT NOT NULL);\n",
        None,
    );
    p
}

#[test]
fn an_unreachable_environment_is_a_row_and_the_others_are_reported() {
    let dev = TestSqlite::new();
    // Port 9 (discard) on loopback: nothing listens there, so the connection is refused.
    let project = customers_project(&[
        ("dev", &dev.url),
        ("prod", "postgres://lockstep@127.0.0.1:9/prod"),
    ]);
    let dir = project.path();
    let o = lockstep(&["deploy", "--env", "dev"], dir);
    assert_eq!(o.status.code(), Some(0), "{o:?}");

    let o = lockstep(&["status", "--format", "json"], dir);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(2), "status: {out}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("one JSON object");
    let envs = v["environments"].as_array().unwrap();
    assert_eq!(envs.len(), 2, "{out}");
    let dev_row = envs.iter().find(|e| e["env"] == "dev").unwrap();
    assert_eq!(dev_row["current"], "20260101000000", "{out}");
    assert_eq!(dev_row["applied"].as_array().unwrap().len(), 1);
    assert!(dev_row.get("error").is_none(), "{out}");
    let prod_row = envs.iter().find(|e| e["env"] == "prod").unwrap();
    let err = prod_row["error"].as_str().expect("an error for prod");
    assert!(err.contains("could not connect"), "{err}");
    assert!(prod_row.get("current").is_none(), "{out}");

    let o = lockstep(&["parity"], dir);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(2), "parity: {out}");
    assert!(
        out.contains("dev") && out.contains("20260101000000"),
        "{out}"
    );
    assert!(out.contains("prod: could not be read"), "{out}");

    let o = lockstep(&["parity", "--format", "json"], dir);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let dev_col = v["environments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["env"] == "dev")
        .unwrap();
    assert_eq!(dev_col["facts"]["version"], "20260101000000", "{v}");
}

/// Counts `-v` event lines of one kind.
fn count(stderr: &str, what: &str) -> usize {
    stderr.lines().filter(|l| l.contains(what)).count()
}

#[test]
fn check_opens_the_target_once_and_replays_at_most_once() {
    let Some(lemmy) = corpus("lemmy-0.19.21/migrations") else {
        return;
    };
    let Some(prod) = TestPg::new("once") else {
        return;
    };
    let project = Project::with_layout("diesel", &[("prod", &prod.url)]);
    let dir = project.path();
    // The corpus is read-only for tests: deploy writes lockstep.sum next to the files,
    // so work on a copy.
    std::fs::remove_dir(project.migrations()).unwrap();
    crate::deploy::copy_dir(&lemmy, &project.migrations());
    let o = lockstep(&["deploy", "--env", "prod", "--yes"], dir);
    assert_eq!(o.status.code(), Some(0), "{o:?}");

    let o = lockstep(&["-v", "check", "--env", "prod"], dir);
    let err = String::from_utf8_lossy(&o.stderr);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}\n{err}");
    let opened = count(&err, "prod: opened a connection");
    let replays = count(&err, "prod: replaying");
    let inspected = count(&err, "prod: read the live schema");
    eprintln!(
        "check on Lemmy: target opened {opened}, replays {replays}, live schema read {inspected}"
    );
    assert_eq!(opened, 1, "{err}");
    assert!(replays <= 1, "{err}");
    assert_eq!(inspected, 1, "{err}");
}
