//! Command-line arguments.

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "lockstep",
    version,
    about = "Keeps every environment's database in lockstep with the migrations in the repository",
    long_about = "Keeps every environment's database in lockstep with the migrations in the \
repository, and tells a team, before deploy night, what will break.\n\n\
Exit codes: 0 clean, 1 findings (differences), 2 lockstep could not do its job.",
    after_help = "Examples:\n  lockstep init                      write a first lockstep.toml for this folder\n  lockstep status                    every environment's version and pending migrations\n  lockstep check --env prod          the pre-deploy gate, one verdict\n  lockstep demo                      a walkthrough that needs no database server\n\nGuide: docs/GUIDE.md. Every command has its own --help."
)]
pub struct Args {
    /// Path to lockstep.toml (default: found in the working directory or a parent).
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// Say more: every connection, replay and inspection, with timings, on stderr.
    #[arg(short, long, global = true, conflicts_with = "quiet")]
    pub verbose: bool,

    /// Say less: no notes or progress on stderr (errors and reports still print).
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// When to colour the output: auto (on a terminal, unless NO_COLOR is set), always,
    /// or never. Piped output has no colour in auto.
    #[arg(long, global = true, value_enum, value_name = "WHEN", default_value_t = ColorWhen::Auto)]
    pub color: ColorWhen,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Read a live schema (or a snapshot) and print it as SQL or JSON.
    ///
    /// SOURCE is a database URL (postgres://…, sqlite://PATH), the name of an
    /// environment in lockstep.toml, or a JSON snapshot file.
    #[command(
        after_help = "Examples:\n  lockstep inspect prod > prod.sql\n  lockstep inspect postgres://app@db/app --format json > app.json"
    )]
    Inspect {
        /// What to read: a database URL (postgres://USER@HOST/DB, sqlite://PATH), an
        /// environment of lockstep.toml, `@VERSION` (the migrations replayed up to
        /// VERSION), or a JSON snapshot file.
        #[arg(value_name = "SOURCE")]
        source: String,
        /// sql: a create script that applies to an empty database; json: the model, usable
        /// as a snapshot; text: a summary.
        #[arg(long, value_enum, default_value_t = InspectFormat::Sql)]
        format: InspectFormat,
    },
    /// Compare two sources and print the differences, or the SQL that turns FROM into TO.
    ///
    /// Exits 0 when identical, 1 when different.
    #[command(
        after_help = "Examples:\n  lockstep diff qa prod                       what prod has that qa has not\n  lockstep diff @20240101000000 prod --format sql\n  lockstep diff prod qa --format sql --rename orders.total=amount\n\nExit codes: 0 identical, 1 different, 2 a source could not be read."
    )]
    Diff {
        /// The source to compare from (a URL, an environment, @VERSION or a snapshot
        /// file; see `inspect --help`).
        #[arg(value_name = "FROM")]
        from: String,
        /// The source to compare with; `--format sql` turns FROM into TO.
        #[arg(value_name = "TO")]
        to: String,
        /// text: one line per difference; sql: the statements that turn FROM into TO;
        /// json: both.
        #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
        format: DiffFormat,
        /// Declare a column rename (repeatable): TABLE.OLD=NEW or SCHEMA.TABLE.OLD=NEW.
        /// Without one, a column on one side only is dropped and added, never renamed;
        /// renames the project's migrations make are declared already.
        #[arg(long = "rename", value_name = "TABLE.OLD=NEW")]
        renames: Vec<String>,
        /// Where no ALTER can make a change (a table that becomes partitioned), plan a
        /// rebuild: a new table, the rows copied, the old table dropped (destructive).
        #[arg(long)]
        allow_rebuild: bool,
    },
    /// Show each environment's version, pending migrations and problems.
    ///
    /// Exits 0 even with migrations pending; 1 when a migration failed, a checksum
    /// disagrees, or a deploy was interrupted.
    #[command(
        after_help = "Examples:\n  lockstep status\n  lockstep status --env prod --format json\n\nExit codes: 0 (even with migrations pending), 1 a problem (a failed migration, an\nedited file, a deploy in doubt), 2 an environment could not be read."
    )]
    Status {
        /// The environment of lockstep.toml to show (default: every one).
        #[arg(long, value_name = "ENV")]
        env: Option<String>,
        /// One member of a fleet environment (default: every member).
        #[arg(long, value_name = "NAME")]
        member: Option<String>,
        /// text for people; json: the contract's object (see docs/GUIDE.md).
        #[arg(long, value_enum, default_value_t = OutFormat::Text)]
        format: OutFormat,
    },
    /// Apply pending migrations, all-or-nothing where the engine allows it.
    ///
    /// One deploy runs per database at a time. Files declared no-transaction run on their
    /// own, checkpointed statement by statement.
    #[command(
        after_help = "Examples:\n  lockstep deploy --env prod --dry-run        what would run\n  lockstep deploy --env prod\n  lockstep deploy --env shards --waves 1,10%,100%\n\nExit codes: 0 applied or up to date, 1 refused (drift, integrity) or a migration\nfailed, 2 lockstep could not do its job."
    )]
    Deploy {
        #[command(flatten)]
        target: Waved,
        /// Apply up to and including this version (default: every pending migration).
        #[arg(long, value_name = "VERSION")]
        to: Option<String>,
        /// Settle a statement left in doubt by an interrupted deploy.
        #[arg(long, value_enum)]
        resolve: Option<Resolve>,
        #[command(flatten)]
        change: ChangeArgs,
    },
    /// Run down scripts so that only migrations with version <= VERSION stay applied.
    ///
    /// VERSION must be a migration of the directory (or 0 for "before the first"). The
    /// environment must not have drifted (--allow-drift), and the rollback is confirmed on
    /// a terminal or with --yes.
    #[command(
        after_help = "Examples:\n  lockstep rollback --env prod --to 20240301000000 --dry-run\n  lockstep rollback --env prod --to 20240301000000 --yes"
    )]
    Rollback {
        #[command(flatten)]
        target: Waved,
        /// The version to keep: every migration after it is rolled back (0: all).
        #[arg(long, value_name = "VERSION")]
        to: String,
        #[command(flatten)]
        change: ChangeArgs,
    },
    /// Record every migration up to VERSION as applied without running it, for a
    /// database built before lockstep (by hand, or by a tool lockstep does not read).
    ///
    /// It first checks that the live schema equals the migrations replayed up to VERSION
    /// and refuses with the drift items when it does not (--no-verify skips the check).
    #[command(
        after_help = "Examples:\n  lockstep baseline --env prod --to 20240301000000\n  lockstep drift --env prod                    clean afterwards\n\nExit codes: 0 recorded, 1 refused (the schema is not at VERSION), 2 lockstep could\nnot do its job."
    )]
    Baseline {
        /// The environment of lockstep.toml to baseline.
        #[arg(long, value_name = "ENV")]
        env: String,
        /// One member of a fleet environment (default: every member).
        #[arg(long, value_name = "NAME")]
        member: Option<String>,
        /// The version the database is at: this migration and every earlier one are
        /// recorded as applied.
        #[arg(long, value_name = "VERSION")]
        to: String,
        /// Record without comparing the schema first.
        #[arg(long)]
        no_verify: bool,
        /// text for people; json: the outcome as one object.
        #[arg(long, value_enum, default_value_t = OutFormat::Text)]
        format: OutFormat,
    },
    /// Create the next migration, with its down script, in the project's layout.
    #[command(after_help = "Example:\n  lockstep new add_order_segment")]
    New {
        /// What the migration does, in a few words (`add_order_segment`); it becomes part
        /// of the file name after the version.
        #[arg(value_name = "NAME")]
        name: String,
    },
    /// Report every difference between an environment's expected schema and its live one.
    ///
    /// The expected schema is the environment's applied history, from a committed
    /// snapshot when one exists for its version, else replayed on a scratch database.
    /// Exits 1 when there is drift.
    #[command(
        after_help = "Examples:\n  lockstep drift --env prod\n  lockstep drift --env prod --expected replay --format json\n\nExit codes: 0 no drift, 1 drift, 2 lockstep could not do its job."
    )]
    Drift {
        /// The environment of lockstep.toml to compare.
        #[arg(long, value_name = "ENV")]
        env: String,
        /// One member of a fleet environment (default: every member).
        #[arg(long, value_name = "NAME")]
        member: Option<String>,
        /// Where the expected schema comes from: a committed snapshot (`lockstep
        /// snapshot`) or a replay of the applied migrations on a scratch database
        /// (default: the snapshot when one exists for the version, else a replay).
        #[arg(long, value_enum)]
        expected: Option<Expected>,
        /// text for people; json: the contract's object.
        #[arg(long, value_enum, default_value_t = OutFormat::Text)]
        format: OutFormat,
    },
    /// Apply the pending migrations to a scratch copy of the environment's actual schema.
    ///
    /// Exits 1 when a pending migration would fail, naming the statement and the drift
    /// item that causes it.
    #[command(
        after_help = "Example:\n  lockstep rehearse --env prod\n\nExit codes: 0 the pending migrations apply, 1 one would fail, 2 lockstep could not\ndo its job."
    )]
    Rehearse {
        /// The environment of lockstep.toml whose schema is copied.
        #[arg(long, value_name = "ENV")]
        env: String,
        /// Which member of a fleet environment.
        #[arg(long, value_name = "NAME")]
        member: Option<String>,
        /// Rehearse on a copy of the data too (SQLite files).
        #[arg(long)]
        with_data: bool,
        /// text for people; json: the outcome as one object.
        #[arg(long, value_enum, default_value_t = OutFormat::Text)]
        format: OutFormat,
    },
    /// The gate: integrity, drift, rehearsal, lint (errors fail) and impact (informational)
    /// for one environment, one verdict.
    ///
    /// Exits 0 when every check passes, 1 otherwise.
    #[command(
        after_help = "Examples:\n  lockstep check --env prod                    before deploy night\n  lockstep check --env prod --format json      in CI, as a gate\n\nExit codes: 0 pass, 1 fail, 2 a check could not run (never counted as a pass)."
    )]
    Check {
        /// The environment of lockstep.toml to check.
        #[arg(long, value_name = "ENV")]
        env: String,
        /// One member of a fleet environment (default: every member).
        #[arg(long, value_name = "NAME")]
        member: Option<String>,
        /// text for people; json: every check with its details.
        #[arg(long, value_enum, default_value_t = OutFormat::Text)]
        format: OutFormat,
    },
    /// Environments side by side: version, pending, drift, engine, extensions, settings
    /// and roles. Exits 1 when they differ.
    #[command(
        after_help = "Examples:\n  lockstep parity\n  lockstep parity qa prod\n\nExit codes: 0 the same, 1 they differ, 2 an environment could not be read."
    )]
    Parity {
        /// Environments of lockstep.toml to compare (default: all).
        #[arg(value_name = "ENV")]
        envs: Vec<String>,
        /// text: a table with one column per environment; json: the facts and differences.
        #[arg(long, value_enum, default_value_t = OutFormat::Text)]
        format: OutFormat,
    },
    /// List every source line that refers to a table or column the pending migrations
    /// (and, with --env, the environment's drift) drop, rename or retype.
    ///
    /// Searches the `code` paths of lockstep.toml (default: the project root), honouring
    /// .gitignore. Without --env, the migrations new or changed compared with the git
    /// default branch count as pending (--base REF chooses another; outside git, every
    /// migration).
    #[command(
        after_help = "Examples:\n  lockstep impact                    the migrations of this branch\n  lockstep impact --env prod         what prod has not applied, and its drift\n\nExit codes: 0 no high-confidence reference (medium and low ones are listed, for a\nperson to judge), 1 at least one high-confidence reference (a qualified\n`table.column` in code), 2 lockstep could not do its job."
    )]
    Impact {
        /// Use this environment's pending migrations, and add its drift.
        #[arg(long, value_name = "ENV")]
        env: Option<String>,
        /// Which member of a fleet environment.
        #[arg(long, value_name = "NAME", requires = "env")]
        member: Option<String>,
        /// Without --env: the migrations new or changed compared with REF (default: the
        /// git default branch).
        #[arg(long, value_name = "REF", conflicts_with = "env")]
        base: Option<String>,
        /// text for people; json: every change with its references.
        #[arg(long, value_enum, default_value_t = OutFormat::Text)]
        format: OutFormat,
    },
    /// Write the expected schema at VERSION (default: the newest) to snapshots/VERSION.json.
    #[command(after_help = "Example:\n  lockstep snapshot && git add snapshots/")]
    Snapshot {
        /// The version to replay up to (default: the newest migration).
        #[arg(long, value_name = "VERSION")]
        to: Option<String>,
        /// The environment whose scratch server replays (default: the first one).
        #[arg(long, value_name = "ENV")]
        env: Option<String>,
    },
    /// Build a demo project (retail orders and point of sale, dev/qa/prod as SQLite
    /// files) with an out-of-band change in prod and a colliding release, and walk
    /// through status, drift, parity, rehearse and check. Needs no server.
    #[command(
        after_help = "Example:\n  lockstep demo && cd lockstep-demo && lockstep check --env prod"
    )]
    Demo {
        /// Where to build it (default: ./lockstep-demo).
        #[arg(value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// Rewrite lockstep.sum from the migration files (after an intended edit of a
    /// migration that is not applied anywhere yet).
    ///
    /// Refuses when a changed migration is applied in an environment: put the change in
    /// a new migration instead, or pass --allow-applied for an edit that changes nothing
    /// (a comment).
    #[command(after_help = "Example:\n  lockstep hash && git add migrations/lockstep.sum")]
    Hash {
        /// Rewrite the checksum of a migration even though an environment has it applied.
        #[arg(long)]
        allow_applied: bool,
    },
    /// A read-only status page and JSON API for every environment.
    ///
    /// GET / is the page; /api/status, /api/parity and /api/drift?env=E return the same
    /// JSON as `--format json`. Reports are read in the background every --refresh, never
    /// per request. Off loopback a token is required; clients then send
    /// `Authorization: Bearer TOKEN`. See docs/serve.md.
    #[command(
        after_help = "Examples:\n  lockstep serve                               http://127.0.0.1:7800/\n  LOCKSTEP_TOKEN=… lockstep serve --listen 0.0.0.0:7800 --refresh 5m"
    )]
    Serve {
        /// Address to listen on (HOST:PORT; port 0 lets the system choose).
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:7800")]
        listen: String,
        /// Require `Authorization: Bearer TOKEN` on every request (needed off loopback).
        #[arg(long, env = "LOCKSTEP_TOKEN", hide_env_values = true)]
        token: Option<String>,
        /// How often the reports are read again (30s, 5m…).
        #[arg(long, value_name = "DURATION", default_value = "60s")]
        refresh: String,
        /// Environments to show (default: all).
        #[arg(long = "env", value_name = "E", num_args = 1..)]
        envs: Vec<String>,
    },
    /// Record who changes the schema: install, remove or read the DDL audit.
    ///
    /// On PostgreSQL, install adds event triggers that record every DDL statement (role,
    /// application, client address, time, statement) in lockstep.audit; drift then names
    /// the author of each item. It never blocks anybody's DDL. Event triggers need a
    /// superuser; elsewhere install says what lockstep does instead. See docs/audit.md.
    #[command(
        after_help = "Examples:\n  lockstep audit install --env prod\n  lockstep audit log --env prod --since 7d\n  lockstep drift --env prod                    each item names its author\n\nExit codes: 0 done, 1 the audit cannot be installed here (install says what lockstep\ndoes instead), 2 lockstep could not do its job."
    )]
    Audit {
        #[command(subcommand)]
        action: AuditAction,
    },
    /// Check drift every interval; announce each new drift item once and each resolved
    /// one once, on stdout and to webhooks.
    ///
    /// What was announced is kept in .lockstep/watch.json, so a restart announces
    /// nothing again. Webhook bodies are signed with the Standard Webhooks headers when
    /// `[watch] secret` or LOCKSTEP_WEBHOOK_SECRET is set; undelivered events are retried
    /// with backoff. See docs/serve.md.
    #[command(
        after_help = "Examples:\n  lockstep watch --env prod --interval 5m --webhook https://hooks.example/drift\n  lockstep watch --once                        one check, for cron"
    )]
    Watch {
        /// Environments to watch (default: all).
        #[arg(long = "env", value_name = "E", num_args = 1..)]
        envs: Vec<String>,
        /// How often to check (default: `[watch] interval`, else 5m).
        #[arg(long, value_name = "DURATION")]
        interval: Option<String>,
        /// POST every event to URL too (repeatable; adds to `[watch] webhooks`).
        #[arg(long = "webhook", value_name = "URL")]
        webhooks: Vec<String>,
        /// Send the --webhook URLs a Slack-compatible body (`{"text": …}`).
        #[arg(long)]
        slack: bool,
        /// Check once, deliver, and exit.
        #[arg(long)]
        once: bool,
        /// text: one line per event; json: one JSON event per line.
        #[arg(long, value_enum, default_value_t = OutFormat::Text)]
        format: OutFormat,
    },
    /// Lint migrations: locks and rewrites, breaking changes, data loss, transactions.
    ///
    /// Lints the FILEs given; without FILE, the pending migrations of --env E (with its
    /// table sizes: see docs/lint.md), or the migrations new or changed compared with the
    /// git default branch (--base REF chooses another; outside git, every migration).
    /// Suppress a finding with
    /// `-- lockstep:ignore <rule-id> <reason>` on the line above the statement. Rules
    /// are documented in docs/rules/. Exits 1 when a finding is an error.
    #[command(
        after_help = "Examples:\n  lockstep lint                                the migrations of this branch\n  lockstep lint migrations/0042_orders.up.sql\n  lockstep lint --format github                annotations in a GitHub Actions job\n\nExit codes: 0 no error (warnings are shown), 1 at least one error finding, 2\nlockstep could not do its job."
    )]
    Lint {
        /// Migration files to lint (default: see above).
        #[arg(value_name = "FILES")]
        files: Vec<PathBuf>,
        /// Lint this environment's pending migrations, with its table sizes and row
        /// counts.
        #[arg(long, value_name = "ENV")]
        env: Option<String>,
        /// Which member of a fleet environment.
        #[arg(long, value_name = "NAME", requires = "env")]
        member: Option<String>,
        /// Without FILE or --env: lint the migrations new or changed compared with REF.
        #[arg(long, value_name = "REF")]
        base: Option<String>,
        /// text: each finding with its source and a caret; json; github: workflow
        /// annotations; gitlab: a Code Quality report.
        #[arg(long, value_enum, default_value_t = LintFormat::Text)]
        format: LintFormat,
    },
    /// Write a commented lockstep.toml for the project in the working directory.
    ///
    /// Finds the migrations directory (migrations/, db/migrations/, prisma/migrations/,
    /// src/main/resources/db/migration) and its layout (lockstep, diesel, sqlx,
    /// golang-migrate, dbmate, flyway, prisma, atlas), and writes environments to fill in. Refuses to
    /// overwrite an existing file.
    #[command(
        after_help = "Example:\n  lockstep init && $EDITOR lockstep.toml && lockstep status"
    )]
    Init {
        /// The migrations directory, when it is not in one of the usual places.
        #[arg(long, value_name = "DIR")]
        migrations: Option<PathBuf>,
    },
    /// Print a shell completion script.
    #[command(
        after_help = "Examples:\n  lockstep completions bash > ~/.local/share/bash-completion/completions/lockstep\n  lockstep completions zsh > ~/.zfunc/_lockstep\n  lockstep completions fish > ~/.config/fish/completions/lockstep.fish"
    )]
    Completions {
        /// The shell to complete for.
        #[arg(value_name = "SHELL")]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), or write one page per command into a directory.
    #[command(
        after_help = "Examples:\n  lockstep man | man -l -\n  lockstep man --out-dir /usr/local/share/man/man1"
    )]
    Man {
        /// Write lockstep.1 and lockstep-COMMAND.1 here instead of printing lockstep.1.
        #[arg(long, value_name = "DIR")]
        out_dir: Option<PathBuf>,
    },
}

