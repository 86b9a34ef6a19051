//! Deploy, status, drift and rollback on MariaDB (issue 12), with a real MySQL migration
//! history: Roundcube's MySQL upgrade scripts from the corpus.
//!
//! The corpus has no MySQL history that starts from an empty database (Roundcube's
//! upgrades start at its 0.1 schema, which is not in the corpus), so the history here
//! is: a base at version 2016112200, derived from Roundcube's `mysql.initial.sql` by
//! taking out what the later upgrades add (see `base`), then Roundcube's own upgrade
//! files 2018021600 to 2021081000, verbatim. The down files are written here.
//!
//! - The history deployed by lockstep equals the same files run by the `mariadb` client
//!   (`lockstep diff`), drift is clean, 20 kinds of out-of-band change are one drift
//!   item each, and rollback to 0 leaves only lockstep's own tables.
//! - SIGKILL at random moments of the deploy: status names the statement in doubt,
//!   the lock is free, and the next deploy ends identical to the reference.
//!   `LOCKSTEP_MYSQL_KILL_TRIALS` sets the number of trials (10 by default;
//!   bench/mysql_kill.sh runs 50).
//! - A migration that fails at statement 3 of 5.

use crate::harness::{expect, spawn, wait_guarded, Project, Rng};
use crate::mysql_support::{tool, TestMysql};
use crate::support::corpus;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const UPGRADES: [&str; 8] = [
    "2018021600",
    "2018122300",
    "2019092900",
    "2020020100",
    "2020020101",
    "2020091000",
    "2020122900",
    "2021081000",
];

/// The tables Roundcube's foreign keys point from, with the key's name.
const USER_FKS: [(&str, &str); 10] = [
    ("cache", "user_id_fk_cache"),
    ("cache_index", "user_id_fk_cache_index"),
    ("cache_thread", "user_id_fk_cache_thread"),
    ("cache_messages", "user_id_fk_cache_messages"),
    ("contactgroups", "user_id_fk_contactgroups"),
    ("contacts", "user_id_fk_contacts"),
    ("dictionary", "user_id_fk_dictionary"),
    ("filestore", "user_id_fk_filestore"),
    ("identities", "user_id_fk_identities"),
    ("searches", "user_id_fk_searches"),
];

/// Roundcube's schema as it was after its 2016112200 upgrade: `mysql.initial.sql`
/// without the tables later upgrades create, in utf8 (utf8mb3) without a row format
/// (2020020101 converts), with `language` as varchar(5) (2020020100 widens it).
fn base(initial: &str) -> String {
    let mut sql = initial.to_string();
    for t in ["collected_addresses", "responses", "filestore"] {
        let head = format!("-- Table structure for table `{t}`");
        let at = sql.find(&head).expect("table in mysql.initial.sql");
        let end = sql[at..].find(";\n").expect("end of CREATE TABLE") + at + 2;
        sql.replace_range(at..end, "");
    }
    sql.replace(" ROW_FORMAT=DYNAMIC", "")
        .replace("utf8mb4_unicode_ci", "utf8_general_ci")
        .replace("utf8mb4", "utf8")
        .replace("`language` varchar(16)", "`language` varchar(5)")
        .replace("'2022081200'", "'2016112200'")
}

