//! Reading MySQL's DDL text.
//!
//! The tokens come from the one lexer in its MySQL mode (backquoted names, backslash
//! escapes in strings, `#` comments, `--` comments that need a space after them, and
//! executable comments, `/*!50100 ... */` and MariaDB's `/*M!100100 ... */`, whose
//! content is code that the server runs). On them, a reader for `CREATE TABLE` as
//! `SHOW CREATE TABLE` prints it (and as lockstep's planner writes it), which yields the
//! same model the inspector builds from `information_schema`. It never fails loudly:
//! what it cannot place, it keeps as text in `unknown`, so that a comparison sees it.

use super::types;
use crate::model::*;
pub use crate::sql::lex::{group_end, mysql_quote as quote_str, Spanned as Tok, TokenKind as Kind};
use crate::sql::lex::{mysql_string, spanned, split_commas, Dialect};

/// The value of a string literal: quotes removed, `''` and backslash escapes resolved.
/// Anything else (a prefixed literal) as written.
pub fn unquote_str(s: &str) -> String {
    mysql_string(s).unwrap_or_else(|| s.to_string())
}

/// The code tokens of `s`, read by the one lexer with MySQL's rules.
pub fn tokenize(s: &str) -> Vec<Tok<'_>> {
    spanned(s, Dialect::Mysql)
}

/// The tokens as text: one space where the source had any gap (whitespace or a
/// comment), none elsewhere, and string literals in one quoting. The servers print
/// expressions in their own canonical spacing, so this keeps it readable and stable.
pub fn join(toks: &[Tok]) -> String {
    let mut out = String::new();
    let mut prev_end: Option<usize> = None;
    for t in toks {
        if prev_end.is_some_and(|e| t.start > e) {
            out.push(' ');
        }
        let value = (t.kind == Kind::Str)
            .then(|| mysql_string(t.text))
            .flatten();
        match value {
            Some(v) => out.push_str(&quote_str(&v)),
            None => out.push_str(t.text),
        }
        prev_end = Some(t.end);
    }
    out
}

/// A `CREATE TABLE` statement read into the model.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedTable {
    pub table: Table,
    pub indexes: Vec<Index>,
    /// Parts the reader could not place, as text.
    pub unknown: Vec<String>,
}

/// Reads `CREATE TABLE name (...) options [partitioning]` into the model, normalized as
/// inspection normalizes, with `schema` as the table's schema. None when the text is not
/// a CREATE TABLE at all.
pub fn parse_create_table(sql: &str, schema: &str) -> Option<ParsedTable> {
    let toks = tokenize(sql);
    let mut i = 0;
    if !toks.first()?.is("CREATE") {
        return None;
    }
    i += 1;
    while i < toks.len() && (toks[i].is("TEMPORARY") || toks[i].is("OR") || toks[i].is("REPLACE")) {
        i += 1;
    }
    if !toks.get(i)?.is("TABLE") {
        return None;
    }
    i += 1;
    if toks.get(i).is_some_and(|t| t.is("IF")) {
        i += 3;
    }
    let mut name = toks.get(i)?.name();
    i += 1;
    if toks.get(i).is_some_and(|t| t.is_punct(".")) {
        name = toks.get(i + 1)?.name();
        i += 2;
    }
    if !toks.get(i)?.is_punct("(") {
        return None;
    }
    let close = group_end(&toks, i)?;
    let mut p = ParsedTable {
        table: Table::new(QualName::new(schema, &name)),
        indexes: vec![],
        unknown: vec![],
    };
    let mut raw_indexes: Vec<types::RawIndex> = vec![];
    for item in split_commas(&toks[i + 1..close]) {
        element(item, &mut p, &mut raw_indexes);
    }
    options(&toks[close + 1..], &mut p);
    types::finish_table(&mut p.table, &mut raw_indexes);
    p.indexes = raw_indexes
        .into_iter()
        .map(|r| types::index_of(&p.table, r))
        .collect();
    Some(p)
}

