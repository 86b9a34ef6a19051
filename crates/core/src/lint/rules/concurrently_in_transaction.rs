//! `concurrently-in-transaction`: CONCURRENTLY in a migration that runs in a transaction.

use crate::lint::{hit, Ctx, Hit, Rule, Severity, Stmt};

pub const RULE: Rule = Rule {
    id: "concurrently-in-transaction",
    severity: Severity::Error,
    once_per_file: false,
    check,
};

fn check(s: &Stmt, ctx: &Ctx) -> Vec<Hit> {
    // REFRESH MATERIALIZED VIEW CONCURRENTLY may run in a transaction.
    if ctx.no_transaction || !s.has("CONCURRENTLY") || s.starts(&["REFRESH"]) {
        return vec![];
    }
    let what = s
        .tokens
        .iter()
        .take(2)
        .map(|t| t.text.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    hit(
        format!("{what} ... CONCURRENTLY cannot run inside a transaction block, and this migration runs in one: the deploy fails at this statement"),
        "move the statement into a migration of its own whose first line is `-- lockstep:no-transaction`",
    )
}

#[cfg(test)]
mod tests {
    use crate::lint::{lint, LintFile};

    fn found(sql: &str) -> bool {
        lint(&[LintFile::loose("m.sql", sql)])
            .iter()
            .any(|f| f.rule == "concurrently-in-transaction")
    }

    #[test]
    fn flags_concurrently_in_a_transactional_migration() {
        assert!(found("CREATE INDEX CONCURRENTLY i ON orders (a);"));
        assert!(found("DROP INDEX CONCURRENTLY i;"));
    }

    #[test]
    fn ignores_no_transaction_migrations_and_refresh() {
        assert!(!found(
            "-- lockstep:no-transaction\nCREATE INDEX CONCURRENTLY i ON orders (a);"
        ));
        assert!(!found("REFRESH MATERIALIZED VIEW CONCURRENTLY v;"));
    }
}
