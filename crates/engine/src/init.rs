//! `lockstep init`: a first, commented `lockstep.toml` for a project that has
//! migrations already. It finds the migrations directory in the usual places, reads the
//! layout from the file names (and, where names are ambiguous, from the project: a
//! `go.mod`, sqlx in `Cargo.toml`), and leaves the environments for people to fill in.
//! It never overwrites a file.

use crate::error::{Error, Result};
use crate::fail;
use lockstep_core::migrate::{dir, Layout};
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Where teams keep migrations, in the order they are looked for.
pub const CANDIDATES: [&str; 5] = [
    "migrations",
    "db/migrations",
    "prisma/migrations",
    "src/main/resources/db/migration",
    "db/migration",
];

#[derive(Debug, Serialize)]
pub struct InitReport {
    /// The file written.
    pub path: String,
    /// The migrations directory, as written into the file (relative to it).
    pub migrations: String,
    /// Whether that directory exists.
    pub migrations_found: bool,
    /// The layout written, when the files tell it.
    pub layout: Option<String>,
    /// Why that layout (or why none).
    pub layout_reason: String,
    /// Migrations in the directory, read in that layout.
    pub count: usize,
    /// What the person should know (a directory not found, a layout not read).
    pub notes: Vec<String>,
}

/// Writes `path` for the project in `root`. `migrations` overrides the search.
pub fn init(root: &Path, path: &Path, migrations: Option<&Path>) -> Result<InitReport> {
    if path.exists() {
        fail!(
            "{} already exists; lockstep init does not overwrite it\n  hint: edit it, or move it away and run `lockstep init` again",
            path.display()
        );
    }
    let base = path.parent().unwrap_or(root).to_path_buf();
    let mut notes = vec![];
    let found: Option<PathBuf> = match migrations {
        Some(m) => {
            let m = if m.is_absolute() {
                m.to_path_buf()
            } else {
                root.join(m)
            };
            if !m.is_dir() {
                fail!(
                    "--migrations {}: no such directory\n  hint: name the folder that holds the migration files",
                    m.display()
                );
            }
            Some(m)
        }
        None => CANDIDATES.iter().map(|c| root.join(c)).find(|p| p.is_dir()),
    };
    let (dir_text, files) = match &found {
        Some(d) => (
            relative(d, &base),
            crate::project::list_files(d).unwrap_or_default(),
        ),
        None => {
            notes.push(format!(
                "no migrations directory found (looked for {}); lockstep.toml names `migrations`: create it, or edit the path",
                CANDIDATES.join(", ")
            ));
            ("migrations".to_string(), vec![])
        }
    };
    let (layout, layout_reason) = layout_of(root, &files);
    let count = layout
        .and_then(|l| dir::parse(&files, l).ok())
        .map_or(0, |s| s.migrations.len());
    if found.is_some() && files.is_empty() {
        notes.push(format!(
            "{dir_text} is empty; `lockstep new NAME` writes the first migration"
        ));
    } else if found.is_some() && layout.is_none() {
        let known: Vec<String> = Layout::ALL.iter().map(|l| l.to_string()).collect();
        notes.push(format!(
            "the files in {dir_text} are in no layout lockstep reads ({}); set `layout` once they are",
            known.join(", ")
        ));
    }
    let text = render(&dir_text, layout, &layout_reason);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| {
            Error::msg(format!(
                "writing {}: {e}\n  hint: run it in a folder you can write, or pass --config PATH",
                path.display()
            ))
        })?;
    f.write_all(text.as_bytes())?;
    Ok(InitReport {
        path: crate::project::display_path(path),
        migrations: dir_text,
        migrations_found: found.is_some(),
        layout: layout.map(|l| l.to_string()),
        layout_reason,
        count,
        notes,
    })
}

/// `d` relative to `base` when it is inside it (the config's paths are relative to the
/// file), else as it is.
fn relative(d: &Path, base: &Path) -> String {
    let canon = |p: &Path| p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
    match canon(d).strip_prefix(canon(base)) {
        Ok(rel) => rel.display().to_string(),
        Err(_) => d.display().to_string(),
    }
}