fn element(item: &[Tok], p: &mut ParsedTable, idx: &mut Vec<types::RawIndex>) {
    let Some(first) = item.first() else { return };
    let mut i = 0;
    let mut cname: Option<String> = None;
    if first.is("CONSTRAINT") {
        i = 1;
        if item
            .get(1)
            .is_some_and(|t| matches!(t.kind, Kind::Quoted | Kind::Word))
            && !item.get(1).is_some_and(|t| {
                t.is("PRIMARY") || t.is("UNIQUE") || t.is("FOREIGN") || t.is("CHECK")
            })
        {
            cname = Some(item[1].name());
            i = 2;
        }
    }
    let Some(head) = item.get(i) else {
        p.unknown.push(join(item));
        return;
    };
    if head.kind == Kind::Quoted || (i == 0 && head.kind == Kind::Word && !is_key_word(head)) {
        column(item, p);
        return;
    }
    let ok = if head.is("PRIMARY")
        || head.is("UNIQUE")
        || head.is("KEY")
        || head.is("INDEX")
        || head.is("FULLTEXT")
        || head.is("SPATIAL")
    {
        key(&item[i..], cname, idx)
    } else if head.is("FOREIGN") {
        foreign_key(&item[i..], cname, p)
    } else if head.is("CHECK") {
        check(&item[i..], cname, p)
    } else {
        None
    };
    if ok.is_none() {
        p.unknown.push(join(item));
    }
}

fn is_key_word(t: &Tok) -> bool {
    [
        "CONSTRAINT",
        "PRIMARY",
        "UNIQUE",
        "KEY",
        "INDEX",
        "FULLTEXT",
        "SPATIAL",
        "FOREIGN",
        "CHECK",
        "PERIOD",
    ]
    .iter()
    .any(|k| t.is(k))
}

/// An expression starting at `i`: a parenthesized group, or a signed literal, or a word
/// with its call parentheses (`current_timestamp(6)`), or a charset introducer and its
/// string. Returns the text and the index after it.
fn value(toks: &[Tok], i: usize) -> Option<(String, usize)> {
    let t = toks.get(i)?;
    if t.is_punct("(") {
        let e = group_end(toks, i)?;
        return Some((join(&toks[i..=e]), e + 1));
    }
    if t.is_punct("-") || t.is_punct("+") {
        let (v, n) = value(toks, i + 1)?;
        return Some((format!("{}{v}", t.text), n));
    }
    if t.kind == Kind::Word
        && t.text.starts_with('_')
        && toks.get(i + 1).is_some_and(|n| n.kind == Kind::Str)
    {
        return Some((format!("{}{}", t.text, toks[i + 1].text), i + 2));
    }
    if t.kind == Kind::Word
        && toks
            .get(i + 1)
            .is_some_and(|n| n.is_punct("(") && n.start == t.end)
    {
        let e = group_end(toks, i + 1)?;
        return Some((join(&toks[i..=e]), e + 1));
    }
    Some((t.text.to_string(), i + 1))
}

