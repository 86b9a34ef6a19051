//! `lockstep watch`: drift checked every interval through one long-lived session, and
//! each item announced once when it appears and once when it goes away.
//!
//! What has been seen lives in `.lockstep/watch.json` in the project, written atomically
//! (a temporary file renamed over the old one), so a restart announces nothing that was
//! announced before, and drift items keep their `first_seen`. Webhook deliveries wait in
//! the same file until the receiver accepts them: a receiver that is down gets every
//! event once it is back, each under the same `webhook-id` it was first sent with (the
//! Standard Webhooks way to let receivers drop a repeat).

use crate::config::{Config, WebhookConfig};
use crate::error::{Context, Error, Result};
use crate::{fail, Session};
use base64::Engine as _;
use hmac::{KeyInit, Mac};
use lockstep_core::drift::DriftItem;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Where watch keeps what it has seen, relative to the project (lockstep.toml's folder).
pub const STATE_FILE: &str = ".lockstep/watch.json";

/// The interval when neither `--interval` nor `[watch] interval` says.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(300);

/// The environment variable that holds the signing secret when `[watch] secret` is unset.
pub const SECRET_VAR: &str = "LOCKSTEP_WEBHOOK_SECRET";

const STATE_FORMAT: u32 = 1;
/// Deliveries kept per webhook while its receiver is down; older ones are dropped first.
const OUTBOX_LIMIT: usize = 1000;
const MAX_BACKOFF: Duration = Duration::from_secs(60);

pub fn state_path(config: &Config) -> PathBuf {
    config.dir.join(STATE_FILE)
}

/// What makes two drift items the same item: the object, what happened to it, and both
/// sides. An item whose live definition changes again is a new item (and the old one
/// is resolved). Who made the change (`author`) is not part of it: the audit may learn
/// that later.
pub fn item_key(i: &DriftItem) -> String {
    format!(
        "{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}",
        i.kind,
        i.object,
        i.change,
        i.expected.as_deref().unwrap_or("\u{0}"),
        i.actual.as_deref().unwrap_or("\u{0}")
    )
}

/// `first_seen` of every item watch has recorded for `env`, by [`item_key`], and for
/// the items that appeared after watch's first check, the check before (the item
/// appeared between the two). Nothing when watch never ran here; a damaged state file
/// is watch's to report, not drift's.
pub fn first_seen(
    config: &Config,
    env: &str,
) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
    let Ok(st) = load_state(&state_path(config)) else {
        return Default::default();
    };
    let Some(e) = st.environments.get(env) else {
        return Default::default();
    };
    let first = e
        .items
        .iter()
        .map(|s| (s.key.clone(), s.first_seen.clone()))
        .collect();
    let after = e
        .items
        .iter()
        .filter_map(|s| Some((s.key.clone(), s.seen_after.clone()?)))
        .collect();
    (first, after)
}

/// One announcement: the contract's `{"event", "env", "item", "at"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Announcement {
    /// `drift.new` or `drift.resolved`.
    pub event: String,
    pub env: String,
    /// The drift item as `lockstep drift --format json` shows it, with `first_seen`.
    pub item: Value,
    pub at: String,
    /// The item in words, for people and chat messages.
    #[serde(skip)]
    pub text: String,
}

impl Announcement {
    pub fn is_new(&self) -> bool {
        self.event == "drift.new"
    }

    /// One line for people.
    pub fn line(&self) -> String {
        format!(
            "{} {}: {}: {}",
            self.at,
            self.env,
            if self.is_new() {
                "new drift"
            } else {
                "drift resolved"
            },
            self.text
        )
    }
}

/// What one check of every environment found.
#[derive(Debug, Default)]
pub struct Tick {
    pub at: String,
    pub announcements: Vec<Announcement>,
    /// Environments that could not be checked this time and could the time before (or
    /// fail differently now), with why. Their earlier items stay as they were: an
    /// unreachable database resolves nothing.
    pub unchecked: Vec<(String, String)>,
    /// Every environment that could not be checked this time, with why.
    pub errors: Vec<(String, String)>,
    /// Environments that can be checked again.
    pub recovered: Vec<String>,
    /// Environments checked.
    pub checked: usize,
}

