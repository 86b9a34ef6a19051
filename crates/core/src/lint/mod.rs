//! Migration lint: rules that flag statements which lock or rewrite tables, break running
//! code, destroy data, or cannot run where they are placed.
//!
//! Pure, like the rest of the core: the caller hands over files as text. Each statement
//! (from the migration splitter, with exact lines) is parsed with sqlparser's PostgreSQL
//! dialect; a statement that does not parse is reported as `could-not-parse`, never
//! skipped, and the rules still look at its tokens. Rules work on a token stream that
//! never fails (comments and literals removed), so they see every statement.
//!
//! Suppression: a comment `-- lockstep:ignore <rule-id> <reason>` in the comment lines
//! right above a statement. The reason is required; without one the comment does not
//! suppress and is itself reported (`invalid-suppression`).

pub mod rules;

pub use crate::sql::lex::{at, skip, Dialect, Tok, TokenKind as Kind};
use crate::sql::split;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub rule: String,
    pub severity: Severity,
    pub file: String,
    pub line: usize,
    pub message: String,
    pub help: String,
    /// With `--env`: the estimated rows of the table the finding is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table_rows: Option<u64>,
    /// With `--env`: the data check that would tell whether the statement fails on
    /// today's rows (SET NOT NULL, a new unique constraint). The caller runs it and hands
    /// the result to [`apply_count`].
    #[serde(skip)]
    pub probe: Option<Probe>,
    /// `could-not-parse`: the statement, for a server's parser to settle under `--env`
    /// ([`settle_parse`]).
    #[serde(skip)]
    pub statement: Option<String>,
}

/// A table's size in an environment, as the database estimates it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TableSize {
    /// Estimated rows; `None` when the server has no estimate (never analyzed).
    pub rows: Option<u64>,
    /// Bytes on disk, indexes and TOAST included; `None` when unknown (SQLite).
    pub bytes: Option<u64>,
}

/// Table sizes by unqualified, lowercased table name (PostgreSQL folding).
pub type Sizes = BTreeMap<String, TableSize>;

/// The table of each index in an environment, both unqualified and lowercased: DROP INDEX
/// names only the index, yet its lock and its cost are the table's.
pub type IndexTables = BTreeMap<String, String>;

/// A table at or above this many rows is big: locking rules become errors.
pub const BIG_ROWS: u64 = 1_000_000;
/// A table at or above this many bytes is big, whatever its row estimate.
pub const BIG_BYTES: u64 = 1 << 30;
/// A table below this many rows (and below [`SMALL_BYTES`]) is small: locking rules are
/// downgraded to info.
pub const SMALL_ROWS: u64 = 10_000;
/// Below this size a table with no row estimate counts as small.
pub const SMALL_BYTES: u64 = 8 << 20;
/// Data checks (NULLs, duplicates) run only on tables below this many rows.
pub const COUNT_MAX_ROWS: u64 = 10_000_000;

/// Statements longer than this are not handed to sqlparser, whose syntax tree takes tens
/// of times a statement's size in memory (lint of a 50 MB INSERT took 2.2 GB). The
/// token-level rules still check them, and `could-not-parse` says so at info severity.
pub const PARSE_MAX_BYTES: usize = 1 << 20;

/// Rules whose cost is a lock held, or a rewrite done, for a time that grows with the
/// table: their severity follows the table's size under `--env`.
pub const SIZE_AWARE: &[&str] = &[
    "create-index-non-concurrently",
    "drop-index-non-concurrently",
    "add-not-null",
    "change-column-type",
    "add-foreign-key-without-not-valid",
    "add-check-without-not-valid",
    "vacuum-full-or-cluster",
    "add-column-volatile-default",
    "add-unique-constraint",
    "reindex-non-concurrently",
];

/// A query that counts the rows a statement would fail on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    /// Unqualified, lowercased table name (a key of [`Sizes`]).
    pub table: String,
    pub check: DataCheck,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataCheck {
    /// Rows with NULL in the column.
    Nulls { column: String },
    /// Groups of rows that share the same (non-NULL) values in the columns.
    Duplicates { columns: Vec<String> },
    /// Every row: a new NOT NULL column with no default fails on any.
    Rows { column: String },
}

/// What running a [`Probe`] gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeResult {
    Counted(u64),
    /// Why it was not counted (table too big, query failed).
    NotCounted(String),
}

/// Severity and message note for a size-aware rule, from the table's size.
fn scale(default: Severity, size: &TableSize) -> (Severity, String) {
    let rows = size.rows;
    let bytes = size.bytes;
    let mut what = match rows {
        Some(r) => format!("table has about {r} rows"),
        None => "table has no row estimate".to_string(),
    };
    let big = rows.is_some_and(|r| r >= BIG_ROWS) || bytes.is_some_and(|b| b >= BIG_BYTES);
    let small = match rows {
        Some(r) => r < SMALL_ROWS && bytes.is_none_or(|b| b < BIG_BYTES),
        None => bytes.is_some_and(|b| b < SMALL_BYTES),
    };
    let severity = if big {
        what.push_str(": the lock lasts as long as the whole table takes");
        Severity::Error
    } else if small {
        what.push_str(": the lock is brief");
        Severity::Info
    } else {
        default
    };
    if let Some(b) = bytes {
        what.push_str(&format!("; {} on disk", human_bytes(b)));
    }
    (severity, what)
}

fn human_bytes(b: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// Puts a data check's result into its finding: a count of failing rows makes the
/// finding an error (the migration will fail), none says so.
pub fn apply_count(f: &mut Finding, r: &ProbeResult) {
    let Some(p) = &f.probe else {
        return;
    };
    match (r, &p.check) {
        (ProbeResult::Counted(0), DataCheck::Nulls { column }) => {
            f.message
                .push_str(&format!("; with --env: no row has NULL in {column} today"));
        }
        (ProbeResult::Counted(n), DataCheck::Nulls { column }) => {
            f.severity = Severity::Error;
            f.message.push_str(&format!(
                "; with --env: {n} row(s) have NULL in {column}, so this statement will fail: fill them first"
            ));
        }
        (ProbeResult::Counted(0), DataCheck::Duplicates { columns }) => {
            f.message.push_str(&format!(
                "; with --env: no duplicate values in ({}) today",
                columns.join(", ")
            ));
        }
        (ProbeResult::Counted(n), DataCheck::Duplicates { columns }) => {
            f.severity = Severity::Error;
            f.message.push_str(&format!(
                "; with --env: {n} group(s) of rows share the same ({}), so this statement will fail: remove the duplicates first",
                columns.join(", ")
            ));
        }
        (ProbeResult::Counted(0), DataCheck::Rows { .. }) => {
            // It succeeds there today; code that inserts without the column still breaks.
            f.severity = Severity::Warning;
            f.message.push_str(
                "; with --env: the table is empty today, so the statement succeeds there",
            );
        }
        (ProbeResult::Counted(n), DataCheck::Rows { column }) => {
            f.severity = Severity::Error;
            f.message.push_str(&format!(
                "; with --env: the table has {n} row(s) today, none with a value for {column}, so this statement will fail"
            ));
        }
        (ProbeResult::NotCounted(why), _) => {
            f.message
                .push_str(&format!("; with --env: failing rows not counted: {why}"));
        }
    }
}

/// What a server's parser made of a statement lockstep could not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerParse {
    /// It parsed (it may have failed for another reason: an empty scratch database lacks
    /// the tables it names): not a finding.
    Parsed,
    /// A syntax error, with the server's message: the deploy would fail here.
    SyntaxError(String),
    /// Not asked, and why (no scratch database could be made).
    NotAsked(String),
}

