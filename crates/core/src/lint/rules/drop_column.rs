//! `drop-column`: ALTER TABLE ... DROP COLUMN on an existing table (or foreign table, or
//! a composite type's DROP ATTRIBUTE).

use crate::lint::{column_action, hit, Ctx, Hit, Relation, Rule, Severity, Stmt};

pub const RULE: Rule = Rule {
    id: "drop-column",
    severity: Severity::Error,
    once_per_file: false,
    check,
};

fn check(s: &Stmt, ctx: &Ctx) -> Vec<Hit> {
    let Some(a) = s.alter_relation() else {
        return vec![];
    };
    if ctx.is_new(&a.table) {
        return vec![];
    }
    let mut out = vec![];
    for act in &a.actions {
        let Some((col, _)) = column_action(act, "DROP") else {
            continue;
        };
        let what = match a.kind {
            Relation::Table => format!("deletes its data under {}", ctx.table_lock()),
            Relation::Type => {
                "removes it for every table, function and query that uses the type".into()
            }
            _ => "removes it for every reader".into(),
        };
        out.extend(hit(
            format!("dropping column {}.{col} {what}; running code that selects or inserts {col} fails", a.table),
            format!("first deploy code that no longer reads or writes {col}; then drop it in a later migration with `-- lockstep:ignore drop-column <reason>` above the statement"),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::lint::rule_ids;

    fn found(sql: &str) -> usize {
        rule_ids(sql).iter().filter(|r| *r == "drop-column").count()
    }

    #[test]
    fn flags_each_dropped_column() {
        assert_eq!(found("ALTER TABLE orders DROP COLUMN note;"), 1);
        assert_eq!(
            found("alter table orders drop if exists a, drop column b;"),
            2
        );
    }

    #[test]
    fn flags_foreign_tables_and_type_attributes() {
        assert_eq!(
            found("ALTER TYPE composite DROP ATTRIBUTE a; ALTER FOREIGN TABLE ft DROP COLUMN a;"),
            2
        );
    }

    #[test]
    fn ignores_constraints_defaults_and_new_tables() {
        assert_eq!(found("ALTER TABLE orders DROP CONSTRAINT orders_fk;"), 0);
        assert_eq!(found("ALTER TABLE orders ALTER COLUMN a DROP DEFAULT;"), 0);
        assert_eq!(
            found("CREATE TABLE t (a int, b int); ALTER TABLE t DROP COLUMN b;"),
            0
        );
    }
}
