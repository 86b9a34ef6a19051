//! Acceptance test for `lockstep drift` (PRODUCT.md "Drift", interface contract for
//! `drift`), against the command-line binary.
//!
//! Synapse, Zabbix and Lemmy are each deployed with `lockstep deploy` from a project
//! directory of their own, plus a small project with a partitioned table and a view
//! (none of the three corpora has either):
//!
//! - Lemmy as it is (diesel layout, its 233 migrations);
//! - Zabbix as one native migration holding its schema;
//! - Synapse as native migrations: the full v72 schema first (`schema_version.sql`, then
//!   the full schemas as `corpus_pg.rs` loads them), then one migration per PostgreSQL
//!   SQL delta, by delta version, then file name.
//!
//! Right after deploy each environment must show no drift. Then out-of-band changes are
//! applied one at a time with plain SQL, and `lockstep drift --env E --format json` must
//! report exactly the expected items (object, kind, change) and nothing else, with the
//! expected schema replayed (`--expected replay`). A change with a reverse is reverted
//! on the deployed database, after which drift must be empty again; that check compares
//! with the snapshot written right after deploy (`--expected snapshot`), which is
//! itself first required to show no drift, as a replay takes seconds and a snapshot
//! does not. A change without a reverse (a dropped column, a new enum value) is applied to a
//! fresh copy of the deployed database (`CREATE DATABASE … TEMPLATE …`, which keeps
//! lockstep's history, as it lives in the database).
//!
//! The four projects run in parallel threads; at the end one table lists every change
//! with its result, and recall (expected items reported / expected items) and
//! precision (reported items that were expected / reported items, including any item
//! reported on an untouched or reverted environment).
//!
//! A second test compares a committed snapshot with a replay (`expected_from`).
//!
//! `LOCKSTEP_DRIFT_ONLY=lemmy,zabbix,synapse,partitions` runs a subset. Every test skips
//! (prints why and passes) when the server or the corpus is missing, unless
//! `LOCKSTEP_REQUIRE_SERVICES=1`.

use crate::harness::{self, text, Project};
use crate::support::{self, TestPg};
use lockstep_core::plan::ident;
use lockstep_db::{DbError, DbUrl};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

// ------------------------------------------------------------------------ running lockstep

/// Each run of lockstep is killed, and fails the test, after ten minutes.
const LIMIT: Duration = Duration::from_secs(600);

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("reading {}: {e}", p.display()))
}

// ------------------------------------------------------------------------ databases

fn admin_exec(sql: &str) -> Result<(), DbError> {
    harness::exec(&support::pg_admin_url(), sql)
}

/// A copy of a database (`CREATE DATABASE … TEMPLATE …`), dropped on drop.
struct Clone {
    name: String,
    url: String,
}

impl Clone {
    /// The template must have no open connection: lockstep and `TestPg` close theirs.
    fn of(template: &str) -> Clone {
        let name = support::unique_name("ls_drift_clone");
        admin_exec(&format!(
            "CREATE DATABASE {} TEMPLATE {}",
            ident(&name),
            ident(template)
        ))
        .unwrap_or_else(|e| panic!("cloning {template}: {e}"));
        let url = DbUrl::parse(&support::pg_admin_url())
            .unwrap()
            .with_database(&name)
            .raw()
            .to_string();
        Clone { name, url }
    }
}

impl Drop for Clone {
    fn drop(&mut self) {
        let _ = admin_exec(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            ident(&self.name)
        ));
    }
}

/// A uniquely named role, dropped on drop (also when the test panics): first what it
/// owns or was granted in each database that used it, then the role.
struct RoleGuard {
    name: String,
    urls: Vec<String>,
}

impl RoleGuard {
    fn new(prefix: &str, urls: Vec<String>) -> RoleGuard {
        let name = support::unique_name(prefix);
        admin_exec(&format!("CREATE ROLE {} NOLOGIN", ident(&name)))
            .unwrap_or_else(|e| panic!("creating role {name}: {e}"));
        RoleGuard { name, urls }
    }
}

impl Drop for RoleGuard {
    fn drop(&mut self) {
        for u in &self.urls {
            let _ = harness::exec(u, &format!("DROP OWNED BY {}", ident(&self.name)));
        }
        let _ = admin_exec(&format!("DROP ROLE IF EXISTS {}", ident(&self.name)));
    }
}

// ------------------------------------------------------------------------ projects

/// `lockstep deploy --env dev`, which must succeed; prints how long it took.
fn deploy(p: &Project, label: &str) {
    let t = Instant::now();
    let o = p.run_timeout(&["deploy", "--env", "dev"], LIMIT);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{label}: lockstep deploy --env dev failed:\n{}",
        text(&o)
    );
    eprintln!("{label}: deployed in {:.1?}", t.elapsed());
}

/// One run of `lockstep drift --format json`.
struct DriftRun {
    code: Option<i32>,
    json: Value,
    output: String,
    secs: f64,
}

impl DriftRun {
    fn items(&self) -> Vec<Value> {
        self.json["items"].as_array().cloned().unwrap_or_default()
    }

