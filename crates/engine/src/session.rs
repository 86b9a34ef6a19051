//! A session: the project read once, targets opened once per run, and expected schemas
//! built once and memoized for as long as the session lives (a command, or a watch).

use crate::config::Config;
use crate::error::{Context, Result};
use crate::events::{Event, Events};
use crate::expected::{self, Expected, Mode};
use crate::project::{self, Migrations};
use lockstep_core::migrate::state::{self, HistoryRow, ProgressRow, State};
use lockstep_core::migrate::{Migration, Version};
use lockstep_core::model::{Database, Dialect};
use lockstep_db::{Db, DbUrl, SchemaMemo};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

pub struct Session {
    pub config: Config,
    pub events: Events,
    migrations: OnceLock<Arc<Migrations>>,
    /// Replayed models by (scratch server, applied versions and checksums). The map is
    /// locked only to find a key's cell: replays on different servers run at once, and
    /// the members waiting for one replay wait on its cell.
    replays: std::sync::Mutex<HashMap<String, Arc<ReplayCell>>>,
    /// Live schemas read, shared by the targets opened (a fleet's members mostly have
    /// one schema).
    schemas: Arc<SchemaMemo>,
    /// PostgreSQL servers' major versions (what the replay cache on disk is keyed by), as
    /// the targets' connections announced them: the cache is then looked up without a
    /// connection of its own to a server a target is on.
    majors: std::sync::Mutex<HashMap<String, String>>,
    /// Connections to tenants (schemas of one PostgreSQL database) that read-only fleet
    /// work has finished with, for the next tenant of the same database: at most one per
    /// member in flight, closed by [`Session::close_idle`].
    idle: std::sync::Mutex<Vec<Db>>,
}

type ReplayCell = tokio::sync::OnceCell<Arc<Replayed>>;

/// What one replay of a list of migrations produced: the schema after them, and, when
/// migrations were pending and asked for, the schema after those as well.
pub struct Replayed {
    pub model: Database,
    pub after_pending: Option<Database>,
    pub count: usize,
    pub detail: String,
}

impl Session {
    pub fn new(config: Config, events: Events) -> Session {
        Session {
            config,
            events,
            migrations: OnceLock::new(),
            replays: Default::default(),
            schemas: Default::default(),
            majors: Default::default(),
            idle: Default::default(),
        }
    }

