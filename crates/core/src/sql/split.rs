//! Splitting a migration file into statements, with exact line numbers, on top of the
//! lexer: a `;` inside a comment, string, quoted name or dollar quote ends nothing.
//! Beyond the lexer it knows:
//!
//! - SQL-standard function bodies, `BEGIN ATOMIC ... END`, whose inner `;` do not split;
//! - MySQL's client-side `DELIMITER` lines, which change the terminator;
//! - a UTF-8 byte-order mark at the start, which is not part of the first statement.
//!
//! It never fails and reads the text once. Text it cannot close (an unterminated
//! comment, string, quoted name or dollar quote) is reported in [`Split::problems`]:
//! deploy and replay refuse such a file before running anything, lint reports it, so a
//! comment left open never quietly swallows the statements after it.

use super::lex::{self, Dialect, Lexer, Problem, Tok, TokenKind};

/// One statement of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stmt {
    /// The statement text without its terminator, trimmed of ASCII whitespace. Leading
    /// comments are kept (they are where people explain a statement).
    pub sql: String,
    /// 1-based line of the statement's first code (past leading comments) in the file.
    pub line: usize,
    /// Byte offset of `sql` in the file.
    pub offset: usize,
}

/// A file's statements, and what the file leaves open.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Split {
    /// Pieces with nothing but comments before their terminator are left out.
    pub statements: Vec<Stmt>,
    /// Unterminated comments, strings, quoted names and dollar quotes, in file order.
    pub problems: Vec<Problem>,
}

impl Split {
    /// The statements, or the first problem: for callers that run them.
    pub fn checked(self) -> Result<Vec<Stmt>, Problem> {
        match self.problems.first() {
            Some(p) => Err(*p),
            None => Ok(self.statements),
        }
    }
}

/// Splits `text` with PostgreSQL's lexical rules (the default for migration files).
pub fn split(text: &str) -> Split {
    split_with(text, Dialect::Postgres)
}

/// Splits `text` with `dialect`'s lexical rules.
pub fn split_with(text: &str, dialect: Dialect) -> Split {
    let mut it = statements(text, dialect);
    let statements = it.by_ref().collect();
    Split {
        statements,
        problems: it.problems,
    }
}

/// The statements of `text` one by one, for a reader that may stop early; what the text
/// leaves open is in [`Statements::problems`] once the iterator is exhausted.
pub fn statements(text: &str, dialect: Dialect) -> Statements<'_> {
    let body = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let mut lx = Lexer::new(text, dialect);
    lx.skip_to(body);
    Statements {
        text,
        lx,
        start: body,
        code_line: None,
        delimiter: None,
        atomic_depth: 0,
        after_begin: false,
        line_start: true,
        problems: vec![],
        done: false,
    }
}

/// See [`statements`].
pub struct Statements<'a> {
    text: &'a str,
    lx: Lexer<'a>,
    /// Where the statement being collected starts.
    start: usize,
    /// Line of its first code token, once there is one.
    code_line: Option<usize>,
    /// `;` unless a DELIMITER line changed it.
    delimiter: Option<String>,
    /// Depth of BEGIN ATOMIC ... END (with CASE ... END nested inside it).
    atomic_depth: usize,
    after_begin: bool,
    /// Only spaces and tabs since the last newline (or the start): where DELIMITER counts.
    line_start: bool,
    problems: Vec<Problem>,
    done: bool,
}

impl Statements<'_> {
    /// What the text leaves open, so far (all of it once the iterator is exhausted).
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    /// Ends the statement being collected at `to`, and starts the next one at `next`.
    fn cut(&mut self, to: usize, next: usize) -> Option<Stmt> {
        let start = std::mem::replace(&mut self.start, next);
        self.after_begin = false;
        let line = self.code_line.take()?;
        let piece = &self.text[start..to];
        let lead = piece.len() - piece.trim_ascii_start().len();
        Some(Stmt {
            sql: piece.trim_ascii().to_string(),
            line,
            offset: start + lead,
        })
    }
}

