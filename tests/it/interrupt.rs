//! Scratch work is always cleaned up (issue 9, item 11).
//!
//! 50 interruptions, a seeded mix of SIGINT, SIGTERM and SIGKILL at random moments,
//! during `drift`, `rehearse` and `check` on an environment whose replay takes a moment.
//! SIGINT and SIGTERM must drop the run's scratch databases, say what state the target is
//! in and exit 130 or 143; what SIGKILL leaves behind, the next run must remove (its
//! owner is provably dead). After one more `drift`, no scratch database of any of these
//! runs is left on the server, and no `lockstep-rehearse-*` folder in their TMPDIR.

use crate::harness::{expect, pg_value, spawn, wait_guarded, Project, Rng};
use crate::support::TestPg;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

const RUNS: usize = 50;
const SEED: u64 = 0x5eed_0011;

/// Scratch databases on the server whose names carry one of `pids` as their owner.
fn scratch_of(url: &str, pids: &[u32]) -> usize {
    let list: String = pg_value(
        url,
        "SELECT coalesce(string_agg(datname, ','), '') FROM pg_database WHERE datname LIKE 'lockstep\\_scratch\\_%'",
    );
    list.split(',')
        .filter(|n| !n.is_empty())
        .filter(|n| {
            // lockstep_scratch_{pid}_{nanos} (before owners were recorded) or
            // lockstep_scratch_{host}_{pid}_{start}_{n}.
            let parts: Vec<&str> = n.split('_').collect();
            [2, 3].iter().any(|&i| {
                parts
                    .get(i)
                    .and_then(|x| x.parse::<u32>().ok())
                    .is_some_and(|x| pids.contains(&x))
            })
        })
        .count()
}

/// Whether some session is dropping a scratch database.
fn scratch_drops_running(url: &str) -> bool {
    pg_value(
        url,
        "SELECT count(*)::text FROM pg_stat_activity WHERE state = 'active' AND query LIKE 'DROP DATABASE IF EXISTS \"lockstep\\_scratch\\_%'",
    ) != "0"
}

/// The N of "dropped N scratch database(s) {what}" notes in a run's output.
fn dropped_in(text: &str, what: &str) -> usize {
    text.lines()
        .filter_map(|l| {
            let at = l.find("dropped ")?;
            let rest = &l[at + 8..];
            let n: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
            rest[n.len()..]
                .starts_with(&format!(" scratch database(s) {what}"))
                .then(|| n.parse::<usize>().ok())
                .flatten()
        })
        .sum()
}

#[test]
fn fifty_interruptions_leave_no_scratch_database() {
    let Some(db) = TestPg::new("interrupt") else {
        return;
    };
    let p = Project::new(&[("dev", &db.url)]);
    // A few dozen migrations, each a moment to replay.
    for i in 1..=36 {
        p.migration(
            &format!("202403010000{i:02}"),
            &format!("m{i}"),
            &format!(
                "CREATE TABLE t{i} (id bigint PRIMARY KEY, a text, b int, c timestamptz DEFAULT now());\n\
                 CREATE INDEX t{i}_b ON t{i} (b);\n\
                 INSERT INTO t{i} (id, a, b) SELECT g, md5(g::text), g % 7 FROM generate_series(1, 300) g;\n\
                 SELECT pg_sleep(0.01);\n"
            ),
        );
    }
    expect(
        p.path(),
        &["deploy", "--env", "dev", "--to", "20240301000030"],
        0,
    );
    let tmp = tempfile::tempdir().unwrap();
    let tmpdir = tmp.path().to_str().unwrap().to_string();

    let commands: [&[&str]; 3] = [
        &["drift", "--env", "dev"],
        &["rehearse", "--env", "dev"],
        &["check", "--env", "dev"],
    ];
    // How long each whole run takes, so that signals land anywhere in it.
    let spans: Vec<u64> = commands
        .iter()
        .map(|cmd| {
            let t0 = Instant::now();
            expect(p.path(), cmd, 0);
            let ms = t0.elapsed().as_millis() as u64;
            eprintln!("one {} takes {ms} ms", cmd[0]);
            ms
        })
        .collect();

    const HANDLERS_READY_MS: u64 = 25;
    let mut rng = Rng::new(SEED);
    let signals = ["INT", "TERM", "KILL"];
    let mut pids = vec![];
    // Orphans the runs' sweeps removed, and what interrupted runs dropped themselves.
    let (mut removed, mut own) = (0, 0);
    let mut wrong: Vec<String> = vec![];
    // (signal, command) -> (runs, interrupted while running, finished before the signal)
    let mut table: BTreeMap<(String, String), (usize, usize, usize)> = BTreeMap::new();
    for i in 0..RUNS {
        let which = rng.below(3) as usize;
        let cmd = commands[which];
        let sig = signals[rng.below(3) as usize];
        // Not before the process can have installed its handlers: a signal that lands
        // while the binary is still being loaded takes the default action (the process
        // dies by the signal, exit status None) in any program, and says nothing about
        // lockstep. Main installs them before anything else.
        let delay = HANDLERS_READY_MS + rng.below(spans[which].max(1));
        let child = spawn(p.path(), cmd, &[("TMPDIR", &tmpdir)]);
        pids.push(child.id());
        std::thread::sleep(Duration::from_millis(delay));
        let _ = std::process::Command::new("kill")
            .args([&format!("-{sig}"), &child.id().to_string()])
            .status();
        let r = wait_guarded(child, Duration::from_secs(120));
        let text = r.text();
        assert!(
            !r.killed_by_guard,
            "run {i} ({} after SIG{sig}) did not end:\n{text}",
            cmd[0]
        );
        removed += dropped_in(&text, "left by killed runs");
        own += dropped_in(&text, "of this run");
        let finished = matches!(r.code(), Some(0) | Some(1));
        let entry = table
            .entry((format!("SIG{sig}"), cmd[0].to_string()))
            .or_default();
        entry.0 += 1;
        if finished {
            entry.2 += 1;
            continue;
        }
        entry.1 += 1;
        let want = match sig {
            "INT" => Some(130),
            "TERM" => Some(143),
            _ => None,
        };
        if r.code() != want {
            wrong.push(format!(
                "run {i}: {} after SIG{sig} exited {:?}, not {want:?}:\n{text}",
                cmd[0],
                r.code()
            ));
        } else if want.is_some()
            && !(text.contains("interrupted") && text.contains("nothing was changed"))
        {
            wrong.push(format!(
                "run {i}: {} after SIG{sig} does not say what state dev is in:\n{text}",
                cmd[0]
            ));
        }
    }
    let left_before = scratch_of(&db.url, &pids);
    let r = expect(p.path(), &["drift", "--env", "dev"], 0);
    removed += dropped_in(&r.text(), "left by killed runs");
    // A run returns once the server runs a drop (its own or a sweep's), not once the
    // files are gone: what is left must be on its way out, and then gone.
    let start = Instant::now();
    let mut left = scratch_of(&db.url, &pids);
    while left > 0 && scratch_drops_running(&db.url) && start.elapsed() < Duration::from_secs(120) {
        std::thread::sleep(Duration::from_millis(100));
        left = scratch_of(&db.url, &pids);
    }
    eprintln!("interruptions (signal, command) -> (runs, interrupted, finished first):");
    for ((s, c), (n, hit, done)) in &table {
        eprintln!("  {s:<8} {c:<9} {n:>3} runs, {hit:>3} interrupted, {done:>3} finished first");
    }
    eprintln!(
        "scratch databases dropped by the interrupted runs themselves: {own}; orphans (of killed runs) removed by later runs: {removed}; left before the last drift: {left_before}; after it: {left}"
    );
    let folders: Vec<String> = std::fs::read_dir(tmp.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("lockstep-rehearse-"))
        .collect();
    eprintln!("rehearsal folders left in TMPDIR: {}", folders.len());
    assert!(
        wrong.is_empty(),
        "{} of {RUNS} runs ended wrongly; the first:\n{}",
        wrong.len(),
        wrong[0]
    );
    assert_eq!(left, 0, "scratch databases left behind");
    assert!(
        folders.is_empty(),
        "rehearsal folders left in TMPDIR: {folders:?}"
    );
}