    fn items_text(&self) -> String {
        if self.json.is_null() {
            return format!("(no JSON; exit {:?})\n{}", self.code, self.output);
        }
        serde_json::to_string_pretty(&self.json["items"]).unwrap()
    }
}

fn drift(p: &Project, env: &str, extra: &[&str]) -> DriftRun {
    let mut args = vec!["drift", "--env", env, "--format", "json"];
    args.extend_from_slice(extra);
    let t = Instant::now();
    let o = p.run_timeout(&args, LIMIT);
    let secs = t.elapsed().as_secs_f64();
    let json = serde_json::from_slice(&o.stdout).unwrap_or(Value::Null);
    DriftRun {
        code: o.status.code(),
        json,
        output: text(&o),
        secs,
    }
}

// ------------------------------------------------------------------------ changes

/// One expected drift item.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Want {
    object: String,
    kind: String,
    change: String,
}

fn want(object: impl Into<String>, kind: &str, change: &str) -> Want {
    Want {
        object: object.into(),
        kind: kind.into(),
        change: change.into(),
    }
}

fn key(v: &Value) -> Want {
    want(
        v["object"].as_str().unwrap_or("?"),
        v["kind"].as_str().unwrap_or("?"),
        v["change"].as_str().unwrap_or("?"),
    )
}

/// An out-of-band change: the SQL that makes it, the SQL that undoes it (None: run it
/// on a fresh copy of the deployed database), and the items drift must report.
struct Case {
    label: &'static str,
    apply: String,
    revert: Option<String>,
    want: Vec<Want>,
}

fn case(label: &'static str, apply: &str, revert: Option<&str>, want: Vec<Want>) -> Case {
    Case {
        label,
        apply: apply.to_string(),
        revert: revert.map(str::to_string),
        want,
    }
}

/// The result of one change (or of an untouched environment).
struct Outcome {
    corpus: &'static str,
    label: String,
    expected: usize,
    reported: usize,
    matched: usize,
    /// Items reported after the revert (all of them false).
    after_revert: Option<usize>,
    exact: bool,
    secs: f64,
    detail: String,
}

impl Outcome {
    fn ok(&self) -> bool {
        self.exact && self.after_revert.unwrap_or(0) == 0
    }
}

/// Compares a drift run with what it should report; `from` is the `expected_from`.
fn judge(corpus: &'static str, label: &str, run: &DriftRun, want: &[Want], from: &str) -> Outcome {
    let items = run.items();
    let mut got: Vec<Want> = items.iter().map(key).collect();
    got.sort();
    let mut w = want.to_vec();
    w.sort();
    let matched = w.iter().filter(|x| got.contains(x)).count();
    let want_code = if want.is_empty() { 0 } else { 1 };
    let mut problems = vec![];
    if run.code != Some(want_code) {
        problems.push(format!("exit {:?}, want {want_code}", run.code));
    }
    if run.json["expected_from"] != from {
        problems.push(format!(
            "expected_from {}, want {from:?}",
            run.json["expected_from"]
        ));
    }
    if got != w {
        problems.push(format!(
            "want {} item(s): {:?}\n  got {} item(s):\n{}",
            w.len(),
            w.iter()
                .map(|x| format!("{} {} {}", x.kind, x.object, x.change))
                .collect::<Vec<_>>(),
            got.len(),
            run.items_text()
        ));
    }
    Outcome {
        corpus,
        label: label.to_string(),
        expected: w.len(),
        reported: got.len(),
        matched,
        after_revert: None,
        exact: problems.is_empty(),
        secs: run.secs,
        detail: problems.join("\n  "),
    }
}

/// A deployed project and its database, ready for changes.
struct Env<'a> {
    corpus: &'static str,
    project: &'a Project,
    pg: &'a TestPg,
}

