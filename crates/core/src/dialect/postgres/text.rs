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

/// Which of the server's qualifiers [`unqualify`] takes out.
#[derive(Debug, Clone, Copy)]
pub enum Qualified {
    /// The first name after the first `keyword` (a trigger's table after `ON`).
    After(&'static str),
    /// The names before the first `(`: a function's own name in the `CREATE` statement
    /// the server prints, never the body the user wrote.
    Header,
}

/// `sql` with the `schema.` qualifier of one name the server printed taken out, the way
/// a session whose `search_path` is that schema reads it: a tenant's texts relative to
/// its schema. Only a qualifier glued to its name counts (`s.t`, `"S".t`), never one in
/// a string, a dollar-quoted body or a comment, and only where `which` says: elsewhere
/// a word equal to the schema's name may be a table, an alias, `new` or `old`.
pub fn unqualify(sql: &str, schema: &str, which: Qualified) -> String {
    use crate::sql::lex::{spanned, Dialect, TokenKind};
    let t = spanned(sql, Dialect::Postgres);
    let (from, to) = match which {
        Qualified::Header => (0, t.iter().position(|x| x.is_punct("(")).unwrap_or(t.len())),
        Qualified::After(kw) => match t.iter().position(|x| x.is(kw)) {
            Some(i) => (i + 1, (i + 2).min(t.len())),
            None => (0, 0),
        },
    };
    let mut out = String::with_capacity(sql.len());
    let mut copied = 0;
    for i in from..to {
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
    use super::{unqualify, Qualified};

    #[test]
    fn takes_out_the_schemas_own_qualifier_where_the_server_always_prints_it() {
        let def = "CREATE OR REPLACE FUNCTION tenant_a.f(x tenant_a.mood)\n RETURNS int AS $$ SELECT tenant_a.g(x) $$";
        assert_eq!(
            unqualify(def, "tenant_a", Qualified::Header),
            "CREATE OR REPLACE FUNCTION f(x tenant_a.mood)\n RETURNS int AS $$ SELECT tenant_a.g(x) $$"
        );
        // A trigger's table only: a schema named `new` leaves `new.total` alone.
        assert_eq!(
            unqualify("CREATE TRIGGER t BEFORE UPDATE ON new.orders FOR EACH ROW WHEN (old.total IS DISTINCT FROM new.total) EXECUTE FUNCTION f()", "new", Qualified::After("on")),
            "CREATE TRIGGER t BEFORE UPDATE ON orders FOR EACH ROW WHEN (old.total IS DISTINCT FROM new.total) EXECUTE FUNCTION f()"
        );
        // Quoted names match exactly; an unquoted word is folded to lower case.
        assert_eq!(
            unqualify(
                "CREATE FUNCTION \"Tenant B\".f()",
                "Tenant B",
                Qualified::Header
            ),
            "CREATE FUNCTION f()"
        );
        assert_eq!(
            unqualify(
                "CREATE FUNCTION \"tenant b\".f()",
                "Tenant B",
                Qualified::Header
            ),
            "CREATE FUNCTION \"tenant b\".f()"
        );
        assert_eq!(
            unqualify("CREATE FUNCTION PUBLIC.f()", "public", Qualified::Header),
            "CREATE FUNCTION f()"
        );
        // Not a qualifier: another schema, a spaced dot, no keyword.
        assert_eq!(
            unqualify(
                "CREATE TRIGGER t AFTER INSERT ON other.t",
                "public",
                Qualified::After("on")
            ),
            "CREATE TRIGGER t AFTER INSERT ON other.t"
        );
        assert_eq!(
            unqualify("a.public.y", "public", Qualified::Header),
            "a.public.y"
        );
        assert_eq!(
            unqualify("public.y", "public", Qualified::After("on")),
            "public.y"
        );
    }
}
