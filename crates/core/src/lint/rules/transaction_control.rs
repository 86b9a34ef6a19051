//! `transaction-control`: BEGIN, COMMIT or ROLLBACK inside a migration that lockstep runs
//! in a transaction.

use crate::lint::{hit, Ctx, Hit, Rule, Severity, Stmt};
use crate::migrate::split::tx_control;

pub const RULE: Rule = Rule {
    id: "transaction-control",
    severity: Severity::Error,
    once_per_file: false,
    check,
};

/// The engine has already dropped a wrapping `BEGIN` first and `COMMIT` last, as deploy
/// does, so what remains here would end or nest lockstep's own transaction.
fn check(s: &Stmt, ctx: &Ctx) -> Vec<Hit> {
    if ctx.no_transaction || tx_control(s.sql).is_none() {
        return vec![];
    }
    let word = s.tokens.first().map(|t| t.text.as_str()).unwrap_or("");
    hit(
        format!("{word} inside a migration that lockstep runs in a transaction would end that transaction part way: what ran before it commits on its own, and a later failure cannot be rolled back; deploy refuses to run this file"),
        "remove it: lockstep already runs the file in one transaction (a BEGIN on the first statement and COMMIT on the last are allowed and ignored); to manage transactions yourself, put `-- lockstep:no-transaction` on the first line",
    )
}

#[cfg(test)]
mod tests {
    use crate::lint::{lint, LintFile};

    fn count(sql: &str, no_transaction: bool) -> usize {
        let f = LintFile {
            no_transaction,
            ..LintFile::loose("m.sql", sql)
        };
        lint(&[f])
            .iter()
            .filter(|f| f.rule == "transaction-control")
            .count()
    }

    #[test]
    fn flags_transaction_control_inside_a_transactional_file() {
        assert_eq!(
            count("UPDATE t SET a = 1;\nCOMMIT;\nUPDATE t SET b = 1;", false),
            1
        );
        assert_eq!(
            count(
                "BEGIN;\nUPDATE t SET a = 1;\nCOMMIT;\nBEGIN;\nUPDATE t SET b = 1;\nCOMMIT;",
                false
            ),
            2
        );
        assert_eq!(count("UPDATE t SET a = 1;\nROLLBACK;", false), 1);
    }

    #[test]
    fn allows_a_wrapping_pair_and_no_transaction_files() {
        assert_eq!(count("BEGIN;\nUPDATE t SET a = 1;\nCOMMIT;", false), 0);
        assert_eq!(count("SAVEPOINT a;\nROLLBACK TO SAVEPOINT a;", false), 0);
        assert_eq!(
            count(
                "BEGIN;\nUPDATE t SET a = 1;\nCOMMIT;\nBEGIN;\nUPDATE t SET b = 1;\nCOMMIT;",
                true
            ),
            0
        );
    }
}
