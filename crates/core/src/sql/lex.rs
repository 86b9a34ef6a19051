//! The one SQL lexer: every reader of SQL text in lockstep goes through it (see
//! ARCHITECTURE.md, "one lexer").
//!
//! It never fails and never panics, whatever the bytes: it only ever stops on an ASCII
//! byte or at the end, so every token is a valid `&str` slice of the input, and it reads
//! each byte once (the content of a MySQL executable comment twice: once to find its
//! end). A comment, string, quoted identifier or dollar quote that is still open at the
//! end of the input becomes one token to the end, flagged `unterminated`, so that
//! callers report it (as psql does) instead of quietly losing what follows; so does the
//! mark of an executable comment that is never closed.

use std::fmt;

/// Where the SQL dialects disagree about what a byte means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dialect {
    /// PostgreSQL, and the default for migration files of no known engine: block comments
    /// nest, `E'...'` strings take backslash escapes, `$tag$` quotes. Backquoted
    /// identifiers are read too: PostgreSQL has no other use for a backquote, and the
    /// same files hold MySQL's.
    #[default]
    Postgres,
    /// MySQL and MariaDB: `#` comments, `--` only before a space, block comments do not
    /// nest, every string takes backslash escapes, `"..."` is a string, no dollar quotes.
    /// An executable comment (`/*!50100 ... */`, MariaDB's `/*M!100100 ... */`) is code:
    /// its marks are [`TokenKind::Executable`] tokens and what lies between is read as
    /// if they were not there. A name may start with a digit (`1abc`, and after a
    /// qualifier's dot, `t.1`) or a `$`.
    Mysql,
    /// SQLite: block comments do not nest, `[x]` identifiers, no dollar quotes, and the
    /// two-character operators (`<>`, `||`, `==`, ...) are one token.
    Sqlite,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// A run of ASCII whitespace.
    Space,
    /// `-- ...` (or MySQL's `# ...`) up to, not including, the newline.
    LineComment,
    /// `/* ... */`.
    BlockComment,
    /// An unquoted word: keyword or identifier, as written.
    Word,
    /// A quoted identifier, quotes included: `"x"`, `` `x` ``, SQLite's `[x]`.
    Quoted,
    /// A string, quotes and prefix included: `'x'`, `E'x'`, `X'00'`, `$tag$x$tag$`.
    Str,
    /// A number: `1`, `1.5e-3`, `.5`, `0x1F`.
    Num,
    /// Anything else: one character (SQLite: or a two-character operator).
    Punct,
    /// MySQL: the mark that opens an executable comment (`/*!`, `/*!50100`,
    /// `/*M!100100`), or the `*/` that closes it. The text between is code the server
    /// runs, whatever version the mark names: the servers print only what they run.
    Executable,
}

/// One token, borrowed from the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token<'a> {
    pub kind: TokenKind,
    pub text: &'a str,
    /// Byte offset of the token in the input.
    pub start: usize,
    /// 1-based line of the token's first character.
    pub line: usize,
    /// A comment, string, quoted identifier or dollar quote that the input ends inside.
    pub unterminated: bool,
}

impl<'a> Token<'a> {
    pub fn end(&self) -> usize {
        self.start + self.text.len()
    }

    /// Neither whitespace, nor a comment, nor the mark of an executable comment (whose
    /// content is code).
    pub fn is_code(&self) -> bool {
        !matches!(
            self.kind,
            TokenKind::Space
                | TokenKind::LineComment
                | TokenKind::BlockComment
                | TokenKind::Executable
        )
    }

    /// A dollar-quoted string's opening tag, body and closing tag (empty when the input
    /// ends inside it).
    pub fn dollar_parts(&self) -> Option<(&'a str, &'a str, &'a str)> {
        if self.kind != TokenKind::Str {
            return None;
        }
        let open = dollar_tag(self.text.as_bytes()).map(|n| &self.text[..n])?;
        let rest = &self.text[open.len()..];
        Some(match rest.strip_suffix(open) {
            Some(body) if !self.unterminated => (open, body, open),
            _ => (open, rest, ""),
        })
    }

    /// What is left open, for an unterminated token.
    pub fn problem(&self) -> Option<Problem> {
        if !self.unterminated {
            return None;
        }
        let what = match self.kind {
            TokenKind::BlockComment => Unterminated::BlockComment,
            TokenKind::Executable => Unterminated::ExecutableComment,
            TokenKind::Quoted => Unterminated::QuotedIdentifier,
            TokenKind::Str if self.text.starts_with('$') => Unterminated::DollarQuote,
            _ => Unterminated::String,
        };
        Some(Problem {
            what,
            line: self.line,
            offset: self.start,
        })
    }
}

/// What the input ends inside of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unterminated {
    BlockComment,
    /// MySQL's `/*!` without its `*/`.
    ExecutableComment,
    String,
    QuotedIdentifier,
    DollarQuote,
}

impl fmt::Display for Unterminated {
    /// psql's words for it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Unterminated::BlockComment => "/* comment",
            Unterminated::ExecutableComment => "/*! comment",
            Unterminated::String => "quoted string",
            Unterminated::QuotedIdentifier => "quoted identifier",
            Unterminated::DollarQuote => "dollar-quoted string",
        })
    }
}

