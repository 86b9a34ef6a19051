//! Fleets of PostgreSQL members: tenants that are schemas of one database, and a fleet
//! of databases spread over two servers (the second one started by the test).

use crate::cli::lockstep;
use crate::fleet::{json, outcomes};
use crate::support::{pg_value, TestPg};
use std::path::Path;

/// Identity and serial columns, a foreign key, an index and a view: names in defaults
/// and view bodies are what a tenant must read the same as a replay.
const INIT: &str = "CREATE TABLE orders (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  total numeric NOT NULL DEFAULT 0,
  status text NOT NULL DEFAULT 'new'
);
CREATE TABLE order_items (
  id serial PRIMARY KEY,
  order_id bigint NOT NULL REFERENCES orders (id),
  sku text NOT NULL
);
CREATE INDEX order_items_order ON order_items (order_id);
CREATE VIEW open_orders AS SELECT id, total FROM orders WHERE status = 'new';
";

/// A project with one migration and the `fleet` environment given as TOML.
fn project(dir: &Path, env: &str) {
    std::fs::create_dir_all(dir.join("migrations")).unwrap();
    std::fs::write(
        dir.join("lockstep.toml"),
        format!("migrations = \"migrations\"\n[env.fleet]\n{env}"),
    )
    .unwrap();
    std::fs::write(dir.join("migrations/20260101000000_init.up.sql"), INIT).unwrap();
}

/// The `[env.fleet.members]` table of tenants: (member, schema URL-encoded) of the
/// database at `url`.
fn tenants(url: &str, members: &[(&str, &str)]) -> String {
    let rows: String = members
        .iter()
        .map(|(name, schema)| format!("{name} = \"{url}?schema={schema}\"\n"))
        .collect();
    format!("[env.fleet.members]\n{rows}")
}

