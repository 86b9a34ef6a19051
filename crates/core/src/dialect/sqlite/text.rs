//! Reading SQLite's stored CREATE text: a tokenizer that knows strings, quoted
//! identifiers, comments and parentheses, and small parsers for CREATE TABLE, CREATE
//! INDEX and CREATE VIEW. They never fail loudly: what they cannot read, they leave out,
//! and the caller falls back to what the pragmas report.

pub use crate::sql::lex::{group_end, split_commas, Spanned as Tok, TokenKind as Kind};
use std::collections::BTreeSet;

/// The code tokens of `s`, read by the one lexer with SQLite's rules: `"x"`, `` `x` ``
/// and `[x]` are quoted names, `x'00'` blobs are strings.
pub fn tokenize(s: &str) -> Vec<Tok<'_>> {
    crate::sql::lex::spanned(s, crate::sql::lex::Dialect::Sqlite)
}

/// The tokens' text with comments dropped and whitespace collapsed: one space where
/// the source had any, none just inside parentheses or before a comma.
pub fn squash(toks: &[Tok]) -> String {
    let mut out = String::new();
    let mut prev: Option<&Tok> = None;
    for t in toks {
        if let Some(p) = prev {
            if t.start > p.end && !p.is_punct("(") && !t.is_punct(")") && !t.is_punct(",") {
                out.push(' ');
            }
        }
        out.push_str(t.text);
        prev = Some(t);
    }
    out
}

pub fn squash_str(s: &str) -> String {
    squash(&tokenize(s))
}

/// Whether `sql` names `name` as a token (case-insensitively, quoted or not).
pub fn mentions(sql: &str, name: &str) -> bool {
    tokenize(sql)
        .iter()
        .any(|t| matches!(t.kind, Kind::Word | Kind::Quoted) && t.name().eq_ignore_ascii_case(name))
}

/// Every name in `sql`, lowercased.
pub fn names(sql: &str) -> BTreeSet<String> {
    tokenize(sql)
        .iter()
        .filter(|t| t.is_name())
        .map(|t| t.name().to_lowercase())
        .collect()
}

/// A literal value: a string, blob, signed number, NULL, TRUE, FALSE or CURRENT_*.
pub fn is_literal(s: &str) -> bool {
    let toks = tokenize(s);
    let rest = match toks.first() {
        Some(t) if t.is_punct("+") || t.is_punct("-") => &toks[1..],
        _ => &toks[..],
    };
    match rest {
        [t] if rest.len() < toks.len() => t.kind == Kind::Num,
        [t] => {
            matches!(t.kind, Kind::Num | Kind::Str)
                || ["NULL", "TRUE", "FALSE"].iter().any(|k| t.is(k))
                || is_time_keyword(t.text)
        }
        _ => false,
    }
}

pub fn is_time_keyword(s: &str) -> bool {
    ["CURRENT_TIME", "CURRENT_DATE", "CURRENT_TIMESTAMP"]
        .iter()
        .any(|k| s.trim().eq_ignore_ascii_case(k))
}