/// Text that the input ends inside of: everything after its opening is swallowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("unterminated {what}")]
pub struct Problem {
    pub what: Unterminated,
    /// 1-based line of the opening.
    pub line: usize,
    /// Byte offset of the opening.
    pub offset: usize,
}

impl Problem {
    /// What to do about it, for a `hint:` line.
    pub fn hint(&self) -> &'static str {
        match self.what {
            Unterminated::BlockComment => {
                "close the comment with `*/`: as written, every statement after it is part of the comment and would not run (psql rejects the file too)"
            }
            Unterminated::ExecutableComment => {
                "close the executable comment with `*/`: as written, the statements after it are inside it, and the server refuses a statement that ends inside one"
            }
            Unterminated::String => {
                "close the string with `'` (write a quote inside it as `''`): as written, it runs to the end of the file"
            }
            Unterminated::QuotedIdentifier => {
                "close the quoted name with `\"`: as written, it runs to the end of the file"
            }
            Unterminated::DollarQuote => {
                "close the dollar quote with the same tag it opened with (`$$` or `$tag$`): as written, it runs to the end of the file"
            }
        }
    }
}

/// The tokens of `src`, in order, whitespace and comments included.
pub struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    line: usize,
    dialect: Dialect,
    /// MySQL: inside an executable comment, so the next `*/` closes it.
    executable: bool,
    /// MySQL: the last token was a name, so a `.` after it qualifies it.
    after_name: bool,
    /// MySQL: the last token was a `.` glued to a name, so what follows is a name, even
    /// a digit (`t.1`).
    after_qualifier: bool,
}

