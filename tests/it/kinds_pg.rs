//! The kinds of object pg_dump knows beyond tables, views and functions, on a real
//! server: aggregates, collations, rules, event triggers, extended statistics,
//! publications, subscriptions, foreign-data wrappers, servers, user mappings, foreign
//! tables, text search, operators, operator classes and families, casts, default
//! privileges, replica identity, and column storage, compression and options.
//!
//! For each: a database that has it is inspected (the expected model); the create
//! script of that model, applied to an empty database, gives an untouched copy that
//! drift finds identical and `pg_dump --schema-only` prints the same; then one change
//! made out of band on the copy is exactly one drift item naming the object.

use crate::corpus_pg::create_plan;
use crate::support::{self, unique_name, TestPg};
use lockstep_core::drift::drift;

const BASE: &str = "
CREATE TABLE t (id int PRIMARY KEY, a text, b int);
CREATE TYPE pair AS (x int, y int);
CREATE FUNCTION pair_text(pair) RETURNS text LANGUAGE sql IMMUTABLE AS 'SELECT ($1).x::text';
CREATE FUNCTION on_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$BEGIN END$$;
";

struct Case {
    /// The drift item's kind and object.
    kind: &'static str,
    object: &'static str,
    setup: &'static str,
    change: &'static str,
}

/// A foreign table with options of its own and on a column.
const FOREIGN_TABLE: &str = "CREATE FOREIGN DATA WRAPPER dummy; CREATE SERVER vendor FOREIGN DATA WRAPPER dummy;
    CREATE FOREIGN TABLE remote_sales (id int OPTIONS (column_name 'sale_id'), total numeric NOT NULL)
      SERVER vendor OPTIONS (table_name 'sales');";

