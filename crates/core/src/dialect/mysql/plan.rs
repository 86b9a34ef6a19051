//! MySQL and MariaDB plans.
//!
//! Every change is made in place with `ALTER TABLE`; MySQL can reach any column order
//! (`FIRST`, `AFTER`), so nothing is rebuilt by hand. Each `ALTER` says how the server
//! will run it, for the server being changed (its flavour and version are in the
//! model's environment facts):
//!
//! - `ALGORITHM=INSTANT` where the change is metadata only on that server (adding a
//!   column, and on MariaDB 10.4+ and MySQL 8.0.29+ at any position or dropping one;
//!   defaults; appending ENUM values);
//! - `ALGORITHM=INPLACE, LOCK=NONE` where the table stays writable (secondary indexes,
//!   widening a VARCHAR within its length-byte class);
//! - otherwise no clause, and a note that says the table is copied or rebuilt.
//!
//! An explicit algorithm makes the server refuse rather than silently copy when the
//! assumption does not hold. Without environment facts (a plan from a snapshot) no
//! algorithm is named, and the notes stay.
//!
//! Identifiers are always backquoted by [`ident`]. Nothing is renamed unless declared
//! (docs/diff.md): a column that exists on one side only is added or dropped.
//!
//! The database a model was read from is the schema [`SCHEMA`], whatever its name on
//! the server, so that environments with different database names compare equal.
//! Objects in other databases keep their database's name.

use super::{text, types};
use crate::dialect::{foreign_key_sql, ForeignKeyStyle};
use crate::diff::{topo, Change};
use crate::model::*;
use crate::plan::{Plan, Statement};
use std::collections::{BTreeMap, BTreeSet};

/// The schema name of the database a MySQL model was read from.
pub const SCHEMA: &str = "main";

/// Quotes an identifier with backquotes, always.
pub fn ident(s: &str) -> String {
    format!("`{}`", s.replace('`', "``"))
}

/// Quotes a string literal (`''` for a quote, `\\` for a backslash).
pub fn literal(s: &str) -> String {
    text::quote_str(s)
}

/// `` `name` `` in the current database, `` `db`.`name` `` elsewhere.
pub fn qual(q: &QualName) -> String {
    if q.schema == SCHEMA {
        ident(&q.name)
    } else {
        format!("{}.{}", ident(&q.schema), ident(&q.name))
    }
}

/// `'user'@'host'` for `user@host`, `` `role` `` for a role (no host).
pub fn account(a: &str) -> String {
    match a.rsplit_once('@') {
        Some((u, h)) => format!("{}@{}", literal(u), literal(h)),
        None => ident(a),
    }
}

/// The server a plan runs on, from the environment facts of the model being changed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Server {
    /// None when unknown (a snapshot without facts, or an empty model).
    pub mariadb: Option<bool>,
    pub version: (u32, u32, u32),
}

impl Server {
    pub fn of(db: &Database) -> Server {
        let mariadb = match db.env.engine.as_str() {
            "mariadb" => Some(true),
            "mysql" => Some(false),
            _ => None,
        };
        let mut nums = db
            .env
            .version
            .split(|c: char| !c.is_ascii_digit())
            .filter(|s| !s.is_empty())
            .map(|s| s.parse::<u32>().unwrap_or(0));
        let version = (
            nums.next().unwrap_or(0),
            nums.next().unwrap_or(0),
            nums.next().unwrap_or(0),
        );
        Server { mariadb, version }
    }

    /// Whether the server is at least `maria` (MariaDB) or `mysql` (MySQL).
    fn at_least(&self, maria: (u32, u32, u32), mysql: (u32, u32, u32)) -> bool {
        match self.mariadb {
            Some(true) => self.version >= maria,
            Some(false) => self.version >= mysql,
            None => false,
        }
    }

    fn is_mysql(&self) -> bool {
        self.mariadb == Some(false)
    }
}

pub fn plan(changes: &[Change], from: &Database, to: &Database) -> Plan {
    let srv = Server::of(from);
    // Syntax choices (not algorithms) may come from the target's facts too.
    let syntax = if srv.mariadb.is_some() {
        srv
    } else {
        Server::of(to)
    };
    let created = crate::plan::tables_created(changes);
    let creates = crate::plan::indexes_created(changes);
    let replaced: BTreeSet<QualName> = changes
        .iter()
        .filter_map(|c| match c {
            Change::DropIndex { index } if creates.contains(&index.name) => Some(index),
            _ => None,
        })
        .filter(|i| {
            // A column of the old index that goes away would take the index along first.
            to.tables
                .get(&i.table)
                .is_some_and(|t| i.columns.iter().all(|c| t.column(c).is_some()))
        })
        .map(|i| i.name.clone())
        .collect();
    let mut p = Planner {
        out: Plan::default(),
        from,
        to,
        srv,
        syntax,
        created: created.into_iter().cloned().collect(),
        replaced,
        order: BTreeMap::new(),
    };
    let mut i = 0;
    while i < changes.len() {
        // Triggers that follow another on the same event are created after it.
        if matches!(changes[i], Change::CreateTrigger { .. }) {
            let mut j = i;
            while j < changes.len() && matches!(changes[j], Change::CreateTrigger { .. }) {
                j += 1;
            }
            let run: Vec<&Change> = changes[i..j].iter().collect();
            let key = |c: &&Change| match c {
                Change::CreateTrigger { trigger } => trigger_key(trigger),
                _ => String::new(),
            };
            let deps = |c: &&Change| match c {
                Change::CreateTrigger { trigger } => trigger.depends_on.clone(),
                _ => vec![],
            };
            for c in topo(run, key, deps) {
                p.change(c);
            }
            i = j;
            continue;
        }
        p.change(&changes[i]);
        i += 1;
    }
    p.out
}

fn trigger_key(t: &Trigger) -> String {
    format!("{}.{}", t.table.key(), t.name)
}

struct Planner<'a> {
    out: Plan,
    from: &'a Database,
    to: &'a Database,
    /// The server being changed: decides algorithms.
    srv: Server,
    /// The flavour to write for, where syntax differs.
    syntax: Server,
    created: BTreeSet<QualName>,
    /// Indexes dropped and created again under the same name, whose columns all stay:
    /// replaced in one ALTER where the new one is created.
    replaced: BTreeSet<QualName>,
    /// Column order of tables altered so far, as the statements leave it.
    order: BTreeMap<QualName, Vec<String>>,
}

/// Character types: their charset and collation matter.
fn is_textual(t: &str) -> bool {
    let base = t.split(['(', ' ']).next().unwrap_or("");
    matches!(
        base,
        "char" | "varchar" | "tinytext" | "text" | "mediumtext" | "longtext" | "enum" | "set"
    )
}

/// Types whose literal default MySQL 8 only takes as an expression.
fn is_blobby(t: &str) -> bool {
    let base = t.split(['(', ' ']).next().unwrap_or("");
    base.ends_with("text")
        || base.ends_with("blob")
        || base == "json"
        || matches!(
            base,
            "geometry"
                | "point"
                | "linestring"
                | "polygon"
                | "multipoint"
                | "multilinestring"
                | "multipolygon"
                | "geometrycollection"
        )
}

