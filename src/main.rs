//! The `lockstep` binary: `main → run → exit code`, as ripgrep does it.
//! Exit codes: 0 clean, 1 findings (differences), 2 lockstep could not do its job.

mod cli;
mod cmd;
mod demo;
mod render;

use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(err) => {
            // A closed pipe (`lockstep inspect … | head`) is not an error.
            if err
                .chain()
                .filter_map(|e| e.downcast_ref::<std::io::Error>())
                .any(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
                || err
                    .chain()
                    .filter_map(|e| e.downcast_ref::<lockstep_engine::Error>())
                    .any(|e| e.is_broken_pipe())
            {
                return ExitCode::SUCCESS;
            }
            let msg = lockstep_engine::redact(&format!("{err:#}"));
            let _ = writeln!(std::io::stderr(), "lockstep: {msg}");
            ExitCode::from(2)
        }
    }
}

fn run() -> anyhow::Result<ExitCode> {
    let args = <cli::Args as clap::Parser>::try_parse();
    let args = match args {
        Ok(a) => a,
        Err(e) => {
            let code = match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => 0,
                _ => 2,
            };
            let _ = e.print();
            return Ok(ExitCode::from(code));
        }
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(cmd::dispatch(args))
}