/// The down file of each upgrade.
fn down(version: &str) -> String {
    match version {
        "2016112200" => "SET FOREIGN_KEY_CHECKS=0;\nDROP TABLE `session`, `users`, `cache`, `cache_shared`, `cache_index`, `cache_thread`, `cache_messages`, `contacts`, `contactgroups`, `contactgroupmembers`, `identities`, `dictionary`, `searches`, `system`;\nSET FOREIGN_KEY_CHECKS=1;\n".into(),
        "2018021600" => "DROP TABLE `filestore`;\n".into(),
        "2018122300" => "ALTER TABLE `filestore` DROP FOREIGN KEY `user_id_fk_filestore`;
ALTER TABLE `filestore` DROP INDEX `uniqueness`;
ALTER TABLE `filestore` ADD UNIQUE INDEX `uniqueness` (`user_id`, `filename`);
ALTER TABLE `filestore` DROP COLUMN `context`;
ALTER TABLE `filestore` ADD CONSTRAINT `user_id_fk_filestore` FOREIGN KEY (`user_id`)
    REFERENCES `users` (`user_id`) ON DELETE CASCADE ON UPDATE CASCADE;\n"
            .into(),
        "2019092900" => "-- 2016112200 already made these keys binary.\nSELECT 1;\n".into(),
        "2020020100" => "ALTER TABLE `users` MODIFY `language` varchar(5);\nALTER TABLE `dictionary` MODIFY `language` varchar(5) NOT NULL;\n".into(),
        "2020020101" => {
            let mut s = String::from("-- Back to utf8 (utf8mb3) and the default row format.\n");
            for (t, fk) in USER_FKS {
                s += &format!("ALTER TABLE `{t}` DROP FOREIGN KEY `{fk}`;\n");
            }
            for t in [
                "session", "users", "cache", "cache_shared", "cache_index", "cache_thread",
                "cache_messages", "contacts", "contactgroups", "identities", "dictionary",
                "searches", "filestore", "system",
            ] {
                s += &format!("ALTER TABLE `{t}` CONVERT TO CHARACTER SET utf8 COLLATE utf8_general_ci, ROW_FORMAT=DEFAULT;\n");
            }
            s += "ALTER TABLE `contactgroupmembers` ROW_FORMAT=DEFAULT;\n";
            for (t, fk) in USER_FKS {
                s += &format!("ALTER TABLE `{t}` ADD CONSTRAINT `{fk}` FOREIGN KEY (`user_id`) REFERENCES `users` (`user_id`) ON DELETE CASCADE ON UPDATE CASCADE;\n");
            }
            s
        }
        "2020091000" => "DROP TABLE `collected_addresses`;\n".into(),
        "2020122900" => "-- empty\n".into(),
        "2021081000" => "DROP TABLE `responses`;\n".into(),
        v => unreachable!("{v}"),
    }
}

/// A project with the Roundcube history and one environment `prod`, and the up files
/// in order; None (after saying why) without the corpus.
fn roundcube(url: &str) -> Option<(Project, Vec<PathBuf>)> {
    let sql = corpus("debian/usr/share/roundcube/SQL")?;
    let p = Project::new(&[("prod", url)]);
    let dir = p.path().join("migrations");
    let initial = std::fs::read_to_string(sql.join("mysql.initial.sql")).unwrap();
    let mut ups = vec![dir.join("2016112200_base.up.sql")];
    std::fs::write(&ups[0], base(&initial)).unwrap();
    for v in UPGRADES {
        let up = dir.join(format!("{v}_roundcube.up.sql"));
        std::fs::copy(sql.join(format!("mysql/{v}.sql")), &up).unwrap();
        ups.push(up);
    }
    for v in std::iter::once("2016112200").chain(UPGRADES) {
        let name = if v == "2016112200" {
            "base"
        } else {
            "roundcube"
        };
        std::fs::write(dir.join(format!("{v}_{name}.down.sql")), down(v)).unwrap();
    }
    Some((p, ups))
}

/// The reference: the same files run by the `mariadb` client, in order.
fn reference(ups: &[PathBuf]) -> Option<TestMysql> {
    let client = tool(&["mariadb", "mysql"])?;
    let r = TestMysql::new("rc_ref")?;
    for f in ups {
        r.load_with_client(&client, f);
    }
    Some(r)
}

fn json(dir: &Path, args: &[&str], code: i32) -> Value {
    let r = expect(dir, args, code);
    serde_json::from_slice(&r.out.stdout)
        .unwrap_or_else(|e| panic!("`lockstep {}`: {e}\n{}", args.join(" "), r.text()))
}