/// Maximum bytes per character of common character sets (4 when unknown: the safe side
/// for deciding whether a VARCHAR keeps its length-byte class).
fn mbmaxlen(cs: &str) -> u32 {
    match cs {
        "latin1" | "ascii" | "binary" | "latin2" | "cp1250" | "cp1251" | "cp1252" | "hebrew"
        | "greek" | "latin5" | "latin7" | "swe7" | "koi8r" | "koi8u" => 1,
        "ucs2" | "gbk" | "big5" | "sjis" | "cp932" => 2,
        "utf8mb3" | "ujis" | "eucjpms" => 3,
        _ => 4,
    }
}

fn varchar_len(t: &str) -> Option<u32> {
    let rest = t.strip_prefix("varchar(")?;
    rest.split(')').next()?.parse().ok()
}

fn enum_values(t: &str) -> Option<(&str, Vec<String>)> {
    let (kind, rest) = t.split_once('(')?;
    if kind != "enum" && kind != "set" {
        return None;
    }
    let inner = rest.strip_suffix(')')?;
    let toks = text::tokenize(inner);
    Some((
        kind,
        toks.iter()
            .filter(|t| t.kind == text::Kind::Str)
            .map(|t| t.text.to_string())
            .collect(),
    ))
}

/// A CHECK written on a column. MariaDB names such a check after its column and keeps
/// it with the column: `MODIFY COLUMN` without it drops it, and `DROP CONSTRAINT`
/// cannot. So on MariaDB a check named after a column is always written on the column.
/// MySQL turns column checks into table checks with generated names; there, none is.
fn inline_check<'t>(t: &'t Table, col: &str, srv: Server) -> Option<&'t Constraint> {
    if srv.is_mysql() {
        return None;
    }
    t.constraints
        .iter()
        .find(|k| k.name.as_deref() == Some(col) && matches!(k.kind, ConstraintKind::Check { .. }))
}

fn is_column_check(t: &Table, k: &Constraint, srv: Server) -> bool {
    k.name
        .as_deref()
        .and_then(|n| t.column(n))
        .is_some_and(|c| inline_check(t, &c.name, srv).is_some())
}

/// A column definition. `charset` forces an explicit character set and collation (ALTER
/// statements write them, so that a column never picks up a default that is about to
/// change).
fn column_sql(
    c: &Column,
    charset: Option<(&str, Option<&str>)>,
    check: Option<&Constraint>,
    srv: Server,
) -> String {
    let mut s = format!("{} {}", ident(&c.name), c.type_);
    let cs = match (&c.charset, &c.collation) {
        (Some(cs), coll) => Some((cs.as_str(), coll.as_deref())),
        (None, Some(coll)) => Some((coll.split('_').next().unwrap_or(""), Some(coll.as_str()))),
        (None, None) => charset,
    };
    if let Some((cs, coll)) = cs.filter(|_| is_textual(&c.type_)) {
        s.push_str(&format!(" CHARACTER SET {}", ident(cs)));
        if let Some(coll) = coll {
            s.push_str(&format!(" COLLATE {}", ident(coll)));
        }
    }
    if let Some(g) = &c.generated {
        s.push_str(&format!(
            " GENERATED ALWAYS AS ({}) {}",
            g.expression,
            if g.stored { "STORED" } else { "VIRTUAL" }
        ));
    }
    if c.not_null {
        s.push_str(" NOT NULL");
    }
    if let Some(d) = &c.default {
        let d = if srv.is_mysql() && is_blobby(&c.type_) && !d.starts_with('(') {
            format!("({d})")
        } else {
            d.clone()
        };
        s.push_str(&format!(" DEFAULT {d}"));
    }
    if let Some(u) = &c.on_update {
        s.push_str(&format!(" ON UPDATE {u}"));
    }
    if c.auto_increment {
        s.push_str(" AUTO_INCREMENT");
    }
    if c.invisible {
        s.push_str(" INVISIBLE");
    }
    if let Some(cm) = &c.comment {
        s.push_str(&format!(" COMMENT {}", literal(cm)));
    }
    if let Some(ConstraintKind::Check { expression, .. }) = check.map(|k| &k.kind) {
        s.push_str(&format!(" CHECK ({expression})"));
    }
    s
}

/// A column's definition after its name, for people (a message that two readings of a
/// column differ): the same text a plan would write.
pub fn column_text(c: &Column) -> String {
    let unknown = Server {
        mariadb: None,
        version: (0, 0, 0),
    };
    let sql = column_sql(c, None, None, unknown);
    sql[ident(&c.name).len()..].trim_start().to_string()
}

fn cols(v: &[String]) -> String {
    v.iter().map(|c| ident(c)).collect::<Vec<_>>().join(", ")
}

/// A constraint as MySQL writes it, for people.
pub fn constraint_text(c: &Constraint) -> String {
    constraint_sql(c)
}

const FOREIGN_KEY: ForeignKeyStyle = ForeignKeyStyle {
    ident,
    target: |t, c| format!("{} ({})", qual(t), cols(c)),
    // RESTRICT is MySQL's default action, and SHOW CREATE TABLE leaves it out.
    clauses: |_, on_update, on_delete| {
        [("ON DELETE", on_delete), ("ON UPDATE", on_update)]
            .into_iter()
            .filter(|(_, a)| *a != "RESTRICT")
            .map(|(w, a)| format!("{w} {a}"))
            .collect()
    },
};

/// A table constraint as written inside CREATE TABLE or after ALTER TABLE ADD.
fn constraint_sql(c: &Constraint) -> String {
    match &c.kind {
        ConstraintKind::PrimaryKey { columns, extra } => {
            let mut s = match extra {
                Some(def) => format!("PRIMARY KEY {def}"),
                None => format!("PRIMARY KEY ({})", cols(columns)),
            };
            if let Some(cm) = &c.comment {
                s.push_str(&format!(" COMMENT {}", literal(cm)));
            }
            s
        }
        ConstraintKind::Unique { columns, .. } => {
            let name = c.name.as_deref().map(|n| format!("{} ", ident(n)));
            format!("UNIQUE KEY {}({})", name.unwrap_or_default(), cols(columns))
        }
        ConstraintKind::ForeignKey { .. } => {
            let fk = foreign_key_sql(&c.kind, &FOREIGN_KEY);
            match &c.name {
                Some(n) => format!("CONSTRAINT {} {fk}", ident(n)),
                None => fk,
            }
        }
        ConstraintKind::Check { expression, .. } => match &c.name {
            Some(n) => format!("CONSTRAINT {} CHECK ({expression})", ident(n)),
            None => format!("CHECK ({expression})"),
        },
        ConstraintKind::Exclusion { definition } => definition.clone(),
    }
}

