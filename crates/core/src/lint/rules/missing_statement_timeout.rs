//! `missing-statement-timeout`: a locking statement with no `SET statement_timeout`
//! before it.

use crate::lint::{hit, Ctx, Hit, Rule, Severity, Stmt};

pub const RULE: Rule = Rule {
    id: "missing-statement-timeout",
    severity: Severity::Warning,
    once_per_file: true,
    check,
};

/// Reported once per file, at the first statement that scans or rewrites an existing
/// table under a lock that blocks its reads or writes ([`Stmt::holds_lock_while_scanning`]).
/// A statement that finishes at once when granted holds its lock for no time a statement
/// timeout could cut: for it, `lock_timeout` is what matters (`missing-lock-timeout`).
fn check(s: &Stmt, ctx: &Ctx) -> Vec<Hit> {
    if ctx.statement_timeout_set {
        return vec![];
    }
    let Some(table) = s.holds_lock_while_scanning(ctx) else {
        return vec![];
    };
    hit(
        format!("nothing bounds how long this statement holds its lock on {table}: once granted, a rewrite or scan that takes longer than expected blocks {table} until it ends"),
        "put `SET statement_timeout = '5min';` (the longest this migration may hold a lock) at the top of the migration, next to `SET lock_timeout`",
    )
}

#[cfg(test)]
mod tests {
    use crate::lint::{lint_sql, rule_ids};

    fn count(sql: &str) -> usize {
        rule_ids(sql)
            .iter()
            .filter(|r| *r == "missing-statement-timeout")
            .count()
    }

    #[test]
    fn flags_the_first_scan_or_rewrite_once() {
        assert_eq!(
            count(
                "SET lock_timeout = '1s'; ALTER TABLE t ADD COLUMN a int; CREATE INDEX i ON t (a); ALTER TABLE t ALTER a TYPE bigint;"
            ),
            1
        );
        for sql in [
            "CREATE INDEX i ON t (a);",
            "ALTER TABLE t ALTER a TYPE bigint;",
            "ALTER TABLE t ALTER a SET NOT NULL;",
            "ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0);",
            "ALTER TABLE t ADD CONSTRAINT f FOREIGN KEY (a) REFERENCES u (id);",
            "ALTER TABLE t ADD CONSTRAINT k UNIQUE (a);",
            "ALTER TABLE t ADD COLUMN id uuid DEFAULT gen_random_uuid();",
            "ALTER TABLE t ADD COLUMN n bigserial;",
            "ALTER TABLE t ADD COLUMN u int UNIQUE;",
            "ALTER TABLE t SET TABLESPACE fast;",
            "ALTER TABLE t ATTACH PARTITION t_2024 FOR VALUES IN (2024);",
            "VACUUM FULL t;",
            "CLUSTER t USING t_pkey;",
            "REINDEX TABLE t;",
            "REFRESH MATERIALIZED VIEW totals;",
        ] {
            assert_eq!(count(sql), 1, "{sql}");
        }
    }

    /// Issue 11: statements that finish at once when granted need `lock_timeout`, not a
    /// statement timeout.
    #[test]
    fn quiet_on_statements_that_finish_at_once() {
        for sql in [
            "ALTER TABLE t ADD COLUMN note text;",
            "ALTER TABLE t ADD COLUMN n int NOT NULL DEFAULT 0;",
            "ALTER TABLE t ADD COLUMN at timestamptz DEFAULT now();",
            "ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0) NOT VALID;",
            "ALTER TABLE t ADD CONSTRAINT f FOREIGN KEY (a) REFERENCES u (id) NOT VALID;",
            "ALTER TABLE t ADD CONSTRAINT k UNIQUE USING INDEX k;",
            "ALTER TABLE t VALIDATE CONSTRAINT c;",
            "ALTER TABLE t DROP COLUMN a, ALTER b SET DEFAULT 0, ALTER c DROP NOT NULL;",
            "ALTER TABLE t RENAME COLUMN a TO b;",
            "COMMENT ON TABLE t IS 'x';",
            "COMMENT ON COLUMN t.a IS 'x';",
            "DROP TABLE t;",
            "DROP INDEX i;",
            "TRUNCATE t;",
            "LOCK TABLE t;",
            "REFRESH MATERIALIZED VIEW CONCURRENTLY totals;",
            "REINDEX INDEX CONCURRENTLY i;",
        ] {
            assert_eq!(count(sql), 0, "{sql}");
        }
        // SET NOT NULL after a validated NOT NULL check skips the scan.
        assert_eq!(
            count("ALTER TABLE t ADD CONSTRAINT t_a_nn CHECK (a IS NOT NULL) NOT VALID; ALTER TABLE t VALIDATE CONSTRAINT t_a_nn; ALTER TABLE t ALTER a SET NOT NULL;"),
            0
        );
    }

    /// The done-when item: with `lock_timeout` set, an instant ADD COLUMN, a NOT
    /// VALID constraint and a COMMENT get no finding at all.
    #[test]
    fn no_finding_on_instant_statements_once_lock_timeout_is_set() {
        let sql = "SET lock_timeout = '2s';
ALTER TABLE orders ADD COLUMN note text;
ALTER TABLE orders ADD CONSTRAINT orders_total_check CHECK (total >= 0) NOT VALID;
ALTER TABLE orders ADD CONSTRAINT orders_customer_fkey FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;
COMMENT ON TABLE orders IS 'one row per order';
COMMENT ON COLUMN orders.note IS 'free text from the customer';
";
        assert_eq!(lint_sql(sql), vec![]);
        // Without lock_timeout the ALTER still needs it; the comments alone do not.
        let without = sql.replacen("SET lock_timeout = '2s';\n", "", 1);
        assert_eq!(rule_ids(&without), ["missing-lock-timeout"]);
        assert!(rule_ids("COMMENT ON TABLE orders IS 'x';").is_empty());
    }

    #[test]
    fn ignores_files_that_set_it_new_tables_and_plain_dml() {
        assert_eq!(
            count("SET statement_timeout = '5s'; CREATE INDEX i ON t (a);"),
            0
        );
        assert_eq!(
            count("SET foo.statement_timeout = '5s'; CREATE INDEX i ON t (a);"),
            1
        );
        assert_eq!(count("CREATE TABLE t (a int); CREATE INDEX i ON t (a);"), 0);
        assert_eq!(count("UPDATE t SET a = 1;"), 0);
        assert_eq!(
            count("-- lockstep:no-transaction\nCREATE INDEX CONCURRENTLY i ON t (a);"),
            0
        );
    }
}
