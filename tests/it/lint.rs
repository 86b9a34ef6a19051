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

/// Statements PostgreSQL's rules flag, written so that every engine's lexer reads them.
/// Each engine's lint reports only its own rules on them, in its own words.
const FLAGGED_ON_POSTGRES: &str = "DROP TABLE old_orders;
ALTER TABLE orders DROP COLUMN legacy;
TRUNCATE orders;
ALTER TABLE orders RENAME TO purchases;
ALTER TABLE items RENAME COLUMN total TO amount;
ALTER TABLE items ALTER COLUMN qty TYPE bigint;
ALTER TABLE items ALTER COLUMN note DROP DEFAULT;
ALTER TABLE items ALTER COLUMN note DROP NOT NULL;
ALTER TABLE items ALTER COLUMN code SET NOT NULL;
ALTER TABLE items ADD COLUMN sku text NOT NULL;
CREATE INDEX items_sku ON items (sku);
DROP INDEX items_old;
REINDEX TABLE items;
ALTER TABLE items ADD CONSTRAINT items_fk FOREIGN KEY (order_id) REFERENCES orders (id);
ALTER TABLE items ADD CONSTRAINT items_qty CHECK (qty > 0);
ALTER TABLE items ADD CONSTRAINT items_sku_key UNIQUE (sku);
ALTER TABLE items ADD COLUMN token varchar(36) DEFAULT gen_random_uuid();
VACUUM FULL items;
BEGIN;
COMMIT;
";

/// What lint says on `FLAGGED_ON_POSTGRES` in a project whose one environment is `url`
/// (no server is needed: without --env lint reads files only).
fn findings_for(url: &str) -> Vec<serde_json::Value> {
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("migrations");
    std::fs::create_dir_all(&m).unwrap();
    std::fs::write(
        dir.path().join("lockstep.toml"),
        format!("migrations = \"migrations\"\n[env.e]\nurl = \"{url}\"\n"),
    )
    .unwrap();
    std::fs::write(m.join("1_all.up.sql"), FLAGGED_ON_POSTGRES).unwrap();
    std::fs::write(m.join("1_all.down.sql"), "SELECT 1;\n").unwrap();
    let o = lockstep(&["lint", "--format", "json"], dir.path());
    json(&o.stdout)
}

/// The SQL in a help's backquotes that is meant to be run as written (a whole statement,
/// ending in `;`, with no `<placeholder>` or `...`): `SET lock_timeout = '2s';`, not
/// `-- lockstep:ignore <rule> <reason>`, nor a mention such as `SET lock_timeout`.
fn runnable(help: &str) -> Vec<String> {
    help.split('`')
        .skip(1)
        .step_by(2)
        .filter(|f| {
            let first = f.split_whitespace().next().unwrap_or("");
            ["SET", "ALTER", "CREATE", "DROP", "REINDEX"].contains(&first)
                && f.trim_end().ends_with(';')
                && !f.contains('<')
                && !f.contains("...")
        })
        .map(String::from)
        .collect()
}

/// Issue 11: on SQLite lint advised `SET lock_timeout` and `CREATE INDEX CONCURRENTLY`,
/// syntax errors there. Each engine gets its own rule set, no message or help names
/// PostgreSQL-only syntax on the others, and every runnable SQL fragment of a help runs
/// on the real engine (PostgreSQL and MySQL when their servers are up; SQLite always).
#[test]
fn every_rule_and_help_fits_the_engine() {
    let postgres_only = [
        "CONCURRENTLY",
        "lock_timeout",
        "statement_timeout",
        "NOT VALID",
        "ACCESS EXCLUSIVE",
        "SHARE ROW EXCLUSIVE",
        "pg_repack",
        "PostgreSQL",
    ];
    let sqlite = crate::support::TestSqlite::new();
    sqlite.exec("CREATE TABLE t (a int);");
    let pg = crate::support::TestPg::new("lint_help");
    let mysql = crate::mysql_support::TestMysql::new("lint_help");
    // Each engine's rules, written out here rather than read from the rule lists, so
    // that a rule added to or dropped from an engine shows up as a failure.
    let engines: [(&str, String, &str); 3] = [
        (
            "postgres",
            "postgres://postgres@127.0.0.1:5432/shop".into(),
            "drop-table create-index-non-concurrently add-foreign-key-without-not-valid \
             missing-lock-timeout missing-statement-timeout transaction-control",
        ),
        (
            "sqlite",
            "sqlite://shop.db".into(),
            // SQLite's grammar has no ALTER COLUMN, ADD CONSTRAINT or TRUNCATE.
            "drop-table drop-column rename-table rename-column add-required-column \
             transaction-control could-not-parse",
        ),
        (
            "mysql",
            "mysql://root@127.0.0.1:3306/shop".into(),
            "drop-table drop-column truncate rename-table rename-column change-column-type \
             drop-default drop-not-null",
        ),
    ];
    for (engine, url, want) in engines {
        let want: Vec<&str> = want.split_whitespace().collect();
        let found = findings_for(&url);
        let got: std::collections::BTreeSet<&str> = rules(&found).into_iter().collect();
        if engine == "postgres" {
            // The control: PostgreSQL's own rules fire, so the test can tell.
            assert!(want.iter().all(|r| got.contains(r)), "{engine}: {got:?}");
        } else {
            let want: std::collections::BTreeSet<&str> = want.iter().copied().collect();
            assert!(got.is_subset(&want), "{engine}: {got:?} beyond {want:?}");
            assert!(
                want.iter()
                    .filter(|r| **r != "could-not-parse")
                    .all(|r| got.contains(r)),
                "{engine}: {got:?} lacks some of {want:?}"
            );
        }
        for f in &found {
            let text = format!("{} {}", f["message"], f["help"]);
            if engine != "postgres" {
                if let Some(w) = postgres_only.iter().find(|w| text.contains(*w)) {
                    panic!("{engine}: `{w}` in {f}");
                }
            }
            for sql in runnable(f["help"].as_str().unwrap()) {
                let r = match engine {
                    "postgres" => pg.as_ref().map(|p| p.try_exec(&sql)),
                    "mysql" => mysql.as_ref().map(|m| m.try_exec(&sql)),
                    _ => Some(crate::support::rt().block_on(async {
                        let u = lockstep_db::DbUrl::parse(&sqlite.url).unwrap();
                        let mut db = lockstep_db::Db::connect(&u, false).await?;
                        let r = db.execute_script(&sql).await;
                        db.close().await;
                        r
                    })),
                };
                if let Some(Err(e)) = r {
                    panic!("{engine}: the help's `{sql}` fails there: {e}\n{f}");
                }
            }
        }
    }
}
