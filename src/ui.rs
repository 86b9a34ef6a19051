//! The terminal: colour and progress.
//!
//! Renderers style their text with [`paint`] unconditionally; whether the escapes reach
//! the terminal is decided once, where the bytes are written ([`stdout`], [`stderr`]):
//! anstream strips them unless `--color always`, or `auto` on a terminal without
//! `NO_COLOR`. So a renderer never asks where its text is going, and piped output is
//! plain text whatever a renderer does.
//!
//! Progress is indicatif's, drawn on stderr only when stderr is a terminal: deploy shows
//! a bar per environment (migrations, with the statement in the message), a fleet one bar
//! per wave, and the long read-only commands a spinner per environment naming the stage.

use crate::cli::ColorWhen;
use anstyle::{AnsiColor, Effects, Style};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use lockstep_engine::{Event, Events, MemberState};
use std::collections::HashMap;
use std::io::Write;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

pub const OK: Style = AnsiColor::Green.on_default();
pub const PASS: Style = AnsiColor::Green.on_default().effects(Effects::BOLD);
pub const FAIL: Style = AnsiColor::Red.on_default().effects(Effects::BOLD);
pub const WARN: Style = AnsiColor::Yellow.on_default();
pub const DESTRUCTIVE: Style = AnsiColor::Red.on_default();
pub const BOLD: Style = Style::new().effects(Effects::BOLD);
pub const DIM: Style = Style::new().effects(Effects::DIMMED);
pub const ADDED: Style = AnsiColor::Green.on_default();
pub const CHANGED: Style = AnsiColor::Yellow.on_default();

/// `text` wrapped in `style`'s escapes (stripped on output when colour is off).
pub fn paint(style: Style, text: impl std::fmt::Display) -> String {
    format!("{style}{text}{style:#}")
}

/// Applies `--color` for every stream of the process.
pub fn set_color(when: ColorWhen) {
    match when {
        ColorWhen::Auto => anstream::ColorChoice::Auto,
        ColorWhen::Always => anstream::ColorChoice::Always,
        ColorWhen::Never => anstream::ColorChoice::Never,
    }
    .write_global();
}

pub fn stdout() -> anstream::AutoStream<std::io::StdoutLock<'static>> {
    anstream::AutoStream::auto(std::io::stdout().lock())
}

pub fn stderr() -> anstream::AutoStream<std::io::StderrLock<'static>> {
    anstream::AutoStream::auto(std::io::stderr().lock())
}

fn stderr_colored() -> bool {
    anstream::AutoStream::choice(&std::io::stderr()) != anstream::ColorChoice::Never
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Verbosity {
    Quiet,
    Normal,
    Verbose,
}

static VERBOSITY: OnceLock<Verbosity> = OnceLock::new();

pub fn set_verbosity(v: Verbosity) {
    let _ = VERBOSITY.set(v);
}

pub fn verbosity() -> Verbosity {
    *VERBOSITY.get().unwrap_or(&Verbosity::Normal)
}

/// The bars on screen, shared by the event sink, prompts and the report printer.
struct Bars {
    multi: MultiProgress,
    /// Per environment (or fleet member): its deploy bar or stage spinner.
    envs: HashMap<String, ProgressBar>,
    /// The fleet whose wave is running, and its bar.
    wave: Option<(String, ProgressBar)>,
    /// What the running wave's members have done so far.
    counts: WaveCounts,
    /// The environment and stage of the last stage event.
    last_stage: Option<(String, String)>,
}

static BARS: OnceLock<Mutex<Bars>> = OnceLock::new();

fn bars() -> &'static Mutex<Bars> {
    BARS.get_or_init(|| {
        Mutex::new(Bars {
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
            envs: HashMap::new(),
            wave: None,
            counts: WaveCounts::default(),
            last_stage: None,
        })
    })
}

/// Runs `f` with the bars off the screen (a prompt, a line of text), then redraws them.
pub fn suspend<R>(f: impl FnOnce() -> R) -> R {
    let multi = bars().lock().map(|b| b.multi.clone());
    match multi {
        Ok(m) => m.suspend(f),
        Err(_) => f(),
    }
}

/// Removes every bar, before a report is printed or the process says why it stops.
pub fn clear() {
    if let Ok(mut b) = bars().lock() {
        for (_, bar) in b.envs.drain() {
            bar.finish_and_clear();
        }
        if let Some((_, bar)) = b.wave.take() {
            bar.finish_and_clear();
        }
        b.last_stage = None;
        let _ = b.multi.clear();
    }
}

