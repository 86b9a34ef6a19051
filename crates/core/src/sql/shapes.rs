//! Statement shapes that more than lint needs, read from the lexer's code tokens: the
//! index a `CREATE | DROP INDEX CONCURRENTLY` builds or drops (for deciding an
//! interrupted one), and the tables and columns a migration drops, renames or retypes
//! (for `impact`).

use super::lex::{self, at, qualified, skip, split_commas, Tok};
use super::split::split;

/// Whether an index statement builds or drops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexOp {
    Create,
    Drop,
}

/// The index of a `CREATE [UNIQUE] INDEX CONCURRENTLY [IF NOT EXISTS] name ...` or a
/// `DROP INDEX CONCURRENTLY [IF EXISTS] [schema.]name`, with PostgreSQL's folding: an
/// unquoted name lowercased, a quoted one exactly as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexTarget {
    pub op: IndexOp,
    pub schema: Option<String>,
    pub name: String,
}

/// The [`IndexTarget`] of `sql`, when it is one of those statements and names its index
/// (an unnamed `CREATE INDEX CONCURRENTLY ON t` has nothing to look up).
pub fn concurrent_index_target(sql: &str) -> Option<IndexTarget> {
    let t = lex::code(sql);
    let (op, i) = if at(&t, 0, &["CREATE", "INDEX", "CONCURRENTLY"]) {
        (IndexOp::Create, skip(&t, 3, &["IF", "NOT", "EXISTS"]))
    } else if at(&t, 0, &["CREATE", "UNIQUE", "INDEX", "CONCURRENTLY"]) {
        (IndexOp::Create, skip(&t, 4, &["IF", "NOT", "EXISTS"]))
    } else if at(&t, 0, &["DROP", "INDEX", "CONCURRENTLY"]) {
        (IndexOp::Drop, skip(&t, 3, &["IF", "EXISTS"]))
    } else {
        return None;
    };
    if op == IndexOp::Create && t.get(i).is_some_and(|x| x.is("ON")) {
        return None;
    }
    let (mut parts, _) = qualified(&t, i)?;
    let name = parts.pop()?;
    match parts.len() {
        0 => Some(IndexTarget {
            op,
            schema: None,
            name,
        }),
        1 => Some(IndexTarget {
            op,
            schema: parts.pop(),
            name,
        }),
        _ => None,
    }
}

/// What a migration does to a table or column that code may still use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Touch {
    Dropped,
    Retyped,
    RenamedTo(String),
}

/// A table (`column: None`) or column a migration drops, renames or retypes. Names are
/// as written, quotes removed; a qualified table keeps its last part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Touched {
    pub table: String,
    pub column: Option<String>,
    pub touch: Touch,
}

/// The tables and columns one migration drops, renames or retypes: DROP TABLE, ALTER
/// TABLE ... DROP COLUMN / RENAME COLUMN / RENAME TO / ALTER COLUMN ... TYPE, and MySQL's
/// MODIFY / CHANGE. A light reading of each statement, for `impact`.
pub fn touched(text: &str) -> Vec<Touched> {
    let mut out = vec![];
    for stmt in split(text).statements {
        let w = lex::code(&stmt.sql);
        if at(&w, 0, &["DROP", "TABLE"]) {
            let mut i = skip(&w, 2, &["IF", "EXISTS"]);
            while let Some((t, next)) = last_name(&w, i) {
                out.push(touch(&t, None, Touch::Dropped));
                if !w.get(next).is_some_and(|p| p.is_punct(",")) {
                    break;
                }
                i = next + 1;
            }
            continue;
        }
        if !at(&w, 0, &["ALTER", "TABLE"]) {
            continue;
        }
        let mut i = 2;
        for k in ["IF", "EXISTS", "ONLY"] {
            i = skip(&w, i, &[k]);
        }
        let Some((table, i)) = last_name(&w, i) else {
            continue;
        };
        for a in split_commas(&w[i..]) {
            out.extend(action(&table, a));
        }
    }
    out
}

/// What one ALTER TABLE action drops, renames or retypes.
fn action(table: &str, a: &[Tok]) -> Option<Touched> {
    let name = |i: usize| a.get(i).and_then(Tok::name);
    let first = a.first()?;
    // `VERB [COLUMN] c`: the index of `c`.
    let col = if a.get(1).is_some_and(|x| x.is("COLUMN")) {
        2
    } else {
        1
    };
    if first.is("DROP") {
        const NOT_COLUMNS: [&str; 8] = [
            "CONSTRAINT",
            "INDEX",
            "KEY",
            "PRIMARY",
            "FOREIGN",
            "CHECK",
            "PARTITION",
            "DEFAULT",
        ];
        if a.get(1).is_some_and(|x| x.is_any(&NOT_COLUMNS)) {
            return None;
        }
        let k = skip(a, col, &["IF", "EXISTS"]);
        return name(k).map(|c| touch(table, Some(c), Touch::Dropped));
    }
    if first.is("RENAME") {
        if a.get(1).is_some_and(|x| x.is_any(&["TO", "AS"])) {
            let (to, _) = last_name(a, 2)?;
            return Some(touch(table, None, Touch::RenamedTo(to)));
        }
        if a.get(1)
            .is_some_and(|x| x.is_any(&["CONSTRAINT", "INDEX", "KEY"]))
        {
            return None;
        }
        let (c, to) = (name(col)?, name(col + 2)?);
        return a[col + 1]
            .is("TO")
            .then(|| touch(table, Some(c), Touch::RenamedTo(to)));
    }
    if first.is("ALTER") {
        let retype = at(a, col + 1, &["TYPE"]) || at(a, col + 1, &["SET", "DATA", "TYPE"]);
        return match retype {
            true => Some(touch(table, Some(name(col)?), Touch::Retyped)),
            false => None,
        };
    }
    if first.is("MODIFY") {
        return Some(touch(table, Some(name(col)?), Touch::Retyped));
    }
    if first.is("CHANGE") {
        let (c, n) = (name(col)?, name(col + 1)?);
        let t = if c.eq_ignore_ascii_case(&n) {
            Touch::Retyped
        } else {
            Touch::RenamedTo(n)
        };
        return Some(touch(table, Some(c), t));
    }
    None
}

