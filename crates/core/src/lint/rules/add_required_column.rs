//! `add-required-column`: ADD COLUMN ... NOT NULL with no default, on an existing table.

use crate::lint::{added_column, hit, top_level, Ctx, Dialect, Hit, Rule, Severity, Stmt};

pub const RULE: Rule = Rule {
    id: "add-required-column",
    severity: Severity::Error,
    once_per_file: false,
    check,
};

/// The columns an ALTER TABLE adds as NOT NULL (or PRIMARY KEY) with nothing to fill
/// existing rows: no DEFAULT, not GENERATED (identity or stored), not serial.
pub fn required_columns(s: &Stmt, ctx: &Ctx) -> Vec<(String, String)> {
    let Some(a) = s.alter_existing(ctx) else {
        return vec![];
    };
    let mut out = vec![];
    for act in &a.actions {
        let Some((col, rest)) = added_column(act) else {
            continue;
        };
        let top = top_level(rest);
        let has = |kw: &str| top.iter().any(|x| x.is(kw));
        let not_null = top.windows(2).any(|w| w[0].is("NOT") && w[1].is("NULL"))
            || top.windows(2).any(|w| w[0].is("PRIMARY") && w[1].is("KEY"));
        let filled = has("DEFAULT")
            || has("GENERATED")
            || top.iter().any(|x| {
                x.is_any(&[
                    "SERIAL",
                    "BIGSERIAL",
                    "SMALLSERIAL",
                    "SERIAL2",
                    "SERIAL4",
                    "SERIAL8",
                ])
            });
        if not_null && !filled {
            out.push((a.table.clone(), col));
        }
    }
    out
}

fn check(s: &Stmt, ctx: &Ctx) -> Vec<Hit> {
    required_columns(s, ctx)
        .into_iter()
        .flat_map(|(t, col)| {
            if ctx.dialect == Dialect::Sqlite {
                return hit(
                    format!("adding {t}.{col} as NOT NULL with no default fails as soon as {t} has a row (\"Cannot add a NOT NULL column with default value NULL\"); and once it succeeds (on an empty table), running code that inserts without {col} fails"),
                    format!("add {col} with a DEFAULT, or add it nullable (SQLite cannot make an existing column NOT NULL without rebuilding the table)"),
                );
            }
            hit(
                format!("adding {t}.{col} as NOT NULL with no default fails as soon as {t} has a row: existing rows would hold NULL; and once it succeeds (on an empty table), running code that inserts without {col} fails"),
                format!("add {col} with a DEFAULT (a constant default costs no rewrite on PostgreSQL 11+), or add it nullable, backfill, and SET NOT NULL the safe way (see add-not-null)"),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    fn found(sql: &str) -> bool {
        crate::lint::reports(sql, super::RULE.id)
    }

    #[test]
    fn flags_not_null_without_default() {
        assert!(found(
            r#"ALTER TABLE "recipe" ADD COLUMN "public" boolean NOT NULL;"#
        ));
        assert!(found("alter table t add c int not null check (c > 0);"));
        assert!(found("ALTER TABLE t ADD COLUMN id int PRIMARY KEY;"));
    }

    #[test]
    fn ignores_filled_nullable_and_new_columns() {
        for sql in [
            "ALTER TABLE recipe ADD COLUMN public boolean;",
            "ALTER TABLE recipe ADD COLUMN public boolean NOT NULL DEFAULT true;",
            "ALTER TABLE foo ADD COLUMN bar numeric GENERATED ALWAYS AS (bar + baz) STORED NOT NULL;",
            "ALTER TABLE foo ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY NOT NULL;",
            "ALTER TABLE foo ADD COLUMN id bigserial NOT NULL;",
            "ALTER TABLE foo ADD COLUMN c int CHECK (c IS NOT NULL);",
            "ALTER TABLE foo ADD CONSTRAINT c CHECK (c IS NOT NULL);",
            "CREATE TABLE foo (a int); ALTER TABLE foo ADD COLUMN b int NOT NULL;",
        ] {
            assert!(!found(sql), "{sql}");
        }
    }
}