/// Settles `could-not-parse` findings with what the server's parser said of each: the
/// `verdicts` are for the findings that carry a [`Finding::statement`], in order. A
/// statement the server parsed is no finding, a syntax error is an error. Other findings
/// pass through.
pub fn settle_parse(findings: Vec<Finding>, verdicts: Vec<ServerParse>) -> Vec<Finding> {
    let mut verdicts = verdicts.into_iter();
    let mut out = vec![];
    for mut f in findings {
        if f.statement.is_none() {
            out.push(f);
            continue;
        }
        match verdicts
            .next()
            .unwrap_or(ServerParse::NotAsked("no verdict".into()))
        {
            ServerParse::Parsed => continue,
            ServerParse::SyntaxError(why) => {
                f.severity = Severity::Error;
                f.message = format!(
                    "{}; with --env, the server's parser refuses it too: {why}",
                    f.message
                );
                f.help = "fix the statement: deploy would fail here".into();
            }
            ServerParse::NotAsked(why) => {
                f.message = format!(
                    "{}; with --env: not checked on the server: {why}",
                    f.message
                );
            }
        }
        out.push(f);
    }
    out
}

/// The data checks of one statement, in the order its actions appear: SET NOT NULL
/// columns, the columns of ADD [CONSTRAINT n] UNIQUE / PRIMARY KEY (...), and new
/// required columns.
fn statement_probes(s: &Stmt, ctx: &Ctx) -> (Vec<Probe>, Vec<Probe>, Vec<Probe>) {
    let mut nulls = vec![];
    let mut uniques = vec![];
    let required = rules::add_required_column::required_columns(s, ctx)
        .into_iter()
        .map(|(table, column)| Probe {
            table,
            check: DataCheck::Rows { column },
        })
        .collect();
    let Some(a) = s.alter_table() else {
        return (nulls, uniques, required);
    };
    for act in &a.actions {
        if act[0].is("ALTER") {
            let i = skip(act, 1, &["COLUMN"]);
            if let Some(col) = act.get(i).and_then(Tok::ident) {
                if at(act, i + 1, &["SET", "NOT", "NULL"]) {
                    nulls.push(Probe {
                        table: a.table.clone(),
                        check: DataCheck::Nulls { column: col },
                    });
                }
            }
        } else if act[0].is("ADD") {
            let i = if act.get(1).is_some_and(|x| x.is("CONSTRAINT")) {
                3
            } else {
                1
            };
            let j = if at(act, i, &["UNIQUE"]) {
                i + 1
            } else if at(act, i, &["PRIMARY", "KEY"]) {
                i + 2
            } else {
                continue;
            };
            if (0..act.len()).any(|k| at(act, k, &["USING", "INDEX"])) {
                continue;
            }
            let j = skip(act, j, &["NULLS", "NOT", "DISTINCT"]);
            let j = skip(act, j, &["NULLS", "DISTINCT"]);
            if !act.get(j).is_some_and(|x| x.is_punct("(")) {
                continue;
            }
            let mut columns = vec![];
            for tok in &act[j + 1..] {
                if tok.is_punct(")") {
                    break;
                }
                if let Some(c) = tok.ident() {
                    columns.push(c);
                }
            }
            if !columns.is_empty() {
                uniques.push(Probe {
                    table: a.table.clone(),
                    check: DataCheck::Duplicates { columns },
                });
            }
        }
    }
    (nulls, uniques, required)
}

/// The tables the statements of `files` lock or check, and the indexes they drop, for an
/// environment to size.
pub fn named_tables(files: &[LintFile]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for f in files {
        for s in split::split(&f.text).statements {
            let stmt = Stmt {
                sql: &s.sql,
                line: s.line,
                tokens: tokenize(&s.sql),
                parsed: true,
            };
            let reindexed = stmt.reindex().and_then(|r| r.name);
            if let Some(t) = stmt
                .locked_table()
                .or_else(|| stmt.dropped_index())
                .or(reindexed)
            {
                out.insert(t);
            }
        }
    }
    out
}

/// One file to lint.
#[derive(Debug, Clone)]
pub struct LintFile {
    /// As it should appear in findings.
    pub path: String,
    pub text: String,
    /// The file line that `text` starts on (dbmate sections start mid-file).
    pub first_line: usize,
    /// Declared to run outside a transaction.
    pub no_transaction: bool,
    /// Whether a down script exists; `None` when unknown (a loose file).
    pub has_down: Option<bool>,
}

impl LintFile {
    /// A file with defaults: transactional unless it carries a no-transaction directive
    /// or every statement must run outside a transaction; down script unknown.
    pub fn loose(path: &str, text: &str) -> LintFile {
        // As when a migrations directory is read: a byte-order mark is not text.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let no_transaction = text.lines().any(|l| {
            let l = l.trim();
            l.starts_with("-- lockstep:no-transaction") || l.starts_with("-- no-transaction")
        }) || split::implicitly_no_transaction(text);
        LintFile {
            path: path.to_string(),
            text: text.to_string(),
            first_line: 1,
            no_transaction,
            has_down: None,
        }
    }
}

/// What a rule found: the message says which lock and what it blocks or breaks; the help
/// says exactly what to write instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub message: String,
    pub help: String,
}

pub fn hit(message: impl Into<String>, help: impl Into<String>) -> Vec<Hit> {
    vec![Hit {
        message: message.into(),
        help: help.into(),
    }]
}

/// A statement-level rule.
pub struct Rule {
    pub id: &'static str,
    pub severity: Severity,
    /// Reported at its first hit in a file only.
    pub once_per_file: bool,
    pub check: fn(&Stmt, &Ctx) -> Vec<Hit>,
}

/// What the linted set knows before a statement runs.
#[derive(Debug, Default)]
pub struct Ctx {
    /// Tables (lowercased, unqualified) created earlier in this migration or an earlier
    /// linted one: empty and unused, so locking them is harmless.
    pub created: BTreeSet<String>,
    /// Indexes created earlier in the linted set (lowercased, unqualified).
    pub created_indexes: BTreeSet<String>,
    /// The file runs outside lockstep's transaction (declared, or every statement must).
    pub no_transaction: bool,
    /// This statement runs inside a transaction block: lockstep's own in a transactional
    /// file, or one the file opened with `BEGIN` (until its `COMMIT`).
    pub in_transaction: bool,
    /// A `SET lock_timeout` ran earlier in this file.
    pub lock_timeout_set: bool,
    /// A `SET statement_timeout` ran earlier in this file.
    pub statement_timeout_set: bool,
    /// `CHECK (c IS NOT NULL)` constraints added in the linted set: name → (table, column).
    pub not_null_checks: BTreeMap<String, (String, String)>,
    /// Columns (table, column) with a validated `CHECK (c IS NOT NULL)`: PostgreSQL 12+
    /// skips SET NOT NULL's scan for them.
    pub not_null_proven: BTreeSet<(String, String)>,
    /// Constraints validated in the linted set but added by an applied migration, by
    /// table: their definitions are not here to read.
    pub validated_elsewhere: BTreeMap<String, Vec<String>>,
    /// Constraints added NOT VALID in the transaction block still open: name → table.
    pub not_valid_in_tx: BTreeMap<String, String>,
    /// The line of the BEGIN that opened the block still open in a no-transaction file.
    pub open_begin: Option<usize>,
    /// The engine the files are for (SQLite's is [`Dialect::Sqlite`]): how they are
    /// parsed, which rules apply ([`rules::applies`]), and the words of their messages
    /// and help.
    pub dialect: Dialect,
}

