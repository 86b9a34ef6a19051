//! Real-world round trips on PostgreSQL.
//!
//! For each schema: load it into a fresh database, inspect it (model A), plan the
//! script that creates A from nothing, run that script on a second fresh database,
//! inspect that (model B), and require that A and B do not differ. Then: no false
//! differences (same SQL twice, the same objects built in another order, a model and
//! its own JSON snapshot), and Lemmy's 233 migrations taken as 232 consecutive pairs,
//! each planned and applied as one script.
//!
//! Every test skips (prints why and passes) when the server or the corpus
//! (`../shared/corpus/get.sh`) is missing, unless `LOCKSTEP_REQUIRE_SERVICES=1`.

use crate::support::{self, TestPg};
use lockstep_core::diff::{diff, diff_with, renames_in_migrations, Change};
use lockstep_core::model::{ConstraintKind, Database, Dialect, QualName};
use lockstep_core::plan::{self, ident, qual, Plan};
use lockstep_db::DbUrl;
use std::collections::BTreeSet;
use std::path::Path;
use std::time::Instant;

// ------------------------------------------------------------------------ helpers

/// A script and the label used to name it in failures.
type Script = (String, String);

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("reading {}: {e}", p.display()))
}

/// The first `limit` changes, one per line, and how many more there are.
fn describe(changes: &[Change], limit: usize) -> String {
    let mut out: Vec<String> = changes
        .iter()
        .take(limit)
        .map(|c| format!("    {}", c.describe()))
        .collect();
    if changes.len() > limit {
        out.push(format!("    ... and {} more", changes.len() - limit));
    }
    out.join("\n")
}

/// Runs each script on `pg` in order; a failure names the script.
fn load(pg: &TestPg, scripts: &[Script]) {
    for (label, sql) in scripts {
        if let Err(e) = pg.try_exec(sql) {
            panic!("loading {label} failed: {e}");
        }
    }
}

/// The plan that creates `model` in an empty database.
pub(crate) fn create_plan(model: &Database) -> Plan {
    let empty = Database::empty(Dialect::Postgres);
    let changes = diff(&empty, model);
    plan::plan(&changes, &empty, model)
}

/// Runs a plan's statements one at a time on a fresh database and names the first
/// that fails, so a failing script points at its statement.
fn locate_failure(plan: &Plan) -> String {
    let Some(pg) = TestPg::new("locate") else {
        return "(no server to locate the failing statement)".into();
    };
    for (i, s) in plan.statements.iter().enumerate() {
        if let Err(e) = pg.try_exec(&s.sql) {
            return format!(
                "statement #{} of {}:\n{}\n  error: {e}",
                i + 1,
                plan.statements.len(),
                s.sql
            );
        }
    }
    "every statement succeeded when run one at a time".into()
}

fn unsupported(plan: &Plan) -> String {
    if plan.unsupported.is_empty() {
        "none".into()
    } else {
        plan.unsupported.join("; ")
    }
}

/// Applies the create plan of `a` (inspected from `src`) to `dst`, inspects it and
/// requires no difference, in the model and in `pg_dump --schema-only` (sorted lines).
fn check_round_trip(label: &str, a: &Database, src: &TestPg, dst: &TestPg) {
    let plan = create_plan(a);
    let sql = plan.to_sql();
    if let Err(e) = dst.try_exec(&sql) {
        panic!(
            "{label}: the create script ({} statements) failed: {e}\n  located: {}\n  unsupported: {}",
            plan.statements.len(),
            locate_failure(&plan),
            unsupported(&plan)
        );
    }
    let b = dst.inspect();
    let changes = diff(a, &b);
    assert!(
        changes.is_empty(),
        "{label}: {} differences between the source and its re-created copy (A → B):\n{}\n  unsupported: {}",
        changes.len(),
        describe(&changes, 200),
        unsupported(&plan)
    );
    if let (Some(da), Some(db)) = (
        support::pg_dump_lines(&src.url),
        support::pg_dump_lines(&dst.url),
    ) {
        let d = support::dump_difference(&da, &db);
        assert!(
            d.is_empty(),
            "{label}: pg_dump --schema-only of the source and of its re-created copy differ in {} lines:\n{}",
            d.len(),
            d.iter().take(60).cloned().collect::<Vec<_>>().join("\n")
        );
        eprintln!("{label}: pg_dump identical ({} lines)", da.len());
    }
    eprintln!(
        "{label}: round trip clean ({} statements, {:?})",
        plan.statements.len(),
        a.counts()
    );
}

/// Loads `scripts` into a fresh database, inspects it, and round-trips the model.
/// Returns model A, or None when the suite is skipped.
fn round_trip(prefix: &str, scripts: &[Script]) -> Option<Database> {
    let src = TestPg::new(prefix)?;
    let dst = TestPg::new(&format!("{prefix}_rt"))?;
    let t = Instant::now();
    load(&src, scripts);
    let a = src.inspect();
    check_round_trip(prefix, &a, &src, &dst);
    eprintln!("{prefix}: {:.1?}", t.elapsed());
    Some(a)
}

/// Constraints that own an index (primary key, unique, exclusion): the model keeps
/// those indexes with their constraint rather than in `indexes`.
fn constraint_indexes(m: &Database) -> usize {
    m.tables
        .values()
        .flat_map(|t| t.constraints.iter())
        .filter(|c| {
            matches!(
                c.kind,
                ConstraintKind::PrimaryKey { .. }
                    | ConstraintKind::Unique { .. }
                    | ConstraintKind::Exclusion { .. }
            )
        })
        .count()
}

fn admin_exec(sql: &str) -> Result<(), lockstep_db::DbError> {
    let admin = DbUrl::parse(&support::pg_admin_url()).unwrap();
    support::rt().block_on(async {
        let mut db = lockstep_db::Db::connect(&admin, false).await?;
        let r = db.execute_script(sql).await;
        db.close().await;
        r
    })
}

