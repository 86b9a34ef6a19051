//! Property (issue 11): for random tables, inserting, dropping and reordering columns in
//! the target never yields a plan that renames a column (none was declared), and the
//! plan, applied on a real server to the table with rows in it, keeps the values of
//! every column that exists on both sides. PostgreSQL, SQLite and MariaDB.

use crate::mysql_support::TestMysql;
use crate::support::{rt, TestPg, TestSqlite};
use lockstep_core::diff::{diff, Change};
use lockstep_core::model::{Database, Dialect, QualName};
use lockstep_core::plan;
use lockstep_db::{Conn, Db, DbUrl};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A table `id` + columns `c0..`, and what the target does to it.
#[derive(Debug, Clone)]
struct Case {
    /// The type of each column, as an index into the dialect's three types.
    types: Vec<usize>,
    dropped: Vec<bool>,
    /// New columns: (position among the target's columns, type).
    added: Vec<(usize, usize)>,
    /// A shuffle of the old columns' ranks; applied when `reorder`.
    reorder: bool,
    ranks: Vec<usize>,
}

fn cases() -> impl Strategy<Value = Case> {
    (1usize..6).prop_flat_map(|n| {
        (
            prop::collection::vec(0usize..3, n),
            prop::collection::vec(prop::bool::weighted(0.3), n),
            prop::collection::vec((0usize..8, 0usize..3), 0..3),
            prop::bool::weighted(0.3),
            Just((0..=n).collect::<Vec<usize>>()).prop_shuffle(),
        )
            .prop_map(|(types, dropped, added, reorder, ranks)| Case {
                types,
                dropped,
                added,
                reorder,
                ranks,
            })
    })
}

