//! Splitting a migration file into statements, with exact line numbers.
//!
//! The splitter never fails: text it cannot close (an unterminated string) becomes the
//! last statement, and the server reports the error at that statement's line. It
//! understands what decides where a `;` ends a statement:
//!
//! - `--` and nested `/* */` comments;
//! - `'...'` strings (with `''`), `E'...'` strings (with backslash escapes), `"..."`
//!   and `` `...` `` identifiers;
//! - dollar quoting (`$$ ... $$`, `$tag$ ... $tag$`);
//! - SQL-standard function bodies, `BEGIN ATOMIC ... END`, whose inner `;` do not split;
//! - MySQL's client-side `DELIMITER` lines, which change the terminator.

use crate::normalize::{block_comment_end, dollar_tag};

/// One statement of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stmt {
    /// The statement text without its terminator, trimmed.
    pub sql: String,
    /// 1-based line of the statement's first character in the file.
    pub line: usize,
    /// Byte offset of the statement's first character.
    pub offset: usize,
}

/// Splits `text` into statements. Comment-only pieces are dropped.
pub fn split(text: &str) -> Vec<Stmt> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut delimiter: String = ";".into();
    let mut i = 0;
    let mut start = 0;
    // Depth of BEGIN ATOMIC ... END (with CASE ... END nested inside it).
    let mut atomic_depth = 0usize;
    let mut prev_word = String::new();
    let mut line_start = true;

    let flush = |out: &mut Vec<Stmt>, from: usize, to: usize| {
        let piece = &text[from..to];
        if let Some(code) = code_start(piece) {
            let lead = piece.len() - piece.trim_start().len();
            let offset = from + lead;
            out.push(Stmt {
                sql: piece.trim().to_string(),
                // The line of the first code, past leading comments: where people look.
                line: 1 + text[..from + code].bytes().filter(|&c| c == b'\n').count(),
                offset,
            });
        }
    };

    while i < b.len() {
        // DELIMITER is a client command on a line of its own.
        if line_start {
            let rest = &text[i..];
            let trimmed = rest.trim_start_matches([' ', '\t']);
            if trimmed
                .get(..10)
                .is_some_and(|p| p.eq_ignore_ascii_case("delimiter "))
            {
                let line_end = rest.find('\n').map(|p| i + p).unwrap_or(b.len());
                let new = text[i..line_end].trim()[10..].trim();
                if !new.is_empty() {
                    flush(&mut out, start, i);
                    delimiter = new.to_string();
                    i = (line_end + 1).min(b.len());
                    start = i;
                    continue;
                }
            }
        }
        let c = b[i];
        line_start = false;
        if c == b'\n' {
            line_start = true;
            i += 1;
            continue;
        }
        if atomic_depth == 0 && text[i..].starts_with(delimiter.as_str()) {
            flush(&mut out, start, i);
            i += delimiter.len();
            start = i;
            prev_word.clear();
            continue;
        }
        match c {
            b'-' if b.get(i + 1) == Some(&b'-') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => i = block_comment_end(b, i),
            b'\'' => {
                let escapes =
                    i > 0 && matches!(b[i - 1], b'E' | b'e') && (i < 2 || !is_word(b[i - 2]));
                i = skip_quoted(b, i, b'\'', escapes);
            }
            b'"' | b'`' => i = skip_quoted(b, i, c, false),
            b'$' => match dollar_tag(&b[i..]) {
                Some(n) if i == 0 || !is_word(b[i - 1]) => {
                    let tag = &text[i..i + n];
                    i = match text[i + n..].find(tag) {
                        Some(p) => i + n + p + n,
                        None => b.len(),
                    };
                }
                _ => i += 1,
            },
            _ if is_word(c) => {
                let s = i;
                while i < b.len() && (is_word(b[i]) || b[i] == b'$') {
                    i += 1;
                }
                let w = text[s..i].to_ascii_uppercase();
                // CASE ... END nests inside an atomic body; its END must not close it.
                if (w == "ATOMIC" && prev_word == "BEGIN") || (atomic_depth > 0 && w == "CASE") {
                    atomic_depth += 1;
                } else if atomic_depth > 0 && w == "END" {
                    atomic_depth -= 1;
                }
                prev_word = w;
            }
            _ => i += 1,
        }
    }
    flush(&mut out, start, b.len());
    out
}

fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80
}

/// Index just past the closing quote (or the end of input when unterminated).
fn skip_quoted(b: &[u8], open: usize, q: u8, backslash: bool) -> usize {
    let mut i = open + 1;
    while i < b.len() {
        if backslash && b[i] == b'\\' {
            i += 2;
            continue;
        }
        if b[i] == q {
            if b.get(i + 1) == Some(&q) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    b.len()
}

/// Byte offset of the first character that is not whitespace or comment, if any.
fn code_start(piece: &str) -> Option<usize> {
    let b = piece.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            c if c.is_ascii_whitespace() => i += 1,
            b'-' if b.get(i + 1) == Some(&b'-') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => i = block_comment_end(b, i),
            _ => return Some(i),
        }
    }
    None
}

/// A statement that starts, ends or abandons a transaction block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxControl {
    /// `BEGIN`, `START TRANSACTION` (SQLite: `BEGIN DEFERRED|IMMEDIATE|EXCLUSIVE`).
    Begin,
    /// `COMMIT`, `END`.
    Commit,
    /// `ROLLBACK`, `ABORT` (not `ROLLBACK TO SAVEPOINT`, which stays in the block).
    Rollback,
}

/// What transaction control `sql` is, if any.
pub fn tx_control(sql: &str) -> Option<TxControl> {
    tx_control_of(&crate::lint::tokenize(sql))
}

/// [`tx_control`] of a statement already tokenized (comments and literals skipped).
pub fn tx_control_of(t: &[crate::lint::Tok]) -> Option<TxControl> {
    let first = t.first().filter(|x| x.kind == crate::lint::Kind::Word)?;
    let second = t.get(1);
    let is = |kw: &str| second.is_some_and(|x| x.is(kw));
    match first.text.as_str() {
        // `BEGIN ATOMIC` opens a function body, never a statement of its own.
        "BEGIN" if !is("ATOMIC") => Some(TxControl::Begin),
        "START" if is("TRANSACTION") => Some(TxControl::Begin),
        "COMMIT" | "END" if !is("PREPARED") => Some(TxControl::Commit),
        "ROLLBACK" if !is("TO") && !is("PREPARED") => Some(TxControl::Rollback),
        "ABORT" => Some(TxControl::Rollback),
        _ => None,
    }
}

/// Whether PostgreSQL refuses to run `sql` inside a transaction block: the CONCURRENTLY
/// forms of CREATE/DROP INDEX, REINDEX and DETACH PARTITION, VACUUM, CREATE/DROP
/// DATABASE and TABLESPACE, ALTER SYSTEM. (SQLite's VACUUM too.)
pub fn outside_transaction_only(sql: &str) -> bool {
    let t = crate::lint::tokenize(sql);
    let w = |i: usize| t.get(i).map(|x| x.text.as_str()).unwrap_or("");
    let concurrently = t.iter().any(|x| x.is("CONCURRENTLY"));
    match w(0) {
        "VACUUM" => true,
        // Not REFRESH MATERIALIZED VIEW CONCURRENTLY: that one runs in a transaction.
        "CREATE" | "DROP" | "REINDEX" | "ALTER" if concurrently => true,
        "CREATE" | "DROP" => matches!(w(1), "DATABASE" | "TABLESPACE"),
        "ALTER" => w(1) == "SYSTEM",
        _ => false,
    }
}

