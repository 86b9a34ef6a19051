//! `lockstep lint [FILE ...] [--env E]`: the core's lint rules over migration files.
//!
//! Which files: the ones named; else the pending migrations of `--env E`; else the
//! migrations new or changed compared with the git default branch (`--base REF` chooses
//! another); outside a git repository, every migration in the directory.
//!
//! With `--env E` the rules are size-aware: the environment's table sizes are read in one
//! read-only query and handed to the core, and SET NOT NULL / new unique constraints get
//! the count of rows they would fail on (see docs/lint.md).

use crate::cli::LintFormat;
use crate::config::Config;
use crate::project::{self, Migrations};
use anyhow::{Context, Result};
use lockstep_core::lint::{self, Finding, LintFile, Severity};
use lockstep_core::migrate::{state, Migration};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub async fn run(
    config: Option<&Config>,
    files: &[PathBuf],
    env: Option<&str>,
    base: Option<&str>,
    format: LintFormat,
) -> Result<ExitCode> {
    let (inputs, findings) = if let Some(env) = env {
        let config = project::require_config(config)?;
        let named = if files.is_empty() {
            None
        } else {
            Some(named(Some(config), files)?)
        };
        with_env(config, env, named).await?
    } else {
        let inputs = if !files.is_empty() {
            named(config, files)?
        } else {
            let config = project::require_config(config)?;
            let m = Migrations::load(config)?;
            let (pending, _) = since_base(&m, base)?;
            pending.into_iter().map(|x| from_migration(&m, x)).collect()
        };
        let findings = lint::lint(&inputs);
        (inputs, findings)
    };
    print(&findings, &inputs, format)?;
    Ok(if findings.iter().any(|f| f.severity == Severity::Error) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Lints `files` (default: the pending migrations of `env`) with `env`'s table sizes,
/// then counts the rows the data checks would fail on.
pub async fn with_env(
    config: &Config,
    env: &str,
    files: Option<Vec<LintFile>>,
) -> Result<(Vec<LintFile>, Vec<Finding>)> {
    project::env(config, env)?;
    let mut o = super::deploy::open(config, env, false).await?;
    let inputs = match files {
        Some(f) => f,
        None => {
            let history = o.effective_history();
            let st = state::state(&o.migrations.set, &history, &o.progress);
            st.pending
                .iter()
                .map(|m| from_migration(&o.migrations, m))
                .collect()
        }
    };
    let stats = lockstep_db::stats::table_sizes(&mut o.db, &lint::named_tables(&inputs)).await;
    let stats = match stats {
        Ok(s) => s,
        Err(e) => {
            o.db.close().await;
            return Err(e).with_context(|| format!("reading table sizes of {env}"));
        }
    };
    let mut findings = lint::lint_env(&inputs, Some(&stats.sizes), &stats.index_table);
    for f in &mut findings {
        if let Some(p) = f.probe.clone() {
            let r = lockstep_db::stats::count_failing(&mut o.db, &stats, &p).await;
            lint::apply_count(f, &r);
        }
    }
    o.db.close().await;
    Ok((inputs, findings))
}

fn canon(p: &Path) -> PathBuf {
    p.canonicalize().unwrap_or_else(|_| p.to_path_buf())
}

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let o = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    o.status
        .success()
        .then(|| String::from_utf8_lossy(&o.stdout).trim().to_string())
}

/// The migrations whose up or down script is new or changed compared with the git base
/// (see [`changed_since_base`]), and that base; every migration, and `None`, outside git
/// or when no default branch is found.
pub fn since_base<'a>(
    m: &'a Migrations,
    base: Option<&str>,
) -> Result<(Vec<&'a Migration>, Option<String>)> {
    let Some((base, changed)) = changed_since_base(&m.dir, base)? else {
        return Ok((m.set.migrations.iter().collect(), None));
    };
    let pending = m
        .set
        .migrations
        .iter()
        .filter(|x| {
            std::iter::once(&x.up.path)
                .chain(x.down.as_ref().map(|d| &d.path))
                .any(|p| changed.contains(&canon(&m.dir.join(p))))
        })
        .collect();
    Ok((pending, Some(base)))
}

/// The files (canonical paths) new or changed in the working tree compared with where
/// the current branch left `base` (default: the default branch: `origin/HEAD`, else
/// `main`, `origin/main`, `master`, `origin/master`); untracked files count as new.
/// `None` outside a git repository, or when no default branch is found and no base is
/// given: then every migration counts.
fn changed_since_base(
    dir: &Path,
    base: Option<&str>,
) -> Result<Option<(String, BTreeSet<PathBuf>)>> {
    let Some(top) = git(dir, &["rev-parse", "--show-toplevel"]) else {
        anyhow::ensure!(
            base.is_none(),
            "--base needs a git repository, and {} is not in one",
            dir.display()
        );
        return Ok(None);
    };
    let base = match base {
        Some(b) => {
            git(dir, &["rev-parse", "--verify", "--quiet", &format!("{b}^{{commit}}")])
                .with_context(|| format!("--base {b}: no such commit, branch or tag\n  hint: name a branch such as main or origin/main"))?;
            b.to_string()
        }
        None => {
            let origin = git(
                dir,
                &[
                    "symbolic-ref",
                    "--quiet",
                    "--short",
                    "refs/remotes/origin/HEAD",
                ],
            );
            let found = origin
                .into_iter()
                .chain(["main", "origin/main", "master", "origin/master"].map(String::from))
                .find(|b| {
                    git(
                        dir,
                        &[
                            "rev-parse",
                            "--verify",
                            "--quiet",
                            &format!("{b}^{{commit}}"),
                        ],
                    )
                    .is_some()
                });
            match found {
                Some(b) => b,
                None => return Ok(None),
            }
        }
    };
    let Some(fork) = git(dir, &["merge-base", &base, "HEAD"]) else {
        return Ok(None);
    };
    let top = PathBuf::from(top);
    let mut out = BTreeSet::new();
    let diffs = git(dir, &["diff", "--name-only", "--no-renames", &fork]).unwrap_or_default();
    let untracked = git(
        dir,
        &[
            "ls-files",
            "--others",
            "--exclude-standard",
            "--full-name",
            ":/",
        ],
    )
    .unwrap_or_default();
    for rel in diffs.lines().chain(untracked.lines()) {
        if !rel.is_empty() {
            out.insert(canon(&top.join(rel)));
        }
    }
    Ok(Some((base, out)))
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
        LintFormat::Gitlab => {
            // GitLab's Code Quality format: one issue per finding; the fingerprint keeps
            // an unchanged finding the same issue across pipelines.
            let items: Vec<serde_json::Value> = findings
                .iter()
                .map(|f| {
                    let severity = match f.severity {
                        Severity::Error => "major",
                        Severity::Warning => "minor",
                        Severity::Info => "info",
                    };
                    let fingerprint = lockstep_core::migrate::dir::checksum(&format!(
                        "{}:{}:{}",
                        f.rule, f.file, f.message
                    ));
                    serde_json::json!({
                        "description": format!("{}: {} (help: {})", f.rule, f.message, f.help),
                        "check_name": f.rule,
                        "fingerprint": fingerprint,
                        "severity": severity,
                        "location": {"path": f.file, "lines": {"begin": f.line}},
                    })
                })
                .collect();
            super::out(&serde_json::to_string_pretty(&items)?)
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
