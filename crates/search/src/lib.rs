//! Code search for `lockstep impact`: which files and lines refer to a table or column.
//!
//! Built on ripgrep's engine crates: `ignore` walks the roots in parallel and honours
//! `.gitignore` (also outside a git repository), `grep-regex` + `grep-searcher` find
//! candidate lines with one word-bounded regex over every name, and each candidate line
//! is then classified per target. Binary files (such as SQLite databases) are skipped.
//!
//! Matching is ASCII case-insensitive (SQL identifiers are), and a name never matches
//! inside a longer identifier: `_` and digits are word characters, so `segment` does not
//! match `order_segment` or `segment2`. A snake_case column is also found in the camelCase
//! or PascalCase form that ORMs map it from (`cust_ref` as `custRef`, `CustRef`).

use grep_regex::RegexMatcherBuilder;
use grep_searcher::{sinks::UTF8, BinaryDetection, SearcherBuilder};
use ignore::{WalkBuilder, WalkState};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// A table or column that a schema change touches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub table: String,
    /// `None` for a change to the whole table.
    pub column: Option<String>,
    /// What happens to it, for the report: `dropped`, `renamed to x`, `retyped`, ...
    pub change: String,
    /// The new name of a renamed table or column.
    pub new_name: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

impl Confidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }

    fn lower(self) -> Confidence {
        match self {
            Confidence::High => Confidence::Medium,
            _ => Confidence::Low,
        }
    }
}

/// One line that refers to a target. At most one hit per (target, file, line).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hit {
    /// Index into the `targets` slice.
    pub target: usize,
    pub file: PathBuf,
    /// 1-based.
    pub line: u64,
    /// The line without its terminator.
    pub text: String,
    pub confidence: Confidence,
}

#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Paths (files or directories) never searched, such as the migrations directory.
    pub exclude: Vec<PathBuf>,
}

/// Searches `roots` for references to `targets`. Hits are sorted by target, file, line.
pub fn search(roots: &[PathBuf], targets: &[Target]) -> Vec<Hit> {
    search_with(roots, targets, &Options::default())
}

pub fn search_with(roots: &[PathBuf], targets: &[Target], opts: &Options) -> Vec<Hit> {
    let mut names: Vec<String> = vec![];
    // A line refers to a column target only if it names the column (the table raises the
    // confidence of such a line), so only table targets put the table name in the regex.
    for t in targets {
        match &t.column {
            Some(c) => {
                names.push(c.to_ascii_lowercase());
                names.extend(camel(c));
            }
            None => names.push(t.table.to_ascii_lowercase()),
        }
    }
    names.retain(|n| !n.is_empty());
    names.sort();
    names.dedup();
    if names.is_empty() || roots.is_empty() {
        return vec![];
    }
    let alternation: Vec<String> = names.iter().map(|n| escape(n)).collect();
    // A prefilter only (`classify` decides): ASCII `\b` treats `_` and digits as word
    // characters, so a name inside a longer identifier is never a candidate.
    let pattern = format!(r"\b(?:{})\b", alternation.join("|"));
    let matcher = RegexMatcherBuilder::new()
        .case_insensitive(true)
        .unicode(false)
        .line_terminator(Some(b'\n'))
        .build(&pattern)
        .expect("escaped names form a valid regex");
    let excludes: Vec<PathBuf> = opts
        .exclude
        .iter()
        .map(|p| p.canonicalize().unwrap_or_else(|_| p.clone()))
        .collect();

    // Each root with its canonical form, resolved once: the walker does not follow
    // symbolic links, so an entry's canonical path is its root's plus the rest, and no
    // entry needs a `canonicalize` (a chain of syscalls) of its own.
    let roots_canon: Vec<(PathBuf, PathBuf)> = roots
        .iter()
        .map(|r| (r.clone(), r.canonicalize().unwrap_or_else(|_| r.clone())))
        .collect();
    let roots_canon = &roots_canon;

    let mut walk = WalkBuilder::new(&roots[0]);
    for r in &roots[1..] {
        walk.add(r);
    }
    walk.require_git(false);
    let hits = Mutex::new(Vec::new());
    walk.build_parallel().run(|| {
        let matcher = matcher.clone();
        let hits = &hits;
        let excludes = &excludes;
        let mut searcher = SearcherBuilder::new()
            .binary_detection(BinaryDetection::quit(0))
            .line_number(true)
            .build();
        Box::new(move |entry| {
            let Ok(entry) = entry else {
                return WalkState::Continue;
            };
            if !excludes.is_empty() && excluded(entry.path(), roots_canon, excludes) {
                return WalkState::Skip;
            }
            if !entry.file_type().is_some_and(|t| t.is_file()) {
                return WalkState::Continue;
            }
            let path = entry.path();
            let mut local = vec![];
            let _ = searcher.search_path(
                &matcher,
                path,
                UTF8(|lnum, line| {
                    let text = line.trim_end_matches(['\n', '\r']);
                    for (i, t) in targets.iter().enumerate() {
                        if let Some(confidence) = classify(text, t) {
                            local.push(Hit {
                                target: i,
                                file: path.to_path_buf(),
                                line: lnum,
                                text: text.to_string(),
                                confidence,
                            });
                        }
                    }
                    Ok(true)
                }),
            );
            if !local.is_empty() {
                hits.lock().expect("no panics while held").extend(local);
            }
            WalkState::Continue
        })
    });
    let mut hits = hits.into_inner().expect("no panics while held");
    hits.sort_by(|a, b| (a.target, &a.file, a.line).cmp(&(b.target, &b.file, b.line)));
    hits
}

