//! `could-not-parse`: a statement sqlparser's PostgreSQL dialect cannot parse. Run by the
//! engine; token-level rules still check the statement.

use crate::lint::{Ctx, Hit, Rule, Severity, Stmt};

pub const RULE: Rule = Rule {
    id: "could-not-parse",
    severity: Severity::Warning,
    once_per_file: false,
    check: |_, _: &Ctx| vec![],
};

pub fn check(s: &Stmt) -> Vec<Hit> {
    let first = s
        .sql
        .lines()
        .find(|l| !l.trim().starts_with("--"))
        .unwrap_or("");
    let first: String = first.trim().chars().take(60).collect();
    vec![Hit {
        message: format!("could not parse `{first}`; only token-level rules checked it, so a lock or rewrite here may go unreported"),
        help: "review this statement by hand; if the SQL is valid, add `-- lockstep:ignore could-not-parse <reason>` above it".into(),
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
    fn quiet_on_valid_sql() {
        assert!(rule_ids("CREATE TABLE t (id int PRIMARY KEY);").is_empty());
    }
}
