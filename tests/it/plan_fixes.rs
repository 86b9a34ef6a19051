//! PostgreSQL plans that used to fail to apply (issue 11): each before/after pair is
//! planned, the plan applied to "before" with rows in it, and "before" then diffs
//! identical to "after", its rows kept where the change keeps them.

use crate::harness::pg_value;
use crate::support::TestPg;
use lockstep_core::diff::{diff, Change};
use lockstep_core::plan::{self, Options, Plan};

struct Applied {
    plan: Plan,
    sql: String,
    before: TestPg,
}

/// Plans `before` → `after` and applies the plan to `before` in one transaction; fails
/// unless `before` then diffs identical to `after`. None when PostgreSQL is unavailable.
fn apply(before: &str, after: &str, opts: Options) -> Option<Applied> {
    let a = TestPg::new("pfa")?;
    let b = TestPg::new("pfb")?;
    a.exec(before);
    b.exec(after);
    let (from, to) = (a.inspect(), b.inspect());
    let changes = diff(&from, &to);
    assert!(!changes.is_empty(), "the two sides do not differ");
    let p = plan::plan_with(&changes, &from, &to, opts);
    let sql = p.to_sql();
    assert!(p.unsupported.is_empty(), "{:?}\n{sql}", p.unsupported);
    a.try_exec(&format!("BEGIN;\n{sql}COMMIT;"))
        .unwrap_or_else(|e| panic!("the plan failed: {e}\n--- plan:\n{sql}"));
    let left = diff(&a.inspect(), &to);
    assert!(
        left.is_empty(),
        "after the plan, still:\n{}\n--- plan:\n{sql}",
        left.iter()
            .map(Change::describe)
            .collect::<Vec<_>>()
            .join("\n")
    );
    Some(Applied {
        plan: p,
        sql,
        before: a,
    })
}

#[test]
fn enum_to_another_enum_goes_through_text() {
    let types = "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
                 CREATE TYPE feeling AS ENUM ('sad', 'ok', 'happy', 'elated');";
    let Some(r) = apply(
        &format!(
            "{types} CREATE TABLE t (id int PRIMARY KEY, m mood, ms mood[]);
             INSERT INTO t VALUES (1, 'ok', '{{sad,happy}}'), (2, 'happy', NULL), (3, NULL, '{{}}');"
        ),
        &format!("{types} CREATE TABLE t (id int PRIMARY KEY, m feeling, ms feeling[]);"),
        Options::default(),
    ) else {
        return;
    };
    assert!(
        r.sql.contains("USING \"m\"::text::public.feeling"),
        "{}",
        r.sql
    );
    assert!(
        r.sql.contains("USING \"ms\"::text[]::public.feeling[]"),
        "{}",
        r.sql
    );
    assert_eq!(
        pg_value(
            &r.before.url,
            "SELECT string_agg(id || ':' || coalesce(m::text, '-') || ':' || coalesce(ms::text, '-'), ' ' ORDER BY id) FROM t"
        ),
        "1:ok:{sad,happy} 2:happy:- 3:-:{}"
    );
}

const MEASUREMENT: &str = "
CREATE TABLE measurement (id bigint NOT NULL, logged date NOT NULL, v int, old_note text)
    PARTITION BY RANGE (logged);
CREATE TABLE measurement_2024 PARTITION OF measurement
    FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE measurement_2025 PARTITION OF measurement
    FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');";

#[test]
fn a_column_added_to_a_partitioned_table_reaches_its_partitions_through_it() {
    let after = "
CREATE TABLE measurement (id bigint NOT NULL, logged date NOT NULL, v bigint, note text DEFAULT 'n')
    PARTITION BY RANGE (logged);
CREATE TABLE measurement_2024 PARTITION OF measurement
    FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE measurement_2025 PARTITION OF measurement
    FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');";
    let Some(r) = apply(
        &format!(
            "{MEASUREMENT} INSERT INTO measurement VALUES (1, '2024-03-01', 5, 'x'), (2, '2025-03-01', 6, 'y');"
        ),
        after,
        Options::default(),
    ) else {
        return;
    };
    // One ADD, one DROP and one retype, each on the parent only.
    for verb in ["ADD COLUMN", "DROP COLUMN", "TYPE bigint"] {
        assert_eq!(r.sql.matches(verb).count(), 1, "{verb}:\n{}", r.sql);
    }
    assert!(!r.sql.contains("\"measurement_2024\" ADD"), "{}", r.sql);
    assert_eq!(
        pg_value(
            &r.before.url,
            "SELECT string_agg(id || ':' || v || ':' || note, ' ' ORDER BY id) FROM measurement"
        ),
        "1:5:n 2:6:n"
    );
}