/// Waits until a session of `db` runs a query containing `needle`.
fn wait_for_query(url: &str, needle: &str) {
    let start = Instant::now();
    while pg_value(
        url,
        &format!(
            "SELECT count(*)::text FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' AND position('{needle}' in query) > 0 AND pid <> pg_backend_pid()"
        ),
    ) == "0"
    {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no session ran {needle} within 60 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// SIGINT during a deploy says what state the environment is in, and makes it so: the
/// open transaction is rolled back at once (its server process is ended), or the one
/// no-transaction statement that was running is left in doubt for the next deploy.
#[test]
fn sigint_during_a_deploy_says_what_was_rolled_back() {
    for no_tx in [false, true] {
        let Some(db) = TestPg::new("deploy_int") else {
            return;
        };
        let p = Project::new(&[("dev", &db.url)]);
        p.migration("20240701000001", "a", "CREATE TABLE a (id int);\n");
        expect(p.path(), &["deploy", "--env", "dev"], 0);
        let head = if no_tx {
            "-- lockstep:no-transaction\n"
        } else {
            ""
        };
        p.migration(
            "20240701000002",
            "slow",
            &format!("{head}CREATE TABLE during (id int);\nSELECT pg_sleep(60);\n"),
        );
        expect(p.path(), &["hash"], 0);
        let child = spawn(p.path(), &["deploy", "--env", "dev"], &[]);
        let pid = child.id();
        wait_for_query(&db.url, "pg_sleep(60)");
        let _ = std::process::Command::new("kill")
            .args(["-INT", &pid.to_string()])
            .status();
        let r = wait_guarded(child, Duration::from_secs(60));
        let text = r.text();
        eprintln!(
            "no-transaction {no_tx}: exit {:?} after {:.1?}\n{text}",
            r.code(),
            r.took
        );
        assert!(
            !r.killed_by_guard,
            "deploy did not end after SIGINT:\n{text}"
        );
        assert_eq!(r.code(), Some(130), "{text}");
        assert!(text.contains("lockstep status --env dev"), "{text}");
        let during = pg_value(
            &db.url,
            "SELECT (to_regclass('public.during') IS NOT NULL)::text",
        );
        if no_tx {
            assert!(
                text.contains("in doubt") && text.contains("statement 2"),
                "{text}"
            );
            assert_eq!(during, "true", "statement 1 of a no-transaction file stays");
        } else {
            assert!(
                text.contains("rolled back") && text.contains("20240701000002"),
                "{text}"
            );
            assert_eq!(during, "false", "the transaction was not rolled back");
        }
        // The server processes are gone (those whose client closed them exit on their
        // own, a moment later), and with them the deploy lock.
        let start = Instant::now();
        let lockstep_sessions = || {
            pg_value(
                &db.url,
                "SELECT count(*)::text FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'lockstep' AND pid <> pg_backend_pid()",
            )
        };
        while lockstep_sessions() != "0" {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "a session of the interrupted deploy is still there after 10 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(
            pg_value(
                &db.url,
                "SELECT count(*)::text FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            ),
            "0"
        );
    }
}
