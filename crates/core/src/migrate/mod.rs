//! The migrations directory: versions, layouts, checksums and statement splitting.
//! Pure: callers hand in file contents.

pub mod dir;
pub mod split;
pub mod version;

pub use dir::{Layout, Migration, MigrationSet};
pub use version::Version;
