//! Expected schemas kept on disk between runs, under `.lockstep/cache/` next to the
//! config: a replay of 10,000 tables takes a minute, and drift, check and watch would
//! otherwise pay it at every run.
//!
//! - **Key**: the version of the model's form ([`MODEL_FORM`]), the dialect, the
//!   engine's major version on the server the replay would run on, the schema the
//!   replay was confined to (a tenant's replay reads names relative to it, a whole
//!   database's does not), and every replayed migration's version and checksum, in
//!   order (then the pending ones, when asked for). Any change of these is another key,
//!   so another file; nothing else is trusted to invalidate.
//! - **Never trusted when corrupt**: the file's first line holds a SHA-256 of the rest,
//!   and the rest holds the key in full. A file whose checksum or key does not match
//!   is ignored, as if missing, and the replay that follows replaces it.
//! - **Two processes at once**: each writes its own temporary file and renames it over
//!   the entry; a rename is atomic, so a reader sees a whole file, old or new, and both
//!   writers' files are equally right.
//! - **Bounded**: after a write, the oldest entries (by last use) go until at most
//!   [`MAX_ENTRIES`] files and [`MAX_BYTES`] remain; a temporary file a killed writer
//!   left goes after an hour.
//!
//! `LOCKSTEP_CACHE=off` disables it (nothing read, nothing written).

use lockstep_core::migrate::{Migration, Version};
use lockstep_core::model::{Database, Dialect};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// The cache's directory under the project (the config file's directory).
pub const DIR: &str = ".lockstep/cache";
/// At most this many entries are kept.
pub const MAX_ENTRIES: usize = 32;
/// And at most this many bytes (a 10,000-table schema is about 40 MB of JSON).
pub const MAX_BYTES: u64 = 1 << 30;
const HEADER: &str = "lockstep-cache 1 sha256:";
/// What inspection writes into a model, as a number: raised whenever the same schema
/// would read differently (another field, another text), so that no entry an older
/// lockstep wrote is compared with a live schema read by this one. 3: a tenant's
/// function headers, trigger and rule tables, statistics names and other kinds'
/// statements are relative to it; 4: the roles of a tenant's container schema are
/// not part of its model.
pub const MODEL_FORM: u32 = 4;

/// What identifies one replay's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key(String);

impl Key {
    /// `confined_to`: the schema the replay is confined to, if any. `replayed` and
    /// `then`: (version, checksum) of each migration, in replay order.
    pub fn new<'a>(
        dialect: Dialect,
        engine_major: &str,
        confined_to: Option<&str>,
        replayed: impl IntoIterator<Item = (&'a Version, &'a str)>,
        then: impl IntoIterator<Item = (&'a Version, &'a str)>,
    ) -> Key {
        let scope = match confined_to {
            Some(s) => format!("schema {s:?}"),
            None => "database".to_string(),
        };
        let mut k = format!(
            "form {MODEL_FORM}\ndialect {dialect}\nengine {engine_major}\nscope {scope}\nreplayed\n"
        );
        for (v, sum) in replayed {
            k.push_str(&format!("{v} {sum}\n"));
        }
        k.push_str("then\n");
        for (v, sum) in then {
            k.push_str(&format!("{v} {sum}\n"));
        }
        Key(k)
    }

    /// The key of replaying `replayed`, then `then`.
    pub fn of(
        dialect: Dialect,
        engine_major: &str,
        confined_to: Option<&str>,
        replayed: &[&Migration],
        then: &[&Migration],
    ) -> Key {
        let pairs = |ms: &[&'_ Migration]| {
            ms.iter()
                .map(|m| (m.version.clone(), m.checksum.clone()))
                .collect::<Vec<_>>()
        };
        let (r, t) = (pairs(replayed), pairs(then));
        Key::new(
            dialect,
            engine_major,
            confined_to,
            r.iter().map(|(v, c)| (v, c.as_str())),
            t.iter().map(|(v, c)| (v, c.as_str())),
        )
    }

    fn file_name(&self) -> String {
        format!("{}.json", hex(&Sha256::digest(self.0.as_bytes())))
    }
}

