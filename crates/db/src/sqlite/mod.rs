//! SQLite: a dialect folder behind [`crate::driver::Driver`]. Every dialect has the same
//! files (connect, inspect, history, lock, stats, scratch, audit); `dialect!` wires each
//! method to the function of the same name in the file of the same name.

pub mod audit;
pub mod connect;
pub mod history;
pub mod inspect;
pub mod lock;
pub mod scratch;
pub mod stats;

crate::driver::dialect!(Sqlite, sqlx::SqliteConnection, Sqlite, batched_replay: false, scratch_in_memory: true);
