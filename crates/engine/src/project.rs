//! The project: config plus the migrations directory read from disk. The core parses;
//! this module only reads files.

use crate::config::Config;
use crate::error::{Context, Error, Result};
use crate::fail;
use lockstep_core::migrate::{dir, sum, Layout, MigrationSet};
use std::path::{Path, PathBuf};

pub fn require_config(config: Option<&Config>) -> Result<&Config> {
    match config {
        Some(c) => Ok(c),
        None => fail!(
            "no lockstep.toml found in this directory or a parent\n  hint: create one with `migrations = \"migrations\"` and an [env.NAME] url, or pass --config PATH"
        ),
    }
}

pub fn env<'a>(config: &'a Config, name: &str) -> Result<&'a crate::config::Env> {
    config.envs.get(name).ok_or_else(|| {
        let known: Vec<&str> = config.envs.keys().map(String::as_str).collect();
        Error::msg(format!(
            "environment `{name}` is not in {}\n  hint: known environments: {}",
            config.path.display(),
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        ))
    })
}

/// The URL of a single-database environment, with a relative SQLite path resolved
/// against the config. A fleet has no one URL: say how to name a member.
pub fn env_url(config: &Config, name: &str) -> Result<lockstep_db::DbUrl> {
    let e = env(config, name)?;
    if let Some(f) = &e.fleet {
        fail!(
            "environment {name} is a fleet of {} databases, and this command works on one\n  hint: name one with --member NAME (first: {})",
            f.members.len(),
            f.members.first().map(|m| m.name.as_str()).unwrap_or("")
        );
    }
    url_of(config, name, &e.url)
}

/// A URL from the config, with a relative SQLite path resolved against the config.
pub fn url_of(config: &Config, name: &str, url: &str) -> Result<lockstep_db::DbUrl> {
    lockstep_db::DbUrl::sqlite_relative_to(url, &config.dir)
        .with_context(|| format!("environment {name} in {}", config.path.display()))
}

/// `(path relative to the migrations directory, bytes)` for every file one level deep.
pub fn list_files(dir: &Path) -> Result<Vec<(String, Vec<u8>)>> {
    let mut out = vec![];
    let entries = std::fs::read_dir(dir).with_context(|| {
        format!(
            "reading the migrations directory {}\n  hint: create it, or set `migrations` in lockstep.toml",
            dir.display()
        )
    })?;
    for e in entries {
        let e = e?;
        let name = e.file_name().to_string_lossy().into_owned();
        let p = e.path();
        if p.is_dir() {
            for f in std::fs::read_dir(&p)? {
                let f = f?;
                if f.path().is_file() {
                    let rel = format!("{name}/{}", f.file_name().to_string_lossy());
                    out.push((rel, std::fs::read(f.path())?));
                }
            }
        } else if p.is_file() && name != sum::FILE_NAME {
            out.push((name, std::fs::read(&p)?));
        }
    }
    out.sort();
    Ok(out)
}

pub struct Migrations {
    pub dir: PathBuf,
    pub files: Vec<(String, Vec<u8>)>,
    pub set: MigrationSet,
    /// Whether the layout came from the config (not to be second-guessed).
    pub configured: bool,
}

impl Migrations {
    pub fn load(config: &Config) -> Result<Migrations> {
        let files = list_files(&config.migrations)?;
        let configured = config.layout.is_some();
        let layout = match &config.layout {
            Some(l) => Layout::parse(l).expect("validated when loading the config"),
            None => dir::detect(&files).unwrap_or(Layout::Lockstep),
        };
        let set = parse(&config.migrations, &files, layout)?;
        Ok(Migrations {
            dir: config.migrations.clone(),
            files,
            set,
            configured,
        })
    }

    /// sqlx, golang-migrate and lockstep share a file layout: the history table another
    /// tool left in the target settles which one's directives apply. `None` when the
    /// layout stays as it is.
    pub fn settled(&self, tool: Option<&str>) -> Result<Option<Migrations>> {
        if self.configured || self.set.layout != Layout::Lockstep {
            return Ok(None);
        }
        let layout = match tool {
            Some("sqlx") => Layout::Sqlx,
            Some("golang-migrate") => Layout::GolangMigrate,
            _ => return Ok(None),
        };
        Ok(Some(Migrations {
            dir: self.dir.clone(),
            files: self.files.clone(),
            set: parse(&self.dir, &self.files, layout)?,
            configured: self.configured,
        }))
    }

    /// The path of a script for messages: the migrations directory joined with it.
    pub fn display(&self, rel: &str) -> String {
        display_path(&self.dir.join(rel))
    }

    pub fn sum_path(&self) -> PathBuf {
        self.dir.join(sum::FILE_NAME)
    }
}

fn parse(dir: &Path, files: &[(String, Vec<u8>)], layout: Layout) -> Result<MigrationSet> {
    dir::parse(files, layout)
        .map_err(|e| Error::msg(format!("{} ({} layout): {e}", display_path(dir), layout)))
}

/// A path relative to the working directory when it is under it.
pub fn display_path(p: &Path) -> String {
    let cwd = std::env::current_dir().ok();
    let canon = p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
    if let Some(cwd) = cwd.and_then(|c| c.canonicalize().ok()) {
        if let Ok(rel) = canon.strip_prefix(&cwd) {
            return rel.display().to_string();
        }
    }
    p.display().to_string()
}
