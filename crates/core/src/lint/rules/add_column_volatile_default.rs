//! `add-column-volatile-default`: ADD COLUMN whose default must be computed per row.

use crate::lint::{hit, Ctx, Hit, Kind, Rule, Severity, Stmt, Tok};

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
/// Names that may be followed by `(` in a default yet are not a volatile call: syntax,
/// type modifiers, and stable or immutable built-ins common in defaults. Any other
/// function is treated as possibly volatile, since lockstep cannot see its volatility.
const NOT_VOLATILE: &[&str] = &[
    "CAST",
    "ARRAY",
    "ROW",
    "COALESCE",
    "NULLIF",
    "GREATEST",
    "LEAST",
    "INTERVAL",
    "NUMERIC",
    "DECIMAL",
    "VARCHAR",
    "CHAR",
    "CHARACTER",
    "VARYING",
    "BIT",
    "TIMESTAMP",
    "TIMESTAMPTZ",
    "TIME",
    "TIMETZ",
    "PRECISION",
    "NOW",
    "CURRENT_DATE",
    "TRANSACTION_TIMESTAMP",
    "STATEMENT_TIMESTAMP",
    "TO_JSON",
    "TO_JSONB",
    "JSON_BUILD_OBJECT",
    "JSONB_BUILD_OBJECT",
    "JSON_BUILD_ARRAY",
    "JSONB_BUILD_ARRAY",
    "LOWER",
    "UPPER",
    "CONCAT",
    "ABS",
    "ROUND",
    "MAKE_INTERVAL",
    "MAKE_DATE",
    "TO_TIMESTAMP",
    "TO_DATE",
    "TO_CHAR",
    "EXTRACT",
    "DATE_TRUNC",
    "CURRENT_SETTING",
    "CURRENT_USER",
    "SESSION_USER",
];
const SERIAL: &[&str] = &[
    "SERIAL",
    "BIGSERIAL",
    "SMALLSERIAL",
    "SERIAL4",
    "SERIAL8",
    "SERIAL2",
];

/// Why adding a column whose definition is `rest` (its name on) rewrites the table: a
/// volatile (or unknown) function in its default, a stored generated column, a serial.
/// None when PostgreSQL 11+ adds it without touching the rows.
pub fn rewrite_reason(rest: &[Tok]) -> Option<String> {
    let volatile = rest
        .windows(2)
        .find(|w| w[0].is_any(VOLATILE) && w[1].is_punct("("));
    // A default that calls a function lockstep does not know to be non-volatile.
    let unknown = rest.iter().position(|x| x.is("DEFAULT")).and_then(|d| {
        rest[d..].windows(3).find(|w| {
            w[0].kind == Kind::Word
                && w[1].is_punct("(")
                // now() is stable; now(...) with arguments is not that function.
                && (!w[0].is_any(NOT_VOLATILE) || (w[0].is("NOW") && !w[2].is_punct(")")))
        })
    });
    let stored = rest.iter().any(|x| x.is("GENERATED")) && rest.iter().any(|x| x.is("STORED"));
    match (volatile, unknown) {
        (Some(w), _) => Some(format!(
            "its default {}() is volatile",
            w[0].text.to_lowercase()
        )),
        (None, Some(w)) => Some(format!(
            "its default calls {}(), which may be volatile (lockstep cannot tell)",
            w[0].text.to_lowercase()
        )),
        _ if stored => Some("it is a stored generated column, computed for every row".into()),
        (None, None) => rest.iter().find(|x| x.is_any(SERIAL)).map(|x| {
            format!(
                "{} fills it from a sequence, row by row",
                x.text.to_lowercase()
            )
        }),
    }
}

fn check(s: &Stmt, ctx: &Ctx) -> Vec<Hit> {
    let Some(a) = s.alter_existing(ctx) else {
        return vec![];
    };
    let t = &a.table;
    let mut out = vec![];
    for act in &a.actions {
        let Some((col, rest)) = crate::lint::added_column(act) else {
            continue;
        };
        let Some(what) = rewrite_reason(rest) else {
            continue;
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
    fn found(sql: &str) -> bool {
        crate::lint::reports(sql, super::RULE.id)
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
        assert!(!found(
            "ALTER TABLE t ADD COLUMN b bigint[] DEFAULT cast(array[] as bigint[]);"
        ));
        assert!(!found(
            "ALTER TABLE t ADD COLUMN at timestamptz DEFAULT now() - interval '1 day';"
        ));
        assert!(!found(
            "ALTER TABLE t ADD COLUMN n numeric(10, 2) DEFAULT 0;"
        ));
    }

    // From squawk's adding-field-with-default cases: an unknown function may be volatile,
    // and a stored generated column is computed for every existing row.
    #[test]
    fn flags_unknown_functions_and_stored_generated_columns() {
        assert!(found("ALTER TABLE t ADD COLUMN c integer DEFAULT uuid();"));
        assert!(found("ALTER TABLE t ADD COLUMN c jsonb DEFAULT myjsonb();"));
        assert!(found(
            "ALTER TABLE t ADD COLUMN c timestamptz DEFAULT now(123);"
        ));
        assert!(found(
            "ALTER TABLE t ADD COLUMN c numeric GENERATED ALWAYS AS (a + b) STORED;"
        ));
    }
}
