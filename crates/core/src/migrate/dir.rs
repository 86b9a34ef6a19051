//! Migration directories in the layouts teams already have.
//!
//! Pure: the caller lists the directory and hands over `(relative path, bytes)` pairs,
//! so this module never touches the file system.

use super::version::Version;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Layout {
    /// `<version>_<name>.up.sql` + optional `.down.sql`; `-- lockstep:no-transaction`.
    Lockstep,
    /// `<version>_<name>/up.sql`, `down.sql`, `metadata.toml` (`run_in_transaction`).
    Diesel,
    /// `<version>_<name>.sql`, or `.up.sql` + `.down.sql`; `-- no-transaction`.
    Sqlx,
    /// `<version>_<name>.up.sql` + `.down.sql`.
    GolangMigrate,
    /// `<version>_<name>.sql` with `-- migrate:up` / `-- migrate:down` sections.
    Dbmate,
    /// `V<version>__<name>.sql`, undo `U<version>__<name>.sql`.
    Flyway,
    /// `<version>_<name>/migration.sql` beside `migration_lock.toml`; no down scripts.
    Prisma,
    /// `<version>[_<name>].sql` beside `atlas.sum`; `-- atlas:txmode none`.
    Atlas,
}

impl Layout {
    pub const ALL: [Layout; 8] = [
        Layout::Lockstep,
        Layout::Diesel,
        Layout::Sqlx,
        Layout::GolangMigrate,
        Layout::Dbmate,
        Layout::Flyway,
        Layout::Prisma,
        Layout::Atlas,
    ];

    pub fn parse(s: &str) -> Option<Layout> {
        Layout::ALL.into_iter().find(|l| l.to_string() == s)
    }
}

impl fmt::Display for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Layout::Lockstep => "lockstep",
            Layout::Diesel => "diesel",
            Layout::Sqlx => "sqlx",
            Layout::GolangMigrate => "golang-migrate",
            Layout::Dbmate => "dbmate",
            Layout::Flyway => "flyway",
            Layout::Prisma => "prisma",
            Layout::Atlas => "atlas",
        })
    }
}

