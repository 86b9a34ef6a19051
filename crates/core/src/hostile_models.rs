//! Models whose names, comments, labels and collations come from a hostile alphabet (line
//! breaks, quotes, comment markers, `;`, dollar quotes, backslashes, any Unicode but
//! NUL), for the tests that check a name stays a name: the planners' property test
//! (`plan/hostile.rs`) and the test that applies such plans to real servers
//! (`tests/it/secrets.rs`). Built from a list of names drawn by the caller, so that each
//! test draws them its own way (proptest, or a seeded generator).
//!
//! Only in tests: compiled with `cfg(test)` or the `test-support` feature, which the root
//! crate's dev-dependency turns on.

use crate::model::*;
use crate::plan::{ident, pg_literal, qual};
use std::collections::BTreeMap;

/// The pieces hostile names are made of, besides random characters.
pub const PIECES: &[&str] = &[
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

/// How many distinct names (`n`) and changed names (`m`) the builders read, for either
/// engine.
pub const NAMES: usize = 41;
pub const CHANGES: usize = 22;

/// The slots of `n` a caller reads back: the PostgreSQL schema, its table and its enum
/// type; the SQLite table.
pub const PG_SCHEMA: usize = 0;
pub const PG_TABLE: usize = 7;
pub const PG_ENUM: usize = 23;
pub const SQLITE_TABLE: usize = 0;

/// What a model may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Every kind of object and change, for plans that are only read: hostile roles,
    /// owners, grantees, extensions and collations included.
    Planner,
    /// What a real server applies with a test database's privileges: no roles,
    /// extensions or owners; grants to PUBLIC; collations the server has (`"C"`,
    /// `"POSIX"`, SQLite's built-in ones). Names, comments, labels and defaults stay
    /// hostile.
    Server,
}

impl Reach {
    /// `hostile`, or `real` where the server must know the object (a role, a collation).
    fn pick(self, hostile: &str, real: &str) -> String {
        match self {
            Reach::Planner => hostile.into(),
            Reach::Server => real.into(),
        }
    }

    /// A grantee: a hostile role, or PUBLIC on a server.
    fn role(self, hostile: &str) -> String {
        self.pick(hostile, "PUBLIC")
    }

    /// An owner: a hostile role, or the connecting user (none) on a server.
    fn owner(self, hostile: &str) -> Option<String> {
        (self == Reach::Planner).then(|| hostile.into())
    }
}

/// Without line breaks: for text SQLite keeps inside an expression's comment, where a
/// line break cannot occur without ending the comment in the original either.
fn one_line(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}

