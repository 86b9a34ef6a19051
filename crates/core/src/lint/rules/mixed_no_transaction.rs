//! `mixed-no-transaction`: a no-transaction migration with statements that could run in a
//! transaction.

use crate::lint::{hit, Ctx, Hit, Rule, Severity, Stmt};

pub const RULE: Rule = Rule {
    id: "mixed-no-transaction",
    severity: Severity::Warning,
    once_per_file: true,
    check,
};

/// Statements that cannot run in a transaction block, or that only set the session up.
fn belongs(s: &Stmt) -> bool {
    s.has("CONCURRENTLY")
        || s.starts(&["SET"])
        || s.starts(&["RESET"])
        || s.starts(&["VACUUM"])
        || (s.starts(&["ALTER", "TYPE"]) && s.has("ADD") && s.has("VALUE"))
        || s.starts(&["CREATE", "DATABASE"])
        || s.starts(&["DROP", "DATABASE"])
}

fn check(s: &Stmt, ctx: &Ctx) -> Vec<Hit> {
    if !ctx.no_transaction || belongs(s) {
        return vec![];
    }
    hit(
        "this migration is declared no-transaction, so this statement commits on its own: if a later statement fails, the migration is left half applied",
        "keep only the statements that cannot run in a transaction (CREATE/DROP INDEX CONCURRENTLY, VACUUM, ALTER TYPE ... ADD VALUE) in the no-transaction migration; move the rest to a migration of its own",
    )
}

#[cfg(test)]
mod tests {
    use crate::lint::{lint, LintFile};

    fn count(sql: &str) -> usize {
        lint(&[LintFile::loose("m.sql", sql)])
            .iter()
            .filter(|f| f.rule == "mixed-no-transaction")
            .count()
    }

    #[test]
    fn flags_transactional_statements_in_a_no_transaction_migration_once() {
        let sql = "-- lockstep:no-transaction\nCREATE INDEX CONCURRENTLY i ON t (a);\nUPDATE t SET a = 1;\nALTER TABLE t ADD COLUMN b int;";
        assert_eq!(count(sql), 1);
    }

    #[test]
    fn ignores_pure_no_transaction_and_transactional_migrations() {
        let sql = "-- lockstep:no-transaction\nSET lock_timeout = '2s';\nCREATE INDEX CONCURRENTLY i ON t (a);\nDROP INDEX CONCURRENTLY j;";
        assert_eq!(count(sql), 0);
        assert_eq!(count("UPDATE t SET a = 1;"), 0);
    }
}
