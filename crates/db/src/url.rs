//! Database URLs: scheme dispatch and password redaction.

use crate::DbError;
use lockstep_core::model::Dialect;

/// A database URL. Its `Display` and `redacted()` never show the password.
#[derive(Clone)]
pub struct DbUrl {
    raw: String,
    dialect: Dialect,
}

impl std::fmt::Debug for DbUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DbUrl({})", self.redacted())
    }
}

impl std::fmt::Display for DbUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl DbUrl {
    /// Whether `s` looks like a database URL at all (used to tell URLs from env names
    /// and snapshot paths).
    pub fn looks_like_url(s: &str) -> bool {
        let lower = s.to_ascii_lowercase();
        [
            "postgres://",
            "postgresql://",
            "sqlite:",
            "mysql://",
            "mariadb://",
        ]
        .iter()
        .any(|p| lower.starts_with(p))
    }

    pub fn parse(s: &str) -> Result<DbUrl, DbError> {
        let lower = s.to_ascii_lowercase();
        let dialect = if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            Dialect::Postgres
        } else if lower.starts_with("sqlite:") {
            Dialect::Sqlite
        } else if lower.starts_with("mysql://") || lower.starts_with("mariadb://") {
            Dialect::Mysql
        } else {
            return Err(DbError::BadUrl(format!(
                "`{}` is not a database URL\n  hint: use postgres://USER@HOST:PORT/DB or sqlite://PATH",
                redact(s)
            )));
        };
        if dialect == Dialect::Postgres {
            let u = ::url::Url::parse(s).map_err(|e| {
                DbError::BadUrl(format!(
                    "`{}` is not a valid URL: {e}\n  hint: percent-encode special characters in the user and password",
                    redact(s)
                ))
            })?;
            if u.query_pairs()
                .any(|(k, v)| k == SCHEMA_PARAM && v.is_empty())
            {
                return Err(DbError::BadUrl(format!(
                    "`{}` names an empty schema\n  hint: write ?schema=NAME for one schema of the database, or leave the parameter out",
                    redact(s)
                )));
            }
        }
        Ok(DbUrl {
            raw: s.to_string(),
            dialect,
        })
    }

    /// A SQLite URL whose path is resolved against `base` when relative.
    pub fn sqlite_relative_to(s: &str, base: &std::path::Path) -> Result<DbUrl, DbError> {
        let u = DbUrl::parse(s)?;
        if u.dialect != Dialect::Sqlite {
            return Ok(u);
        }
        let path = u.sqlite_path().unwrap_or_default();
        if path == ":memory:" || std::path::Path::new(&path).is_absolute() {
            return Ok(u);
        }
        let abs = base.join(&path);
        DbUrl::parse(&format!("sqlite://{}", abs.display()))
    }

    pub fn raw(&self) -> &str {
        &self.raw
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    pub fn redacted(&self) -> String {
        redact(&self.raw)
    }

    /// For `sqlite://PATH`, `sqlite:PATH` and `sqlite::memory:`: the file path.
    pub fn sqlite_path(&self) -> Option<String> {
        if self.dialect != Dialect::Sqlite {
            return None;
        }
        let rest = &self.raw["sqlite:".len()..];
        let rest = rest.strip_prefix("//").unwrap_or(rest);
        let rest = rest.split('?').next().unwrap_or("");
        if rest == ":memory:" || rest.is_empty() {
            return Some(":memory:".into());
        }
        Some(rest.to_string())
    }

    /// The same server with another database name (PostgreSQL).
    pub fn with_database(&self, db: &str) -> DbUrl {
        match ::url::Url::parse(&self.raw) {
            Ok(mut u) => {
                u.set_path(&format!("/{db}"));
                DbUrl {
                    raw: u.to_string(),
                    dialect: self.dialect,
                }
            }
            Err(_) => self.clone(),
        }
    }

    /// The server this URL points at, without database or password: what scratch work on
    /// it shares. All SQLite scratch work is in memory, so it is one "server".
    pub fn server_identity(&self) -> String {
        if self.dialect == Dialect::Sqlite {
            return "sqlite".into();
        }
        // A replay confined to one schema is read differently (names relative to it),
        // so it is not shared with one that is not.
        let schema = self
            .schema()
            .map(|s| format!("?{SCHEMA_PARAM}={s}"))
            .unwrap_or_default();
        match ::url::Url::parse(&self.raw) {
            Ok(u) => format!(
                "{}://{}@{}:{}{schema}",
                u.scheme(),
                u.username(),
                u.host_str().unwrap_or(""),
                u.port().map(|p| p.to_string()).unwrap_or_default()
            ),
            Err(_) => self.redacted(),
        }
    }

    /// The one schema this URL is confined to (`postgres://…/db?schema=tenant_042`):
    /// schema-per-tenant, where inspection, drift and deploy work within that schema and
    /// lockstep's history lives in it.
    pub fn schema(&self) -> Option<String> {
        if self.dialect != Dialect::Postgres {
            return None;
        }
        let u = ::url::Url::parse(&self.raw).ok()?;
        let found = u
            .query_pairs()
            .find(|(k, _)| k == SCHEMA_PARAM)
            .map(|(_, v)| v.into_owned());
        found
    }

    /// The same URL confined to `schema`, or to none. What the driver is given never has
    /// the parameter (see [`DbUrl::driver_url`]).
    pub fn with_schema(&self, schema: Option<&str>) -> DbUrl {
        let Ok(mut u) = ::url::Url::parse(&self.raw) else {
            return self.clone();
        };
        let rest: Vec<(String, String)> = u
            .query_pairs()
            .filter(|(k, _)| k != SCHEMA_PARAM)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        u.set_query(None);
        if !rest.is_empty() || schema.is_some() {
            let mut q = u.query_pairs_mut();
            for (k, v) in &rest {
                q.append_pair(k, v);
            }
            if let Some(s) = schema {
                q.append_pair(SCHEMA_PARAM, s);
            }
        }
        DbUrl {
            raw: u.to_string(),
            dialect: self.dialect,
        }
    }

    /// The URL the driver connects with: without lockstep's own `schema` parameter,
    /// which no driver knows.
    pub(crate) fn driver_url(&self) -> String {
        if self.schema().is_none() {
            return self.raw.clone();
        }
        self.with_schema(None).raw
    }

    /// The database name in a server URL.
    pub fn database(&self) -> Option<String> {
        ::url::Url::parse(&self.raw)
            .ok()
            .map(|u| u.path().trim_start_matches('/').to_string())
            .filter(|s| !s.is_empty())
    }
}

