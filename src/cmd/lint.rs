//! `lockstep lint [FILE ...] [--env E]`: the core's lint rules over migration files.
//!
//! Which files: the ones named; else the pending migrations of `--env E`; else every
//! migration in the directory. (Selecting the migrations that are new or changed compared
//! with the git default branch is not built yet.)

use crate::cli::LintFormat;
use crate::config::Config;
use crate::project::{self, Migrations};
use anyhow::{Context, Result};
use lockstep_core::lint::{self, Finding, LintFile, Severity};
use lockstep_core::migrate::{state, Migration};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub async fn run(
    config: Option<&Config>,
    files: &[PathBuf],
    env: Option<&str>,
    format: LintFormat,
) -> Result<ExitCode> {
    let inputs = if !files.is_empty() {
        named(config, files)?
    } else {
        let config = project::require_config(config)?;
        match env {
            Some(env) => {
                project::env(config, env)?;
                let o = super::deploy::open(config, env, false).await?;
                let history = o.effective_history();
                let st = state::state(&o.migrations.set, &history, &o.progress);
                let inputs = st
                    .pending
                    .iter()
                    .map(|m| from_migration(&o.migrations, m))
                    .collect();
                o.db.close().await;
                inputs
            }
            None => {
                let m = Migrations::load(config)?;
                m.set
                    .migrations
                    .iter()
                    .map(|x| from_migration(&m, x))
                    .collect()
            }
        }
    };
    let findings = lint::lint(&inputs);
    print(&findings, &inputs, format)?;
    Ok(if findings.iter().any(|f| f.severity == Severity::Error) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn from_migration(m: &Migrations, x: &Migration) -> LintFile {
    LintFile {
        path: m.display(&x.up.path),
        text: x.up.text.clone(),
        first_line: x.up.first_line,
        no_transaction: x.no_transaction,
        has_down: Some(x.down.is_some()),
    }
}

/// Named files: a file that is the up script of a migration in the project is linted as
/// that migration (its no-transaction declaration and down script are known).
fn named(config: Option<&Config>, files: &[PathBuf]) -> Result<Vec<LintFile>> {
    let migrations = config.and_then(|c| Migrations::load(c).ok());
    let canon = |p: &Path| p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
    let mut out = vec![];
    for f in files {
        let text = std::fs::read_to_string(f).with_context(|| {
            format!(
                "reading {}\n  hint: name migration files that exist, or run without FILE to lint the project's migrations",
                f.display()
            )
        })?;
        let known = migrations.as_ref().and_then(|m| {
            m.set
                .migrations
                .iter()
                .find(|x| canon(&m.dir.join(&x.up.path)) == canon(f))
                .map(|x| from_migration(m, x))
        });
        out.push(known.unwrap_or_else(|| LintFile::loose(&project::display_path(f), &text)));
    }
    Ok(out)
}

fn print(findings: &[Finding], inputs: &[LintFile], format: LintFormat) -> Result<()> {
    match format {
        LintFormat::Json => super::out(&serde_json::to_string_pretty(
            &serde_json::json!({ "findings": findings }),
        )?),
        LintFormat::Github => {
            let mut s = String::new();
            for f in findings {
                let level = match f.severity {
                    Severity::Error => "error",
                    Severity::Warning => "warning",
                    Severity::Info => "notice",
                };
                s.push_str(&format!(
                    "::{level} file={},line={},title={}::{}\n",
                    gh_property(&f.file),
                    f.line,
                    gh_property(&f.rule),
                    gh_data(&format!("{}\nhelp: {}", f.message, f.help)),
                ));
            }
            if s.is_empty() {
                return Ok(());
            }
            super::out(&s)
        }
        LintFormat::Text => {
            let mut s = String::new();
            for f in findings {
                s.push_str(&format!(
                    "{}:{}: {} {}: {}\n",
                    f.file, f.line, f.severity, f.rule, f.message
                ));
                if let Some(src) = source_line(inputs, f) {
                    s.push_str(&format!("  {:>4} | {src}\n", f.line));
                }
                s.push_str(&format!("  help: {}\n", f.help));
            }
            let errors = findings
                .iter()
                .filter(|f| f.severity == Severity::Error)
                .count();
            s.push_str(&format!(
                "{} file(s) linted: {errors} error(s), {} other finding(s)",
                inputs.len(),
                findings.len() - errors
            ));
            super::out(&s)
        }
    }
}

/// The source line a finding points at, for people.
fn source_line<'a>(inputs: &'a [LintFile], f: &Finding) -> Option<&'a str> {
    let input = inputs.iter().find(|i| i.path == f.file)?;
    let idx = f.line.checked_sub(input.first_line)?;
    let line = input.text.lines().nth(idx)?.trim_end();
    (!line.trim().is_empty()).then_some(line)
}

/// GitHub workflow command escaping: message data.
fn gh_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// GitHub workflow command escaping: property values.
fn gh_property(s: &str) -> String {
    gh_data(s).replace(':', "%3A").replace(',', "%2C")
}
