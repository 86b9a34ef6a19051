//! SQL plans: each dialect turns an ordered list of [`Change`]s into statements.
//! One file per dialect, with the same shape: `pub fn plan(changes, from, to) -> Plan`.
//!
//! What the model holds as a name or as plain text never reaches a plan raw: names go
//! through [`ident`] (or [`sql_name`] for a name the server printed as SQL, such as a
//! collation), text through [`literal`]/[`pg_literal`] or [`dollar_quote`], keywords
//! through [`keyword`], and anything written into a comment through [`comment`]
//! (names in it through [`shown`]). What the model holds as SQL (types, defaults,
//! expressions, view and function definitions, as the server prints them) is SQL by
//! design and passes through; SQLite's, kept as typed, loses its comments first.

#[cfg(test)]
mod hostile;

use crate::diff::Change;
use crate::model::{Database, QualName};
use serde::Serialize;
use std::collections::BTreeSet;

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
    /// What people should know about the plan as a whole: a drop and an add that may be
    /// a rename, a rebuild that `--allow-rebuild` would plan.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// Choices the caller makes for a plan.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// Rebuild a table (new table, copy, swap, drop) where no ALTER can make a change.
    /// SQLite always does (its documented procedure); elsewhere only when asked.
    pub allow_rebuild: bool,
}

impl Plan {
    /// The plan as one script, destructive statements marked with a comment above them.
    pub fn to_sql(&self) -> String {
        let mut out = String::new();
        for u in &self.unsupported {
            out.push_str(&comment(&format!("lockstep: cannot express: {u}")));
            out.push('\n');
        }
        for n in &self.notes {
            out.push_str(&comment(&format!("lockstep: {n}")));
            out.push('\n');
        }
        for s in &self.statements {
            if s.destructive {
                out.push_str(&comment("lockstep: destructive"));
                out.push('\n');
            }
            if let Some(n) = &s.note {
                out.push_str(&comment(&format!("lockstep: {n}")));
                out.push('\n');
            }
            if s.delimiter {
                out.push_str(&format!(
                    "DELIMITER ;;\n{};;\nDELIMITER ;\n",
                    s.sql.trim_end()
                ));
                continue;
            }
            let sql = s.sql.trim_end();
            out.push_str(sql);
            // Text the server kept verbatim (SQLite's CREATE VIEW and CREATE TRIGGER) may
            // end in a line comment, which would swallow a terminator on its line, or
            // hold a `;` that only looks like one.
            if sql.lines().last().is_some_and(|l| l.contains("--")) {
                out.push_str("\n;");
            } else if !sql.ends_with(';') {
                out.push(';');
            }
            out.push('\n');
        }
        out
    }
}

/// Plans for the dialect of `to`.
pub fn plan(changes: &[Change], from: &Database, to: &Database) -> Plan {
    plan_with(changes, from, to, Options::default())
}

/// [`plan`] with the caller's choices. Every dialect's plan points out the drops and adds
/// that may be renames (it never plans one that was not declared).
pub fn plan_with(changes: &[Change], from: &Database, to: &Database, opts: Options) -> Plan {
    let mut p = crate::dialect::plan(changes, from, to, opts);
    p.notes.extend(
        crate::diff::possible_renames(changes)
            .iter()
            .map(|r| r.hint()),
    );
    p
}

fn names<'a>(
    changes: &'a [Change],
    name: impl Fn(&'a Change) -> Option<&'a QualName>,
) -> BTreeSet<&'a QualName> {
    changes.iter().filter_map(name).collect()
}

/// The tables `changes` create.
pub(crate) fn tables_created(changes: &[Change]) -> BTreeSet<&QualName> {
    names(changes, |c| match c {
        Change::CreateTable { table } => Some(&table.name),
        _ => None,
    })
}

/// The tables `changes` drop.
pub(crate) fn tables_dropped(changes: &[Change]) -> BTreeSet<&QualName> {
    names(changes, |c| match c {
        Change::DropTable { table } => Some(&table.name),
        _ => None,
    })
}

/// The indexes `changes` create.
pub(crate) fn indexes_created(changes: &[Change]) -> BTreeSet<&QualName> {
    names(changes, |c| match c {
        Change::CreateIndex { index } => Some(&index.name),
        _ => None,
    })
}

/// Quotes an identifier with double quotes, always (the security rule: identifiers are
/// always quoted). PostgreSQL and SQLite share this form.
pub fn ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// Quotes a string literal the standard way (`'it''s'`): SQLite, whose strings have no
/// escapes. PostgreSQL plans use [`pg_literal`].
pub fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Quotes a string literal for PostgreSQL. A string holding a backslash is written as
/// `E'…'` with the backslash doubled, so it means the same whether the server has
/// `standard_conforming_strings` on or off: with it off, a plain `'a\'` would end
/// somewhere else than the planner meant.
pub fn pg_literal(s: &str) -> String {
    if s.contains('\\') {
        format!("E'{}'", s.replace('\\', "\\\\").replace('\'', "''"))
    } else {
        literal(s)
    }
}

/// `$tag$body$tag$` with a tag that does not occur in `body`, so nothing in the body
/// (a role name, say) can end the quoting early.
pub fn dollar_quote(body: &str) -> String {
    let mut n = 0;
    loop {
        let tag = if n == 0 {
            "$lockstep$".to_string()
        } else {
            format!("$lockstep{n}$")
        };
        let closed = format!("{body}{tag}");
        if closed.find(&tag) == Some(body.len()) {
            return format!("{tag}{closed}");
        }
        n += 1;
    }
}

/// `"schema"."name"`.
pub fn qual(q: &crate::model::QualName) -> String {
    format!("{}.{}", ident(&q.schema), ident(&q.name))
}