// ------------------------------------------------------------------ corpus schemas

#[test]
fn zabbix() {
    let Some(p) = support::corpus("debian/zabbix-schema.pgsql.sql") else {
        return;
    };
    let Some(a) = round_trip("zabbix", &[("zabbix-schema.pgsql.sql".into(), read(&p))]) else {
        return;
    };
    assert_eq!(a.tables.len(), 173, "zabbix tables");
    // 407 indexes in pg_indexes: the stand-alone ones plus those of keys.
    assert_eq!(
        a.indexes.len() + constraint_indexes(&a),
        407,
        "zabbix indexes ({} stand-alone + {} of constraints)",
        a.indexes.len(),
        constraint_indexes(&a)
    );
    let hosts = &a.tables[&QualName::new("public", "hosts")];
    assert!(hosts
        .constraints
        .iter()
        .any(|c| matches!(c.kind, ConstraintKind::PrimaryKey { .. })));
    assert!(hosts.columns.len() > 10);
}

#[test]
fn mediawiki_pg() {
    let Some(p) = support::corpus("debian/mediawiki-tables.postgres.sql") else {
        return;
    };
    let Some(a) = round_trip(
        "mediawiki",
        &[("mediawiki-tables.postgres.sql".into(), read(&p))],
    ) else {
        return;
    };
    assert_eq!(a.tables.len(), 58, "mediawiki tables");
}

#[test]
fn request_tracker() {
    let Some(p) = support::corpus("debian/usr/share/request-tracker5/etc/schema.Pg") else {
        return;
    };
    let Some(a) = round_trip("rt", &[("schema.Pg".into(), read(&p))]) else {
        return;
    };
    assert_eq!(a.tables.len(), 33, "request tracker tables");
}

/// Synapse as Synapse itself builds a new PostgreSQL database
/// (`synapse/storage/prepare_database.py`):
///
/// 1. `common/schema_version.sql` (`_get_or_create_schema_state` runs it first). It
///    holds Synapse's 4 bookkeeping tables (`schema_version`, `schema_compat_version`,
///    `applied_schema_deltas`, `applied_module_schemas`); the corpus README's 172
///    tables leave them out, so the count here is 176.
/// 2. The full v72 schemas of `common`, `main` and `state`, sorted by (file name,
///    path), keeping `*.sql` and `*.sql.postgres`.
/// 3. For each version 73..=94, the delta files of `common/delta/<v>`,
///    `main/delta/<v>` and `state/delta/<v>` together, sorted by file name (Synapse
///    sorts across directories), keeping `*.sql` and `*.sql.postgres` and skipping
///    `*.sql.sqlite` (SQLite only). That is 123 SQL deltas.
///
/// Skipped: the `.py` deltas, which need Synapse's Python runtime. On a new database
/// Synapse runs their `run_create`; on PostgreSQL three of them change the schema and
/// their effect is therefore absent here: 74/04 (the `check_event_stream_ordering`
/// trigger function and triggers on the membership tables), 79/04 (re-creates the
/// `event_stream_ordering_fkey` foreign keys as NOT VALID) and 93/04 (turns
/// `delayed_events.content` into TEXT). 73/10, 78/03 and 78/04 touch SQLite only.
///
/// Each file is one script, with `$%AUTO_INCREMENT_PRIMARY_KEY%$` replaced as
/// Synapse's PostgreSQL engine does.
pub(crate) fn synapse_scripts(root: &Path) -> Vec<Script> {
    let keep = |f: &str| f.ends_with(".sql") || f.ends_with(".sql.postgres");
    let fix = |s: String| {
        s.replace(
            "$%AUTO_INCREMENT_PRIMARY_KEY%$",
            "BIGINT PRIMARY KEY GENERATED ALWAYS AS IDENTITY",
        )
    };
    let mut out = vec![(
        "common/schema_version.sql".to_string(),
        fix(read(&root.join("common/schema_version.sql"))),
    )];
    let listing = |dirs: &[String]| -> Vec<(String, String)> {
        // (file name, relative path), sorted as Synapse sorts `_DirectoryListing`.
        let mut entries = vec![];
        for d in dirs {
            let Ok(rd) = std::fs::read_dir(root.join(d)) else {
                continue;
            };
            for e in rd {
                let name = e.unwrap().file_name().to_string_lossy().into_owned();
                if keep(&name) {
                    entries.push((name.clone(), format!("{d}/{name}")));
                }
            }
        }
        entries.sort();
        entries
    };
    let stores = ["common", "main", "state"];
    let full: Vec<String> = stores
        .iter()
        .map(|s| format!("{s}/full_schemas/72"))
        .collect();
    for (_, rel) in listing(&full) {
        out.push((rel.clone(), fix(read(&root.join(&rel)))));
    }
    for v in 73..=94 {
        let dirs: Vec<String> = stores.iter().map(|s| format!("{s}/delta/{v}")).collect();
        for (_, rel) in listing(&dirs) {
            out.push((rel.clone(), fix(read(&root.join(&rel)))));
        }
    }
    out
}

#[test]
fn synapse() {
    let Some(root) = support::corpus("synapse/synapse/storage/schema") else {
        return;
    };
    let scripts = synapse_scripts(&root);
    let deltas = scripts
        .iter()
        .filter(|(l, _)| l.contains("/delta/"))
        .count();
    assert_eq!(deltas, 123, "synapse SQL deltas 73..=94 for PostgreSQL");
    let Some(a) = round_trip("synapse", &scripts) else {
        return;
    };
    // 172 from the full schema and deltas, plus the 4 of schema_version.sql.
    assert_eq!(a.tables.len(), 176, "synapse tables");
}

