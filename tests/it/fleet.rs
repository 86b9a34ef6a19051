//! Fleets of SQLite members: deploy, grouped drift, waves that halt, resume, and an
//! unreachable member among healthy ones.

use crate::cli::lockstep;
use crate::support::rt;
use lockstep_db::{Db, DbUrl};
use serde_json::Value;
use std::path::Path;

const INIT: &str = "CREATE TABLE orders (id INTEGER PRIMARY KEY, total INTEGER NOT NULL);\n";
const ITEMS: &str = "CREATE TABLE order_items (order_id INTEGER NOT NULL, sku TEXT NOT NULL);\n";

fn exec(path: &Path, sql: &str) {
    let u = DbUrl::parse(&format!("sqlite://{}", path.display())).unwrap();
    rt().block_on(async {
        let mut db = Db::connect(&u, true).await.unwrap();
        db.execute_script(sql).await.unwrap();
        db.close().await;
    });
}

/// A project whose `stores` fleet has `n` SQLite members listed in stores.txt.
fn project(dir: &Path, n: usize, waves: Option<&str>) {
    std::fs::create_dir_all(dir.join("migrations")).unwrap();
    std::fs::create_dir_all(dir.join("db")).unwrap();
    let mut members = String::from("# one store a line\n");
    for i in 1..=n {
        members.push_str(&format!("store{i:03} sqlite://db/store{i:03}.db\n"));
    }
    std::fs::write(dir.join("stores.txt"), members).unwrap();
    let waves = waves.map(|w| format!("waves = {w}\n")).unwrap_or_default();
    std::fs::write(
        dir.join("lockstep.toml"),
        format!("migrations = \"migrations\"\n[env.stores]\nmembers = \"stores.txt\"\nconcurrency = 4\n{waves}"),
    )
    .unwrap();
    std::fs::write(dir.join("migrations/20260101000000_init.up.sql"), INIT).unwrap();
    std::fs::write(
        dir.join("migrations/20260101000000_init.down.sql"),
        "DROP TABLE orders;\n",
    )
    .unwrap();
}

pub fn json(o: &std::process::Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {o:?}"))
}

/// Each wave's (member, outcome) pairs.
pub fn outcomes(v: &Value) -> Vec<Vec<(String, String)>> {
    v["waves"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            w["members"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| {
                    (
                        m["member"].as_str().unwrap().to_string(),
                        m["outcome"].as_str().unwrap().to_string(),
                    )
                })
                .collect()
        })
        .collect()
}

#[test]
fn a_fleet_deploys_and_its_drift_is_grouped() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    project(dir, 200, None);
    let o = lockstep(&["deploy", "--env", "stores", "--format", "json"], dir);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let v = json(&o);
    let all: Vec<(String, String)> = outcomes(&v).concat();
    assert_eq!(all.len(), 200);
    assert!(all.iter().all(|(_, o)| o == "applied"), "{v}");

    // Nothing to do the second time.
    let o = lockstep(&["deploy", "--env", "stores", "--format", "json"], dir);
    assert_eq!(o.status.code(), Some(0));
    assert!(outcomes(&json(&o))
        .concat()
        .iter()
        .all(|(_, o)| o == "up-to-date"));

    // 37 stores get the same extra index, 2 get a column: two groups, largest first.
    for i in 1..=37 {
        exec(
            &dir.join(format!("db/store{i:03}.db")),
            "CREATE INDEX bi_total ON orders (total);",
        );
    }
    for i in [150, 151] {
        exec(
            &dir.join(format!("db/store{i:03}.db")),
            "ALTER TABLE orders ADD COLUMN segment TEXT;",
        );
    }
    let o = lockstep(&["-v", "drift", "--env", "stores", "--format", "json"], dir);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let v = json(&o);
    let groups = v["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 2, "{v}");
    assert_eq!(groups[0]["members"].as_array().unwrap().len(), 37);
    assert_eq!(groups[0]["items"][0]["object"], "main.bi_total");
    assert_eq!(
        groups[1]["members"],
        serde_json::json!(["store150", "store151"])
    );
    assert_eq!(v["clean"].as_array().unwrap().len(), 161);
    assert!(v["errors"].as_array().unwrap().is_empty());
    // 200 members at one version: one replay.
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.matches("replaying").count(), 1, "{err}");

    let o = lockstep(&["drift", "--env", "stores"], dir);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("39 of 200 members drifted, in 2 groups"),
        "{out}"
    );
    assert!(out.contains("group 1 (37 members)"), "{out}");
    assert!(out.contains("DROP INDEX"), "the group's fix: {out}");

    // One member, as an environment of its own.
    let o = lockstep(
        &[
            "drift", "--env", "stores", "--member", "store150", "--format", "json",
        ],
        dir,
    );
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(json(&o)["env"], "stores/store150");

    // Status: every member a row, and the fleet at a glance.
    let o = lockstep(&["status", "--format", "json"], dir);
    let v = json(&o);
    assert_eq!(v["environments"].as_array().unwrap().len(), 200);
    assert_eq!(v["environments"][0]["env"], "stores/store001");
    assert_eq!(v["fleets"][0]["versions"]["20260101000000"], 200);
}

