//! Reading SQL text. [`lex`] is the one lexer: every other module that needs to know
//! where a comment, string, quoted name or statement begins and ends goes through it
//! (see ARCHITECTURE.md, "One lexer"). [`split`] cuts a file into statements and reports
//! what it leaves open; [`shapes`] reads a few statement shapes that deploy and impact
//! need; [`parse`] tells whether a statement parses (sqlparser, and the PostgreSQL
//! shapes it lacks).

pub mod lex;
pub mod parse;
pub mod shapes;
pub mod split;

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                rust_files(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }

    /// The one-lexer invariant, checked on the source tree. Every hand-written SQL
    /// scanner lockstep had compared bytes or characters with the ones that open SQL's
    /// comments, strings, quoted names and dollar quotes; outside `core/src/sql/` no
    /// source file may. (Quoting a name or literal for generated SQL uses `replace`, and
    /// whole-line readers of `-- lockstep:` directives use `starts_with`: neither
    /// matches.) `crates/search` is left out: it reads lines of application code, not
    /// SQL.
    #[test]
    fn no_sql_scanner_outside_the_lexer() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let own = root.join("crates/core/src/sql");
        let mut files = vec![];
        for d in ["crates/core/src", "crates/db/src", "src"] {
            rust_files(&root.join(d), &mut files);
        }
        assert!(files.len() > 20, "found only {} files", files.len());
        let mut needles: Vec<String> = ["\\'", "\"", "`", "$", "#", "*", "-", "/"]
            .iter()
            .map(|c| format!("b'{c}'"))
            .collect();
        for c in ["'\\''", "'\"'", "'`'", "'$'"] {
            needles.extend([
                format!("{c} =>"),
                format!("{c} |"),
                format!("{c} if"),
                format!("== {c}"),
                format!("starts_with({c})"),
                format!("find({c})"),
            ]);
        }
        let mut found = vec![];
        // URLs are not SQL: their parser looks at `#`, `-` and quotes for its own reasons.
        let url = root.join("crates/db/src/url.rs");
        for f in files.iter().filter(|f| !f.starts_with(&own) && **f != url) {
            let text = std::fs::read_to_string(f).unwrap();
            for (n, line) in text.lines().enumerate() {
                if let Some(k) = needles.iter().find(|k| line.contains(k.as_str())) {
                    found.push(format!(
                        "{}:{}: `{k}` in {}",
                        f.display(),
                        n + 1,
                        line.trim()
                    ));
                }
            }
        }
        assert!(
            found.is_empty(),
            "SQL text read by hand outside crates/core/src/sql (use sql::lex):\n{}",
            found.join("\n")
        );
    }
}