/// Lemmy's migrations, in directory-name order: (directory name, up.sql).
/// Lemmy's migration directories (those with an up.sql), in order.
pub fn lemmy_dirs(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.path().join("up.sql").exists())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn lemmy_migrations(dir: &Path) -> Vec<Script> {
    lemmy_dirs(dir)
        .into_iter()
        .map(|n| {
            let sql = read(&dir.join(&n).join("up.sql"));
            (n, sql)
        })
        .collect()
}

#[test]
fn lemmy() {
    let Some(dir) = support::corpus("lemmy-0.19.21/migrations") else {
        return;
    };
    let migs = lemmy_migrations(&dir);
    assert_eq!(migs.len(), 233, "lemmy migrations");
    let Some(a) = round_trip("lemmy", &migs) else {
        return;
    };
    assert_eq!(a.tables.len(), 74, "lemmy tables");
    assert_eq!(
        a.indexes.len() + constraint_indexes(&a),
        196,
        "lemmy indexes ({} stand-alone + {} of constraints)",
        a.indexes.len(),
        constraint_indexes(&a)
    );
}

// ------------------------------------------------------------------ the rich schema

/// What the corpus lacks: partitions, domains, enum/composite/range types, views on
/// views, a materialized view with an index, RLS, exclusion constraints, grants to
/// several roles, identity and generated columns, deferrable foreign keys, partial,
/// expression and INCLUDE indexes, an unlogged table, inheritance, a trigger, a
/// procedure, an owned sequence, comments, an extension and NULLS NOT DISTINCT.
/// `@R1@`, `@R2@`, `@R3@` are replaced by the test's roles.
const RICH: &str = r#"
CREATE EXTENSION IF NOT EXISTS citext;
CREATE SCHEMA app;
COMMENT ON SCHEMA app IS 'application objects';
GRANT USAGE ON SCHEMA app TO @R1@, @R2@, @R3@;

CREATE TYPE app.mood AS ENUM ('sad', 'ok', 'happy');
COMMENT ON TYPE app.mood IS 'how an account feels';
CREATE DOMAIN app.positive_int AS integer NOT NULL DEFAULT 1
    CONSTRAINT positive_int_check CHECK (VALUE > 0);
COMMENT ON DOMAIN app.positive_int IS 'strictly positive';
CREATE DOMAIN app.email AS citext
    CONSTRAINT email_has_at CHECK (VALUE ~ '@')
    CONSTRAINT email_short CHECK (length(VALUE::text) < 255);
CREATE TYPE app.address AS (street text, city text COLLATE "C", zip varchar(10));
COMMENT ON TYPE app.address IS 'postal address';
CREATE TYPE app.floatrange AS RANGE (subtype = float8, subtype_diff = float8mi);
GRANT USAGE ON TYPE app.mood TO @R3@;

CREATE TABLE app.account (
    id bigint GENERATED ALWAYS AS IDENTITY (START WITH 100 INCREMENT BY 5) PRIMARY KEY,
    email app.email NOT NULL,
    handle citext,
    mood app.mood DEFAULT 'ok',
    home app.address,
    score app.positive_int,
    first_name text,
    last_name text COLLATE "C",
    full_name text GENERATED ALWAYS AS (coalesce(first_name, '') || ' ' || coalesce(last_name, '')) STORED,
    tags text[] NOT NULL DEFAULT '{}',
    weight app.floatrange,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT account_email_key UNIQUE (email),
    CONSTRAINT account_handle_key UNIQUE NULLS NOT DISTINCT (handle)
);
COMMENT ON TABLE app.account IS 'people who log in';
COMMENT ON COLUMN app.account.email IS 'login address';
COMMENT ON COLUMN app.account.full_name IS 'derived';
COMMENT ON CONSTRAINT account_email_key ON app.account IS 'one account per address';
CREATE INDEX account_lower_handle_idx ON app.account (lower(handle::text));
CREATE INDEX account_tags_idx ON app.account USING gin (tags);
COMMENT ON INDEX app.account_tags_idx IS 'tag search';

CREATE TABLE app.team (
    id integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    name text NOT NULL,
    owner_id bigint REFERENCES app.account (id) ON DELETE SET NULL ON UPDATE CASCADE,
    updated_at timestamptz,
    CONSTRAINT team_name_check CHECK (char_length(name) BETWEEN 1 AND 100)
);
COMMENT ON COLUMN app.team.owner_id IS 'may be empty';

CREATE TABLE app.membership (
    account_id bigint NOT NULL REFERENCES app.account (id) ON DELETE CASCADE ON UPDATE RESTRICT DEFERRABLE INITIALLY DEFERRED,
    team_id integer NOT NULL,
    role text NOT NULL DEFAULT 'member',
    since date,
    CONSTRAINT membership_pkey PRIMARY KEY (account_id, team_id) INCLUDE (role)
);
ALTER TABLE app.membership ADD CONSTRAINT membership_team_fk FOREIGN KEY (team_id)
    REFERENCES app.team (id) MATCH FULL ON DELETE RESTRICT DEFERRABLE INITIALLY IMMEDIATE;

CREATE SEQUENCE app.invoice_no_seq AS integer START WITH 1000 INCREMENT BY 10
    MINVALUE 1000 MAXVALUE 999999 CACHE 1 CYCLE;
COMMENT ON SEQUENCE app.invoice_no_seq IS 'invoice numbers';
CREATE TABLE app.invoice (
    no integer NOT NULL DEFAULT nextval('app.invoice_no_seq'::regclass) PRIMARY KEY,
    account_id bigint NOT NULL,
    total numeric(12,2) NOT NULL CHECK (total >= 0),
    issued_on date NOT NULL DEFAULT CURRENT_DATE,
    status text NOT NULL DEFAULT 'draft'
);
ALTER SEQUENCE app.invoice_no_seq OWNED BY app.invoice.no;
ALTER TABLE app.invoice ADD CONSTRAINT invoice_account_fk FOREIGN KEY (account_id)
    REFERENCES app.account (id) ON DELETE NO ACTION DEFERRABLE;
