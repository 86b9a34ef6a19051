//! `lockstep audit` on PostgreSQL: event triggers record who made each out-of-band
//! change, drift names the author, lockstep's own deploys are never out-of-band, the
//! audit never blocks anybody's DDL however it is damaged, temporary tables leave no
//! trace and no statement gives two rows; and where the audit cannot be installed, what
//! lockstep does instead.

use crate::cli::lockstep;
use crate::support::{pg_admin_url, unique_name, TestPg, TestSqlite};
use serde_json::Value;
use std::path::Path;
use std::process::Output;

fn project(dir: &Path, url: &str) {
    project_with(dir, url, "");
}

/// A project whose `prod` is `url`, with `extra` lines in its environment.
fn project_with(dir: &Path, url: &str, extra: &str) {
    std::fs::create_dir_all(dir.join("migrations")).unwrap();
    std::fs::write(
        dir.join("lockstep.toml"),
        format!("migrations = \"migrations\"\n[env.prod]\nurl = \"{url}\"\n{extra}"),
    )
    .unwrap();
    std::fs::write(
        dir.join("migrations/20260101000000_orders.up.sql"),
        "CREATE TABLE orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, total_cents integer NOT NULL);\n",
    )
    .unwrap();
}

/// A project whose `prod` is `url`, deployed.
fn deployed(url: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    project(tmp.path(), url);
    ok(tmp.path(), &["deploy", "--env", "prod"]);
    tmp
}

/// A test database with a project deployed to it, or None when the suite is skipped.
fn deployed_db(prefix: &str) -> Option<(TestPg, tempfile::TempDir)> {
    let prod = TestPg::new(prefix)?;
    let tmp = deployed(&prod.url);
    Some((prod, tmp))
}

/// `audit install` succeeds; its output.
fn install(dir: &Path) -> String {
    ok(dir, &["audit", "install", "--env", "prod"])
}

/// Writes `migrations` (file name, SQL) into the project, then hashes and deploys them.
fn deploy_new(dir: &Path, migrations: &[(&str, &str)]) {
    for (file, sql) in migrations {
        std::fs::write(dir.join("migrations").join(file), sql).unwrap();
    }
    ok(dir, &["hash"]);
    ok(dir, &["deploy", "--env", "prod"]);
}

/// A project with one environment, `prod`, at `url`, and no migrations.
fn bare(url: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tmp.path().join("migrations")).unwrap();
    std::fs::write(
        tmp.path().join("lockstep.toml"),
        format!("migrations = \"migrations\"\n[env.prod]\nurl = \"{url}\"\n"),
    )
    .unwrap();
    tmp
}

fn run(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let o: Output = lockstep(args, dir);
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Runs lockstep, which must exit 0; its stdout.
fn ok(dir: &Path, args: &[&str]) -> String {
    let (code, out, err) = run(dir, args);
    assert_eq!(code, Some(0), "{args:?}: {out} {err}");
    out
}

fn json(dir: &Path, args: &[&str]) -> Value {
    let (code, out, err) = run(dir, args);
    assert!(
        matches!(code, Some(0 | 1)),
        "{args:?}: {code:?} {out} {err}"
    );
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out} {err}"))
}

/// The item of `drift --env prod --format json` about `object`.
fn drift_item(dir: &Path, object: &str) -> Value {
    let d = json(dir, &["drift", "--env", "prod", "--format", "json"]);
    let items = d["items"].as_array().unwrap();
    let it = items.iter().find(|i| i["object"] == object);
    it.cloned()
        .unwrap_or_else(|| panic!("no drift item for {object}: {d}"))
}

/// The URL of the same database as `role`, with `query` (trust authentication).
fn as_role(url: &str, role: &str, query: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let rest = rest.split_once('@').map(|(_, r)| r).unwrap_or(rest);
    format!("{scheme}://{role}@{rest}{query}")
}

/// Runs each statement on `url`.
fn exec_on(url: &str, sql: &[&str]) {
    for s in sql {
        TestPg::exec_url(url, s);
    }
}

/// A role on the server for one test, used in the database `db`: dropped on `drop`
/// with what it owns there and the privileges it holds, so that nothing outlives the
/// test.
struct Role {
    name: String,
    db: String,
}

impl Role {
    fn new(prefix: &str, attrs: &str, db: &TestPg) -> Role {
        let name = unique_name(prefix);
        exec_on(
            &pg_admin_url(),
            &[&format!("CREATE ROLE \"{name}\" LOGIN {attrs}")],
        );
        Role {
            name,
            db: db.url.clone(),
        }
    }
}

