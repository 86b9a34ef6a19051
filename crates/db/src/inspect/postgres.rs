//! PostgreSQL inspection (13 and later).
//!
//! The whole schema is read inside one `REPEATABLE READ READ ONLY` transaction with a
//! fixed list of catalog queries ([`QUERY_COUNT`] of them), one per object kind, whatever
//! the number of objects. Per-object round trips are what make catalog readers slow on
//! big schemas, so every query returns all objects of its kind and the model is
//! assembled in Rust from maps keyed by OID.
//!
//! Text is the server's own canonical rendering (`format_type`, `pg_get_expr`,
//! `pg_get_indexdef`, ...). Those functions qualify names that are not visible on the
//! `search_path`, so the transaction pins `search_path` to empty, as `pg_dump` does:
//! the same schema then reads the same on every server, whatever a role's or
//! database's `search_path` is, and every name in the text is qualified
//! (`public.mood`, `nextval('public.t_id_seq'::regclass)`) except `pg_catalog`'s.
//!
//! Left out: the system schemas, lockstep's own `lockstep` schema, and every object an
//! extension owns (the extension itself is listed instead). Aggregates are left out
//! because `pg_get_functiondef` cannot print them.

use crate::{DbError, DbUrl};
use lockstep_core::model::{
    Attribute, ColumnRef, Column, Constraint, ConstraintKind, Database, Dialect, Extension,
    Function, Generated, Grant, Identity, Index, Namespace, PartitionOf, Policy, QualName,
    Role, Sequence, Table, TableKind, Trigger, TypeDef, TypeKind, View,
};
use sqlx::postgres::types::Oid;
use sqlx::postgres::PgRow;
use sqlx::{Connection, PgConnection, Row};
use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

// ---------------------------------------------------------------------------- SQL
//
// The statements are static strings assembled with `concat!`, so no value is ever
// spliced into SQL. The transaction runs with an empty `search_path`, so unqualified
// catalog names can only resolve to `pg_catalog`.

/// Namespaces lockstep shows, for the `pg_namespace` alias `$n`. Every schema whose
/// name starts with `pg_` is the system's (`pg_catalog`, `pg_toast`, `pg_temp_N`,
/// `pg_toast_temp_N`; users may not create such names).
macro_rules! user_ns {
    ($n:literal) => {
        concat!(
            "(", $n, ".nspname !~ '^pg_' AND ", $n,
            ".nspname NOT IN ('information_schema', 'lockstep') AND NOT EXISTS (SELECT FROM pg_depend xn WHERE xn.classid = 'pg_namespace'::regclass AND xn.objid = ",
            $n, ".oid AND xn.deptype = 'e'))"
        )
    };
}

/// True when the object `$oid` of catalog `$catalog` is not an extension member.
/// `pg_depend`'s (classid, objid, objsubid) index keeps this a lookup, not a scan.
macro_rules! not_ext {
    ($catalog:literal, $oid:literal) => {
        concat!(
            "NOT EXISTS (SELECT FROM pg_depend xe WHERE xe.classid = '", $catalog,
            "'::regclass AND xe.objid = ", $oid, " AND xe.deptype = 'e')"
        )
    };
}

/// Privileges as `text[]`, one `<t|f><PRIVILEGE>:<grantee>` element each (`t` when
/// grantable). A privilege name never contains `:`, so the grantee is everything after
/// the first one, whatever characters a role name has.
///
/// A NULL ACL means the default one, which is materialized with `acldefault` so that,
/// say, the PUBLIC `EXECUTE` every function starts with is visible and a `REVOKE ...
/// FROM PUBLIC` shows up as a difference. The owner's own rows are dropped: an owner
/// holds every privilege implicitly, and owners are compared separately.
macro_rules! grants {
    ($acl:literal, $kind:literal, $owner:literal) => {
        concat!(
            "ARRAY(SELECT CASE WHEN g.is_grantable THEN 't' ELSE 'f' END || g.privilege_type || ':' || CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(g.grantee)::text END FROM aclexplode(COALESCE(",
            $acl, ", acldefault(", $kind, ", ", $owner, "))) g WHERE g.grantee <> ", $owner, ")"
        )
    };
}

const SQL_SEARCH_PATH: &str = "SELECT pg_catalog.set_config('search_path', '', true)";

/// Settings as the session started with them (`reset_val`). Those the client sent in
/// the startup packet are left out: sqlx always sends `DateStyle` and `TimeZone`, so
/// for them the server's own configuration cannot be seen from this connection.
const SQL_SETTINGS: &str = "
SELECT s.name::text AS name, s.reset_val AS value
FROM pg_settings s
WHERE s.name IN ('server_version', 'server_version_num', 'server_encoding', 'TimeZone',
                 'DateStyle', 'IntervalStyle', 'standard_conforming_strings',
                 'default_transaction_isolation', 'search_path', 'max_connections',
                 'shared_preload_libraries')
  AND s.source <> 'client'
UNION ALL
SELECT 'lc_collate', d.datcollate::text FROM pg_database d WHERE d.datname = current_database()
UNION ALL
SELECT 'lc_ctype', d.datctype::text FROM pg_database d WHERE d.datname = current_database()
UNION ALL
-- datlocprovider exists from 15 on; reading it through jsonb keeps one statement for all versions
SELECT 'locale_provider', to_jsonb(d) ->> 'datlocprovider' FROM pg_database d
WHERE d.datname = current_database() AND to_jsonb(d) ? 'datlocprovider'
UNION ALL
SELECT 'icu_locale', COALESCE(to_jsonb(d) ->> 'datlocale', to_jsonb(d) ->> 'daticulocale')
FROM pg_database d
WHERE d.datname = current_database()
  AND COALESCE(to_jsonb(d) ->> 'datlocale', to_jsonb(d) ->> 'daticulocale') IS NOT NULL";

/// Comments on everything. Built-in objects (OID below 16384) are skipped except
/// schemas and extensions, whose built-in members (`public`, `plpgsql`) are shown.
const SQL_COMMENTS: &str = "
SELECT d.classoid::regclass::text AS catalog, d.objoid AS oid, d.objsubid AS subid, d.description
FROM pg_description d
WHERE d.classoid IN ('pg_namespace'::regclass, 'pg_class'::regclass, 'pg_type'::regclass,
                     'pg_proc'::regclass, 'pg_constraint'::regclass, 'pg_trigger'::regclass,
                     'pg_extension'::regclass)
  AND (d.objoid >= 16384 OR d.classoid IN ('pg_namespace'::regclass, 'pg_extension'::regclass))";