fn column(item: &[Tok], p: &mut ParsedTable) {
    let name = item[0].name();
    let mut i = 1;
    // The type: a word, its arguments, and the words that belong to it.
    let mut ty = String::new();
    if let Some(t) = item.get(i) {
        ty.push_str(&t.text.to_ascii_lowercase());
        i += 1;
        // `double precision`, `character varying`, `long varbinary`: two-word types.
        if let Some(n) = item.get(i) {
            if (t.is("double") && n.is("precision"))
                || (t.is("character") && n.is("varying"))
                || (t.is("long") && (n.is("varchar") || n.is("varbinary")))
            {
                ty.push(' ');
                ty.push_str(&n.text.to_ascii_lowercase());
                i += 1;
            }
        }
        if item.get(i).is_some_and(|t| t.is_punct("(")) {
            if let Some(e) = group_end(item, i) {
                // Enum and set values keep their case and spelling.
                let inner: Vec<String> = split_commas(&item[i + 1..e])
                    .iter()
                    .map(|part| {
                        part.iter()
                            .map(|t| match t.kind {
                                Kind::Str => quote_str(&unquote_str(t.text)),
                                _ => t.text.to_string(),
                            })
                            .collect::<Vec<_>>()
                            .join("")
                    })
                    .collect();
                ty.push_str(&format!("({})", inner.join(",")));
                i = e + 1;
            }
        }
    }
    let mut col = Column::new(&name, "");
    let mut binary = false;
    let mut generated: Option<(String, bool)> = None;
    while i < item.len() {
        let t = &item[i];
        if t.is("UNSIGNED") || t.is("SIGNED") || t.is("ZEROFILL") {
            ty.push(' ');
            ty.push_str(&t.text.to_ascii_lowercase());
            i += 1;
        } else if t.is("BINARY") {
            binary = true;
            i += 1;
        } else if t.is("CHARACTER") && item.get(i + 1).is_some_and(|n| n.is("SET")) {
            col.charset = item.get(i + 2).map(|v| v.name());
            i += 3;
        } else if t.is("CHARSET") {
            col.charset = item.get(i + 1).map(|v| v.name());
            i += 2;
        } else if t.is("COLLATE") {
            col.collation = item.get(i + 1).map(|v| v.name());
            i += 2;
        } else if t.is("NOT") && item.get(i + 1).is_some_and(|n| n.is("NULL")) {
            col.not_null = true;
            i += 2;
        } else if t.is("NULL") {
            i += 1;
        } else if t.is("DEFAULT") {
            match value(item, i + 1) {
                Some((v, n)) => {
                    col.default = Some(v);
                    i = n;
                }
                None => break,
            }
        } else if t.is("ON") && item.get(i + 1).is_some_and(|n| n.is("UPDATE")) {
            match value(item, i + 2) {
                Some((v, n)) => {
                    col.on_update = Some(v);
                    i = n;
                }
                None => break,
            }
        } else if t.is("AUTO_INCREMENT") {
            col.auto_increment = true;
            i += 1;
        } else if t.is("GENERATED") && item.get(i + 1).is_some_and(|n| n.is("ALWAYS")) {
            i += 2;
        } else if t.is("AS") && item.get(i + 1).is_some_and(|n| n.is_punct("(")) {
            let Some(e) = group_end(item, i + 1) else {
                break;
            };
            generated = Some((join(&item[i + 2..e]), false));
            i = e + 1;
        } else if t.is("VIRTUAL") {
            i += 1;
        } else if t.is("STORED") || t.is("PERSISTENT") {
            if let Some(g) = &mut generated {
                g.1 = true;
            }
            i += 1;
        } else if t.is("INVISIBLE") {
            col.invisible = true;
            i += 1;
        } else if t.is("COMMENT") {
            col.comment = item
                .get(i + 1)
                .map(|v| unquote_str(v.text))
                .filter(|c| !c.is_empty());
            i += 2;
        } else if t.is("CHECK") && item.get(i + 1).is_some_and(|n| n.is_punct("(")) {
            let Some(e) = group_end(item, i + 1) else {
                break;
            };
            p.table.constraints.push(Constraint::new(
                Some(name.clone()),
                ConstraintKind::Check {
                    expression: types::expr(&join(&item[i + 2..e])),
                    no_inherit: false,
                },
            ));
            i = e + 1;
        } else if t.is("SRID") {
            if let Some(v) = item.get(i + 1) {
                ty.push_str(&format!(" srid {}", v.text));
            }
            i += 2;
        } else {
            p.unknown
                .push(format!("column `{name}`: {}", join(&item[i..])));
            break;
        }
    }
    if binary {
        // `varchar(10) BINARY` is the charset's binary collation.
        col.collation = Some(format!(
            "{}_bin",
            col.charset
                .clone()
                .unwrap_or_else(|| p.table.charset.clone().unwrap_or_default())
        ));
    }
    col.type_ = ty;
    col.generated = generated.map(|(expression, stored)| Generated { expression, stored });
    p.table.columns.push(col);
}

