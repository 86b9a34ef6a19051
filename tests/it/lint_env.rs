//! `lockstep lint --env E` on real PostgreSQL: severities follow table sizes, and SET NOT
//! NULL says how many rows would make it fail.

use crate::cli::lockstep;
use crate::harness::Project;
use crate::support::TestPg;
use std::path::Path;

fn project(dir: &Path, small: &str, big: &str) {
    let m = dir.join("migrations");
    std::fs::create_dir_all(&m).unwrap();
    std::fs::write(
        dir.join("lockstep.toml"),
        format!("migrations = \"migrations\"\n[env.small]\nurl = \"{small}\"\n[env.big]\nurl = \"{big}\"\n"),
    )
    .unwrap();
    std::fs::write(
        m.join("1_index.up.sql"),
        "SET lock_timeout = '2s';\nCREATE INDEX orders_a ON orders (a);\n",
    )
    .unwrap();
    std::fs::write(m.join("1_index.down.sql"), "DROP INDEX orders_a;\n").unwrap();
    std::fs::write(
        m.join("2_note.up.sql"),
        "SET lock_timeout = '2s';\nALTER TABLE orders ALTER COLUMN note SET NOT NULL;\n",
    )
    .unwrap();
    std::fs::write(
        m.join("2_note.down.sql"),
        "ALTER TABLE orders ALTER COLUMN note DROP NOT NULL;\n",
    )
    .unwrap();
}

fn finding(dir: &Path, args: &[&str], rule: &str) -> (Option<i32>, serde_json::Value) {
    let o = lockstep(args, dir);
    let v: serde_json::Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{args:?}: {e}: {o:?}"));
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == rule)
        .unwrap_or_else(|| panic!("{args:?}: no {rule}: {v}"))
        .clone();
    (o.status.code(), f)
}

#[test]
fn create_index_severity_follows_the_table_size() {
    let Some(small) = TestPg::new("lint_small") else {
        return;
    };
    let Some(big) = TestPg::new("lint_big") else {
        return;
    };
    small.exec(
        "CREATE TABLE orders (a int, note text);
         INSERT INTO orders SELECT g, CASE WHEN g % 14 = 0 THEN NULL ELSE 'x' END FROM generate_series(1, 100) g;
         ANALYZE orders;",
    );
    big.exec(
        "CREATE TABLE orders (a int, note text);
         INSERT INTO orders SELECT g, 'x' FROM generate_series(1, 5000000) g;
         ANALYZE orders;",
    );
    let dir = tempfile::tempdir().unwrap();
    project(dir.path(), &small.url, &big.url);
    let file = "migrations/1_index.up.sql";
    let rule = "create-index-non-concurrently";

    let (code, f) = finding(
        dir.path(),
        &["lint", file, "--env", "small", "--format", "json"],
        rule,
    );
    assert_eq!(f["severity"], "info", "{f}");
    assert_eq!(f["table_rows"], 100, "{f}");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("about 100 rows: the lock is brief"),
        "{f}"
    );
    assert_eq!(code, Some(0), "{f}");

    let (code, f) = finding(
        dir.path(),
        &["lint", file, "--env", "big", "--format", "json"],
        rule,
    );
    assert_eq!(f["severity"], "error", "{f}");
    let rows = f["table_rows"].as_u64().unwrap();
    assert!((4_500_000..=5_500_000).contains(&rows), "{f}");
    assert!(f["message"]
        .as_str()
        .unwrap()
        .contains(&format!("about {rows} rows")));
    assert_eq!(code, Some(1), "{f}");

    // Without --env: the rule's default.
    let (_, f) = finding(dir.path(), &["lint", file, "--format", "json"], rule);
    assert_eq!(f["severity"], "error", "{f}");
    assert!(f.get("table_rows").is_none(), "{f}");

    // SET NOT NULL: the NULLs are counted (100 / 14 = 7 rows).
    let (code, f) = finding(
        dir.path(),
        &[
            "lint",
            "migrations/2_note.up.sql",
            "--env",
            "small",
            "--format",
            "json",
        ],
        "add-not-null",
    );
    let msg = f["message"].as_str().unwrap();
    assert!(msg.contains("7 row(s) have NULL in note"), "{f}");
    assert_eq!(f["severity"], "error", "{f}");
    assert_eq!(code, Some(1));

    // Pending migrations of the env, without files: the big table has no NULLs.
    let o = lockstep(&["lint", "--env", "big", "--format", "json"], dir.path());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let nn = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "add-not-null")
        .unwrap_or_else(|| panic!("{v}"));
    assert!(
        nn["message"]
            .as_str()
            .unwrap()
            .contains("no row has NULL in note today"),
        "{nn}"
    );
}

