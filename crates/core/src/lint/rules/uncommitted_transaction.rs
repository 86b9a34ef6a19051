//! `uncommitted-transaction`: a no-transaction migration that opens a transaction block and
//! never closes it. Run by the engine at the end of each file.

use crate::lint::{Ctx, Hit, Rule, Severity, Stmt};

pub const RULE: Rule = Rule {
    id: "uncommitted-transaction",
    severity: Severity::Error,
    once_per_file: false,
    check,
};

fn check(_: &Stmt, _: &Ctx) -> Vec<Hit> {
    vec![]
}

/// The finding at the BEGIN (file line `begin_line`) left open.
pub fn hit(begin_line: usize) -> Hit {
    Hit {
        message: format!("the transaction block opened at line {begin_line} is never committed or rolled back, so whether the statements after it persist depends on whatever next runs on the connection"),
        help: "end the block with COMMIT; at the end of the file".into(),
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::{lint, LintFile};

    fn lines(sql: &str) -> Vec<usize> {
        let f = LintFile {
            no_transaction: true,
            ..LintFile::loose("m.sql", sql)
        };
        lint(&[f])
            .iter()
            .filter(|f| f.rule == "uncommitted-transaction")
            .map(|f| f.line)
            .collect()
    }

    #[test]
    fn flags_a_block_left_open_at_its_begin() {
        assert_eq!(lines("BEGIN;\nCREATE TABLE t (id int);"), [1]);
        assert_eq!(
            lines("BEGIN;\nSELECT 1;\nCOMMIT;\nSTART TRANSACTION;\nSELECT 2;"),
            [4]
        );
    }

    #[test]
    fn ignores_closed_blocks_and_transactional_files() {
        assert!(lines("BEGIN;\nSELECT 1;\nCOMMIT;").is_empty());
        assert!(lines("BEGIN;\nSELECT 1;\nROLLBACK;").is_empty());
        assert!(lines("BEGIN;\nBEGIN;\nCOMMIT;").is_empty());
        let f = LintFile::loose("m.sql", "BEGIN;\nSELECT 1;");
        assert!(lint(&[f])
            .iter()
            .all(|f| f.rule != "uncommitted-transaction"));
    }
}
