//! `lockstep lint` against squawk's own test suite (issue 5).
//!
//! squawk's rule files (`squawk-linter/src/rules/*.rs`) carry `#[test]` functions that
//! call `lint_ok(sql, Rule::X)` (no violation expected) or `lint_errors(sql, Rule::X)`
//! (a violation expected; the `.snap` file records it). This test extracts every such case
//! at test time, lints its SQL with lockstep's library as one transactional migration, and
//! measures, per squawk rule that lockstep has a counterpart for, how often the two agree.
//! docs/lint-vs-squawk.md explains each disagreement.

use crate::support;
use lockstep_core::lint::{lint, LintFile};
use lockstep_core::sql::split;
use std::collections::BTreeMap;
use std::path::Path;

/// squawk rule (the `Rule::` variant), its id, and the lockstep rules that count as its
/// counterpart (a case is flagged when any of them fires).
const MAP: &[(&str, &str, &[&str])] = &[
    ("BanDropTable", "ban-drop-table", &["drop-table"]),
    ("BanDropColumn", "ban-drop-column", &["drop-column"]),
    (
        "BanTruncateCascade",
        "ban-truncate-cascade",
        &["truncate-cascade"],
    ),
    ("RenamingTable", "renaming-table", &["rename-table"]),
    ("RenamingColumn", "renaming-column", &["rename-column"]),
    (
        "ChangingColumnType",
        "changing-column-type",
        &["change-column-type"],
    ),
    ("BanDropDefault", "ban-drop-default", &["drop-default"]),
    ("BanDropNotNull", "ban-drop-not-null", &["drop-not-null"]),
    (
        "AddingNotNullableField",
        "adding-not-nullable-field",
        &["add-not-null"],
    ),
    (
        "AddingRequiredField",
        "adding-required-field",
        &["add-required-column"],
    ),
    (
        "RequireConcurrentIndexCreation",
        "require-concurrent-index-creation",
        &["create-index-non-concurrently"],
    ),
    (
        "RequireConcurrentIndexDeletion",
        "require-concurrent-index-deletion",
        &["drop-index-non-concurrently"],
    ),
    (
        "RequireConcurrentReindex",
        "require-concurrent-reindex",
        &["reindex-non-concurrently"],
    ),
    (
        "RequireConcurrentPartitionDetach",
        "require-concurrent-partition-detach",
        &["detach-partition-non-concurrently"],
    ),
    (
        "AddingForeignKeyConstraint",
        "adding-foreign-key-constraint",
        &["add-foreign-key-without-not-valid"],
    ),
    (
        "ConstraintMissingNotValid",
        "constraint-missing-not-valid",
        &[
            "add-foreign-key-without-not-valid",
            "add-check-without-not-valid",
            "validate-in-same-transaction",
        ],
    ),
    (
        "DisallowedUniqueConstraint",
        "disallowed-unique-constraint",
        &["add-unique-constraint"],
    ),
    (
        "AddingFieldWithDefault",
        "adding-field-with-default",
        &["add-column-volatile-default"],
    ),
    (
        "BanConcurrentIndexCreationInTransaction",
        "ban-concurrent-index-creation-in-transaction",
        &["concurrently-in-transaction"],
    ),
    (
        "RequireTimeoutSettings",
        "require-timeout-settings",
        &["missing-lock-timeout", "missing-statement-timeout"],
    ),
    (
        "RequireLockTimeout",
        "require-lock-timeout",
        &["missing-lock-timeout"],
    ),
    (
        "RequireStatementTimeout",
        "require-statement-timeout",
        &["missing-statement-timeout"],
    ),
    ("PreferRepack", "prefer-repack", &["vacuum-full-or-cluster"]),
    (
        "TransactionNesting",
        "transaction-nesting",
        &["transaction-control"],
    ),
    (
        "BanUncommittedTransaction",
        "ban-uncommitted-transaction",
        &["uncommitted-transaction"],
    ),
];