/// The query parameter that confines a PostgreSQL URL to one schema.
const SCHEMA_PARAM: &str = "schema";

/// What a secret is replaced with.
const MASK: &str = "***";

/// Parameters whose value is a password, in a URL's query (`?password=…`) or a
/// keyword/value connection string (`host=h password=…`). Compared case-insensitively.
const SECRET_PARAMS: [&str; 4] = ["password", "sslpassword", "pass", "pwd"];

/// Masks every password in `text`: the one redaction every output and error path uses.
///
/// It works on any text, not only on one valid URL, because what needs it most is text
/// that merely holds URLs: error messages, a TOML parser's excerpt of a line with two of
/// them, a URL that does not parse. It masks
///
/// - the password in the userinfo of every `scheme://user:password@host` in the text,
///   up to the last `@` on its line before the next URL, so a password holding `@`,
///   `/`, `#`, `?` or `:` unencoded is masked whole;
/// - the value of every `password`, `sslpassword`, `pass` and `pwd` parameter
///   (`?password=…`, `&PWD=…`, `password=…` after a space), up to the next `&name=`,
///   whitespace, or the quote the URL was opened with.
///
/// When it cannot tell a password from what follows it, it masks more, never less:
/// `postgres://h:5432/a and postgres://u@h/b` shows as `postgres://h:***@h/b`.
pub fn redact(text: &str) -> String {
    let mut masked = vec![false; text.len()];
    userinfo_passwords(text, &mut masked);
    secret_params(text, &mut masked);
    let mut out = String::with_capacity(text.len());
    let mut in_mask = false;
    for (i, c) in text.char_indices() {
        if masked[i] {
            if !in_mask {
                out.push_str(MASK);
                in_mask = true;
            }
        } else {
            in_mask = false;
            out.push(c);
        }
    }
    out
}

fn is_scheme_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'.' | b'-')
}

fn is_line_end(b: u8) -> bool {
    matches!(b, b'\n' | b'\r')
}