const SQL_ROLES: &str = "
SELECT r.rolname::text AS name, r.rolcanlogin AS login, r.rolsuper AS superuser,
       r.rolcreatedb AS createdb, r.rolcreaterole AS createrole, r.rolinherit AS inherit,
       r.rolreplication AS replication, r.rolbypassrls AS bypassrls,
       r.rolconnlimit AS connection_limit,
       ARRAY(SELECT DISTINCT b.rolname::text FROM pg_auth_members m
             JOIN pg_roles b ON b.oid = m.roleid
             WHERE m.member = r.oid AND b.rolname !~ '^pg_') AS member_of
FROM pg_roles r";

const SQL_SCHEMAS: &str = concat!(
    "SELECT n.oid, n.nspname::text AS name, pg_get_userbyid(n.nspowner)::text AS owner, ",
    grants!("n.nspacl", "'n'", "n.nspowner"),
    " AS grants FROM pg_namespace n WHERE ",
    user_ns!("n")
);

const SQL_EXTENSIONS: &str = "
SELECT e.oid, e.extname::text AS name, n.nspname::text AS schema, e.extversion AS version
FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace";

/// Tables, partitioned and foreign tables, views and materialized views.
const SQL_RELATIONS: &str = concat!(
    "SELECT c.oid, n.nspname::text AS schema, c.relname::text AS name, c.relkind::text AS kind,
       c.relpersistence::text AS persistence, c.reloptions::text[] AS options,
       pg_get_userbyid(c.relowner)::text AS owner,
       c.relrowsecurity AS rls_enabled, c.relforcerowsecurity AS rls_forced,
       CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END AS partition_key,
       CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END AS partition_bound,
       pi.inhparent AS parent_oid, pn.nspname::text AS parent_schema, pc.relname::text AS parent_name,
       CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END AS view_definition,
       c.reltype AS row_type, rt.typarray AS row_array_type, ",
    grants!("c.relacl", "'r'", "c.relowner"),
    " AS grants
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_inherits pi ON c.relispartition AND pi.inhrelid = c.oid
LEFT JOIN pg_class pc ON pc.oid = pi.inhparent
LEFT JOIN pg_namespace pn ON pn.oid = pc.relnamespace
LEFT JOIN pg_type rt ON rt.oid = c.reltype
WHERE c.relkind IN ('r', 'p', 'f', 'v', 'm') AND ",
    user_ns!("n"),
    " AND ",
    not_ext!("pg_class", "c.oid")
);

/// Sequences, with the column that owns them: `deptype 'a'` is `OWNED BY`,
/// `deptype 'i'` marks an identity column's sequence.
const SQL_SEQUENCES: &str = concat!(
    "SELECT c.oid, n.nspname::text AS schema, c.relname::text AS name,
       format_type(s.seqtypid, NULL) AS type, s.seqstart AS start, s.seqincrement AS increment,
       s.seqmin AS min, s.seqmax AS max, s.seqcache AS cache, s.seqcycle AS cycle,
       pg_get_userbyid(c.relowner)::text AS owner,
       d.deptype::text AS dep_type, d.refobjid AS owner_rel, tn.nspname::text AS owner_schema,
       tc.relname::text AS owner_table, ta.attname::text AS owner_column, ",
    grants!("c.relacl", "'s'", "c.relowner"),
    " AS grants
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_sequence s ON s.seqrelid = c.oid
LEFT JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.objsubid = 0
     AND d.refclassid = 'pg_class'::regclass AND d.refobjsubid > 0 AND d.deptype IN ('a', 'i')
LEFT JOIN pg_class tc ON tc.oid = d.refobjid
LEFT JOIN pg_namespace tn ON tn.oid = tc.relnamespace
LEFT JOIN pg_attribute ta ON ta.attrelid = d.refobjid AND ta.attnum = d.refobjsubid
WHERE c.relkind = 'S' AND ",
    user_ns!("n"),
    " AND ",
    not_ext!("pg_class", "c.oid")
);

/// Inheritance parents of tables that are not partitions, in declaration order.
/// Unfiltered: children outside the model are dropped in Rust.
const SQL_INHERITS: &str = "
SELECT h.inhrelid AS child, pn.nspname::text AS parent_schema, pc.relname::text AS parent_name
FROM pg_inherits h
JOIN pg_class c ON c.oid = h.inhrelid
JOIN pg_class pc ON pc.oid = h.inhparent
JOIN pg_namespace pn ON pn.oid = pc.relnamespace
WHERE NOT c.relispartition AND c.relkind IN ('r', 'p', 'f')
ORDER BY h.inhrelid, h.inhseqno";

/// Columns of tables, views and composite types. A collation is reported only when it
/// differs from the type's own; `regcollation` prints it quoted and, outside
/// `pg_catalog`, qualified, as it would be written in SQL.
const SQL_COLUMNS: &str = concat!(
    "SELECT a.attrelid AS rel, a.attnum::int AS num, a.attname::text AS name, format_type(a.atttypid, a.atttypmod) AS type,
       a.atttypid AS type_oid, a.attnotnull AS not_null,
       pg_get_expr(ad.adbin, ad.adrelid) AS default_expr,
       a.attgenerated::text AS generated, a.attidentity::text AS identity, a.attislocal AS is_local,
       CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation
            THEN a.attcollation::regcollation::text END AS collation,
       CASE WHEN a.attacl IS NOT NULL THEN ARRAY(SELECT CASE WHEN g.is_grantable THEN 't' ELSE 'f' END || g.privilege_type || ':' || CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(g.grantee)::text END FROM aclexplode(a.attacl) g WHERE g.grantee <> c.relowner) END AS grants
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
WHERE c.relkind IN ('r', 'p', 'f', 'v', 'm', 'c') AND a.attnum > 0 AND NOT a.attisdropped AND ",
    user_ns!("n"),
    " AND ",
    not_ext!("pg_class", "c.oid"),
    " ORDER BY a.attrelid, a.attnum"
);

/// Table constraints declared on the table itself: those a partition or an
/// inheritance child received from its parent (`conparentid`, `NOT conislocal`) are
/// the parent's. The full definition is only printed where it is needed (keys and
/// exclusions); foreign keys and checks are read field by field.
const SQL_CONSTRAINTS: &str = concat!(
    "SELECT k.oid, k.conrelid AS rel, k.conname::text AS name, k.contype::text AS kind,
       k.condeferrable AS deferrable, k.condeferred AS deferred, k.convalidated AS validated,
       k.connoinherit AS no_inherit,
       CASE WHEN k.contype IN ('p', 'u', 'x') THEN pg_get_constraintdef(k.oid) END AS def,
       CASE WHEN k.contype = 'c' THEN pg_get_expr(k.conbin, k.conrelid) END AS check_expr,
       ARRAY(SELECT a.attname::text FROM unnest(k.conkey) WITH ORDINALITY u(num, ord)
             JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.num
             ORDER BY u.ord) AS columns,
       ARRAY(SELECT a.attname::text FROM unnest(k.confkey) WITH ORDINALITY u(num, ord)
             JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.num
             ORDER BY u.ord) AS ref_columns,
       rn.nspname::text AS ref_schema, rc.relname::text AS ref_table,
       k.confupdtype::text AS on_update, k.confdeltype::text AS on_delete,
       k.confmatchtype::text AS match_type
FROM pg_constraint k
JOIN pg_class c ON c.oid = k.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_class rc ON rc.oid = k.confrelid
LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace
WHERE k.contype IN ('p', 'u', 'f', 'c', 'x') AND k.conparentid = 0 AND k.conislocal
  AND c.relkind IN ('r', 'p', 'f') AND ",
    user_ns!("n"),
    " AND ",
    not_ext!("pg_class", "c.oid")
);

