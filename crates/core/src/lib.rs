//! lockstep's pure core: the schema model, normalization, diff, and SQL plans per dialect.
//!
//! Architecture invariant: nothing here does I/O. The model knows nothing about
//! connections; the `lockstep-db` crate fills it in.

pub mod dialect;
pub mod diff;
pub mod drift;
#[cfg(any(test, feature = "test-support"))]
pub mod hostile_models;
pub mod lint;
pub mod migrate;
pub mod model;
pub mod normalize;
pub mod plan;
pub mod sql;
