//! PostgreSQL inspection (13 and later).
//!
//! The whole schema is read inside one `REPEATABLE READ READ ONLY` transaction (with
//! lockstep's lock and statement timeouts, see `wait.rs`) with a fixed list of catalog queries ([`QUERY_COUNT`] of them), one per object kind, whatever
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
//!
//! A session confined to one schema (schema-per-tenant, `?schema=NAME`, which sets
//! the `lockstep.schema` setting at connect) reads that schema only, with it as the
//! `search_path`: names in it read unqualified, so every tenant reads the same as a
//! replay confined to `public`, and one replay serves a whole fleet of tenants. The
//! schema itself (the tenant's container) and lockstep's tables in it are left out.

use crate::{DbError, DbUrl};
use lockstep_core::model::{
    Attribute, Column, ColumnRef, Constraint, ConstraintKind, Database, Dialect, Extension,
    Function, Generated, Grant, Identity, Index, Namespace, PartitionOf, Policy, QualName, Role,
    Sequence, Table, TableKind, Trigger, TypeDef, TypeKind, View,
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
            ".nspname NOT IN ('information_schema', 'lockstep') AND COALESCE(pg_catalog.current_setting('lockstep.schema', true), '') IN ('', ",
            $n, ".nspname::text) AND NOT EXISTS (SELECT FROM pg_depend xn WHERE xn.classid = 'pg_namespace'::regclass AND xn.objid = ",
            $n, ".oid AND xn.deptype = 'e'))"
        )
    };
}