/// A key part list `(a(10), b DESC, (expr))` from `toks[open]`.
fn key_parts(toks: &[Tok], open: usize) -> Option<(Vec<types::KeyPart>, usize)> {
    let e = group_end(toks, open)?;
    let mut parts = vec![];
    for part in split_commas(&toks[open + 1..e]) {
        let mut kp = types::KeyPart::default();
        let mut j = 0;
        let first = part.first()?;
        if first.is_punct("(") {
            let pe = group_end(part, 0)?;
            kp.expression = Some(types::expr(&join(&part[1..pe])));
            j = pe + 1;
        } else {
            kp.column = Some(first.name());
            j += 1;
            if part.get(j).is_some_and(|t| t.is_punct("(")) {
                let pe = group_end(part, j)?;
                kp.sub_part = part.get(j + 1).and_then(|t| t.text.parse().ok());
                j = pe + 1;
            }
        }
        while let Some(t) = part.get(j) {
            if t.is("DESC") {
                kp.desc = true;
            } else if !t.is("ASC") {
                return None;
            }
            j += 1;
        }
        parts.push(kp);
    }
    Some((parts, e + 1))
}

fn key(item: &[Tok], cname: Option<String>, out: &mut Vec<types::RawIndex>) -> Option<()> {
    let mut i = 0;
    let mut raw = types::RawIndex::default();
    let primary = item[0].is("PRIMARY");
    if primary {
        i += 1;
    } else if item[0].is("UNIQUE") {
        raw.unique = true;
        i += 1;
    } else if item[0].is("FULLTEXT") || item[0].is("SPATIAL") {
        raw.kind = item[0].text.to_ascii_uppercase();
        i += 1;
    }
    if item.get(i).is_some_and(|t| t.is("KEY") || t.is("INDEX")) {
        i += 1;
    }
    if !item.get(i)?.is_punct("(") && !item.get(i)?.is("USING") {
        raw.name = item[i].name();
        i += 1;
    } else if let Some(n) = &cname {
        raw.name = n.clone();
    }
    let mut parts = None;
    while i < item.len() {
        let t = &item[i];
        if t.is_punct("(") && parts.is_none() {
            let (ps, n) = key_parts(item, i)?;
            parts = Some(ps);
            i = n;
        } else if t.is("USING") {
            raw.using = Some(item.get(i + 1)?.text.to_ascii_uppercase());
            i += 2;
        } else if t.is("WITH") && item.get(i + 1).is_some_and(|n| n.is("PARSER")) {
            raw.parser = Some(item.get(i + 2)?.name());
            i += 3;
        } else if t.is("COMMENT") {
            raw.comment = Some(unquote_str(item.get(i + 1)?.text)).filter(|c| !c.is_empty());
            i += 2;
        } else if t.is("INVISIBLE") || t.is("IGNORED") {
            raw.hidden = Some(t.text.to_ascii_uppercase());
            i += 1;
        } else if t.is("VISIBLE") || t.is("NOT") && item.get(i + 1).is_some_and(|n| n.is("IGNORED"))
        {
            i += if t.is("NOT") { 2 } else { 1 };
        } else if t.is("KEY_BLOCK_SIZE") {
            i += if item.get(i + 1).is_some_and(|n| n.is_punct("=")) {
                3
            } else {
                2
            };
        } else {
            return None;
        }
    }
    raw.parts = parts?;
    if primary {
        raw.name = "PRIMARY".into();
    }
    out.push(raw);
    Some(())
}

