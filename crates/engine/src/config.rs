//! `lockstep.toml`: found in the working directory or a parent, or given with --config.

use crate::error::{Context, Error, Result};
use crate::fail;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub const FILE_NAME: &str = "lockstep.toml";

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    pub migrations: Option<String>,
    pub layout: Option<String>,
    pub snapshots: Option<String>,
    pub code: Option<Vec<String>>,
    #[serde(default)]
    pub env: BTreeMap<String, RawEnv>,
    pub watch: Option<RawWatch>,
}

/// `[watch]`: how `lockstep watch` checks and whom it tells.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWatch {
    pub interval: Option<String>,
    #[serde(default)]
    pub webhooks: Vec<RawWebhook>,
    pub secret: Option<String>,
}

/// A webhook: a URL, or `{ url = "…", slack = true }` for a Slack-compatible body.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RawWebhook {
    Url(String),
    Table(RawWebhookTable),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWebhookTable {
    pub url: String,
    #[serde(default)]
    pub slack: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEnv {
    pub url: Option<String>,
    pub scratch: Option<String>,
    /// A fleet: a file of members, or an inline table of name = url.
    pub members: Option<RawMembers>,
    pub concurrency: Option<usize>,
    pub waves: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RawMembers {
    File(String),
    Inline(toml::Table),
}

/// A loaded configuration, with paths resolved against the file's directory and
/// `${VAR}` expanded.
#[derive(Debug)]
pub struct Config {
    pub path: PathBuf,
    pub dir: PathBuf,
    pub migrations: PathBuf,
    pub layout: Option<String>,
    pub snapshots: PathBuf,
    pub code: Vec<PathBuf>,
    pub envs: BTreeMap<String, Env>,
    pub watch: WatchConfig,
}

/// `[watch]`, with the interval parsed. Webhook URLs and the secret stay as written
/// (`${VAR}` unexpanded) until `watch` needs them: an unset variable must not break every
/// other command, and both may hold secrets.
#[derive(Debug, Default)]
pub struct WatchConfig {
    pub interval: Option<std::time::Duration>,
    pub webhooks: Vec<WebhookConfig>,
    pub secret: Option<String>,
}

#[derive(Debug, Clone)]
pub struct WebhookConfig {
    pub url: String,
    pub slack: bool,
}

#[derive(Debug)]
pub struct Env {
    pub name: String,
    /// Expanded URL of a single-database environment (empty for a fleet). May hold a
    /// password: print only through `redact`.
    pub url: String,
    pub scratch: Option<String>,
    /// A fleet's members, in the order they are listed; None for one database.
    pub fleet: Option<Fleet>,
}

#[derive(Debug, Clone)]
pub struct Fleet {
    pub members: Vec<Member>,
    /// Members worked on at once.
    pub concurrency: usize,
    /// Deploy waves: counts (`1`) or percentages (`10%`) of the fleet, in order.
    pub waves: Vec<String>,
}

/// One database of a fleet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub name: String,
    /// May hold a password: print only through `redact`.
    pub url: String,
}

impl Env {
    pub fn is_fleet(&self) -> bool {
        self.fleet.is_some()
    }
}

/// Default number of members worked on at once.
pub const DEFAULT_CONCURRENCY: usize = 8;

impl Config {
    /// Finds and loads the config. `None` when there is none and none was asked for.
    pub fn find(explicit: Option<&Path>) -> Result<Option<Config>> {
        if let Some(p) = explicit {
            if !p.exists() {
                fail!(
                    "config file {} does not exist\n  hint: pass the path of a lockstep.toml, or run from a directory that has one",
                    p.display()
                );
            }
            return Config::load(p).map(Some);
        }
        let mut dir = std::env::current_dir().context("reading the working directory")?;
        loop {
            let candidate = dir.join(FILE_NAME);
            if candidate.is_file() {
                return Config::load(&candidate).map(Some);
            }
            if !dir.pop() {
                return Ok(None);
            }
        }
    }

    pub fn load(path: &Path) -> Result<Config> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let raw: RawConfig = toml::from_str(&text).map_err(|e| {
            Error::msg(format!(
                "{} is not a valid lockstep.toml: {}\n  hint: known keys are migrations, layout, snapshots, code, [env.NAME] with url or members (a fleet, with concurrency and waves) and scratch, and [watch] with interval, webhooks and secret",
                path.display(),
                e.to_string().trim()
            ))
        })?;
        let path = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let mut envs = BTreeMap::new();
        for (name, e) in raw.env {
            let at = || format!("{}: [env.{name}]", path.display());
            let scratch = e
                .scratch
                .as_deref()
                .map(expand)
                .transpose()
                .with_context(|| format!("{} scratch", at()))?;
            let (url, fleet) = match (e.url, e.members) {
                (Some(u), None) => {
                    if e.concurrency.is_some() || e.waves.is_some() {
                        fail!("{}: concurrency and waves belong to a fleet (an environment with members)\n  hint: remove them, or list the members", at());
                    }
                    (expand(&u).with_context(|| format!("{} url", at()))?, None)
                }
                (None, Some(m)) => {
                    let members = load_members(&m, &dir).with_context(|| format!("{} members", at()))?;
                    let waves = e.waves.unwrap_or_default();
                    for w in &waves {
                        parse_wave(w).with_context(|| format!("{} waves", at()))?;
                    }
                    let concurrency = e.concurrency.unwrap_or(DEFAULT_CONCURRENCY);
                    if concurrency == 0 {
                        fail!("{}: concurrency must be at least 1", at());
                    }
                    (
                        String::new(),
                        Some(Fleet {
                            members,
                            concurrency,
                            waves,
                        }),
                    )
                }
                (Some(_), Some(_)) => fail!(
                    "{}: has both url and members\n  hint: an environment is one database (url) or a fleet (members), never both",
                    at()
                ),
                (None, None) => fail!(
                    "{}: has neither url nor members\n  hint: add url = \"postgres://…\", or members = \"FILE\" for a fleet",
                    at()
                ),
            };
            envs.insert(
                name.clone(),
                Env {
                    name,
                    url,
                    scratch,
                    fleet,
                },
            );
        }
        if let Some(l) = &raw.layout {
            if lockstep_core::migrate::Layout::parse(l).is_none() {
                let known: Vec<String> = lockstep_core::migrate::Layout::ALL
                    .iter()
                    .map(|l| l.to_string())
                    .collect();
                fail!(
                    "{}: layout = {l:?} is not known\n  hint: use one of {}",
                    path.display(),
                    known.join(", ")
                );
            }
        }
        let watch = match raw.watch {
            None => WatchConfig::default(),
            Some(w) => WatchConfig {
                interval: w
                    .interval
                    .as_deref()
                    .map(parse_duration)
                    .transpose()
                    .with_context(|| format!("{}: [watch] interval", path.display()))?,
                webhooks: w
                    .webhooks
                    .into_iter()
                    .map(|h| match h {
                        RawWebhook::Url(url) => WebhookConfig { url, slack: false },
                        RawWebhook::Table(t) => WebhookConfig {
                            url: t.url,
                            slack: t.slack,
                        },
                    })
                    .collect(),
                secret: w.secret,
            },
        };
        Ok(Config {
            watch,
            migrations: dir.join(raw.migrations.as_deref().unwrap_or("migrations")),
            layout: raw.layout,
            snapshots: dir.join(raw.snapshots.as_deref().unwrap_or("snapshots")),
            code: match raw.code {
                Some(c) => c.iter().map(|p| dir.join(p)).collect(),
                None => vec![dir.clone()],
            },
            envs,
            dir,
            path,
        })
    }
}

