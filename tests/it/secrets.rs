//! The secret-grep test (issue 9, items 4 and 5): every command of the CLI, text and
//! JSON, on success and on failure, against environments whose URLs carry a known
//! secret in every form a URL can hold one:
//!
//! - a password in the userinfo (`postgres://postgres:SECRET@…`), also for the scratch
//!   server and a MySQL URL;
//! - `?password=` and `?sslpassword=` query parameters (PostgreSQL uses trust auth here,
//!   so the password is accepted and ignored), and `?password=` on a SQLite URL;
//! - a URL that does not parse (`/`, `#` in the password);
//! - a lockstep.toml that is invalid, with two URLs holding passwords on one line.
//!
//! Failures: a wrong host (a closed port), a database that does not exist, a deploy
//! refused for integrity and for drift, and a migration that fails.
//!
//! Every secret is searched for in stdout and stderr of every invocation, in every row of
//! every table lockstep keeps in each database, in the SQLite file's bytes, and in every
//! file under the project and the temporary directory the commands ran with.

use crate::support::{self, TestPg};
use lockstep_db::{Db, DbError, DbUrl};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const SECRETS: &[&str] = &[
    "LsA1secret",
    "LsB2secret",
    "LsC3secret",
    "LsU4secret",
    "LsS5secret",
    "LsH6secret",
    "LsD7secret",
    "LsM8secret",
    "LsK9secret",
    "LsT1secret",
    "LsT2secret",
    "LsV0secret",
];

struct Runner {
    dir: PathBuf,
    tmp: PathBuf,
    invocations: usize,
    leaks: Vec<String>,
}

impl Runner {
    /// Runs lockstep; records every secret that shows in its output. Returns the exit code.
    fn run(&mut self, args: &[&str]) -> Option<i32> {
        let o = run_limited(&self.dir, &self.tmp, args);
        self.invocations += 1;
        let out = format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        self.grep(&format!("`lockstep {}`", args.join(" ")), &out);
        o.status.code()
    }

    /// Like `run`, and the exit code must be `want`: the invocation did what it was for.
    #[track_caller]
    fn expect(&mut self, want: i32, args: &[&str]) {
        let o = run_limited(&self.dir, &self.tmp, args);
        self.invocations += 1;
        let out = format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        self.grep(&format!("`lockstep {}`", args.join(" ")), &out);
        assert_eq!(
            o.status.code(),
            Some(want),
            "`lockstep {}`: expected exit {want}\n{out}",
            args.join(" ")
        );
    }

    fn grep(&mut self, place: &str, text: &str) {
        for s in SECRETS {
            if let Some(at) = text.find(s) {
                let from = text[..at]
                    .char_indices()
                    .rev()
                    .nth(80)
                    .map_or(0, |(i, _)| i);
                let to = (at + s.len() + 40).min(text.len());
                let to = (to..=text.len())
                    .find(|&i| text.is_char_boundary(i))
                    .unwrap_or(text.len());
                self.leaks
                    .push(format!("{s} in {place}: …{}…", &text[from..to]));
            }
        }
    }

    /// Every file under `root` but the configuration, byte for byte (a SQLite file
    /// included).
    fn grep_files(&mut self, root: &Path) -> usize {
        let mut n = 0;
        let mut stack = vec![root.to_path_buf()];
        while let Some(d) = stack.pop() {
            let Ok(rd) = std::fs::read_dir(&d) else {
                continue;
            };
            for e in rd.flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.file_name().is_some_and(|n| n == "lockstep.toml") {
                    // The test's own input, where the secrets are meant to be.
                } else if let Ok(bytes) = std::fs::read(&p) {
                    n += 1;
                    let text = String::from_utf8_lossy(&bytes).into_owned();
                    self.grep(&format!("file {}", p.display()), &text);
                }
            }
        }
        n
    }
}