/// Whether `path`, found under one of `roots`, lies in one of the (canonical) `excludes`.
fn excluded(path: &Path, roots: &[(PathBuf, PathBuf)], excludes: &[PathBuf]) -> bool {
    if excludes.iter().any(|e| path.starts_with(e)) {
        return true;
    }
    roots.iter().any(|(raw, canon)| {
        path.strip_prefix(raw)
            .is_ok_and(|rest| excludes.iter().any(|e| canon.join(rest).starts_with(e)))
    })
}

/// The snake_case name `c` with its underscores removed (`cust_ref` → `custref`), which a
/// case-insensitive regex matches as `custRef` and `CustRef`; `None` without two parts.
fn camel(c: &str) -> Option<String> {
    let parts: Vec<&str> = c.split('_').filter(|p| !p.is_empty()).collect();
    (parts.len() >= 2).then(|| parts.concat().to_ascii_lowercase())
}

/// Whether `word` is `column` as an ORM names it in code: camelCase or PascalCase, each
/// part after the first starting with a capital (`custRef` or `CustRef` for `cust_ref`;
/// not `custref` or `CUSTREF`, which say nothing about where the words break).
fn is_camel_of(word: &str, column: &str) -> bool {
    let parts: Vec<&str> = column.split('_').filter(|p| !p.is_empty()).collect();
    if parts.len() < 2 || word.len() != parts.iter().map(|p| p.len()).sum::<usize>() {
        return false;
    }
    let mut at = 0;
    for (i, p) in parts.iter().enumerate() {
        let piece = &word[at..at + p.len()];
        if !piece.eq_ignore_ascii_case(p) {
            return false;
        }
        let first = piece.as_bytes()[0];
        let rest_lower = piece[1..].bytes().all(|b| !b.is_ascii_uppercase());
        if (i > 0 && !first.is_ascii_uppercase()) || !rest_lower {
            return false;
        }
        at += p.len();
    }
    true
}

fn escape(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            out.push(c);
        } else {
            out.push('\\');
            out.push(c);
        }
    }
    out
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$'
}

/// An identifier token on a line: its text (quotes stripped) and byte span including
/// any quotes.
struct Tok<'a> {
    word: &'a str,
    start: usize,
    end: usize,
}

fn tokens(line: &str) -> Vec<Tok<'_>> {
    let b = line.as_bytes();
    let mut out = vec![];
    let mut i = 0;
    while i < b.len() {
        if is_word(b[i]) {
            let s = i;
            while i < b.len() && is_word(b[i]) {
                i += 1;
            }
            let (mut start, mut end) = (s, i);
            // A quoted identifier: "x", `x` or [x].
            if s > 0 && i < b.len() {
                let (o, c) = (b[s - 1], b[i]);
                if (o == b'"' && c == b'"') || (o == b'`' && c == b'`') || (o == b'[' && c == b']')
                {
                    start = s - 1;
                    end = i + 1;
                }
            }
            out.push(Tok {
                word: &line[s..i],
                start,
                end,
            });
        } else {
            i += 1;
        }
    }
    out
}

