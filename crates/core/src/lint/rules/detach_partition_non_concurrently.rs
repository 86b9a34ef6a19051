//! `detach-partition-non-concurrently`: ALTER TABLE ... DETACH PARTITION without
//! CONCURRENTLY.

use crate::lint::{at, hit, Ctx, Hit, Rule, Severity, Stmt};

pub const RULE: Rule = Rule {
    id: "detach-partition-non-concurrently",
    severity: Severity::Warning,
    once_per_file: false,
    check,
};

fn check(s: &Stmt, ctx: &Ctx) -> Vec<Hit> {
    let Some(a) = s.alter_existing(ctx) else {
        return vec![];
    };
    let mut out = vec![];
    for act in &a.actions {
        if !at(act, 0, &["DETACH", "PARTITION"]) {
            continue;
        }
        // FINALIZE completes an earlier DETACH ... CONCURRENTLY.
        if act.iter().any(|x| x.is("CONCURRENTLY") || x.is("FINALIZE")) {
            continue;
        }
        let part = act.get(2).and_then(|x| x.ident()).unwrap_or_default();
        let t = &a.table;
        out.extend(hit(
            format!("DETACH PARTITION {part} takes an ACCESS EXCLUSIVE lock on {t}: every read and write of the whole partitioned table waits for it, and it waits behind every running query on {t}"),
            format!("write ALTER TABLE {t} DETACH PARTITION {part} CONCURRENTLY; in a migration of its own declared no-transaction (PostgreSQL 14+; if it is interrupted, finish with DETACH PARTITION {part} FINALIZE)"),
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
    fn flags_detach_without_concurrently() {
        assert!(found("ALTER TABLE t DETACH PARTITION p;"));
    }

    #[test]
    fn ignores_concurrent_finalize_and_new_tables() {
        assert!(!found("ALTER TABLE t DETACH PARTITION p CONCURRENTLY;"));
        assert!(!found("ALTER TABLE t DETACH PARTITION p FINALIZE;"));
        assert!(!found(
            "CREATE TABLE t (a int) PARTITION BY RANGE (a); ALTER TABLE t DETACH PARTITION p;"
        ));
    }
}