impl<'a> Lexer<'a> {
    pub fn new(src: &'a str, dialect: Dialect) -> Lexer<'a> {
        Lexer {
            src,
            pos: 0,
            line: 1,
            dialect,
            executable: false,
            after_name: false,
            after_qualifier: false,
        }
    }

    /// Byte offset of the next token.
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// Moves to `pos`, a char boundary after the current position, counting the lines
    /// skipped. For text a caller consumes itself (a MySQL `DELIMITER` line).
    pub fn skip_to(&mut self, pos: usize) {
        let pos = pos.clamp(self.pos, self.src.len());
        self.line += newlines(&self.src[self.pos..pos]);
        self.pos = pos;
        self.after_name = false;
        self.after_qualifier = false;
    }

    /// Moves back to `pos` on `line`: for a caller that splits a token it was handed.
    pub fn reset_to(&mut self, pos: usize, line: usize) {
        self.pos = pos.min(self.src.len());
        self.line = line;
        self.after_name = false;
        self.after_qualifier = false;
    }

    /// Index just past the token starting at `i`, its kind and whether it is closed.
    fn token_end(&self, i: usize) -> (usize, TokenKind, bool) {
        let b = self.src.as_bytes();
        let c = b[i];
        let next = b.get(i + 1).copied();
        let mysql = self.dialect == Dialect::Mysql;
        match c {
            _ if c.is_ascii_whitespace() => {
                let end = i + b[i..]
                    .iter()
                    .position(|x| !x.is_ascii_whitespace())
                    .unwrap_or(b.len() - i);
                (end, TokenKind::Space, true)
            }
            b'-' if next == Some(b'-')
                && (!mysql
                    || b.get(i + 2)
                        .is_none_or(|x| x.is_ascii_whitespace() || x.is_ascii_control())) =>
            {
                (line_end(b, i), TokenKind::LineComment, true)
            }
            b'#' if mysql => (line_end(b, i), TokenKind::LineComment, true),
            b'/' if next == Some(b'*') => match executable_mark(&b[i..]).filter(|_| mysql) {
                // A second mark inside one does not nest (MariaDB reads it as a mark,
                // and the first `*/` closes both): only the outer one can be left open.
                Some(n) => {
                    let closed = self.executable || self.closes_executable(i + n);
                    (i + n, TokenKind::Executable, closed)
                }
                None => {
                    let (end, closed) = self.block_comment(i);
                    (end, TokenKind::BlockComment, closed)
                }
            },
            b'*' if self.executable && next == Some(b'/') => (i + 2, TokenKind::Executable, true),
            b'\'' => {
                let (end, closed) = quoted(b, i, b'\'', mysql);
                (end, TokenKind::Str, closed)
            }
            b'"' => {
                let (end, closed) = quoted(b, i, b'"', mysql);
                let kind = if mysql {
                    TokenKind::Str
                } else {
                    TokenKind::Quoted
                };
                (end, kind, closed)
            }
            b'`' => {
                let (end, closed) = quoted(b, i, b'`', false);
                (end, TokenKind::Quoted, closed)
            }
            b'[' if self.dialect == Dialect::Sqlite => {
                match b[i + 1..].iter().position(|&x| x == b']') {
                    Some(p) => (i + 1 + p + 1, TokenKind::Quoted, true),
                    None => (b.len(), TokenKind::Quoted, false),
                }
            }
            // A prefixed string: E'...' (escapes), X'...' (hex, SQLite's blobs), B'...'
            // (bits), N'...' (national).
            b'X' | b'x' if next == Some(b'\'') => {
                let (end, closed) = quoted(b, i + 1, b'\'', mysql);
                (end, TokenKind::Str, closed)
            }
            b'B' | b'b' | b'N' | b'n' if next == Some(b'\'') && self.dialect != Dialect::Sqlite => {
                let (end, closed) = quoted(b, i + 1, b'\'', mysql);
                (end, TokenKind::Str, closed)
            }
            b'E' | b'e' if next == Some(b'\'') && self.dialect == Dialect::Postgres => {
                let (end, closed) = quoted(b, i + 1, b'\'', true);
                (end, TokenKind::Str, closed)
            }
            b'$' if self.dialect == Dialect::Postgres => match dollar_tag(&b[i..]) {
                Some(n) => {
                    let tag = &self.src[i..i + n];
                    match self.src[i + n..].find(tag) {
                        Some(p) => (i + n + p + n, TokenKind::Str, true),
                        None => (b.len(), TokenKind::Str, false),
                    }
                }
                None => (i + 1, TokenKind::Punct, true),
            },
            b'0'..=b'9' if mysql && self.after_qualifier => (word_end(b, i), TokenKind::Word, true),
            b'0'..=b'9' if mysql => {
                let (end, kind) = mysql_number(b, i);
                (end, kind, true)
            }
            b'0'..=b'9' => (number_end(b, i), TokenKind::Num, true),
            // MySQL: not after a name, where the dot qualifies it (`t.5` names `5`).
            b'.' if next.is_some_and(|x| x.is_ascii_digit()) && !(mysql && self.after_name) => {
                let end = if mysql {
                    exponent_end(b, digits_end(b, i + 1))
                } else {
                    number_end(b, i)
                };
                (end, TokenKind::Num, true)
            }
            _ if is_word_start(c) || (mysql && c == b'$') => {
                (word_end(b, i), TokenKind::Word, true)
            }
            _ => {
                const TWO: [&[u8; 2]; 9] = [
                    b"<>", b"<=", b">=", b"==", b"!=", b"||", b"<<", b">>", b"->",
                ];
                let two = self.dialect == Dialect::Sqlite
                    && b.get(i..i + 2)
                        .is_some_and(|p| TWO.iter().any(|t| &t[..] == p));
                (i + if two { 2 } else { 1 }, TokenKind::Punct, true)
            }
        }
    }

    /// Whether the executable comment whose content starts at `i` has a `*/` that
    /// closes it: the content read as code, so that a `*/` in a string or a `#`
    /// comment does not count. It reads the content a second time, once per comment:
    /// inside one, no mark looks ahead again.
    fn closes_executable(&self, i: usize) -> bool {
        let mut inside = Lexer::new(self.src, Dialect::Mysql);
        inside.pos = i;
        inside.executable = true;
        inside.any(|t| t.kind == TokenKind::Executable && t.text == "*/")
    }

    /// The end of the block comment opening at `i`, and whether it is closed.
    /// PostgreSQL nests block comments; MySQL and SQLite end at the first `*/`.
    fn block_comment(&self, i: usize) -> (usize, bool) {
        let b = self.src.as_bytes();
        let nests = self.dialect == Dialect::Postgres;
        let mut depth = 1usize;
        let mut j = i + 2;
        while j + 1 < b.len() {
            match (b[j], b[j + 1]) {
                (b'*', b'/') => {
                    depth -= 1;
                    j += 2;
                    if depth == 0 {
                        return (j, true);
                    }
                }
                (b'/', b'*') if nests => {
                    depth += 1;
                    j += 2;
                }
                _ => j += 1,
            }
        }
        (b.len(), false)
    }
}

impl<'a> Iterator for Lexer<'a> {
    type Item = Token<'a>;

    fn next(&mut self) -> Option<Token<'a>> {
        if self.pos >= self.src.len() {
            return None;
        }
        let start = self.pos;
        let (end, kind, closed) = self.token_end(start);
        // Every end is an ASCII byte's index or the input's length: a char boundary.
        let end = end.min(self.src.len());
        let text = &self.src[start..end];
        let tok = Token {
            kind,
            text,
            start,
            line: self.line,
            unterminated: !closed,
        };
        self.line += newlines(text);
        self.pos = end;
        if kind == TokenKind::Executable {
            // A mark opens one (again), `*/` closes it.
            self.executable = text != "*/";
        }
        self.after_qualifier = self.after_name && text == ".";
        self.after_name = matches!(kind, TokenKind::Word | TokenKind::Quoted);
        Some(tok)
    }
}

/// Whether `prev` written directly before `next` would read differently than with a
/// space between: two words (or a word and a `$`) would join into one, or `-` `-` and
/// `/` `*` would open a comment.
pub fn needs_space(prev: &str, next: &str) -> bool {
    let (Some(&a), Some(&b)) = (prev.as_bytes().last(), next.as_bytes().first()) else {
        return false;
    };
    (is_word_byte(a) && is_word_byte(b)) || matches!((a, b), (b'-', b'-') | (b'/', b'*'))
}

fn newlines(s: &str) -> usize {
    s.bytes().filter(|&c| c == b'\n').count()
}