    /// The major version of the server replays run on, as a target's connection to it
    /// announced it, or asked of the server.
    async fn engine_major(&self, server: &DbUrl) -> Result<Option<String>> {
        let known = self
            .majors
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&server_key(server))
            .cloned();
        match known {
            Some(v) => Ok(Some(v)),
            None => Ok(lockstep_db::scratch::engine_major(server).await?),
        }
    }

    /// The migrations directory, read and parsed once.
    pub fn migrations(&self) -> Result<Arc<Migrations>> {
        if let Some(m) = self.migrations.get() {
            return Ok(m.clone());
        }
        let m = Arc::new(Migrations::load(&self.config)?);
        Ok(self.migrations.get_or_init(|| m).clone())
    }

    /// The environment's configuration, or an error naming the known ones.
    pub fn env(&self, env: &str) -> Result<&crate::config::Env> {
        project::env(&self.config, env)
    }

    /// Opens a single-database environment: one connection, its history, and the
    /// layout settled by another tool's history table. A SQLite file that does not exist
    /// is an empty database unless `create` (deploy) is set.
    pub async fn open(&self, env: &str, create: bool) -> Result<Target> {
        let url = project::env_url(&self.config, env)?;
        let scratch = self.scratch_server(env)?;
        self.open_url(env.to_string(), url, scratch, create, false)
            .await
    }

    /// Opens `env`, or with `member`, that member of the fleet `env`.
    pub async fn open_in(&self, env: &str, member: Option<&str>, create: bool) -> Result<Target> {
        match member {
            None => self.open(env, create).await,
            Some(name) => {
                let m = self.member(env, name)?;
                self.open_member(env, &m, create).await
            }
        }
    }

    /// A member of the fleet `env`, by name.
    pub fn member(&self, env: &str, name: &str) -> Result<crate::config::Member> {
        let e = self.env(env)?;
        let Some(f) = &e.fleet else {
            crate::fail!("environment {env} is one database, not a fleet, so it has no member {name}\n  hint: leave out --member");
        };
        match f.members.iter().find(|m| m.name == name) {
            Some(m) => Ok(m.clone()),
            None => crate::fail!(
                "fleet {env} has no member {name}\n  hint: its members are listed in lockstep.toml (first: {})",
                f.members.first().map(|m| m.name.as_str()).unwrap_or("")
            ),
        }
    }

    /// Opens one member of a fleet; the target is labelled `ENV/MEMBER`.
    pub async fn open_member(
        &self,
        env: &str,
        member: &crate::config::Member,
        create: bool,
    ) -> Result<Target> {
        self.open_member_with(env, member, create, false).await
    }

    /// Opens a member for read-only work (status, drift, parity): a tenant takes
    /// over the connection another tenant of its database finished with, if one is idle
    /// (see [`Session::put_back`]).
    pub async fn open_member_reading(
        &self,
        env: &str,
        member: &crate::config::Member,
    ) -> Result<Target> {
        self.open_member_with(env, member, false, true).await
    }

    async fn open_member_with(
        &self,
        env: &str,
        member: &crate::config::Member,
        create: bool,
        reuse: bool,
    ) -> Result<Target> {
        let url = project::url_of(&self.config, env, &member.url)?;
        let scratch = match &self.env(env)?.scratch {
            Some(s) => DbUrl::sqlite_relative_to(s, &self.config.dir)?,
            None => url.clone(),
        };
        self.open_url(
            format!("{env}/{}", member.name),
            url,
            scratch,
            create,
            reuse,
        )
        .await
    }

    /// Ends read-only work on a member opened by [`Session::open_member_reading`]: a
    /// tenant's connection is kept for the next tenant of its database when the work
    /// succeeded (a failed one may have left the session in any state), and closed
    /// otherwise.
    pub async fn put_back(&self, t: Target, succeeded: bool) {
        if succeeded && t.shareable && t.db.can_serve(&t.url) {
            self.idle
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(t.db);
        } else {
            t.close().await;
        }
    }

    /// Closes the connections [`Session::put_back`] kept.
    pub async fn close_idle(&self) {
        let idle = std::mem::take(&mut *self.idle.lock().unwrap_or_else(|e| e.into_inner()));
        for db in idle {
            db.close().await;
        }
    }

    /// An idle connection to `url`'s database, confined to its tenant; `None` when there
    /// is none, or when confining it failed (it is then dropped, and the caller connects
    /// anew, so a connection the server ended meanwhile costs nothing but that).
    async fn take_idle(&self, url: &DbUrl) -> Option<Db> {
        let mut db = {
            let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
            let i = idle.iter().position(|d| d.can_serve(url))?;
            idle.swap_remove(i)
        };
        match db.reconfine(url).await {
            Ok(()) => Some(db),
            Err(_) => None,
        }
    }

    async fn open_url(
        &self,
        label: String,
        url: DbUrl,
        scratch: DbUrl,
        create: bool,
        reuse: bool,
    ) -> Result<Target> {
        let base = self.migrations()?;
        // A tenant's expected schema is replayed confined to `public` and moved to the
        // tenant's schema (see `expected::move_schema`), so every tenant shares one replay.
        let scratch = match url.schema() {
            Some(_) if scratch.dialect() == url.dialect() => {
                scratch.with_schema(Some(expected::TENANT_SCRATCH_SCHEMA))
            }
            _ => scratch,
        };
        let sqlite_missing = url
            .sqlite_path()
            .is_some_and(|p| p != ":memory:" && !std::path::Path::new(&p).exists());
        if let (true, Some(p)) = (sqlite_missing, url.sqlite_path()) {
            let parent = std::path::Path::new(&p)
                .parent()
                .filter(|d| !d.as_os_str().is_empty());
            if parent.is_some_and(|d| !d.is_dir()) {
                crate::fail!(
                    "{label}: SQLite database {p} cannot exist: its directory does not\n  hint: check the path in lockstep.toml (relative paths are relative to the file)"
                );
            }
        }
        let reused = match reuse && url.schema().is_some() {
            true => self.take_idle(&url).await,
            false => None,
        };
        let mut db = if let Some(db) = reused {
            db
        } else if sqlite_missing && !create {
            // Status and dry runs report everything pending instead of failing, and
            // create nothing.
            let mut db = Db::connect(&DbUrl::parse("sqlite::memory:")?, false).await?;
            db.url = url.clone();
            db
        } else {
            Db::connect(&url, create).await?
        };
        if url.dialect() == Dialect::Postgres {
            // Free here: the server sent its version when the connection started.
            if let Some(v) = db.engine_major().await {
                self.majors
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(server_key(&url), v);
            }
        }
        self.events.send(Event::Opened { env: label.clone() });
        let (history, progress) = db.read_history().await?;
        let foreign = if history.is_empty() {
            db.foreign_history().await?
        } else {
            None
        };
        let migrations = match base.settled(foreign.as_ref().map(|(t, _)| t.as_str()))? {
            Some(m) => Arc::new(m),
            None => base,
        };
        Ok(Target {
            env: label,
            url,
            scratch,
            db,
            migrations,
            history,
            progress,
            foreign,
            actual: None,
            schemas: self.schemas.clone(),
            events: self.events.clone(),
            shareable: reuse,
        })
    }

    /// Where replays and rehearsals for `env` run.
    pub fn scratch_server(&self, env: &str) -> Result<DbUrl> {
        expected::scratch_server(&self.config, env)
    }

    /// The expected schema of an opened target: a committed snapshot for its version, or
    /// its applied history replayed (once per session for the same history).
    pub async fn expected(&self, t: &Target, mode: Option<Mode>) -> Result<Expected> {
        self.expected_inner(t, mode, false).await
    }

    /// Like [`Session::expected`], and also what the pending migrations make of it when
    /// they all apply (`after_pending`), from the same replay where one is needed.
    pub async fn expected_with_pending(&self, t: &Target) -> Result<Expected> {
        self.expected_inner(t, None, true).await
    }

    async fn expected_inner(
        &self,
        t: &Target,
        mode: Option<Mode>,
        with_pending: bool,
    ) -> Result<Expected> {
        let history = t.effective_history();
        let st = t.state_of(&history);
        if let Some(p) = st.problems.iter().find(|p| {
            matches!(
                p,
                state::Problem::Missing { .. } | state::Problem::Edited { .. }
            )
        }) {
            crate::fail!(
                "cannot build {}'s expected schema: {}",
                t.env,
                p.message_for(&t.env)
            );
        }
        let applied = expected::replay_order(&t.migrations, &history, &st);
        let pending: Vec<&Migration> = st.pending.clone();
        // A snapshot's names are qualified (`public.t`), a tenant's read relative to its
        // schema: a tenant's expected schema is always replayed.
        let tenant = t.url.schema();
        if mode != Some(Mode::Replay) && tenant.is_none() {
            if let Some(mut e) = expected::from_snapshot(&self.config, &t.env, &st, mode)? {
                if with_pending && !pending.is_empty() {
                    let all: Vec<&Migration> = applied.iter().chain(&pending).copied().collect();
                    let r = self.replay(t, &t.migrations, &all, &[]).await?;
                    let mut after = r.model.clone();
                    expected::map_to_deployer(&mut after, &history);
                    e.after_pending = Some(after);
                }
                expected::map_to_deployer(&mut e.model, &history);
                return Ok(e);
            }
        }
        let extra: &[&Migration] = if with_pending { &pending } else { &[] };
        let r = self
            .replay(t, &t.migrations, &applied, extra)
            .await
            .with_context(|| {
                format!("replaying {}'s {} applied migrations", t.env, applied.len())
            })?;
        let mapped = |m: &Database| -> Result<Database> {
            let mut m = m.clone();
            expected::map_to_deployer(&mut m, &history);
            if let Some(schema) = &tenant {
                expected::move_schema(&mut m, expected::TENANT_SCRATCH_SCHEMA, schema)?;
            }
            Ok(m)
        };
        let after_pending = match (with_pending, pending.is_empty()) {
            (false, _) => None,
            (true, true) => Some(mapped(&r.model)?),
            (true, false) => r.after_pending.as_ref().map(mapped).transpose()?,
        };
        Ok(Expected {
            model: mapped(&r.model)?,
            from: "replay",
            detail: r.detail.clone(),
            after_pending,
        })
    }

    /// Replays `migrations` (then `then`, when given) on a scratch database of the
    /// target's scratch server.
    pub async fn replay(
        &self,
        t: &Target,
        m: &Migrations,
        migrations: &[&Migration],
        then: &[&Migration],
    ) -> Result<Arc<Replayed>> {
        self.replay_on(&t.env, &t.scratch, m, migrations, then)
            .await
    }

    /// Replays on `server`, memoized by the server (not the database: every member of a
    /// fleet on one server shares a replay; SQLite replays in memory, so all of them do)
    /// and the scripts' versions and checksums.
    pub async fn replay_on(
        &self,
        label: &str,
        server: &DbUrl,
        m: &Migrations,
        migrations: &[&Migration],
        then: &[&Migration],
    ) -> Result<Arc<Replayed>> {
        let key = {
            let mut k = format!("{}|", server.server_identity());
            for x in migrations {
                k.push_str(&format!("{}:{},", x.version, x.checksum));
            }
            k.push('|');
            for x in then {
                k.push_str(&format!("{}:{},", x.version, x.checksum));
            }
            k
        };
        let cell = {
            let mut cache = self.replays.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(r) = cache.get(&key).and_then(|c| c.get()) {
                return Ok(r.clone());
            }
            // A replay with pending migrations also answers the plain one.
            if then.is_empty() {
                if let Some(r) = cache
                    .iter()
                    .filter(|(k, _)| k.starts_with(&key) && k.len() > key.len())
                    .find_map(|(_, c)| c.get().cloned())
                {
                    return Ok(r);
                }
            }
            cache.entry(key).or_default().clone()
        };
        let r = cell
            .get_or_try_init(|| async {
                // Across runs: the cache on disk, keyed by what the replay's result
                // depends on.
                let disk = match crate::cache::Cache::of_project(&self.config.dir) {
                    Some(c) => self.engine_major(server).await?.map(|v| {
                        (
                            crate::cache::Key::of(
                                server.dialect(),
                                &v,
                                server.schema().as_deref(),
                                migrations,
                                then,
                            ),
                            c,
                        )
                    }),
                    None => None,
                };
                let detail = format!(
                    "{} applied migration(s) replayed on {}",
                    migrations.len(),
                    expected::describe_server(server)
                );
                // The same words whether the replay ran now or earlier: reports (and the
                // status page's API, byte for byte the CLI's) do not depend on the cache.
                if let Some(e) = disk.as_ref().and_then(|(k, c)| c.get(k)) {
                    return Ok::<_, crate::Error>(Arc::new(Replayed {
                        model: e.model,
                        after_pending: e.after_pending,
                        count: migrations.len(),
                        detail,
                    }));
                }
                self.events.send(Event::Replay {
                    env: label.to_string(),
                    migrations: migrations.len(),
                });
                let (model, after_pending) = expected::replay(server, m, migrations, then).await?;
                if let Some((k, c)) = &disk {
                    // A cache that cannot be written costs the next run a replay, nothing
                    // more.
                    if let Err(e) = c.put(k, &model, after_pending.as_ref()) {
                        self.events.send(Event::Warn {
                            env: None,
                            text: format!(
                                "could not cache the replayed schema in {}: {e}",
                                project::display_path(&self.config.dir.join(crate::cache::DIR))
                            ),
                        });
                    }
                }
                Ok(Arc::new(Replayed {
                    model,
                    after_pending,
                    count: migrations.len(),
                    detail,
                }))
            })
            .await?;
        Ok(r.clone())
    }
}

