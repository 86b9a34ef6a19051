//! Out of shared memory names its cause (issue 9, item 18).
//!
//! A throwaway PostgreSQL server with the smallest lock table (`max_locks_per_transaction
//! = 10`, `max_connections = 10`), started by the test from /usr/lib/postgresql/15/bin
//! on a free port and removed afterwards, so that a deploy of a few hundred tables in one
//! transaction runs out of lock slots without touching the shared server. The error must
//! keep the server's hint, say that the size of the one transaction is the cause (not the
//! statement), say what to do, and the history row must not make `status` tell people to
//! fix the migration.

use crate::harness::{expect, pg_value, Project};
use crate::support;
use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = "/usr/lib/postgresql/15/bin";

/// A PostgreSQL server of the test's own, stopped and removed on drop.
pub(crate) struct Throwaway {
    dir: tempfile::TempDir,
    data: PathBuf,
    port: u16,
    as_postgres: bool,
}

impl Throwaway {
    /// Starts one, or returns None (after printing why) when the binaries are missing.
    pub(crate) fn start(settings: &[(&str, &str)]) -> Option<Throwaway> {
        if !Path::new(BIN).join("initdb").exists() {
            let msg = format!("{BIN}/initdb is missing");
            if support::require_services() {
                panic!("LOCKSTEP_REQUIRE_SERVICES=1 but {msg}");
            }
            eprintln!("SKIPPED: {msg}");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        // initdb refuses to run as root: run the server as the `postgres` OS user then.
        let as_postgres = Command::new("id")
            .arg("-u")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
            .unwrap_or(false);
        if as_postgres {
            let st = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .unwrap();
            assert!(st.success(), "chown the throwaway server's folder");
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let t = Throwaway {
            dir,
            data,
            port,
            as_postgres,
        };
        let o = t
            .pg("initdb")
            .args(["-A", "trust", "-U", "postgres", "--no-sync", "-D"])
            .arg(&t.data)
            .output()
            .unwrap();
        assert!(o.status.success(), "initdb: {o:?}");
        let mut opts = format!(
            "-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={} -c fsync=off",
            t.dir.path().display()
        );
        for (k, v) in settings {
            opts.push_str(&format!(" -c {k}={v}"));
        }
        let o = t
            .pg("pg_ctl")
            .args(["-w", "-l"])
            .arg(t.dir.path().join("log"))
            .args(["-o", &opts, "-D"])
            .arg(&t.data)
            .arg("start")
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "pg_ctl start: {o:?}\n{}",
            std::fs::read_to_string(t.dir.path().join("log")).unwrap_or_default()
        );
        Some(t)
    }

    fn pg(&self, tool: &str) -> Command {
        let path = format!("{BIN}/{tool}");
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--", &path]);
            c
        } else {
            Command::new(path)
        }
    }

    pub(crate) fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }
}

impl Drop for Throwaway {
    fn drop(&mut self) {
        let _ = self
            .pg("pg_ctl")
            .args(["-m", "immediate", "-D"])
            .arg(&self.data)
            .arg("stop")
            .output();
    }
}

#[test]
fn out_of_shared_memory_names_the_transaction_not_the_migration() {
    let Some(server) = Throwaway::start(&[
        ("max_locks_per_transaction", "10"),
        ("max_connections", "10"),
    ]) else {
        return;
    };
    crate::harness::exec(&server.url("postgres"), "CREATE DATABASE app")
        .unwrap_or_else(|e| panic!("{e}"));
    let url = server.url("app");
    let p = Project::new(&[("dev", &url)]);
    p.migration("20240601000001", "base", "CREATE TABLE base (id int);\n");
    let mut many = String::new();
    for i in 1..=600 {
        many.push_str(&format!(
            "CREATE TABLE t{i} (id int PRIMARY KEY, v text);\n"
        ));
    }
    p.migration("20240601000002", "many_tables", &many);
    let r = expect(p.path(), &["deploy", "--env", "dev"], 1);
    let text = r.text();
    eprintln!("{text}");
    assert!(text.contains("out of shared memory"), "{text}");
    assert!(
        text.contains("max_locks_per_transaction"),
        "the server's hint was dropped:\n{text}"
    );
    assert!(
        text.contains("size of the one transaction") && text.contains("not the statement"),
        "the error does not name the transaction's size as the cause:\n{text}"
    );
    for what in [
        "--to",
        "lockstep:no-transaction",
        "max_locks_per_transaction",
    ] {
        assert!(text.contains(what), "no `{what}` in what to do:\n{text}");
    }
    // Nothing of the transaction stayed.
    assert_eq!(
        pg_value(
            &url,
            "SELECT count(*)::text FROM pg_class WHERE relname IN ('base', 't1')"
        ),
        "0"
    );
    let row = pg_value(
        &url,
        "SELECT outcome || ': ' || coalesce(error, '') FROM lockstep.history ORDER BY id DESC LIMIT 1",
    );
    assert!(row.contains("out of shared memory"), "history row: {row}");
    let r = crate::harness::run_guarded(
        p.path(),
        &["status", "--env", "dev"],
        std::time::Duration::from_secs(60),
    );
    let status = r.text();
    eprintln!("{status}");
    assert!(
        !status.contains("fix the migration"),
        "status tells people to edit a migration that only ran out of lock slots:\n{status}"
    );
    assert!(status.contains("out of shared memory"), "{status}");
    // In smaller steps, it goes through.
    expect(
        p.path(),
        &["deploy", "--env", "dev", "--to", "20240601000001"],
        0,
    );
}
