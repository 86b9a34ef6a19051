//! Live schemas already read in this process, by what they were read from. A fleet is
//! hundreds of databases of one schema: where a dialect can tell in one query that a
//! database's schema is one it has read (SQLite keeps every object as the text of its
//! CREATE statement), it reuses that model instead of running the whole inspection.

use lockstep_core::model::Database;
use std::sync::{Arc, Mutex};

/// At most this many schemas are kept, the most recently read: a fleet's members share
/// a few schemas (the expected one and its drifts), and memory must not grow with the
/// fleet when every member has drifted its own way.
const KEEP: usize = 8;

/// Shared by the connections of one session; safe to use from many tasks at once.
#[derive(Default)]
pub struct SchemaMemo {
    /// (key, model), oldest first. The key is the full text the model was read from, not
    /// a hash of it: two schemas never share a model by a collision.
    read: Mutex<Vec<(String, Arc<Database>)>>,
}

impl SchemaMemo {
    pub fn get(&self, key: &str) -> Option<Arc<Database>> {
        let read = self.read.lock().unwrap_or_else(|e| e.into_inner());
        read.iter().find(|(k, _)| k == key).map(|(_, m)| m.clone())
    }

    pub fn put(&self, key: String, model: Arc<Database>) {
        let mut read = self.read.lock().unwrap_or_else(|e| e.into_inner());
        if read.iter().any(|(k, _)| *k == key) {
            return;
        }
        if read.len() >= KEEP {
            read.remove(0);
        }
        read.push((key, model));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_latest_schemas_only() {
        let memo = SchemaMemo::default();
        for i in 0..KEEP + 2 {
            let mut db = Database::empty(lockstep_core::model::Dialect::Sqlite);
            db.replay_role = Some(i.to_string());
            memo.put(format!("k{i}"), Arc::new(db));
        }
        assert!(memo.get("k0").is_none());
        assert!(memo.get("k1").is_none());
        let last = memo.get(&format!("k{}", KEEP + 1)).expect("kept");
        assert_eq!(last.replay_role, Some((KEEP + 1).to_string()));
        assert_eq!(memo.read.lock().unwrap().len(), KEEP);
    }
}
