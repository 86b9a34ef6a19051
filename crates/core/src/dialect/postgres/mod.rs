//! PostgreSQL: `plan.rs` alters in place; `types.rs` knows the type aliases; `text.rs` writes constraint bodies.

pub mod plan;
pub mod text;
pub mod types;

pub use plan::*;
