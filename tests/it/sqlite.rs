//! SQLite: inspection, create scripts, and plans applied to real files.

use crate::support::{self, TestSqlite};
use lockstep_core::diff::{diff, Change};
use lockstep_core::model::*;
use lockstep_core::plan;

fn db(sql: &str) -> TestSqlite {
    let d = TestSqlite::new();
    d.exec(sql);
    d
}

fn script(from: &Database, to: &Database) -> String {
    plan::plan(&diff(from, to), from, to).to_sql()
}

/// Applies the plan from `a` to `b` onto `a`, inside one transaction as deploy runs it,
/// and asserts that `a` then inspects equal to `b`. Returns the script.
fn migrate(a: &TestSqlite, b: &TestSqlite) -> String {
    let from = a.inspect();
    let to = b.inspect();
    let sql = script(&from, &to);
    a.exec(&format!("BEGIN;\n{sql}COMMIT;"));
    let after = a.inspect();
    let left = diff(&after, &to);
    assert!(
        left.is_empty(),
        "script:\n{sql}\nleft over:\n{}",
        describe(&left)
    );
    sql
}

fn describe(ch: &[Change]) -> String {
    ch.iter()
        .map(|c| format!("{}\n", c.describe()))
        .collect::<String>()
}

/// Fails (through a CHECK constraint) unless `query` returns `expected`: the test binary
/// has no SQLite client of its own, only scripts.
fn assert_value(d: &TestSqlite, query: &str, expected: &str) {
    d.exec(&format!(
        "CREATE TEMP TABLE probe (v CHECK (v IS {expected}));\n\
         INSERT INTO probe SELECT ({query});\nDROP TABLE probe;"
    ));
}

/// A fresh file built from the create script of `m`, re-inspected.
fn recreate(m: &Database) -> (Database, String) {
    let sql = script(&Database::empty(Dialect::Sqlite), m);
    let fresh = TestSqlite::new();
    fresh.exec(&format!("BEGIN;\n{sql}COMMIT;"));
    (fresh.inspect(), sql)
}

fn assert_round_trip(m: &Database) -> String {
    let (again, sql) = recreate(m);
    let d = diff(m, &again);
    assert!(d.is_empty(), "script:\n{sql}\ndiff:\n{}", describe(&d));
    let back = diff(&again, m);
    assert!(back.is_empty(), "diff back:\n{}", describe(&back));
    sql
}

const RICH: &str = r#"
CREATE TABLE users (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  email TEXT NOT NULL COLLATE nocase UNIQUE,
  name  varchar( 20 ) DEFAULT 'anon',
  created_at TEXT NOT NULL DEFAULT (datetime('now')),
  score INT CONSTRAINT score_positive CHECK (score >= 0),
  doubled INT GENERATED ALWAYS AS (score * 2) STORED,
  label TEXT AS (upper(name)) VIRTUAL,
  -- a comment, with a comma
  CHECK (length(email) > 3)
);
CREATE TABLE kv (k TEXT, v BLOB, CONSTRAINT kv_pk PRIMARY KEY (k) ON CONFLICT REPLACE) WITHOUT ROWID;
CREATE TABLE strict_t (a INT NOT NULL, b ANY, c INTEGER PRIMARY KEY) STRICT;
CREATE TABLE memberships (
  user_id INTEGER NOT NULL,
  group_id INTEGER NOT NULL,
  role TEXT NOT NULL DEFAULT 'member',
  PRIMARY KEY (group_id, user_id),
  CONSTRAINT fk_user FOREIGN KEY (user_id) REFERENCES users (id)
    ON DELETE CASCADE ON UPDATE SET NULL DEFERRABLE INITIALLY DEFERRED,
  FOREIGN KEY (group_id) REFERENCES "Groups",
  UNIQUE (user_id, role)
);
CREATE TABLE "Groups" (gid INTEGER PRIMARY KEY, title TEXT);
CREATE TABLE lockstep_history (version TEXT);
CREATE INDEX users_name_partial ON users (name)   WHERE score > 10;
CREATE UNIQUE INDEX users_lower_email ON users (lower(email), id DESC);
CREATE INDEX memberships_role ON memberships (role COLLATE NOCASE);
CREATE VIEW active_users AS SELECT id, email FROM users WHERE score > 0;
CREATE VIEW active_members AS SELECT m.role, u.email FROM memberships m JOIN active_users u ON u.id = m.user_id;
CREATE TRIGGER users_audit AFTER UPDATE ON users BEGIN
  UPDATE memberships SET role = 'changed' WHERE user_id = NEW.id;
