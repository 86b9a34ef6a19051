//! One folder per dialect, each with the same files: `plan.rs` (changes to SQL),
//! `types.rs` (the dialect's types), `text.rs` (its SQL text, read or written). This file
//! is the core's dispatch on the dialect, and says what each engine can do.

pub mod mysql;
pub mod postgres;
pub mod sqlite;

use crate::diff::Change;
use crate::model::{Constraint, ConstraintKind, Database, Dialect, QualName};
use crate::plan::Plan;

/// What an engine can do, for the planners, deploy and lint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    /// DDL runs inside a transaction and rolls back with it (PostgreSQL, SQLite); on MySQL
    /// every DDL statement commits on its own.
    pub transactional_ddl: bool,
    /// Some statements must run outside a transaction (`CREATE INDEX CONCURRENTLY`).
    pub statements_outside_transactions: bool,
    /// Locks are named by mode (ACCESS EXCLUSIVE…) and `lock_timeout` bounds the wait.
    pub lock_timeout: &'static str,
}

pub fn capabilities(d: Dialect) -> Capabilities {
    match d {
        Dialect::Postgres => Capabilities {
            transactional_ddl: true,
            statements_outside_transactions: true,
            lock_timeout: "lock_timeout",
        },
        Dialect::Sqlite => Capabilities {
            transactional_ddl: true,
            statements_outside_transactions: false,
            lock_timeout: "busy_timeout",
        },
        Dialect::Mysql => Capabilities {
            transactional_ddl: false,
            statements_outside_transactions: false,
            lock_timeout: "lock_wait_timeout",
        },
    }
}

/// The plan that turns `from` into `to`, in `to`'s dialect.
pub fn plan(
    changes: &[Change],
    from: &Database,
    to: &Database,
    opts: crate::plan::Options,
) -> Plan {
    match to.dialect {
        Dialect::Postgres => postgres::plan::plan_with(changes, from, to, opts),
        Dialect::Sqlite => sqlite::plan(changes, from, to),
        Dialect::Mysql => mysql::plan(changes, from, to),
    }
}

/// A constraint as its dialect writes it, for people (drift items).
pub fn constraint_text(d: Dialect, c: &Constraint) -> String {
    match d {
        Dialect::Mysql => mysql::constraint_text(c),
        // SQLite reads constraints as PostgreSQL writes them: same syntax for the kinds
        // SQLite has.
        Dialect::Postgres | Dialect::Sqlite => postgres::text::constraint_body(c),
    }
}

/// How a dialect writes a foreign key. The three planners write the clause alike and
/// differ only in quoting, in how the referenced table is named, and in which actions
/// they leave out as the dialect's default, and in what order.
pub(crate) struct ForeignKeyStyle {
    pub ident: fn(&str) -> String,
    /// The referenced table and its columns, after `REFERENCES`.
    pub target: fn(&QualName, &[String]) -> String,
    /// The clauses after the target, from the MATCH type, ON UPDATE and ON DELETE
    /// actions: those that are not the dialect's default, in its order.
    pub clauses: fn(&str, &str, &str) -> Vec<String>,
}

/// `FOREIGN KEY (a, b) REFERENCES t (x, y) ...` of a foreign key constraint.
pub(crate) fn foreign_key_sql(kind: &ConstraintKind, style: &ForeignKeyStyle) -> String {
    let ConstraintKind::ForeignKey {
        columns,
        references,
        ref_columns,
        on_delete,
        on_update,
        match_,
    } = kind
    else {
        unreachable!("foreign_key_sql is only called on foreign keys")
    };
    let cols = columns.iter().map(|c| (style.ident)(c)).collect::<Vec<_>>();
    let mut s = format!(
        "FOREIGN KEY ({}) REFERENCES {}",
        cols.join(", "),
        (style.target)(references, ref_columns)
    );
    for clause in (style.clauses)(match_, on_update, on_delete) {
        s.push(' ');
        s.push_str(&clause);
    }
    s
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    /// A dialect is one folder with the same file names as every other.
    #[test]
    fn every_dialect_folder_has_the_same_files() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/dialect");
        let files = |d: &str| -> BTreeSet<String> {
            std::fs::read_dir(dir.join(d))
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        };
        let pg = files("postgres");
        assert_eq!(files("sqlite"), pg);
        assert_eq!(files("mysql"), pg);
        for f in ["mod.rs", "plan.rs", "types.rs", "text.rs"] {
            assert!(pg.contains(f), "{f}");
        }
    }
}
