//! Every difference between an environment's expected schema and its live one.

use crate::audit::Author;
use crate::error::Result;
use crate::expected::Mode;
use crate::{Session, Target};
use lockstep_core::drift::{drift as compare, DriftItem};
use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};
use std::collections::BTreeMap;

#[derive(Debug, Clone)]
pub struct DriftReport {
    pub env: String,
    /// "snapshot" or "replay".
    pub expected_from: &'static str,
    pub expected_detail: String,
    pub items: Vec<DriftItem>,
    /// The SQL that turns the live schema back into the expected one.
    pub revert_sql: String,
    /// When `lockstep watch` first saw an item, by [`crate::watch::item_key`]; shown as
    /// the item's `first_seen`.
    pub first_seen: BTreeMap<String, String>,
    /// When watch last checked without seeing an item, by item key: the item appeared
    /// between then and its `first_seen`.
    pub seen_after: BTreeMap<String, String>,
    /// Who made each item's change, by item key, where the audit recorded it.
    pub authors: BTreeMap<String, Author>,
    /// Why items name no author (no hook, the audit not installed or unreadable).
    pub audit_note: Option<String>,
}

impl Serialize for DriftReport {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        // An item is its own fields plus `first_seen` where watch knows it, so the
        // existing keys keep their names and order.
        #[derive(Serialize)]
        struct Item<'a> {
            #[serde(flatten)]
            item: &'a DriftItem,
            #[serde(skip_serializing_if = "Option::is_none")]
            first_seen: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            first_seen_after: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            author: Option<&'a Author>,
        }
        let items: Vec<Item> = self
            .items
            .iter()
            .map(|i| Item {
                item: i,
                first_seen: self.first_seen_of(i),
                first_seen_after: self.seen_after_of(i),
                author: self.author_of(i),
            })
            .collect();
        let mut m = s.serialize_struct("DriftReport", 5)?;
        m.serialize_field("env", &self.env)?;
        m.serialize_field("expected_from", &self.expected_from)?;
        m.serialize_field("expected_detail", &self.expected_detail)?;
        m.serialize_field("items", &items)?;
        if let Some(n) = &self.audit_note {
            m.serialize_field("audit_note", n)?;
        }
        m.end()
    }
}

impl DriftReport {
    pub fn is_clean(&self) -> bool {
        self.items.is_empty()
    }

    /// When `lockstep watch` first saw `item`, where it has.
    pub fn first_seen_of(&self, item: &DriftItem) -> Option<&str> {
        self.first_seen
            .get(&crate::watch::item_key(item))
            .map(String::as_str)
    }

    /// When watch last checked without seeing `item`, where it has.
    pub fn seen_after_of(&self, item: &DriftItem) -> Option<&str> {
        self.seen_after
            .get(&crate::watch::item_key(item))
            .map(String::as_str)
    }

    /// Who made `item`'s change, where the audit recorded it.
    pub fn author_of(&self, item: &DriftItem) -> Option<&Author> {
        self.authors.get(&crate::watch::item_key(item))
    }
}

/// Drift of an opened target (its live schema is read once per target).
pub async fn drift_of(s: &Session, t: &mut Target, mode: Option<Mode>) -> Result<DriftReport> {
    let exp = s.expected(t, mode).await?;
    let env = t.env.clone();
    let actual = t.actual().await?;
    let items = compare(&exp.model, actual);
    let revert_sql = if items.is_empty() {
        String::new()
    } else {
        let changes = lockstep_core::diff::diff(actual, &exp.model);
        let sql = lockstep_core::plan::plan(&changes, actual, &exp.model).to_sql();
        // A tenant's model names what is in its schema relative to it, as its
        // migrations do: the fix runs with the schema as the search path, and gives the
        // session it is pasted into its own back.
        match t.url.schema().filter(|_| !sql.trim().is_empty()) {
            Some(schema) => format!(
                "SET search_path TO {};\n{}\nRESET search_path;",
                lockstep_core::plan::ident(&schema),
                sql.trim_end()
            ),
            None => sql,
        }
    };
    Ok(DriftReport {
        env,
        expected_from: exp.from,
        expected_detail: exp.detail,
        items,
        revert_sql,
        first_seen: BTreeMap::new(),
        seen_after: BTreeMap::new(),
        authors: BTreeMap::new(),
        audit_note: None,
    })
}

/// Drift of one environment (or member of a fleet), with each item's `first_seen` where
/// `lockstep watch` has recorded it in the project's state file.
pub async fn drift(
    s: &Session,
    env: &str,
    member: Option<&str>,
    mode: Option<Mode>,
) -> Result<DriftReport> {
    s.env(env)?;
    let mut t = s.open_in(env, member, false).await?;
    let r = drift_of(s, &mut t, mode).await;
    let r = match r {
        Ok(mut r) => {
            (r.authors, r.audit_note) = crate::audit::authors(&mut t, &r.items).await;
            Ok(r)
        }
        Err(e) => Err(e),
    };
    t.close().await;
    let mut r = r?;
    let label = r.env.clone();
    (r.first_seen, r.seen_after) = crate::watch::first_seen(&s.config, &label);
    Ok(r)
}