#[test]
fn generated_columns_are_dropped_and_added_again() {
    let Some(r) = apply(
        // A column added again goes to the end, so these are last, in order.
        "CREATE TABLE t (id int PRIMARY KEY, price int, qty int,
             fixed int GENERATED ALWAYS AS (price + 1) STORED,
             total int GENERATED ALWAYS AS (price * qty) STORED,
             plain int);
         CREATE INDEX t_total ON t (total);
         INSERT INTO t (id, price, qty, plain) VALUES (1, 2, 3, 7), (2, 5, 5, 8);",
        "CREATE TABLE t (id int PRIMARY KEY, price int, qty int,
             fixed int,
             total int GENERATED ALWAYS AS (price * qty + 1) STORED,
             plain int GENERATED ALWAYS AS (price - qty) STORED);
         CREATE INDEX t_total ON t (total);",
        Options::default(),
    ) else {
        return;
    };
    let drops: Vec<_> = r
        .plan
        .statements
        .iter()
        .filter(|s| s.sql.contains("DROP COLUMN"))
        .collect();
    // total (recomputed: not destructive) and plain (its values lost: destructive);
    // `fixed` stops being generated in place and keeps its values.
    assert_eq!(drops.len(), 2, "{}", r.sql);
    assert!(
        drops
            .iter()
            .all(|s| s.destructive == s.sql.contains("\"plain\"")),
        "{}",
        r.sql
    );
    assert!(r.sql.contains("DROP EXPRESSION"), "{}", r.sql);
    assert_eq!(
        pg_value(
            &r.before.url,
            "SELECT string_agg(concat_ws(':', id, total, fixed, plain), ' ' ORDER BY id) FROM t"
        ),
        "1:7:3:-1 2:26:6:0"
    );
}

#[test]
fn a_table_that_becomes_partitioned_is_rebuilt_only_when_allowed() {
    let before = "
CREATE TABLE events (id serial, at date NOT NULL, kind text CHECK (kind <> ''), PRIMARY KEY (id, at));
CREATE INDEX events_kind ON events (kind);
CREATE TABLE notes (id int PRIMARY KEY, event_id int, event_at date,
    FOREIGN KEY (event_id, event_at) REFERENCES events (id, at));
CREATE VIEW recent AS SELECT id, kind FROM events WHERE at > '2024-06-01';
INSERT INTO events (at, kind) VALUES ('2024-01-05', 'a'), ('2024-07-01', 'b'), ('2025-02-02', 'c');
INSERT INTO notes VALUES (1, 2, '2024-07-01');";
    let after = "
CREATE TABLE events (id serial, at date NOT NULL, kind text CHECK (kind <> ''), PRIMARY KEY (id, at))
    PARTITION BY RANGE (at);
CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE events_rest PARTITION OF events DEFAULT;
CREATE INDEX events_kind ON events (kind);
CREATE TABLE notes (id int PRIMARY KEY, event_id int, event_at date,
    FOREIGN KEY (event_id, event_at) REFERENCES events (id, at));
CREATE VIEW recent AS SELECT id, kind FROM events WHERE at > '2024-06-01';";
    // Without the flag: no plan for it, and the reason names the flag.
    let (Some(a), Some(b)) = (TestPg::new("pfa"), TestPg::new("pfb")) else {
        return;
    };
    a.exec(before);
    b.exec(after);
    let (from, to) = (a.inspect(), b.inspect());
    let p = plan::plan(&diff(&from, &to), &from, &to);
    assert!(
        p.unsupported
            .iter()
            .any(|u| u.contains("partitioning of") && u.contains("--allow-rebuild")),
        "{:?}",
        p.unsupported
    );
    assert!(!p.to_sql().contains("INSERT INTO"), "{}", p.to_sql());
    drop((a, b));
    let Some(r) = apply(
        before,
        after,
        Options {
            allow_rebuild: true,
        },
    ) else {
        return;
    };
    assert!(
        r.plan.statements.iter().any(|s| s.destructive
            && s.sql
                .contains("DROP TABLE \"public\".\"lockstep_old_events\"")),
        "{}",
        r.sql
    );
    let url = &r.before.url;
    assert_eq!(
        pg_value(url, "SELECT string_agg(tableoid::regclass || ':' || id || ':' || kind, ' ' ORDER BY id) FROM events"),
        "events_2024:1:a events_2024:2:b events_rest:3:c"
    );
    // The sequence still belongs to the table and carries on after the copied ids.
    assert_eq!(pg_value(url, "SELECT nextval('events_id_seq')::text"), "4");
    assert_eq!(pg_value(url, "SELECT count(*)::text FROM recent"), "2");
    assert_eq!(
        pg_value(
            url,
            "SELECT count(*)::text FROM notes JOIN events ON event_id = events.id"
        ),
        "1"
    );
}
