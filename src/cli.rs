//! Command-line arguments.

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "lockstep",
    version,
    about = "Keeps every environment's database in lockstep with the migrations in the repository",
    long_about = "Keeps every environment's database in lockstep with the migrations in the \
repository, and tells a team, before deploy night, what will break.\n\n\
Exit codes: 0 clean, 1 findings (differences), 2 lockstep could not do its job."
)]
pub struct Args {
    /// Path to lockstep.toml (default: found in the working directory or a parent).
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Read a live schema (or a snapshot) and print it as SQL or JSON.
    ///
    /// SOURCE is a database URL (postgres://…, sqlite://PATH), the name of an
    /// environment in lockstep.toml, or a JSON snapshot file.
    Inspect {
        source: String,
        /// sql: a create script that applies to an empty database; json: the model, usable
        /// as a snapshot; text: a summary.
        #[arg(long, value_enum, default_value_t = InspectFormat::Sql)]
        format: InspectFormat,
    },
    /// Compare two sources and print the differences, or the SQL that turns FROM into TO.
    ///
    /// Exits 0 when identical, 1 when different.
    Diff {
        from: String,
        to: String,
        #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
        format: DiffFormat,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq)]
pub enum InspectFormat {
    Sql,
    Json,
    Text,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq)]
pub enum DiffFormat {
    Text,
    Sql,
    Json,
}
