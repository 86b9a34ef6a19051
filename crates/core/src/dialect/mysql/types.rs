//! MySQL and MariaDB normalization: one canonical form for what the two engines, their
//! versions and their two sources (`information_schema` and `SHOW CREATE TABLE`) print
//! differently, so that equal schemas compare equal and no false drift appears.
//!
//! - Types: default integer display widths dropped (`int(11)` → `int`, `int(10)
//!   unsigned` → `int unsigned`; MySQL 8.0.19+ prints none), `year(4)` → `year`,
//!   aliases resolved (`integer`, `bool`, `numeric`, ...). A width that is not the
//!   default, `tinyint(1)` and any width with `zerofill` are kept: they are what was
//!   written, and MariaDB keeps them.
//! - Character sets: `utf8` → `utf8mb3` (MySQL 8.0.28+ and MariaDB 10.6+ print the
//!   latter), in collation names too. A column's charset and collation are left out
//!   when they are the table's.
//! - Defaults: one SQL form whatever the source: string literals quoted (MariaDB quotes
//!   them in `information_schema`, MySQL does not), numbers bare (MySQL's `SHOW CREATE
//!   TABLE` quotes them), `current_timestamp()`, `now()` and `CURRENT_TIMESTAMP` all
//!   `CURRENT_TIMESTAMP`, `NULL` on a nullable column the same as no default, and other
//!   expressions in parentheses (`(uuid())`), the form both engines accept.
//! - JSON: MariaDB stores a JSON column as `longtext` with a `json_valid` CHECK named
//!   after the column; that pair reads as `json`, as on MySQL.
//! - Expressions: charset introducers (`_utf8mb4'x'`) and redundant outer parentheses
//!   dropped, whitespace normalized.

use super::plan::ident;
use super::text::{group_end, join, quote_str, tokenize, unquote_str, Kind};
use crate::model::*;

/// One part of an index key.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KeyPart {
    pub column: Option<String>,
    /// A functional key part (MySQL 8.0.13+), canonical.
    pub expression: Option<String>,
    /// Prefix length, in characters.
    pub sub_part: Option<u32>,
    pub desc: bool,
}

/// An index as both sources describe it, before it becomes a model [`Index`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawIndex {
    pub name: String,
    pub unique: bool,
    /// `FULLTEXT`, `SPATIAL`, or empty.
    pub kind: String,
    pub parts: Vec<KeyPart>,
    /// `USING HASH` and the like.
    pub using: Option<String>,
    pub parser: Option<String>,
    pub comment: Option<String>,
    /// MySQL `INVISIBLE`, MariaDB `IGNORED`.
    pub hidden: Option<String>,
}

impl RawIndex {
    /// Each part's column, or its expression where it has no column.
    fn columns(&self) -> Vec<String> {
        self.parts
            .iter()
            .map(|p| {
                p.column
                    .clone()
                    .or_else(|| p.expression.clone())
                    .unwrap_or_default()
            })
            .collect()
    }
}

pub fn charset(s: &str) -> String {
    let l = s.trim().to_ascii_lowercase();
    if l == "utf8" {
        "utf8mb3".into()
    } else {
        l
    }
}

pub fn collation(s: &str) -> String {
    let l = s.trim().to_ascii_lowercase();
    match l.strip_prefix("utf8_") {
        Some(rest) => format!("utf8mb3_{rest}"),
        None => l,
    }
}

/// The character set a collation belongs to: its name up to the first `_` (character
/// set names have none).
pub fn charset_of(collation: &str) -> String {
    collation.split('_').next().unwrap_or(collation).to_string()
}

fn default_width(base: &str, unsigned: bool) -> Option<u32> {
    Some(match (base, unsigned) {
        ("tinyint", false) => 4,
        ("tinyint", true) => 3,
        ("smallint", false) => 6,
        ("smallint", true) => 5,
        ("mediumint", false) => 9,
        ("mediumint", true) => 8,
        ("int", false) => 11,
        ("int", true) => 10,
        ("bigint", _) => 20,
        _ => return None,
    })
}