/// Indexes that stand on their own: not those a constraint creates (primary key,
/// unique, exclusion), and not a partition's index attached to its parent's.
/// Key columns come from `pg_get_indexdef(oid, k, false)` for each key position, in
/// the same statement.
const SQL_INDEXES: &str = concat!(
    "SELECT i.indexrelid AS oid, n.nspname::text AS schema, ic.relname::text AS name,
       c.relname::text AS table_name, i.indisunique AS is_unique, am.amname::text AS am,
       pg_get_indexdef(i.indexrelid) AS def,
       ARRAY(SELECT pg_get_indexdef(i.indexrelid, k, false)
             FROM generate_series(1, i.indnkeyatts::int) k ORDER BY k) AS columns,
       pg_get_expr(i.indpred, i.indrelid) AS predicate
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_class c ON c.oid = i.indrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_am am ON am.oid = ic.relam
WHERE c.relkind IN ('r', 'p', 'm') AND ",
    user_ns!("n"),
    " AND ",
    not_ext!("pg_class", "c.oid"),
    " AND NOT EXISTS (SELECT FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.contype IN ('p', 'u', 'x'))
  AND NOT EXISTS (SELECT FROM pg_inherits h WHERE h.inhrelid = i.indexrelid)"
);

/// Unfiltered (the catalog is small); policies of tables outside the model are dropped.
const SQL_POLICIES: &str = "
SELECT p.polrelid AS rel, p.polname::text AS name, p.polpermissive AS permissive,
       p.polcmd::text AS cmd,
       ARRAY(SELECT CASE WHEN r = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(r)::text END
             FROM unnest(p.polroles) r) AS roles,
       pg_get_expr(p.polqual, p.polrelid) AS using_expr,
       pg_get_expr(p.polwithcheck, p.polrelid) AS check_expr
FROM pg_policy p";

/// Enums, domains, ranges and free-standing composite types. Array types, table row
/// types, base and pseudo types and multiranges (created with their range) are left out.
/// Composite types made by an extension are marked on their `pg_class` row, hence the
/// second extension check.
const SQL_TYPES: &str = concat!(
    "SELECT t.oid, n.nspname::text AS schema, t.typname::text AS name, t.typtype::text AS kind,
       t.typarray AS array_oid, t.typrelid AS relid, pg_get_userbyid(t.typowner)::text AS owner,
       t.typbasetype AS base_oid,
       CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) END AS base,
       t.typnotnull AS not_null, t.typdefault AS default_expr,
       CASE WHEN t.typtype = 'd' AND t.typcollation <> 0 AND t.typcollation <> bt.typcollation
              THEN t.typcollation::regcollation::text
            WHEN t.typtype = 'r' AND r.rngcollation <> 0 AND r.rngcollation <> st.typcollation
              THEN r.rngcollation::regcollation::text END AS collation,
       r.rngsubtype AS subtype_oid,
       CASE WHEN t.typtype = 'r' THEN format_type(r.rngsubtype, NULL) END AS subtype,
       CASE WHEN NOT opc.opcdefault THEN
            CASE WHEN opn.nspname = 'pg_catalog' THEN quote_ident(opc.opcname)
                 ELSE quote_ident(opn.nspname) || '.' || quote_ident(opc.opcname) END
       END AS subtype_opclass,
       CASE WHEN r.rngcanonical <> 0 THEN r.rngcanonical::regproc::text END AS canonical,
       CASE WHEN r.rngsubdiff <> 0 THEN r.rngsubdiff::regproc::text END AS subtype_diff, ",
    grants!("t.typacl", "'T'", "t.typowner"),
    " AS grants
FROM pg_type t
JOIN pg_namespace n ON n.oid = t.typnamespace
LEFT JOIN pg_type bt ON bt.oid = t.typbasetype
LEFT JOIN pg_range r ON r.rngtypid = t.oid
LEFT JOIN pg_type st ON st.oid = r.rngsubtype
LEFT JOIN pg_opclass opc ON opc.oid = r.rngsubopc
LEFT JOIN pg_namespace opn ON opn.oid = opc.opcnamespace
LEFT JOIN pg_class rc ON rc.oid = t.typrelid
WHERE (t.typtype IN ('e', 'd', 'r') OR (t.typtype = 'c' AND rc.relkind = 'c')) AND ",
    user_ns!("n"),
    " AND ",
    not_ext!("pg_type", "t.oid"),
    " AND (rc.oid IS NULL OR ",
    not_ext!("pg_class", "rc.oid"),
    ")"
);

const SQL_ENUM_LABELS: &str = "
SELECT e.enumtypid AS type_oid, e.enumlabel::text AS label
FROM pg_enum e WHERE e.enumtypid >= 16384
ORDER BY e.enumtypid, e.enumsortorder";

const SQL_DOMAIN_CHECKS: &str = "
SELECT k.contypid AS type_oid, k.conname::text AS name, pg_get_constraintdef(k.oid) AS def
FROM pg_constraint k WHERE k.contypid >= 16384 AND k.contype = 'c'";

/// Functions, procedures and window functions, with the type OIDs of their signature
/// for `depends_on`.
const SQL_FUNCTIONS: &str = concat!(
    "SELECT p.oid, n.nspname::text AS schema, p.proname::text AS name, p.prokind::text AS kind,
       pg_get_function_identity_arguments(p.oid) AS args,
       COALESCE(CASE WHEN p.prokind <> 'p' THEN pg_get_function_result(p.oid) END, '') AS result,
       l.lanname::text AS language, pg_get_functiondef(p.oid) AS def,
       pg_get_userbyid(p.proowner)::text AS owner,
       array_append(COALESCE(p.proallargtypes, p.proargtypes::oid[]), p.prorettype) AS type_oids, ",
    grants!("p.proacl", "'f'", "p.proowner"),
    " AS grants
FROM pg_proc p
JOIN pg_namespace n ON n.oid = p.pronamespace
JOIN pg_language l ON l.oid = p.prolang
WHERE p.prokind IN ('f', 'p', 'w') AND ",
    user_ns!("n"),
    " AND ",
    not_ext!("pg_proc", "p.oid")
);