#[test]
fn tenants_are_schemas_of_one_database() {
    let Some(pg) = TestPg::new("tenants") else {
        return;
    };
    // tenant_003 does not exist yet: the deploy creates its schema with its history.
    pg.exec("CREATE SCHEMA tenant_001; CREATE SCHEMA tenant_002;");
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let members = [
        ("t1", "tenant_001"),
        ("t2", "tenant_002"),
        ("t3", "tenant_003"),
    ];
    project(
        dir,
        &format!("concurrency = 3\n{}", tenants(&pg.url, &members)),
    );

    let o = lockstep(&["deploy", "--env", "fleet", "--format", "json"], dir);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let all = outcomes(&json(&o)).concat();
    assert_eq!(all.len(), 3);
    assert!(all.iter().all(|(_, o)| o == "applied"), "{all:?}");
    // Each tenant's objects and history are in its own schema; nothing in public and no
    // `lockstep` schema.
    for i in 1..=3 {
        let n = pg_value(
            &pg.url,
            &format!("SELECT count(*)::text FROM tenant_{i:03}.lockstep_history WHERE outcome = 'applied'"),
        );
        assert_eq!(n, "1", "tenant_{i:03}");
        let n = pg_value(
            &pg.url,
            &format!("SELECT count(*)::text FROM pg_tables WHERE schemaname = 'tenant_{i:03}'"),
        );
        assert_eq!(n, "4", "orders, order_items and lockstep's two tables");
    }
    let n = pg_value(
        &pg.url,
        "SELECT count(*)::text FROM pg_namespace WHERE nspname IN ('lockstep') OR oid IN (SELECT relnamespace FROM pg_class WHERE relname = 'orders' AND relnamespace = 'public'::regnamespace)",
    );
    assert_eq!(n, "0");

    // Every tenant reads as the migrations say, from one replay.
    let o = lockstep(&["-v", "drift", "--env", "fleet", "--format", "json"], dir);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let v = json(&o);
    assert_eq!(v["clean"], serde_json::json!(["t1", "t2", "t3"]), "{v}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.matches("replaying").count(), 1, "{err}");

    // A new migration: rehearsed for each tenant in a scratch copy of it, then
    // deployed to each tenant's schema.
    std::fs::write(
        dir.join("migrations/20260201000000_note.up.sql"),
        "ALTER TABLE orders ADD COLUMN note text;\nCREATE INDEX orders_status ON orders (status);\n",
    )
    .unwrap();
    assert_eq!(lockstep(&["hash"], dir).status.code(), Some(0));
    let o = lockstep(&["check", "--env", "fleet", "--format", "json"], dir);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert_eq!(json(&o)["verdict"], "pass");
    let o = lockstep(&["deploy", "--env", "fleet", "--format", "json"], dir);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert!(outcomes(&json(&o))
        .concat()
        .iter()
        .all(|(_, o)| o == "applied"));
    let n = pg_value(
        &pg.url,
        "SELECT count(*)::text FROM pg_indexes WHERE indexname = 'orders_status'",
    );
    assert_eq!(n, "3");

    // One tenant drifts: one group, named in its own schema, with a fix for it.
    pg.exec("CREATE INDEX bi_total ON tenant_002.orders (total);");
    let o = lockstep(&["drift", "--env", "fleet", "--format", "json"], dir);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let v = json(&o);
    let groups = v["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 1, "{v}");
    assert_eq!(groups[0]["members"], serde_json::json!(["t2"]));
    assert_eq!(
        groups[0]["items"][0]["object"], "tenant_002.bi_total",
        "{v}"
    );
    assert_eq!(v["clean"], serde_json::json!(["t1", "t3"]));
    let o = lockstep(&["drift", "--env", "fleet"], dir);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("DROP INDEX") && out.contains("\"tenant_002\".\"bi_total\""),
        "{out}"
    );

    // The same drift in two more tenants: one group of three, one fix.
    pg.exec("CREATE INDEX bi_total ON tenant_001.orders (total); CREATE INDEX bi_total ON tenant_003.orders (total);");
    let o = lockstep(&["drift", "--env", "fleet", "--format", "json"], dir);
    let v = json(&o);
    assert_eq!(v["groups"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(
        v["groups"][0]["members"],
        serde_json::json!(["t1", "t2", "t3"])
    );

    // Status: one entry per tenant, all at the version.
    let o = lockstep(&["status", "--format", "json"], dir);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let v = json(&o);
    assert_eq!(v["environments"].as_array().unwrap().len(), 3, "{v}");
    assert_eq!(v["environments"][1]["env"], "fleet/t2");
    assert_eq!(v["fleets"][0]["versions"]["20260201000000"], 3, "{v}");
}

/// Objects whose texts the server prints with their schema even when it is on the
/// search path (a function's own name, a trigger's or a rule's table, a statistics
/// object) or that lockstep's own statements qualify (an aggregate, a collation, an
/// operator).
const QUALIFIED_KINDS: &str = "CREATE TABLE orders (id bigserial PRIMARY KEY, total numeric NOT NULL DEFAULT 0, updated_at timestamptz);
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.updated_at := now(); RETURN NEW; END $$;
CREATE TRIGGER orders_touch BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION touch();
CREATE FUNCTION add2(numeric, numeric) RETURNS numeric LANGUAGE sql IMMUTABLE AS $$ SELECT $1 + $2 $$;
CREATE PROCEDURE bump(p bigint) LANGUAGE sql AS $$ UPDATE orders SET total = total + 1 WHERE id = p $$;
CREATE AGGREGATE mysum(numeric) (SFUNC = add2, STYPE = numeric, INITCOND = '0');
CREATE COLLATION c2 FROM \"C\";
CREATE OPERATOR === (LEFTARG = numeric, RIGHTARG = numeric, FUNCTION = numeric_eq);
CREATE VIEW totals AS SELECT id, add2(total, 1) AS t FROM orders;
CREATE STATISTICS orders_deps (dependencies) ON id, total FROM orders;
CREATE RULE orders_keep AS ON DELETE TO orders WHERE OLD.total > 0 DO INSTEAD NOTHING;
";

#[test]
fn tenants_with_functions_triggers_and_operators_read_as_their_migrations() {
    let Some(pg) = TestPg::new("tenants_kinds") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // A second tenant whose schema name must be quoted.
    // And one whole database of the same schema on the same server: its replay is not
    // confined to a schema, and must not be taken from the cache for the tenants'.
    let Some(whole) = TestPg::new("tenants_kinds_whole") else {
        return;
    };
    project(
        dir,
        &format!(
            "{}[env.dev]\nurl = \"{}\"\n",
            tenants(&pg.url, &[("a", "tenant_a"), ("b", "Tenant%20B")]),
            whole.url
        ),
    );
    std::fs::write(
        dir.join("migrations/20260101000000_init.up.sql"),
        QUALIFIED_KINDS,
    )
    .unwrap();
    let o = lockstep(&["deploy", "--env", "fleet"], dir);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let o = lockstep(&["deploy", "--env", "dev"], dir);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let o = lockstep(&["drift", "--env", "dev"], dir);
    assert_eq!(o.status.code(), Some(0), "{o:?}");

    // Each tenant reads as the replay in `public` does: no drift.
    let o = lockstep(&["drift", "--env", "fleet", "--format", "json"], dir);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert_eq!(json(&o)["clean"], serde_json::json!(["a", "b"]));

    // Out of band in tenant_a: a function changed, the trigger and the operator dropped.
    pg.exec(
        "CREATE OR REPLACE FUNCTION tenant_a.add2(numeric, numeric) RETURNS numeric LANGUAGE sql IMMUTABLE AS $$ SELECT $1 + $2 + 1 $$;
         DROP TRIGGER orders_touch ON tenant_a.orders;
         DROP OPERATOR tenant_a.=== (numeric, numeric);",
    );
    let o = lockstep(&["drift", "--env", "fleet", "--format", "json"], dir);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let v = json(&o);
    let objects: Vec<&str> = v["groups"][0]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["object"].as_str().unwrap())
        .collect();
    assert_eq!(v["groups"][0]["members"], serde_json::json!(["a"]), "{v}");
    assert_eq!(objects.len(), 3, "{v}");
    assert_eq!(v["clean"], serde_json::json!(["b"]));

    // The fix it prints puts them back in tenant_a, not in public.
    let o = lockstep(&["drift", "--env", "fleet"], dir);
    let out = String::from_utf8_lossy(&o.stdout);
    let fix: String = out
        .lines()
        .skip_while(|l| !l.starts_with("  fix ("))
        .skip(1)
        .take_while(|l| l.starts_with("    "))
        .map(|l| format!("{}\n", &l[4..]))
        .collect();
    assert!(fix.starts_with("SET search_path TO \"tenant_a\";"), "{out}");
    pg.exec(&fix);
    let o = lockstep(&["drift", "--env", "fleet", "--format", "json"], dir);
    assert_eq!(o.status.code(), Some(0), "{fix}\n{o:?}");
    let in_public = pg_value(
        &pg.url,
        "SELECT count(*)::text FROM pg_proc WHERE pronamespace = 'public'::regnamespace",
    );
    assert_eq!(in_public, "0", "{fix}");
}

/// Real-world schemas (the corpus) deployed into two tenants of a database, one of them
/// with a schema name that must be quoted, read as their replay does: nothing the
/// server prints for a schema on the search path differs from what it prints for
/// `public`.
#[test]
fn real_world_schemas_read_the_same_in_tenants_as_in_their_replay() {
    let schemas = [
        "debian/zabbix-schema.pgsql.sql",
        "debian/mediawiki-tables.postgres.sql",
        "debian/usr/share/request-tracker5/etc/schema.Pg",
        "debian/usr/share/roundcube/SQL/postgres.initial.sql",
        "debian/usr/share/pdns-backend-pgsql/schema/schema.pgsql.sql",
    ];
    for rel in schemas {
        let Some(path) = crate::support::corpus(rel) else {
            return;
        };
        let Some(pg) = TestPg::new("tenants_corpus") else {
            return;
        };
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        project(
            dir,
            &tenants(&pg.url, &[("a", "tenant_a"), ("b", "Tenant%20B")]),
        );
        std::fs::copy(&path, dir.join("migrations/20260101000000_init.up.sql")).unwrap();
        let o = lockstep(&["deploy", "--env", "fleet"], dir);
        assert_eq!(o.status.code(), Some(0), "{rel}: {o:?}");
        let o = lockstep(&["drift", "--env", "fleet", "--format", "json"], dir);
        assert_eq!(o.status.code(), Some(0), "{rel}: {o:?}");
        assert_eq!(json(&o)["clean"], serde_json::json!(["a", "b"]), "{rel}");
    }
}

#[test]
fn each_tenant_adopts_another_tools_history_from_its_own_schema() {
    let Some(pg) = TestPg::new("tenants_foreign") else {
        return;
    };
    // Two tenants that another tool migrated, each with its own history table; the
    // same query of them returns another type in each, and the second tenant is read
    // on the first one's connection (`concurrency = 1`), where that query was prepared.
    pg.exec(
        "CREATE SCHEMA tc; CREATE SCHEMA td;
         CREATE TABLE tc.flyway_schema_history (installed_rank int PRIMARY KEY, version varchar(50), success boolean);
         CREATE TABLE td.flyway_schema_history (installed_rank int PRIMARY KEY, version text, success boolean);
         INSERT INTO tc.flyway_schema_history VALUES (1, '20260101000000', true);
         INSERT INTO td.flyway_schema_history VALUES (1, '20260101000000', true);",
    );
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    project(
        dir,
        &format!(
            "concurrency = 1\n{}",
            tenants(&pg.url, &[("c", "tc"), ("d", "td")])
        ),
    );
    let o = lockstep(&["status", "--env", "fleet", "--format", "json"], dir);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let v = json(&o);
    for e in v["environments"].as_array().unwrap() {
        assert_eq!(e["current"], "20260101000000", "{v}");
    }

    // golang-migrate in one tenant (its table has `dirty`), dbmate in the next (a
    // table of the same name without): the other tenant's column does not make the
    // second a golang-migrate history.
    pg.exec(
        "CREATE SCHEMA te; CREATE SCHEMA tf;
         CREATE TABLE te.schema_migrations (version bigint PRIMARY KEY, dirty boolean NOT NULL);
         INSERT INTO te.schema_migrations VALUES (20260101000000, false);
         CREATE TABLE tf.schema_migrations (version varchar(128) PRIMARY KEY);
         INSERT INTO tf.schema_migrations VALUES ('20260101000000');",
    );
    project(
        dir,
        &format!(
            "concurrency = 1\n{}",
            tenants(&pg.url, &[("e", "te"), ("f", "tf")])
        ),
    );
    let o = lockstep(&["status", "--env", "fleet", "--format", "json"], dir);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let v = json(&o);
    for e in v["environments"].as_array().unwrap() {
        assert_eq!(e["current"], "20260101000000", "{v}");
    }
}

/// Sessions the server has started on the database `name` (`pg_stat_database`, read
/// from the admin database so that reading it starts none there).
fn sessions(name: &str) -> i64 {
    let sql = format!("SELECT sessions::text FROM pg_stat_database WHERE datname = '{name}'");
    pg_value(&crate::support::pg_admin_url(), &sql)
        .parse()
        .unwrap()
}

#[test]
fn tenants_of_one_database_are_read_one_after_another_on_one_connection() {
    let Some(pg) = TestPg::new("tenants_share") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // One at a time: each tenant takes over the connection the one before it left.
    let names: Vec<(String, String)> = (1..=6)
        .map(|i| (format!("t{i}"), format!("tenant_{i:03}")))
        .collect();
    let members: Vec<(&str, &str)> = names
        .iter()
        .map(|(n, s)| (n.as_str(), s.as_str()))
        .collect();
    project(
        dir,
        &format!("concurrency = 1\n{}", tenants(&pg.url, &members)),
    );
    let o = lockstep(&["deploy", "--env", "fleet", "--member", "t1"], dir);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    for t in ["t2", "t3", "t4", "t5"] {
        let o = lockstep(&["deploy", "--env", "fleet", "--member", t], dir);
        assert_eq!(o.status.code(), Some(0), "{o:?}");
    }
    // t6 is never deployed, though its schema exists (its owner is no drift). t2 and t5
    // drift differently; a tenant read after one that drifted must not see its drift,
    // nor its history.
    pg.exec(
        "CREATE INDEX bi_total ON tenant_002.orders (total);
         ALTER TABLE tenant_005.orders ADD COLUMN note text;
         CREATE SCHEMA tenant_006;",
    );

    let o = lockstep(&["drift", "--env", "fleet", "--format", "json"], dir);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let v = json(&o);
    let groups = v["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 2, "{v}");
    let by_member: std::collections::BTreeMap<String, String> = groups
        .iter()
        .map(|g| {
            (
                g["members"][0].as_str().unwrap().to_string(),
                g["items"][0]["object"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(by_member["t2"], "tenant_002.bi_total", "{v}");
    assert_eq!(by_member["t5"], "tenant_005.orders.note", "{v}");
    assert_eq!(
        v["clean"],
        serde_json::json!(["t1", "t3", "t4", "t6"]),
        "{v}"
    );
    // The replay above ran in scratch sessions of its own; the second drift takes it
    // from the cache, so the tenants' reads are all the sessions it starts.
    let before = sessions(&pg.name);
    let again = lockstep(&["drift", "--env", "fleet", "--format", "json"], dir);
    let used = sessions(&pg.name) - before;
    assert_eq!(json(&again), v);
    assert_eq!(used, 1, "six tenants, one at a time, on one connection");

    // Status reads each tenant's own history on the shared connection.
    let before = sessions(&pg.name);
    let o = lockstep(&["status", "--env", "fleet", "--format", "json"], dir);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let used = sessions(&pg.name) - before;
    let v = json(&o);
    let envs = v["environments"].as_array().unwrap();
    for e in envs {
        let pending = e["pending"].as_array().unwrap().len();
        let want = if e["env"] == "fleet/t6" { 1 } else { 0 };
        assert_eq!(pending, want, "{e}");
    }
    assert_eq!(used, 1);

    // A tenant whose work fails does not hand its connection on: the next one opens
    // its own.
    pg.exec("UPDATE tenant_003.lockstep_history SET version = '20250101000000';");
    let before = sessions(&pg.name);
    let o = lockstep(&["drift", "--env", "fleet", "--format", "json"], dir);
    let used = sessions(&pg.name) - before;
    let v = json(&o);
    assert_eq!(v["errors"][0]["member"], "t3", "{v}");
    assert_eq!(v["clean"], serde_json::json!(["t1", "t4", "t6"]), "{v}");
    assert_eq!(used, 2, "t1 to t3 on one connection, t4 to t6 on another");
}

// ------------------------------------------------------------------ a second server

/// A PostgreSQL server of the test's own: `initdb` and `pg_ctl` from
/// `LOCKSTEP_PG_BIN` (default /usr/lib/postgresql/15/bin) on a free port, as the
/// `postgres` OS user when the test runs as root (the server refuses to run as root).
/// Stopped and removed when dropped, a panicking test included.
pub struct SecondPg {
    dir: tempfile::TempDir,
    bin: std::path::PathBuf,
    pub port: u16,
}

impl SecondPg {
    /// Starts one, or returns None (after printing why) when the binaries are missing
    /// and services are not required.
    pub fn start() -> Option<SecondPg> {
        let bin = std::path::PathBuf::from(
            std::env::var("LOCKSTEP_PG_BIN")
                .unwrap_or_else(|_| "/usr/lib/postgresql/15/bin".into()),
        );
        if !bin.join("initdb").exists() || !bin.join("pg_ctl").exists() {
            let msg = format!(
                "no initdb and pg_ctl in {} (set LOCKSTEP_PG_BIN)",
                bin.display()
            );
            if crate::support::require_services() {
                panic!("LOCKSTEP_REQUIRE_SERVICES=1 but {msg}");
            }
            eprintln!("SKIPPED: second PostgreSQL server: {msg}");
            return None;
        }
        let dir = tempfile::Builder::new()
            .prefix("lockstep-second-pg-")
            .tempdir()
            .unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let s = SecondPg { dir, bin, port };
        if as_root() {
            let ok = std::process::Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(s.dir.path())
                .status()
                .unwrap();
            assert!(ok.success(), "chown the server's folder to postgres");
        }
        let data = s.dir.path().join("data");
        s.run(
            "initdb",
            &[
                "-D",
                &data.to_string_lossy(),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
                "-E",
                "UTF8",
            ],
        );
        let opts = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60",
            s.dir.path().display()
        );
        s.run(
            "pg_ctl",
            &[
                "-D",
                &data.to_string_lossy(),
                "-o",
                &opts,
                "-l",
                &s.dir.path().join("log").to_string_lossy(),
                "-w",
                "start",
            ],
        );
        Some(s)
    }

    fn command(&self, tool: &str, args: &[&str]) -> std::process::Command {
        let exe = self.bin.join(tool);
        let mut c = if as_root() {
            let mut c = std::process::Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(exe);
            c
        } else {
            std::process::Command::new(exe)
        };
        c.args(args).current_dir(self.dir.path());
        c
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let o = self.command(tool, args).output().unwrap();
        let log = std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default();
        assert!(o.status.success(), "{tool}: {o:?}\n{log}");
    }

    pub fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }
}

impl Drop for SecondPg {
    fn drop(&mut self) {
        let data = self.dir.path().join("data");
        let _ = self
            .command(
                "pg_ctl",
                &[
                    "-D",
                    &data.to_string_lossy(),
                    "-m",
                    "immediate",
                    "-w",
                    "stop",
                ],
            )
            .output();
    }
}

fn as_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

/// Databases created on a server for one test, dropped afterwards.
struct Databases {
    admin: String,
    names: Vec<String>,
}

impl Databases {
    fn create(admin: &str, names: Vec<String>) -> Databases {
        let u = lockstep_db::DbUrl::parse(admin).unwrap();
        crate::support::rt().block_on(async {
            let mut db = lockstep_db::Db::connect(&u, false)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            for n in &names {
                db.execute_script(&format!("CREATE DATABASE \"{n}\""))
                    .await
                    .unwrap_or_else(|e| panic!("{e}"));
            }
            db.close().await;
        });
        Databases {
            admin: admin.to_string(),
            names,
        }
    }
}

impl Drop for Databases {
    /// In parallel: each DROP DATABASE waits for a checkpoint, and concurrent ones share
    /// it.
    fn drop(&mut self) {
        let u = lockstep_db::DbUrl::parse(&self.admin).unwrap();
        let names = std::mem::take(&mut self.names);
        std::thread::scope(|s| {
            for chunk in names.chunks(names.len().div_ceil(8).max(1)) {
                let u = &u;
                s.spawn(move || {
                    crate::support::rt().block_on(async {
                        if let Ok(mut db) = lockstep_db::Db::connect(u, false).await {
                            for n in chunk {
                                let _ = db
                                    .execute_script(&format!(
                                        "DROP DATABASE IF EXISTS \"{n}\" WITH (FORCE)"
                                    ))
                                    .await;
                            }
                            db.close().await;
                        }
                    })
                });
            }
        });
    }
}

/// The main test server, or None (after printing why) when it is down.
fn main_server() -> Option<String> {
    let admin = crate::support::pg_admin_url();
    let u = lockstep_db::DbUrl::parse(&admin).unwrap();
    let up = crate::support::rt().block_on(lockstep_db::Db::connect(&u, false));
    match up {
        Ok(db) => {
            crate::support::rt().block_on(db.close());
            Some(admin)
        }
        Err(e) => {
            if crate::support::require_services() {
                panic!("LOCKSTEP_REQUIRE_SERVICES=1 but PostgreSQL is unavailable: {e}");
            }
            eprintln!("SKIPPED: PostgreSQL fleet: server unavailable at {admin}: {e}");
            None
        }
    }
}

/// `n` databases, one in four on the main server and the rest on the second one
/// (which the test owns, so dropping them costs nothing), as the lines of a members
/// file (`NAME URL`), and the guard that drops the main server's.
fn two_server_fleet(second: &SecondPg, n: usize, prefix: &str) -> Option<(String, Databases)> {
    let admin = main_server()?;
    let admin_url = lockstep_db::DbUrl::parse(&admin).unwrap();
    let tag = crate::support::unique_name(prefix);
    let mut lines = String::new();
    let (mut main, mut other) = (vec![], vec![]);
    for i in 1..=n {
        let db = format!("{tag}_{i:03}");
        let url = if i % 4 == 1 {
            main.push(db.clone());
            admin_url.with_database(&db).raw().to_string()
        } else {
            other.push(db.clone());
            second.url(&db)
        };
        lines.push_str(&format!("m{i:03} {url}\n"));
    }
    let guard = Databases::create(&admin, main);
    // The second server goes away with its databases.
    std::mem::forget(Databases::create(&second.url("postgres"), other));
    Some((lines, guard))
}

fn member_url(members: &str, name: &str) -> String {
    members
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .unwrap()
        .to_string()
}

#[test]
fn a_fleet_of_100_databases_on_two_servers_deploys_and_groups_its_drift() {
    let Some(second) = SecondPg::start() else {
        return;
    };
    let Some((members, _dbs)) = two_server_fleet(&second, 100, "ls_fl") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("members.txt"), &members).unwrap();
    project(dir, "members = \"members.txt\"\nconcurrency = 8\n");

    let o = lockstep(&["deploy", "--env", "fleet", "--format", "json"], dir);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let all = outcomes(&json(&o)).concat();
    assert_eq!(all.len(), 100);
    assert!(all.iter().all(|(_, o)| o == "applied"), "{all:?}");
    let o = lockstep(&["deploy", "--env", "fleet", "--format", "json"], dir);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert!(outcomes(&json(&o))
        .concat()
        .iter()
        .all(|(_, o)| o == "up-to-date"));

    // Seven members on both servers get the same extra index, two a column.
    for i in [3, 4, 17, 18, 55, 80, 99] {
        pg_exec(
            &member_url(&members, &format!("m{i:03}")),
            "CREATE INDEX bi_total ON orders (total);",
        );
    }
    for i in [10, 11] {
        pg_exec(
            &member_url(&members, &format!("m{i:03}")),
            "ALTER TABLE orders ADD COLUMN segment text;",
        );
    }
    let o = lockstep(&["-v", "drift", "--env", "fleet", "--format", "json"], dir);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let v = json(&o);
    let groups = v["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 2, "{v}");
    assert_eq!(
        groups[0]["members"],
        serde_json::json!(["m003", "m004", "m017", "m018", "m055", "m080", "m099"])
    );
    assert_eq!(groups[0]["items"][0]["object"], "public.bi_total");
    assert_eq!(groups[1]["members"], serde_json::json!(["m010", "m011"]));
    assert_eq!(v["clean"].as_array().unwrap().len(), 91);
    // At most one replay per server, whatever the number of members: two servers of one
    // major version may also share the replay through .lockstep/cache.
    let err = String::from_utf8_lossy(&o.stderr);
    let replays = err.matches("replaying").count();
    assert!((1..=2).contains(&replays), "{replays} replays: {err}");

    let o = lockstep(&["status", "--format", "json"], dir);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let v = json(&o);
    assert_eq!(v["environments"].as_array().unwrap().len(), 100);
    assert_eq!(v["fleets"][0]["versions"]["20260101000000"], 100, "{v}");
}

fn pg_exec(url: &str, sql: &str) {
    let u = lockstep_db::DbUrl::parse(url).unwrap();
    crate::support::rt().block_on(async {
        let mut db = lockstep_db::Db::connect(&u, false)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        db.execute_script(sql)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        db.close().await;
    });
}

#[test]
fn waves_on_two_servers_halt_resume_and_report_an_unreachable_member() {
    let Some(second) = SecondPg::start() else {
        return;
    };
    let Some((mut members, _dbs)) = two_server_fleet(&second, 10, "ls_fw") else {
        return;
    };
    // m004, in the second wave and on the second server, already has the table the
    // migration creates.
    pg_exec(&member_url(&members, "m004"), INIT);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("members.txt"), &members).unwrap();
    project(
        dir,
        "members = \"members.txt\"\nconcurrency = 4\nwaves = [\"1\", \"40%\", \"100%\"]\n",
    );
    let o = lockstep(&["deploy", "--env", "fleet", "--format", "json"], dir);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let v = json(&o);
    let w = outcomes(&v);
    assert_eq!(w.iter().map(Vec::len).collect::<Vec<_>>(), [1, 3, 6], "{v}");
    assert_eq!(w[0], [("m001".to_string(), "applied".to_string())]);
    let failed: Vec<&str> = w[1]
        .iter()
        .filter(|(_, o)| o == "failed")
        .map(|(m, _)| m.as_str())
        .collect();
    assert_eq!(failed, ["m004"], "{v}");
    assert!(w[2].iter().all(|(_, o)| o == "skipped"), "{v}");
    // The third wave was not touched: no history, no table, on either server.
    for i in 5..=10 {
        let url = member_url(&members, &format!("m{i:03}"));
        let n = pg_value(
            &url,
            "SELECT count(*)::text FROM pg_namespace WHERE nspname = 'lockstep'",
        );
        assert_eq!(n, "0", "m{i:03}");
        let n = pg_value(
            &url,
            "SELECT count(*)::text FROM pg_tables WHERE tablename = 'orders'",
        );
        assert_eq!(n, "0", "m{i:03}");
    }

    // Fixed by hand, and a member added on a port nothing listens on: the re-run
    // resumes, and the unreachable member is a failed row while the rest deploy.
    pg_exec(
        &member_url(&members, "m004"),
        "DROP VIEW open_orders; DROP TABLE order_items, orders;",
    );
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    members.push_str(&format!(
        "lost postgres://postgres@127.0.0.1:{closed}/nowhere\n"
    ));
    std::fs::write(dir.join("members.txt"), &members).unwrap();
    let o = lockstep(
        &[
            "deploy", "--env", "fleet", "--waves", "100%", "--format", "json",
        ],
        dir,
    );
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let v = json(&o);
    let all = outcomes(&v).concat();
    let count = |what: &str| all.iter().filter(|(_, o)| o == what).count();
    assert_eq!(count("up-to-date"), 3, "{v}");
    assert_eq!(count("applied"), 7, "{v}");
    assert_eq!(count("failed"), 1, "{v}");
    let lost = &v["waves"][0]["members"][10];
    assert_eq!(lost["member"], "lost");
    assert!(
        lost["error"]
            .as_str()
            .unwrap()
            .contains("could not connect"),
        "{lost}"
    );

    let o = lockstep(&["status", "--format", "json"], dir);
    assert_eq!(
        o.status.code(),
        Some(2),
        "an unreachable member is exit 2: {o:?}"
    );
    let v = json(&o);
    assert_eq!(v["fleets"][0]["unreachable"], serde_json::json!(["lost"]));
    assert_eq!(v["fleets"][0]["versions"]["20260101000000"], 10, "{v}");
}
