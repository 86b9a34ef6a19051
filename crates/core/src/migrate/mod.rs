//! The migrations directory: versions, layouts, checksums, statement splitting, and the
//! state of an environment computed from its history. Pure: callers hand in file
//! contents and history rows.

pub mod dir;
pub mod split;
pub mod state;
pub mod sum;
pub mod version;

pub use dir::{Layout, Migration, MigrationSet};
pub use version::Version;