/// Tables, views, routines, events and triggers in the database, by name.
fn objects(db: &TestMysql) -> String {
    db.value(
        "SELECT GROUP_CONCAT(n ORDER BY n) FROM (
           SELECT TABLE_NAME AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()
           UNION ALL SELECT ROUTINE_NAME FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE()
           UNION ALL SELECT EVENT_NAME FROM information_schema.EVENTS WHERE EVENT_SCHEMA = DATABASE()
           UNION ALL SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()) o",
    )
    .unwrap_or_default()
}

/// Out-of-band changes of 20 kinds, each with the statement that reverts it.
const OUT_OF_BAND: [(&str, &str, &str); 20] = [
    ("a column added", "ALTER TABLE users ADD COLUMN bi_segment varchar(20)", "ALTER TABLE users DROP COLUMN bi_segment"),
    ("a column dropped", "ALTER TABLE contacts DROP COLUMN words", "ALTER TABLE contacts ADD COLUMN words mediumtext AFTER vcard"),
    ("a column's type", "ALTER TABLE session MODIFY ip varchar(60) NOT NULL", "ALTER TABLE session MODIFY ip varchar(40) NOT NULL"),
    ("a column's nullability", "ALTER TABLE identities MODIFY name varchar(128) NULL", "ALTER TABLE identities MODIFY name varchar(128) NOT NULL"),
    ("a column's default", "ALTER TABLE contacts ALTER del SET DEFAULT 1", "ALTER TABLE contacts ALTER del SET DEFAULT 0"),
    ("a column's collation", "ALTER TABLE contacts MODIFY name varchar(128) COLLATE utf8mb4_bin NOT NULL DEFAULT ''", "ALTER TABLE contacts MODIFY name varchar(128) COLLATE utf8mb4_unicode_ci NOT NULL DEFAULT ''"),
    ("a column's comment", "ALTER TABLE session MODIFY vars longtext NOT NULL COMMENT 'bi'", "ALTER TABLE session MODIFY vars longtext NOT NULL"),
    ("ON UPDATE on a column", "ALTER TABLE users MODIFY last_login datetime NULL ON UPDATE CURRENT_TIMESTAMP", "ALTER TABLE users MODIFY last_login datetime NULL"),
    ("an index added", "CREATE INDEX bi_created ON users (created)", "DROP INDEX bi_created ON users"),
    ("an index dropped", "DROP INDEX changed_index ON session", "CREATE INDEX changed_index ON session (changed)"),
    ("an index's columns", "ALTER TABLE identities DROP INDEX email_identities_index, ADD INDEX email_identities_index (email)", "ALTER TABLE identities DROP INDEX email_identities_index, ADD INDEX email_identities_index (email, del)"),
    ("an index ignored", "ALTER TABLE contacts ALTER INDEX user_contacts_index IGNORED", "ALTER TABLE contacts ALTER INDEX user_contacts_index NOT IGNORED"),
    ("a foreign key dropped", "ALTER TABLE searches DROP FOREIGN KEY user_id_fk_searches", "ALTER TABLE searches ADD CONSTRAINT user_id_fk_searches FOREIGN KEY (user_id) REFERENCES users (user_id) ON DELETE CASCADE ON UPDATE CASCADE"),
    ("a CHECK added", "ALTER TABLE users ADD CONSTRAINT bi_chk CHECK (failed_login_counter < 100)", "ALTER TABLE users DROP CONSTRAINT bi_chk"),
    ("a table created", "CREATE TABLE bi_sales (id int PRIMARY KEY, total decimal(10,2))", "DROP TABLE bi_sales"),
    ("a table's row format", "ALTER TABLE `system` ROW_FORMAT=COMPACT", "ALTER TABLE `system` ROW_FORMAT=DYNAMIC"),
    ("a table's comment", "ALTER TABLE users COMMENT = 'bi'", "ALTER TABLE users COMMENT = ''"),
    ("a view", "CREATE VIEW bi_active AS SELECT user_id, username FROM users WHERE last_login IS NOT NULL", "DROP VIEW bi_active"),
    ("a trigger", "CREATE TRIGGER bi_lang BEFORE INSERT ON users FOR EACH ROW SET NEW.language = COALESCE(NEW.language, 'en_US')", "DROP TRIGGER bi_lang"),
    ("a procedure", "CREATE PROCEDURE bi_purge() DELETE FROM session WHERE changed < NOW() - INTERVAL 1 DAY", "DROP PROCEDURE bi_purge"),
];

