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

use crate::harness;
use crate::support::{self, TestPg};
use lockstep_core::hostile_models::PIECES;
use lockstep_db::DbError;
use std::path::{Path, PathBuf};
use std::process::Output;
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
    /// Runs lockstep; records every secret that shows in its output. Returns the exit code
    /// and the output.
    fn run_out(&mut self, args: &[&str]) -> (Option<i32>, String) {
        let o = run_limited(&self.dir, &self.tmp, args);
        self.invocations += 1;
        let out = format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        self.grep(&format!("`lockstep {}`", args.join(" ")), &out);
        (o.status.code(), out)
    }

    /// `run_out`'s exit code.
    fn run(&mut self, args: &[&str]) -> Option<i32> {
        self.run_out(args).0
    }

    /// Like `run`, and the exit code must be `want`: the invocation did what it was for.
    #[track_caller]
    fn expect(&mut self, want: i32, args: &[&str]) {
        let (code, out) = self.run_out(args);
        assert_eq!(
            code,
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
    let child = harness::spawn(
        dir,
        args,
        &[
            ("TMPDIR", tmp.to_str().unwrap()),
            (
                "LS_SECRET_URL_TEST",
                "postgres://postgres:LsV0secret@127.0.0.1:1/x",
            ),
        ],
    );
    support::finished(harness::wait_guarded(child, limit), args, limit)
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
    let msg = match harness::exec(url, script) {
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

/// A project directory holding every environment, the two migrations and some code.
fn project(dir: &Path, config: &str) {
    write(dir, "lockstep.toml", config);
    write(
        dir,
        "migrations/001_items.up.sql",
        "CREATE TABLE items (id integer PRIMARY KEY, name text);\n",
    );
    write(dir, "migrations/001_items.down.sql", "DROP TABLE items;\n");
    write(
        dir,
        "migrations/002_price.up.sql",
        "ALTER TABLE items ADD COLUMN price integer;\n",
    );
    write(
        dir,
        "migrations/002_price.down.sql",
        "ALTER TABLE items DROP COLUMN price;\n",
    );
    write(
        dir,
        "src/app.py",
        "def price(db):\n    return db.query('SELECT price FROM items')\n",
    );
}

/// Every command that succeeds on a working environment, text and JSON, then a deploy
/// refused for integrity, one refused for drift, and a migration that fails.
fn working_env(r: &mut Runner, env: &str, db: Option<&TestPg>) {
    r.expect(0, &["hash"]);
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
    r.expect(0, &["rollback", "--env", env, "--to", "1", "--yes"]);
    r.expect(
        0,
        &[
            "rollback", "--env", env, "--to", "0", "--yes", "--format", "json",
        ],
    );
    r.expect(0, &["deploy", "--env", env]);
    r.run(&["diff", env, "b", "--format", "sql"]);
    r.run(&["diff", "c", env, "--format", "json"]);

    // Refused for integrity: a new migration that lockstep.sum does not list.
    write(
        &r.dir,
        "migrations/003_broken.up.sql",
        "CREATE TABLE fine (x integer);\nSELEC 'this is not SQL';\n",
    );
    r.expect(1, &["deploy", "--env", env]);
    r.expect(1, &["deploy", "--env", env, "--format", "json"]);
    r.expect(0, &["hash"]);
    if let Some(db) = db {
        // Refused for drift, then failing with --allow-drift.
        db.exec("CREATE TABLE hand_made (x integer);");
        r.expect(1, &["deploy", "--env", env]);
        r.expect(1, &["drift", "--env", env, "--format", "json"]);
        r.run(&["check", "--env", env]);
        r.run(&["rehearse", "--env", env, "--format", "json"]);
        r.expect(1, &["deploy", "--env", env, "--allow-drift"]);
    } else {
        r.expect(1, &["deploy", "--env", env, "--format", "json"]);
    }
    r.expect(1, &["status", "--env", env]);
    r.expect(1, &["status", "--env", env, "--format", "json"]);
    r.run(&["rollback", "--env", env, "--to", "1", "--format", "json"]);
    r.run(&["lint"]);
    r.run(&["new", "add_note"]);
    r.run(&["hash"]);
}

/// Every command against environments that fail: a closed port, a missing database, a
/// URL that does not parse, MySQL, a URL from the environment; and the URLs themselves
/// on the command line.
fn failing_envs(r: &mut Runner, urls: &[&str]) {
    r.expect(0, &["hash"]);
    for env in ["h", "d", "u", "m", "v"] {
        for f in ["text", "json"] {
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
                let mut args = cmd.to_vec();
                args.extend(["--format", f]);
                r.run(&args);
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
    for f in ["text", "json"] {
        r.run(&["parity", "--format", f]);
        r.run(&["status", "--format", f]);
    }
    for url in urls {
        r.run(&["inspect", url, "--format", "text"]);
        r.run(&["diff", url, urls[1]]);
    }
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
    let tmp = root.path().join("tmp");
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
    let config = format!(
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
    );
    let runner = |name: &str| {
        let dir = root.path().join(name);
        project(&dir, &config);
        Runner {
            dir,
            tmp: tmp.clone(),
            invocations: 0,
            leaks: vec![],
        }
    };

    // One project directory per environment, so that the environments run side by side
    // without sharing lockstep.sum or snapshots/.
    let mut runners: Vec<Runner> = std::thread::scope(|s| {
        let mut handles = vec![];
        for (env, db) in [
            ("a", Some(&pa)),
            ("b", Some(&pb)),
            ("c", Some(&pc)),
            ("s", None),
        ] {
            let mut r = runner(env);
            handles.push(s.spawn(move || {
                working_env(&mut r, env, db);
                r
            }));
        }
        let mut r = runner("failing");
        let urls = [&url_a, &url_b, &url_c, &url_u, &url_h, &url_d, &url_m];
        handles.push(s.spawn(move || {
            let urls: Vec<&str> = urls.iter().map(|u| u.as_str()).collect();
            failing_envs(&mut r, &urls);
            r
        }));
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });

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
    runners.push(rb);

    // What the commands left behind.
    let mut r = runners.pop().unwrap();
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
    for env in ["a", "b", "c", "s"] {
        let d = root.path().join(env);
        assert!(
            d.join("migrations/lockstep.sum").exists() && d.join("snapshots").exists(),
            "{env}: lockstep.sum and snapshots/ were not written"
        );
    }
    assert!(
        root.path().join("s/s.db").exists(),
        "the SQLite environment was not deployed"
    );

    runners.push(r);
    let invocations: usize = runners.iter().map(|r| r.invocations).sum();
    let leaks: Vec<String> = runners.into_iter().flat_map(|r| r.leaks).collect();
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

// ------------------------------------------------------------------------ hostile names

/// `n` distinct hostile names of at most 40 bytes (PostgreSQL keeps 63), from the pieces
/// of the planners' property test; a failure is reproducible from the case number alone.
fn hostile_names(rng: &mut harness::Rng, n: usize) -> Vec<String> {
    let mut out: Vec<String> = vec![];
    while out.len() < n {
        let mut s = String::new();
        for _ in 0..1 + rng.below(5) {
            let p = PIECES[rng.below(PIECES.len() as u64) as usize];
            if s.len() + p.len() <= 38 {
                s.push_str(p);
            }
        }
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

/// Plans between models with hostile names, applied to real databases that hold a table
/// `victim`: every plan applies (the names stayed names, the comments comments), `victim`
/// is still there, and the names and comments read back are the ones planned.
#[test]
fn hostile_names_applied_to_real_databases_leave_victim_alone() {
    use lockstep_core::diff::diff;
    use lockstep_core::hostile_models::{self as models, Reach};
    use lockstep_core::model::{Database, Dialect, QualName};
    use lockstep_core::plan::plan;
    const CASES: u64 = 12;
    let Some(pg) = TestPg::new("hostile") else {
        return;
    };
    pg.exec("CREATE TABLE public.victim (x integer); INSERT INTO public.victim VALUES (1);");
    let sqlite = support::TestSqlite::new();
    sqlite.exec("CREATE TABLE victim (x integer); INSERT INTO victim VALUES (1);");
    let mut scripts = 0;
    for case in 0..CASES {
        let mut rng = harness::Rng::new(
            0x9e37_79b9_7f4a_7c15 ^ (case + 1).wrapping_mul(0x2545_f491_4f6c_dd1d),
        );
        let n = hostile_names(&mut rng, models::NAMES);
        let m = hostile_names(&mut rng, models::CHANGES);
        let a = models::pg(&n, Reach::Server);
        let b = models::pg_changed(&n, &m, Reach::Server);
        let empty = Database::empty(Dialect::Postgres);
        let create = plan(&diff(&empty, &a), &empty, &a);
        let change = plan(&diff(&a, &b), &a, &b);
        assert!(
            change.unsupported.len() >= 4,
            "case {case}: the cannot-express paths were not taken: {:?}",
            change.unsupported
        );
        for (what, p) in [("create", &create), ("change", &change)] {
            let script = p.to_sql();
            if let Err(e) = harness::exec(&pg.url, &script) {
                panic!("case {case}: the {what} script failed on PostgreSQL: {e}\n{script}");
            }
            scripts += 1;
            pg.try_exec("SELECT x FROM public.victim")
                .unwrap_or_else(|e| {
                    panic!("case {case}: victim is gone after {what}: {e}\n{script}")
                });
        }
        let live = pg.inspect();
        let schema = &n[models::PG_SCHEMA];
        let t = &live.tables[&QualName::new(schema.clone(), n[models::PG_TABLE].clone())];
        let want = &b.tables[&t.name];
        let mut got_cols: Vec<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
        let mut want_cols: Vec<&str> = want.columns.iter().map(|c| c.name.as_str()).collect();
        got_cols.sort();
        want_cols.sort();
        assert_eq!(got_cols, want_cols, "case {case}: column names");
        assert_eq!(t.comment, want.comment, "case {case}: table comment");
        assert_eq!(live.schemas[schema].comment, b.schemas[schema].comment);
        let e = QualName::new(schema.clone(), n[models::PG_ENUM].clone());
        assert_eq!(
            live.types[&e].kind, b.types[&e].kind,
            "case {case}: enum labels"
        );
        // Leave the next case an empty schema namespace to work in.
        pg.exec(&format!(
            "DROP SCHEMA {} CASCADE",
            lockstep_core::plan::ident(schema)
        ));

        let a = models::sqlite(&n, Reach::Server);
        let b = models::sqlite_changed(&n, &m, Reach::Server);
        let empty = Database::empty(Dialect::Sqlite);
        for (what, from, to) in [
            ("create", &empty, &a),
            ("change", &a, &b),
            ("drop", &b, &empty),
        ] {
            let p = plan(&diff(from, to), from, to);
            let script = p.to_sql();
            if let Err(e) = harness::exec(&sqlite.url, &script) {
                panic!("case {case}: the {what} script failed on SQLite: {e}\n{script}");
            }
            scripts += 1;
            harness::exec(&sqlite.url, "SELECT x FROM victim").unwrap_or_else(|e| {
                panic!("case {case}: victim is gone from SQLite after {what}: {e}\n{script}")
            });
            if what == "change" {
                let live = sqlite.inspect();
                let t = &live.tables[&QualName::new("main", n[models::SQLITE_TABLE].clone())];
                let got: Vec<(&str, &str)> = t
                    .columns
                    .iter()
                    .map(|c| (c.name.as_str(), c.type_.as_str()))
                    .collect();
                let want: Vec<(&str, &str)> = b.tables[&t.name]
                    .columns
                    .iter()
                    .map(|c| (c.name.as_str(), c.type_.as_str()))
                    .collect();
                assert_eq!(
                    got.iter().map(|c| c.0).collect::<Vec<_>>(),
                    want.iter().map(|c| c.0).collect::<Vec<_>>(),
                    "case {case}: SQLite column names"
                );
            }
        }
    }
    eprintln!("hostile names: {CASES} cases, {scripts} scripts applied; victim intact");
}

/// The issue's case: `lockstep diff --format sql | psql` with a column named
/// `p⏎DROP TABLE victim;⏎--` on both sides of a column-order change dropped `victim`.
#[test]
fn the_issue_column_name_does_not_drop_victim() {
    use lockstep_core::diff::diff;
    use lockstep_core::model::{Database, Dialect};
    use lockstep_core::plan::plan;
    let Some(pg) = TestPg::new("victim") else {
        return;
    };
    pg.exec("CREATE TABLE public.victim (x integer); INSERT INTO public.victim VALUES (1);");
    let (a, b) = lockstep_core::hostile_models::column_order_case();
    let empty = Database::empty(Dialect::Postgres);
    harness::exec(&pg.url, &plan(&diff(&empty, &a), &empty, &a).to_sql()).unwrap();
    let script = plan(&diff(&a, &b), &a, &b).to_sql();
    // As psql runs a script: statement by statement, each committed, carrying on after
    // an error.
    let errors: Vec<String> = lockstep_core::sql::split::split(&script)
        .statements
        .iter()
        .filter_map(|s| harness::exec(&pg.url, &s.sql).err().map(|e| e.to_string()))
        .collect();
    pg.try_exec("SELECT x FROM public.victim")
        .unwrap_or_else(|e| panic!("victim is gone: {e}\n{script}"));
    assert!(errors.is_empty(), "{errors:?}\n{script}");
}