impl Ctx {
    /// How the files are split into statements: as deploy splits them
    /// (`lockstep_db::apply::lex_dialect`), which reads SQLite's files as PostgreSQL's.
    pub fn lexer(&self) -> Dialect {
        match self.dialect {
            Dialect::Sqlite => Dialect::Postgres,
            d => d,
        }
    }

    /// The lock a DROP, RENAME or ALTER of a table takes, in the engine's words.
    pub fn table_lock(&self) -> &'static str {
        match self.dialect {
            Dialect::Postgres => "an ACCESS EXCLUSIVE lock",
            Dialect::Mysql => "an exclusive metadata lock (it waits for every open transaction on the table, and reads and writes queue behind it)",
            Dialect::Sqlite => "SQLite's write lock on the whole database",
        }
    }

    pub fn is_new(&self, table: &str) -> bool {
        self.created.contains(table)
    }

    /// Whether a validated NOT NULL check covers `table.column`. A constraint validated
    /// here but defined in an applied migration counts when its name holds the column's
    /// as a whole `_`-separated part (`orders_note_not_null` for `note`, not
    /// `orders_valid_check` for `id`), the naming lockstep's own help suggests.
    pub fn not_null_proven(&self, table: &str, column: &str) -> bool {
        let names_column = |n: &String| format!("_{n}_").contains(&format!("_{column}_"));
        self.not_null_proven
            .contains(&(table.to_string(), column.to_string()))
            || self
                .validated_elsewhere
                .get(table)
                .is_some_and(|names| names.iter().any(names_column))
    }

    /// What a statement that ran tells the statements after it.
    fn learn(&mut self, s: &Stmt) {
        if let Some(setting) = s.set_setting() {
            match setting.as_str() {
                "lock_timeout" => self.lock_timeout_set = true,
                "statement_timeout" => self.statement_timeout_set = true,
                _ => {}
            }
        }
        if let Some(a) = s.alter_table() {
            for act in &a.actions {
                self.learn_constraint(&a.table, act);
            }
        }
        match split::tx_control_of(&s.tokens) {
            Some(c) => {
                self.in_transaction = c == split::TxControl::Begin;
                if self.no_transaction {
                    self.open_begin = self.in_transaction.then_some(s.line);
                }
                self.not_valid_in_tx.clear();
            }
            // Outside a block every statement commits on its own.
            None if !self.in_transaction => self.not_valid_in_tx.clear(),
            None => {}
        }
        if let Some(t) = s.created_table() {
            self.created.insert(t);
        }
        if let Some(i) = s.created_index_name() {
            self.created_indexes.insert(i);
        }
    }

    fn learn_constraint(&mut self, table: &str, act: &[Tok]) {
        if at(act, 0, &["VALIDATE", "CONSTRAINT"]) {
            let Some(name) = act.get(2).and_then(Tok::ident) else {
                return;
            };
            match self.not_null_checks.get(&name) {
                Some((t, c)) if t == table => {
                    self.not_null_proven.insert((t.clone(), c.clone()));
                }
                _ => self
                    .validated_elsewhere
                    .entry(table.to_string())
                    .or_default()
                    .push(name),
            }
            return;
        }
        if !act[0].is("ADD") {
            return;
        }
        let (name, i) = if act.get(1).is_some_and(|t| t.is("CONSTRAINT")) {
            (act.get(2).and_then(Tok::ident), 3)
        } else {
            (None, 1)
        };
        let not_valid = (0..act.len()).any(|k| at(act, k, &["NOT", "VALID"]));
        if at(act, i, &["CHECK"]) {
            if let Some(col) = not_null_check(&act[i + 1..]) {
                if let Some(n) = &name {
                    self.not_null_checks
                        .insert(n.clone(), (table.to_string(), col.clone()));
                }
                if !not_valid {
                    self.not_null_proven.insert((table.to_string(), col));
                }
            }
        }
        if not_valid && (at(act, i, &["CHECK"]) || at(act, i, &["FOREIGN", "KEY"])) {
            if let Some(n) = name {
                self.not_valid_in_tx.insert(n, table.to_string());
            }
        }
    }
}

/// `( c IS NOT NULL )`: the column.
fn not_null_check(t: &[Tok]) -> Option<String> {
    let ok = t.first()?.is_punct("(")
        && at(t, 2, &["IS", "NOT", "NULL"])
        && t.get(5).is_some_and(|x| x.is_punct(")"));
    ok.then(|| t[1].ident()).flatten()
}

/// The tokens rules read: comments and whitespace removed, literals kept whole (see
/// [`crate::sql::lex`], the one lexer). Never fails.
pub fn tokenize(sql: &str) -> Vec<Tok<'_>> {
    crate::sql::lex::code(sql)
}

/// A qualified name starting at `i`: its last part, and the index after it.
pub fn qualified_name(t: &[Tok], i: usize) -> Option<(String, usize)> {
    let (mut parts, i) = crate::sql::lex::qualified(t, i)?;
    Some((parts.pop()?, i))
}

/// One statement as rules see it.
pub struct Stmt<'a> {
    pub sql: &'a str,
    /// Line in the file.
    pub line: usize,
    pub tokens: Vec<Tok<'a>>,
    /// Whether it parsed ([`crate::sql::parse::parses`], in the engine's grammar).
    pub parsed: bool,
}

/// A REINDEX statement: what it rebuilds and how.
pub struct Reindex {
    /// `INDEX`, `TABLE`, `SCHEMA`, `DATABASE` or `SYSTEM`.
    pub kind: String,
    pub name: Option<String>,
    pub concurrent: bool,
}

/// What an ALTER statement alters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    Table,
    ForeignTable,
    View,
    MaterializedView,
    /// A composite type: its attributes are columns to the code that reads it.
    Type,
}

impl Relation {
    pub fn noun(self) -> &'static str {
        match self {
            Relation::Table => "table",
            Relation::ForeignTable => "foreign table",
            Relation::View => "view",
            Relation::MaterializedView => "materialized view",
            Relation::Type => "type",
        }
    }
}

/// `ALTER TABLE [IF EXISTS] [ONLY] name [*] action, action, ...` (or another [`Relation`]).
pub struct AlterTable<'t> {
    pub kind: Relation,
    pub table: String,
    /// The actions, split at top-level commas.
    pub actions: Vec<&'t [Tok<'t>]>,
}