#[test]
fn a_real_history_deploys_as_the_client_applies_it_and_rolls_back_to_nothing() {
    let Some(target) = TestMysql::new("rc") else {
        return;
    };
    let Some((p, ups)) = roundcube(&target.url) else {
        return;
    };
    let Some(reference) = reference(&ups) else {
        return;
    };
    let dir = p.path();

    let r = expect(dir, &["deploy", "--env", "prod"], 0);
    eprintln!("{}", r.text());
    let r = expect(dir, &["diff", &reference.url, "prod"], 0);
    eprintln!("{}", r.text());
    let status = json(dir, &["status", "--format", "json"], 0);
    let env = &status["environments"][0];
    assert_eq!(env["current"], "2021081000", "{status}");
    assert_eq!(env["applied"].as_array().unwrap().len(), 9, "{status}");
    assert_eq!(env["problems"].as_array().unwrap().len(), 0, "{status}");
    expect(dir, &["drift", "--env", "prod"], 0);

    // Each out-of-band change is one drift item, and gone once reverted.
    for (kind, change, revert) in OUT_OF_BAND {
        target.exec(change);
        let d = json(dir, &["drift", "--env", "prod", "--format", "json"], 1);
        let items = d["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{kind}: `{change}` gave {d:#}");
        eprintln!(
            "{kind}: {} {} {}",
            items[0]["kind"], items[0]["object"], items[0]["change"]
        );
        target.exec(revert);
    }
    let r = expect(dir, &["drift", "--env", "prod"], 0);
    eprintln!("after reverting all 20: {}", r.text());

    let r = expect(dir, &["rollback", "--env", "prod", "--to", "0", "--yes"], 0);
    eprintln!("{}", r.text());
    assert_eq!(objects(&target), "lockstep_history,lockstep_progress");
    let status = json(dir, &["status", "--format", "json"], 0);
    assert_eq!(
        status["environments"][0]["applied"],
        Value::Array(vec![]),
        "{status}"
    );
}

/// What one killed deploy left, and how it ended.
#[derive(Default, Debug)]
struct Tally {
    trials: usize,
    finished_before_kill: usize,
    in_doubt: usize,
    named_by_status: usize,
    settled_from_schema: usize,
    settled_done: usize,
    settled_retry: usize,
    asked_for_resolve: usize,
    lock_free: usize,
    identical: usize,
}

