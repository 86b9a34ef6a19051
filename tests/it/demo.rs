//! The deploy-night story: `lockstep demo` on SQLite, and the same story on PostgreSQL.

use crate::cli::lockstep;
use crate::support::{self, TestPg};
use std::path::Path;

fn text(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Deploys prod, which must succeed and leave no drift (`why` says what that shows).
fn deploy_without_drift(dir: &Path, why: &str) {
    let o = lockstep(&["deploy", "--env", "prod"], dir);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = lockstep(&["drift", "--env", "prod"], dir);
    assert_eq!(o.status.code(), Some(0), "{why}: {}", text(&o));
}

#[test]
fn demo_walks_through_the_collision_and_the_fix_works() {
    let tmp = tempfile::tempdir().unwrap();
    let o = lockstep(&["demo", "shop"], tmp.path());
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        out.contains("1. column main.orders.segment was added outside migrations"),
        "{out}"
    );
    assert!(out.contains("rehearsal FAILED"), "{out}");
    assert!(out.contains("(drift item 1)"), "{out}");
    assert!(out.contains("check prod: FAIL"), "{out}");
    assert!(out.contains("deploy to prod refused"), "{out}");

    // The project is left before the fix: each command gives the same answers again.
    let dir = tmp.path().join("shop");
    let o = lockstep(&["check", "--env", "prod"], &dir);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let o = lockstep(&["deploy", "--env", "prod"], &dir);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let o = lockstep(&["status", "--env", "qa"], &dir);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    // The printed fix: revert the hand-made column on prod.
    let prod = format!("sqlite://{}", dir.join("prod.db").display());
    let db = support::TestSqlite {
        dir: tempfile::tempdir().unwrap(),
        path: dir.join("prod.db"),
        url: prod,
    };
    db.exec("CREATE TABLE bi_order_segment AS SELECT id, segment FROM orders; ALTER TABLE orders DROP COLUMN segment;");
    // The BI table is itself out of band: it is drift until dropped or adopted.
    db.exec("DROP TABLE bi_order_segment;");
    let o = lockstep(&["check", "--env", "prod"], &dir);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = lockstep(&["deploy", "--env", "prod"], &dir);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = lockstep(&["drift", "--env", "prod"], &dir);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

#[test]
fn demo_story_on_postgres() {
    let Some(prod) = TestPg::new("demo_prod") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write(
        dir,
        "lockstep.toml",
        &format!(
            "migrations = \"migrations\"\n[env.prod]\nurl = \"{}\"\n",
            prod.url
        ),
    );
    write(
        dir,
        "migrations/20260101090000_customers_and_orders.up.sql",
        "CREATE TABLE customers (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL UNIQUE);\n\
         CREATE TABLE orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, customer_id bigint NOT NULL REFERENCES customers(id), total_cents integer NOT NULL CHECK (total_cents >= 0));\n",
    );
    write(
        dir,
        "migrations/20260115090000_point_of_sale.up.sql",
        "CREATE TABLE stores (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, code text NOT NULL UNIQUE);\n\
         ALTER TABLE orders ADD COLUMN store_id bigint REFERENCES stores(id);\n",
    );
    deploy_without_drift(dir, "untouched prod has no drift");

    // The audit, installed once, records who changes prod from now on.
    let o = lockstep(&["audit", "install", "--env", "prod"], dir);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    // The out-of-band change (by the BI module's connection), then the colliding release.
    let bi = format!("{}?application_name=bi_module", prod.url);
    support::TestPg::exec_url(&bi, "ALTER TABLE orders ADD COLUMN segment text;");
    let o = lockstep(&["drift", "--env", "prod"], dir);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("added by postgres from 127.0.0.1 (bi_module) on ")
            && out.contains(": `ALTER TABLE orders ADD COLUMN segment text`"),
        "drift names who made the change: {out}"
    );
    write(
        dir,
        "migrations/20260301090000_order_segment.up.sql",
        "ALTER TABLE orders ADD COLUMN segment text NOT NULL DEFAULT 'retail';\nCREATE INDEX orders_segment ON orders (segment);\n",
    );
    lockstep(&["hash"], dir);
    let before = prod.inspect();
    let o = lockstep(&["rehearse", "--env", "prod"], dir);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("column \"segment\" of relation \"orders\" already exists"),
        "{out}"
    );
    assert!(out.contains("(drift item 1)"), "{out}");
    let o = lockstep(&["deploy", "--env", "prod"], dir);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("drift item 1: column public.orders.segment was added outside migrations"),
        "{out}"
    );
    assert_eq!(
        lockstep_core::diff::diff(&before, &prod.inspect()),
        vec![],
        "rehearse and a refused deploy leave prod untouched"
    );

    // The fix: a new migration adopts the column, and the release builds on it.
    write(
        dir,
        "migrations/20260220090000_adopt_order_segment.up.sql",
        "-- Adopts the column the BI module added by hand on prod.\nALTER TABLE orders ADD COLUMN IF NOT EXISTS segment text;\n",
    );
    write(
        dir,
        "migrations/20260301090000_order_segment.up.sql",
        "UPDATE orders SET segment = 'retail' WHERE segment IS NULL;\n\
         ALTER TABLE orders ALTER COLUMN segment SET DEFAULT 'retail';\n\
         ALTER TABLE orders ALTER COLUMN segment SET NOT NULL;\n\
         CREATE INDEX orders_segment ON orders (segment);\n",
    );
    lockstep(&["hash"], dir);
    let o = lockstep(&["check", "--env", "prod"], dir);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("adopted by the pending migrations"), "{out}");
    deploy_without_drift(dir, "no drift after the deploy");
}