/// How many members of `total` a wave takes: a count (`1`) or a percentage (`10%`),
/// at least one.
pub fn wave_size(spec: &str, total: usize) -> Result<usize> {
    Ok(match parse_wave(spec)? {
        Wave::Count(n) => n.min(total),
        Wave::Percent(p) => (((total as f64) * p / 100.0).ceil() as usize).clamp(1, total.max(1)),
    })
}

enum Wave {
    Count(usize),
    Percent(f64),
}

fn parse_wave(spec: &str) -> Result<Wave> {
    let bad = || {
        Error::msg(format!(
            "wave `{spec}` is neither a count nor a percentage\n  hint: write waves as [\"1\", \"10%\", \"100%\"]"
        ))
    };
    let s = spec.trim();
    if let Some(p) = s.strip_suffix('%') {
        let p: f64 = p.trim().parse().map_err(|_| bad())?;
        if !(p > 0.0 && p <= 100.0) {
            return Err(bad());
        }
        return Ok(Wave::Percent(p));
    }
    match s.parse::<usize>() {
        Ok(n) if n > 0 => Ok(Wave::Count(n)),
        _ => Err(bad()),
    }
}

/// A member named by its URL alone: its database (or schema, for schema-per-tenant
/// URLs), or the file name of a SQLite database.
fn member_name(url: &str) -> String {
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("sqlite:") {
        let path = url["sqlite:".len()..].trim_start_matches("//");
        let path = path.split('?').next().unwrap_or(path);
        return std::path::Path::new(path)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.to_string());
    }
    let no_query = url.split(['?', '#']).next().unwrap_or(url);
    let schema = url.split_once('?').and_then(|(_, q)| {
        q.split('&')
            .find_map(|kv| kv.strip_prefix("schema=").map(str::to_string))
    });
    schema.unwrap_or_else(|| no_query.rsplit('/').next().unwrap_or(no_query).to_string())
}

