//! `change-column-type`: ALTER TABLE ... ALTER [COLUMN] c [SET DATA] TYPE t (also on a
//! foreign table, and a composite type's ALTER ATTRIBUTE).

use crate::lint::{hit, skip, Ctx, Dialect, Hit, Relation, Rule, Severity, Stmt};

pub const RULE: Rule = Rule {
    id: "change-column-type",
    severity: Severity::Error,
    once_per_file: false,
    check,
};

fn check(s: &Stmt, ctx: &Ctx) -> Vec<Hit> {
    let mut out = vec![];
    for c in s.columns_altered(ctx) {
        if !c
            .rest
            .get(skip(c.rest, 0, &["SET", "DATA"]))
            .is_some_and(|x| x.is("TYPE"))
        {
            continue;
        }
        let (t, col) = (&c.table, &c.column);
        let lock = match c.kind {
            Relation::Table if ctx.dialect == Dialect::Mysql => "copies the table for most type changes (ALGORITHM=COPY), blocking writes until the copy is done",
            Relation::Table => "takes an ACCESS EXCLUSIVE lock that blocks reads and writes while, for most type changes, the table and its indexes are rewritten",
            Relation::Type => "changes it for every table, function and query that uses the type",
            _ => "changes what every reader gets",
        };
        out.extend(hit(
            format!("changing the type of {t}.{col} {lock}; clients that expect the old type may break"),
            format!("add a new column with the new type, backfill it in batches, switch the code to it, then drop {col} in a later migration"),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    fn found(sql: &str) -> bool {
        crate::lint::reports(sql, super::RULE.id)
    }

    #[test]
    fn flags_type_changes() {
        assert!(found("ALTER TABLE orders ALTER COLUMN total TYPE bigint;"));
        assert!(found(
            "alter table orders alter total set data type numeric(12,2) using total::numeric;"
        ));
    }

    #[test]
    fn flags_foreign_tables_and_type_attributes() {
        assert!(found("ALTER TYPE composite ALTER ATTRIBUTE a TYPE text;"));
        assert!(found("ALTER FOREIGN TABLE ft ALTER COLUMN a TYPE text;"));
    }

    #[test]
    fn ignores_other_column_changes() {
        assert!(!found(
            "ALTER TABLE orders ALTER COLUMN total SET DEFAULT 0;"
        ));
        assert!(!found(
            "CREATE TABLE t (a int); ALTER TABLE t ALTER a TYPE bigint;"
        ));
    }
}
