//! A new migration, with its down script, in the project's layout.

use crate::error::{Context, Result};
use crate::project::{display_path, list_files, Migrations};
use crate::{fail, Session};
use lockstep_core::migrate::{dir, sum, Layout, Version};
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct NewReport {
    pub created: Vec<String>,
    pub sum: String,
}

/// UTC `YYYYMMDDHHMMSS` for a Unix time.
fn timestamp(secs: u64) -> String {
    let (y, m, d, h, min, sec) = crate::watch::civil(secs);
    format!("{y:04}{m:02}{d:02}{h:02}{min:02}{sec:02}")
}

pub fn new(s: &Session, name: &str) -> Result<NewReport> {
    let config = &s.config;
    let slug: String = name
        .trim()
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let slug = slug.trim_matches('_').to_string();
    if slug.is_empty() {
        fail!("`{name}` is not a usable migration name\n  hint: use letters and digits, e.g. `lockstep new add_orders_segment`");
    }
    std::fs::create_dir_all(&config.migrations)
        .with_context(|| format!("creating {}", config.migrations.display()))?;
    let files = list_files(&config.migrations)?;
    let layout = match &config.layout {
        Some(l) => Layout::parse(l).expect("validated when loading the config"),
        None => dir::detect(&files).unwrap_or(Layout::Lockstep),
    };
    let newest = dir::parse(&files, layout)
        .ok()
        .and_then(|s| s.migrations.last().map(|m| m.version.clone()));
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut version = timestamp(secs);
    // Keep versions increasing even when the newest one is "in the future" or was made
    // this same second.
    if let Some(n) = newest {
        if Version::parse(&version).expect("digits") <= n {
            version = increment(n.as_str());
        }
    }
    let up = format!("-- {slug}: write the change here.\n");
    let down = format!("-- Undo {slug}: write the reverse change here.\n");
    let created: Vec<(String, String)> = match layout {
        Layout::Diesel => {
            let v = format!(
                "{}-{}-{}-{}",
                &version[..4.min(version.len())],
                &version[4..6.min(version.len())],
                &version[6..8.min(version.len())],
                &version[8.min(version.len())..]
            );
            let d = format!("{v}_{slug}");
            std::fs::create_dir_all(config.migrations.join(&d))?;
            vec![(format!("{d}/up.sql"), up), (format!("{d}/down.sql"), down)]
        }
        Layout::Dbmate => vec![(
            format!("{version}_{slug}.sql"),
            format!("-- migrate:up\n{up}\n-- migrate:down\n{down}"),
        )],
        Layout::Flyway => vec![
            (format!("V{version}__{slug}.sql"), up),
            (format!("U{version}__{slug}.sql"), down),
        ],
        // Neither tool has down scripts; Atlas also lists files in atlas.sum, which
        // `atlas migrate hash` rewrites (lockstep never writes another tool's files).
        Layout::Prisma => {
            let d = format!("{version}_{slug}");
            std::fs::create_dir_all(config.migrations.join(&d))?;
            vec![(format!("{d}/migration.sql"), up)]
        }
        Layout::Atlas => vec![(format!("{version}_{slug}.sql"), up)],
        Layout::Lockstep | Layout::Sqlx | Layout::GolangMigrate => vec![
            (format!("{version}_{slug}.up.sql"), up),
            (format!("{version}_{slug}.down.sql"), down),
        ],
    };
    let mut out = vec![];
    for (rel, text) in &created {
        let p = config.migrations.join(rel);
        if p.exists() {
            fail!("{} already exists", display_path(&p));
        }
        std::fs::write(&p, text).with_context(|| format!("writing {}", p.display()))?;
        out.push(display_path(&p));
    }
    // Keep the sum file in step, so the new migration is not reported as unlisted; the
    // lines of the other migrations stay as they were (an edit of an applied migration
    // must still be noticed).
    let m = Migrations::load(config)?;
    let path = m.sum_path();
    let old: Vec<sum::SumLine> = std::fs::read_to_string(&path)
        .ok()
        .and_then(|t| sum::parse(&t).ok())
        .unwrap_or_default();
    let fresh = sum::render(&m.set);
    let text: String = if old.is_empty() {
        fresh
    } else {
        fresh
            .lines()
            .map(|l| {
                let v = l.split(' ').next().and_then(Version::parse);
                match v.and_then(|v| old.iter().find(|o| o.version == v)) {
                    Some(o) if !l.starts_with('#') => format!(
                        "{} {} {} {}\n",
                        o.version,
                        o.up,
                        o.down.as_deref().unwrap_or("-"),
                        o.path
                    ),
                    _ => format!("{l}\n"),
                }
            })
            .collect()
    };
    crate::deploy::write_atomic(&path, &text)?;
    Ok(NewReport {
        created: out,
        sum: display_path(&path),
    })
}

/// Decimal string + 1, any length.
fn increment(v: &str) -> String {
    let mut digits: Vec<u8> = v.bytes().map(|b| b - b'0').collect();
    let mut i = digits.len();
    loop {
        if i == 0 {
            digits.insert(0, 1);
            break;
        }
        i -= 1;
        if digits[i] == 9 {
            digits[i] = 0;
        } else {
            digits[i] += 1;
            break;
        }
    }
    digits.iter().map(|d| (d + b'0') as char).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_and_increments() {
        assert_eq!(timestamp(0), "19700101000000");
        assert_eq!(timestamp(1_795_000_000), "20261118110640");
        assert_eq!(increment("199"), "200");
        assert_eq!(increment("99999999999999999999"), "100000000000000000000");
    }
}
