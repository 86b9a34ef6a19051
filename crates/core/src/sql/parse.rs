//! Whether a statement is SQL its engine accepts, as far as lockstep can tell without a
//! server: sqlparser first; then, for PostgreSQL, the statements real migrations use
//! that sqlparser (0.64, the newest release) rejects. Those are read here from the
//! lexer's tokens in one of two ways, so that a typo anywhere else still fails:
//!
//! - a clause sqlparser lacks is cut out (or a dollar-quoted string rewritten as a
//!   standard one) and what is left is handed to sqlparser again: `CREATE FUNCTION ...
//!   COST 100 | ROWS 5`, `COMMENT ON ... IS $$...$$`, `COMMENT ON FUNCTION f(int)`, and
//!   the ALTER TABLE actions `ALTER CONSTRAINT c [NOT] DEFERRABLE | INITIALLY ...` and
//!   `ALTER [COLUMN] c SET | RESET (options)`, `SET STATISTICS n`, `SET STORAGE x`,
//!   `SET COMPRESSION x`;
//! - a whole statement sqlparser has no grammar for is matched as a shape: `DO
//!   [LANGUAGE l] '...'` and `ALTER SEQUENCE [IF EXISTS] name` with its actions.
//!
//! A statement neither accepts stays unparsed: the caller reports it (lint's
//! `could-not-parse`), and with a server at hand lets the server's parser settle it.

use super::lex::{self, at, group_end, qualified, skip, split_commas, Dialect, Tok, TokenKind};

/// Whether `sql` (one statement) parses.
pub fn parses(sql: &str, dialect: Dialect) -> bool {
    let parser: Box<dyn sqlparser::dialect::Dialect> = match dialect {
        Dialect::Mysql => Box::new(sqlparser::dialect::MySqlDialect {}),
        Dialect::Sqlite => Box::new(sqlparser::dialect::SQLiteDialect {}),
        Dialect::Postgres => Box::new(sqlparser::dialect::PostgreSqlDialect {}),
    };
    let sqlparser_ok = |s: &str| sqlparser::parser::Parser::parse_sql(parser.as_ref(), s).is_ok();
    if sqlparser_ok(sql) {
        return true;
    }
    if dialect != Dialect::Postgres {
        return false;
    }
    let t = lex::code(sql);
    if is_do(&t) || is_alter_sequence(&t) {
        return true;
    }
    let edits = edits(sql, &t);
    if edits.is_empty() {
        return false;
    }
    match apply(sql, &edits) {
        Rewritten::Sql(s) => sqlparser_ok(&s),
        Rewritten::EveryActionCut => true,
    }
}

/// A change to the statement's text: the byte range and what replaces it.
struct Edit {
    start: usize,
    end: usize,
    with: String,
}

enum Rewritten {
    Sql(String),
    /// An ALTER TABLE whose every action was cut: each was a known shape, and the
    /// header was read by [`alter_table_actions`].
    EveryActionCut,
}

fn offset(sql: &str, t: &Tok) -> usize {
    t.text.as_ptr() as usize - sql.as_ptr() as usize
}

fn span(sql: &str, t: &[Tok]) -> (usize, usize) {
    let first = &t[0];
    let last = &t[t.len() - 1];
    (offset(sql, first), offset(sql, last) + last.text.len())
}

