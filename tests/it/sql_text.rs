//! Migration text that lockstep must read exactly as the server would (issue 9): an
//! unterminated comment is refused rather than swallowing the statements after it, a
//! byte-order mark hides neither the first statement nor a directive, a control character
//! in a file name is refused, and an interrupted `CREATE INDEX CONCURRENTLY` on a quoted
//! name is settled by its real name.

use crate::harness::{text, Project};
use crate::support::{pg_value, TestPg, TestSqlite};
use std::process::Output;

#[track_caller]
fn expect_code(o: &Output, want: i32, what: &str) {
    assert_eq!(
        o.status.code(),
        Some(want),
        "{what}: expected exit {want}\n--- output ---\n{}",
        text(o)
    );
}

/// A project directory with one environment and native-layout migrations.
/// Each file is written under its name as given (any name, any bytes), then hashed.
fn project(url: &str, migrations: &[(&str, &str)]) -> Project {
    let p = Project::new(&[("dev", url)]);
    for (name, sql) in migrations {
        std::fs::write(p.migrations().join(name), sql).unwrap();
    }
    expect_code(&p.run(&["hash"]), 0, "hash");
    p
}

const UNTERMINATED: &str = "CREATE TABLE a (x int);\n/* oops\nCREATE TABLE c (z int);\n";
const UNTERMINATED_FILE: &str = "20240101000001_oops.up.sql";

/// Deploy and lint of [`UNTERMINATED`] both exit 1 and name the file, the line of the
/// comment, and what is unterminated.
fn assert_refused(p: &Project) {
    let o = p.run(&["deploy", "--env", "dev"]);
    expect_code(&o, 1, "deploy of a file with an unterminated comment");
    let out = text(&o);
    assert!(
        out.contains(&format!("{UNTERMINATED_FILE}:2")),
        "names file and line:\n{out}"
    );
    assert!(out.contains("unterminated /* comment"), "{out}");
    assert!(out.contains("nothing was run"), "{out}");
    assert!(out.contains("hint:"), "{out}");
    let dry = p.run(&["deploy", "--env", "dev", "--dry-run"]);
    expect_code(&dry, 1, "dry run of a file with an unterminated comment");

    let file = p.migrations().join(UNTERMINATED_FILE);
    let l = p.run(&["lint", file.to_str().unwrap()]);
    expect_code(&l, 1, "lint of a file with an unterminated comment");
    let out = text(&l);
    assert!(out.contains("unterminated"), "{out}");
    assert!(out.contains(":2"), "{out}");
}

#[test]
fn unterminated_comment_is_refused_on_sqlite() {
    let db = TestSqlite::new();
    let p = project(&db.url, &[(UNTERMINATED_FILE, UNTERMINATED)]);
    assert_refused(&p);
    let m = db.inspect();
    assert!(
        m.tables.is_empty(),
        "a refused deploy created tables: {:?}",
        m.tables.keys().collect::<Vec<_>>()
    );
    let st = p.run(&["status", "--env", "dev", "--format", "json"]);
    assert!(
        text(&st).contains("20240101000001"),
        "the migration stays pending:\n{}",
        text(&st)
    );
    assert!(
        !text(&st).contains("\"applied\": [\n      \"2024"),
        "{}",
        text(&st)
    );
}

#[test]
fn unterminated_comment_is_refused_on_postgres() {
    let Some(db) = TestPg::new("unterm") else {
        return;
    };
    let p = project(&db.url, &[(UNTERMINATED_FILE, UNTERMINATED)]);
    assert_refused(&p);
    assert_eq!(
        pg_value(
            &db.url,
            "SELECT count(*)::text FROM pg_class WHERE relname IN ('a', 'c')"
        ),
        "0"
    );
    assert_eq!(
        pg_value(
            &db.url,
            "SELECT CASE WHEN to_regclass('lockstep.history') IS NULL THEN '0' ELSE \
             (SELECT count(*)::text FROM lockstep.history) END"
        ),
        "0",
        "nothing recorded"
    );
}

