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

#[test]
fn tenants_are_schemas_of_one_database() {
    let Some(pg) = TestPg::new("tenants") else {
        return;
    };
    // tenant_003 does not exist yet: the deploy creates its schema with its history.
    pg.exec("CREATE SCHEMA tenant_001; CREATE SCHEMA tenant_002;");
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let members: String = (1..=3)
        .map(|i| format!("t{i} = \"{}?schema=tenant_{i:03}\"\n", pg.url))
        .collect();
    project(
        dir,
        &format!("concurrency = 3\n[env.fleet.members]\n{members}"),
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
