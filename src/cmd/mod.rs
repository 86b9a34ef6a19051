//! One file per command.

mod diff;
mod inspect;

use crate::cli::{Args, Command};
use crate::config::Config;
use std::process::ExitCode;

pub async fn dispatch(args: Args) -> anyhow::Result<ExitCode> {
    let config = Config::find(args.config.as_deref())?;
    match args.command {
        Command::Inspect { source, format } => inspect::run(&source, format, config.as_ref()).await,
        Command::Diff { from, to, format } => diff::run(&from, &to, format, config.as_ref()).await,
    }
}

/// Writes to stdout, so a closed pipe surfaces as an error `main` recognizes.
pub fn out(s: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(s.as_bytes())?;
    if !s.ends_with('\n') {
        stdout.write_all(b"\n")?;
    }
    stdout.flush()?;
    Ok(())
}
