//! `truncate-cascade`: TRUNCATE ... CASCADE also empties every table that references
//! the named ones.

use crate::lint::{hit, Ctx, Hit, Rule, Severity, Stmt};

pub const RULE: Rule = Rule {
    id: "truncate-cascade",
    severity: Severity::Error,
    once_per_file: false,
    check,
};

fn check(s: &Stmt, _ctx: &Ctx) -> Vec<Hit> {
    if !s.starts(&["TRUNCATE"]) || !s.has("CASCADE") {
        return vec![];
    }
    let table = s.locked_table().unwrap_or_default();
    hit(
        format!("TRUNCATE {table} ... CASCADE also empties every table with a foreign key to it, and the tables referencing those, none of them named here"),
        "name every table to empty and drop CASCADE, so the statement fails instead of silently emptying a table nobody reviewed",
    )
}

#[cfg(test)]
mod tests {
    fn found(sql: &str) -> bool {
        crate::lint::reports(sql, super::RULE.id)
    }

    #[test]
    fn flags_cascade_only() {
        assert!(found("truncate a, b, c cascade;"));
        assert!(found(
            "TRUNCATE TABLE ONLY orders RESTART IDENTITY CASCADE;"
        ));
        assert!(!found("truncate a, b, c;"));
        assert!(!found("TRUNCATE orders RESTRICT;"));
    }
}
