//! One file per command.

mod check;
mod demo;
pub mod deploy;
mod diff;
pub mod drift;
pub mod impact;
mod inspect;
mod lint;
mod new;
mod parity;
mod rehearse;
mod snapshot;
pub mod status;

use crate::cli::{Args, Command};
use crate::config::Config;
use std::process::ExitCode;

pub async fn dispatch(args: Args) -> anyhow::Result<ExitCode> {
    let config = Config::find(args.config.as_deref())?;
    match args.command {
        Command::Inspect { source, format } => inspect::run(&source, format, config.as_ref()).await,
        Command::Diff { from, to, format } => diff::run(&from, &to, format, config.as_ref()).await,
        Command::Status { env, format } => {
            status::run(config.as_ref(), env.as_deref(), format).await
        }
        Command::Deploy {
            env,
            to,
            dry_run,
            resolve,
            allow_drift,
            lock,
            format,
        } => {
            deploy::deploy(
                config.as_ref(),
                deploy::DeployArgs {
                    env: &env,
                    to: to.as_deref(),
                    dry_run,
                    resolve,
                    allow_drift,
                    lock: lock.wait(),
                    format,
                },
            )
            .await
        }
        Command::Rollback {
            env,
            to,
            lock,
            format,
        } => deploy::rollback(config.as_ref(), &env, &to, lock.wait(), format).await,
        Command::New { name } => new::run(config.as_ref(), &name),
        Command::Hash => deploy::hash(config.as_ref()),
        Command::Lint {
            files,
            env,
            base,
            format,
        } => {
            lint::run(
                config.as_ref(),
                &files,
                env.as_deref(),
                base.as_deref(),
                format,
            )
            .await
        }
        Command::Drift {
            env,
            expected,
            format,
        } => drift::run(config.as_ref(), &env, expected, format).await,
        Command::Demo { dir } => demo::run(dir.as_deref()).await,
        Command::Impact { env, base, format } => {
            impact::run(config.as_ref(), env.as_deref(), base.as_deref(), format).await
        }
        Command::Check { env, format } => check::run(config.as_ref(), &env, format).await,
        Command::Parity { envs, format } => parity::run(config.as_ref(), &envs, format).await,
        Command::Rehearse {
            env,
            with_data,
            format,
        } => rehearse::run(config.as_ref(), &env, with_data, format).await,
        Command::Snapshot { to, env } => {
            snapshot::run(config.as_ref(), to.as_deref(), env.as_deref()).await
        }
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