impl Env<'_> {
    /// Drift on the untouched, just deployed environment.
    fn untouched(&self) -> Outcome {
        let r = drift(self.project, "dev", &[]);
        judge(
            self.corpus,
            "untouched, right after deploy",
            &r,
            &[],
            "replay",
        )
    }

    /// Writes the snapshot of the applied version and requires no drift from it. The
    /// checks after a revert compare with it (a replay takes seconds, a snapshot does
    /// not); each change itself is compared with a replay.
    fn snapshot(&self) -> Outcome {
        let o = self
            .project
            .run_timeout(&["snapshot", "--env", "dev"], LIMIT);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}: lockstep snapshot failed:\n{}",
            self.corpus,
            text(&o)
        );
        let r = drift(self.project, "dev", &["--expected", "snapshot"]);
        judge(
            self.corpus,
            "untouched, from its snapshot",
            &r,
            &[],
            "snapshot",
        )
    }

    fn run(&self, c: &Case) -> Outcome {
        let label = format!(
            "{}{}",
            c.label,
            if c.revert.is_none() { " (copy)" } else { "" }
        );
        let clone;
        let (env, url) = match &c.revert {
            Some(_) => ("dev", self.pg.url.clone()),
            None => {
                clone = Clone::of(&self.pg.name);
                self.project
                    .set_envs(&[("dev", &self.pg.url), ("clone", &clone.url)]);
                ("clone", clone.url.clone())
            }
        };
        harness::exec(&url, &c.apply)
            .unwrap_or_else(|e| panic!("{}: applying {:?} failed: {e}", self.corpus, c.label));
        let r = drift(self.project, env, &["--expected", "replay"]);
        let mut o = judge(self.corpus, &label, &r, &c.want, "replay");
        if let Some(rev) = &c.revert {
            harness::exec(&url, rev)
                .unwrap_or_else(|e| panic!("{}: reverting {:?} failed: {e}", self.corpus, c.label));
            let r2 = drift(self.project, env, &["--expected", "snapshot"]);
            let n = r2.items().len();
            o.after_revert = Some(n);
            o.secs += r2.secs;
            if n != 0 || r2.code != Some(0) || r2.json["expected_from"] != "snapshot" {
                o.after_revert = Some(n.max(1));
                o.detail.push_str(&format!(
                    "\n  after the revert (drift --expected snapshot): exit {:?}, expected_from {}, {n} item(s):\n{}",
                    r2.code,
                    r2.json["expected_from"],
                    r2.items_text()
                ));
            }
        } else {
            self.project.set_envs(&[("dev", &self.pg.url)]);
        }
        eprintln!(
            "{}: {} {} ({:.1}s)",
            self.corpus,
            if o.ok() { "ok  " } else { "FAIL" },
            label,
            o.secs
        );
        o
    }

    fn run_all(&self, cases: &[Case]) -> Vec<Outcome> {
        let mut out = vec![self.untouched(), self.snapshot()];
        for c in cases {
            out.push(self.run(c));
        }
        out
    }
}

// ------------------------------------------------------------------------ the corpora

