//! `drop-default`: ALTER TABLE ... ALTER [COLUMN] c DROP DEFAULT.

use crate::lint::{at, hit, skip, Ctx, Hit, Rule, Severity, Stmt};

pub const RULE: Rule = Rule {
    id: "drop-default",
    severity: Severity::Warning,
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
    let t = &a.table;
    let mut out = vec![];
    for act in &a.actions {
        if !act[0].is("ALTER") {
            continue;
        }
        let i = skip(act, 1, &["COLUMN"]);
        let Some(col) = act.get(i).and_then(|x| x.ident()) else {
            continue;
        };
        if !at(act, i + 1, &["DROP", "DEFAULT"]) {
            continue;
        }
        out.extend(hit(
            format!("dropping the default of {t}.{col}: running code that inserts rows without {col} now stores NULL there, or fails if {col} is NOT NULL"),
            format!("keep the default until no code inserts without {col} (deploy code that always sets it first), then drop it in a later migration with `-- lockstep:ignore drop-default <reason>`"),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::lint::rule_ids;

    fn found(sql: &str) -> bool {
        rule_ids(sql).iter().any(|r| r == "drop-default")
    }

    #[test]
    fn flags_dropped_defaults() {
        assert!(found(
            "ALTER TABLE orders ALTER COLUMN status DROP DEFAULT;"
        ));
        assert!(found(
            "alter table orders alter status drop default, add column x int;"
        ));
    }

    #[test]
    fn ignores_set_default_and_new_tables() {
        assert!(!found(
            "ALTER TABLE orders ALTER COLUMN status SET DEFAULT 'new';"
        ));
        assert!(!found(
            "CREATE TABLE t (a int DEFAULT 1); ALTER TABLE t ALTER a DROP DEFAULT;"
        ));
    }
}
