//! `add-foreign-key-without-not-valid`: ADD FOREIGN KEY that validates every row at once.

use crate::lint::{at, hit, Ctx, Hit, Rule, Severity, Stmt, Tok};

pub const RULE: Rule = Rule {
    id: "add-foreign-key-without-not-valid",
    severity: Severity::Error,
    once_per_file: false,
    check,
};

/// The constraint an `ADD [CONSTRAINT name] <kind>` action adds, when it is of `kind`
/// and lacks NOT VALID: its name, if given.
pub fn added_without_not_valid(act: &[Tok], kind: &[&str]) -> Option<Option<String>> {
    if !act[0].is("ADD") {
        return None;
    }
    let (name, i) = if act.get(1).is_some_and(|t| t.is("CONSTRAINT")) {
        (act.get(2).and_then(Tok::ident), 3)
    } else {
        (None, 1)
    };
    if !at(act, i, kind) {
        return None;
    }
    let not_valid = (0..act.len()).any(|k| at(act, k, &["NOT", "VALID"]));
    (!not_valid).then_some(name)
}

fn check(s: &Stmt, ctx: &Ctx) -> Vec<Hit> {
    let Some(a) = s.alter_existing(ctx) else {
        return vec![];
    };
    let t = &a.table;
    let mut out = vec![];
    for act in &a.actions {
        if let Some(name) = added_without_not_valid(act, &["FOREIGN", "KEY"]) {
            let name = name.unwrap_or_else(|| format!("{t}_fkey"));
            out.extend(hit(
                format!("adding a foreign key to {t} checks every row while holding SHARE ROW EXCLUSIVE locks on {t} and the referenced table, blocking their writes"),
                format!("add it with NOT VALID (ALTER TABLE {t} ADD CONSTRAINT {name} FOREIGN KEY ... NOT VALID;), then ALTER TABLE {t} VALIDATE CONSTRAINT {name}; in a later migration"),
            ));
        }
        // ADD [COLUMN] c type REFERENCES other: an inline foreign key cannot be NOT VALID.
        let constraint = [
            "CONSTRAINT",
            "FOREIGN",
            "CHECK",
            "UNIQUE",
            "PRIMARY",
            "EXCLUDE",
        ];
        if act[0].is("ADD")
            && !act
                .get(1)
                .is_some_and(|x| constraint.iter().any(|c| x.is(c)))
            && act.iter().any(|x| x.is("REFERENCES"))
        {
            let col = act
                .get(crate::lint::skip(act, 1, &["COLUMN"]))
                .and_then(Tok::ident)
                .unwrap_or_default();
            out.extend(hit(
                format!("adding column {t}.{col} with an inline REFERENCES takes SHARE ROW EXCLUSIVE on the referenced table, blocking its writes, and checks every row of {t}"),
                format!("add the column without REFERENCES, then ALTER TABLE {t} ADD CONSTRAINT {t}_{col}_fkey FOREIGN KEY ({col}) REFERENCES ... NOT VALID; and VALIDATE CONSTRAINT {t}_{col}_fkey; in a later migration"),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    fn found(sql: &str) -> bool {
        crate::lint::reports(sql, super::RULE.id)
    }

    #[test]
    fn flags_validated_foreign_keys() {
        assert!(found(
            "ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (c) REFERENCES customers (id);"
        ));
        assert!(found(
            "alter table orders add foreign key (c) references customers;"
        ));
    }

    #[test]
    fn ignores_not_valid_and_new_tables() {
        assert!(!found("ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (c) REFERENCES customers (id) NOT VALID;"));
        assert!(!found(
            "CREATE TABLE t (c int); ALTER TABLE t ADD FOREIGN KEY (c) REFERENCES customers;"
        ));
        assert!(!found("ALTER TABLE orders VALIDATE CONSTRAINT fk;"));
    }

    // From squawk's adding-foreign-key-constraint cases: an inline REFERENCES on an added
    // column validates at once and cannot be NOT VALID.
    #[test]
    fn flags_inline_references_on_an_added_column() {
        assert!(found(
            "ALTER TABLE emails ADD COLUMN user_id INT REFERENCES users (id);"
        ));
        assert!(!found("ALTER TABLE emails ADD COLUMN user_id INT;"));
        assert!(!found(
            "CREATE TABLE e (a int); ALTER TABLE e ADD COLUMN u INT REFERENCES users;"
        ));
    }
}