#[test]
fn killed_deploys_leave_one_named_statement_and_resume_to_the_reference() {
    let trials: usize = std::env::var("LOCKSTEP_MYSQL_KILL_TRIALS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let Some(probe) = TestMysql::new("rc_kill") else {
        return;
    };
    let Some((files, ups)) = roundcube(&probe.url) else {
        return;
    };
    let Some(reference) = reference(&ups) else {
        return;
    };
    drop((probe, files));
    // How long a whole deploy takes here: kills fall anywhere within it.
    let span = {
        let t = TestMysql::new("rc_kill").unwrap();
        let (p, _) = roundcube(&t.url).unwrap();
        let start = Instant::now();
        expect(p.path(), &["deploy", "--env", "prod"], 0);
        start.elapsed()
    };
    let mut rng = Rng::new(0x5eed_0012);
    let mut n = Tally::default();
    for trial in 0..trials {
        n.trials += 1;
        let t = TestMysql::new("rc_kill").unwrap();
        let (p, _) = roundcube(&t.url).unwrap();
        let dir = p.path();
        // lockstep.sum is written before the lock is taken: kill after that.
        expect(dir, &["hash"], 0);
        let at = Duration::from_millis(rng.below(span.as_millis() as u64 + 1));
        let mut child = spawn(dir, &["deploy", "--env", "prod"], &[]);
        std::thread::sleep(at);
        if child.try_wait().unwrap().is_some() {
            n.finished_before_kill += 1;
        }
        let _ = child.kill();
        let _ = child.wait();

        // The statement in doubt, as lockstep's progress table has it.
        let started = if t.value("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'lockstep_progress'").as_deref() == Some("1") {
            t.value("SELECT CONCAT(version, ' statement ', statement_no) FROM lockstep_progress WHERE state = 'started'")
        } else {
            None
        };
        let status = wait_guarded(
            spawn(dir, &["status", "--format", "json"], &[]),
            Duration::from_secs(120),
        );
        let text = String::from_utf8_lossy(&status.out.stdout).to_string();
        if let Some(s) = &started {
            n.in_doubt += 1;
            let (version, no) = s.split_once(' ').unwrap();
            let named = text.contains(&format!("migration {version}: {no}"));
            assert!(named, "trial {trial}: status does not name {s}:\n{text}");
            assert_eq!(status.code(), Some(1), "trial {trial}: {text}");
            n.named_by_status += 1;
        }
        // The lock dies with the connection; the server may still be finishing the
        // statement the connection was running.
        let lock = format!("SELECT IS_FREE_LOCK(CONCAT('lockstep:', '{}'))", t.name);
        let deadline = Instant::now() + Duration::from_secs(30);
        while t.value(&lock).as_deref() != Some("1") && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        assert_eq!(
            t.value(&lock).as_deref(),
            Some("1"),
            "trial {trial}: lock held"
        );
        n.lock_free += 1;

        let r = wait_guarded(
            spawn(dir, &["deploy", "--env", "prod"], &[]),
            Duration::from_secs(300),
        );
        let out = r.text();
        if r.code() == Some(1) && out.contains("--resolve") {
            n.asked_for_resolve += 1;
            // Only a statement that changes data, not schema, is left to the user:
            // here the one INSERT and the one UPDATE. The INSERT took effect when its
            // row is there; running the UPDATE again changes nothing.
            let inserted = t
                .value("SELECT COUNT(*) FROM `system`")
                .is_some_and(|c| c == "1");
            let how = if out.contains("INSERT INTO `system`") && inserted {
                "done"
            } else {
                "retry"
            };
            eprintln!("trial {trial}: asked, resolving {how}: {out}");
            expect(dir, &["deploy", "--env", "prod", "--resolve", how], 0);
        } else {
            assert_eq!(r.code(), Some(0), "trial {trial}: {out}");
            if started.is_some() {
                assert!(out.contains("was in doubt"), "trial {trial}: {out}");
                n.settled_from_schema += 1;
                if out.contains("it took effect") {
                    n.settled_done += 1;
                } else {
                    n.settled_retry += 1;
                }
            }
        }
        expect(dir, &["diff", &reference.url, "prod"], 0);
        let status = json(dir, &["status", "--format", "json"], 0);
        assert_eq!(status["environments"][0]["current"], "2021081000");
        n.identical += 1;
        eprintln!("trial {trial}: killed at {at:?}, in doubt: {started:?}");
    }
    eprintln!("MYSQL KILL TRIALS: {n:?} (a deploy takes {span:?})");
    assert_eq!(n.identical, trials);
}

const SHOP: &str = "CREATE TABLE customers (id int PRIMARY KEY, name varchar(100) NOT NULL);\n";
const LOYALTY: &str = "-- Five statements; the third names a column that does not exist.
CREATE TABLE loyalty_tiers (id int PRIMARY KEY, name varchar(40) NOT NULL);
ALTER TABLE customers ADD COLUMN tier_id int;
ALTER TABLE customers ADD INDEX customers_tier (tier);
ALTER TABLE customers ADD CONSTRAINT customers_tier_fk FOREIGN KEY (tier_id) REFERENCES loyalty_tiers (id);
INSERT INTO loyalty_tiers VALUES (1, 'gold');
";
/// Written to undo any prefix of the up script (IF EXISTS), as a compensating step must.
const LOYALTY_DOWN: &str = "ALTER TABLE customers DROP FOREIGN KEY IF EXISTS customers_tier_fk;
ALTER TABLE customers DROP INDEX IF EXISTS customers_tier;
ALTER TABLE customers DROP COLUMN IF EXISTS tier_id;
DROP TABLE IF EXISTS loyalty_tiers;
";

