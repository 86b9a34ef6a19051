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
    if !ctx.in_transaction || !s.has("CONCURRENTLY") || s.starts(&["REFRESH"]) {
        return vec![];
    }
    let what = s
        .tokens
        .iter()
        .take(2)
        .map(|t| t.text.to_ascii_uppercase())
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
        assert!(found(
            "CREATE INDEX CONCURRENTLY i ON orders (a);\nUPDATE t SET a = 1;"
        ));
        assert!(found("UPDATE t SET a = 1;\nDROP INDEX CONCURRENTLY i;"));
    }

    #[test]
    fn ignores_no_transaction_migrations_and_refresh() {
        assert!(!found(
            "-- lockstep:no-transaction\nCREATE INDEX CONCURRENTLY i ON orders (a);"
        ));
        assert!(!found("REFRESH MATERIALIZED VIEW CONCURRENTLY v;"));
        // Alone in its file it runs without a transaction, declared or not.
        assert!(!found("CREATE INDEX CONCURRENTLY i ON orders (a);"));
    }

    #[test]
    fn follows_the_files_own_begin_and_commit() {
        let no_tx = |sql: &str| {
            lint(&[LintFile {
                no_transaction: true,
                ..LintFile::loose("m.sql", sql)
            }])
            .iter()
            .any(|f| f.rule == "concurrently-in-transaction")
        };
        assert!(no_tx(
            "BEGIN;\nCREATE INDEX CONCURRENTLY i ON t (a);\nCOMMIT;"
        ));
        assert!(!no_tx(
            "BEGIN;\nSELECT 1;\nCOMMIT;\nCREATE INDEX CONCURRENTLY i ON t (a);"
        ));
        // A transactional file that commits first: the index builds outside (and
        // transaction-control reports the COMMIT).
        assert!(!found(
            "COMMIT;\nCREATE INDEX CONCURRENTLY i ON t (a);\nBEGIN;\nSELECT 1;"
        ));
    }
}
