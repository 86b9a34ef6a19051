//! `reindex-non-concurrently`: REINDEX without CONCURRENTLY.

use crate::lint::{hit, Ctx, Hit, Rule, Severity, Stmt};

pub const RULE: Rule = Rule {
    id: "reindex-non-concurrently",
    severity: Severity::Error,
    once_per_file: false,
    check,
};

fn check(s: &Stmt, ctx: &Ctx) -> Vec<Hit> {
    let Some(r) = s.reindex() else {
        return vec![];
    };
    // SYSTEM catalogs cannot be reindexed concurrently; nothing to suggest.
    if r.concurrent || r.kind == "SYSTEM" {
        return vec![];
    }
    let name = r.name.unwrap_or_default();
    let new = match r.kind.as_str() {
        "TABLE" => ctx.is_new(&name),
        "INDEX" => ctx.created_indexes.contains(&name),
        _ => false,
    };
    if new {
        return vec![];
    }
    let what = format!("{} {name}", r.kind).trim_end().to_string();
    hit(
        format!("REINDEX {what} locks out writes to each table while its indexes are rebuilt, and reads that would use an index being rebuilt wait too"),
        format!("write REINDEX {} CONCURRENTLY {name}; in a migration of its own declared no-transaction (`-- lockstep:no-transaction` as its first line; PostgreSQL 12+)", r.kind),
    )
}

#[cfg(test)]
mod tests {
    fn found(sql: &str) -> bool {
        crate::lint::reports(sql, super::RULE.id)
    }

    #[test]
    fn flags_reindex_without_concurrently() {
        for sql in [
            "REINDEX TABLE foo;",
            "REINDEX INDEX foo;",
            "REINDEX SCHEMA foo;",
            "REINDEX DATABASE foo;",
            "REINDEX (VERBOSE) TABLE foo;",
            "REINDEX (CONCURRENTLY false) INDEX idx;",
        ] {
            assert!(found(sql), "{sql}");
        }
    }

    #[test]
    fn ignores_concurrent_system_and_new_objects() {
        for sql in [
            "REINDEX TABLE CONCURRENTLY foo;",
            "REINDEX INDEX CONCURRENTLY foo;",
            "REINDEX (CONCURRENTLY) TABLE foo;",
            "REINDEX SYSTEM mydb;",
            "CREATE TABLE foo (a int); REINDEX TABLE foo;",
            "CREATE INDEX foo_a ON bar (a); REINDEX INDEX foo_a;",
        ] {
            assert!(!found(sql), "{sql}");
        }
    }
}
