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
            ::url::Url::parse(s).map_err(|e| {
                DbError::BadUrl(format!(
                    "`{}` is not a valid URL: {e}\n  hint: percent-encode special characters in the user and password",
                    redact(s)
                ))
            })?;
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
        match ::url::Url::parse(&self.raw) {
            Ok(u) => format!(
                "{}://{}@{}:{}",
                u.scheme(),
                u.username(),
                u.host_str().unwrap_or(""),
                u.port().map(|p| p.to_string()).unwrap_or_default()
            ),
            Err(_) => self.redacted(),
        }
    }

    /// The database name in a server URL.
    pub fn database(&self) -> Option<String> {
        ::url::Url::parse(&self.raw)
            .ok()
            .map(|u| u.path().trim_start_matches('/').to_string())
            .filter(|s| !s.is_empty())
    }
}

/// Replaces the password in anything URL-shaped with `***`. Works on text that is not a
/// valid URL too, so error messages that echo the input stay safe.
pub fn redact(s: &str) -> String {
    if let Some(scheme_end) = s.find("://") {
        let after = &s[scheme_end + 3..];
        let authority_end = after.find(['/', '?', '#']).unwrap_or(after.len());
        let authority = &after[..authority_end];
        if let Some(at) = authority.rfind('@') {
            let userinfo = &authority[..at];
            if let Some(colon) = userinfo.find(':') {
                return format!(
                    "{}://{}:***{}",
                    &s[..scheme_end],
                    &userinfo[..colon],
                    &after[at..]
                );
            }
        }
    }
    s.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact("postgres://bob:s3cr%40t@db:5432/x?sslmode=require"),
            "postgres://bob:***@db:5432/x?sslmode=require"
        );
        assert_eq!(redact("postgres://bob@db/x"), "postgres://bob@db/x");
        assert_eq!(redact("postgres://a:b:c@h/x"), "postgres://a:***@h/x");
        let u = DbUrl::parse("postgresql://u:pw@h/d").unwrap();
        assert!(!format!("{u} {u:?}").contains("pw"));
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