fn is_word_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c >= 0x80
}

/// A byte that continues a word. Bytes of non-ASCII characters count as letters (as in
/// PostgreSQL), so a word never ends inside a character.
fn is_word_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80
}

/// Length of MySQL's executable-comment mark at the start of `b`: `/*!` or MariaDB's
/// `/*M!`, and the version if one follows. As the servers read it, a version is five
/// digits, or six when a sixth follows; fewer digits are not a version but content.
fn executable_mark(b: &[u8]) -> Option<usize> {
    let bang = match (b.get(2), b.get(3)) {
        (Some(b'!'), _) => 3,
        (Some(b'M'), Some(b'!')) => 4,
        _ => return None,
    };
    let digits = digits_end(b, bang) - bang;
    Some(bang + if digits >= 5 { digits.min(6) } else { 0 })
}

fn digits_end(b: &[u8], i: usize) -> usize {
    i + b[i..].iter().take_while(|x| x.is_ascii_digit()).count()
}

fn word_end(b: &[u8], i: usize) -> usize {
    i + b[i..].iter().take_while(|&&x| is_word_byte(x)).count()
}

/// The end of an exponent (`e3`, `E-3`) at `i`, or `i` when there is none.
fn exponent_end(b: &[u8], i: usize) -> usize {
    if !matches!(b.get(i), Some(b'e' | b'E')) {
        return i;
    }
    let sign = usize::from(matches!(b.get(i + 1), Some(b'+' | b'-')));
    match b.get(i + 1 + sign) {
        Some(x) if x.is_ascii_digit() => digits_end(b, i + 1 + sign),
        _ => i,
    }
}

/// What MySQL reads at a digit: a number when the run is one (`12`, `1.5`, `1e-3`,
/// `0x1F`, `0b101`), otherwise a name (`1abc`, `0X1F`, `0x1g`, `1_000`).
fn mysql_number(b: &[u8], i: usize) -> (usize, TokenKind) {
    let is_name_after = |end: usize| b.get(end).is_some_and(|&x| is_word_byte(x));
    if b[i] == b'0' && matches!(b.get(i + 1), Some(b'x' | b'b')) {
        let hex = b[i + 1] == b'x';
        let digit = |x: &&u8| x.is_ascii_hexdigit() && (hex || matches!(x, b'0' | b'1'));
        let end = i + 2 + b[i + 2..].iter().take_while(digit).count();
        if end > i + 2 && !is_name_after(end) {
            return (end, TokenKind::Num);
        }
        return (word_end(b, i), TokenKind::Word);
    }
    let int = digits_end(b, i);
    if b.get(int) == Some(&b'.') {
        return (exponent_end(b, digits_end(b, int + 1)), TokenKind::Num);
    }
    match exponent_end(b, int) {
        end if end > int => (end, TokenKind::Num),
        _ if is_name_after(int) => (word_end(b, i), TokenKind::Word),
        _ => (int, TokenKind::Num),
    }
}

fn line_end(b: &[u8], i: usize) -> usize {
    i + b[i..]
        .iter()
        .position(|&x| x == b'\n')
        .unwrap_or(b.len() - i)
}

/// The end of the quoted text opening with `q` at `open` (a doubled `q` stands for one;
/// with `backslash`, `\` escapes the next byte), and whether it is closed.
fn quoted(b: &[u8], open: usize, q: u8, backslash: bool) -> (usize, bool) {
    let mut i = open + 1;
    while i < b.len() {
        let c = b[i];
        if backslash && c == b'\\' {
            i += 2;
        } else if c == q {
            if b.get(i + 1) == Some(&q) {
                i += 2;
            } else {
                return (i + 1, true);
            }
        } else {
            i += 1;
        }
    }
    (b.len(), false)
}

/// Length of a dollar-quote opening tag (`$$` or `$tag$`) at the start of `b`.
fn dollar_tag(b: &[u8]) -> Option<usize> {
    let mut j = 1;
    while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_' || b[j] >= 0x80) {
        if j == 1 && b[j].is_ascii_digit() {
            return None;
        }
        j += 1;
    }
    (b.get(j) == Some(&b'$')).then_some(j + 1)
}

fn number_end(b: &[u8], start: usize) -> usize {
    let hex = b[start] == b'0' && matches!(b.get(start + 1), Some(b'x' | b'X'));
    let mut i = start + 1;
    while i < b.len() {
        let x = b[i];
        let exponent_sign = (x == b'+' || x == b'-') && !hex && matches!(b[i - 1], b'e' | b'E');
        if x.is_ascii_alphanumeric() || x == b'.' || x == b'_' || exponent_sign {
            i += 1;
        } else {
            break;
        }
    }
    i
}

/// A code token: two words of memory, borrowed from the statement, so a statement's
/// tokens take a bounded multiple of its size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tok<'a> {
    /// Never whitespace or a comment.
    pub kind: TokenKind,
    pub text: &'a str,
}