/// How to watch: the environments, the interval, the webhooks and the signing key.
#[derive(Debug, Clone)]
pub struct Options {
    pub envs: Vec<String>,
    pub interval: Duration,
    pub webhooks: Vec<WebhookConfig>,
    /// The HMAC key (the secret's bytes after `whsec_` and base64).
    pub key: Option<Vec<u8>>,
}

impl Options {
    /// The options from `[watch]`, with the command line's interval and webhooks on top:
    /// webhook URLs and the secret are expanded (`${VAR}`) here, and the secret falls
    /// back to `LOCKSTEP_WEBHOOK_SECRET`.
    pub fn resolve(
        config: &Config,
        envs: Vec<String>,
        interval: Option<Duration>,
        extra_webhooks: Vec<WebhookConfig>,
    ) -> Result<Options> {
        let at = config.path.display();
        let mut webhooks = vec![];
        for h in config.watch.webhooks.iter().chain(&extra_webhooks) {
            let url =
                crate::config::expand(&h.url).with_context(|| format!("{at}: [watch] webhooks"))?;
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                fail!(
                    "webhook {} is not an http(s) URL\n  hint: give the receiver's full URL, such as https://hooks.example/lockstep",
                    webhook_label(&url)
                );
            }
            webhooks.push(WebhookConfig {
                url,
                slack: h.slack,
            });
        }
        let secret = match &config.watch.secret {
            Some(s) => {
                Some(crate::config::expand(s).with_context(|| format!("{at}: [watch] secret"))?)
            }
            None => std::env::var(SECRET_VAR).ok().filter(|s| !s.is_empty()),
        };
        let key = secret.as_deref().map(decode_secret).transpose()?;
        Ok(Options {
            envs,
            interval: interval
                .or(config.watch.interval)
                .unwrap_or(DEFAULT_INTERVAL),
            webhooks,
            key,
        })
    }
}

/// A Standard Webhooks secret: `whsec_` followed by base64 (the prefix may be left out).
pub fn decode_secret(s: &str) -> Result<Vec<u8>> {
    let b64 = s.trim().strip_prefix("whsec_").unwrap_or(s.trim());
    match base64::engine::general_purpose::STANDARD.decode(b64) {
        Ok(k) if !k.is_empty() => Ok(k),
        _ => fail!(
            "the webhook secret is not a Standard Webhooks secret (whsec_ followed by base64)\n  hint: make one with `echo whsec_$(openssl rand -base64 32)` and give the receiver the same value"
        ),
    }
}

/// `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`: the `webhook-signature` header.
pub fn sign(key: &[u8], id: &str, timestamp: u64, body: &str) -> String {
    let mut mac =
        hmac::Hmac::<sha2::Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    let sig = mac.finalize().into_bytes();
    format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(sig)
    )
}

/// A webhook URL for messages: scheme and host only, since the path of many receivers
/// (Slack's among them) is itself the credential.
pub fn webhook_label(url: &str) -> String {
    match url.find("://") {
        Some(i) => {
            let rest = &url[i + 3..];
            let host_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            let host = &rest[..host_end];
            let host = host.rsplit('@').next().unwrap_or(host);
            let more = if host_end < rest.len() { "/…" } else { "" };
            format!("{}://{host}{more}", &url[..i])
        }
        None => "(not a URL)".to_string(),
    }
}

/// Seconds since the epoch.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// `2026-03-01T12:00:00Z` for seconds since the epoch (UTC).
pub fn rfc3339(secs: u64) -> String {
    let (y, m, d, h, min, sec) = civil(secs);
    format!("{y:04}-{m:02}-{d:02}T{h:02}:{min:02}:{sec:02}Z")
}

/// A Unix time as UTC (year, month, day, hour, minute, second), without a date library:
/// Howard Hinnant's days-to-civil algorithm.
pub(crate) fn civil(secs: u64) -> (i64, i64, i64, u64, u64, u64) {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d, rem / 3600, rem % 3600 / 60, rem % 60)
}

pub fn now_rfc3339() -> String {
    rfc3339(unix_now())
}

