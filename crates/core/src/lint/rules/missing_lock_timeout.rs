//! `missing-lock-timeout`: a locking statement with no `SET lock_timeout` before it.

use crate::lint::{hit, qualified_name, skip, Ctx, Hit, Kind, Rule, Severity, Stmt, Tok};

pub const RULE: Rule = Rule {
    id: "missing-lock-timeout",
    severity: Severity::Warning,
    once_per_file: true,
    check,
};

/// Statements the engine's `locked_table` does not cover that still queue for a lock on
/// an existing table: LOCK TABLE, non-concurrent REINDEX, COMMENT ON TABLE | COLUMN, and
/// VACUUM (SHARE UPDATE EXCLUSIVE even without FULL).
fn other_locked(s: &Stmt) -> Option<String> {
    let t = &s.tokens;
    let name_at = |i: usize| qualified_name(t, i).map(|(n, _)| n);
    if s.starts(&["LOCK"]) {
        let i = skip(t, 1, &["TABLE"]);
        return name_at(skip(t, i, &["ONLY"]));
    }
    if s.starts(&["REINDEX"]) {
        let concurrent = t.iter().enumerate().any(|(i, x)| {
            x.is("CONCURRENTLY")
                && !t
                    .get(i + 1)
                    .is_some_and(|v| v.is("FALSE") || v.is("OFF") || v.text == "0")
        });
        if concurrent {
            return None;
        }
        let kind = t.iter().position(|x| x.is("INDEX") || x.is("TABLE"))?;
        return name_at(kind + 1);
    }
    if s.starts(&["COMMENT", "ON", "TABLE"]) {
        return name_at(3);
    }
    if s.starts(&["COMMENT", "ON", "COLUMN"]) {
        // t.c or s.t.c: the table is the part before the column.
        let mut parts = vec![t.get(3)?.ident()?];
        let mut i = 4;
        while t.get(i).is_some_and(|x| x.is_punct(".")) {
            parts.push(t.get(i + 1)?.ident()?);
            i += 2;
        }
        parts.pop();
        return parts.pop();
    }
    if s.starts(&["VACUUM"]) {
        return t
            .iter()
            .skip(1)
            .rev()
            .find(|x| matches!(x.kind, Kind::Word | Kind::Quoted) && !x.is("VACUUM"))
            .filter(|x| !x.is("FULL") && !x.is("ANALYZE") && !x.is("VERBOSE"))
            .and_then(Tok::ident);
    }
    None
}

/// Reported once per file, at the first locking statement.
fn check(s: &Stmt, ctx: &Ctx) -> Vec<Hit> {
    if ctx.lock_timeout_set {
        return vec![];
    }
    let Some(table) = s.locked_table().or_else(|| other_locked(s)) else {
        return vec![];
    };
    if ctx.is_new(&table) {
        return vec![];
    }
    hit(
        format!("this statement waits for a lock on {table} with no lock_timeout: while it waits behind a long query, every later read and write of {table} queues behind it"),
        "put `SET lock_timeout = '2s';` at the top of the migration (and retry the deploy if it times out)",
    )
}

#[cfg(test)]
mod tests {
    use crate::lint::rule_ids;

    fn count(sql: &str) -> usize {
        rule_ids(sql)
            .iter()
            .filter(|r| *r == "missing-lock-timeout")
            .count()
    }

    #[test]
    fn flags_the_first_locking_statement_once() {
        assert_eq!(
            count("ALTER TABLE orders ADD COLUMN a int; ALTER TABLE orders ADD COLUMN b int;"),
            1
        );
        assert_eq!(count("CREATE INDEX i ON orders (a);"), 1);
    }

    #[test]
    fn ignores_files_that_set_it_and_new_tables() {
        assert_eq!(
            count("SET lock_timeout = '2s'; ALTER TABLE orders ADD COLUMN a int;"),
            0
        );
        assert_eq!(
            count("CREATE TABLE t (a int); ALTER TABLE t ADD COLUMN b int;"),
            0
        );
        assert_eq!(count("INSERT INTO orders VALUES (1);"), 0);
    }

    // From squawk's require-timeout-settings cases: these statements queue for a lock too.
    #[test]
    fn flags_lock_reindex_comment_and_vacuum() {
        assert_eq!(count("LOCK TABLE t IN ACCESS SHARE MODE;"), 1);
        assert_eq!(count("REINDEX (CONCURRENTLY false) INDEX idx;"), 1);
        assert_eq!(count("REINDEX INDEX CONCURRENTLY idx;"), 0);
        assert_eq!(count("COMMENT ON COLUMN t.c IS 'an opaque id';"), 1);
        assert_eq!(count("COMMENT ON TABLE t IS 'x';"), 1);
        assert_eq!(count("VACUUM (FULL false) t;"), 1);
        assert_eq!(
            count("CREATE TABLE t (a int); COMMENT ON COLUMN t.a IS 'x';"),
            0
        );
    }
}