const CASES: &[Case] = &[
    Case {
        kind: "aggregate",
        object: "public.group_concat(text)",
        setup: "CREATE AGGREGATE group_concat(text) (SFUNC = textcat, STYPE = text, INITCOND = '');
                CREATE VIEW v AS SELECT group_concat(a) AS all_a FROM t;",
        change: "CREATE OR REPLACE AGGREGATE group_concat(text) (SFUNC = textcat, STYPE = text, INITCOND = '-');",
    },
    Case {
        kind: "collation",
        object: "public.c_copy",
        setup: "CREATE COLLATION c_copy (provider = libc, locale = 'C');
                CREATE COLLATION ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
                ALTER TABLE t ADD COLUMN name text COLLATE ci;",
        change: "DROP COLLATION c_copy; CREATE COLLATION c_copy (provider = libc, locale = 'POSIX');",
    },
    Case {
        kind: "rule",
        object: "public.t.no_negative",
        setup: "CREATE RULE no_negative AS ON INSERT TO t WHERE new.b < 0 DO INSTEAD NOTHING;",
        change: "CREATE OR REPLACE RULE no_negative AS ON INSERT TO t WHERE new.b < 1 DO INSTEAD NOTHING;",
    },
    Case {
        kind: "event trigger",
        object: "audit_ddl",
        setup: "CREATE EVENT TRIGGER audit_ddl ON ddl_command_start WHEN TAG IN ('CREATE TABLE') EXECUTE FUNCTION on_ddl();",
        change: "ALTER EVENT TRIGGER audit_ddl DISABLE;",
    },
    Case {
        kind: "statistics",
        object: "public.t_ab",
        setup: "CREATE STATISTICS t_ab (dependencies, ndistinct) ON a, b FROM t;",
        change: "ALTER STATISTICS t_ab SET STATISTICS 50;",
    },
    Case {
        kind: "publication",
        object: "sales_feed",
        setup: "CREATE PUBLICATION sales_feed FOR TABLE t WITH (publish = 'insert, update');",
        change: "ALTER PUBLICATION sales_feed ADD TABLES IN SCHEMA public;",
    },
    Case {
        kind: "subscription",
        object: "vendor_pull",
        setup: "CREATE SUBSCRIPTION vendor_pull CONNECTION 'host=127.0.0.1 dbname=nowhere user=vendor' PUBLICATION sales WITH (connect = false, slot_name = NONE);",
        change: "ALTER SUBSCRIPTION vendor_pull CONNECTION 'host=203.0.113.9 dbname=nowhere user=vendor password=s3cret-pw';",
    },
    Case {
        kind: "foreign-data wrapper",
        object: "dummy",
        setup: "CREATE FOREIGN DATA WRAPPER dummy;",
        change: "ALTER FOREIGN DATA WRAPPER dummy OPTIONS (ADD debug 'true');",
    },
    Case {
        kind: "server",
        object: "vendor",
        setup: "CREATE FOREIGN DATA WRAPPER dummy; CREATE SERVER vendor FOREIGN DATA WRAPPER dummy OPTIONS (host 'a.example');",
        change: "ALTER SERVER vendor OPTIONS (SET host 'b.example');",
    },
    Case {
        kind: "user mapping",
        object: "for PUBLIC server vendor",
        setup: "CREATE FOREIGN DATA WRAPPER dummy; CREATE SERVER vendor FOREIGN DATA WRAPPER dummy;
                CREATE USER MAPPING FOR PUBLIC SERVER vendor OPTIONS (user 'pos');",
        change: "ALTER USER MAPPING FOR PUBLIC SERVER vendor OPTIONS (ADD password 's3cret-pw');",
    },
    Case {
        kind: "foreign table",
        object: "public.remote_sales",
        setup: FOREIGN_TABLE,
        change: "ALTER FOREIGN TABLE remote_sales OPTIONS (SET table_name 'all_sales');",
    },
    Case {
        kind: "column",
        object: "public.remote_sales.id",
        setup: FOREIGN_TABLE,
        change: "ALTER FOREIGN TABLE remote_sales ALTER COLUMN id OPTIONS (SET column_name 'sale_no');",
    },
    Case {
        kind: "text search configuration",
        object: "public.english_plain",
        setup: "CREATE TEXT SEARCH CONFIGURATION english_plain (COPY = english);",
        change: "ALTER TEXT SEARCH CONFIGURATION english_plain DROP MAPPING FOR email;",
    },
    Case {
        kind: "text search dictionary",
        object: "public.simple_stop",
        setup: "CREATE TEXT SEARCH DICTIONARY simple_stop (TEMPLATE = simple, STOPWORDS = english);
                CREATE TEXT SEARCH CONFIGURATION stop_cfg (PARSER = default);
                ALTER TEXT SEARCH CONFIGURATION stop_cfg ADD MAPPING FOR word, asciiword WITH simple_stop;",
        change: "ALTER TEXT SEARCH DICTIONARY simple_stop (ACCEPT = false);",
    },
    Case {
        kind: "operator",
        object: "public.===(integer, integer)",
        setup: "CREATE OPERATOR === (FUNCTION = int4eq, LEFTARG = int, RIGHTARG = int, COMMUTATOR = ===);",
        change: "ALTER OPERATOR ===(int, int) SET (RESTRICT = eqsel);",
    },
    Case {
        kind: "operator family",
        object: "public.int_rev using btree",
        setup: "CREATE FUNCTION int_rev_cmp(int, int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT btint4cmp($2, $1)';
                CREATE OPERATOR CLASS int_rev FOR TYPE int USING btree AS
                  OPERATOR 1 >, OPERATOR 2 >=, OPERATOR 3 =, OPERATOR 4 <=, OPERATOR 5 <, FUNCTION 1 int_rev_cmp(int, int);
                CREATE INDEX t_b_rev ON t (b int_rev);",
        change: "ALTER OPERATOR FAMILY int_rev USING btree ADD OPERATOR 3 = (int, bigint);",
    },
    Case {
        kind: "operator class",
        object: "public.int_rev using hash",
        setup: "CREATE FUNCTION int_hash(int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT hashint4($1)';
                CREATE OPERATOR CLASS int_rev FOR TYPE int USING hash AS OPERATOR 1 =, FUNCTION 1 int_hash(int);",
        change: "DROP OPERATOR CLASS int_rev USING hash;
                 CREATE OPERATOR CLASS int_rev FOR TYPE int USING hash FAMILY int_rev AS OPERATOR 1 =, FUNCTION 1 hashint4(int);",
    },
    Case {
        kind: "cast",
        object: "(public.pair AS text)",
        setup: "CREATE CAST (pair AS text) WITH FUNCTION pair_text(pair);",
        change: "DROP CAST (pair AS text); CREATE CAST (pair AS text) WITH FUNCTION pair_text(pair) AS IMPLICIT;",
    },
    Case {
        kind: "default privileges",
        object: "for role postgres in schema public on tables",
        setup: "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO {reader};
                ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;",
        change: "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT INSERT ON TABLES TO {reader};",
    },
    Case {
        kind: "replica identity",
        object: "public.t",
        setup: "ALTER TABLE t REPLICA IDENTITY FULL;",
        change: "ALTER TABLE t REPLICA IDENTITY USING INDEX t_pkey;",
    },
    Case {
        kind: "column",
        object: "public.t.b",
        setup: "ALTER TABLE t ALTER COLUMN b SET (n_distinct = -1); ALTER TABLE t ALTER COLUMN b SET STATISTICS 500;",
        change: "ALTER TABLE t ALTER COLUMN b SET (n_distinct = 100);",
    },
    Case {
        kind: "column",
        object: "public.t.a",
        setup: "ALTER TABLE t ALTER COLUMN a SET STORAGE EXTERNAL;",
        change: "ALTER TABLE t ALTER COLUMN a SET STORAGE MAIN;",
    },
    Case {
        kind: "column",
        object: "public.t.a",
        setup: "ALTER TABLE t ALTER COLUMN a SET COMPRESSION pglz;",
        change: "ALTER TABLE t ALTER COLUMN a SET COMPRESSION default;",
    },
];

