//! Edits of applied migrations: comments and layout are accepted with a note; code is
//! refused, and `hash` will not paper over it unless told.

use crate::cli::lockstep;
use crate::harness::Project;
use crate::support::TestSqlite;

#[test]
fn a_comment_edit_of_an_applied_migration_is_accepted_and_a_code_edit_is_not() {
    let db = TestSqlite::new();
    let project = Project::new(&[("dev", &db.url)]);
    let dir = project.path();
    let file = dir.join("migrations/1_orders.up.sql");
    std::fs::write(
        &file,
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, total INTEGER);\n",
    )
    .unwrap();
    assert_eq!(
        lockstep(&["deploy", "--env", "dev"], dir).status.code(),
        Some(0)
    );

    // Comments and layout only.
    std::fs::write(
        &file,
        "-- Orders taken at the till.\nCREATE TABLE orders (\n    id INTEGER PRIMARY KEY,\n    total INTEGER  -- cents\n);\n",
    )
    .unwrap();
    let o = lockstep(&["status", "--env", "dev"], dir);
    let out = String::from_utf8_lossy(&o.stdout);
    // lockstep.sum still has the old checksum: that is a problem until it is rewritten.
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("changed in comments or layout only"), "{out}");
    assert!(!out.contains("was edited after it was applied"), "{out}");
    let o = lockstep(&["hash"], dir);
    assert_eq!(
        o.status.code(),
        Some(0),
        "hash accepts a comment edit: {o:?}"
    );
    let o = lockstep(&["status", "--env", "dev"], dir);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let o = lockstep(&["deploy", "--env", "dev"], dir);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert!(String::from_utf8_lossy(&o.stdout).contains("nothing to deploy"));

    // Code.
    std::fs::write(
        &file,
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, total NUMERIC);\n",
    )
    .unwrap();
    let o = lockstep(&["status", "--env", "dev"], dir);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("was edited after it was applied"), "{out}");
    let o = lockstep(&["hash"], dir);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "hash refuses: {err}");
    assert!(err.contains("applied on dev"), "{err}");
    let o = lockstep(&["deploy", "--env", "dev"], dir);
    assert_eq!(o.status.code(), Some(1), "deploy refuses: {o:?}");
    let o = lockstep(&["hash", "--allow-applied"], dir);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
}

/// A history table an older lockstep made (no code checksum) is read as it is, never
/// written by a read, and upgraded by the next deploy.
#[test]
fn an_older_history_table_is_read_and_upgraded_by_deploy() {
    let db = TestSqlite::new();
    db.exec(
        "CREATE TABLE lockstep_history (id INTEGER PRIMARY KEY AUTOINCREMENT, version TEXT NOT NULL, name TEXT NOT NULL, checksum TEXT NOT NULL, direction TEXT NOT NULL, outcome TEXT NOT NULL, started_at TEXT NOT NULL, finished_at TEXT, duration_ms INTEGER, os_user TEXT, db_role TEXT, client_host TEXT, lockstep_version TEXT, deploy_id TEXT NOT NULL, error TEXT, failed_statement TEXT, failed_line INTEGER);
         CREATE TABLE lockstep_progress (version TEXT NOT NULL, statement_no INTEGER NOT NULL, statement TEXT NOT NULL, line INTEGER NOT NULL, state TEXT NOT NULL, deploy_id TEXT NOT NULL, updated_at TEXT NOT NULL, PRIMARY KEY (version, statement_no));
         CREATE TABLE a (id INTEGER PRIMARY KEY);",
    );
    let project = Project::new(&[("dev", &db.url)]);
    let dir = project.path();
    project.migration("1", "a", "CREATE TABLE a (id INTEGER PRIMARY KEY);\n");
    let sum = lockstep_core::migrate::dir::checksum("CREATE TABLE a (id INTEGER PRIMARY KEY);\n");
    db.exec(&format!(
        "INSERT INTO lockstep_history (version, name, checksum, direction, outcome, started_at, deploy_id) VALUES ('1', 'a', '{sum}', 'up', 'applied', '2026-01-01T00:00:00Z', 'old')"
    ));
    let o = lockstep(&["status", "--env", "dev", "--format", "json"], dir);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["environments"][0]["current"], "1");
    std::fs::write(
        dir.join("migrations/2_b.up.sql"),
        "CREATE TABLE b (id INTEGER PRIMARY KEY);\n",
    )
    .unwrap();
    assert_eq!(lockstep(&["hash"], dir).status.code(), Some(0));
    let o = lockstep(&["deploy", "--env", "dev"], dir);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let o = lockstep(&["status", "--env", "dev", "--format", "json"], dir);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["environments"][0]["current"], "2", "{v}");
}

