//! PostgreSQL plans: every change in place where PostgreSQL has an ALTER for it.
//!
//! What PostgreSQL cannot change in place is listed in `Plan::unsupported` and in
//! docs/diff.md, never silently dropped and re-created.

use super::text::constraint_body;
use crate::diff::Change;
use crate::model::*;
use crate::normalize::sql_text;
use crate::plan::{
    dollar_quote, ident, keyword, pg_literal as literal, qual, shown, shown_qual, sql_name,
    Options, Plan, Statement,
};
use std::collections::BTreeSet;

pub fn plan(changes: &[Change], from: &Database, to: &Database) -> Plan {
    plan_with(changes, from, to, Options::default())
}

pub fn plan_with(changes: &[Change], from: &Database, to: &Database, opts: Options) -> Plan {
    let rebuilds = if opts.allow_rebuild {
        rebuild::tables(from, to)
    } else {
        BTreeSet::new()
    };
    let at = rebuild::positions(changes, &rebuilds);
    let mut p = Planner {
        out: Plan::default(),
        from,
        to,
    };
    if changes.iter().any(|c| {
        matches!(
            c,
            Change::CreateFunction { .. } | Change::ReplaceFunction { .. }
        )
    }) {
        // Function bodies may name tables created later in the script; PostgreSQL checks
        // them at run time either way. pg_dump does the same.
        p.push("SET check_function_bodies = false");
    }
    for (i, c) in changes.iter().enumerate() {
        for t in at.get(&i).into_iter().flatten() {
            p.rebuild(t, changes);
        }
        if !rebuild::absorbed(c, &rebuilds) {
            p.change(c);
        }
    }
    p.out
}

struct Planner<'a> {
    out: Plan,
    from: &'a Database,
    to: &'a Database,
}

fn opt_eq<T: PartialEq>(a: &Option<T>, b: &Option<T>) -> bool {
    a == b
}

/// `"schema"."name"(args)` for functions and procedures.
fn func_sig(f: &Function) -> String {
    if f.kind == "aggregate" && f.arguments.is_empty() {
        return format!("{}(*)", qual(&f.name));
    }
    format!("{}({})", qual(&f.name), f.arguments)
}

fn func_word(f: &Function) -> &'static str {
    match f.kind.as_str() {
        "procedure" => "PROCEDURE",
        "aggregate" => "AGGREGATE",
        _ => "FUNCTION",
    }
}

/// `GRANT ... ON FUNCTION` covers aggregates: there is no `ON AGGREGATE`.
fn grant_word(f: &Function) -> &'static str {
    match func_word(f) {
        "AGGREGATE" => "FUNCTION",
        w => w,
    }
}

fn view_word(v: &View) -> &'static str {
    if v.materialized {
        "MATERIALIZED VIEW"
    } else {
        "VIEW"
    }
}

fn grantee(g: &str) -> String {
    if g.eq_ignore_ascii_case("public") {
        "PUBLIC".into()
    } else {
        ident(g)
    }
}

