//! One file per rule. Each exposes `RULE` (id, severity, check) and its tests.

pub mod add_check_without_not_valid;
pub mod add_column_volatile_default;
pub mod add_foreign_key_without_not_valid;
pub mod add_not_null;
pub mod add_required_column;
pub mod add_unique_constraint;
pub mod change_column_type;
pub mod concurrently_in_transaction;
pub mod could_not_parse;
pub mod create_index_non_concurrently;
pub mod detach_partition_non_concurrently;
pub mod drop_column;
pub mod drop_default;
pub mod drop_index_non_concurrently;
pub mod drop_not_null;
pub mod drop_table;
pub mod missing_down;
pub mod missing_lock_timeout;
pub mod missing_statement_timeout;
pub mod mixed_no_transaction;
pub mod reindex_non_concurrently;
pub mod rename_column;
pub mod rename_table;
pub mod transaction_control;
pub mod truncate;
pub mod truncate_cascade;
pub mod uncommitted_transaction;
pub mod unterminated;
pub mod vacuum_full_or_cluster;
pub mod validate_in_same_transaction;

use super::Rule;

/// The statement-level rules, in report order. `could-not-parse`, `missing-down`,
/// `uncommitted-transaction` and `unterminated` are run by the engine itself.
pub const ALL: &[Rule] = &[
    drop_table::RULE,
    drop_column::RULE,
    truncate::RULE,
    truncate_cascade::RULE,
    rename_table::RULE,
    rename_column::RULE,
    change_column_type::RULE,
    drop_default::RULE,
    drop_not_null::RULE,
    add_not_null::RULE,
    add_required_column::RULE,
    create_index_non_concurrently::RULE,
    drop_index_non_concurrently::RULE,
    reindex_non_concurrently::RULE,
    detach_partition_non_concurrently::RULE,
    add_foreign_key_without_not_valid::RULE,
    add_check_without_not_valid::RULE,
    validate_in_same_transaction::RULE,
    add_unique_constraint::RULE,
    add_column_volatile_default::RULE,
    concurrently_in_transaction::RULE,
    mixed_no_transaction::RULE,
    transaction_control::RULE,
    vacuum_full_or_cluster::RULE,
    missing_lock_timeout::RULE,
    missing_statement_timeout::RULE,
];

/// The statement-level rules that hold on MySQL and MariaDB. The others are about
/// PostgreSQL: `CONCURRENTLY` and `NOT VALID` (MySQL has neither; it builds and drops
/// secondary indexes online by default), a table rewrite for a volatile default, `SET
/// NOT NULL`'s scan, a NOT NULL column without a default (MySQL fills in the type's
/// implicit default), transaction blocks (every MySQL DDL statement commits on its own,
/// and lockstep checkpoints each), `lock_timeout`/`statement_timeout` (lockstep sets
/// `lock_wait_timeout` for every deploy statement), VACUUM, REINDEX, DETACH PARTITION.
/// See docs/mysql.md.
const MYSQL: &[&str] = &[
    "drop-table",
    "drop-column",
    "truncate",
    "rename-table",
    "rename-column",
    "change-column-type",
    "drop-default",
    "drop-not-null",
];

/// The statement-level rules that hold on SQLite. It has no CONCURRENTLY, NOT VALID,
/// lock or statement timeout (a writer waits on `busy_timeout`, which lockstep sets), no
/// ALTER COLUMN and no ADD CONSTRAINT, and every write holds the lock on the whole
/// database: an index build or a rewrite blocks writers whatever is written, so there
/// is nothing different to suggest. What remains breaks running code, destroys data, or
/// fails (a NOT NULL column added without a default, once the table has a row).
const SQLITE: &[&str] = &[
    "drop-table",
    "drop-column",
    "rename-table",
    "rename-column",
    "add-required-column",
    "transaction-control",
];

/// Whether the statement-level rule `id` holds for files of `dialect`.
pub fn applies(id: &str, dialect: crate::sql::lex::Dialect) -> bool {
    match dialect {
        crate::sql::lex::Dialect::Mysql => MYSQL.contains(&id),
        crate::sql::lex::Dialect::Sqlite => SQLITE.contains(&id),
        crate::sql::lex::Dialect::Postgres => true,
    }
}

/// Every rule id, including the engine's own, for docs and `--help`.
pub const IDS: &[&str] = &[
    "drop-table",
    "drop-column",
    "truncate",
    "truncate-cascade",
    "rename-table",
    "rename-column",
    "change-column-type",
    "drop-default",
    "drop-not-null",
    "add-not-null",
    "add-required-column",
    "create-index-non-concurrently",
    "drop-index-non-concurrently",
    "reindex-non-concurrently",
    "detach-partition-non-concurrently",
    "add-foreign-key-without-not-valid",
    "add-check-without-not-valid",
    "validate-in-same-transaction",
    "add-unique-constraint",
    "add-column-volatile-default",
    "concurrently-in-transaction",
    "mixed-no-transaction",
    "transaction-control",
    "uncommitted-transaction",
    "vacuum-full-or-cluster",
    "missing-lock-timeout",
    "missing-statement-timeout",
    "missing-down",
    "could-not-parse",
    "unterminated",
    "invalid-suppression",
];

#[cfg(test)]
mod tests {
    use crate::lint::{lint_for, Dialect, LintFile};

    fn on(dialect: Dialect, sql: &str) -> Vec<crate::lint::Finding> {
        lint_for(
            dialect,
            &[LintFile::loose("m.sql", sql)],
            None,
            &Default::default(),
        )
    }

    /// Issue 11: SQLite was told to `SET lock_timeout` and `CREATE INDEX CONCURRENTLY`.
    #[test]
    fn sqlite_gets_no_postgresql_advice() {
        let sql = "CREATE INDEX i ON orders (a); DROP INDEX j; ALTER TABLE orders ADD COLUMN sku text NOT NULL;";
        let found = on(Dialect::Sqlite, sql);
        let ids: Vec<&str> = found.iter().map(|f| f.rule.as_str()).collect();
        assert_eq!(ids, ["add-required-column"], "{found:?}");
        assert!(!found[0].help.contains("SET NOT NULL"), "{found:?}");
        let pg: Vec<String> = on(Dialect::Postgres, sql)
            .into_iter()
            .map(|f| f.rule)
            .collect();
        assert!(pg.iter().any(|r| r == "missing-lock-timeout"), "{pg:?}");
    }

    #[test]
    fn messages_name_the_engine_lock() {
        let sql = "DROP TABLE orders;";
        assert!(on(Dialect::Postgres, sql)[0]
            .message
            .contains("ACCESS EXCLUSIVE"));
        assert!(on(Dialect::Mysql, sql)[0].message.contains("metadata lock"));
        assert!(on(Dialect::Sqlite, sql)[0]
            .message
            .contains("whole database"));
    }
}