/// What `DROP DATABASE` needs gone first: a subscription keeps its database.
const CLEANUP: &str = "DROP SUBSCRIPTION IF EXISTS vendor_pull";

/// A server-wide role for the test, dropped at its end.
struct Role {
    name: String,
    admin: TestPg,
}

impl Drop for Role {
    fn drop(&mut self) {
        let _ = self
            .admin
            .try_exec(&format!("DROP ROLE IF EXISTS \"{}\"", self.name));
    }
}

/// One case: None when it holds, or what went wrong.
fn run(case: &Case, reader: &str) -> Option<Result<(), String>> {
    let setup = case.setup.replace("{reader}", &format!("\"{reader}\""));
    let change = case.change.replace("{reader}", &format!("\"{reader}\""));
    let a = TestPg::new("kinds_a")?;
    let b = TestPg::new("kinds_b")?;
    let result = (|| {
        a.try_exec(BASE).map_err(|e| format!("base: {e}"))?;
        a.try_exec(&setup).map_err(|e| format!("setup: {e}"))?;
        let expected = a.inspect();
        let script = create_plan(&expected).to_sql();
        b.try_exec(&script)
            .map_err(|e| format!("create script failed: {e}\n{script}"))?;
        let copy = b.inspect();
        let items = drift(&expected, &copy);
        if !items.is_empty() {
            let d: Vec<String> = items.iter().map(|i| i.describe()).collect();
            return Err(format!("untouched copy drifts: {d:?}\n{script}"));
        }
        if let (Some(da), Some(db)) = (
            support::pg_dump_lines(&a.url),
            support::pg_dump_lines(&b.url),
        ) {
            let d = support::dump_difference(&da, &db);
            if !d.is_empty() {
                return Err(format!("pg_dump differs:\n{}\n{script}", d.join("\n")));
            }
        }
        b.try_exec(&change).map_err(|e| format!("change: {e}"))?;
        let changed = b.inspect();
        if serde_json::to_string(&changed).unwrap().contains("s3cret") {
            return Err("a password reached the model".into());
        }
        let items = drift(&expected, &changed);
        let d: Vec<String> = items.iter().map(|i| i.describe()).collect();
        match items.as_slice() {
            [one] if one.kind == case.kind && one.object == case.object => Ok(()),
            _ => Err(format!(
                "want one item {} {}, got {d:?}",
                case.kind, case.object
            )),
        }
    })();
    for pg in [&a, &b] {
        let _ = pg.try_exec(CLEANUP);
    }
    Some(result)
}

