//! MySQL/MariaDB inspection: round trips of the corpus's MySQL schemas and of a rich
//! hand-written one (inspect → create script → empty database → identical, by lockstep
//! diff and by sorted `mariadb-dump --no-data`), the self-check against `SHOW CREATE
//! TABLE`, and a query count that does not grow with the schema.

use crate::cli::lockstep;
use crate::mysql_support::{comparable_dump, tool, TestMysql};
use crate::support::{corpus, rt, unique_name};
use lockstep_core::diff::diff;
use lockstep_core::model::*;
use lockstep_core::plan;
use lockstep_db::mysql::inspect::Verify;
use lockstep_db::{Conn, Db};
use sqlx::Row;
use std::path::PathBuf;

fn create_script(m: &Database) -> plan::Plan {
    let empty = Database::empty(Dialect::Mysql);
    plan::plan(&diff(&empty, m), &empty, m)
}

fn describe(changes: &[lockstep_core::diff::Change]) -> String {
    changes
        .iter()
        .map(|c| c.describe())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Lines in one sorted dump and not the other, both ways.
fn dump_difference(a: &[String], b: &[String]) -> (Vec<String>, Vec<String>) {
    let mut only_a = vec![];
    let mut only_b = vec![];
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) if x == y => {
                i += 1;
                j += 1;
            }
            (Some(x), Some(y)) if x < y => {
                only_a.push(x.clone());
                i += 1;
            }
            (Some(_), Some(y)) => {
                only_b.push(y.clone());
                j += 1;
            }
            (Some(x), None) => {
                only_a.push(x.clone());
                i += 1;
            }
            (None, Some(y)) => {
                only_b.push(y.clone());
                j += 1;
            }
            (None, None) => break,
        }
    }
    (only_a, only_b)
}

struct Trip {
    _a: TestMysql,
    _b: TestMysql,
    model: Database,
    /// Dump lines of the source and of the copy that the other does not have.
    dump_only_a: Vec<String>,
    dump_only_b: Vec<String>,
}

/// Loads `files` with the `mariadb` client into a fresh database, writes its create
/// script with `lockstep inspect`, applies that with the client to an empty database,
/// and compares: models (every table checked against SHOW CREATE TABLE), `lockstep diff`
/// (exit 0), and the sorted dumps.
fn round_trip(prefix: &str, files: &[PathBuf], setup: &str) -> Option<Trip> {
    let client = tool(&["mariadb", "mysql"])?;
    let dumper = tool(&["mariadb-dump", "mysqldump"])?;
    let a = TestMysql::new(prefix)?;
    if !setup.is_empty() {
        a.exec(setup);
    }
    for f in files {
        a.load_with_client(&client, f);
    }
    let model = a.inspect();
    let flagged: Vec<String> = model
        .tables
        .values()
        .filter_map(|t| t.mismatch.as_ref().map(|m| format!("{}: {m}", t.name)))
        .collect();
    assert!(
        flagged.is_empty(),
        "self-check flagged tables:\n{}",
        flagged.join("\n")
    );
    let p = create_script(&model);
    assert!(p.unsupported.is_empty(), "{:?}", p.unsupported);

    let dir = tempfile::tempdir().unwrap();
    let o = lockstep(&["inspect", &a.url], dir.path());
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let script = dir.path().join("create.sql");
    std::fs::write(&script, &o.stdout).unwrap();
    let b = TestMysql::new(prefix)?;
    b.load_with_client(&client, &script);

    let copy = b.inspect();
    let changes = diff(&model, &copy);
    assert!(
        changes.is_empty(),
        "the copy differs:\n{}",
        describe(&changes)
    );
    let o = lockstep(
        &["diff", &a.url, &b.url.replacen("mysql://", "mariadb://", 1)],
        dir.path(),
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );

    let da = comparable_dump(&a.dump(&dumper), &a.name);
    let db = comparable_dump(&b.dump(&dumper), &b.name);
    let (dump_only_a, dump_only_b) = dump_difference(&da, &db);
    Some(Trip {
        _a: a,
        _b: b,
        model,
        dump_only_a,
        dump_only_b,
    })
}