/// A keyword the model holds as text (a privilege, a referential action, a policy's
/// command): words of ASCII letters pass, uppercased; anything else is quoted as an
/// identifier, which the server rejects instead of running it.
pub fn keyword(s: &str) -> String {
    let words = s
        .split(' ')
        .all(|w| !w.is_empty() && w.bytes().all(|c| c.is_ascii_alphabetic() || c == b'_'));
    if words {
        s.to_ascii_uppercase()
    } else {
        ident(s)
    }
}

/// A possibly qualified name the server printed as SQL (`pg_catalog."C"`, `"de_DE"`,
/// `public.my_canonical`), as in a collation, an operator class or a function
/// reference: each part re-quoted with [`ident`]. Text that is not such a name is quoted
/// whole, so it can only ever be one (unknown) name.
pub fn sql_name(s: &str) -> String {
    use crate::sql::lex::{code, Lexer, TokenKind};
    // Anything the lexer leaves open, or any comment, makes it not a plain name.
    if Lexer::new(s, crate::sql::lex::Dialect::Postgres).any(|t| {
        t.problem().is_some() || matches!(t.kind, TokenKind::LineComment | TokenKind::BlockComment)
    }) {
        return ident(s);
    }
    let toks = code(s);
    let mut parts = vec![];
    for (i, t) in toks.iter().enumerate() {
        let name_here = i % 2 == 0;
        match (name_here, t.kind) {
            (true, TokenKind::Quoted) => parts.push(crate::sql::lex::unquote(t.text)),
            // An unquoted name is folded to lower case, as the server reads it.
            (true, TokenKind::Word)
                if t.text
                    .starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') =>
            {
                parts.push(t.text.to_ascii_lowercase())
            }
            (false, TokenKind::Punct) if t.text == "." => {}
            _ => return ident(s),
        }
    }
    if parts.is_empty() || toks.len().is_multiple_of(2) {
        return ident(s);
    }
    parts.iter().map(|p| ident(p)).collect::<Vec<_>>().join(".")
}

/// A name as a message shows it: quoted like an identifier, with control characters
/// escaped, so a name holding a newline stays on one line wherever it is printed.
pub fn shown(name: &str) -> String {
    escape_controls(&ident(name))
}

/// `"schema"."name"` as a message shows it.
pub fn shown_qual(q: &crate::model::QualName) -> String {
    escape_controls(&qual(q))
}

/// A SQL line comment holding `text`: `-- text`, without the line break. Every piece of
/// text that goes into a comment of a plan goes through here. Line breaks (which would
/// end the comment and let the rest run as SQL), other control characters and Unicode
/// line separators are escaped; `/*` and `*/` are broken up so that nothing can open or
/// close a block comment around the comment either. Names in the text are best written
/// with [`shown`], which leaves nothing here to escape.
pub fn comment(text: &str) -> String {
    let mut safe = String::with_capacity(text.len());
    for c in text.chars() {
        push_escaped(&mut safe, c);
    }
    let safe = safe.replace("*/", "* /").replace("/*", "/ *");
    format!("-- {safe}")
}

/// `\n`, `\r`, `\t`, `\u{…}` for every control character and line separator, and `\\`
/// for a backslash, so the escaped form is unambiguous.
fn escape_controls(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c == '\\' {
            out.push_str("\\\\");
        } else {
            push_escaped(&mut out, c);
        }
    }
    out
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') => {
            out.push_str(&format!("\\u{{{:x}}}", c as u32))
        }
        c => out.push(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_stay_one_comment() {
        let c =
            comment("cannot express: column \"p\nDROP TABLE victim;\n--\" */ x /* y\r\u{2028}z");
        assert_eq!(
            c,
            "-- cannot express: column \"p\\nDROP TABLE victim;\\n--\" * / x / * y\\r\\u{2028}z"
        );
        assert!(!c.contains('\n') && !c.contains('\r'));
        assert_eq!(shown("p\nq\\"), "\"p\\nq\\\\\"");
        // A name already shown is left as it is.
        let name = shown("p\nDROP TABLE victim;\n--");
        assert_eq!(comment(&name), format!("-- {name}"));
    }

    #[test]
    fn literals_mean_the_same_with_either_string_setting() {
        assert_eq!(pg_literal("it's"), "'it''s'");
        assert_eq!(pg_literal("a\\'; DROP"), "E'a\\\\''; DROP'");
        assert_eq!(literal("a\\'b"), "'a\\''b'");
    }

    #[test]
    fn dollar_quotes_pick_a_tag_the_body_lacks() {
        assert_eq!(dollar_quote("x"), "$lockstep$x$lockstep$");
        assert_eq!(
            dollar_quote("a $lockstep$; DROP"),
            "$lockstep1$a $lockstep$; DROP$lockstep1$"
        );
        assert_eq!(
            dollar_quote("ends $lockstep"),
            "$lockstep1$ends $lockstep$lockstep1$"
        );
    }

    #[test]
    fn names_the_server_printed_are_requoted() {
        assert_eq!(sql_name("\"C\""), "\"C\"");
        assert_eq!(
            sql_name("pg_catalog.\"default\""),
            "\"pg_catalog\".\"default\""
        );
        assert_eq!(sql_name("public.My_Canon"), "\"public\".\"my_canon\"");
        assert_eq!(sql_name("\"a\"\"b\".c"), "\"a\"\"b\".\"c\"");
        assert_eq!(
            sql_name("\"C\"; DROP TABLE victim; --"),
            ident("\"C\"; DROP TABLE victim; --")
        );
        assert_eq!(sql_name("x y"), ident("x y"));
        assert_eq!(keyword("set null"), "SET NULL");
        assert_eq!(keyword("SELECT; DROP"), "\"SELECT; DROP\"");
    }
}
