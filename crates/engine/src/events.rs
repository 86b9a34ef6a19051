//! Progress and notes, as callbacks: the engine never prints. The binary turns events
//! into stderr lines and progress bars; the status page and tests may count them.

use std::sync::Arc;

#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// Something worth telling a person while the work goes on (a file written, an
    /// adoption, a statement settled). `env` is None for project-wide notes.
    Note { env: Option<String>, text: String },
    /// A warning: the work goes on, but a person should look.
    Warn { env: Option<String>, text: String },
    /// Migration `step` of `steps` (0-based), statement `statement` of `statements`.
    Progress {
        env: String,
        step: usize,
        steps: usize,
        name: String,
        statement: usize,
        statements: usize,
    },
    /// A long piece of work on `env` begins (`drift`, `rehearsal`, `replay`…), for
    /// spinners.
    Stage { env: String, stage: String },
    /// The work on `env` finished (progress displays clear their line).
    Done { env: String },
    /// A connection to an environment's database was opened (counted by tests and
    /// benchmarks to prove "once per run").
    Opened { env: String },
    /// A replay of `migrations` migrations on a scratch database started.
    Replay { env: String, migrations: usize },
    /// A live schema was read.
    Inspected { env: String },
    /// A member of the fleet `env` started or ended its part of a wave (`ENV/MEMBER` is
    /// `member`'s target label).
    Member {
        env: String,
        member: String,
        state: MemberState,
    },
}

/// Where a fleet member is in its wave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberState {
    Started,
    Finished,
    Failed,
}

type Sink = dyn Fn(&Event) + Send + Sync;

/// Where events go. Cloning shares the sink.
#[derive(Clone)]
pub struct Events(Arc<Sink>);

impl Events {
    pub fn new(f: impl Fn(&Event) + Send + Sync + 'static) -> Events {
        Events(Arc::new(f))
    }

    /// Drops every event.
    pub fn none() -> Events {
        Events::new(|_| {})
    }

    pub fn send(&self, e: Event) {
        (self.0)(&e)
    }

    pub fn note(&self, env: Option<&str>, text: impl Into<String>) {
        self.send(Event::Note {
            env: env.map(str::to_string),
            text: text.into(),
        })
    }

    pub fn stage(&self, env: &str, stage: impl Into<String>) {
        self.send(Event::Stage {
            env: env.to_string(),
            stage: stage.into(),
        })
    }

    pub fn warn(&self, env: Option<&str>, text: impl Into<String>) {
        self.send(Event::Warn {
            env: env.map(str::to_string),
            text: text.into(),
        })
    }
}

impl std::fmt::Debug for Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Events")
    }
}
