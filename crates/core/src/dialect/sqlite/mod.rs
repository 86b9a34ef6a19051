//! SQLite: `plan.rs` rebuilds a table the way SQLite's documentation prescribes where ALTER TABLE cannot; `types.rs` writes declared types; `text.rs` reads the stored CREATE text.

pub mod plan;
pub mod text;
pub mod types;

pub use plan::*;
