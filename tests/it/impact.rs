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
    if lockstep(&["impact", "--help"], &dir).status.code() != Some(0) {
        eprintln!("SKIPPED: `lockstep impact` is not wired into the CLI yet");
        return;
    }
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
    assert_eq!(
        o.status.code(),
        Some(0),
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