fn lemmy() -> Option<Vec<Outcome>> {
    let src = support::corpus("lemmy-0.19.21/migrations")?;
    let pg = TestPg::new("drift_lemmy")?;
    let role = RoleGuard::new("lsdrift_lemmy", vec![pg.url.clone()]);
    let r = ident(&role.name);
    let p = Project::with_layout("diesel", &[("dev", &pg.url)]);
    std::fs::remove_dir(p.migrations()).unwrap();
    crate::deploy::copy_dir(&src, &p.migrations());
    deploy(&p, "lemmy");
    let env = Env {
        corpus: "lemmy",
        project: &p,
        pg: &pg,
    };
    let rts = "public.reverse_timestamp_sort(t timestamp with time zone)";
    // The function as the migration created it (the body must match to the byte).
    let rts_sql = "CREATE OR REPLACE FUNCTION reverse_timestamp_sort (t timestamp with time zone)
    RETURNS bigint
    AS $$
BEGIN
    RETURN (-1000000 * EXTRACT(EPOCH FROM t))::bigint;
END;
$$
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE";
    let cases = vec![
        case(
            "enum: value added",
            "ALTER TYPE community_visibility ADD VALUE 'Private'",
            None,
            vec![want("public.community_visibility", "type", "changed")],
        ),
        case(
            "enum: value renamed",
            "ALTER TYPE listing_type_enum RENAME VALUE 'ModeratorView' TO 'ModView'",
            Some("ALTER TYPE listing_type_enum RENAME VALUE 'ModView' TO 'ModeratorView'"),
            vec![want("public.listing_type_enum", "type", "changed")],
        ),
        case(
            "function: body",
            &rts_sql.replace("-1000000", "-1000"),
            Some(rts_sql),
            vec![want(rts, "function", "changed")],
        ),
        case(
            "function: volatility",
            "ALTER FUNCTION reverse_timestamp_sort(timestamptz) STABLE",
            Some("ALTER FUNCTION reverse_timestamp_sort(timestamptz) IMMUTABLE"),
            vec![want(rts, "function", "changed")],
        ),
        case(
            "trigger: added",
            "CREATE TRIGGER person_drift_trg BEFORE UPDATE ON person FOR EACH ROW EXECUTE FUNCTION diesel_set_updated_at()",
            Some("DROP TRIGGER person_drift_trg ON person"),
            vec![want("public.person.person_drift_trg", "trigger", "added")],
        ),
        case(
            "extension: added",
            "CREATE EXTENSION citext",
            Some("DROP EXTENSION citext"),
            vec![want("citext", "extension", "added")],
        ),
        case(
            "index: predicate",
            "DROP INDEX idx_community_aggregates_nonzero_hotrank;
             CREATE INDEX idx_community_aggregates_nonzero_hotrank ON community_aggregates (published) WHERE hot_rank > 1",
            Some("DROP INDEX idx_community_aggregates_nonzero_hotrank;
             CREATE INDEX idx_community_aggregates_nonzero_hotrank ON community_aggregates (published) WHERE hot_rank <> 0"),
            vec![want("public.idx_community_aggregates_nonzero_hotrank", "index", "changed")],
        ),
        case(
            "grant: revoked (EXECUTE from PUBLIC)",
            "REVOKE EXECUTE ON FUNCTION reverse_timestamp_sort(timestamptz) FROM PUBLIC",
            Some("GRANT EXECUTE ON FUNCTION reverse_timestamp_sort(timestamptz) TO PUBLIC"),
            vec![want(
                format!("function {rts} to PUBLIC"),
                "grant",
                "removed",
            )],
        ),
        case(
            "role: new, with a grant",
            &format!("GRANT SELECT ON community TO {r}"),
            Some(&format!("REVOKE SELECT ON community FROM {r}")),
            vec![
                want(
                    format!("table public.community to {}", role.name),
                    "grant",
                    "added",
                ),
                want(role.name.clone(), "role", "added"),
            ],
        ),
        case(
            "comment: on a column",
            "COMMENT ON COLUMN person.bot_account IS 'set by the bot flag'",
            Some("COMMENT ON COLUMN person.bot_account IS NULL"),
            vec![want("column public.person.bot_account", "comment", "added")],
        ),
        case(
            "view: added",
            "CREATE VIEW local_person AS SELECT id, name FROM person WHERE local",
            Some("DROP VIEW local_person"),
            vec![want("public.local_person", "view", "added")],
        ),
        case(
            "column: dropped",
            "ALTER TABLE person DROP COLUMN matrix_user_id",
            None,
            vec![want("public.person.matrix_user_id", "column", "removed")],
        ),
    ];
    Some(env.run_all(&cases))
}

fn zabbix_schema() -> Option<String> {
    Some(read(&support::corpus("debian/zabbix-schema.pgsql.sql")?))
}

/// Zabbix's schema as one native migration, deployed.
fn zabbix_project(pg: &TestPg, schema: &str) -> Project {
    let p = Project::with_layout("lockstep", &[("dev", &pg.url)]);
    p.native("1", "zabbix_schema", schema, None);
    deploy(&p, "zabbix");
    p
}

fn zabbix() -> Option<Vec<Outcome>> {
    let schema = zabbix_schema()?;
    let pg = TestPg::new("drift_zabbix")?;
    let p = zabbix_project(&pg, &schema);
    let env = Env {
        corpus: "zabbix",
        project: &p,
        pg: &pg,
    };
    // hosts_name_upper_upper() as the schema file creates it.
    let start = schema
        .find("create or replace function hosts_name_upper_upper()")
        .expect("zabbix: hosts_name_upper_upper in the schema");
    let end = start
        + schema[start..]
            .find("$func$;")
            .expect("end of the function")
        + 7;
    let fn_sql = &schema[start..end];
    let cases = vec![
        case(
            "column: added",
            "ALTER TABLE hosts ADD COLUMN note text",
            Some("ALTER TABLE hosts DROP COLUMN note"),
            vec![want("public.hosts.note", "column", "added")],
        ),
        case(
            "column: dropped",
            "ALTER TABLE hosts DROP COLUMN proxy_address",
            None,
            vec![want("public.hosts.proxy_address", "column", "removed")],
        ),
        case(
            "column: type",
            "ALTER TABLE hosts ALTER COLUMN description TYPE varchar(2048)",
            Some("ALTER TABLE hosts ALTER COLUMN description TYPE text"),
            vec![want("public.hosts.description", "column", "changed")],
        ),
        case(
            "column: default",
            "ALTER TABLE hosts ALTER COLUMN status SET DEFAULT 3",
            Some("ALTER TABLE hosts ALTER COLUMN status SET DEFAULT 0"),
            vec![want("public.hosts.status", "column", "changed")],
        ),
        case(
            "column: nullability",
            "ALTER TABLE hosts ALTER COLUMN tls_psk DROP NOT NULL",
            Some("ALTER TABLE hosts ALTER COLUMN tls_psk SET NOT NULL"),
            vec![want("public.hosts.tls_psk", "column", "changed")],
        ),
        case(
            "index: added",
            "CREATE INDEX hosts_drift_idx ON hosts (lastaccess)",
            Some("DROP INDEX hosts_drift_idx"),
            vec![want("public.hosts_drift_idx", "index", "added")],
        ),
        case(
            "index: dropped",
            "DROP INDEX hosts_4",
            Some("CREATE INDEX hosts_4 ON hosts (name)"),
            vec![want("public.hosts_4", "index", "removed")],
        ),
        case(
            "constraint: check added",
            "ALTER TABLE hosts ADD CONSTRAINT hosts_status_chk CHECK (status >= 0)",
            Some("ALTER TABLE hosts DROP CONSTRAINT hosts_status_chk"),
            vec![want("public.hosts.hosts_status_chk", "constraint", "added")],
        ),
        case(
            "constraint: foreign key dropped",
            "ALTER TABLE hosts DROP CONSTRAINT c_hosts_2",
            Some("ALTER TABLE ONLY hosts ADD CONSTRAINT c_hosts_2 FOREIGN KEY (maintenanceid) REFERENCES maintenances (maintenanceid)"),
            vec![want("public.hosts.c_hosts_2", "constraint", "removed")],
        ),
        case(
            "constraint: foreign key action",
            "ALTER TABLE hosts DROP CONSTRAINT c_hosts_3,
               ADD CONSTRAINT c_hosts_3 FOREIGN KEY (templateid) REFERENCES hosts (hostid) ON DELETE SET NULL",
            Some("ALTER TABLE hosts DROP CONSTRAINT c_hosts_3,
               ADD CONSTRAINT c_hosts_3 FOREIGN KEY (templateid) REFERENCES hosts (hostid) ON DELETE CASCADE"),
            vec![want("public.hosts.c_hosts_3", "constraint", "changed")],
        ),
        case(
            "sequence: increment",
            "ALTER SEQUENCE proxy_history_id_seq INCREMENT BY 10",
            Some("ALTER SEQUENCE proxy_history_id_seq INCREMENT BY 1"),
            vec![want("public.proxy_history_id_seq", "sequence", "changed")],
        ),
        case(
            "grant: added (SELECT to PUBLIC)",
            "GRANT SELECT ON hosts TO PUBLIC",
            Some("REVOKE SELECT ON hosts FROM PUBLIC"),
            vec![want("table public.hosts to PUBLIC", "grant", "added")],
        ),
        case(
            "function: body",
            &fn_sql.replace("return null;", "return new;"),
            Some(fn_sql),
            vec![want("public.hosts_name_upper_upper()", "function", "changed")],
        ),
    ];
    Some(env.run_all(&cases))
}

/// Synapse as native migrations: (file name, SQL). The first is the full schema as
/// `corpus_pg::synapse_scripts` builds it (schema_version.sql, then the full v72
/// schemas of common, main and state by (file name, path)); then each PostgreSQL SQL
/// delta of 73..=94 (`*.sql`, `*.sql.postgres`), by version, then file name.
fn synapse_migrations(root: &Path) -> Vec<(String, String)> {
    let (full, deltas): (Vec<_>, Vec<_>) = crate::corpus_pg::synapse_scripts(root)
        .into_iter()
        .partition(|(rel, _)| !rel.contains("/delta/"));
    // schema_version.sql first, as is; each full schema after it under its path.
    let full: Vec<String> = full
        .into_iter()
        .enumerate()
        .map(|(i, (rel, sql))| {
            if i == 0 {
                sql
            } else {
                format!("-- {rel}\n{sql}")
            }
        })
        .collect();
    let mut out = vec![("0001_full_schema_72".to_string(), full.join("\n\n"))];
    for (rel, sql) in deltas {
        // <store>/delta/<version>/<file name>
        let parts: Vec<&str> = rel.split('/').collect();
        let (v, name) = (parts[2], parts[3]);
        let stem: String = name
            .split('.')
            .next()
            .unwrap()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        let file = format!("{:04}_delta_{v}_{stem}", out.len() + 1);
        out.push((file, sql));
    }
    out
}

fn synapse() -> Option<Vec<Outcome>> {
    let root = support::corpus("synapse/synapse/storage/schema")?;
    let pg = TestPg::new("drift_synapse")?;
    let role = RoleGuard::new("lsdrift_synapse", vec![pg.url.clone()]);
    let r = ident(&role.name);
    let p = Project::with_layout("lockstep", &[("dev", &pg.url)]);
    let migs = synapse_migrations(&root);
    assert_eq!(migs.len(), 124, "synapse: full schema + 123 SQL deltas");
    for (file, sql) in &migs {
        let (v, name) = file.split_once('_').unwrap();
        p.native(v, name, sql, None);
    }
    deploy(&p, "synapse");
    let env = Env {
        corpus: "synapse",
        project: &p,
        pg: &pg,
    };
    let lock_check = |expr: &str| {
        format!(
            "ALTER TABLE stats_incremental_position DROP CONSTRAINT stats_incremental_position_lock_check,
               ADD CONSTRAINT stats_incremental_position_lock_check CHECK ({expr})"
        )
    };
    let refresh_fk = |action: &str| {
        format!(
            "ALTER TABLE access_tokens DROP CONSTRAINT access_tokens_refresh_token_id_fkey,
               ADD CONSTRAINT access_tokens_refresh_token_id_fkey FOREIGN KEY (refresh_token_id)
               REFERENCES refresh_tokens (id) ON DELETE {action}"
        )
    };
    let cases = vec![
        case(
            "constraint: check expression",
            &lock_check("lock IN ('X', 'Y')"),
            Some(&lock_check("lock = 'X'")),
            vec![want(
                "public.stats_incremental_position.stats_incremental_position_lock_check",
                "constraint",
                "changed",
            )],
        ),
        case(
            "constraint: foreign key action",
            &refresh_fk("SET NULL"),
            Some(&refresh_fk("CASCADE")),
            vec![want(
                "public.access_tokens.access_tokens_refresh_token_id_fkey",
                "constraint",
                "changed",
            )],
        ),
        case(
            "constraint: unique added",
            "ALTER TABLE users ADD CONSTRAINT users_creation_ts_key UNIQUE (creation_ts)",
            Some("ALTER TABLE users DROP CONSTRAINT users_creation_ts_key"),
            vec![want("public.users.users_creation_ts_key", "constraint", "added")],
        ),
        case(
            "index: predicate",
            "DROP INDEX presence_stream_state_not_offline_idx;
             CREATE INDEX presence_stream_state_not_offline_idx ON presence_stream (state)
               WHERE state NOT IN ('offline', 'unavailable')",
            Some("DROP INDEX presence_stream_state_not_offline_idx;
             CREATE INDEX presence_stream_state_not_offline_idx ON presence_stream (state)
               WHERE state <> 'offline'"),
            vec![want("public.presence_stream_state_not_offline_idx", "index", "changed")],
        ),
        case(
            "trigger: dropped",
            "DROP TRIGGER check_partial_state_events ON partial_state_events",
            Some("CREATE TRIGGER check_partial_state_events BEFORE INSERT OR UPDATE ON partial_state_events
               FOR EACH ROW EXECUTE PROCEDURE check_partial_state_events()"),
            vec![want(
                "public.partial_state_events.check_partial_state_events",
                "trigger",
                "removed",
            )],
        ),
        case(
            "trigger: disabled",
            "ALTER TABLE worker_read_write_locks DISABLE TRIGGER upsert_read_write_lock_parent_trigger",
            Some("ALTER TABLE worker_read_write_locks ENABLE TRIGGER upsert_read_write_lock_parent_trigger"),
            vec![want(
                "public.worker_read_write_locks.upsert_read_write_lock_parent_trigger",
                "trigger",
                "changed",
            )],
        ),
        case(
            "column: renamed",
            "ALTER TABLE users RENAME COLUMN appservice_id TO app_service_id",
            Some("ALTER TABLE users RENAME COLUMN app_service_id TO appservice_id"),
            vec![want("public.users.appservice_id", "column", "changed")],
        ),
        case(
            "comment: on a table",
            "COMMENT ON TABLE users IS 'local accounts'",
            Some("COMMENT ON TABLE users IS NULL"),
            vec![want("table public.users", "comment", "added")],
        ),
        case(
            "table: row level security",
            "ALTER TABLE users ENABLE ROW LEVEL SECURITY",
            Some("ALTER TABLE users DISABLE ROW LEVEL SECURITY"),
            vec![want("public.users", "table", "changed")],
        ),
        case(
            "table: storage parameter",
            "ALTER TABLE users SET (fillfactor = 70)",
            Some("ALTER TABLE users RESET (fillfactor)"),
            vec![want("public.users", "table", "changed")],
        ),
        case(
            "policy: added",
            "CREATE POLICY users_self ON users USING (name = current_user)",
            Some("DROP POLICY users_self ON users"),
            vec![want("public.users.users_self", "policy", "added")],
        ),
        case(
            "schema: added",
            "CREATE SCHEMA reporting",
            Some("DROP SCHEMA reporting"),
            vec![want("reporting", "schema", "added")],
        ),
        case(
            "owner: changed to a new role",
            &format!("ALTER TABLE ratelimit_override OWNER TO {r}"),
            Some("ALTER TABLE ratelimit_override OWNER TO CURRENT_USER"),
            vec![
                want("table public.ratelimit_override", "owner", "changed"),
                want(role.name.clone(), "role", "added"),
            ],
        ),
        case(
            "table: renamed",
            "ALTER TABLE users RENAME TO users_old",
            Some("ALTER TABLE users_old RENAME TO users"),
            // One item: the rename (the foreign keys that follow it are not drift).
            vec![want("public.users", "table", "changed")],
        ),
    ];
    Some(env.run_all(&cases))
}

/// A partitioned table with one partition, two tables that may become partitions (one
/// with the parent's key, one without), and a view.
const PARTITIONS: &str = "
CREATE TABLE measurement (
    id bigint NOT NULL,
    logdate date NOT NULL,
    value integer,
    PRIMARY KEY (id, logdate)
) PARTITION BY RANGE (logdate);
CREATE TABLE measurement_2024 PARTITION OF measurement
    FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE measurement_2025 (
    id bigint NOT NULL,
    logdate date NOT NULL,
    value integer,
    PRIMARY KEY (id, logdate)
);
CREATE TABLE measurement_2026 (id bigint NOT NULL, logdate date NOT NULL, value integer);
CREATE VIEW recent_measurement AS
    SELECT id, logdate, value FROM measurement WHERE logdate > DATE '2024-06-01';
";

fn partitions() -> Option<Vec<Outcome>> {
    let pg = TestPg::new("drift_partitions")?;
    let p = Project::with_layout("lockstep", &[("dev", &pg.url)]);
    p.native("1", "measurements", PARTITIONS, None);
    deploy(&p, "partitions");
    let env = Env {
        corpus: "partitions",
        project: &p,
        pg: &pg,
    };
    let view = |day: &str| {
        format!(
            "CREATE OR REPLACE VIEW recent_measurement AS
               SELECT id, logdate, value FROM measurement WHERE logdate > DATE '{day}'"
        )
    };
    let cases = vec![
        case(
            "partition: attached (table with the parent's key)",
            "ALTER TABLE measurement ATTACH PARTITION measurement_2025
               FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')",
            Some("ALTER TABLE measurement DETACH PARTITION measurement_2025"),
            vec![want("public.measurement_2025", "partition", "changed")],
        ),
        case(
            "partition: attached (table without a key)",
            "ALTER TABLE measurement ATTACH PARTITION measurement_2026
               FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')",
            // Attaching gave the table its own copy of the parent's key; it stays.
            Some(
                "ALTER TABLE measurement DETACH PARTITION measurement_2026;
                  ALTER TABLE measurement_2026 DROP CONSTRAINT measurement_2026_pkey",
            ),
            vec![want("public.measurement_2026", "partition", "changed")],
        ),
        case(
            "partition: detached",
            "ALTER TABLE measurement DETACH PARTITION measurement_2024",
            Some(
                "ALTER TABLE measurement ATTACH PARTITION measurement_2024
                    FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')",
            ),
            vec![want("public.measurement_2024", "partition", "changed")],
        ),
        case(
            "view: body",
            &view("2025-01-01"),
            Some(&view("2024-06-01")),
            vec![want("public.recent_measurement", "view", "changed")],
        ),
    ];
    Some(env.run_all(&cases))
}

// ------------------------------------------------------------------------ the tests

fn selected(name: &str) -> bool {
    match std::env::var("LOCKSTEP_DRIFT_ONLY") {
        Ok(v) if !v.trim().is_empty() => v.split(',').any(|x| x.trim() == name),
        _ => true,
    }
}

fn table(outcomes: &[Outcome]) -> String {
    let mut s = format!(
        "{:<11} {:<52} {:>4} {:>4} {:>4} {:>7} {:>6}  result\n",
        "corpus", "change", "want", "got", "hit", "revert", "secs"
    );
    for o in outcomes {
        s.push_str(&format!(
            "{:<11} {:<52} {:>4} {:>4} {:>4} {:>7} {:>6.1}  {}\n",
            o.corpus,
            o.label,
            o.expected,
            o.reported,
            o.matched,
            o.after_revert
                .map(|n| if n == 0 {
                    "clean".to_string()
                } else {
                    format!("{n} left")
                })
                .unwrap_or_else(|| "-".into()),
            o.secs,
            if o.ok() { "ok" } else { "FAIL" }
        ));
    }
    s
}

#[test]
fn drift_reports_each_out_of_band_change_exactly() {
    type Runner = fn() -> Option<Vec<Outcome>>;
    let runners: Vec<(&str, Runner)> = vec![
        ("lemmy", lemmy),
        ("synapse", synapse),
        ("zabbix", zabbix),
        ("partitions", partitions),
    ];
    let t = Instant::now();
    type Joined<'a> = (&'a str, Result<Option<Vec<Outcome>>, String>);
    let results: Vec<Joined> = std::thread::scope(|s| {
        let handles: Vec<_> = runners
            .iter()
            .filter(|(n, _)| selected(n))
            .map(|(n, f)| (*n, s.spawn(f)))
            .collect();
        handles
            .into_iter()
            .map(|(n, h)| {
                let r = h.join().map_err(|e| {
                    e.downcast_ref::<String>()
                        .cloned()
                        .or_else(|| e.downcast_ref::<&str>().map(|x| x.to_string()))
                        .unwrap_or_else(|| "panicked".into())
                });
                (n, r)
            })
            .collect()
    });
    let mut outcomes = vec![];
    let mut crashed = vec![];
    let mut skipped = vec![];
    for (n, r) in results {
        match r {
            Ok(Some(o)) => outcomes.extend(o),
            Ok(None) => skipped.push(n),
            Err(e) => crashed.push(format!("{n}: {e}")),
        }
    }
    let changes: Vec<&Outcome> = outcomes
        .iter()
        .filter(|o| !o.label.starts_with("untouched"))
        .collect();
    let exact = changes.iter().filter(|o| o.ok()).count();
    let expected: usize = outcomes.iter().map(|o| o.expected).sum();
    let matched: usize = outcomes.iter().map(|o| o.matched).sum();
    let reported: usize = outcomes
        .iter()
        .map(|o| o.reported + o.after_revert.unwrap_or(0))
        .sum();
    let pct = |a: usize, b: usize| {
        if b == 0 {
            100.0
        } else {
            100.0 * a as f64 / b as f64
        }
    };
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    for o in &changes {
        *kinds.entry(o.corpus).or_default() += 1;
    }
    eprintln!(
        "\ndrift acceptance: {} change(s) {:?}, {:.1?} in all\n{}\
         changes reported exactly (and clean after the revert): {exact}/{}\n\
         recall: {matched}/{expected} expected items reported ({:.1}%)\n\
         precision: {matched}/{reported} reported items expected ({:.1}%)\n",
        changes.len(),
        kinds,
        t.elapsed(),
        table(&outcomes),
        changes.len(),
        pct(matched, expected),
        pct(matched, reported),
    );
    if !skipped.is_empty() {
        eprintln!("SKIPPED: {}", skipped.join(", "));
    }
    let failures: Vec<String> = outcomes
        .iter()
        .filter(|o| !o.ok())
        .map(|o| format!("{}: {}:\n  {}", o.corpus, o.label, o.detail))
        .chain(crashed)
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} drift check(s) failed:\n\n{}",
        failures.len(),
        outcomes.len(),
        failures.join("\n\n")
    );
}

/// `lockstep snapshot`, then drift from the snapshot and from a replay, on Zabbix.
#[test]
fn drift_from_a_snapshot_and_from_a_replay() {
    let Some(schema) = zabbix_schema() else {
        return;
    };
    let Some(pg) = TestPg::new("drift_snapshot") else {
        return;
    };
    let p = zabbix_project(&pg, &schema);
    let from = |r: &DriftRun| r.json["expected_from"].as_str().unwrap_or("").to_string();

    // No snapshot yet: the default replays, and --expected snapshot cannot do its job.
    let r = drift(&p, "dev", &[]);
    assert_eq!(
        (r.code, from(&r)),
        (Some(0), "replay".into()),
        "{}",
        r.output
    );
    assert!(r.items().is_empty(), "{}", r.items_text());
    let r = drift(&p, "dev", &["--expected", "snapshot"]);
    assert_eq!(r.code, Some(2), "{}", r.output);
    assert!(r.output.contains("snapshot"), "{}", r.output);

    let o = p.run_timeout(&["snapshot", "--env", "dev"], LIMIT);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        p.path().join("snapshots/1.json").is_file(),
        "lockstep snapshot wrote no snapshots/1.json:\n{}",
        text(&o)
    );

    // Untouched: no drift, from the snapshot (by default and when asked) or a replay.
    for (args, want_from) in [
        (&[][..], "snapshot"),
        (&["--expected", "snapshot"][..], "snapshot"),
        (&["--expected", "replay"][..], "replay"),
    ] {
        let r = drift(&p, "dev", args);
        assert_eq!(
            (r.code, from(&r)),
            (Some(0), want_from.to_string()),
            "drift {args:?} on the untouched env:\n{}",
            r.output
        );
        assert!(r.items().is_empty(), "drift {args:?}: {}", r.items_text());
        eprintln!("snapshot: untouched, {args:?}: no drift ({:.1}s)", r.secs);
    }

    // One change: that one item, whichever the expected schema comes from.
    pg.exec("ALTER TABLE items ADD COLUMN drift_note text");
    let mut seen = vec![];
    for (args, want_from) in [
        (&[][..], "snapshot"),
        (&["--expected", "replay"][..], "replay"),
    ] {
        let r = drift(&p, "dev", args);
        assert_eq!(
            (r.code, from(&r)),
            (Some(1), want_from.to_string()),
            "drift {args:?} with one change:\n{}",
            r.output
        );
        let items = r.items();
        assert_eq!(items.len(), 1, "drift {args:?}: {}", r.items_text());
        assert_eq!(
            key(&items[0]),
            want("public.items.drift_note", "column", "added"),
            "drift {args:?}: {}",
            r.items_text()
        );
        seen.push(items[0].clone());
        eprintln!("snapshot: one change, {args:?}: 1 item ({:.1}s)", r.secs);
    }
    assert_eq!(
        seen[0], seen[1],
        "the snapshot and the replay disagree on the item"
    );

    pg.exec("ALTER TABLE items DROP COLUMN drift_note");
    let r = drift(&p, "dev", &[]);
    assert_eq!(
        (r.code, from(&r)),
        (Some(0), "snapshot".into()),
        "{}",
        r.output
    );
    assert!(r.items().is_empty(), "{}", r.items_text());
}