impl Tok<'_> {
    /// Whether this is the keyword `kw` (ASCII case-insensitive).
    pub fn is(&self, kw: &str) -> bool {
        self.kind == TokenKind::Word && self.text.eq_ignore_ascii_case(kw)
    }

    /// Whether this is one of the keywords `kws`.
    pub fn is_any(&self, kws: &[&str]) -> bool {
        kws.iter().any(|k| self.is(k))
    }

    pub fn is_punct(&self, c: &str) -> bool {
        self.kind == TokenKind::Punct && self.text == c
    }

    /// The identifier this token names, with PostgreSQL's folding: an unquoted word is
    /// lowercased (ASCII letters only, as the server does), a quoted one kept as written.
    pub fn ident(&self) -> Option<String> {
        match self.kind {
            TokenKind::Word => Some(self.text.to_ascii_lowercase()),
            TokenKind::Quoted => Some(unquote(self.text)),
            _ => None,
        }
    }

    /// The name this token spells, as written: quotes removed, case kept.
    pub fn name(&self) -> Option<String> {
        match self.kind {
            TokenKind::Word => Some(self.text.to_string()),
            TokenKind::Quoted => Some(unquote(self.text)),
            _ => None,
        }
    }
}

/// A quoted identifier's name: the quotes removed and doubled quotes undone.
pub fn unquote(s: &str) -> String {
    let Some(open) = s.chars().next() else {
        return String::new();
    };
    let close = match open {
        '"' | '`' | '\'' => open,
        '[' => ']',
        _ => return s.to_string(),
    };
    let inner = &s[1..];
    let inner = inner.strip_suffix(close).unwrap_or(inner);
    if open == '[' {
        return inner.to_string();
    }
    let one = open.to_string();
    inner.replace(&one.repeat(2), &one)
}

/// The value of a MySQL string literal, `'...'` or `"..."`: the quotes removed, a doubled
/// quote and backslash escapes undone (`\%` and `\_` keep their backslash: they are
/// LIKE's escapes). None for anything else, a prefixed literal (`b'01'`, `x'ff'`,
/// `N'x'`) included.
pub fn mysql_string(s: &str) -> Option<String> {
    let q = s.chars().next().filter(|c| matches!(c, '\'' | '"'))?;
    let inner = &s[1..];
    let inner = inner.strip_suffix(q).unwrap_or(inner);
    let mut out = String::with_capacity(inner.len());
    let mut it = inner.chars().peekable();
    while let Some(c) = it.next() {
        if c == '\\' {
            match it.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('r') => out.push('\r'),
                Some('0') => out.push('\0'),
                Some('Z') => out.push('\u{1a}'),
                Some('b') => out.push('\u{8}'),
                Some(x @ ('%' | '_')) => {
                    out.push('\\');
                    out.push(x);
                }
                Some(x) => out.push(x),
                None => out.push('\\'),
            }
        } else if c == q && it.peek() == Some(&q) {
            it.next();
            out.push(q);
        } else {
            out.push(c);
        }
    }
    Some(out)
}

/// `v` as a MySQL string literal in the form the servers print: single quotes, `''` for
/// a quote, and backslash escapes for a backslash and the control characters they
/// escape.
pub fn mysql_quote(v: &str) -> String {
    let mut out = String::with_capacity(v.len() + 2);
    out.push('\'');
    for c in v.chars() {
        match c {
            '\'' => out.push_str("''"),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\0' => out.push_str("\\0"),
            '\u{1a}' => out.push_str("\\Z"),
            '\u{8}' => out.push_str("\\b"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// The code tokens of `sql` (comments and whitespace left out), PostgreSQL's reading.
pub fn code(sql: &str) -> Vec<Tok<'_>> {
    code_with(sql, Dialect::Postgres)
}

/// [`code`] in a dialect.
pub fn code_with(sql: &str, dialect: Dialect) -> Vec<Tok<'_>> {
    code_tokens(sql, dialect).collect()
}

/// The code tokens of `sql` one by one, for a reader that needs only a few of them.
pub fn code_tokens(sql: &str, dialect: Dialect) -> impl Iterator<Item = Tok<'_>> {
    Lexer::new(sql, dialect)
        .filter(Token::is_code)
        .map(|t| Tok {
            kind: t.kind,
            text: t.text,
        })
}

/// DDL cut short at each step, for the readers' "garbage does not panic" tests.
#[cfg(test)]
pub(crate) const CUT_SHORT: [&str; 4] = ["", "CREATE", "CREATE TABLE", "CREATE TABLE t ("];

/// A code token with its span and dialect, for the readers of stored DDL text (SQLite's
/// CREATE text, MySQL's SHOW CREATE TABLE) that must tell glued tokens (`f(`, `t.c`) from
/// spaced ones and keep source ranges.
#[derive(Debug, Clone, Copy)]
pub struct Spanned<'a> {
    pub kind: TokenKind,
    pub text: &'a str,
    pub start: usize,
    pub end: usize,
    pub dialect: Dialect,
}