END;
INSERT INTO users (email, score) VALUES ('someone@example.com', 1);
"#;

fn con(t: &Table, pred: impl Fn(&Constraint) -> bool) -> &Constraint {
    t.constraints
        .iter()
        .find(|c| pred(c))
        .unwrap_or_else(|| panic!("no such constraint in {:#?}", t.constraints))
}

#[test]
fn inspects_a_rich_schema() {
    let d = db(RICH);
    let m = d.inspect();
    assert_eq!(m.dialect, Dialect::Sqlite);
    assert_eq!(m.env.engine, "sqlite");
    assert!(!m.env.version.is_empty());
    assert_eq!(m.env.settings["encoding"], "UTF-8");
    assert_eq!(m.schemas.keys().collect::<Vec<_>>(), ["main"]);
    let names: Vec<&str> = m.tables.keys().map(|k| k.name.as_str()).collect();
    // sqlite_sequence (AUTOINCREMENT) and lockstep's own table are left out.
    assert_eq!(names, ["Groups", "kv", "memberships", "strict_t", "users"]);

    let users = &m.tables[&QualName::new("main", "users")];
    let col = |n: &str| users.column(n).unwrap();
    assert_eq!(col("id").type_, "INTEGER");
    assert!(col("id").auto_increment);
    assert_eq!(col("email").collation.as_deref(), Some("NOCASE"));
    assert!(col("email").not_null);
    assert_eq!(col("name").type_, "VARCHAR(20)");
    assert_eq!(col("name").default.as_deref(), Some("'anon'"));
    assert_eq!(
        col("created_at").default.as_deref(),
        Some("datetime('now')")
    );
    assert_eq!(col("score").type_, "INT");
    let g = col("doubled").generated.as_ref().unwrap();
    assert_eq!((g.expression.as_str(), g.stored), ("score * 2", true));
    let g = col("label").generated.as_ref().unwrap();
    assert_eq!((g.expression.as_str(), g.stored), ("upper(name)", false));
    assert_eq!(
        users
            .columns
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>(),
        [
            "id",
            "email",
            "name",
            "created_at",
            "score",
            "doubled",
            "label"
        ]
    );
    let pk = con(users, |c| {
        matches!(c.kind, ConstraintKind::PrimaryKey { .. })
    });
    assert_eq!(pk.name, None);
    let named = con(users, |c| c.name.as_deref() == Some("score_positive"));
    assert!(
        matches!(&named.kind, ConstraintKind::Check { expression, .. } if expression == "score >= 0")
    );
    con(users, |c| {
        c.name.is_none()
            && matches!(&c.kind, ConstraintKind::Check { expression, .. } if expression == "length(email) > 3")
    });
    con(
        users,
        |c| matches!(&c.kind, ConstraintKind::Unique { columns, .. } if columns == &["email"]),
    );

    let kv = &m.tables[&QualName::new("main", "kv")];
    assert!(kv.without_rowid && !kv.strict);
    let pk = con(kv, |c| matches!(c.kind, ConstraintKind::PrimaryKey { .. }));
    assert_eq!(pk.name.as_deref(), Some("kv_pk"));
    assert!(matches!(&pk.kind,
        ConstraintKind::PrimaryKey { columns, extra } if columns == &["k"] && extra.as_deref() == Some("ON CONFLICT REPLACE")));

    let st = &m.tables[&QualName::new("main", "strict_t")];
    assert!(st.strict && !st.without_rowid);
    assert_eq!(st.column("b").unwrap().type_, "ANY");

    let mem = &m.tables[&QualName::new("main", "memberships")];
    let pk = con(mem, |c| matches!(c.kind, ConstraintKind::PrimaryKey { .. }));
    assert!(
        matches!(&pk.kind, ConstraintKind::PrimaryKey { columns, .. } if columns == &["group_id", "user_id"])
    );
    let fk = con(mem, |c| c.name.as_deref() == Some("fk_user"));
    assert!(fk.deferrable && fk.initially_deferred);
    assert_eq!(
        fk.kind,
        ConstraintKind::ForeignKey {
            columns: vec!["user_id".into()],
            references: QualName::new("main", "users"),
            ref_columns: vec!["id".into()],
            on_delete: "CASCADE".into(),
            on_update: "SET NULL".into(),
            match_: "SIMPLE".into(),
        }
    );
    // The implicit reference resolves to the parent's primary key.
    let fk = con(
        mem,
        |c| matches!(&c.kind, ConstraintKind::ForeignKey { columns, .. } if columns == &["group_id"]),
    );
    assert_eq!(fk.name, None);
    assert!(matches!(&fk.kind,
        ConstraintKind::ForeignKey { references, ref_columns, on_delete, .. }
            if references.name == "Groups" && ref_columns == &["gid"] && on_delete == "NO ACTION"));
    con(
        mem,
        |c| matches!(&c.kind, ConstraintKind::Unique { columns, .. } if columns == &["user_id", "role"]),
    );

    // Constraint-backed indexes are constraints, not indexes.
    let idx: Vec<&str> = m.indexes.keys().map(|k| k.name.as_str()).collect();
    assert_eq!(
        idx,
        [
            "memberships_role",
            "users_lower_email",
            "users_name_partial"
        ]
    );
    let partial = &m.indexes[&QualName::new("main", "users_name_partial")];
    assert_eq!(partial.definition, "(\"name\") WHERE score > 10");
    assert_eq!(partial.predicate.as_deref(), Some("score > 10"));
    assert_eq!(partial.columns, ["name"]);
    assert!(!partial.unique);
    let expr = &m.indexes[&QualName::new("main", "users_lower_email")];
    assert!(expr.unique);
    assert_eq!(expr.definition, "(lower(email), \"id\" DESC)");
    assert_eq!(expr.columns, ["lower(email)", "id"]);
    let coll = &m.indexes[&QualName::new("main", "memberships_role")];
    assert_eq!(coll.definition, "(\"role\" COLLATE \"NOCASE\")");

    let v = &m.views[&QualName::new("main", "active_users")];
    assert_eq!(v.definition, "SELECT id, email FROM users WHERE score > 0");
    assert_eq!(v.columns, ["id", "email"]);
    assert_eq!(v.depends_on, ["main.users"]);
    assert!(v
        .sql
        .as_deref()
        .unwrap()
        .starts_with("CREATE VIEW active_users"));
    let v2 = &m.views[&QualName::new("main", "active_members")];
    assert_eq!(v2.depends_on, ["main.active_users", "main.memberships"]);

    let tr = &m.triggers["main.users.users_audit"];
    assert_eq!(tr.table, QualName::new("main", "users"));
    assert!(tr.definition.starts_with("CREATE TRIGGER users_audit"));
    assert_eq!(tr.depends_on, ["main.memberships"]);
}

