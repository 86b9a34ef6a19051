//! Table sizes and data checks for size-aware lint (`lockstep lint --env E`), read by
//! each dialect's `stats.rs` (PostgreSQL: the planner's estimates and on-disk sizes in
//! one catalog query; MySQL: `information_schema.TABLES`; SQLite: counts of the tables
//! the statements name), always read-only.
//!
//! Data checks count the rows that would make a statement fail: NULLs for SET NOT NULL,
//! duplicate groups for a new unique constraint. Each is one query, run only on tables
//! below [`lockstep_core::lint::COUNT_MAX_ROWS`] rows, with a statement timeout.

use crate::{Db, DbError};
use lockstep_core::lint::{DataCheck, IndexTables, Probe, ProbeResult, Sizes, COUNT_MAX_ROWS};
use std::collections::{BTreeMap, BTreeSet};

/// Sizes by unqualified, lowercased table name, and the schema each lives in.
#[derive(Debug, Default, Clone)]
pub struct Stats {
    pub sizes: Sizes,
    /// The schema of each table in `sizes` where names are schema-qualified (the biggest
    /// one wins when a name is in several schemas).
    pub schema: BTreeMap<String, String>,
    /// Each index's table, so DROP INDEX is sized by its table.
    pub index_table: IndexTables,
}

/// Reads table sizes. `named` limits the dialects that count rows (SQLite) to the
/// tables the linted statements name; the others read every table in one query.
pub async fn table_sizes(db: &mut Db, named: &BTreeSet<String>) -> Result<Stats, DbError> {
    db.table_sizes(named).await
}

/// The query that counts the rows `probe` would fail on.
pub(crate) fn probe_sql(table: &str, check: &DataCheck, quote: fn(&str) -> String) -> String {
    match check {
        DataCheck::Nulls { column } => {
            format!(
                "SELECT count(*) FROM {table} WHERE {} IS NULL",
                quote(column)
            )
        }
        DataCheck::Rows { .. } => format!("SELECT count(*) FROM {table}"),
        DataCheck::Duplicates { columns } => {
            let cols: Vec<String> = columns.iter().map(|c| quote(c)).collect();
            let not_null: Vec<String> = cols.iter().map(|c| format!("{c} IS NOT NULL")).collect();
            format!(
                "SELECT count(*) FROM (SELECT 1 FROM {table} WHERE {} GROUP BY {} HAVING count(*) > 1) d",
                not_null.join(" AND "),
                cols.join(", ")
            )
        }
    }
}

/// The longest a data count may run.
pub(crate) const COUNT_LIMIT: std::time::Duration = std::time::Duration::from_secs(30);

/// Counts the rows `probe` would fail on. Never an error: a check that cannot run says
/// why (and, when it waited for a lock, whose).
pub async fn count_failing(db: &mut Db, stats: &Stats, probe: &Probe) -> ProbeResult {
    let Some(size) = stats.sizes.get(&probe.table) else {
        return ProbeResult::NotCounted(format!("table {} not found", probe.table));
    };
    if size.rows.is_some_and(|r| r >= COUNT_MAX_ROWS) {
        return ProbeResult::NotCounted(format!(
            "table too big (about {} rows; counts run below {COUNT_MAX_ROWS})",
            size.rows.unwrap_or_default()
        ));
    }
    match db.count_failing(stats, probe).await {
        Ok(n) => ProbeResult::Counted(n.max(0) as u64),
        Err(DbError::Query { message, .. }) => ProbeResult::NotCounted(message),
        Err(other) => ProbeResult::NotCounted(other.to_string()),
    }
}
