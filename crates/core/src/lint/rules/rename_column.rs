//! `rename-column`: ALTER TABLE ... RENAME [COLUMN] a TO b.

use crate::lint::{hit, skip, Ctx, Hit, Rule, Severity, Stmt};

pub const RULE: Rule = Rule {
    id: "rename-column",
    severity: Severity::Error,
    once_per_file: false,
    check,
};

fn check(s: &Stmt, ctx: &Ctx) -> Vec<Hit> {
    let Some(a) = s.alter_table() else {
        return vec![];
    };
    if ctx.is_new(&a.table) {
        return vec![];
    }
    let mut out = vec![];
    for act in &a.actions {
        if !act[0].is("RENAME") || act.get(1).is_some_and(|t| t.is("TO") || t.is("CONSTRAINT")) {
            continue;
        }
        let i = skip(act, 1, &["COLUMN"]);
        let (Some(old), Some(new)) = (
            act.get(i).and_then(|t| t.ident()),
            act.get(i + 2).and_then(|t| t.ident()),
        ) else {
            continue;
        };
        out.extend(hit(
            format!("renaming column {}.{old} to {new} takes an ACCESS EXCLUSIVE lock, and running code that names {old} fails from the moment it commits", a.table),
            format!("add column {new}, write to both (or a trigger), backfill, move reads to {new}, and drop {old} in a later migration"),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::lint::rule_ids;

    fn found(sql: &str) -> bool {
        rule_ids(sql).iter().any(|r| r == "rename-column")
    }

    #[test]
    fn flags_column_renames() {
        assert!(found(
            "ALTER TABLE orders RENAME COLUMN cust_ref TO customer_id;"
        ));
        assert!(found("alter table orders rename cust_ref to customer_id;"));
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
