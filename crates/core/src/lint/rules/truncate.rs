//! `truncate`: TRUNCATE deletes every row.

use crate::lint::{hit, Ctx, Dialect, Hit, Rule, Severity, Stmt};

pub const RULE: Rule = Rule {
    id: "truncate",
    severity: Severity::Error,
    once_per_file: false,
    check,
};

fn check(s: &Stmt, ctx: &Ctx) -> Vec<Hit> {
    if !s.starts(&["TRUNCATE"]) {
        return vec![];
    }
    let table = s.locked_table().unwrap_or_default();
    if ctx.is_new(&table) {
        return vec![];
    }
    hit(
        format!("TRUNCATE {table} deletes every row{} and takes {} that blocks all reads and writes", if ctx.dialect == Dialect::Postgres { " (CASCADE: of referencing tables too)" } else { "" }, ctx.table_lock()),
        "delete data in a reviewed data migration (DELETE ... WHERE, in batches); if emptying the table is intended, add `-- lockstep:ignore truncate <reason>` above it",
    )
}

#[cfg(test)]
mod tests {
    fn found(sql: &str) -> bool {
        crate::lint::reports(sql, super::RULE.id)
    }

    #[test]
    fn flags_truncate() {
        assert!(found("TRUNCATE orders;"));
        assert!(found("truncate table only orders cascade;"));
    }

    #[test]
    fn ignores_new_tables_and_deletes() {
        assert!(!found("CREATE TABLE t (id int); TRUNCATE t;"));
        assert!(!found("DELETE FROM orders WHERE id = 1;"));
    }
}