/// The canonical spelling of a column type.
pub fn column_type(raw: &str) -> String {
    let t = raw.trim();
    // Head (one word, or two for the few two-word types), arguments, trailing words.
    let (head, rest) = match t.find(|c: char| c == '(' || c.is_whitespace()) {
        Some(p) => (&t[..p], &t[p..]),
        None => (t, ""),
    };
    let mut head = head.to_ascii_lowercase();
    let mut rest = rest.trim_start();
    for (a, b) in [
        ("double", "precision"),
        ("character", "varying"),
        ("long", "varbinary"),
        ("long", "varchar"),
    ] {
        if head == a && rest.len() >= b.len() && rest[..b.len()].eq_ignore_ascii_case(b) {
            head = format!("{a} {b}");
            rest = rest[b.len()..].trim_start();
        }
    }
    let (args, tail) = if rest.starts_with('(') {
        let toks = tokenize(rest);
        match group_end(&toks, 0) {
            Some(e) => (Some(&rest[..toks[e].end]), rest[toks[e].end..].trim()),
            None => (None, rest),
        }
    } else {
        (None, rest)
    };
    let words: Vec<String> = tail
        .split_whitespace()
        .map(str::to_ascii_lowercase)
        .collect();
    let unsigned = words.iter().any(|w| w == "unsigned");
    let zerofill = words.iter().any(|w| w == "zerofill");
    let base = match head.as_str() {
        "integer" | "int4" => "int",
        "int1" => "tinyint",
        "int2" => "smallint",
        "int3" | "middleint" => "mediumint",
        "int8" => "bigint",
        "bool" | "boolean" => return "tinyint(1)".into(),
        "dec" | "numeric" | "fixed" => "decimal",
        "double precision" | "real" => "double",
        "character varying" => "varchar",
        "character" => "char",
        "long varbinary" => "mediumblob",
        "long varchar" | "long" => "mediumtext",
        other => other,
    }
    .to_string();
    let mut args = args.map(|a| {
        if base == "enum" || base == "set" {
            a.to_string()
        } else {
            a.split_whitespace().collect::<String>()
        }
    });
    if let Some(a) = &args {
        let inner = &a[1..a.len() - 1];
        if let (Some(d), Ok(w)) = (default_width(&base, unsigned), inner.parse::<u32>()) {
            let keep = zerofill || (base == "tinyint" && w == 1) || w != d;
            if !keep {
                args = None;
            }
        } else if (base == "year" && inner == "4")
            || (matches!(base.as_str(), "timestamp" | "datetime" | "time") && inner == "0")
        {
            args = None;
        } else if base == "decimal" && !inner.contains(',') {
            args = Some(format!("({inner},0)"));
        }
    } else if base == "decimal" {
        args = Some("(10,0)".into());
    }
    let mut out = base;
    if let Some(a) = args {
        out.push_str(&a);
    }
    for w in ["unsigned", "zerofill"] {
        if words.iter().any(|x| x == w) {
            out.push(' ');
            out.push_str(w);
        }
    }
    // MySQL 8's spatial reference: `srid N`.
    if let Some(p) = words.iter().position(|w| w == "srid") {
        if let Some(n) = words.get(p + 1) {
            out.push_str(&format!(" srid {n}"));
        }
    }
    out
}

/// Whether a column type (`int(11) unsigned`, `decimal(10,2)`) holds numbers: a default
/// of one is written bare.
pub fn is_numeric_type(t: &str) -> bool {
    let base = t.split(['(', ' ']).next().unwrap_or("");
    matches!(
        base,
        "tinyint"
            | "smallint"
            | "mediumint"
            | "int"
            | "bigint"
            | "decimal"
            | "float"
            | "double"
            | "year"
    )
}

fn is_number(s: &str) -> bool {
    let s = s.trim().trim_start_matches(['-', '+']);
    !s.is_empty()
        && s.parse::<f64>().is_ok()
        && !s.contains(|c: char| c.is_ascii_alphabetic() && c != 'e' && c != 'E')
}

/// `CURRENT_TIMESTAMP` or `CURRENT_TIMESTAMP(n)` for any spelling of the current time,
/// or None.
pub fn time_fn(s: &str) -> Option<String> {
    let toks = tokenize(s.trim());
    let first = toks.first()?;
    if first.kind != Kind::Word
        || !["current_timestamp", "now", "localtime", "localtimestamp"]
            .iter()
            .any(|k| first.text.eq_ignore_ascii_case(k))
    {
        return None;
    }
    match &toks[1..] {
        [] => Some("CURRENT_TIMESTAMP".into()),
        [o, c] if o.is_punct("(") && c.is_punct(")") => Some("CURRENT_TIMESTAMP".into()),
        [o, n, c] if o.is_punct("(") && c.is_punct(")") && n.kind == Kind::Num => {
            if n.text == "0" {
                Some("CURRENT_TIMESTAMP".into())
            } else {
                Some(format!("CURRENT_TIMESTAMP({})", n.text))
            }
        }
        _ => None,
    }
}