#[test]
fn waves_halt_after_a_failure_and_a_rerun_resumes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    project(dir, 20, Some("[\"1\", \"25%\", \"100%\"]"));
    // store003 (in the second wave) already has a table the migration creates.
    exec(&dir.join("db/store003.db"), INIT);
    let o = lockstep(
        &["-v", "deploy", "--env", "stores", "--format", "json"],
        dir,
    );
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    // Progress per wave counts members started, finished and failed (on a terminal,
    // the wave's bar; with -v, a line each).
    let err = String::from_utf8_lossy(&o.stderr);
    let said = |what: &str| err.lines().filter(|l| l.ends_with(what)).count();
    assert_eq!(said(": started"), 5, "{err}");
    assert_eq!(said(": finished"), 4, "{err}");
    assert_eq!(said(": failed"), 1, "{err}");
    assert!(err.contains("stores/store003: failed"), "{err}");
    let w = outcomes(&json(&o));
    assert_eq!(w.len(), 3);
    assert_eq!(w[0], vec![("store001".to_string(), "applied".to_string())]);
    assert_eq!(w[1].len(), 4);
    let failed: Vec<&str> = w[1]
        .iter()
        .filter(|(_, o)| o == "failed")
        .map(|(m, _)| m.as_str())
        .collect();
    assert_eq!(failed, ["store003"]);
    assert_eq!(w[2].len(), 15);
    assert!(w[2].iter().all(|(_, o)| o == "skipped"), "{w:?}");
    // The third wave was not touched: no history there.
    assert!(!dir.join("db/store010.db").exists());

    // Fixed by hand; the re-run resumes: the done ones are up to date, the rest apply.
    exec(&dir.join("db/store003.db"), "DROP TABLE orders;");
    let o = lockstep(&["deploy", "--env", "stores", "--format", "json"], dir);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let all = outcomes(&json(&o)).concat();
    let count = |what: &str| all.iter().filter(|(_, o)| o == what).count();
    assert_eq!(count("up-to-date"), 4, "{all:?}");
    assert_eq!(count("applied"), 16, "{all:?}");

    // --waves overrides, and a new migration goes out one member first.
    std::fs::write(dir.join("migrations/20260201000000_items.up.sql"), ITEMS).unwrap();
    assert_eq!(lockstep(&["hash"], dir).status.code(), Some(0));
    let o = lockstep(
        &[
            "deploy", "--env", "stores", "--waves", "1,100%", "--format", "json",
        ],
        dir,
    );
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let w = outcomes(&json(&o));
    assert_eq!(w.iter().map(Vec::len).collect::<Vec<_>>(), [1, 19]);
}

#[test]
fn an_unreachable_member_is_reported_while_the_rest_deploy() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    project(dir, 5, None);
    // A member whose file cannot be created: its directory does not exist.
    let mut members = std::fs::read_to_string(dir.join("stores.txt")).unwrap();
    members.push_str("lost sqlite://no/such/dir/lost.db\n");
    std::fs::write(dir.join("stores.txt"), members).unwrap();
    let o = lockstep(&["deploy", "--env", "stores", "--format", "json"], dir);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let v = json(&o);
    let all = outcomes(&v).concat();
    assert_eq!(all.iter().filter(|(_, o)| o == "applied").count(), 5, "{v}");
    let lost = &v["waves"][0]["members"][5];
    assert_eq!(lost["member"], "lost");
    assert_eq!(lost["outcome"], "failed");
    assert!(
        lost["error"].as_str().unwrap().contains("lost.db"),
        "{lost}"
    );

    let o = lockstep(&["status", "--format", "json"], dir);
    assert_eq!(o.status.code(), Some(2), "an unreachable member is exit 2");
    let v = json(&o);
    assert!(v["environments"][5]["error"].is_string(), "{v}");
    assert_eq!(v["fleets"][0]["unreachable"], serde_json::json!(["lost"]));
}