/// Storage parameters as the catalog stores them (`fillfactor=70`), written with each key
/// quoted and a value that is not a plain number or word as a string literal.
fn reloptions(options: &[String]) -> String {
    options
        .iter()
        .map(|kv| {
            let (k, v) = match kv.split_once('=') {
                Some((k, v)) => (k, Some(v)),
                None => (kv.as_str(), None),
            };
            let key = k.split('.').map(ident).collect::<Vec<_>>().join(".");
            let plain = |v: &str| {
                let n = v.strip_prefix('-').unwrap_or(v);
                let number = !n.is_empty()
                    && n.bytes().all(|c| c.is_ascii_digit() || c == b'.')
                    && n.as_bytes()[0].is_ascii_digit();
                let word = !v.is_empty()
                    && v.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_')
                    && v.as_bytes()[0].is_ascii_alphabetic();
                number || word
            };
            match v {
                Some(v) if plain(v) => format!("{key}={v}"),
                Some(v) => format!("{key}={}", literal(v)),
                None => key,
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn identity_options(i: &Identity, type_: &str) -> String {
    let mut parts = vec![];
    parts.push(format!("START WITH {}", i.start));
    parts.push(format!("INCREMENT BY {}", i.increment));
    let (dmin, dmax) = default_bounds(type_, i.increment);
    if i.min != dmin {
        parts.push(format!("MINVALUE {}", i.min));
    }
    if i.max != dmax {
        parts.push(format!("MAXVALUE {}", i.max));
    }
    if i.cache != 1 {
        parts.push(format!("CACHE {}", i.cache));
    }
    if i.cycle {
        parts.push("CYCLE".into());
    }
    parts.join(" ")
}

/// PostgreSQL's default MINVALUE/MAXVALUE for a sequence type and direction.
fn default_bounds(type_: &str, increment: i64) -> (i64, i64) {
    let max = match type_ {
        "smallint" => i16::MAX as i64,
        "integer" => i32::MAX as i64,
        _ => i64::MAX,
    };
    let min = match type_ {
        "smallint" => i16::MIN as i64,
        "integer" => i32::MIN as i64,
        _ => i64::MIN,
    };
    if increment > 0 {
        (1, max)
    } else {
        (min, -1)
    }
}

/// A column definition as in CREATE TABLE / ADD COLUMN.
pub fn column_def(c: &Column) -> String {
    let mut s = format!("{} {}", ident(&c.name), c.type_);
    if let Some(coll) = &c.collation {
        s.push_str(&format!(" COLLATE {}", sql_name(coll)));
    }
    if let Some(g) = &c.generated {
        s.push_str(&format!(" GENERATED ALWAYS AS ({}) STORED", g.expression));
    } else if let Some(d) = &c.default {
        s.push_str(&format!(" DEFAULT {d}"));
    }
    if let Some(i) = &c.identity {
        s.push_str(&format!(
            " GENERATED {} AS IDENTITY ({})",
            if i.always { "ALWAYS" } else { "BY DEFAULT" },
            identity_options(i, &c.type_)
        ));
    }
    if c.not_null {
        s.push_str(" NOT NULL");
    }
    s
}

/// The table `table` is a partition of, in `db`.
fn parent_of<'d>(db: &'d Database, table: &QualName) -> Option<&'d Table> {
    let po = db.tables.get(table)?.partition_of.as_ref()?;
    db.tables.get(&po.parent)
}

/// Whether `sql` names `name`: an unquoted word folded to lower case, a quoted one exactly.
fn mentions(sql: &str, name: &str) -> bool {
    crate::sql::lex::code(sql).iter().any(|t| match t.kind {
        crate::sql::lex::TokenKind::Word => t.text.to_lowercase() == name,
        _ => t.name().is_some_and(|n| n == name),
    })
}

/// Whether a column type as the server prints it (`mood`, `"Mood"`, `app.mood[]`) is an
/// enum of `db`: `Some(true)` for an array of one.
fn enum_base(db: &Database, ty: &str) -> Option<bool> {
    let (base, array) = match ty.trim().strip_suffix("[]") {
        Some(b) => (b, true),
        None => (ty.trim(), false),
    };
    let toks = crate::sql::lex::code(base);
    let names: Vec<String> = toks
        .iter()
        .filter(|t| !t.is_punct("."))
        .map(|t| match t.kind {
            crate::sql::lex::TokenKind::Word => Some(t.text.to_lowercase()),
            _ => t.name(),
        })
        .collect::<Option<_>>()?;
    let found = db.types.values().any(|t| {
        matches!(t.kind, TypeKind::Enum { .. })
            && match names.as_slice() {
                [n] => *n == t.name.name,
                [s, n] => *s == t.name.schema && *n == t.name.name,
                _ => false,
            }
    });
    found.then_some(array)
}

/// Privileges an object has when created, besides its owner's: PostgreSQL grants
/// EXECUTE on functions and USAGE on types to PUBLIC by default.
fn default_grants(kind: &str) -> Vec<Grant> {
    let privilege = match kind {
        "FUNCTION" | "PROCEDURE" => "EXECUTE",
        "TYPE" | "DOMAIN" => "USAGE",
        _ => return vec![],
    };
    vec![Grant {
        grantee: "PUBLIC".into(),
        privilege: privilege.into(),
        grantable: false,
    }]
}

impl<'a> Planner<'a> {
    fn push(&mut self, sql: impl Into<String>) {
        self.out.statements.push(Statement::new(sql));
    }

    fn push_destructive(&mut self, sql: impl Into<String>) {
        self.out
            .statements
            .push(Statement::new(sql).destructive(true));
    }

    fn unsupported(&mut self, what: String) {
        self.out.unsupported.push(what);
    }

    fn owner(&mut self, kind: &str, target: &str, from: &Option<String>, to: &Option<String>) {
        if let (Some(o), false) = (to, opt_eq(from, to)) {
            self.push(format!("ALTER {kind} {target} OWNER TO {}", ident(o)));
        }
    }

    fn comment(&mut self, kind: &str, target: &str, from: &Option<String>, to: &Option<String>) {
        if !opt_eq(from, to) {
            let v = to.as_deref().map(literal).unwrap_or_else(|| "NULL".into());
            self.push(format!("COMMENT ON {kind} {target} IS {v}"));
        }
    }

    /// A created extension's comment. The extension usually brings it (every database
    /// has `plpgsql` with its own), and COMMENT ON EXTENSION needs the extension's owner,
    /// so a create script run by a role that is not a superuser would fail on it: the
    /// comment is set only where it differs.
    fn extension_comment(&mut self, e: &Extension) {
        let Some(c) = &e.comment else { return };
        let body = format!(
            "BEGIN IF (SELECT pg_catalog.obj_description(x.oid, 'pg_extension') FROM pg_catalog.pg_extension x WHERE x.extname = {}) IS DISTINCT FROM {} THEN COMMENT ON EXTENSION {} IS {}; END IF; END",
            literal(&e.name),
            literal(c),
            ident(&e.name),
            literal(c)
        );
        // A dollar-quote tag the body does not contain.
        let tag = (0..)
            .map(|n| format!("$lockstep{n}$"))
            .find(|t| !body.contains(t.as_str()))
            .expect("some tag is free");
        self.push(format!("DO {tag} {body} {tag}"));
    }

    /// GRANT/REVOKE to turn `from` into `to`. `cols` restricts to column privileges.
    fn grants(
        &mut self,
        kind: &str,
        target: &str,
        from: &[Grant],
        to: &[Grant],
        cols: Option<&str>,
    ) {
        let key = |g: &Grant| (g.grantee.clone(), g.privilege.clone());
        let fset: BTreeSet<_> = from.iter().map(key).collect();
        let tset: BTreeSet<_> = to.iter().map(key).collect();
        let col = cols.map(|c| format!(" ({})", ident(c))).unwrap_or_default();
        for g in from {
            let still = to.iter().find(|t| key(t) == key(g));
            match still {
                None => self.push(format!(
                    "REVOKE {}{col} ON {kind} {target} FROM {}",
                    keyword(&g.privilege),
                    grantee(&g.grantee)
                )),
                Some(t) if g.grantable && !t.grantable => self.push(format!(
                    "REVOKE GRANT OPTION FOR {}{col} ON {kind} {target} FROM {}",
                    keyword(&g.privilege),
                    grantee(&g.grantee)
                )),
                _ => {}
            }
        }
        for g in to {
            let was = from.iter().find(|f| key(f) == key(g));
            let needed = match was {
                None => true,
                Some(f) => g.grantable && !f.grantable,
            };
            if needed {
                self.push(format!(
                    "GRANT {}{col} ON {kind} {target} TO {}{}",
                    keyword(&g.privilege),
                    grantee(&g.grantee),
                    if g.grantable {
                        " WITH GRANT OPTION"
                    } else {
                        ""
                    }
                ));
            }
        }
        let _ = (fset, tset);
    }

    fn change(&mut self, c: &Change) {
        use Change::*;
        match c {
            CreateRole { role } => self.create_role(role),
            AlterRole { from, to } => self.alter_role(from, to),
            CreateSchema { schema } => {
                self.push(format!(
                    "CREATE SCHEMA IF NOT EXISTS {}",
                    ident(&schema.name)
                ));
                self.schema_props(&Namespace::default(), schema);
            }
            AlterSchema { from, to } => self.schema_props(from, to),
            DropSchema { schema } => {
                self.push_destructive(format!("DROP SCHEMA {}", ident(&schema.name)))
            }
            CreateExtension { extension: e } => {
                self.push(format!(
                    "CREATE EXTENSION IF NOT EXISTS {} WITH SCHEMA {} VERSION {}",
                    ident(&e.name),
                    ident(&e.schema),
                    literal(&e.version)
                ));
                self.extension_comment(e);
            }
            AlterExtension { from, to } => {
                if from.version != to.version {
                    self.push(format!(
                        "ALTER EXTENSION {} UPDATE TO {}",
                        ident(&to.name),
                        literal(&to.version)
                    ));
                }
                if from.schema != to.schema {
                    self.push(format!(
                        "ALTER EXTENSION {} SET SCHEMA {}",
                        ident(&to.name),
                        ident(&to.schema)
                    ));
                }
                self.comment("EXTENSION", &ident(&to.name), &from.comment, &to.comment);
            }
            DropExtension { extension } => {
                self.push_destructive(format!("DROP EXTENSION {}", ident(&extension.name)))
            }
            CreateType { typ } => self.create_type(typ),
            AlterType { from, to } => self.alter_type(from, to),
            DropType { typ } => {
                let word = if matches!(typ.kind, TypeKind::Domain { .. }) {
                    "DOMAIN"
                } else {
                    "TYPE"
                };
                self.push_destructive(format!("DROP {word} {}", qual(&typ.name)))
            }
            CreateSequence { sequence } => self.create_sequence(sequence),
            AlterSequence { from, to } => self.alter_sequence(from, to),
            DropSequence { sequence } => {
                self.push_destructive(format!("DROP SEQUENCE {}", qual(&sequence.name)))
            }
            CreateFunction { function } => {
                self.push(
                    function
                        .definition
                        .trim_end()
                        .trim_end_matches(';')
                        .to_string(),
                );
                let word = func_word(function);
                let sig = func_sig(function);
                self.owner(word, &sig, &None, &function.owner);
                self.comment(word, &sig, &None, &function.comment);
                let gw = grant_word(function);
                self.grants(gw, &sig, &default_grants(gw), &function.grants, None);
            }
            ReplaceFunction { from, to } => {
                if crate::normalize::sql_code(&from.definition)
                    != crate::normalize::sql_code(&to.definition)
                {
                    self.push(to.definition.trim_end().trim_end_matches(';').to_string());
                }
                let word = func_word(to);
                let sig = func_sig(to);
                self.owner(word, &sig, &from.owner, &to.owner);
                self.comment(word, &sig, &from.comment, &to.comment);
                self.grants(grant_word(to), &sig, &from.grants, &to.grants, None);
            }
            DropFunction { function } => self.push_destructive(format!(
                "DROP {} {}",
                func_word(function),
                func_sig(function)
            )),
            CreateTable { table } => self.create_table(table),
            AlterTable { from, to } => self.alter_table(from, to),
            DropTable { table } => {
                if table.kind == TableKind::Foreign {
                    self.push_destructive(format!("DROP FOREIGN TABLE {}", qual(&table.name)));
                } else {
                    self.push_destructive(format!("DROP TABLE {}", qual(&table.name)));
                }
            }
            AddColumn { table, column } => {
                let t = qual(table);
                // A partition gets its parent's new column from the parent; PostgreSQL
                // refuses to add it again (`cannot add column to a partition`).
                if self.parent_column(table, &column.name).is_none() {
                    self.push(format!("ALTER TABLE {t} ADD COLUMN {}", column_def(column)));
                    self.column_storage(
                        table,
                        &column.name,
                        &Column::new(&column.name, &column.type_),
                        column,
                    );
                }
                let target = format!("{t}.{}", ident(&column.name));
                self.comment("COLUMN", &target, &None, &column.comment);
                self.grants("TABLE", &t, &[], &column.grants, Some(&column.name));
            }
            AlterColumn { table, from, to } => self.alter_column(table, from, to),
            RenameColumn { table, from, to } => self.push(format!(
                "ALTER TABLE {} RENAME COLUMN {} TO {}",
                qual(table),
                ident(from),
                ident(to)
            )),
            // Dropped from the parent, it goes from the partitions too.
            DropColumn { table, column } if self.parent_drops(table, &column.name) => {}
            DropColumn { table, column } => self.push_destructive(format!(
                "ALTER TABLE {} DROP COLUMN {}",
                qual(table),
                ident(&column.name)
            )),
            ColumnOrder { table, from, to } => {
                let names =
                    |v: &[String]| v.iter().map(|c| shown(c)).collect::<Vec<_>>().join(", ");
                self.unsupported(format!(
                    "column order of {}: ({}) → ({}); PostgreSQL cannot reorder columns in place, and lockstep never rebuilds a table to do it",
                    shown_qual(table),
                    names(from),
                    names(to)
                ))
            }
            AddConstraint { table, constraint } => self.add_constraint(table, constraint),
            AlterConstraint { table, from, to } => {
                let name = from.name.clone().unwrap_or_default();
                self.comment(
                    "CONSTRAINT",
                    &format!("{} ON {}", ident(&name), qual(table)),
                    &from.comment,
                    &to.comment,
                );
            }
            DropConstraint { table, constraint } => {
                if let Some(n) = &constraint.name {
                    self.push(format!(
                        "ALTER TABLE {} DROP CONSTRAINT {}",
                        qual(table),
                        ident(n)
                    ));
                }
            }
            CreateIndex { index } => self.create_index(index),
            AlterIndex { from, to } => {
                self.comment("INDEX", &qual(&from.name), &from.comment, &to.comment)
            }
            DropIndex { index } => self.push(format!("DROP INDEX {}", qual(&index.name))),
            CreateView { view } => self.create_view(view),
            AlterView { from, to } => self.view_props(from, to),
            DropView { view } => {
                let s = format!("DROP {} {}", view_word(view), qual(&view.name));
                if view.materialized {
                    self.push_destructive(s)
                } else {
                    self.push(s)
                }
            }
            CreatePolicy { table, policy } => self.create_policy(table, policy),
            DropPolicy { table, policy } => self.push(format!(
                "DROP POLICY {} ON {}",
                ident(&policy.name),
                qual(table)
            )),
            CreateTrigger { trigger } => {
                self.push(
                    trigger
                        .definition
                        .trim_end()
                        .trim_end_matches(';')
                        .to_string(),
                );
                self.trigger_props(
                    &Trigger {
                        enabled: None,
                        comment: None,
                        ..trigger.clone()
                    },
                    trigger,
                );
            }
            AlterTrigger { from, to } => self.trigger_props(from, to),
            DropTrigger { trigger } => self.push(format!(
                "DROP TRIGGER {} ON {}",
                ident(&trigger.name),
                qual(&trigger.table)
            )),
            CreateOther { other } => self.create_other(other),
            DropOther { other } => match &other.drop {
                Some(d) => self.push(d.clone()),
                None => self.unsupported(format!(
                    "dropping {} {}: no single statement undoes it",
                    other.kind, other.name
                )),
            },
        }
    }

    /// An object kept as the statements that create it (inspection built them from the
    /// catalogs, with every name quoted); one lockstep only detects cannot be created.
    fn create_other(&mut self, o: &Other) {
        if !o.modelled() {
            self.unsupported(format!("not modelled: {} {}", o.kind, o.name));
        }
        for sql in &o.create {
            self.push(sql.clone());
        }
    }

    /// `SET STORAGE`, `SET COMPRESSION`, attribute options and the statistics target, as
    /// pg_dump sets them: after the table exists, on the table alone.
    fn column_storage(&mut self, table: &QualName, column: &str, from: &Column, to: &Column) {
        let (a, b) = (&from.storage, &to.storage);
        if a == b {
            return;
        }
        let alter = |rest: String| {
            format!(
                "ALTER TABLE ONLY {} ALTER COLUMN {} {rest}",
                qual(table),
                ident(column)
            )
        };
        if a.storage != b.storage {
            // The type's own storage when the model says default.
            let to = b.storage.as_deref().map(keyword);
            self.push(alter(format!(
                "SET STORAGE {}",
                to.unwrap_or_else(|| "DEFAULT".into())
            )));
        }
        if a.compression != b.compression {
            let to = b.compression.as_deref().map(ident);
            self.push(alter(format!(
                "SET COMPRESSION {}",
                to.unwrap_or_else(|| "DEFAULT".into())
            )));
        }
        if a.options != b.options {
            let keys = |o: &[String]| -> Vec<String> {
                o.iter()
                    .map(|kv| kv.split('=').next().unwrap_or("").to_string())
                    .filter(|k| !b.options.iter().any(|x| x.starts_with(&format!("{k}="))))
                    .collect()
            };
            let gone = keys(&a.options);
            if !gone.is_empty() {
                self.push(alter(format!("RESET ({})", reloptions(&gone))));
            }
            if !b.options.is_empty() {
                self.push(alter(format!("SET ({})", reloptions(&b.options))));
            }
        }
        if a.statistics != b.statistics {
            self.push(alter(format!(
                "SET STATISTICS {}",
                b.statistics.unwrap_or(-1)
            )));
        }
        if a.fdw_options != b.fdw_options {
            if let Some(o) = &b.fdw_options {
                // A foreign table's column options are written in CREATE FOREIGN TABLE;
                // here they only change, which needs the previous keys dropped.
                self.unsupported(format!(
                    "options of foreign table column {}.{}: ({o}); drop and re-create the foreign table",
                    shown_qual(table),
                    shown(column)
                ));
            }
        }
    }

    fn role_attrs(r: &Role) -> String {
        let flag = |b: bool, yes: &str| {
            if b {
                yes.to_string()
            } else {
                format!("NO{yes}")
            }
        };
        [
            flag(r.login, "LOGIN"),
            flag(r.superuser, "SUPERUSER"),
            flag(r.createdb, "CREATEDB"),
            flag(r.createrole, "CREATEROLE"),
            flag(r.inherit, "INHERIT"),
            flag(r.replication, "REPLICATION"),
            flag(r.bypassrls, "BYPASSRLS"),
            format!("CONNECTION LIMIT {}", r.connection_limit),
        ]
        .join(" ")
    }

    fn role_known(&self, name: &str) -> bool {
        self.to.roles.contains_key(name) || self.to.env.server_roles.iter().any(|r| r == name)
    }

    fn create_role(&mut self, r: &Role) {
        // Roles are server-wide and may already exist (another database on the same
        // server uses them), so creation is conditional.
        let body = format!(
            " BEGIN IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = {}) THEN CREATE ROLE {} WITH {}; END IF; END ",
            literal(&r.name),
            ident(&r.name),
            Self::role_attrs(r)
        );
        self.push(format!("DO {}", dollar_quote(&body)));
        for m in &r.member_of {
            if self.role_known(m) {
                self.push(format!("GRANT {} TO {}", ident(m), ident(&r.name)));
            }
        }
    }

    fn alter_role(&mut self, from: &Role, to: &Role) {
        let mut a = from.clone();
        a.member_of = to.member_of.clone();
        if &a != to {
            self.push(format!(
                "ALTER ROLE {} WITH {}",
                ident(&to.name),
                Self::role_attrs(to)
            ));
        }
        for m in &from.member_of {
            if !to.member_of.contains(m) {
                self.push(format!("REVOKE {} FROM {}", ident(m), ident(&to.name)));
            }
        }
        for m in &to.member_of {
            if !from.member_of.contains(m) && self.role_known(m) {
                self.push(format!("GRANT {} TO {}", ident(m), ident(&to.name)));
            }
        }
    }

    fn schema_props(&mut self, from: &Namespace, to: &Namespace) {
        let t = ident(&to.name);
        self.owner("SCHEMA", &t, &from.owner, &to.owner);
        self.comment("SCHEMA", &t, &from.comment, &to.comment);
        self.grants("SCHEMA", &t, &from.grants, &to.grants, None);
    }

    fn create_type(&mut self, t: &TypeDef) {
        let name = qual(&t.name);
        let word = match &t.kind {
            TypeKind::Enum { labels } => {
                self.push(format!(
                    "CREATE TYPE {name} AS ENUM ({})",
                    labels
                        .iter()
                        .map(|l| literal(l))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
                "TYPE"
            }
            TypeKind::Domain {
                base,
                not_null,
                default,
                collation,
                checks,
            } => {
                let mut s = format!("CREATE DOMAIN {name} AS {base}");
                if let Some(c) = collation {
                    s.push_str(&format!(" COLLATE {}", sql_name(c)));
                }
                if let Some(d) = default {
                    s.push_str(&format!(" DEFAULT {d}"));
                }
                if *not_null {
                    s.push_str(" NOT NULL");
                }
                // A NOT VALID check cannot be declared inline; it is added after.
                let (later, inline): (Vec<_>, Vec<_>) =
                    checks.iter().partition(|(_, d)| d.ends_with(" NOT VALID"));
                for (cn, def) in inline {
                    s.push_str(&format!(" CONSTRAINT {} {def}", ident(cn)));
                }
                self.push(s);
                for (cn, def) in later {
                    self.push(format!(
                        "ALTER DOMAIN {name} ADD CONSTRAINT {} {def}",
                        ident(cn)
                    ));
                }
                "DOMAIN"
            }
            TypeKind::Composite { attributes } => {
                let attrs = attributes
                    .iter()
                    .map(|a| {
                        let mut s = format!("{} {}", ident(&a.name), a.type_);
                        if let Some(c) = &a.collation {
                            s.push_str(&format!(" COLLATE {}", sql_name(c)));
                        }
                        s
                    })
                    .collect::<Vec<_>>()
                    .join(", ");
                self.push(format!("CREATE TYPE {name} AS ({attrs})"));
                "TYPE"
            }
            TypeKind::Range {
                subtype,
                subtype_opclass,
                collation,
                canonical,
                subtype_diff,
            } => {
                let mut parts = vec![format!("SUBTYPE = {subtype}")];
                if let Some(o) = subtype_opclass {
                    parts.push(format!("SUBTYPE_OPCLASS = {}", sql_name(o)));
                }
                if let Some(c) = collation {
                    parts.push(format!("COLLATION = {}", sql_name(c)));
                }
                if let Some(c) = canonical {
                    parts.push(format!("CANONICAL = {}", sql_name(c)));
                }
                if let Some(d) = subtype_diff {
                    parts.push(format!("SUBTYPE_DIFF = {}", sql_name(d)));
                }
                self.push(format!(
                    "CREATE TYPE {name} AS RANGE ({})",
                    parts.join(", ")
                ));
                "TYPE"
            }
        };
        self.owner(word, &name, &None, &t.owner);
        self.comment(word, &name, &None, &t.comment);
        self.grants("TYPE", &name, &default_grants(word), &t.grants, None);
    }

    fn alter_type(&mut self, from: &TypeDef, to: &TypeDef) {
        let name = qual(&to.name);
        let mut word = "TYPE";
        match (&from.kind, &to.kind) {
            (TypeKind::Enum { labels: la }, TypeKind::Enum { labels: lb })
                if crate::diff::enum_renames(la, lb).is_some() =>
            {
                for (old, new) in crate::diff::enum_renames(la, lb).unwrap_or_default() {
                    self.push(format!(
                        "ALTER TYPE {name} RENAME VALUE {} TO {}",
                        literal(&old),
                        literal(&new)
                    ));
                }
            }
            (TypeKind::Enum { labels: la }, TypeKind::Enum { labels: lb }) => {
                let mut present: Vec<&String> = la.iter().collect();
                for (i, l) in lb.iter().enumerate() {
                    if present.contains(&l) {
                        continue;
                    }
                    // Place it after the nearest earlier label that already exists.
                    let anchor = lb[..i].iter().rev().find(|x| present.contains(x));
                    let pos = match anchor {
                        Some(a) => format!(" AFTER {}", literal(a)),
                        None => match lb[i + 1..].iter().find(|x| present.contains(x)) {
                            Some(b) => format!(" BEFORE {}", literal(b)),
                            None => String::new(),
                        },
                    };
                    self.push(format!("ALTER TYPE {name} ADD VALUE {}{pos}", literal(l)));
                    present.push(l);
                }
            }
            (
                TypeKind::Domain {
                    not_null: na,
                    default: da,
                    checks: ca,
                    collation: cola,
                    ..
                },
                TypeKind::Domain {
                    not_null: nb,
                    default: db,
                    checks: cb,
                    collation: colb,
                    ..
                },
            ) => {
                word = "DOMAIN";
                if da != db {
                    match db {
                        Some(d) => self.push(format!("ALTER DOMAIN {name} SET DEFAULT {d}")),
                        None => self.push(format!("ALTER DOMAIN {name} DROP DEFAULT")),
                    }
                }
                if na != nb {
                    self.push(format!(
                        "ALTER DOMAIN {name} {} NOT NULL",
                        if *nb { "SET" } else { "DROP" }
                    ));
                }
                for (n, d) in ca {
                    if cb.get(n) != Some(d) {
                        self.push(format!("ALTER DOMAIN {name} DROP CONSTRAINT {}", ident(n)));
                    }
                }
                for (n, d) in cb {
                    if ca.get(n) != Some(d) {
                        self.push(format!(
                            "ALTER DOMAIN {name} ADD CONSTRAINT {} {d}",
                            ident(n)
                        ));
                    }
                }
                if cola != colb {
                    self.unsupported(format!(
                        "collation of domain {}: PostgreSQL has no ALTER DOMAIN for it",
                        shown_qual(&to.name)
                    ));
                }
            }
            _ => {}
        }
        self.owner(word, &name, &from.owner, &to.owner);
        self.comment(word, &name, &from.comment, &to.comment);
        self.grants("TYPE", &name, &from.grants, &to.grants, None);
    }

    fn seq_options(s: &Sequence) -> String {
        let (dmin, dmax) = default_bounds(&s.type_, s.increment);
        let mut parts = vec![format!("AS {}", s.type_)];
        parts.push(format!("INCREMENT BY {}", s.increment));
        parts.push(if s.min != dmin {
            format!("MINVALUE {}", s.min)
        } else {
            "NO MINVALUE".into()
        });
        parts.push(if s.max != dmax {
            format!("MAXVALUE {}", s.max)
        } else {
            "NO MAXVALUE".into()
        });
        parts.push(format!("START WITH {}", s.start));
        parts.push(format!("CACHE {}", s.cache));
        parts.push(if s.cycle {
            "CYCLE".into()
        } else {
            "NO CYCLE".into()
        });
        parts.join(" ")
    }

    fn create_sequence(&mut self, s: &Sequence) {
        let name = qual(&s.name);
        self.push(format!("CREATE SEQUENCE {name} {}", Self::seq_options(s)));
        if let Some(o) = &s.owned_by {
            self.push(format!(
                "ALTER SEQUENCE {name} OWNED BY {}.{}",
                qual(&o.table),
                ident(&o.column)
            ));
        }
        self.owner("SEQUENCE", &name, &None, &s.owner);
        self.comment("SEQUENCE", &name, &None, &s.comment);
        self.grants("SEQUENCE", &name, &[], &s.grants, None);
    }

    fn alter_sequence(&mut self, from: &Sequence, to: &Sequence) {
        let name = qual(&to.name);
        let mut a = from.clone();
        a.owned_by = to.owned_by.clone();
        a.owner = to.owner.clone();
        a.comment = to.comment.clone();
        a.grants = to.grants.clone();
        if &a != to {
            self.push(format!("ALTER SEQUENCE {name} {}", Self::seq_options(to)));
        }
        if from.owned_by != to.owned_by {
            match &to.owned_by {
                Some(o) => self.push(format!(
                    "ALTER SEQUENCE {name} OWNED BY {}.{}",
                    qual(&o.table),
                    ident(&o.column)
                )),
                None => self.push(format!("ALTER SEQUENCE {name} OWNED BY NONE")),
            }
        }
        self.owner("SEQUENCE", &name, &from.owner, &to.owner);
        self.comment("SEQUENCE", &name, &from.comment, &to.comment);
        self.grants("SEQUENCE", &name, &from.grants, &to.grants, None);
    }

    fn create_table(&mut self, t: &Table) {
        let name = qual(&t.name);
        if t.kind == TableKind::Foreign && t.foreign_server.is_none() {
            self.unsupported(format!(
                "foreign table {}: its server was not read",
                shown_qual(&t.name)
            ));
            return;
        }
        // NOT VALID constraints cannot be declared inline; they are added after.
        let (inline, later): (Vec<&Constraint>, Vec<&Constraint>) =
            t.constraints.iter().partition(|c| !c.not_valid);
        let mut s = String::new();
        s.push_str(if t.unlogged {
            "CREATE UNLOGGED TABLE "
        } else if t.kind == TableKind::Foreign {
            "CREATE FOREIGN TABLE "
        } else {
            "CREATE TABLE "
        });
        s.push_str(&name);
        let cons: Vec<String> = inline
            .iter()
            .map(|c| match &c.name {
                Some(n) => format!("CONSTRAINT {} {}", ident(n), constraint_body(c)),
                None => constraint_body(c),
            })
            .collect();
        if let Some(po) = &t.partition_of {
            s.push_str(&format!(" PARTITION OF {}", qual(&po.parent)));
            if !cons.is_empty() {
                s.push_str(&format!(" (\n    {}\n)", cons.join(",\n    ")));
            }
            s.push_str(&format!(" {}", po.bound));
        } else {
            let mut items: Vec<String> = t
                .columns
                .iter()
                .map(|c| match &c.storage.fdw_options {
                    Some(o) => format!("{} OPTIONS ({o})", column_def(c)),
                    None => column_def(c),
                })
                .collect();
            items.extend(cons);
            if items.is_empty() {
                s.push_str(" ()");
            } else {
                s.push_str(&format!(" (\n    {}\n)", items.join(",\n    ")));
            }
            if !t.inherits.is_empty() {
                s.push_str(&format!(
                    " INHERITS ({})",
                    t.inherits.iter().map(qual).collect::<Vec<_>>().join(", ")
                ));
            }
        }
        if let Some(k) = &t.partition_key {
            s.push_str(&format!(" PARTITION BY {k}"));
        }
        if let (TableKind::Foreign, Some(server)) = (t.kind, &t.foreign_server) {
            s.push_str(&format!(" SERVER {server}"));
        }
        if !t.options.is_empty() {
            s.push_str(&format!(" WITH ({})", reloptions(&t.options)));
        }
        self.push(s);
        for c in &t.columns {
            let written = ColumnStorage {
                fdw_options: c.storage.fdw_options.clone(),
                ..ColumnStorage::default()
            };
            let plain = Column {
                storage: written,
                ..Column::new(&c.name, &c.type_)
            };
            self.column_storage(&t.name, &c.name, &plain, c);
        }
        if t.partition_of.is_some() {
            // Partition columns come from the parent; only their extras are set here.
            for c in &t.columns {
                if c.comment.is_some() {
                    self.comment(
                        "COLUMN",
                        &format!("{name}.{}", ident(&c.name)),
                        &None,
                        &c.comment,
                    );
                }
            }
        }
        for c in later {
            self.add_constraint(&t.name, c);
        }
        for c in &t.constraints {
            if c.comment.is_some() && !c.not_valid {
                let n = c.name.clone().unwrap_or_default();
                self.comment(
                    "CONSTRAINT",
                    &format!("{} ON {name}", ident(&n)),
                    &None,
                    &c.comment,
                );
            }
        }
        if t.partition_of.is_none() {
            for c in &t.columns {
                let target = format!("{name}.{}", ident(&c.name));
                self.comment("COLUMN", &target, &None, &c.comment);
            }
        }
        for c in &t.columns {
            self.grants("TABLE", &name, &[], &c.grants, Some(&c.name));
        }
        let mut blank = t.clone();
        blank.owner = None;
        blank.comment = None;
        blank.grants = vec![];
        blank.rls_enabled = false;
        blank.rls_forced = false;
        self.table_props(&blank, t);
    }

    /// Owner, comment, grants and row-level security.
    fn table_props(&mut self, from: &Table, to: &Table) {
        let name = qual(&to.name);
        let word = if to.kind == TableKind::Foreign {
            "FOREIGN TABLE"
        } else {
            "TABLE"
        };
        self.owner(word, &name, &from.owner, &to.owner);
        self.comment(word, &name, &from.comment, &to.comment);
        self.grants("TABLE", &name, &from.grants, &to.grants, None);
        if from.rls_enabled != to.rls_enabled {
            self.push(format!(
                "ALTER TABLE {name} {} ROW LEVEL SECURITY",
                if to.rls_enabled { "ENABLE" } else { "DISABLE" }
            ));
        }
        if from.rls_forced != to.rls_forced {
            self.push(format!(
                "ALTER TABLE {name} {} ROW LEVEL SECURITY",
                if to.rls_forced { "FORCE" } else { "NO FORCE" }
            ));
        }
    }

    fn alter_table(&mut self, from: &Table, to: &Table) {
        let name = qual(&to.name);
        if from.unlogged != to.unlogged {
            self.push(format!(
                "ALTER TABLE {name} SET {}",
                if to.unlogged { "UNLOGGED" } else { "LOGGED" }
            ));
        }
        if from.options != to.options {
            let keys = |o: &[String]| -> Vec<String> {
                o.iter()
                    .map(|kv| kv.split('=').next().unwrap_or("").to_string())
                    .collect()
            };
            let gone: Vec<String> = keys(&from.options)
                .into_iter()
                .filter(|k| !keys(&to.options).contains(k))
                .collect();
            if !gone.is_empty() {
                self.push(format!("ALTER TABLE {name} RESET ({})", reloptions(&gone)));
            }
            if !to.options.is_empty() {
                self.push(format!(
                    "ALTER TABLE {name} SET ({})",
                    reloptions(&to.options)
                ));
            }
        }
        if from.partition_of != to.partition_of {
            if let Some(po) = &from.partition_of {
                self.push(format!(
                    "ALTER TABLE {} DETACH PARTITION {name}",
                    qual(&po.parent)
                ));
            }
            if let Some(po) = &to.partition_of {
                self.push(format!(
                    "ALTER TABLE {} ATTACH PARTITION {name} {}",
                    qual(&po.parent),
                    po.bound
                ));
            }
        }
        if from.inherits != to.inherits {
            for p in &from.inherits {
                if !to.inherits.contains(p) {
                    self.push(format!("ALTER TABLE {name} NO INHERIT {}", qual(p)));
                }
            }
            for p in &to.inherits {
                if !from.inherits.contains(p) {
                    self.push(format!("ALTER TABLE {name} INHERIT {}", qual(p)));
                }
            }
        }
        if from.replica_identity != to.replica_identity {
            self.push(format!(
                "ALTER TABLE ONLY {name} REPLICA IDENTITY {}",
                to.replica_identity.as_deref().unwrap_or("DEFAULT")
            ));
        }
        if from.foreign_server != to.foreign_server {
            self.unsupported(format!(
                "server or options of foreign table {}: {} → {}; drop and re-create the foreign table",
                shown_qual(&to.name),
                from.foreign_server.as_deref().unwrap_or("none"),
                to.foreign_server.as_deref().unwrap_or("none")
            ));
        }
        if rebuild::needs(from, to) {
            let why = if rebuild::possible(self.from, self.to, to) {
                "pass `--allow-rebuild` to plan a rebuild (a new table, the rows copied, the old table dropped)"
            } else {
                "lockstep rebuilds such a table only when none of its partitions stays, and this one keeps some"
            };
            self.unsupported(format!(
                "partitioning of {}: no ALTER changes a table's partition key or makes it partitioned (or not); {why}",
                shown_qual(&to.name)
            ));
        }
        self.table_props(from, to);
    }

    /// The column of `table`'s parent that `table` has as a partition, before and after
    /// (the same column twice when the plan adds it to the parent): ALTERs of the parent
    /// reach the partition, and some are refused on the partition itself.
    fn parent_column(&self, table: &QualName, col: &str) -> Option<(&'a Column, &'a Column)> {
        let (pf, pt) = (parent_of(self.from, table)?, parent_of(self.to, table)?);
        if pf.name != pt.name {
            return None;
        }
        let c = pt.column(col)?;
        Some((pf.column(col).unwrap_or(c), c))
    }

    /// Whether the column leaves a partition because it leaves its parent.
    fn parent_drops(&self, table: &QualName, col: &str) -> bool {
        match (parent_of(self.from, table), parent_of(self.to, table)) {
            (Some(pf), Some(pt)) => {
                pf.name == pt.name && pf.column(col).is_some() && pt.column(col).is_none()
            }
            _ => false,
        }
    }

    fn alter_column(&mut self, table: &QualName, from: &Column, to: &Column) {
        let t = qual(table);
        let c = ident(&to.name);
        let alter = |rest: String| format!("ALTER TABLE {t} ALTER COLUMN {c} {rest}");
        // What the parent's own ALTER brings to a partition is not repeated on it (the
        // server refuses a type change there).
        let (from, to) = match self.parent_column(table, &to.name) {
            Some((pf, pt)) => {
                let mut f = from.clone();
                if pf.type_ != pt.type_ && pt.type_ == to.type_ {
                    f.type_ = to.type_.clone();
                    f.collation = to.collation.clone();
                }
                if pf.not_null != pt.not_null && pt.not_null == to.not_null {
                    f.not_null = to.not_null;
                }
                if pf.generated != pt.generated && pt.generated == to.generated {
                    f.generated = to.generated.clone();
                }
                (std::borrow::Cow::Owned(f), to)
            }
            None => (std::borrow::Cow::Borrowed(from), to),
        };
        let from = from.as_ref();
        let default_changes =
            from.default.as_deref().map(sql_text) != to.default.as_deref().map(sql_text);
        if from.generated != to.generated {
            if let (Some(_), None) = (&from.generated, &to.generated) {
                self.push(alter("DROP EXPRESSION".into()));
            } else {
                // PostgreSQL 15 has no SET EXPRESSION, and no ALTER makes a plain column
                // generated. A generated column is recomputed from its row, so dropping
                // and adding it loses nothing; a plain column's values are lost.
                self.readd_column(table, from, to);
                return;
            }
        }
        if from.identity.is_some() && to.identity.is_none() {
            self.push(alter("DROP IDENTITY".into()));
        }
        if default_changes && from.default.is_some() {
            self.push(alter("DROP DEFAULT".into()));
        }
        if from.type_ != to.type_ || from.collation != to.collation {
            let coll = to
                .collation
                .as_ref()
                .map(|c| format!(" COLLATE {}", sql_name(c)))
                .unwrap_or_default();
            // An enum converts to another type through text only (`cannot cast type a to
            // b`), arrays of enums element by element.
            let via = match enum_base(self.from, &from.type_) {
                Some(array) => format!("::text{}", if array { "[]" } else { "" }),
                None => String::new(),
            };
            let stmt = alter(format!(
                "TYPE {}{coll} USING {c}{via}::{}",
                to.type_, to.type_
            ));
            if !crate::diff::keeps_values(&from.type_, &to.type_) {
                self.push_destructive(stmt);
            } else {
                self.push(stmt);
            }
        }
        if default_changes {
            if let Some(d) = &to.default {
                self.push(alter(format!("SET DEFAULT {d}")));
            }
        }
        if from.not_null != to.not_null {
            self.push(alter(if to.not_null {
                "SET NOT NULL".into()
            } else {
                "DROP NOT NULL".into()
            }));
        }
        match (&from.identity, &to.identity) {
            (None, Some(i)) => self.push(alter(format!(
                "ADD GENERATED {} AS IDENTITY ({})",
                if i.always { "ALWAYS" } else { "BY DEFAULT" },
                identity_options(i, &to.type_)
            ))),
            (Some(a), Some(b)) if a != b => {
                let mut parts = vec![];
                if a.always != b.always {
                    parts.push(format!(
                        "SET GENERATED {}",
                        if b.always { "ALWAYS" } else { "BY DEFAULT" }
                    ));
                }
                parts.push(format!("SET INCREMENT BY {}", b.increment));
                parts.push(format!("SET START WITH {}", b.start));
                parts.push(format!("SET MINVALUE {}", b.min));
                parts.push(format!("SET MAXVALUE {}", b.max));
                parts.push(format!("SET CACHE {}", b.cache));
                parts.push(if b.cycle {
                    "SET CYCLE".into()
                } else {
                    "SET NO CYCLE".into()
                });
                self.push(alter(parts.join(" ")));
            }
            _ => {}
        }
        self.comment("COLUMN", &format!("{t}.{c}"), &from.comment, &to.comment);
        self.grants("TABLE", &t, &from.grants, &to.grants, Some(&to.name));
        self.column_storage(table, &to.name, from, to);
    }

    /// Drops a column and adds it again in its new form, at the end of the table, with
    /// the indexes and constraints of the table that name it (dropped with it).
    fn readd_column(&mut self, table: &QualName, from: &Column, to: &Column) {
        let t = qual(table);
        let stmt = format!("ALTER TABLE {t} DROP COLUMN {}", ident(&from.name));
        if from.generated.is_some() {
            let mut s = Statement::new(stmt);
            s.note = Some(format!(
                "{}.{} is generated: dropped and added again, its values recomputed",
                shown_qual(table),
                shown(&to.name)
            ));
            self.out.statements.push(s);
        } else {
            self.push_destructive(stmt);
        }
        self.push(format!("ALTER TABLE {t} ADD COLUMN {}", column_def(to)));
        self.comment(
            "COLUMN",
            &format!("{t}.{}", ident(&to.name)),
            &None,
            &to.comment,
        );
        self.grants("TABLE", &t, &[], &to.grants, Some(&to.name));
        let Some(tt) = self.to.tables.get(table) else {
            return;
        };
        let names = |text: &str| mentions(text, &to.name);
        let constraints: Vec<Constraint> = tt
            .constraints
            .iter()
            .filter(|k| match &k.kind {
                ConstraintKind::PrimaryKey { columns, .. }
                | ConstraintKind::Unique { columns, .. }
                | ConstraintKind::ForeignKey { columns, .. } => columns.contains(&to.name),
                ConstraintKind::Check { expression, .. } => names(expression),
                ConstraintKind::Exclusion { definition } => names(definition),
            })
            .cloned()
            .collect();
        for k in &constraints {
            self.add_constraint(table, k);
        }
        let indexes: Vec<Index> = self
            .to
            .indexes
            .values()
            .filter(|i| {
                i.table == *table
                    && !i.constraint
                    && (i.columns.contains(&to.name) || names(&i.definition))
            })
            .cloned()
            .collect();
        for i in &indexes {
            self.create_index(i);
        }
    }

    fn create_index(&mut self, index: &Index) {
        self.push(format!(
            "CREATE {}INDEX {} ON {} {}",
            if index.unique { "UNIQUE " } else { "" },
            ident(&index.name.name),
            qual(&index.table),
            index.definition
        ));
        self.comment("INDEX", &qual(&index.name), &None, &index.comment);
    }

    fn add_constraint(&mut self, table: &QualName, c: &Constraint) {
        let name = c
            .name
            .as_deref()
            .map(|n| format!("CONSTRAINT {} ", ident(n)))
            .unwrap_or_default();
        self.push(format!(
            "ALTER TABLE {} ADD {name}{}{}",
            qual(table),
            constraint_body(c),
            if c.not_valid { " NOT VALID" } else { "" }
        ));
        if let (Some(n), Some(_)) = (&c.name, &c.comment) {
            self.comment(
                "CONSTRAINT",
                &format!("{} ON {}", ident(n), qual(table)),
                &None,
                &c.comment,
            );
        }
    }

    fn create_view(&mut self, v: &View) {
        let name = qual(&v.name);
        let mut s = format!("CREATE {} {name}", view_word(v));
        if !v.options.is_empty() {
            s.push_str(&format!(" WITH ({})", reloptions(&v.options)));
        }
        s.push_str(" AS ");
        s.push_str(v.definition.trim().trim_end_matches(';').trim_end());
        if let Some(co) = &v.check_option {
            s.push_str(&format!(" WITH {} CHECK OPTION", keyword(co)));
        }
        self.push(s);
        let blank = View {
            owner: None,
            comment: None,
            grants: vec![],
            column_comments: Default::default(),
            ..v.clone()
        };
        self.view_props(&blank, v);
    }

    fn view_props(&mut self, from: &View, to: &View) {
        let name = qual(&to.name);
        let word = view_word(to);
        self.owner(word, &name, &from.owner, &to.owner);
        self.comment(word, &name, &from.comment, &to.comment);
        self.grants("TABLE", &name, &from.grants, &to.grants, None);
        for (col, cm) in &to.column_comments {
            if from.column_comments.get(col) != Some(cm) {
                self.push(format!(
                    "COMMENT ON COLUMN {name}.{} IS {}",
                    ident(col),
                    literal(cm)
                ));
            }
        }
        for col in from.column_comments.keys() {
            if !to.column_comments.contains_key(col) {
                self.push(format!("COMMENT ON COLUMN {name}.{} IS NULL", ident(col)));
            }
        }
    }

    fn create_policy(&mut self, table: &QualName, p: &Policy) {
        let mut s = format!(
            "CREATE POLICY {} ON {} AS {} FOR {}",
            ident(&p.name),
            qual(table),
            if p.permissive {
                "PERMISSIVE"
            } else {
                "RESTRICTIVE"
            },
            keyword(&p.command)
        );
        if !p.roles.is_empty() {
            s.push_str(&format!(
                " TO {}",
                p.roles
                    .iter()
                    .map(|r| grantee(r))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if let Some(u) = &p.using {
            s.push_str(&format!(" USING ({u})"));
        }
        if let Some(w) = &p.with_check {
            s.push_str(&format!(" WITH CHECK ({w})"));
        }
        self.push(s);
    }

    fn trigger_props(&mut self, from: &Trigger, to: &Trigger) {
        let table = qual(&to.table);
        if from.enabled != to.enabled {
            let how = match to.enabled.as_deref() {
                None | Some("O") => "ENABLE",
                Some("D") => "DISABLE",
                Some("R") => "ENABLE REPLICA",
                Some("A") => "ENABLE ALWAYS",
                Some(_) => "ENABLE",
            };
            self.push(format!(
                "ALTER TABLE {table} {how} TRIGGER {}",
                ident(&to.name)
            ));
        }
        self.comment(
            "TRIGGER",
            &format!("{} ON {table}", ident(&to.name)),
            &from.comment,
            &to.comment,
        );
    }
}

/// Rebuilding a table whose partitioning changes (`--allow-rebuild`): the old table is
/// set aside, a new one created in the target's shape (with its new partitions), the
/// rows copied, the old table dropped, and what the drop took along (indexes, keys,
/// triggers, policies, other tables' foreign keys, sequence ownership) made again.
mod rebuild {
    use super::*;
    use std::collections::BTreeMap;

    /// Whether only a rebuild can turn `f` into `t`.
    pub fn needs(f: &Table, t: &Table) -> bool {
        (f.partition_key != t.partition_key || f.kind != t.kind)
            && f.kind != TableKind::Foreign
            && t.kind != TableKind::Foreign
    }

    /// Whether the rebuild can keep every row: partitions of the old table either go
    /// (their rows are copied with the parent's) or there are none. A partition that
    /// stays would keep its rows and get them copied too.
    pub fn possible(from: &Database, to: &Database, t: &Table) -> bool {
        !from.tables.values().any(|p| {
            p.partition_of
                .as_ref()
                .is_some_and(|po| po.parent == t.name)
                && to.tables.contains_key(&p.name)
        })
    }

    /// The tables the plan rebuilds.
    pub fn tables(from: &Database, to: &Database) -> BTreeSet<QualName> {
        to.tables
            .values()
            .filter(|t| {
                from.tables
                    .get(&t.name)
                    .is_some_and(|f| needs(f, t) && possible(from, to, t))
            })
            .map(|t| t.name.clone())
            .collect()
    }

    fn partition_parent(t: &Table) -> Option<&QualName> {
        t.partition_of.as_ref().map(|p| &p.parent)
    }

    /// Changes the rebuild makes itself: everything about the rebuilt table but the
    /// foreign keys the plan adds (they wait for every table), and its new partitions.
    pub fn absorbed(c: &Change, rebuilds: &BTreeSet<QualName>) -> bool {
        use Change::*;
        let on = |q: &QualName| rebuilds.contains(q);
        match c {
            AddColumn { table, .. }
            | AlterColumn { table, .. }
            | DropColumn { table, .. }
            | ColumnOrder { table, .. }
            | RenameColumn { table, .. }
            | DropConstraint { table, .. }
            | AlterConstraint { table, .. }
            | CreatePolicy { table, .. }
            | DropPolicy { table, .. } => on(table),
            AddConstraint { table, constraint } => {
                on(table) && !matches!(constraint.kind, ConstraintKind::ForeignKey { .. })
            }
            CreateIndex { index } | DropIndex { index } => on(&index.table),
            AlterIndex { to, .. } => on(&to.table),
            CreateTrigger { trigger } | DropTrigger { trigger } => on(&trigger.table),
            AlterTrigger { to, .. } => on(&to.table),
            AlterTable { to, .. } => on(&to.name),
            // New partitions are created with the new table; old ones go with the old.
            CreateTable { table } | DropTable { table } => partition_parent(table).is_some_and(on),
            _ => false,
        }
    }

    /// Where each rebuild runs: before the first change that needs the new table (its
    /// columns, keys, indexes, partitions, a view, a foreign key naming it), and never
    /// before what its columns may need (types, sequences, functions, which come first).
    pub fn positions(
        changes: &[Change],
        rebuilds: &BTreeSet<QualName>,
    ) -> BTreeMap<usize, Vec<QualName>> {
        use Change::*;
        let mut at: BTreeMap<usize, Vec<QualName>> = BTreeMap::new();
        for q in rebuilds {
            let first = changes.iter().position(|c| match c {
                AddColumn { table, .. }
                | AlterColumn { table, .. }
                | ColumnOrder { table, .. }
                | CreatePolicy { table, .. } => table == q,
                AddConstraint { table, constraint } => {
                    table == q
                        || matches!(&constraint.kind,
                            ConstraintKind::ForeignKey { references, .. } if references == q)
                }
                CreateIndex { index } => index.table == *q,
                CreateTrigger { trigger } => trigger.table == *q,
                AlterTrigger { to, .. } => to.table == *q,
                AlterTable { to: t, .. } => t.name == *q || partition_parent(t) == Some(q),
                CreateTable { table } => partition_parent(table) == Some(q),
                CreateView { .. } => true,
                _ => false,
            });
            let last = changes.len().saturating_sub(1);
            at.entry(first.unwrap_or(last)).or_default().push(q.clone());
        }
        at
    }
}

impl Planner<'_> {
    fn rebuild(&mut self, q: &QualName, changes: &[Change]) {
        let (Some(f), Some(t)) = (self.from.tables.get(q), self.to.tables.get(q)) else {
            return;
        };
        let name = qual(q);
        let old = QualName::new(&q.schema, format!("lockstep_old_{}", q.name));
        let renames: Vec<(&String, &String)> = changes
            .iter()
            .filter_map(|c| match c {
                Change::RenameColumn { table, from, to } if table == q => Some((from, to)),
                _ => None,
            })
            .collect();
        let dropped_fk = |table: &QualName, c: &Constraint| {
            changes.iter().any(|x| {
                matches!(x, Change::DropConstraint { table: tt, constraint }
                    if tt == table && constraint.name == c.name)
            })
        };
        let added_fk = |table: &QualName, c: &Constraint| {
            changes.iter().any(|x| {
                matches!(x, Change::AddConstraint { table: tt, constraint }
                    if tt == table && constraint.name == c.name)
            })
        };
        // What the old table's drop would take along or be refused for.
        let owned: Vec<&Sequence> = self
            .from
            .sequences
            .values()
            .filter(|s| s.owned_by.as_ref().is_some_and(|o| o.table == *q))
            .collect();
        for s in &owned {
            if self.to.sequences.contains_key(&s.name) {
                self.push(format!("ALTER SEQUENCE {} OWNED BY NONE", qual(&s.name)));
            }
        }
        let referencing: Vec<(QualName, Constraint)> = self
            .from
            .tables
            .values()
            .filter(|o| o.name != *q && self.to.tables.contains_key(&o.name))
            .flat_map(|o| {
                o.constraints.iter().filter_map(move |c| match &c.kind {
                    ConstraintKind::ForeignKey { references, .. } if references == q => {
                        Some((o.name.clone(), c.clone()))
                    }
                    _ => None,
                })
            })
            .filter(|(o, c)| c.name.is_some() && !dropped_fk(o, c))
            .collect();
        for (o, c) in &referencing {
            self.push(format!(
                "ALTER TABLE {} DROP CONSTRAINT {}",
                qual(o),
                ident(c.name.as_deref().unwrap_or_default())
            ));
        }
        let mut aside =
            Statement::new(format!("ALTER TABLE {name} RENAME TO {}", ident(&old.name)));
        aside.note = Some(format!(
            "rebuild of {} (--allow-rebuild): no ALTER changes its partitioning; its rows are copied into a new table and the old one dropped",
            shown_qual(q)
        ));
        self.out.statements.push(aside);
        // Keys and indexes come after the copy: their names are still the old table's.
        let mut bare = t.clone();
        bare.constraints
            .retain(|c| matches!(c.kind, ConstraintKind::Check { .. }) && !c.not_valid);
        bare.policies.clear();
        self.create_table(&bare);
        for c in changes {
            if let Change::CreateTable { table } = c {
                if partition_parent_is(table, q) {
                    self.create_table(table);
                }
            }
        }
        let source = |target: &str| -> String {
            renames
                .iter()
                .find(|(_, new)| *new == target)
                .map(|(old, _)| (*old).clone())
                .unwrap_or_else(|| target.to_string())
        };
        let copied: Vec<(&Column, String)> = t
            .columns
            .iter()
            .filter(|c| c.generated.is_none())
            .filter_map(|c| {
                let s = source(&c.name);
                f.column(&s)
                    .filter(|o| o.generated.is_none())
                    .map(|_| (c, s))
            })
            .collect();
        if !copied.is_empty() {
            let targets: Vec<String> = copied.iter().map(|(c, _)| ident(&c.name)).collect();
            let sources: Vec<String> = copied
                .iter()
                .map(|(c, s)| {
                    let from_type = f.column(s).map(|o| o.type_.as_str()).unwrap_or_default();
                    if from_type == c.type_ {
                        ident(s)
                    } else {
                        format!("{}::{}", ident(s), c.type_)
                    }
                })
                .collect();
            let overriding = if copied.iter().any(|(c, _)| c.identity.is_some()) {
                " OVERRIDING SYSTEM VALUE"
            } else {
                ""
            };
            self.push(format!(
                "INSERT INTO {name} ({}){overriding} SELECT {} FROM {}",
                targets.join(", "),
                sources.join(", "),
                qual(&old)
            ));
            for (c, _) in copied.iter().filter(|(c, _)| c.identity.is_some()) {
                // The new identity continues after the highest copied value.
                self.push(format!(
                    "SELECT pg_catalog.setval(pg_catalog.pg_get_serial_sequence({}, {}), m) FROM (SELECT max({}) AS m FROM {name}) x WHERE m IS NOT NULL",
                    literal(&name),
                    literal(&c.name),
                    ident(&c.name)
                ));
            }
        }
        self.push_destructive(format!("DROP TABLE {}", qual(&old)));
        for c in &t.constraints {
            let inline = matches!(c.kind, ConstraintKind::Check { .. }) && !c.not_valid;
            let planned = matches!(c.kind, ConstraintKind::ForeignKey { .. }) && added_fk(q, c);
            if !inline && !planned {
                self.add_constraint(q, c);
            }
        }
        let indexes: Vec<Index> = self
            .to
            .indexes
            .values()
            .filter(|i| i.table == *q && !i.constraint)
            .cloned()
            .collect();
        for i in &indexes {
            self.create_index(i);
        }
        let triggers: Vec<Trigger> = self
            .to
            .triggers
            .values()
            .filter(|tr| tr.table == *q)
            .cloned()
            .collect();
        for tr in &triggers {
            self.push(tr.definition.trim_end().trim_end_matches(';').to_string());
            self.trigger_props(
                &Trigger {
                    enabled: None,
                    comment: None,
                    ..tr.clone()
                },
                tr,
            );
        }
        for p in t.policies.values() {
            self.create_policy(q, p);
        }
        let owned_after: Vec<Sequence> = self
            .to
            .sequences
            .values()
            .filter(|s| s.owned_by.as_ref().is_some_and(|o| o.table == *q))
            .cloned()
            .collect();
        for s in &owned_after {
            if let Some(o) = &s.owned_by {
                self.push(format!(
                    "ALTER SEQUENCE {} OWNED BY {name}.{}",
                    qual(&s.name),
                    ident(&o.column)
                ));
            }
        }
        for (o, c) in &referencing {
            let again = self
                .to
                .tables
                .get(o)
                .and_then(|ot| ot.constraints.iter().find(|k| k.name == c.name))
                .cloned();
            if let Some(k) = again {
                if !added_fk(o, &k) {
                    self.add_constraint(o, &k);
                }
            }
        }
    }
}

fn partition_parent_is(t: &Table, q: &QualName) -> bool {
    t.partition_of.as_ref().is_some_and(|p| p.parent == *q)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::diff;

    #[test]
    fn create_script_quotes_identifiers_and_orders_fks_last() {
        let mut to = Database::empty(Dialect::Postgres);
        let mut t = Table::new(QualName::new("public", "Order"));
        t.columns.push(Column::new("id", "integer"));
        t.constraints.push(Constraint::new(
            Some("self_fk".into()),
            ConstraintKind::ForeignKey {
                columns: vec!["id".into()],
                references: QualName::new("public", "Order"),
                ref_columns: vec!["id".into()],
                on_delete: "CASCADE".into(),
                on_update: "NO ACTION".into(),
                match_: "SIMPLE".into(),
            },
        ));
        to.tables.insert(t.name.clone(), t);
        let from = Database::empty(Dialect::Postgres);
        let sql = plan(&diff(&from, &to), &from, &to).to_sql();
        assert!(sql.contains("CREATE TABLE \"public\".\"Order\""), "{sql}");
        let create = sql.find("CREATE TABLE").unwrap();
        let fk = sql.find("FOREIGN KEY").unwrap();
        assert!(fk > create);
        assert!(sql.contains("ON DELETE CASCADE"));
    }

    #[test]
    fn drops_are_marked_destructive() {
        let mut from = Database::empty(Dialect::Postgres);
        let t = Table::new(QualName::new("public", "t"));
        from.tables.insert(t.name.clone(), t);
        let to = Database::empty(Dialect::Postgres);
        let p = plan(&diff(&from, &to), &from, &to);
        assert!(p
            .statements
            .iter()
            .any(|s| s.destructive && s.sql.starts_with("DROP TABLE")));
        assert!(p.to_sql().contains("-- lockstep: destructive"));
    }

    #[test]
    fn an_extension_comment_is_set_only_where_it_differs() {
        let from = Database::empty(Dialect::Postgres);
        let mut to = Database::empty(Dialect::Postgres);
        let e = Extension {
            name: "plpgsql".into(),
            schema: "pg_catalog".into(),
            version: "1.0".into(),
            comment: Some("it's $lockstep0$ here".into()),
        };
        to.extensions.insert(e.name.clone(), e);
        let sql = plan(&diff(&from, &to), &from, &to).to_sql();
        assert!(!sql.contains("\nCOMMENT ON EXTENSION"), "{sql}");
        assert!(
            sql.contains("DO $lockstep1$ BEGIN IF (SELECT pg_catalog.obj_description(x.oid, 'pg_extension') FROM pg_catalog.pg_extension x WHERE x.extname = 'plpgsql') IS DISTINCT FROM 'it''s $lockstep0$ here' THEN COMMENT ON EXTENSION \"plpgsql\" IS 'it''s $lockstep0$ here'; END IF; END $lockstep1$"),
            "{sql}"
        );
    }
}
