//! `transaction-control`: BEGIN, COMMIT or ROLLBACK inside a migration that lockstep runs
//! in a transaction; in a no-transaction migration, a BEGIN inside an open block or a
//! COMMIT with none open. (A block never closed is `uncommitted-transaction`.)

use crate::lint::{hit, Ctx, Dialect, Hit, Rule, Severity, Stmt};
use crate::sql::split::{tx_control_of, TxControl};

pub const RULE: Rule = Rule {
    id: "transaction-control",
    severity: Severity::Error,
    once_per_file: false,
    check,
};

/// The engine has already dropped a wrapping `BEGIN` first and `COMMIT` last, as deploy
/// does, so what remains here would end or nest lockstep's own transaction.
fn check(s: &Stmt, ctx: &Ctx) -> Vec<Hit> {
    let Some(control) = tx_control_of(&s.tokens) else {
        return vec![];
    };
    let word = s
        .tokens
        .first()
        .map(|t| t.text.to_ascii_uppercase())
        .unwrap_or_default();
    if ctx.no_transaction {
        return match (control, ctx.in_transaction) {
            (TxControl::Begin, true) => hit(
                match ctx.dialect {
                    Dialect::Postgres => format!("{word} inside a transaction block this file already opened: PostgreSQL ignores it with a warning, and the first COMMIT ends both"),
                    _ => format!("{word} inside a transaction block this file already opened: the server refuses it (a transaction cannot start within a transaction), so the deploy fails here"),
                },
                "remove the inner BEGIN, or COMMIT the first block before it",
            ),
            (TxControl::Commit | TxControl::Rollback, false) => hit(
                format!("{word} with no transaction block open: the statements before it already committed one by one, so there is nothing to {}", if control == TxControl::Commit { "commit" } else { "roll back" }),
                "put a BEGIN where the block should start, or remove this statement",
            ),
            _ => vec![],
        };
    }
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
    fn no_transaction_files_must_balance_their_blocks() {
        assert_eq!(count("BEGIN;\nBEGIN;\nSELECT 1;\nCOMMIT;", true), 1);
        assert_eq!(count("BEGIN;\nSELECT 1;\nCOMMIT;\nCOMMIT;", true), 1);
        assert_eq!(count("SELECT 1;\nROLLBACK;", true), 1);
        // The inner BEGIN is ignored, so the first COMMIT ends the block and the second
        // has none.
        assert_eq!(count("BEGIN;\nBEGIN;\nCOMMIT;\nCOMMIT;", true), 2);
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
