//! `rename-table`: ALTER TABLE ... RENAME TO.

use crate::lint::{hit, Ctx, Hit, Rule, Severity, Stmt};

pub const RULE: Rule = Rule {
    id: "rename-table",
    severity: Severity::Error,
    once_per_file: false,
    check,
};

fn check(s: &Stmt, ctx: &Ctx) -> Vec<Hit> {
    let Some(a) = s.alter_existing(ctx) else {
        return vec![];
    };
    let mut out = vec![];
    for act in &a.actions {
        if act[0].is("RENAME") && act.get(1).is_some_and(|t| t.is("TO")) {
            let new = act.get(2).and_then(|t| t.ident()).unwrap_or_default();
            out.extend(hit(
                format!("renaming table {} to {new} takes {}, and every running query that names {} fails from the moment it commits", a.table, ctx.table_lock(), a.table),
                format!("create {new} (or a view named {new} over {}), move the code to the new name, and drop the old name in a later migration", a.table),
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
    fn flags_table_renames() {
        assert!(found("ALTER TABLE orders RENAME TO purchases;"));
        assert!(found("alter table if exists s.\"Orders\" rename to p;"));
    }

    #[test]
    fn ignores_column_renames_and_new_tables() {
        assert!(!found("ALTER TABLE orders RENAME COLUMN a TO b;"));
        assert!(!found("CREATE TABLE t (a int); ALTER TABLE t RENAME TO u;"));
    }
}