/// True when the object `$oid` of catalog `$catalog` is not an extension member.
/// `pg_depend`'s (classid, objid, objsubid) index keeps this a lookup, not a scan.
/// The queries for a relation's parts (columns, constraints, indexes, triggers) skip
/// it and filter by schema only: Rust drops the parts of relations the model does not
/// hold, which saves one lookup per part on big schemas.
macro_rules! not_ext {
    ($catalog:literal, $oid:literal) => {
        concat!(
            "NOT EXISTS (SELECT FROM pg_depend xe WHERE xe.classid = '",
            $catalog,
            "'::regclass AND xe.objid = ",
            $oid,
            " AND xe.deptype = 'e')"
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

/// Empty, or the one schema the session is confined to.
const SQL_SEARCH_PATH: &str = "SELECT pg_catalog.set_config('search_path', COALESCE(pg_catalog.quote_ident(NULLIF(pg_catalog.current_setting('lockstep.schema', true), '')), ''), true)";

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
WHERE c.relkind IN ('r', 'p', 'f', 'v', 'm')
  AND NOT (c.relname IN ('lockstep_history', 'lockstep_progress') AND COALESCE(pg_catalog.current_setting('lockstep.schema', true), '') <> '')
  AND ",
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
/// `pg_catalog`, qualified, as it would be written in SQL. Unordered: sorting 100,000
/// wide rows spills to disk on the server, sorting them in Rust is instant.
const SQL_COLUMNS: &str = concat!(
    "SELECT a.attrelid AS rel, a.attnum AS num, a.attname::text AS name, format_type(a.atttypid, a.atttypmod) AS type,
       a.atttypid AS type_oid, a.attnotnull AS not_null,
       pg_get_expr(ad.adbin, ad.adrelid) AS default_expr,
       a.attgenerated::text AS generated, a.attidentity::text AS identity, a.attislocal AS is_local,
       NULLIF(quote_ident(a.attname), a.attname::text) AS quoted,
       CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation
            THEN a.attcollation::regcollation::text END AS collation
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
WHERE c.relkind IN ('r', 'p', 'f', 'v', 'm', 'c') AND a.attnum > 0 AND NOT a.attisdropped AND ",
    user_ns!("n")
);

/// Column privileges, apart from the columns: few columns have any, and an ACL
/// subquery in the columns statement slows all 100,000 rows down. Only explicit
/// grants: a column's default ACL is empty.
const SQL_COLUMN_GRANTS: &str = concat!(
    "SELECT a.attrelid AS rel, a.attnum AS num,
       ARRAY(SELECT CASE WHEN g.is_grantable THEN 't' ELSE 'f' END || g.privilege_type || ':' || CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(g.grantee)::text END
             FROM aclexplode(a.attacl) g WHERE g.grantee <> c.relowner) AS grants
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE a.attacl IS NOT NULL AND a.attnum > 0 AND NOT a.attisdropped AND ",
    user_ns!("n")
);

/// Table constraints declared on the table itself: those a partition or an
/// inheritance child received from its parent (`conparentid`, `NOT conislocal`) are
/// the parent's. The full definition is only printed where it is needed (keys and
/// exclusions); foreign keys and checks are read field by field. A key's index
/// storage parameters are not part of `pg_get_constraintdef`, so they come separately,
/// as `pg_dump` reads them. Own columns come as numbers, named from the columns
/// already read; a foreign key's referenced table may be outside the model, so its
/// columns are named here.
const SQL_CONSTRAINTS: &str = concat!(
    "SELECT k.oid, k.conrelid AS rel, k.conname::text AS name, k.contype::text AS kind,
       k.condeferrable AS deferrable, k.condeferred AS deferred, k.convalidated AS validated,
       k.connoinherit AS no_inherit,
       CASE WHEN k.contype IN ('p', 'u', 'x') THEN pg_get_constraintdef(k.oid) END AS def,
       CASE WHEN k.contype = 'c' THEN pg_get_expr(k.conbin, k.conrelid) END AS check_expr,
       k.conkey AS column_nums,
       CASE WHEN k.contype = 'f' THEN
            ARRAY(SELECT a.attname::text FROM unnest(k.confkey) WITH ORDINALITY u(num, ord)
                  JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.num
                  ORDER BY u.ord)
       END AS ref_columns,
       rn.nspname::text AS ref_schema, rc.relname::text AS ref_table,
       k.confupdtype::text AS on_update, k.confdeltype::text AS on_delete,
       k.confmatchtype::text AS match_type,
       CASE WHEN k.contype IN ('p', 'u') THEN array_to_string(ki.reloptions, ', ') END AS index_options
FROM pg_constraint k
JOIN pg_class c ON c.oid = k.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_class ki ON ki.oid = k.conindid
LEFT JOIN pg_class rc ON rc.oid = k.confrelid
LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace
WHERE k.contype IN ('p', 'u', 'f', 'c', 'x') AND k.conparentid = 0 AND k.conislocal
  AND c.relkind IN ('r', 'p', 'f') AND ",
    user_ns!("n")
);

/// Indexes that stand on their own: not those a constraint creates (primary key,
/// unique, exclusion), and not a partition's index attached to its parent's.
/// Key columns are what `pg_get_indexdef(oid, k, false)` prints for each key position.
/// Only expressions are deparsed that way: a plain column prints as its quoted name,
/// which the columns step has read, and looking it up per key here would cost about
/// as much as deparsing the whole index.
///
/// `def` is `pg_get_indexdef` only for the indexes whose text Rust cannot write the
/// same way (see [`Builder::index_definition`]): storage parameters, a method name
/// that needs quotes, or a key column with a collation, an operator class or
/// per-column options other than its type's defaults (for an expression, whose type
/// the index's own attribute holds: no collation at all). On a cold session the
/// function costs about 100 µs of server time per index (it fills the caches for
/// every relation, attribute and operator class it looks up), which was a third of
/// inspecting 20,000 indexes; the columns it would look up are already read, and
/// the defaults are decided here in one pass over `pg_index` (`plain`), with the same
/// rule as `pg_get_indexdef`: the collation is printed when it is not the column's,
/// the operator class when it is not the default one for the column's type.
/// `indnullsnotdistinct` exists from PostgreSQL 15 on, so it is read through the
/// row's JSON, and only for unique indexes.
const SQL_INDEXES: &str = concat!(
    "SELECT i.indexrelid AS oid, i.indrelid AS rel, n.nspname::text AS schema, ic.relname::text AS name,
       c.relname::text AS table_name, i.indisunique AS is_unique, am.amname::text AS am,
       CASE WHEN ic.reloptions IS NOT NULL OR NOT kc.plain
                 OR quote_ident(am.amname) <> am.amname::text
            THEN pg_get_indexdef(i.indexrelid)
       END AS def,
       i.indkey::text AS key_nums, i.indnkeyatts AS key_count, i.indoption::text AS key_options,
       CASE WHEN i.indisunique THEN (to_jsonb(i) ->> 'indnullsnotdistinct')::bool END AS nulls_not_distinct,
       CASE WHEN i.indexprs IS NOT NULL THEN
            ARRAY(SELECT pg_get_indexdef(i.indexrelid, k, false)
                  FROM generate_series(1, i.indnkeyatts::int) k
                  WHERE i.indkey[k - 1] = 0 ORDER BY k)
       END AS expr_columns,
       pg_get_expr(i.indpred, i.indrelid) AS predicate
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_class c ON c.oid = i.indrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_am am ON am.oid = ic.relam
JOIN (SELECT x.indexrelid,
             bool_and(x.opclass IS NULL
                      OR COALESCE(o.opcdefault AND ia.attoptions IS NULL
                                  AND CASE WHEN x.attnum = 0
                                      THEN x.coll = 0 AND o.opckeytype = 0
                                           AND o.opcintype = ia.atttypid
                                      ELSE x.coll IN (0, a.attcollation)
                                           AND o.opcintype = a.atttypid
                                      END, false)) AS plain
      FROM (SELECT xi.indexrelid, xi.indrelid, u.attnum, u.opclass, u.coll, u.k
            FROM pg_index xi,
                 unnest(xi.indkey::int2[], xi.indclass::oid[], xi.indcollation::oid[])
                   WITH ORDINALITY AS u(attnum, opclass, coll, k)) x
      LEFT JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = x.attnum
      LEFT JOIN pg_attribute ia ON ia.attrelid = x.indexrelid AND ia.attnum = x.k
      LEFT JOIN pg_opclass o ON o.oid = x.opclass
      GROUP BY x.indexrelid) kc ON kc.indexrelid = i.indexrelid
WHERE c.relkind IN ('r', 'p', 'm') AND ",
    user_ns!("n"),
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
       t.typnotnull AS not_null,
       -- typdefault was deparsed under the creator's search_path; the tree is canonical
       COALESCE(pg_get_expr(t.typdefaultbin, 0), t.typdefault) AS default_expr,
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
/// for `depends_on`. Functions the server made for another object (a range type's
/// constructors: `deptype 'i'`) come and go with it and are not listed.
const SQL_FUNCTIONS: &str = concat!(
    "SELECT p.oid, n.nspname::text AS schema, p.proname::text AS name, p.prokind::text AS kind,
       pg_get_function_identity_arguments(p.oid) AS args,
       COALESCE(CASE WHEN p.prokind <> 'p' THEN pg_get_function_result(p.oid) END, '') AS result,
       l.lanname::text AS language, pg_get_functiondef(p.oid) AS def,
       pg_get_userbyid(p.proowner)::text AS owner,
       -- oidvector is 0-based; re-collecting gives an ordinary 1-based array
       ARRAY(SELECT u FROM unnest(COALESCE(p.proallargtypes, p.proargtypes::oid[])) u)
           || p.prorettype AS type_oids, ",
    grants!("p.proacl", "'f'", "p.proowner"),
    " AS grants
FROM pg_proc p
JOIN pg_namespace n ON n.oid = p.pronamespace
JOIN pg_language l ON l.oid = p.prolang
WHERE p.prokind IN ('f', 'p', 'w') AND ",
    user_ns!("n"),
    " AND ",
    not_ext!("pg_proc", "p.oid"),
    " AND NOT EXISTS (SELECT FROM pg_depend xi WHERE xi.classid = 'pg_proc'::regclass AND xi.objid = p.oid AND xi.deptype = 'i')"
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
    user_ns!("n")
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

type Apply = fn(&mut Builder, &PgRow) -> Result<(), sqlx::Error>;

/// Every catalog query, in the order it runs: what it reads (for errors), the SQL,
/// and how each of its rows enters the model. Later steps rely on maps earlier ones fill
/// (columns need their tables, for instance).
const STEPS: [(&str, &str, Apply); 20] = [
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
    ("column grants", SQL_COLUMN_GRANTS, Builder::column_grants),
    ("constraints", SQL_CONSTRAINTS, Builder::constraints),
    ("indexes", SQL_INDEXES, Builder::indexes),
    ("policies", SQL_POLICIES, Builder::policies),
    ("types", SQL_TYPES, Builder::types),
    ("enum labels", SQL_ENUM_LABELS, Builder::enum_labels),
    ("domain checks", SQL_DOMAIN_CHECKS, Builder::domain_checks),
    ("functions", SQL_FUNCTIONS, Builder::functions),
    ("triggers", SQL_TRIGGERS, Builder::triggers),
    ("view dependencies", SQL_VIEW_DEPS, Builder::view_deps),
];

/// Statements one inspection runs besides `BEGIN` and `COMMIT`, whatever the schema.
pub const QUERY_COUNT: usize = STEPS.len();

/// The catalog queries in the order inspection runs them, for the benchmark's floor
/// (the same statements through psql, with no model built): `examples/pg_catalog_floor.rs`.
pub fn catalog_queries() -> impl Iterator<Item = &'static str> {
    STEPS.iter().map(|(_, sql, _)| *sql)
}

thread_local! {
    static ISSUED: Cell<usize> = const { Cell::new(0) };
}

/// Statements inspection has sent from this thread so far, `BEGIN` and `COMMIT`
/// included. Tests compare it across schemas of different sizes to prove that the
/// number of round trips does not grow with the number of objects.
pub fn statements_issued() -> usize {
    ISSUED.with(Cell::get)
}

fn count_statement() {
    ISSUED.with(|c| c.set(c.get() + 1));
}

/// Reads the whole schema in one read-only snapshot, within lockstep's time limits
/// (catalog functions such as `pg_get_viewdef` take locks, and must not wait forever).
pub async fn inspect(
    conn: &mut PgConnection,
    url: &DbUrl,
    limits: &crate::Limits,
) -> Result<Database, DbError> {
    count_statement();
    // One round trip: the limits are sent with BEGIN.
    let begin = format!(
        "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; {}",
        limits.set_local()
    );
    let mut tx = conn
        .begin_with(sqlx::AssertSqlSafe(begin))
        .await
        .map_err(|e| DbError::query("starting a read-only transaction", url, e))?;
    let mut b = Builder::new();
    for (what, sql, apply) in STEPS {
        count_statement();
        // Each row enters the model as it arrives, so Rust works while the server is
        // still producing the rest. The rows themselves are not kept: `()` per row.
        sqlx::query(sql)
            .try_map(|row: PgRow| apply(&mut b, &row))
            .fetch_all(&mut *tx)
            .await
            .map_err(|e| DbError::query(format!("reading {what}"), url, e))?;
    }
    // Nothing was written: committing only ends the snapshot and drops the
    // transaction-local search_path. On an error above, dropping `tx` rolls back.
    count_statement();
    tx.commit()
        .await
        .map_err(|e| DbError::query("ending the read-only transaction", url, e))?;
    let mut db = b.finish();
    if let Some(schema) = url.schema() {
        db.schemas.remove(&schema);
    }
    Ok(db)
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
    /// Columns by table and `attnum`, sorted into their tables at the end.
    table_columns: HashMap<Oid, Vec<(i16, Column)>>,
    view_columns: HashMap<Oid, Vec<(i16, String)>>,
    /// Names of every table and view column, hidden inherited ones included, for
    /// constraints and indexes, and the few whose SQL spelling needs quotes.
    column_names: HashMap<(Oid, i16), String>,
    quoted_names: HashMap<(Oid, i16), String>,
    /// Attributes of relations that are neither tables nor views of the model, by OID
    /// (`typrelid`), with `attnum` and type OID. Free-standing composite types pick
    /// theirs up; the rest (an extension's tables) is never read.
    composite_attrs: HashMap<Oid, Vec<(i16, Attribute, Oid)>>,
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
    use lockstep_core::sql::lex::{Dialect, Lexer, TokenKind};
    let def = strip_constraint_flags(def);
    let mut depth = 0usize;
    for t in Lexer::new(def, Dialect::Postgres).filter(|t| t.kind == TokenKind::Punct) {
        match t.text {
            "(" => depth += 1,
            ")" if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    let rest = def[t.end()..].trim();
                    return (!rest.is_empty()).then(|| rest.to_string());
                }
            }
            _ => {}
        }
    }
    None
}

/// A key's `extra`: the definition's tail, then its index's storage parameters,
/// in the order `PRIMARY KEY (...) INCLUDE (...) WITH (...)` takes them.
fn key_extra(def: &str, index_options: Option<&str>) -> Option<String> {
    let with = index_options
        .filter(|o| !o.is_empty())
        .map(|o| format!("WITH ({o})"));
    match (key_tail(def), with) {
        (Some(t), Some(w)) => Some(format!("{t} {w}")),
        (t, w) => t.or(w),
    }
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
            db: {
                let mut db = Database::empty(Dialect::Postgres);
                db.env.engine = "postgresql".into();
                db
            },
            comments: HashMap::new(),
            all_roles: Vec::new(),
            roles_used: BTreeSet::new(),
            tables: HashMap::new(),
            views: HashMap::new(),
            rel_names: HashMap::new(),
            partition_parent: HashMap::new(),
            inherits_from: HashSet::new(),
            identity_seqs: HashMap::new(),
            table_columns: HashMap::new(),
            view_columns: HashMap::new(),
            column_names: HashMap::new(),
            quoted_names: HashMap::new(),
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

    fn settings(&mut self, row: &PgRow) -> R {
        let name: String = row.try_get("name")?;
        let value: Option<String> = row.try_get("value")?;
        let Some(mut value) = value else {
            return Ok(());
        };
        if name == "server_version" {
            self.db.env.version = value;
            return Ok(());
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
        Ok(())
    }

    fn comments(&mut self, row: &PgRow) -> R {
        let catalog: String = row.try_get("catalog")?;
        let Some(catalog) = Catalog::parse(&catalog) else {
            return Ok(());
        };
        self.comments.insert(
            (catalog, row.try_get("oid")?, row.try_get("subid")?),
            row.try_get("description")?,
        );
        Ok(())
    }

    fn roles(&mut self, row: &PgRow) -> R {
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
        Ok(())
    }

    fn schemas(&mut self, row: &PgRow) -> R {
        let oid: Oid = row.try_get("oid")?;
        let name: String = row.try_get("name")?;
        let ns = Namespace {
            name: name.clone(),
            owner: self.owner(row.try_get("owner")?),
            comment: self.comment(Catalog::Namespace, oid, 0),
            grants: self.grants(row.try_get("grants")?),
        };
        self.db.schemas.insert(name, ns);
        Ok(())
    }

    fn extensions(&mut self, row: &PgRow) -> R {
        let oid: Oid = row.try_get("oid")?;
        let name: String = row.try_get("name")?;
        let ext = Extension {
            name: name.clone(),
            schema: row.try_get("schema")?,
            version: row.try_get("version")?,
            comment: self.comment(Catalog::Extension, oid, 0),
        };
        self.db.extensions.insert(name, ext);
        Ok(())
    }

    fn relations(&mut self, row: &PgRow) -> R {
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
                    materialized: kind == "m",
                    options,
                    check_option,
                    owner,
                    comment,
                    grants,
                    ..View::new(name, definition.unwrap_or_default())
                },
            );
            return Ok(());
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
        Ok(())
    }

    fn sequences(&mut self, row: &PgRow) -> R {
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
            return Ok(());
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
        Ok(())
    }

    fn inherits(&mut self, row: &PgRow) -> R {
        let child: Oid = row.try_get("child")?;
        if let Some(t) = self.tables.get_mut(&child) {
            t.inherits.push(QualName::new(
                row.try_get::<String, _>("parent_schema")?,
                row.try_get::<String, _>("parent_name")?,
            ));
            self.inherits_from.insert(child);
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

    /// Columns arrive in no particular order; they are numbered here and put in
    /// `attnum` order by [`Builder::finish`] (and by `types` for composite types).
    fn columns(&mut self, row: &PgRow) -> R {
        let rel: Oid = row.try_get("rel")?;
        let num: i16 = row.try_get("num")?;
        let name: String = row.try_get("name")?;
        let type_: String = row.try_get("type")?;
        let collation: Option<String> = row.try_get("collation")?;
        let comment = self.comment(Catalog::Class, rel, i32::from(num));
        if self.tables.contains_key(&rel) || self.views.contains_key(&rel) {
            self.column_names.insert((rel, num), name.clone());
            if let Some(quoted) = row.try_get::<Option<String>, _>("quoted")? {
                self.quoted_names.insert((rel, num), quoted);
            }
        }
        if let Some(v) = self.views.get_mut(&rel) {
            if let Some(c) = comment {
                v.column_comments.insert(name.clone(), c);
            }
            self.view_columns.entry(rel).or_default().push((num, name));
            return Ok(());
        }
        if !self.tables.contains_key(&rel) {
            let type_oid: Oid = row.try_get("type_oid")?;
            let attribute = Attribute {
                name,
                type_,
                collation,
            };
            self.composite_attrs
                .entry(rel)
                .or_default()
                .push((num, attribute, type_oid));
            return Ok(());
        }
        let is_local: bool = row.try_get("is_local")?;
        if !is_local && self.inherits_from.contains(&rel) {
            return Ok(());
        }
        let mut c = Column::new(name, type_);
        c.not_null = row.try_get("not_null")?;
        c.collation = collation;
        let default: Option<String> = row.try_get("default_expr")?;
        // A generated column's expression is stored as its default.
        match row.try_get::<&str, _>("generated")? {
            g @ ("s" | "v") => {
                c.generated = default.map(|expression| Generated {
                    expression,
                    stored: g == "s",
                });
            }
            _ => c.default = default,
        }
        let identity: &str = row.try_get("identity")?;
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
        c.comment = comment;
        self.table_columns.entry(rel).or_default().push((num, c));
        Ok(())
    }

    fn column_grants(&mut self, row: &PgRow) -> R {
        let rel: Oid = row.try_get("rel")?;
        let num: i16 = row.try_get("num")?;
        let raw: Vec<String> = row.try_get("grants")?;
        // Hidden inherited columns and other relations' columns are not in the model.
        let shown = self
            .table_columns
            .get(&rel)
            .is_some_and(|cols| cols.iter().any(|(n, _)| *n == num));
        if !shown {
            return Ok(());
        }
        let grants = self.grants(raw);
        let column = self
            .table_columns
            .get_mut(&rel)
            .and_then(|cols| cols.iter_mut().find(|(n, _)| *n == num));
        if let Some((_, c)) = column {
            c.grants = grants;
        }
        Ok(())
    }

    fn constraints(&mut self, row: &PgRow) -> R {
        let rel: Oid = row.try_get("rel")?;
        if !self.tables.contains_key(&rel) {
            return Ok(());
        }
        let oid: Oid = row.try_get("oid")?;
        let kind: String = row.try_get("kind")?;
        let nums: Vec<i16> = row
            .try_get::<Option<Vec<i16>>, _>("column_nums")?
            .unwrap_or_default();
        let columns: Vec<String> = nums
            .iter()
            .map(|n| {
                self.column_names
                    .get(&(rel, *n))
                    .cloned()
                    .unwrap_or_else(|| n.to_string())
            })
            .collect();
        let def: Option<String> = row.try_get("def")?;
        let def = def.unwrap_or_default();
        let index_options: Option<String> = row.try_get("index_options")?;
        let extra = key_extra(&def, index_options.as_deref());
        let kind = match kind.as_str() {
            "p" => ConstraintKind::PrimaryKey { columns, extra },
            "u" => ConstraintKind::Unique {
                columns,
                // The definition is canonical and says so from 15 on; earlier
                // servers have no such option, and the prefix is then absent.
                nulls_not_distinct: def.starts_with("UNIQUE NULLS NOT DISTINCT"),
                extra,
            },
            "f" => ConstraintKind::ForeignKey {
                columns,
                references: QualName::new(
                    row.try_get::<Option<String>, _>("ref_schema")?
                        .unwrap_or_default(),
                    row.try_get::<Option<String>, _>("ref_table")?
                        .unwrap_or_default(),
                ),
                ref_columns: row
                    .try_get::<Option<Vec<String>>, _>("ref_columns")?
                    .unwrap_or_default(),
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
            _ => return Ok(()),
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
        Ok(())
    }

    fn indexes(&mut self, row: &PgRow) -> R {
        let rel: Oid = row.try_get("rel")?;
        if !self.tables.contains_key(&rel) && !self.views.contains_key(&rel) {
            return Ok(());
        }
        let oid: Oid = row.try_get("oid")?;
        let schema: String = row.try_get("schema")?;
        let name = QualName::new(schema.clone(), row.try_get::<String, _>("name")?);
        let am: String = row.try_get("am")?;
        let columns = self.index_columns(rel, row)?;
        let predicate: Option<String> = row.try_get("predicate")?;
        let definition = match row.try_get::<Option<String>, _>("def")? {
            // `CREATE [UNIQUE] INDEX name ON [ONLY] table USING am (...)`: keep what
            // follows the table. Searching for the method too avoids a table whose
            // quoted name happens to contain " USING ".
            Some(def) => def
                .find(&format!(" USING {am} ("))
                .or_else(|| def.find(" USING "))
                .map(|i| def[i + 1..].to_string())
                .unwrap_or(def),
            None => self.index_definition(rel, row, &am, &columns, predicate.as_deref())?,
        };
        let index = Index {
            unique: row.try_get("is_unique")?,
            predicate,
            comment: self.comment(Catalog::Class, oid, 0),
            ..Index::new(
                name.clone(),
                QualName::new(schema, row.try_get::<String, _>("table_name")?),
                definition,
                columns,
            )
        };
        self.db.indexes.insert(name, index);
        Ok(())
    }

    /// What `pg_get_indexdef` prints from ` USING` on, for an index of plain columns
    /// with their types' default operator classes and their own collations (the query
    /// says which): `USING am (key [DESC] [NULLS FIRST|LAST], ...) [INCLUDE (...)]
    /// [NULLS NOT DISTINCT] [WHERE predicate]`, the sort options as `indoption` holds
    /// them (bit 0 DESC, bit 1 NULLS FIRST, each printed only where it is not the
    /// default for the direction).
    fn index_definition(
        &self,
        rel: Oid,
        row: &PgRow,
        am: &str,
        keys: &[String],
        predicate: Option<&str>,
    ) -> R<String> {
        let options: &str = row.try_get("key_options")?;
        let keys = keys
            .iter()
            .zip(options.split_whitespace().chain(std::iter::repeat("0")))
            .map(|(k, o)| {
                let o: i16 = o.parse().unwrap_or(0);
                let order = match (o & 1 != 0, o & 2 != 0) {
                    (true, true) => " DESC",
                    (true, false) => " DESC NULLS LAST",
                    (false, true) => " NULLS FIRST",
                    (false, false) => "",
                };
                format!("{k}{order}")
            })
            .collect::<Vec<_>>()
            .join(", ");
        let mut def = format!("USING {am} ({keys}");
        let included = self.index_included(rel, row)?;
        if !included.is_empty() {
            def.push_str(&format!(") INCLUDE ({}", included.join(", ")));
        }
        def.push(')');
        if row.try_get::<Option<bool>, _>("nulls_not_distinct")? == Some(true) {
            def.push_str(" NULLS NOT DISTINCT");
        }
        if let Some(p) = predicate {
            def.push_str(&format!(" WHERE {p}"));
        }
        Ok(def)
    }

    /// Key columns as `pg_get_indexdef(oid, k, false)` prints them: the quoted name of
    /// a plain column, the deparsed expression of the others.
    fn index_columns(&self, rel: Oid, row: &PgRow) -> R<Vec<String>> {
        let nums: &str = row.try_get("key_nums")?;
        let count: i16 = row.try_get("key_count")?;
        let exprs: Option<Vec<String>> = row.try_get("expr_columns")?;
        let mut exprs = exprs.unwrap_or_default().into_iter();
        Ok(nums
            .split_whitespace()
            .take(usize::try_from(count).unwrap_or(0))
            .map(|n| match n {
                "0" => exprs.next().unwrap_or_default(),
                n => self.column_sql(rel, n),
            })
            .collect())
    }

    /// The `INCLUDE` columns (always plain columns), quoted.
    fn index_included(&self, rel: Oid, row: &PgRow) -> R<Vec<String>> {
        let nums: &str = row.try_get("key_nums")?;
        let count: i16 = row.try_get("key_count")?;
        Ok(nums
            .split_whitespace()
            .skip(usize::try_from(count).unwrap_or(0))
            .map(|n| self.column_sql(rel, n))
            .collect())
    }

    /// Column `num` of `rel` as SQL names it: quoted where it has to be.
    fn column_sql(&self, rel: Oid, num: &str) -> String {
        num.parse::<i16>()
            .ok()
            .and_then(|k| {
                self.quoted_names
                    .get(&(rel, k))
                    .or_else(|| self.column_names.get(&(rel, k)))
            })
            .cloned()
            .unwrap_or_else(|| num.to_string())
    }

    fn policies(&mut self, row: &PgRow) -> R {
        let rel: Oid = row.try_get("rel")?;
        if !self.tables.contains_key(&rel) {
            return Ok(());
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
        Ok(())
    }

    fn types(&mut self, row: &PgRow) -> R {
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
                    base: row
                        .try_get::<Option<String>, _>("base")?
                        .unwrap_or_default(),
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
                let mut attrs = self.composite_attrs.remove(&relid).unwrap_or_default();
                attrs.sort_by_key(|(num, _, _)| *num);
                refs.extend(attrs.iter().map(|(_, _, t)| *t));
                TypeKind::Composite {
                    attributes: attrs.into_iter().map(|(_, a, _)| a).collect(),
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
        Ok(())
    }

    fn enum_labels(&mut self, row: &PgRow) -> R {
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
        Ok(())
    }

    fn domain_checks(&mut self, row: &PgRow) -> R {
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
        Ok(())
    }

    fn functions(&mut self, row: &PgRow) -> R {
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
        Ok(())
    }

    fn triggers(&mut self, row: &PgRow) -> R {
        let rel: Oid = row.try_get("rel")?;
        if !self.tables.contains_key(&rel) && !self.views.contains_key(&rel) {
            return Ok(());
        }
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
        Ok(())
    }

    fn view_deps(&mut self, row: &PgRow) -> R {
        let view: Oid = row.try_get("view")?;
        if !self.views.contains_key(&view) {
            return Ok(());
        }
        let catalog: String = row.try_get("catalog")?;
        let Some(catalog) = Catalog::parse(&catalog) else {
            return Ok(());
        };
        self.view_refs
            .entry(view)
            .or_default()
            .push((catalog, row.try_get("ref")?));
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
            let mut columns = self.view_columns.remove(&oid).unwrap_or_default();
            columns.sort_by_key(|(num, _)| *num);
            v.columns = columns.into_iter().map(|(_, name)| name).collect();
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
        for (oid, mut t) in std::mem::take(&mut self.tables) {
            let mut columns = self.table_columns.remove(&oid).unwrap_or_default();
            columns.sort_by_key(|(num, _)| *num);
            t.columns = columns.into_iter().map(|(_, c)| c).collect();
            // Catalog order differs between servers; snapshots must not.
            t.constraints.sort_by(|a, b| a.name.cmp(&b.name));
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

/// The schema within lockstep's time limits, watched so that a limit that fires names
/// who was in the way.
pub async fn schema(
    c: &mut PgConnection,
    url: &DbUrl,
    pid: Option<i32>,
    limits: &crate::Limits,
) -> Result<Database, DbError> {
    crate::wait::own(url, pid, limits, inspect(c, url, limits)).await
}
