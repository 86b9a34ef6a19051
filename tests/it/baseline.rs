//! `lockstep baseline`: adopting a database built without lockstep, after proving that it
//! is what the migrations say.

use crate::cli::lockstep;
use crate::harness::Project;
use crate::support::{corpus, TestPg, TestSqlite};
use std::path::Path;
use std::process::Command;

fn lemmy_dirs(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| dir.join(n).join("up.sql").is_file())
        .collect();
    names.sort();
    names
}

fn psql(url: &str, file: &Path) {
    let o = Command::new("psql")
        .args(["-q", "-X", "-v", "ON_ERROR_STOP=1", "-f"])
        .arg(file)
        .arg(url)
        .output()
        .expect("psql");
    assert!(o.status.success(), "psql -f {}: {o:?}", file.display());
}

#[test]
fn a_database_built_by_psql_is_baselined_then_deploys() {
    let Some(lemmy) = corpus("lemmy-0.19.21/migrations") else {
        return;
    };
    let (Some(prod), Some(other)) = (TestPg::new("base"), TestPg::new("base_drift")) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    crate::deploy::copy_dir(&lemmy, &dir.join("migrations"));
    std::fs::write(
        dir.join("lockstep.toml"),
        format!(
            "migrations = \"migrations\"\nlayout = \"diesel\"\ncode = []\n[env.prod]\nurl = \"{}\"\n[env.other]\nurl = \"{}\"\n",
            prod.url, other.url
        ),
    )
    .unwrap();
    let dirs = lemmy_dirs(&dir.join("migrations"));
    // Every up.sql in order, as one psql script (one psql run per database).
    let mut all = String::new();
    for d in &dirs {
        all.push_str(
            &std::fs::read_to_string(dir.join("migrations").join(d).join("up.sql")).unwrap(),
        );
        all.push_str("\n;\n");
    }
    let script = tmp.path().join("all.sql");
    std::fs::write(&script, all).unwrap();
    psql(&prod.url, &script);
    psql(&other.url, &script);
    let last = dirs.last().unwrap().split('_').next().unwrap().to_string();

    // Before: lockstep sees every migration as pending.
    let o = lockstep(&["status", "--env", "prod", "--format", "json"], dir);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        v["environments"][0]["pending"].as_array().unwrap().len(),
        dirs.len()
    );

    let o = lockstep(&["baseline", "--env", "prod", "--to", &last], dir);
    let out = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        out.contains(&format!(
            "recorded {} migrations as applied without running them",
            dirs.len()
        )),
        "{out}"
    );

    let o = lockstep(&["drift", "--env", "prod"], dir);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let o = lockstep(&["status", "--env", "prod", "--format", "json"], dir);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(o.status.code(), Some(0), "{v}");
    assert!(
        v["environments"][0]["pending"]
            .as_array()
            .unwrap()
            .is_empty(),
        "{v}"
    );
    assert_eq!(
        v["environments"][0]["applied"].as_array().unwrap().len(),
        dirs.len()
    );

    // A new migration deploys on top.
    let new = dir.join("migrations/2099-01-01-000000_after_baseline");
    std::fs::create_dir_all(&new).unwrap();
    std::fs::write(
        new.join("up.sql"),
        "CREATE TABLE after_baseline (id int);\n",
    )
    .unwrap();
    std::fs::write(new.join("down.sql"), "DROP TABLE after_baseline;\n").unwrap();
    assert_eq!(lockstep(&["hash"], dir).status.code(), Some(0));
    let o = lockstep(&["deploy", "--env", "prod"], dir);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert!(String::from_utf8_lossy(&o.stdout).contains("applied 1 migration"));

    // One out-of-band change: refused, with that item, and nothing recorded.
    other.exec("ALTER TABLE person ADD COLUMN bi_segment text;");
    let o = lockstep(&["baseline", "--env", "other", "--to", &last], dir);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("drift item 1: column public.person.bi_segment"),
        "{err}"
    );
    assert!(err.contains("nothing was recorded"), "{err}");
    let o = lockstep(&["status", "--env", "other", "--format", "json"], dir);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(
        v["environments"][0]["applied"]
            .as_array()
            .unwrap()
            .is_empty(),
        "{v}"
    );
}

#[test]
fn baseline_refuses_an_unknown_version_and_a_database_with_history() {
    let db = TestSqlite::new();
    let project = Project::new(&[("dev", &db.url)]);
    let dir = project.path();
    project.migration("1", "a", "CREATE TABLE a (id INTEGER PRIMARY KEY);\n");
    db.exec("CREATE TABLE a (id INTEGER PRIMARY KEY);");
    let o = lockstep(&["baseline", "--env", "dev", "--to", "7"], dir);
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    assert!(String::from_utf8_lossy(&o.stderr).contains("version 7 is not a migration"));
    let o = lockstep(&["baseline", "--env", "dev", "--to", "1"], dir);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    // Again: already there.
    let o = lockstep(&["baseline", "--env", "dev", "--to", "1"], dir);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert!(String::from_utf8_lossy(&o.stdout).contains("already baselined"));
    std::fs::write(
        dir.join("migrations/2_b.up.sql"),
        "CREATE TABLE b (id INTEGER PRIMARY KEY);\n",
    )
    .unwrap();
    let o = lockstep(
        &["baseline", "--env", "dev", "--to", "2", "--no-verify"],
        dir,
    );
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    assert!(String::from_utf8_lossy(&o.stderr).contains("already has lockstep history"));
}