#[test]
fn each_kind_drifts_as_one_item_and_its_copy_is_identical() {
    let Some(admin) = TestPg::new("kinds_roles") else {
        return;
    };
    let role = Role {
        name: unique_name("lsr_reader"),
        admin,
    };
    role.admin
        .exec(&format!("CREATE ROLE \"{}\" NOLOGIN", role.name));
    let mut failures = vec![];
    for case in CASES {
        let Some(r) = run(case, &role.name) else {
            return;
        };
        let label = format!("{} {}", case.kind, case.object);
        match r {
            Ok(()) => eprintln!("ok    {label}"),
            Err(e) => {
                eprintln!("FAIL  {label}");
                failures.push(format!("{label}: {e}"));
            }
        }
    }
    eprintln!(
        "{} of {} kinds hold",
        CASES.len() - failures.len(),
        CASES.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// A password in a subscription's connection string or a user mapping never reaches
/// the model (snapshots, drift output), yet setting one is drift.
#[test]
fn passwords_stay_out_of_the_model_but_setting_one_is_drift() {
    let Some(pg) = TestPg::new("kinds_pw") else {
        return;
    };
    pg.exec(
        "CREATE FOREIGN DATA WRAPPER dummy; CREATE SERVER vendor FOREIGN DATA WRAPPER dummy;
         CREATE USER MAPPING FOR PUBLIC SERVER vendor OPTIONS (user 'pos');",
    );
    let before = pg.inspect();
    pg.exec(
        "ALTER USER MAPPING FOR PUBLIC SERVER vendor OPTIONS (ADD password 's3cret-pw');
         CREATE SUBSCRIPTION vendor_pull CONNECTION 'host=127.0.0.1 user=vendor password=s3cret-pw' PUBLICATION sales WITH (connect = false, slot_name = NONE);
         CREATE SUBSCRIPTION vendor_uri CONNECTION 'postgresql://vendor:s3cret-pw@127.0.0.1/x' PUBLICATION sales WITH (connect = false, slot_name = NONE);",
    );
    let after = pg.inspect();
    let _ = pg.try_exec(&format!(
        "{CLEANUP}; DROP SUBSCRIPTION IF EXISTS vendor_uri"
    ));
    let json = serde_json::to_string(&after).unwrap();
    assert!(
        !json.contains("s3cret"),
        "a password reached the model: {json}"
    );
    let mut items: Vec<String> = drift(&before, &after)
        .iter()
        .map(|i| format!("{} {} {}", i.kind, i.object, i.change))
        .collect();
    items.sort();
    assert_eq!(
        items,
        [
            "subscription vendor_pull added",
            "subscription vendor_uri added",
            "user mapping for PUBLIC server vendor changed",
        ],
        "{items:?}"
    );
}

/// What inspection sees but does not model is listed as such, is drift when it comes or
/// goes, and a create script says it cannot make it instead of leaving it out silently.
#[test]
fn what_is_not_modelled_is_listed_compared_and_never_silently_dropped() {
    let Some(pg) = TestPg::new("kinds_unmodelled") else {
        return;
    };
    let before = pg.inspect();
    pg.exec("CREATE TYPE shell_only;");
    let after = pg.inspect();
    assert!(
        after
            .env
            .warnings
            .contains(&"not modelled: type public.shell_only".to_string()),
        "{:?}",
        after.env.warnings
    );
    let items: Vec<String> = drift(&before, &after)
        .iter()
        .map(|i| format!("{} {} {}", i.kind, i.object, i.change))
        .collect();
    assert_eq!(items, ["type public.shell_only added"], "{items:?}");
    let plan = create_plan(&after);
    assert!(
        plan.unsupported
            .contains(&"not modelled: type public.shell_only".to_string()),
        "{:?}",
        plan.unsupported
    );
}
