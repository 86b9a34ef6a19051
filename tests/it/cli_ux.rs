//! The CLI as people meet it: completions, the man page, colour and its absence, no
//! control characters in piped output, `init`, and snapshots of the human output (lint
//! findings; status, drift, parity and check on the demo). Snapshots live in
//! tests/it/snapshots/; after an intended change of output, review and accept them
//! (`INSTA_UPDATE=always cargo test --test it cli_ux::`, then read the diff).

use std::path::Path;
use std::process::{Command, Output};

/// Runs lockstep in `dir` with these environment variables set, and none of the colour
/// ones inherited.
fn run(args: &[&str], dir: &Path, env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_lockstep"));
    c.args(args).current_dir(dir);
    for v in ["NO_COLOR", "CLICOLOR", "CLICOLOR_FORCE"] {
        c.env_remove(v);
    }
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run lockstep")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn all(o: &Output) -> String {
    format!("{}{}", stdout(o), String::from_utf8_lossy(&o.stderr))
}

const ESC: u8 = 0x1b;

/// Control characters other than newline and tab, with where they are.
fn control_chars(bytes: &[u8]) -> Vec<(usize, u8)> {
    bytes
        .iter()
        .enumerate()
        .filter(|(_, b)| (**b < 0x20 && **b != b'\n' && **b != b'\t') || **b == 0x7f)
        .map(|(i, b)| (i, *b))
        .collect()
}

/// The subcommands `lockstep --help` lists (its "Commands:" section), `help` aside.
fn subcommands() -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let help = stdout(&run(&["--help"], dir.path(), &[]));
    let names: Vec<String> = help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| *n != "help")
        .map(str::to_string)
        .collect();
    for expected in ["deploy", "baseline", "init", "completions", "man", "lint"] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} missing from --help: {names:?}"
        );
    }
    names
}

#[test]
fn completions_parse_and_name_every_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    let names = subcommands();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let o = run(&["completions", shell], dir.path(), &[]);
        assert_eq!(o.status.code(), Some(0), "{shell}: {}", all(&o));
        let script = stdout(&o);
        for n in &names {
            assert!(script.contains(n.as_str()), "{shell} script lacks {n}");
        }
        let path = dir.path().join(format!("lockstep.{shell}"));
        std::fs::write(&path, &script).unwrap();
        // bash is on every machine lockstep is tested on; zsh and fish only where
        // installed.
        let checker = match shell {
            "bash" => Some("bash"),
            "zsh" | "fish" if has(shell) => Some(shell),
            _ => None,
        };
        if let Some(sh) = checker {
            let o = Command::new(sh)
                .arg("-n")
                .arg(&path)
                .output()
                .expect("run the shell");
            assert!(o.status.success(), "{sh} -n: {}", all(&o));
        }
    }
    let o = run(&["completions", "tcsh"], dir.path(), &[]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "an unknown shell is a usage error"
    );
}

fn has(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn man_is_roff_with_every_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(&["man"], dir.path(), &[]);
    assert_eq!(o.status.code(), Some(0), "{}", all(&o));
    let page = stdout(&o);
    assert!(
        page.contains("\n.TH lockstep 1"),
        "a roff title line: {page}"
    );
    assert!(page.contains("\n.SH SYNOPSIS\n") && page.contains("\n.SH SUBCOMMANDS\n"));
    for n in subcommands() {
        assert!(
            page.contains(&format!("lockstep\\-{}(1)", n.replace('-', "\\-"))),
            "man page lacks {n}"
        );
    }
    // One page per command into a directory.
    let out = dir.path().join("man1");
    let o = run(
        &["man", "--out-dir", out.to_str().unwrap()],
        dir.path(),
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", all(&o));
    for n in ["lockstep.1", "lockstep-deploy.1", "lockstep-check.1"] {
        let p = std::fs::read_to_string(out.join(n)).unwrap_or_else(|e| panic!("{n}: {e}"));
        assert!(p.contains(".TH "), "{n}");
    }
}

#[test]
fn every_argument_is_described_and_every_command_has_an_example() {
    let dir = tempfile::tempdir().unwrap();
    for n in subcommands() {
        let o = run(&[n.as_str(), "--help"], dir.path(), &[]);
        assert_eq!(o.status.code(), Some(0), "{n}: {}", all(&o));
        let help = stdout(&o);
        assert!(
            help.contains("Example"),
            "`{n} --help` has no example:\n{help}"
        );
        // In long help, an argument's line is indented by at most 6 columns and its
        // description follows on lines indented by 10; an undescribed argument has none.
        let lines: Vec<&str> = help.lines().collect();
        let indent = |l: &str| l.len() - l.trim_start().len();
        for (i, l) in lines.iter().enumerate() {
            let t = l.trim_start();
            let is_arg = (2..=6).contains(&indent(l))
                && (t.starts_with('-') || t.starts_with('<') || t.starts_with('['));
            if !is_arg {
                continue;
            }
            let described = lines
                .get(i + 1)
                .is_some_and(|n| indent(n) >= 10 && !n.trim().is_empty());
            assert!(described, "`{n} --help`: `{t}` has no description:\n{help}");
        }
    }
}

/// A demo project, built once per test that needs it.
fn demo() -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let o = run(&["demo", "shop"], tmp.path(), &[]);
    assert_eq!(o.status.code(), Some(0), "{}", all(&o));
    let dir = tmp.path().join("shop");
    (tmp, dir)
}