/// One `ALTER [COLUMN] c ...` action of an ALTER on an existing relation.
pub struct AlterColumn<'t> {
    pub kind: Relation,
    pub table: String,
    pub column: String,
    /// The tokens after the column name (`SET NOT NULL`, `TYPE bigint`, ...).
    pub rest: &'t [Tok<'t>],
}

/// `VERB [COLUMN | ATTRIBUTE] [IF EXISTS] name ...` (ATTRIBUTE is a composite type's
/// word for column): the column and the index after it. Not `VERB CONSTRAINT`.
pub fn column_action(act: &[Tok], verb: &str) -> Option<(String, usize)> {
    if !act.first()?.is(verb) {
        return None;
    }
    let i = match act.get(1)? {
        x if x.is("COLUMN") || x.is("ATTRIBUTE") => 2,
        x if x.is("CONSTRAINT") || x.is("TO") || x.is("VALUE") => return None,
        _ => 1,
    };
    let i = skip(act, i, &["IF", "EXISTS"]);
    Some((act.get(i)?.ident()?, i + 1))
}

/// `ADD [COLUMN] [IF NOT EXISTS] name type ...`: the new column and the tokens from its
/// name on. Not the table-constraint forms (`ADD CONSTRAINT`, `ADD CHECK (...)`, ...).
pub fn added_column<'t>(act: &'t [Tok<'t>]) -> Option<(String, &'t [Tok<'t>])> {
    const CONSTRAINT: [&str; 6] = [
        "CONSTRAINT",
        "CHECK",
        "UNIQUE",
        "PRIMARY",
        "FOREIGN",
        "EXCLUDE",
    ];
    if !act.first()?.is("ADD")
        || CONSTRAINT
            .iter()
            .any(|c| act.get(1).is_some_and(|x| x.is(c)))
    {
        return None;
    }
    let i = skip(act, 1, &["COLUMN"]);
    let i = skip(act, i, &["IF", "NOT", "EXISTS"]);
    Some((act.get(i)?.ident()?, &act[i..]))
}

/// The tokens of `t` outside any parentheses: a column's own clauses, not the insides
/// of its CHECK or DEFAULT expressions.
pub fn top_level<'t>(t: &'t [Tok<'t>]) -> Vec<&'t Tok<'t>> {
    let mut depth = 0i32;
    let mut out = vec![];
    for x in t {
        if x.is_punct("(") {
            depth += 1;
        } else if x.is_punct(")") {
            depth -= 1;
        } else if depth == 0 {
            out.push(x);
        }
    }
    out
}

impl Stmt<'_> {
    /// The `ALTER [COLUMN] c ...` actions of this statement, when it alters a table
    /// that existed before the migrations being linted. Tables they create are new and
    /// empty, so no column rule applies to them.
    pub fn alter_columns(&self, ctx: &Ctx) -> Vec<AlterColumn<'_>> {
        self.columns_altered(ctx)
            .into_iter()
            .filter(|c| c.kind == Relation::Table)
            .collect()
    }

    /// [`Stmt::alter_columns`] of any relation whose columns running code reads: tables,
    /// foreign tables, views, composite types.
    pub fn columns_altered(&self, ctx: &Ctx) -> Vec<AlterColumn<'_>> {
        let Some(a) = self.alter_relation() else {
            return vec![];
        };
        if ctx.is_new(&a.table) {
            return vec![];
        }
        a.actions
            .iter()
            .filter_map(|act| {
                let (column, i) = column_action(act, "ALTER")?;
                Some(AlterColumn {
                    kind: a.kind,
                    table: a.table.clone(),
                    column,
                    rest: &act[i..],
                })
            })
            .collect()
    }

    /// The existing table this statement queues for a lock on that reads or writes of
    /// it wait behind, for `missing-lock-timeout`: [`Stmt::locked_table`] and the
    /// statements in `other_locked`, less the ones whose lock lets reads and writes
    /// through (`weak_lock`): while those wait, nothing queues behind them.
    pub fn waits_for_lock(&self, ctx: &Ctx) -> Option<String> {
        if self.weak_lock() {
            return None;
        }
        self.locked_table()
            .or_else(|| other_locked(self))
            .filter(|t| !ctx.is_new(t))
    }

    /// Statements whose lock conflicts with neither reads nor writes (SHARE UPDATE
    /// EXCLUSIVE or weaker): COMMENT ON, plain VACUUM, REFRESH MATERIALIZED VIEW
    /// CONCURRENTLY, LOCK TABLE in such a mode, and an
    /// ALTER TABLE whose every action is VALIDATE CONSTRAINT, SET STATISTICS, a column's
    /// or the table's SET | RESET (options), CLUSTER ON, SET WITHOUT CLUSTER or DETACH
    /// PARTITION ... CONCURRENTLY.
    fn weak_lock(&self) -> bool {
        if self.starts(&["COMMENT", "ON"]) {
            return true;
        }
        // EXCLUSIVE: it blocks writes, and a materialized view has none.
        if self.starts(&["REFRESH", "MATERIALIZED", "VIEW", "CONCURRENTLY"]) {
            return true;
        }
        if self.starts(&["VACUUM"]) {
            return !rules::vacuum_full_or_cluster::is_vacuum_full(self);
        }
        if self.starts(&["LOCK"]) {
            let t = &self.tokens;
            let Some(m) = t.iter().position(|x| x.is("MODE")) else {
                return false; // ACCESS EXCLUSIVE by default.
            };
            let Some(i) = t.iter().position(|x| x.is("IN")) else {
                return false;
            };
            let mode: Vec<String> = t[i + 1..m]
                .iter()
                .map(|x| x.text.to_ascii_uppercase())
                .collect();
            return matches!(
                mode.join(" ").as_str(),
                "ACCESS SHARE" | "ROW SHARE" | "ROW EXCLUSIVE" | "SHARE UPDATE EXCLUSIVE"
            );
        }
        let Some(a) = self.alter_table() else {
            return false;
        };
        !a.actions.is_empty()
            && a.actions.iter().all(|act| {
                let column = column_action(act, "ALTER").map(|(_, i)| &act[i..]);
                at(act, 0, &["VALIDATE", "CONSTRAINT"])
                    || at(act, 0, &["CLUSTER", "ON"])
                    || at(act, 0, &["SET", "WITHOUT", "CLUSTER"])
                    || (at(act, 0, &["SET"]) && act.get(1).is_some_and(|x| x.is_punct("(")))
                    || (at(act, 0, &["RESET"]) && act.get(1).is_some_and(|x| x.is_punct("(")))
                    || (at(act, 0, &["DETACH", "PARTITION"])
                        && act.iter().any(|x| x.is("CONCURRENTLY")))
                    || column.is_some_and(|c| {
                        at(c, 0, &["SET", "STATISTICS"])
                            || (c.first().is_some_and(|x| x.is("SET") || x.is("RESET"))
                                && c.get(1).is_some_and(|x| x.is_punct("(")))
                    })
            })
    }

    /// The existing table this statement, once it has its lock, holds it on while it
    /// reads or rewrites every row (or builds an index), blocking reads or writes for a
    /// time that grows with the table: what `SET statement_timeout` bounds. Statements
    /// that finish at once when granted (an ADD COLUMN with no default or a constant
    /// one, a NOT VALID constraint, DROP, RENAME, COMMENT, SET DEFAULT) hold nothing
    /// that a statement timeout would cut short.
    pub fn holds_lock_while_scanning(&self, ctx: &Ctx) -> Option<String> {
        if let Some((false, table)) = self.create_index() {
            return Some(table).filter(|t| !ctx.is_new(t));
        }
        if self.starts(&["CLUSTER"]) || rules::vacuum_full_or_cluster::is_vacuum_full(self) {
            return self.locked_table().filter(|t| !ctx.is_new(t));
        }
        if let Some(r) = self.reindex() {
            return match r.kind.as_str() {
                "INDEX" | "TABLE" if !r.concurrent => r.name,
                _ => None,
            };
        }
        if self.starts(&["REFRESH", "MATERIALIZED", "VIEW"]) && !self.has("CONCURRENTLY") {
            return other_locked(self);
        }
        let a = self.alter_existing(ctx)?;
        let scans = a.actions.iter().any(|act| {
            let constraint = |kind: &[&str]| {
                rules::add_foreign_key_without_not_valid::added_without_not_valid(act, kind)
                    .is_some()
            };
            if let Some((_, rest)) = added_column(act) {
                let top = top_level(rest);
                return rules::add_column_volatile_default::rewrite_reason(rest).is_some()
                    || top.iter().any(|x| {
                        x.is_any(&["CHECK", "UNIQUE", "PRIMARY", "REFERENCES", "IDENTITY"])
                    });
            }
            if let Some((column, i)) = column_action(act, "ALTER") {
                let rest = &act[i..];
                return rest
                    .get(skip(rest, 0, &["SET", "DATA"]))
                    .is_some_and(|x| x.is("TYPE"))
                    || at(rest, 0, &["SET", "EXPRESSION"])
                    || (at(rest, 0, &["SET", "NOT", "NULL"])
                        && !ctx.not_null_proven(&a.table, &column));
            }
            constraint(&["CHECK"])
                || constraint(&["FOREIGN", "KEY"])
                || constraint(&["EXCLUDE"])
                || ((constraint(&["UNIQUE"]) || constraint(&["PRIMARY", "KEY"]))
                    && !(0..act.len()).any(|k| at(act, k, &["USING", "INDEX"])))
                || at(act, 0, &["SET", "TABLESPACE"])
                || at(act, 0, &["SET", "LOGGED"])
                || at(act, 0, &["SET", "UNLOGGED"])
                || at(act, 0, &["SET", "ACCESS", "METHOD"])
                || at(act, 0, &["ATTACH", "PARTITION"])
        });
        scans.then_some(a.table)
    }

    /// `SET [SESSION | LOCAL] name ...`: the setting's name, lowercased; a custom
    /// `foo.bar` keeps its dot, so it never passes for a server setting.
    pub fn set_setting(&self) -> Option<String> {
        if !self.starts(&["SET"]) {
            return None;
        }
        let t = &self.tokens;
        let i = skip(t, 1, &["SESSION"]);
        let i = skip(t, i, &["LOCAL"]);
        let mut name = t.get(i)?.ident()?;
        let mut i = i + 1;
        while t.get(i).is_some_and(|x| x.is_punct(".")) {
            name = format!("{name}.{}", t.get(i + 1)?.ident()?);
            i += 2;
        }
        Some(name.to_lowercase())
    }

    pub fn starts(&self, kws: &[&str]) -> bool {
        at(&self.tokens, 0, kws)
    }

    pub fn has(&self, kw: &str) -> bool {
        self.tokens.iter().any(|t| t.is(kw))
    }

    /// [`Stmt::alter_table`] of a table that existed before the linted migrations: one
    /// they create is new and empty, so no lock or data rule applies to it.
    pub fn alter_existing(&self, ctx: &Ctx) -> Option<AlterTable<'_>> {
        self.alter_table().filter(|a| !ctx.is_new(&a.table))
    }

    /// `ALTER TABLE` only: the statements that lock, rewrite or check a table's rows.
    pub fn alter_table(&self) -> Option<AlterTable<'_>> {
        self.alter_relation().filter(|a| a.kind == Relation::Table)
    }

    /// `ALTER TABLE | FOREIGN TABLE | VIEW | MATERIALIZED VIEW | TYPE name actions`.
    pub fn alter_relation(&self) -> Option<AlterTable<'_>> {
        let t = &self.tokens;
        let (kind, i) = [
            (&["ALTER", "TABLE"][..], Relation::Table),
            (&["ALTER", "FOREIGN", "TABLE"], Relation::ForeignTable),
            (&["ALTER", "VIEW"], Relation::View),
            (
                &["ALTER", "MATERIALIZED", "VIEW"],
                Relation::MaterializedView,
            ),
            (&["ALTER", "TYPE"], Relation::Type),
        ]
        .into_iter()
        .find(|(kws, _)| self.starts(kws))
        .map(|(kws, kind)| (kind, kws.len()))?;
        let mut i = skip(t, i, &["IF", "EXISTS"]);
        i = skip(t, i, &["ONLY"]);
        let (table, mut i) = qualified_name(t, i)?;
        if t.get(i).is_some_and(|x| x.is_punct("*")) {
            i += 1;
        }
        let mut actions = crate::sql::lex::split_commas(&t[i..]);
        actions.retain(|a| !a.is_empty());
        Some(AlterTable {
            kind,
            table,
            actions,
        })
    }

    /// `CREATE [UNIQUE] INDEX [CONCURRENTLY] ... ON [ONLY] table`: (concurrently, table).
    pub fn create_index(&self) -> Option<(bool, String)> {
        let t = &self.tokens;
        let i = skip(t, 1, &["UNIQUE"]);
        if !t.first()?.is("CREATE") || !t.get(i)?.is("INDEX") {
            return None;
        }
        let concurrently = t.get(i + 1).is_some_and(|x| x.is("CONCURRENTLY"));
        let on = t.iter().position(|x| x.is("ON"))?;
        let j = skip(t, on + 1, &["ONLY"]);
        let (table, _) = qualified_name(t, j)?;
        Some((concurrently, table))
    }

    /// `REINDEX [(options)] INDEX | TABLE | SCHEMA | DATABASE | SYSTEM [CONCURRENTLY] [name]`.
    pub fn reindex(&self) -> Option<Reindex> {
        if !self.starts(&["REINDEX"]) {
            return None;
        }
        let t = &self.tokens;
        // `CONCURRENTLY`, in the option list or after the kind, unless set false.
        let concurrent = t.iter().enumerate().any(|(i, x)| {
            x.is("CONCURRENTLY")
                && !t
                    .get(i + 1)
                    .is_some_and(|v| v.is("FALSE") || v.is("OFF") || v.text == "0")
        });
        let k = t.iter().position(|x| {
            ["INDEX", "TABLE", "SCHEMA", "DATABASE", "SYSTEM"]
                .iter()
                .any(|kw| x.is(kw))
        })?;
        let i = skip(t, k + 1, &["CONCURRENTLY"]);
        Some(Reindex {
            kind: t[k].text.to_ascii_uppercase(),
            name: qualified_name(t, i).map(|(n, _)| n),
            concurrent,
        })
    }

    /// The index a `DROP INDEX [CONCURRENTLY] [IF EXISTS] name` drops (the first one).
    pub fn dropped_index(&self) -> Option<String> {
        if !self.starts(&["DROP", "INDEX"]) {
            return None;
        }
        let t = &self.tokens;
        let i = skip(t, 2, &["CONCURRENTLY"]);
        let i = skip(t, i, &["IF", "EXISTS"]);
        qualified_name(t, i).map(|(n, _)| n)
    }

    /// The name of the index a `CREATE INDEX` statement creates, when it names one.
    pub fn created_index_name(&self) -> Option<String> {
        let t = &self.tokens;
        self.create_index()?;
        let i = t.iter().position(|x| x.is("INDEX"))? + 1;
        let i = skip(t, i, &["CONCURRENTLY"]);
        let i = skip(t, i, &["IF", "NOT", "EXISTS"]);
        if t.get(i)?.is("ON") {
            return None;
        }
        qualified_name(t, i).map(|(n, _)| n)
    }

    /// The table a `CREATE TABLE` statement creates.
    pub fn created_table(&self) -> Option<String> {
        let t = &self.tokens;
        if !t.first()?.is("CREATE") {
            return None;
        }
        let mut i = 1;
        for kw in ["GLOBAL", "LOCAL", "TEMP", "TEMPORARY", "UNLOGGED"] {
            i = skip(t, i, &[kw]);
        }
        if !t.get(i)?.is("TABLE") {
            return None;
        }
        i = skip(t, i + 1, &["IF", "NOT", "EXISTS"]);
        qualified_name(t, i).map(|(n, _)| n)
    }

    /// The table a statement takes a strong lock on, for `missing-lock-timeout`: ALTER
    /// TABLE, CREATE INDEX (not CONCURRENTLY), DROP TABLE, TRUNCATE, CLUSTER, VACUUM FULL.
    pub fn locked_table(&self) -> Option<String> {
        let t = &self.tokens;
        if let Some(a) = self.alter_table() {
            return Some(a.table);
        }
        if let Some((concurrently, table)) = self.create_index() {
            return (!concurrently).then_some(table);
        }
        if self.starts(&["DROP", "TABLE"]) {
            let i = skip(t, 2, &["IF", "EXISTS"]);
            return qualified_name(t, i).map(|(n, _)| n);
        }
        if self.starts(&["TRUNCATE"]) {
            let i = skip(t, 1, &["TABLE"]);
            let i = skip(t, i, &["ONLY"]);
            return qualified_name(t, i).map(|(n, _)| n);
        }
        if self.starts(&["CLUSTER"]) || rules::vacuum_full_or_cluster::is_vacuum_full(self) {
            return t
                .iter()
                .rev()
                .find(|x| matches!(x.kind, Kind::Word | Kind::Quoted))
                .and_then(Tok::ident);
        }
        None
    }
}