impl Iterator for Statements<'_> {
    type Item = Stmt;

    fn next(&mut self) -> Option<Stmt> {
        while !self.done {
            if let Some(s) = self.step() {
                return Some(s);
            }
        }
        None
    }
}

impl Statements<'_> {
    /// Reads one token (or one custom delimiter); returns a statement when it ends one.
    fn step(&mut self) -> Option<Stmt> {
        let text = self.text;
        let pos = self.lx.pos();
        if let Some(d) = self.delimiter.as_deref() {
            if self.atomic_depth == 0 && text[pos..].starts_with(d) {
                let next = pos + d.len();
                self.lx.skip_to(next);
                return self.cut(pos, next);
            }
        }
        let Some(tok) = self.lx.next() else {
            self.done = true;
            return self.cut(text.len(), text.len());
        };
        if let Some(p) = tok.problem() {
            self.problems.push(p);
        }
        match tok.kind {
            TokenKind::Space => {
                let spaces = |t: &str| t.bytes().all(|c| c == b' ' || c == b'\t');
                self.line_start = match tok.text.rfind('\n') {
                    Some(n) => spaces(&tok.text[n + 1..]),
                    None => self.line_start && spaces(tok.text),
                };
                return None;
            }
            TokenKind::LineComment | TokenKind::BlockComment => {
                self.line_start = false;
                return None;
            }
            _ => {}
        }
        if self.line_start
            && tok.kind == TokenKind::Word
            && tok.text.eq_ignore_ascii_case("delimiter")
        {
            let line_end = text[tok.end()..]
                .find('\n')
                .map_or(text.len(), |p| tok.end() + p);
            let rest = &text[tok.end()..line_end];
            let new = rest.trim();
            if rest.starts_with([' ', '\t']) && !new.is_empty() {
                self.delimiter = Some(new.to_string()).filter(|d| d != ";");
                self.lx.skip_to(line_end);
                return self.cut(tok.start, line_end);
            }
        }
        self.line_start = false;
        // The terminator is not code of its own: a piece that is nothing else is no
        // statement.
        if tok.kind == TokenKind::Punct
            && self.delimiter.is_none()
            && self.atomic_depth == 0
            && tok.text == ";"
        {
            return self.cut(tok.start, tok.end());
        }
        self.code_line.get_or_insert(tok.line);
        if tok.kind != TokenKind::Word {
            return None;
        }
        // A custom delimiter glued to a word (`END$$`, MySQL's habit) still ends
        // the statement: the word stops where the delimiter starts. (Not at 0:
        // the check before lexing caught that.)
        let glued = self.delimiter.as_deref().and_then(|d| tok.text.find(d));
        let word = match glued {
            Some(k) if k > 0 && self.atomic_depth == 0 => {
                self.lx.reset_to(tok.start + k, tok.line);
                &tok.text[..k]
            }
            _ => tok.text,
        };
        let w = Tok {
            kind: TokenKind::Word,
            text: word,
        };
        // CASE ... END nests inside an atomic body; its END must not close it.
        if (self.after_begin && w.is("ATOMIC")) || (self.atomic_depth > 0 && w.is("CASE")) {
            self.atomic_depth += 1;
        } else if self.atomic_depth > 0 && w.is("END") {
            self.atomic_depth -= 1;
        }
        self.after_begin = w.is("BEGIN");
        None
    }
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
    let head: Vec<Tok> = lex::code_tokens(sql, Dialect::Postgres).take(2).collect();
    tx_control_of(&head)
}

