//! The migrations directory: versions, layouts, checksums, and the state of an
//! environment computed from its history. Pure: callers hand in file contents and history
//! rows. Statements are split by `crate::sql::split`.

pub mod dir;
pub mod state;
pub mod sum;
pub mod version;

pub use dir::{Layout, Migration, MigrationSet};
pub use version::Version;