#[test]
fn colour_follows_the_flag_and_no_color() {
    let (_tmp, dir) = demo();
    for args in [
        &["status"][..],
        &["check", "--env", "prod"],
        &["parity"],
        &["drift", "--env", "prod"],
        &["lint", "migrations/20260301090000_order_segment.down.sql"],
    ] {
        let with = |flag: &[&str], env: &[(&str, &str)]| {
            let mut a: Vec<&str> = flag.to_vec();
            a.extend_from_slice(args);
            run(&a, &dir, env)
        };
        // Piped, auto: plain.
        let o = with(&[], &[]);
        assert!(!o.stdout.contains(&ESC), "{args:?} piped: {}", stdout(&o));
        // NO_COLOR, even where colour would be on.
        let o = with(&[], &[("NO_COLOR", "1"), ("CLICOLOR_FORCE", "1")]);
        assert!(
            !o.stdout.contains(&ESC),
            "{args:?} NO_COLOR: {}",
            stdout(&o)
        );
        let o = with(&["--color", "never"], &[("CLICOLOR_FORCE", "1")]);
        assert!(!o.stdout.contains(&ESC), "{args:?} --color never");
        // --color always wins over NO_COLOR: it is the more explicit of the two.
        let o = with(&["--color", "always"], &[("NO_COLOR", "1")]);
        assert!(
            o.stdout.contains(&ESC),
            "{args:?} --color always: {}",
            stdout(&o)
        );
        // The same text once the escapes are gone.
        let plain = stdout(&with(&["--color", "never"], &[]));
        let colored = stdout(&with(&["--color", "always"], &[]));
        assert_eq!(strip(&colored), plain, "{args:?}");
    }
    // Red for a failure, green for ok.
    let o = run(&["--color", "always", "check", "--env", "prod"], &dir, &[]);
    let out = stdout(&o);
    assert!(out.contains("\x1b[31mFAIL"), "{out:?}");
    assert!(out.contains("\x1b[32mok"), "{out:?}");
}

/// `s` without its SGR escapes (`ESC [ … m`).
fn strip(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for d in chars.by_ref() {
                if d == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn piped_deploy_output_has_no_control_characters() {
    let (_tmp, dir) = demo();
    // qa has the release pending and no drift: a real deploy with progress events.
    for args in [
        &["deploy", "--env", "qa", "--dry-run"][..],
        &["deploy", "--env", "qa"],
        &["deploy", "--env", "qa"],
        &["deploy", "--env", "prod"],
        &["check", "--env", "prod"],
        &["parity"],
    ] {
        let o = run(args, &dir, &[]);
        assert!(
            matches!(o.status.code(), Some(0 | 1)),
            "{args:?}: {}",
            all(&o)
        );
        for (stream, bytes) in [("stdout", &o.stdout), ("stderr", &o.stderr)] {
            let bad = control_chars(bytes);
            assert!(
                bad.is_empty(),
                "{args:?} {stream} has control characters {bad:?}:\n{}",
                String::from_utf8_lossy(bytes)
            );
        }
    }
    let o = run(&["status", "--env", "qa"], &dir, &[]);
    assert!(stdout(&o).contains("qa "), "{}", all(&o));
    assert!(!stdout(&o).contains("qa: pending"), "deployed: {}", all(&o));
}

#[test]
fn init_writes_a_config_that_status_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("db/migrations");
    std::fs::create_dir_all(&m).unwrap();
    std::fs::write(
        m.join("20240101000000_users.sql"),
        "-- migrate:up\nCREATE TABLE users (id integer PRIMARY KEY);\n\n-- migrate:down\nDROP TABLE users;\n",
    )
    .unwrap();
    let o = run(&["init"], dir.path(), &[]);
    assert_eq!(o.status.code(), Some(0), "{}", all(&o));
    let out = stdout(&o);
    assert!(out.contains("db/migrations (1 migration)"), "{out}");
    assert!(out.contains("dbmate"), "{out}");
    let written = std::fs::read_to_string(dir.path().join("lockstep.toml")).unwrap();
    assert!(written.contains("layout = \"dbmate\""), "{written}");
    assert!(
        written.contains("# [env.prod]") && written.contains("# [watch]"),
        "{written}"
    );

    let url = format!("sqlite://{}", dir.path().join("dev.db").display());
    let o = run(&["status"], dir.path(), &[("DATABASE_URL", &url)]);
    assert_eq!(o.status.code(), Some(0), "{}", all(&o));
    assert!(stdout(&o).contains("20240101000000 users"), "{}", all(&o));
    // Without the variable, the error names it.
    let o = run(&["status"], dir.path(), &[]);
    assert_eq!(o.status.code(), Some(2), "{}", all(&o));
    assert!(all(&o).contains("DATABASE_URL"), "{}", all(&o));

    // A second init leaves the file alone.
    std::fs::write(
        dir.path().join("lockstep.toml"),
        "migrations = \"db/migrations\"\n",
    )
    .unwrap();
    let o = run(&["init"], dir.path(), &[]);
    assert_eq!(o.status.code(), Some(2), "{}", all(&o));
    assert!(
        all(&o).contains("already exists") && all(&o).contains("hint:"),
        "{}",
        all(&o)
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("lockstep.toml")).unwrap(),
        "migrations = \"db/migrations\"\n"
    );
}