/// Where deploy and rollback go: an environment, one member of a fleet, or a fleet in
/// waves.
#[derive(clap::Args, Debug, Clone)]
pub struct Waved {
    /// The environment of lockstep.toml to change.
    #[arg(long, value_name = "ENV")]
    pub env: String,
    /// One member of a fleet environment (default: every member).
    #[arg(long, value_name = "NAME")]
    pub member: Option<String>,
    /// Waves for a fleet, overriding the configured ones: counts or percentages of the
    /// fleet, cumulative (`1,10%,100%`).
    #[arg(long, value_delimiter = ',', value_name = "WAVES")]
    pub waves: Option<Vec<String>>,
}

/// What deploy and rollback share: the drift gate, the confirmation of steps that
/// destroy data, lock waits and the output format.
#[derive(clap::Args, Debug, Clone, Copy)]
pub struct ChangeArgs {
    /// Print what would run and the rows each step that destroys data would take;
    /// change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Go ahead even when the environment has drifted from its migrations.
    #[arg(long)]
    pub allow_drift: bool,
    /// Run steps that destroy data (DROP TABLE, DROP COLUMN, TRUNCATE, a rollback's down
    /// scripts) without asking. On a terminal lockstep asks; elsewhere they are refused
    /// without this.
    #[arg(long)]
    pub yes: bool,
    #[command(flatten)]
    pub lock: LockArgs,
    /// text for people; json: the outcome as one object.
    #[arg(long, value_enum, default_value_t = OutFormat::Text)]
    pub format: OutFormat,
}