/// The layout to write, and why. `.up.sql` pairs are lockstep's, sqlx's and
/// golang-migrate's alike: the project's own files break the tie; without one the layout
/// is left out, and lockstep settles it from the history table it finds.
fn layout_of(root: &Path, files: &[(String, Vec<u8>)]) -> (Option<Layout>, String) {
    let Some(detected) = dir::detect(files) else {
        return (None, "no migration files to read it from".into());
    };
    let pairs = files.iter().any(|(p, _)| p.ends_with(".up.sql"));
    if detected != Layout::Lockstep || !pairs {
        return (
            Some(detected),
            format!("detected from the file names ({})", example(files)),
        );
    }
    let read = |f: &str| std::fs::read_to_string(root.join(f)).unwrap_or_default();
    if root.join("go.mod").is_file() {
        return (
            Some(Layout::GolangMigrate),
            "`.up.sql`/`.down.sql` pairs in a Go module (go.mod)".into(),
        );
    }
    if read("Cargo.toml").contains("sqlx") {
        return (
            Some(Layout::Sqlx),
            "`.up.sql`/`.down.sql` pairs in a Rust project that uses sqlx (Cargo.toml)".into(),
        );
    }
    (
        Some(Layout::Lockstep),
        "`.up.sql`/`.down.sql` pairs: lockstep's layout, which golang-migrate and sqlx share; a golang-migrate or sqlx history table in an environment is still adopted".into(),
    )
}

fn example(files: &[(String, Vec<u8>)]) -> String {
    let sql = || {
        files
            .iter()
            .map(|(p, _)| p.as_str())
            .filter(|p| p.ends_with(".sql"))
    };
    sql()
        .find(|p| !p.contains("down") && !p.starts_with('U'))
        .or_else(|| sql().next())
        .unwrap_or("")
        .to_string()
}