fn is_comment(line: &str) -> bool {
    let t = line.trim_start();
    t.starts_with("--") || t.starts_with('#') || t.starts_with("//") || t.starts_with("/*")
}

/// The confidence with which `line` refers to `t`, if it does.
pub fn classify(line: &str, t: &Target) -> Option<Confidence> {
    let toks = tokens(line);
    let eq = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    // `a.b`: token j directly follows token j-1 with one dot between.
    let qualified = |j: usize, first: &str| {
        j > 0 && eq(toks[j - 1].word, first) && &line[toks[j - 1].end..toks[j].start] == "."
    };
    let names_table = toks.iter().any(|k| eq(k.word, &t.table));
    let mut best: Option<Confidence> = None;
    match &t.column {
        Some(col) => {
            for (j, k) in toks.iter().enumerate() {
                if !eq(k.word, col) {
                    // An ORM field mapped to the column: medium, whatever else is on the line.
                    if is_camel_of(k.word, col) {
                        best = best.max(Some(Confidence::Medium));
                    }
                    continue;
                }
                let c = if qualified(j, &t.table) || names_table {
                    Confidence::High
                } else {
                    Confidence::Medium
                };
                best = best.max(Some(c));
            }
        }
        None => {
            const BEFORE_TABLE: [&str; 6] = ["from", "join", "into", "update", "table", "exists"];
            for (j, k) in toks.iter().enumerate() {
                if !eq(k.word, &t.table) {
                    continue;
                }
                // `FROM orders`, `UPDATE orders`, ...: SQL use of the table.
                let keyword_before = j > 0
                    && BEFORE_TABLE.iter().any(|w| eq(toks[j - 1].word, w))
                    && line[toks[j - 1].end..k.start].trim().is_empty();
                let c = if keyword_before {
                    Confidence::High
                } else {
                    Confidence::Medium
                };
                best = best.max(Some(c));
            }
        }
    }
    best.map(|c| if is_comment(line) { c.lower() } else { c })
}

