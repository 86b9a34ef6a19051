//! `drop-index-non-concurrently`: DROP INDEX without CONCURRENTLY on an existing index.

use crate::lint::{hit, Ctx, Hit, Rule, Severity, Stmt};

pub const RULE: Rule = Rule {
    id: "drop-index-non-concurrently",
    severity: Severity::Error,
    once_per_file: false,
    check,
};

fn check(s: &Stmt, ctx: &Ctx) -> Vec<Hit> {
    if s.has("CONCURRENTLY") {
        return vec![];
    }
    let Some(index) = s.dropped_index() else {
        return vec![];
    };
    if ctx.created_indexes.contains(&index) {
        return vec![];
    }
    hit(
        format!("DROP INDEX {index} takes an ACCESS EXCLUSIVE lock on its table, blocking every read and write of the table while it waits for and holds the lock"),
        format!("write DROP INDEX CONCURRENTLY {index}; in a migration of its own declared no-transaction (`-- lockstep:no-transaction` as its first line)"),
    )
}

#[cfg(test)]
mod tests {
    fn found(sql: &str) -> bool {
        crate::lint::reports(sql, super::RULE.id)
    }

    #[test]
    fn flags_blocking_index_drops() {
        assert!(found("DROP INDEX orders_customer;"));
        assert!(found("drop index if exists public.orders_customer;"));
    }

    #[test]
    fn ignores_concurrent_drops_and_indexes_created_in_the_set() {
        assert!(!found("DROP INDEX CONCURRENTLY orders_customer;"));
        assert!(!found(
            "CREATE TABLE t (a int); CREATE INDEX i ON t (a); DROP INDEX i;"
        ));
        assert!(!found("DROP TABLE orders;"));
    }
}
