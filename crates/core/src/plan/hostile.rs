//! Names that try to break out: a property test that feeds models whose names, comments,
//! labels and collations are drawn from a hostile alphabet (line breaks, quotes, comment
//! markers, `;`, dollar quotes, backslashes, any Unicode but NUL) through both planners,
//! every kind of change included (those the engine cannot express as well), and checks
//! with the statement splitter that the script holds exactly the statements the planner
//! meant and nothing else: each statement is one statement, the script splits into
//! exactly the plan's statements in order, every comment line is one of lockstep's, and
//! every statement starts with a word the planner emits. The models come from
//! [`crate::hostile_models`], which the test applying them to real servers shares.

use super::{plan, Plan};
use crate::diff::diff;
use crate::hostile_models::{self as models, Reach, CHANGES, NAMES, PIECES};
use crate::model::*;
use crate::sql::split::Stmt;
use proptest::prelude::*;

/// The statements of a plan's text; a plan never leaves a comment or quote open.
fn split(text: &str) -> Vec<Stmt> {
    let s = crate::sql::split::split(text);
    assert!(s.problems.is_empty(), "{:?} in {text}", s.problems);
    s.statements
}

fn hostile() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        3 => proptest::sample::select(PIECES).prop_map(String::from),
        1 => "[^\\x00]{1,3}",
    ];
    proptest::collection::vec(piece, 1..7).prop_map(|v| v.concat())
}

/// `n` distinct hostile strings.
fn names(n: usize) -> impl Strategy<Value = Vec<String>> {
    proptest::collection::vec(hostile(), n).prop_map(|mut v| {
        for i in 0..v.len() {
            while v[..i].contains(&v[i]) {
                v[i].push('x');
            }
        }
        v
    })
}

/// The first word of a statement, uppercased.
fn first_word(sql: &str) -> String {
    sql.split(|c: char| !c.is_ascii_alphabetic())
        .next()
        .unwrap_or("")
        .to_ascii_uppercase()
}

/// What the planner means to emit, checked against what the splitter reads.
fn check(p: &Plan, words: &[&str]) -> Result<(), TestCaseError> {
    for s in &p.statements {
        let want = meant(&s.sql);
        let got = split(&s.sql);
        prop_assert_eq!(got.len(), 1, "one statement split into {:?}", got);
        prop_assert_eq!(meant(&got[0].sql), want);
        let w = first_word(want);
        prop_assert!(
            words.contains(&w.as_str()),
            "unexpected statement: {}",
            want
        );
    }
    let script = p.to_sql();
    let got = split(&script);
    if got.is_empty() {
        // Comments only: every line one of lockstep's.
        for line in script.lines() {
            prop_assert!(lockstep_comment(line), "not lockstep's comment: {:?}", line);
        }
    }
    let mut stripped = vec![];
    for (i, g) in got.iter().enumerate() {
        // The comment lines to_sql puts above a statement end up in its text.
        let mut rest = g.sql.as_str();
        while let Some((line, r)) = rest.split_once('\n').filter(|(l, _)| l.starts_with("--")) {
            prop_assert!(lockstep_comment(line), "not lockstep's comment: {:?}", line);
            rest = r;
        }
        stripped.push(rest.trim().to_string());
        // Between two statements: the terminator, nothing else.
        let end = g.offset + g.sql.len();
        let next = got.get(i + 1).map_or(script.len(), |n| n.offset);
        prop_assert_eq!(
            script[end..next].trim(),
            ";",
            "between statements of:\n{}",
            script
        );
    }
    prop_assert!(
        got.first()
            .is_none_or(|g| script[..g.offset].trim().is_empty()),
        "before the first statement"
    );
    let want: Vec<&str> = p.statements.iter().map(|s| meant(&s.sql)).collect();
    prop_assert_eq!(stripped, want, "script:\n{}", script);
    Ok(())
}

/// A statement's text without its terminator; a `;` in a final line comment is not one.
fn meant(sql: &str) -> &str {
    let t = sql.trim();
    if t.lines().last().is_some_and(|l| l.contains("--")) {
        t
    } else {
        t.strip_suffix(';').unwrap_or(t).trim_end()
    }
}

/// A comment line as `plan::comment` writes it: lockstep's prefix, and nothing that a
/// server reads as the end of the line.
fn lockstep_comment(line: &str) -> bool {
    line.starts_with("-- lockstep: ")
        && !line.contains(['\r', '\n', '\u{2028}', '\u{2029}', '\u{85}'])
        && !line.contains("*/")
        && !line.contains("/*")
}

const PG_WORDS: &[&str] = &[
    "CREATE", "ALTER", "DROP", "COMMENT", "GRANT", "REVOKE", "SET", "DO",
];
const SQLITE_WORDS: &[&str] = &["CREATE", "ALTER", "DROP", "INSERT", "DELETE", "PRAGMA"];

/// Every plan between `a` and `b` and the empty database, both ways.
fn plans(a: &Database, b: &Database) -> Vec<Plan> {
    let empty = Database::empty(a.dialect);
    let mut out = vec![];
    for (from, to) in [(&empty, a), (a, b), (b, a), (a, &empty), (&empty, b)] {
        out.push(plan(&diff(from, to), from, to));
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn hostile_names_stay_names_in_postgres_plans(n in names(NAMES), m in names(CHANGES)) {
        let a = models::pg(&n, Reach::Planner);
        let b = models::pg_changed(&n, &m, Reach::Planner);
        let ps = plans(&a, &b);
        prop_assert!(!ps[1].unsupported.is_empty(), "the cannot-express path was not taken");
        for p in &ps {
            check(p, PG_WORDS)?;
        }
    }

    #[test]
    fn hostile_names_stay_names_in_sqlite_plans(n in names(NAMES), m in names(CHANGES)) {
        let a = models::sqlite(&n, Reach::Planner);
        let b = models::sqlite_changed(&n, &m, Reach::Planner);
        let ps = plans(&a, &b);
        prop_assert!(!ps[0].unsupported.is_empty(), "the cannot-express path was not taken");
        for p in &ps {
            check(p, SQLITE_WORDS)?;
        }
    }
}

/// The issue's case, spelled out: a column named `p⏎DROP TABLE victim;⏎--` on both sides
/// of a column-order change PostgreSQL cannot make.
#[test]
fn a_name_cannot_end_a_cannot_express_comment() {
    let (a, b) = models::column_order_case();
    let p = plan(&diff(&a, &b), &a, &b);
    assert!(p.statements.is_empty(), "{p:?}");
    let sql = p.to_sql();
    assert_eq!(sql.lines().count(), 1, "{sql}");
    assert!(sql.contains(r#""p\nDROP TABLE victim;\n--""#), "{sql}");
    assert!(split(&sql).is_empty(), "{sql}");
}
