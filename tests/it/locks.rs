//! Nothing of lockstep's waits forever on a lock (issue 9, items 8 and 9).
//!
//! - A second session holds `LOCK TABLE t IN ACCESS EXCLUSIVE MODE` in an open
//!   transaction: `check`, `lint --env` and `deploy` each end within their time limit,
//!   naming the blocking session (pid and application_name); no backend of lockstep's is
//!   left waiting; once the lock is released, the deploy succeeds.
//! - Two deploys of a `CREATE INDEX CONCURRENTLY` migration at once: the one waiting for
//!   the deploy lock holds no snapshot, so the index build does not wait for it and
//!   nobody dies of "deadlock detected". The same after a deploy is killed during the
//!   index build: the next one waits for the orphaned build and settles it.
//!
//! The wall-clock guards only turn a hang into a failure; nothing here measures time.

use crate::harness::{self, expect, pg_value, run_guarded, spawn, wait_guarded, Project, Session};
use crate::support::{self, TestPg};
use std::time::Duration;

const GUARD: Duration = Duration::from_secs(120);

/// Sessions on `db` that wait for a lock, other than `except`.
fn waiting_sessions(url: &str, except: &str) -> String {
    pg_value(
        url,
        &format!(
            "SELECT count(*)::text FROM pg_stat_activity WHERE datname = current_database() \
             AND wait_event_type = 'Lock' AND pid <> {except}"
        ),
    )
}

/// A project on `url` with `first` (version, name, SQL) deployed and `then` pending.
fn deployed_then_pending(
    url: &str,
    first: (&str, &str, &str),
    then: (&str, &str, &str),
) -> Project {
    let p = Project::new(&[("dev", url)]);
    p.migration(first.0, first.1, first.2);
    expect(p.path(), &["deploy", "--env", "dev"], 0);
    p.migration(then.0, then.1, then.2);
    expect(p.path(), &["hash"], 0);
    p
}

