//! `vacuum-full-or-cluster`: VACUUM FULL and CLUSTER rewrite a table under an exclusive lock.

use crate::lint::{hit, Ctx, Hit, Rule, Severity, Stmt};

pub const RULE: Rule = Rule {
    id: "vacuum-full-or-cluster",
    severity: Severity::Error,
    once_per_file: false,
    check,
};

/// `VACUUM FULL ...` or `VACUUM (FULL [TRUE | ON | 1] ...)`, not `VACUUM (FULL FALSE)`.
pub fn is_vacuum_full(s: &Stmt) -> bool {
    if !s.starts(&["VACUUM"]) {
        return false;
    }
    let opts: Vec<_> = s
        .tokens
        .iter()
        .skip(1)
        .take_while(|t| !matches!(t.kind, crate::lint::Kind::Quoted) && !t.is_punct(")"))
        .collect();
    opts.iter().enumerate().any(|(i, t)| {
        t.is("FULL")
            && !opts
                .get(i + 1)
                .is_some_and(|v| v.is("FALSE") || v.is("OFF") || v.text == "0")
    })
}

fn check(s: &Stmt, _ctx: &Ctx) -> Vec<Hit> {
    let what = if is_vacuum_full(s) {
        "VACUUM FULL"
    } else if s.starts(&["CLUSTER"]) {
        "CLUSTER"
    } else {
        return vec![];
    };
    hit(
        format!("{what} rewrites the whole table under an ACCESS EXCLUSIVE lock that blocks all reads and writes until it finishes"),
        "run it outside migrations in a maintenance window, or use pg_repack, which rebuilds the table online; plain VACUUM does not block",
    )
}

#[cfg(test)]
mod tests {
    fn found(sql: &str) -> bool {
        crate::lint::reports(sql, super::RULE.id)
    }

    #[test]
    fn flags_vacuum_full_and_cluster() {
        assert!(found("VACUUM FULL orders;"));
        assert!(found("vacuum (full, analyze) orders;"));
        assert!(found("CLUSTER orders USING orders_pkey;"));
    }

    #[test]
    fn ignores_plain_vacuum() {
        assert!(!found("VACUUM orders;"));
        assert!(!found("VACUUM (ANALYZE) orders;"));
    }

    // From squawk's prefer-repack cases: FULL FALSE turns the rewrite off.
    #[test]
    fn ignores_full_false() {
        assert!(!found("VACUUM (FULL FALSE) orders;"));
        assert!(!found("vacuum (full off, analyze) orders;"));
        assert!(found("VACUUM (FULL TRUE) orders;"));
    }
}