fn corpus_trip(prefix: &str, rel: &[&str]) {
    let mut files = vec![];
    for r in rel {
        let Some(p) = corpus(r) else { return };
        files.push(p);
    }
    let Some(t) = round_trip(prefix, &files, "") else {
        return;
    };
    assert!(!t.model.tables.is_empty());
    assert!(
        t.dump_only_a.is_empty() && t.dump_only_b.is_empty(),
        "dumps differ\nsource only:\n{}\ncopy only:\n{}",
        t.dump_only_a.join("\n"),
        t.dump_only_b.join("\n")
    );
    eprintln!(
        "{prefix}: {} tables, {} indexes: identical by lockstep diff and by sorted mariadb-dump",
        t.model.tables.len(),
        t.model.indexes.len()
    );
}

#[test]
fn mediawiki_round_trip() {
    corpus_trip("mw", &["debian/mediawiki-tables.mysql.sql"]);
}

#[test]
fn request_tracker_round_trip() {
    corpus_trip(
        "rt",
        &["debian/usr/share/request-tracker5/etc/schema.mysql"],
    );
}

#[test]
fn roundcube_round_trip() {
    corpus_trip("rc", &["debian/usr/share/roundcube/SQL/mysql.initial.sql"]);
}

#[test]
fn powerdns_round_trip() {
    corpus_trip(
        "pdns",
        &[
            "debian/usr/share/pdns-backend-mysql/schema/schema.mysql.sql",
            "debian/usr/share/pdns-backend-mysql/schema/enable-foreign-keys.mysql.sql",
        ],
    );
}

/// The dumps agree except where the server keeps the header of a trigger or routine as
/// it was typed (names unquoted, a parameter's mode, line breaks), which lockstep writes
/// in its own spelling with every name quoted, and an event's `STARTS`, its creation
/// time, which differs when the two were created in different seconds.
fn assert_dumps_differ_only_in_headers(t: &Trip) {
    let header = |l: &String| {
        l.contains(" TRIGGER ")
            || l.contains(" FUNCTION ")
            || l.contains(" PROCEDURE ")
            || l.contains(" EVENT ")
            || l == "BEGIN"
    };
    let unexplained: Vec<&String> = t
        .dump_only_a
        .iter()
        .chain(&t.dump_only_b)
        .filter(|l| !header(l))
        .collect();
    assert!(
        unexplained.is_empty(),
        "dumps differ beyond trigger and routine headers:\nsource only:\n{}\ncopy only:\n{}",
        t.dump_only_a.join("\n"),
        t.dump_only_b.join("\n")
    );
}

