//! PostgreSQL plans. (Being written.)
use super::Plan;
use crate::diff::Change;
use crate::model::Database;

pub fn plan(_changes: &[Change], _from: &Database, _to: &Database) -> Plan {
    Plan::default()
}
