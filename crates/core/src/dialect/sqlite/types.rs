//! SQLite's declared types as lockstep writes them: a type is free text to SQLite (only
//! its affinity matters), so anything that is not plain words and a size is quoted.

use crate::plan::ident;

/// A declared type as SQLite reports it: the type's words, with quotes removed (`"x y"`
/// is reported as `x y`). Words and a size in parentheses are written as they are;
/// anything else is quoted whole, which SQLite reads back as the same declared type.
pub fn type_sql(t: &str) -> String {
    let (words, size) = match t.find('(') {
        Some(open) => (&t[..open], Some(&t[open..])),
        None => (t, None),
    };
    let words_ok = words.trim_end().split(' ').all(|w| {
        !w.is_empty()
            && w.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_')
            && !w.as_bytes()[0].is_ascii_digit()
    });
    let size_ok = size.is_none_or(|s| {
        s.ends_with(')')
            && s[1..s.len() - 1].split(',').all(|n| {
                let n = n.trim();
                let n = n.strip_prefix(['+', '-']).unwrap_or(n);
                !n.is_empty() && n.bytes().all(|c| c.is_ascii_digit() || c == b'.')
            })
    });
    if words_ok && size_ok {
        t.to_string()
    } else {
        ident(t)
    }
}