/// A cheap fingerprint of the migrations directory (names, sizes, modification times),
/// so a long-lived process notices a `git pull` and reads the directory again.
pub fn fingerprint(config: &Config) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    let mut entries = vec![];
    let walk = |dir: &Path, depth: usize, entries: &mut Vec<(String, u64, u128)>| {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return vec![];
        };
        let mut sub = vec![];
        for e in rd.flatten() {
            let Ok(md) = e.metadata() else { continue };
            let mtime = md
                .modified()
                .ok()
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map(|d| d.as_nanos())
                .unwrap_or(0);
            entries.push((e.path().display().to_string(), md.len(), mtime));
            if md.is_dir() && depth == 0 {
                sub.push(e.path());
            }
        }
        sub
    };
    let subs = walk(&config.migrations, 0, &mut entries);
    for s in subs {
        walk(&s, 1, &mut entries);
    }
    entries.sort();
    entries.hash(&mut h);
    h.finish()
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    format: u32,
    #[serde(default)]
    environments: BTreeMap<String, EnvSeen>,
    /// Deliveries not yet accepted, oldest first.
    #[serde(default)]
    outbox: Vec<Delivery>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct EnvSeen {
    checked_at: String,
    items: Vec<Seen>,
    /// Why the environment could not be checked last time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Seen {
    key: String,
    first_seen: String,
    /// The check before `first_seen`, which did not see the item; None when the item
    /// was there at watch's first check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    seen_after: Option<String>,
    text: String,
    item: Value,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Delivery {
    id: String,
    /// The webhook, by a digest of its URL: the URL itself may be a credential and is not
    /// written to disk.
    webhook: String,
    event: Announcement,
    text: String,
    attempts: u32,
    next_attempt: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_error: Option<String>,
}

fn webhook_digest(url: &str) -> String {
    use sha2::Digest;
    let d = sha2::Sha256::digest(url.as_bytes());
    d.iter().take(12).map(|b| format!("{b:02x}")).collect()
}

fn load_state(path: &Path) -> Result<State> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(State {
                format: STATE_FORMAT,
                ..State::default()
            })
        }
        Err(e) => {
            return Err(Error::from(e)).with_context(|| format!("reading {}", path.display()))
        }
    };
    let st: State = serde_json::from_str(&text).map_err(|e| {
        Error::msg(format!(
            "{}:{}:{}: not a watch state file: {e}\n  hint: remove it to start over; every current drift item is then announced again",
            path.display(),
            e.line(),
            e.column()
        ))
    })?;
    if st.format != STATE_FORMAT {
        fail!(
            "{}: state format {} is not supported (this lockstep writes format {STATE_FORMAT})\n  hint: remove it to start over; every current drift item is then announced again",
            path.display(),
            st.format
        );
    }
    Ok(st)
}

/// Writes the state through a temporary file in the same folder and a rename, so a crash
/// leaves the old file or the new one, never half of one.
fn save_state(path: &Path, st: &State) -> Result<()> {
    let dir = path.parent().expect("the state file has a folder");
    if !dir.exists() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        // The folder holds machine state, not source.
        let _ = std::fs::write(dir.join(".gitignore"), "*\n");
    }
    let text = serde_json::to_string_pretty(st)?;
    let write = || -> std::io::Result<()> {
        use std::io::Write;
        let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
        tmp.write_all(text.as_bytes())?;
        tmp.write_all(b"\n")?;
        tmp.as_file().sync_all()?;
        tmp.persist(path).map_err(|e| e.error)?;
        Ok(())
    };
    write().with_context(|| format!("writing {}", path.display()))
}

fn new_id() -> String {
    let mut b = [0u8; 16];
    if getrandom::fill(&mut b).is_err() {
        // No entropy source: time and process are unique enough for a message id.
        let n = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        b[..16].copy_from_slice(&(n ^ (u128::from(std::process::id()) << 96)).to_le_bytes());
    }
    format!(
        "msg_{}",
        b.iter().map(|x| format!("{x:02x}")).collect::<String>()
    )
}

/// The body a webhook gets: the announcement, or for Slack a `text` message (Slack
/// reads `&`, `<` and `>` as markup, so they are escaped).
pub fn body(a: &Announcement, slack: bool) -> String {
    if slack {
        let text = format!(
            "lockstep: {}: {}: {}",
            a.env,
            if a.is_new() {
                "new drift"
            } else {
                "drift resolved"
            },
            a.text
        )
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
        serde_json::json!({ "text": text }).to_string()
    } else {
        serde_json::to_string(a).expect("an announcement serializes")
    }
}

/// A watch in progress: the session it checks through, what it has seen, and the
/// deliveries it still owes.
pub struct Watcher {
    session: Session,
    opts: Options,
    path: PathBuf,
    state: State,
    client: reqwest::Client,
    fingerprint: u64,
}

