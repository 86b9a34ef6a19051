//! Lint: the core's rules over migration files, sized by an environment when one is
//! named.
//!
//! Which files: the ones named; else the pending migrations of the environment; else the
//! migrations new or changed compared with the git default branch (`base` chooses
//! another); outside a git repository, every migration in the directory.

use crate::error::{Context, Result};
use crate::git::{canon, since_base};
use crate::project::{self, Migrations};
use crate::{Session, Target};
use lockstep_core::lint::{self, Finding, LintFile, Severity};
use lockstep_core::migrate::Migration;
use lockstep_core::model::Dialect;
use lockstep_db::scratch::Scratch;
use lockstep_db::DbUrl;
use serde::Serialize;
use std::path::PathBuf;

#[derive(Debug, Serialize)]
pub struct LintReport {
    pub findings: Vec<Finding>,
    /// The files linted, with their text (for source excerpts in human output).
    #[serde(skip)]
    pub inputs: Vec<LintFile>,
}

impl LintReport {
    pub fn errors(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .count()
    }
}

pub fn from_migration(m: &Migrations, x: &Migration) -> LintFile {
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
pub fn named(migrations: Option<&Migrations>, files: &[PathBuf]) -> Result<Vec<LintFile>> {
    let mut out = vec![];
    for f in files {
        let text = std::fs::read_to_string(f).with_context(|| {
            format!(
                "reading {}\n  hint: name migration files that exist, or run without FILE to lint the project's migrations",
                f.display()
            )
        })?;
        let known = migrations.and_then(|m| {
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

/// Lints without an environment: the named files, or the migrations since the git base.
pub fn lint_files(
    s: Option<&Session>,
    files: &[PathBuf],
    base: Option<&str>,
) -> Result<LintReport> {
    let inputs = if !files.is_empty() {
        let m = s.and_then(|s| s.migrations().ok());
        named(m.as_deref(), files)?
    } else {
        let s = s.context(
            "no lockstep.toml found in this directory or a parent\n  hint: name the files to lint, or run in a project (or pass --config PATH)",
        )?;
        let m = s.migrations()?;
        let (pending, _) = since_base(&m, base)?;
        pending.into_iter().map(|x| from_migration(&m, x)).collect()
    };
    let dialect = s.map(files_dialect).unwrap_or_default();
    let findings = lint::lint_for(dialect, &inputs, None, &Default::default());
    Ok(LintReport { findings, inputs })
}

/// The engine whose rules and words lint uses ([`lint::Ctx::dialect`]).
fn lint_dialect(d: Dialect) -> lockstep_core::sql::lex::Dialect {
    match d {
        Dialect::Postgres => lockstep_core::sql::lex::Dialect::Postgres,
        Dialect::Mysql => lockstep_core::sql::lex::Dialect::Mysql,
        Dialect::Sqlite => lockstep_core::sql::lex::Dialect::Sqlite,
    }
}

/// The engine the project's files are for: MySQL's or SQLite's when every environment
/// is one, else PostgreSQL's.
fn files_dialect(s: &Session) -> lockstep_core::sql::lex::Dialect {
    let urls: Vec<&str> = s
        .config
        .envs
        .values()
        .filter_map(|e| match &e.fleet {
            Some(f) => f.members.first().map(|m| m.url.as_str()),
            None => Some(e.url.as_str()),
        })
        .collect();
    let dialects: Vec<Option<Dialect>> = urls
        .iter()
        .map(|u| lockstep_db::DbUrl::parse(u).ok().map(|u| u.dialect()))
        .collect();
    match dialects.first() {
        Some(Some(d)) if dialects.iter().all(|x| *x == Some(*d)) => lint_dialect(*d),
        _ => Default::default(),
    }
}

/// Lints `files` (default: the pending migrations of the target) with the target's table
/// sizes, then counts the rows the data checks would fail on; with a `scratch` server,
/// lets its parser settle the statements lockstep could not parse ([`settle_on_server`]).
pub async fn lint_target(
    t: &mut Target,
    files: Option<Vec<LintFile>>,
    scratch: Option<&DbUrl>,
) -> Result<LintReport> {
    let inputs = match files {
        Some(f) => f,
        None => {
            let h = t.effective_history();
            let st = t.state_of(&h);
            st.pending
                .iter()
                .map(|m| from_migration(&t.migrations, m))
                .collect()
        }
    };
    let stats = lockstep_db::stats::table_sizes(&mut t.db, &lint::named_tables(&inputs))
        .await
        .with_context(|| format!("reading table sizes of {}", t.env))?;
    let dialect = lint_dialect(t.db.dialect());
    let mut findings = lint::lint_for(dialect, &inputs, Some(&stats.sizes), &stats.index_table);
    for f in &mut findings {
        if let Some(p) = f.probe.clone() {
            let r = lockstep_db::stats::count_failing(&mut t.db, &stats, &p).await;
            lint::apply_count(f, &r);
        }
    }
    if let Some(server) = scratch {
        findings = settle_on_server(server, findings).await;
    }
    Ok(LintReport { findings, inputs })
}

/// Runs each statement of a `could-not-parse` finding on a scratch database on `server`,
/// in a transaction that is rolled back, never on the target: one the server parses is
/// valid SQL lockstep's parser lacks (no finding), a syntax error is an error. When no
/// scratch database can be made the findings stay, saying why.
async fn settle_on_server(server: &DbUrl, findings: Vec<Finding>) -> Vec<Finding> {
    let statements: Vec<&str> = findings
        .iter()
        .filter_map(|f| f.statement.as_deref())
        .collect();
    if statements.is_empty() {
        return findings;
    }
    let not_asked = |why: String| lint::ServerParse::NotAsked(why);
    let verdicts = match Scratch::create(server).await {
        Ok(mut scratch) => {
            let mut v = vec![];
            for sql in &statements {
                v.push(match scratch.syntax_error(sql).await {
                    Ok(None) => lint::ServerParse::Parsed,
                    Ok(Some(message)) => lint::ServerParse::SyntaxError(message),
                    Err(e) => not_asked(first_line(&e.to_string())),
                });
            }
            scratch.drop().await;
            v
        }
        Err(e) => {
            let why = format!("no scratch database: {}", first_line(&e.to_string()));
            statements.iter().map(|_| not_asked(why.clone())).collect()
        }
    };
    lint::settle_parse(findings, verdicts)
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or_default().to_string()
}

pub async fn lint_env(
    s: &Session,
    env: &str,
    member: Option<&str>,
    files: &[PathBuf],
) -> Result<LintReport> {
    s.env(env)?;
    let named = if files.is_empty() {
        None
    } else {
        let m = s.migrations()?;
        Some(named(Some(&m), files)?)
    };
    let scratch = s.scratch_server(env)?;
    let mut t = s.open_in(env, member, false).await?;
    let r = lint_target(&mut t, named, Some(&scratch)).await;
    t.close().await;
    r
}
