//! `missing-down`: a migration without a down script. Run by the engine per file.

use crate::lint::{Ctx, Hit, Rule, Severity, Stmt};

pub const RULE: Rule = Rule {
    id: "missing-down",
    severity: Severity::Warning,
    once_per_file: false,
    check,
};

fn check(_: &Stmt, _: &Ctx) -> Vec<Hit> {
    vec![]
}

pub fn hit() -> Hit {
    Hit {
        message: "this migration has no down script, so `lockstep rollback` cannot undo it".into(),
        help: "write the down script next to it (`lockstep new` creates both), or add `-- lockstep:ignore missing-down <reason>` when it cannot be undone".into(),
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::{lint, LintFile};

    fn found(text: &str, has_down: Option<bool>) -> bool {
        let f = LintFile {
            has_down,
            ..LintFile::loose("1_a.up.sql", text)
        };
        lint(&[f]).iter().any(|f| f.rule == "missing-down")
    }

    #[test]
    fn flags_migrations_without_down() {
        assert!(found("CREATE TABLE t (a int);", Some(false)));
    }

    #[test]
    fn ignores_known_downs_unknown_files_and_suppressed() {
        assert!(!found("CREATE TABLE t (a int);", Some(true)));
        assert!(!found("CREATE TABLE t (a int);", None));
        assert!(!found(
            "-- lockstep:ignore missing-down data migration\nCREATE TABLE t (a int);",
            Some(false)
        ));
    }
}
