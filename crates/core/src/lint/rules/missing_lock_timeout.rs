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

    // From squawk's require-timeout-settings cases: these statements queue for a lock too.
    #[test]
    fn flags_lock_reindex_comment_and_vacuum() {
        assert_eq!(count("LOCK TABLE t IN ACCESS SHARE MODE;"), 1);
        assert_eq!(count("REINDEX (CONCURRENTLY false) INDEX idx;"), 1);
        assert_eq!(count("REINDEX INDEX CONCURRENTLY idx;"), 0);
        assert_eq!(count("COMMENT ON COLUMN t.c IS 'an opaque id';"), 1);
        assert_eq!(count("COMMENT ON TABLE t IS 'x';"), 1);
        assert_eq!(count("VACUUM (FULL false) t;"), 1);
        assert_eq!(
            count("CREATE TABLE t (a int); COMMENT ON COLUMN t.a IS 'x';"),
            0
        );
    }
}