/// Statements the engine's `locked_table` does not cover that still queue for a lock on
/// an existing table: LOCK TABLE, non-concurrent REINDEX, REFRESH MATERIALIZED VIEW,
/// COMMENT ON TABLE | COLUMN, and VACUUM (SHARE UPDATE EXCLUSIVE even without FULL).
fn other_locked(s: &Stmt) -> Option<String> {
    let t = &s.tokens;
    let name_at = |i: usize| qualified_name(t, i).map(|(n, _)| n);
    if s.starts(&["LOCK"]) {
        let i = skip(t, 1, &["TABLE"]);
        return name_at(skip(t, i, &["ONLY"]));
    }
    if let Some(r) = s.reindex() {
        return match r.kind.as_str() {
            "INDEX" | "TABLE" if !r.concurrent => r.name,
            _ => None,
        };
    }
    if s.starts(&["REFRESH", "MATERIALIZED", "VIEW"]) {
        let i = skip(t, 3, &["CONCURRENTLY"]);
        return name_at(i);
    }
    if s.starts(&["COMMENT", "ON", "TABLE"]) {
        return name_at(3);
    }
    if s.starts(&["COMMENT", "ON", "COLUMN"]) {
        // t.c or s.t.c: the table is the part before the column.
        let mut parts = vec![t.get(3)?.ident()?];
        let mut i = 4;
        while t.get(i).is_some_and(|x| x.is_punct(".")) {
            parts.push(t.get(i + 1)?.ident()?);
            i += 2;
        }
        parts.pop();
        return parts.pop();
    }
    if s.starts(&["VACUUM"]) {
        return t
            .iter()
            .skip(1)
            .rev()
            .find(|x| matches!(x.kind, Kind::Word | Kind::Quoted) && !x.is("VACUUM"))
            .filter(|x| !x.is("FULL") && !x.is("ANALYZE") && !x.is("VERBOSE"))
            .and_then(Tok::ident);
    }
    None
}