/// An environment opened for the run: one connection, its history, and its live schema
/// read at most once.
pub struct Target {
    /// The environment's name, or `ENV/MEMBER` for a member of a fleet.
    pub env: String,
    pub url: DbUrl,
    /// Where this target's replays and rehearsals run.
    pub scratch: DbUrl,
    pub db: Db,
    pub migrations: Arc<Migrations>,
    pub history: Vec<HistoryRow>,
    pub progress: Vec<ProgressRow>,
    /// Another tool's history table (tool, applied versions) when lockstep has none.
    pub foreign: Option<(String, Vec<Version>)>,
    actual: Option<Arc<Database>>,
    schemas: Arc<SchemaMemo>,
    events: Events,
    /// Opened for read-only work, so [`Session::put_back`] may keep its connection.
    shareable: bool,
}

impl Target {
    /// History rows, with another tool's applied versions counted as adopted when
    /// lockstep has no history of its own yet.
    pub fn effective_history(&self) -> Vec<HistoryRow> {
        expected::effective_history(&self.history, &self.foreign, &self.migrations)
    }

    /// Applied, pending and problems, from `history` (usually `effective_history()`).
    pub fn state_of<'a>(&'a self, history: &[HistoryRow]) -> State<'a> {
        state::state(&self.migrations.set, history, &self.progress)
    }

    /// The live schema, read once; `refresh` after the target was changed.
    pub async fn actual(&mut self) -> Result<&Database> {
        if self.actual.is_none() {
            let m = self
                .db
                .inspect_shared(&self.schemas)
                .await
                .with_context(|| format!("inspecting {}", self.env))?;
            self.actual = Some(m);
            self.events.send(Event::Inspected {
                env: self.env.clone(),
            });
        }
        Ok(self.actual.as_deref().expect("just set"))
    }

    /// Forgets the cached live schema and history (after a deploy changed them).
    pub async fn refresh(&mut self) -> Result<()> {
        self.actual = None;
        let (h, p) = self.db.read_history().await?;
        self.history = h;
        self.progress = p;
        Ok(())
    }

    pub async fn close(self) {
        self.db.close().await;
    }
}

/// A server, whatever schema a URL confines its sessions to.
fn server_key(url: &DbUrl) -> String {
    url.with_schema(None).server_identity()
}
