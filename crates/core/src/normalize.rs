//! Normalization: what makes two equal schemas compare equal without letting a real
//! difference vanish.
//!
//! The servers already canonicalize most text (PostgreSQL prints defaults, view queries
//! and constraint expressions in one form whatever was typed). What is left is
//! whitespace in bodies the server keeps verbatim (function bodies, SQLite's stored
//! CREATE text), type aliases in hand-written snapshots, and names the system chose.

use crate::sql::lex::{needs_space, Dialect, Lexer, TokenKind};

/// Removes insignificant whitespace from SQL text: outside string literals, quoted
/// identifiers, dollar-quoted strings and comments, a run of whitespace becomes one space
/// between two word characters and disappears elsewhere. Literals are kept byte for byte,
/// so `'a  b'` and `'a b'` stay different.
pub fn sql_text(s: &str) -> String {
    normalize(s, false)
}

/// Like [`sql_text`], but the insides of dollar-quoted strings are normalized too,
/// because in a function definition they hold the body's code. A literal with
/// significant whitespace nested in such a body is the price (documented in docs/).
pub fn sql_code(s: &str) -> String {
    normalize(s, true)
}

fn normalize(s: &str, dollar_is_code: bool) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    let push = |out: &mut String, piece: &str, pending: &mut bool| {
        if std::mem::take(pending) && needs_space(out, piece) {
            out.push(' ');
        }
        out.push_str(piece);
    };
    for t in Lexer::new(s, Dialect::Postgres) {
        match t.kind {
            TokenKind::Space => pending_space = true,
            // A line comment must stay terminated, or it would swallow what follows.
            TokenKind::LineComment => {
                let piece = format!("{}\n", t.text.trim_end());
                push(&mut out, &piece, &mut pending_space);
            }
            TokenKind::Str if dollar_is_code && t.dollar_parts().is_some() => {
                let (open, body, close) = t.dollar_parts().unwrap_or_default();
                let piece = format!("{open}{}{close}", normalize(body, true));
                push(&mut out, &piece, &mut pending_space);
            }
            _ => push(&mut out, t.text, &mut pending_space),
        }
    }
    out
}

/// Whether `name` is what PostgreSQL would have chosen for a constraint or index on
/// `table` with this suffix (`pkey`, `key`, `fkey`, `check`, `excl`, `idx`): the table
/// name, an underscore, anything, the suffix, and an optional collision counter. Such
/// names depend on creation order, so the diff pairs them by definition, not by name.
pub fn looks_system_named(table: &str, name: &str, suffix: &str) -> bool {
    // PostgreSQL truncates the generated name to 63 bytes, cutting the table part first.
    let prefix_len = table.len().min(20);
    if !name.as_bytes().starts_with(&table.as_bytes()[..prefix_len]) {
        return false;
    }
    let trimmed = name.trim_end_matches(|c: char| c.is_ascii_digit());
    trimmed.ends_with(&format!("_{suffix}")) || trimmed == format!("{table}_{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_block_comments_end_at_their_own_close() {
        // The comment is kept whole, inner spacing included, not cut at the inner `*/`.
        assert_eq!(
            normalize("select 1  /* x /* y */ z */ +  2", false),
            "select 1/* x /* y */ z */+2"
        );
    }

    #[test]
    fn whitespace_outside_literals_is_insignificant() {
        assert_eq!(
            sql_text("SELECT  a ,\n b FROM t"),
            sql_text("SELECT a, b FROM t")
        );
        assert_eq!(sql_text("select a+b"), sql_text("select a + b"));
        assert_ne!(sql_text("select 'a  b'"), sql_text("select 'a b'"));
        assert_ne!(sql_text("select $$a  b$$"), sql_text("select $$a b$$"));
        assert_ne!(sql_text("select ab"), sql_text("select a b"));
        assert_ne!(
            sql_text("select 1 -- x\n + 2"),
            sql_text("select 1 -- x + 2")
        );
        assert_eq!(
            sql_code("CREATE FUNCTION f() AS $f$\n  begin\n    return 1;\n  end\n$f$"),
            sql_code("CREATE FUNCTION f() AS $f$ begin return 1; end $f$")
        );
        assert_ne!(
            sql_code("AS $f$ begin return 'a  b'; end $f$"),
            sql_code("AS $f$ begin return 'a b'; end $f$")
        );
    }

    #[test]
    fn system_names() {
        assert!(looks_system_named("orders", "orders_pkey", "pkey"));
        assert!(looks_system_named(
            "orders",
            "orders_customer_id_fkey1",
            "fkey"
        ));
        assert!(!looks_system_named("orders", "fk_orders_customer", "fkey"));
        assert!(!looks_system_named(
            "orders",
            "orders_customer_id_fkey",
            "pkey"
        ));
    }

    proptest::proptest! {
        #[test]
        fn normalization_is_idempotent(s in "[a-z '$();\\-\n]{0,40}") {
            let once = sql_text(&s);
            proptest::prop_assert_eq!(sql_text(&once), once);
        }
    }
}