#[test]
fn rich_schema_round_trips_through_its_create_script() {
    let d = db(RICH);
    let m = d.inspect();
    let sql = assert_round_trip(&m);
    assert!(
        sql.contains("\"id\" INTEGER PRIMARY KEY AUTOINCREMENT"),
        "{sql}"
    );
    assert!(sql.contains(") WITHOUT ROWID"), "{sql}");
    assert!(sql.contains(") STRICT"), "{sql}");
    assert!(!sql.contains("lockstep_history"), "{sql}");
    // The JSON snapshot reads back to the same model.
    let json = serde_json::to_string(&m).unwrap();
    let back: Database = serde_json::from_str(&json).unwrap();
    assert_eq!(back, m);
}

#[test]
fn virtual_tables_round_trip() {
    let d = db("CREATE VIRTUAL TABLE docs USING fts5(title, body);
                CREATE VIRTUAL TABLE search USING fts4 ( a, b );
                CREATE TABLE plain (id INTEGER PRIMARY KEY);");
    let m = d.inspect();
    // The modules' shadow tables (docs_data, search_content, ...) are not the user's.
    let names: Vec<&str> = m.tables.keys().map(|k| k.name.as_str()).collect();
    assert_eq!(names, ["docs", "plain", "search"]);
    let docs = &m.tables[&QualName::new("main", "docs")];
    assert_eq!(docs.virtual_using.as_deref(), Some("fts5(title, body)"));
    assert_eq!(
        docs.columns
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>(),
        ["title", "body"]
    );
    assert_round_trip(&m);
}

/// A fleet's members share the model of one schema: the memo hands back the model read
/// before only for the same CREATE texts and settings, and never for virtual tables.
#[test]
fn a_schema_memo_shares_only_identical_schemas() {
    use lockstep_db::{Db, DbUrl, SchemaMemo};
    use std::sync::Arc;
    let schema = "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);";
    let a = db(schema);
    let b = db(schema);
    let settings = db(&format!("{schema} PRAGMA user_version = 7;"));
    let index = db(&format!("{schema} CREATE INDEX t_v ON t (v);"));
    let fts = "CREATE VIRTUAL TABLE docs USING fts5(title);";
    let (v1, v2) = (db(fts), db(fts));
    let memo = SchemaMemo::default();
    let shared = |d: &TestSqlite| {
        support::rt().block_on(async {
            let mut c = Db::connect(&DbUrl::parse(&d.url).unwrap(), false)
                .await
                .unwrap();
            let m = c.inspect_shared(&memo).await.unwrap();
            c.close().await;
            m
        })
    };
    let (ma, mb) = (shared(&a), shared(&b));
    assert!(Arc::ptr_eq(&ma, &mb));
    assert_eq!(*ma, a.inspect());
    for d in [&settings, &index] {
        let m = shared(d);
        assert!(!Arc::ptr_eq(&ma, &m));
        assert_eq!(*m, d.inspect());
    }
    assert!(!Arc::ptr_eq(&shared(&v1), &shared(&v2)));
    // Memoized now, and still told apart.
    assert!(Arc::ptr_eq(&shared(&b), &ma));
    assert_eq!(*shared(&index), index.inspect());
}

fn change_case(before: &str, after: &str) -> (TestSqlite, String) {
    let a = db(before);
    let b = db(after);
    let sql = migrate(&a, &b);
    (a, sql)
}

const BASE: &str = "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b INT);
    INSERT INTO t (a, b) VALUES ('x', 1), ('y', 2), ('z', 3);";

#[test]
fn add_column_in_place() {
    let (a, sql) = change_case(
        BASE,
        "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b INT, c INT NOT NULL DEFAULT 0);",
    );
    assert!(
        sql.contains("ALTER TABLE \"t\" ADD COLUMN \"c\" INT NOT NULL DEFAULT 0"),
        "{sql}"
    );
    assert!(!sql.contains("lockstep_new_"), "{sql}");
    assert_value(&a, "SELECT sum(c) FROM t", "0");
}

#[test]
fn add_column_with_expression_default_rebuilds() {
    let (a, sql) = change_case(
        BASE,
        "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b INT, c TEXT DEFAULT (lower('X')));",
    );
    assert!(sql.contains("lockstep_new_t"), "{sql}");
    assert_value(&a, "SELECT count(*) FROM t", "3");
}

#[test]
fn add_column_in_the_middle_rebuilds() {
    let (a, sql) = change_case(
        BASE,
        "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, c INT, b INT);",
    );
    assert!(sql.contains("lockstep_new_t"), "{sql}");
    assert_value(&a, "SELECT sum(b) FROM t", "6");
}

#[test]
fn drop_column_in_place_and_marked_destructive() {
    let a = db(BASE);
    let b = db("CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT);");
    let (from, to) = (a.inspect(), b.inspect());
    let p = plan::plan(&diff(&from, &to), &from, &to);
    let drop = p
        .statements
        .iter()
        .find(|s| s.sql.contains("DROP COLUMN"))
        .expect("an in-place drop");
    assert!(drop.destructive);
    migrate(&a, &b);
    assert_value(&a, "SELECT group_concat(a, '') FROM t", "'xyz'");
}

#[test]
fn drop_indexed_column_rebuilds() {
    let (a, sql) = change_case(
        &format!("{BASE} CREATE INDEX t_b ON t (b);"),
        "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT);",
    );
    assert!(sql.contains("lockstep_new_t"), "{sql}");
    assert_value(&a, "SELECT count(*) FROM t", "3");
}

#[test]
fn type_change_rebuilds_keeping_rows_indexes_triggers_and_views() {
    let before = format!(
        "{BASE}
        CREATE TABLE log (msg TEXT);
        CREATE INDEX t_a ON t (a);
        CREATE TRIGGER t_ins AFTER INSERT ON t BEGIN INSERT INTO log VALUES (NEW.a); END;
        CREATE VIEW tv AS SELECT id, a FROM t;"
    );
    let after = "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b TEXT);
        CREATE TABLE log (msg TEXT);
        CREATE INDEX t_a ON t (a);
        CREATE TRIGGER t_ins AFTER INSERT ON t BEGIN INSERT INTO log VALUES (NEW.a); END;
        CREATE VIEW tv AS SELECT id, a FROM t;";
    let a = db(&before);
    let b = db(after);
    let (from, to) = (a.inspect(), b.inspect());
    let p = plan::plan(&diff(&from, &to), &from, &to);
    assert!(
        p.statements
            .iter()
            .any(|s| s.destructive && s.sql == "DROP TABLE \"t\""),
        "{}",
        p.to_sql()
    );
    let sql = migrate(&a, &b);
    assert!(sql.contains("PRAGMA defer_foreign_keys = ON"), "{sql}");
    assert_value(&a, "SELECT count(*) FROM t", "3");
    assert_value(&a, "SELECT count(*) FROM tv", "3");
    assert_value(&a, "SELECT typeof(b) FROM t WHERE id = 1", "'text'");
    // The re-created trigger fires.
    a.exec("INSERT INTO t (a, b) VALUES ('w', 4);");
    assert_value(&a, "SELECT count(*) FROM log", "1");
}

#[test]
fn add_and_drop_check_constraints() {
    let (a, sql) = change_case(
        BASE,
        "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT CONSTRAINT a_set CHECK (a <> ''), b INT, CHECK (b > 0));",
    );
    assert!(
        sql.contains("CONSTRAINT \"a_set\" CHECK (a <> '')"),
        "{sql}"
    );
    assert_value(&a, "SELECT count(*) FROM t", "3");
    let b = db(BASE);
    migrate(&a, &b);
    assert_value(&a, "SELECT count(*) FROM t", "3");
}

#[test]
fn add_foreign_key_to_existing_table_rebuilds() {
    let (a, sql) = change_case(
        &format!("CREATE TABLE p (id INTEGER PRIMARY KEY); INSERT INTO p VALUES (1), (2), (3); {BASE}"),
        "CREATE TABLE p (id INTEGER PRIMARY KEY);
         CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b INT REFERENCES p (id) ON DELETE CASCADE);",
    );
    assert!(
        sql.contains("REFERENCES \"p\" (\"id\") ON DELETE CASCADE"),
        "{sql}"
    );
    assert!(sql.contains("PRAGMA foreign_key_check(\"t\")"), "{sql}");
    assert_value(&a, "SELECT count(*) FROM t", "3");
}