/// A byte-order mark is dropped: the first statement runs, and the no-transaction
/// directive after it counts (VACUUM cannot run in a transaction).
#[test]
fn byte_order_mark_on_postgres() {
    let Some(db) = TestPg::new("bom") else {
        return;
    };
    let p = project(
        &db.url,
        &[(
            "20240101000001_vacuum.up.sql",
            "\u{feff}-- lockstep:no-transaction\nCREATE TABLE t (x int);\nVACUUM t;\n",
        )],
    );
    let o = p.run(&["deploy", "--env", "dev"]);
    expect_code(&o, 0, "deploy of a file with a byte-order mark");
    assert_eq!(
        pg_value(
            &db.url,
            "SELECT count(*)::text FROM pg_class WHERE relname = 't'"
        ),
        "1"
    );
}

#[test]
fn byte_order_mark_on_sqlite() {
    let db = TestSqlite::new();
    let p = project(
        &db.url,
        &[(
            "20240101000001_t.up.sql",
            "\u{feff}-- lockstep:no-transaction\nCREATE TABLE t (x int);\nVACUUM;\n",
        )],
    );
    let o = p.run(&["deploy", "--env", "dev"]);
    expect_code(&o, 0, "deploy of a file with a byte-order mark");
    assert!(db.inspect().tables.keys().any(|q| q.name == "t"));
}

/// A newline in a file name would make `lockstep.sum` unparsable: refused, named with
/// the newline escaped, and no sum written.
#[test]
fn control_character_in_a_migration_name_is_refused() {
    let db = TestSqlite::new();
    let p = Project::new(&[("dev", &db.url)]);
    let m = p.migrations();
    std::fs::write(
        m.join("20240101000001_a\nb.up.sql"),
        "CREATE TABLE t (x int);\n",
    )
    .unwrap();
    for args in [&["hash"][..], &["deploy", "--env", "dev"]] {
        let o = p.run(args);
        assert_ne!(o.status.code(), Some(0), "{args:?}:\n{}", text(&o));
        let out = text(&o);
        assert!(out.contains("control character"), "{args:?}: {out}");
        assert!(out.contains("a\\nb.up.sql"), "{args:?}: names it: {out}");
        assert!(out.contains("hint:"), "{out}");
    }
    assert!(!m.join("lockstep.sum").exists(), "no sum written");
    assert!(!db.path.exists() || db.inspect().tables.is_empty());
}

/// An interrupted `CREATE INDEX CONCURRENTLY "big v"`: a `started` checkpoint and an
/// INVALID index of that name. The next deploy looks the index up by its real name,
/// drops the INVALID one, builds it again and records the migration.
#[test]
fn interrupted_concurrent_index_on_a_quoted_name_is_settled() {
    let Some(db) = TestPg::new("cicq") else {
        return;
    };
    let p = project(
        &db.url,
        &[("20240101000001_big.up.sql", "CREATE TABLE big (v int);\n")],
    );
    expect_code(
        &p.run(&["deploy", "--env", "dev"]),
        0,
        "deploy of the table",
    );
    let stmt = "CREATE INDEX CONCURRENTLY \"big v\" ON big (v)";
    std::fs::write(
        p.migrations().join("20240101000002_idx.up.sql"),
        format!("{stmt};\n"),
    )
    .unwrap();
    expect_code(&p.run(&["hash"]), 0, "hash");
    db.exec(&format!(
        "INSERT INTO big SELECT generate_series(1, 1000);
         CREATE INDEX \"big v\" ON big (v);
         UPDATE pg_index SET indisvalid = false WHERE indexrelid = '\"big v\"'::regclass;
         INSERT INTO lockstep.progress (version, statement_no, statement, line, state, deploy_id, updated_at)
         VALUES ('20240101000002', 1, '{}', 1, 'started', 'crashed', now());",
        stmt.replace('\'', "''")
    ));
    let o = p.run(&["deploy", "--env", "dev"]);
    expect_code(&o, 0, "deploy settling the interrupted index");
    let out = text(&o);
    assert!(out.contains("did not take effect"), "{out}");
    assert_eq!(
        pg_value(
            &db.url,
            "SELECT string_agg(indisvalid::text, ',') FROM pg_index WHERE indexrelid = '\"big v\"'::regclass"
        ),
        "true"
    );
    assert_eq!(
        pg_value(&db.url, "SELECT count(*)::text FROM lockstep.progress"),
        "0",
        "the checkpoint is cleared once the migration is recorded"
    );
    assert_eq!(
        pg_value(
            &db.url,
            "SELECT string_agg(version || ':' || outcome, ',' ORDER BY id) FROM lockstep.history"
        ),
        "20240101000001:applied,20240101000002:applied"
    );
}