/// `KEY `name` (parts) ...` inside CREATE TABLE, or after ALTER TABLE ADD with `INDEX`.
fn index_sql(i: &Index, word: &str) -> String {
    let name = ident(types::index_name(i));
    let (head, rest) = if let Some(r) = i.definition.strip_prefix("FULLTEXT ") {
        (format!("FULLTEXT {word}"), r)
    } else if let Some(r) = i.definition.strip_prefix("SPATIAL ") {
        (format!("SPATIAL {word}"), r)
    } else if i.unique {
        (format!("UNIQUE {word}"), i.definition.as_str())
    } else {
        (word.to_string(), i.definition.as_str())
    };
    let mut s = format!("{head} {name} {rest}");
    if let Some(cm) = &i.comment {
        s.push_str(&format!(" COMMENT {}", literal(cm)));
    }
    s
}

fn is_word(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// A table option. The key and a value that is a plain word are written as they are
/// (they are keywords and numbers); any other value, and those MySQL wants as strings,
/// as a string literal, so that no text from a snapshot becomes SQL.
fn option_sql(o: &str) -> String {
    let (k, v) = o.split_once('=').unwrap_or((o, ""));
    let key = if is_word(k) {
        k.to_ascii_uppercase()
    } else {
        ident(k)
    };
    let string = matches!(
        k,
        "compression" | "encryption" | "connection" | "engine_attribute"
    );
    if string || !is_word(v) {
        format!("{key}={}", literal(v))
    } else {
        format!("{key}={v}")
    }
}

/// The table options clause (`ENGINE=... DEFAULT CHARSET=...`).
fn table_options(t: &Table) -> String {
    let mut parts = vec![];
    if let Some(e) = &t.engine {
        parts.push(format!("ENGINE={}", ident(e)));
    }
    if let Some(cs) = &t.charset {
        parts.push(format!("DEFAULT CHARSET={}", ident(cs)));
    }
    if let Some(c) = &t.collation {
        parts.push(format!("COLLATE={}", ident(c)));
    }
    for o in &t.options {
        parts.push(option_sql(o));
    }
    if let Some(c) = &t.comment {
        parts.push(format!("COMMENT={}", literal(c)));
    }
    parts.join(" ")
}

/// `CREATE TABLE` for `t` with its indexes (and, when given, its foreign keys), in the
/// layout `SHOW CREATE TABLE` uses.
pub fn create_table(t: &Table, indexes: &[&Index], fks: &[&Constraint], srv: Server) -> String {
    let mut parts: Vec<String> = vec![];
    for c in &t.columns {
        parts.push(column_sql(c, None, inline_check(t, &c.name, srv), srv));
    }
    for k in &t.constraints {
        if matches!(k.kind, ConstraintKind::PrimaryKey { .. }) {
            parts.push(constraint_sql(k));
        }
    }
    let mut idx: Vec<&&Index> = indexes.iter().collect();
    // Unique keys first, as the servers list them.
    idx.sort_by_key(|i| (!i.unique, i.definition.starts_with("FULLTEXT ")));
    for i in idx {
        parts.push(index_sql(i, "KEY"));
    }
    for k in &t.constraints {
        match &k.kind {
            ConstraintKind::Check { .. } if is_column_check(t, k, srv) => {}
            ConstraintKind::PrimaryKey { .. } => {}
            ConstraintKind::ForeignKey { .. } => {}
            _ => parts.push(constraint_sql(k)),
        }
    }
    for k in fks {
        parts.push(constraint_sql(k));
    }
    let mut s = format!(
        "CREATE TABLE {} (\n  {}\n) {}",
        qual(&t.name),
        parts.join(",\n  "),
        table_options(t)
    );
    if let Some(p) = &t.partition_key {
        s.push('\n');
        s.push_str(p);
    }
    s
}

/// The definer clause for an object owned by `owner` (`user@host`).
fn definer(owner: &Option<String>) -> String {
    match owner {
        Some(o) if o.contains('@') => format!("DEFINER={} ", account(o)),
        _ => String::new(),
    }
}

fn create_view(v: &View) -> String {
    let mut s = "CREATE ".to_string();
    for o in &v.options {
        if let Some(a) = o.strip_prefix("algorithm=") {
            s.push_str(&format!("ALGORITHM={a} "));
        }
    }
    s.push_str(&definer(&v.owner));
    for o in &v.options {
        if let Some(a) = o.strip_prefix("sql_security=") {
            s.push_str(&format!("SQL SECURITY {a} "));
        }
    }
    s.push_str(&format!("VIEW {} AS {}", qual(&v.name), v.definition));
    if let Some(c) = &v.check_option {
        s.push_str(&format!(" WITH {c} CHECK OPTION"));
    }
    s
}

fn routine_word(f: &Function) -> &'static str {
    match f.kind.as_str() {
        "procedure" => "PROCEDURE",
        "event" => "EVENT",
        _ => "FUNCTION",
    }
}

/// A routine's or event's CREATE statement with its definer.
fn create_routine(f: &Function) -> String {
    let d = definer(&f.owner);
    match f.definition.strip_prefix("CREATE ") {
        Some(rest) if !d.is_empty() => format!("CREATE {d}{rest}"),
        _ => f.definition.clone(),
    }
}

fn compound(sql: &str) -> bool {
    text::tokenize(sql).iter().any(|t| t.is_punct(";"))
}