CREATE INDEX invoice_open_idx ON app.invoice (issued_on) WHERE status <> 'paid';
CREATE UNIQUE INDEX invoice_account_day_idx ON app.invoice (account_id, issued_on DESC) INCLUDE (total);
ALTER TABLE app.invoice ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.invoice FORCE ROW LEVEL SECURITY;
CREATE POLICY invoice_owner ON app.invoice FOR SELECT TO @R1@, @R2@
    USING (account_id = current_setting('app.account_id')::bigint);
CREATE POLICY invoice_paid_frozen ON app.invoice AS RESTRICTIVE FOR UPDATE TO @R2@
    USING (status <> 'paid') WITH CHECK (total >= 0);
CREATE POLICY invoice_new_draft ON app.invoice FOR INSERT WITH CHECK (status = 'draft');

-- Range partitions with a default partition; a key, an index and a foreign key on the parent.
CREATE TABLE app.event (
    id bigint NOT NULL,
    occurred_at timestamptz NOT NULL,
    account_id bigint REFERENCES app.account (id),
    payload jsonb,
    PRIMARY KEY (id, occurred_at)
) PARTITION BY RANGE (occurred_at);
CREATE TABLE app.event_2024 PARTITION OF app.event
    FOR VALUES FROM ('2024-01-01 00:00:00+00') TO ('2025-01-01 00:00:00+00');
CREATE TABLE app.event_2025 PARTITION OF app.event
    FOR VALUES FROM ('2025-01-01 00:00:00+00') TO ('2026-01-01 00:00:00+00');
CREATE TABLE app.event_default PARTITION OF app.event DEFAULT;
CREATE INDEX event_account_idx ON app.event (account_id);
CREATE INDEX event_payload_idx ON app.event USING gin (payload jsonb_path_ops);
COMMENT ON TABLE app.event IS 'partitioned by time';

-- List partitions.
CREATE TABLE app.region_sales (
    region text NOT NULL,
    amount numeric(12,2) NOT NULL DEFAULT 0,
    sold_on date
) PARTITION BY LIST (region);
CREATE TABLE app.region_sales_eu PARTITION OF app.region_sales FOR VALUES IN ('de', 'fr', 'it');
CREATE TABLE app.region_sales_us PARTITION OF app.region_sales FOR VALUES IN ('us');

-- Exclusion constraint.
CREATE TABLE app.booking (
    id serial PRIMARY KEY,
    room text NOT NULL,
    during tsrange NOT NULL,
    CONSTRAINT booking_no_overlap EXCLUDE USING gist (during WITH &&)
);
COMMENT ON CONSTRAINT booking_no_overlap ON app.booking IS 'no double booking';

-- Unlogged table with storage options, owned by another role.
CREATE UNLOGGED TABLE app.session_cache (
    key text PRIMARY KEY,
    value bytea,
    expires_at timestamptz
) WITH (fillfactor = 70);
ALTER TABLE app.session_cache OWNER TO @R3@;

-- Inheritance.
CREATE TABLE app.vehicle (
    id integer PRIMARY KEY,
    name text NOT NULL,
    CONSTRAINT vehicle_name_len CHECK (length(name) > 0)
);
CREATE TABLE app.car (doors integer NOT NULL DEFAULT 4) INHERITS (app.vehicle);
CREATE TABLE app.truck (
    payload_kg integer,
    CONSTRAINT truck_payload_check CHECK (payload_kg > 0) NO INHERIT
) INHERITS (app.vehicle);

-- Functions, a procedure and a trigger.
CREATE FUNCTION app.touch_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION app.touch_updated() IS 'sets updated_at';
CREATE TRIGGER team_touch BEFORE UPDATE ON app.team
    FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION app.touch_updated();
COMMENT ON TRIGGER team_touch ON app.team IS 'keeps updated_at fresh';
CREATE FUNCTION app.account_count(min_score integer DEFAULT 0) RETURNS bigint
    LANGUAGE sql STABLE STRICT AS $$ SELECT count(*) FROM app.account WHERE score >= min_score $$;