/// One line on stderr, prefixed `lockstep:`, above any bars.
pub fn say(text: &str) {
    suspend(|| {
        let _ = writeln!(stderr(), "lockstep: {text}");
    });
}

fn style(template: &str, plain: &str) -> ProgressStyle {
    let t = if stderr_colored() { template } else { plain };
    ProgressStyle::with_template(t)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

fn bar_style() -> ProgressStyle {
    style(
        "{prefix:.bold} [{bar:30.green/blue}] {pos}/{len} migrations · {elapsed} · {wide_msg}",
        "{prefix} [{bar:30}] {pos}/{len} migrations · {elapsed} · {wide_msg}",
    )
}

fn wave_style() -> ProgressStyle {
    style(
        "{prefix:.bold} [{bar:30.green/blue}] {pos}/{len} members done · {elapsed} · {wide_msg}",
        "{prefix} [{bar:30}] {pos}/{len} members done · {elapsed} · {wide_msg}",
    )
}

/// A wave's members so far: the bar's message.
#[derive(Default)]
struct WaveCounts {
    started: usize,
    finished: usize,
    failed: usize,
    /// The latest thing a member of the wave said (a migration and statement).
    last: String,
}

impl WaveCounts {
    fn on(&mut self, state: MemberState) {
        match state {
            MemberState::Started => self.started += 1,
            MemberState::Finished => self.finished += 1,
            MemberState::Failed => self.failed += 1,
        }
    }

    fn done(&self) -> u64 {
        (self.finished + self.failed) as u64
    }

    fn message(&self) -> String {
        let mut m = format!("{} started, {} finished", self.started, self.finished);
        if self.failed > 0 {
            m.push_str(&format!(
                ", {}",
                paint(FAIL, format!("{} failed", self.failed))
            ));
        }
        if !self.last.is_empty() {
            m.push_str(&format!(" · {}", self.last));
        }
        m
    }
}

fn spinner_style() -> ProgressStyle {
    style(
        "{spinner:.green} {prefix:.bold}: {wide_msg} {elapsed:.dim}",
        "{spinner} {prefix}: {wide_msg} {elapsed}",
    )
}

const TICK: Duration = Duration::from_millis(120);

impl Bars {
    fn spinner(&mut self, env: &str) -> ProgressBar {
        if let Some(b) = self.envs.get(env) {
            return b.clone();
        }
        let b = self.multi.add(
            ProgressBar::new_spinner()
                .with_style(spinner_style())
                .with_prefix(env.to_string()),
        );
        b.enable_steady_tick(TICK);
        self.envs.insert(env.to_string(), b.clone());
        b
    }

    /// The wave bar, when `env` is a member of the fleet whose wave runs.
    fn wave_of(&self, env: &str) -> Option<ProgressBar> {
        let (fleet, bar) = self.wave.as_ref()?;
        let member = env.strip_prefix(fleet.as_str())?.strip_prefix('/')?;
        (!member.is_empty()).then(|| bar.clone())
    }

    fn on(&mut self, e: &Event) {
        match e {
            Event::Progress {
                env, step, steps, ..
            } => {
                let msg = statement_of(e);
                if let Some(w) = self.wave_of(env) {
                    self.counts.last = describe(e);
                    w.set_message(self.counts.message());
                    return;
                }
                let b = match self.envs.get(env) {
                    Some(b) => b.clone(),
                    None => {
                        let b = self.multi.add(
                            ProgressBar::new(*steps as u64)
                                .with_style(bar_style())
                                .with_prefix(env.clone()),
                        );
                        b.enable_steady_tick(TICK);
                        self.envs.insert(env.clone(), b.clone());
                        b
                    }
                };
                // A stage spinner becomes the deploy bar once migrations run.
                if b.length() != Some(*steps as u64) {
                    b.set_style(bar_style());
                    b.set_length(*steps as u64);
                }
                b.set_position(*step as u64);
                b.set_message(msg);
            }
            Event::Stage { env, stage } => {
                if let Some(rest) = stage.strip_prefix("wave ") {
                    if let Some((_, old)) = self.wave.take() {
                        old.finish_and_clear();
                    }
                    // "wave 2/3: 10 member(s)", as the fleet module says it.
                    let members = rest
                        .split(": ")
                        .nth(1)
                        .and_then(|m| m.split(' ').next())
                        .and_then(|n| n.parse::<u64>().ok())
                        .unwrap_or(0);
                    let label = rest.split(':').next().unwrap_or(rest);
                    let b = self.multi.add(
                        ProgressBar::new(members)
                            .with_style(wave_style())
                            .with_prefix(format!("{env} wave {label}")),
                    );
                    b.enable_steady_tick(TICK);
                    self.wave = Some((env.clone(), b));
                    self.counts = WaveCounts::default();
                    return;
                }
                if let Some(w) = self.wave_of(env) {
                    self.counts.last = format!("{env}: {stage}");
                    w.set_message(self.counts.message());
                    return;
                }
                // The same stage moving on to the next environment (parity reads them
                // one after the other): the one before is done.
                if let Some((prev, prev_stage)) = self.last_stage.take() {
                    if prev != *env && prev_stage == *stage {
                        if let Some(b) = self.envs.remove(&prev) {
                            b.finish_and_clear();
                        }
                    }
                }
                self.last_stage = Some((env.clone(), stage.clone()));
                self.spinner(env).set_message(format!("{stage}…"));
            }
            Event::Member { env, state, .. } => {
                if let Some((fleet, w)) = &self.wave {
                    if fleet == env {
                        self.counts.on(*state);
                        w.set_position(self.counts.done());
                        w.set_message(self.counts.message());
                    }
                }
            }
            Event::Done { env } => {
                if let Some(b) = self.envs.remove(env) {
                    b.finish_and_clear();
                }
            }
            _ => {}
        }
    }
}

/// Notes and warnings on stderr; progress bars when stderr is a terminal; with `-v`,
/// every event with the time since start (no bars); with `-q`, only warnings.
pub fn terminal_events() -> Events {
    let start = Instant::now();
    let verbosity = verbosity();
    Events::new(move |e| {
        if verbosity == Verbosity::Verbose {
            let _ = writeln!(
                stderr(),
                "lockstep: {} {}",
                paint(DIM, format!("[{:>7.3}s]", start.elapsed().as_secs_f64())),
                describe(e)
            );
            return;
        }
        match e {
            Event::Warn { text, .. } => say(&paint(WARN, text)),
            Event::Note { text, .. } if verbosity == Verbosity::Normal => say(text),
            _ if verbosity == Verbosity::Normal => {
                if let Ok(mut b) = bars().lock() {
                    if !b.multi.is_hidden() {
                        b.on(e);
                    }
                }
            }
            _ => {}
        }
    })
}

/// Events for the long-running commands (serve, watch): warnings on stderr, everything
/// with `-v`; no progress, which would repeat at every read.
pub fn service_events() -> Events {
    if verbosity() == Verbosity::Verbose {
        return terminal_events();
    }
    Events::new(|e| {
        if let Event::Warn { text, .. } = e {
            say(&paint(WARN, text));
        }
    })
}

/// "name · statement 3/7" of a progress event: the bar's message and the tail of its line.
fn statement_of(e: &Event) -> String {
    match e {
        Event::Progress {
            name,
            statement,
            statements,
            ..
        } => format!(
            "{name} · statement {}/{statements}",
            (statement + 1).min(*statements)
        ),
        _ => String::new(),
    }
}

fn describe(e: &Event) -> String {
    match e {
        Event::Note { text, .. } => text.clone(),
        Event::Warn { text, .. } => paint(WARN, format!("warning: {text}")),
        Event::Progress {
            env, step, steps, ..
        } => format!("{env}: migration {}/{steps} {}", step + 1, statement_of(e)),
        Event::Stage { env, stage } => format!("{env}: {stage}"),
        Event::Done { env } => format!("{env}: done"),
        Event::Opened { env } => format!("{env}: opened a connection"),
        Event::Replay { env, migrations } => {
            format!("{env}: replaying {migrations} migration(s) on a scratch database")
        }
        Event::Inspected { env } => format!("{env}: read the live schema"),
        Event::Member { env, member, state } => format!(
            "{env}/{member}: {}",
            match state {
                MemberState::Started => "started",
                MemberState::Finished => "finished",
                MemberState::Failed => "failed",
            }
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A wave's bar counts members started, finished and failed; done is the last two.
    #[test]
    fn a_wave_counts_its_members() {
        let mut c = WaveCounts::default();
        for s in [
            MemberState::Started,
            MemberState::Started,
            MemberState::Started,
            MemberState::Finished,
            MemberState::Failed,
        ] {
            c.on(s);
        }
        assert_eq!(c.done(), 2);
        let m = c.message();
        assert!(m.starts_with("3 started, 1 finished, "), "{m}");
        assert!(m.contains("1 failed"), "{m}");
        c.last = "stores/s1: migration 1/2".into();
        assert!(c.message().ends_with(" · stores/s1: migration 1/2"));
    }
}