/// A new NOT NULL column with no default: under --env the rows it would fail on are
/// counted, so an empty table downgrades it and a filled one confirms the failure.
#[test]
fn add_required_column_counts_the_rows_it_fails_on() {
    let Some(db) = TestPg::new("lint_required") else {
        return;
    };
    db.exec(
        "CREATE TABLE items (id int); INSERT INTO items VALUES (1), (2), (3); ANALYZE items;
         CREATE TABLE empty_t (id int); ANALYZE empty_t;",
    );
    let project = Project::new(&[("dev", &db.url)]);
    let d = project.path();
    std::fs::write(
        d.join("m.sql"),
        "ALTER TABLE items ADD COLUMN c int NOT NULL;\nALTER TABLE empty_t ADD COLUMN c int NOT NULL;\n",
    )
    .unwrap();
    let o = lockstep(&["lint", "m.sql", "--env", "dev", "--format", "json"], d);
    let v: serde_json::Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {o:?}"));
    let found: Vec<&serde_json::Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "add-required-column")
        .collect();
    assert_eq!(found.len(), 2, "{v}");
    assert_eq!(found[0]["line"], 1);
    assert_eq!(found[0]["severity"], "error", "{v}");
    assert!(
        found[0]["message"]
            .as_str()
            .unwrap()
            .contains("has 3 row(s) today"),
        "{v}"
    );
    assert_eq!(found[1]["severity"], "warning", "{v}");
    assert!(
        found[1]["message"]
            .as_str()
            .unwrap()
            .contains("empty today"),
        "{v}"
    );
    assert_eq!(o.status.code(), Some(1));
}

/// DROP INDEX names no table; under --env lockstep looks the index up and sizes its
/// table on PostgreSQL. SQLite has no DROP INDEX CONCURRENTLY to suggest (a drop holds
/// the database's write lock whatever is written), so there it is no finding.
#[test]
fn drop_index_is_sized_by_its_table() {
    let sqlite = crate::support::TestSqlite::new();
    sqlite.exec(
        "CREATE TABLE orders (a int); CREATE INDEX orders_a ON orders (a);
         INSERT INTO orders VALUES (1), (2), (3);",
    );
    let mut envs = vec![("sqlite", sqlite.url.clone(), None)];
    let pg = TestPg::new("lint_dropidx");
    if let Some(pg) = &pg {
        pg.exec(
            "CREATE TABLE orders (a int); CREATE INDEX orders_a ON orders (a);
             INSERT INTO orders SELECT g FROM generate_series(1, 250) g; ANALYZE orders;",
        );
        envs.push(("pg", pg.url.clone(), Some(250)));
    }
    for (name, url, rows) in envs {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("migrations")).unwrap();
        std::fs::write(
            d.join("lockstep.toml"),
            format!("migrations = \"migrations\"\n[env.e]\nurl = \"{url}\"\n"),
        )
        .unwrap();
        std::fs::write(d.join("m.sql"), "DROP INDEX orders_a;\n").unwrap();
        let args = ["lint", "m.sql", "--env", "e", "--format", "json"];
        let Some(rows) = rows else {
            let o = lockstep(&args, d);
            let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
            assert_eq!(v["findings"], serde_json::json!([]), "{name}: {o:?}");
            continue;
        };
        let (_, f) = finding(d, &args, "drop-index-non-concurrently");
        assert_eq!(f["table_rows"], rows, "{name}: {f}");
        assert_eq!(f["severity"], "info", "{name}: {f}");
    }
}