/// A second drift of a PostgreSQL environment takes its replay from `.lockstep/cache`,
/// keyed by the server's major version as the environment's own connection announced it
/// (no connection of its own to learn it); a change of migrations is another key.
#[test]
fn a_second_drift_takes_the_replay_from_the_cache() {
    let Some(pg) = TestPg::new("driftcache") else {
        return;
    };
    let p = Project::new(&[("dev", &pg.url)]);
    let dir = p.path();
    p.migration("1", "items", "CREATE TABLE items (id int PRIMARY KEY);\n");
    assert_eq!(
        crate::cli::lockstep(&["deploy", "--env", "dev"], dir)
            .status
            .code(),
        Some(0)
    );
    let replays = || {
        let o = crate::cli::lockstep(
            &["-v", "drift", "--env", "dev", "--expected", "replay"],
            dir,
        );
        assert_eq!(o.status.code(), Some(0), "{o:?}");
        String::from_utf8_lossy(&o.stderr)
            .matches("replaying")
            .count()
    };
    assert_eq!(replays(), 1, "the first drift replays");
    assert_eq!(replays(), 0, "the second reads the cache");
    p.migration("2", "more", "CREATE TABLE more (id int PRIMARY KEY);\n");
    assert_eq!(crate::cli::lockstep(&["hash"], dir).status.code(), Some(0));
    assert_eq!(
        crate::cli::lockstep(&["deploy", "--env", "dev"], dir)
            .status
            .code(),
        Some(0)
    );
    assert_eq!(replays(), 1, "new migrations are another key");
}
