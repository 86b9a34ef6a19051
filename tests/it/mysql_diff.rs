//! MySQL/MariaDB diff → SQL: for each before/after pair, the plan lockstep writes,
//! applied to "before" through lockstep's executor, gives "after" (diff identical), and
//! no plan renames anything. Where a plan names an algorithm (`ALGORITHM=INSTANT`,
//! `INPLACE`), the server running it proves the claim: it refuses otherwise.

use crate::mysql_support::TestMysql;
use lockstep_core::diff::diff;
use lockstep_core::plan;

/// (name, before, after). Each side runs on an empty database.
const PAIRS: &[(&str, &str, &str)] = &[
    (
        "column added last",
        "CREATE TABLE t (id int PRIMARY KEY, a int);",
        "CREATE TABLE t (id int PRIMARY KEY, a int, b varchar(10) DEFAULT 'x');",
    ),
    (
        "columns added first and in the middle",
        "CREATE TABLE t (id int PRIMARY KEY, a int);",
        "CREATE TABLE t (z int, id int PRIMARY KEY, m text, a int);",
    ),
    (
        "column dropped",
        "CREATE TABLE t (id int PRIMARY KEY, a int, b int);",
        "CREATE TABLE t (id int PRIMARY KEY, b int);",
    ),
    (
        "a column present on one side only is added and dropped, never renamed",
        "CREATE TABLE t (id int PRIMARY KEY, old_name int, c int);",
        "CREATE TABLE t (id int PRIMARY KEY, new_name int, c int);",
    ),
    (
        "columns retyped",
        "CREATE TABLE t (id int PRIMARY KEY, n int, s varchar(10), e enum('a','b'), w varchar(100), d decimal(5,2));",
        "CREATE TABLE t (id int PRIMARY KEY, n bigint, s varchar(50), e enum('a','b','c'), w varchar(10), d decimal(9,3));",
    ),
    (
        "columns re-defaulted",
        "CREATE TABLE t (id int PRIMARY KEY, a varchar(5) DEFAULT 'x', b int, c int DEFAULT 3, u char(36), ts timestamp NULL);",
        "CREATE TABLE t (id int PRIMARY KEY, a varchar(5) DEFAULT 'y', b int DEFAULT 0, c int, u char(36) DEFAULT uuid(), ts timestamp NULL DEFAULT current_timestamp() ON UPDATE current_timestamp());",
    ),
    (
        "nullability, comments and auto_increment",
        "CREATE TABLE t (id int NOT NULL, a int, b int NOT NULL, PRIMARY KEY (id));",
        "CREATE TABLE t (id int NOT NULL AUTO_INCREMENT, a int NOT NULL COMMENT 'now required', b int NULL, PRIMARY KEY (id));",
    ),
    (
        "character sets of columns and of the table",
        "CREATE TABLE t (id int PRIMARY KEY, a varchar(10), b varchar(10) CHARACTER SET latin1, c text) DEFAULT CHARSET=utf8mb4;",
        "CREATE TABLE t (id int PRIMARY KEY, a varchar(10), b varchar(10), c text CHARACTER SET utf8mb4 COLLATE utf8mb4_bin) DEFAULT CHARSET=latin1;",
    ),
    (
        "indexes added, dropped and changed",
        "CREATE TABLE t (id int PRIMARY KEY, a varchar(50), b int, c text, KEY ix_a (a), KEY ix_b (b), KEY ix_old (b, a));",
        "CREATE TABLE t (id int PRIMARY KEY, a varchar(50), b int, c text, KEY ix_a (a(10)), UNIQUE KEY ix_b (b), KEY ix_new (a, b DESC) COMMENT 'new', FULLTEXT KEY ft_c (c));",
    ),
    (
        "an index comment and an ignored index",
        "CREATE TABLE t (id int PRIMARY KEY, a int, KEY ix_a (a), KEY ix_i (id, a));",
        "CREATE TABLE t (id int PRIMARY KEY, a int, KEY ix_a (a) COMMENT 'hot path', KEY ix_i (id, a) IGNORED);",
    ),
    (
        "foreign keys added, dropped and changed",
        "CREATE TABLE p (id int PRIMARY KEY); CREATE TABLE q (id int PRIMARY KEY);
         CREATE TABLE c (id int PRIMARY KEY, p int, q int, KEY (q), CONSTRAINT fk_p FOREIGN KEY (p) REFERENCES p (id), CONSTRAINT fk_q FOREIGN KEY (q) REFERENCES q (id));",
        "CREATE TABLE p (id int PRIMARY KEY); CREATE TABLE q (id int PRIMARY KEY);
         CREATE TABLE c (id int PRIMARY KEY, p int, q int, KEY (q), CONSTRAINT fk_p FOREIGN KEY (p) REFERENCES p (id) ON DELETE CASCADE);
         CREATE TABLE d (id int PRIMARY KEY, c int, FOREIGN KEY (c) REFERENCES c (id) ON UPDATE SET NULL);",
    ),
    (
        "the index a foreign key needs is changed",
        "CREATE TABLE p (id int PRIMARY KEY);
         CREATE TABLE c (id int PRIMARY KEY, p int, x int, KEY ix_p (p), CONSTRAINT fk_p FOREIGN KEY (p) REFERENCES p (id));",
        "CREATE TABLE p (id int PRIMARY KEY);
         CREATE TABLE c (id int PRIMARY KEY, p int, x int, KEY ix_p (p, x), CONSTRAINT fk_p FOREIGN KEY (p) REFERENCES p (id));",
    ),
    (
        "check constraints added, dropped and changed",
        "CREATE TABLE t (id int PRIMARY KEY, a int CHECK (a > 0), b int, CONSTRAINT chk_b CHECK (b < 10), CONSTRAINT chk_old CHECK (b <> 5));",
        "CREATE TABLE t (id int PRIMARY KEY, a int CHECK (a >= 0), b int, CONSTRAINT chk_b CHECK (b < 100), CONSTRAINT chk_new CHECK (a <> b));",
    ),
    (
        "a column with its own CHECK is retyped and keeps the check (MariaDB drops it on MODIFY without it)",
        "CREATE TABLE t (id int PRIMARY KEY, a int CHECK (a > 0), b int);",
        "CREATE TABLE t (id int PRIMARY KEY, a bigint CHECK (a > 0), b int DEFAULT 1 CHECK (b < 9));",
    ),
    (
        "json column, generated and invisible columns",
        "CREATE TABLE t (id int PRIMARY KEY, a int, g int AS (a * 2) VIRTUAL, h int INVISIBLE);",
        "CREATE TABLE t (id int PRIMARY KEY, a int, g int AS (a * 3) VIRTUAL, h int, j json, s int AS (a + 1) STORED);",
    ),
    (
        "views changed, added and dropped, and a view over a retyped column",
        "CREATE TABLE t (id int PRIMARY KEY, a int, b int);
         CREATE VIEW v1 AS SELECT id, a FROM t; CREATE VIEW v2 AS SELECT id FROM t; CREATE VIEW v3 AS SELECT a FROM v1;",
        "CREATE TABLE t (id int PRIMARY KEY, a bigint, b int);
         CREATE VIEW v1 AS SELECT id, a, b FROM t; CREATE SQL SECURITY INVOKER VIEW v3 AS SELECT a FROM v1 WHERE a > 0 WITH CHECK OPTION;
         CREATE VIEW v4 AS SELECT b FROM t;",
    ),
    (
        "triggers added, changed and dropped",
        "CREATE TABLE t (id int PRIMARY KEY, a int, b int);
         CREATE TRIGGER tr_a BEFORE INSERT ON t FOR EACH ROW SET NEW.a = 1;
         CREATE TRIGGER tr_gone BEFORE UPDATE ON t FOR EACH ROW SET NEW.b = 2;",
        "CREATE TABLE t (id int PRIMARY KEY, a int, b int);
         CREATE TRIGGER tr_a BEFORE INSERT ON t FOR EACH ROW SET NEW.a = 2;
         CREATE TRIGGER tr_b BEFORE INSERT ON t FOR EACH ROW FOLLOWS tr_a BEGIN SET NEW.b = NEW.a + 1; SET NEW.b = NEW.b * 2; END;",
    ),
    (
        "a trigger that another follows is re-created: the follower keeps its place",
        "CREATE TABLE t (id int PRIMARY KEY, a int);
         CREATE TRIGGER tr_a BEFORE INSERT ON t FOR EACH ROW SET NEW.a = 1;
         CREATE TRIGGER tr_b BEFORE INSERT ON t FOR EACH ROW FOLLOWS tr_a SET NEW.a = NEW.a + 1;",
        "CREATE TABLE t (id int PRIMARY KEY, a int);
         CREATE TRIGGER tr_a BEFORE INSERT ON t FOR EACH ROW SET NEW.a = 5;
         CREATE TRIGGER tr_b BEFORE INSERT ON t FOR EACH ROW FOLLOWS tr_a SET NEW.a = NEW.a + 1;",
    ),
    (
        "table options",
        "CREATE TABLE t (id int PRIMARY KEY) ENGINE=InnoDB COMMENT='old';
         CREATE TABLE u (id int PRIMARY KEY) ENGINE=InnoDB ROW_FORMAT=DYNAMIC;
         CREATE TABLE w (id int PRIMARY KEY, s varchar(10)) ENGINE=InnoDB;",
        "CREATE TABLE t (id int PRIMARY KEY) ENGINE=InnoDB COMMENT='new';
         CREATE TABLE u (id int PRIMARY KEY) ENGINE=InnoDB ROW_FORMAT=COMPACT STATS_PERSISTENT=0;
         CREATE TABLE w (id int PRIMARY KEY, s varchar(10)) ENGINE=MyISAM;",
    ),
    (
        "partitioning added and removed",
        "CREATE TABLE t (id int PRIMARY KEY);
         CREATE TABLE u (id int PRIMARY KEY) PARTITION BY HASH (id) PARTITIONS 4;",
        "CREATE TABLE t (id int PRIMARY KEY) PARTITION BY RANGE (id) (PARTITION p0 VALUES LESS THAN (100), PARTITION p1 VALUES LESS THAN MAXVALUE);
         CREATE TABLE u (id int PRIMARY KEY);",
    ),
    (
        "column order",
        "CREATE TABLE t (a int, b int, c int, d int);",
        "CREATE TABLE t (d int, b int, a int, c int);",
    ),
    (
        "primary key changed",
        "CREATE TABLE t (a int NOT NULL, b int NOT NULL, PRIMARY KEY (a));",
        "CREATE TABLE t (a int NOT NULL, b int NOT NULL, PRIMARY KEY (a, b));",
    ),
    (
        "routines and events",
        "CREATE TABLE t (id int PRIMARY KEY);
         CREATE FUNCTION f(x int) RETURNS int DETERMINISTIC RETURN x + 1;
         CREATE PROCEDURE p_gone() SELECT 1;
         CREATE EVENT e ON SCHEDULE EVERY 1 HOUR DISABLE DO DELETE FROM t;",
        "CREATE TABLE t (id int PRIMARY KEY);
         CREATE FUNCTION f(x int) RETURNS int DETERMINISTIC RETURN x + 2;
         CREATE PROCEDURE p_new(IN a int, OUT b int) BEGIN SET b = a * 2; SELECT b; END;
         CREATE EVENT e ON SCHEDULE EVERY 2 HOUR DISABLE COMMENT 'slower' DO DELETE FROM t WHERE id < 0;",
    ),
    (
        "sequences",
        "CREATE SEQUENCE s1 START WITH 1 INCREMENT BY 1; CREATE SEQUENCE s_gone;",
        "CREATE SEQUENCE s1 START WITH 1 INCREMENT BY 10 CACHE 20; CREATE SEQUENCE s_new START WITH 5;",
    ),
    (
        "tables created and dropped",
        "CREATE TABLE keep (id int PRIMARY KEY); CREATE TABLE gone (id int PRIMARY KEY, k int, FOREIGN KEY (k) REFERENCES keep (id));",
        "CREATE TABLE keep (id int PRIMARY KEY); CREATE TABLE fresh (id int PRIMARY KEY, k int, name varchar(20) NOT NULL, UNIQUE KEY (name), FOREIGN KEY (k) REFERENCES keep (id));",
    ),
];