fn touch(table: &str, column: Option<String>, touch: Touch) -> Touched {
    Touched {
        table: table.to_string(),
        column,
        touch,
    }
}

/// The last part of a possibly qualified name at `w[i]`, as written, and the index after.
fn last_name(w: &[Tok], mut i: usize) -> Option<(String, usize)> {
    let mut last = w.get(i)?.name()?;
    i += 1;
    while w.get(i).is_some_and(|p| p.is_punct(".")) {
        let Some(n) = w.get(i + 1).and_then(Tok::name) else {
            break;
        };
        last = n;
        i += 2;
    }
    Some((last, i))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(sql: &str) -> Option<(IndexOp, Option<String>, String)> {
        concurrent_index_target(sql).map(|t| (t.op, t.schema, t.name))
    }

    #[test]
    fn concurrent_index_names_are_read_with_quotes_and_schemas() {
        use IndexOp::*;
        let s = |x: &str| Some(x.to_string());
        assert_eq!(
            target("CREATE INDEX CONCURRENTLY idx_a ON t (a)"),
            Some((Create, None, "idx_a".into()))
        );
        assert_eq!(
            target("-- c\ncreate unique index concurrently if not exists \"Big\" on t(a);"),
            Some((Create, None, "Big".into()))
        );
        assert_eq!(
            target("DROP INDEX CONCURRENTLY IF EXISTS s.i"),
            Some((Drop, s("s"), "i".into()))
        );
        assert_eq!(
            target("CREATE INDEX CONCURRENTLY \"big v\" ON big (v)"),
            Some((Create, None, "big v".into()))
        );
        assert_eq!(
            target("DROP INDEX CONCURRENTLY \"My Schema\" . \"a.b\"\"c\""),
            Some((Drop, s("My Schema"), "a.b\"c".into()))
        );
        assert_eq!(
            target("CREATE INDEX CONCURRENTLY /* on */ Idx\n-- x\n ON t (a)"),
            Some((Create, None, "idx".into()))
        );
        // A quoted "on" is a name; the keyword is not.
        assert_eq!(
            target("CREATE INDEX CONCURRENTLY \"on\" ON t (a)"),
            Some((Create, None, "on".into()))
        );
        assert_eq!(target("CREATE INDEX CONCURRENTLY ON t (a)"), None);
        assert_eq!(target("CREATE INDEX i ON t (a)"), None);
        assert_eq!(target("VACUUM t"), None);
        assert_eq!(target("DROP INDEX CONCURRENTLY a.b.c"), None);
    }

    fn d(sql: &str) -> Vec<String> {
        touched(sql)
            .into_iter()
            .map(|t| {
                let what = match &t.column {
                    Some(c) => format!("column {}.{c}", t.table),
                    None => format!("table {}", t.table),
                };
                match t.touch {
                    Touch::Dropped => format!("{what} dropped"),
                    Touch::Retyped => format!("{what} retyped"),
                    Touch::RenamedTo(n) => format!("{what} renamed to {n}"),
                }
            })
            .collect()
    }

    #[test]
    fn touched_finds_drops_renames_and_retypes() {
        assert_eq!(
            d("DROP TABLE IF EXISTS public.old_orders, \"tmp\";\n\
               ALTER TABLE orders DROP COLUMN segment, DROP CONSTRAINT x, ADD COLUMN y int;\n\
               ALTER TABLE ONLY public.orders RENAME COLUMN cust_ref TO customer_ref;\n\
               ALTER TABLE stores RENAME TO shops;\n\
               ALTER TABLE orders ALTER COLUMN total TYPE numeric(12, 2), ALTER COLUMN x SET DEFAULT 1;\n\
               ALTER TABLE t CHANGE a b int, MODIFY c text, DROP d;\n\
               CREATE TABLE z (a int); -- DROP TABLE q;\n\
               INSERT INTO t VALUES ('DROP TABLE w');\n\
               /* ALTER TABLE t DROP COLUMN hidden; */\n\
               ALTER TABLE \"Mixed Case\" DROP COLUMN \"Odd;Name\";"),
            vec![
                "table old_orders dropped",
                "table tmp dropped",
                "column orders.segment dropped",
                "column orders.cust_ref renamed to customer_ref",
                "table stores renamed to shops",
                "column orders.total retyped",
                "column t.a renamed to b",
                "column t.c retyped",
                "column t.d dropped",
                "column Mixed Case.Odd;Name dropped",
            ]
        );
    }
}
