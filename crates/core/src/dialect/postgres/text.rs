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

/// `sql` with every `schema.` qualifier the server printed taken out, the way a session
/// whose `search_path` is that schema would read it: what a tenant's texts look like
/// relative to its schema. Only a qualifier glued to its name counts (`s.t`, `"S".t`),
/// never one inside a string, a dollar-quoted body or a comment. With `header_only`,
/// only the qualifiers before the first `(`: a function's own name in the `CREATE`
/// statement the server prints, not the body the user wrote.
pub fn unqualify(sql: &str, schema: &str, header_only: bool) -> String {
    use crate::sql::lex::{spanned, Dialect, TokenKind};
    let t = spanned(sql, Dialect::Postgres);
    let mut out = String::with_capacity(sql.len());
    let mut copied = 0;
    for i in 0..t.len() {
        if header_only && t[i].is_punct("(") {
            break;
        }
        let named = match t[i].kind {
            TokenKind::Word => t[i].text.to_ascii_lowercase() == schema,
            TokenKind::Quoted => t[i].name() == schema,
            _ => false,
        };
        let qualifies = named
            && (i == 0 || !t[i - 1].is_punct(".") || t[i - 1].end != t[i].start)
            && t.get(i + 1)
                .is_some_and(|d| d.is_punct(".") && d.start == t[i].end)
            && t.get(i + 2).is_some_and(|n| n.start == t[i + 1].end);
        if qualifies {
            out.push_str(&sql[copied..t[i].start]);
            copied = t[i + 2].start;
        }
    }
    out.push_str(&sql[copied..]);
    out
}

#[cfg(test)]
mod unqualify_tests {
    use super::unqualify;

    #[test]
    fn takes_out_the_schemas_own_qualifiers_only() {
        let def = "CREATE OR REPLACE FUNCTION tenant_a.f(x tenant_a.mood)\n RETURNS int AS $$ SELECT tenant_a.g(x) $$";
        assert_eq!(
            unqualify(def, "tenant_a", true),
            "CREATE OR REPLACE FUNCTION f(x tenant_a.mood)\n RETURNS int AS $$ SELECT tenant_a.g(x) $$"
        );
        assert_eq!(
            unqualify("CREATE TRIGGER t BEFORE UPDATE ON tenant_a.orders FOR EACH ROW EXECUTE FUNCTION other.f('tenant_a.x')", "tenant_a", false),
            "CREATE TRIGGER t BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION other.f('tenant_a.x')"
        );
        // Quoted names match exactly; an unquoted word is folded to lower case.
        assert_eq!(
            unqualify(
                "DROP COLLATION \"Tenant B\".ci; DROP COLLATION \"tenant b\".ci",
                "Tenant B",
                false
            ),
            "DROP COLLATION ci; DROP COLLATION \"tenant b\".ci"
        );
        assert_eq!(
            unqualify("CREATE OPERATOR PUBLIC.=== (x)", "public", false),
            "CREATE OPERATOR === (x)"
        );
        // Not a qualifier: a column of that name, a spaced dot, the last part of a name.
        assert_eq!(
            unqualify(
                "SELECT public FROM t; x . public.y; a.public.b",
                "public",
                false
            ),
            "SELECT public FROM t; x . y; a.public.b"
        );
    }
}
