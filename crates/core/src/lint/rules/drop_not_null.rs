//! `drop-not-null`: ALTER TABLE ... ALTER [COLUMN] c DROP NOT NULL.

use crate::lint::{at, hit, Ctx, Hit, Rule, Severity, Stmt};

pub const RULE: Rule = Rule {
    id: "drop-not-null",
    severity: Severity::Warning,
    once_per_file: false,
    check,
};

fn check(s: &Stmt, ctx: &Ctx) -> Vec<Hit> {
    let mut out = vec![];
    for c in s.alter_columns(ctx) {
        if !at(c.rest, 0, &["DROP", "NOT", "NULL"]) {
            continue;
        }
        let (t, col) = (&c.table, &c.column);
        out.extend(hit(
            format!("dropping NOT NULL on {t}.{col} lets NULLs in, and running code that reads {col} as never-null may break on the first one"),
            format!("first deploy code that handles NULL in {col}, then drop NOT NULL in a later migration with `-- lockstep:ignore drop-not-null <reason>`"),
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
    fn flags_dropped_not_null() {
        assert!(found("ALTER TABLE orders ALTER COLUMN note DROP NOT NULL;"));
        assert!(found("alter table orders alter note drop not null;"));
    }

    #[test]
    fn ignores_set_not_null_and_new_tables() {
        assert!(!found("ALTER TABLE orders ALTER COLUMN note DROP DEFAULT;"));
        assert!(!found(
            "CREATE TABLE t (a int NOT NULL); ALTER TABLE t ALTER a DROP NOT NULL;"
        ));
    }
}