#[test]
fn a_migration_failing_at_statement_3_of_5_says_what_ran_and_is_compensated_by_its_down() {
    let Some(target) = TestMysql::new("fail3") else {
        return;
    };
    let Some(before) = TestMysql::new("fail3_ref") else {
        return;
    };
    let p = Project::new(&[("prod", &target.url)]);
    let dir = p.path();
    let m = dir.join("migrations");
    std::fs::write(m.join("20260101000000_shop.up.sql"), SHOP).unwrap();
    std::fs::write(
        m.join("20260101000000_shop.down.sql"),
        "DROP TABLE customers;\n",
    )
    .unwrap();
    let up = m.join("20260102000000_loyalty.up.sql");
    std::fs::write(&up, LOYALTY).unwrap();
    std::fs::write(m.join("20260102000000_loyalty.down.sql"), LOYALTY_DOWN).unwrap();
    before.exec(SHOP);

    let r = expect(dir, &["deploy", "--env", "prod"], 1);
    let out = r.text();
    eprintln!("$ lockstep deploy --env prod\n{out}");
    assert!(out.contains("20260102000000_loyalty.up.sql:4"), "{out}");
    assert!(out.contains("Key column 'tier' doesn't exist"), "{out}");
    assert!(
        out.contains("statements 1–2 of migration 20260102000000 ran and stay applied"),
        "{out}"
    );
    assert!(out.contains("20260102000000_loyalty.down.sql"), "{out}");
    assert!(
        out.contains("lockstep rollback --env prod --to 20260101000000"),
        "{out}"
    );
    // Statements 1 and 2 did run: MariaDB committed each.
    assert_eq!(
        target.value("SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'customers' AND COLUMN_NAME = 'tier_id'").as_deref(),
        Some("1")
    );

    let r = expect(dir, &["status"], 1);
    let out = r.text();
    eprintln!("$ lockstep status\n{out}");
    assert!(
        out.contains("failed on its last run at statement 3"),
        "{out}"
    );
    assert!(
        out.contains("statements 1–2 of it ran and stay applied"),
        "{out}"
    );
    let status = json(dir, &["status", "--format", "json"], 1);
    let problem = &status["environments"][0]["problem_details"][0];
    assert_eq!(problem["ran"], serde_json::json!([1, 2]), "{status}");
    assert_eq!(problem["rollback_to"], "20260101000000", "{status}");

    // The compensating down: the database is as migration 1 left it.
    let r = expect(
        dir,
        &[
            "rollback",
            "--env",
            "prod",
            "--to",
            "20260101000000",
            "--yes",
        ],
        0,
    );
    eprintln!(
        "$ lockstep rollback --env prod --to 20260101000000 --yes\n{}",
        r.text()
    );
    expect(dir, &["diff", &before.url, "prod"], 0);
    let status = json(dir, &["status", "--format", "json"], 0);
    let env = &status["environments"][0];
    assert_eq!(env["current"], "20260101000000", "{status}");
    assert_eq!(env["problems"], serde_json::json!([]), "{status}");

    // The other way forward: fail again, fix statement 3, and the deploy resumes there.
    expect(dir, &["deploy", "--env", "prod"], 1);
    std::fs::write(&up, LOYALTY.replace("(tier);", "(tier_id);")).unwrap();
    expect(dir, &["hash"], 0);
    let r = expect(dir, &["deploy", "--env", "prod"], 0);
    eprintln!(
        "$ lockstep deploy --env prod   # statement 3 fixed\n{}",
        r.text()
    );
    before.exec(&LOYALTY.replace("(tier);", "(tier_id);"));
    expect(dir, &["diff", &before.url, "prod"], 0);
    assert_eq!(
        target
            .value("SELECT COUNT(*) FROM loyalty_tiers")
            .as_deref(),
        Some("1")
    );
}