/// The benchmark's generated schema, at 200 tables.
#[test]
fn generated_schema_round_trip() {
    let gen = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/gen_mysql.py");
    let out = std::process::Command::new("python3")
        .arg(&gen)
        .args(["--tables", "200"])
        .output();
    let Ok(out) = out.map_err(|e| eprintln!("SKIPPED: python3 is not available: {e}")) else {
        return;
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("gen.sql");
    std::fs::write(&file, &out.stdout).unwrap();
    let Some(t) = round_trip("gen", &[file], "") else {
        return;
    };
    assert_eq!(t.model.tables.len(), 200);
    assert_dumps_differ_only_in_headers(&t);
    eprintln!(
        "gen: {} tables, {} indexes, {} views, {} triggers, {} routines: identical by lockstep diff; dump lines that differ (headers): {} / {}",
        t.model.tables.len(),
        t.model.indexes.len(),
        t.model.views.len(),
        t.model.triggers.len(),
        t.model.functions.len(),
        t.dump_only_a.len(),
        t.dump_only_b.len()
    );
}

/// What the corpus lacks, in one schema (MariaDB 10.11 syntax).
fn rich_schema(app: &str, role: &str) -> String {
    format!(
        r#"
CREATE SEQUENCE order_ids START WITH 1000 INCREMENT BY 1 CACHE 50;

CREATE TABLE customers (
  id int unsigned NOT NULL AUTO_INCREMENT,
  email varchar(190) NOT NULL,
  name varchar(100) CHARACTER SET latin1 COLLATE latin1_german1_ci DEFAULT NULL COMMENT 'display name',
  nick varchar(30) COLLATE utf8mb4_bin NOT NULL DEFAULT '',
  profile json DEFAULT NULL,
  created_at timestamp NOT NULL DEFAULT current_timestamp(),
  updated_at datetime(3) DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  email_domain varchar(190) GENERATED ALWAYS AS (substring_index(email, '@', -1)) VIRTUAL,
  name_upper varchar(100) AS (upper(name)) STORED,
  secret_note varchar(20) INVISIBLE DEFAULT 'n/a',
  touched timestamp NOT NULL DEFAULT current_timestamp() ON UPDATE current_timestamp() INVISIBLE,
  status enum('active','closed','it''s') NOT NULL DEFAULT 'active',
  flags set('a','b','c') DEFAULT 'a,b',
  score decimal(8,2) NOT NULL DEFAULT 0.00 CHECK (score >= 0),
  token char(36) DEFAULT uuid(),
  path varchar(50) DEFAULT 'C:\\tmp',
  legacy_id int(5) unsigned zerofill DEFAULT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_email (email),
  KEY ix_name_prefix (name(10), created_at DESC),
  KEY ix_domain (email_domain) COMMENT 'virtual column index',
  KEY ix_ignored (score) IGNORED,
  FULLTEXT KEY ft_name (name),
  CONSTRAINT chk_dates CHECK (updated_at IS NULL OR updated_at >= created_at),
  CHECK (char_length(email) > 3)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci ROW_FORMAT=DYNAMIC COMMENT='people who buy';

CREATE TABLE places (
  id int NOT NULL PRIMARY KEY,
  loc point NOT NULL,
  SPATIAL KEY sp_loc (loc)
) ENGINE=InnoDB;

CREATE TABLE orders (
  id bigint NOT NULL DEFAULT (NEXT VALUE FOR order_ids),
  customer_id int unsigned NOT NULL,
  place_id int DEFAULT NULL,
  total decimal(10,2) NOT NULL,
  note text DEFAULT 'none',
  PRIMARY KEY (id),
  KEY ix_customer (customer_id),
  CONSTRAINT fk_orders_customer FOREIGN KEY (customer_id) REFERENCES customers (id) ON DELETE CASCADE,
  FOREIGN KEY (place_id) REFERENCES places (id) ON DELETE SET NULL ON UPDATE CASCADE
) ENGINE=InnoDB ROW_FORMAT=COMPRESSED KEY_BLOCK_SIZE=8;

CREATE TABLE docs (
  id int NOT NULL,
  body text,
  PRIMARY KEY (id),
  UNIQUE KEY uq_body (body)
) ENGINE=InnoDB STATS_PERSISTENT=0;

CREATE TABLE legacy (
  id int NOT NULL AUTO_INCREMENT,
  body text,
  PRIMARY KEY (id),
  FULLTEXT KEY ft_body (body)
) ENGINE=MyISAM DEFAULT CHARSET=latin1;

CREATE TABLE cache (
  k varchar(20) NOT NULL,
  v int,
  PRIMARY KEY (k),
  KEY ix_v (v) USING BTREE
) ENGINE=MEMORY;

CREATE TABLE event_log (
  id bigint NOT NULL,
  at date NOT NULL,
  what varchar(50),
  PRIMARY KEY (id, at)
) ENGINE=InnoDB
PARTITION BY RANGE (year(at)) (
  PARTITION p2023 VALUES LESS THAN (2024),
  PARTITION p2024 VALUES LESS THAN (2025),
  PARTITION pmax VALUES LESS THAN MAXVALUE
);

CREATE VIEW active_customers AS SELECT id, email FROM customers WHERE status = 'active';
CREATE ALGORITHM=MERGE SQL SECURITY INVOKER VIEW big_orders AS
  SELECT o.id, o.total, c.email FROM orders o JOIN active_customers c ON c.id = o.customer_id
  WHERE o.total > 100 WITH LOCAL CHECK OPTION;

CREATE TRIGGER orders_bi BEFORE INSERT ON orders FOR EACH ROW SET NEW.note = COALESCE(NEW.note, 'new');
DELIMITER //
CREATE TRIGGER orders_bi2 BEFORE INSERT ON orders FOR EACH ROW FOLLOWS orders_bi
BEGIN
  IF NEW.total < 0 THEN
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'negative total';
  END IF;
END//
CREATE FUNCTION order_total(p_customer int unsigned) RETURNS decimal(12,2)
  READS SQL DATA DETERMINISTIC COMMENT 'sum of a customer''s orders'
BEGIN
  DECLARE t decimal(12,2);
  SELECT SUM(total) INTO t FROM orders WHERE customer_id = p_customer;
  RETURN COALESCE(t, 0);
END//
CREATE PROCEDURE close_customer(IN p_id int unsigned, OUT p_count int)
  MODIFIES SQL DATA SQL SECURITY INVOKER
BEGIN
  UPDATE customers SET status = 'closed' WHERE id = p_id;
  SELECT ROW_COUNT() INTO p_count;
END//
DELIMITER ;
CREATE EVENT purge_closed ON SCHEDULE EVERY 1 DAY ON COMPLETION PRESERVE DISABLE
  COMMENT 'nightly' DO DELETE FROM customers WHERE status = 'closed';

GRANT SELECT ON * TO {role};
GRANT SELECT, INSERT ON customers TO {app};
GRANT SELECT (total), UPDATE (note) ON orders TO {app} WITH GRANT OPTION;
GRANT EXECUTE ON FUNCTION order_total TO {app};
"#
    )
}

/// Server-wide accounts a test creates, dropped when it ends however it ends.
struct Accounts {
    db: Option<TestMysql>,
    drop_sql: String,
}

impl Drop for Accounts {
    fn drop(&mut self) {
        if let Some(db) = &self.db {
            db.admin_exec(&self.drop_sql);
        }
    }
}

#[test]
fn rich_schema_round_trip() {
    let tag = unique_name("r");
    let app = format!("'ls_app_{tag}'@'%'");
    let role = format!("ls_reader_{tag}");
    // A database only to run the account statements through.
    let Some(holder) = TestMysql::new("acct") else {
        return;
    };
    holder.admin_exec(&format!(
        "CREATE USER {app}; CREATE ROLE {role}; GRANT {role} TO {app};"
    ));
    let _accounts = Accounts {
        db: Some(holder),
        drop_sql: format!("DROP USER IF EXISTS {app}; DROP ROLE IF EXISTS {role};"),
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("rich.sql");
    std::fs::write(&file, rich_schema(&app, &role)).unwrap();
    let Some(t) = round_trip("rich", &[file], "") else {
        return;
    };
    let m = &t.model;
    {
        let q = |n: &str| QualName::new("main", n);
        let customers = &m.tables[&q("customers")];
        let col = |n: &str| customers.column(n).unwrap();
        assert_eq!(
            col("profile").type_,
            "json",
            "MariaDB's LONGTEXT + json_valid is JSON"
        );
        assert_eq!(
            col("id").type_,
            "int unsigned",
            "default display width dropped"
        );
        assert_eq!(col("legacy_id").type_, "int(5) unsigned zerofill");
        assert!(col("secret_note").invisible);
        assert!(col("touched").invisible);
        assert_eq!(
            col("touched").on_update.as_deref(),
            Some("CURRENT_TIMESTAMP")
        );
        assert_eq!(
            col("updated_at").on_update.as_deref(),
            Some("CURRENT_TIMESTAMP(3)")
        );
        assert_eq!(
            col("created_at").default.as_deref(),
            Some("CURRENT_TIMESTAMP")
        );
        assert_eq!(col("token").default.as_deref(), Some("(uuid())"));
        assert_eq!(col("path").default.as_deref(), Some("'C:\\\\tmp'"));
        assert_eq!(col("name").charset.as_deref(), Some("latin1"));
        assert_eq!(col("nick").collation.as_deref(), Some("utf8mb4_bin"));
        assert_eq!(
            col("email").charset,
            None,
            "the table's charset is inherited"
        );
        assert!(col("name_upper").generated.as_ref().unwrap().stored);
        assert_eq!(
            m.tables[&q("orders")]
                .column("id")
                .unwrap()
                .default
                .as_deref(),
            Some("(nextval(`order_ids`))"),
            "the database's own name is not part of the model"
        );
        assert!(m.tables[&q("event_log")]
            .partition_key
            .as_deref()
            .unwrap()
            .starts_with("PARTITION BY RANGE"));
        assert!(m.indexes[&q("customers.ft_name")]
            .definition
            .starts_with("FULLTEXT"));
        assert!(m.indexes[&q("places.sp_loc")]
            .definition
            .starts_with("SPATIAL"));
        assert!(m.indexes[&q("customers.ix_ignored")]
            .definition
            .ends_with("IGNORED"));
        assert_eq!(
            m.indexes[&q("docs.uq_body")].definition,
            "(`body`) USING HASH"
        );
        assert_eq!(
            m.indexes[&q("customers.ix_name_prefix")].definition,
            "(`name`(10), `created_at` DESC)"
        );
        assert_eq!(m.sequences[&q("order_ids")].start, 1000);
        assert_eq!(m.views.len(), 2);
        assert_eq!(m.triggers.len(), 2);
        assert!(m.triggers["main.orders.orders_bi2"]
            .definition
            .contains("FOLLOWS `orders_bi`"));
        let kinds: Vec<&str> = m.functions.values().map(|f| f.kind.as_str()).collect();
        assert_eq!(kinds.len(), 3, "{kinds:?}");
        let app_name = app.replace('\'', "");
        assert!(m.roles.contains_key(&app_name), "{:?}", m.roles.keys());
        assert!(m.roles.contains_key(&role));
        assert!(m.schemas["main"].grants.iter().any(|g| g.grantee == role));
        assert!(customers
            .grants
            .iter()
            .any(|g| g.grantee == app_name && g.privilege == "INSERT"));
        let orders = &m.tables[&q("orders")];
        assert!(orders
            .column("note")
            .unwrap()
            .grants
            .iter()
            .any(|g| g.privilege == "UPDATE" && g.grantable));
        assert!(m
            .functions
            .values()
            .any(|f| f.grants.iter().any(|g| g.privilege == "EXECUTE")));
        // A JSON snapshot reads back as the same model.
        let back: Database = serde_json::from_str(&serde_json::to_string(m).unwrap()).unwrap();
        assert_eq!(&back, m);
        assert_eq!(m.env.engine, "mariadb");
        assert!(m.env.settings.contains_key("sql_mode"));
        assert!(m.env.settings.contains_key("lower_case_table_names"));

        assert_dumps_differ_only_in_headers(&t);
        for l in &t.dump_only_a {
            eprintln!("rich dump, source only: {l}");
        }
        for l in &t.dump_only_b {
            eprintln!("rich dump, copy only:   {l}");
        }
        eprintln!(
            "rich: {} tables, {} indexes, {} views, {} triggers, {} routines and events: identical by lockstep diff; dump lines that differ (trigger and routine headers re-spelled): {} / {}",
            m.tables.len(),
            m.indexes.len(),
            m.views.len(),
            m.triggers.len(),
            m.functions.len(),
            t.dump_only_a.len(),
            t.dump_only_b.len()
        );
    }
}

#[test]
fn a_table_lockstep_cannot_read_faithfully_is_flagged_and_never_planned() {
    let Some(a) = TestMysql::new("flag") else {
        return;
    };
    a.exec(
        "CREATE TABLE plain (id int PRIMARY KEY);
         CREATE TABLE audited (id int PRIMARY KEY, v int) WITH SYSTEM VERSIONING;",
    );
    // Found by default: a system-versioned table is among those checked.
    let m = a.inspect_with(Verify::Suspect);
    let t = &m.tables[&QualName::new("main", "audited")];
    let why = t.mismatch.as_deref().expect("flagged");
    assert!(why.contains("SYSTEM VERSIONING"), "{why}");
    assert!(m.tables[&QualName::new("main", "plain")].mismatch.is_none());
    // Compared with itself it is still reported, and no plan touches it.
    let changes = diff(&m, &m.clone());
    assert_eq!(changes.len(), 1, "{}", describe(&changes));
    assert!(
        changes[0].describe().contains("not read faithfully"),
        "{}",
        describe(&changes)
    );
    let p = create_script(&m);
    assert!(
        p.unsupported.iter().any(|u| u.contains("audited")),
        "{:?}",
        p.unsupported
    );
    assert!(!p.to_sql().contains("CREATE TABLE `audited`"));
}

/// Statements the server counted on this connection (`Questions`).
async fn questions(db: &mut Db) -> i64 {
    let Conn::Mysql(c) = &mut db.conn else {
        unreachable!()
    };
    let r = sqlx::query("SHOW SESSION STATUS LIKE 'Questions'")
        .fetch_one(&mut *c)
        .await
        .unwrap();
    let v: String = r.try_get(1).unwrap();
    v.parse().unwrap()
}

async fn inspect_cost(url: &lockstep_db::DbUrl) -> i64 {
    let mut db = Db::connect(url, false).await.unwrap();
    let before = questions(&mut db).await;
    db.inspect().await.unwrap();
    let after = questions(&mut db).await;
    db.close().await;
    // The first SHOW STATUS counts itself.
    after - before - 1
}

#[test]
fn the_number_of_queries_does_not_grow_with_the_schema() {
    let Some(small) = TestMysql::new("qsmall") else {
        return;
    };
    let Some(big) = TestMysql::new("qbig") else {
        return;
    };
    let table = |i: usize| {
        format!(
            "CREATE TABLE t{i} (id int PRIMARY KEY, p int, v varchar(10) DEFAULT 'x', KEY ix (v), CONSTRAINT c{i} CHECK (p > 0));
             CREATE VIEW v{i} AS SELECT id FROM t{i};
             CREATE TRIGGER tr{i} BEFORE INSERT ON t{i} FOR EACH ROW SET NEW.p = 1;"
        )
    };
    small.exec(&(0..2).map(table).collect::<String>());
    big.exec(&(0..40).map(table).collect::<String>());
    let (a, b) = rt().block_on(async {
        (
            inspect_cost(&small.db_url()).await,
            inspect_cost(&big.db_url()).await,
        )
    });
    assert_eq!(a, b, "2 tables took {a} statements, 40 took {b}");
    eprintln!("inspection: {a} statements for 2 tables and for 40");
}

#[test]
fn lockstep_own_tables_are_left_out() {
    let Some(a) = TestMysql::new("own") else {
        return;
    };
    a.exec(
        "CREATE TABLE lockstep_history (id int PRIMARY KEY);
         CREATE TABLE lockstep_progress (id int PRIMARY KEY, KEY ix (id));
         CREATE TABLE orders (id int PRIMARY KEY);",
    );
    let m = a.inspect();
    let names: Vec<&str> = m.tables.keys().map(|q| q.name.as_str()).collect();
    assert_eq!(names, ["orders"]);
    assert!(m.indexes.keys().all(|q| !q.name.starts_with("lockstep_")));
}

#[test]
fn a_url_without_a_database_says_what_to_add() {
    if TestMysql::new("nodb").is_none() {
        return;
    }
    let admin = crate::mysql_support::mysql_admin_url();
    let server = &admin[..admin.rfind('/').unwrap()];
    let dir = tempfile::tempdir().unwrap();
    let o = lockstep(&["inspect", server], dir.path());
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("names no database"), "{err}");
    assert!(err.contains("hint: add the database"), "{err}");
}
