//! `add-unique-constraint`: ADD UNIQUE or PRIMARY KEY that builds its index under the lock.

use crate::lint::{at, hit, Ctx, Hit, Rule, Severity, Stmt, Tok};

pub const RULE: Rule = Rule {
    id: "add-unique-constraint",
    severity: Severity::Error,
    once_per_file: false,
    check,
};

fn check(s: &Stmt, ctx: &Ctx) -> Vec<Hit> {
    let Some(a) = s.alter_existing(ctx) else {
        return vec![];
    };
    let t = &a.table;
    let mut out = vec![];
    for act in &a.actions {
        if !act[0].is("ADD") {
            continue;
        }
        let (name, i) = if act.get(1).is_some_and(|x| x.is("CONSTRAINT")) {
            (act.get(2).and_then(Tok::ident), 3)
        } else {
            (None, 1)
        };
        // ADD [COLUMN] c type ... [CONSTRAINT n] UNIQUE | PRIMARY KEY: the inline
        // constraint builds the same index under the same lock.
        let inline = |kw: &[&str]| {
            !at(act, i, &["CHECK"])
                && !at(act, i, &["FOREIGN"])
                && !at(act, i, &["EXCLUDE"])
                && (i..act.len()).any(|k| at(act, k, kw))
        };
        let kind = if at(act, i, &["UNIQUE"]) || inline(&["UNIQUE"]) {
            "UNIQUE"
        } else if at(act, i, &["PRIMARY", "KEY"]) || inline(&["PRIMARY", "KEY"]) {
            "PRIMARY KEY"
        } else {
            continue;
        };
        if (0..act.len()).any(|k| at(act, k, &["USING", "INDEX"])) {
            continue;
        }
        let name = name.unwrap_or_else(|| format!("{t}_key"));
        out.extend(hit(
            format!("adding a {kind} constraint to {t} builds its index while holding an ACCESS EXCLUSIVE lock that blocks reads and writes, and fails if existing rows have duplicates"),
            format!("CREATE UNIQUE INDEX CONCURRENTLY {name} ON {t} (...); in a no-transaction migration, then ALTER TABLE {t} ADD CONSTRAINT {name} {kind} USING INDEX {name};"),
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
    fn flags_unique_and_primary_key_built_under_the_lock() {
        assert!(found(
            "ALTER TABLE customers ADD CONSTRAINT email_key UNIQUE (email);"
        ));
        assert!(found("alter table customers add primary key (id);"));
    }

    // From squawk's disallowed-unique-constraint cases: an inline UNIQUE on a new column
    // builds the index under the same lock.
    #[test]
    fn flags_inline_unique_on_an_added_column() {
        assert!(found("ALTER TABLE foo ADD COLUMN bar text UNIQUE;"));
        assert!(found(
            "ALTER TABLE foo ADD COLUMN bar text CONSTRAINT foo_bar_unique UNIQUE;"
        ));
        assert!(found("ALTER TABLE foo ADD id bigint PRIMARY KEY;"));
        assert!(!found(
            "ALTER TABLE foo ADD CONSTRAINT c CHECK (a > 0) NOT VALID;"
        ));
    }

    #[test]
    fn ignores_using_index_and_new_tables() {
        assert!(!found(
            "ALTER TABLE customers ADD CONSTRAINT email_key UNIQUE USING INDEX email_key;"
        ));
        assert!(!found(
            "CREATE TABLE t (a int); ALTER TABLE t ADD UNIQUE (a);"
        ));
        assert!(!found("ALTER TABLE customers ADD COLUMN a int;"));
    }
}
