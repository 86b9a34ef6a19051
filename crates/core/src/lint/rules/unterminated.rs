//! `unterminated`: a block comment, string, quoted name or dollar quote that the file
//! never closes, so it swallows every statement after it. Run by the engine on the
//! splitter's problems; deploy refuses such a file before running anything.

use crate::lint::{Ctx, Hit, Rule, Severity, Stmt};
use crate::sql::lex::Problem;

pub const RULE: Rule = Rule {
    id: "unterminated",
    severity: Severity::Error,
    once_per_file: false,
    check,
};

fn check(_: &Stmt, _: &Ctx) -> Vec<Hit> {
    vec![]
}

/// The finding at the opening that is never closed.
pub fn hit(p: &Problem) -> Hit {
    Hit {
        message: format!("{p}: it runs to the end of the file and swallows the statements after it; deploy refuses this file"),
        help: p.hint().into(),
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::{lint_sql, Severity};

    fn found(sql: &str) -> Vec<(usize, Severity, String)> {
        lint_sql(sql)
            .into_iter()
            .filter(|f| f.rule == "unterminated")
            .map(|f| (f.line, f.severity, f.message))
            .collect()
    }

    #[test]
    fn an_open_comment_is_an_error_at_its_line() {
        let f = found("CREATE TABLE a (x int);\n/* oops\nCREATE TABLE c (z int);\n");
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!((f[0].0, f[0].1), (2, Severity::Error));
        assert!(f[0].2.starts_with("unterminated /* comment"), "{f:?}");
    }

    #[test]
    fn open_strings_names_and_dollar_quotes() {
        for (sql, what) in [
            ("SELECT 'a;\nSELECT 2;", "quoted string"),
            ("SELECT \"a;", "quoted identifier"),
            ("DO $f$ BEGIN END; $g$;", "dollar-quoted string"),
        ] {
            let f = found(sql);
            assert_eq!(f.len(), 1, "{sql}: {f:?}");
            assert!(f[0].2.contains(what), "{sql}: {f:?}");
        }
    }

    #[test]
    fn a_suppression_does_not_hide_it() {
        let f = found("-- lockstep:ignore unterminated it is fine\n/* oops\nSELECT 1;");
        assert_eq!(f.len(), 1);
    }

    #[test]
    fn closed_text_is_quiet() {
        assert!(found("SELECT 'a', \"b\", $$c$$ /* d /* e */ */;").is_empty());
    }
}
