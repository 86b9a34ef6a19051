//! `lockstep status [--env E]`: per environment, the current version, applied and
//! pending migrations, and problems. Exit 1 only for problems, not for pending work.

use crate::cli::OutFormat;
use crate::config::Config;
use crate::project;
use anyhow::Result;
use lockstep_core::migrate::state;
use std::process::ExitCode;

pub async fn run(
    config: Option<&Config>,
    env: Option<&str>,
    format: OutFormat,
) -> Result<ExitCode> {
    let config = project::require_config(config)?;
    let envs: Vec<String> = match env {
        Some(e) => {
            project::env(config, e)?;
            vec![e.to_string()]
        }
        None => config.envs.keys().cloned().collect(),
    };
    if envs.is_empty() {
        anyhow::bail!(
            "{} has no environments\n  hint: add an [env.NAME] section with a url",
            config.path.display()
        );
    }
    let mut docs = vec![];
    let mut text = String::new();
    let mut problems_seen = false;
    for name in &envs {
        let o = super::deploy::open(config, name, false).await?;
        let history = o.effective_history();
        let st = state::state(&o.migrations.set, &history, &o.progress);
        problems_seen |= !st.problems.is_empty();
        let current = st.current().map(|v| v.to_string());
        let pending: Vec<String> = st.pending.iter().map(|m| m.version.to_string()).collect();
        let problems: Vec<String> = st
            .problems
            .iter()
            .map(|p| p.message().replace("ENV", name))
            .collect();
        text.push_str(&format!(
            "{name} ({}): version {}, {} applied, {} pending{}\n",
            o.db.url.redacted(),
            current.as_deref().unwrap_or("none"),
            st.applied.len(),
            pending.len(),
            match &o.foreign {
                Some((tool, _)) if o.history.is_empty() =>
                    format!(" (from {tool}'s history; adopted on the next deploy)"),
                _ => String::new(),
            }
        ));
        for m in &st.pending {
            text.push_str(&format!("  pending  {} {}\n", m.version, m.name));
        }
        for p in &problems {
            text.push_str(&format!(
                "  problem  {}\n",
                p.replace('\n', "\n           ")
            ));
        }
        docs.push(serde_json::json!({
            "env": name,
            "current": current,
            "applied": st.applied.iter().map(|v| v.to_string()).collect::<Vec<_>>(),
            "pending": pending,
            "problems": problems,
            "problem_details": st.problems,
        }));
        o.db.close().await;
    }
    if format == OutFormat::Json {
        super::out(&serde_json::to_string_pretty(
            &serde_json::json!({ "environments": docs }),
        )?)?;
    } else {
        super::out(&text)?;
    }
    Ok(if problems_seen {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
