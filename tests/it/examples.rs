//! The README's quick start runs on the committed snapshots in examples/. This keeps
//! them equal to what `lockstep inspect` writes for examples/*.sql today.
//! `LOCKSTEP_UPDATE_SNAPSHOTS=1 cargo test examples` rewrites them.

use crate::support::TestSqlite;
use std::path::Path;

#[test]
fn example_snapshots_are_current() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    for name in ["shop-v1", "shop-v2"] {
        let sql = std::fs::read_to_string(root.join(format!("{name}.sql"))).unwrap();
        let db = TestSqlite::new();
        db.exec(&sql);
        let mut model = db.inspect();
        // The SQLite version is an environment fact of the machine, not of the example.
        model.env.version = "3".into();
        let json = serde_json::to_string_pretty(&model).unwrap() + "\n";
        let path = root.join(format!("{name}.json"));
        if std::env::var("LOCKSTEP_UPDATE_SNAPSHOTS").is_ok_and(|v| v == "1") {
            std::fs::write(&path, &json).unwrap();
            continue;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert_eq!(
            committed,
            json,
            "{} is stale; run LOCKSTEP_UPDATE_SNAPSHOTS=1 cargo test examples",
            path.display()
        );
    }
}
