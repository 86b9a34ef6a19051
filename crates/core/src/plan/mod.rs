//! SQL plans: each dialect turns an ordered list of [`Change`]s into statements.
//! One file per dialect, with the same shape: `pub fn plan(changes, from, to) -> Plan`.

pub mod mysql;
pub mod postgres;
pub mod sqlite;

use crate::diff::Change;
use crate::model::{Database, Dialect};
use serde::Serialize;

/// One statement of a plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Statement {
    pub sql: String,
    /// Can lose data or break running code (drops, narrowing type changes).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub destructive: bool,
    /// Must run outside a transaction block.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub no_transaction: bool,
    /// A MySQL compound statement (a body with `;` inside): a script for the `mysql`
    /// client needs it between `DELIMITER` lines.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub delimiter: bool,
    /// What people should know before running it (MySQL: that it copies the table).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Statement {
    pub fn new(sql: impl Into<String>) -> Self {
        Statement {
            sql: sql.into(),
            destructive: false,
            no_transaction: false,
            delimiter: false,
            note: None,
        }
    }

    pub fn destructive(mut self, d: bool) -> Self {
        self.destructive = d;
        self
    }
}

/// A plan: statements to run in order, plus what the dialect could not express.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Plan {
    pub statements: Vec<Statement>,
    /// Changes the engine offers no way to make (e.g. reordering PostgreSQL columns).
    pub unsupported: Vec<String>,
}

impl Plan {
    /// The plan as one script, destructive statements marked with a comment above them.
    pub fn to_sql(&self) -> String {
        let mut out = String::new();
        for u in &self.unsupported {
            out.push_str(&format!("-- lockstep: cannot express: {u}\n"));
        }
        for s in &self.statements {
            if s.destructive {
                out.push_str("-- lockstep: destructive\n");
            }
            if let Some(n) = &s.note {
                out.push_str(&format!("-- lockstep: {n}\n"));
            }
            if s.delimiter {
                out.push_str(&format!(
                    "DELIMITER ;;\n{};;\nDELIMITER ;\n",
                    s.sql.trim_end()
                ));
                continue;
            }
            out.push_str(&s.sql);
            if !s.sql.trim_end().ends_with(';') {
                out.push(';');
            }
            out.push('\n');
        }
        out
    }
}

/// Plans for the dialect of `to`.
pub fn plan(changes: &[Change], from: &Database, to: &Database) -> Plan {
    match to.dialect {
        Dialect::Postgres => postgres::plan(changes, from, to),
        Dialect::Sqlite => sqlite::plan(changes, from, to),
        Dialect::Mysql => mysql::plan(changes, from, to),
    }
}

/// Quotes an identifier with double quotes, always (the security rule: identifiers are
/// always quoted). PostgreSQL and SQLite share this form.
pub fn ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// Quotes a string literal.
pub fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// `"schema"."name"`.
pub fn qual(q: &crate::model::QualName) -> String {
    format!("{}.{}", ident(&q.schema), ident(&q.name))
}