/// [`tx_control`] of a statement's code tokens.
pub fn tx_control_of(t: &[Tok]) -> Option<TxControl> {
    let first = t.first().filter(|x| x.kind == TokenKind::Word)?;
    let is = |kw: &str| t.get(1).is_some_and(|x| x.is(kw));
    if first.is("BEGIN") {
        // `BEGIN ATOMIC` opens a function body, never a statement of its own.
        (!is("ATOMIC")).then_some(TxControl::Begin)
    } else if first.is("START") {
        is("TRANSACTION").then_some(TxControl::Begin)
    } else if first.is_any(&["COMMIT", "END"]) {
        (!is("PREPARED")).then_some(TxControl::Commit)
    } else if first.is("ROLLBACK") {
        (!is("TO") && !is("PREPARED")).then_some(TxControl::Rollback)
    } else if first.is("ABORT") {
        Some(TxControl::Rollback)
    } else {
        None
    }
}

/// Whether PostgreSQL refuses to run `sql` inside a transaction block: the CONCURRENTLY
/// forms of CREATE/DROP INDEX, REINDEX and DETACH PARTITION, VACUUM, CREATE/DROP
/// DATABASE and TABLESPACE, ALTER SYSTEM. (SQLite's VACUUM too.)
pub fn outside_transaction_only(sql: &str) -> bool {
    // Read token by token, and past the verb only for a verb that can have CONCURRENTLY:
    // a data statement can be as large as the file.
    let mut tokens = lex::code_tokens(sql, Dialect::Postgres);
    let t: Vec<Tok> = tokens.by_ref().take(2).collect();
    let is = |i: usize, kw: &str| t.get(i).is_some_and(|x| x.is(kw));
    if is(0, "VACUUM") {
        return true;
    }
    let Some(verb) = ["CREATE", "DROP", "REINDEX", "ALTER"]
        .into_iter()
        .find(|v| is(0, v))
    else {
        return false;
    };
    // Not REFRESH MATERIALIZED VIEW CONCURRENTLY (not a verb here): that one runs in a
    // transaction.
    if t.iter().any(|x| x.is("CONCURRENTLY")) || tokens.any(|x| x.is("CONCURRENTLY")) {
        return true;
    }
    match verb {
        "CREATE" | "DROP" => is(1, "DATABASE") || is(1, "TABLESPACE"),
        "ALTER" => is(1, "SYSTEM"),
        _ => false,
    }
}