fn render(migrations: &str, layout: Option<Layout>, reason: &str) -> String {
    let layout_line = match layout {
        Some(l) => format!("# {reason}.\nlayout = \"{l}\""),
        None => format!("# Not set: {reason}.\n# layout = \"lockstep\""),
    };
    format!(
        r#"# lockstep.toml, written by `lockstep init`. See docs/GUIDE.md.
# Unknown keys are errors. ${{VAR}} is read from the environment when lockstep runs
# (an unset variable is an error, never an empty string): keep passwords out of this
# file that way.

# The migrations directory, relative to this file.
migrations = "{migrations}"

# How the files are named: lockstep, diesel, sqlx, golang-migrate, dbmate or flyway.
{layout_line}

# Where `lockstep snapshot` writes the expected schema per version (commit them).
# snapshots = "snapshots"

# Where `lockstep impact` looks for code that uses the schema (default: this folder,
# honouring .gitignore).
# code = ["src"]

# One section per environment: a PostgreSQL, MySQL or SQLite URL.
# `lockstep status` shows them all; `lockstep check --env NAME` is the gate.
[env.dev]
url = "${{DATABASE_URL}}"

# [env.staging]
# url = "postgres://deploy:${{STAGING_DB_PASSWORD}}@staging-db:5432/app"

# [env.prod]
# url = "postgres://deploy:${{PROD_DB_PASSWORD}}@prod-db:5432/app?sslmode=require"
# Where replays and rehearsals create their scratch databases (default: the
# environment's own server).
# scratch = "postgres://lockstep:${{SCRATCH_DB_PASSWORD}}@scratch-db:5432/postgres"

# A fleet: many databases with one schema (a database per tenant or shard), deployed
# in waves; each wave starts when the one before it succeeded everywhere.
# [env.tenants]
# members = "tenants.txt"        # one member a line: `NAME URL`
# concurrency = 8
# waves = ["1", "10%", "100%"]

# `lockstep watch`: check drift every interval and tell webhooks what changed.
# [watch]
# interval = "5m"
# webhooks = ["https://hooks.example.com/lockstep"]
# secret = "${{LOCKSTEP_WEBHOOK_SECRET}}"
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        for (p, text) in files {
            let p = d.path().join(p);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        d
    }

    /// Files of a project, the directory found, and the layout written.
    type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, Option<&'a str>);

    #[test]
    fn finds_the_usual_folders_and_their_layouts() {
        let cases: [Case; 8] = [
            (
                &[
                    (
                        "prisma/migrations/migration_lock.toml",
                        "provider = \"postgresql\"\n",
                    ),
                    (
                        "prisma/migrations/20240101000000_init/migration.sql",
                        "CREATE TABLE u (id int);",
                    ),
                ],
                "prisma/migrations",
                Some("prisma"),
            ),
            (
                &[
                    ("migrations/atlas.sum", "h1:x=\n"),
                    (
                        "migrations/20240101000000_init.sql",
                        "CREATE TABLE u (id int);",
                    ),
                ],
                "migrations",
                Some("atlas"),
            ),
            (
                &[(
                    "migrations/2024-01-01-000000_users/up.sql",
                    "CREATE TABLE u (id int);",
                )],
                "migrations",
                Some("diesel"),
            ),
            (
                &[(
                    "db/migrations/20240101000000_users.sql",
                    "-- migrate:up\nCREATE TABLE u (id int);\n-- migrate:down\n",
                )],
                "db/migrations",
                Some("dbmate"),
            ),
            (
                &[(
                    "src/main/resources/db/migration/V1__users.sql",
                    "CREATE TABLE u (id int);",
                )],
                "src/main/resources/db/migration",
                Some("flyway"),
            ),
            (
                &[
                    ("go.mod", "module x\n"),
                    ("db/migrations/1_users.up.sql", "CREATE TABLE u (id int);"),
                    ("db/migrations/1_users.down.sql", "DROP TABLE u;"),
                ],
                "db/migrations",
                Some("golang-migrate"),
            ),
            (
                &[
                    ("Cargo.toml", "[dependencies]\nsqlx = \"0.8\"\n"),
                    (
                        "migrations/20240101000000_users.up.sql",
                        "CREATE TABLE u (id int);",
                    ),
                ],
                "migrations",
                Some("sqlx"),
            ),
            (
                &[(
                    "migrations/20240101000000_users.sql",
                    "CREATE TABLE u (id int);",
                )],
                "migrations",
                Some("sqlx"),
            ),
        ];
        for (files, dir, layout) in cases {
            let d = project(files);
            let path = d.path().join("lockstep.toml");
            let r = init(d.path(), &path, None).unwrap();
            assert_eq!(r.migrations, dir, "{files:?}");
            assert_eq!(r.layout.as_deref(), layout, "{files:?}");
            assert_eq!(r.count, 1, "{files:?}");
            let text = std::fs::read_to_string(&path).unwrap();
            let raw: crate::config::RawConfig = toml::from_str(&text).unwrap();
            assert_eq!(raw.migrations.as_deref(), Some(dir));
            assert_eq!(raw.layout.as_deref(), layout);
        }
    }

    #[test]
    fn refuses_to_overwrite() {
        let d = project(&[("lockstep.toml", "migrations = \"m\"\n")]);
        let path = d.path().join("lockstep.toml");
        let e = init(d.path(), &path, None).unwrap_err().to_string();
        assert!(e.contains("already exists") && e.contains("hint:"), "{e}");
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "migrations = \"m\"\n"
        );
    }

    #[test]
    fn no_migrations_yet_is_a_note() {
        let d = project(&[]);
        let r = init(d.path(), &d.path().join("lockstep.toml"), None).unwrap();
        assert!(!r.migrations_found);
        assert_eq!(r.migrations, "migrations");
        assert!(
            r.notes[0].contains("no migrations directory found"),
            "{r:?}"
        );
    }
}
