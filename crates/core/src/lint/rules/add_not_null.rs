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
        if !at(c.rest, 0, &["SET", "NOT", "NULL"]) || ctx.not_null_proven(&c.table, &c.column) {
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
    fn found(sql: &str) -> bool {
        crate::lint::reports(sql, super::RULE.id)
    }

    #[test]
    fn flags_set_not_null() {
        assert!(found("ALTER TABLE orders ALTER COLUMN note SET NOT NULL;"));
        assert!(found(
            "alter table orders alter note set not null, alter b drop default;"
        ));
    }

    #[test]
    fn a_validated_not_null_check_makes_it_safe() {
        // Validated in the same set: PostgreSQL 12+ skips the scan.
        assert!(!found(
            "ALTER TABLE foo ADD CONSTRAINT c CHECK (bar IS NOT NULL) NOT VALID;\nALTER TABLE foo VALIDATE CONSTRAINT c;\nALTER TABLE foo ALTER bar SET NOT NULL;"
        ));
        // Added in an applied migration, validated here: the name says which column.
        assert!(!found(
            "ALTER TABLE foo VALIDATE CONSTRAINT foo_bar_not_null;\nALTER TABLE foo ALTER COLUMN bar SET NOT NULL;"
        ));
        // Not validated, another column, or a name that says nothing: still a scan.
        assert!(found(
            "ALTER TABLE foo ADD CONSTRAINT c CHECK (bar IS NOT NULL) NOT VALID;\nALTER TABLE foo ALTER bar SET NOT NULL;"
        ));
        assert!(found(
            "ALTER TABLE foo ADD CONSTRAINT c CHECK (baz IS NOT NULL) NOT VALID;\nALTER TABLE foo VALIDATE CONSTRAINT c;\nALTER TABLE foo ALTER bar SET NOT NULL;"
        ));
        assert!(found(
            "ALTER TABLE foo VALIDATE CONSTRAINT chk1;\nALTER TABLE foo ALTER bar SET NOT NULL;"
        ));
        assert!(found(
            "ALTER TABLE foo VALIDATE CONSTRAINT foo_valid_check;\nALTER TABLE foo ALTER id SET NOT NULL;"
        ));
        assert!(!found(
            "ALTER TABLE foo VALIDATE CONSTRAINT foo_user_id_not_null;\nALTER TABLE foo ALTER user_id SET NOT NULL;"
        ));
    }

    #[test]
    fn ignores_foreign_tables() {
        assert!(!found(
            "ALTER FOREIGN TABLE ft ALTER COLUMN a SET NOT NULL;"
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
