//! Lint on a MySQL project (issue 12): files are split and parsed as MySQL, and only the
//! rules that hold on MySQL run (docs/mysql.md, "Lint"). No server is needed: lint
//! without `--env` reads files only, and the engine comes from the environments' URLs.

use crate::harness::{expect, Project};
use serde_json::Value;
use std::collections::BTreeSet;

/// MySQL that PostgreSQL's rules misread: a `#` comment with a quote in it, a backslash
/// escape, an index built without CONCURRENTLY, a foreign key without NOT VALID, a NOT
/// NULL column without a default, transaction control.
const MYSQL_ONLY: &str = "# Loyalty: it's the BI team's request
CREATE TABLE `loyalty` (
  `id` int(10) UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  `note` varchar(40) NOT NULL DEFAULT 'it\\'s new'
) ENGINE=InnoDB ROW_FORMAT=DYNAMIC;
CREATE INDEX `loyalty_note` ON `orders` (`note`);
ALTER TABLE `orders` ADD COLUMN `loyalty_id` int(10) UNSIGNED NOT NULL;
ALTER TABLE `orders` ADD CONSTRAINT `orders_loyalty` FOREIGN KEY (`loyalty_id`) REFERENCES `loyalty` (`id`);
ALTER TABLE `orders` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
";

/// What breaks running code on any engine.
const BREAKING: &str = "ALTER TABLE `orders` DROP COLUMN `legacy`;
ALTER TABLE `orders` RENAME COLUMN `total` TO `amount`;
DROP TABLE `old_orders`;
";

fn rules(url: &str) -> BTreeSet<String> {
    let p = Project::new(&[("prod", url)]);
    let m = p.path().join("migrations");
    for (v, name, up) in [("1", "loyalty", MYSQL_ONLY), ("2", "breaking", BREAKING)] {
        std::fs::write(m.join(format!("{v}_{name}.up.sql")), up).unwrap();
        std::fs::write(m.join(format!("{v}_{name}.down.sql")), "SELECT 1;\n").unwrap();
    }
    let r = expect(p.path(), &["lint", "--format", "json"], 1);
    let v: Value = serde_json::from_slice(&r.out.stdout).unwrap();
    eprintln!("{url}: {}", r.text());
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn lint_on_a_mysql_project_has_no_postgresql_only_findings() {
    let mysql = rules("mysql://root@127.0.0.1:3306/shop");
    let want: BTreeSet<String> = ["drop-column", "rename-column", "drop-table"]
        .map(String::from)
        .into();
    assert_eq!(mysql, want);
    // The same files in a PostgreSQL project: PostgreSQL's rules fire (and its lexer
    // reads `it's` in the `#` comment as an open string), so the test can tell.
    let pg = rules("postgres://postgres@127.0.0.1:5432/shop");
    assert!(pg.len() > want.len() && !pg.is_subset(&want), "{pg:?}");
}
