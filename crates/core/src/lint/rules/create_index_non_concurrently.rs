//! `create-index-non-concurrently`: CREATE INDEX without CONCURRENTLY on an existing table.

use crate::lint::{hit, Ctx, Hit, Rule, Severity, Stmt};

pub const RULE: Rule = Rule {
    id: "create-index-non-concurrently",
    severity: Severity::Error,
    once_per_file: false,
    check,
};

fn check(s: &Stmt, ctx: &Ctx) -> Vec<Hit> {
    let Some((false, table)) = s.create_index() else {
        return vec![];
    };
    if ctx.is_new(&table) {
        return vec![];
    }
    hit(
        format!("CREATE INDEX on {table} takes a SHARE lock that blocks every INSERT, UPDATE and DELETE on {table} until the index is built"),
        "write CREATE INDEX CONCURRENTLY ... in a migration of its own declared no-transaction (`-- lockstep:no-transaction` as its first line)",
    )
}

#[cfg(test)]
mod tests {
    fn found(sql: &str) -> bool {
        crate::lint::reports(sql, super::RULE.id)
    }

    #[test]
    fn flags_blocking_index_builds() {
        assert!(found(
            "CREATE INDEX orders_customer ON orders (customer_id);"
        ));
        assert!(found(
            "create unique index if not exists i on only public.orders using btree (a);"
        ));
    }

    #[test]
    fn ignores_concurrent_builds_and_new_tables() {
        assert!(!found("CREATE INDEX CONCURRENTLY i ON orders (a);"));
        assert!(!found("CREATE TABLE t (a int); CREATE INDEX i ON t (a);"));
    }
}
