//! MySQL and MariaDB test support: uniquely named databases on the server named by
//! `LOCKSTEP_TEST_MYSQL` (default `mysql://root@127.0.0.1:3306/test`), dropped
//! afterwards, and the `mariadb` client and `mariadb-dump` (or their `mysql` names).
//! Skip rules as in support.rs: a missing server or tool prints `SKIPPED: ...` and
//! passes, unless `LOCKSTEP_REQUIRE_SERVICES=1`.

#![allow(dead_code)]

use crate::support::{create_database, rt, skip};
use lockstep_core::model::Database;
use lockstep_db::mysql::inspect::{inspect_with, Verify};
use lockstep_db::{Conn, Db, DbUrl};
use std::path::{Path, PathBuf};
use std::process::Command;

pub fn mysql_admin_url() -> String {
    std::env::var("LOCKSTEP_TEST_MYSQL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into())
}

/// A command-line tool by either of its names (`mariadb` or `mysql`), or None after
/// printing why the test is skipped.
pub fn tool(names: &[&str]) -> Option<PathBuf> {
    for n in names {
        let found = Command::new(n).arg("--version").output();
        if found.is_ok_and(|o| o.status.success()) {
            return Some(PathBuf::from(n));
        }
    }
    skip(&format!("none of {names:?} is installed"));
    None
}

/// Connection arguments for the command-line tools; the password travels in
/// `MYSQL_PWD`, never on the command line.
fn tool_args(url: &str) -> (Vec<String>, Option<String>) {
    // mysql://[user[:password]@]host[:port]/database
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split('/').next().unwrap_or("");
    let (userinfo, hostport) = authority.rsplit_once('@').unwrap_or(("", authority));
    let (user, password) = match userinfo.split_once(':') {
        Some((u, p)) => (u, Some(p.to_string())),
        None => (userinfo, None),
    };
    let (host, port) = hostport.split_once(':').unwrap_or((hostport, "3306"));
    let args = vec![
        format!(
            "--host={}",
            if host.is_empty() { "127.0.0.1" } else { host }
        ),
        format!("--port={port}"),
        format!("--user={}", if user.is_empty() { "root" } else { user }),
        "--protocol=TCP".to_string(),
    ];
    (args, password)
}

/// A database created for one test and dropped when it goes out of scope.
pub struct TestMysql {
    pub name: String,
    pub url: String,
    admin: String,
}

impl TestMysql {
    /// Creates a fresh database, or returns None (after printing why) when the server is
    /// unreachable and services are not required.
    pub fn new(prefix: &str) -> Option<TestMysql> {
        let admin = mysql_admin_url();
        let (name, url) = create_database(&admin, prefix, '`', "MySQL")?;
        Some(TestMysql { name, url, admin })
    }

    pub fn db_url(&self) -> DbUrl {
        DbUrl::parse(&self.url).unwrap()
    }

    pub fn exec(&self, sql: &str) {
        self.try_exec(sql)
            .unwrap_or_else(|e| panic!("{e}\n--- in:\n{sql}"));
    }

    pub fn try_exec(&self, sql: &str) -> Result<(), lockstep_db::DbError> {
        crate::harness::exec(&self.url, sql)
    }

    /// Runs a file with the `mariadb` client, as people load a schema.
    pub fn load_with_client(&self, client: &Path, file: &Path) {
        let (args, pw) = tool_args(&self.url);
        let mut cmd = Command::new(client);
        cmd.args(&args).arg(&self.name);
        if let Some(p) = pw {
            cmd.env("MYSQL_PWD", p);
        }
        let input = std::fs::File::open(file).expect("schema file");
        let o = cmd.stdin(input).output().expect("run the client");
        assert!(
            o.status.success(),
            "{} < {}: {}",
            client.display(),
            file.display(),
            String::from_utf8_lossy(&o.stderr)
        );
    }

    /// Inspects with every table checked against `SHOW CREATE TABLE`.
    pub fn inspect(&self) -> Database {
        self.inspect_with(Verify::All)
    }

    pub fn inspect_with(&self, verify: Verify) -> Database {
        let u = self.db_url();
        rt().block_on(async {
            let mut db = Db::connect(&u, false).await.unwrap();
            let m = match &mut db.conn {
                Conn::Mysql(c) => inspect_with(c, &u, verify).await,
                _ => unreachable!("a mysql:// URL"),
            };
            db.close().await;
            m
        })
        .unwrap_or_else(|e| panic!("{e}"))
    }

    /// `mariadb-dump --no-data --skip-comments` of the database.
    pub fn dump(&self, dumper: &Path) -> String {
        let (args, pw) = tool_args(&self.url);
        let mut cmd = Command::new(dumper);
        cmd.args(&args)
            .args([
                "--no-data",
                "--skip-comments",
                "--routines",
                "--events",
                "--triggers",
            ])
            .arg(&self.name);
        if let Some(p) = pw {
            cmd.env("MYSQL_PWD", p);
        }
        let o = cmd.output().expect("run the dump tool");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    /// The first column of the first row of `sql`, as text (None for no row or NULL).
    pub fn value(&self, sql: &str) -> Option<String> {
        let u = self.db_url();
        rt().block_on(async {
            let mut db = Db::connect(&u, false).await.unwrap();
            let v = match &mut db.conn {
                Conn::Mysql(c) => sqlx::query_scalar::<_, Option<String>>(sqlx::AssertSqlSafe(
                    format!("SELECT CAST(({sql}) AS CHAR)"),
                ))
                .fetch_optional(&mut *c)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"))
                .flatten(),
                _ => unreachable!("a mysql:// URL"),
            };
            db.close().await;
            v
        })
    }

    /// Runs statements on the server outside this database (accounts, cleanup).
    pub fn admin_exec(&self, sql: &str) {
        crate::harness::exec(&self.admin, sql).unwrap_or_else(|e| panic!("{e}"));
    }
}

impl Drop for TestMysql {
    fn drop(&mut self) {
        let drop = format!("DROP DATABASE IF EXISTS `{}`", self.name);
        let _ = crate::harness::exec(&self.admin, &drop);
    }
}

/// A dump in a form two databases can be compared by: sorted lines, with what differs
/// by construction taken out. Each rule is a documented, expected difference:
/// - `AUTO_INCREMENT=N` table options: a counter, not schema;
/// - a trailing comma: element order inside CREATE TABLE follows creation order on the
///   server, and lockstep writes keys and checks in its own order;
/// - the database's name where the dump prints it.
pub fn comparable_dump(dump: &str, database: &str) -> Vec<String> {
    let mut lines: Vec<String> = dump
        .lines()
        .map(|l| {
            let mut l = l.trim_end().trim_end_matches(',').to_string();
            if let Some(p) = l.find(" AUTO_INCREMENT=") {
                let end = l[p + 16..].find(' ').map(|e| p + 16 + e).unwrap_or(l.len());
                l.replace_range(p..end, "");
            }
            l.replace(&format!("`{database}`."), "")
        })
        .filter(|l| !l.is_empty())
        .collect();
    lines.sort();
    lines
}