fn grant(grantee: String, privilege: &str) -> Grant {
    Grant {
        grantee,
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
/// comments, enum labels and defaults (and, for the planner, collations, roles and
/// grantees).
pub fn pg(n: &[String], reach: Reach) -> Database {
    let mut db = Database::empty(Dialect::Postgres);
    let schema = n[PG_SCHEMA].clone();
    let q = |name: &str| QualName::new(schema.clone(), name);
    let grantee = reach.role(&n[3]);
    db.schemas.insert(
        schema.clone(),
        Namespace {
            name: schema.clone(),
            owner: reach.owner(&n[1]),
            comment: Some(n[2].clone()),
            grants: vec![grant(grantee.clone(), "USAGE")],
        },
    );
    if reach == Reach::Planner {
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
    }

    let mut t = Table::new(q(&n[PG_TABLE]));
    let mut id = Column::new(n[8].clone(), "integer");
    id.not_null = true;
    id.comment = Some(n[9].clone());
    id.grants = vec![grant(grantee.clone(), "SELECT")];
    let mut label = Column::new(n[10].clone(), "text");
    label.collation = Some(reach.pick(&n[11], "\"C\""));
    label.default = Some(format!("{}::text", pg_literal(&n[12])));
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
                references: q(&n[PG_TABLE]),
                ref_columns: vec![n[8].clone()],
                on_delete: "CASCADE".into(),
                on_update: "NO ACTION".into(),
                match_: "SIMPLE".into(),
            },
            None,
        ),
    ];
    t.owner = reach.owner(&n[1]);
    t.comment = Some(n[18].clone());
    t.grants = vec![
        grant(grantee.clone(), "INSERT"),
        grant("PUBLIC".into(), "SELECT"),
    ];
    t.rls_enabled = true;
    t.policies.insert(
        n[19].clone(),
        Policy {
            name: n[19].clone(),
            permissive: true,
            command: "SELECT".into(),
            roles: vec![grantee.clone()],
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
    let typ = |name: &str, kind: TypeKind, comment: Option<&str>| TypeDef {
        name: q(name),
        kind,
        owner: None,
        comment: comment.map(String::from),
        grants: vec![],
        depends_on: vec![],
    };
    db.types.insert(
        q(&n[PG_ENUM]),
        typ(
            &n[PG_ENUM],
            TypeKind::Enum {
                labels: vec![n[24].clone(), n[25].clone()],
            },
            Some(&n[26]),
        ),
    );
    db.types.insert(
        q(&n[27]),
        typ(
            &n[27],
            TypeKind::Domain {
                base: "text".into(),
                not_null: false,
                default: None,
                collation: Some(reach.pick(&n[28], "\"C\"")),
                checks: BTreeMap::from([(n[29].clone(), "CHECK (VALUE <> '')".into())]),
            },
            None,
        ),
    );
    db.types.insert(
        q(&n[30]),
        typ(
            &n[30],
            TypeKind::Composite {
                attributes: vec![Attribute {
                    name: n[31].clone(),
                    type_: "text".into(),
                    collation: Some(reach.pick(&n[11], "\"C\"")),
                }],
            },
            None,
        ),
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
            grants: vec![grant(grantee, "USAGE")],
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
    let func = q(&n[37]);
    db.functions.insert(
        format!("{}.{}()", schema, n[37]),
        Function {
            name: func.clone(),
            kind: "function".into(),
            arguments: String::new(),
            returns: "trigger".into(),
            language: "plpgsql".into(),
            definition: format!(
                "CREATE OR REPLACE FUNCTION {}()\n RETURNS trigger\n LANGUAGE plpgsql\nAS $function$BEGIN RETURN NEW; END$function$\n",
                qual(&func)
            ),
            owner: reach.owner(&n[1]),
            comment: Some(n[38].clone()),
            grants: vec![],
            depends_on: vec![],
        },
    );
    db.triggers.insert(
        format!("{}.{}.{}", schema, n[PG_TABLE], n[39]),
        Trigger {
            name: n[39].clone(),
            table: table.clone(),
            definition: format!(
                "CREATE TRIGGER {} BEFORE INSERT ON {} FOR EACH ROW EXECUTE FUNCTION {}()",
                ident(&n[39]),
                qual(&table),
                qual(&func)
            ),
            enabled: None,
            comment: Some(n[40].clone()),
            depends_on: vec![],
        },
    );
    db
}

/// `pg(n)` after changes of every kind, including those PostgreSQL cannot make in place
/// (column order, a generation expression, a domain's collation, a partition key, a
/// foreign table).
pub fn pg_changed(n: &[String], m: &[String], reach: Reach) -> Database {
    let mut db = pg(n, reach);
    let schema = n[PG_SCHEMA].clone();
    let q = |name: &str| QualName::new(schema.clone(), name);
    let ns = db.schemas.get_mut(&schema).unwrap();
    ns.comment = Some(m[0].clone());
    ns.grants = vec![];
    if reach == Reach::Planner {
        let r = db.roles.get_mut(&n[3]).unwrap();
        r.member_of = vec![];
        r.login = true;
        let e = db.extensions.get_mut(&n[4]).unwrap();
        e.version = m[1].clone();
        e.comment = None;
    }

    let t = db.tables.get_mut(&q(&n[PG_TABLE])).unwrap();
    t.columns.swap(0, 1);
    let label = &mut t.columns[0];
    label.collation = Some(reach.pick(&m[2], "\"POSIX\""));
    label.default = Some(format!("{}::text", pg_literal(&m[3])));
    label.comment = Some(m[4].clone());
    label.grants = vec![grant(reach.role(&n[1]), "UPDATE")];
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
    t.grants = vec![grant(reach.role(&m[11]), "DELETE")];
    t.policies.clear();
    t.options = vec!["fillfactor=80".into()];

    let part = db.tables.get_mut(&q(&n[20])).unwrap();
    part.partition_key = Some(format!("LIST ({})", ident(&n[8])));
    let mut foreign = Table::new(q(&m[12]));
    foreign.kind = TableKind::Foreign;
    foreign.columns = vec![Column::new(m[13].clone(), "integer")];
    db.tables.insert(foreign.name.clone(), foreign);

    db.indexes.get_mut(&q(&n[21])).unwrap().comment = Some(m[14].clone());
    let e = db.types.get_mut(&q(&n[PG_ENUM])).unwrap();
    if let TypeKind::Enum { labels } = &mut e.kind {
        labels.insert(1, m[15].clone());
    }
    e.comment = Some(m[21].clone());
    if let TypeKind::Domain {
        collation, checks, ..
    } = &mut db.types.get_mut(&q(&n[27])).unwrap().kind
    {
        *collation = Some(reach.pick(&m[16], "\"POSIX\""));
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
        .get_mut(&format!("{}.{}.{}", schema, n[PG_TABLE], n[39]))
        .unwrap();
    trig.enabled = Some("D".into());
    trig.comment = Some(m[20].clone());
    db.types.remove(&q(&n[30]));
    db
}

/// A SQLite database: tables (one with a declared type, a collation and default comments
/// that SQLite reports as typed, one referencing it), a unique index, a view kept as
/// typed with a trailing comment, and a materialized view and an exclusion constraint
/// from another engine's snapshot (neither has a SQLite form).
pub fn sqlite(n: &[String], reach: Reach) -> Database {
    let mut db = Database::empty(Dialect::Sqlite);
    let q = |name: &str| QualName::new("main", name);
    let mut t = Table::new(q(&n[SQLITE_TABLE]));
    let id = Column::new(n[1].clone(), "INTEGER");
    let mut odd = Column::new(n[2].clone(), n[3].clone());
    odd.default = Some(format!("1 -- {}", one_line(&n[4])));
    let mut label = Column::new(n[5].clone(), "TEXT");
    label.collation = Some(reach.pick(&n[6], "NOCASE"));
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
                format!("SELECT {} FROM {}", ident(&n[1]), ident(&n[SQLITE_TABLE])),
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

/// `sqlite(n)` after changes that take a rebuild (column order, a type, a collation), an
/// added column on each table, and a dropped index.
pub fn sqlite_changed(n: &[String], m: &[String], reach: Reach) -> Database {
    let mut db = sqlite(n, reach);
    let q = |name: &str| QualName::new("main", name);
    let t = db.tables.get_mut(&q(&n[SQLITE_TABLE])).unwrap();
    t.columns.swap(1, 2);
    t.columns[2].type_ = m[0].clone();
    t.columns[1].collation = Some(reach.pick(&m[1], "RTRIM"));
    t.columns.push(Column::new(m[2].clone(), m[3].clone()));
    let child = db.tables.get_mut(&q(&n[12])).unwrap();
    child.columns.push(Column::new(m[4].clone(), "TEXT"));
    db.indexes.remove(&q(&n[15]));
    db
}

/// The issue's case: a table `public.t` with a column named `p⏎DROP TABLE victim;⏎--`,
/// before and after a column-order change PostgreSQL cannot make (so the plan is a
/// comment naming the column).
pub fn column_order_case() -> (Database, Database) {
    let mut a = Database::empty(Dialect::Postgres);
    let mut t = Table::new(QualName::new("public", "t"));
    t.columns = vec![
        Column::new("p\nDROP TABLE victim;\n--", "integer"),
        Column::new("q", "integer"),
    ];
    a.tables.insert(t.name.clone(), t.clone());
    let mut b = a.clone();
    b.tables.get_mut(&t.name).unwrap().columns.swap(0, 1);
    (a, b)
}