/// The same on PostgreSQL, in the `lockstep` schema and in a tenant's schema: the
/// statement that asks whether the table has the current columns must find the column
/// where it is, and only there.
#[test]
fn an_older_postgres_history_table_is_read_and_upgraded_by_deploy() {
    let Some(pg) = crate::support::TestPg::new("oldhist") else {
        return;
    };
    let old = |schema: &str, prefix: &str| {
        format!(
            "CREATE SCHEMA {schema};
             CREATE TABLE {schema}.{prefix}history (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, version text NOT NULL, name text NOT NULL, checksum text NOT NULL, direction text NOT NULL, outcome text NOT NULL, started_at timestamptz NOT NULL, finished_at timestamptz, duration_ms bigint, os_user text, db_role text, client_host text, lockstep_version text, deploy_id text NOT NULL, error text, failed_statement text, failed_line integer);
             CREATE TABLE {schema}.{prefix}progress (version text NOT NULL, statement_no integer NOT NULL, statement text NOT NULL, line integer NOT NULL, state text NOT NULL, deploy_id text NOT NULL, updated_at timestamptz NOT NULL, PRIMARY KEY (version, statement_no));"
        )
    };
    // A column of that name elsewhere must not pass for the history's.
    pg.exec(&format!(
        "{} {} CREATE TABLE public.history (code_checksum text); CREATE TABLE tenant_old.a (id int PRIMARY KEY); CREATE TABLE a (id int PRIMARY KEY);",
        old("lockstep", ""),
        old("tenant_old", "lockstep_")
    ));
    let sum = lockstep_core::migrate::dir::checksum("CREATE TABLE a (id int PRIMARY KEY);\n");
    for table in ["lockstep.history", "tenant_old.lockstep_history"] {
        pg.exec(&format!(
            "INSERT INTO {table} (version, name, checksum, direction, outcome, started_at, deploy_id) VALUES ('1', 'a', '{sum}', 'up', 'applied', now(), 'old')"
        ));
    }
    let tenant = format!("{}?schema=tenant_old", pg.url);
    let project = Project::new(&[("dev", &pg.url), ("tenant", &tenant)]);
    let dir = project.path();
    project.migration("1", "a", "CREATE TABLE a (id int PRIMARY KEY);\n");
    std::fs::write(
        dir.join("migrations/2_b.up.sql"),
        "CREATE TABLE b (id int PRIMARY KEY);\n",
    )
    .unwrap();
    assert_eq!(lockstep(&["hash"], dir).status.code(), Some(0));
    let has_column = |schema: &str, table: &str| {
        crate::harness::pg_value(
            &pg.url,
            &format!("SELECT count(*)::text FROM information_schema.columns WHERE table_schema = '{schema}' AND table_name = '{table}' AND column_name = 'code_checksum'"),
        ) == "1"
    };
    for (env, schema, table) in [
        ("dev", "lockstep", "history"),
        ("tenant", "tenant_old", "lockstep_history"),
    ] {
        let o = lockstep(&["status", "--env", env, "--format", "json"], dir);
        assert_eq!(o.status.code(), Some(0), "{o:?}");
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["environments"][0]["current"], "1", "{env}: {v}");
        assert!(!has_column(schema, table), "{env}: a read wrote");
        // The tenant and the stray table are drift to `dev`.
        let o = lockstep(&["deploy", "--env", env, "--allow-drift"], dir);
        assert_eq!(o.status.code(), Some(0), "{env}: {o:?}");
        assert!(has_column(schema, table), "{env}: deploy did not upgrade");
        let o = lockstep(&["status", "--env", env, "--format", "json"], dir);
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["environments"][0]["current"], "2", "{env}: {v}");
    }
}