REVOKE EXECUTE ON FUNCTION app.account_count(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.account_count(integer) TO @R1@;
CREATE PROCEDURE app.close_invoices(p_before date) LANGUAGE sql AS $$
    UPDATE app.invoice SET status = 'closed' WHERE issued_on < p_before
$$;
COMMENT ON PROCEDURE app.close_invoices(date) IS 'month end';

-- Views on views, a materialized view with an index.
CREATE VIEW app.active_accounts AS
    SELECT id, email, mood, score FROM app.account WHERE mood <> 'sad';
CREATE VIEW app.happy_accounts AS
    SELECT id, email, mood FROM app.active_accounts WHERE mood = 'happy'
    WITH CASCADED CHECK OPTION;
CREATE VIEW app.account_teams WITH (security_barrier = true) AS
    SELECT a.id, a.email, count(m.team_id) AS teams
    FROM app.active_accounts a LEFT JOIN app.membership m ON m.account_id = a.id
    GROUP BY a.id, a.email;
COMMENT ON VIEW app.account_teams IS 'teams per active account';
COMMENT ON COLUMN app.account_teams.teams IS 'number of teams';
CREATE MATERIALIZED VIEW app.team_sizes AS
    SELECT t.id, t.name, count(m.account_id) AS members
    FROM app.team t LEFT JOIN app.membership m ON m.team_id = t.id
    GROUP BY t.id, t.name;
CREATE UNIQUE INDEX team_sizes_id_idx ON app.team_sizes (id);
COMMENT ON MATERIALIZED VIEW app.team_sizes IS 'refreshed nightly';

-- A table in public.
CREATE TABLE public.setting (
    key varchar(64) PRIMARY KEY,
    value text,
    updated_by bigint REFERENCES app.account (id) ON DELETE SET DEFAULT DEFERRABLE INITIALLY DEFERRED
);

-- Grants: table, column, sequence, with grant option, and a revoke from PUBLIC.
GRANT SELECT ON app.account, app.team TO @R1@;
GRANT SELECT, INSERT ON app.invoice TO @R2@ WITH GRANT OPTION;
GRANT UPDATE (status) ON app.invoice TO @R2@;
GRANT SELECT (id, name), UPDATE (name) ON app.team TO @R3@;
GRANT SELECT ON app.active_accounts, app.team_sizes TO @R3@;
GRANT USAGE, SELECT ON SEQUENCE app.invoice_no_seq TO @R2@;
GRANT ALL ON TABLE public.setting TO @R1@;
REVOKE ALL ON TABLE app.booking FROM PUBLIC;
"#;

/// Three uniquely named roles for one test, and the databases that use them. On drop
/// (also when the test panics): `DROP OWNED BY` in each database, the databases, then
/// the roles.
struct RoleGuard {
    roles: Vec<String>,
    dbs: Vec<TestPg>,
}

impl RoleGuard {
    /// Creates `n_dbs` databases and the roles (`@R3@` is a member of `@R1@`).
    fn new(prefix: &str, n_dbs: usize) -> Option<RoleGuard> {
        let mut dbs = vec![];
        for i in 0..n_dbs {
            dbs.push(TestPg::new(&format!("{prefix}{i}"))?);
        }
        let mut g = RoleGuard { roles: vec![], dbs };
        for i in 1..=3 {
            let r = support::unique_name(&format!("lsr{i}"));
            admin_exec(&format!("CREATE ROLE {} NOLOGIN", ident(&r)))
                .unwrap_or_else(|e| panic!("creating role {r}: {e}"));
            g.roles.push(r);
        }
        admin_exec(&format!(
            "GRANT {} TO {}",
            ident(&g.roles[0]),
            ident(&g.roles[2])
        ))
        .unwrap();
        Some(g)
    }

    fn sql(&self, template: &str) -> String {
        let mut s = template.to_string();
        for (i, r) in self.roles.iter().enumerate() {
            s = s.replace(&format!("@R{}@", i + 1), &ident(r));
        }
        s
    }
}

impl Drop for RoleGuard {
    fn drop(&mut self) {
        if self.roles.is_empty() {
            return;
        }
        let owned = self
            .roles
            .iter()
            .map(|r| ident(r))
            .collect::<Vec<_>>()
            .join(", ");
        for db in &self.dbs {
            let _ = db.try_exec(&format!("DROP OWNED BY {owned}"));
        }
        self.dbs.clear();
        for r in &self.roles {
            let _ = admin_exec(&format!("DROP ROLE IF EXISTS {}", ident(r)));
        }
    }
}

#[test]
fn rich() {
    let Some(g) = RoleGuard::new("rich", 2) else {
        return;
    };
    let (src, dst) = (&g.dbs[0], &g.dbs[1]);
    src.exec(&g.sql(RICH));
    let a = src.inspect();
    // The schema must have been read, or the round trip proves nothing.
    let app_tables = a.tables.keys().filter(|k| k.schema == "app").count();
    assert_eq!(app_tables, 16, "rich: tables in app: {:?}", a.tables.keys());
    assert_eq!(a.views.len(), 4, "rich: views and materialized views");
    for r in &g.roles {
        assert!(
            a.roles.contains_key(r),
            "rich: role {r} missing from the model"
        );
    }
    check_round_trip("rich", &a, src, dst);
}

// ------------------------------------------------------------ no false differences

#[test]
fn same_sql_twice_is_identical() {
    let Some(g) = RoleGuard::new("twice", 2) else {
        return;
    };
    let sql = g.sql(RICH);
    g.dbs[0].exec(&sql);
    g.dbs[1].exec(&sql);
    let (a, b) = (g.dbs[0].inspect(), g.dbs[1].inspect());
    assert!(!a.tables.is_empty(), "nothing was inspected");
    let changes = diff(&a, &b);
    assert!(
        changes.is_empty(),
        "the same SQL run twice gives {} differences:\n{}",
        changes.len(),
        describe(&changes, 100)
    );
    let back = diff(&b, &a);
    assert!(back.is_empty(), "reverse: {}", describe(&back, 100));
}

/// The same objects, written the usual way.
const ORDER_A: &str = r#"
CREATE TYPE color AS ENUM ('red', 'green', 'blue');
CREATE TABLE owner_t (
    id serial PRIMARY KEY,
    name varchar(20) NOT NULL UNIQUE,
    born timestamptz DEFAULT now(),
    CONSTRAINT owner_t_name_check CHECK (name <> '')
);
CREATE TABLE pet (
    id integer PRIMARY KEY,
    owner_id integer REFERENCES owner_t (id) ON DELETE CASCADE,
    kind text NOT NULL DEFAULT 'cat',
    fur color,
    weight numeric(5,2) CHECK (weight > 0),
    CONSTRAINT pet_owner_kind_key UNIQUE (owner_id, kind)
);
CREATE INDEX pet_kind_idx ON pet (kind);
CREATE INDEX pet_heavy_idx ON pet (weight) WHERE weight > 10;
CREATE INDEX owner_lower_name_idx ON owner_t (lower(name));
CREATE TABLE log (
    at timestamptz NOT NULL,
    pet_id integer REFERENCES pet (id),
    note text
) PARTITION BY RANGE (at);
CREATE TABLE log_2024 PARTITION OF log FOR VALUES FROM ('2024-01-01 00:00:00+00') TO ('2025-01-01 00:00:00+00');
CREATE TABLE log_2025 PARTITION OF log FOR VALUES FROM ('2025-01-01 00:00:00+00') TO ('2026-01-01 00:00:00+00');
CREATE INDEX log_pet_idx ON log (pet_id);
CREATE FUNCTION pet_count(o integer) RETURNS bigint LANGUAGE sql STABLE AS $$ SELECT count(*) FROM pet WHERE owner_id = o $$;
CREATE FUNCTION heavy(w numeric) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT w > 10 $$;
CREATE VIEW heavy_pets AS SELECT id, owner_id, weight FROM pet WHERE weight > 10;
CREATE VIEW heavy_owners AS SELECT DISTINCT owner_id FROM heavy_pets;
COMMENT ON TABLE pet IS 'pets';
COMMENT ON COLUMN pet.kind IS 'species';
COMMENT ON VIEW heavy_pets IS 'over ten';
GRANT SELECT, INSERT, UPDATE ON pet TO PUBLIC;
GRANT SELECT ON heavy_pets TO PUBLIC;
"#;

/// The same objects, built in another valid order and with other statements: enum
/// labels added later, an explicit owned sequence for `serial`, constraints, defaults
/// and NOT NULL added by ALTER TABLE, a unique constraint from an existing index,
/// indexes before data and in another order, a column added and dropped (a hole in
/// the attribute numbers), a partition attached rather than created as one, type
/// aliases, and grants split up.
const ORDER_B: &str = r#"
CREATE TYPE color AS ENUM ('green');
CREATE FUNCTION heavy(w numeric) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT w > 10 $$;
ALTER TYPE color ADD VALUE 'blue' AFTER 'green';
ALTER TYPE color ADD VALUE 'red' BEFORE 'green';
-- next script (a new enum label is usable once its transaction commits)
CREATE TABLE pet (
    id int4 NOT NULL,
    owner_id int4,
    scratch text,
    kind text NOT NULL,
    fur color,
    weight decimal(5,2)
);
ALTER TABLE pet DROP COLUMN scratch;
CREATE INDEX pet_heavy_idx ON pet (weight) WHERE weight > 10;
CREATE INDEX pet_kind_idx ON pet (kind);
INSERT INTO pet VALUES (1, NULL, 'dog', 'red', 12.5);
ALTER TABLE pet ALTER COLUMN kind SET DEFAULT 'cat';
ALTER TABLE pet ADD CONSTRAINT pet_weight_check CHECK (weight > 0);
CREATE UNIQUE INDEX pet_owner_kind_key ON pet (owner_id, kind);
ALTER TABLE pet ADD CONSTRAINT pet_owner_kind_key UNIQUE USING INDEX pet_owner_kind_key;
ALTER TABLE pet ADD CONSTRAINT pet_pkey PRIMARY KEY (id);
CREATE SEQUENCE owner_t_id_seq AS integer;
CREATE TABLE owner_t (
    id integer DEFAULT nextval('owner_t_id_seq'),
    name character varying(20),
    born timestamp with time zone
);
ALTER SEQUENCE owner_t_id_seq OWNED BY owner_t.id;
CREATE INDEX owner_lower_name_idx ON owner_t (lower(name));
ALTER TABLE owner_t ALTER COLUMN id SET NOT NULL;
ALTER TABLE owner_t ALTER COLUMN name SET NOT NULL;
ALTER TABLE owner_t ALTER COLUMN born SET DEFAULT now();
ALTER TABLE owner_t ADD CONSTRAINT owner_t_name_check CHECK (name <> '');
ALTER TABLE owner_t ADD CONSTRAINT owner_t_name_key UNIQUE (name);
ALTER TABLE owner_t ADD CONSTRAINT owner_t_pkey PRIMARY KEY (id);
ALTER TABLE pet ADD CONSTRAINT pet_owner_id_fkey FOREIGN KEY (owner_id) REFERENCES owner_t (id) ON DELETE CASCADE NOT VALID;
ALTER TABLE pet VALIDATE CONSTRAINT pet_owner_id_fkey;
CREATE VIEW heavy_pets AS SELECT id, owner_id, weight FROM pet WHERE weight > 10;
GRANT SELECT ON heavy_pets TO PUBLIC;
CREATE VIEW heavy_owners AS SELECT DISTINCT owner_id FROM heavy_pets;
COMMENT ON VIEW heavy_pets IS 'over ten';
COMMENT ON COLUMN pet.kind IS 'species';
CREATE TABLE log (
    at timestamptz NOT NULL,
    pet_id integer,
    note text
) PARTITION BY RANGE (at);
CREATE TABLE log_2025 (at timestamptz NOT NULL, pet_id integer, note text);
CREATE INDEX log_pet_idx ON log (pet_id);
CREATE TABLE log_2024 PARTITION OF log FOR VALUES FROM ('2024-01-01 00:00:00+00') TO ('2025-01-01 00:00:00+00');
ALTER TABLE log ATTACH PARTITION log_2025 FOR VALUES FROM ('2025-01-01 00:00:00+00') TO ('2026-01-01 00:00:00+00');
ALTER TABLE log ADD CONSTRAINT log_pet_id_fkey FOREIGN KEY (pet_id) REFERENCES pet (id);
CREATE FUNCTION pet_count(o integer) RETURNS bigint LANGUAGE sql STABLE AS $$ SELECT count(*) FROM pet WHERE owner_id = o $$;
GRANT UPDATE ON pet TO PUBLIC;
GRANT INSERT ON pet TO PUBLIC;
GRANT SELECT ON pet TO PUBLIC;
COMMENT ON TABLE pet IS 'pets';
DELETE FROM pet;
"#;

#[test]
fn different_order_is_identical() {
    let Some(a_db) = TestPg::new("order_a") else {
        return;
    };
    let Some(b_db) = TestPg::new("order_b") else {
        return;
    };
    a_db.exec(ORDER_A);
    for part in
        ORDER_B.split("-- next script (a new enum label is usable once its transaction commits)")
    {
        b_db.exec(part);
    }
    let (a, b) = (a_db.inspect(), b_db.inspect());
    assert_eq!(a.tables.len(), 5, "tables: {:?}", a.tables.keys());
    let changes = diff(&a, &b);
    assert!(
        changes.is_empty(),
        "the same objects built in another order give {} differences:\n{}",
        changes.len(),
        describe(&changes, 100)
    );
}

#[test]
fn json_snapshot_is_identical() {
    let Some(g) = RoleGuard::new("snap", 1) else {
        return;
    };
    g.dbs[0].exec(&g.sql(RICH));
    let a = g.dbs[0].inspect();
    assert!(!a.tables.is_empty(), "nothing was inspected");
    let json = serde_json::to_string_pretty(&a).unwrap();
    let back: Database = serde_json::from_str(&json)
        .unwrap_or_else(|e| panic!("the snapshot does not read back: {e}"));
    let changes = diff(&a, &back);
    assert!(
        changes.is_empty(),
        "a model and its JSON snapshot give {} differences:\n{}",
        changes.len(),
        describe(&changes, 100)
    );
    assert_eq!(
        serde_json::to_string_pretty(&back).unwrap(),
        json,
        "the snapshot is not byte-stable through a read and a write"
    );
}

// ------------------------------------------------------------- Lemmy, pair by pair

/// A database copied from a template with `CREATE DATABASE ... TEMPLATE ...`; dropped
/// (with FORCE) on drop.
struct Copied {
    name: String,
    pg_url: String,
}

impl Copied {
    /// The template must have no open connection, which `TestPg`'s one-shot
    /// connections guarantee between calls.
    fn of(template: &TestPg, n: usize) -> Copied {
        let name = support::unique_name(&format!("ls_lemmy_n{n}"));
        admin_exec(&format!(
            "CREATE DATABASE {} TEMPLATE {}",
            ident(&name),
            ident(&template.name)
        ))
        .unwrap_or_else(|e| panic!("cloning {}: {e}", template.name));
        let pg_url = DbUrl::parse(&support::pg_admin_url())
            .unwrap()
            .with_database(&name)
            .raw()
            .to_string();
        Copied { name, pg_url }
    }

    fn try_exec(&self, sql: &str) -> Result<(), lockstep_db::DbError> {
        let u = DbUrl::parse(&self.pg_url).unwrap();
        support::rt().block_on(async {
            let mut db = lockstep_db::Db::connect(&u, false).await?;
            let r = db.execute_script(sql).await;
            db.close().await;
            r
        })
    }

    fn inspect(&self) -> Database {
        let u = DbUrl::parse(&self.pg_url).unwrap();
        support::rt()
            .block_on(lockstep_db::inspect_url(&u))
            .unwrap_or_else(|e| panic!("{e}"))
    }
}

impl Drop for Copied {
    fn drop(&mut self) {
        let _ = admin_exec(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            ident(&self.name)
        ));
    }
}

