//! Names that try to break out: a property test that feeds models whose names, comments,
//! labels and collations are drawn from a hostile alphabet (line breaks, quotes, comment
//! markers, `;`, dollar quotes, backslashes, any Unicode but NUL) through both planners,
//! every kind of change included (those the engine cannot express as well), and checks
//! with the statement splitter that the script holds exactly the statements the planner
//! meant and nothing else: each statement is one statement, the script splits into
//! exactly the plan's statements in order, every comment line is one of lockstep's, and
//! every statement starts with a word the planner emits.

use super::{ident, plan, qual, Plan};
use crate::diff::diff;
use crate::sql::split::Stmt;

/// The statements of a plan's text; a plan never leaves a comment or quote open.
fn split(text: &str) -> Vec<Stmt> {
    let s = crate::sql::split::split(text);
    assert!(s.problems.is_empty(), "{:?} in {text}", s.problems);
    s.statements
}
use crate::model::*;
use proptest::prelude::*;
use std::collections::BTreeMap;

/// The pieces hostile names are made of, besides random characters.
const PIECES: &[&str] = &[
    "\n",
    "\r",
    "\r\n",
    "\"",
    "'",
    "`",
    "--",
    "/*",
    "*/",
    ";",
    "$$",
    "$lockstep$",
    "$lockstep",
    "\\",
    "\\'",
    "E'",
    "DROP TABLE victim",
    " ",
    "\t",
    "p",
    "]",
    "é",
    "表",
    "\u{2028}",
    "\u{85}",
    "\u{1b}",
    "\u{7f}",
];

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

/// Without line breaks: for text SQLite keeps inside an expression's comment, where a
/// line break cannot occur without ending the comment in the original either.
fn one_line(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}

fn grant(grantee: &str, privilege: &str) -> Grant {
    Grant {
        grantee: grantee.into(),
        privilege: privilege.into(),
        grantable: false,
    }
}

fn constraint(name: &str, kind: ConstraintKind, comment: Option<&str>) -> Constraint {
    Constraint {
        comment: comment.map(String::from),
        ..Constraint::new(Some(name.into()), kind)
    }
}