fn run_pair(name: &str, before: &str, after: &str) -> Result<usize, String> {
    let (Some(a), Some(b)) = (TestMysql::new("dfa"), TestMysql::new("dfb")) else {
        return Ok(0);
    };
    a.exec(before);
    b.exec(after);
    let ma = a.inspect();
    let mb = b.inspect();
    let changes = diff(&ma, &mb);
    if changes.is_empty() {
        return Err(format!("{name}: no difference found between the two sides"));
    }
    let p = plan::plan(&changes, &ma, &mb);
    if !p.unsupported.is_empty() {
        return Err(format!("{name}: unsupported: {:?}", p.unsupported));
    }
    let sql = p.to_sql();
    // The statements, not the notes (which point out a possible rename).
    if p.statements
        .iter()
        .any(|s| s.sql.to_ascii_uppercase().contains("RENAME"))
    {
        return Err(format!("{name}: the plan renames something:\n{sql}"));
    }
    a.try_exec(&sql)
        .map_err(|e| format!("{name}: the plan failed: {e}\n--- plan:\n{sql}"))?;
    let after_plan = a.inspect();
    let left = diff(&after_plan, &mb);
    if !left.is_empty() {
        return Err(format!(
            "{name}: after the plan, still:\n{}\n--- plan:\n{sql}",
            left.iter()
                .map(|c| c.describe())
                .collect::<Vec<_>>()
                .join("\n")
        ));
    }
    Ok(p.statements.len())
}