#[test]
fn foreign_key_to_a_new_table_in_the_same_plan() {
    let (a, _) = change_case(
        BASE,
        "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b INT REFERENCES q);
         CREATE TABLE q (id INTEGER PRIMARY KEY, t_id INT REFERENCES t (id));",
    );
    assert_value(&a, "SELECT count(*) FROM t", "3");
}

#[test]
fn column_reorder_rebuilds() {
    let (a, sql) = change_case(
        BASE,
        "CREATE TABLE t (id INTEGER PRIMARY KEY, b INT, a TEXT);",
    );
    assert!(sql.contains("lockstep_new_t"), "{sql}");
    assert_value(&a, "SELECT group_concat(a || b, ',') FROM t", "'x1,y2,z3'");
}

#[test]
fn table_flags_rebuild() {
    let (a, _) = change_case(
        "CREATE TABLE k (k TEXT PRIMARY KEY, v INT); INSERT INTO k VALUES ('a', 1);",
        "CREATE TABLE k (k TEXT PRIMARY KEY, v INT) WITHOUT ROWID, STRICT;",
    );
    assert_value(&a, "SELECT v FROM k", "1");
}

#[test]
fn autoincrement_rebuild_keeps_the_sequence() {
    let a = db(
        "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, a TEXT);
         INSERT INTO t (a) VALUES ('x'), ('y'), ('z'); DELETE FROM t WHERE id = 3;",
    );
    let b =
        db("CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, a TEXT NOT NULL DEFAULT '');");
    migrate(&a, &b);
    assert_value(&a, "SELECT seq FROM sqlite_sequence WHERE name = 't'", "3");
}

