//! `missing-lock-timeout`: a locking statement with no `SET lock_timeout` before it.

use crate::lint::{hit, Ctx, Hit, Rule, Severity, Stmt};

pub const RULE: Rule = Rule {
    id: "missing-lock-timeout",
    severity: Severity::Warning,
    once_per_file: true,
    check,
};

/// Reported once per file, at the first locking statement.
fn check(s: &Stmt, ctx: &Ctx) -> Vec<Hit> {
    if ctx.lock_timeout_set {
        return vec![];
    }
    let Some(table) = s.waits_for_lock(ctx) else {
        return vec![];
    };
    hit(
        format!("this statement waits for a lock on {table} with no lock_timeout: while it waits behind a long query, every later read and write of {table} queues behind it"),
        "put `SET lock_timeout = '2s';` at the top of the migration (and retry the deploy if it times out)",
    )
}

#[cfg(test)]
mod tests {
    use crate::lint::rule_ids;

    fn count(sql: &str) -> usize {
        rule_ids(sql)
            .iter()
            .filter(|r| *r == "missing-lock-timeout")
            .count()
    }

    #[test]
    fn flags_the_first_locking_statement_once() {
        assert_eq!(
            count("ALTER TABLE orders ADD COLUMN a int; ALTER TABLE orders ADD COLUMN b int;"),
            1
        );
        assert_eq!(count("CREATE INDEX i ON orders (a);"), 1);
    }

    #[test]
    fn a_custom_setting_named_like_it_does_not_count() {
        assert_eq!(
            count("SET foo.lock_timeout = '1s'; ALTER TABLE t ADD COLUMN c bool;"),
            1
        );
        assert_eq!(
            count("SET LOCAL Lock_Timeout TO '1s'; ALTER TABLE t ADD COLUMN c bool;"),
            0
        );
    }

    #[test]
    fn ignores_files_that_set_it_and_new_tables() {
        assert_eq!(
            count("SET lock_timeout = '2s'; ALTER TABLE orders ADD COLUMN a int;"),
            0
        );
        assert_eq!(
            count("CREATE TABLE t (a int); ALTER TABLE t ADD COLUMN b int;"),
            0
        );
        assert_eq!(count("INSERT INTO orders VALUES (1);"), 0);
    }

    // From squawk's require-timeout-settings cases: these statements queue for a lock
    // that reads or writes wait behind too.
    #[test]
    fn flags_lock_reindex_and_refresh() {
        assert_eq!(count("LOCK TABLE t;"), 1);
        assert_eq!(count("LOCK TABLE t IN SHARE MODE;"), 1);
        assert_eq!(count("REINDEX (CONCURRENTLY false) INDEX idx;"), 1);
        assert_eq!(count("REINDEX INDEX CONCURRENTLY idx;"), 0);
        assert_eq!(count("REFRESH MATERIALIZED VIEW totals;"), 1);
        assert_eq!(count("VACUUM (FULL) t;"), 1);
    }

    /// A lock that conflicts with neither reads nor writes (SHARE UPDATE EXCLUSIVE or
    /// weaker) queues nothing behind it while it waits: no finding (squawk reports
    /// some of these; docs/lint-vs-squawk.md).
    #[test]
    fn quiet_on_locks_that_let_reads_and_writes_through() {
        for sql in [
            "COMMENT ON COLUMN t.c IS 'an opaque id';",
            "COMMENT ON TABLE t IS 'x';",
            "VACUUM (FULL false) t;",
            "VACUUM t;",
            "LOCK TABLE t IN ACCESS SHARE MODE;",
            "LOCK TABLE t IN SHARE UPDATE EXCLUSIVE MODE;",
            "ALTER TABLE t VALIDATE CONSTRAINT c;",
            "ALTER TABLE t ALTER c SET STATISTICS 500, ALTER d SET (n_distinct = -0.5);",
            "ALTER TABLE t SET (autovacuum_vacuum_scale_factor = 0.01);",
            "ALTER TABLE t DETACH PARTITION p CONCURRENTLY;",
            "REFRESH MATERIALIZED VIEW CONCURRENTLY totals;",
        ] {
            assert_eq!(count(sql), 0, "{sql}");
        }
        assert_eq!(
            count("ALTER TABLE t VALIDATE CONSTRAINT c, ADD COLUMN x int;"),
            1
        );
    }
}
