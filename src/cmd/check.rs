//! `lockstep check --env E`: the gate. Integrity, drift, rehearsal, lint and impact in
//! one verdict. Lint runs over the environment's pending migrations with its table sizes
//! (an error fails the gate); impact is informational (it lists how many code references
//! the pending changes and the drift touch, and never fails the gate).

use crate::cli::OutFormat;
use crate::config::Config;
use crate::project;
use anyhow::Result;
use lockstep_core::migrate::{state, sum};
use std::process::ExitCode;

struct Check {
    name: &'static str,
    ok: bool,
    detail: String,
}

pub async fn run(config: Option<&Config>, env: &str, format: OutFormat) -> Result<ExitCode> {
    let config = project::require_config(config)?;
    project::env(config, env)?;
    let mut checks = vec![];

    // Integrity: the sum file and the history against the directory.
    let o = super::deploy::open(config, env, false).await?;
    let mut problems: Vec<String> = vec![];
    if let Ok(text) = std::fs::read_to_string(o.migrations.sum_path()) {
        match sum::parse(&text) {
            Ok(lines) => problems.extend(sum::verify(&o.migrations.set, &lines)),
            Err(e) => problems.push(e),
        }
    }
    let history = o.effective_history();
    let st = state::state(&o.migrations.set, &history, &o.progress);
    problems.extend(st.problems.iter().map(|p| p.message().replace("ENV", env)));
    let pending = st.pending.len();
    o.db.close().await;
    checks.push(Check {
        name: "integrity",
        ok: problems.is_empty(),
        detail: if problems.is_empty() {
            format!(
                "{} applied, {pending} pending, checksums agree",
                st.applied.len()
            )
        } else {
            problems.join("; ")
        },
    });

    let drift = super::drift::compute(config, env, None).await;
    let items = match &drift {
        Ok(r) => {
            checks.push(Check {
                name: "drift",
                ok: r.items.is_empty(),
                detail: if r.items.is_empty() {
                    format!("none (expected schema from {})", r.from)
                } else {
                    r.items
                        .iter()
                        .enumerate()
                        .map(|(i, it)| format!("{}. {}", i + 1, it.describe()))
                        .collect::<Vec<_>>()
                        .join("; ")
                },
            });
            Some(r.items.as_slice())
        }
        Err(e) => {
            checks.push(Check {
                name: "drift",
                ok: false,
                detail: format!("could not be checked: {e:#}"),
            });
            None
        }
    };

    let rehearsal = super::rehearse::rehearse(config, env, false, items).await;
    // Drift that the pending migrations adopt is not a failure: after the deploy the
    // environment will be exactly what its migrations say.
    if let (Ok(r), Some(d)) = (&rehearsal, checks.iter_mut().find(|c| c.name == "drift")) {
        if !d.ok && r.failure.is_none() && r.residual.as_ref().is_some_and(|x| x.is_empty()) {
            d.ok = true;
            d.detail = format!("{}; all adopted by the pending migrations", d.detail);
        }
    }
    checks.push(match rehearsal {
        Ok(r) => Check {
            name: "rehearsal",
            ok: r.failure.is_none(),
            detail: r.failure.unwrap_or_else(|| {
                format!(
                    "{} pending migration(s) apply to a copy of {env}",
                    r.pending
                )
            }),
        },
        Err(e) => Check {
            name: "rehearsal",
            ok: false,
            detail: format!("could not run: {e:#}"),
        },
    });

    checks.push(match super::lint::with_env(config, env, None).await {
        Ok((inputs, findings)) => {
            use lockstep_core::lint::Severity;
            let errors: Vec<String> = findings
                .iter()
                .filter(|f| f.severity == Severity::Error)
                .map(|f| format!("{}:{}: {}: {}", f.file, f.line, f.rule, f.message))
                .collect();
            let summary = format!(
                "{} pending migration(s): {} error(s), {} other finding(s)",
                inputs.len(),
                errors.len(),
                findings.len() - errors.len()
            );
            Check {
                name: "lint",
                ok: errors.is_empty(),
                detail: if errors.is_empty() {
                    summary
                } else {
                    format!("{summary}\n{}", errors.join("\n"))
                },
            }
        }
        Err(e) => Check {
            name: "lint",
            ok: false,
            detail: format!("could not run: {e:#}"),
        },
    });

    checks.push(
        match super::impact::compute(config, Some(env), None).await {
            Ok((changes, _)) => {
                let refs: usize = changes.iter().map(|c| c.references.len()).sum();
                let mut detail = format!(
                    "{} schema change(s) drop, rename or retype; {refs} code reference(s) found",
                    changes.len()
                );
                for c in changes.iter().filter(|c| !c.references.is_empty()) {
                    detail.push_str(&format!(
                        "\n{}: {} reference(s)",
                        c.describe,
                        c.references.len()
                    ));
                }
                if refs > 0 {
                    detail.push_str(
                        "\nrun `lockstep impact --env ENV` for files and lines"
                            .replace("ENV", env)
                            .as_str(),
                    );
                }
                Check {
                    name: "impact",
                    ok: true,
                    detail,
                }
            }
            Err(e) => Check {
                name: "impact",
                ok: true,
                detail: format!("could not run (informational): {e:#}"),
            },
        },
    );

    let pass = checks.iter().all(|c| c.ok);
    if format == OutFormat::Json {
        let items: Vec<_> = checks
            .iter()
            .map(|c| serde_json::json!({"name": c.name, "ok": c.ok, "detail": c.detail}))
            .collect();
        super::out(&serde_json::to_string_pretty(&serde_json::json!({
            "env": env,
            "verdict": if pass { "pass" } else { "fail" },
            "checks": items,
        }))?)?;
    } else {
        let mut s = format!("check {env}: {}\n", if pass { "PASS" } else { "FAIL" });
        for c in &checks {
            s.push_str(&format!(
                "  {:<10} {:<4}  {}\n",
                c.name,
                if c.ok { "ok" } else { "FAIL" },
                c.detail.replace('\n', "\n                    ")
            ));
        }
        super::out(&s)?;
    }
    Ok(if pass {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
