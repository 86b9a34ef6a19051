//! `lockstep lint`: text (annotate-snippets: the statement with a caret under the
//! offending token and the help below), JSON, GitHub annotations, GitLab Code Quality.

use crate::cli::LintFormat;
use crate::ui::{paint, FAIL, OK};
use annotate_snippets::{AnnotationKind, Level, Origin, Renderer, Snippet};
use lockstep_engine::core::lint::{Finding, LintFile, Severity};

pub fn print(findings: &[Finding], inputs: &[LintFile], format: LintFormat) -> anyhow::Result<()> {
    match format {
        LintFormat::Json => super::out(&serde_json::to_string_pretty(
            &serde_json::json!({ "findings": findings }),
        )?),
        LintFormat::Github => {
            let mut s = String::new();
            for f in findings {
                let level = match f.severity {
                    Severity::Error => "error",
                    Severity::Warning => "warning",
                    Severity::Info => "notice",
                };
                s.push_str(&format!(
                    "::{level} file={},line={},title={}::{}\n",
                    gh_property(&f.file),
                    f.line,
                    gh_property(&f.rule),
                    gh_data(&format!("{}\nhelp: {}", f.message, f.help)),
                ));
            }
            if s.is_empty() {
                return Ok(());
            }
            super::out(&s)
        }
        LintFormat::Gitlab => {
            // GitLab's Code Quality format: one issue per finding; the fingerprint keeps
            // an unchanged finding the same issue across pipelines.
            let items: Vec<serde_json::Value> = findings
                .iter()
                .map(|f| {
                    let severity = match f.severity {
                        Severity::Error => "major",
                        Severity::Warning => "minor",
                        Severity::Info => "info",
                    };
                    let fingerprint = lockstep_engine::core::migrate::dir::checksum(&format!(
                        "{}:{}:{}",
                        f.rule, f.file, f.message
                    ));
                    serde_json::json!({
                        "description": format!("{}: {} (help: {})", f.rule, f.message, f.help),
                        "check_name": f.rule,
                        "fingerprint": fingerprint,
                        "severity": severity,
                        "location": {"path": f.file, "lines": {"begin": f.line}},
                    })
                })
                .collect();
            super::out(&serde_json::to_string_pretty(&items)?)
        }
        LintFormat::Text => {
            let mut s = String::new();
            for f in findings {
                s.push_str(&finding(inputs, f));
                s.push_str("\n\n");
            }
            let errors = findings
                .iter()
                .filter(|f| f.severity == Severity::Error)
                .count();
            let summary = format!(
                "{} linted: {}, {}",
                super::count(inputs.len(), "file", "files"),
                super::count(errors, "error", "errors"),
                super::count(findings.len() - errors, "other finding", "other findings")
            );
            s.push_str(&if errors > 0 {
                paint(FAIL, summary)
            } else if findings.is_empty() {
                paint(OK, summary)
            } else {
                summary
            });
            super::out(&s)
        }
    }
}

/// One finding as squawk and rustc show one: the rule and message, the file and line,
/// the statement with a caret under the token it is about, and the help below.
pub fn finding(inputs: &[LintFile], f: &Finding) -> String {
    let level = match f.severity {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
        Severity::Info => Level::INFO,
    };
    let title = level.primary_title(f.message.as_str()).id(f.rule.as_str());
    let help = Level::HELP.message(f.help.as_str());
    let group = match excerpt(inputs, f) {
        Some(x) => title
            .element(
                Snippet::source(x.source)
                    .line_start(x.line)
                    .path(f.file.as_str())
                    .annotation(AnnotationKind::Primary.span(x.span)),
            )
            .element(help),
        None => title
            .element(Origin::path(f.file.as_str()).line(f.line))
            .element(help),
    };
    Renderer::styled().render(&[group])
}

/// The lines of a statement a finding points at, and the byte span of its token there.
struct Excerpt<'a> {
    source: &'a str,
    /// The file line `source` starts on.
    line: usize,
    span: std::ops::Range<usize>,
}

/// At most this many lines of a statement are shown; the caret is on them.
const MAX_LINES: usize = 12;

fn excerpt<'a>(inputs: &'a [LintFile], f: &Finding) -> Option<Excerpt<'a>> {
    let input = inputs.iter().find(|i| i.path == f.file)?;
    // A finding about the whole file (a missing down script) has no statement.
    if f.rule == "missing-down" {
        return None;
    }
    let idx = f.line.checked_sub(input.first_line)?;
    let start = line_offset(&input.text, idx)?;
    let rest = &input.text[start..];
    if rest.trim().is_empty() {
        return None;
    }
    let span = span(rest, &f.rule, &f.message);
    // Show from the statement's first line to the end of the line the span ends on,
    // and no further than MAX_LINES lines.
    let mut end = rest[span.end..]
        .find('\n')
        .map_or(rest.len(), |n| span.end + n);
    if let Some(limit) = line_offset(rest, MAX_LINES) {
        if end > limit {
            end = limit.saturating_sub(1);
        }
    }
    let source = &rest[..end];
    let span = span.start.min(source.len())..span.end.min(source.len());
    Some(Excerpt {
        source,
        line: f.line,
        span,
    })
}

