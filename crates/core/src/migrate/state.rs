//! An environment's migration state: what its history says, against the directory.

use super::dir::{Migration, MigrationSet};
use super::version::Version;
use serde::Serialize;
use std::collections::BTreeMap;

/// One row of a history table, as read back.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryRow {
    pub id: i64,
    pub version: Version,
    pub name: String,
    pub checksum: String,
    /// `up`, `down`, `adopt` or `baseline`.
    pub direction: String,
    /// `applied`, `failed`, `aborted` (stopped by the server: a lock timeout, a resource
    /// limit), `rolled_back`, `adopted` or `baselined`.
    pub outcome: String,
    pub started_at: String,
    pub error: Option<String>,
    pub failed_statement: Option<String>,
    pub failed_line: Option<i64>,
    /// The database role that ran it: what a replay's owners are mapped to.
    pub db_role: Option<String>,
    /// The up script's code checksum when it ran (comments and layout left out); None
    /// in rows an older lockstep wrote.
    pub code_checksum: Option<String>,
}

impl HistoryRow {
    pub fn is_applied(&self) -> bool {
        matches!(
            (self.direction.as_str(), self.outcome.as_str()),
            ("up", "applied")
                | ("adopt", "adopted")
                | ("baseline", "baselined")
                | ("down", "failed")
        )
    }
}

/// A checkpointed statement of a no-transaction migration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProgressRow {
    pub version: Version,
    pub statement_no: i64,
    pub statement: String,
    pub line: i64,
    /// `started` or `done`.
    pub state: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Problem {
    /// An applied migration's file changed.
    Edited { version: String, path: String },
    /// An applied migration's file is gone.
    Missing { version: String, name: String },
    /// A pending migration sorts before the newest applied one.
    InsertedBefore {
        version: String,
        path: String,
        newest_applied: String,
    },
    /// The newest run of this migration failed.
    Failed {
        version: String,
        name: String,
        error: String,
        /// The statements of it that ran and stay applied: a migration checkpointed
        /// statement by statement (no transaction, or MySQL) fails part way.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        ran: Vec<i64>,
        /// Then, the version a rollback to undoes them: the newest applied before it.
        #[serde(skip_serializing_if = "String::is_empty")]
        rollback_to: String,
    },
    /// The newest run of this migration was stopped by the server, not by its SQL (a
    /// lock timeout, "out of shared memory"): nothing of it was applied.
    Aborted {
        version: String,
        name: String,
        error: String,
    },
    /// A no-transaction statement was started and never recorded as finished.
    InDoubt {
        version: String,
        statement_no: i64,
        line: i64,
        statement: String,
    },
}

impl Problem {
    /// The problem for people, naming `env` where a command must be run against it.
    pub fn message_for(&self, env: &str) -> String {
        match self {
            Problem::Edited { version, path } => format!(
                "{path}: migration {version} was edited after it was applied\n  hint: restore the file (git checkout) and put the change in a new migration (`lockstep new NAME`); an edit of comments or layout only is accepted once lockstep has recorded the migration's code (deploys since this version do)"
            ),
            Problem::Missing { version, name } => format!(
                "migration {version} ({name}) is applied but its file is missing from the directory\n  hint: restore the file; applied migrations must stay in the repository"
            ),
            Problem::InsertedBefore { version, path, newest_applied } => format!(
                "{path}: migration {version} is new but sorts before {newest_applied}, which is already applied\n  hint: give it a newer version (`lockstep new NAME` makes one) so it runs after what is applied"
            ),
            Problem::Failed { version, name, error, ran, .. } if ran.is_empty() => format!(
                "migration {version} ({name}) failed on its last run: {error}\n  hint: fix the migration (it was never applied) and deploy again"
            ),
            Problem::Failed { version, name, error, ran, rollback_to } => format!(
                "migration {version} ({name}) failed on its last run at statement {}: {error}\n  statements {} of it ran and stay applied\n  hint: fix that statement and deploy again (it resumes there), or undo what ran with the migration's down file: `lockstep rollback --env {env} --to {rollback_to}`",
                ran.iter().max().unwrap_or(&0) + 1,
                statement_list(ran)
            ),
            Problem::Aborted { version, name, error } => format!(
                "migration {version} ({name}) was stopped on its last run by the server, not by its SQL: {error}\n  hint: nothing of it was applied; deal with the cause named above and deploy again"
            ),
            Problem::InDoubt { version, statement_no, line, statement } => format!(
                "migration {version}: statement {statement_no} (line {line}) was started but not recorded as finished: {}\n  hint: check whether it took effect, then run `lockstep deploy --env {env} --resolve done` if it did or `--resolve retry` to run it again",
                one_line(statement)
            ),
        }
    }