fn name_list(toks: &[Tok], open: usize) -> Option<(Vec<String>, usize)> {
    if !toks.get(open)?.is_punct("(") {
        return None;
    }
    let e = group_end(toks, open)?;
    let names = split_commas(&toks[open + 1..e])
        .iter()
        .map(|p| p.first().map(|t| t.name()).unwrap_or_default())
        .collect();
    Some((names, e + 1))
}

fn foreign_key(item: &[Tok], cname: Option<String>, p: &mut ParsedTable) -> Option<()> {
    let mut i = 2; // FOREIGN KEY
    let mut name = cname;
    if !item.get(i)?.is_punct("(") {
        if name.is_none() {
            name = Some(item[i].name());
        }
        i += 1;
    }
    let (columns, n) = name_list(item, i)?;
    i = n;
    if !item.get(i)?.is("REFERENCES") {
        return None;
    }
    let mut schema = p.table.name.schema.clone();
    let mut table = item.get(i + 1)?.name();
    i += 2;
    if item.get(i).is_some_and(|t| t.is_punct(".")) {
        schema = table;
        table = item.get(i + 1)?.name();
        i += 2;
    }
    let (ref_columns, n) = name_list(item, i)?;
    i = n;
    let mut on_delete = "RESTRICT".to_string();
    let mut on_update = "RESTRICT".to_string();
    let mut match_ = "NONE".to_string();
    while i < item.len() {
        if item[i].is("ON") {
            let which = item.get(i + 1)?;
            let a = item.get(i + 2)?;
            let (action, n) = if (a.is("SET") || a.is("NO")) && item.get(i + 3).is_some() {
                (format!("{} {}", a.text, item[i + 3].text), i + 4)
            } else {
                (a.text.to_string(), i + 3)
            };
            let action = types::fk_action(&action);
            if which.is("DELETE") {
                on_delete = action;
            } else {
                on_update = action;
            }
            i = n;
        } else if item[i].is("MATCH") {
            match_ = item.get(i + 1)?.text.to_ascii_uppercase();
            i += 2;
        } else {
            return None;
        }
    }
    p.table.constraints.push(Constraint::new(
        name,
        ConstraintKind::ForeignKey {
            columns,
            references: QualName::new(schema, table),
            ref_columns,
            on_delete,
            on_update,
            match_,
        },
    ));
    Some(())
}

fn check(item: &[Tok], cname: Option<String>, p: &mut ParsedTable) -> Option<()> {
    if !item.get(1)?.is_punct("(") {
        return None;
    }
    let e = group_end(item, 1)?;
    let rest = &item[e + 1..];
    // MySQL's `NOT ENFORCED` has no place in the model: keep it visible.
    let enforced = rest.is_empty() || (rest.len() == 1 && rest[0].is("ENFORCED"));
    if !enforced {
        return None;
    }
    p.table.constraints.push(Constraint::new(
        cname,
        ConstraintKind::Check {
            expression: types::expr(&join(&item[2..e])),
            no_inherit: false,
        },
    ));
    Some(())
}

