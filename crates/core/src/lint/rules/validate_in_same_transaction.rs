//! `validate-in-same-transaction`: VALIDATE CONSTRAINT in the transaction that added the
//! constraint NOT VALID.

use crate::lint::{at, hit, Ctx, Hit, Rule, Severity, Stmt, Tok};

pub const RULE: Rule = Rule {
    id: "validate-in-same-transaction",
    severity: Severity::Error,
    once_per_file: false,
    check,
};

fn check(s: &Stmt, ctx: &Ctx) -> Vec<Hit> {
    let Some(a) = s.alter_table() else {
        return vec![];
    };
    if !ctx.in_transaction || ctx.is_new(&a.table) {
        return vec![];
    }
    let mut out = vec![];
    for act in &a.actions {
        if !at(act, 0, &["VALIDATE", "CONSTRAINT"]) {
            continue;
        }
        let Some(name) = act.get(2).and_then(Tok::ident) else {
            continue;
        };
        if ctx.not_valid_in_tx.get(&name) != Some(&a.table) {
            continue;
        }
        let t = &a.table;
        out.extend(hit(
            format!("VALIDATE CONSTRAINT {name} runs in the same transaction that added it NOT VALID, so the lock the ADD took on {t} (ACCESS EXCLUSIVE for a CHECK, SHARE ROW EXCLUSIVE for a foreign key) is held through the whole validating scan: NOT VALID gains nothing"),
            format!("move `ALTER TABLE {t} VALIDATE CONSTRAINT {name};` into a later migration, so the ADD commits first and the scan runs under VALIDATE's weaker lock"),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::lint::{lint, LintFile};

    fn found(sql: &str, no_transaction: bool) -> bool {
        let f = LintFile {
            no_transaction,
            ..LintFile::loose("m.sql", sql)
        };
        lint(&[f])
            .iter()
            .any(|f| f.rule == "validate-in-same-transaction")
    }

    const FK: &str = "ALTER TABLE e ADD CONSTRAINT fk FOREIGN KEY (u) REFERENCES users (id) NOT VALID;\nALTER TABLE e VALIDATE CONSTRAINT fk;";

    #[test]
    fn flags_validate_after_not_valid_in_one_transaction() {
        assert!(found(FK, false));
        assert!(found(&format!("BEGIN;\n{FK}\nCOMMIT;"), true));
        assert!(found(
            "ALTER TABLE a ADD CONSTRAINT c CHECK (x > 0) NOT VALID;\nALTER TABLE a VALIDATE CONSTRAINT c;",
            false
        ));
    }

    #[test]
    fn ignores_validation_in_its_own_transaction() {
        // No transaction: the ADD commits before the VALIDATE starts.
        assert!(!found(FK, true));
        assert!(!found(
            "ALTER TABLE e ADD CONSTRAINT fk FOREIGN KEY (u) REFERENCES users (id) NOT VALID;\nCOMMIT;\nBEGIN;\nALTER TABLE e VALIDATE CONSTRAINT fk;",
            true
        ));
        // Added by an earlier migration.
        assert!(!found("ALTER TABLE e VALIDATE CONSTRAINT fk;", false));
        // Another table's constraint of the same name.
        assert!(!found(
            "ALTER TABLE e ADD CONSTRAINT fk FOREIGN KEY (u) REFERENCES users (id) NOT VALID;\nALTER TABLE f VALIDATE CONSTRAINT fk;",
            false
        ));
    }
}