/// Issue 5's goal: each mapped rule agrees with squawk on at least this share of its
/// cases, in percent. A drop means a rule regressed on squawk's cases.
const FLOOR: u32 = 90;
/// Rules held to a lower floor, each for a deliberate difference that
/// docs/lint-vs-squawk.md explains. prefer-repack: squawk stays silent about VACUUM FULL
/// and CLUSTER below PostgreSQL 19 (it has no REPACK to suggest there); lockstep reports
/// the ACCESS EXCLUSIVE rewrite on every version. require-timeout-settings and
/// require-statement-timeout (issue 11): squawk asks for both timeouts before any DDL;
/// lockstep asks for `statement_timeout` only before a statement that scans or rewrites
/// under its lock, and for `lock_timeout` only before a lock that reads or writes queue
/// behind (not COMMENT ON, plain VACUUM, LOCK ... IN ACCESS SHARE MODE).
const LOWER_FLOOR: &[(&str, u32)] = &[
    ("prefer-repack", 80),
    ("require-timeout-settings", 64),
    ("require-statement-timeout", 50),
];
/// The floor for all mapped cases together, in percent: 140 of 148 agree, the 8 others
/// deliberately (docs/lint-vs-squawk.md).
const TOTAL_FLOOR: u32 = 94;

#[derive(Debug)]
struct Case {
    file: String,
    test: String,
    rule: String,
    sql: String,
    expect: bool,
    /// squawk's `assume_in_transaction` setting: the migration tool wraps the file in a
    /// transaction.
    assume_in_transaction: bool,
    pg_version: Option<u32>,
}

/// Parses a Rust string literal starting at `s[0]`: `r#"…"#`, `r"…"`, or `"…"`.
fn literal(s: &str) -> Option<String> {
    if let Some(rest) = s.strip_prefix('r') {
        let hashes = rest.chars().take_while(|&c| c == '#').count();
        let body = rest[hashes..].strip_prefix('"')?;
        let end = format!("\"{}", "#".repeat(hashes));
        return body.find(&end).map(|e| body[..e].to_string());
    }
    let body = s.strip_prefix('"')?;
    let mut out = String::new();
    let mut it = body.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            '"' => return Some(out),
            '\\' => match it.next()? {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                '\n' => {
                    while it.peek().is_some_and(|c| c.is_whitespace()) {
                        it.next();
                    }
                }
                c => out.push(c),
            },
            c => out.push(c),
        }
    }
    None
}