/// User triggers; those cloned onto partitions (`tgparentid`, 13+) belong to the parent.
const SQL_TRIGGERS: &str = concat!(
    "SELECT g.oid, g.tgrelid AS rel, n.nspname::text AS schema, c.relname::text AS table_name,
       g.tgname::text AS name, pg_get_triggerdef(g.oid) AS def, g.tgenabled::text AS enabled,
       fn.nspname::text || '.' || f.proname::text || '(' || pg_get_function_identity_arguments(f.oid) || ')' AS function_key
FROM pg_trigger g
JOIN pg_class c ON c.oid = g.tgrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_proc f ON f.oid = g.tgfoid
JOIN pg_namespace fn ON fn.oid = f.pronamespace
WHERE NOT g.tgisinternal AND g.tgparentid = 0 AND ",
    user_ns!("n"),
    " AND ",
    not_ext!("pg_class", "c.oid")
);

/// What each view's rewrite rule reads: relations, functions and types. Resolved to
/// keys in Rust against the objects of the model.
const SQL_VIEW_DEPS: &str = "
SELECT DISTINCT r.ev_class AS view, d.refclassid::regclass::text AS catalog, d.refobjid AS ref
FROM pg_depend d
JOIN pg_rewrite r ON r.oid = d.objid
WHERE d.classid = 'pg_rewrite'::regclass AND r.ev_class >= 16384
  AND d.refclassid IN ('pg_class'::regclass, 'pg_proc'::regclass, 'pg_type'::regclass)
  AND d.refobjid <> r.ev_class";

type Apply = fn(&mut Builder, &[PgRow]) -> Result<(), sqlx::Error>;

/// Every catalog query, in the order it runs: what it reads (for errors), the SQL,
/// and how its rows enter the model. Later steps rely on maps earlier ones fill
/// (columns need their tables, for instance).
const STEPS: [(&str, &str, Apply); 18] = [
    ("the search path", SQL_SEARCH_PATH, |_, _| Ok(())),
    ("server settings", SQL_SETTINGS, Builder::settings),
    ("comments", SQL_COMMENTS, Builder::comments),
    ("roles", SQL_ROLES, Builder::roles),
    ("schemas", SQL_SCHEMAS, Builder::schemas),
    ("extensions", SQL_EXTENSIONS, Builder::extensions),
    ("tables and views", SQL_RELATIONS, Builder::relations),
    ("sequences", SQL_SEQUENCES, Builder::sequences),
    ("table inheritance", SQL_INHERITS, Builder::inherits),
    ("columns", SQL_COLUMNS, Builder::columns),
    ("constraints", SQL_CONSTRAINTS, Builder::constraints),
    ("indexes", SQL_INDEXES, Builder::indexes),
    ("row-level security policies", SQL_POLICIES, Builder::policies),
    ("types", SQL_TYPES, Builder::types),
    ("enum labels", SQL_ENUM_LABELS, Builder::enum_labels),
    ("domain constraints", SQL_DOMAIN_CHECKS, Builder::domain_checks),
    ("functions", SQL_FUNCTIONS, Builder::functions),
    ("triggers", SQL_TRIGGERS, Builder::triggers),
];

/// Catalog statements one inspection runs, besides `BEGIN` and `COMMIT`.
pub const QUERY_COUNT: usize = STEPS.len() + 1;

thread_local! {
    static ISSUED: Cell<usize> = const { Cell::new(0) };
}

/// Statements inspection has sent from this thread so far, `BEGIN` and `COMMIT`
/// included. Tests compare it across schemas of different sizes to prove the
/// number of round trips does not grow with the number of objects.
pub fn statements_issued() -> usize {
    ISSUED.with(Cell::get)
}

fn count_statement() {
    ISSUED.with(|c| c.set(c.get() + 1));
}

/// Reads the whole schema in one read-only snapshot.
pub async fn inspect(conn: &mut PgConnection, url: &DbUrl) -> Result<Database, DbError> {
    count_statement();
    let mut tx = conn
        .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .await
        .map_err(|e| DbError::query("starting a read-only transaction", url, e))?;
    let mut b = Builder::new();
    // Steps plus the view dependencies, which are kept apart only because they need
    // the maps every other step fills.
    let steps = STEPS
        .iter()
        .copied()
        .chain([("view dependencies", SQL_VIEW_DEPS, Builder::view_deps as Apply)]);
    for (what, sql, apply) in steps {
        count_statement();
        let rows = sqlx::query(sql)
            .fetch_all(&mut *tx)
            .await
            .map_err(|e| DbError::query(format!("reading {what}"), url, e))?;
        apply(&mut b, &rows).map_err(|e| DbError::query(format!("reading {what}"), url, e))?;
    }
    // Nothing was written; committing just ends the snapshot (and resets search_path).
    count_statement();
    tx.commit()
        .await
        .map_err(|e| DbError::query("ending the read-only transaction", url, e))?;
    Ok(b.finish())
}

// ---------------------------------------------------------------------------- assembly

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Catalog {
    Namespace,
    Class,
    Type,
    Proc,
    Constraint,
    Trigger,
    Extension,
}

impl Catalog {
    fn parse(s: &str) -> Option<Catalog> {
        Some(match s {
            "pg_namespace" => Catalog::Namespace,
            "pg_class" => Catalog::Class,
            "pg_type" => Catalog::Type,
            "pg_proc" => Catalog::Proc,
            "pg_constraint" => Catalog::Constraint,
            "pg_trigger" => Catalog::Trigger,
            "pg_extension" => Catalog::Extension,
            _ => return None,
        })
    }
}

/// An identity column's sequence parameters; `always` comes from the column.
struct IdentitySeq {
    start: i64,
    increment: i64,
    min: i64,
    max: i64,
    cache: i64,
    cycle: bool,
}

struct Builder {
    db: Database,
    comments: HashMap<(Catalog, Oid, i32), String>,
    all_roles: Vec<Role>,
    /// Roles that own, are granted, or appear in a policy somewhere in the model.
    roles_used: BTreeSet<String>,
    tables: HashMap<Oid, Table>,
    views: HashMap<Oid, View>,
    /// Tables, views and sequences of the model, for dependency keys.
    rel_names: HashMap<Oid, QualName>,
    partition_parent: HashMap<Oid, Oid>,
    /// Tables with inheritance parents: they show only their local columns.
    inherits_from: HashSet<Oid>,
    identity_seqs: HashMap<(Oid, String), IdentitySeq>,
    /// Attributes of free-standing composite types, by `typrelid`, with each type OID.
    composite_attrs: HashMap<Oid, Vec<(Attribute, Oid)>>,
    /// User types, their array types, and table row types (and arrays), to their keys.
    type_keys: HashMap<Oid, String>,
    types: HashMap<Oid, (TypeDef, Vec<Oid>)>,
    functions: HashMap<Oid, (String, Function, Vec<Oid>)>,
    view_refs: HashMap<Oid, Vec<(Catalog, Oid)>>,
}

