//! `lockstep inspect SOURCE [--format sql|json|text]`.

use crate::cli::InspectFormat;
use crate::config::Config;
use crate::source;
use lockstep_core::diff::diff;
use lockstep_core::model::Database;
use lockstep_core::plan;
use std::process::ExitCode;

pub async fn run(
    src: &str,
    format: InspectFormat,
    config: Option<&Config>,
) -> anyhow::Result<ExitCode> {
    let loaded = source::load(src, config).await?;
    let m = &loaded.model;
    match format {
        InspectFormat::Json => super::out(&serde_json::to_string_pretty(m)?)?,
        InspectFormat::Sql => super::out(&create_script(m))?,
        InspectFormat::Text => {
            let mut s = format!("{} ({} {})\n", loaded.label, m.env.engine, m.env.version);
            for (k, v) in m.counts() {
                s.push_str(&format!("  {k:<12} {v}\n"));
            }
            super::out(&s)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The full create script for a model: the plan from an empty database.
pub fn create_script(m: &Database) -> String {
    let empty = Database::empty(m.dialect);
    let changes = diff(&empty, m);
    plan::plan(&changes, &empty, m).to_sql()
}