/// Whether `sql` may share one transaction with other statements that lockstep sends
/// with it in one round trip (PostgreSQL runs a multi-statement message as one implicit
/// transaction): no transaction control (PREPARED forms and savepoints included),
/// nothing refused inside a transaction block, and no CALL or DO, whose body may COMMIT.
/// A statement that adds an enum value fits, but the value is not usable until commit.
pub fn shares_a_transaction(sql: &str) -> bool {
    let first: Vec<Tok> = lex::code_tokens(sql, Dialect::Postgres).take(1).collect();
    let fixed = [
        "SAVEPOINT",
        "RELEASE",
        "ROLLBACK",
        "COMMIT",
        "PREPARE",
        "CALL",
        "DO",
        "CLUSTER",
        "DISCARD",
    ];
    !first.first().is_some_and(|t| t.is_any(&fixed))
        && tx_control(sql).is_none()
        && !outside_transaction_only(sql)
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
    // Stops at the first ordinary statement: most files have one at the top.
    let mut stmts = statements(text, Dialect::Postgres).peekable();
    stmts.peek().is_some() && stmts.all(|s| outside_transaction_only(&s.sql))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::lex::{Token, Unterminated};
    use proptest::prelude::*;

    #[test]
    fn what_shares_a_transaction() {
        for ok in [
            "CREATE TABLE t (id int)",
            "-- a comment\nALTER TABLE t ADD c int",
            "SELECT pg_sleep(1)",
            "CREATE FUNCTION f() RETURNS int BEGIN ATOMIC SELECT 1; END",
            "REFRESH MATERIALIZED VIEW CONCURRENTLY v",
        ] {
            assert!(shares_a_transaction(ok), "{ok}");
        }
        for no in [
            "BEGIN",
            "COMMIT",
            "commit prepared 'x'",
            "ROLLBACK TO SAVEPOINT a",
            "SAVEPOINT a",
            "CREATE INDEX CONCURRENTLY i ON t (a)",
            "VACUUM t",
            "CALL p()",
            "/* x */ DO $$ BEGIN COMMIT; END $$",
            "CREATE DATABASE d",
        ] {
            assert!(!shares_a_transaction(no), "{no}");
        }
    }

    fn sqls(t: &str) -> Vec<String> {
        split(t).statements.into_iter().map(|s| s.sql).collect()
    }

    fn problems(t: &str) -> Vec<(Unterminated, usize)> {
        split(t).problems.iter().map(|p| (p.what, p.line)).collect()
    }

    #[test]
    fn basic_and_lines() {
        let s = split("CREATE TABLE a (x int);\n\n-- c\nCREATE TABLE b (y int);\n").statements;
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
        assert_eq!(
            sqls("SELECT `a;b`; SELECT 2"),
            vec!["SELECT `a;b`", "SELECT 2"]
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
        let s = split(t).statements;
        assert_eq!(s.len(), 2, "{s:?}");
        assert!(s[0].sql.ends_with("END"));
        assert_eq!(s[0].line, 2);
        assert_eq!(s[1].sql, "SELECT 1");
        assert_eq!(s[1].line, 4);
    }

    #[test]
    fn a_delimiter_glued_to_a_word_ends_the_statement() {
        let t = "DELIMITER $$\nCREATE PROCEDURE p() BEGIN SELECT 1; END$$\nDELIMITER ;\nSELECT 2;";
        assert_eq!(
            sqls(t),
            ["CREATE PROCEDURE p() BEGIN SELECT 1; END", "SELECT 2"]
        );
    }

    /// Fuzz cases of issue 9: byte slicing at a non-ASCII comment and a bare DELIMITER.
    #[test]
    fn non_ascii_comments_and_a_bare_delimiter_do_not_panic() {
        assert_eq!(
            sqls("-- Создать таблицу\nCREATE TABLE t (x int);"),
            ["-- Создать таблицу\nCREATE TABLE t (x int)"]
        );
        assert_eq!(sqls("-- 创建表\nSELECT 1;"), ["-- 创建表\nSELECT 1"]);
        assert_eq!(sqls("DELIMITER \nSELECT 1;"), ["DELIMITER \nSELECT 1"]);
        assert_eq!(sqls("delimiter"), ["delimiter"]);
    }

    #[test]
    fn a_byte_order_mark_is_not_part_of_the_first_statement() {
        let s = split("\u{feff}CREATE TABLE t (x int);\nSELECT 1;").statements;
        assert_eq!(s[0].sql, "CREATE TABLE t (x int)");
        assert_eq!(s[0].offset, 3);
        assert_eq!(s[0].line, 1);
        assert_eq!(s[1].line, 2);
        // Only at the start: elsewhere it is text, and the server says what it thinks.
        assert_eq!(sqls("SELECT 1;\u{feff}x"), ["SELECT 1", "\u{feff}x"]);
    }

    #[test]
    fn unterminated_text_is_a_problem_at_its_opening_line() {
        use Unterminated::*;
        let t = "CREATE TABLE a (x int);\n/* oops\nCREATE TABLE c (z int);\n";
        assert_eq!(sqls(t), ["CREATE TABLE a (x int)"]);
        assert_eq!(problems(t), [(BlockComment, 2)]);
        assert_eq!(
            split(t).checked().unwrap_err().to_string(),
            "unterminated /* comment"
        );
        // Still open after a nested close.
        assert_eq!(problems("/* a /* b */ c"), [(BlockComment, 1)]);
        assert_eq!(problems("SELECT 1;\n\nSELECT 'oops;"), [(String, 3)]);
        assert_eq!(problems("SELECT E'\\';"), [(String, 1)]);
        assert_eq!(problems("SELECT \"a;\nb"), [(QuotedIdentifier, 1)]);
        assert_eq!(problems("SELECT `a"), [(QuotedIdentifier, 1)]);
        assert_eq!(problems("DO $x$ BEGIN\n END $y$;"), [(DollarQuote, 1)]);
        assert!(split("SELECT '' /* */ $$ $$ \"\" ``;").problems.is_empty());
        assert!(split("SELECT 1").checked().is_ok());
    }

    /// A terminator with nothing but comments before it ends no statement: sent alone,
    /// MariaDB answers "Query was empty", and the mysql client skips it too.
    #[test]
    fn a_lone_terminator_is_no_statement() {
        assert_eq!(sqls("SELECT 1;;\n-- c\n;"), ["SELECT 1"]);
        assert!(sqls(";").is_empty());
        let my = split_with("DELIMITER ;;\nSELECT 1;;\nDELIMITER ;\n;", Dialect::Mysql);
        assert_eq!(my.statements.len(), 1, "{:?}", my.statements);
    }

    #[test]
    fn unterminated_string_is_the_last_statement() {
        let s = sqls("SELECT 1; SELECT 'oops; SELECT 3;");
        assert_eq!(s, vec!["SELECT 1", "SELECT 'oops; SELECT 3;"]);
    }

    #[test]
    fn mysql_hash_comments_only_in_mysql() {
        let t = "SELECT 1; # a ; comment\nSELECT 2;";
        let my: Vec<String> = split_with(t, Dialect::Mysql)
            .statements
            .into_iter()
            .map(|s| s.sql)
            .collect();
        assert_eq!(my, ["SELECT 1", "# a ; comment\nSELECT 2"]);
        assert_eq!(sqls(t), ["SELECT 1", "# a", "comment\nSELECT 2"]);
        // MySQL does not nest block comments.
        let my = split_with("/* a /* b */ SELECT 1;", Dialect::Mysql);
        assert_eq!(my.statements.len(), 1);
        assert!(my.problems.is_empty());
    }

    fn mysql_sqls(t: &str) -> Vec<(String, usize)> {
        split_with(t, Dialect::Mysql)
            .statements
            .into_iter()
            .map(|s| (s.sql, s.line))
            .collect()
    }

    /// mysqldump's `/*!40101 SET ... */;` and its triggers are statements the server
    /// runs, not comments to drop.
    #[test]
    fn mysql_executable_comments_are_statements() {
        let t = "/*!40101 SET NAMES utf8 */;\n/*!50100 SELECT ';' */;\n# c\nSELECT 1;";
        assert_eq!(
            mysql_sqls(t),
            [
                ("/*!40101 SET NAMES utf8 */".to_string(), 1),
                ("/*!50100 SELECT ';' */".to_string(), 2),
                ("# c\nSELECT 1".to_string(), 4)
            ]
        );
        let t = "DELIMITER ;;\n/*!50003 CREATE*/ /*!50003 TRIGGER t BEFORE INSERT ON x FOR EACH ROW BEGIN SET NEW.a = 1; END */;;\nDELIMITER ;\n/*!40101 SET x = 1 */;";
        let s = mysql_sqls(t);
        assert_eq!(s.len(), 2, "{s:?}");
        assert!(s[0].0.ends_with("END */") && s[0].1 == 2, "{s:?}");
        assert_eq!(s[1], ("/*!40101 SET x = 1 */".to_string(), 4));
        // Without a DELIMITER, a `;` inside one ends the statement, as the mysql client
        // splits it (the server then refuses the half).
        assert_eq!(mysql_sqls("/*!50100 SELECT 1; SELECT 2 */;").len(), 2);
    }

    #[test]
    fn an_open_mysql_executable_comment_is_a_problem() {
        let s = split_with("SELECT 1;\n/*!50100 SELECT 2;\nSELECT 3;", Dialect::Mysql);
        let p: Vec<(Unterminated, usize)> = s.problems.iter().map(|p| (p.what, p.line)).collect();
        assert_eq!(p, [(Unterminated::ExecutableComment, 2)]);
        assert!(split_with("/*!50100 SELECT 2 */;", Dialect::Mysql)
            .problems
            .is_empty());
    }

    /// Inputs that once panicked or that sit on a boundary of the lexer, in every dialect.
    const FIXED: &[&str] = &[
        "-- Создать таблицу\nCREATE TABLE t (x int);",
        "-- 创建表",
        "DELIMITER ",
        "DELIMITER \n",
        "  delimiter\t\u{e9}\nx\u{e9}y\u{e9}",
        "delimiter é\nSELECTé1é",
        "\u{feff}",
        "\u{feff}\u{feff}",
        "$",
        "$$",
        "$a",
        "$é$ x $é$",
        "$1$",
        "E'\\",
        "e'\\é",
        "'\\",
        "/*",
        "/* /* */",
        "/*/",
        "-",
        "--",
        "#",
        "\"",
        "`",
        "[",
        "x'",
        "0x",
        "1e+",
        ".5.",
        "\0;\u{7f};\u{80}",
        "BEGIN ATOMIC",
        "BEGIN ATOMIC END END END;",
        "\r\n;\r\n",
        "/*!",
        "/*M!",
        "/*M",
        "/*!5010",
        "/*!*/*/",
        "/*!/*!*/",
        "/*!'*/",
        "/*!#*/",
        "0x",
        "0b",
        "t.1",
        "`t`.5e",
        "$é",
    ];

    #[test]
    fn fixed_fuzz_cases_do_not_panic() {
        for t in FIXED {
            for d in [Dialect::Postgres, Dialect::Mysql, Dialect::Sqlite] {
                check(t, d).unwrap_or_else(|e| panic!("{t:?} in {d:?}: {e}"));
            }
        }
    }

    /// What must hold for any input: tokens cover the input exactly with naive line
    /// numbers; statements point at their text, with a line between the naive lines of
    /// their first and last byte; problems point at an opening.
    fn check(t: &str, d: Dialect) -> Result<(), TestCaseError> {
        let mut at = 0;
        for tok in Lexer::new(t, d) {
            prop_assert_eq!(tok.start, at);
            prop_assert_eq!(tok.line, 1 + t[..at].matches('\n').count());
            at = tok.end();
        }
        prop_assert_eq!(at, t.len());
        let s = split_with(t, d);
        for st in &s.statements {
            prop_assert!(t[st.offset..].starts_with(&st.sql));
            let first = 1 + t[..st.offset].matches('\n').count();
            prop_assert!(st.line >= first && st.line <= first + st.sql.matches('\n').count());
        }
        for p in &s.problems {
            prop_assert_eq!(p.line, 1 + t[..p.offset].matches('\n').count());
        }
        Ok(())
    }

    /// SQL's significant characters, some non-ASCII text, a byte-order mark, and MySQL's
    /// executable-comment marks.
    const SQLISH: &str =
        "[a-zA-Z0-9_ \\t\\r\\n;:,.()'\"`$/*#!\\\\\\[\\]+=<>-]|é|日本|🦀|\u{feff}|Создать|BEGIN ATOMIC |END |CASE |\\$\\$|\\$t\\$|/\\*!50100 |/\\*M!100100 |\\*/";

    fn sqlish(max: usize) -> impl Strategy<Value = String> {
        proptest::collection::vec(proptest::string::string_regex(SQLISH).unwrap(), 0..max)
            .prop_map(|v| v.concat())
    }

    /// MySQL code without comments, in whole tokens glued or spaced: names (some
    /// starting with a digit or `$`), numbers, strings and quoted names holding comment
    /// characters and escapes, punctuation.
    fn mysql_code() -> impl Strategy<Value = String> {
        let piece = proptest::prop_oneof![
            "[a-zA-Z_$é][a-zA-Z0-9_$é]{0,5}",
            "[0-9]{1,3}(\\.[0-9]{0,2})?(e[+-]?[0-9]{1,2})?|0x[0-9a-fA-F]{1,3}|0b[01]{1,3}|[0-9][a-z_]{1,3}",
            "'([a-z;*/#!-]|\\\\[a-z'*]|''){0,6}'",
            "\"([a-z;*/#!' -]|\\\\\"){0,6}\"",
            "`([a-z;*/#!' -]|``){0,6}`",
            "[-+*/.,;()=<>!@]",
        ];
        proptest::collection::vec((piece, "[ \n]?"), 0..12)
            .prop_map(|v| v.into_iter().map(|(p, sep)| p + &sep).collect())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn any_unicode_never_panics(t in any::<String>()) {
            for d in [Dialect::Postgres, Dialect::Mysql, Dialect::Sqlite] {
                check(&t, d)?;
            }
        }

        #[test]
        fn any_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..300)) {
            let t = String::from_utf8_lossy(&b);
            for d in [Dialect::Postgres, Dialect::Mysql, Dialect::Sqlite] {
                check(&t, d)?;
            }
        }

        #[test]
        fn sql_like_text_never_panics(t in sqlish(80)) {
            for d in [Dialect::Postgres, Dialect::Mysql, Dialect::Sqlite] {
                check(&t, d)?;
            }
        }

        /// MySQL reads the content of an executable comment as the same code without the
        /// comment, for content that neither leaves text open nor holds comments or a
        /// `*/` of its own.
        #[test]
        fn mysql_executable_content_reads_as_code(t in mysql_code(), mark in "/\\*!|/\\*!50100|/\\*M!100100") {
            let alone: Vec<Token> = Lexer::new(&t, Dialect::Mysql).collect();
            prop_assume!(alone.iter().all(|x| !x.unterminated && matches!(
                x.kind,
                TokenKind::Space | TokenKind::Word | TokenKind::Quoted | TokenKind::Str | TokenKind::Num | TokenKind::Punct
            )));
            prop_assume!(!alone.windows(2).any(|w| w[0].text == "*" && w[1].text == "/"));
            // A leading digit would join the version.
            prop_assume!(!t.starts_with(|c: char| c.is_ascii_digit()));
            let wrapped = format!("{mark}{t} */");
            prop_assert_eq!(lex::code_with(&wrapped, Dialect::Mysql), lex::code_with(&t, Dialect::Mysql));
            prop_assert!(!Lexer::new(&wrapped, Dialect::Mysql).any(|x| x.unterminated));
        }

        /// Joining the statements with the delimiter (on a line of its own, so a trailing
        /// line comment cannot swallow it) and splitting again gives them back.
        #[test]
        fn splitting_is_stable(t in sqlish(60)) {
            prop_assume!(!t.to_ascii_lowercase().contains("delimiter"));
            let once = sqls(&t);
            let joined = format!("\n{}", once.join("\n;\n"));
            prop_assert_eq!(sqls(&joined), once);
        }

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
            let want: Vec<String> = stmts.iter().map(|s| s.trim().to_string()).collect();
            prop_assert_eq!(sqls(&text), want);
        }

        /// Without comments, a statement's line is the naive count of newlines before it.
        #[test]
        fn lines_match_a_naive_count(t in "[a-z;'\"\\n $é日]{0,80}") {
            for s in split(&t).statements {
                prop_assert!(t[s.offset..].starts_with(&s.sql));
                prop_assert_eq!(s.line, 1 + t[..s.offset].matches('\n').count());
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
        let ww = |t: &str| sql(without_wrapper(split(t).statements));
        assert_eq!(ww("BEGIN;\nSELECT 1;\nCOMMIT;"), ["SELECT 1"]);
        assert_eq!(
            ww("SELECT 1; COMMIT; SELECT 2;"),
            ["SELECT 1", "COMMIT", "SELECT 2"]
        );
        assert_eq!(ww("BEGIN; SELECT 1;").len(), 2);
    }
}
