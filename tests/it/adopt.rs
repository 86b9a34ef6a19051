//! Switching tools: lockstep adopts another tool's history table, re-runs nothing, and
//! never writes to that table.

use crate::cli::lockstep;
use crate::support::TestSqlite;

struct Tool {
    name: &'static str,
    layout: &'static str,
    files: &'static [(&'static str, &'static str)],
    history: &'static str,
}

const TOOLS: &[Tool] = &[
    Tool {
        name: "diesel",
        layout: "diesel",
        files: &[
            ("2020-01-01-000001_a/up.sql", "CREATE TABLE a (id INTEGER PRIMARY KEY);"),
            ("2020-01-01-000002_b/up.sql", "CREATE TABLE b (id INTEGER PRIMARY KEY);"),
            ("2020-01-01-000003_c/up.sql", "CREATE TABLE c (id INTEGER PRIMARY KEY);"),
        ],
        history: "CREATE TABLE __diesel_schema_migrations (version VARCHAR(50) PRIMARY KEY NOT NULL, run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP);
                  INSERT INTO __diesel_schema_migrations (version) VALUES ('20200101000001'), ('20200101000002');",
    },
    Tool {
        name: "sqlx",
        layout: "sqlx",
        files: &[
            ("1_a.sql", "CREATE TABLE a (id INTEGER PRIMARY KEY);"),
            ("2_b.sql", "CREATE TABLE b (id INTEGER PRIMARY KEY);"),
            ("3_c.sql", "CREATE TABLE c (id INTEGER PRIMARY KEY);"),
        ],
        history: "CREATE TABLE _sqlx_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL, installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, success BOOLEAN NOT NULL, checksum BLOB NOT NULL, execution_time BIGINT NOT NULL);
                  INSERT INTO _sqlx_migrations VALUES (1, 'a', CURRENT_TIMESTAMP, 1, x'00', 1), (2, 'b', CURRENT_TIMESTAMP, 1, x'00', 1);",
    },
    Tool {
        name: "golang-migrate",
        layout: "golang-migrate",
        files: &[
            ("1_a.up.sql", "CREATE TABLE a (id INTEGER PRIMARY KEY);"),
            ("2_b.up.sql", "CREATE TABLE b (id INTEGER PRIMARY KEY);"),
            ("3_c.up.sql", "CREATE TABLE c (id INTEGER PRIMARY KEY);"),
        ],
        // golang-migrate keeps only the current version: everything up to it is applied.
        history: "CREATE TABLE schema_migrations (version BIGINT NOT NULL PRIMARY KEY, dirty BOOLEAN NOT NULL);
                  INSERT INTO schema_migrations VALUES (2, 0);",
    },
    Tool {
        name: "dbmate",
        layout: "dbmate",
        files: &[
            ("1_a.sql", "-- migrate:up\nCREATE TABLE a (id INTEGER PRIMARY KEY);\n-- migrate:down\nDROP TABLE a;\n"),
            ("2_b.sql", "-- migrate:up\nCREATE TABLE b (id INTEGER PRIMARY KEY);\n-- migrate:down\nDROP TABLE b;\n"),
            ("3_c.sql", "-- migrate:up\nCREATE TABLE c (id INTEGER PRIMARY KEY);\n-- migrate:down\nDROP TABLE c;\n"),
        ],
        history: "CREATE TABLE schema_migrations (version VARCHAR(128) PRIMARY KEY);
                  INSERT INTO schema_migrations VALUES ('1'), ('2');",
    },
    Tool {
        name: "flyway",
        layout: "flyway",
        files: &[
            ("V1__a.sql", "CREATE TABLE a (id INTEGER PRIMARY KEY);"),
            ("V2__b.sql", "CREATE TABLE b (id INTEGER PRIMARY KEY);"),
            ("V3__c.sql", "CREATE TABLE c (id INTEGER PRIMARY KEY);"),
        ],
        history: "CREATE TABLE flyway_schema_history (installed_rank INT PRIMARY KEY, version VARCHAR(50), description VARCHAR(200), type VARCHAR(20), script VARCHAR(1000), checksum INT, installed_by VARCHAR(100), installed_on TEXT, execution_time INT, success BOOLEAN);
                  INSERT INTO flyway_schema_history (installed_rank, version, success) VALUES (1, '1', 1), (2, '2', 1);",
    },
];

#[test]
fn adopts_each_tools_history_without_rerunning_or_writing_it() {
    for tool in TOOLS {
        let db = TestSqlite::new();
        // The state the other tool left: its first two migrations applied.
        db.exec(&format!(
            "CREATE TABLE a (id INTEGER PRIMARY KEY); CREATE TABLE b (id INTEGER PRIMARY KEY); {}",
            tool.history
        ));
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        for (rel, text) in tool.files {
            let p = dir.join("migrations").join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        std::fs::write(
            dir.join("lockstep.toml"),
            format!(
                "migrations = \"migrations\"\nlayout = \"{}\"\n[env.dev]\nurl = \"{}\"\n",
                tool.layout, db.url
            ),
        )
        .unwrap();
        let o = lockstep(&["status", "--env", "dev", "--format", "json"], dir);
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
            panic!("{}: {e}: {}", tool.name, String::from_utf8_lossy(&o.stderr))
        });
        let env = &v["environments"][0];
        assert_eq!(
            env["applied"].as_array().unwrap().len(),
            2,
            "{}: {v}",
            tool.name
        );
        assert_eq!(
            env["pending"].as_array().unwrap().len(),
            1,
            "{}: {v}",
            tool.name
        );

        let o = lockstep(&["deploy", "--env", "dev"], dir);
        let out = format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        // Re-running a or b would fail: their tables exist.
        assert_eq!(o.status.code(), Some(0), "{}: {out}", tool.name);
        assert!(
            out.contains(&format!("adopted 2 applied migrations from {}", tool.name)),
            "{}: {out}",
            tool.name
        );
        assert!(
            out.contains("applied 1 migration in"),
            "{}: {out}",
            tool.name
        );
        let o = lockstep(&["status", "--env", "dev", "--format", "json"], dir);
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(
            v["environments"][0]["applied"].as_array().unwrap().len(),
            3,
            "{}: {v}",
            tool.name
        );
        assert_eq!(o.status.code(), Some(0), "{}: {v}", tool.name);
        // Their table is untouched: still exactly the two rows it had.
        let table = match tool.name {
            "diesel" => "__diesel_schema_migrations",
            "sqlx" => "_sqlx_migrations",
            "flyway" => "flyway_schema_history",
            _ => "schema_migrations",
        };
        let expect = if tool.name == "golang-migrate" { 1 } else { 2 };
        db.exec(&format!(
            "CREATE TABLE probe (n INTEGER CHECK (n = {expect})); INSERT INTO probe SELECT count(*) FROM {table}; DROP TABLE probe;"
        ));
    }
}