/// Every file-level and statement-level finding for `files`, linted in order: a table
/// created in an earlier file counts as new in later ones.
pub fn lint(files: &[LintFile]) -> Vec<Finding> {
    lint_with(files, None)
}

/// [`lint`] with an environment's table sizes: size-aware rules ([`SIZE_AWARE`]) on a
/// big table become errors that give the row count, on a small one info; a table not in
/// `sizes` (or no sizes) keeps the rule's default. Findings that a data check can
/// confirm carry a [`Probe`].
pub fn lint_with(files: &[LintFile], sizes: Option<&Sizes>) -> Vec<Finding> {
    lint_env(files, sizes, &IndexTables::new())
}

/// [`lint_with`], knowing each index's table, so DROP INDEX is sized by its table too.
pub fn lint_env(files: &[LintFile], sizes: Option<&Sizes>, indexes: &IndexTables) -> Vec<Finding> {
    lint_for(Dialect::Postgres, files, sizes, indexes)
}

/// [`lint_env`] for files of one engine: split and parsed in its SQL, with the rules
/// that apply to it.
pub fn lint_for(
    dialect: Dialect,
    files: &[LintFile],
    sizes: Option<&Sizes>,
    indexes: &IndexTables,
) -> Vec<Finding> {
    let mut out = vec![];
    // What one file learns (tables created, constraints validated) holds for the next.
    let mut ctx = Ctx {
        dialect,
        ..Ctx::default()
    };
    for f in files {
        out.extend(lint_file(f, &mut ctx, sizes, indexes));
    }
    out
}