/// Whether the whole text is one parenthesized group.
pub fn is_parenthesized(s: &str) -> bool {
    let toks = tokenize(s);
    !toks.is_empty() && toks[0].is_punct("(") && group_end(&toks, 0) == Some(toks.len() - 1)
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct TableSql {
    pub columns: Vec<ColumnSql>,
    pub constraints: Vec<ConstraintSql>,
    pub without_rowid: bool,
    pub strict: bool,
    /// For a virtual table: the module and its arguments, `fts4(a, b)`.
    pub virtual_using: Option<String>,
}

impl TableSql {
    pub fn column(&self, name: &str) -> Option<&ColumnSql> {
        self.columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ColumnSql {
    pub name: String,
    /// Uppercased: collation names are case-insensitive.
    pub collation: Option<String>,
    /// Expression and whether STORED.
    pub generated: Option<(String, bool)>,
    pub autoincrement: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ConstraintSql {
    pub name: Option<String>,
    pub kind: ConstraintSqlKind,
    /// `ON CONFLICT REPLACE` and the like.
    pub conflict: Option<String>,
    pub deferrable: bool,
    pub initially_deferred: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ConstraintSqlKind {
    PrimaryKey(Vec<String>),
    Unique(Vec<String>),
    Check(String),
    ForeignKey { columns: Vec<String>, table: String },
}

/// Skips `CREATE [TEMP] [VIRTUAL] <kind> [IF NOT EXISTS] [schema.]name`, returning the
/// index after the name and whether VIRTUAL was seen.
fn skip_head(toks: &[Tok], kind: &str) -> Option<(usize, bool)> {
    let mut i = 0;
    if !toks.first()?.is("CREATE") {
        return None;
    }
    i += 1;
    let mut virtual_ = false;
    while i < toks.len() && !toks[i].is(kind) {
        if toks[i].is("VIRTUAL") {
            virtual_ = true;
        }
        i += 1;
        // Only modifiers (TEMP, UNIQUE, VIRTUAL) may sit between CREATE and the kind.
        if i > 3 {
            return None;
        }
    }
    i += 1;
    if toks.get(i).is_some_and(|t| t.is("IF")) {
        i += 3;
    }
    toks.get(i)?;
    if toks.get(i + 1).is_some_and(|t| t.is_punct(".")) {
        i += 2;
    }
    Some((i + 1, virtual_))
}

pub fn parse_create_table(sql: &str) -> Option<TableSql> {
    let toks = tokenize(sql);
    let (mut i, virtual_) = skip_head(&toks, "TABLE")?;
    let mut out = TableSql::default();
    if virtual_ {
        let using = toks.iter().position(|t| t.is("USING"))?;
        out.virtual_using = Some(squash(&toks[using + 1..]));
        return Some(out);
    }
    if !toks.get(i)?.is_punct("(") {
        return None;
    }
    let end = group_end(&toks, i)?;
    for def in split_commas(&toks[i + 1..end]) {
        let Some(first) = def.first() else { continue };
        if ["CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"]
            .iter()
            .any(|k| first.is(k))
        {
            table_constraint(def, &mut out);
        } else {
            column_def(def, &mut out);
        }
    }
    i = end + 1;
    while i < toks.len() {
        if toks[i].is("WITHOUT") && toks.get(i + 1).is_some_and(|t| t.is("ROWID")) {
            out.without_rowid = true;
        } else if toks[i].is("STRICT") {
            out.strict = true;
        }
        i += 1;
    }
    Some(out)
}

fn conflict_clause(def: &[Tok], i: &mut usize) -> Option<String> {
    if def.get(*i).is_some_and(|t| t.is("ON")) && def.get(*i + 1).is_some_and(|t| t.is("CONFLICT"))
    {
        let action = def.get(*i + 2)?.text.to_ascii_uppercase();
        *i += 3;
        return Some(format!("ON CONFLICT {action}"));
    }
    None
}

/// After REFERENCES: returns the referenced table, deferrable, initially deferred,
/// and the index after the clause.
fn references(def: &[Tok], mut i: usize) -> (String, bool, bool, usize) {
    let table = def.get(i).map(|t| t.name()).unwrap_or_default();
    i += 1;
    if def.get(i).is_some_and(|t| t.is_punct("(")) {
        i = group_end(def, i).map_or(def.len(), |e| e + 1);
    }
    let (mut deferrable, mut deferred) = (false, false);
    while let Some(t) = def.get(i) {
        if t.is("ON") {
            // ON DELETE|UPDATE <action>; SET NULL, SET DEFAULT, NO ACTION are two words.
            i += 2;
            let two = def.get(i).is_some_and(|a| a.is("SET") || a.is("NO"));
            i += if two { 2 } else { 1 };
        } else if t.is("MATCH") {
            i += 2;
        } else if t.is("NOT") && def.get(i + 1).is_some_and(|n| n.is("DEFERRABLE")) {
            deferrable = false;
            i += 2;
        } else if t.is("DEFERRABLE") {
            deferrable = true;
            i += 1;
            if def.get(i).is_some_and(|n| n.is("INITIALLY")) {
                deferred = def.get(i + 1).is_some_and(|n| n.is("DEFERRED"));
                i += 2;
            }
        } else {
            break;
        }
    }
    (table, deferrable, deferred, i)
}

/// Names in a parenthesized column list, starting at the `(` at `open`.
fn name_list(toks: &[Tok], open: usize) -> Option<(Vec<String>, usize)> {
    if !toks.get(open)?.is_punct("(") {
        return None;
    }
    let end = group_end(toks, open)?;
    let names = split_commas(&toks[open + 1..end])
        .into_iter()
        .filter_map(|item| item.first().map(|t| t.name()))
        .collect();
    Some((names, end + 1))
}

fn table_constraint(def: &[Tok], out: &mut TableSql) -> Option<()> {
    let mut i = 0;
    let mut name = None;
    if def[0].is("CONSTRAINT") {
        name = Some(def.get(1)?.name());
        i = 2;
    }
    let head = def.get(i)?;
    let mut c = ConstraintSql {
        name,
        kind: ConstraintSqlKind::Check(String::new()),
        conflict: None,
        deferrable: false,
        initially_deferred: false,
    };
    if head.is("PRIMARY") || head.is("UNIQUE") {
        let open = if head.is("PRIMARY") { i + 2 } else { i + 1 };
        let (cols, mut j) = name_list(def, open)?;
        c.conflict = conflict_clause(def, &mut j);
        c.kind = if head.is("PRIMARY") {
            ConstraintSqlKind::PrimaryKey(cols)
        } else {
            ConstraintSqlKind::Unique(cols)
        };
    } else if head.is("CHECK") {
        let open = i + 1;
        let end = group_end(def, open)?;
        c.kind = ConstraintSqlKind::Check(squash(&def[open + 1..end]));
    } else if head.is("FOREIGN") {
        let (cols, j) = name_list(def, i + 2)?;
        if !def.get(j)?.is("REFERENCES") {
            return None;
        }
        let (table, deferrable, deferred, _) = references(def, j + 1);
        c.kind = ConstraintSqlKind::ForeignKey {
            columns: cols,
            table,
        };
        c.deferrable = deferrable;
        c.initially_deferred = deferred;
    } else {
        return None;
    }
    out.constraints.push(c);
    Some(())
}

fn column_def(def: &[Tok], out: &mut TableSql) {
    let Some(first) = def.first() else { return };
    let mut col = ColumnSql {
        name: first.name(),
        ..Default::default()
    };
    let mut cname: Option<String> = None;
    let mut push = |cname: &mut Option<String>, kind, conflict, d: bool, id: bool| {
        out.constraints.push(ConstraintSql {
            name: cname.take(),
            kind,
            conflict,
            deferrable: d,
            initially_deferred: id,
        });
    };
    let mut i = 1;
    while i < def.len() {
        let t = &def[i];
        if t.is("CONSTRAINT") {
            cname = def.get(i + 1).map(|n| n.name());
            i += 2;
        } else if t.is("PRIMARY") {
            i += 1;
            if def.get(i).is_some_and(|k| k.is("KEY")) {
                i += 1;
            }
            if def.get(i).is_some_and(|k| k.is("ASC") || k.is("DESC")) {
                i += 1;
            }
            let conflict = conflict_clause(def, &mut i);
            if def.get(i).is_some_and(|k| k.is("AUTOINCREMENT")) {
                col.autoincrement = true;
                i += 1;
            }
            let kind = ConstraintSqlKind::PrimaryKey(vec![col.name.clone()]);
            push(&mut cname, kind, conflict, false, false);
        } else if t.is("UNIQUE") {
            i += 1;
            let conflict = conflict_clause(def, &mut i);
            let kind = ConstraintSqlKind::Unique(vec![col.name.clone()]);
            push(&mut cname, kind, conflict, false, false);
        } else if t.is("NOT") && def.get(i + 1).is_some_and(|n| n.is("NULL")) {
            i += 2;
            conflict_clause(def, &mut i);
            cname = None;
        } else if t.is("NULL") {
            i += 1;
            conflict_clause(def, &mut i);
            cname = None;
        } else if t.is("CHECK") && def.get(i + 1).is_some_and(|p| p.is_punct("(")) {
            let Some(end) = group_end(def, i + 1) else {
                return;
            };
            let kind = ConstraintSqlKind::Check(squash(&def[i + 2..end]));
            push(&mut cname, kind, None, false, false);
            i = end + 1;
        } else if t.is("DEFAULT") {
            i += 1;
            if def.get(i).is_some_and(|p| p.is_punct("(")) {
                i = group_end(def, i).map_or(def.len(), |e| e + 1);
            } else {
                if def
                    .get(i)
                    .is_some_and(|p| p.is_punct("-") || p.is_punct("+"))
                {
                    i += 1;
                }
                i += 1;
            }
            cname = None;
        } else if t.is("COLLATE") {
            col.collation = def.get(i + 1).map(|n| n.name().to_ascii_uppercase());
            i += 2;
            cname = None;
        } else if t.is("REFERENCES") {
            let (table, d, id, next) = references(def, i + 1);
            let kind = ConstraintSqlKind::ForeignKey {
                columns: vec![col.name.clone()],
                table,
            };
            push(&mut cname, kind, None, d, id);
            i = next;
        } else if t.is("AS") && def.get(i + 1).is_some_and(|p| p.is_punct("(")) {
            let Some(end) = group_end(def, i + 1) else {
                return;
            };
            let expr = squash(&def[i + 2..end]);
            i = end + 1;
            let stored = def.get(i).is_some_and(|s| s.is("STORED"));
            if def
                .get(i)
                .is_some_and(|s| s.is("STORED") || s.is("VIRTUAL"))
            {
                i += 1;
            }
            col.generated = Some((expr, stored));
            cname = None;
        } else if t.is_punct("(") {
            // A type's size, `VARCHAR(20)`.
            i = group_end(def, i).map_or(def.len(), |e| e + 1);
        } else {
            // Type words, GENERATED ALWAYS, anything unknown.
            i += 1;
        }
    }
    out.columns.push(col);
}

#[derive(Debug, Clone, PartialEq)]
pub struct IndexSql {
    /// `(a, "b" DESC, lower(c)) WHERE ...`, identifiers quoted.
    pub definition: String,
    /// Per key item: the column name, or the expression text.
    pub items: Vec<String>,
    pub predicate: Option<String>,
}

pub fn parse_create_index(sql: &str) -> Option<IndexSql> {
    let toks = tokenize(sql);
    let (i, _) = skip_head(&toks, "INDEX")?;
    if !toks.get(i)?.is("ON") {
        return None;
    }
    let mut open = i + 2;
    if toks.get(open).is_some_and(|t| t.is_punct(".")) {
        open += 2;
    }
    if !toks.get(open)?.is_punct("(") {
        return None;
    }
    let end = group_end(&toks, open)?;
    let mut rendered = vec![];
    let mut items = vec![];
    for item in split_commas(&toks[open + 1..end]) {
        let (r, name) = index_item(item)?;
        rendered.push(r);
        items.push(name);
    }
    let predicate = match toks.get(end + 1) {
        Some(t) if t.is("WHERE") => Some(squash(&toks[end + 2..])),
        _ => None,
    };
    let mut definition = format!("({})", rendered.join(", "));
    if let Some(p) = &predicate {
        definition.push_str(" WHERE ");
        definition.push_str(p);
    }
    Some(IndexSql {
        definition,
        items,
        predicate,
    })
}

/// One indexed column: a plain column is written quoted with its COLLATE and DESC so
/// that `a`, `"a"` and `[a]` compare equal; an expression is kept as written.
fn index_item(item: &[Tok]) -> Option<(String, String)> {
    let first = item.first()?;
    let mut i = 1;
    let mut collate = None;
    let mut desc = false;
    let simple = matches!(first.kind, Kind::Word | Kind::Quoted) && {
        loop {
            match item.get(i) {
                None => break true,
                Some(t) if t.is("COLLATE") && item.get(i + 1).is_some() => {
                    collate = item.get(i + 1).map(|n| n.name().to_ascii_uppercase());
                    i += 2;
                }
                Some(t) if t.is("ASC") => i += 1,
                Some(t) if t.is("DESC") => {
                    desc = true;
                    i += 1;
                }
                Some(_) => break false,
            }
        }
    };
    if simple {
        let name = first.name();
        let mut r = crate::plan::ident(&name);
        if let Some(c) = collate {
            r.push_str(&format!(" COLLATE {}", crate::plan::ident(&c)));
        }
        if desc {
            r.push_str(" DESC");
        }
        return Some((r, name));
    }
    let text = squash(item);
    // The expression without its trailing ASC/DESC, for display.
    let mut key_end = item.len();
    if item.last().is_some_and(|t| t.is("ASC") || t.is("DESC")) {
        key_end -= 1;
    }
    Some((text, squash(&item[..key_end])))
}

/// The query of a stored CREATE VIEW: everything after its `AS`.
pub fn parse_create_view(sql: &str) -> Option<String> {
    let toks = tokenize(sql);
    let (mut i, _) = skip_head(&toks, "VIEW")?;
    if toks.get(i)?.is_punct("(") {
        i = group_end(&toks, i)? + 1;
    }
    if !toks.get(i)?.is("AS") {
        return None;
    }
    Some(squash(&toks[i + 1..]))
}