/// How deploy and rollback statements wait for locks other sessions hold.
#[derive(clap::Args, Debug, Clone, Copy)]
pub struct LockArgs {
    /// How long a statement waits for a lock another session holds (5s, 500ms, 1min)
    /// before its transaction is rolled back and tried again. A waiting ALTER blocks every
    /// later reader of its table, so keep it short. A migration's own `SET lock_timeout`
    /// wins.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_duration)]
    pub lock_timeout: std::time::Duration,
    /// How many more times to try after a lock timeout, with a growing pause between.
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub lock_retries: u32,
}

impl LockArgs {
    pub fn wait(&self) -> lockstep_engine::deploy::LockWait {
        lockstep_engine::deploy::LockWait {
            timeout: self.lock_timeout,
            attempts: self.lock_retries.saturating_add(1),
            ..Default::default()
        }
    }
}

/// `5s`, `500ms`, `2min` (or `2m`), or plain seconds.
fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a duration (write 5s, 500ms or 2min)"))?;
    let secs = match unit.trim() {
        "" | "s" => n,
        "ms" => n / 1000.0,
        "m" | "min" => n * 60.0,
        _ => return Err(format!("`{s}` is not a duration (write 5s, 500ms or 2min)")),
    };
    if !secs.is_finite() || secs <= 0.0 || secs > 86_400.0 {
        return Err(format!(
            "`{s}`: a lock timeout is more than 0 and at most a day"
        ));
    }
    Ok(std::time::Duration::from_secs_f64(secs))
}