/// Start offsets of every `scheme://` in `text`: a letter, then scheme characters,
/// not glued to a preceding scheme character.
fn scheme_starts(text: &str) -> Vec<usize> {
    let b = text.as_bytes();
    let mut out = vec![];
    let mut from = 0;
    while let Some(p) = text[from..].find("://") {
        let colon = from + p;
        let mut s = colon;
        while s > 0 && is_scheme_byte(b[s - 1]) {
            s -= 1;
        }
        // A run such as `1postgres` starts at its first letter.
        while s < colon && !b[s].is_ascii_alphabetic() {
            s += 1;
        }
        if s < colon {
            out.push(s);
        }
        from = colon + 3;
    }
    out
}

/// The end of the line `at` is on.
fn line_end(b: &[u8], at: usize) -> usize {
    (at..b.len())
        .find(|&i| is_line_end(b[i]))
        .unwrap_or(b.len())
}

fn userinfo_passwords(text: &str, masked: &mut [bool]) {
    let b = text.as_bytes();
    let starts = scheme_starts(text);
    for (k, &s) in starts.iter().enumerate() {
        let authority = s + text[s..].find("://").unwrap_or(0) + 3;
        let user_end = (authority..b.len())
            .find(|&i| {
                matches!(b[i], b':' | b'@' | b'/' | b'?' | b'#') || b[i].is_ascii_whitespace()
            })
            .unwrap_or(b.len());
        if b.get(user_end) != Some(&b':') {
            continue;
        }
        let pw = user_end + 1;
        let eol = line_end(b, pw);
        // The password ends at the last `@` before the next URL on the line. Without
        // one there, that "next URL" may have been part of the password (which can hold
        // `x://`), so the search goes on to the following ones; when the colon was a
        // port's after all, more is masked than needed, which is the safe side.
        let bounds = starts[k + 1..]
            .iter()
            .copied()
            .filter(|&n| n > pw && n < eol)
            .chain(std::iter::once(eol));
        for bound in bounds {
            if let Some(at) = text[pw..bound].rfind('@') {
                masked[pw..pw + at].iter_mut().for_each(|m| *m = true);
                break;
            }
        }
    }
}

fn secret_params(text: &str, masked: &mut [bool]) {
    let b = text.as_bytes();
    let lower = text.to_ascii_lowercase();
    for name in SECRET_PARAMS {
        let key = format!("{name}=");
        let mut from = 0;
        while let Some(p) = lower[from..].find(&key) {
            let at = from + p;
            from = at + key.len();
            let after_delimiter = at == 0
                || matches!(b[at - 1], b'?' | b'&' | b';')
                || b[at - 1].is_ascii_whitespace();
            if !after_delimiter {
                continue;
            }
            let value = at + key.len();
            let quote = opening_quote(b, at);
            let end = (value..b.len())
                .find(|&i| {
                    b[i].is_ascii_whitespace()
                        || Some(b[i]) == quote
                        || (b[i] == b'&' && starts_param(&b[i + 1..]))
                })
                .unwrap_or(b.len());
            masked[value..end].iter_mut().for_each(|m| *m = true);
        }
    }
}

/// The quote character that opens the whitespace-delimited word holding offset `at`,
/// if the word starts with one: a URL printed as `` `…` `` or `"…"` ends there.
fn opening_quote(b: &[u8], at: usize) -> Option<u8> {
    let start = (0..at)
        .rev()
        .find(|&i| b[i].is_ascii_whitespace())
        .map_or(0, |i| i + 1);
    b.get(start)
        .copied()
        .filter(|c| matches!(c, b'"' | b'\'' | b'`'))
}