type R<T = ()> = Result<T, sqlx::Error>;

fn grants(raw: Vec<String>) -> Vec<Grant> {
    let mut by_key: BTreeMap<(String, String), bool> = BTreeMap::new();
    for item in raw {
        let Some(rest) = item.get(1..) else { continue };
        let Some((privilege, grantee)) = rest.split_once(':') else {
            continue;
        };
        // The same privilege from several grantors is one grant; grantable if any is.
        let grantable = by_key
            .entry((grantee.to_string(), privilege.to_string()))
            .or_insert(false);
        *grantable |= item.starts_with('t');
    }
    by_key
        .into_iter()
        .map(|((grantee, privilege), grantable)| Grant {
            grantee,
            privilege,
            grantable,
        })
        .collect()
}

/// `pg_get_constraintdef` appends the constraint's flags, which the model keeps in
/// their own fields.
fn strip_constraint_flags(def: &str) -> &str {
    let mut d = def;
    for suffix in [" NOT VALID", " INITIALLY DEFERRED", " DEFERRABLE"] {
        if let Some(rest) = d.strip_suffix(suffix) {
            d = rest;
        }
    }
    d
}

/// What follows the parenthesized column list of `PRIMARY KEY (...)` or
/// `UNIQUE [NULLS NOT DISTINCT] (...)`: `INCLUDE (...)`, `WITH (...)`,
/// `USING INDEX TABLESPACE ...`. Quoted identifiers may contain parentheses.
fn key_tail(def: &str) -> Option<String> {
    let def = strip_constraint_flags(def);
    let start = def.find('(')?;
    let mut depth = 0usize;
    let mut quoted = false;
    for (i, ch) in def[start..].char_indices() {
        match ch {
            '"' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    let rest = def[start + i + 1..].trim();
                    return (!rest.is_empty()).then(|| rest.to_string());
                }
            }
            _ => {}
        }
    }
    None
}

fn fk_action(c: &str) -> String {
    match c {
        "a" => "NO ACTION",
        "r" => "RESTRICT",
        "c" => "CASCADE",
        "n" => "SET NULL",
        "d" => "SET DEFAULT",
        other => other,
    }
    .to_string()
}

impl Builder {
    fn new() -> Builder {
        Builder {
            db: Database::empty(Dialect::Postgres),
            comments: HashMap::new(),
            all_roles: Vec::new(),
            roles_used: BTreeSet::new(),
            tables: HashMap::new(),
            views: HashMap::new(),
            rel_names: HashMap::new(),
            partition_parent: HashMap::new(),
            inherits_from: HashSet::new(),
            identity_seqs: HashMap::new(),
            composite_attrs: HashMap::new(),
            type_keys: HashMap::new(),
            types: HashMap::new(),
            functions: HashMap::new(),
            view_refs: HashMap::new(),
        }
    }

    fn comment(&self, catalog: Catalog, oid: Oid, subid: i32) -> Option<String> {
        self.comments.get(&(catalog, oid, subid)).cloned()
    }

    fn owner(&mut self, owner: String) -> Option<String> {
        self.roles_used.insert(owner.clone());
        Some(owner)
    }

    fn grants(&mut self, raw: Vec<String>) -> Vec<Grant> {
        let g = grants(raw);
        for grant in &g {
            self.roles_used.insert(grant.grantee.clone());
        }
        g
    }

    fn settings(&mut self, rows: &[PgRow]) -> R {
        self.db.env.engine = "postgresql".into();
        for row in rows {
            let name: String = row.try_get("name")?;
            let value: Option<String> = row.try_get("value")?;
            let Some(mut value) = value else { continue };
            if name == "server_version" {
                self.db.env.version = value;
                continue;
            }
            if name == "locale_provider" {
                value = match value.as_str() {
                    "c" => "libc".into(),
                    "i" => "icu".into(),
                    "b" => "builtin".into(),
                    _ => value,
                };
            }
            self.db.env.settings.insert(name, value);
        }
        Ok(())
    }

    fn comments(&mut self, rows: &[PgRow]) -> R {
        for row in rows {
            let catalog: String = row.try_get("catalog")?;
            let Some(catalog) = Catalog::parse(&catalog) else {
                continue;
            };
            self.comments.insert(
                (catalog, row.try_get("oid")?, row.try_get("subid")?),
                row.try_get("description")?,
            );
        }
        Ok(())
    }

    fn roles(&mut self, rows: &[PgRow]) -> R {
        for row in rows {
            let mut member_of: Vec<String> = row.try_get("member_of")?;
            member_of.sort();
            self.all_roles.push(Role {
                name: row.try_get("name")?,
                login: row.try_get("login")?,
                superuser: row.try_get("superuser")?,
                createdb: row.try_get("createdb")?,
                createrole: row.try_get("createrole")?,
                inherit: row.try_get("inherit")?,
                replication: row.try_get("replication")?,
                bypassrls: row.try_get("bypassrls")?,
                connection_limit: row.try_get("connection_limit")?,
                member_of,
            });
        }
        Ok(())
    }

    fn schemas(&mut self, rows: &[PgRow]) -> R {
        for row in rows {
            let oid: Oid = row.try_get("oid")?;
            let name: String = row.try_get("name")?;
            let ns = Namespace {
                name: name.clone(),
                owner: self.owner(row.try_get("owner")?),
                comment: self.comment(Catalog::Namespace, oid, 0),
                grants: self.grants(row.try_get("grants")?),
            };
            self.db.schemas.insert(name, ns);
        }
        Ok(())
    }

    fn extensions(&mut self, rows: &[PgRow]) -> R {
        for row in rows {
            let oid: Oid = row.try_get("oid")?;
            let name: String = row.try_get("name")?;
            let ext = Extension {
                name: name.clone(),
                schema: row.try_get("schema")?,
                version: row.try_get("version")?,
                comment: self.comment(Catalog::Extension, oid, 0),
            };
            self.db.extensions.insert(name, ext);
        }
        Ok(())
    }