const FINDINGS: &str = "SET lock_timeout = '2s';
SET statement_timeout = '5min';

ALTER TABLE orders DROP COLUMN note;

CREATE INDEX orders_customer ON orders (customer_id);

ALTER TABLE orders ADD COLUMN token uuid DEFAULT gen_random_uuid();

-- a comment that names DROP TABLE does not take the caret
ALTER TABLE orders
  RENAME COLUMN total TO amount;

ALTER TABLE orders
  ALTER COLUMN status SET NOT NULL;
";

#[test]
fn lint_findings_render_with_a_caret() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("0042_orders.sql"), FINDINGS).unwrap();
    let o = run(&["lint", "0042_orders.sql"], dir.path(), &[]);
    assert_eq!(o.status.code(), Some(1), "{}", all(&o));
    insta::assert_snapshot!("lint_findings", stdout(&o));
}

/// The demo's output with its temporary directory replaced by `[DIR]`.
fn normalized(o: &Output, dir: &Path) -> String {
    let mut s = stdout(o);
    for d in [dir.canonicalize().unwrap(), dir.to_path_buf()] {
        s = s.replace(&d.display().to_string(), "[DIR]");
    }
    s
}

#[test]
fn demo_reports_as_people_see_them() {
    let (_tmp, dir) = demo();
    for (name, args, exit) in [
        ("demo_status", &["status"][..], 0),
        ("demo_drift", &["drift", "--env", "prod"], 1),
        ("demo_parity", &["parity"], 1),
        ("demo_check", &["check", "--env", "prod"], 1),
    ] {
        let o = run(args, &dir, &[]);
        assert_eq!(o.status.code(), Some(exit), "{args:?}: {}", all(&o));
        insta::assert_snapshot!(name, normalized(&o, &dir));
    }
}

#[test]
fn a_changed_on_delete_is_one_change_not_a_drop_and_an_identical_add() {
    let schema = |action: &str| {
        format!(
            "CREATE TABLE customers (id INTEGER PRIMARY KEY);
             CREATE TABLE orders (id INTEGER PRIMARY KEY,
               customer_id INTEGER REFERENCES customers(id) ON DELETE {action});"
        )
    };
    let a = crate::support::TestSqlite::new();
    a.exec(&schema("CASCADE"));
    let b = crate::support::TestSqlite::new();
    b.exec(&schema("SET NULL"));
    let dir = tempfile::tempdir().unwrap();
    let o = run(&["diff", &a.url, &b.url], dir.path(), &[]);
    assert_eq!(o.status.code(), Some(1), "{}", all(&o));
    let out = stdout(&o);
    assert!(out.contains(": 1 difference\n"), "{out}");
    assert!(
        out.contains(
            "  ~ foreign key (customer_id) → customers(id) on main.orders: ON DELETE CASCADE → SET NULL\n"
        ),
        "{out}"
    );
    // The SQL still drops and adds it: only the text for people pairs them.
    let o = run(
        &["diff", &a.url, &b.url, "--format", "json"],
        dir.path(),
        &[],
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(!v["changes"].as_array().unwrap().is_empty(), "{v}");
}

#[test]
fn widening_a_column_is_not_called_destructive() {
    let (Some(a), Some(b)) = (
        crate::support::TestPg::new("widen_a"),
        crate::support::TestPg::new("widen_b"),
    ) else {
        return;
    };
    a.exec("CREATE TABLE orders (id bigint PRIMARY KEY, note varchar(20), qty integer)");
    b.exec("CREATE TABLE orders (id bigint PRIMARY KEY, note text, qty bigint)");
    let dir = tempfile::tempdir().unwrap();
    let destructive = |from: &str, to: &str| -> Vec<(String, bool)> {
        let o = run(&["diff", from, to, "--format", "json"], dir.path(), &[]);
        let v: serde_json::Value =
            serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", all(&o)));
        v["changes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["description"].as_str().unwrap_or_default().to_string(),
                    c["destructive"].as_bool().unwrap(),
                )
            })
            .collect()
    };
    let widen = destructive(&a.url, &b.url);
    assert_eq!(widen.len(), 2, "{widen:?}");
    assert!(widen.iter().all(|(_, d)| !d), "{widen:?}");
    let o = run(
        &["diff", &a.url, &b.url, "--format", "sql"],
        dir.path(),
        &[],
    );
    assert!(
        !String::from_utf8_lossy(&o.stdout).contains("destructive"),
        "{}",
        all(&o)
    );
    let narrow = destructive(&b.url, &a.url);
    assert_eq!(narrow.len(), 2, "{narrow:?}");
    assert!(narrow.iter().all(|(_, d)| *d), "{narrow:?}");
}