/// One cached replay.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub model: Database,
    pub after_pending: Option<Database>,
}

/// The file's body as written: borrowed, so that a big model is not copied to be saved.
#[derive(Serialize)]
struct BodyOut<'a> {
    key: &'a str,
    model: &'a Database,
    after_pending: Option<&'a Database>,
}

#[derive(Deserialize)]
struct BodyIn {
    key: String,
    model: Database,
    after_pending: Option<Database>,
}

/// The cache of one project.
pub struct Cache {
    dir: PathBuf,
}

impl Cache {
    /// The cache under `project_dir`, or None when `LOCKSTEP_CACHE=off`.
    pub fn of_project(project_dir: &Path) -> Option<Cache> {
        if std::env::var("LOCKSTEP_CACHE").is_ok_and(|v| v.eq_ignore_ascii_case("off")) {
            return None;
        }
        Some(Cache::at(project_dir.join(DIR)))
    }

    pub fn at(dir: PathBuf) -> Cache {
        Cache { dir }
    }

    pub fn path_of(&self, key: &Key) -> PathBuf {
        self.dir.join(key.file_name())
    }

    /// The entry for `key`, when a whole, matching file holds it. Anything else (no
    /// file, a torn or edited one, another key under the same name) is None.
    pub fn get(&self, key: &Key) -> Option<Entry> {
        let path = self.path_of(key);
        let bytes = std::fs::read(&path).ok()?;
        let entry = decode(&bytes, key)?;
        // Last use, for eviction: the oldest unused entries go first.
        if let Ok(f) = std::fs::File::options().append(true).open(&path) {
            let _ = f.set_modified(SystemTime::now());
        }
        Some(entry)
    }

    /// Stores `entry` under `key`: written whole to a temporary file, then renamed over
    /// the entry. Then evicts beyond the bounds.
    pub fn put(
        &self,
        key: &Key,
        model: &Database,
        after_pending: Option<&Database>,
    ) -> std::io::Result<PathBuf> {
        if let Some(state) = self.dir.parent().filter(|d| !d.exists()) {
            // `.lockstep/` holds machine state, not source (as watch makes it).
            std::fs::create_dir_all(state)?;
            let _ = std::fs::write(state.join(".gitignore"), "*\n");
        }
        std::fs::create_dir_all(&self.dir)?;
        let path = self.path_of(key);
        let tmp = self.dir.join(format!(
            ".{}.{}.{}.tmp",
            key.file_name(),
            std::process::id(),
            unique()
        ));
        let written = std::fs::write(&tmp, encode(key, model, after_pending)?)
            .and_then(|()| std::fs::rename(&tmp, &path));
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        written?;
        self.evict(&path);
        Ok(path)
    }

    /// Keeps at most MAX_ENTRIES files and MAX_BYTES, the most recently used (never
    /// `keep`, just written); drops temporary files older than an hour.
    fn evict(&self, keep: &Path) {
        let Ok(rd) = std::fs::read_dir(&self.dir) else {
            return;
        };
        let now = SystemTime::now();
        let mut entries: Vec<(SystemTime, u64, PathBuf)> = vec![];
        for e in rd.flatten() {
            let path = e.path();
            let Ok(meta) = e.metadata() else { continue };
            let modified = meta.modified().unwrap_or(now);
            let name = e.file_name().to_string_lossy().into_owned();
            if name.ends_with(".tmp") {
                let age = now.duration_since(modified).unwrap_or_default();
                if age > Duration::from_secs(3600) {
                    let _ = std::fs::remove_file(&path);
                }
            } else if name.ends_with(".json") && path != keep {
                entries.push((modified, meta.len(), path));
            }
        }
        let keep_len = std::fs::metadata(keep).map(|m| m.len()).unwrap_or(0);
        // Newest first; whatever falls beyond a bound goes.
        entries.sort_by_key(|e| std::cmp::Reverse(e.0));
        let (mut count, mut bytes) = (1usize, keep_len);
        for (_, len, path) in entries {
            count += 1;
            bytes += len;
            if count > MAX_ENTRIES || bytes > MAX_BYTES {
                let _ = std::fs::remove_file(&path);
            }
        }
    }
}

