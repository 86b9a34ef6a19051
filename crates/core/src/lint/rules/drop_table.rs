//! `drop-table`: DROP TABLE of a table that existed before this change.

use crate::lint::{hit, qualified_name, skip, Ctx, Hit, Rule, Severity, Stmt};

pub const RULE: Rule = Rule {
    id: "drop-table",
    severity: Severity::Error,
    once_per_file: false,
    check,
};

fn check(s: &Stmt, ctx: &Ctx) -> Vec<Hit> {
    if !s.starts(&["DROP", "TABLE"]) {
        return vec![];
    }
    let i = skip(&s.tokens, 2, &["IF", "EXISTS"]);
    let Some((table, _)) = qualified_name(&s.tokens, i) else {
        return vec![];
    };
    if ctx.is_new(&table) {
        return vec![];
    }
    hit(
        format!("DROP TABLE {table} deletes the table and its rows; it takes {}, and running code that still reads or writes {table} fails", ctx.table_lock()),
        format!("first deploy code that no longer uses {table}; then drop it in a later migration with `-- lockstep:ignore drop-table <reason>` above the statement"),
    )
}

#[cfg(test)]
mod tests {
    fn found(sql: &str) -> bool {
        crate::lint::reports(sql, super::RULE.id)
    }

    #[test]
    fn flags_drop_of_an_existing_table() {
        assert!(found("DROP TABLE orders;"));
        assert!(found("drop table if exists public.orders cascade;"));
    }

    #[test]
    fn ignores_tables_created_in_the_same_migration_and_other_drops() {
        assert!(!found("CREATE TABLE tmp (id int); DROP TABLE tmp;"));
        assert!(!found("DROP INDEX orders_idx;"));
        assert!(!found("SELECT 'DROP TABLE orders';"));
    }
}