/// A PostgreSQL database with every kind of object, each named from `n`, with hostile
/// comments, enum labels, collations and grantees.
fn pg_model(n: &[String]) -> Database {
    let mut db = Database::empty(Dialect::Postgres);
    let schema = n[0].clone();
    let q = |name: &str| QualName::new(schema.clone(), name);
    db.schemas.insert(
        schema.clone(),
        Namespace {
            name: schema.clone(),
            owner: Some(n[1].clone()),
            comment: Some(n[2].clone()),
            grants: vec![grant(&n[3], "USAGE")],
        },
    );
    for r in [&n[1], &n[3]] {
        db.roles.insert(
            r.clone(),
            Role {
                name: r.clone(),
                inherit: true,
                connection_limit: -1,
                member_of: vec![],
                ..Default::default()
            },
        );
    }
    db.roles.get_mut(&n[3]).unwrap().member_of = vec![n[1].clone()];
    db.env.server_roles = vec![n[1].clone(), n[3].clone()];
    db.extensions.insert(
        n[4].clone(),
        Extension {
            name: n[4].clone(),
            schema: schema.clone(),
            version: n[5].clone(),
            comment: Some(n[6].clone()),
        },
    );

    let mut t = Table::new(q(&n[7]));
    let mut id = Column::new(n[8].clone(), "integer");
    id.not_null = true;
    id.comment = Some(n[9].clone());
    id.grants = vec![grant(&n[3], "SELECT")];
    let mut label = Column::new(n[10].clone(), "text");
    label.collation = Some(n[11].clone());
    label.default = Some(format!("{}::text", super::pg_literal(&n[12])));
    let mut total = Column::new(n[13].clone(), "integer");
    total.generated = Some(Generated {
        expression: format!("({} * 2)", ident(&n[8])),
        stored: true,
    });
    t.columns = vec![id, label, total];
    t.constraints = vec![
        constraint(
            &n[14],
            ConstraintKind::PrimaryKey {
                columns: vec![n[8].clone()],
                extra: None,
            },
            Some(&n[15]),
        ),
        constraint(
            &n[16],
            ConstraintKind::Check {
                expression: format!("({} > 0)", ident(&n[8])),
                no_inherit: false,
            },
            None,
        ),
        constraint(
            &n[17],
            ConstraintKind::ForeignKey {
                columns: vec![n[8].clone()],
                references: q(&n[7]),
                ref_columns: vec![n[8].clone()],
                on_delete: "CASCADE".into(),
                on_update: "NO ACTION".into(),
                match_: "SIMPLE".into(),
            },
            None,
        ),
    ];
    t.owner = Some(n[1].clone());
    t.comment = Some(n[18].clone());
    t.grants = vec![grant(&n[3], "INSERT"), grant("PUBLIC", "SELECT")];
    t.rls_enabled = true;
    t.policies.insert(
        n[19].clone(),
        Policy {
            name: n[19].clone(),
            permissive: true,
            command: "SELECT".into(),
            roles: vec![n[3].clone()],
            using: Some("true".into()),
            with_check: None,
        },
    );
    t.options = vec!["fillfactor=70".into()];
    let table = t.name.clone();
    db.tables.insert(t.name.clone(), t);

    let mut part = Table::new(q(&n[20]));
    part.kind = TableKind::Partitioned;
    part.partition_key = Some(format!("RANGE ({})", ident(&n[8])));
    part.columns = vec![Column::new(n[8].clone(), "integer")];
    db.tables.insert(part.name.clone(), part);

    db.indexes.insert(
        q(&n[21]),
        Index {
            comment: Some(n[22].clone()),
            ..Index::new(
                q(&n[21]),
                table.clone(),
                format!("USING btree ({})", ident(&n[10])),
                vec![n[10].clone()],
            )
        },
    );
    db.types.insert(
        q(&n[23]),
        TypeDef {
            name: q(&n[23]),
            kind: TypeKind::Enum {
                labels: vec![n[24].clone(), n[25].clone()],
            },
            owner: None,
            comment: Some(n[26].clone()),
            grants: vec![],
            depends_on: vec![],
        },
    );
    db.types.insert(
        q(&n[27]),
        TypeDef {
            name: q(&n[27]),
            kind: TypeKind::Domain {
                base: "text".into(),
                not_null: false,
                default: None,
                collation: Some(n[28].clone()),
                checks: BTreeMap::from([(n[29].clone(), "CHECK (VALUE <> '')".into())]),
            },
            owner: None,
            comment: None,
            grants: vec![],
            depends_on: vec![],
        },
    );
    db.types.insert(
        q(&n[30]),
        TypeDef {
            name: q(&n[30]),
            kind: TypeKind::Composite {
                attributes: vec![Attribute {
                    name: n[31].clone(),
                    type_: "text".into(),
                    collation: Some(n[11].clone()),
                }],
            },
            owner: None,
            comment: None,
            grants: vec![],
            depends_on: vec![],
        },
    );
    db.sequences.insert(
        q(&n[32]),
        Sequence {
            name: q(&n[32]),
            type_: "bigint".into(),
            start: 1,
            increment: 1,
            min: 1,
            max: i64::MAX,
            cache: 1,
            cycle: false,
            owned_by: Some(ColumnRef {
                table: table.clone(),
                column: n[8].clone(),
            }),
            owner: None,
            comment: Some(n[33].clone()),
            grants: vec![grant(&n[3], "USAGE")],
        },
    );
    db.views.insert(
        q(&n[34]),
        View {
            columns: vec![n[8].clone()],
            options: vec!["security_barrier=true".into()],
            comment: Some(n[35].clone()),
            column_comments: BTreeMap::from([(n[8].clone(), n[36].clone())]),
            ..View::new(
                q(&n[34]),
                format!("SELECT {} FROM {}", ident(&n[8]), qual(&table)),
            )
        },
    );
    let func = Function {
        name: q(&n[37]),
        kind: "function".into(),
        arguments: String::new(),
        returns: "trigger".into(),
        language: "plpgsql".into(),
        definition: format!(
            "CREATE OR REPLACE FUNCTION {}()\n RETURNS trigger\n LANGUAGE plpgsql\nAS $function$BEGIN RETURN NEW; END$function$\n",
            qual(&q(&n[37]))
        ),
        owner: Some(n[1].clone()),
        comment: Some(n[38].clone()),
        grants: vec![],
        depends_on: vec![],
    };
    db.functions
        .insert(format!("{}.{}()", schema, n[37]), func.clone());
    db.triggers.insert(
        format!("{}.{}.{}", schema, n[7], n[39]),
        Trigger {
            name: n[39].clone(),
            table: table.clone(),
            definition: format!(
                "CREATE TRIGGER {} BEFORE INSERT ON {} FOR EACH ROW EXECUTE FUNCTION {}()",
                ident(&n[39]),
                qual(&table),
                qual(&func.name)
            ),
            enabled: None,
            comment: Some(n[40].clone()),
            depends_on: vec![],
        },
    );
    db
}