/// The byte offset of line `n` (0-based) of `text`.
fn line_offset(text: &str, n: usize) -> Option<usize> {
    if n == 0 {
        return Some(0);
    }
    text.match_indices('\n').nth(n - 1).map(|(i, _)| i + 1)
}

/// The keywords each rule is about, first match wins; the caret goes under them and the
/// name after them when the message names it (`DROP COLUMN note`).
fn anchors(rule: &str) -> &'static [&'static [&'static str]] {
    match rule {
        "add-check-without-not-valid" => &[&["CHECK"]],
        "add-column-volatile-default" => &[&["DEFAULT"]],
        "add-foreign-key-without-not-valid" => &[&["FOREIGN", "KEY"], &["REFERENCES"]],
        "add-not-null" => &[&["SET", "NOT", "NULL"]],
        "add-required-column" => &[&["NOT", "NULL"], &["ADD", "COLUMN"], &["ADD"]],
        "add-unique-constraint" => &[&["UNIQUE"], &["PRIMARY", "KEY"]],
        "change-column-type" => &[&["SET", "DATA", "TYPE"], &["TYPE"]],
        "concurrently-in-transaction" => &[&["CONCURRENTLY"]],
        "create-index-non-concurrently" => &[&["CREATE", "UNIQUE", "INDEX"], &["CREATE", "INDEX"]],
        "detach-partition-non-concurrently" => &[&["DETACH", "PARTITION"]],
        "drop-column" => &[&["DROP", "COLUMN"], &["DROP"]],
        "drop-default" => &[&["DROP", "DEFAULT"]],
        "drop-index-non-concurrently" => &[&["DROP", "INDEX"]],
        "drop-not-null" => &[&["DROP", "NOT", "NULL"]],
        "drop-table" => &[&["DROP", "TABLE"]],
        "reindex-non-concurrently" => &[&["REINDEX"]],
        "rename-column" => &[&["RENAME", "COLUMN"], &["RENAME"]],
        "rename-table" => &[&["RENAME", "TO"]],
        "truncate-cascade" => &[&["CASCADE"]],
        "truncate" => &[&["TRUNCATE"]],
        "vacuum-full-or-cluster" => &[&["VACUUM"], &["CLUSTER"]],
        "validate-in-same-transaction" => &[&["VALIDATE", "CONSTRAINT"]],
        "transaction-control" | "mixed-no-transaction" | "uncommitted-transaction" => &[
            &["BEGIN"],
            &["START", "TRANSACTION"],
            &["COMMIT"],
            &["ROLLBACK"],
            &["END"],
        ],
        _ => &[],
    }
}

/// Where the caret goes in `stmt` (the text from the statement's first line on): the
/// rule's keywords, widened to the name after them when the message names it; else the
/// first token the message names; else the statement's first token. Tokens come from the
/// one SQL lexer, so a keyword inside a comment or string is never chosen.
fn span(stmt: &str, rule: &str, message: &str) -> std::ops::Range<usize> {
    use lockstep_engine::core::sql::lex::{Dialect, Lexer, Token, TokenKind};
    let mut toks: Vec<Token> = vec![];
    for t in Lexer::new(stmt, Dialect::Postgres) {
        if !t.is_code() {
            continue;
        }
        let end = t.kind == TokenKind::Punct && t.text == ";";
        toks.push(t);
        if end {
            break;
        }
    }
    let Some(first) = toks.first() else {
        return 0..stmt.len().min(1);
    };
    let named = |t: &Token| {
        matches!(t.kind, TokenKind::Word | TokenKind::Quoted) && {
            let name = lockstep_engine::core::sql::lex::unquote(t.text).to_ascii_lowercase();
            message
                .to_ascii_lowercase()
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .any(|w| w == name)
        }
    };
    let word = |t: &Token, kw: &str| t.kind == TokenKind::Word && t.text.eq_ignore_ascii_case(kw);
    for seq in anchors(rule) {
        let hit = (0..toks.len()).find(|&i| {
            seq.iter()
                .enumerate()
                .all(|(k, kw)| toks.get(i + k).is_some_and(|t| word(t, kw)))
        });
        if let Some(i) = hit {
            let mut last = i + seq.len() - 1;
            // `DROP INDEX IF EXISTS idx`: skip IF EXISTS to the name.
            let mut next = last + 1;
            while toks
                .get(next)
                .is_some_and(|t| word(t, "IF") || word(t, "EXISTS") || word(t, "NOT"))
            {
                next += 1;
            }
            if toks.get(next).is_some_and(named) {
                last = next;
            }
            return toks[i].start..toks[last].end();
        }
    }
    if let Some(t) = toks.iter().skip(1).find(|t| named(t)) {
        return t.start..t.end();
    }
    first.start..first.end()
}

/// GitHub workflow command escaping: message data.
fn gh_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// GitHub workflow command escaping: property values.
fn gh_property(s: &str) -> String {
    gh_data(s).replace(':', "%3A").replace(',', "%2C")
}