/// Whether `rest` starts with `name=`, the next parameter after a password's value.
fn starts_param(rest: &[u8]) -> bool {
    let n = rest
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.'))
        .count();
    n > 0 && rest.get(n) == Some(&b'=')
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn userinfo_passwords_are_masked() {
        assert_eq!(
            redact("postgres://bob:s3cr%40t@db:5432/x?sslmode=require"),
            "postgres://bob:***@db:5432/x?sslmode=require"
        );
        assert_eq!(redact("postgres://bob@db/x"), "postgres://bob@db/x");
        assert_eq!(redact("postgres://a:b:c@h/x"), "postgres://a:***@h/x");
        assert_eq!(redact("postgres://:pw@h/x"), "postgres://:***@h/x");
        assert_eq!(
            redact("mysql://root:pw@127.0.0.1:3306/test"),
            "mysql://root:***@127.0.0.1:3306/test"
        );
        assert_eq!(redact("mariadb://root:pw@h/t"), "mariadb://root:***@h/t");
    }

    #[test]
    fn unencoded_special_characters_in_the_password_are_masked_whole() {
        for pw in [
            "p@ss",
            "a/b",
            "x#y",
            "q?r",
            "c:d",
            "SECRET4/x#y",
            "a@b/c#d?e:f",
            "x://y",
        ] {
            let url = format!("postgres://u:{pw}@h:5432/db");
            assert_eq!(redact(&url), "postgres://u:***@h:5432/db", "{pw}");
        }
    }

    #[test]
    fn password_parameters_are_masked_in_any_case() {
        assert_eq!(
            redact("postgres://u@h/db?password=s3cr3t"),
            "postgres://u@h/db?password=***"
        );
        assert_eq!(
            redact("postgres://u@h/db?sslmode=require&sslpassword=k3y&application_name=x"),
            "postgres://u@h/db?sslmode=require&sslpassword=***&application_name=x"
        );
        assert_eq!(
            redact("mysql://u@h/db?PASSWORD=a&b&ssl-mode=DISABLED"),
            "mysql://u@h/db?PASSWORD=***&ssl-mode=DISABLED"
        );
        assert_eq!(redact("mariadb://u@h/db?Pwd=x"), "mariadb://u@h/db?Pwd=***");
        assert_eq!(redact("sqlite://x.db?pass=x"), "sqlite://x.db?pass=***");
        assert_eq!(
            redact("host=h password=p w user=u"),
            "host=h password=*** w user=u"
        );
        // Not a parameter: a word that merely ends in one.
        assert_eq!(redact("bypassword=x"), "bypassword=x");
    }

    #[test]
    fn every_url_in_a_text_is_masked() {
        let line = r#"1 | env = { a = { url = "postgres://u:one@h/db" }, b = { url = "postgres://u:two/x#y@h/db?password=three" } } junk"#;
        let r = redact(line);
        for s in ["one", "two", "three"] {
            assert!(!r.contains(s), "{s} in {r}");
        }
        assert_eq!(
            r,
            r#"1 | env = { a = { url = "postgres://u:***@h/db" }, b = { url = "postgres://u:***@h/db?password=***" } } junk"#
        );
        assert_eq!(
            redact("could not connect to `postgres://u@h/db?password=pw`: refused"),
            "could not connect to `postgres://u@h/db?password=***`: refused"
        );
    }

    #[test]
    fn text_without_passwords_is_left_alone() {
        for s in [
            "postgres://h:5432/db",
            "postgres://h:5432/db and sqlite://x.db",
            "sqlite::memory:",
            "sqlite:///tmp/x.db",
            "no URL here: a@b, c:d",
        ] {
            assert_eq!(redact(s), s);
        }
    }

    #[test]
    fn urls_that_do_not_parse_are_not_echoed() {
        let e = DbUrl::parse("postgres://postgres:SECRET4/x#y@127.0.0.1:5432/db")
            .expect_err("an unparsable URL");
        let msg = e.to_string();
        assert!(!msg.contains("SECRET4"), "{msg}");
        assert!(
            msg.contains("postgres://postgres:***@127.0.0.1:5432/db"),
            "{msg}"
        );
        let e = DbUrl::parse("postgress://u:pw@h/db").expect_err("not a URL");
        assert!(!e.to_string().contains("pw@"), "{e}");
    }

    #[test]
    fn display_and_debug_never_show_the_password() {
        for raw in [
            "postgresql://u:pw1@h/d",
            "postgres://u@h/d?password=pw1",
            "postgres://u@h/d?sslpassword=pw1",
            "mysql://u:pw1@h/d",
        ] {
            let u = DbUrl::parse(raw).unwrap();
            let shown = format!("{u} {u:?} {}", u.redacted());
            assert!(!shown.contains("pw1"), "{shown}");
            assert!(!format!("{}", u.with_database("x")).contains("pw1"));
        }
    }

    /// Printable ASCII, space included.
    fn password() -> impl Strategy<Value = String> {
        proptest::collection::vec(0x20u8..0x7f, 6..24)
            .prop_map(|v| v.into_iter().map(char::from).collect())
    }

    /// A password as a query parameter's value: printable ASCII without whitespace, which
    /// ends a URL in text, and without `&`, which ends a parameter.
    fn param_password() -> impl Strategy<Value = String> {
        let chars: Vec<char> = (0x21u8..0x7f)
            .map(char::from)
            .filter(|&c| c != '&')
            .collect();
        proptest::collection::vec(proptest::sample::select(chars), 6..24)
            .prop_map(|v| v.into_iter().collect())
    }

    /// Whether the check means anything: the password is not part of the text around it.
    fn distinct(pw: &str, text_without: &str) -> bool {
        !text_without.contains(pw) && !MASK.contains(pw)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn userinfo_passwords_never_show(pw in password(), pw2 in password()) {
            let url = |p: &str| format!("postgres://app:{p}@db.example:5432/shop?sslmode=require");
            prop_assume!(distinct(&pw, &url("")) && distinct(&pw2, &url("")));
            let r = redact(&url(&pw));
            prop_assert!(!r.contains(&pw), "{} -> {}", url(&pw), r);
            let sentence = |a: &str, b: &str| format!(
                "could not connect to {}: refused; also `{}` failed",
                url(a),
                url(b).replace("postgres:", "mysql:")
            );
            prop_assume!(!pw.contains(&pw2) && !pw2.contains(&pw));
            prop_assume!(distinct(&pw, &sentence("", "")) && distinct(&pw2, &sentence("", "")));
            let r = redact(&sentence(&pw, &pw2));
            prop_assert!(!r.contains(&pw) && !r.contains(&pw2), "{} -> {}", sentence(&pw, &pw2), r);
        }

        #[test]
        fn parameter_passwords_never_show(pw in param_password(), pw2 in param_password(), key in 0usize..4) {
            let k = SECRET_PARAMS[key];
            let url = |p: &str| format!("postgres://app@db.example/shop?sslmode=require&{k}={p}");
            prop_assume!(distinct(&pw, &url("")) && distinct(&pw2, &url("")));
            let r = redact(&url(&pw));
            prop_assert!(!r.contains(&pw), "{} -> {}", url(&pw), r);
            let sentence = format!("diff {} {}: failed", url(&pw), url(&pw2).replace("postgres:", "mariadb:"));
            prop_assume!(!pw.contains(&pw2) && !pw2.contains(&pw));
            let r = redact(&sentence);
            prop_assert!(!r.contains(&pw) && !r.contains(&pw2), "{} -> {}", sentence, r);
        }
    }

    #[test]
    fn a_schema_parameter_confines_a_postgres_url() {
        let u =
            DbUrl::parse("postgres://u:pw@h:5432/app?sslmode=disable&schema=tenant_042").unwrap();
        assert_eq!(u.schema().as_deref(), Some("tenant_042"));
        assert_eq!(u.driver_url(), "postgres://u:pw@h:5432/app?sslmode=disable");
        assert_eq!(u.server_identity(), "postgres://u@h:5432?schema=tenant_042");
        let public = u.with_schema(Some("public"));
        assert_eq!(public.schema().as_deref(), Some("public"));
        assert_eq!(
            public.with_database("scratch").schema().as_deref(),
            Some("public")
        );
        assert_eq!(DbUrl::parse("postgres://h/app").unwrap().schema(), None);
        assert_eq!(
            DbUrl::parse("sqlite://x.db?schema=a").unwrap().schema(),
            None
        );
        let e = DbUrl::parse("postgres://h/app?schema=")
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("empty schema"), "{e}");
    }

    #[test]
    fn sqlite_paths() {
        let u = DbUrl::parse("sqlite://dev.db").unwrap();
        assert_eq!(u.sqlite_path().unwrap(), "dev.db");
        let u = DbUrl::parse("sqlite:///tmp/x.db").unwrap();
        assert_eq!(u.sqlite_path().unwrap(), "/tmp/x.db");
        let u = DbUrl::parse("sqlite::memory:").unwrap();
        assert_eq!(u.sqlite_path().unwrap(), ":memory:");
    }
}
