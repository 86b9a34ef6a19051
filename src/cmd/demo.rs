//! `lockstep demo [DIR]`: a retail orders and point-of-sale project with dev, qa and
//! prod as SQLite files, an out-of-band change in prod, and a release that collides
//! with it. It walks through status, drift, parity, rehearse and check, prints the fix,
//! and leaves the project as it was before the fix. No server needed.

use crate::cli::OutFormat;
use crate::config::Config;
use anyhow::{bail, Context, Result};
use lockstep_db::{Db, DbUrl};
use std::path::Path;
use std::process::ExitCode;

const FILES: &[(&str, &str)] = &[
    (
        "lockstep.toml",
        "# The demo's environments are SQLite files next to this one.\nmigrations = \"migrations\"\ncode = [\"app\", \"scripts\"]\n\n[env.dev]\nurl = \"sqlite://dev.db\"\n\n[env.qa]\nurl = \"sqlite://qa.db\"\n\n[env.prod]\nurl = \"sqlite://prod.db\"\n",
    ),
    (
        "migrations/20260101090000_customers_and_orders.up.sql",
        "CREATE TABLE customers (\n    id INTEGER PRIMARY KEY,\n    email TEXT NOT NULL UNIQUE,\n    name TEXT NOT NULL,\n    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP\n);\n\nCREATE TABLE orders (\n    id INTEGER PRIMARY KEY AUTOINCREMENT,\n    customer_id INTEGER NOT NULL REFERENCES customers(id),\n    total_cents INTEGER NOT NULL CHECK (total_cents >= 0),\n    placed_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP\n);\n\nCREATE INDEX orders_customer ON orders (customer_id);\n",
    ),
    (
        "migrations/20260101090000_customers_and_orders.down.sql",
        "DROP TABLE orders;\nDROP TABLE customers;\n",
    ),
    (
        "migrations/20260115090000_point_of_sale.up.sql",
        "CREATE TABLE stores (\n    id INTEGER PRIMARY KEY,\n    code TEXT NOT NULL UNIQUE,\n    city TEXT NOT NULL\n);\n\nCREATE TABLE terminals (\n    id INTEGER PRIMARY KEY,\n    store_id INTEGER NOT NULL REFERENCES stores(id),\n    serial TEXT NOT NULL UNIQUE\n);\n\nALTER TABLE orders ADD COLUMN terminal_id INTEGER REFERENCES terminals(id);\n",
    ),
    (
        "migrations/20260115090000_point_of_sale.down.sql",
        "ALTER TABLE orders DROP COLUMN terminal_id;\nDROP TABLE terminals;\nDROP TABLE stores;\n",
    ),
    (
        "migrations/20260201090000_order_items.up.sql",
        "CREATE TABLE order_items (\n    order_id INTEGER NOT NULL REFERENCES orders(id) ON DELETE CASCADE,\n    sku TEXT NOT NULL,\n    quantity INTEGER NOT NULL CHECK (quantity > 0),\n    price_cents INTEGER NOT NULL,\n    PRIMARY KEY (order_id, sku)\n);\n",
    ),
    ("migrations/20260201090000_order_items.down.sql", "DROP TABLE order_items;\n"),
    (
        "migrations/20260301090000_order_segment.up.sql",
        "-- Release 2026.03: segment orders for the loyalty programme.\nALTER TABLE orders ADD COLUMN segment TEXT NOT NULL DEFAULT 'retail';\nCREATE INDEX orders_segment ON orders (segment);\n",
    ),
    (
        "migrations/20260301090000_order_segment.down.sql",
        "DROP INDEX orders_segment;\nALTER TABLE orders DROP COLUMN segment;\n",
    ),
    (
        "app/orders.py",
        "\"\"\"Order entry at the till.\"\"\"\n\n\ndef place_order(db, customer_id, terminal_id, total_cents, segment=\"retail\"):\n    db.execute(\n        \"INSERT INTO orders (customer_id, terminal_id, total_cents, segment) VALUES (?, ?, ?, ?)\",\n        (customer_id, terminal_id, total_cents, segment),\n    )\n\n\ndef orders_for(db, customer_id):\n    return db.execute(\n        \"SELECT id, total_cents, placed_at, segment FROM orders WHERE customer_id = ?\",\n        (customer_id,),\n    ).fetchall()\n",
    ),
    (
        "app/stores.py",
        "def store_for_terminal(db, serial):\n    return db.execute(\n        \"SELECT s.code, s.city FROM terminals t JOIN stores s ON s.id = t.store_id WHERE t.serial = ?\",\n        (serial,),\n    ).fetchone()\n",
    ),
    (
        "scripts/daily_sales.sql",
        "-- Nightly report, run by cron on the reporting host.\nSELECT date(o.placed_at) AS day, o.segment, sum(o.total_cents) / 100.0 AS revenue\nFROM orders o\nGROUP BY day, o.segment\nORDER BY day;\n",
    ),
];

