//! `drop-column`: ALTER TABLE ... DROP COLUMN on an existing table.

use crate::lint::{hit, skip, Ctx, Hit, Rule, Severity, Stmt};

pub const RULE: Rule = Rule {
    id: "drop-column",
    severity: Severity::Error,
    once_per_file: false,
    check,
};

fn check(s: &Stmt, ctx: &Ctx) -> Vec<Hit> {
    let Some(a) = s.alter_table() else {
        return vec![];
    };
    if ctx.is_new(&a.table) {
        return vec![];
    }
    let mut out = vec![];
    for act in &a.actions {
        if !act[0].is("DROP") || act.get(1).is_some_and(|t| t.is("CONSTRAINT")) {
            continue;
        }
        let i = skip(act, 1, &["COLUMN"]);
        let i = skip(act, i, &["IF", "EXISTS"]);
        let Some(col) = act.get(i).and_then(|t| t.ident()) else {
            continue;
        };
        out.extend(hit(
            format!("dropping column {}.{col} deletes its data under an ACCESS EXCLUSIVE lock; running code that selects or inserts {col} fails", a.table),
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
    fn ignores_constraints_defaults_and_new_tables() {
        assert_eq!(found("ALTER TABLE orders DROP CONSTRAINT orders_fk;"), 0);
        assert_eq!(found("ALTER TABLE orders ALTER COLUMN a DROP DEFAULT;"), 0);
        assert_eq!(
            found("CREATE TABLE t (a int, b int); ALTER TABLE t DROP COLUMN b;"),
            0
        );
    }
}
