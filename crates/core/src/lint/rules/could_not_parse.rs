//! `could-not-parse`: a statement sqlparser's PostgreSQL dialect cannot parse. Run by the
//! engine; token-level rules still check the statement.

use crate::lint::{Ctx, Hit, Rule, Severity, Stmt, PARSE_MAX_BYTES};

pub const RULE: Rule = Rule {
    id: "could-not-parse",
    severity: Severity::Warning,
    once_per_file: false,
    check: |_, _: &Ctx| vec![],
};

/// A statement above [`PARSE_MAX_BYTES`], not handed to the parser: nothing is known to
/// be wrong with it, so it is only an info.
pub const TOO_LARGE: Rule = Rule {
    severity: Severity::Info,
    ..RULE
};

pub fn check(s: &Stmt) -> Vec<Hit> {
    if s.sql.len() > PARSE_MAX_BYTES {
        return vec![Hit {
            message: format!(
                "not parsed: the statement is {:.1} MiB, above the {} MiB lockstep hands to the parser (its syntax tree would take many times that in memory); only token-level rules checked it",
                s.sql.len() as f64 / (1 << 20) as f64,
                PARSE_MAX_BYTES >> 20
            ),
            help: "review it by hand if it is more than data (an INSERT of many rows is fine), or split it into smaller statements".into(),
        }];
    }
    // From the first code token: the statement may open with comments or a blank line.
    let start = s
        .tokens
        .first()
        .map(|t| t.text.as_ptr() as usize - s.sql.as_ptr() as usize)
        .unwrap_or(0);
    let first = s.sql[start..].lines().next().unwrap_or("");
    let first: String = first.trim().chars().take(60).collect();
    vec![Hit {
        message: format!("could not parse `{first}`; only token-level rules checked it, so a lock or rewrite here may go unreported"),
        help: "fix it if it is a typo; `lockstep lint --env E` lets E's server parse it (on a scratch database, rolled back), which settles it; or, if the SQL is valid, add `-- lockstep:ignore could-not-parse <reason>` above it".into(),
    }]
}

#[cfg(test)]
mod tests {
    use crate::lint::rule_ids;

    #[test]
    fn reports_unparsable_statements_and_still_checks_them() {
        let ids = rule_ids("SET lock_timeout = '1s'; DROP TABLE orders FROBNICATE;");
        assert!(ids.iter().any(|r| r == "could-not-parse"), "{ids:?}");
        assert!(ids.iter().any(|r| r == "drop-table"), "{ids:?}");
    }

    #[test]
    fn a_statement_too_large_to_parse_is_an_info() {
        let rows = vec!["(1, 'x')"; (crate::lint::PARSE_MAX_BYTES / 8) + 1].join(", ");
        let found = crate::lint::lint_sql(&format!("INSERT INTO t VALUES {rows};"));
        let f = found.iter().find(|f| f.rule == "could-not-parse").unwrap();
        assert_eq!(f.severity, crate::lint::Severity::Info);
        assert!(
            f.message
                .starts_with("not parsed: the statement is 1.3 MiB"),
            "{f:?}"
        );
    }

    #[test]
    fn quiet_on_valid_sql() {
        assert!(rule_ids("CREATE TABLE t (id int PRIMARY KEY);").is_empty());
    }
}
