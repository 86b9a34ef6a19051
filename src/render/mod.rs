//! Rendering the engine's reports: one file per report, each with text and JSON (and
//! the CI formats where they exist). Nothing here talks to a database.

pub mod audit;
pub mod check;
pub mod deploy;
pub mod diff;
pub mod drift;
pub mod fleet;
pub mod impact;
pub mod init;
pub mod lint;
pub mod parity;
pub mod rehearse;
pub mod status;
pub mod table;

use serde::Serialize;
use std::io::Write;

/// Writes a report to stdout. Styles reach the terminal only when colour is on (see
/// `ui`).
///
/// A reader that went away (`lockstep check | head -1`) is no error, but it must not
/// change the exit code either: a gate whose output nobody reads still fails.
pub fn out(s: &str) -> anyhow::Result<()> {
    to_stdout(|| {
        let mut stdout = crate::ui::stdout();
        stdout.write_all(s.as_bytes())?;
        if !s.ends_with('\n') {
            stdout.write_all(b"\n")?;
        }
        stdout.flush()
    })
}

/// Runs `write` after the progress bars are gone; a reader that went away is no error.
fn to_stdout(write: impl FnOnce() -> std::io::Result<()>) -> anyhow::Result<()> {
    crate::ui::clear();
    match write() {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => Ok(r?),
    }
}

/// Writes a refusal or failure to stderr, after the progress bars are gone.
pub fn err(s: &str) -> anyhow::Result<()> {
    crate::ui::clear();
    let mut stderr = crate::ui::stderr();
    stderr.write_all(s.as_bytes())?;
    stderr.flush()?;
    Ok(())
}

/// A report as the contract's JSON: one pretty-printed object, the same bytes as
/// `lockstep_engine::json_text` (which the status page serves).
///
/// Streamed to stdout rather than built first: an inspection of 10,000 tables is 29 MB
/// of JSON, and building that string and then copying it through the colour-stripping
/// stream cost 140 ms of a 1.3 s command. JSON never carries styles, so it needs no
/// stripping.
pub fn json<T: Serialize>(report: &T) -> anyhow::Result<()> {
    to_stdout(|| {
        let mut w = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
        serde_json::to_writer_pretty(&mut w, report)?;
        w.write_all(b"\n")?;
        w.flush()
    })
}

/// `n thing(s)` with the right plural for people.
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Indents every line after the first by `pad`.
pub fn indent_rest(s: &str, pad: &str) -> String {
    s.replace('\n', &format!("\n{pad}"))
}
