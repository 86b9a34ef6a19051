//! `add-check-without-not-valid`: ADD CHECK that validates every row at once.

use super::add_foreign_key_without_not_valid::added_without_not_valid;
use crate::lint::{hit, Ctx, Hit, Rule, Severity, Stmt};

pub const RULE: Rule = Rule {
    id: "add-check-without-not-valid",
    severity: Severity::Error,
    once_per_file: false,
    check,
};

fn check(s: &Stmt, ctx: &Ctx) -> Vec<Hit> {
    let Some(a) = s.alter_existing(ctx) else {
        return vec![];
    };
    let t = &a.table;
    let mut out = vec![];
    for act in &a.actions {
        if let Some(name) = added_without_not_valid(act, &["CHECK"]) {
            let name = name.unwrap_or_else(|| format!("{t}_check"));
            out.extend(hit(
                format!("adding a CHECK constraint to {t} scans every row under an ACCESS EXCLUSIVE lock, blocking reads and writes, and fails if any row violates it"),
                format!("add it with NOT VALID (ALTER TABLE {t} ADD CONSTRAINT {name} CHECK (...) NOT VALID;), then ALTER TABLE {t} VALIDATE CONSTRAINT {name}; in a later migration"),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    fn found(sql: &str) -> bool {
        crate::lint::reports(sql, super::RULE.id)
    }

    #[test]
    fn flags_validated_checks() {
        assert!(found(
            "ALTER TABLE orders ADD CONSTRAINT positive CHECK (total >= 0);"
        ));
        assert!(found("alter table orders add check (total >= 0);"));
    }

    #[test]
    fn ignores_not_valid_and_new_tables() {
        assert!(!found(
            "ALTER TABLE orders ADD CONSTRAINT positive CHECK (total >= 0) NOT VALID;"
        ));
        assert!(!found(
            "CREATE TABLE t (a int); ALTER TABLE t ADD CHECK (a > 0);"
        ));
    }
}
