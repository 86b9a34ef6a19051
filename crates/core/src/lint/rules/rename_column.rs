//! `rename-column`: ALTER TABLE | FOREIGN TABLE | [MATERIALIZED] VIEW ... RENAME [COLUMN]
//! a TO b, and a composite type's RENAME ATTRIBUTE.

use crate::lint::{column_action, hit, Ctx, Hit, Rule, Severity, Stmt};

pub const RULE: Rule = Rule {
    id: "rename-column",
    severity: Severity::Error,
    once_per_file: false,
    check,
};

fn check(s: &Stmt, ctx: &Ctx) -> Vec<Hit> {
    let Some(a) = s.alter_relation() else {
        return vec![];
    };
    if ctx.is_new(&a.table) {
        return vec![];
    }
    let mut out = vec![];
    for act in &a.actions {
        let Some((old, i)) = column_action(act, "RENAME") else {
            continue;
        };
        let Some(new) = act.get(i + 1).and_then(|t| t.ident()) else {
            continue;
        };
        out.extend(hit(
            format!("renaming column {}.{old} ({}) to {new} takes {}, and running code that names {old} fails from the moment it commits", a.table, a.kind.noun(), ctx.table_lock()),
            format!("add column {new}, write to both (or a trigger), backfill, move reads to {new}, and drop {old} in a later migration"),
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
    fn flags_column_renames() {
        assert!(found(
            "ALTER TABLE orders RENAME COLUMN cust_ref TO customer_id;"
        ));
        assert!(found("alter table orders rename cust_ref to customer_id;"));
    }

    #[test]
    fn flags_renames_of_view_foreign_table_and_type_columns() {
        for sql in [
            "ALTER FOREIGN TABLE ft RENAME COLUMN a TO b;",
            "ALTER VIEW v RENAME COLUMN a TO b;",
            "ALTER MATERIALIZED VIEW mv RENAME COLUMN a TO b;",
            "ALTER TYPE composite RENAME ATTRIBUTE old TO renamed;",
        ] {
            assert!(found(sql), "{sql}");
        }
        assert!(!found("ALTER TYPE mood RENAME VALUE 'sad' TO 'blue';"));
        assert!(!found("ALTER VIEW v RENAME TO w;"));
    }

    #[test]
    fn ignores_table_and_constraint_renames() {
        assert!(!found("ALTER TABLE orders RENAME TO purchases;"));
        assert!(!found("ALTER TABLE orders RENAME CONSTRAINT a TO b;"));
        assert!(!found(
            "CREATE TABLE t (a int); ALTER TABLE t RENAME a TO b;"
        ));
    }
}
