//! `lockstep lint`: text with the source line, JSON, GitHub annotations, GitLab Code
//! Quality.

use crate::cli::LintFormat;
use lockstep_engine::core::lint::{Finding, LintFile, Severity};

pub fn print(findings: &[Finding], inputs: &[LintFile], format: LintFormat) -> anyhow::Result<()> {
    match format {
        LintFormat::Json => super::out(&serde_json::to_string_pretty(
            &serde_json::json!({ "findings": findings }),
        )?),
        LintFormat::Github => {
            let mut s = String::new();
            for f in findings {
                let level = match f.severity {
                    Severity::Error => "error",
                    Severity::Warning => "warning",
                    Severity::Info => "notice",
                };
                s.push_str(&format!(
                    "::{level} file={},line={},title={}::{}\n",
                    gh_property(&f.file),
                    f.line,
                    gh_property(&f.rule),
                    gh_data(&format!("{}\nhelp: {}", f.message, f.help)),
                ));
            }
            if s.is_empty() {
                return Ok(());
            }
            super::out(&s)
        }
        LintFormat::Gitlab => {
            // GitLab's Code Quality format: one issue per finding; the fingerprint keeps
            // an unchanged finding the same issue across pipelines.
            let items: Vec<serde_json::Value> = findings
                .iter()
                .map(|f| {
                    let severity = match f.severity {
                        Severity::Error => "major",
                        Severity::Warning => "minor",
                        Severity::Info => "info",
                    };
                    let fingerprint = lockstep_engine::core::migrate::dir::checksum(&format!(
                        "{}:{}:{}",
                        f.rule, f.file, f.message
                    ));
                    serde_json::json!({
                        "description": format!("{}: {} (help: {})", f.rule, f.message, f.help),
                        "check_name": f.rule,
                        "fingerprint": fingerprint,
                        "severity": severity,
                        "location": {"path": f.file, "lines": {"begin": f.line}},
                    })
                })
                .collect();
            super::out(&serde_json::to_string_pretty(&items)?)
        }
        LintFormat::Text => {
            let mut s = String::new();
            for f in findings {
                s.push_str(&format!(
                    "{}:{}: {} {}: {}\n",
                    f.file, f.line, f.severity, f.rule, f.message
                ));
                if let Some(src) = source_line(inputs, f) {
                    s.push_str(&format!("  {:>4} | {src}\n", f.line));
                }
                s.push_str(&format!("  help: {}\n", f.help));
            }
            let errors = findings
                .iter()
                .filter(|f| f.severity == Severity::Error)
                .count();
            s.push_str(&format!(
                "{} file(s) linted: {errors} error(s), {} other finding(s)",
                inputs.len(),
                findings.len() - errors
            ));
            super::out(&s)
        }
    }
}

/// The source line a finding points at, for people.
fn source_line<'a>(inputs: &'a [LintFile], f: &Finding) -> Option<&'a str> {
    let input = inputs.iter().find(|i| i.path == f.file)?;
    let idx = f.line.checked_sub(input.first_line)?;
    let line = input.text.lines().nth(idx)?.trim_end();
    (!line.trim().is_empty()).then_some(line)
}

/// GitHub workflow command escaping: message data.
fn gh_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// GitHub workflow command escaping: property values.
fn gh_property(s: &str) -> String {
    gh_data(s).replace(':', "%3A").replace(',', "%2C")
}
