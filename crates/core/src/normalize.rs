//! Normalization: what makes two equal schemas compare equal without letting a real
//! difference vanish.
//!
//! The servers already canonicalize most text (PostgreSQL prints defaults, view queries
//! and constraint expressions in one form whatever was typed). What is left is
//! whitespace in bodies the server keeps verbatim (function bodies, SQLite's stored
//! CREATE text), type aliases in hand-written snapshots, and names the system chose.

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
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    let mut pending_space = false;
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80;
    let push = |out: &mut String, piece: &str, pending: &mut bool| {
        if *pending {
            if let (Some(prev), Some(next)) = (out.as_bytes().last(), piece.as_bytes().first()) {
                let joins_words = (word(*prev) || *prev == b'$') && (word(*next) || *next == b'$');
                // Joining `-` `-` or `/` `*` would turn operators into a comment.
                let makes_comment =
                    (*prev == b'-' && *next == b'-') || (*prev == b'/' && *next == b'*');
                if joins_words || makes_comment {
                    out.push(' ');
                }
            }
            *pending = false;
        }
        out.push_str(piece);
    };
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            pending_space = true;
            i += 1;
            continue;
        }
        let start = i;
        match c {
            b'\'' | b'"' | b'`' => {
                i += 1;
                while i < b.len() {
                    if b[i] == c {
                        if i + 1 < b.len() && b[i + 1] == c {
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    i += 1;
                }
                i = (i + 1).min(b.len());
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                // A line comment must stay terminated, or it would swallow what follows.
                let piece = format!("{}\n", s[start..i].trim_end());
                push(&mut out, &piece, &mut pending_space);
                continue;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => i = block_comment_end(b, i),
            b'$' => {
                if let Some(tag_len) = dollar_tag(&b[i..]) {
                    let tag = &s[i..i + tag_len];
                    let end = match s[i + tag_len..].find(tag) {
                        Some(end) => i + tag_len + end,
                        None => b.len(),
                    };
                    if dollar_is_code {
                        let inner = normalize(&s[i + tag_len..end], true);
                        let piece = format!("{tag}{inner}{tag}");
                        push(&mut out, &piece, &mut pending_space);
                        i = (end + tag_len).min(b.len());
                        continue;
                    }
                    i = (end + tag_len).min(b.len());
                } else {
                    i += 1;
                }
            }
            _ => {
                if word(c) {
                    while i < b.len() && (word(b[i]) || b[i] == b'$') {
                        i += 1;
                    }
                } else {
                    i += 1;
                }
            }
        }
        push(&mut out, &s[start..i], &mut pending_space);
    }
    out
}

/// The index just past the `*/` that closes the block comment opening at `b[i..]`
/// (`/*`). PostgreSQL nests block comments, so inner `/* */` pairs are skipped; an
/// unclosed comment runs to the end.
pub fn block_comment_end(b: &[u8], i: usize) -> usize {
    let mut depth = 0usize;
    let mut i = i;
    while i < b.len() {
        if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
            depth += 1;
            i += 2;
        } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += 1;
        }
    }
    b.len()
}

/// Length of a dollar-quote opening tag (`$$` or `$tag$`) at the start of `b`.
pub fn dollar_tag(b: &[u8]) -> Option<usize> {
    if b.first() != Some(&b'$') {
        return None;
    }
    let mut j = 1;
    while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_' || b[j] >= 0x80) {
        if j == 1 && b[j].is_ascii_digit() {
            return None;
        }
        j += 1;
    }
    (b.get(j) == Some(&b'$')).then_some(j + 1)
}

/// Maps PostgreSQL's internal and alias type names to the names `format_type` prints, so
/// a snapshot written by hand or by another tool compares equal to an inspected one.
pub fn pg_type(t: &str) -> String {
    let trimmed = t.trim();
    let (base, array) = match trimmed.strip_suffix("[]") {
        Some(b) => (b.trim_end(), "[]"),
        None => (trimmed, ""),
    };
    let (name, mods) = match base.find('(') {
        Some(p) => (base[..p].trim(), &base[p..]),
        None => (base, ""),
    };
    let lower = name.to_ascii_lowercase();
    let canon = match lower.as_str() {
        "int" | "int4" | "integer" => "integer",
        "int2" | "smallint" => "smallint",
        "int8" | "bigint" => "bigint",
        "float4" | "real" => "real",
        "float8" | "double precision" | "float" => "double precision",
        "bool" | "boolean" => "boolean",
        "varchar" | "character varying" => "character varying",
        "char" | "character" | "bpchar" => "character",
        "decimal" | "numeric" => "numeric",
        "timestamptz" | "timestamp with time zone" => "timestamp with time zone",
        "timestamp" | "timestamp without time zone" => "timestamp without time zone",
        "timetz" | "time with time zone" => "time with time zone",
        "time" | "time without time zone" => "time without time zone",
        "varbit" | "bit varying" => "bit varying",
        "serial" | "serial4" => "integer",
        "bigserial" | "serial8" => "bigint",
        "smallserial" | "serial2" => "smallint",
        _ => return trimmed.to_string(),
    };
    // format_type puts the modifier before "with time zone": timestamp(3) with time zone.
    if !mods.is_empty() && canon.contains(" with") {
        let (head, tail) = canon.split_once(" with").unwrap();
        return format!("{head}{} with{tail}{array}", mods.replace(' ', ""));
    }
    format!("{canon}{}{array}", mods.replace(' ', ""))
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
        let b = b"a /* x /* y */ z */ b";
        assert_eq!(block_comment_end(b, 2), b.len() - 2);
        assert_eq!(block_comment_end(b"/* open", 0), 7);
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
    fn type_aliases() {
        assert_eq!(pg_type("int4"), "integer");
        assert_eq!(pg_type("varchar(20)"), "character varying(20)");
        assert_eq!(pg_type("timestamptz(3)"), "timestamp(3) with time zone");
        assert_eq!(pg_type("int8[]"), "bigint[]");
        assert_eq!(pg_type("my_enum"), "my_enum");
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