impl Spanned<'_> {
    pub fn is(&self, kw: &str) -> bool {
        self.kind == TokenKind::Word && self.text.eq_ignore_ascii_case(kw)
    }

    pub fn is_punct(&self, p: &str) -> bool {
        self.kind == TokenKind::Punct && self.text == p
    }

    /// A word, a quoted name or a string: what may stand where a name does.
    pub fn is_name(&self) -> bool {
        matches!(
            self.kind,
            TokenKind::Word | TokenKind::Quoted | TokenKind::Str
        )
    }

    /// The name this token spells, case kept: a quoted name unquoted, a string's value
    /// (MySQL's backslash escapes resolved), anything else as written.
    pub fn name(&self) -> String {
        match self.kind {
            TokenKind::Quoted => unquote(self.text),
            TokenKind::Str if self.dialect == Dialect::Mysql => {
                mysql_string(self.text).unwrap_or_else(|| self.text.to_string())
            }
            TokenKind::Str => unquote(self.text),
            _ => self.text.to_string(),
        }
    }
}

impl Punct for Spanned<'_> {
    fn is_punct(&self, p: &str) -> bool {
        Spanned::is_punct(self, p)
    }
}

/// The code tokens of `sql` with their spans.
pub fn spanned(sql: &str, dialect: Dialect) -> Vec<Spanned<'_>> {
    Lexer::new(sql, dialect)
        .filter(Token::is_code)
        .map(|t| Spanned {
            kind: t.kind,
            text: t.text,
            start: t.start,
            end: t.end(),
            dialect,
        })
        .collect()
}

/// Whether `t[i..]` starts with the keywords `kws`.
pub fn at(t: &[Tok], i: usize, kws: &[&str]) -> bool {
    kws.iter()
        .enumerate()
        .all(|(k, kw)| t.get(i + k).is_some_and(|x| x.is(kw)))
}

/// Skips the optional keyword sequence `kws` at `i`.
pub fn skip(t: &[Tok], i: usize, kws: &[&str]) -> usize {
    if at(t, i, kws) {
        i + kws.len()
    } else {
        i
    }
}

/// A possibly qualified name starting at `t[i]`: its parts (folded), and the index after.
pub fn qualified(t: &[Tok], mut i: usize) -> Option<(Vec<String>, usize)> {
    let mut parts = vec![t.get(i)?.ident()?];
    i += 1;
    while t.get(i).is_some_and(|x| x.is_punct(".")) {
        parts.push(t.get(i + 1)?.ident()?);
        i += 2;
    }
    Some((parts, i))
}

/// A token that may be punctuation: what [`split_commas`] looks at, so readers with
/// their own token type (SQLite's CREATE text keeps spans) share it.
pub trait Punct {
    fn is_punct(&self, p: &str) -> bool;
}

impl Punct for Tok<'_> {
    fn is_punct(&self, p: &str) -> bool {
        Tok::is_punct(self, p)
    }
}

/// Index of the `)` that closes the `(` at `t[open]`.
pub fn group_end<T: Punct>(t: &[T], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, x) in t.iter().enumerate().skip(open) {
        if x.is_punct("(") {
            depth += 1;
        } else if x.is_punct(")") {
            depth = depth.checked_sub(1)?;
            if depth == 0 {
                return Some(i);
            }
        }
    }
    None
}