    fn relations(&mut self, rows: &[PgRow]) -> R {
        for row in rows {
            let oid: Oid = row.try_get("oid")?;
            let name = QualName::new(
                row.try_get::<String, _>("schema")?,
                row.try_get::<String, _>("name")?,
            );
            let kind: String = row.try_get("kind")?;
            let options: Vec<String> = row
                .try_get::<Option<Vec<String>>, _>("options")?
                .unwrap_or_default();
            let owner = self.owner(row.try_get("owner")?);
            let grants = self.grants(row.try_get("grants")?);
            let comment = self.comment(Catalog::Class, oid, 0);
            self.rel_names.insert(oid, name.clone());
            let key = name.key();
            self.type_keys.insert(row.try_get("row_type")?, key.clone());
            if let Some(array) = row.try_get::<Option<Oid>, _>("row_array_type")? {
                self.type_keys.insert(array, key);
            }
            if kind == "v" || kind == "m" {
                let (check, options): (Vec<String>, Vec<String>) = options
                    .into_iter()
                    .partition(|o| o.starts_with("check_option="));
                let check_option = check
                    .first()
                    .and_then(|o| o.split_once('='))
                    .map(|(_, v)| v.to_string());
                let definition: Option<String> = row.try_get("view_definition")?;
                self.views.insert(
                    oid,
                    View {
                        name,
                        materialized: kind == "m",
                        definition: definition.unwrap_or_default(),
                        columns: vec![],
                        options,
                        check_option,
                        owner,
                        comment,
                        grants,
                        column_comments: BTreeMap::new(),
                        depends_on: vec![],
                        sql: None,
                    },
                );
                continue;
            }
            let mut t = Table::new(name);
            t.kind = match kind.as_str() {
                "p" => TableKind::Partitioned,
                "f" => TableKind::Foreign,
                _ => TableKind::Regular,
            };
            t.partition_key = row.try_get("partition_key")?;
            if let (Some(parent), Some(schema), Some(parent_name), Some(bound)) = (
                row.try_get::<Option<Oid>, _>("parent_oid")?,
                row.try_get::<Option<String>, _>("parent_schema")?,
                row.try_get::<Option<String>, _>("parent_name")?,
                row.try_get::<Option<String>, _>("partition_bound")?,
            ) {
                self.partition_parent.insert(oid, parent);
                t.partition_of = Some(PartitionOf {
                    parent: QualName::new(schema, parent_name),
                    bound,
                });
            }
            t.unlogged = row.try_get::<String, _>("persistence")? == "u";
            t.options = options;
            t.owner = owner;
            t.comment = comment;
            t.grants = grants;
            t.rls_enabled = row.try_get("rls_enabled")?;
            t.rls_forced = row.try_get("rls_forced")?;
            self.tables.insert(oid, t);
        }
        Ok(())
    }

    fn sequences(&mut self, rows: &[PgRow]) -> R {
        for row in rows {
            let oid: Oid = row.try_get("oid")?;
            let dep_type: Option<String> = row.try_get("dep_type")?;
            let owner_rel: Option<Oid> = row.try_get("owner_rel")?;
            let owner_column: Option<String> = row.try_get("owner_column")?;
            let (start, increment, min, max, cache, cycle) = (
                row.try_get("start")?,
                row.try_get("increment")?,
                row.try_get("min")?,
                row.try_get("max")?,
                row.try_get("cache")?,
                row.try_get("cycle")?,
            );
            // An identity sequence is part of its column, not an object of its own.
            if let (Some("i"), Some(rel), Some(column)) =
                (dep_type.as_deref(), owner_rel, owner_column.clone())
            {
                self.identity_seqs.insert(
                    (rel, column),
                    IdentitySeq {
                        start,
                        increment,
                        min,
                        max,
                        cache,
                        cycle,
                    },
                );
                continue;
            }
            let name = QualName::new(
                row.try_get::<String, _>("schema")?,
                row.try_get::<String, _>("name")?,
            );
            let owned_by = match (
                row.try_get::<Option<String>, _>("owner_schema")?,
                row.try_get::<Option<String>, _>("owner_table")?,
                owner_column,
            ) {
                (Some(schema), Some(table), Some(column)) => Some(ColumnRef {
                    table: QualName::new(schema, table),
                    column,
                }),
                _ => None,
            };
            let seq = Sequence {
                name: name.clone(),
                type_: row.try_get("type")?,
                start,
                increment,
                min,
                max,
                cache,
                cycle,
                owned_by,
                owner: self.owner(row.try_get("owner")?),
                comment: self.comment(Catalog::Class, oid, 0),
                grants: self.grants(row.try_get("grants")?),
            };
            self.rel_names.insert(oid, name.clone());
            self.db.sequences.insert(name, seq);
        }
        Ok(())
    }

    fn inherits(&mut self, rows: &[PgRow]) -> R {
        for row in rows {
            let child: Oid = row.try_get("child")?;
            if let Some(t) = self.tables.get_mut(&child) {
                t.inherits.push(QualName::new(
                    row.try_get::<String, _>("parent_schema")?,
                    row.try_get::<String, _>("parent_name")?,
                ));
                self.inherits_from.insert(child);
            }
        }
        Ok(())
    }

    /// The identity sequence of a column. On PostgreSQL 17+ partitions share their
    /// parent's identity sequence, which hangs off the parent's column.
    fn identity_seq(&self, rel: Oid, column: &str) -> Option<&IdentitySeq> {
        let mut rel = rel;
        // Bounded: a partition tree cannot be deeper than the number of tables.
        for _ in 0..=self.partition_parent.len() {
            if let Some(s) = self.identity_seqs.get(&(rel, column.to_string())) {
                return Some(s);
            }
            rel = *self.partition_parent.get(&rel)?;
        }
        None
    }

    fn columns(&mut self, rows: &[PgRow]) -> R {
        for row in rows {
            let rel: Oid = row.try_get("rel")?;
            let name: String = row.try_get("name")?;
            let type_: String = row.try_get("type")?;
            let collation: Option<String> = row.try_get("collation")?;
            let num: i32 = row.try_get("num")?;
            let comment = self.comment(Catalog::Class, rel, num);
            if let Some(v) = self.views.get_mut(&rel) {
                if let Some(c) = comment {
                    v.column_comments.insert(name.clone(), c);
                }
                v.columns.push(name);
                continue;
            }
            if !self.tables.contains_key(&rel) {
                // Only composite types remain; anything else is not in the model.
                let type_oid: Oid = row.try_get("type_oid")?;
                self.composite_attrs.entry(rel).or_default().push((
                    Attribute {
                        name,
                        type_,
                        collation,
                    },
                    type_oid,
                ));
                continue;
            }
            let is_local: bool = row.try_get("is_local")?;
            if !is_local && self.inherits_from.contains(&rel) {
                continue;
            }
            let mut c = Column::new(name, type_);
            c.not_null = row.try_get("not_null")?;
            c.collation = collation;
            let default: Option<String> = row.try_get("default_expr")?;
            // A generated column's expression is stored as its default.
            match row.try_get::<String, _>("generated")?.as_str() {
                g @ ("s" | "v") => {
                    c.generated = default.map(|expression| Generated {
                        expression,
                        stored: g == "s",
                    });
                }
                _ => c.default = default,
            }
            let identity: String = row.try_get("identity")?;
            if identity == "a" || identity == "d" {
                c.identity = self.identity_seq(rel, &c.name).map(|s| Identity {
                    always: identity == "a",
                    start: s.start,
                    increment: s.increment,
                    min: s.min,
                    max: s.max,
                    cache: s.cache,
                    cycle: s.cycle,
                });
            }
            if let Some(raw) = row.try_get::<Option<Vec<String>>, _>("grants")? {
                c.grants = self.grants(raw);
            }
            c.comment = comment;
            if let Some(t) = self.tables.get_mut(&rel) {
                t.columns.push(c);
            }
        }
        Ok(())
    }