fn encode(
    key: &Key,
    model: &Database,
    after_pending: Option<&Database>,
) -> std::io::Result<Vec<u8>> {
    let body = serde_json::to_vec(&BodyOut {
        key: &key.0,
        model,
        after_pending,
    })?;
    let mut out = format!("{HEADER}{}\n", hex(&Sha256::digest(&body))).into_bytes();
    out.extend_from_slice(&body);
    Ok(out)
}

fn decode(bytes: &[u8], key: &Key) -> Option<Entry> {
    let nl = bytes.iter().position(|b| *b == b'\n')?;
    let header = std::str::from_utf8(&bytes[..nl]).ok()?;
    let sum = header.strip_prefix(HEADER)?;
    let body = &bytes[nl + 1..];
    if hex(&Sha256::digest(body)) != sum {
        return None;
    }
    let b: BodyIn = serde_json::from_slice(body).ok()?;
    (b.key == key.0).then_some(Entry {
        model: b.model,
        after_pending: b.after_pending,
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A number no other temporary file of this process has.
fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lockstep_core::model::{Column, QualName, Table};

    fn model(table: &str) -> Database {
        let mut db = Database::empty(Dialect::Postgres);
        let name = QualName::new("public", table);
        let mut t = Table::new(name.clone());
        t.columns.push(Column::new("id", "integer"));
        db.tables.insert(name, t);
        db
    }

    type Sums = Vec<(Version, String)>;

    fn migrations(sums: &[(&str, &str)]) -> Sums {
        sums.iter()
            .map(|(v, sum)| (Version::parse(v).unwrap(), sum.to_string()))
            .collect()
    }

    fn pairs(ms: &[(Version, String)]) -> impl Iterator<Item = (&Version, &str)> {
        ms.iter().map(|(v, c)| (v, c.as_str()))
    }

    fn key(ms: &[(Version, String)], engine: &str) -> Key {
        Key::new(Dialect::Postgres, engine, None, pairs(ms), [])
    }

    fn entry(table: &str) -> Entry {
        Entry {
            model: model(table),
            after_pending: None,
        }
    }

    #[test]
    fn a_change_of_key_is_another_entry() {
        let dir = tempfile::tempdir().unwrap();
        let c = Cache::at(dir.path().join("cache"));
        let ms = migrations(&[("1", "aa"), ("2", "bb")]);
        let k = key(&ms, "15");
        c.put(&k, &model("t"), None).unwrap();
        assert_eq!(c.get(&k), Some(entry("t")));
        // An edited migration, another engine version, one migration fewer or more,
        // pending migrations asked for: none of them finds the entry.
        assert_eq!(
            c.get(&key(&migrations(&[("1", "aa"), ("2", "bc")]), "15")),
            None
        );
        assert_eq!(c.get(&key(&ms, "16")), None);
        assert_eq!(c.get(&key(&ms[..1], "15")), None);
        assert_eq!(
            c.get(&key(
                &migrations(&[("1", "aa"), ("2", "bb"), ("3", "cc")]),
                "15"
            )),
            None
        );
        let then = Key::new(
            Dialect::Postgres,
            "15",
            None,
            pairs(&ms[..1]),
            pairs(&ms[1..]),
        );
        assert_eq!(c.get(&then), None);
        assert_eq!(
            c.get(&Key::new(Dialect::Mysql, "15", None, pairs(&ms), [])),
            None
        );
        // A replay confined to a schema (tenants) is read relative to it: not the same
        // entry as the whole database's.
        let confined = Key::new(Dialect::Postgres, "15", Some("public"), pairs(&ms), []);
        assert_eq!(c.get(&confined), None);
    }

    #[test]
    fn a_corrupt_file_is_ignored_and_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let c = Cache::at(dir.path().to_path_buf());
        let k = key(&migrations(&[("1", "aa")]), "15");
        let path = c.put(&k, &model("good"), None).unwrap();
        let whole = std::fs::read(&path).unwrap();

        // Torn (a crash mid-write on a file system without atomic rename), a byte
        // flipped inside the JSON, a stale header, nothing at all, another key's file
        // under this name: all ignored.
        let mut flipped = whole.clone();
        let at = flipped.len() - 20;
        flipped[at] ^= 0x01;
        let other = encode(&key(&migrations(&[("9", "zz")]), "15"), &model("bad"), None).unwrap();
        for bad in [
            whole[..whole.len() / 2].to_vec(),
            flipped,
            b"lockstep-cache 1 sha256:00\n{}".to_vec(),
            vec![],
            other,
        ] {
            std::fs::write(&path, &bad).unwrap();
            assert_eq!(c.get(&k), None);
        }
        // A valid-looking body with the table renamed but the old checksum: refused.
        let text = String::from_utf8(whole.clone()).unwrap();
        std::fs::write(&path, text.replace("\"good\"", "\"evil\"")).unwrap();
        assert_eq!(c.get(&k), None);
        // The replay that follows writes it again, and it is trusted again.
        c.put(&k, &model("good"), None).unwrap();
        assert_eq!(c.get(&k), Some(entry("good")));
    }

    #[test]
    fn two_writers_at_once_leave_a_whole_entry() {
        let dir = tempfile::tempdir().unwrap();
        let k = key(&migrations(&[("1", "aa")]), "15");
        // Big enough that writes interleave: 300 tables each.
        let big = |tag: &str| {
            let mut db = Database::empty(Dialect::Postgres);
            for i in 0..300 {
                let name = QualName::new("public", format!("{tag}{i}"));
                db.tables.insert(name.clone(), Table::new(name));
            }
            Entry {
                model: db,
                after_pending: None,
            }
        };
        let (a, b) = (big("a"), big("b"));
        let stop = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|s| {
            let writers: Vec<_> = [&a, &b]
                .into_iter()
                .map(|e| {
                    let (k, path) = (&k, dir.path());
                    s.spawn(move || {
                        for _ in 0..20 {
                            Cache::at(path.to_path_buf())
                                .put(k, &e.model, None)
                                .unwrap();
                        }
                    })
                })
                .collect();
            // A reader meanwhile sees nothing, or one writer's whole entry.
            s.spawn(|| {
                let c = Cache::at(dir.path().to_path_buf());
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    if let Some(got) = c.get(&k) {
                        assert!(got == a || got == b, "a mixed entry");
                    }
                }
            });
            for w in writers {
                w.join().unwrap();
            }
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
        });
        let got = Cache::at(dir.path().to_path_buf()).get(&k).unwrap();
        assert!(got == a || got == b);
        // No temporary file is left.
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[test]
    fn the_oldest_entries_go_beyond_the_bound() {
        let dir = tempfile::tempdir().unwrap();
        let c = Cache::at(dir.path().to_path_buf());
        let keys: Vec<Key> = (0..MAX_ENTRIES + 5)
            .map(|i| key(&migrations(&[("1", &format!("{i}"))]), "15"))
            .collect();
        for (i, k) in keys.iter().enumerate() {
            c.put(k, &model("t"), None).unwrap();
            // Distinct modification times, oldest first.
            let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000 + i as u64);
            let f = std::fs::File::options()
                .append(true)
                .open(c.path_of(k))
                .unwrap();
            f.set_modified(t).unwrap();
        }
        let left = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(left, MAX_ENTRIES);
        assert_eq!(c.get(&keys[0]), None, "the oldest went");
        assert!(c.get(&keys[MAX_ENTRIES + 4]).is_some(), "the newest stayed");
    }
}