#[test]
fn every_plan_turns_before_into_after() {
    if TestMysql::new("probe").is_none() {
        return;
    }
    let mut failures = vec![];
    for (name, before, after) in PAIRS {
        match run_pair(name, before, after) {
            Ok(n) => eprintln!("{name}: {n} statement(s), identical after"),
            Err(e) => failures.push(e),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn plans_say_what_copies_the_table_and_name_instant_where_it_is() {
    let (Some(a), Some(b)) = (TestMysql::new("alga"), TestMysql::new("algb")) else {
        return;
    };
    a.exec("CREATE TABLE t (id int PRIMARY KEY, a int, s varchar(10));");
    b.exec("CREATE TABLE t (id int PRIMARY KEY, a bigint, s varchar(10), x int);");
    let (ma, mb) = (a.inspect(), b.inspect());
    let p = plan::plan(&diff(&ma, &mb), &ma, &mb);
    let sql = p.to_sql();
    assert!(
        sql.contains("ADD COLUMN `x` int, ALGORITHM=INSTANT"),
        "{sql}"
    );
    assert!(
        sql.contains("-- lockstep: copies the table (a column's type changes)\nALTER TABLE `t` MODIFY COLUMN `a` bigint"),
        "{sql}"
    );
    // A wider integer keeps every value: it copies the table but destroys nothing
    // (issue 17); the narrowing back is destructive.
    assert!(p
        .statements
        .iter()
        .any(|s| !s.destructive && s.sql.contains("MODIFY COLUMN `a`")));
    let back = plan::plan(&diff(&mb, &ma), &mb, &ma);
    assert!(back
        .statements
        .iter()
        .any(|s| s.destructive && s.sql.contains("MODIFY COLUMN `a` int")));
    a.exec(&sql);
    assert!(diff(&a.inspect(), &mb).is_empty());
}
