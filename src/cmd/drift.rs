//! `lockstep drift --env E [--expected snapshot|replay]`: every difference between the
//! environment's expected schema and its live one. Exit 1 when there is drift.

use crate::cli::OutFormat;
use crate::config::Config;
use crate::expected::{self, Mode};
use crate::project;
use anyhow::Result;
use lockstep_core::drift::{drift, DriftItem};
use std::process::ExitCode;

pub struct Report {
    pub items: Vec<DriftItem>,
    pub from: &'static str,
    pub detail: String,
}

pub async fn compute(config: &Config, env: &str, mode: Option<Mode>) -> Result<Report> {
    let mut o = super::deploy::open(config, env, false).await?;
    let exp = expected::expected(config, env, &o, mode).await?;
    let actual = o.db.inspect().await?;
    o.db.close().await;
    Ok(Report {
        items: drift(&exp.model, &actual),
        from: exp.from,
        detail: exp.detail,
    })
}

pub async fn run(
    config: Option<&Config>,
    env: &str,
    mode: Option<Mode>,
    format: OutFormat,
) -> Result<ExitCode> {
    let config = project::require_config(config)?;
    project::env(config, env)?;
    let r = compute(config, env, mode).await?;
    if format == OutFormat::Json {
        super::out(&serde_json::to_string_pretty(&serde_json::json!({
            "env": env,
            "expected_from": r.from,
            "expected_detail": r.detail,
            "items": r.items,
        }))?)?;
    } else if r.items.is_empty() {
        super::out(&format!(
            "{env}: no drift (expected schema from {}: {})",
            r.from, r.detail
        ))?;
    } else {
        let mut s = format!(
            "{env}: {} drift item(s) (expected schema from {}: {})\n",
            r.items.len(),
            r.from,
            r.detail
        );
        for (i, it) in r.items.iter().enumerate() {
            s.push_str(&format!("  {}. {}\n", i + 1, it.describe()));
        }
        s.push_str(
            "  hint: adopt each change in a new migration (`lockstep new NAME`), or revert it\n",
        );
        super::out(&s)?;
    }
    Ok(if r.items.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