/// The most frequent `Rule::X` in `src`: the rule a file's local helpers default to.
fn main_rule(src: &str) -> Option<String> {
    let mut n: BTreeMap<String, usize> = BTreeMap::new();
    for (i, _) in src.match_indices("Rule::") {
        let name: String = src[i + 6..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        *n.entry(name).or_default() += 1;
    }
    n.into_iter().max_by_key(|(_, c)| *c).map(|(r, _)| r)
}

fn cases_in(path: &Path) -> Vec<Case> {
    let src = std::fs::read_to_string(path).unwrap();
    let Some(at) = src.find("#[cfg(test)]") else {
        return vec![];
    };
    let tests = &src[at..];
    let default_rule = main_rule(tests).unwrap_or_default();
    let file = path.file_name().unwrap().to_string_lossy().to_string();
    let mut out = vec![];
    for chunk in tests.split("#[test]").skip(1) {
        let Some(f) = chunk.find("fn ") else { continue };
        let name: String = chunk[f + 3..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        // The first lint call in the test decides the expectation.
        let calls = [
            "lint_errors_with(",
            "lint_errors(",
            "lint_ok_with(",
            "lint_ok(",
        ];
        let Some((pos, call)) = calls
            .iter()
            .filter_map(|c| chunk.find(c).map(|p| (p, *c)))
            .min()
        else {
            continue;
        };
        let expect = call.starts_with("lint_errors");
        let arg = chunk[pos + call.len()..].trim_start();
        let sql = if arg.starts_with('"') || arg.starts_with("r#") || arg.starts_with("r\"") {
            literal(arg)
        } else {
            chunk[..pos]
                .find("let sql = ")
                .and_then(|l| literal(chunk[l + 10..].trim_start()))
        };
        let Some(sql) = sql else { continue };
        let rule = chunk[pos..]
            .find("Rule::")
            .map(|r| {
                chunk[pos + r + 6..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric())
                    .collect()
            })
            .unwrap_or_else(|| default_rule.clone());
        let pg_version = chunk.find("pg_version: \"").and_then(|v| {
            chunk[v + 13..]
                .chars()
                .take_while(|c| c.is_ascii_digit())
                .collect::<String>()
                .parse()
                .ok()
        });
        let assume_in_transaction = chunk.contains("assume_in_transaction: true");
        out.push(Case {
            file: file.clone(),
            test: name,
            rule,
            sql,
            expect,
            assume_in_transaction,
            pg_version,
        });
    }
    out
}

/// Whether lockstep flags `case` with any of `ids`. squawk's transaction setting becomes
/// lockstep's: without `assume_in_transaction` the tool runs each statement on its own
/// (lockstep's `-- lockstep:no-transaction`), and so does a file carrying squawk's
/// `-- squawk-disable-assume-in-transaction`; with it, the file is an ordinary lockstep
/// migration, run in one transaction. Either way lockstep follows BEGIN/COMMIT written in
/// the file, and runs a file whose statements all must run outside a transaction (a
/// lone CREATE INDEX CONCURRENTLY) without one, as `lockstep deploy` does.
fn lockstep_flags(case: &Case, ids: &[&str]) -> bool {
    let declared = !case.assume_in_transaction
        || case
            .sql
            .lines()
            .any(|l| l.trim() == "-- squawk-disable-assume-in-transaction");
    let file = LintFile {
        path: format!("{}.sql", case.test),
        text: case.sql.clone(),
        first_line: 1,
        no_transaction: declared || split::implicitly_no_transaction(&case.sql),
        has_down: Some(true),
    };
    lint(&[file]).iter().any(|f| ids.contains(&f.rule.as_str()))
}

#[test]
fn agreement_with_squawk_test_cases() {
    let Some(dir) = support::corpus("squawk-linter/src/rules") else {
        return;
    };
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect();
    files.sort();
    let cases: Vec<Case> = files.iter().flat_map(|p| cases_in(p)).collect();
    assert!(cases.len() > 100, "extracted only {} cases", cases.len());

    let mut table = String::from(
        "| squawk rule | lockstep rule | cases | agree | % |\n|---|---|---|---|---|\n",
    );
    let mut details = String::new();
    let mut failures = vec![];
    let (mut total, mut total_agree) = (0, 0);
    for (variant, squawk, ids) in MAP {
        let mine: Vec<&Case> = cases
            .iter()
            // lockstep assumes PostgreSQL 12 or later; cases pinned to an older release
            // test version behaviour it does not model (see docs/lint-vs-squawk.md).
            .filter(|c| c.rule == *variant && c.pg_version.is_none_or(|v| v >= 12))
            .collect();
        assert!(!mine.is_empty(), "no squawk cases found for {squawk}");
        let mut agree = 0;
        for c in &mine {
            let got = lockstep_flags(c, ids);
            if got == c.expect {
                agree += 1;
            } else {
                details.push_str(&format!(
                    "{squawk}: {}::{} squawk={} lockstep={}\n    {}\n",
                    c.file,
                    c.test,
                    if c.expect { "flag" } else { "ok" },
                    if got { "flag" } else { "ok" },
                    c.sql.trim().replace('\n', "\n    "),
                ));
            }
        }
        let pct = agree * 100 / mine.len();
        table.push_str(&format!(
            "| {squawk} | {} | {} | {agree} | {pct}% |\n",
            ids.join(" + "),
            mine.len()
        ));
        let floor = LOWER_FLOOR
            .iter()
            .find(|(r, _)| r == squawk)
            .map_or(FLOOR, |(_, f)| *f);
        if (pct as u32) < floor {
            failures.push(format!("{squawk}: {pct}% < {floor}%"));
        }
        total += mine.len();
        total_agree += agree;
    }
    let total_pct = total_agree * 100 / total;
    table.push_str(&format!(
        "| **all mapped** | | {total} | {total_agree} | {total_pct}% |\n"
    ));
    println!("{table}\nDisagreements:\n{details}");
    if (total_pct as u32) < TOTAL_FLOOR {
        failures.push(format!("all: {total_pct}% < {TOTAL_FLOOR}%"));
    }
    assert!(failures.is_empty(), "{failures:?}\n{table}\n{details}");
}

#[test]
fn literal_parses_raw_and_escaped_strings() {
    assert_eq!(
        literal(r####"r#"a "b" c"# x"####).as_deref(),
        Some("a \"b\" c")
    );
    assert_eq!(
        literal(r#""drop index i;\n" x"#).as_deref(),
        Some("drop index i;\n")
    );
    assert_eq!(literal("\"a \\\n     b\"").as_deref(), Some("a b"));
    assert_eq!(literal("sql)"), None);
}