/// Issue 11: with --env, the server's parser settles what lockstep's cannot parse, on
/// a scratch database in a transaction that is rolled back: valid SQL is no finding, a
/// typo is an error (exit 1). Without --env the typo stays a warning.
#[test]
fn the_server_settles_statements_lockstep_cannot_parse() {
    let Some(pg) = TestPg::new("lint_parse") else {
        return;
    };
    pg.exec("CREATE TABLE orders (id int, total int);");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("migrations")).unwrap();
    std::fs::write(
        d.join("lockstep.toml"),
        format!(
            "migrations = \"migrations\"\n[env.e]\nurl = \"{}\"\n",
            pg.url
        ),
    )
    .unwrap();
    // Valid PostgreSQL that neither sqlparser nor lockstep's own shapes read.
    std::fs::write(
        d.join("valid.sql"),
        "CREATE OPERATOR === (LEFTARG = int, RIGHTARG = int, FUNCTION = int4eq);\n",
    )
    .unwrap();
    std::fs::write(
        d.join("typo.sql"),
        "SET lock_timeout = '2s';\nALTER TABLE orders ADD COLUM note text;\n",
    )
    .unwrap();
    let json = |args: &[&str]| {
        let o = lockstep(args, d);
        let v: serde_json::Value =
            serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{args:?}: {e}: {o:?}"));
        (o.status.code(), v["findings"].as_array().unwrap().clone())
    };
    let (code, f) = json(&["lint", "valid.sql", "--format", "json"]);
    assert_eq!((code, f.len()), (Some(0), 1), "{f:?}");
    assert_eq!(f[0]["rule"], "could-not-parse");
    let (code, f) = json(&["lint", "valid.sql", "--env", "e", "--format", "json"]);
    assert_eq!((code, f.len()), (Some(0), 0), "{f:?}");

    let (code, f) = json(&["lint", "typo.sql", "--format", "json"]);
    assert_eq!(code, Some(0), "{f:?}");
    assert_eq!(f[0]["severity"], "warning", "{f:?}");
    let (code, f) = json(&["lint", "typo.sql", "--env", "e", "--format", "json"]);
    assert_eq!(code, Some(1), "{f:?}");
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0]["rule"], "could-not-parse");
    assert_eq!(f[0]["severity"], "error");
    assert!(
        f[0]["message"]
            .as_str()
            .unwrap()
            .contains("syntax error at or near \"text\""),
        "{f:?}"
    );
    // Nothing was left behind: the column does not exist, and no scratch database.
    let o = std::process::Command::new("psql")
        .args(["-XAtq", &pg.url, "-c"])
        .arg("SELECT count(*) FROM information_schema.columns WHERE table_name = 'orders' AND column_name = 'note'")
        .output();
    if let Ok(o) = o {
        assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "0");
    }
}

fn linted_files(dir: &Path, args: &[&str]) -> Vec<String> {
    let o = lockstep(args, dir);
    let v: serde_json::Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{args:?}: {e}: {o:?}"));
    let mut files: Vec<String> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["file"].as_str().unwrap().to_string())
        .collect();
    files.dedup();
    files
}

#[test]
fn without_files_lint_looks_at_migrations_changed_since_the_default_branch() {
    if !crate::support::has_git() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let m = d.join("migrations");
    std::fs::create_dir_all(&m).unwrap();
    std::fs::write(d.join("lockstep.toml"), "migrations = \"migrations\"\n").unwrap();
    std::fs::write(m.join("1_a.up.sql"), "DROP TABLE a;\n").unwrap();
    // Outside git: every migration.
    assert_eq!(
        linted_files(d, &["lint", "--format", "json"]),
        ["migrations/1_a.up.sql"]
    );
    crate::support::git(d, &["init", "-q", "-b", "main"]);
    crate::support::git(d, &["add", "."]);
    crate::support::git(d, &["commit", "-q", "-m", "one"]);
    crate::support::git(d, &["checkout", "-q", "-b", "feature"]);
    std::fs::write(m.join("2_b.up.sql"), "DROP TABLE b;\n").unwrap();
    // On a branch: only the new migration (untracked counts as new).
    assert_eq!(
        linted_files(d, &["lint", "--format", "json"]),
        ["migrations/2_b.up.sql"]
    );
    crate::support::git(d, &["add", "."]);
    crate::support::git(d, &["commit", "-q", "-m", "two"]);
    assert_eq!(
        linted_files(d, &["lint", "--format", "json"]),
        ["migrations/2_b.up.sql"]
    );
    // --base chooses the comparison: against the feature branch itself, nothing changed.
    assert!(linted_files(d, &["lint", "--base", "feature", "--format", "json"]).is_empty());
    let o = lockstep(&["lint", "--base", "nope"], d);
    assert_eq!(o.status.code(), Some(2), "{o:?}");
}

#[test]
fn check_has_lint_and_impact_sections() {
    let db = crate::support::TestSqlite::new();
    db.exec("CREATE TABLE orders (id int, note text); INSERT INTO orders VALUES (1, 'a');");
    let project = Project::new(&[("dev", &db.url)]);
    let d = project.path();
    std::fs::write(d.join("migrations/1_drop.up.sql"), "DROP TABLE orders;\n").unwrap();
    std::fs::write(
        d.join("app.py"),
        "cur.execute(\"SELECT note FROM orders\")\n",
    )
    .unwrap();
    let o = lockstep(&["check", "--env", "dev", "--format", "json"], d);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let checks = v["checks"].as_array().unwrap();
    let get = |name: &str| {
        checks
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("no {name}: {v}"))
            .clone()
    };
    let lint = get("lint");
    assert_eq!(lint["ok"], false, "{lint}");
    assert!(
        lint["detail"].as_str().unwrap().contains("drop-table"),
        "{lint}"
    );
    let impact = get("impact");
    assert_eq!(impact["ok"], true, "{impact}");
    let detail = impact["detail"].as_str().unwrap();
    assert!(detail.contains("1 schema change(s)"), "{impact}");
    assert!(!detail.contains(" 0 code reference(s)"), "{impact}");
    assert_eq!(v["verdict"], "fail");
}