fn edits(sql: &str, t: &[Tok]) -> Vec<Edit> {
    let mut out = vec![];
    // Dollar quotes: sqlparser reads them as a function body only.
    for x in t {
        if x.kind == TokenKind::Str && x.text.starts_with('$') {
            let tag_end = x.text[1..].find('$').map(|i| i + 2).unwrap_or(x.text.len());
            let body = &x.text[tag_end..x.text.len().saturating_sub(tag_end).max(tag_end)];
            let start = offset(sql, x);
            out.push(Edit {
                start,
                end: start + x.text.len(),
                with: format!("'{}'", body.replace('\'', "''")),
            });
        }
    }
    // CREATE [OR REPLACE] FUNCTION | PROCEDURE ... COST n | ROWS n.
    let i = skip(t, 1, &["OR", "REPLACE"]);
    if t.first().is_some_and(|x| x.is("CREATE"))
        && t.get(i)
            .is_some_and(|x| x.is("FUNCTION") || x.is("PROCEDURE"))
    {
        let args = t
            .iter()
            .position(|x| x.is_punct("("))
            .and_then(|o| group_end(t, o));
        for k in args.unwrap_or(0)..t.len() {
            if (t[k].is("COST") || t[k].is("ROWS"))
                && t.get(k + 1).is_some_and(|n| n.kind == TokenKind::Num)
            {
                let (start, end) = span(sql, &t[k..k + 2]);
                out.push(Edit {
                    start,
                    end,
                    with: String::new(),
                });
            }
        }
    }
    // COMMENT ON FUNCTION | PROCEDURE | AGGREGATE name (args) IS ...: the signature.
    if at(t, 0, &["COMMENT", "ON"])
        && t.get(2)
            .is_some_and(|x| x.is_any(&["FUNCTION", "PROCEDURE", "AGGREGATE", "ROUTINE"]))
    {
        if let Some((_, j)) = qualified(t, 3) {
            if let Some(close) = t.get(j).filter(|x| x.is_punct("(")).and(group_end(t, j)) {
                let (start, end) = span(sql, &t[j..=close]);
                out.push(Edit {
                    start,
                    end,
                    with: String::new(),
                });
            }
        }
    }
    if let Some((actions, all)) = alter_table_actions(t) {
        let cut: Vec<&[Tok]> = actions
            .iter()
            .copied()
            .filter(|a| unsupported_action(a))
            .collect();
        if !cut.is_empty() && cut.len() == all {
            return vec![Edit {
                start: 0,
                end: 0,
                with: EVERY_ACTION_CUT.into(),
            }];
        }
        // Each cut action takes a comma with it: the one after it, or for the last, the
        // one before.
        for a in cut {
            let (start, end) = span(sql, a);
            let after = &sql[end..];
            let comma_after = after.trim_start().starts_with(',');
            let (start, end) = if comma_after {
                (start, end + after.find(',').unwrap_or(0) + 1)
            } else {
                (sql[..start].rfind(',').unwrap_or(start), end)
            };
            out.push(Edit {
                start,
                end,
                with: String::new(),
            });
        }
    }
    out
}

const EVERY_ACTION_CUT: &str = "\u{0}";

fn apply(sql: &str, edits: &[Edit]) -> Rewritten {
    if edits.iter().any(|e| e.with == EVERY_ACTION_CUT) {
        return Rewritten::EveryActionCut;
    }
    let mut edits: Vec<&Edit> = edits.iter().collect();
    edits.sort_by_key(|e| e.start);
    let mut out = String::new();
    let mut at = 0;
    for e in edits {
        if e.start < at {
            continue;
        }
        out.push_str(&sql[at..e.start]);
        out.push_str(&e.with);
        at = e.end;
    }
    out.push_str(&sql[at..]);
    Rewritten::Sql(out)
}

