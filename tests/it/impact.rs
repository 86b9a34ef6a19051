//! `lockstep impact` on the demo project: renaming orders.segment lists exactly the demo
//! files and lines that use it.

use crate::cli::lockstep;
use lockstep_search::{Options, Target};
use std::path::Path;

/// (file, line, confidence) of every line in the demo that uses orders.segment.
const EXPECTED: [(&str, u64, &str); 6] = [
    ("app/orders.py", 4, "medium"),
    ("app/orders.py", 6, "high"),
    ("app/orders.py", 7, "medium"),
    ("app/orders.py", 13, "high"),
    ("scripts/daily_sales.sql", 2, "medium"),
    ("scripts/daily_sales.sql", 4, "medium"),
];

fn demo(tmp: &Path) -> std::path::PathBuf {
    let o = lockstep(&["demo", "shop"], tmp);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    tmp.join("shop")
}

#[test]
fn renaming_a_demo_column_lists_exactly_the_files_that_use_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = demo(tmp.path());
    let targets = [Target {
        table: "orders".into(),
        column: Some("segment".into()),
        change: "renamed to channel".into(),
        new_name: Some("channel".into()),
    }];
    // The whole project, as with no `code` configured: the migrations directory is left
    // out and the SQLite files are binary, so neither shows up.
    let hits = lockstep_search::search_with(
        std::slice::from_ref(&dir),
        &targets,
        &Options {
            exclude: vec![dir.join("migrations")],
        },
    );
    let got: Vec<(String, u64, &str)> = hits
        .iter()
        .map(|h| {
            (
                lockstep_search::relative(&h.file, &dir),
                h.line,
                h.confidence.as_str(),
            )
        })
        .collect();
    let want: Vec<(String, u64, &str)> = EXPECTED
        .iter()
        .map(|(f, l, c)| (f.to_string(), *l, *c))
        .collect();
    assert_eq!(got, want);
    assert!(hits.iter().all(|h| h.text.contains("segment")));
}

#[test]
fn impact_command_reports_the_rename_of_a_pending_migration() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = demo(tmp.path());
    let m = dir.join("migrations/20260401090000_segment_channel");
    std::fs::write(
        m.with_extension("up.sql"),
        "ALTER TABLE orders RENAME COLUMN segment TO channel;\n",
    )
    .unwrap();
    std::fs::write(
        m.with_extension("down.sql"),
        "ALTER TABLE orders RENAME COLUMN channel TO segment;\n",
    )
    .unwrap();
    let o = lockstep(&["impact", "--format", "json"], &dir);
    let out = String::from_utf8_lossy(&o.stdout);
    // High-confidence references are findings: exit 1.
    assert_eq!(
        o.status.code(),
        Some(1),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let changes = v["changes"].as_array().unwrap();
    let c = changes
        .iter()
        .find(|c| c["change"] == "column orders.segment renamed to channel")
        .unwrap_or_else(|| panic!("{out}"));
    let got: Vec<(String, u64, String)> = c["references"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["file"].as_str().unwrap().to_string(),
                r["line"].as_u64().unwrap(),
                r["confidence"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want: Vec<(String, u64, String)> = EXPECTED
        .iter()
        .map(|(f, l, c)| (f.to_string(), *l, c.to_string()))
        .collect();
    assert_eq!(got, want, "{out}");

    let o = lockstep(&["impact"], &dir);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains(
            "~ column orders.segment renamed to channel\n  app/orders.py:4: def place_order("
        ),
        "{text}"
    );
    assert!(
        text.contains("  scripts/daily_sales.sql:4: GROUP BY day, o.segment  [medium]\n"),
        "{text}"
    );
}

/// Without --env, impact looks at the migrations new or changed since the git default
/// branch, as lint does: a drop merged long ago is not today's change.
#[test]
fn without_env_impact_looks_at_migrations_new_since_the_default_branch() {
    if !crate::support::has_git() {
        return;
    }
    let git = crate::support::git;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let m = d.join("migrations");
    std::fs::create_dir_all(&m).unwrap();
    std::fs::write(d.join("lockstep.toml"), "migrations = \"migrations\"\n").unwrap();
    std::fs::write(
        m.join("1_old.up.sql"),
        "ALTER TABLE legacy DROP COLUMN flag;\n",
    )
    .unwrap();
    std::fs::write(
        d.join("app.py"),
        "q = \"SELECT legacy.flag, orders.cust_ref FROM legacy, orders\"\n",
    )
    .unwrap();
    let changes = |args: &[&str]| -> Vec<String> {
        let o = lockstep(args, d);
        // Exit 1: the references are high-confidence findings.
        assert!(matches!(o.status.code(), Some(0 | 1)), "{args:?}: {o:?}");
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        v["changes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["change"].as_str().unwrap().to_string())
            .collect()
    };
    let text = |args: &[&str]| String::from_utf8_lossy(&lockstep(args, d).stdout).into_owned();
    // Outside git: every migration, and the note says so.
    assert_eq!(
        changes(&["impact", "--format", "json"]),
        ["column legacy.flag dropped"]
    );
    assert!(text(&["impact"]).contains("every migration in the directory"));

    git(d, &["init", "-q", "-b", "main"]);
    git(d, &["add", "."]);
    git(d, &["commit", "-q", "-m", "one"]);
    git(d, &["checkout", "-q", "-b", "feature"]);
    std::fs::write(
        m.join("2_new.up.sql"),
        "ALTER TABLE orders RENAME COLUMN cust_ref TO customer_id;\n",
    )
    .unwrap();
    assert_eq!(
        changes(&["impact", "--format", "json"]),
        ["column orders.cust_ref renamed to customer_id"]
    );
    let out = text(&["impact"]);
    assert!(out.contains("new or changed since main"), "{out}");
    assert!(out.contains("app.py:1:"), "{out}");
    // --base picks the comparison; a bad ref is an error that names it.
    git(d, &["add", "."]);
    git(d, &["commit", "-q", "-m", "two"]);
    assert!(changes(&["impact", "--base", "feature", "--format", "json"]).is_empty());
    let o = lockstep(&["impact", "--base", "nope"], d);
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    assert!(String::from_utf8_lossy(&o.stderr).contains("--base nope"));
}