/// The canonical default, from a default as SQL text (`'abc'`, `0`, `uuid()`,
/// `(uuid())`, `_utf8mb4'x'`, `NULL`). None for `NULL`.
pub fn default_value(raw: &str, type_: &str) -> Option<String> {
    let s = raw.trim();
    if s.is_empty() || s.eq_ignore_ascii_case("NULL") {
        return None;
    }
    if let Some(t) = time_fn(s) {
        return Some(t);
    }
    let toks = tokenize(s);
    // A parenthesized literal is the literal.
    if toks.first().is_some_and(|t| t.is_punct("(")) && group_end(&toks, 0) == Some(toks.len() - 1)
    {
        let inner = &s[toks[1].start..toks[toks.len() - 1].start];
        let lit = literal(inner, type_);
        if lit.is_some() || time_fn(inner).is_some() {
            return default_value(inner, type_);
        }
        return Some(format!("({})", expr(inner)));
    }
    if let Some(l) = literal(s, type_) {
        return if l == "NULL" { None } else { Some(l) };
    }
    Some(format!("({})", expr(s)))
}

/// A literal in canonical form, or None when `s` is not a literal.
fn literal(s: &str, type_: &str) -> Option<String> {
    let toks = tokenize(s.trim());
    let (sign, rest) = match toks.first() {
        Some(t) if t.is_punct("-") || t.is_punct("+") => {
            (if t.text == "-" { "-" } else { "" }, &toks[1..])
        }
        _ => ("", &toks[..]),
    };
    match rest {
        [t] if t.kind == Kind::Num => Some(format!("{sign}{}", t.text)),
        [t] if sign.is_empty() && t.kind == Kind::Str => Some(string_literal(t.text, type_)),
        [i, t]
            if sign.is_empty()
                && i.kind == Kind::Word
                && i.text.starts_with('_')
                && t.kind == Kind::Str
                && !i.text.eq_ignore_ascii_case("_binary") =>
        {
            Some(string_literal(t.text, type_))
        }
        [t] if sign.is_empty() && t.is("NULL") => Some("NULL".into()),
        [t] if sign.is_empty() && t.is("TRUE") => Some("1".into()),
        [t] if sign.is_empty() && t.is("FALSE") => Some("0".into()),
        _ => None,
    }
}

fn string_literal(text: &str, type_: &str) -> String {
    let first = text.chars().next().unwrap_or('\'');
    if first != '\'' && first != '"' {
        // b'01', x'ff', n'x': the prefix lowercased, the digits kept.
        let (p, body) = text.split_at(1);
        if p.eq_ignore_ascii_case("n") {
            return quote_str(&unquote_str(body));
        }
        return format!("{}{}", p.to_ascii_lowercase(), body);
    }
    let v = unquote_str(text);
    if is_numeric_type(type_) && is_number(&v) {
        return v.trim().to_string();
    }
    quote_str(&v)
}

/// A canonical expression: introducers and redundant outer parentheses dropped,
/// string literals in one quoting, whitespace normalized.
pub fn expr(s: &str) -> String {
    let toks = tokenize(s);
    let mut keep: Vec<_> = vec![];
    let mut dropped_at: Option<usize> = None;
    for (i, t) in toks.iter().enumerate() {
        let introducer = t.kind == Kind::Word
            && t.text.starts_with('_')
            && !t.text.eq_ignore_ascii_case("_binary")
            && toks.get(i + 1).is_some_and(|n| n.kind == Kind::Str);
        if introducer {
            dropped_at = Some(t.start);
            continue;
        }
        let mut t = *t;
        // The string stands where its introducer stood, spacing included.
        if let Some(at) = dropped_at.take() {
            t.start = at;
        }
        keep.push(t);
    }
    let mut slice = &keep[..];
    while slice.len() >= 2 && slice[0].is_punct("(") && group_end(slice, 0) == Some(slice.len() - 1)
    {
        slice = &slice[1..slice.len() - 1];
    }
    join(slice)
}

