//! The engine's one error type.
//!
//! Every message already says what failed, where, and (on a `hint:` line) what to do, so
//! the binary prints it as it is. Context is kept inside the message rather than as an
//! error `source()`: a chain printer would otherwise repeat the cause once per level.

use lockstep_db::DbError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A complete message (what, where, hint).
    #[error("{0}")]
    Msg(String),
    // No `#[from]`: that would make the inner error this one's `source()`, and a chain
    // printer would show its text twice.
    #[error("{}", lockstep_db::url::redact(&.0.to_string()))]
    Db(DbError),
    #[error("{0}")]
    Io(std::io::Error),
    #[error("{0}")]
    Json(serde_json::Error),
    /// `context: inner`, with the inner error's text rendered once.
    #[error("{context}: {inner}")]
    Context { context: String, inner: Box<Error> },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<DbError> for Error {
    fn from(e: DbError) -> Error {
        Error::Db(e)
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Error {
        Error::Io(e)
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Error {
        Error::Json(e)
    }
}

impl Error {
    pub fn msg(s: impl Into<String>) -> Error {
        Error::Msg(s.into())
    }

    /// Whether an I/O error at the bottom of this one is a closed pipe.
    pub fn is_broken_pipe(&self) -> bool {
        match self {
            Error::Io(e) => e.kind() == std::io::ErrorKind::BrokenPipe,
            Error::Context { inner, .. } => inner.is_broken_pipe(),
            _ => false,
        }
    }

    /// The error as shown to people: redacted, on as many lines as its hints need.
    pub fn text(&self) -> String {
        lockstep_db::url::redact(&self.to_string())
    }
}

/// `anyhow`'s `context` for the engine's results.
pub trait Context<T> {
    fn context(self, c: impl Into<String>) -> Result<T>;
    fn with_context<S: Into<String>>(self, f: impl FnOnce() -> S) -> Result<T>;
}

impl<T, E: Into<Error>> Context<T> for std::result::Result<T, E> {
    fn context(self, c: impl Into<String>) -> Result<T> {
        self.map_err(|e| Error::Context {
            context: c.into(),
            inner: Box::new(e.into()),
        })
    }
    fn with_context<S: Into<String>>(self, f: impl FnOnce() -> S) -> Result<T> {
        self.map_err(|e| Error::Context {
            context: f().into(),
            inner: Box::new(e.into()),
        })
    }
}

impl<T> Context<T> for Option<T> {
    fn context(self, c: impl Into<String>) -> Result<T> {
        self.ok_or_else(|| Error::Msg(c.into()))
    }
    fn with_context<S: Into<String>>(self, f: impl FnOnce() -> S) -> Result<T> {
        self.ok_or_else(|| Error::Msg(f().into()))
    }
}

/// Returns early with a formatted [`Error::Msg`].
#[macro_export]
macro_rules! fail {
    ($($arg:tt)*) => {
        return Err($crate::Error::Msg(format!($($arg)*)))
    };
}