/// Table options after the closing parenthesis, then the partitioning clause.
fn options(toks: &[Tok], p: &mut ParsedTable) {
    let t = &mut p.table;
    let mut i = 0;
    while i < toks.len() {
        let tk = &toks[i];
        if tk.is_punct(",") || tk.is("DEFAULT") || tk.is_punct(";") {
            i += 1;
            continue;
        }
        if tk.is("PARTITION") && toks.get(i + 1).is_some_and(|n| n.is("BY")) {
            t.partition_key = Some(join(&toks[i..]));
            return;
        }
        // MariaDB's `WITH SYSTEM VERSIONING` has no place in the model.
        if tk.is("WITH") || tk.is("WITHOUT") {
            let end = (i + 3).min(toks.len());
            p.unknown.push(join(&toks[i..end]));
            i = end;
            continue;
        }
        // The key: one or two words (`CHARACTER SET`), then an optional `=`.
        let mut key = tk.text.to_ascii_lowercase();
        let mut j = i + 1;
        if tk.is("CHARACTER") && toks.get(j).is_some_and(|n| n.is("SET")) {
            key = "charset".into();
            j += 1;
        }
        if toks.get(j).is_some_and(|n| n.is_punct("=")) {
            j += 1;
        }
        let Some(v) = toks.get(j) else {
            p.unknown.push(format!("table option {}", tk.text));
            return;
        };
        let value = v.name();
        match key.as_str() {
            "engine" | "type" => t.engine = Some(value),
            "charset" => t.charset = Some(value),
            "collate" => t.collation = Some(value),
            "comment" => t.comment = Some(value).filter(|c| !c.is_empty()),
            "auto_increment" => {}
            _ => t.options.push(types::option(&key, &value)),
        }
        i = j + 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_follow_mysql_rules() {
        let toks = tokenize(
            "a /*!50100 PARTITION BY */ 'it''s \\' x' `b``c` # no\n-- x\n--y x'ff' 1e3 .5",
        );
        let texts: Vec<&str> = toks.iter().map(|t| t.text).collect();
        assert_eq!(
            texts,
            [
                "a",
                "PARTITION",
                "BY",
                "'it''s \\' x'",
                "`b``c`",
                "-",
                "-",
                "y",
                "x'ff'",
                "1e3",
                ".5"
            ]
        );
        assert_eq!(unquote_str("'it''s \\' x\\\\'"), "it's ' x\\");
        assert_eq!(quote_str("it's a\\b"), "'it''s a\\\\b'");
        assert_eq!(tokenize("`b``c`")[0].name(), "b`c");
    }

    #[test]
    fn reads_mariadb_show_create_table() {
        let sql = "CREATE TABLE `p` (\n  `id` int(11) NOT NULL,\n  `name` varchar(20) NOT NULL DEFAULT 'it''s',\n  `j` longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin DEFAULT NULL CHECK (json_valid(`j`)),\n  `t` timestamp NOT NULL DEFAULT current_timestamp() ON UPDATE current_timestamp(),\n  `g` int(11) GENERATED ALWAYS AS (`id` * 2) VIRTUAL,\n  `inv` int(11) INVISIBLE DEFAULT 3,\n  `l` varchar(10) CHARACTER SET latin1 COLLATE latin1_swedish_ci DEFAULT NULL,\n  PRIMARY KEY (`id`),\n  KEY `pre` (`l`(5),`name` DESC),\n  FULLTEXT KEY `ft` (`name`),\n  CONSTRAINT `c_ibfk_1` FOREIGN KEY (`id`) REFERENCES `q` (`id`) ON DELETE CASCADE,\n  CONSTRAINT `CONSTRAINT_1` CHECK (`id` < 1000000)\n) ENGINE=InnoDB AUTO_INCREMENT=5 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci ROW_FORMAT=COMPACT COMMENT='hello'\n PARTITION BY HASH (`id`)\nPARTITIONS 4";
        let p = parse_create_table(sql, "main").unwrap();
        assert!(p.unknown.is_empty(), "{:?}", p.unknown);
        let t = &p.table;
        assert_eq!(t.engine.as_deref(), Some("InnoDB"));
        assert_eq!(t.options, ["row_format=COMPACT"]);
        assert_eq!(t.comment.as_deref(), Some("hello"));
        assert_eq!(
            t.partition_key.as_deref(),
            Some("PARTITION BY HASH (`id`) PARTITIONS 4")
        );
        let c = |n: &str| t.column(n).unwrap();
        assert_eq!(c("id").type_, "int");
        assert_eq!(c("name").default.as_deref(), Some("'it''s'"));
        assert_eq!(c("j").type_, "json");
        assert_eq!(c("j").collation, None);
        assert_eq!(c("t").default.as_deref(), Some("CURRENT_TIMESTAMP"));
        assert_eq!(c("t").on_update.as_deref(), Some("CURRENT_TIMESTAMP"));
        assert_eq!(c("g").generated.as_ref().unwrap().expression, "`id` * 2");
        assert!(c("inv").invisible);
        assert_eq!(c("l").charset.as_deref(), Some("latin1"));
        assert_eq!(c("l").default, None);
        // The json_valid check became the type; the table's own check stays.
        assert_eq!(t.constraints.len(), 3, "{:?}", t.constraints);
        let defs: Vec<&str> = p.indexes.iter().map(|i| i.definition.as_str()).collect();
        assert_eq!(defs, ["(`l`(5), `name` DESC)", "FULLTEXT (`name`)"]);
        assert_eq!(p.indexes[0].name.name, "p.pre");
    }

    #[test]
    fn reads_mysql8_forms() {
        let sql = "CREATE TABLE `t` (\n  `id` int NOT NULL,\n  `n` int DEFAULT '0',\n  `u` char(36) DEFAULT (uuid()),\n  `s` varchar(5) DEFAULT _utf8mb4'x',\n  PRIMARY KEY (`id`),\n  KEY `f` ((lower(`s`))) /*!80000 INVISIBLE */,\n  CONSTRAINT `t_chk_1` CHECK ((`n` > 0))\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_0900_ai_ci\n/*!50100 PARTITION BY KEY (`id`) */";
        let p = parse_create_table(sql, "main").unwrap();
        assert!(p.unknown.is_empty(), "{:?}", p.unknown);
        let c = |n: &str| p.table.column(n).unwrap();
        assert_eq!(c("n").default.as_deref(), Some("0"));
        assert_eq!(c("u").default.as_deref(), Some("(uuid())"));
        assert_eq!(c("s").default.as_deref(), Some("'x'"));
        assert_eq!(p.indexes[0].definition, "((lower(`s`))) INVISIBLE");
        assert!(
            matches!(&p.table.constraints.iter().find(|c| c.name.as_deref() == Some("t_chk_1")).unwrap().kind,
            ConstraintKind::Check { expression, .. } if expression == "`n` > 0")
        );
        assert_eq!(
            p.table.partition_key.as_deref(),
            Some("PARTITION BY KEY (`id`)")
        );
    }

    /// The server runs what executable comments hold, and so the reader reads it: a
    /// `*/` inside a string in one does not end it, MariaDB's `/*M!` counts too.
    #[test]
    fn executable_comments_are_read_as_code() {
        let sql = "CREATE TABLE `t` (\n  `id` int NOT NULL /*!50100 COMMENT 'a */ b' */,\n  `c` int /*M!100301 INVISIBLE */ DEFAULT NULL,\n  PRIMARY KEY (`id`)\n) ENGINE=InnoDB /*!50100 PARTITION BY HASH (`id`)\nPARTITIONS 2 */";
        let p = parse_create_table(sql, "main").unwrap();
        assert!(p.unknown.is_empty(), "{:?}", p.unknown);
        let c = |n: &str| p.table.column(n).unwrap();
        assert_eq!(c("id").comment.as_deref(), Some("a */ b"));
        assert!(c("c").invisible);
        assert_eq!(
            p.table.partition_key.as_deref(),
            Some("PARTITION BY HASH (`id`) PARTITIONS 2")
        );
    }

    #[test]
    fn garbage_does_not_panic() {
        let more = [
            "CREATE TABLE t (a int DEFAULT",
            "CREATE TABLE t (KEY (",
            "CREATE TABLE `t",
            "CREATE TABLE t (a enum('x",
            "'\\",
            "CREATE TABLE t (a int /*!50100",
            "CREATE TABLE t (a int) /*!50100 PARTITION BY */ */",
        ];
        for s in crate::sql::lex::CUT_SHORT.into_iter().chain(more) {
            let _ = parse_create_table(s, "main");
            let _ = tokenize(s);
        }
    }
}
