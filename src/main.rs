//! The `lockstep` binary: `main → run → exit code`, as ripgrep does it.
//! Exit codes: 0 clean, 1 findings (differences), 2 lockstep could not do its job.

mod cli;
mod cmd;
mod demo;
mod render;
mod ui;

use std::io::Write;
use std::process::ExitCode;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
            ui::clear();
            let _ = writeln!(ui::stderr(), "lockstep: {msg}");
            ExitCode::from(2)
        }
    }
}

fn run() -> anyhow::Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        // Catch SIGINT and SIGTERM before anything else happens, so that even a signal
        // that arrives during start-up ends with the cleanup and the exit code it promises.
        let signals = Signals::new()?;
        let args = match <cli::Args as clap::Parser>::try_parse() {
            Ok(a) => a,
            Err(e) => {
                let code = match e.kind() {
                    clap::error::ErrorKind::DisplayHelp
                    | clap::error::ErrorKind::DisplayVersion => 0,
                    _ => 2,
                };
                let _ = e.print();
                return Ok(ExitCode::from(code));
            }
        };
        ui::set_color(args.color);
        lockstep_engine::interrupt::on_scratch_note(ui::say);
        let kind = Kind::of(&args.command);
        cancellable(args, kind, signals).await
    })
}

struct Signals {
    int: tokio::signal::unix::Signal,
    term: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> std::io::Result<Signals> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Signals {
            int: signal(SignalKind::interrupt())?,
            term: signal(SignalKind::terminate())?,
        })
    }
}

/// What an interrupted command may have changed, for the message after Ctrl-C.
enum Kind {
    /// Reads its targets only (scratch databases aside).
    ReadOnly,
    /// Deploy or rollback on this environment.
    Migrates(String),
    /// Writes files only.
    Files,
}

impl Kind {
    fn of(c: &cli::Command) -> Kind {
        use cli::Command::*;
        match c {
            Deploy { target, .. } | Rollback { target, .. } => Kind::Migrates(target.env.clone()),
            Baseline { env, .. } => Kind::Migrates(env.clone()),
            New { .. }
            | Hash { .. }
            | Snapshot { .. }
            | Demo { .. }
            | Init { .. }
            | Completions { .. }
            | Man { .. } => Kind::Files,
            _ => Kind::ReadOnly,
        }
    }
}

/// Runs the command until it ends or SIGINT/SIGTERM arrives. On a signal the command's
/// future is dropped (so its connections close and its destructors run), an in-flight
/// deploy's server process is ended (its transaction rolls back now), the scratch
/// databases still registered are dropped, and what state the target is in is said
/// before exiting 130 (SIGINT) or 143 (SIGTERM).
async fn cancellable(args: cli::Args, kind: Kind, signals: Signals) -> anyhow::Result<ExitCode> {
    let Signals { mut int, mut term } = signals;
    let signalled = tokio::select! {
        r = cmd::dispatch(args) => {
            // A command that returned early (an error) may still hold a scratch database.
            lockstep_engine::interrupt::drop_scratch().await;
            return r;
        }
        _ = int.recv() => ("SIGINT", 130),
        _ = term.recv() => ("SIGTERM", 143),
    };
    let (name, code) = signalled;
    ui::clear();
    let _ = writeln!(
        ui::stderr(),
        "\nlockstep: interrupted by {name}; cleaning up (again to stop at once)"
    );
    let cleanup = async {
        let deploy = lockstep_engine::interrupt::stop_deploy().await;
        let dropped = lockstep_engine::interrupt::drop_scratch().await;
        (deploy, dropped)
    };
    // A second signal, or a server that does not answer, must not keep the process.
    let (deploy, dropped) = tokio::select! {
        r = cleanup => r,
        _ = int.recv() => Default::default(),
        _ = term.recv() => Default::default(),
        _ = tokio::time::sleep(std::time::Duration::from_secs(30)) => Default::default(),
    };
    let mut msg = match &kind {
        Kind::ReadOnly => "nothing was changed: this command only reads its targets".to_string(),
        Kind::Files => "nothing was changed on any database".to_string(),
        Kind::Migrates(env) => deploy_state(&deploy, env),
    };
    if !dropped.is_empty() {
        msg.push_str(&format!(
            "; dropped {} scratch database(s) of this run",
            dropped.len()
        ));
    }
    let _ = writeln!(ui::stderr(), "lockstep: {msg}");
    Ok(ExitCode::from(code))
}

fn deploy_state(d: &lockstep_engine::interrupt::Interrupted, env: &str) -> String {
    use lockstep_engine::interrupt::InFlight;
    let mut parts = vec![];
    if !d.committed.is_empty() {
        parts.push(format!(
            "migration(s) {} were applied and committed before the interruption",
            d.committed.join(", ")
        ));
    }
    match &d.in_flight {
        Some(InFlight::Transaction { versions }) => parts.push(format!(
            "the transaction holding migration(s) {} was rolled back: nothing of it stayed",
            versions.join(", ")
        )),
        Some(InFlight::Statement {
            version,
            statement_no,
            line,
            with_checkpoint: false,
        }) => parts.push(format!(
            "migration {version} runs without a transaction and was stopped in statement {statement_no} (line {line}): the statements before it are applied and recorded, and that one is in doubt until the next deploy settles it"
        )),
        Some(InFlight::Statement {
            version,
            statement_no,
            line,
            with_checkpoint: true,
        }) => parts.push(format!(
            "migration {version} runs without a transaction and was stopped in statement {statement_no} (line {line}): the statements before it are applied and recorded, and that one commits together with its checkpoint, so it is either recorded done or rolled back, never in doubt; the next deploy resumes after the last one recorded"
        )),
        None => {}
    }
    if parts.is_empty() {
        parts.push("nothing was changed".into());
    }
    format!(
        "{}; run `lockstep status --env {env}` to see where {env} is",
        parts.join("; ")
    )
}