/// Removes the current database's name where it qualifies another name
/// (`` `shop`.`t`.`a` `` → `` `t`.`a` ``): views print it, and a copy of the schema in
/// another database must read the same.
pub fn strip_qualifier(s: &str, database: &str) -> String {
    let toks = tokenize(s);
    let mut out = String::with_capacity(s.len());
    let mut last = 0;
    let mut i = 0;
    while i < toks.len() {
        let t = &toks[i];
        let qualifies = matches!(t.kind, Kind::Quoted | Kind::Word)
            && t.name() == database
            && toks
                .get(i + 1)
                .is_some_and(|d| d.is_punct(".") && d.start == t.end)
            && toks.get(i + 2).is_some_and(|n| {
                matches!(n.kind, Kind::Quoted | Kind::Word) && n.start == toks[i + 1].end
            })
            && !(i > 0 && toks[i - 1].is_punct(".") && toks[i - 1].end == t.start);
        if qualifies {
            out.push_str(&s[last..t.start]);
            last = toks[i + 1].end;
            i += 2;
            continue;
        }
        i += 1;
    }
    out.push_str(&s[last..]);
    out
}

/// `RESTRICT`, `CASCADE`, `SET NULL`, `SET DEFAULT`; `NO ACTION` is InnoDB's `RESTRICT`.
pub fn fk_action(s: &str) -> String {
    let up = s
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_ascii_uppercase();
    if up == "NO ACTION" || up.is_empty() {
        "RESTRICT".into()
    } else {
        up
    }
}

/// A table option as `key=VALUE`.
pub fn option(key: &str, value: &str) -> String {
    let k = key.trim().trim_matches('`').to_ascii_lowercase();
    let v = value.trim().trim_matches(['\'', '"']).to_ascii_uppercase();
    format!("{k}={v}")
}

fn render_part(p: &KeyPart) -> String {
    let mut s = match (&p.expression, &p.column) {
        (Some(e), _) => format!("({e})"),
        (None, Some(c)) => ident(c),
        (None, None) => String::new(),
    };
    if let Some(n) = p.sub_part {
        s.push_str(&format!("({n})"));
    }
    if p.desc {
        s.push_str(" DESC");
    }
    s
}

/// The canonical definition of an index (see [`Index::definition`]).
pub fn index_definition(r: &RawIndex) -> String {
    let mut s = String::new();
    if !r.kind.is_empty() {
        s.push_str(&r.kind);
        s.push(' ');
    }
    s.push('(');
    s.push_str(
        &r.parts
            .iter()
            .map(render_part)
            .collect::<Vec<_>>()
            .join(", "),
    );
    s.push(')');
    if let Some(u) = &r.using {
        s.push_str(&format!(" USING {u}"));
    }
    if let Some(p) = &r.parser {
        s.push_str(&format!(" WITH PARSER {}", ident(p)));
    }
    if let Some(h) = &r.hidden {
        s.push_str(&format!(" {h}"));
    }
    s
}

/// The primary key constraint. Plain column lists go to `columns`; prefixes, descending
/// parts and index types keep the whole key in `extra`.
fn primary_key(r: &RawIndex) -> Constraint {
    let plain = r
        .parts
        .iter()
        .all(|p| p.column.is_some() && p.sub_part.is_none() && !p.desc)
        && r.using.is_none();
    let bare = r.clone();
    Constraint {
        comment: r.comment.clone(),
        ..Constraint::new(
            Some("PRIMARY".into()),
            ConstraintKind::PrimaryKey {
                columns: r.columns(),
                extra: (!plain).then(|| index_definition(&bare)),
            },
        )
    }
}

