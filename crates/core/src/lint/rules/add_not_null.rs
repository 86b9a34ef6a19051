//! `add-not-null`: ALTER TABLE ... ALTER [COLUMN] c SET NOT NULL.

use crate::lint::{at, hit, Ctx, Hit, Rule, Severity, Stmt};

pub const RULE: Rule = Rule {
    id: "add-not-null",
    severity: Severity::Error,
    once_per_file: false,
    check,
};

fn check(s: &Stmt, ctx: &Ctx) -> Vec<Hit> {
    let mut out = vec![];
    for c in s.alter_columns(ctx) {
        if !at(c.rest, 0, &["SET", "NOT", "NULL"]) {
            continue;
        }
        let (t, col) = (&c.table, &c.column);
        out.extend(hit(
            format!("SET NOT NULL on {t}.{col} scans the whole table under an ACCESS EXCLUSIVE lock, blocking reads and writes, and fails if any row has NULL"),
            format!("ALTER TABLE {t} ADD CONSTRAINT {t}_{col}_not_null CHECK ({col} IS NOT NULL) NOT VALID; then, in a later migration, ALTER TABLE {t} VALIDATE CONSTRAINT {t}_{col}_not_null; ALTER TABLE {t} ALTER COLUMN {col} SET NOT NULL; (PostgreSQL 12+ skips the scan) and drop the check"),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::lint::rule_ids;

    fn found(sql: &str) -> bool {
        rule_ids(sql).iter().any(|r| r == "add-not-null")
    }

    #[test]
    fn flags_set_not_null() {
        assert!(found("ALTER TABLE orders ALTER COLUMN note SET NOT NULL;"));
        assert!(found(
            "alter table orders alter note set not null, alter b drop default;"
        ));
    }

    #[test]
    fn ignores_drop_not_null_and_new_tables() {
        assert!(!found(
            "ALTER TABLE orders ALTER COLUMN note DROP NOT NULL;"
        ));
        assert!(!found(
            "CREATE TABLE t (a int); ALTER TABLE t ALTER a SET NOT NULL;"
        ));
    }
}
