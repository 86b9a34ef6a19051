//! The create script applies for a role that is not a superuser (issue 9, item 17).
//!
//! A role with LOGIN CREATEDB owns a database with a few migrations deployed: `rehearse`
//! and `check` pass with that role (the scratch copy is built from the create script,
//! which must not need the ownership of `plpgsql`). A role without CREATEDB gets a hint
//! it can act on: a scratch server where it may create databases, or snapshots written by
//! a role that can.

use crate::harness::{self, exec, expect, pg_value, Project, RoleGuard};
use crate::support::{self, TestPg};

fn role(prefix: &str, attrs: &str) -> RoleGuard {
    let name = support::unique_name(prefix);
    exec(
        &support::pg_admin_url(),
        &format!("CREATE ROLE \"{name}\" WITH LOGIN {attrs}"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    RoleGuard(name)
}

/// A database owned by `owner`, with three migrations of which two are deployed.
fn owned_project(db: &TestPg, owner: &str) -> (Project, String) {
    exec(
        &support::pg_admin_url(),
        &format!("ALTER DATABASE \"{}\" OWNER TO \"{owner}\"", db.name),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let url = harness::url_as(&db.url, owner, &db.name);
    let p = Project::new(&[("dev", &url)]);
    p.migration(
        "20240501000001",
        "users",
        "CREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL UNIQUE);\n\
         COMMENT ON TABLE users IS 'people';\n",
    );
    p.migration(
        "20240501000002",
        "fn",
        "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;\n\
         CREATE VIEW emails AS SELECT email FROM users;\n",
    );
    (p, url)
}

#[test]
fn rehearse_and_check_pass_for_a_createdb_role() {
    // Declared first so that it is dropped last, after the database it owns.
    let owner = role("ls_cdb", "CREATEDB NOSUPERUSER");
    let Some(db) = TestPg::new("role_cdb") else {
        return;
    };
    let (p, url) = owned_project(&db, &owner.0);
    expect(p.path(), &["deploy", "--env", "dev"], 0);
    p.migration(
        "20240501000003",
        "orders",
        "CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint REFERENCES users (id));\n",
    );
    expect(p.path(), &["hash"], 0);
    assert_eq!(
        pg_value(
            &url,
            "SELECT rolsuper::text FROM pg_roles WHERE rolname = current_user"
        ),
        "false"
    );
    let r = expect(p.path(), &["rehearse", "--env", "dev"], 0);
    eprintln!("{}", r.text());
    let r = expect(p.path(), &["check", "--env", "dev"], 0);
    eprintln!("{}", r.text());
}

#[test]
fn a_role_without_createdb_gets_a_hint_it_can_follow() {
    let owner = role("ls_nocdb", "NOCREATEDB NOSUPERUSER");
    let Some(db) = TestPg::new("role_nocdb") else {
        return;
    };
    let (p, _) = owned_project(&db, &owner.0);
    expect(p.path(), &["deploy", "--env", "dev"], 0);
    let r = expect(p.path(), &["rehearse", "--env", "dev"], 2);
    let text = r.text();
    eprintln!("{text}");
    assert!(
        text.contains("permission denied to create database"),
        "{text}"
    );
    assert!(
        text.contains("`scratch`") && text.contains("may create databases"),
        "the hint does not point at a scratch server:\n{text}"
    );
    assert!(
        text.contains("a role that can"),
        "the hint suggests snapshots without saying they need a role that may create databases:\n{text}"
    );
    assert!(
        !text.contains("catalog"),
        "the hint blames catalog permissions:\n{text}"
    );
}
