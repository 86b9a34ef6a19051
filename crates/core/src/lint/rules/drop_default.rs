//! `drop-default`: ALTER TABLE ... ALTER [COLUMN] c DROP DEFAULT.

use crate::lint::{at, hit, Ctx, Hit, Rule, Severity, Stmt};

pub const RULE: Rule = Rule {
    id: "drop-default",
    severity: Severity::Warning,
    once_per_file: false,
    check,
};

fn check(s: &Stmt, ctx: &Ctx) -> Vec<Hit> {
    let mut out = vec![];
    for c in s.alter_columns(ctx) {
        if !at(c.rest, 0, &["DROP", "DEFAULT"]) {
            continue;
        }
        let (t, col) = (&c.table, &c.column);
        out.extend(hit(
            format!("dropping the default of {t}.{col}: running code that inserts rows without {col} now stores NULL there, or fails if {col} is NOT NULL"),
            format!("keep the default until no code inserts without {col} (deploy code that always sets it first), then drop it in a later migration with `-- lockstep:ignore drop-default <reason>`"),
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
    fn flags_dropped_defaults() {
        assert!(found(
            "ALTER TABLE orders ALTER COLUMN status DROP DEFAULT;"
        ));
        assert!(found(
            "alter table orders alter status drop default, add column x int;"
        ));
    }

    #[test]
    fn ignores_set_default_and_new_tables() {
        assert!(!found(
            "ALTER TABLE orders ALTER COLUMN status SET DEFAULT 'new';"
        ));
        assert!(!found(
            "CREATE TABLE t (a int DEFAULT 1); ALTER TABLE t ALTER a DROP DEFAULT;"
        ));
    }
}
