//! MySQL and MariaDB: `plan.rs` with ALGORITHM=INSTANT/INPLACE where the change allows; `types.rs` normalizes what the engines disagree on; `text.rs` reads `SHOW CREATE TABLE`.

pub mod plan;
pub mod text;
pub mod types;

pub use plan::*;