#[test]
fn a_table_lock_ends_check_lint_and_deploy_within_their_limits() {
    let Some(db) = TestPg::new("locks") else {
        return;
    };
    let p = deployed_then_pending(
        &db.url,
        ("20240101000001", "t", "CREATE TABLE t (id int PRIMARY KEY, v text);\nINSERT INTO t SELECT g, 'x' FROM generate_series(1, 100) g;\n"),
        ("20240101000002", "add_w", "SET lock_timeout = '2s';\nALTER TABLE t ADD COLUMN w int;\n"),
    );

    let app = format!("holder_{}", std::process::id());
    let mut holder = Session::open(&harness::with_app(&db.url, &app));
    holder.exec("BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE");
    let holder_pid = pg_value(
        &db.url,
        &format!("SELECT pid::text FROM pg_stat_activity WHERE application_name = '{app}'"),
    );

    let runs: [(&str, Vec<&str>); 3] = [
        ("check", vec!["check", "--env", "dev"]),
        ("lint --env", vec!["lint", "--env", "dev"]),
        (
            "deploy",
            vec![
                "deploy",
                "--env",
                "dev",
                "--lock-timeout",
                "1s",
                "--lock-retries",
                "2",
            ],
        ),
    ];
    for (what, args) in &runs {
        let r = run_guarded(p.path(), args, GUARD);
        let out = r.text();
        eprintln!("{what}: exit {:?} after {:.1?}\n{out}", r.code(), r.took);
        assert!(
            !r.killed_by_guard,
            "`lockstep {}` still waited after {GUARD:?} behind the lock:\n{out}",
            args.join(" ")
        );
        assert_ne!(
            r.code(),
            Some(0),
            "{what} passed behind a held lock:\n{out}"
        );
        assert!(
            out.contains(&format!("pid {holder_pid}")) && out.contains(&app),
            "{what} does not name the blocking session (pid {holder_pid}, application {app}):\n{out}"
        );
        assert!(
            out.contains("hint:"),
            "{what} says nothing about what to do:\n{out}"
        );
        // A lockstep backend whose client is gone must not sit in the lock queue.
        let mut waiting = waiting_sessions(&db.url, &holder_pid);
        for _ in 0..100 {
            if waiting == "0" {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
            waiting = waiting_sessions(&db.url, &holder_pid);
        }
        assert_eq!(waiting, "0", "{what} left a backend waiting for the lock");
    }
    // The deploy's migration waited on its own `SET lock_timeout = '2s'`, not lockstep's 1 s.
    let r = run_guarded(
        p.path(),
        &["deploy", "--env", "dev", "--lock-retries", "0"],
        GUARD,
    );
    assert!(
        r.text()
            .contains("2s (the lock_timeout the migration sets)"),
        "the message does not report the migration's own lock_timeout:\n{}",
        r.text()
    );

    holder.exec("COMMIT");
    holder.close();
    let r = expect(p.path(), &["deploy", "--env", "dev"], 0);
    eprintln!("after the lock is released: {}", r.text());
    assert_eq!(
        pg_value(
            &db.url,
            "SELECT count(*)::text FROM information_schema.columns WHERE table_name = 't' AND column_name = 'w'"
        ),
        "1"
    );
    let r = expect(p.path(), &["status", "--env", "dev"], 0);
    assert!(
        !r.text().contains("fix the migration"),
        "status blames the migration for a lock timeout:\n{}",
        r.text()
    );
}

#[test]
fn two_deploys_of_a_concurrent_index_both_succeed() {
    for trial in 1..=3 {
        let Some(db) = TestPg::new("cic_pair") else {
            return;
        };
        let p = deployed_then_pending(
            &db.url,
            ("20240201000001", "big", "CREATE TABLE big (id int PRIMARY KEY, v int);\nINSERT INTO big SELECT g, g % 997 FROM generate_series(1, 200000) g;\n"),
            ("20240201000002", "big_v", "-- lockstep:no-transaction\nCREATE INDEX CONCURRENTLY big_v ON big (v);\n"),
        );
        let a = spawn(p.path(), &["deploy", "--env", "dev"], &[]);
        let b = spawn(p.path(), &["deploy", "--env", "dev"], &[]);
        let (ra, rb) = (wait_guarded(a, GUARD), wait_guarded(b, GUARD));
        for (who, r) in [("first", &ra), ("second", &rb)] {
            assert!(
                !r.killed_by_guard && r.code() == Some(0),
                "trial {trial}: the {who} deploy exited {:?}:\n{}",
                r.code(),
                r.text()
            );
        }
        assert_eq!(
            pg_value(
                &db.url,
                "SELECT count(*)::text FROM lockstep.history WHERE outcome <> 'applied'"
            ),
            "0",
            "trial {trial}: a failed history row"
        );
        assert_eq!(
            pg_value(
                &db.url,
                "SELECT count(*)::text FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 'big_v' AND i.indisvalid"
            ),
            "1",
            "trial {trial}: the index is not there and valid"
        );
        let both = format!("{}{}", ra.text(), rb.text());
        assert!(
            both.contains("nothing to deploy"),
            "trial {trial}: one deploy should have found nothing left to do:\n{both}"
        );
        drop(db);
        let _ = support::pg_admin_url();
    }
}

#[test]
fn a_deploy_after_one_killed_during_an_index_build_waits_and_settles_it() {
    let Some(db) = TestPg::new("cic_kill") else {
        return;
    };
    let p = deployed_then_pending(
        &db.url,
        ("20240201000001", "big", "CREATE TABLE big (id int PRIMARY KEY, v int);\nINSERT INTO big SELECT g, g % 997 FROM generate_series(1, 50000) g;\n"),
        ("20240201000002", "big_v", "-- lockstep:no-transaction\nCREATE INDEX CONCURRENTLY big_v ON big (v);\n"),
    );
    // A writer keeps the index build waiting in its first phase, so that the kill lands
    // inside it and the next deploy starts waiting before the build takes the snapshot
    // whose elders it waits for.
    let mut old = Session::open(&harness::with_app(&db.url, "writer"));
    old.exec("BEGIN; LOCK TABLE big IN ROW EXCLUSIVE MODE");
    let first = spawn(p.path(), &["deploy", "--env", "dev"], &[]);
    let start = std::time::Instant::now();
    while pg_value(
        &db.url,
        "SELECT count(*)::text FROM pg_stat_activity WHERE position('CREATE INDEX CONCURRENTLY' in query) > 0 AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()",
    ) == "0"
    {
        assert!(start.elapsed() < GUARD, "the index build never waited");
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = std::process::Command::new("kill")
        .args(["-KILL", &first.id().to_string()])
        .status();
    let killed = wait_guarded(first, GUARD);
    assert_eq!(killed.code(), None, "{}", killed.text());
    // The killed deploy's server process still builds the index and holds the deploy
    // lock; the next deploy waits for it.
    let next = spawn(p.path(), &["deploy", "--env", "dev"], &[]);
    std::thread::sleep(Duration::from_millis(1500));
    old.exec("COMMIT");
    old.close();
    let r = wait_guarded(next, GUARD);
    let text = r.text();
    eprintln!("{text}");
    assert!(
        !r.killed_by_guard && r.code() == Some(0),
        "the deploy after the kill exited {:?}:\n{text}",
        r.code()
    );
    // The orphaned build finished: nobody's wait made it fail ("deadlock detected") and
    // left an INVALID index for the next deploy to drop and build again.
    assert!(
        text.contains("it took effect"),
        "the orphaned index build did not finish:\n{text}"
    );
    assert_eq!(
        pg_value(
            &db.url,
            "SELECT count(*)::text FROM lockstep.history WHERE outcome <> 'applied'"
        ),
        "0",
        "a failed history row"
    );
    assert_eq!(
        pg_value(
            &db.url,
            "SELECT count(*)::text FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 'big_v' AND i.indisvalid"
        ),
        "1",
        "the index is not there and valid"
    );
}

#[test]
fn inspection_behind_a_locked_view_gives_up_and_names_the_session() {
    let Some(db) = TestPg::new("locks_view") else {
        return;
    };
    db.exec("CREATE TABLE t (id int); CREATE VIEW v AS SELECT id FROM t;");
    let p = Project::new(&[("dev", &db.url)]);
    let app = format!("view_holder_{}", std::process::id());
    let mut holder = Session::open(&harness::with_app(&db.url, &app));
    // What CREATE OR REPLACE VIEW in an open transaction holds: pg_get_viewdef waits.
    holder.exec("BEGIN; LOCK TABLE v IN ACCESS EXCLUSIVE MODE");
    let r = run_guarded(p.path(), &["inspect", "dev"], GUARD);
    let out = r.text();
    eprintln!("inspect: exit {:?} after {:.1?}\n{out}", r.code(), r.took);
    assert!(
        !r.killed_by_guard,
        "inspect still waited after {GUARD:?}:\n{out}"
    );
    assert_eq!(r.code(), Some(2), "{out}");
    assert!(
        out.contains("view v") && out.contains(&app) && out.contains("hint:"),
        "inspect does not say what it waited for and whose session holds it:\n{out}"
    );
    holder.exec("ROLLBACK");
}