fn lint_file(
    f: &LintFile,
    ctx: &mut Ctx,
    sizes: Option<&Sizes>,
    indexes: &IndexTables,
) -> Vec<Finding> {
    let lines: Vec<&str> = f.text.lines().collect();
    let mut out = vec![];
    let file_line = |l: usize| f.first_line + l - 1;
    let finding = |rule: &str, severity, line, hit: Hit| Finding {
        rule: rule.to_string(),
        severity,
        file: f.path.clone(),
        line,
        message: hit.message,
        help: hit.help,
        table_rows: None,
        probe: None,
        statement: None,
    };

    if f.has_down == Some(false) && !file_suppresses(&lines, rules::missing_down::RULE.id) {
        out.push(finding(
            rules::missing_down::RULE.id,
            rules::missing_down::RULE.severity,
            f.first_line,
            rules::missing_down::hit(),
        ));
    }

    ctx.no_transaction = f.no_transaction;
    ctx.in_transaction = !f.no_transaction;
    ctx.lock_timeout_set = false;
    ctx.statement_timeout_set = false;
    ctx.not_valid_in_tx.clear();
    ctx.open_begin = None;
    let split = split::split_with(&f.text, ctx.lexer());
    // Deploy drops a transactional file's own BEGIN first and COMMIT last; so does lint.
    let statements = if f.no_transaction {
        split.statements
    } else {
        split::without_wrapper(split.statements)
    };
    let mut reported: BTreeSet<&str> = BTreeSet::new();
    for s in statements {
        let tokens = tokenize(&s.sql);
        if tokens.is_empty() {
            continue;
        }
        let parsed =
            s.sql.len() <= PARSE_MAX_BYTES && crate::sql::parse::parses(&s.sql, ctx.dialect);
        let stmt = Stmt {
            sql: &s.sql,
            line: file_line(s.line),
            tokens,
            parsed,
        };
        let (ignored, bad) = suppressions(&lines, s.line);
        for (l, text) in bad {
            out.push(finding(
                "invalid-suppression",
                Severity::Error,
                file_line(l),
                Hit {
                    message: format!("`{text}` has no reason, so it suppresses nothing"),
                    help: "write `-- lockstep:ignore <rule-id> <why this is safe here>`".into(),
                },
            ));
        }
        let mut hits: Vec<(&Rule, Hit)> = vec![];
        // sqlparser's MySQL grammar lacks much that MySQL and MariaDB run (`int(10)
        // UNSIGNED`, `BINARY` on a column, `ROW_FORMAT=`, `CONVERT TO CHARACTER SET`), and
        // every rule that holds on MySQL reads tokens, not the tree: a statement it
        // cannot parse is no news there (rehearse runs it on the server).
        if !stmt.parsed && ctx.dialect != Dialect::Mysql {
            let rule = match stmt.sql.len() > PARSE_MAX_BYTES {
                true => &rules::could_not_parse::TOO_LARGE,
                false => &rules::could_not_parse::RULE,
            };
            hits.extend(
                rules::could_not_parse::check(&stmt)
                    .into_iter()
                    .map(|h| (rule, h)),
            );
        }
        for rule in rules::ALL {
            if !rules::applies(rule.id, ctx.dialect) {
                continue;
            }
            if rule.once_per_file && reported.contains(rule.id) {
                continue;
            }
            for h in (rule.check)(&stmt, ctx) {
                if rule.once_per_file {
                    reported.insert(rule.id);
                }
                hits.push((rule, h));
            }
        }
        let locked = sizes.and_then(|_| {
            stmt.locked_table()
                .or_else(|| indexes.get(&stmt.dropped_index()?).cloned())
                .or_else(|| {
                    let r = stmt.reindex()?;
                    match r.kind.as_str() {
                        "TABLE" => r.name,
                        "INDEX" => indexes.get(&r.name?).cloned(),
                        _ => None,
                    }
                })
        });
        let (mut nulls, mut uniques, mut required) = match sizes {
            Some(_) => statement_probes(&stmt, ctx),
            None => (vec![], vec![], vec![]),
        };
        nulls.reverse();
        uniques.reverse();
        required.reverse();
        for (rule, h) in hits {
            let probe = match rule.id {
                "add-not-null" => nulls.pop(),
                "add-unique-constraint" => uniques.pop(),
                "add-required-column" => required.pop(),
                _ => None,
            };
            if ignored.iter().any(|r| r == rule.id) {
                continue;
            }
            let mut fd = finding(rule.id, rule.severity, stmt.line, h);
            if let Some(size) = sizes
                .zip(locked.as_ref())
                .filter(|_| SIZE_AWARE.contains(&rule.id))
                .and_then(|(m, t)| m.get(t))
            {
                let (sev, note) = scale(rule.severity, size);
                fd.severity = sev;
                fd.message = format!("{} ({note})", fd.message);
                fd.table_rows = size.rows;
            }
            fd.probe = probe;
            if rule.id == rules::could_not_parse::RULE.id && stmt.sql.len() <= PARSE_MAX_BYTES {
                fd.statement = Some(stmt.sql.to_string());
            }
            out.push(fd);
        }
        ctx.learn(&stmt);
    }
    // Not suppressible: deploy refuses the file whatever a comment says.
    for p in &split.problems {
        let rule = &rules::unterminated::RULE;
        let line = file_line(p.line);
        out.push(finding(
            rule.id,
            rule.severity,
            line,
            rules::unterminated::hit(p),
        ));
    }
    if let Some(line) = ctx.open_begin.take() {
        let rule = &rules::uncommitted_transaction::RULE;
        let local = line + 1 - f.first_line;
        if !suppressions(&lines, local).0.iter().any(|r| r == rule.id) {
            out.push(finding(
                rule.id,
                rule.severity,
                line,
                rules::uncommitted_transaction::hit(line),
            ));
        }
    }
    out
}

const IGNORE: &str = "-- lockstep:ignore";

/// The rules suppressed by the comment lines right above `line` (1-based in `lines`),
/// and the suppressions without a reason (line, text).
fn suppressions(lines: &[&str], line: usize) -> (Vec<String>, Vec<(usize, String)>) {
    let mut ok = vec![];
    let mut bad = vec![];
    let mut l = line.saturating_sub(1);
    while l >= 1 {
        let text = lines.get(l - 1).map(|s| s.trim()).unwrap_or("");
        if !text.starts_with("--") {
            break;
        }
        if let Some(rest) = text.strip_prefix(IGNORE) {
            let mut words = rest.split_whitespace();
            match (words.next(), words.next()) {
                (Some(rule), Some(_reason)) => ok.push(rule.to_string()),
                _ => bad.push((l, text.to_string())),
            }
        }
        l -= 1;
    }
    (ok, bad)
}

/// File-level rules (missing-down) are suppressed by the comment anywhere in the file.
fn file_suppresses(lines: &[&str], rule: &str) -> bool {
    lines.iter().any(|l| {
        l.trim()
            .strip_prefix(IGNORE)
            .map(|r| {
                let mut w = r.split_whitespace();
                w.next() == Some(rule) && w.next().is_some()
            })
            .unwrap_or(false)
    })
}

/// Lints one transactional migration that has a down script. For tests.
pub fn lint_sql(sql: &str) -> Vec<Finding> {
    lint(&[LintFile {
        path: "m.sql".into(),
        text: sql.into(),
        first_line: 1,
        no_transaction: false,
        has_down: Some(true),
    }])
}

/// Whether linting `sql` as one transactional migration reports `rule`. For rule tests.
pub fn reports(sql: &str, rule: &str) -> bool {
    lint_sql(sql).iter().any(|f| f.rule == rule)
}