impl Drop for Role {
    fn drop(&mut self) {
        let name = self.name.clone();
        let gone = |url: &str, sql: String| {
            let _ = crate::harness::exec(url, &sql);
        };
        gone(
            &self.db,
            format!("REASSIGN OWNED BY \"{name}\" TO postgres; DROP OWNED BY \"{name}\""),
        );
        gone(&pg_admin_url(), format!("DROP ROLE IF EXISTS \"{name}\""));
    }
}

/// Runs each statement through psql (a separate session each time), returning its
/// stderr: the server's WARNINGs reach a client there. None when psql is not installed.
fn psql(url: &str, sql: &str) -> Option<String> {
    let o = std::process::Command::new("psql")
        .args([url, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .output()
        .ok()?;
    assert!(
        o.status.success(),
        "the statement failed: {sql}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    Some(String::from_utf8_lossy(&o.stderr).into_owned())
}

/// The DDL succeeds, and where psql shows the server's messages, with the audit's
/// warning.
fn succeeds_with_warning(url: &str, sql: &str) {
    match psql(url, sql) {
        Some(err) => assert!(
            err.contains("WARNING:  lockstep audit: could not record"),
            "{sql}: no warning: {err}"
        ),
        None => exec_on(url, &[sql]),
    }
}

fn count(url: &str, sql: &str) -> i64 {
    crate::support::pg_value(url, sql).parse().unwrap()
}

#[test]
fn drift_names_the_role_application_client_and_statement_of_ten_changes() {
    let Some((prod, tmp)) = deployed_db("audit_ten") else {
        return;
    };
    let dir = tmp.path();
    let out = install(dir);
    assert!(out.contains("audit installed"), "{out}");
    // Idempotent.
    let out = install(dir);
    assert!(out.contains("audit repaired"), "{out}");

    // lockstep's own deploy after install: recorded as lockstep's, never out-of-band.
    deploy_new(
        dir,
        &[(
            "20260102000000_customers.up.sql",
            "CREATE TABLE customers (id bigint PRIMARY KEY, email text NOT NULL);\nCREATE INDEX customers_email ON customers (email);\n",
        )],
    );
    let log = json(dir, &["audit", "log", "--env", "prod", "--format", "json"]);
    let records = log["records"].as_array().unwrap();
    assert!(
        records.iter().any(|r| r["objects"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o == "public.customers")),
        "the deploy's DDL is recorded: {log}"
    );
    assert!(
        records.iter().all(|r| r["deploy_id"].is_string()),
        "every record of the deploy carries its id: {log}"
    );
    assert_eq!(
        json(dir, &["drift", "--env", "prod", "--format", "json"])["items"],
        Value::Array(vec![]),
        "the deploy is no drift"
    );

    // Another role, with its own application name, changes ten things by hand.
    let bi = Role::new("bi_etl", "", &prod);
    exec_on(
        &prod.url,
        &[&format!(
            "GRANT CREATE ON SCHEMA public TO \"{0}\"; GRANT CREATE ON DATABASE \"{1}\" TO \"{0}\"; ALTER TABLE orders OWNER TO \"{0}\"",
            bi.name, prod.name
        )],
    );
    // The owner change above is the superuser's: it is drift of its own, by postgres.
    let bi_url = as_role(&prod.url, &bi.name, "?application_name=bi_module");
    let changes: [(&str, &str, &str); 10] = [
        (
            "column",
            "public.orders.segment",
            "ALTER TABLE orders ADD COLUMN segment text",
        ),
        (
            "column",
            "public.orders.total_cents",
            "ALTER TABLE orders ALTER COLUMN total_cents TYPE bigint",
        ),
        (
            "index",
            "public.orders_total_idx",
            "CREATE INDEX orders_total_idx ON orders (total_cents)",
        ),
        (
            "table",
            "public.bi_facts",
            "CREATE TABLE bi_facts (id integer, amount numeric)",
        ),
        (
            "view",
            "public.bi_orders",
            "CREATE VIEW bi_orders AS SELECT id, total_cents FROM orders",
        ),
        (
            "constraint",
            "public.orders.orders_total_positive",
            "ALTER TABLE orders ADD CONSTRAINT orders_total_positive CHECK (total_cents >= 0)",
        ),
        (
            "function",
            "public.bi_total",
            "CREATE FUNCTION bi_total(n integer) RETURNS integer LANGUAGE sql AS 'SELECT n * 100'",
        ),
        ("sequence", "public.bi_seq", "CREATE SEQUENCE bi_seq"),
        (
            "type",
            "public.bi_segment",
            "CREATE TYPE bi_segment AS ENUM ('retail', 'wholesale')",
        ),
        ("schema", "bi", "CREATE SCHEMA bi"),
    ];
    for (_, _, sql) in &changes {
        exec_on(&bi_url, &[sql]);
    }

    let d = json(dir, &["drift", "--env", "prod", "--format", "json"]);
    let items = d["items"].as_array().unwrap();
    for (kind, object, sql) in &changes {
        let it = items
            .iter()
            .find(|i| i["kind"] == *kind && i["object"].as_str().unwrap().starts_with(object))
            .unwrap_or_else(|| panic!("no {kind} {object} in {d}"));
        let a = &it["author"];
        assert_eq!(a["role"], bi.name.as_str(), "{kind} {object}: {it}");
        assert_eq!(a["application"], "bi_module", "{it}");
        assert_eq!(a["client"], "127.0.0.1", "{it}");
        assert_eq!(a["statement"], *sql, "{it}");
        assert!(a["at"].as_str().unwrap().ends_with('Z'), "{it}");
    }
    let owner = items
        .iter()
        .find(|i| i["kind"] == "owner")
        .unwrap_or_else(|| panic!("the owner change: {d}"));
    assert_eq!(owner["author"]["role"], "postgres", "{owner}");

    // A grant is recorded and attributed; the role it names was made by CREATE ROLE,
    // which no event trigger sees: drift says so.
    let reader = Role::new("reader", "", &prod);
    let grant = format!("GRANT SELECT ON orders TO \"{}\"", reader.name);
    exec_on(&prod.url, &[&grant]);
    let d = json(dir, &["drift", "--env", "prod", "--format", "json"]);
    let items = d["items"].as_array().unwrap();
    let g = items
        .iter()
        .find(|i| i["kind"] == "grant" && i["object"].as_str().unwrap().ends_with(&reader.name))
        .unwrap_or_else(|| panic!("the grant: {d}"));
    assert_eq!(g["author"]["statement"], grant.as_str(), "{g}");
    assert_eq!(g["author"]["role"], "postgres", "{g}");
    if items.iter().any(|i| i["kind"] == "role") {
        assert!(
            d["audit_note"]
                .as_str()
                .is_some_and(|n| n.contains("CREATE ROLE and ALTER ROLE fire no event trigger")),
            "{d}"
        );
    }

    // People read it in one line.
    let (code, out, _) = run(dir, &["drift", "--env", "prod"]);
    assert_eq!(code, Some(1));
    assert!(
        out.contains(&format!(
            "added by {} from 127.0.0.1 (bi_module) on ",
            bi.name
        )) && out.contains(": `ALTER TABLE orders ADD COLUMN segment text`"),
        "{out}"
    );

    // The log lists the records newest first; --since narrows it.
    let log = json(dir, &["audit", "log", "--env", "prod", "--format", "json"]);
    let ids: Vec<i64> = log["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "{ids:?}");
    let (code, out, _) = run(dir, &["audit", "log", "--env", "prod", "--since", "1h"]);
    assert_eq!(code, Some(0));
    assert!(out.contains("CREATE SCHEMA by"), "{out}");

    // Uninstall removes it all, and drift says the author is no longer known.
    let (code, out, _) = run(dir, &["audit", "uninstall", "--env", "prod"]);
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(
        count(
            &prod.url,
            "SELECT count(*) FROM pg_event_trigger WHERE evtname LIKE 'lockstep%'"
        ),
        0
    );
    assert_eq!(
        crate::support::pg_value(&prod.url, "SELECT to_regclass('lockstep.audit')::text"),
        "<null>"
    );
    let (_, out, _) = run(dir, &["drift", "--env", "prod"]);
    assert!(
        out.contains("note: who made these changes is not recorded"),
        "{out}"
    );
}

#[test]
fn a_damaged_audit_never_blocks_ddl() {
    let Some((prod, tmp)) = deployed_db("audit_damage") else {
        return;
    };
    let dir = tmp.path();
    let records = || count(&prod.url, "SELECT count(*) FROM lockstep.audit");

    // The table dropped.
    install(dir);
    prod.exec("DROP TABLE lockstep.audit");
    succeeds_with_warning(&prod.url, "CREATE TABLE t1 (a int)");
    succeeds_with_warning(&prod.url, "ALTER TABLE t1 ADD COLUMN b int");
    succeeds_with_warning(&prod.url, "DROP TABLE t1");
    // Drift goes on, with a note.
    prod.exec("CREATE TABLE t2 (a int)");
    let (code, out, err) = run(dir, &["drift", "--env", "prod"]);
    assert_eq!(code, Some(1), "{out} {err}");
    assert!(out.contains("note: the audit could not be read"), "{out}");
    install(dir);
    prod.exec("CREATE TABLE t3 (a int)");
    assert_eq!(records(), 1, "repaired");

    // Its permissions revoked, for a role that is not its owner.
    let dev = Role::new("dev", "", &prod);
    prod.exec(&format!(
        "GRANT CREATE ON SCHEMA public TO \"{}\"; REVOKE USAGE ON SCHEMA lockstep FROM PUBLIC; REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA lockstep FROM PUBLIC; REVOKE ALL ON lockstep.audit FROM PUBLIC",
        dev.name
    ));
    let dev_url = as_role(&prod.url, &dev.name, "");
    succeeds_with_warning(&dev_url, "CREATE TABLE dev_t (a int)");
    succeeds_with_warning(&dev_url, "CREATE INDEX dev_t_a ON dev_t (a)");
    succeeds_with_warning(&dev_url, "DROP TABLE dev_t");
    install(dir);
    exec_on(
        &dev_url,
        &["CREATE TABLE dev_u (a int)", "DROP TABLE dev_u"],
    );

    // Its schema renamed.
    prod.exec("ALTER SCHEMA lockstep RENAME TO lockstep_was");
    succeeds_with_warning(&prod.url, "CREATE TABLE t4 (a int)");
    succeeds_with_warning(&prod.url, "DROP TABLE t4");
    prod.exec("ALTER SCHEMA lockstep_was RENAME TO lockstep");

    // The role that owns the audit: PostgreSQL refuses to drop it while it owns the
    // triggers (the DBA's statement fails, nobody else's); the ways it does allow leave
    // every statement working.
    let owner = Role::new("audit_owner", "SUPERUSER", &prod);
    let owner_url = as_role(&prod.url, &owner.name, "");
    std::fs::write(
        dir.join("lockstep.toml"),
        format!(
            "migrations = \"migrations\"\n[env.prod]\nurl = \"{}\"\n[env.owner]\nurl = \"{owner_url}\"\n",
            prod.url
        ),
    )
    .unwrap();
    run(dir, &["audit", "uninstall", "--env", "prod"]);
    ok(dir, &["audit", "install", "--env", "owner"]);
    assert_eq!(
        crate::support::pg_value(
            &prod.url,
            "SELECT pg_get_userbyid(proowner) FROM pg_proc WHERE proname = 'audit_write'"
        ),
        owner.name
    );
    let refused = prod.try_exec(&format!("DROP ROLE \"{}\"", owner.name));
    assert!(
        refused.is_err(),
        "PostgreSQL keeps a role that owns objects"
    );
    // Reassigned: the audit goes on recording.
    prod.exec(&format!("REASSIGN OWNED BY \"{}\" TO postgres", owner.name));
    let before = records();
    prod.exec("CREATE TABLE t5 (a int)");
    assert_eq!(records(), before + 1);
    // Dropped with what it owned: the triggers go with it, and DDL goes on.
    run(dir, &["audit", "install", "--env", "owner"]);
    prod.exec(&format!("DROP OWNED BY \"{}\"", owner.name));
    exec_on(&pg_admin_url(), &[&format!("DROP ROLE \"{}\"", owner.name)]);
    prod.exec("CREATE TABLE t6 (a int); DROP TABLE t6");
    // The writer owned by a role without the rights it needs: a warning, not an error.
    install(dir);
    let weak = Role::new("weak", "", &prod);
    prod.exec(&format!(
        "ALTER FUNCTION lockstep.audit_write(text, text, text) OWNER TO \"{}\"",
        weak.name
    ));
    succeeds_with_warning(&prod.url, "CREATE TABLE t7 (a int)");
    run(dir, &["audit", "uninstall", "--env", "prod"]);
}

#[test]
fn temporary_tables_leave_no_row_and_no_statement_gives_two() {
    let Some((prod, tmp)) = deployed_db("audit_temp") else {
        return;
    };
    let dir = tmp.path();
    install(dir);

    // A migration that creates and drops a temporary table, and one that builds an index
    // concurrently (outside a transaction).
    deploy_new(
        dir,
        &[
            (
                "20260102000000_backfill.up.sql",
                "CREATE TEMP TABLE staging (id bigint, total integer);\nINSERT INTO staging SELECT id, total_cents FROM orders;\nDROP TABLE staging;\n",
            ),
            (
                "20260103000000_index.up.sql",
                "CREATE INDEX CONCURRENTLY orders_total ON orders (total_cents);\n",
            ),
        ],
    );
    // By hand too: temporary objects, a drop that removes several objects, and a drop
    // of an index concurrently.
    prod.exec("CREATE TEMP TABLE scratch (a serial PRIMARY KEY); CREATE INDEX ON scratch (a); DROP TABLE scratch");
    prod.exec("CREATE TABLE gone (a serial PRIMARY KEY, b int UNIQUE)");
    prod.exec("DROP TABLE gone");
    prod.exec("CREATE INDEX CONCURRENTLY orders_id_total ON orders (id, total_cents)");
    prod.exec("DROP INDEX CONCURRENTLY orders_id_total");

    let rows = |cond: &str| {
        count(
            &prod.url,
            &format!("SELECT count(*) FROM lockstep.audit WHERE {cond}"),
        )
    };
    assert_eq!(
        rows("statement ILIKE '%staging%' OR statement ILIKE '%scratch%'"),
        0
    );
    assert_eq!(rows("array_to_string(objects, ',') LIKE '%pg_temp%'"), 0);
    assert_eq!(rows("statement ILIKE '%orders_total ON%'"), 1);
    assert_eq!(
        rows("statement = 'CREATE TABLE gone (a serial PRIMARY KEY, b int UNIQUE)'"),
        1
    );
    assert_eq!(rows("statement = 'DROP TABLE gone'"), 1);
    assert_eq!(
        rows("statement = 'CREATE INDEX CONCURRENTLY orders_id_total ON orders (id, total_cents)'"),
        1
    );
    assert_eq!(
        rows("statement = 'DROP INDEX CONCURRENTLY orders_id_total'"),
        1
    );
    // One row per statement: never two for the same statement in one transaction.
    let dups = crate::support::pg_value(
        &prod.url,
        "SELECT string_agg(statement, ' | ') FROM (SELECT txid, statement FROM lockstep.audit GROUP BY 1, 2 HAVING count(*) > 1) d",
    );
    assert_eq!(dups, "<null>");
    let dropped = crate::support::pg_value(
        &prod.url,
        "SELECT array_to_string(objects, ',') FROM lockstep.audit WHERE statement = 'DROP TABLE gone'",
    );
    assert!(dropped.contains("public.gone"), "{dropped}");
    assert!(!dropped.contains("pg_toast"), "{dropped}");
    // The deploy's statements are lockstep's.
    assert_eq!(
        rows("statement ILIKE '%orders_total ON%' AND deploy_id IS NULL"),
        0
    );
}

#[test]
fn without_superuser_install_explains_and_watch_dates_the_change() {
    let Some(prod) = TestPg::new("audit_nosuper") else {
        return;
    };
    let app = Role::new("app", "", &prod);
    prod.exec(&format!(
        "GRANT CREATE ON SCHEMA public TO \"{0}\"; GRANT CREATE ON DATABASE \"{1}\" TO \"{0}\"",
        app.name, prod.name
    ));
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let app_url = as_role(&prod.url, &app.name, "");
    // Replays run where a superuser may create databases.
    project_with(
        dir,
        &app_url,
        &format!("scratch = \"{}\"\n", pg_admin_url()),
    );
    ok(dir, &["deploy", "--env", "prod"]);

    let (code, out, err) = run(dir, &["audit", "install", "--env", "prod"]);
    assert_eq!(code, Some(1), "{out} {err}");
    assert!(
        out.contains(&format!("role {} is not a superuser", app.name))
            && out.contains("event triggers can only be created by a superuser")
            && out.contains("lockstep watch --env prod")
            && out.contains("pg_stat_statements"),
        "{out}"
    );
    assert_eq!(
        count(&prod.url, "SELECT count(*) FROM pg_event_trigger"),
        0,
        "nothing half-installed"
    );

    // Two watch ticks: the first sees nothing, the second the change made between.
    let (code, _, err) = run(dir, &["watch", "--once"]);
    assert_eq!(code, Some(0), "{err}");
    std::thread::sleep(std::time::Duration::from_millis(1100));
    exec_on(&app_url, &["ALTER TABLE orders ADD COLUMN segment text"]);
    let (code, _, err) = run(dir, &["watch", "--once"]);
    assert_eq!(code, Some(0), "{err}");

    let (code, out, _) = run(dir, &["drift", "--env", "prod"]);
    assert_eq!(code, Some(1));
    assert!(out.contains("first seen between "), "{out}");
    let it = drift_item(dir, "public.orders.segment");
    assert!(
        it["first_seen_after"].as_str().unwrap() < it["first_seen"].as_str().unwrap(),
        "{it}"
    );
    assert!(it.get("author").is_none(), "{it}");
}

#[test]
fn sqlite_says_there_is_no_hook() {
    let db = TestSqlite::new();
    let tmp = bare(&db.url);
    let (code, out, err) = run(tmp.path(), &["audit", "install", "--env", "prod"]);
    assert_eq!(code, Some(1), "{out} {err}");
    assert!(out.contains("SQLite has no hook"), "{out}");
    assert!(out.contains("lockstep watch --env prod"), "{out}");
}

#[test]
fn mysql_says_there_are_no_ddl_triggers_and_where_server_audit_logs() {
    let Some(db) = crate::mysql_support::TestMysql::new("audit_my") else {
        return;
    };
    let tmp = bare(&db.url);
    let dir = tmp.path();
    let (code, out, err) = run(dir, &["audit", "install", "--env", "prod"]);
    assert_eq!(code, Some(1), "{out} {err}");
    assert!(
        out.contains("MySQL and MariaDB have no DDL triggers"),
        "{out}"
    );
    assert!(out.contains("lockstep watch --env prod"), "{out}");
    // Where the server_audit plugin is loaded, install says whether it logs and where.
    let loaded = db.try_exec("SELECT @@server_audit_logging").is_ok();
    assert_eq!(
        out.contains("server_audit plugin is loaded"),
        loaded,
        "{out}"
    );
    let (code, out, _) = run(dir, &["audit", "log", "--env", "prod"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("no DDL triggers"), "{out}");
}

#[test]
fn without_the_audit_pg_stat_statements_names_role_and_statement() {
    // pg_stat_statements must be preloaded: a server of the test's own.
    let Some(server) =
        crate::resources::Throwaway::start(&[("shared_preload_libraries", "pg_stat_statements")])
    else {
        return;
    };
    let admin = server.url("postgres");
    exec_on(
        &admin,
        &[
            "CREATE DATABASE shop",
            "CREATE ROLE app LOGIN",
            "CREATE ROLE bi_etl LOGIN",
            "GRANT pg_read_all_stats TO app",
        ],
    );
    let shop = server.url("shop");
    exec_on(
        &shop,
        &[
            "CREATE EXTENSION pg_stat_statements",
            "GRANT CREATE ON SCHEMA public TO app, bi_etl",
            "GRANT CREATE ON DATABASE shop TO app",
        ],
    );
    let app_url = as_role(&shop, "app", "");
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    project_with(dir, &app_url, &format!("scratch = \"{admin}\"\n"));
    ok(dir, &["deploy", "--env", "prod"]);
    let (code, out, _) = run(dir, &["audit", "install", "--env", "prod"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("pg_stat_statements"), "{out}");

    exec_on(&shop, &["GRANT app TO bi_etl"]);
    exec_on(
        &as_role(&shop, "bi_etl", "?application_name=bi_module"),
        &["ALTER TABLE orders ADD COLUMN segment text"],
    );
    let it = drift_item(dir, "public.orders.segment");
    let a = &it["author"];
    assert_eq!(a["role"], "bi_etl", "{it}");
    assert_eq!(a["source"], "pg_stat_statements", "{it}");
    assert_eq!(
        a["statement"], "ALTER TABLE orders ADD COLUMN segment text",
        "{it}"
    );
    assert!(a["at"].is_null(), "{it}");
    let (_, out, _) = run(dir, &["drift", "--env", "prod"]);
    assert!(
        out.contains("added by bi_etl, says pg_stat_statements (no time or client recorded): `ALTER TABLE orders ADD COLUMN segment text`"),
        "{out}"
    );
}
