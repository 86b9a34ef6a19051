//! Switching tools: lockstep adopts another tool's history table, re-runs nothing, and
//! never writes to that table.

use crate::cli::lockstep;
use crate::support::TestSqlite;

struct Tool {
    name: &'static str,
    layout: &'static str,
    files: &'static [(&'static str, &'static str)],
    history: &'static str,
    /// Their table, and how many rows it holds (it must still hold them afterwards).
    table: &'static str,
    rows: usize,
}

/// A project holding another tool's migration `files` (path under migrations/, text),
/// with `settings` (lockstep.toml lines) and one environment `dev` at `url`.
fn project(files: &[(&str, &str)], settings: &str, url: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    for (rel, text) in files {
        let p = tmp.path().join("migrations").join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    std::fs::write(
        tmp.path().join("lockstep.toml"),
        format!("migrations = \"migrations\"\n{settings}[env.dev]\nurl = \"{url}\"\n"),
    )
    .unwrap();
    tmp
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
        table: "__diesel_schema_migrations",
        rows: 2,
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
        table: "_sqlx_migrations",
        rows: 2,
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
        table: "schema_migrations",
        rows: 1,
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
        table: "schema_migrations",
        rows: 2,
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
        table: "flyway_schema_history",
        rows: 2,
    },
    Tool {
        name: "prisma",
        layout: "prisma",
        files: &[
            ("migration_lock.toml", "provider = \"sqlite\"\n"),
            ("20240101000001_a/migration.sql", "-- CreateTable\nCREATE TABLE a (id INTEGER PRIMARY KEY);\n"),
            ("20240101000002_b/migration.sql", "-- CreateTable\nCREATE TABLE b (id INTEGER PRIMARY KEY);\n"),
            ("20240101000003_c/migration.sql", "-- CreateTable\nCREATE TABLE c (id INTEGER PRIMARY KEY);\n"),
        ],
        // The third was tried and marked rolled back (`prisma migrate resolve --rolled-back`).
        history: "CREATE TABLE _prisma_migrations (id TEXT PRIMARY KEY NOT NULL, checksum TEXT NOT NULL, finished_at DATETIME, migration_name TEXT NOT NULL, logs TEXT, rolled_back_at DATETIME, started_at DATETIME NOT NULL DEFAULT current_timestamp, applied_steps_count INTEGER UNSIGNED NOT NULL DEFAULT 0);
                  INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, rolled_back_at, applied_steps_count) VALUES
                    ('9b1c', 'ab', CURRENT_TIMESTAMP, '20240101000001_a', NULL, 1),
                    ('7d2e', 'cd', CURRENT_TIMESTAMP, '20240101000002_b', NULL, 1),
                    ('3f4a', 'ef', NULL, '20240101000003_c', CURRENT_TIMESTAMP, 0);",
        table: "_prisma_migrations",
        rows: 3,
    },
    Tool {
        name: "atlas",
        layout: "atlas",
        files: &[
            ("atlas.sum", "h1:AAAA=\n20240101000001_a.sql h1:BBBB=\n20240101000002_b.sql h1:CCCC=\n20240101000003.sql h1:DDDD=\n"),
            ("20240101000001_a.sql", "-- Create \"a\" table\nCREATE TABLE a (id INTEGER PRIMARY KEY);\n"),
            ("20240101000002_b.sql", "-- Create \"b\" table\nCREATE TABLE b (id INTEGER PRIMARY KEY);\n"),
            // Atlas also names a file by its version alone.
            ("20240101000003.sql", "CREATE TABLE c (id INTEGER PRIMARY KEY);\n"),
        ],
        // The third failed on its first statement: it is not applied.
        history: "CREATE TABLE atlas_schema_revisions (version TEXT NOT NULL PRIMARY KEY, description TEXT NOT NULL, type INTEGER NOT NULL DEFAULT 2, applied INTEGER NOT NULL DEFAULT 0, total INTEGER NOT NULL DEFAULT 0, executed_at DATETIME NOT NULL, execution_time INTEGER NOT NULL, error TEXT NULL, error_stmt TEXT NULL, hash TEXT NOT NULL, partial_hashes JSON NULL, operator_version TEXT NOT NULL);
                  INSERT INTO atlas_schema_revisions VALUES
                    ('20240101000001', 'a', 2, 1, 1, CURRENT_TIMESTAMP, 10, NULL, NULL, 'x', NULL, 'Atlas CLI v0.21.1'),
                    ('20240101000002', 'b', 2, 1, 1, CURRENT_TIMESTAMP, 10, NULL, NULL, 'y', NULL, 'Atlas CLI v0.21.1'),
                    ('20240101000003', '', 2, 0, 1, CURRENT_TIMESTAMP, 10, 'table c already exists', 'CREATE TABLE c', 'z', NULL, 'Atlas CLI v0.21.1');",
        table: "atlas_schema_revisions",
        rows: 3,
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
        let tmp = project(
            tool.files,
            &format!("layout = \"{}\"\n", tool.layout),
            &db.url,
        );
        let dir = tmp.path();
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
        // Their table is untouched: still exactly the rows it had.
        let (table, expect) = (tool.table, tool.rows);
        db.exec(&format!(
            "CREATE TABLE probe (n INTEGER CHECK (n = {expect})); INSERT INTO probe SELECT count(*) FROM {table}; DROP TABLE probe;"
        ));
    }
}