impl Watcher {
    pub fn new(session: Session, opts: Options) -> Result<Watcher> {
        for env in &opts.envs {
            session.env(env)?;
        }
        let path = state_path(&session.config);
        let state = load_state(&path)?;
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .user_agent(concat!("lockstep/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::msg(format!("setting up the webhook client: {e}")))?;
        let fingerprint = fingerprint(&session.config);
        Ok(Watcher {
            session,
            opts,
            path,
            state,
            client,
            fingerprint,
        })
    }

    pub fn session(&self) -> &Session {
        &self.session
    }

    pub fn options(&self) -> &Options {
        &self.opts
    }

    pub fn state_path(&self) -> &Path {
        &self.path
    }

    /// Deliveries waiting for their receiver.
    pub fn undelivered(&self) -> usize {
        self.state.outbox.len()
    }

    /// Checks every environment once, records what is new and what went away, queues
    /// their deliveries and saves the state (before anything is sent, so a crash resends
    /// rather than forgets).
    pub async fn tick(&mut self) -> Result<Tick> {
        self.reload_if_changed()?;
        let now = unix_now();
        let at = rfc3339(now);
        let mut tick = Tick {
            at: at.clone(),
            ..Tick::default()
        };
        // A fleet is watched member by member, each under `ENV/MEMBER`.
        let mut targets: Vec<(String, String, Option<String>)> = vec![];
        for env in &self.opts.envs {
            match self.session.env(env).ok().and_then(|e| e.fleet.clone()) {
                Some(f) => targets.extend(
                    f.members
                        .into_iter()
                        .map(|m| (format!("{env}/{}", m.name), env.clone(), Some(m.name))),
                ),
                None => targets.push((env.clone(), env.clone(), None)),
            }
        }
        for (env, name, member) in targets {
            let r = crate::drift::drift(&self.session, &name, member.as_deref(), None).await;
            let seen = self.state.environments.entry(env.clone()).or_default();
            let report = match r {
                Ok(r) => r,
                Err(e) => {
                    let text = e.text();
                    if seen.error.as_deref() != Some(&text) {
                        tick.unchecked.push((env.clone(), text.clone()));
                    }
                    tick.errors.push((env.clone(), text.clone()));
                    seen.error = Some(text);
                    continue;
                }
            };
            tick.checked += 1;
            if seen.error.take().is_some() {
                tick.recovered.push(env.clone());
            }
            // Empty at an environment's first check: what is there then may be old.
            let previous = std::mem::replace(&mut seen.checked_at, at.clone());
            let before: BTreeMap<String, Seen> = std::mem::take(&mut seen.items)
                .into_iter()
                .map(|s| (s.key.clone(), s))
                .collect();
            let mut now_keys = BTreeSet::new();
            for item in &report.items {
                let key = item_key(item);
                if !now_keys.insert(key.clone()) {
                    continue;
                }
                let s = match before.get(&key) {
                    Some(s) => {
                        // Keep what was recorded, but take fields the item gained since
                        // (an author the audit found later).
                        let mut s = s.clone();
                        s.item = with_first_seen(item, &s.first_seen);
                        s
                    }
                    None => {
                        let s = Seen {
                            key: key.clone(),
                            first_seen: at.clone(),
                            seen_after: (!previous.is_empty()).then(|| previous.clone()),
                            text: item.describe(),
                            item: with_first_seen(item, &at),
                        };
                        tick.announcements.push(Announcement {
                            event: "drift.new".into(),
                            env: env.clone(),
                            item: s.item.clone(),
                            at: at.clone(),
                            text: s.text.clone(),
                        });
                        s
                    }
                };
                seen.items.push(s);
            }
            for (key, s) in before {
                if !now_keys.contains(&key) {
                    tick.announcements.push(Announcement {
                        event: "drift.resolved".into(),
                        env: env.clone(),
                        item: s.item,
                        at: at.clone(),
                        text: s.text,
                    });
                }
            }
        }
        for a in &tick.announcements {
            for h in &self.opts.webhooks {
                self.state.outbox.push(Delivery {
                    id: new_id(),
                    webhook: webhook_digest(&h.url),
                    event: a.clone(),
                    text: a.text.clone(),
                    attempts: 0,
                    next_attempt: now,
                    last_error: None,
                });
            }
        }
        self.trim_outbox();
        save_state(&self.path, &self.state)?;
        Ok(tick)
    }

    /// Sends every delivery that is due, oldest first. A receiver that fails is tried
    /// again after a backoff (1 s, 2 s, 4 s … up to a minute), and its later deliveries
    /// wait behind the failed one so it gets them in order. Failures are warnings: they
    /// never stop the watch.
    pub async fn deliver(&mut self) -> Result<()> {
        if self.state.outbox.is_empty() {
            return Ok(());
        }
        let hooks: BTreeMap<String, WebhookConfig> = self
            .opts
            .webhooks
            .iter()
            .map(|h| (webhook_digest(&h.url), h.clone()))
            .collect();
        let before = self.state.outbox.len();
        self.state.outbox.retain(|d| hooks.contains_key(&d.webhook));
        let forgotten = before - self.state.outbox.len();
        if forgotten > 0 {
            self.session.events.warn(
                None,
                format!("dropped {forgotten} undelivered event(s) for webhooks that are no longer configured"),
            );
        }
        let mut blocked = BTreeSet::new();
        let mut changed = forgotten > 0;
        let mut i = 0;
        while i < self.state.outbox.len() {
            let d = &self.state.outbox[i];
            let now = unix_now();
            if blocked.contains(&d.webhook) || d.next_attempt > now {
                blocked.insert(d.webhook.clone());
                i += 1;
                continue;
            }
            let hook = &hooks[&d.webhook];
            let r = self.post(hook, d).await;
            changed = true;
            match r {
                Ok(()) => {
                    let d = self.state.outbox.remove(i);
                    self.session.events.note(
                        Some(&d.event.env),
                        format!(
                            "delivered {} to {} ({})",
                            d.event.event,
                            webhook_label(&hook.url),
                            d.id
                        ),
                    );
                }
                Err(e) => {
                    let waiting = self.pending_for(&d.webhook);
                    let d = &mut self.state.outbox[i];
                    d.attempts += 1;
                    let wait = backoff(d.attempts);
                    d.next_attempt = unix_now() + wait.as_secs();
                    self.session.events.warn(
                        Some(&d.event.env),
                        format!(
                            "webhook {} failed ({e}); {waiting} event(s) wait for it, next try in {}s",
                            webhook_label(&hook.url),
                            wait.as_secs()
                        ),
                    );
                    d.last_error = Some(e);
                    blocked.insert(d.webhook.clone());
                    i += 1;
                }
            }
        }
        if changed {
            save_state(&self.path, &self.state)?;
        }
        Ok(())
    }

    fn pending_for(&self, webhook: &str) -> usize {
        self.state
            .outbox
            .iter()
            .filter(|d| d.webhook == webhook)
            .count()
    }

    /// How long until the next delivery is due, when one waits.
    pub fn next_delivery(&self) -> Option<Duration> {
        let now = unix_now();
        self.state
            .outbox
            .iter()
            .map(|d| Duration::from_secs(d.next_attempt.saturating_sub(now)))
            .min()
    }

    async fn post(&self, hook: &WebhookConfig, d: &Delivery) -> std::result::Result<(), String> {
        let mut a = d.event.clone();
        a.text = d.text.clone();
        let body = body(&a, hook.slack);
        let ts = unix_now();
        let mut req = self
            .client
            .post(&hook.url)
            .header("content-type", "application/json")
            .header("webhook-id", &d.id)
            .header("webhook-timestamp", ts.to_string());
        if let Some(key) = &self.opts.key {
            req = req.header("webhook-signature", sign(key, &d.id, ts, &body));
        }
        match req.body(body).send().await {
            Ok(r) if r.status().is_success() => Ok(()),
            Ok(r) => Err(format!("HTTP {}", r.status())),
            // The request's URL stays out of the message: it may be the credential.
            Err(e) => {
                let e = e.without_url();
                let mut msg = e.to_string();
                let mut src = std::error::Error::source(&e);
                while let Some(s) = src {
                    msg.push_str(&format!(": {s}"));
                    src = s.source();
                }
                Err(msg.replace(&hook.url, &webhook_label(&hook.url)))
            }
        }
    }

    fn trim_outbox(&mut self) {
        let mut per: BTreeMap<String, usize> = BTreeMap::new();
        for d in &self.state.outbox {
            *per.entry(d.webhook.clone()).or_default() += 1;
        }
        for (hook, n) in per {
            if n > OUTBOX_LIMIT {
                let mut extra = n - OUTBOX_LIMIT;
                self.state.outbox.retain(|d| {
                    if extra > 0 && d.webhook == hook {
                        extra -= 1;
                        false
                    } else {
                        true
                    }
                });
                self.session.events.warn(
                    None,
                    format!("a webhook has been failing for long: dropped its {} oldest undelivered event(s)", n - OUTBOX_LIMIT),
                );
            }
        }
    }

    /// Starts a new session when the migrations directory changed (a `git pull`), so the
    /// expected schema follows the checkout; otherwise the session and its replays stay.
    fn reload_if_changed(&mut self) -> Result<()> {
        let fp = fingerprint(&self.session.config);
        if fp != self.fingerprint {
            let config = Config::load(&self.session.config.path)?;
            self.session = Session::new(config, self.session.events.clone());
            self.fingerprint = fp;
            self.session
                .events
                .note(None, "the migrations directory changed: reading it again");
        }
        Ok(())
    }
}

fn backoff(attempts: u32) -> Duration {
    let secs = 1u64 << attempts.saturating_sub(1).min(16);
    Duration::from_secs(secs).min(MAX_BACKOFF)
}

fn with_first_seen(item: &DriftItem, first_seen: &str) -> Value {
    let mut v = serde_json::to_value(item).expect("a drift item serializes");
    if let Value::Object(m) = &mut v {
        m.insert("first_seen".into(), Value::String(first_seen.to_string()));
    }
    v
}

/// Runs the watch: a tick every interval, deliveries in between as they fall due. With
/// `once`, one tick and one round of deliveries (a failing receiver gets a few quick
/// retries; what is still undelivered waits in the state file for the next run).
pub async fn run(w: &mut Watcher, once: bool, mut on_tick: impl FnMut(&Tick)) -> Result<()> {
    loop {
        let started = tokio::time::Instant::now();
        let tick = w.tick().await?;
        on_tick(&tick);
        w.deliver().await?;
        if once {
            for _ in 0..2 {
                match w.next_delivery() {
                    Some(d) if d <= Duration::from_secs(2) => {
                        tokio::time::sleep(d).await;
                        w.deliver().await?;
                    }
                    _ => break,
                }
            }
            return Ok(());
        }
        let next_tick = started + w.opts.interval;
        loop {
            let now = tokio::time::Instant::now();
            if now >= next_tick {
                break;
            }
            let until = match w.next_delivery() {
                Some(d) => (now + d).min(next_tick),
                None => next_tick,
            };
            tokio::time::sleep_until(until).await;
            if tokio::time::Instant::now() < next_tick {
                w.deliver().await?;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_772_366_400), "2026-03-01T12:00:00Z");
    }

    #[test]
    fn signature_matches_the_standard_webhooks_example() {
        // The example of the Standard Webhooks specification (and its reference
        // libraries' tests).
        let key = decode_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            sign(&key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
        let e = decode_secret("not base64!").unwrap_err().to_string();
        assert!(e.contains("hint:"), "{e}");
    }

    #[test]
    fn labels_hide_paths() {
        assert_eq!(
            webhook_label("https://hooks.slack.com/services/T0/B0/XYZ"),
            "https://hooks.slack.com/…"
        );
        assert_eq!(
            webhook_label("http://u:pw@127.0.0.1:9/x?token=1"),
            "http://127.0.0.1:9/…"
        );
    }

    #[test]
    fn backoff_grows_to_a_minute() {
        let b: Vec<u64> = (1..=9).map(|n| backoff(n).as_secs()).collect();
        assert_eq!(b, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
    }

    #[test]
    fn slack_bodies_escape_markup() {
        let a = Announcement {
            event: "drift.new".into(),
            env: "prod".into(),
            item: Value::Null,
            at: "t".into(),
            text: "table <b>&x".into(),
        };
        let v: Value = serde_json::from_str(&body(&a, true)).unwrap();
        assert_eq!(
            v["text"],
            "lockstep: prod: new drift: table &lt;b&gt;&amp;x"
        );
        let v: Value = serde_json::from_str(&body(&a, false)).unwrap();
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["event", "env", "item", "at"]);
    }
}
