//! How PostgreSQL writes objects as SQL text: constraint bodies, in the form the planner
//! emits and drift describes.

use crate::dialect::{foreign_key_sql, ForeignKeyStyle};
use crate::model::*;
use crate::plan::{ident, keyword, qual};

const FOREIGN_KEY: ForeignKeyStyle = ForeignKeyStyle {
    ident,
    target: |t, c| format!("{}({})", qual(t), cols(c)),
    // pg_get_constraintdef's order, each left out where it is the default.
    clauses: |match_, on_update, on_delete| {
        let clauses = [
            ("MATCH", match_, "SIMPLE"),
            ("ON UPDATE", on_update, "NO ACTION"),
            ("ON DELETE", on_delete, "NO ACTION"),
        ];
        clauses
            .into_iter()
            .filter(|(_, v, default)| v != default)
            .map(|(w, v, _)| format!("{w} {}", keyword(v)))
            .collect()
    },
};

fn cols(v: &[String]) -> String {
    v.iter().map(|c| ident(c)).collect::<Vec<_>>().join(", ")
}

/// The SQL text of a constraint body (after `CONSTRAINT name`).
pub fn constraint_body(c: &Constraint) -> String {
    let mut s = match &c.kind {
        ConstraintKind::PrimaryKey { columns, extra } => format!(
            "PRIMARY KEY ({}){}",
            cols(columns),
            extra
                .as_deref()
                .map(|e| format!(" {e}"))
                .unwrap_or_default()
        ),
        ConstraintKind::Unique {
            columns,
            nulls_not_distinct,
            extra,
        } => format!(
            "UNIQUE{} ({}){}",
            if *nulls_not_distinct {
                " NULLS NOT DISTINCT"
            } else {
                ""
            },
            cols(columns),
            extra
                .as_deref()
                .map(|e| format!(" {e}"))
                .unwrap_or_default()
        ),
        ConstraintKind::ForeignKey { .. } => foreign_key_sql(&c.kind, &FOREIGN_KEY),
        ConstraintKind::Check {
            expression,
            no_inherit,
        } => format!(
            "CHECK ({expression}){}",
            if *no_inherit { " NO INHERIT" } else { "" }
        ),
        ConstraintKind::Exclusion { definition } => definition.clone(),
    };
    if c.deferrable {
        s.push_str(" DEFERRABLE");
        if c.initially_deferred {
            s.push_str(" INITIALLY DEFERRED");
        }
    }
    s
}