/// What the BI team ran by hand on production two weeks ago.
const OUT_OF_BAND: &str = "ALTER TABLE orders ADD COLUMN segment TEXT;";

async fn exec(url: &str, sql: &str) -> Result<()> {
    let u = DbUrl::parse(url)?;
    let mut db = Db::connect(&u, true).await?;
    db.execute_script(sql).await?;
    db.close().await;
    Ok(())
}

fn heading(s: &str) {
    println!("\n━━ {s}");
}

pub async fn run(dir: Option<&Path>) -> Result<ExitCode> {
    let dir = dir.unwrap_or(Path::new("lockstep-demo")).to_path_buf();
    if dir.join("lockstep.toml").exists() {
        bail!(
            "{} already holds a lockstep project\n  hint: remove it, or give another directory: `lockstep demo DIR`",
            dir.display()
        );
    }
    for (rel, text) in FILES {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().expect("files have a parent"))?;
        std::fs::write(&p, text).with_context(|| format!("writing {}", p.display()))?;
    }
    let release = "migrations/20260301090000_order_segment";
    let held = dir.join(format!("{release}.up.sql"));
    let held_down = dir.join(format!("{release}.down.sql"));
    // Set the release aside while environments get the earlier history.
    let up_text = std::fs::read_to_string(&held)?;
    let down_text = std::fs::read_to_string(&held_down)?;
    std::fs::remove_file(&held)?;
    std::fs::remove_file(&held_down)?;

    let config = Config::load(&dir.join("lockstep.toml"))?;
    let abs = |f: &str| format!("sqlite://{}", config.dir.join(f).display());
    println!(
        "lockstep demo: a retail orders and point-of-sale project in {}",
        dir.display()
    );
    println!("Three environments (dev, qa, prod) are SQLite files; the code in app/ and scripts/ uses the schema.");
    for env in ["dev", "qa", "prod"] {
        let code = super::deploy::deploy(
            Some(&config),
            super::deploy::DeployArgs {
                env,
                to: None,
                dry_run: false,
                resolve: None,
                allow_drift: false,
                lock: Default::default(),
                format: OutFormat::Text,
            },
        )
        .await?;
        if code != ExitCode::SUCCESS {
            bail!("the demo could not deploy {env}");
        }
    }
    println!("\nTwo weeks ago, for a business-intelligence module, someone ran this on prod by hand:\n    {OUT_OF_BAND}");
    exec(&abs("prod.db"), OUT_OF_BAND).await?;

    std::fs::write(&held, up_text)?;
    std::fs::write(&held_down, down_text)?;
    super::deploy::hash(Some(&config))?;
    println!("\nTonight's release adds {release}.up.sql; dev has run it already:");
    super::deploy::deploy(
        Some(&config),
        super::deploy::DeployArgs {
            env: "dev",
            to: None,
            dry_run: false,
            resolve: None,
            allow_drift: false,
            lock: Default::default(),
            format: OutFormat::Text,
        },
    )
    .await?;

    heading("lockstep status");
    super::status::run(Some(&config), None, OutFormat::Text).await?;
    heading("lockstep drift --env prod");
    super::drift::run(Some(&config), "prod", None, OutFormat::Text).await?;
    heading("lockstep parity");
    super::parity::run(Some(&config), &[], OutFormat::Text).await?;
    heading("lockstep rehearse --env prod");
    super::rehearse::run(Some(&config), "prod", false, OutFormat::Text).await?;
    heading("lockstep check --env prod");
    super::check::run(Some(&config), "prod", OutFormat::Text).await?;
    heading("lockstep deploy --env prod");
    super::deploy::deploy(
        Some(&config),
        super::deploy::DeployArgs {
            env: "prod",
            to: None,
            dry_run: false,
            resolve: None,
            allow_drift: false,
            lock: Default::default(),
            format: OutFormat::Text,
        },
    )
    .await?;

    heading("The fix (not applied: try it yourself)");
    println!(
        "prod already has orders.segment, added by hand, so the release's ADD COLUMN fails there.\n\
         Decide which column wins, then make every environment agree:\n\
         \n\
         - Revert the hand-made change on prod, keeping its data for the BI module first:\n\
         \x20   cd {dir}\n\
         \x20   sqlite3 prod.db \"CREATE TABLE bi_order_segment AS SELECT id, segment FROM orders; ALTER TABLE orders DROP COLUMN segment;\"\n\
         \x20   lockstep check --env prod     # green: no drift, the rehearsal passes\n\
         \x20   lockstep deploy --env prod\n\
         \n\
         - Or adopt it: write a migration that gives dev and qa the same column before the\n\
         \x20 release (on PostgreSQL, `ALTER TABLE orders ADD COLUMN IF NOT EXISTS segment text`),\n\
         \x20 and change the release to alter that column instead of adding it.\n\
         \n\
         Every command above works in {dir}; the project is left as it was before the fix.",
        dir = dir.display()
    );
    Ok(ExitCode::SUCCESS)
}
