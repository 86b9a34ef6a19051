//! `lockstep demo [DIR]`: builds the demo project (the engine does) and walks through
//! status, drift, parity, rehearse and check, shows deploy refusing, and prints the fix
//! without applying it. No server needed.

use crate::render;
use anyhow::Result;
use lockstep_engine::demo::{OUT_OF_BAND, RELEASE};
use lockstep_engine::deploy::{self, DeployOptions};
use lockstep_engine::{Config, Session};
use std::path::Path;
use std::process::ExitCode;

fn heading(s: &str) {
    crate::ui::clear();
    anstream::println!("\n{}", crate::ui::paint(crate::ui::BOLD, format!("━━ {s}")));
}

pub async fn run(dir: Option<&Path>) -> Result<ExitCode> {
    let dir = dir.unwrap_or(Path::new("lockstep-demo")).to_path_buf();
    anstream::println!(
        "lockstep demo: a retail orders and point-of-sale project in {}",
        dir.display()
    );
    anstream::println!("Three environments (dev, qa, prod) are SQLite files; the code in app/ and scripts/ uses the schema.");
    let events = crate::ui::terminal_events();
    let config = lockstep_engine::demo::build(&dir, &events).await?;
    anstream::println!("Every environment got the first three migrations.");
    anstream::println!("\nTwo weeks ago, for a business-intelligence module, someone ran this on prod by hand:\n    {OUT_OF_BAND}");
    anstream::println!("\nTonight's release adds {RELEASE}.up.sql; dev has run it already.");
    let s = Session::new(Config::load(&config.path)?, events);
    let envs: Vec<String> = s.config.envs.keys().cloned().collect();

    heading("lockstep status");
    render::out(&render::status::text(
        &lockstep_engine::status::status(&s, &envs, None).await?,
    ))?;
    heading("lockstep drift --env prod");
    render::out(&render::drift::text(
        &lockstep_engine::drift::drift(&s, "prod", None, None).await?,
    ))?;
    heading("lockstep parity");
    render::out(&render::parity::text(
        &lockstep_engine::parity::parity(&s, &envs).await?,
    ))?;
    heading("lockstep rehearse --env prod");
    render::out(&render::rehearse::text(
        &lockstep_engine::rehearse::rehearse(&s, "prod", None, false).await?,
    ))?;
    heading("lockstep check --env prod");
    render::out(&render::check::text(
        &lockstep_engine::check::check(&s, "prod", None).await?,
    ))?;
    heading("lockstep deploy --env prod");
    let r = deploy::deploy(&s, "prod", None, &DeployOptions::default()).await?;
    let (o, e) = render::deploy::text(&r);
    anstream::print!("{e}");
    if !o.is_empty() {
        render::out(&o)?;
    }

    heading("The fix (not applied: try it yourself)");
    anstream::println!(
        "prod already has orders.segment, added by hand, so the release's ADD COLUMN fails there.\n\
         Decide which column wins, then make every environment agree:\n\
         \n\
         - Revert the hand-made change on prod, keeping its data for the BI module first:\n\
         \x20   cd {dir}\n\
         \x20   sqlite3 -csv prod.db \"SELECT id, segment FROM orders\" > bi_order_segment.csv\n\
         \x20   sqlite3 prod.db \"ALTER TABLE orders DROP COLUMN segment\"\n\
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
