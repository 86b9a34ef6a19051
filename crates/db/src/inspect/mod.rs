//! One file per dialect, each exposing `inspect(conn, url) -> Database`.
//! Each runs a fixed number of catalog queries, whatever the number of objects.

pub mod postgres;
pub mod sqlite;