/// Tables and columns present on both sides that the changes or the statements drop.
fn drops_of_kept(changes: &[Change], plan: &Plan, from: &Database, to: &Database) -> Vec<String> {
    let mut out = vec![];
    for c in changes {
        match c {
            Change::DropTable { table } if to.tables.contains_key(&table.name) => {
                out.push(format!("drops table {} that both sides have", table.name))
            }
            Change::DropColumn { table, column }
                if from
                    .tables
                    .get(table)
                    .is_some_and(|t| t.column(&column.name).is_some())
                    && to
                        .tables
                        .get(table)
                        .is_some_and(|t| t.column(&column.name).is_some()) =>
            {
                out.push(format!(
                    "drops column {}.{} that both sides have",
                    table, column.name
                ))
            }
            _ => {}
        }
    }
    // The statements too: a planner could rebuild a table without a DropTable change.
    let drops: Vec<&str> = plan
        .statements
        .iter()
        .map(|s| s.sql.as_str())
        .filter(|s| s.contains("DROP TABLE") || s.contains("DROP COLUMN"))
        .collect();
    if drops.is_empty() {
        return out;
    }
    for (name, t) in &from.tables {
        let Some(t2) = to.tables.get(name) else {
            continue;
        };
        let q = qual(name);
        for s in &drops {
            if s.contains(&format!("DROP TABLE {q}"))
                || s.contains(&format!("DROP TABLE IF EXISTS {q}"))
            {
                out.push(format!(
                    "statement drops table {name} that both sides have: {s}"
                ));
            }
            if s.contains(&format!("ALTER TABLE {q}"))
                || s.contains(&format!("ALTER TABLE ONLY {q}"))
            {
                for col in &t.columns {
                    if t2.column(&col.name).is_some()
                        && s.contains(&format!("DROP COLUMN {}", ident(&col.name)))
                    {
                        out.push(format!(
                            "statement drops column {name}.{} that both sides have: {s}",
                            col.name
                        ));
                    }
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// For each consecutive pair of Lemmy migrations (N, N+1): plan N → N+1 from the two
/// inspected states, apply the plan to a copy of state N as one script, and require
/// that the result does not differ from N+1 and that nothing both sides keep is dropped.
///
/// One database `cur` takes the migrations one at a time; before migration N+1 it is
/// copied (`CREATE DATABASE ... TEMPLATE cur`), so the copy is state N. Model N is the
/// inspection of `cur` from the previous step (the copy is byte for byte the same).
///
/// `LOCKSTEP_LEMMY_PAIRS=<name part>[,<name part>...]` checks only the pairs whose
/// migration N+1 name contains one of the parts, prints their changes and plans, and
/// skips the pass-count threshold: for debugging one pair.
#[test]
fn lemmy_consecutive_pairs() {
    let Some(dir) = support::corpus("lemmy-0.19.21/migrations") else {
        return;
    };
    let migs = lemmy_migrations(&dir);
    assert_eq!(migs.len(), 233, "lemmy migrations");
    let only: Vec<String> = std::env::var("LOCKSTEP_LEMMY_PAIRS")
        .map(|v| v.split(',').map(|s| s.trim().to_string()).collect())
        .unwrap_or_default();
    let Some(cur) = TestPg::new("lemmy_cur") else {
        return;
    };
    let start = Instant::now();
    let mut t_migrate = std::time::Duration::ZERO;
    let mut t_copy = std::time::Duration::ZERO;
    let mut t_inspect = std::time::Duration::ZERO;
    let mut t_apply = std::time::Duration::ZERO;
    cur.try_exec(&migs[0].1)
        .unwrap_or_else(|e| panic!("migration {} failed: {e}", migs[0].0));
    let mut passes = 0;
    let mut checked = 0;
    let mut failures: Vec<(String, Vec<String>)> = vec![];
    let mut nonempty = 0;
    // Model of `cur` as it is now, when known.
    let mut prev: Option<Database> = None;
    for (name, sql) in &migs[1..] {
        let wanted = only.is_empty() || only.iter().any(|o| name.contains(o.as_str()));
        if !wanted {
            let t = Instant::now();
            cur.try_exec(sql)
                .unwrap_or_else(|e| panic!("migration {name} failed: {e}"));
            t_migrate += t.elapsed();
            prev = None;
            continue;
        }
        checked += 1;
        let t = Instant::now();
        let copy = Copied::of(&cur, checked);
        t_copy += t.elapsed();
        let t = Instant::now();
        cur.try_exec(sql)
            .unwrap_or_else(|e| panic!("migration {name} failed: {e}"));
        t_migrate += t.elapsed();
        let t = Instant::now();
        let n = match prev.take() {
            Some(m) => m,
            None => copy.inspect(),
        };
        let n1 = cur.inspect();
        t_inspect += t.elapsed();
        // The migration declares its renames, as it would for `lockstep diff`.
        let declared: Vec<_> = renames_in_migrations([(name.clone(), sql.as_str())], &n, &n1)
            .into_iter()
            .map(|(r, _)| r)
            .collect();
        let changes = diff_with(&n, &n1, &declared);
        if !changes.is_empty() {
            nonempty += 1;
        }
        let p = plan::plan(&changes, &n, &n1);
        if !only.is_empty() {
            eprintln!(
                "== {name}: {} changes\n{}\n-- plan:\n{}",
                changes.len(),
                describe(&changes, 1000),
                p.to_sql()
            );
        }
        let mut reasons = drops_of_kept(&changes, &p, &n, &n1);
        // A column added in the middle goes to the end: PostgreSQL cannot make the order,
        // which the plan reports and which is not a failure (docs/diff.md).
        let order = |c: &Change| matches!(c, Change::ColumnOrder { .. });
        let unsupported: Vec<&String> = p
            .unsupported
            .iter()
            .filter(|u| !u.starts_with("column order of "))
            .collect();
        if !unsupported.is_empty() {
            reasons.push(format!("unsupported: {unsupported:?}"));
        }
        let t = Instant::now();
        if !p.statements.is_empty() {
            match copy.try_exec(&p.to_sql()) {
                Err(e) => reasons.push(format!(
                    "the plan ({} statements) failed: {e}\n      located: {}",
                    p.statements.len(),
                    locate_on(&copy, &p)
                )),
                Ok(()) => {
                    let after = copy.inspect();
                    let mut rest = diff(&after, &n1);
                    rest.retain(|c| !order(c));
                    if !rest.is_empty() {
                        reasons.push(format!(
                            "{} differences remain after the plan of {} changes:\n{}",
                            rest.len(),
                            changes.len(),
                            describe(&rest, 3)
                        ));
                    }
                }
            }
        }
        t_apply += t.elapsed();
        if reasons.is_empty() {
            passes += 1;
        } else {
            failures.push((name.clone(), reasons));
        }
        prev = Some(n1);
        drop(copy);
    }
    eprintln!(
        "lemmy pairs: {passes}/{checked} pass ({nonempty} with changes), {:.1?} \
         (migrations {:.1?}, copies {:.1?}, inspections {:.1?}, plans applied and checked {:.1?})",
        start.elapsed(),
        t_migrate,
        t_copy,
        t_inspect,
        t_apply
    );
    for (name, reasons) in &failures {
        eprintln!("  FAIL {name}:");
        for r in reasons {
            eprintln!("    {r}");
        }
    }
    assert_eq!(passes + failures.len(), checked);
    if !only.is_empty() {
        assert!(
            failures.is_empty(),
            "{} of {checked} pairs fail",
            failures.len()
        );
        return;
    }
    assert_eq!(checked, migs.len() - 1);
    // Most migrations change the schema; far fewer differing pairs means the
    // inspection misses changes.
    assert!(
        nonempty >= 200,
        "only {nonempty} pairs differ: the inspection misses changes"
    );
    assert!(
        passes >= 228,
        "{passes} of {checked} Lemmy pairs pass; failures: {:?}",
        failures.iter().map(|f| &f.0).collect::<BTreeSet<_>>()
    );
}

/// Runs a failed plan one statement at a time on `db`, to name the statement that
/// fails. The failed script ran as one implicit transaction, so `db` is still at the
/// plan's starting state.
fn locate_on(db: &Copied, p: &Plan) -> String {
    for (i, s) in p.statements.iter().enumerate() {
        if let Err(e) = db.try_exec(&s.sql) {
            return format!("statement #{}: {}\n        error: {e}", i + 1, s.sql);
        }
    }
    "(every statement succeeded when run one at a time)".into()
}
