//! `add-column-volatile-default`: ADD COLUMN whose default must be computed per row.

use crate::lint::{hit, Ctx, Hit, Kind, Rule, Severity, Stmt};

pub const RULE: Rule = Rule {
    id: "add-column-volatile-default",
    severity: Severity::Error,
    once_per_file: false,
    check,
};

/// Volatile functions commonly used as defaults. now() and CURRENT_TIMESTAMP are stable:
/// PostgreSQL 11+ stores their value once, without a rewrite.
const VOLATILE: &[&str] = &[
    "RANDOM",
    "GEN_RANDOM_UUID",
    "UUID_GENERATE_V1",
    "UUID_GENERATE_V4",
    "UUIDV7",
    "CLOCK_TIMESTAMP",
    "TIMEOFDAY",
    "NEXTVAL",
    "TXID_CURRENT",
];
const SERIAL: &[&str] = &[
    "SERIAL",
    "BIGSERIAL",
    "SMALLSERIAL",
    "SERIAL4",
    "SERIAL8",
    "SERIAL2",
];

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
        if !act[0].is("ADD") || act.get(1).is_some_and(|x| x.is("CONSTRAINT")) {
            continue;
        }
        let i = crate::lint::skip(act, 1, &["COLUMN"]);
        let i = crate::lint::skip(act, i, &["IF", "NOT", "EXISTS"]);
        let col = act.get(i).and_then(|x| x.ident()).unwrap_or_default();
        let rest = &act[i.min(act.len())..];
        let volatile = rest.windows(2).find(|w| {
            w[0].kind == Kind::Word && VOLATILE.contains(&w[0].text.as_str()) && w[1].is_punct("(")
        });
        let what = match volatile {
            Some(w) => format!("its default {}() is volatile", w[0].text.to_lowercase()),
            None => match rest
                .iter()
                .find(|x| x.kind == Kind::Word && SERIAL.contains(&x.text.as_str()))
            {
                Some(x) => format!(
                    "{} fills it from a sequence, row by row",
                    x.text.to_lowercase()
                ),
                None => continue,
            },
        };
        out.extend(hit(
            format!("adding column {t}.{col}: {what}, so PostgreSQL rewrites the whole table under an ACCESS EXCLUSIVE lock that blocks reads and writes"),
            format!("add the column without a default (ALTER TABLE {t} ADD COLUMN {col} <type>;), then SET DEFAULT for new rows and backfill existing rows in batches"),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::lint::rule_ids;

    fn found(sql: &str) -> bool {
        rule_ids(sql)
            .iter()
            .any(|r| r == "add-column-volatile-default")
    }

    #[test]
    fn flags_volatile_defaults_and_serials() {
        assert!(found(
            "ALTER TABLE orders ADD COLUMN token uuid DEFAULT gen_random_uuid();"
        ));
        assert!(found(
            "alter table orders add column r float default random() not null;"
        ));
        assert!(found("ALTER TABLE orders ADD COLUMN n bigserial;"));
    }

    #[test]
    fn ignores_constant_and_stable_defaults() {
        assert!(!found(
            "ALTER TABLE orders ADD COLUMN at timestamptz DEFAULT now();"
        ));
        assert!(!found("ALTER TABLE orders ADD COLUMN n int DEFAULT 0;"));
        assert!(!found(
            "CREATE TABLE t (a int); ALTER TABLE t ADD COLUMN r float DEFAULT random();"
        ));
    }
}