impl Planner<'_> {
    fn push(&mut self, sql: impl Into<String>) -> &mut Statement {
        let sql = sql.into();
        let delimiter = compound(&sql);
        let mut st = Statement::new(sql);
        st.delimiter = delimiter;
        self.out.statements.push(st);
        self.out.statements.last_mut().expect("just pushed")
    }

    fn push_noted(&mut self, sql: impl Into<String>, note: Option<String>) {
        self.push(sql).note = note;
    }

    fn is_new(&self, t: &QualName) -> bool {
        self.created.contains(t)
    }

    fn table_has_fulltext(&self, t: &QualName) -> bool {
        self.from
            .indexes
            .values()
            .any(|i| &i.table == t && i.definition.starts_with("FULLTEXT "))
    }

    fn compressed(&self, t: &QualName) -> bool {
        self.from
            .tables
            .get(t)
            .is_some_and(|x| x.options.iter().any(|o| o == "row_format=COMPRESSED"))
    }

    /// `, ALGORITHM=INSTANT` when the server is known and can; otherwise the note.
    fn instant(&self, ok: bool, why_not: &str) -> (String, Option<String>) {
        if ok {
            (", ALGORITHM=INSTANT".into(), None)
        } else {
            (String::new(), Some(why_not.to_string()))
        }
    }

    fn columns_of(&mut self, t: &QualName) -> &mut Vec<String> {
        let from = self.from;
        self.order.entry(t.clone()).or_insert_with(|| {
            from.tables
                .get(t)
                .map(|x| x.columns.iter().map(|c| c.name.clone()).collect())
                .unwrap_or_default()
        })
    }

    fn to_table(&self, t: &QualName) -> Option<&Table> {
        self.to.tables.get(t)
    }

    /// The character set and collation a column has in the target, explicit.
    fn effective_charset(&self, t: &QualName, c: &Column) -> Option<(String, Option<String>)> {
        if !is_textual(&c.type_) {
            return None;
        }
        let tt = self.to_table(t)?;
        Some(match (&c.charset, &c.collation) {
            (Some(cs), coll) => (cs.clone(), coll.clone()),
            (None, Some(coll)) => (types::charset_of(coll), Some(coll.clone())),
            (None, None) => (tt.charset.clone()?, tt.collation.clone()),
        })
    }

    /// The column as ADD or MODIFY COLUMN writes it: explicit character set, and on
    /// MariaDB the column's own CHECK as the target has it (see [`inline_check`]).
    fn alter_column_sql(&self, t: &QualName, c: &Column) -> String {
        let cs = self.effective_charset(t, c);
        let check = self
            .to_table(t)
            .and_then(|tt| inline_check(tt, &c.name, self.syntax));
        column_sql(
            c,
            cs.as_ref().map(|(a, b)| (a.as_str(), b.as_deref())),
            check,
            self.syntax,
        )
    }

    fn change(&mut self, c: &Change) {
        match c {
            Change::CreateRole { role } => self.create_role(role),
            Change::AlterRole { from, to } => {
                for r in &to.member_of {
                    if !from.member_of.contains(r) {
                        self.push(format!("GRANT {} TO {}", ident(r), account(&to.name)));
                    }
                }
                for r in &from.member_of {
                    if !to.member_of.contains(r) {
                        self.push(format!("REVOKE {} FROM {}", ident(r), account(&to.name)));
                    }
                }
            }
            Change::CreateSchema { schema } => {
                if schema.name == SCHEMA {
                    self.grants("*", &[], &schema.grants, None);
                } else {
                    self.out.unsupported.push(format!(
                        "database {}: lockstep plans for the database it was pointed at only",
                        schema.name
                    ));
                }
            }
            Change::AlterSchema { from, to } => {
                if to.name == SCHEMA {
                    self.grants("*", &from.grants, &to.grants, None);
                }
            }
            Change::DropSchema { schema } => self.out.unsupported.push(format!(
                "database {}: lockstep never drops a database",
                schema.name
            )),
            Change::CreateSequence { sequence } => {
                let s = sequence;
                let ty = if s.type_.is_empty() || s.type_ == "bigint" {
                    String::new()
                } else {
                    format!(" AS {}", s.type_)
                };
                self.push(format!(
                    "CREATE SEQUENCE {}{ty} START WITH {} MINVALUE {} MAXVALUE {} INCREMENT BY {} CACHE {} {}",
                    qual(&s.name),
                    s.start,
                    s.min,
                    s.max,
                    s.increment,
                    s.cache,
                    if s.cycle { "CYCLE" } else { "NOCYCLE" }
                ));
                let target = qual(&s.name);
                self.grants(&target, &[], &s.grants, None);
            }
            Change::AlterSequence { from, to } => {
                let (a, b) = (from, to);
                let mut parts = vec![];
                if a.start != b.start {
                    parts.push(format!("START WITH {}", b.start));
                }
                if a.min != b.min {
                    parts.push(format!("MINVALUE {}", b.min));
                }
                if a.max != b.max {
                    parts.push(format!("MAXVALUE {}", b.max));
                }
                if a.increment != b.increment {
                    parts.push(format!("INCREMENT BY {}", b.increment));
                }
                if a.cache != b.cache {
                    parts.push(format!("CACHE {}", b.cache));
                }
                if a.cycle != b.cycle {
                    parts.push(if b.cycle {
                        "CYCLE".into()
                    } else {
                        "NOCYCLE".into()
                    });
                }
                if !parts.is_empty() {
                    self.push(format!(
                        "ALTER SEQUENCE {} {}",
                        qual(&b.name),
                        parts.join(" ")
                    ));
                }
                if a.type_ != b.type_ && !a.type_.is_empty() {
                    self.out.unsupported.push(format!(
                        "sequence {}: type {} → {}",
                        b.name, a.type_, b.type_
                    ));
                }
                let target = qual(&b.name);
                self.grants(&target, &a.grants, &b.grants, None);
            }
            Change::DropSequence { sequence } => {
                self.push(format!("DROP SEQUENCE {}", qual(&sequence.name)))
                    .destructive = true;
            }
            Change::CreateFunction { function } => {
                self.push(create_routine(function));
                let target = format!("{} {}", routine_word(function), qual(&function.name));
                if function.kind != "event" {
                    self.grants(&target, &[], &function.grants, None);
                }
            }
            Change::ReplaceFunction { from, to } => {
                let target = format!("{} {}", routine_word(to), qual(&to.name));
                if from.definition != to.definition || from.owner != to.owner {
                    // MySQL has no CREATE OR REPLACE for routines: the old one goes
                    // first, and for a moment there is none.
                    self.push(format!(
                        "DROP {} IF EXISTS {}",
                        routine_word(from),
                        qual(&from.name)
                    ));
                    self.push(create_routine(to));
                    if to.kind != "event" {
                        // Dropping a routine drops its privileges too.
                        self.grants(&target, &[], &to.grants, None);
                    }
                } else if to.kind != "event" {
                    self.grants(&target, &from.grants, &to.grants, None);
                }
            }
            Change::DropFunction { function } => {
                self.push(format!(
                    "DROP {} {}",
                    routine_word(function),
                    qual(&function.name)
                ));
            }
            Change::CreateTable { table } => self.create(table),
            Change::AlterTable { from, to } => self.alter_table(from, to),
            Change::DropTable { table } => {
                self.push(format!("DROP TABLE {}", qual(&table.name)))
                    .destructive = true;
            }
            Change::AddColumn { table, column } => self.add_column(table, column),
            Change::AlterColumn { table, from, to } => {
                self.alter_column(table, from, to, c.destructive())
            }
            Change::DropColumn { table, column } => {
                let ok = self.srv.at_least((10, 4, 0), (8, 0, 29))
                    && !self.table_has_fulltext(table)
                    && !self.compressed(table);
                let (alg, note) = self.instant(
                    ok,
                    "rebuilds the table (DROP COLUMN is not instant on this server)",
                );
                let sql = format!(
                    "ALTER TABLE {} DROP COLUMN {}{alg}",
                    qual(table),
                    ident(&column.name)
                );
                let st = self.push(sql);
                st.destructive = true;
                st.note = note;
                self.columns_of(table).retain(|n| n != &column.name);
            }
            Change::RenameColumn { table, from, to } => {
                // Only a declared rename (a migration's, or `--rename`) reaches here.
                self.push(format!(
                    "ALTER TABLE {} RENAME COLUMN {} TO {}",
                    qual(table),
                    ident(from),
                    ident(to)
                ));
                for n in self.columns_of(table).iter_mut() {
                    if n == from {
                        *n = to.clone();
                    }
                }
            }
            Change::ColumnOrder { table, .. } => self.reorder(table),
            Change::AddConstraint { table, constraint } => self.add_constraint(table, constraint),
            Change::AlterConstraint { .. } => {}
            Change::DropConstraint { table, constraint }
                if self
                    .from
                    .tables
                    .get(table)
                    .is_some_and(|t| is_column_check(t, constraint, self.syntax)) =>
            {
                // MariaDB: the column is written again without it (or with the new one).
                let col = constraint.name.as_deref().unwrap_or_default();
                if let Some(c) = self.to_table(table).and_then(|t| t.column(col)).cloned() {
                    let def = self.alter_column_sql(table, &c);
                    self.push(format!("ALTER TABLE {} MODIFY COLUMN {def}", qual(table)));
                }
            }
            Change::DropConstraint { table, constraint } => {
                let sql = match &constraint.kind {
                    ConstraintKind::PrimaryKey { .. } => "DROP PRIMARY KEY".to_string(),
                    ConstraintKind::ForeignKey { .. } => format!(
                        "DROP FOREIGN KEY {}",
                        ident(constraint.name.as_deref().unwrap_or_default())
                    ),
                    _ => {
                        let word = if self.syntax.is_mysql() && self.syntax.version < (8, 0, 19) {
                            "CHECK"
                        } else {
                            "CONSTRAINT"
                        };
                        format!(
                            "DROP {word} {}",
                            ident(constraint.name.as_deref().unwrap_or_default())
                        )
                    }
                };
                let note = matches!(constraint.kind, ConstraintKind::PrimaryKey { .. })
                    .then(|| "rebuilds the table (a new clustered index)".to_string());
                self.push_noted(format!("ALTER TABLE {} {sql}", qual(table)), note);
            }
            Change::CreateIndex { index } => {
                if self.is_new(&index.table) {
                    return; // written inside its CREATE TABLE
                }
                if let Some(old) = self.from.indexes.get(&index.name) {
                    if self.replaced.contains(&index.name) && self.visibility_only(old, index) {
                        return;
                    }
                }
                let plain = !index.definition.starts_with("FULLTEXT ")
                    && !index.definition.starts_with("SPATIAL ")
                    && !index.definition.contains(" USING ")
                    && !index.definition.starts_with("((")
                    && !index.definition.contains(", (");
                let (alg, note) = if plain {
                    (
                        if self.srv.mariadb.is_some() {
                            ", ALGORITHM=INPLACE, LOCK=NONE".to_string()
                        } else {
                            String::new()
                        },
                        None,
                    )
                } else if index.definition.starts_with("FULLTEXT ")
                    || index.definition.starts_with("SPATIAL ")
                {
                    (
                        String::new(),
                        Some("blocks writes to the table while the index builds; the first FULLTEXT index of a table rebuilds it".into()),
                    )
                } else {
                    (
                        String::new(),
                        Some("may block writes while the index builds".into()),
                    )
                };
                let drop_old = if self.replaced.contains(&index.name) {
                    format!("DROP INDEX {}, ", ident(types::index_name(index)))
                } else {
                    String::new()
                };
                let sql = format!(
                    "ALTER TABLE {} {drop_old}ADD {}{alg}",
                    qual(&index.table),
                    index_sql(index, "INDEX")
                );
                self.push_noted(sql, note);
            }
            Change::AlterIndex { from, to } => {
                let sql = format!(
                    "ALTER TABLE {} DROP INDEX {}, ADD {}",
                    qual(&to.table),
                    ident(types::index_name(from)),
                    index_sql(to, "INDEX")
                );
                self.push(sql);
            }
            // Dropped together with its replacement, in one statement: a foreign key
            // may need the index, and then it cannot be dropped on its own.
            Change::DropIndex { index } if self.replaced.contains(&index.name) => {}
            Change::DropIndex { index } => {
                self.push(format!(
                    "ALTER TABLE {} DROP INDEX {}",
                    qual(&index.table),
                    ident(types::index_name(index))
                ));
            }
            Change::CreateView { view } => {
                self.push(create_view(view));
                let target = qual(&view.name);
                self.grants(&target, &[], &view.grants, None);
            }
            Change::AlterView { from, to } => {
                if from.owner != to.owner {
                    self.push(create_view(to).replacen("CREATE ", "CREATE OR REPLACE ", 1));
                }
                let target = qual(&to.name);
                self.grants(&target, &from.grants, &to.grants, None);
            }
            Change::DropView { view } => {
                self.push(format!("DROP VIEW {}", qual(&view.name)));
            }
            Change::CreateTrigger { trigger } => {
                self.push(trigger.definition.clone());
            }
            Change::AlterTrigger { .. } => {}
            Change::DropTrigger { trigger } => {
                self.push(format!("DROP TRIGGER {}", ident(&trigger.name)));
            }
            // Not MySQL concepts: types, extensions, policies.
            Change::CreateType { typ }
            | Change::AlterType { to: typ, .. }
            | Change::DropType { typ } => self.out.unsupported.push(format!(
                "type {}: MySQL has no user-defined types",
                typ.name
            )),
            Change::CreateExtension { .. }
            | Change::AlterExtension { .. }
            | Change::DropExtension { .. }
            | Change::CreatePolicy { .. }
            | Change::DropPolicy { .. } => {}
            // MySQL inspection reads none; a model from elsewhere may hold some.
            Change::CreateOther { other } | Change::DropOther { other } => self
                .out
                .unsupported
                .push(format!("{} {}: not a MySQL object", other.kind, other.name)),
        }
    }

    /// Whether two versions of an index differ only in being ignored (MariaDB) or
    /// invisible (MySQL); then `ALTER INDEX` says so, instantly. (MariaDB does not
    /// apply IGNORED when the index is dropped and added in one statement.)
    fn visibility_only(&mut self, old: &Index, new: &Index) -> bool {
        let strip = |d: &str| {
            d.trim_end_matches(" IGNORED")
                .trim_end_matches(" INVISIBLE")
                .to_string()
        };
        if old.unique != new.unique
            || old.comment != new.comment
            || strip(&old.definition) != strip(&new.definition)
        {
            return false;
        }
        let hidden = new.definition != strip(&new.definition);
        let word = match (self.syntax.is_mysql(), hidden) {
            (true, true) => "INVISIBLE",
            (true, false) => "VISIBLE",
            (false, true) => "IGNORED",
            (false, false) => "NOT IGNORED",
        };
        self.push(format!(
            "ALTER TABLE {} ALTER INDEX {} {word}",
            qual(&new.table),
            ident(types::index_name(new))
        ));
        true
    }

    fn create_role(&mut self, r: &Role) {
        if r.login {
            self.push_noted(
                format!(
                    "CREATE USER IF NOT EXISTS {} ACCOUNT LOCK",
                    account(&r.name)
                ),
                Some(
                    "a new account is created locked and without a password: set one and unlock it"
                        .into(),
                ),
            );
        } else {
            self.push(format!("CREATE ROLE IF NOT EXISTS {}", ident(&r.name)));
        }
        for m in &r.member_of {
            self.push(format!("GRANT {} TO {}", ident(m), account(&r.name)));
        }
    }

    /// GRANT and REVOKE statements that turn `from` into `to` on `target`
    /// (`` `t` ``, `*` for the database, `FUNCTION `f``).
    fn grants(&mut self, target: &str, from: &[Grant], to: &[Grant], column: Option<&str>) {
        let col = column
            .map(|c| format!(" ({})", ident(c)))
            .unwrap_or_default();
        let key = |g: &Grant| (g.grantee.clone(), g.privilege.clone());
        for g in from {
            if !to.iter().any(|t| key(t) == key(g)) {
                self.push(format!(
                    "REVOKE {}{col} ON {target} FROM {}",
                    g.privilege,
                    account(&g.grantee)
                ));
            }
        }
        for g in to {
            let before = from.iter().find(|f| key(f) == key(g));
            if before.is_none() || before.is_some_and(|f| f.grantable != g.grantable) {
                if before.is_some_and(|f| f.grantable && !g.grantable) {
                    self.push(format!(
                        "REVOKE GRANT OPTION ON {target} FROM {}",
                        account(&g.grantee)
                    ));
                    continue;
                }
                self.push(format!(
                    "GRANT {}{col} ON {target} TO {}{}",
                    g.privilege,
                    account(&g.grantee),
                    if g.grantable {
                        " WITH GRANT OPTION"
                    } else {
                        ""
                    }
                ));
            }
        }
    }

    fn create(&mut self, t: &Table) {
        if let Some(m) = &t.mismatch {
            self.out.unsupported.push(format!(
                "table {}: not read faithfully ({m}); create it from the server's SHOW CREATE TABLE",
                t.name
            ));
            return;
        }
        let indexes: Vec<&Index> = self
            .to
            .indexes
            .values()
            .filter(|i| i.table == t.name)
            .collect();
        let sql = create_table(t, &indexes, &[], self.syntax);
        self.push(sql);
        let target = qual(&t.name);
        self.grants(&target, &[], &t.grants, None);
        for c in &t.columns {
            self.grants(&target, &[], &c.grants, Some(&c.name));
        }
    }

    fn add_column(&mut self, table: &QualName, column: &Column) {
        let Some(tt) = self.to_table(table) else {
            return;
        };
        let pos = tt
            .columns
            .iter()
            .position(|c| c.name == column.name)
            .unwrap_or(0);
        let prev = pos.checked_sub(1).map(|p| tt.columns[p].name.clone());
        let current = self.columns_of(table).clone();
        let last = current.last().cloned();
        let appended = prev.is_some() && prev == last || (prev.is_none() && current.is_empty());
        let place = match &prev {
            _ if appended => String::new(),
            Some(p) => format!(" AFTER {}", ident(p)),
            None => " FIRST".into(),
        };
        let expression_default = column
            .default
            .as_deref()
            .is_some_and(|d| d.starts_with('('));
        let plain = !column.auto_increment
            && !column.generated.as_ref().is_some_and(|g| g.stored)
            && !expression_default
            && !self.table_has_fulltext(table)
            && !self.compressed(table);
        let ok = plain
            && if appended {
                self.srv.at_least((10, 3, 2), (8, 0, 12))
            } else {
                self.srv.at_least((10, 4, 0), (8, 0, 29))
            };
        let (alg, note) = self.instant(
            ok,
            "rebuilds the table (this ADD COLUMN is not instant on this server)",
        );
        let def = self.alter_column_sql(table, column);
        let sql = format!("ALTER TABLE {} ADD COLUMN {def}{place}{alg}", qual(table));
        self.push_noted(sql, note);
        let target = qual(table);
        self.grants(&target, &[], &column.grants, Some(&column.name));
        let cols = self.columns_of(table);
        let at = match &prev {
            Some(p) => cols
                .iter()
                .position(|n| n == p)
                .map_or(cols.len(), |i| i + 1),
            None => 0,
        };
        cols.insert(at, column.name.clone());
    }

    fn alter_column(&mut self, table: &QualName, a: &Column, b: &Column, destructive: bool) {
        let target = qual(table);
        let mut a_rest = a.clone();
        a_rest.grants = b.grants.clone();
        let only_grants = a_rest == *b;
        if !only_grants {
            let mut only_default = a.clone();
            only_default.default = b.default.clone();
            let default_only = only_default == *b;
            if default_only && !b.default.as_deref().is_some_and(|d| d.starts_with('(')) {
                let ok = self.srv.at_least((10, 3, 0), (8, 0, 0));
                let (alg, _) = self.instant(ok, "");
                let what = match &b.default {
                    Some(d) => format!("SET DEFAULT {d}"),
                    None => "DROP DEFAULT".into(),
                };
                self.push(format!(
                    "ALTER TABLE {target} ALTER COLUMN {} {what}{alg}",
                    ident(&b.name)
                ));
            } else {
                let (alg, note) = self.modify_algorithm(table, a, b);
                let def = self.alter_column_sql(table, b);
                let st = self.push(format!("ALTER TABLE {target} MODIFY COLUMN {def}{alg}"));
                st.destructive = destructive;
                st.note = note;
            }
        }
        self.grants(&target, &a.grants, &b.grants, Some(&b.name));
    }

    /// How MODIFY COLUMN runs from `a` to `b`.
    fn modify_algorithm(
        &self,
        table: &QualName,
        a: &Column,
        b: &Column,
    ) -> (String, Option<String>) {
        let mut same = a.clone();
        same.type_ = b.type_.clone();
        same.comment = b.comment.clone();
        same.grants = b.grants.clone();
        let only_type_or_comment = same == *b;
        let copies = |why: &str| (String::new(), Some(format!("copies the table ({why})")));
        if only_type_or_comment && a.type_ == b.type_ {
            // Comment only: metadata on both engines.
            return (String::new(), None);
        }
        if only_type_or_comment {
            if let (Some(la), Some(lb)) = (varchar_len(&a.type_), varchar_len(&b.type_)) {
                let cs = self
                    .effective_charset(table, b)
                    .map(|(c, _)| c)
                    .unwrap_or_default();
                let m = mbmaxlen(&cs);
                if lb >= la && (la * m < 256) == (lb * m < 256) {
                    let alg = if self.srv.mariadb.is_some() {
                        ", ALGORITHM=INPLACE, LOCK=NONE".to_string()
                    } else {
                        String::new()
                    };
                    return (alg, None);
                }
                return copies("the VARCHAR's length bytes change, or it shrinks");
            }
            if let (Some((ka, va)), Some((kb, vb))) = (enum_values(&a.type_), enum_values(&b.type_))
            {
                let appended = ka == kb && vb.len() >= va.len() && vb[..va.len()] == va[..];
                let same_size = if ka == "enum" {
                    (va.len() <= 255) == (vb.len() <= 255)
                } else {
                    va.len().div_ceil(8) == vb.len().div_ceil(8)
                };
                if appended && same_size {
                    let ok = self.srv.at_least((10, 3, 7), (8, 0, 0));
                    return self.instant(ok, "may copy the table (ENUM/SET values appended)");
                }
                return copies("ENUM/SET values removed, reordered or resized");
            }
            return copies("a column's type changes");
        }
        if a.not_null != b.not_null && a.type_ == b.type_ {
            return (
                String::new(),
                Some("rebuilds the table (NULL / NOT NULL changes)".into()),
            );
        }
        if a.charset != b.charset || a.collation != b.collation {
            return copies("a column's character set or collation changes");
        }
        if a.auto_increment != b.auto_increment {
            return copies("AUTO_INCREMENT changes");
        }
        if a.generated != b.generated {
            return copies("a generated column changes");
        }
        (String::new(), Some("may copy the table".into()))
    }

    /// Moves columns until the order is the target's, with MODIFY ... FIRST/AFTER.
    fn reorder(&mut self, table: &QualName) {
        let Some(tt) = self.to_table(table).cloned() else {
            return;
        };
        let target: Vec<String> = tt.columns.iter().map(|c| c.name.clone()).collect();
        let mut cur = self.columns_of(table).clone();
        cur.retain(|n| target.contains(n));
        // MariaDB 10.4+ moves columns instantly; MySQL rebuilds the table.
        let ok = self.srv.mariadb == Some(true) && self.srv.version >= (10, 4, 0);
        for (i, name) in target.iter().enumerate() {
            if cur.get(i) == Some(name) {
                continue;
            }
            let Some(c) = tt.column(name) else { continue };
            let place = match i {
                0 => " FIRST".to_string(),
                _ => format!(" AFTER {}", ident(&target[i - 1])),
            };
            let (alg, note) = self.instant(ok, "rebuilds the table (moving a column)");
            let def = self.alter_column_sql(table, c);
            self.push_noted(
                format!(
                    "ALTER TABLE {} MODIFY COLUMN {def}{place}{alg}",
                    qual(table)
                ),
                note,
            );
            cur.retain(|n| n != name);
            cur.insert(i.min(cur.len()), name.clone());
        }
        *self.columns_of(table) = cur;
    }

    fn add_constraint(&mut self, table: &QualName, k: &Constraint) {
        if let Some(t) = self.to_table(table) {
            if is_column_check(t, k, self.syntax) {
                let c = t
                    .column(k.name.as_deref().unwrap_or_default())
                    .cloned()
                    .expect("a column check names its column");
                let def = self.alter_column_sql(table, &c);
                self.push_noted(
                    format!("ALTER TABLE {} MODIFY COLUMN {def}", qual(table)),
                    Some("reads every row to check it".into()),
                );
                return;
            }
        }
        let new = self.is_new(table);
        let note = match &k.kind {
            _ if new => None,
            ConstraintKind::PrimaryKey { .. } => {
                Some("rebuilds the table (a new clustered index)".to_string())
            }
            ConstraintKind::ForeignKey { .. } => Some(
                "copies the table unless foreign_key_checks is off (then it is added in place)"
                    .to_string(),
            ),
            ConstraintKind::Check { .. } => {
                Some("reads every row to check it, and on MySQL copies the table".into())
            }
            _ => None,
        };
        self.push_noted(
            format!("ALTER TABLE {} ADD {}", qual(table), constraint_sql(k)),
            note,
        );
    }

    fn alter_table(&mut self, a: &Table, b: &Table) {
        let target = qual(&b.name);
        if a.mismatch.is_some() || b.mismatch.is_some() {
            let why = b
                .mismatch
                .clone()
                .or_else(|| a.mismatch.clone())
                .unwrap_or_default();
            self.out.unsupported.push(format!(
                "table {}: not read faithfully ({why}); compare SHOW CREATE TABLE by hand",
                b.name
            ));
            return;
        }
        let mut parts = vec![];
        let mut notes = vec![];
        if a.engine != b.engine {
            if let Some(e) = &b.engine {
                parts.push(format!("ENGINE={}", ident(e)));
                notes.push("copies the table (engine changes)");
            }
        }
        if a.charset != b.charset || a.collation != b.collation {
            if let Some(cs) = &b.charset {
                let mut s = format!("DEFAULT CHARSET={}", ident(cs));
                if let Some(c) = &b.collation {
                    s.push_str(&format!(" COLLATE={}", ident(c)));
                }
                parts.push(s);
                // Columns that follow the table's default keep their old character set
                // unless converted: convert those that still have it.
                for c in &b.columns {
                    let Some(old) = a.column(&c.name) else {
                        continue;
                    };
                    if c.charset.is_some() || c.collation.is_some() || !is_textual(&c.type_) {
                        continue;
                    }
                    let old_cs = old.charset.clone().or_else(|| a.charset.clone());
                    let old_coll = old.collation.clone().or_else(|| a.collation.clone());
                    if old_cs != b.charset || old_coll != b.collation {
                        parts.push(format!(
                            "MODIFY COLUMN {}",
                            self.alter_column_sql(&b.name, c)
                        ));
                        if !notes.contains(&"copies the table (columns change character set)") {
                            notes.push("copies the table (columns change character set)");
                        }
                    }
                }
            }
        }
        if a.options != b.options {
            for o in &b.options {
                if !a.options.contains(o) {
                    parts.push(option_sql(o));
                }
            }
            for o in &a.options {
                let key = o.split('=').next().unwrap_or(o);
                if is_word(key) && !b.options.iter().any(|x| x.split('=').next() == Some(key)) {
                    parts.push(format!("{}=DEFAULT", key.to_ascii_uppercase()));
                }
            }
            notes.push("rebuilds the table (table options change)");
        }
        if a.comment != b.comment {
            parts.push(format!(
                "COMMENT={}",
                literal(b.comment.as_deref().unwrap_or(""))
            ));
        }
        if !parts.is_empty() {
            let note = (!notes.is_empty()).then(|| notes.join("; "));
            self.push_noted(format!("ALTER TABLE {target} {}", parts.join(", ")), note);
        }
        if a.partition_key != b.partition_key {
            let sql = match &b.partition_key {
                Some(p) => format!("ALTER TABLE {target} {p}"),
                None => format!("ALTER TABLE {target} REMOVE PARTITIONING"),
            };
            self.push_noted(sql, Some("copies the table (partitioning changes)".into()));
        }
        self.grants(&target, &a.grants, &b.grants, None);
        if a.owner != b.owner || a.rls_enabled != b.rls_enabled || !b.policies.is_empty() {
            // Other engines' properties: nothing to do on MySQL.
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::diff;

    fn db(engine: &str, version: &str) -> Database {
        let mut d = Database::empty(Dialect::Mysql);
        d.env.engine = engine.into();
        d.env.version = version.into();
        d
    }

    fn table(name: &str, cols: &[(&str, &str)]) -> Table {
        let mut t = Table::new(QualName::new(SCHEMA, name));
        t.columns = cols.iter().map(|(n, ty)| Column::new(*n, *ty)).collect();
        t.engine = Some("InnoDB".into());
        t.charset = Some("utf8mb4".into());
        t.collation = Some("utf8mb4_general_ci".into());
        t
    }

    fn sqls(from: &Database, to: &Database) -> Vec<String> {
        let p = plan(&diff(from, to), from, to);
        assert!(p.unsupported.is_empty(), "{:?}", p.unsupported);
        p.statements.iter().map(|s| s.sql.clone()).collect()
    }

    #[test]
    fn identifiers_are_backquoted() {
        assert_eq!(ident("a`b"), "`a``b`");
        assert_eq!(account("app@%"), "'app'@'%'");
        assert_eq!(account("reader"), "`reader`");
        assert_eq!(qual(&QualName::new("other", "t")), "`other`.`t`");
    }

    #[test]
    fn add_column_is_instant_where_the_server_can() {
        let mut a = db("mariadb", "10.11.6-MariaDB");
        let t = table("t", &[("a", "int"), ("b", "int")]);
        a.tables.insert(t.name.clone(), t);
        let mut b = a.clone();
        b.tables
            .values_mut()
            .next()
            .unwrap()
            .columns
            .insert(1, Column::new("x", "varchar(5)"));
        assert_eq!(
            sqls(&a, &b),
            ["ALTER TABLE `t` ADD COLUMN `x` varchar(5) CHARACTER SET `utf8mb4` COLLATE `utf8mb4_general_ci` AFTER `a`, ALGORITHM=INSTANT"]
        );
        // MySQL 8.0.20 adds instantly only at the end: the note says it rebuilds.
        a.env = db("mysql", "8.0.20").env;
        let p = plan(&diff(&a, &b), &a, &b);
        assert!(
            !p.statements[0].sql.contains("ALGORITHM"),
            "{:?}",
            p.statements
        );
        assert!(p.statements[0]
            .note
            .as_deref()
            .unwrap()
            .contains("rebuilds"));
    }

    #[test]
    fn drops_are_destructive_and_never_renames() {
        let mut a = db("mariadb", "10.11.6");
        let t = table("t", &[("a", "int"), ("b", "int")]);
        a.tables.insert(t.name.clone(), t);
        let mut b = a.clone();
        b.tables.values_mut().next().unwrap().columns[1].name = "c".into();
        let p = plan(&diff(&a, &b), &a, &b);
        let s: Vec<&str> = p.statements.iter().map(|s| s.sql.as_str()).collect();
        assert_eq!(
            s,
            [
                "ALTER TABLE `t` DROP COLUMN `b`, ALGORITHM=INSTANT",
                "ALTER TABLE `t` ADD COLUMN `c` int, ALGORITHM=INSTANT"
            ]
        );
        assert!(p.statements[0].destructive);
        assert!(!s.iter().any(|x| x.contains("RENAME")));
    }

    #[test]
    fn column_order_is_reached_with_after() {
        let mut a = db("mysql", "8.0.36");
        let t = table("t", &[("a", "int"), ("b", "int"), ("c", "int")]);
        a.tables.insert(t.name.clone(), t);
        let mut b = a.clone();
        b.tables.values_mut().next().unwrap().columns.swap(0, 2);
        let s = sqls(&a, &b);
        assert_eq!(
            s,
            [
                "ALTER TABLE `t` MODIFY COLUMN `c` int FIRST",
                "ALTER TABLE `t` MODIFY COLUMN `b` int AFTER `c`"
            ]
        );
    }

    #[test]
    fn type_changes_say_they_copy() {
        let mut a = db("mariadb", "10.11.6");
        let t = table(
            "t",
            &[("a", "varchar(10)"), ("e", "enum('x','y')"), ("n", "int")],
        );
        a.tables.insert(t.name.clone(), t);
        let mut b = a.clone();
        {
            let t = b.tables.values_mut().next().unwrap();
            t.columns[0].type_ = "varchar(60)".into();
            t.columns[1].type_ = "enum('x','y','z')".into();
            t.columns[2].type_ = "bigint".into();
        }
        let p = plan(&diff(&a, &b), &a, &b);
        let s: Vec<(&str, Option<&str>)> = p
            .statements
            .iter()
            .map(|s| (s.sql.as_str(), s.note.as_deref()))
            .collect();
        assert!(s[0].0.ends_with("ALGORITHM=INPLACE, LOCK=NONE"), "{s:?}");
        assert!(s[1].0.ends_with("ALGORITHM=INSTANT"), "{s:?}");
        assert!(s[2].1.unwrap().contains("copies the table"), "{s:?}");
    }

    #[test]
    fn create_table_reads_back_as_the_same_model() {
        let mut t = table(
            "orders",
            &[("id", "int"), ("note", "varchar(20)"), ("j", "json")],
        );
        t.columns[0].not_null = true;
        t.columns[0].auto_increment = true;
        t.columns[1].default = Some("'it''s'".into());
        t.columns[1].comment = Some("a note".into());
        t.options = vec!["row_format=DYNAMIC".into()];
        t.constraints.push(Constraint::new(
            Some("PRIMARY".into()),
            ConstraintKind::PrimaryKey {
                columns: vec!["id".into()],
                extra: None,
            },
        ));
        let idx = types::index_of(
            &t,
            types::RawIndex {
                name: "n".into(),
                parts: vec![types::KeyPart {
                    column: Some("note".into()),
                    sub_part: Some(5),
                    ..Default::default()
                }],
                ..Default::default()
            },
        );
        let sql = create_table(
            &t,
            &[&idx],
            &[],
            Server::of(&Database::empty(Dialect::Mysql)),
        );
        let back = text::parse_create_table(&sql, SCHEMA).unwrap();
        assert!(back.unknown.is_empty(), "{:?}", back.unknown);
        assert_eq!(back.table, t, "{sql}");
        assert_eq!(back.indexes, [idx]);
    }

    #[test]
    fn names_the_server_chose_pair_by_definition() {
        let fk = |name: &str| {
            Constraint::new(
                Some(name.into()),
                ConstraintKind::ForeignKey {
                    columns: vec!["p".into()],
                    references: QualName::new(SCHEMA, "parent"),
                    ref_columns: vec!["id".into()],
                    on_delete: "RESTRICT".into(),
                    on_update: "RESTRICT".into(),
                    match_: "NONE".into(),
                },
            )
        };
        let mut a = db("mariadb", "10.11.6");
        let mut t = table("child", &[("id", "int"), ("p", "int")]);
        t.constraints.push(fk("child_ibfk_1"));
        a.tables.insert(t.name.clone(), t);
        let mut b = a.clone();
        b.tables.values_mut().next().unwrap().constraints[0] = fk("child_ibfk_2");
        assert!(diff(&a, &b).is_empty());
        // A name people chose is an identity.
        b.tables.values_mut().next().unwrap().constraints[0] = fk("fk_child_parent");
        assert_eq!(diff(&a, &b).len(), 2);
    }

    #[test]
    fn compound_statements_get_delimiters() {
        let mut b = db("mariadb", "10.11.6");
        let t = table("t", &[("a", "int")]);
        b.tables.insert(t.name.clone(), t);
        b.triggers.insert(
            "main.t.tr".into(),
            Trigger {
                name: "tr".into(),
                table: QualName::new(SCHEMA, "t"),
                definition:
                    "CREATE TRIGGER `tr` BEFORE INSERT ON `t` FOR EACH ROW BEGIN SET NEW.a = 1; END"
                        .into(),
                enabled: None,
                comment: None,
                depends_on: vec![],
            },
        );
        let a = db("mariadb", "10.11.6");
        let p = plan(&diff(&a, &b), &a, &b);
        assert!(p.statements.last().unwrap().delimiter);
        assert!(
            p.to_sql().contains("DELIMITER ;;\nCREATE TRIGGER"),
            "{}",
            p.to_sql()
        );
    }
}