/// The statements of a file that lockstep runs inside its own transaction, without the
/// file's own `BEGIN` first and `COMMIT` last: that pair only restates the transaction
/// lockstep opens, and sent as written it would end lockstep's transaction early.
pub fn without_wrapper(mut stmts: Vec<Stmt>) -> Vec<Stmt> {
    let wrapped = stmts.len() >= 2
        && stmts.first().and_then(|s| tx_control(&s.sql)) == Some(TxControl::Begin)
        && stmts.last().and_then(|s| tx_control(&s.sql)) == Some(TxControl::Commit);
    if wrapped {
        stmts.pop();
        stmts.remove(0);
    }
    stmts
}

/// Whether every statement of `text` must run outside a transaction, so the file runs
/// without one even when it does not say so (as Flyway does). A file that mixes such
/// statements with others still runs in a transaction; lint reports it.
pub fn implicitly_no_transaction(text: &str) -> bool {
    let stmts = split(text);
    !stmts.is_empty() && stmts.iter().all(|s| outside_transaction_only(&s.sql))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sqls(t: &str) -> Vec<String> {
        split(t).into_iter().map(|s| s.sql).collect()
    }

    #[test]
    fn basic_and_lines() {
        let s = split("CREATE TABLE a (x int);\n\n-- c\nCREATE TABLE b (y int);\n");
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].line, 1);
        // A leading comment belongs to the statement after it; its line is the code's.
        assert_eq!(s[1].line, 4);
        assert_eq!(s[1].sql, "-- c\nCREATE TABLE b (y int)");
    }

    #[test]
    fn quotes_comments_dollars() {
        assert_eq!(
            sqls("SELECT ';' AS \"a;b\"; /* ; /* nested ; */ */ SELECT 2;"),
            vec!["SELECT ';' AS \"a;b\"", "/* ; /* nested ; */ */ SELECT 2"]
        );
        assert_eq!(
            sqls("CREATE FUNCTION f() RETURNS int AS $body$ BEGIN RETURN 1; END $body$ LANGUAGE plpgsql; SELECT 1"),
            vec![
                "CREATE FUNCTION f() RETURNS int AS $body$ BEGIN RETURN 1; END $body$ LANGUAGE plpgsql",
                "SELECT 1"
            ]
        );
        assert_eq!(
            sqls("SELECT E'it\\'s;'; SELECT 2"),
            vec!["SELECT E'it\\'s;'", "SELECT 2"]
        );
        assert_eq!(
            sqls("SELECT 'it''s;'; SELECT 2"),
            vec!["SELECT 'it''s;'", "SELECT 2"]
        );
        assert_eq!(sqls("-- only a comment;\n"), Vec::<String>::new());
    }

    #[test]
    fn begin_atomic_bodies() {
        let t = "CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN a > 0 THEN 1 ELSE 0 END; SELECT 2; END;\nSELECT 3;";
        let s = sqls(t);
        assert_eq!(s.len(), 2, "{s:?}");
        assert!(s[0].ends_with("END"));
        // A transaction's BEGIN is not a body.
        assert_eq!(sqls("BEGIN; SELECT 1; COMMIT;").len(), 3);
    }

    #[test]
    fn mysql_delimiter() {
        let t = "DELIMITER //\nCREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW BEGIN SET NEW.a = 1; END//\nDELIMITER ;\nSELECT 1;";
        let s = split(t);
        assert_eq!(s.len(), 2, "{s:?}");
        assert!(s[0].sql.ends_with("END"));
        assert_eq!(s[0].line, 2);
        assert_eq!(s[1].sql, "SELECT 1");
        assert_eq!(s[1].line, 4);
    }

    #[test]
    fn unterminated_string_is_the_last_statement() {
        let s = sqls("SELECT 1; SELECT 'oops; SELECT 3;");
        assert_eq!(s, vec!["SELECT 1", "SELECT 'oops; SELECT 3;"]);
    }

    proptest::proptest! {
        /// Joining statements that contain no terminators with `;` and splitting again
        /// gives them back, whatever quoting they use.
        #[test]
        fn split_inverts_join(parts in proptest::collection::vec(
            proptest::prop_oneof![
                "[a-z ]{1,10}",
                "'[a-z;]{0,6}'",
                "\"[a-z;]{0,6}\"",
                "\\$\\$[a-z; ]{0,6}\\$\\$",
                "/\\* [a-z;]{0,6} \\*/ x",
            ],
            1..6,
        )) {
            let stmts: Vec<String> = parts.iter().map(|p| format!("SELECT {p}")).collect();
            let text = stmts.join(";\n");
            let got: Vec<String> = split(&text).into_iter().map(|s| s.sql).collect();
            let want: Vec<String> = stmts.iter().map(|s| s.trim().to_string()).collect();
            proptest::prop_assert_eq!(got, want);
        }

        /// Every statement's offset and line point at its text in the file.
        #[test]
        fn offsets_and_lines_are_exact(text in "[a-z;'\\n $-]{0,60}") {
            for s in split(&text) {
                proptest::prop_assert!(text[s.offset..].starts_with(&s.sql));
                let line = 1 + text[..s.offset].matches('\n').count();
                proptest::prop_assert!(s.line >= line);
            }
        }
    }

    #[test]
    fn transaction_control_is_recognised() {
        use TxControl::*;
        for (sql, want) in [
            ("BEGIN", Some(Begin)),
            (
                "begin transaction isolation level serializable",
                Some(Begin),
            ),
            ("START TRANSACTION", Some(Begin)),
            ("BEGIN IMMEDIATE", Some(Begin)),
            ("-- done\nCOMMIT", Some(Commit)),
            ("END", Some(Commit)),
            ("ROLLBACK", Some(Rollback)),
            ("ABORT", Some(Rollback)),
            ("ROLLBACK TO SAVEPOINT a", None),
            ("COMMIT PREPARED 'x'", None),
            ("BEGIN ATOMIC SELECT 1; END", None),
            ("SAVEPOINT a", None),
            ("SELECT 'BEGIN'", None),
        ] {
            assert_eq!(tx_control(sql), want, "{sql}");
        }
    }

    #[test]
    fn statements_that_cannot_run_in_a_transaction() {
        for sql in [
            "CREATE INDEX CONCURRENTLY i ON t (a)",
            "create unique index concurrently if not exists i on t (a)",
            "DROP INDEX CONCURRENTLY i",
            "REINDEX INDEX CONCURRENTLY i",
            "ALTER TABLE p DETACH PARTITION c CONCURRENTLY",
            "VACUUM t",
            "CREATE DATABASE d",
            "ALTER SYSTEM SET work_mem = '1MB'",
        ] {
            assert!(outside_transaction_only(sql), "{sql}");
        }
        for sql in [
            "REFRESH MATERIALIZED VIEW CONCURRENTLY v",
            "CREATE INDEX i ON t (a)",
            "ALTER TABLE t ADD COLUMN concurrently_flag int",
            "SELECT 1",
        ] {
            assert!(!outside_transaction_only(sql), "{sql}");
        }
        assert!(implicitly_no_transaction(
            "-- one index\nCREATE INDEX CONCURRENTLY i ON t (a);\n"
        ));
        assert!(!implicitly_no_transaction(
            "CREATE INDEX CONCURRENTLY i ON t (a); ALTER TABLE t ADD c int;"
        ));
        assert!(!implicitly_no_transaction("-- nothing"));
    }

    #[test]
    fn a_wrapping_begin_commit_pair_is_dropped() {
        let sql = |v: Vec<Stmt>| v.into_iter().map(|s| s.sql).collect::<Vec<_>>();
        assert_eq!(
            sql(without_wrapper(split("BEGIN;\nSELECT 1;\nCOMMIT;"))),
            ["SELECT 1"]
        );
        assert_eq!(
            sql(without_wrapper(split("SELECT 1; COMMIT; SELECT 2;"))),
            ["SELECT 1", "COMMIT", "SELECT 2"]
        );
        assert_eq!(sql(without_wrapper(split("BEGIN; SELECT 1;"))).len(), 2);
    }
}