struct Server {
    url: String,
    dialect: Dialect,
    /// integer, text, big integer.
    types: [&'static str; 3],
    schema: &'static str,
}

static TABLES: AtomicUsize = AtomicUsize::new(0);

/// The first column of the first row of `sql`, as text.
fn value(url: &str, sql: &str) -> Option<String> {
    let u = DbUrl::parse(url).unwrap();
    rt().block_on(async {
        let mut db = Db::connect(&u, false).await.unwrap();
        macro_rules! one {
            ($c:expr) => {
                sqlx::query_scalar::<_, Option<String>>(sqlx::AssertSqlSafe(sql.to_string()))
                    .fetch_one(&mut *$c)
                    .await
            };
        }
        let v = match &mut db.conn {
            Conn::Postgres(c) => one!(c),
            Conn::Sqlite(c) => one!(c),
            Conn::Mysql(c) => one!(c),
        };
        db.close().await;
        v.unwrap_or_else(|e| panic!("{sql}: {e}"))
    })
}

fn exec(url: &str, sql: &str) -> Result<(), String> {
    let u = DbUrl::parse(url).unwrap();
    rt().block_on(async {
        let mut db = Db::connect(&u, true).await.map_err(|e| e.to_string())?;
        let r = db.execute_script(sql).await.map_err(|e| e.to_string());
        db.close().await;
        r
    })
}

fn inspect(url: &str) -> Database {
    rt().block_on(lockstep_db::inspect_url(&DbUrl::parse(url).unwrap()))
        .unwrap_or_else(|e| panic!("{e}"))
}

/// A column's values in id order, NULLs marked, as one string.
fn values(s: &Server, table: &str, col: &str) -> Option<String> {
    let sql = match s.dialect {
        Dialect::Postgres => format!(
            "SELECT string_agg(coalesce(\"{col}\"::text, '-'), ',' ORDER BY id) FROM \"{table}\""
        ),
        Dialect::Sqlite => format!(
            "SELECT group_concat(coalesce(CAST(\"{col}\" AS TEXT), '-'), ',') FROM (SELECT \"{col}\" FROM \"{table}\" ORDER BY id)"
        ),
        Dialect::Mysql => format!(
            "SELECT GROUP_CONCAT(coalesce(CAST(`{col}` AS CHAR), '-') ORDER BY id SEPARATOR ',') FROM `{table}`"
        ),
    };
    value(&s.url, &sql)
}

fn check(s: &Server, case: &Case) -> Result<(), TestCaseError> {
    let n = TABLES.fetch_add(1, Ordering::SeqCst);
    let table = format!("t{n}");
    let q = |x: &str| match s.dialect {
        Dialect::Mysql => format!("`{x}`"),
        _ => format!("\"{x}\""),
    };
    let cols: Vec<String> = (0..case.types.len()).map(|i| format!("c{i}")).collect();
    let mut ddl = format!(
        "CREATE TABLE {} ({} {} PRIMARY KEY",
        q(&table),
        q("id"),
        s.types[0]
    );
    for (c, t) in cols.iter().zip(&case.types) {
        ddl.push_str(&format!(", {} {}", q(c), s.types[*t]));
    }
    ddl.push_str(");\n");
    for row in 0..3usize {
        let vals: Vec<String> = case
            .types
            .iter()
            .enumerate()
            .map(|(i, t)| match (row + i) % 4 {
                0 => "NULL".to_string(),
                _ => match t {
                    0 => format!("{}", row * 10 + i),
                    1 => format!("'r{row}c{i}'"),
                    _ => format!("{}", 10_000_000_000u64 + (row * 10 + i) as u64),
                },
            })
            .collect();
        let rest = if vals.is_empty() {
            String::new()
        } else {
            format!(", {}", vals.join(", "))
        };
        ddl.push_str(&format!(
            "INSERT INTO {} VALUES ({row}{rest});\n",
            q(&table)
        ));
    }
    exec(&s.url, &ddl).map_err(TestCaseError::fail)?;
    let from = inspect(&s.url);
    let key = QualName::new(s.schema, &table);
    let ft = from
        .tables
        .get(&key)
        .expect("the table just created")
        .clone();
    // The target: columns dropped, new ones inserted (of a type some old column has, so
    // they look like renames), old ones shuffled.
    let mut to = from.clone();
    let tt = to.tables.get_mut(&key).unwrap();
    let rank = |name: &str| -> usize {
        if name == "id" {
            case.ranks[0]
        } else {
            case.ranks[name[1..].parse::<usize>().unwrap() + 1]
        }
    };
    let mut list: Vec<_> = ft
        .columns
        .iter()
        .filter(|c| c.name == "id" || !case.dropped[c.name[1..].parse::<usize>().unwrap()])
        .cloned()
        .collect();
    if case.reorder {
        list.sort_by_key(|c| rank(&c.name));
    }
    for (k, (pos, t)) in case.added.iter().enumerate() {
        let proto = ft
            .columns
            .iter()
            .skip(1)
            .zip(&case.types)
            .find(|(_, ty)| *ty == t)
            .map(|(c, _)| c)
            .unwrap_or(&ft.columns[0]);
        let mut c = proto.clone();
        c.name = format!("n{k}");
        c.not_null = false;
        c.default = None;
        c.auto_increment = false;
        list.insert(pos % (list.len() + 1), c);
    }
    tt.columns = list;
    let changes = diff(&from, &to);
    prop_assert!(
        !changes
            .iter()
            .any(|c| matches!(c, Change::RenameColumn { .. })),
        "a rename nobody declared: {changes:?}"
    );
    let p = plan::plan(&changes, &from, &to);
    let sql = p.to_sql();
    prop_assert!(!sql.contains("RENAME COLUMN"), "{sql}");
    let shared: Vec<String> = ft
        .columns
        .iter()
        .filter(|c| to.tables[&key].column(&c.name).is_some())
        .map(|c| c.name.clone())
        .collect();
    let before: Vec<Option<String>> = shared.iter().map(|c| values(s, &table, c)).collect();
    let script = match s.dialect {
        Dialect::Mysql => sql.clone(),
        _ => format!("BEGIN;\n{sql}COMMIT;"),
    };
    if !sql.trim().is_empty() {
        exec(&s.url, &script).map_err(|e| TestCaseError::fail(format!("{e}\n--- plan:\n{sql}")))?;
    }
    let after: Vec<Option<String>> = shared.iter().map(|c| values(s, &table, c)).collect();
    prop_assert_eq!(&before, &after, "values changed; plan:\n{}", sql);
    // What is left is only the order PostgreSQL cannot make.
    let left = diff(&inspect(&s.url), &to);
    prop_assert!(
        left.iter()
            .all(|c| s.dialect == Dialect::Postgres && matches!(c, Change::ColumnOrder { .. })),
        "left over: {:?}\n--- plan:\n{sql}",
        left.iter().map(Change::describe).collect::<Vec<_>>()
    );
    exec(&s.url, &format!("DROP TABLE {}", q(&table))).map_err(TestCaseError::fail)?;
    Ok(())
}

fn run(s: &Server, count: u32) {
    let mut runner = TestRunner::new(Config {
        cases: count,
        failure_persistence: None,
        ..Config::default()
    });
    if let Err(e) = runner.run(&cases(), |c| check(s, &c)) {
        panic!("{:?}: {e}", s.dialect);
    }
}

/// A server of `dialect` at `url`, with three types every plan there can hold.
fn server(url: &str, dialect: Dialect) -> Server {
    let (types, schema) = match dialect {
        Dialect::Postgres => (["integer", "text", "bigint"], "public"),
        Dialect::Sqlite => (["INTEGER", "TEXT", "BIGINT"], "main"),
        Dialect::Mysql => (
            ["int", "varchar(40)", "bigint"],
            lockstep_core::dialect::mysql::SCHEMA,
        ),
    };
    Server {
        url: url.to_string(),
        dialect,
        types,
        schema,
    }
}

#[test]
fn postgres_plans_never_guess_renames_and_keep_values() {
    if let Some(pg) = TestPg::new("rnp") {
        run(&server(&pg.url, Dialect::Postgres), 24);
    }
}

#[test]
fn sqlite_plans_never_guess_renames_and_keep_values() {
    let db = TestSqlite::new();
    db.exec("CREATE TABLE keep (a INTEGER)");
    run(&server(&db.url, Dialect::Sqlite), 32);
}

#[test]
fn mariadb_plans_never_guess_renames_and_keep_values() {
    if let Some(m) = TestMysql::new("rnp") {
        run(&server(&m.url, Dialect::Mysql), 16);
    }
}

/// `lockstep diff` plans a rename only when `--rename` or a migration declares it, and
/// otherwise says what to pass.
#[test]
fn diff_renames_only_what_is_declared() {
    use crate::harness::{expect, Project};
    let (a, b) = (TestSqlite::new(), TestSqlite::new());
    a.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, c TEXT); INSERT INTO t VALUES (1, 'x');");
    b.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, b TEXT);");
    let dir = tempfile::tempdir().unwrap();
    let sql = |extra: &[&str], code: i32| {
        let mut args = vec!["diff", a.url.as_str(), b.url.as_str(), "--format", "sql"];
        args.extend(extra);
        expect(dir.path(), &args, code).text()
    };
    let plain = sql(&[], 1);
    assert!(plain.contains("DROP COLUMN \"c\""), "{plain}");
    assert!(!plain.contains("RENAME"), "{plain}");
    assert!(
        plain.contains("possible rename: main.t.c -> main.t.b; pass `--rename t.c=b` if it is one"),
        "{plain}"
    );
    let declared = sql(&["--rename", "t.c=b"], 1);
    assert!(
        declared.contains("ALTER TABLE \"t\" RENAME COLUMN \"c\" TO \"b\""),
        "{declared}"
    );
    assert!(!declared.contains("DROP"), "{declared}");
    let wrong = sql(&["--rename", "t.x=b"], 2);
    assert!(
        wrong.contains("--rename t.x=b: FROM has no column main.t.x"),
        "{wrong}"
    );
    // A migration of the project declares it too.
    let p = Project::new(&[]);
    p.migration(
        "1",
        "create",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, c TEXT);",
    );
    p.migration("2", "rename", "ALTER TABLE t RENAME COLUMN c TO b;");
    let r = expect(p.path(), &["diff", &a.url, &b.url, "--format", "json"], 1);
    let v: serde_json::Value = serde_json::from_slice(&r.out.stdout).unwrap();
    assert_eq!(
        v["renames"][0]["declared_by"], "migration 2 rename",
        "{v:#}"
    );
    assert!(
        v["statements"][0]["sql"]
            .as_str()
            .is_some_and(|s| s.contains("RENAME COLUMN")),
        "{v:#}"
    );
}