fn run_limited(dir: &Path, tmp: &Path, args: &[&str]) -> Output {
    let limit = Duration::from_secs(120);
    let mut child = Command::new(env!("CARGO_BIN_EXE_lockstep"))
        .args(args)
        .current_dir(dir)
        .env("TMPDIR", tmp)
        .env(
            "LS_SECRET_URL_TEST",
            "postgres://postgres:LsV0secret@127.0.0.1:1/x",
        )
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run lockstep");
    let start = Instant::now();
    loop {
        if child.try_wait().expect("wait").is_some() {
            return child.wait_with_output().expect("output");
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let o = child.wait_with_output().expect("output");
            panic!(
                "`lockstep {}` did not finish within {limit:?}\n{}{}",
                args.join(" "),
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Every row of every table in the `lockstep` schema, as text, carried back in the
/// message of a deliberate exception (the test crate has no SQL client of its own).
fn pg_lockstep_rows(url: &str) -> String {
    let script = "DO $lsq$ DECLARE r record; v text; acc text := ''; BEGIN \
        FOR r IN SELECT c.relname FROM pg_catalog.pg_class c \
                 JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
                 WHERE n.nspname = 'lockstep' AND c.relkind IN ('r', 'p') LOOP \
          EXECUTE format('SELECT coalesce(string_agg(t::text, E''\\n''), '''') FROM lockstep.%I t', r.relname) INTO v; \
          acc := acc || r.relname || E':\\n' || v || E'\\n'; \
        END LOOP; \
        RAISE EXCEPTION 'LSQ[%]LSQ', acc; END $lsq$";
    let u = DbUrl::parse(url).unwrap();
    let r = support::rt().block_on(async {
        let mut db = Db::connect(&u, false).await?;
        let r = db.execute_script(script).await;
        db.close().await;
        r
    });
    let msg = match r {
        Ok(()) => panic!("no exception from the history read"),
        Err(DbError::Query { message, .. }) => message,
        Err(e) => panic!("reading lockstep's tables: {e}"),
    };
    match (msg.find("LSQ["), msg.rfind("]LSQ")) {
        (Some(a), Some(b)) if b >= a + 4 => msg[a + 4..b].to_string(),
        _ => panic!("reading lockstep's tables: {msg}"),
    }
}

/// `scheme://[userinfo@]host:port/` of the test server, with `userinfo` in place of the
/// admin URL's own.
fn server(userinfo: &str) -> String {
    let admin = support::pg_admin_url();
    let after = &admin[admin.find("://").map_or(0, |i| i + 3)..];
    let authority = &after[..after.find('/').unwrap_or(after.len())];
    let hostport = &authority[authority.rfind('@').map_or(0, |i| i + 1)..];
    format!("postgres://{userinfo}@{hostport}")
}

fn user() -> String {
    let admin = support::pg_admin_url();
    let after = &admin[admin.find("://").map_or(0, |i| i + 3)..];
    let authority = &after[..after.find('/').unwrap_or(after.len())];
    match authority.rfind('@') {
        Some(at) => authority[..at]
            .split(':')
            .next()
            .unwrap_or("postgres")
            .into(),
        None => "postgres".into(),
    }
}

fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

#[test]
fn no_secret_reaches_output_history_or_files() {
    let started = Instant::now();
    let Some(pa) = TestPg::new("sec_a") else {
        return;
    };
    let Some(pb) = TestPg::new("sec_b") else {
        return;
    };
    let Some(pc) = TestPg::new("sec_c") else {
        return;
    };
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("project");
    let tmp = root.path().join("tmp");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::create_dir_all(&tmp).unwrap();
    let u = user();

    let url_a = format!("{}/{}", server(&format!("{u}:LsA1secret")), pa.name);
    let url_b = format!("{}/{}?password=LsB2secret", server(&u), pb.name);
    let url_c = format!(
        "{}/{}?sslpassword=LsC3secret&application_name=t",
        server(&u),
        pc.name
    );
    let url_u = format!("{}/{}", server(&format!("{u}:LsU4secret/x#y")), pa.name);
    let url_s = "sqlite://s.db?password=LsS5secret".to_string();
    let url_h = format!("postgres://{u}:LsH6secret@127.0.0.1:1/{}", pa.name);
    let url_d = format!("{}/ls_no_such_database?password=LsD7secret", server(&u));
    let url_m = "mysql://root:LsM8secret@127.0.0.1:3306/test".to_string();
    let scratch = format!("{}/postgres", server(&format!("{u}:LsK9secret")));
    write(
        &dir,
        "lockstep.toml",
        &format!(
            "migrations = \"migrations\"\ncode = [\"src\"]\n\
             [env.a]\nurl = \"{url_a}\"\nscratch = \"{scratch}\"\n\
             [env.b]\nurl = \"{url_b}\"\n\
             [env.c]\nurl = \"{url_c}\"\n\
             [env.s]\nurl = \"{url_s}\"\n\
             [env.h]\nurl = \"{url_h}\"\n\
             [env.d]\nurl = \"{url_d}\"\n\
             [env.u]\nurl = \"{url_u}\"\n\
             [env.m]\nurl = \"{url_m}\"\n\
             [env.v]\nurl = \"${{LS_SECRET_URL_TEST}}\"\n"
        ),
    );
    write(
        &dir,
        "migrations/001_items.up.sql",
        "CREATE TABLE items (id integer PRIMARY KEY, name text);\n",
    );
    write(&dir, "migrations/001_items.down.sql", "DROP TABLE items;\n");
    write(
        &dir,
        "migrations/002_price.up.sql",
        "ALTER TABLE items ADD COLUMN price integer;\n",
    );
    write(
        &dir,
        "migrations/002_price.down.sql",
        "ALTER TABLE items DROP COLUMN price;\n",
    );
    write(
        &dir,
        "src/app.py",
        "def price(db):\n    return db.query('SELECT price FROM items')\n",
    );

    let mut r = Runner {
        dir: dir.clone(),
        tmp: tmp.clone(),
        invocations: 0,
        leaks: vec![],
    };
    let with = |args: &[&str], extra: &[&str]| -> Vec<String> {
        args.iter()
            .chain(extra.iter())
            .map(|s| s.to_string())
            .collect()
    };

    r.expect(0, &["hash"]);
    // Success paths, on every environment that works.
    for env in ["a", "b", "c", "s"] {
        for f in ["text", "json"] {
            r.run(&["status", "--env", env, "--format", f]);
            r.run(&["deploy", "--env", env, "--dry-run", "--format", f]);
        }
        r.expect(0, &["deploy", "--env", env, "--to", "1"]);
        for f in ["sql", "json", "text"] {
            r.expect(0, &["inspect", env, "--format", f]);
        }
        r.expect(0, &["status", "--env", env]);
        for f in ["text", "json"] {
            r.run(&["rehearse", "--env", env, "--format", f]);
            r.run(&["check", "--env", env, "--format", f]);
            r.run(&["impact", "--env", env, "--format", f]);
            r.run(&["diff", env, "@latest", "--format", f]);
        }
        r.run(&["diff", env, "@latest", "--format", "sql"]);
        r.run(&["lint", "--env", env]);
        r.expect(0, &["deploy", "--env", env, "--format", "json"]);
        for f in ["text", "json"] {
            for e in ["replay", "snapshot"] {
                if e == "snapshot" {
                    r.expect(0, &["snapshot", "--env", env]);
                }
                r.expect(0, &["drift", "--env", env, "--expected", e, "--format", f]);
            }
        }
        r.expect(0, &["rollback", "--env", env, "--to", "1"]);
        r.expect(
            0,
            &["rollback", "--env", env, "--to", "0", "--format", "json"],
        );
        r.expect(0, &["deploy", "--env", env]);
    }
    for f in ["text", "json"] {
        r.run(&["parity", "--format", f]);
        r.run(&["parity", "a", "b", "c", "--format", f]);
        r.run(&["status", "--format", f]);
    }
    r.run(&["diff", "a", "b", "--format", "sql"]);
    r.run(&["diff", "b", "c", "--format", "json"]);

    // Failure paths: wrong host, missing database, unparsable URL, MySQL, a secret
    // from the environment.
    for env in ["h", "d", "u", "m", "v"] {
        for f in ["text", "json"] {
            let args = |cmd: &[&str]| with(cmd, &["--format", f]);
            for cmd in [
                &["status", "--env", env][..],
                &["deploy", "--env", env],
                &["deploy", "--env", env, "--dry-run"],
                &["rollback", "--env", env, "--to", "0"],
                &["drift", "--env", env],
                &["drift", "--env", env, "--expected", "replay"],
                &["rehearse", "--env", env],
                &["check", "--env", env],
                &["impact", "--env", env],
                &["parity", "a", env],
            ] {
                let a = args(cmd);
                let a: Vec<&str> = a.iter().map(String::as_str).collect();
                r.run(&a);
            }
        }
        for f in ["sql", "json", "text"] {
            r.run(&["inspect", env, "--format", f]);
        }
        r.run(&["diff", env, "a"]);
        r.run(&["diff", "a", env, "--format", "sql"]);
        r.run(&["lint", "--env", env]);
        r.run(&["snapshot", "--env", env]);
    }
    for url in [&url_a, &url_b, &url_c, &url_u, &url_h, &url_d, &url_m] {
        r.run(&["inspect", url, "--format", "text"]);
        r.run(&["diff", url, &url_b]);
    }

    // A refused deploy (integrity: a new migration not in lockstep.sum), then one refused
    // for drift, then a migration that fails.
    write(
        &dir,
        "migrations/003_broken.up.sql",
        "CREATE TABLE fine (x integer);\nSELEC 'this is not SQL';\n",
    );
    for env in ["a", "b", "c", "s"] {
        r.expect(1, &["deploy", "--env", env]);
        r.expect(1, &["deploy", "--env", env, "--format", "json"]);
    }
    r.expect(0, &["hash"]);
    for (env, db) in [("a", &pa), ("b", &pb), ("c", &pc)] {
        db.exec("CREATE TABLE hand_made (x integer);");
        r.expect(1, &["deploy", "--env", env]);
        r.expect(1, &["drift", "--env", env, "--format", "json"]);
        r.run(&["check", "--env", env]);
        r.run(&["rehearse", "--env", env, "--format", "json"]);
        r.expect(1, &["deploy", "--env", env, "--allow-drift"]);
        r.expect(1, &["status", "--env", env]);
        r.expect(1, &["status", "--env", env, "--format", "json"]);
    }
    r.run(&["deploy", "--env", "s"]);
    r.run(&["deploy", "--env", "s", "--format", "json"]);
    r.run(&["status", "--env", "s", "--format", "json"]);
    r.run(&["rollback", "--env", "a", "--to", "1", "--format", "json"]);
    r.run(&["lint"]);
    r.run(&["new", "add_note"]);
    r.run(&["hash"]);

    // An invalid lockstep.toml holding two URLs with passwords on one line.
    let bad = root.path().join("bad");
    write(
        &bad,
        "lockstep.toml",
        "env = { a = { url = \"postgres://u:LsT1secret@h/db\" }, b = { url = \"postgres://u:LsT2secret/x#y@h/db?password=LsT2secret\" } } junk\n",
    );
    let mut rb = Runner {
        dir: bad.clone(),
        tmp: tmp.clone(),
        invocations: 0,
        leaks: vec![],
    };
    for args in [
        &["status"][..],
        &["status", "--format", "json"],
        &["deploy", "--env", "a"],
        &["drift", "--env", "b", "--format", "json"],
        &["check", "--env", "a"],
        &["parity"],
        &["hash"],
        &["new", "x"],
        &["lint"],
        &["snapshot"],
    ] {
        rb.expect(2, args);
    }

    // What the commands left behind.
    let mut stored = 0;
    for (name, db) in [("a", &pa), ("b", &pb), ("c", &pc)] {
        let rows = pg_lockstep_rows(&db.url);
        assert!(
            rows.contains("failed"),
            "env {name}: the failed migration left no history row:\n{rows}"
        );
        stored += rows.lines().count();
        r.grep(&format!("lockstep's tables in env {name}"), &rows);
    }
    let files = r.grep_files(root.path());
    assert!(
        dir.join("migrations/lockstep.sum").exists() && dir.join("snapshots").exists(),
        "lockstep.sum and snapshots/ were not written"
    );

    let invocations = r.invocations + rb.invocations;
    let mut leaks = r.leaks;
    leaks.extend(rb.leaks);
    eprintln!(
        "secrets: {invocations} invocations, {stored} stored rows, {files} files checked in {:.1?}; {} leak(s)",
        started.elapsed(),
        leaks.len()
    );
    assert!(
        leaks.is_empty(),
        "{} leak(s) of a secret:\n{}",
        leaks.len(),
        leaks.join("\n")
    );
}