#[test]
fn index_changes() {
    let before = format!(
        "{BASE} CREATE INDEX t_a ON t (a); CREATE INDEX t_b ON t (b); CREATE INDEX gone ON t (a, b);"
    );
    let (_, sql) = change_case(
        &before,
        "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b INT);
         CREATE INDEX t_a ON t (a);
         CREATE UNIQUE INDEX t_b ON t (b DESC) WHERE b > 0;
         CREATE INDEX t_lower ON t (lower(a));",
    );
    assert!(sql.contains("DROP INDEX \"gone\""), "{sql}");
    assert!(sql.contains("DROP INDEX \"t_b\""), "{sql}");
    assert!(!sql.contains("lockstep_new_"), "{sql}");
}

#[test]
fn view_change() {
    let (_, sql) = change_case(
        &format!("{BASE} CREATE VIEW v AS SELECT a FROM t;"),
        "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b INT);
         CREATE VIEW v AS SELECT a, b FROM t WHERE b > 1;",
    );
    assert!(sql.contains("DROP VIEW \"v\""), "{sql}");
}

#[test]
fn trigger_change() {
    let (_, sql) = change_case(
        &format!("{BASE} CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; END;"),
        "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b INT);
         CREATE TRIGGER tr AFTER UPDATE ON t BEGIN SELECT 2; END;",
    );
    assert!(sql.contains("DROP TRIGGER \"tr\""), "{sql}");
}