/// A script: the file it came from (relative to the migrations directory), the line its
/// text starts on in that file (dbmate sections start mid-file), and the text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Script {
    pub path: String,
    pub first_line: usize,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Migration {
    pub version: Version,
    pub name: String,
    pub up: Script,
    pub down: Option<Script>,
    /// Runs outside a transaction: declared so, or every statement must (a lone
    /// `CREATE INDEX CONCURRENTLY`).
    pub no_transaction: bool,
    /// sha256 of the up script with line endings normalized.
    pub checksum: String,
    /// sha256 of the up script's code alone (comments and whitespace left out): equal
    /// for two versions of a file that differ only in comments or layout.
    pub code_checksum: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MigrationSet {
    pub layout: Layout,
    /// Sorted by version.
    pub migrations: Vec<Migration>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DirError {
    #[error("{path}: {message}\n  hint: {hint}")]
    File {
        path: String,
        message: String,
        hint: String,
    },
    #[error("version {version} appears twice: {first} and {second}\n  hint: give one of them a new version with `lockstep new`")]
    Duplicate {
        version: String,
        first: String,
        second: String,
    },
}

/// Line endings normalized, a byte-order mark dropped: what a checksum covers, so a file
/// that only changed CRLF to LF keeps its checksum.
pub fn normalize_text(s: &str) -> String {
    let s = s.strip_prefix('\u{feff}').unwrap_or(s);
    s.replace("\r\n", "\n").replace('\r', "\n")
}

/// sha256 of [`normalize_text`]`(text)`, hashed as it goes rather than from a copy: a
/// migration can be tens of megabytes.
pub fn checksum(text: &str) -> String {
    let mut h = Sha256::new();
    let mut rest = text.strip_prefix('\u{feff}').unwrap_or(text);
    while let Some(cr) = rest.find('\r') {
        h.update(&rest.as_bytes()[..cr]);
        h.update(b"\n");
        rest = &rest[cr + 1..];
        rest = rest.strip_prefix('\n').unwrap_or(rest);
    }
    h.update(rest.as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// sha256 of the code of `text`: its tokens, comments and whitespace left out, one space
/// between them. An edit that changes only comments or layout keeps it.
pub fn code_checksum(text: &str) -> String {
    let mut h = Sha256::new();
    for t in crate::sql::lex::code(text) {
        h.update(t.text.as_bytes());
        h.update(b" ");
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Guesses the layout from file names and contents. `.up.sql` pairs are ambiguous
/// between lockstep, sqlx and golang-migrate; the caller settles it with the history
/// table found in the target (see `adopt`), and lockstep is the default.
pub fn detect(files: &[(String, Vec<u8>)]) -> Option<Layout> {
    let names: Vec<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
    // The tools' own marker files settle it before any file-name guess.
    if names
        .iter()
        .any(|p| *p == "migration_lock.toml" || p.ends_with("/migration.sql"))
    {
        return Some(Layout::Prisma);
    }
    if names.contains(&"atlas.sum") {
        return Some(Layout::Atlas);
    }
    if names.iter().any(|p| p.ends_with("/up.sql")) {
        return Some(Layout::Diesel);
    }
    if names.iter().any(|p| is_flyway_name(base(p))) {
        return Some(Layout::Flyway);
    }
    if files
        .iter()
        .any(|(p, b)| p.ends_with(".sql") && String::from_utf8_lossy(b).contains("-- migrate:up"))
    {
        return Some(Layout::Dbmate);
    }
    if names.iter().any(|p| p.ends_with(".up.sql")) {
        return Some(Layout::Lockstep);
    }
    if names
        .iter()
        .any(|p| p.ends_with(".sql") && split_version(base(p)).is_some())
    {
        return Some(Layout::Sqlx);
    }
    None
}

/// The version and name of a migration that is a directory (`<version>_<name>/up.sql`).
fn dir_version(path: &str, hint: &str) -> Result<(Version, String), DirError> {
    split_version(base(dir_of(path))).ok_or_else(|| DirError::File {
        path: path.to_string(),
        message: "the directory name has no version prefix".into(),
        hint: hint.into(),
    })
}

fn base(p: &str) -> &str {
    p.rsplit('/').next().unwrap_or(p)
}

fn is_flyway_name(name: &str) -> bool {
    (name.starts_with('V') || name.starts_with('U'))
        && name.contains("__")
        && name.ends_with(".sql")
        && name[1..].starts_with(|c: char| c.is_ascii_digit())
}

/// `20190226002946_create_users` → (version, name). The version is the leading run of
/// digits, dashes and underscores up to the separator `_`.
fn split_version(stem: &str) -> Option<(Version, String)> {
    let end = stem
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_digit() || *c == '-' || *c == '_'))
        .map(|(i, _)| i)
        .unwrap_or(stem.len());
    let mut head = &stem[..end];
    // The separator between version and name is the last underscore of the run.
    let name_start = if end < stem.len() {
        match head.rfind('_') {
            Some(u) => {
                head = &stem[..u];
                u + 1
            }
            None => return None,
        }
    } else {
        end
    };
    let v = Version::parse(head)?;
    Some((v, stem[name_start..].to_string()))
}

/// Parses a listing in `layout` into migrations sorted by version.
pub fn parse(files: &[(String, Vec<u8>)], layout: Layout) -> Result<MigrationSet, DirError> {
    for (p, _) in files {
        check_name(p)?;
    }
    let text = |p: &str, b: &[u8]| -> Result<String, DirError> {
        let t = String::from_utf8(b.to_vec()).map_err(|e| DirError::File {
            path: p.to_string(),
            message: format!("not UTF-8 text: {e}"),
            hint: "save the file as UTF-8".into(),
        })?;
        // A byte-order mark is not text: left in, it would hide a directive on the first
        // line and reach the server as part of the first statement. The checksum never
        // covered it (see `normalize_text`).
        Ok(match t.strip_prefix('\u{feff}') {
            Some(rest) => rest.to_string(),
            None => t,
        })
    };
    struct Partial {
        name: String,
        up: Option<Script>,
        down: Option<Script>,
        no_tx: bool,
    }
    let mut by_version: BTreeMap<Version, Partial> = BTreeMap::new();
    let mut add = |v: Version,
                   name: String,
                   up: Option<Script>,
                   down: Option<Script>,
                   no_tx: bool|
     -> Result<(), DirError> {
        let e = by_version.entry(v.clone()).or_insert(Partial {
            name: name.clone(),
            up: None,
            down: None,
            no_tx: false,
        });
        if let (Some(a), Some(b)) = (&e.up, &up) {
            return Err(DirError::Duplicate {
                version: v.to_string(),
                first: a.path.clone(),
                second: b.path.clone(),
            });
        }
        if let (Some(a), Some(b)) = (&e.down, &down) {
            return Err(DirError::Duplicate {
                version: v.to_string(),
                first: a.path.clone(),
                second: b.path.clone(),
            });
        }
        if up.is_some() {
            e.name = name;
            e.up = up;
        }
        if down.is_some() {
            e.down = down;
        }
        e.no_tx |= no_tx;
        Ok(())
    };
    let script = |path: &str, text: String| Script {
        path: path.to_string(),
        first_line: 1,
        text,
    };

    match layout {
        Layout::Diesel => {
            let mut meta: BTreeMap<String, bool> = BTreeMap::new();
            for (p, b) in files {
                if base(p) == "metadata.toml" {
                    let t = text(p, b)?;
                    let no_tx = t.lines().any(|l| {
                        let l = l.replace(' ', "");
                        l == "run_in_transaction=false"
                    });
                    meta.insert(dir_of(p).to_string(), no_tx);
                }
            }
            for (p, b) in files {
                let file = base(p);
                if file != "up.sql" && file != "down.sql" {
                    continue;
                }
                let dir = dir_of(p);
                let (v, name) =
                    dir_version(p, "diesel migrations live in <version>_<name>/up.sql")?;
                let t = text(p, b)?;
                let no_tx = meta.get(dir).copied().unwrap_or(false);
                if file == "up.sql" {
                    add(v, name, Some(script(p, t)), None, no_tx)?;
                } else {
                    add(v, name, None, Some(script(p, t)), no_tx)?;
                }
            }
        }
        Layout::Lockstep | Layout::Sqlx | Layout::GolangMigrate => {
            for (p, b) in files {
                let file = base(p);
                if !file.ends_with(".sql") || p.contains('/') {
                    continue;
                }
                let (stem, kind) = if let Some(s) = file.strip_suffix(".up.sql") {
                    (s, "up")
                } else if let Some(s) = file.strip_suffix(".down.sql") {
                    (s, "down")
                } else if layout == Layout::Sqlx {
                    (file.trim_end_matches(".sql"), "up")
                } else {
                    continue;
                };
                let Some((v, name)) = split_version(stem) else {
                    return Err(DirError::File {
                        path: p.clone(),
                        message: "the file name has no version prefix".into(),
                        hint:
                            "name migrations <version>_<name>.up.sql (lockstep new NAME does this)"
                                .into(),
                    });
                };
                let t = text(p, b)?;
                let no_tx = match layout {
                    Layout::Sqlx => t.trim_start().starts_with("-- no-transaction"),
                    Layout::Lockstep => has_directive(&t, "-- lockstep:no-transaction"),
                    _ => false,
                };
                if kind == "up" {
                    add(v, name, Some(script(p, t)), None, no_tx)?;
                } else {
                    add(v, name, None, Some(script(p, t)), false)?;
                }
            }
        }
        Layout::Prisma => {
            for (p, b) in files {
                if base(p) != "migration.sql" {
                    continue;
                }
                let (v, name) = dir_version(
                    p,
                    "Prisma migrations live in <timestamp>_<name>/migration.sql",
                )?;
                let t = text(p, b)?;
                add(v, name, Some(script(p, t)), None, false)?;
            }
        }
        Layout::Atlas => {
            for (p, b) in files {
                let file = base(p);
                if !file.ends_with(".sql") || p.contains('/') {
                    continue;
                }
                let Some((v, name)) = split_version(file.trim_end_matches(".sql")) else {
                    return Err(DirError::File {
                        path: p.clone(),
                        message: "the file name has no version prefix".into(),
                        hint: "Atlas migrations are named <version>_<name>.sql".into(),
                    });
                };
                let t = text(p, b)?;
                let no_tx = has_directive(&t, "-- atlas:txmode none");
                add(v, name, Some(script(p, t)), None, no_tx)?;
            }
        }
        Layout::Dbmate => {
            for (p, b) in files {
                let file = base(p);
                if !file.ends_with(".sql") || p.contains('/') {
                    continue;
                }
                let Some((v, name)) = split_version(file.trim_end_matches(".sql")) else {
                    continue;
                };
                let t = text(p, b)?;
                let (up, down, no_tx) = dbmate_sections(p, &t)?;
                add(v, name, Some(up), down, no_tx)?;
            }
        }
        Layout::Flyway => {
            let mut no_tx_files = vec![];
            for (p, b) in files {
                if let Some(sql) = p.strip_suffix(".conf") {
                    let t = text(p, b)?;
                    if t.lines()
                        .any(|l| l.replace(' ', "") == "executeInTransaction=false")
                    {
                        no_tx_files.push(sql.to_string());
                    }
                }
            }
            for (p, b) in files {
                let file = base(p);
                if !is_flyway_name(file) {
                    continue;
                }
                let (ver, name) = file[1..]
                    .trim_end_matches(".sql")
                    .split_once("__")
                    .unwrap_or(("", ""));
                let Some(v) = Version::parse(&ver.replace('.', "")) else {
                    return Err(DirError::File {
                        path: p.clone(),
                        message: "the version is not digits".into(),
                        hint: "Flyway versions look like V1__name.sql or V2_1__name.sql".into(),
                    });
                };
                let t = text(p, b)?;
                let no_tx = no_tx_files.iter().any(|f| f == p);
                if file.starts_with('V') {
                    add(v, name.to_string(), Some(script(p, t)), None, no_tx)?;
                } else {
                    add(v, name.to_string(), None, Some(script(p, t)), false)?;
                }
            }
        }
    }

    let mut migrations = vec![];
    for (version, p) in by_version {
        let Some(up) = p.up else {
            let path = p.down.map(|d| d.path).unwrap_or_default();
            return Err(DirError::File {
                path,
                message: format!("version {version} has a down script but no up script"),
                hint: "add the up script, or remove the orphaned down script".into(),
            });
        };
        let no_transaction = p.no_tx || crate::sql::split::implicitly_no_transaction(&up.text);
        migrations.push(Migration {
            checksum: checksum(&up.text),
            code_checksum: code_checksum(&up.text),
            version,
            name: p.name,
            up,
            down: p.down,
            no_transaction,
        });
    }
    Ok(MigrationSet { layout, migrations })
}

/// Refuses a name with a control character (a newline, tab, carriage return) in a file
/// the layouts read: `lockstep.sum` and messages hold one name per line, so a newline in
/// a name would make deploy write a sum file it cannot read back.
fn check_name(p: &str) -> Result<(), DirError> {
    let read = p.ends_with(".sql") || p.ends_with(".conf") || base(p) == "metadata.toml";
    if !read || !p.chars().any(char::is_control) {
        return Ok(());
    }
    Err(DirError::File {
        path: p.escape_debug().to_string(),
        message: "the file name contains a control character (a newline, tab or carriage return)".into(),
        hint: "rename the file without it: lockstep.sum and the history table record one name per line".into(),
    })
}

fn dir_of(p: &str) -> &str {
    p.rsplit_once('/').map(|(d, _)| d).unwrap_or("")
}

/// A directive counts only in the leading comment block, so a commented-out mention
/// further down does not change how the file runs.
fn has_directive(text: &str, directive: &str) -> bool {
    text.lines()
        .map(str::trim)
        .take_while(|l| l.is_empty() || l.starts_with("--"))
        .any(|l| l == directive)
}

fn dbmate_sections(path: &str, t: &str) -> Result<(Script, Option<Script>, bool), DirError> {
    let mut up: Option<(usize, usize, bool)> = None; // (byte start, line, no_tx)
    let mut down: Option<(usize, usize)> = None;
    let mut offset = 0;
    for (i, line) in t.split_inclusive('\n').enumerate() {
        let l = line.trim();
        if let Some(rest) = l.strip_prefix("-- migrate:up") {
            up = Some((
                offset + line.len(),
                i + 2,
                rest.contains("transaction:false"),
            ));
        } else if l.starts_with("-- migrate:down") {
            down = Some((offset + line.len(), i + 2));
        }
        offset += line.len();
    }
    let Some((us, uline, no_tx)) = up else {
        return Err(DirError::File {
            path: path.into(),
            message: "no `-- migrate:up` section".into(),
            hint: "dbmate files start with a `-- migrate:up` line".into(),
        });
    };
    let (up_text, down_s) = match down {
        Some((ds, dline)) if ds > us => {
            let marker_start = t[..ds]
                .trim_end_matches('\n')
                .rfind('\n')
                .map(|p| p + 1)
                .unwrap_or(0);
            (
                t[us..marker_start].to_string(),
                Some(Script {
                    path: path.into(),
                    first_line: dline,
                    text: t[ds..].to_string(),
                }),
            )
        }
        _ => (t[us..].to_string(), None),
    };
    Ok((
        Script {
            path: path.into(),
            first_line: uline,
            text: up_text,
        },
        down_s,
        no_tx,
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn prisma_and_atlas_folders_are_recognised() {
        let f = |names: &[&str]| -> Vec<(String, Vec<u8>)> {
            names
                .iter()
                .map(|n| (n.to_string(), b"CREATE TABLE t (id int);".to_vec()))
                .collect()
        };
        let prisma = f(&["migration_lock.toml", "20240101000001_init/migration.sql"]);
        assert_eq!(detect(&prisma), Some(Layout::Prisma));
        let set = parse(&prisma, Layout::Prisma).unwrap();
        assert_eq!(set.migrations[0].name, "init");
        assert!(set.migrations[0].down.is_none());
        // Without atlas.sum these names are sqlx's.
        let atlas = f(&["atlas.sum", "20240101000001_init.sql", "20240101000002.sql"]);
        assert_eq!(detect(&atlas), Some(Layout::Atlas));
        assert_eq!(detect(&atlas[1..]), Some(Layout::Sqlx));
        let set = parse(&atlas, Layout::Atlas).unwrap();
        assert_eq!(set.migrations.len(), 2);
        assert_eq!(set.migrations[1].version.as_str(), "20240101000002");
        let mut nt = f(&["atlas.sum"]);
        nt.push((
            "1_x.sql".into(),
            b"-- atlas:txmode none\nCREATE TABLE t (id int);".to_vec(),
        ));
        assert!(parse(&nt, Layout::Atlas).unwrap().migrations[0].no_transaction);
    }

    use super::*;

    fn f(p: &str, s: &str) -> (String, Vec<u8>) {
        (p.to_string(), s.as_bytes().to_vec())
    }

    #[test]
    fn diesel_layout() {
        let files = vec![
            f("00000000000000_diesel_initial_setup/up.sql", "select 1;"),
            f("00000000000000_diesel_initial_setup/down.sql", "select 2;"),
            f("2019-02-26-002946_create_user/up.sql", "create table u();"),
            f("2019-02-26-002946_create_user/down.sql", "drop table u;"),
            f(
                "2019-03-01-000000_idx/up.sql",
                "create index concurrently i on u(x);",
            ),
            f(
                "2019-03-01-000000_idx/metadata.toml",
                "run_in_transaction = false\n",
            ),
        ];
        assert_eq!(detect(&files), Some(Layout::Diesel));
        let s = parse(&files, Layout::Diesel).unwrap();
        let v: Vec<String> = s.migrations.iter().map(|m| m.version.to_string()).collect();
        assert_eq!(v, ["00000000000000", "20190226002946", "20190301000000"]);
        assert_eq!(s.migrations[1].name, "create_user");
        assert!(s.migrations[2].no_transaction);
        assert!(s.migrations[2].down.is_none());
    }

    #[test]
    fn sqlx_golang_lockstep_dbmate_flyway() {
        let sqlx = vec![f(
            "20240101000000_init.sql",
            "-- no-transaction\ncreate table a();",
        )];
        assert_eq!(detect(&sqlx), Some(Layout::Sqlx));
        assert!(parse(&sqlx, Layout::Sqlx).unwrap().migrations[0].no_transaction);

        let pairs = vec![
            f(
                "1_init.up.sql",
                "-- lockstep:no-transaction\ncreate table a();",
            ),
            f("1_init.down.sql", "drop table a;"),
            f("10_more.up.sql", "select 1;"),
            f("2_two.up.sql", "select 1;"),
        ];
        assert_eq!(detect(&pairs), Some(Layout::Lockstep));
        let s = parse(&pairs, Layout::Lockstep).unwrap();
        let v: Vec<String> = s.migrations.iter().map(|m| m.version.to_string()).collect();
        assert_eq!(v, ["1", "2", "10"], "numeric order");
        assert!(s.migrations[0].no_transaction);
        assert!(!parse(&pairs, Layout::GolangMigrate).unwrap().migrations[0].no_transaction);

        let dbmate = vec![f(
            "20200101_a.sql",
            "-- migrate:up transaction:false\ncreate table a();\n\n-- migrate:down\ndrop table a;\n",
        )];
        assert_eq!(detect(&dbmate), Some(Layout::Dbmate));
        let m = &parse(&dbmate, Layout::Dbmate).unwrap().migrations[0];
        assert_eq!(m.up.text.trim(), "create table a();");
        assert_eq!(m.up.first_line, 2);
        assert_eq!(m.down.as_ref().unwrap().text.trim(), "drop table a;");
        assert_eq!(m.down.as_ref().unwrap().first_line, 5);
        assert!(m.no_transaction);

        let fly = vec![
            f("V1__init.sql", "create table a();"),
            f("U1__init.sql", "drop table a;"),
            f("V2__more.sql", "select 1;"),
        ];
        assert_eq!(detect(&fly), Some(Layout::Flyway));
        let s = parse(&fly, Layout::Flyway).unwrap();
        assert_eq!(s.migrations.len(), 2);
        assert!(s.migrations[0].down.is_some());
    }

    #[test]
    fn twenty_digit_versions_and_duplicates() {
        let files = vec![
            f("20230101120000000001_a.up.sql", "select 1;"),
            f("20230101120000000002_b.up.sql", "select 1;"),
        ];
        let s = parse(&files, Layout::Lockstep).unwrap();
        assert!(s.migrations[0].version < s.migrations[1].version);
        let dup = vec![f("1_a.up.sql", "x"), f("001_b.up.sql", "y")];
        assert!(matches!(
            parse(&dup, Layout::Lockstep),
            Err(DirError::Duplicate { .. })
        ));
    }

    #[test]
    fn a_byte_order_mark_hides_no_directive() {
        let files = vec![f(
            "1_idx.up.sql",
            "\u{feff}-- lockstep:no-transaction\nCREATE TABLE t (x int);\nVACUUM t;\n",
        )];
        let s = parse(&files, Layout::Lockstep).unwrap();
        assert!(s.migrations[0].no_transaction);
        assert!(s.migrations[0].up.text.starts_with("-- lockstep"));
        let sqlx = vec![f("1_a.sql", "\u{feff}-- no-transaction\nSELECT 1;")];
        assert!(parse(&sqlx, Layout::Sqlx).unwrap().migrations[0].no_transaction);
    }

    #[test]
    fn control_characters_in_file_names_are_refused() {
        for name in ["1_a\nb.up.sql", "1_a\tb.up.sql", "1_a\rb.up.sql"] {
            let e = parse(&[f(name, "SELECT 1;")], Layout::Lockstep).unwrap_err();
            let msg = e.to_string();
            assert!(msg.contains("control character"), "{msg}");
            assert!(!msg.contains(name), "the name is printed escaped: {msg}");
            assert!(msg.contains(&name.escape_debug().to_string()), "{msg}");
        }
        let e = parse(&[f("1_a\nb/up.sql", "SELECT 1;")], Layout::Diesel).unwrap_err();
        assert!(e.to_string().contains("control character"), "{e}");
    }

    #[test]
    fn crlf_does_not_change_the_checksum() {
        let sha = |s: &str| {
            let d = Sha256::digest(s.as_bytes());
            d.iter().map(|b| format!("{b:02x}")).collect::<String>()
        };
        for t in [
            "",
            "a",
            "\r",
            "\r\r\n",
            "a\r\nb\rc\n\r",
            "\u{feff}x\r\n",
            "é\r\n日",
        ] {
            assert_eq!(checksum(t), sha(&normalize_text(t)), "{t:?}");
        }
        assert_eq!(checksum("a;\nb;\n"), checksum("a;\r\nb;\r\n"));
        assert_ne!(checksum("a;\nb;\n"), checksum("a;\nc;\n"));
    }
}