/// When to colour the output.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq)]
pub enum ColorWhen {
    /// On a terminal, unless NO_COLOR is set.
    Auto,
    Always,
    Never,
}

#[derive(Subcommand, Debug)]
pub enum AuditAction {
    /// Install (or repair) the audit. Idempotent.
    #[command(
        after_help = "Example:\n  lockstep audit install --env prod\n\nExit codes: 0 installed, 1 not possible here (it says why and what lockstep does\ninstead), 2 lockstep could not do its job."
    )]
    Install {
        /// The environment of lockstep.toml.
        #[arg(long, value_name = "ENV")]
        env: String,
        /// text for people; json: one object.
        #[arg(long, value_enum, default_value_t = OutFormat::Text)]
        format: OutFormat,
    },
    /// Remove the audit: its triggers, functions and records.
    #[command(after_help = "Example:\n  lockstep audit uninstall --env prod")]
    Uninstall {
        /// The environment of lockstep.toml.
        #[arg(long, value_name = "ENV")]
        env: String,
        /// text for people; json: one object.
        #[arg(long, value_enum, default_value_t = OutFormat::Text)]
        format: OutFormat,
    },
    /// List the recorded statements, newest first.
    #[command(
        after_help = "Examples:\n  lockstep audit log --env prod --since 24h\n  lockstep audit log --env prod --format json"
    )]
    Log {
        /// The environment of lockstep.toml.
        #[arg(long, value_name = "ENV")]
        env: String,
        /// Only records this recent (`30m`, `24h`, `7d`).
        #[arg(long, value_name = "DURATION")]
        since: Option<String>,
        /// text for people; json: `{"env", "installed", "records": [...]}`.
        #[arg(long, value_enum, default_value_t = OutFormat::Text)]
        format: OutFormat,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq)]
pub enum LintFormat {
    Text,
    Json,
    /// GitHub Actions annotations (`::error file=F,line=L,title=RULE::MESSAGE`).
    Github,
    /// GitLab CI Code Quality report (a JSON array), shown in merge requests.
    Gitlab,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq)]
pub enum Expected {
    /// The committed snapshot for the environment's version (`lockstep snapshot`).
    Snapshot,
    /// The applied migrations replayed on a scratch database.
    Replay,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq)]
pub enum OutFormat {
    Text,
    Json,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq)]
pub enum Resolve {
    /// The statement took effect: record it as finished.
    Done,
    /// It did not: run it again.
    Retry,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq)]
pub enum InspectFormat {
    Sql,
    Json,
    Text,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq)]
pub enum DiffFormat {
    Text,
    Sql,
    Json,
}