fn load_members(m: &RawMembers, dir: &Path) -> Result<Vec<Member>> {
    let mut out: Vec<Member> = vec![];
    match m {
        RawMembers::Inline(t) => {
            for (name, v) in t {
                let Some(u) = v.as_str() else {
                    fail!("member {name}: the value must be a URL string");
                };
                out.push(Member {
                    name: name.clone(),
                    url: expand(u).with_context(|| format!("member {name}"))?,
                });
            }
        }
        RawMembers::File(f) => {
            let path = dir.join(f);
            let text = std::fs::read_to_string(&path).with_context(|| {
                format!(
                    "reading {}\n  hint: one member a line: `NAME URL`, or `URL`",
                    path.display()
                )
            })?;
            for (i, line) in text.lines().enumerate() {
                let l = line.trim();
                if l.is_empty() || l.starts_with('#') {
                    continue;
                }
                let at = || format!("{}:{}", path.display(), i + 1);
                let mut parts = l.split_whitespace();
                let (name, url) = match (parts.next(), parts.next(), parts.next()) {
                    (Some(u), None, None) => {
                        let url = expand(u).with_context(at)?;
                        (member_name(&url), url)
                    }
                    (Some(n), Some(u), None) => (n.to_string(), expand(u).with_context(at)?),
                    _ => fail!(
                        "{}: expected `NAME URL` or `URL`\n  hint: one member a line; URLs have no spaces",
                        at()
                    ),
                };
                out.push(Member { name, url });
            }
        }
    }
    if out.is_empty() {
        fail!("the fleet has no members");
    }
    let mut seen = std::collections::BTreeSet::new();
    for m in &out {
        if m.name.is_empty() || m.name.contains('/') {
            fail!(
                "member name `{}` is not usable\n  hint: name it: `NAME URL`",
                m.name
            );
        }
        if !seen.insert(m.name.clone()) {
            fail!(
                "member `{}` is listed twice\n  hint: give each member its own name: `NAME URL`",
                m.name
            );
        }
    }
    Ok(out)
}

/// Parses a duration as people write it: `90s`, `5m`, `1h30m`, `500ms`; a bare number is
/// seconds. Zero is refused: an interval of nothing would spin.
pub fn parse_duration(s: &str) -> Result<std::time::Duration> {
    let bad = || {
        Error::msg(format!(
            "`{s}` is not a duration\n  hint: write a number and a unit, such as 30s, 5m, 1h or 1h30m (ms, s, m, h, d)"
        ))
    };
    let t = s.trim();
    if t.is_empty() {
        return Err(bad());
    }
    if let Ok(n) = t.parse::<u64>() {
        return nonzero(std::time::Duration::from_secs(n), s);
    }
    let mut total = std::time::Duration::ZERO;
    let mut rest = t;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
        if digits == 0 {
            return Err(bad());
        }
        let n: u64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        total += match unit {
            "ms" => std::time::Duration::from_millis(n),
            "s" => std::time::Duration::from_secs(n),
            "m" => std::time::Duration::from_secs(n * 60),
            "h" => std::time::Duration::from_secs(n * 3600),
            "d" => std::time::Duration::from_secs(n * 86_400),
            _ => return Err(bad()),
        };
    }
    nonzero(total, s)
}

fn nonzero(d: std::time::Duration, s: &str) -> Result<std::time::Duration> {
    if d.is_zero() {
        fail!("`{s}` is no time at all\n  hint: give an interval of at least 1s");
    }
    Ok(d)
}