/// Normalizes a table read from either source, and the raw indexes that go with it.
/// The one named `PRIMARY` becomes the table's primary key constraint.
pub fn finish_table(t: &mut Table, indexes: &mut Vec<RawIndex>) {
    t.charset = t.charset.as_deref().map(charset);
    t.collation = t.collation.as_deref().map(collation);
    if t.charset.is_none() {
        t.charset = t.collation.as_deref().map(charset_of);
    }
    t.comment = t.comment.take().filter(|c| !c.is_empty());
    t.options.sort();
    t.options.dedup();
    let table_cs = t.charset.clone();
    let table_coll = t.collation.clone();
    let mut json_checks = vec![];
    for c in &mut t.columns {
        c.type_ = column_type(&c.type_);
        c.collation = c.collation.as_deref().map(collation);
        c.charset = c.charset.as_deref().map(charset);
        if c.charset.is_none() {
            c.charset = c.collation.as_deref().map(charset_of);
        }
        let same_cs = c.charset == table_cs;
        if same_cs && (c.collation.is_none() || c.collation == table_coll) {
            c.charset = None;
            c.collation = None;
        }
        if let Some(g) = &mut c.generated {
            g.expression = expr(&g.expression);
            c.default = None;
        }
        c.default = c
            .default
            .as_deref()
            .and_then(|d| default_value(d, &c.type_));
        c.on_update = c
            .on_update
            .as_deref()
            .map(|d| time_fn(d).unwrap_or_else(|| expr(d)));
        c.comment = c.comment.take().filter(|x| !x.is_empty());
        if c.type_ == "longtext" {
            let want = expr(&format!("json_valid({})", ident(&c.name)));
            let found = t.constraints.iter().position(|k| {
                k.name.as_deref() == Some(c.name.as_str())
                    && matches!(&k.kind, ConstraintKind::Check { expression, .. } if expr(expression) == want)
            });
            if let Some(pos) = found {
                json_checks.push(pos);
                c.type_ = "json".into();
                c.charset = None;
                c.collation = None;
            }
        }
    }
    json_checks.sort_unstable();
    for pos in json_checks.into_iter().rev() {
        t.constraints.remove(pos);
    }
    for k in &mut t.constraints {
        match &mut k.kind {
            ConstraintKind::Check { expression, .. } => *expression = expr(expression),
            ConstraintKind::ForeignKey {
                on_delete,
                on_update,
                ..
            } => {
                *on_delete = fk_action(on_delete);
                *on_update = fk_action(on_update);
            }
            _ => {}
        }
    }
    t.constraints.sort_by(|a, b| {
        let rank = |c: &Constraint| match c.kind {
            ConstraintKind::PrimaryKey { .. } => 0,
            ConstraintKind::Unique { .. } => 1,
            ConstraintKind::Check { .. } => 2,
            ConstraintKind::ForeignKey { .. } => 3,
            ConstraintKind::Exclusion { .. } => 4,
        };
        (rank(a), &a.name).cmp(&(rank(b), &b.name))
    });
    let engine_default = match t.engine.as_deref().map(str::to_ascii_uppercase).as_deref() {
        Some("MEMORY") | Some("HEAP") => "HASH",
        _ => "BTREE",
    };
    for r in indexes.iter_mut() {
        let special = !r.kind.is_empty();
        for p in &mut r.parts {
            if r.kind == "SPATIAL" {
                p.sub_part = None;
            }
            if special {
                p.desc = false;
            }
            p.expression = p.expression.as_deref().map(expr);
        }
        r.using = r
            .using
            .take()
            .map(|u| u.to_ascii_uppercase())
            .filter(|u| !special && u != engine_default);
        r.comment = r.comment.take().filter(|c| !c.is_empty());
    }
    if let Some(pos) = indexes.iter().position(|r| r.name == "PRIMARY") {
        let r = indexes.remove(pos);
        t.constraints.insert(0, primary_key(&r));
    }
}

/// The model index for a raw one on table `t`.
pub fn index_of(t: &Table, r: RawIndex) -> Index {
    Index {
        unique: r.unique,
        comment: r.comment.clone(),
        ..Index::new(
            QualName::new(&t.name.schema, format!("{}.{}", t.name.name, r.name)),
            t.name.clone(),
            index_definition(&r),
            r.columns(),
        )
    }
}

/// The index's own name, from the model's `table.index`.
pub fn index_name(i: &Index) -> &str {
    i.name
        .name
        .strip_prefix(&format!("{}.", i.table.name))
        .unwrap_or(&i.name.name)
}

/// Whether a constraint name is one the server chose: MariaDB's `CONSTRAINT_n` for an
/// unnamed CHECK, MySQL's `<table>_chk_n`, and InnoDB's `<table>_ibfk_n` for foreign keys.
pub fn is_system_named(table: &str, name: &str) -> bool {
    let counter = |rest: &str| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit());
    if let Some(rest) = name.strip_prefix("CONSTRAINT_") {
        return counter(rest);
    }
    for infix in ["_chk_", "_ibfk_"] {
        if let Some(rest) = name.strip_prefix(table).and_then(|r| r.strip_prefix(infix)) {
            return counter(rest);
        }
    }
    false
}