/// `ALTER TABLE [IF EXISTS] [ONLY] name [*] action, ...`: the actions and their count.
fn alter_table_actions<'t>(t: &'t [Tok<'t>]) -> Option<(Vec<&'t [Tok<'t>]>, usize)> {
    if !at(t, 0, &["ALTER", "TABLE"]) {
        return None;
    }
    let i = skip(t, 2, &["IF", "EXISTS"]);
    let i = skip(t, i, &["ONLY"]);
    let (_, mut i) = qualified(t, i)?;
    if t.get(i).is_some_and(|x| x.is_punct("*")) {
        i += 1;
    }
    let actions = split_commas(&t[i..]);
    if actions.iter().any(|a| a.is_empty()) {
        return None;
    }
    let n = actions.len();
    Some((actions, n))
}

/// ALTER TABLE actions PostgreSQL runs and sqlparser rejects.
fn unsupported_action(a: &[Tok]) -> bool {
    if at(a, 0, &["ALTER", "CONSTRAINT"]) {
        // name, then only constraint characteristics.
        let mut k = 3;
        let words: &[&[&str]] = &[
            &["NOT", "DEFERRABLE"],
            &["DEFERRABLE"],
            &["INITIALLY", "DEFERRED"],
            &["INITIALLY", "IMMEDIATE"],
            &["NO", "INHERIT"],
            &["INHERIT"],
            &["NOT", "ENFORCED"],
            &["ENFORCED"],
        ];
        if a.get(2).and_then(Tok::ident).is_none() {
            return false;
        }
        while k < a.len() {
            match words.iter().find(|w| at(a, k, w)) {
                Some(w) => k += w.len(),
                None => return false,
            }
        }
        return k > 3;
    }
    if !a[0].is("ALTER") {
        return false;
    }
    let i = skip(a, 1, &["COLUMN"]);
    if a.get(i).and_then(Tok::ident).is_none() {
        return false;
    }
    let rest = &a[i + 1..];
    let options = |k: usize| {
        rest.get(k).is_some_and(|x| x.is_punct("(")) && group_end(rest, k) == Some(rest.len() - 1)
    };
    let one_more = |k: usize| rest.len() == k + 1;
    (at(rest, 0, &["SET"]) && options(1))
        || (at(rest, 0, &["RESET"]) && options(1))
        || (at(rest, 0, &["SET", "STATISTICS"]) && (one_more(2) || numeric_at(rest, 2)))
        || (at(rest, 0, &["SET", "STORAGE"]) && one_more(2))
        || (at(rest, 0, &["SET", "COMPRESSION"]) && one_more(2))
}

/// `-n` or `n` ending the tokens at `k`.
fn numeric_at(t: &[Tok], k: usize) -> bool {
    match t.get(k) {
        Some(x) if x.is_punct("-") => {
            t.get(k + 1).is_some_and(|n| n.kind == TokenKind::Num) && t.len() == k + 2
        }
        Some(x) => x.kind == TokenKind::Num && t.len() == k + 1,
        None => false,
    }
}

/// `DO [LANGUAGE l] 'body' [LANGUAGE l]`: the body is PL/pgSQL, not read here.
fn is_do(t: &[Tok]) -> bool {
    if !t.first().is_some_and(|x| x.is("DO")) {
        return false;
    }
    let lang =
        |i: usize| match at(t, i, &["LANGUAGE"]) && t.get(i + 1).and_then(Tok::ident).is_some() {
            true => i + 2,
            false => i,
        };
    let i = lang(1);
    if !t.get(i).is_some_and(|x| x.kind == TokenKind::Str) {
        return false;
    }
    lang(i + 1) == t.len()
}

/// `ALTER SEQUENCE [IF EXISTS] name` followed by one action PostgreSQL accepts:
/// `RENAME TO n`, `OWNER TO r`, `SET SCHEMA s`, `SET LOGGED | UNLOGGED`, or a list of
/// sequence options (`OWNED BY t.c | NONE`, `INCREMENT [BY] n`, `[NO] MINVALUE [n]`,
/// `RESTART [[WITH] n]`, ...).
fn is_alter_sequence(t: &[Tok]) -> bool {
    if !at(t, 0, &["ALTER", "SEQUENCE"]) {
        return false;
    }
    let i = skip(t, 2, &["IF", "EXISTS"]);
    let Some((_, i)) = qualified(t, i) else {
        return false;
    };
    let name_ends = |k: usize| qualified(t, k).is_some_and(|(_, e)| e == t.len());
    if at(t, i, &["RENAME", "TO"]) || at(t, i, &["OWNER", "TO"]) || at(t, i, &["SET", "SCHEMA"]) {
        return name_ends(i + 2);
    }
    if at(t, i, &["SET", "LOGGED"]) || at(t, i, &["SET", "UNLOGGED"]) {
        return t.len() == i + 2;
    }
    let num = |k: usize| -> Option<usize> {
        let k = if t.get(k).is_some_and(|x| x.is_punct("-") || x.is_punct("+")) {
            k + 1
        } else {
            k
        };
        t.get(k).filter(|x| x.kind == TokenKind::Num).map(|_| k + 1)
    };
    let mut k = i;
    let mut any = false;
    while k < t.len() {
        let next = if at(t, k, &["OWNED", "BY", "NONE"]) {
            Some(k + 3)
        } else if at(t, k, &["OWNED", "BY"]) {
            qualified(t, k + 2).map(|(_, e)| e)
        } else if at(t, k, &["AS"]) {
            t.get(k + 1).and_then(Tok::ident).map(|_| k + 2)
        } else if at(t, k, &["INCREMENT"]) {
            num(skip(t, k + 1, &["BY"]))
        } else if at(t, k, &["START"]) {
            num(skip(t, k + 1, &["WITH"]))
        } else if at(t, k, &["RESTART"]) {
            let w = skip(t, k + 1, &["WITH"]);
            num(w).or(Some(k + 1).filter(|_| w == k + 1))
        } else if at(t, k, &["NO", "MINVALUE"])
            || at(t, k, &["NO", "MAXVALUE"])
            || at(t, k, &["NO", "CYCLE"])
        {
            Some(k + 2)
        } else if at(t, k, &["MINVALUE"]) || at(t, k, &["MAXVALUE"]) || at(t, k, &["CACHE"]) {
            num(k + 1)
        } else if at(t, k, &["CYCLE"]) {
            Some(k + 1)
        } else {
            None
        };
        match next {
            Some(n) => {
                k = n;
                any = true;
            }
            None => return false,
        }
    }
    any
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pg(sql: &str) -> bool {
        parses(sql, Dialect::Postgres)
    }

    /// The statements of Lemmy's and Synapse's migrations that sqlparser 0.64 rejects.
    #[test]
    fn real_migrations_parse() {
        for sql in [
            "ALTER SEQUENCE user__id_seq\n    RENAME TO person_id_seq",
            "ALTER SEQUENCE IF EXISTS s OWNED BY public.t.c",
            "ALTER SEQUENCE s RESTART WITH 5 INCREMENT BY -1 NO MAXVALUE CACHE 10",
            "ALTER SEQUENCE s RESTART",
            "ALTER TABLE comment_aggregates\n    ALTER CONSTRAINT comment_aggregates_comment_id_fkey INITIALLY DEFERRED",
            "ALTER TABLE post_aggregates ALTER CONSTRAINT a INITIALLY DEFERRED, ALTER CONSTRAINT b DEFERRABLE INITIALLY IMMEDIATE",
            "ALTER TABLE t ALTER CONSTRAINT a NOT DEFERRABLE, ADD COLUMN x int",
            "ALTER TABLE event_search ALTER COLUMN room_id SET (n_distinct = -0.01)",
            "ALTER TABLE event_auth_chain_links ALTER target_chain_id SET (n_distinct = -0.5)",
            "ALTER TABLE t ALTER c SET STATISTICS 1000, ALTER d RESET (n_distinct)",
            "ALTER TABLE t ALTER c SET STORAGE EXTERNAL",
            "COMMENT ON COLUMN destinations.retry_interval IS\n$$How long, in 'ms'$$",
            "COMMENT ON FUNCTION f(int, text) IS 'x'",
            "DO $$\nBEGIN\n  IF true THEN RAISE NOTICE 'x'; END IF;\nEND\n$$",
            "DO LANGUAGE plpgsql $body$ BEGIN END $body$",
            "CREATE OR REPLACE FUNCTION utils.restore_views (p_view_schema name, p_view_name name)\n    RETURNS void\n    LANGUAGE plpgsql\n    COST 100\n    AS $BODY$ BEGIN END $BODY$",
            "CREATE FUNCTION f() RETURNS SETOF int LANGUAGE sql ROWS 5 AS $$ select 1 $$",
        ] {
            assert!(pg(sql), "{sql}");
        }
    }

    /// A typo next to a clause that is cut out, or in a shape, still fails.
    #[test]
    fn typos_still_fail() {
        for sql in [
            "ALTER TABLE t ADD COLUM x int",
            "ALTER TABLE t ALTER CONSTRAINT a INITIALLY DEFERRED, ADD COLUM x int",
            "ALTER TABLE t ALTER CONSTRAINT a INITIALY DEFERRED",
            "ALTER TABLE t ALTER c SET (n_distinct = -0.5) x",
            "ALTER SEQUENCE s RENAME person_id_seq",
            "ALTER SEQUENCE s RESTART WITH",
            "ALTER SEQUENCE s FROBNICATE",
            "DO",
            "DO $$ BEGIN END $$ x",
            "COMMENT ON COLUMN t.c IS $$x$$ y",
            "CREATE FUNCTION f() RETURNS int LANGUAGE sql COST AS $$ select 1 $$",
            "CREATE FUNCTON f() RETURNS int LANGUAGE sql COST 100 AS $$ select 1 $$",
        ] {
            assert!(!pg(sql), "{sql}");
        }
    }

    #[test]
    fn other_engines_get_sqlparser_alone() {
        assert!(parses(
            "CREATE TABLE t (id INTEGER PRIMARY KEY)",
            Dialect::Sqlite
        ));
        assert!(!parses("DO $$ BEGIN END $$", Dialect::Sqlite));
        assert!(!parses("ALTER SEQUENCE s RESTART", Dialect::Mysql));
    }
}