    fn constraints(&mut self, rows: &[PgRow]) -> R {
        for row in rows {
            let rel: Oid = row.try_get("rel")?;
            if !self.tables.contains_key(&rel) {
                continue;
            }
            let oid: Oid = row.try_get("oid")?;
            let kind: String = row.try_get("kind")?;
            let columns: Vec<String> = row.try_get("columns")?;
            let def: Option<String> = row.try_get("def")?;
            let def = def.unwrap_or_default();
            let kind = match kind.as_str() {
                "p" => ConstraintKind::PrimaryKey {
                    columns,
                    extra: key_tail(&def),
                },
                "u" => ConstraintKind::Unique {
                    columns,
                    // The definition is canonical and says so from 15 on; earlier
                    // servers have no such option, and the prefix is then absent.
                    nulls_not_distinct: def.starts_with("UNIQUE NULLS NOT DISTINCT"),
                    extra: key_tail(&def),
                },
                "f" => ConstraintKind::ForeignKey {
                    columns,
                    references: QualName::new(
                        row.try_get::<Option<String>, _>("ref_schema")?
                            .unwrap_or_default(),
                        row.try_get::<Option<String>, _>("ref_table")?
                            .unwrap_or_default(),
                    ),
                    ref_columns: row.try_get("ref_columns")?,
                    on_delete: fk_action(&row.try_get::<String, _>("on_delete")?),
                    on_update: fk_action(&row.try_get::<String, _>("on_update")?),
                    match_: match row.try_get::<String, _>("match_type")?.as_str() {
                        "f" => "FULL",
                        "p" => "PARTIAL",
                        _ => "SIMPLE",
                    }
                    .to_string(),
                },
                "c" => ConstraintKind::Check {
                    expression: row
                        .try_get::<Option<String>, _>("check_expr")?
                        .unwrap_or_default(),
                    no_inherit: row.try_get("no_inherit")?,
                },
                "x" => ConstraintKind::Exclusion {
                    definition: strip_constraint_flags(&def).to_string(),
                },
                _ => continue,
            };
            let con = Constraint {
                name: Some(row.try_get("name")?),
                kind,
                deferrable: row.try_get("deferrable")?,
                initially_deferred: row.try_get("deferred")?,
                not_valid: !row.try_get::<bool, _>("validated")?,
                comment: self.comment(Catalog::Constraint, oid, 0),
            };
            if let Some(t) = self.tables.get_mut(&rel) {
                t.constraints.push(con);
            }
        }
        Ok(())
    }

    fn indexes(&mut self, rows: &[PgRow]) -> R {
        for row in rows {
            let oid: Oid = row.try_get("oid")?;
            let schema: String = row.try_get("schema")?;
            let name = QualName::new(schema.clone(), row.try_get::<String, _>("name")?);
            let am: String = row.try_get("am")?;
            let def: String = row.try_get("def")?;
            // `CREATE [UNIQUE] INDEX name ON [ONLY] table USING am (...)`: keep what
            // follows the table. Searching for the method too avoids a table whose
            // quoted name happens to contain " USING ".
            let definition = def
                .find(&format!(" USING {am} ("))
                .or_else(|| def.find(" USING "))
                .map(|i| def[i + 1..].to_string())
                .unwrap_or(def);
            let index = Index {
                name: name.clone(),
                table: QualName::new(schema, row.try_get::<String, _>("table_name")?),
                unique: row.try_get("is_unique")?,
                definition,
                columns: row.try_get("columns")?,
                predicate: row.try_get("predicate")?,
                comment: self.comment(Catalog::Class, oid, 0),
                constraint: false,
            };
            self.db.indexes.insert(name, index);
        }
        Ok(())
    }

    fn policies(&mut self, rows: &[PgRow]) -> R {
        for row in rows {
            let rel: Oid = row.try_get("rel")?;
            if !self.tables.contains_key(&rel) {
                continue;
            }
            let mut roles: Vec<String> = row.try_get("roles")?;
            roles.sort();
            roles.dedup();
            self.roles_used.extend(roles.iter().cloned());
            let name: String = row.try_get("name")?;
            let policy = Policy {
                name: name.clone(),
                permissive: row.try_get("permissive")?,
                command: match row.try_get::<String, _>("cmd")?.as_str() {
                    "r" => "SELECT",
                    "a" => "INSERT",
                    "w" => "UPDATE",
                    "d" => "DELETE",
                    _ => "ALL",
                }
                .to_string(),
                roles,
                using: row.try_get("using_expr")?,
                with_check: row.try_get("check_expr")?,
            };
            if let Some(t) = self.tables.get_mut(&rel) {
                t.policies.insert(name, policy);
            }
        }
        Ok(())
    }

