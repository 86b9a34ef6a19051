//! `lockstep.sum`: one line per migration with the checksums of its scripts.

use super::dir::{checksum, MigrationSet};
use super::version::Version;

pub const FILE_NAME: &str = "lockstep.sum";

#[derive(Debug, Clone, PartialEq)]
pub struct SumLine {
    pub version: Version,
    pub up: String,
    pub down: Option<String>,
    pub path: String,
}

pub fn render(set: &MigrationSet) -> String {
    let mut out = String::from(
        "# lockstep.sum: checksums of the migrations in this directory. Commit this file.\n\
         # <version> <sha256 of up> <sha256 of down, or -> <up script>\n",
    );
    for m in &set.migrations {
        out.push_str(&format!(
            "{} {} {} {}\n",
            m.version,
            m.checksum,
            m.down
                .as_ref()
                .map(|d| checksum(&d.text))
                .unwrap_or_else(|| "-".into()),
            m.up.path
        ));
    }
    out
}

/// Parses the file; an unreadable line is an error naming its line number.
pub fn parse(text: &str) -> Result<Vec<SumLine>, String> {
    let mut out = vec![];
    for (i, line) in text.lines().enumerate() {
        let l = line.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let parts: Vec<&str> = l.splitn(4, ' ').collect();
        let version = parts.first().and_then(|v| Version::parse(v));
        match (version, parts.len()) {
            (Some(version), 4) => out.push(SumLine {
                version,
                up: parts[1].to_string(),
                down: (parts[2] != "-").then(|| parts[2].to_string()),
                path: parts[3].to_string(),
            }),
            _ => {
                return Err(format!(
                    "{FILE_NAME}:{}: expected `<version> <up sha256> <down sha256 or -> <path>`",
                    i + 1
                ))
            }
        }
    }
    Ok(out)
}

/// What disagrees between the sum file and the files: one message per migration, each
/// naming the file.
pub fn verify(set: &MigrationSet, lines: &[SumLine]) -> Vec<String> {
    let mut problems = vec![];
    for m in &set.migrations {
        match lines.iter().find(|l| l.version == m.version) {
            None => problems.push(format!(
                "{}: not listed in {FILE_NAME} (a new migration: run `lockstep hash` to add it, then commit the file)",
                m.up.path
            )),
            Some(l) => {
                if l.up != m.checksum {
                    problems.push(format!(
                        "{}: its checksum differs from {FILE_NAME}: the file was edited after the sum was written",
                        m.up.path
                    ));
                }
                let down = m.down.as_ref().map(|d| checksum(&d.text));
                if l.down != down {
                    let path = m.down.as_ref().map(|d| d.path.clone()).unwrap_or_else(|| format!("down script of {}", m.version));
                    problems.push(format!(
                        "{path}: its checksum differs from {FILE_NAME} (edited, added or removed)"
                    ));
                }
            }
        }
    }
    for l in lines {
        if !set.migrations.iter().any(|m| m.version == l.version) {
            problems.push(format!(
                "{}: listed in {FILE_NAME} but missing from the directory",
                l.path
            ));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migrate::dir::{parse as parse_dir, Layout};

    fn set(files: &[(&str, &str)]) -> MigrationSet {
        let f: Vec<(String, Vec<u8>)> = files
            .iter()
            .map(|(p, s)| (p.to_string(), s.as_bytes().to_vec()))
            .collect();
        parse_dir(&f, Layout::Lockstep).unwrap()
    }

    #[test]
    fn round_trip_and_problems() {
        let a = set(&[
            ("1_a.up.sql", "create table a();"),
            ("1_a.down.sql", "drop table a;"),
            ("2_b.up.sql", "x;"),
        ]);
        let lines = parse(&render(&a)).unwrap();
        assert!(verify(&a, &lines).is_empty());
        let crlf = set(&[
            ("1_a.up.sql", "create table a();\r\n"),
            ("1_a.down.sql", "drop table a;"),
            ("2_b.up.sql", "x;"),
        ]);
        let lines_lf = parse(&render(&set(&[
            ("1_a.up.sql", "create table a();\n"),
            ("1_a.down.sql", "drop table a;"),
            ("2_b.up.sql", "x;"),
        ])))
        .unwrap();
        assert!(
            verify(&crlf, &lines_lf).is_empty(),
            "CRLF only is not a change"
        );
        let edited = set(&[
            ("1_a.up.sql", "create table aa();"),
            ("1_a.down.sql", "drop table a;"),
            ("2_b.up.sql", "x;"),
        ]);
        let p = verify(&edited, &lines);
        assert_eq!(p.len(), 1);
        assert!(p[0].starts_with("1_a.up.sql"), "{p:?}");
        assert!(parse("1 abc\n").unwrap_err().contains(":1:"));
    }
}