/// `t` split at the commas outside parentheses: the items of a list, the actions of an
/// ALTER.
pub fn split_commas<T: Punct>(t: &[T]) -> Vec<&[T]> {
    let mut out = vec![];
    let (mut depth, mut start) = (0i32, 0);
    for (j, x) in t.iter().enumerate() {
        if x.is_punct("(") {
            depth += 1;
        } else if x.is_punct(")") {
            depth -= 1;
        } else if x.is_punct(",") && depth == 0 {
            out.push(&t[start..j]);
            start = j + 1;
        }
    }
    out.push(&t[start..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(sql: &str, d: Dialect) -> Vec<(TokenKind, &str)> {
        Lexer::new(sql, d)
            .filter(Token::is_code)
            .map(|t| (t.kind, t.text))
            .collect()
    }

    #[test]
    fn comments_nest_only_in_postgres() {
        use TokenKind::*;
        let sql = "/* a /* b */ c */ d";
        assert_eq!(kinds(sql, Dialect::Postgres), [(Word, "d")]);
        for d in [Dialect::Mysql, Dialect::Sqlite] {
            assert_eq!(
                kinds(sql, d),
                [(Word, "c"), (Punct, "*"), (Punct, "/"), (Word, "d")]
            );
        }
    }

    #[test]
    fn dialect_differences() {
        use TokenKind::*;
        // `#` and `--x` are comments only where MySQL says so.
        assert_eq!(kinds("# x\n1", Dialect::Mysql), [(Num, "1")]);
        assert_eq!(kinds("#", Dialect::Postgres), [(Punct, "#")]);
        assert_eq!(
            kinds("1--x", Dialect::Mysql),
            [(Num, "1"), (Punct, "-"), (Punct, "-"), (Word, "x")]
        );
        assert_eq!(kinds("1-- x", Dialect::Mysql), [(Num, "1")]);
        // Backslashes escape in every MySQL string, in PostgreSQL's only after E.
        assert_eq!(kinds(r"'a\'b'", Dialect::Mysql), [(Str, r"'a\'b'")]);
        assert_eq!(
            kinds(r"'a\' b", Dialect::Postgres),
            [(Str, r"'a\'"), (Word, "b")]
        );
        assert_eq!(kinds(r"E'a\'b'", Dialect::Postgres), [(Str, r"E'a\'b'")]);
        assert_eq!(kinds("\"a\"", Dialect::Mysql), [(Str, "\"a\"")]);
        // Dollar quotes are PostgreSQL's; SQLite's `[x]` and two-character operators.
        assert_eq!(kinds("$$a;b$$", Dialect::Postgres), [(Str, "$$a;b$$")]);
        assert_eq!(kinds("$1", Dialect::Postgres), [(Punct, "$"), (Num, "1")]);
        assert_eq!(kinds("[a b]", Dialect::Sqlite), [(Quoted, "[a b]")]);
        assert_eq!(kinds("a<>b", Dialect::Sqlite)[1], (Punct, "<>"));
        assert_eq!(kinds("a<>b", Dialect::Postgres)[1], (Punct, "<"));
        assert_eq!(kinds("x'00'", Dialect::Sqlite), [(Str, "x'00'")]);
    }

    fn all(sql: &str, d: Dialect) -> Vec<(TokenKind, &str)> {
        Lexer::new(sql, d)
            .filter(|t| t.kind != TokenKind::Space)
            .map(|t| (t.kind, t.text))
            .collect()
    }

    #[test]
    fn mysql_executable_comments_are_code() {
        use TokenKind::*;
        let sql = "a /*!50100 PARTITION BY */ b";
        assert_eq!(
            all(sql, Dialect::Mysql),
            [
                (Word, "a"),
                (Executable, "/*!50100"),
                (Word, "PARTITION"),
                (Word, "BY"),
                (Executable, "*/"),
                (Word, "b")
            ]
        );
        assert_eq!(
            kinds(sql, Dialect::Mysql),
            [(Word, "a"), (Word, "PARTITION"), (Word, "BY"), (Word, "b")]
        );
        // Elsewhere it is a comment.
        for d in [Dialect::Postgres, Dialect::Sqlite] {
            assert_eq!(kinds(sql, d), [(Word, "a"), (Word, "b")]);
        }
        // MariaDB's mark, no version, and six digits; fewer than five are content.
        assert_eq!(kinds("/*M!100100 x */", Dialect::Mysql), [(Word, "x")]);
        assert_eq!(kinds("/*!x*/", Dialect::Mysql), [(Word, "x")]);
        assert_eq!(
            all("/*!1001001*/", Dialect::Mysql),
            [(Executable, "/*!100100"), (Num, "1"), (Executable, "*/")]
        );
        assert_eq!(
            all("/*!4 + 4 */", Dialect::Mysql)[..2],
            [(Executable, "/*!"), (Num, "4")]
        );
        // `/*M` without `!` is an ordinary comment.
        assert_eq!(kinds("/*M x */ y", Dialect::Mysql), [(Word, "y")]);
    }

    #[test]
    fn what_closes_a_mysql_executable_comment() {
        use TokenKind::*;
        let code = |sql| kinds(sql, Dialect::Mysql);
        // An ordinary comment inside one ends at its own `*/`; the next one closes.
        assert_eq!(code("/*!50100 a /* b */ c */ d"), code("a c d"));
        // A `*/` in a string, or after `#` or `-- `, is not the end.
        assert_eq!(code("/*!50100 '*/' */ d"), [(Str, "'*/'"), (Word, "d")]);
        assert_eq!(code("/*!50100 # */\n a */ d"), code("a d"));
        assert_eq!(code("/*!50100 -- */\n a */ d"), code("a d"));
        // A second mark does not nest: the first `*/` closes both (as MariaDB reads it).
        assert_eq!(
            code("/*!50100 a /*!50100 b */ c */"),
            [
                (Word, "a"),
                (Word, "b"),
                (Word, "c"),
                (Punct, "*"),
                (Punct, "/")
            ]
        );
        // Outside one, `*/` is two characters.
        assert_eq!(code("a */"), [(Word, "a"), (Punct, "*"), (Punct, "/")]);
        // Glued to what it closes.
        assert_eq!(code("/*!50100 1+2*/3"), code("1+2 3"));
    }

    #[test]
    fn an_open_mysql_executable_comment_is_flagged() {
        let t: Vec<Token> = Lexer::new("SELECT 1\n/*!50100 + '*/'", Dialect::Mysql).collect();
        let open: Vec<&Token> = t.iter().filter(|t| t.unterminated).collect();
        assert_eq!(open.len(), 1, "{t:?}");
        let p = open[0].problem().unwrap();
        assert_eq!(
            (p.what, p.line, p.offset),
            (Unterminated::ExecutableComment, 2, 9)
        );
        assert_eq!(p.to_string(), "unterminated /*! comment");
        assert!(p.hint().contains("`*/`"));
        // Closed, or only a mark inside a closed one: nothing flagged.
        for sql in ["/*!50100 a /*!50100 b */", "/*!*/", "/*!50100 `*/` */"] {
            assert!(
                !Lexer::new(sql, Dialect::Mysql).any(|t| t.unterminated),
                "{sql}"
            );
        }
        assert!(Lexer::new("/*!", Dialect::Mysql).any(|t| t.unterminated));
    }

    #[test]
    fn mysql_numbers_and_names() {
        use TokenKind::*;
        let my = |sql| kinds(sql, Dialect::Mysql);
        // A run that is not a number is a name.
        for name in [
            "1abc", "0X1F", "0x1g", "0x", "0b12", "1_000", "1e", "$x", "a$b",
        ] {
            assert_eq!(my(name), [(Word, name)], "{name}");
        }
        for num in [
            "12", "1.5", "1.", ".5", "1e3", "1E-3", "1.5e+3", "0x1F", "0b101",
        ] {
            assert_eq!(my(num), [(Num, num)], "{num}");
        }
        assert_eq!(my("1e3abc"), [(Num, "1e3"), (Word, "abc")]);
        assert_eq!(my("1.5abc"), [(Num, "1.5"), (Word, "abc")]);
        assert_eq!(my("1e+"), [(Word, "1e"), (Punct, "+")]);
        // After a name and its dot comes a name, even a digit.
        assert_eq!(my("t.5"), [(Word, "t"), (Punct, "."), (Word, "5")]);
        assert_eq!(
            my("`t`.1e3"),
            [(Quoted, "`t`"), (Punct, "."), (Word, "1e3")]
        );
        assert_eq!(my("t .5"), [(Word, "t"), (Num, ".5")]);
        assert_eq!(my("(.5)")[1], (Num, ".5"));
        // PostgreSQL's reading is unchanged.
        assert_eq!(kinds("1abc", Dialect::Postgres), [(Num, "1abc")]);
        assert_eq!(kinds("$x", Dialect::Sqlite)[0], (Punct, "$"));
    }

    #[test]
    fn mysql_strings_and_comments() {
        use TokenKind::*;
        let my = |sql| kinds(sql, Dialect::Mysql);
        // Backslashes escape in both quotes and after a prefix; a doubled quote too.
        assert_eq!(my(r#""a\"b" c"#), [(Str, r#""a\"b""#), (Word, "c")]);
        assert_eq!(my(r"N'a\'b' c"), [(Str, r"N'a\'b'"), (Word, "c")]);
        assert_eq!(my("'it''s' c"), [(Str, "'it''s'"), (Word, "c")]);
        assert_eq!(my("b'01' x'ff'"), [(Str, "b'01'"), (Str, "x'ff'")]);
        // No E'' strings: `e` is a name, then a string.
        assert_eq!(my("e'x'"), [(Word, "e"), (Str, "'x'")]);
        // `--` is a comment before whitespace or a control character, or at the end.
        assert_eq!(my("1--\tx"), [(Num, "1")]);
        assert_eq!(my("1--"), [(Num, "1")]);
        assert_eq!(my("1 #x\n2"), [(Num, "1"), (Num, "2")]);
        // Block comments do not nest.
        assert_eq!(my("/* /* */ x"), [(Word, "x")]);
    }

    #[test]
    fn tokens_carry_lines_and_unterminated_openings() {
        let t: Vec<Token> = Lexer::new("a\n/* x\ny */ 'b\nc", Dialect::Postgres).collect();
        let code: Vec<(&str, usize, bool)> = t
            .iter()
            .filter(|t| t.kind != TokenKind::Space)
            .map(|t| (t.text, t.line, t.unterminated))
            .collect();
        assert_eq!(
            code,
            [
                ("a", 1, false),
                ("/* x\ny */", 2, false),
                ("'b\nc", 3, true)
            ]
        );
        let p = t.last().unwrap().problem().unwrap();
        assert_eq!((p.what, p.line, p.offset), (Unterminated::String, 3, 12));
        assert_eq!(p.to_string(), "unterminated quoted string");
    }

    #[test]
    fn names_and_dollar_parts() {
        let t = code("\"a\"\"b\" Mixed `c``d` 'e'");
        let names: Vec<Option<String>> = t.iter().map(Tok::ident).collect();
        assert_eq!(
            names,
            [
                Some("a\"b".to_string()),
                Some("mixed".into()),
                Some("c`d".into()),
                None
            ]
        );
        assert_eq!(t[1].name().as_deref(), Some("Mixed"));
        assert_eq!(unquote("[x y]"), "x y");
        let d = Lexer::new("$f$ a $f$", Dialect::Postgres).next().unwrap();
        assert_eq!(d.dollar_parts(), Some(("$f$", " a ", "$f$")));
        let open = Lexer::new("$f$ a", Dialect::Postgres).next().unwrap();
        assert_eq!(open.dollar_parts(), Some(("$f$", " a", "")));
        assert!(needs_space("a", "b") && needs_space("-", "-") && needs_space("x", "$1"));
        assert!(!needs_space("a", "(") && !needs_space("-", "1"));
    }

    #[test]
    fn statement_helpers() {
        let t = code("ALTER TABLE s.\"T\" ADD a int, ADD CHECK (a IN (1, 2)), DROP b");
        assert!(at(&t, 0, &["alter", "table"]));
        assert_eq!(skip(&t, 0, &["ALTER", "TABLE"]), 2);
        assert_eq!(qualified(&t, 2), Some((vec!["s".into(), "T".into()], 5)));
        assert_eq!(split_commas(&t[5..]).len(), 3);
    }
}