/// The same database after changes of every kind, including those PostgreSQL cannot make
/// in place (column order, a generation expression, a domain's collation, a partition key,
/// a foreign table).
fn pg_changed(n: &[String], m: &[String]) -> Database {
    let mut db = pg_model(n);
    let schema = n[0].clone();
    let q = |name: &str| QualName::new(schema.clone(), name);
    let ns = db.schemas.get_mut(&schema).unwrap();
    ns.comment = Some(m[0].clone());
    ns.grants = vec![];
    db.roles.get_mut(&n[3]).unwrap().member_of = vec![];
    db.roles.get_mut(&n[3]).unwrap().login = true;
    db.extensions.get_mut(&n[4]).unwrap().version = m[1].clone();
    db.extensions.get_mut(&n[4]).unwrap().comment = None;

    let t = db.tables.get_mut(&q(&n[7])).unwrap();
    t.columns.swap(0, 1);
    let label = &mut t.columns[0];
    label.collation = Some(m[2].clone());
    label.default = Some(format!("{}::text", super::pg_literal(&m[3])));
    label.comment = Some(m[4].clone());
    label.grants = vec![grant(&n[1], "UPDATE")];
    t.columns[2].generated = Some(Generated {
        expression: format!("({} * 3)", ident(&n[8])),
        stored: true,
    });
    let mut added = Column::new(m[5].clone(), "bigint");
    added.comment = Some(m[6].clone());
    t.columns.push(added);
    t.constraints[0].comment = Some(m[7].clone());
    t.constraints.remove(1);
    t.constraints.push(constraint(
        &m[8],
        ConstraintKind::Unique {
            columns: vec![n[10].clone()],
            nulls_not_distinct: false,
            extra: None,
        },
        Some(&m[9]),
    ));
    t.comment = Some(m[10].clone());
    t.grants = vec![grant(&m[11], "DELETE")];
    t.policies.clear();
    t.options = vec!["fillfactor=80".into()];

    let part = db.tables.get_mut(&q(&n[20])).unwrap();
    part.partition_key = Some(format!("LIST ({})", ident(&n[8])));
    let mut foreign = Table::new(q(&m[12]));
    foreign.kind = TableKind::Foreign;
    foreign.columns = vec![Column::new(m[13].clone(), "integer")];
    db.tables.insert(foreign.name.clone(), foreign);

    db.indexes.get_mut(&q(&n[21])).unwrap().comment = Some(m[14].clone());
    if let TypeKind::Enum { labels } = &mut db.types.get_mut(&q(&n[23])).unwrap().kind {
        labels.insert(1, m[15].clone());
    }
    if let TypeKind::Domain {
        collation, checks, ..
    } = &mut db.types.get_mut(&q(&n[27])).unwrap().kind
    {
        *collation = Some(m[16].clone());
        checks.insert(m[17].clone(), "CHECK (length(VALUE) < 9)".into());
    }
    let seq = db.sequences.get_mut(&q(&n[32])).unwrap();
    seq.comment = Some(m[18].clone());
    seq.increment = 2;
    let view = db.views.get_mut(&q(&n[34])).unwrap();
    view.column_comments = BTreeMap::from([(n[8].clone(), m[19].clone())]);
    view.comment = None;
    let trig = db
        .triggers
        .get_mut(&format!("{}.{}.{}", schema, n[7], n[39]))
        .unwrap();
    trig.enabled = Some("D".into());
    trig.comment = Some(m[20].clone());
    db.types.remove(&q(&n[30]));
    db
}

