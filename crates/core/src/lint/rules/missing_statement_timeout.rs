//! `missing-statement-timeout`: a locking statement with no `SET statement_timeout`
//! before it.

use crate::lint::{hit, Ctx, Hit, Rule, Severity, Stmt};

pub const RULE: Rule = Rule {
    id: "missing-statement-timeout",
    severity: Severity::Warning,
    once_per_file: true,
    check,
};

/// Reported once per file, at the first statement that takes a strong lock on an
/// existing table (the statements `missing-lock-timeout` looks at).
fn check(s: &Stmt, ctx: &Ctx) -> Vec<Hit> {
    if ctx.statement_timeout_set {
        return vec![];
    }
    let Some(table) = s.waits_for_lock(ctx) else {
        return vec![];
    };
    hit(
        format!("nothing bounds how long this statement holds its lock on {table}: once granted, a rewrite or scan that takes longer than expected blocks {table} until it ends"),
        "put `SET statement_timeout = '5min';` (the longest this migration may hold a lock) at the top of the migration, next to `SET lock_timeout`",
    )
}

#[cfg(test)]
mod tests {
    use crate::lint::rule_ids;

    fn count(sql: &str) -> usize {
        rule_ids(sql)
            .iter()
            .filter(|r| *r == "missing-statement-timeout")
            .count()
    }

    #[test]
    fn flags_the_first_locking_statement_once() {
        assert_eq!(
            count(
                "SET lock_timeout = '1s'; ALTER TABLE t ADD COLUMN a int; CREATE INDEX i ON t (a);"
            ),
            1
        );
    }

    #[test]
    fn ignores_files_that_set_it_new_tables_and_plain_dml() {
        assert_eq!(
            count("SET statement_timeout = '5s'; ALTER TABLE t ADD COLUMN c bool;"),
            0
        );
        assert_eq!(
            count("SET foo.statement_timeout = '5s'; ALTER TABLE t ADD COLUMN c bool;"),
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