#[test]
fn rebuilding_a_parent_keeps_child_rows() {
    let (a, _) = change_case(
        "CREATE TABLE p (id INTEGER PRIMARY KEY, a TEXT);
         CREATE TABLE c (id INTEGER PRIMARY KEY, pid INT REFERENCES p (id) ON DELETE CASCADE);
         INSERT INTO p VALUES (1, 'x'), (2, 'y'); INSERT INTO c VALUES (1, 1), (2, 2);",
        "CREATE TABLE p (id INTEGER PRIMARY KEY, a TEXT CHECK (a <> ''));
         CREATE TABLE c (id INTEGER PRIMARY KEY, pid INT REFERENCES p (id) ON DELETE CASCADE);",
    );
    assert_value(&a, "SELECT count(*) FROM c", "2");
    // The child's key points at the rebuilt parent.
    a.exec("PRAGMA foreign_keys = ON; DELETE FROM p WHERE id = 1;");
    assert_value(&a, "SELECT count(*) FROM c", "1");
}

#[test]
fn survives_broken_views_and_unknown_modules() {
    let d = db("CREATE TABLE x (a INT); CREATE TABLE y (b INT);
         CREATE VIEW broken AS SELECT a FROM x; CREATE VIEW fine AS SELECT b FROM y;
         DROP TABLE x;
         PRAGMA writable_schema = ON;
         INSERT INTO sqlite_schema VALUES ('table', 'vx', 'vx', 0, 'CREATE VIRTUAL TABLE vx USING nosuchmodule(a)');");
    let m = d.inspect();
    assert_eq!(m.views[&QualName::new("main", "fine")].columns, ["b"]);
    assert!(m.views[&QualName::new("main", "broken")].columns.is_empty());
    let vx = &m.tables[&QualName::new("main", "vx")];
    assert_eq!(vx.virtual_using.as_deref(), Some("nosuchmodule(a)"));
}

#[test]
fn drop_table_is_destructive() {
    let a = db(&format!(
        "{BASE} CREATE TABLE gone (x INT REFERENCES t (id), CHECK (x > 0));"
    ));
    let b = db(BASE);
    let (from, to) = (a.inspect(), b.inspect());
    let p = plan::plan(&diff(&from, &to), &from, &to);
    assert!(p
        .statements
        .iter()
        .any(|s| s.destructive && s.sql == "DROP TABLE \"gone\""));
    migrate(&a, &b);
}

#[test]
fn same_statements_in_another_order_compare_equal() {
    let a = db("CREATE TABLE a (id INTEGER PRIMARY KEY, x TEXT UNIQUE);
         CREATE TABLE b (id INTEGER PRIMARY KEY, a_id INT REFERENCES a, CHECK (a_id > 0));
         CREATE INDEX b_a ON b (a_id);
         CREATE VIEW v AS SELECT * FROM b;
         CREATE TRIGGER tr AFTER INSERT ON a BEGIN SELECT 1; END;");
    let b = db(
        "CREATE TABLE b (id INTEGER PRIMARY KEY, a_id INT REFERENCES a, CHECK (a_id > 0));
         CREATE VIEW v AS SELECT * FROM b;
         CREATE INDEX b_a ON b (a_id);
         CREATE TABLE a (id INTEGER PRIMARY KEY, x TEXT UNIQUE);
         CREATE TRIGGER tr AFTER INSERT ON a BEGIN SELECT 1; END;",
    );
    let (ma, mb) = (a.inspect(), b.inspect());
    assert!(diff(&ma, &mb).is_empty(), "{}", describe(&diff(&ma, &mb)));
    assert_eq!(
        serde_json::to_string(&ma)
            .unwrap()
            .replace(&ma.env.version, ""),
        serde_json::to_string(&mb)
            .unwrap()
            .replace(&mb.env.version, "")
    );
}

#[test]
fn whitespace_and_quoting_do_not_make_differences() {
    let a = db(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT CHECK (a <> ''));
         CREATE INDEX i ON t (a);",
    );
    let b = db(
        "CREATE TABLE \"t\" (\n  [id] INTEGER PRIMARY KEY,\n  `a` TEXT CHECK ( a <>  '' )\n);
         CREATE INDEX i ON t(\"a\");",
    );
    let d = diff(&a.inspect(), &b.inspect());
    assert!(d.is_empty(), "{}", describe(&d));
}

fn corpus_round_trip(files: &[&str]) -> Option<usize> {
    let mut sql = String::new();
    for f in files {
        let path = support::corpus(f)?;
        let text = std::fs::read_to_string(path).unwrap();
        sql.push_str(&text.replace(
            "$%AUTO_INCREMENT_PRIMARY_KEY%$",
            "INTEGER PRIMARY KEY AUTOINCREMENT",
        ));
        sql.push('\n');
    }
    let d = db(&sql);
    let m = d.inspect();
    eprintln!("{}: {:?}", files[0], m.counts());
    if let Ok(dump) = std::env::var("LOCKSTEP_DUMP_DIR") {
        let name = files[0].replace('/', "_");
        std::fs::write(
            format!("{dump}/{name}.json"),
            serde_json::to_string_pretty(&m).unwrap(),
        )
        .unwrap();
    }
    assert_round_trip(&m);
    Some(m.tables.len())
}

#[test]
fn mediawiki_round_trips() {
    if let Some(n) = corpus_round_trip(&["debian/mediawiki-tables.sqlite.sql"]) {
        assert_eq!(n, 58);
    }
}

#[test]
fn synapse_round_trips() {
    let base = "synapse/synapse/storage/schema";
    let files = [
        format!("{base}/main/full_schemas/72/full.sql.sqlite"),
        format!("{base}/state/full_schemas/72/full.sql.sqlite"),
        format!("{base}/common/full_schemas/72/full.sql.sqlite"),
    ];
    let files: Vec<&str> = files.iter().map(String::as_str).collect();
    if let Some(n) = corpus_round_trip(&files) {
        eprintln!("synapse: {n} tables");
        assert!(n > 130, "{n}");
    }
}

const RICH_AFTER: &str = r#"
CREATE TABLE users (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  email TEXT NOT NULL COLLATE nocase UNIQUE,
  name  varchar( 40 ) DEFAULT 'anon',
  created_at TEXT NOT NULL DEFAULT (datetime('now')),
  score REAL CONSTRAINT score_positive CHECK (score >= 0),
  doubled INT GENERATED ALWAYS AS (score * 3) STORED,
  label TEXT AS (upper(name)) VIRTUAL,
  team_id INT REFERENCES teams (id),
  bio TEXT
);
CREATE TABLE teams (id INTEGER PRIMARY KEY, parent INT REFERENCES teams (id), name TEXT UNIQUE);
CREATE TABLE kv (k TEXT, v BLOB, CONSTRAINT kv_pk PRIMARY KEY (k) ON CONFLICT REPLACE);
CREATE TABLE memberships (
  user_id INTEGER NOT NULL,
  group_id INTEGER NOT NULL,
  role TEXT NOT NULL DEFAULT 'member',
  PRIMARY KEY (group_id, user_id),
  CONSTRAINT fk_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
  FOREIGN KEY (group_id) REFERENCES "Groups"
);
CREATE TABLE "Groups" (gid INTEGER PRIMARY KEY, title TEXT, created INT);
CREATE INDEX users_name_partial ON users (name) WHERE score > 20;
CREATE UNIQUE INDEX users_lower_email ON users (lower(email), id DESC);
CREATE INDEX memberships_role ON memberships (role COLLATE NOCASE);
CREATE INDEX teams_parent ON teams (parent);
CREATE VIEW active_users AS SELECT id, email, score FROM users WHERE score > 0;
CREATE VIEW active_members AS SELECT m.role, u.email FROM memberships m JOIN active_users u ON u.id = m.user_id;
CREATE TRIGGER users_audit AFTER UPDATE OF email ON users BEGIN
  UPDATE memberships SET role = 'changed' WHERE user_id = NEW.id;
END;
"#;

#[test]
fn many_changes_at_once() {
    let a = db(&format!(
        "{RICH}
        INSERT INTO users (email, score) VALUES ('two@example.com', 2), ('three@example.com', 3);
        INSERT INTO \"Groups\" VALUES (1, 'g');
        INSERT INTO memberships VALUES (1, 1, 'owner'), (2, 1, 'member');
        INSERT INTO kv VALUES ('a', x'00');"
    ));
    let b = db(RICH_AFTER);
    let sql = migrate(&a, &b);
    assert_value(&a, "SELECT count(*) FROM users", "3");
    assert_value(&a, "SELECT count(*) FROM memberships", "2");
    assert_value(&a, "SELECT count(*) FROM active_members", "2");
    assert_value(&a, "SELECT count(*) FROM kv", "1");
    assert_value(&a, "SELECT doubled FROM users WHERE score = 2", "6");
    // One rebuild per table.
    assert_eq!(
        sql.matches("CREATE TABLE \"lockstep_new_users\"").count(),
        1,
        "{sql}"
    );
    // And back again.
    let c = db(RICH);
    migrate(&a, &c);
    assert_value(&a, "SELECT count(*) FROM users", "3");
}

#[test]
#[should_panic(expected = "CHECK constraint failed")]
fn value_probe_detects_a_mismatch() {
    let d = db(BASE);
    assert_value(&d, "SELECT count(*) FROM t", "4");
}

#[test]
fn select_star_view_is_unchanged_by_a_new_column() {
    let a = db(&format!("{BASE} CREATE VIEW v AS SELECT * FROM t;"));
    let b = db(&format!(
        "{BASE} ALTER TABLE t ADD COLUMN c TEXT; CREATE VIEW v AS SELECT * FROM t;"
    ));
    let ch = diff(&a.inspect(), &b.inspect());
    assert_eq!(ch.len(), 1, "{}", describe(&ch));
    assert!(matches!(ch[0], Change::AddColumn { .. }));
}
