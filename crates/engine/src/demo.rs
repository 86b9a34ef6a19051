//! The demo project: a retail orders and point-of-sale project with dev, qa and prod as
//! SQLite files, an out-of-band change in prod, and a release that collides with it.
//! The binary walks through it; this module only builds it.

use crate::deploy::DeployOptions;
use crate::error::{Context, Result};
use crate::{fail, Config, Events, Session};
use lockstep_db::{Db, DbUrl};
use std::path::{Path, PathBuf};

pub const FILES: &[(&str, &str)] = &[
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
pub const OUT_OF_BAND: &str = "ALTER TABLE orders ADD COLUMN segment TEXT;";

/// The release that collides with the out-of-band change.
pub const RELEASE: &str = "migrations/20260301090000_order_segment";

async fn exec(url: &str, sql: &str) -> Result<()> {
    let u = DbUrl::parse(url)?;
    let mut db = Db::connect(&u, true).await?;
    db.execute_script(sql).await?;
    db.close().await;
    Ok(())
}

/// Builds the project in `dir`: every environment at the earlier history, the
/// out-of-band change on prod, and the release deployed to dev only. Returns the config.
pub async fn build(dir: &Path, events: &Events) -> Result<Config> {
    if dir.join("lockstep.toml").exists() {
        fail!(
            "{} already holds a lockstep project\n  hint: remove it, or give another directory: `lockstep demo DIR`",
            dir.display()
        );
    }
    for (rel, text) in FILES {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().expect("files have a parent"))
            .with_context(|| format!("creating {}", dir.display()))?;
        std::fs::write(&p, text).with_context(|| format!("writing {}", p.display()))?;
    }
    let held: PathBuf = dir.join(format!("{RELEASE}.up.sql"));
    let held_down: PathBuf = dir.join(format!("{RELEASE}.down.sql"));
    // Set the release aside while environments get the earlier history.
    let up_text = std::fs::read_to_string(&held)?;
    let down_text = std::fs::read_to_string(&held_down)?;
    std::fs::remove_file(&held)?;
    std::fs::remove_file(&held_down)?;

    let config = Config::load(&dir.join("lockstep.toml"))?;
    let abs = |f: &str| format!("sqlite://{}", config.dir.join(f).display());
    {
        let s = Session::new(Config::load(&config.path)?, events.clone());
        for env in ["dev", "qa", "prod"] {
            let r = crate::deploy::deploy(&s, env, None, &DeployOptions::default()).await?;
            if !r.ok() {
                fail!("the demo could not deploy {env}");
            }
        }
    }
    exec(&abs("prod.db"), OUT_OF_BAND).await?;
    std::fs::write(&held, up_text)?;
    std::fs::write(&held_down, down_text)?;
    let s = Session::new(Config::load(&config.path)?, events.clone());
    crate::deploy::hash(&s, false).await?;
    let r = crate::deploy::deploy(&s, "dev", None, &DeployOptions::default()).await?;
    if !r.ok() {
        fail!("the demo could not deploy the release to dev");
    }
    Ok(config)
}
