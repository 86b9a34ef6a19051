//! How PostgreSQL writes objects as SQL text: constraint bodies, in the form the planner
//! emits and drift describes.

use crate::model::*;
use crate::plan::{ident, keyword, qual};

/// The SQL text of a constraint body (after `CONSTRAINT name`).
pub fn constraint_body(c: &Constraint) -> String {
    let cols = |v: &[String]| v.iter().map(|c| ident(c)).collect::<Vec<_>>().join(", ");
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
        ConstraintKind::ForeignKey {
            columns,
            references,
            ref_columns,
            on_delete,
            on_update,
            match_,
        } => {
            let mut s = format!(
                "FOREIGN KEY ({}) REFERENCES {}({})",
                cols(columns),
                qual(references),
                cols(ref_columns)
            );
            if match_ != "SIMPLE" {
                s.push_str(&format!(" MATCH {}", keyword(match_)));
            }
            if on_update != "NO ACTION" {
                s.push_str(&format!(" ON UPDATE {}", keyword(on_update)));
            }
            if on_delete != "NO ACTION" {
                s.push_str(&format!(" ON DELETE {}", keyword(on_delete)));
            }
            s
        }
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