/// Whether `sql` names `name` as an identifier token.
pub fn mentions(sql: &str, name: &str) -> bool {
    tokenize(sql)
        .iter()
        .any(|t| matches!(t.kind, Kind::Quoted | Kind::Word) && t.name().eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types() {
        assert_eq!(column_type("int(11)"), "int");
        assert_eq!(column_type("INT(10) UNSIGNED"), "int unsigned");
        assert_eq!(column_type("int(10)"), "int(10)");
        assert_eq!(
            column_type("int(3) unsigned zerofill"),
            "int(3) unsigned zerofill"
        );
        assert_eq!(column_type("tinyint(1)"), "tinyint(1)");
        assert_eq!(column_type("tinyint(4)"), "tinyint");
        assert_eq!(column_type("bigint(20) unsigned"), "bigint unsigned");
        assert_eq!(column_type("BOOLEAN"), "tinyint(1)");
        assert_eq!(column_type("year(4)"), "year");
        assert_eq!(column_type("numeric(8, 2)"), "decimal(8,2)");
        assert_eq!(column_type("decimal"), "decimal(10,0)");
        assert_eq!(column_type("enum('a','B c')"), "enum('a','B c')");
        assert_eq!(column_type("VARCHAR(255)"), "varchar(255)");
        assert_eq!(column_type("double precision"), "double");
    }

    #[test]
    fn charsets() {
        assert_eq!(charset("utf8"), "utf8mb3");
        assert_eq!(collation("utf8_general_ci"), "utf8mb3_general_ci");
        assert_eq!(collation("utf8mb4_bin"), "utf8mb4_bin");
        assert_eq!(charset_of("utf8mb4_unicode_ci"), "utf8mb4");
    }

    #[test]
    fn defaults_read_the_same_from_every_source() {
        // MariaDB information_schema, MariaDB SHOW CREATE, MySQL 8 SHOW CREATE.
        for d in ["'abc'", "_utf8mb4'abc'", "('abc')"] {
            assert_eq!(
                default_value(d, "varchar(5)").as_deref(),
                Some("'abc'"),
                "{d}"
            );
        }
        for d in ["0", "'0'"] {
            assert_eq!(default_value(d, "int").as_deref(), Some("0"), "{d}");
        }
        for d in [
            "current_timestamp()",
            "CURRENT_TIMESTAMP",
            "now()",
            "(now())",
        ] {
            assert_eq!(
                default_value(d, "timestamp").as_deref(),
                Some("CURRENT_TIMESTAMP"),
                "{d}"
            );
        }
        assert_eq!(
            default_value("current_timestamp(6)", "datetime(6)").as_deref(),
            Some("CURRENT_TIMESTAMP(6)")
        );
        for d in ["uuid()", "(uuid())"] {
            assert_eq!(
                default_value(d, "char(36)").as_deref(),
                Some("(uuid())"),
                "{d}"
            );
        }
        assert_eq!(default_value("NULL", "int"), None);
        assert_eq!(
            default_value("'NULL'", "varchar(4)").as_deref(),
            Some("'NULL'")
        );
        assert_eq!(default_value("-1.5", "float").as_deref(), Some("-1.5"));
        assert_eq!(default_value("b'1'", "bit(1)").as_deref(), Some("b'1'"));
        assert_eq!(
            default_value("'it''s a\\\\b'", "varchar(9)").as_deref(),
            Some("'it''s a\\\\b'")
        );
    }

    #[test]
    fn expressions() {
        assert_eq!(expr("((`n` > 0))"), "`n` > 0");
        assert_eq!(expr("`s` in (_utf8mb4'a',_utf8mb4'b')"), "`s` in ('a','b')");
        assert_eq!(expr("(a) + (b)"), "(a) + (b)");
        assert_eq!(expr("'a\\'b'"), "'a''b'");
        assert_eq!(
            strip_qualifier(
                "select `shop`.`t`.`a` AS `a` from `shop`.`t` join `other`.`shop` x",
                "shop"
            ),
            "select `t`.`a` AS `a` from `t` join `other`.`shop` x"
        );
    }

    #[test]
    fn system_names() {
        assert!(is_system_named("orders", "CONSTRAINT_1"));
        assert!(is_system_named("orders", "orders_chk_2"));
        assert!(is_system_named("orders", "orders_ibfk_1"));
        assert!(!is_system_named("orders", "orders_ibfk_x"));
        assert!(!is_system_named("orders", "fk_orders"));
    }
}