    fn types(&mut self, rows: &[PgRow]) -> R {
        for row in rows {
            let oid: Oid = row.try_get("oid")?;
            let name = QualName::new(
                row.try_get::<String, _>("schema")?,
                row.try_get::<String, _>("name")?,
            );
            let mut refs = Vec::new();
            let kind = match row.try_get::<String, _>("kind")?.as_str() {
                "e" => TypeKind::Enum { labels: vec![] },
                "d" => {
                    refs.push(row.try_get("base_oid")?);
                    TypeKind::Domain {
                        base: row.try_get::<Option<String>, _>("base")?.unwrap_or_default(),
                        not_null: row.try_get("not_null")?,
                        default: row.try_get("default_expr")?,
                        collation: row.try_get("collation")?,
                        checks: BTreeMap::new(),
                    }
                }
                "r" => {
                    if let Some(sub) = row.try_get::<Option<Oid>, _>("subtype_oid")? {
                        refs.push(sub);
                    }
                    TypeKind::Range {
                        subtype: row
                            .try_get::<Option<String>, _>("subtype")?
                            .unwrap_or_default(),
                        subtype_opclass: row.try_get("subtype_opclass")?,
                        collation: row.try_get("collation")?,
                        canonical: row.try_get("canonical")?,
                        subtype_diff: row.try_get("subtype_diff")?,
                    }
                }
                _ => {
                    let relid: Oid = row.try_get("relid")?;
                    let attrs = self.composite_attrs.remove(&relid).unwrap_or_default();
                    refs.extend(attrs.iter().map(|(_, t)| *t));
                    TypeKind::Composite {
                        attributes: attrs.into_iter().map(|(a, _)| a).collect(),
                    }
                }
            };
            let key = name.key();
            self.type_keys.insert(oid, key.clone());
            if let Some(array) = row.try_get::<Option<Oid>, _>("array_oid")? {
                self.type_keys.insert(array, key);
            }
            let def = TypeDef {
                name,
                kind,
                owner: self.owner(row.try_get("owner")?),
                comment: self.comment(Catalog::Type, oid, 0),
                grants: self.grants(row.try_get("grants")?),
                depends_on: vec![],
            };
            self.types.insert(oid, (def, refs));
        }
        Ok(())
    }

    fn enum_labels(&mut self, rows: &[PgRow]) -> R {
        for row in rows {
            let oid: Oid = row.try_get("type_oid")?;
            if let Some((
                TypeDef {
                    kind: TypeKind::Enum { labels },
                    ..
                },
                _,
            )) = self.types.get_mut(&oid)
            {
                labels.push(row.try_get("label")?);
            }
        }
        Ok(())
    }

    fn domain_checks(&mut self, rows: &[PgRow]) -> R {
        for row in rows {
            let oid: Oid = row.try_get("type_oid")?;
            if let Some((
                TypeDef {
                    kind: TypeKind::Domain { checks, .. },
                    ..
                },
                _,
            )) = self.types.get_mut(&oid)
            {
                checks.insert(row.try_get("name")?, row.try_get("def")?);
            }
        }
        Ok(())
    }

    fn functions(&mut self, rows: &[PgRow]) -> R {
        for row in rows {
            let oid: Oid = row.try_get("oid")?;
            let schema: String = row.try_get("schema")?;
            let name: String = row.try_get("name")?;
            let arguments: String = row.try_get("args")?;
            let key = format!("{schema}.{name}({arguments})");
            let f = Function {
                name: QualName::new(schema, name),
                kind: match row.try_get::<String, _>("kind")?.as_str() {
                    "p" => "procedure",
                    "w" => "window",
                    _ => "function",
                }
                .to_string(),
                arguments,
                returns: row.try_get("result")?,
                language: row.try_get("language")?,
                definition: row.try_get("def")?,
                owner: self.owner(row.try_get("owner")?),
                comment: self.comment(Catalog::Proc, oid, 0),
                grants: self.grants(row.try_get("grants")?),
                depends_on: vec![],
            };
            let refs: Vec<Oid> = row.try_get("type_oids")?;
            self.functions.insert(oid, (key, f, refs));
        }
        Ok(())
    }

    fn triggers(&mut self, rows: &[PgRow]) -> R {
        for row in rows {
            let oid: Oid = row.try_get("oid")?;
            let table = QualName::new(
                row.try_get::<String, _>("schema")?,
                row.try_get::<String, _>("table_name")?,
            );
            let name: String = row.try_get("name")?;
            let enabled: String = row.try_get("enabled")?;
            let key = format!("{}.{}.{}", table.schema, table.name, name);
            let trigger = Trigger {
                name,
                table,
                definition: row.try_get("def")?,
                enabled: (enabled != "O").then_some(enabled),
                comment: self.comment(Catalog::Trigger, oid, 0),
                depends_on: vec![row.try_get("function_key")?],
            };
            self.db.triggers.insert(key, trigger);
        }
        Ok(())
    }

    fn view_deps(&mut self, rows: &[PgRow]) -> R {
        for row in rows {
            let view: Oid = row.try_get("view")?;
            if !self.views.contains_key(&view) {
                continue;
            }
            let catalog: String = row.try_get("catalog")?;
            let Some(catalog) = Catalog::parse(&catalog) else {
                continue;
            };
            self.view_refs
                .entry(view)
                .or_default()
                .push((catalog, row.try_get("ref")?));
        }
        Ok(())
    }

    /// Resolves dependency OIDs to keys of objects in the model (ordering only
    /// concerns those; built-in and extension objects exist before any of them),
    /// moves everything into the model's maps, and keeps the roles in use.
    fn finish(mut self) -> Database {
        let func_keys: HashMap<Oid, String> = self
            .functions
            .iter()
            .map(|(oid, (key, _, _))| (*oid, key.clone()))
            .collect();
        let type_keys = std::mem::take(&mut self.type_keys);
        let resolve_types = |own: &str, refs: &[Oid]| -> Vec<String> {
            let keys: BTreeSet<String> = refs
                .iter()
                .filter_map(|o| type_keys.get(o))
                .filter(|k| k.as_str() != own)
                .cloned()
                .collect();
            keys.into_iter().collect()
        };
        for (_, (mut t, refs)) in std::mem::take(&mut self.types) {
            t.depends_on = resolve_types(&t.name.key(), &refs);
            self.db.types.insert(t.name.clone(), t);
        }
        for (_, (key, mut f, refs)) in std::mem::take(&mut self.functions) {
            f.depends_on = resolve_types("", &refs);
            self.db.functions.insert(key, f);
        }
        for (oid, mut v) in std::mem::take(&mut self.views) {
            let own = v.name.key();
            let deps: BTreeSet<String> = self
                .view_refs
                .get(&oid)
                .into_iter()
                .flatten()
                .filter_map(|(catalog, r)| match catalog {
                    Catalog::Class => self.rel_names.get(r).map(QualName::key),
                    Catalog::Proc => func_keys.get(r).cloned(),
                    Catalog::Type => type_keys.get(r).cloned(),
                    _ => None,
                })
                .filter(|k| *k != own)
                .collect();
            v.depends_on = deps.into_iter().collect();
            self.db.views.insert(v.name.clone(), v);
        }
        for (_, t) in std::mem::take(&mut self.tables) {
            self.db.tables.insert(t.name.clone(), t);
        }
        let mut server_roles: Vec<String> = self.all_roles.iter().map(|r| r.name.clone()).collect();
        server_roles.sort();
        self.db.env.server_roles = server_roles;
        for role in std::mem::take(&mut self.all_roles) {
            if self.roles_used.contains(&role.name) && !role.name.starts_with("pg_") {
                self.db.roles.insert(role.name.clone(), role);
            }
        }
        self.db
    }
}