    /// Problems that block a deploy. A failed run does not: its changes were rolled back.
    pub fn blocks_deploy(&self) -> bool {
        !matches!(
            self,
            Problem::Failed { .. } | Problem::Aborted { .. } | Problem::InDoubt { .. }
        )
    }
}

/// `1–3` for statements 1, 2, 3; `1, 3` otherwise.
pub fn statement_list(nos: &[i64]) -> String {
    let mut v = nos.to_vec();
    v.sort_unstable();
    match (v.first(), v.last()) {
        (Some(a), Some(b)) if b - a + 1 == v.len() as i64 && a != b => format!("{a}–{b}"),
        _ => v
            .iter()
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// A statement on one line for messages, leading comment lines left out.
pub fn one_line(s: &str) -> String {
    let code: Vec<&str> = s
        .lines()
        .skip_while(|l| l.trim().is_empty() || l.trim_start().starts_with("--"))
        .collect();
    let flat: String = code
        .join(" ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if flat.chars().count() > 120 {
        format!("{}…", flat.chars().take(120).collect::<String>())
    } else {
        flat
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct State<'a> {
    /// Applied versions, ascending.
    pub applied: Vec<Version>,
    #[serde(skip)]
    pub pending: Vec<&'a Migration>,
    pub problems: Vec<Problem>,
    /// Applied migrations whose file changed in comments or layout only (the code is the
    /// one that ran): accepted, and said.
    pub reworded: Vec<(String, String)>,
}

impl State<'_> {
    pub fn current(&self) -> Option<&Version> {
        self.applied.last()
    }
}

/// The newest row per version decides its state.
pub fn latest(rows: &[HistoryRow]) -> BTreeMap<Version, &HistoryRow> {
    let mut m: BTreeMap<Version, &HistoryRow> = BTreeMap::new();
    for r in rows {
        match m.get(&r.version) {
            Some(prev) if prev.id > r.id => {}
            _ => {
                m.insert(r.version.clone(), r);
            }
        }
    }
    m
}

pub fn state<'a>(
    set: &'a MigrationSet,
    rows: &[HistoryRow],
    progress: &[ProgressRow],
) -> State<'a> {
    let latest = latest(rows);
    // A failure is news only until a later run succeeds (a rollback, or a deploy of
    // something else): then it no longer describes the database.
    let last_success = rows
        .iter()
        .filter(|r| r.outcome != "failed")
        .map(|r| r.id)
        .max()
        .unwrap_or(i64::MIN);
    let mut applied = vec![];
    let mut problems = vec![];
    let mut reworded = vec![];
    for (v, r) in &latest {
        if r.is_applied() {
            applied.push(v.clone());
            match set.migrations.iter().find(|m| &m.version == v) {
                None => problems.push(Problem::Missing {
                    version: v.to_string(),
                    name: r.name.clone(),
                }),
                // Adopted rows carry the file's checksum as of adoption.
                Some(m) if m.checksum != r.checksum => {
                    if r.code_checksum.as_deref() == Some(m.code_checksum.as_str()) {
                        reworded.push((v.to_string(), m.up.path.clone()));
                    } else {
                        problems.push(Problem::Edited {
                            version: v.to_string(),
                            path: m.up.path.clone(),
                        })
                    }
                }
                _ => {}
            }
        } else if r.direction == "up" && r.outcome == "failed" && r.id > last_success {
            problems.push(Problem::Failed {
                version: v.to_string(),
                name: r.name.clone(),
                error: r.error.clone().unwrap_or_default(),
                ran: progress
                    .iter()
                    .filter(|p| p.version == *v && p.state == "done")
                    .map(|p| p.statement_no)
                    .collect(),
                rollback_to: latest
                    .iter()
                    .filter(|(w, r)| *w < v && r.is_applied())
                    .map(|(w, _)| w.to_string())
                    .next_back()
                    .unwrap_or_else(|| "0".into()),
            });
        } else if r.direction == "up" && r.outcome == "aborted" {
            problems.push(Problem::Aborted {
                version: v.to_string(),
                name: r.name.clone(),
                error: r.error.clone().unwrap_or_default(),
            });
        }
    }
    let newest = applied.last().cloned();
    let pending: Vec<&Migration> = set
        .migrations
        .iter()
        .filter(|m| !applied.contains(&m.version))
        .collect();
    if let Some(newest) = &newest {
        for m in &pending {
            if &m.version < newest {
                problems.push(Problem::InsertedBefore {
                    version: m.version.to_string(),
                    path: m.up.path.clone(),
                    newest_applied: newest.to_string(),
                });
            }
        }
    }
    for p in progress {
        if p.state == "started" {
            problems.push(Problem::InDoubt {
                version: p.version.to_string(),
                statement_no: p.statement_no,
                line: p.line,
                statement: p.statement.clone(),
            });
        }
    }
    State {
        applied,
        pending,
        problems,
        reworded,
    }
}