/// A SQLite database: tables (one with a type, a collation and a default comment that
/// SQLite reports as typed), an index, views, a materialized view and an exclusion
/// constraint from another engine's snapshot (neither has a SQLite form).
fn sqlite_model(n: &[String]) -> Database {
    let mut db = Database::empty(Dialect::Sqlite);
    let q = |name: &str| QualName::new("main", name);
    let mut t = Table::new(q(&n[0]));
    let id = Column::new(n[1].clone(), "INTEGER");
    let mut odd = Column::new(n[2].clone(), n[3].clone());
    odd.default = Some(format!("1 -- {}", one_line(&n[4])));
    let mut label = Column::new(n[5].clone(), "TEXT");
    label.collation = Some(n[6].clone());
    label.default = Some(format!(
        "(2 /* {} */ + 1)",
        one_line(&n[7]).replace("*/", "")
    ));
    t.columns = vec![id, odd, label];
    t.constraints = vec![
        constraint(
            &n[8],
            ConstraintKind::PrimaryKey {
                columns: vec![n[1].clone()],
                extra: None,
            },
            None,
        ),
        constraint(
            &n[9],
            ConstraintKind::Check {
                expression: format!("{} > 0 -- {}", ident(&n[1]), one_line(&n[10])),
                no_inherit: false,
            },
            None,
        ),
        constraint(
            &n[11],
            ConstraintKind::Exclusion {
                definition: "EXCLUDE USING gist (x WITH &&)".into(),
            },
            None,
        ),
    ];
    let table = t.name.clone();
    db.tables.insert(t.name.clone(), t);
    let mut child = Table::new(q(&n[12]));
    child.columns = vec![Column::new(n[13].clone(), "INTEGER")];
    child.constraints = vec![constraint(
        &n[14],
        ConstraintKind::ForeignKey {
            columns: vec![n[13].clone()],
            references: table.clone(),
            ref_columns: vec![n[1].clone()],
            on_delete: "CASCADE".into(),
            on_update: "NO ACTION".into(),
            match_: "NONE".into(),
        },
        None,
    )];
    db.tables.insert(child.name.clone(), child);
    db.indexes.insert(
        q(&n[15]),
        Index {
            unique: true,
            ..Index::new(
                q(&n[15]),
                table.clone(),
                format!("({})", ident(&n[5])),
                vec![n[5].clone()],
            )
        },
    );
    db.views.insert(
        q(&n[16]),
        View {
            // SQLite keeps the text as typed, a trailing comment included.
            sql: Some(format!(
                "CREATE VIEW {} AS SELECT 1 AS x -- {}",
                ident(&n[16]),
                one_line(&n[17])
            )),
            ..View::new(
                q(&n[16]),
                format!("SELECT {} FROM {}", ident(&n[1]), ident(&n[0])),
            )
        },
    );
    db.views.insert(
        q(&n[18]),
        View {
            materialized: true,
            ..View::new(q(&n[18]), "SELECT 1")
        },
    );
    db
}

/// The SQLite database after changes that take a rebuild (column order, a type, a
/// collation), an added and a dropped column, and a dropped index.
fn sqlite_changed(n: &[String], m: &[String]) -> Database {
    let mut db = sqlite_model(n);
    let q = |name: &str| QualName::new("main", name);
    let t = db.tables.get_mut(&q(&n[0])).unwrap();
    t.columns.swap(1, 2);
    t.columns[2].type_ = m[0].clone();
    t.columns[1].collation = Some(m[1].clone());
    t.columns.push(Column::new(m[2].clone(), m[3].clone()));
    let child = db.tables.get_mut(&q(&n[12])).unwrap();
    child.columns.push(Column::new(m[4].clone(), "TEXT"));
    db.indexes.remove(&q(&n[15]));
    db
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
    fn hostile_names_stay_names_in_postgres_plans(n in names(41), m in names(21)) {
        let a = pg_model(&n);
        let b = pg_changed(&n, &m);
        let ps = plans(&a, &b);
        prop_assert!(!ps[1].unsupported.is_empty(), "the cannot-express path was not taken");
        for p in &ps {
            check(p, PG_WORDS)?;
        }
    }

    #[test]
    fn hostile_names_stay_names_in_sqlite_plans(n in names(19), m in names(5)) {
        let a = sqlite_model(&n);
        let b = sqlite_changed(&n, &m);
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
    let mut a = Database::empty(Dialect::Postgres);
    let mut t = Table::new(QualName::new("public", "t"));
    t.columns = vec![
        Column::new("p\nDROP TABLE victim;\n--", "integer"),
        Column::new("q", "integer"),
    ];
    a.tables.insert(t.name.clone(), t.clone());
    let mut b = a.clone();
    b.tables.get_mut(&t.name).unwrap().columns.swap(0, 1);
    let p = plan(&diff(&a, &b), &a, &b);
    assert!(p.statements.is_empty(), "{p:?}");
    let sql = p.to_sql();
    assert_eq!(sql.lines().count(), 1, "{sql}");
    assert!(sql.contains(r#""p\nDROP TABLE victim;\n--""#), "{sql}");
    assert!(split(&sql).is_empty(), "{sql}");
}