/// The ids of the findings `sql` gets, for tests.
pub fn rule_ids(sql: &str) -> Vec<String> {
    lint_sql(sql).into_iter().map(|f| f.rule).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokenizer_drops_comments_and_literals() {
        let t = tokenize(
            "select 'drop table x' -- drop table y\n, \"Drop\" /* a /* b */ c */ $$x$$ from t",
        );
        let words: Vec<&str> = t.iter().map(|t| t.text).collect();
        assert_eq!(
            words,
            [
                "select",
                "'drop table x'",
                ",",
                "\"Drop\"",
                "$$x$$",
                "from",
                "t"
            ]
        );
        let kinds: Vec<Kind> = t.iter().map(|t| t.kind).collect();
        use Kind::*;
        assert_eq!(kinds, [Word, Str, Punct, Quoted, Str, Word, Word]);
        assert_eq!(t[3].ident().as_deref(), Some("Drop"));
        assert_eq!(t[6].ident().as_deref(), Some("t"));
    }

    #[test]
    fn escape_strings_do_not_end_at_a_backslash_quote() {
        let t = tokenize(r"select E'it\'s; drop table x', 1");
        let kinds: Vec<Kind> = t.iter().map(|t| t.kind).collect();
        assert_eq!(kinds, [Kind::Word, Kind::Str, Kind::Punct, Kind::Num]);
    }

    #[test]
    fn suppression_needs_a_reason() {
        let ok = "SET lock_timeout = '1s';\nSET statement_timeout = '1min';\n-- lockstep:ignore drop-table nobody reads it since 2024\nDROP TABLE t;";
        assert!(rule_ids(ok).is_empty(), "{:?}", lint_sql(ok));
        let bad = "SET lock_timeout = '1s';\nSET statement_timeout = '1min';\n-- lockstep:ignore drop-table\nDROP TABLE t;";
        assert_eq!(rule_ids(bad), ["invalid-suppression", "drop-table"]);
    }

    #[test]
    fn suppression_names_one_rule() {
        let sql = "-- lockstep:ignore drop-table gone\nDROP TABLE t;";
        assert_eq!(rule_ids(sql), ["missing-lock-timeout"]);
    }

    #[test]
    fn lines_are_file_lines() {
        let f = LintFile {
            first_line: 10,
            ..LintFile::loose("a.sql", "\n\nTRUNCATE t;")
        };
        let found = lint(&[f]);
        assert!(found.iter().all(|f| f.line == 12), "{found:?}");
    }

    fn sized(sql: &str, rows: u64) -> Vec<Finding> {
        let sizes: Sizes = [(
            "orders".to_string(),
            TableSize {
                rows: Some(rows),
                bytes: Some(rows * 100),
            },
        )]
        .into();
        lint_with(&[LintFile::loose("m.sql", sql)], Some(&sizes))
    }

    fn severity_of(found: &[Finding], rule: &str) -> Severity {
        found.iter().find(|f| f.rule == rule).unwrap().severity
    }

    #[test]
    fn severity_follows_table_size() {
        let sql = "SET lock_timeout = '1s';\nCREATE INDEX i ON orders (a);";
        let id = "create-index-non-concurrently";
        let small = sized(sql, 100);
        assert_eq!(severity_of(&small, id), Severity::Info);
        assert!(small[0]
            .message
            .contains("about 100 rows: the lock is brief"));
        assert_eq!(severity_of(&sized(sql, 50_000), id), Severity::Error);
        let big = sized(sql, 5_000_000);
        assert_eq!(severity_of(&big, id), Severity::Error);
        assert!(big[0].message.contains("5000000 rows"), "{big:?}");
        assert_eq!(big[0].table_rows, Some(5_000_000));
        // Unknown table: the default, no note.
        let other = lint_with(
            &[LintFile::loose("m.sql", "CREATE INDEX i ON items (a);")],
            Some(&Sizes::new()),
        );
        assert_eq!(severity_of(&other, id), Severity::Error);
        assert!(!other[0].message.contains("rows"));
    }

    #[test]
    fn drop_index_is_sized_by_its_table() {
        let sizes: Sizes = [(
            "orders".to_string(),
            TableSize {
                rows: Some(5_000_000),
                bytes: None,
            },
        )]
        .into();
        let indexes: IndexTables = [("orders_a".to_string(), "orders".to_string())].into();
        let sql = "SET lock_timeout = '1s';\nDROP INDEX IF EXISTS public.orders_a;";
        let f = lint_env(&[LintFile::loose("m.sql", sql)], Some(&sizes), &indexes);
        let d = f
            .iter()
            .find(|f| f.rule == "drop-index-non-concurrently")
            .unwrap();
        assert_eq!(d.table_rows, Some(5_000_000));
        assert!(d.message.contains("5000000 rows"), "{d:?}");
        // Without the index map the table is unknown: the default, no size.
        let f = lint_with(&[LintFile::loose("m.sql", sql)], Some(&sizes));
        assert!(f.iter().all(|f| f.table_rows.is_none()), "{f:?}");
    }

    #[test]
    fn big_by_bytes_alone() {
        let sizes: Sizes = [(
            "orders".to_string(),
            TableSize {
                rows: None,
                bytes: Some(2 << 30),
            },
        )]
        .into();
        let f = lint_with(
            &[LintFile::loose("m.sql", "CREATE INDEX i ON orders (a);")],
            Some(&sizes),
        );
        assert_eq!(
            severity_of(&f, "create-index-non-concurrently"),
            Severity::Error
        );
        assert!(f[0].message.contains("2.0 GiB"), "{f:?}");
    }

    #[test]
    fn data_checks_are_attached_and_applied() {
        let sql = "ALTER TABLE orders ALTER note SET NOT NULL, ADD CONSTRAINT k UNIQUE (a, \"B\");";
        let mut found = sized(sql, 100);
        let nn = found.iter_mut().find(|f| f.rule == "add-not-null").unwrap();
        assert_eq!(
            nn.probe.as_ref().unwrap().check,
            DataCheck::Nulls {
                column: "note".into()
            }
        );
        assert_eq!(nn.severity, Severity::Info);
        apply_count(nn, &ProbeResult::Counted(3));
        assert_eq!(nn.severity, Severity::Error);
        assert!(nn.message.contains("3 row(s) have NULL in note"), "{nn:?}");
        let u = found
            .iter()
            .find(|f| f.rule == "add-unique-constraint")
            .unwrap();
        assert_eq!(
            u.probe.as_ref().unwrap().check,
            DataCheck::Duplicates {
                columns: vec!["a".into(), "B".into()]
            }
        );
        // Without sizes there is nothing to probe.
        assert!(lint_sql(sql).iter().all(|f| f.probe.is_none()));
    }

    #[test]
    fn tables_created_in_earlier_files_are_new() {
        let a = LintFile::loose("1.sql", "CREATE TABLE t (id int);");
        let b = LintFile::loose("2.sql", "CREATE INDEX t_id ON t (id);");
        assert!(lint(&[a, b.clone()]).is_empty());
        assert!(!lint(&[b]).is_empty());
    }

    #[test]
    fn missing_down_is_reported_once_per_file() {
        let f = LintFile {
            has_down: Some(false),
            ..LintFile::loose("a.sql", "CREATE TABLE t (id int);")
        };
        assert_eq!(lint(&[f]).len(), 1);
    }

    #[test]
    fn every_rule_has_an_id_listed_and_a_doc_page() {
        for r in rules::ALL {
            assert!(rules::IDS.contains(&r.id), "{} not in IDS", r.id);
        }
        let docs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/rules");
        for id in rules::IDS {
            let page = docs.join(format!("{id}.md"));
            assert!(page.is_file(), "no doc page {}", page.display());
        }
    }
}