/// Prisma and Atlas on PostgreSQL, with the layout found from the folder alone: Atlas
/// keeps its table in a schema of its own there, and neither tool's table or schema is
/// drift.
#[test]
fn prisma_and_atlas_on_postgres_are_detected_adopted_and_not_drift() {
    // (tool, files in its migrations folder, what it left in the database)
    type Folder<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);
    let folders: [Folder; 2] = [
        (
            "prisma",
            &[
                ("migration_lock.toml", "provider = \"postgresql\"\n"),
                (
                    "20240101000001_init/migration.sql",
                    "-- CreateTable\nCREATE TABLE \"User\" (\"id\" SERIAL NOT NULL, \"email\" TEXT NOT NULL, CONSTRAINT \"User_pkey\" PRIMARY KEY (\"id\"));\n",
                ),
                (
                    "20240101000002_posts/migration.sql",
                    "-- CreateTable\nCREATE TABLE \"Post\" (\"id\" SERIAL NOT NULL, \"authorId\" INTEGER NOT NULL, CONSTRAINT \"Post_pkey\" PRIMARY KEY (\"id\"));\n-- AddForeignKey\nALTER TABLE \"Post\" ADD CONSTRAINT \"Post_authorId_fkey\" FOREIGN KEY (\"authorId\") REFERENCES \"User\"(\"id\") ON DELETE RESTRICT ON UPDATE CASCADE;\n",
                ),
                (
                    "20240101000003_email_index/migration.sql",
                    "-- CreateIndex\nCREATE UNIQUE INDEX \"User_email_key\" ON \"User\"(\"email\");\n",
                ),
            ],
            "CREATE TABLE \"_prisma_migrations\" (\"id\" VARCHAR(36) NOT NULL, \"checksum\" VARCHAR(64) NOT NULL, \"finished_at\" TIMESTAMPTZ, \"migration_name\" VARCHAR(255) NOT NULL, \"logs\" TEXT, \"rolled_back_at\" TIMESTAMPTZ, \"started_at\" TIMESTAMPTZ NOT NULL DEFAULT now(), \"applied_steps_count\" INTEGER NOT NULL DEFAULT 0, CONSTRAINT \"_prisma_migrations_pkey\" PRIMARY KEY (\"id\"));
             INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, applied_steps_count) VALUES
               ('0b6f', 'a1', now(), '20240101000001_init', 1), ('5c2d', 'b2', now(), '20240101000002_posts', 1);",
        ),
        (
            "atlas",
            &[
                ("atlas.sum", "h1:AAAA=\n20240101000001_init.sql h1:BBBB=\n20240101000002_posts.sql h1:CCCC=\n20240101000003_email_index.sql h1:DDDD=\n"),
                (
                    "20240101000001_init.sql",
                    "-- Create \"users\" table\nCREATE TABLE \"public\".\"users\" (\"id\" bigserial NOT NULL, \"email\" text NOT NULL, PRIMARY KEY (\"id\"));\n",
                ),
                (
                    "20240101000002_posts.sql",
                    "-- Create \"posts\" table\nCREATE TABLE \"public\".\"posts\" (\"id\" bigserial NOT NULL, \"user_id\" bigint NOT NULL, PRIMARY KEY (\"id\"), CONSTRAINT \"posts_user\" FOREIGN KEY (\"user_id\") REFERENCES \"public\".\"users\" (\"id\"));\n",
                ),
                (
                    "20240101000003_email_index.sql",
                    "-- atlas:txmode none\n\n-- Create index \"users_email\" to table: \"users\"\nCREATE UNIQUE INDEX CONCURRENTLY \"users_email\" ON \"public\".\"users\" (\"email\");\n",
                ),
            ],
            "CREATE SCHEMA \"atlas_schema_revisions\";
             CREATE TABLE \"atlas_schema_revisions\".\"atlas_schema_revisions\" (\"version\" character varying NOT NULL, \"description\" character varying NOT NULL, \"type\" bigint NOT NULL DEFAULT 2, \"applied\" bigint NOT NULL DEFAULT 0, \"total\" bigint NOT NULL DEFAULT 0, \"executed_at\" timestamptz NOT NULL, \"execution_time\" bigint NOT NULL, \"error\" text NULL, \"error_stmt\" text NULL, \"hash\" character varying NOT NULL, \"partial_hashes\" jsonb NULL, \"operator_version\" character varying NOT NULL, PRIMARY KEY (\"version\"));
             INSERT INTO atlas_schema_revisions.atlas_schema_revisions VALUES
               ('20240101000001', 'init', 2, 1, 1, now(), 5, NULL, NULL, 'x', NULL, 'Atlas CLI v0.21.1'),
               ('20240101000002', 'posts', 2, 1, 1, now(), 5, NULL, NULL, 'y', NULL, 'Atlas CLI v0.21.1');",
        ),
    ];
    for (tool, files, history) in folders {
        let Some(db) = crate::support::TestPg::new(&format!("adopt_{tool}")) else {
            return;
        };
        // What the tool left: its first two migrations applied, and its table.
        for (_, text) in &files[1..3] {
            db.exec(text);
        }
        db.exec(history);
        // No `layout =`: the folder says which tool it is.
        let tmp = project(files, "", &db.url);
        let dir = tmp.path();
        let o = lockstep(&["deploy", "--env", "dev"], dir);
        let out = format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        assert_eq!(o.status.code(), Some(0), "{tool}: {out}");
        assert!(
            out.contains(&format!("adopted 2 applied migrations from {tool}")),
            "{tool}: {out}"
        );
        assert!(out.contains("applied 1 migration in"), "{tool}: {out}");
        let o = lockstep(&["drift", "--env", "dev", "--format", "json"], dir);
        let v: serde_json::Value = serde_json::from_slice(&o.stdout)
            .unwrap_or_else(|e| panic!("{tool}: {e}: {}", String::from_utf8_lossy(&o.stderr)));
        assert_eq!(v["items"].as_array().map(Vec::len), Some(0), "{tool}: {v}");
        assert_eq!(o.status.code(), Some(0), "{tool}: {v}");
        let table = if tool == "prisma" {
            "_prisma_migrations"
        } else {
            "atlas_schema_revisions.atlas_schema_revisions"
        };
        assert_eq!(
            crate::support::pg_value(&db.url, &format!("SELECT count(*) FROM {table}")),
            "2",
            "{tool}: lockstep wrote to the tool's table"
        );
    }
}
