//! lockstep's engine: the API between the front ends (the CLI, the status page) and the
//! databases. Every capability is an async function over a [`Session`] that returns a
//! plain, serializable report; the engine never prints (progress and notes go through
//! [`events`]) and never decides exit codes.

pub mod audit;
pub mod baseline;
pub mod cache;
pub mod check;
pub mod config;
pub mod demo;
pub mod deploy;
pub mod diff;
pub mod drift;
pub mod error;
pub mod events;
pub mod expected;
pub mod fleet;
pub mod git;
pub mod impact;
pub mod init;
pub mod interrupt;
pub mod lint;
pub mod new;
pub mod parity;
pub mod project;
pub mod recent;
pub mod rehearse;
pub mod session;
pub mod snapshot;
pub mod source;
pub mod status;
pub mod watch;

pub use config::Config;
pub use error::{Context, Error, Result};
pub use events::{Event, Events, MemberState};
pub use session::{Session, Target};

/// Removes passwords from any text that may hold a URL.
pub use lockstep_db::url::redact;

/// The pure core, for front ends that render its types (findings, drift items).
pub use lockstep_core as core;

use lockstep_core::migrate::Version;

/// A report as the contract's JSON: one pretty-printed object and a newline. The CLI's
/// `--format json` and the status page's API both print exactly these bytes.
pub fn json_text<T: serde::Serialize>(report: &T) -> Result<String> {
    let mut s = serde_json::to_string_pretty(report)?;
    s.push('\n');
    Ok(s)
}

/// Parses a version given by a person (`2019-02-26-002946` or `20190226002946`).
pub fn parse_version(s: &str) -> Result<Version> {
    Version::parse(s).with_context(|| {
        format!("`{s}` is not a version\n  hint: a version is digits, optionally with - or _ (2019-02-26-002946)")
    })
}

/// Refuses a version that names no migration in the directory (`0` means "before the
/// first", and is always allowed). A typo must never become "everything" or "nothing".
pub fn require_known_version(m: &project::Migrations, v: &Version) -> Result<()> {
    if v.as_str().trim_start_matches('0').is_empty()
        || m.set.migrations.iter().any(|x| &x.version == v)
    {
        return Ok(());
    }
    let near: Vec<String> = {
        let mut all: Vec<&Version> = m.set.migrations.iter().map(|x| &x.version).collect();
        all.sort();
        let below = all.iter().rev().find(|x| **x < v).map(|x| x.to_string());
        let above = all.iter().find(|x| **x > v).map(|x| x.to_string());
        below.into_iter().chain(above).collect()
    };
    fail!(
        "version {v} is not a migration in {}\n  hint: {}",
        project::display_path(&m.dir),
        if near.is_empty() {
            "the directory has no migrations".to_string()
        } else {
            format!(
                "the nearest are {}; `lockstep status` lists them (0 means before the first)",
                near.join(" and ")
            )
        }
    )
}