/// Expands `${VAR}` from the environment. A missing variable is an error, not an empty
/// string: an empty URL would point somewhere unintended.
pub fn expand(s: &str) -> Result<String> {
    let mut out = String::new();
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find('}').ok_or_else(|| {
            Error::msg(format!(
                "unterminated ${{ in {:?}",
                lockstep_db::url::redact(s)
            ))
        })?;
        let var = &after[..end];
        match std::env::var(var) {
            Ok(v) => out.push_str(&v),
            Err(_) => fail!(
                "environment variable {var} is not set\n  hint: export {var}, or change the value in lockstep.toml"
            ),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_variables() {
        std::env::set_var("LOCKSTEP_TEST_EXPAND", "db.example");
        assert_eq!(
            expand("postgres://u@${LOCKSTEP_TEST_EXPAND}/x").unwrap(),
            "postgres://u@db.example/x"
        );
        let e = expand("${LOCKSTEP_SURELY_UNSET_VAR}")
            .unwrap_err()
            .to_string();
        assert!(e.contains("LOCKSTEP_SURELY_UNSET_VAR"), "{e}");
    }

    #[test]
    fn unknown_keys_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(FILE_NAME);
        std::fs::write(&p, "migrations = \"m\"\nmigratons = \"typo\"\n").unwrap();
        let e = format!("{:#}", Config::load(&p).unwrap_err());
        assert!(e.contains("migratons"), "{e}");
    }

    #[test]
    fn durations() {
        use std::time::Duration;
        assert_eq!(parse_duration("90").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        for bad in ["", "m", "5x", "1.5m", "0s", "-1s"] {
            let e = parse_duration(bad).unwrap_err().to_string();
            assert!(e.contains("hint:"), "{bad}: {e}");
        }
    }

    #[test]
    fn watch_keys() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(FILE_NAME);
        std::fs::write(
            &p,
            "[watch]\ninterval = \"5m\"\nwebhooks = [\"https://a.example/h\", { url = \"https://hooks.slack.com/x\", slack = true }]\nsecret = \"${LOCKSTEP_SURELY_UNSET_SECRET}\"\n",
        )
        .unwrap();
        // The secret is expanded only by watch: an unset variable breaks nothing else.
        let c = Config::load(&p).unwrap();
        assert_eq!(c.watch.interval, Some(std::time::Duration::from_secs(300)));
        assert_eq!(c.watch.webhooks.len(), 2);
        assert!(!c.watch.webhooks[0].slack && c.watch.webhooks[1].slack);
        std::fs::write(&p, "[watch]\ninterval = \"soon\"\n").unwrap();
        let e = format!("{:#}", Config::load(&p).unwrap_err());
        assert!(e.contains("[watch] interval") && e.contains("hint:"), "{e}");
        std::fs::write(&p, "[watch]\nintervall = \"5m\"\n").unwrap();
        let e = format!("{:#}", Config::load(&p).unwrap_err());
        assert!(e.contains("intervall"), "{e}");
    }

    #[test]
    fn paths_are_relative_to_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(FILE_NAME);
        std::fs::write(
            &p,
            "migrations = \"db/m\"\n[env.dev]\nurl = \"sqlite://dev.db\"\n",
        )
        .unwrap();
        let c = Config::load(&p).unwrap();
        assert!(c.migrations.ends_with("db/m"));
        assert_eq!(c.envs["dev"].url, "sqlite://dev.db");
    }

    #[test]
    fn fleets_from_a_file_and_inline_keep_their_order() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("stores.txt"),
            "# stores\nstore002 sqlite://s2.db\n\nsqlite://s1.db\npostgres://u@h/db?schema=tenant_042\n",
        )
        .unwrap();
        let p = dir.path().join(FILE_NAME);
        std::fs::write(
            &p,
            "[env.stores]\nmembers = \"stores.txt\"\nwaves = [\"1\", \"50%\", \"100%\"]\n[env.tenants]\nmembers = { b = \"sqlite://b.db\", a = \"sqlite://a.db\" }\nconcurrency = 2\n",
        )
        .unwrap();
        let c = Config::load(&p).unwrap();
        let f = c.envs["stores"].fleet.as_ref().unwrap();
        let names: Vec<&str> = f.members.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["store002", "s1", "tenant_042"]);
        assert_eq!(f.concurrency, DEFAULT_CONCURRENCY);
        let t = c.envs["tenants"].fleet.as_ref().unwrap();
        let names: Vec<&str> = t.members.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["b", "a"]);
        assert_eq!(wave_size("1", 200).unwrap(), 1);
        assert_eq!(wave_size("10%", 200).unwrap(), 20);
        assert_eq!(wave_size("10%", 3).unwrap(), 1);
        assert_eq!(wave_size("100%", 3).unwrap(), 3);
        assert!(wave_size("0", 3).is_err());
        assert!(wave_size("150%", 3).is_err());
    }

    #[test]
    fn an_environment_is_a_url_or_members_never_both() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(FILE_NAME);
        std::fs::write(
            &p,
            "[env.x]\nurl = \"sqlite://a.db\"\nmembers = { a = \"sqlite://a.db\" }\n",
        )
        .unwrap();
        let e = Config::load(&p).unwrap_err().to_string();
        assert!(e.contains("both url and members"), "{e}");
        std::fs::write(&p, "[env.x]\nmembers = { a = \"sqlite://a.db\", b = \"sqlite://b.db\" }\nwaves = [\"x\"]\n").unwrap();
        let e = Config::load(&p).unwrap_err().to_string();
        assert!(e.contains("wave `x`"), "{e}");
    }
}
