//! Parity across three PostgreSQL databases: dev has an extra index, QA is one version
//! behind, prod has drift (a column, and a new role with a grant).

use crate::cli::lockstep;
use crate::harness::Project;
use crate::support::{unique_name, TestPg};

/// Drops the role after the databases that reference it (declare it first).
struct RoleGuard(String);
impl Drop for RoleGuard {
    fn drop(&mut self) {
        if let Some(pg) = TestPg::new("parity_cleanup") {
            let _ = pg.try_exec(&format!("DROP ROLE IF EXISTS \"{}\"", self.0));
        }
    }
}

#[test]
fn parity_names_the_odd_one_out() {
    let role = unique_name("par_bi");
    let _guard = RoleGuard(role.clone());
    let (Some(dev), Some(qa), Some(prod)) = (
        TestPg::new("par_dev"),
        TestPg::new("par_qa"),
        TestPg::new("par_prod"),
    ) else {
        return;
    };
    let project = Project::new(&[("dev", &dev.url), ("qa", &qa.url), ("prod", &prod.url)]);
    let dir = project.path();
    std::fs::write(
        dir.join("migrations/20260101000000_init.up.sql"),
        "CREATE TABLE customers (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL UNIQUE);\n\
         CREATE TABLE orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, customer_id bigint NOT NULL REFERENCES customers(id), total_cents integer NOT NULL);\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("migrations/20260201000000_placed_at.up.sql"),
        "ALTER TABLE orders ADD COLUMN placed_at timestamptz NOT NULL DEFAULT now();\n",
    )
    .unwrap();
    for (env, to) in [
        ("dev", None),
        ("prod", None),
        ("qa", Some("20260101000000")),
    ] {
        let mut args = vec!["deploy", "--env", env];
        if let Some(t) = to {
            args.extend(["--to", t]);
        }
        let o = lockstep(&args, dir);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    // Before any drift, QA being behind is the only difference.
    let o = lockstep(&["parity", "--format", "json"], dir);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let odd: Vec<&str> = v["differences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["odd_one_out"].as_str().unwrap())
        .collect();
    assert_eq!(odd, ["qa", "qa"], "{v}");
    dev.exec("CREATE INDEX orders_total ON orders (total_cents)");
    prod.exec(&format!(
        "ALTER TABLE customers ADD COLUMN segment text; CREATE ROLE \"{role}\" LOGIN; GRANT SELECT ON customers TO \"{role}\";"
    ));
    let o = lockstep(&["parity"], dir);
    let text = String::from_utf8_lossy(&o.stdout).to_string();
    eprintln!("{text}");
    assert_eq!(o.status.code(), Some(1), "{text}");
    let o = lockstep(&["parity", "--format", "json"], dir);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let diffs: Vec<(String, String)> = v["differences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["fact"].as_str().unwrap().to_string(),
                d["odd_one_out"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want = [
        ("version".to_string(), "qa".to_string()),
        ("pending".into(), "qa".into()),
        ("drift".into(), "dev".into()),
        ("drift".into(), "prod".into()),
        (format!("role {role}"), "prod".into()),
    ];
    assert_eq!(diffs, want, "{text}");
    let envs = v["environments"].as_array().unwrap();
    let drift_of = |name: &str| -> Vec<String> {
        envs.iter().find(|e| e["env"] == name).unwrap()["drift"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(drift_of("dev").len(), 1);
    assert!(drift_of("dev")[0].contains("index public.orders_total"));
    assert_eq!(drift_of("prod").len(), 3, "{:?}", drift_of("prod"));
    assert!(drift_of("qa").is_empty());
}
