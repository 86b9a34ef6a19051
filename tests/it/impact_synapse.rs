//! Impact on real code: Synapse's Python sources with raw SQL, against a manual `rg`
//! ground truth, scored by file (issue 5, "Impact on real code").
//!
//! The schema change: drop `users.password_hash`, drop
//! `local_media_repository.safe_from_quarantine`, rename `destinations.retry_last_ts` to
//! `retry_last_attempt_ts`. The three names are distinctive (no everyday English word) but
//! used across layers: SQL, storage helpers, handlers, REST.
//!
//! How the ground truth was built (by hand, not from lockstep's output):
//!
//! ```text
//! cd /tmp/corpus/synapse/synapse
//! rg -n -w -i -e password_hash -e safe_from_quarantine -e retry_last_ts .
//! ```
//!
//! 27 files matched; every line was then read. Judgement rules:
//! - `storage/schema/` is Synapse's migrations directory (full schemas and deltas). As
//!   `lockstep impact` leaves the migrations directory out, it is excluded on both sides
//!   (7 files).
//! - A file counts when the name there stands for that table's column or its value: SQL
//!   text, column keys given to the storage helpers (`simple_select_one`, `keyvalues`,
//!   `retcols`, `updatevalues`), row fields mapped from the column (`attrs` classes,
//!   `DestinationRetryTimings.retry_last_ts`), parameters and variables that carry the
//!   column's value down to the store, and admin API fields that expose it. Dropping or
//!   renaming the column means reviewing each of these files.
//! - A file does not count when the same word names something else. One case:
//!   `handlers/ui_auth/__init__.py` defines `PASSWORD_HASH = "password_hash"`, a key of the
//!   UI-auth session data (a value in the `key` column of `ui_auth_sessions_extra`), not
//!   `users.password_hash`.
//! - No file was matched only in a comment.
//!
//! lockstep's prediction: the files with at least one hit of confidence medium or high
//! (a low hit is a bare name in a comment line).

use lockstep_search::{Confidence, Options, Target};
use std::collections::BTreeSet;

const PASSWORD_HASH: &[&str] = &[
    "handlers/auth.py",
    "handlers/register.py",
    "handlers/set_password.py",
    "replication/http/register.py",
    "rest/admin/users.py",
    "rest/client/account.py",
    "rest/client/register.py",
    "storage/databases/main/__init__.py",
    "storage/databases/main/registration.py",
];

const SAFE_FROM_QUARANTINE: &[&str] = &[
    "_scripts/synapse_port_db.py",
    "rest/admin/media.py",
    "storage/databases/main/media_repository.py",
    "storage/databases/main/room.py",
];

const RETRY_LAST_TS: &[&str] = &[
    "federation/sender/per_destination_queue.py",
    "federation/transport/server/_base.py",
    "handlers/user_directory.py",
    "rest/admin/federation.py",
    "storage/databases/main/transactions.py",
    "util/retryutils.py",
];

/// Judged and left out (see the rules above): (target, file).
const NOT_IMPACTED: &[(usize, &str)] = &[(0, "handlers/ui_auth/__init__.py")];

fn target(table: &str, column: &str, new_name: Option<&str>) -> Target {
    Target {
        table: table.into(),
        column: Some(column.into()),
        change: match new_name {
            Some(n) => format!("renamed to {n}"),
            None => "dropped".into(),
        },
        new_name: new_name.map(str::to_string),
    }
}

#[test]
fn impact_on_synapse_matches_a_manual_rg_search_by_file() {
    let Some(root) = crate::support::corpus("synapse/synapse") else {
        return;
    };
    let targets = [
        target("users", "password_hash", None),
        target("local_media_repository", "safe_from_quarantine", None),
        target(
            "destinations",
            "retry_last_ts",
            Some("retry_last_attempt_ts"),
        ),
    ];
    let truth: BTreeSet<(usize, String)> = [PASSWORD_HASH, SAFE_FROM_QUARANTINE, RETRY_LAST_TS]
        .iter()
        .enumerate()
        .flat_map(|(i, files)| files.iter().map(move |f| (i, f.to_string())))
        .collect();
    assert_eq!(truth.len(), 19);

    let hits = lockstep_search::search_with(
        std::slice::from_ref(&root),
        &targets,
        &Options {
            exclude: vec![root.join("storage/schema")],
        },
    );
    let predicted: BTreeSet<(usize, String)> = hits
        .iter()
        .filter(|h| h.confidence >= Confidence::Medium)
        .map(|h| (h.target, lockstep_search::relative(&h.file, &root)))
        .collect();

    let tp = predicted.intersection(&truth).count();
    let precision = tp as f64 / predicted.len().max(1) as f64;
    let recall = tp as f64 / truth.len() as f64;
    for (i, f) in predicted.difference(&truth) {
        let judged = NOT_IMPACTED.iter().any(|(t, g)| t == i && g == f);
        println!(
            "false positive: {} {f} (judged not impacted: {judged})",
            targets[*i].change
        );
    }
    for (i, f) in truth.difference(&predicted) {
        println!("missed: target {i} {f}");
    }
    println!(
        "synapse impact by file: {} predicted, {} true, {tp} correct; precision {precision:.3}, recall {recall:.3}",
        predicted.len(),
        truth.len()
    );
    // Every file lockstep reports is one the manual search saw and judged.
    for p in &predicted {
        assert!(
            truth.contains(p) || NOT_IMPACTED.iter().any(|(t, g)| *t == p.0 && *g == p.1),
            "{p:?} was not in the manual rg search"
        );
    }
    assert!(precision >= 0.95, "precision {precision:.3}");
    assert!(recall >= 0.95, "recall {recall:.3}");
}