/// A path relative to `base` when it lies under it, for reports.
pub fn relative(path: &Path, base: &Path) -> String {
    path.strip_prefix(base)
        .unwrap_or(path)
        .display()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(table: &str, column: &str) -> Target {
        Target {
            table: table.into(),
            column: Some(column.into()),
            change: "dropped".into(),
            new_name: None,
        }
    }

    fn table(table: &str) -> Target {
        Target {
            table: table.into(),
            column: None,
            change: "dropped".into(),
            new_name: None,
        }
    }

    fn c(line: &str, t: &Target) -> Option<&'static str> {
        classify(line, t).map(Confidence::as_str)
    }

    #[test]
    fn names_inside_longer_identifiers_never_count() {
        let t = col("orders", "segment");
        assert_eq!(c("x = order_segment + segment_id", &t), None);
        assert_eq!(c("segment2 = segments", &t), None);
        assert_eq!(c("OrderSegment()", &t), None);
        assert_eq!(c("$segment", &t), None);
        assert_eq!(c("x = segment + 1", &t), Some("medium"));
    }

    #[test]
    fn qualified_and_same_line_table_rank_high() {
        let t = col("orders", "segment");
        assert_eq!(c("SELECT orders.segment FROM x", &t), Some("high"));
        assert_eq!(c(r#"SELECT "orders"."segment" FROM x"#, &t), Some("high"));
        assert_eq!(c("SELECT `orders`.`segment`", &t), Some("high"));
        assert_eq!(c("SELECT public.ORDERS.Segment", &t), Some("high"));
        assert_eq!(
            c("INSERT INTO orders (id, segment) VALUES (1, 2)", &t),
            Some("high")
        );
        // Another table's column of the same name, with no mention of orders.
        assert_eq!(c("SELECT s.segment FROM stores s", &t), Some("medium"));
    }

    #[test]
    fn orm_forms_count() {
        let t = col("orders", "segment");
        assert_eq!(c("    pub segment: String,", &t), Some("medium"));
        assert_eq!(c("order.segment = 'x'", &t), Some("medium"));
        assert_eq!(c(r#"row["segment"]"#, &t), Some("medium"));
        assert_eq!(c("segment = models.TextField()", &t), Some("medium"));
    }

    #[test]
    fn camel_case_orm_fields_count() {
        let t = col("orders", "cust_ref");
        assert_eq!(c("    private String custRef;", &t), Some("medium"));
        assert_eq!(c("order.CustRef = x", &t), Some("medium"));
        assert_eq!(c("cust_ref: string", &t), Some("medium"));
        assert_eq!(c("// custRef is legacy", &t), Some("low"));
        // No word break shown, or a longer identifier: not the column.
        assert_eq!(c("custref = 1", &t), None);
        assert_eq!(c("CUSTREF = 1", &t), None);
        assert_eq!(c("custRefs = 1", &t), None);
        assert_eq!(c("custReF = 1", &t), None);
        assert_eq!(c("getCustRef()", &t), None);
        // A one-word column has no camel form.
        assert_eq!(c("Segment = 1", &col("orders", "segment")), Some("medium"));
    }

    #[test]
    fn comments_rank_lower_and_table_targets_rank_by_context() {
        let t = col("orders", "segment");
        assert_eq!(c("-- orders.segment is legacy", &t), Some("medium"));
        assert_eq!(c("# uses segment", &t), Some("low"));
        let t = table("orders");
        assert_eq!(c("SELECT * FROM orders", &t), Some("high"));
        assert_eq!(c("orders = fetch()", &t), Some("medium"));
        assert_eq!(c("preorders = 1", &t), None);
    }

    fn write(dir: &Path, rel: &str, text: &str) {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    #[test]
    fn search_honours_gitignore_skips_binary_and_excludes() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        write(d, ".gitignore", "build/\n");
        write(d, "build/gen.py", "orders.segment\n");
        write(
            d,
            "migrations/1.sql",
            "ALTER TABLE orders DROP COLUMN segment;\n",
        );
        write(d, "data.db", "orders\0segment\0");
        write(
            d,
            "app/a.py",
            "x = 1\nq = 'SELECT segment FROM orders'\nsegment_id = 2\n",
        );
        write(d, "app/b.rs", "struct Order {\n    segment: String,\n}\n");
        let targets = vec![col("orders", "segment")];
        let hits = search_with(
            &[d.to_path_buf()],
            &targets,
            &Options {
                exclude: vec![d.join("migrations")],
            },
        );
        let got: Vec<(String, u64, &str)> = hits
            .iter()
            .map(|h| (relative(&h.file, d), h.line, h.confidence.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("app/a.py".to_string(), 2, "high"),
                ("app/b.rs".to_string(), 2, "medium"),
            ]
        );
        assert_eq!(hits[0].text, "q = 'SELECT segment FROM orders'");
    }

    #[cfg(unix)]
    #[test]
    fn excludes_match_through_a_symlinked_root() {
        let tmp = tempfile::tempdir().unwrap();
        let real = tmp.path().join("real");
        write(
            &real,
            "migrations/1.sql",
            "ALTER TABLE orders DROP COLUMN segment;\n",
        );
        write(&real, "app/a.py", "orders.segment\n");
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let targets = vec![col("orders", "segment")];
        for (root, exclude) in [
            (&link, real.join("migrations")),
            (&real, link.join("migrations")),
        ] {
            let hits = search_with(
                std::slice::from_ref(root),
                &targets,
                &Options {
                    exclude: vec![exclude],
                },
            );
            let files: Vec<String> = hits.iter().map(|h| relative(&h.file, root)).collect();
            assert_eq!(files, vec!["app/a.py".to_string()]);
        }
    }

    #[test]
    fn several_targets_and_roots_are_kept_apart() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        write(d, "a/x.sql", "SELECT o.cust_ref, o.total FROM orders o;\n");
        write(d, "a/Order.java", "class Order {\n  String custRef;\n}\n");
        write(d, "b/y.py", "TABLE = 'legacy_orders'\nclient.total\n");
        let targets = vec![
            col("orders", "cust_ref"),
            col("orders", "total"),
            table("legacy_orders"),
        ];
        let hits = search(&[d.join("a"), d.join("b")], &targets);
        let got: Vec<(usize, String, u64, &str)> = hits
            .iter()
            .map(|h| {
                (
                    h.target,
                    relative(&h.file, d),
                    h.line,
                    h.confidence.as_str(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (0, "a/Order.java".to_string(), 2, "medium"),
                (0, "a/x.sql".to_string(), 1, "high"),
                (1, "a/x.sql".to_string(), 1, "high"),
                (1, "b/y.py".to_string(), 2, "medium"),
                (2, "b/y.py".to_string(), 1, "medium"),
            ]
        );
        assert!(search(&[d.to_path_buf()], &[]).is_empty());
    }
}
