//! PostgreSQL inspection (13 and later).
//!
//! The whole schema is read inside one `REPEATABLE READ READ ONLY` transaction (with
//! lockstep's lock and statement timeouts, see `wait.rs`) with a fixed list of catalog
//! queries (at most [`QUERY_COUNT`]), one per object kind, whatever the number of
//! objects; kinds that one statement finds absent are skipped. Per-object round trips are what make catalog readers slow on
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
//! extension owns (the extension itself is listed instead). `pg_get_functiondef`
//! cannot print an aggregate, so aggregates are read by their own query, which builds
//! their `CREATE AGGREGATE` from `pg_aggregate`.
//!
//! A session confined to one schema (schema-per-tenant, `?schema=NAME`, which sets
//! the `lockstep.schema` setting at connect) reads that schema only, with it as the
//! `search_path`: names in it read unqualified, so every tenant reads the same as a
//! replay confined to `public`, and one replay serves a whole fleet of tenants. The
//! schema itself (the tenant's container) and lockstep's tables in it are left out.

use crate::{DbError, DbUrl};
use lockstep_core::model::{
    Attribute, Column, ColumnRef, ColumnStorage, Constraint, ConstraintKind, Database, Dialect,
    Extension, Function, Generated, Grant, Identity, Index, Namespace, Other, OtherPhase,
    PartitionOf, Policy, QualName, Role, Sequence, Table, TableKind, Trigger, TypeDef, TypeKind,
    View,
};
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use sqlx::postgres::types::Oid;
use sqlx::postgres::PgRow;
use sqlx::{Connection, PgConnection, Row};
use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};

// ---------------------------------------------------------------------------- SQL
//
// The statements are static strings assembled with `concat!`, so no value is ever
// spliced into SQL. The transaction runs with an empty `search_path`, so unqualified
// catalog names can only resolve to `pg_catalog`.

/// Namespaces lockstep shows, for the `pg_namespace` alias `$n`: every schema but the
/// system's (a name starting with `pg_`: `pg_catalog`, `pg_toast`, `pg_temp_N`; users may
/// not create such names), `information_schema`, lockstep's own and extension members,
/// or only the one `lockstep.schema` names. Written as membership in the list of shown
/// namespaces, which the server builds once per statement (an `InitPlan`): tested per
/// row, the regular expression and the two `current_setting` calls ran for every pair of
/// object and namespace where the planner chose a nested loop (40 ms of the sequences'
/// statement at 10,000 tables).
macro_rules! user_ns {
    ($n:literal) => {
        concat!(
            $n, ".oid = ANY (ARRAY(SELECT un.oid FROM pg_namespace un WHERE un.nspname !~ '^pg_' AND un.nspname NOT IN ('information_schema', 'lockstep') AND COALESCE(pg_catalog.current_setting('lockstep.schema', true), '') IN ('', un.nspname::text) AND NOT EXISTS (SELECT FROM pg_depend xn WHERE xn.classid = 'pg_namespace'::regclass AND xn.objid = un.oid AND xn.deptype = 'e')))"
        )
    };
}

/// The qualifier `schema.` for the namespace name `$n`, or nothing for the schema the
/// session is confined to (a tenant's): its objects are named relative to it, as the
/// server's own deparsing does with the schema on the `search_path`, so that every
/// tenant's statements read as the replay's in `public`.
macro_rules! qual {
    ($n:literal) => {
        concat!(
            "(CASE WHEN ",
            $n,
            " = pg_catalog.current_setting('lockstep.schema', true) THEN '' ELSE quote_ident(",
            $n,
            ") || '.' END)"
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

/// [`grants!`] for kinds whose default ACL is the owner's alone (tables, views,
/// sequences, schemas): a NULL ACL then grants nothing to show, and the common case
/// skips exploding the default per row (10,000 tables and 10,000 sequences: 40 ms).
macro_rules! owner_only_grants {
    ($acl:literal, $kind:literal, $owner:literal) => {
        concat!(
            "CASE WHEN ",
            $acl,
            " IS NULL THEN '{}'::text[] ELSE ",
            grants!($acl, $kind, $owner),
            " END"
        )
    };
}

/// How the inspection's transaction starts (lockstep's time limits follow it in the
/// same message). JIT compilation is off: it starts once a statement's estimated cost
/// passes `jit_above_cost`, and the statements here are many small catalog lookups
/// whose compiling costs more than it saves. Forced on for the index and column
/// statements at 10,000 tables (`jit_above_cost`, `jit_inline_above_cost` and
/// `jit_optimize_above_cost` at 0), it added 1.0 to 1.4 s to each; their estimates
/// (64,000 and 6,000) are under the default threshold of 100,000 there, but grow with
/// the schema.
pub const BEGIN: &str = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET LOCAL jit = off";

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

/// `container`: the schema a session is confined to (a tenant's), which is not part of
/// the tenant's model.
const SQL_SCHEMAS: &str = concat!(
    "SELECT n.oid, n.nspname::text AS name, pg_get_userbyid(n.nspowner)::text AS owner, ",
    owner_only_grants!("n.nspacl", "'n'", "n.nspowner"),
    " AS grants,
       COALESCE(n.nspname::text = pg_catalog.current_setting('lockstep.schema', true), false) AS container
FROM pg_namespace n WHERE ",
    user_ns!("n")
);

const SQL_EXTENSIONS: &str = "
SELECT e.oid, e.extname::text AS name, n.nspname::text AS schema, e.extversion AS version
FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace";

/// Tables, partitioned and foreign tables, views and materialized views.
const SQL_RELATIONS: &str = concat!(
    "SELECT c.oid, n.nspname::text AS schema, c.relname::text AS name, c.relkind::text AS kind,
       c.relnatts AS column_count, c.relpersistence::text AS persistence, c.reloptions::text[] AS options,
       pg_get_userbyid(c.relowner)::text AS owner,
       c.relrowsecurity AS rls_enabled, c.relforcerowsecurity AS rls_forced,
       CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END AS partition_key,
       CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END AS partition_bound,
       pi.inhparent AS parent_oid, pn.nspname::text AS parent_schema, pc.relname::text AS parent_name,
       CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END AS view_definition,
       c.reltype AS row_type, rt.typarray AS row_array_type, ",
    owner_only_grants!("c.relacl", "'r'", "c.relowner"),
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
       d.deptype::text AS dep_type, d.refobjid AS owner_rel, d.refobjsubid::int2 AS owner_num, ",
    owner_only_grants!("c.relacl", "'s'", "c.relowner"),
    " AS grants
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_sequence s ON s.seqrelid = c.oid
LEFT JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.objsubid = 0
     AND d.refclassid = 'pg_class'::regclass AND d.refobjsubid > 0 AND d.deptype IN ('a', 'i')
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
///
/// A default cannot refer to a column, so it is deparsed without its relation
/// (`pg_get_expr(adbin, 0)` prints the same text): given one, the function looks the
/// relation's name up first, a catalog cache miss per table on a fresh session, which
/// was a quarter of this statement at 10,000 tables. A generated column's expression
/// does refer to columns, and keeps it.
/// Every column, with what `ALTER COLUMN ... SET` changes from the defaults: storage,
/// compression (PostgreSQL 14 on), options and statistics target (a foreign table's
/// column options come with the foreign tables). Read here, on the rows the statement
/// visits anyway: a statement of their own visited all 100,000 columns of 10,000 tables
/// again for the few that have any (90 ms). The options come raw, as a subquery per
/// row would keep the statement off parallel workers (50 ms at 10,000 tables), and
/// Rust drops those named `pg_...`: the server's own (some builds stamp columns with
/// one), which no user can set and pg_dump leaves out.
macro_rules! columns {
    ($compression:literal) => {
        concat!(
            "SELECT a.attrelid AS rel, a.attnum AS num, a.attname::text AS name, format_type(a.atttypid, a.atttypmod) AS type,
       a.atttypid AS type_oid, a.attcollation AS collation_oid, a.attnotnull AS not_null,
       CASE WHEN a.attgenerated = '' THEN pg_get_expr(ad.adbin, 0)
            ELSE pg_get_expr(ad.adbin, ad.adrelid) END AS default_expr,
       a.attgenerated::text AS generated, a.attidentity::text AS identity, a.attislocal AS is_local,
       NULLIF(quote_ident(a.attname), a.attname::text) AS quoted,
       CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation
            THEN a.attcollation::regcollation::text END AS collation,
       CASE WHEN a.attstorage <> t.typstorage THEN CASE a.attstorage WHEN 'p' THEN 'PLAIN' WHEN 'e' THEN 'EXTERNAL' WHEN 'm' THEN 'MAIN' ELSE 'EXTENDED' END END AS storage,
       ", $compression, " AS compression,
       a.attoptions AS options,
       CASE WHEN COALESCE(a.attstattarget, -1) >= 0 THEN a.attstattarget::int4 END AS statistics
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
WHERE c.relkind IN ('r', 'p', 'f', 'v', 'm', 'c') AND a.attnum > 0 AND NOT a.attisdropped AND ",
            user_ns!("n")
        )
    };
}

const SQL_COLUMNS: &str =
    columns!("CASE a.attcompression WHEN 'p' THEN 'pglz' WHEN 'l' THEN 'lz4' END");

/// PostgreSQL 13 has no per-column compression.
const SQL_COLUMNS_13: &str = columns!("NULL::text");

/// Column privileges, apart from the columns: few columns have any, and an ACL
/// subquery in the columns statement slows all 100,000 rows down. Only explicit
/// grants: a column's default ACL is empty. Only tables' columns are shown; without
/// the `relkind` test the statement probed `pg_attribute` for every index, sequence
/// and TOAST table as well (five times the tables).
const SQL_COLUMN_GRANTS: &str = concat!(
    "SELECT a.attrelid AS rel, a.attnum AS num,
       ARRAY(SELECT CASE WHEN g.is_grantable THEN 't' ELSE 'f' END || g.privilege_type || ':' || CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(g.grantee)::text END
             FROM aclexplode(a.attacl) g WHERE g.grantee <> c.relowner) AS grants
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE a.attacl IS NOT NULL AND a.attnum > 0 AND NOT a.attisdropped
  AND c.relkind IN ('r', 'p', 'f') AND ",
    user_ns!("n")
);

/// Table constraints declared on the table itself: those a partition or an
/// inheritance child received from its parent (`conparentid`, `NOT conislocal`) are
/// the parent's. The full definition is only printed for exclusions; keys, foreign
/// keys and checks are read field by field. What `pg_get_constraintdef` prints after a
/// key's columns is its `INCLUDE` list, the index's key positions past the
/// constraint's own (`index_key_nums`), named as the function names them (quoted
/// column names, see [`Builder::key_included`]); on a fresh session the function
/// costs a catalog cache fill per key, a third of this statement at 10,000 tables.
/// A key's index storage parameters are not part of `pg_get_constraintdef` either,
/// so they come separately, as `pg_dump` reads them. Own columns come as numbers,
/// named from the columns already read; a foreign key's referenced table may be
/// outside the model, so its columns are named here, the usual single column by one
/// index probe instead of a join and a sort per key.
const SQL_CONSTRAINTS: &str = concat!(
    "SELECT k.oid, k.conrelid AS rel, k.conname::text AS name, k.contype::text AS kind,
       k.condeferrable AS deferrable, k.condeferred AS deferred, k.convalidated AS validated,
       k.connoinherit AS no_inherit,
       CASE WHEN k.contype = 'x' THEN pg_get_constraintdef(k.oid) END AS def,
       CASE WHEN k.contype IN ('p', 'u') THEN ki_i.indkey::text END AS index_key_nums,
       CASE WHEN k.contype = 'u' THEN (to_jsonb(ki_i) ->> 'indnullsnotdistinct')::bool END AS nulls_not_distinct,
       CASE WHEN k.contype = 'c' THEN pg_get_expr(k.conbin, k.conrelid) END AS check_expr,
       k.conkey AS column_nums,
       CASE WHEN k.contype <> 'f' THEN NULL
            WHEN cardinality(k.confkey) = 1 THEN
            ARRAY[(SELECT a.attname::text FROM pg_attribute a
                   WHERE a.attrelid = k.confrelid AND a.attnum = k.confkey[1])]
            ELSE ARRAY(SELECT a.attname::text FROM unnest(k.confkey) WITH ORDINALITY u(num, ord)
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
LEFT JOIN pg_index ki_i ON ki_i.indexrelid = k.conindid
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
/// `def` is `pg_get_indexdef` only for the indexes whose storage parameters or method
/// name Rust does not spell; the rest Rust writes itself (see
/// [`Builder::index_definition`]). On a cold session the function costs about 100 µs
/// of server time per index (it fills the caches for every relation, attribute and
/// operator class it looks up), which was a third of inspecting 20,000 indexes. Rust
/// can only write an index whose key columns have their types' default operator
/// classes, without options, and their own collations ([`Builder::index_is_plain`],
/// from `key_classes`, `key_collations` and, for expressions, the index's own
/// attribute types in `key_types`); the others' text is asked for afterwards, in one
/// statement ([`SQL_INDEX_DEFS`]). Deciding that here, per key, with joins to
/// `pg_attribute` and `pg_opclass`, was half of this statement's server time at
/// 10,000 tables (290 of 940 ms on a slow core, and twice that in CPU with a parallel
/// worker).
macro_rules! indexes {
    ($nulls_not_distinct:literal) => {
        concat!(
    "SELECT i.indexrelid AS oid, i.indrelid AS rel, n.nspname::text AS schema, ic.relname::text AS name,
       c.relname::text AS table_name, i.indisunique AS is_unique, am.amname::text AS am,
       CASE WHEN ic.reloptions IS NOT NULL OR quote_ident(am.amname) <> am.amname::text
            THEN pg_get_indexdef(i.indexrelid)
       END AS def,
       i.indkey::text AS key_nums, i.indnkeyatts AS key_count, i.indoption::text AS key_options,
       i.indclass::text AS key_classes, i.indcollation::text AS key_collations,
       ", $nulls_not_distinct, " AS nulls_not_distinct,
       CASE WHEN i.indexprs IS NOT NULL THEN
            ARRAY(SELECT pg_get_indexdef(i.indexrelid, k, false)
                  FROM generate_series(1, i.indnkeyatts::int) k
                  WHERE i.indkey[k - 1] = 0 ORDER BY k)
       END AS expr_columns,
       CASE WHEN i.indexprs IS NOT NULL THEN
            ARRAY(SELECT ia.atttypid::int8 FROM pg_attribute ia
                  WHERE ia.attrelid = i.indexrelid AND ia.attnum <= i.indnkeyatts ORDER BY ia.attnum)
       END AS key_types,
       pg_get_expr(i.indpred, i.indrelid) AS predicate
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_class c ON c.oid = i.indrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_am am ON am.oid = ic.relam
WHERE c.relkind IN ('r', 'p', 'm') AND ",
    user_ns!("n"),
    " AND NOT EXISTS (SELECT FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.contype IN ('p', 'u', 'x'))
  AND NOT EXISTS (SELECT FROM pg_inherits h WHERE h.inhrelid = i.indexrelid)"
)
    };
}

/// Operator classes, for [`Builder::index_is_plain`]. `options`: whether a class can
/// take options (`siglen` and the like), which only a class whose family has its
/// method's options support function can (`CREATE INDEX` refuses them otherwise); that
/// function's number is fixed per built-in method (`BTOPTIONS_PROC` 5, `HASHOPTIONS_PROC`
/// 3, `GIST_OPTIONS_PROC` 10, `GIN_OPTIONS_PROC` 7, `SPGIST_OPTIONS_PROC` 7,
/// `BRIN_PROCNUM_OPTIONS` 5). Any other method's classes count as taking options, so
/// their indexes are left to `pg_get_indexdef`.
const SQL_KEY_CLASSES: &str = "
SELECT o.oid, o.opcmethod AS method, o.opcintype AS in_type, o.opckeytype AS key_type,
       o.opcdefault AS is_default,
       am.amname NOT IN ('btree', 'hash', 'gist', 'gin', 'spgist', 'brin')
       OR EXISTS (SELECT FROM pg_amproc p WHERE p.amprocfamily = o.opcfamily
                  AND p.amprocnum = CASE am.amname WHEN 'btree' THEN 5 WHEN 'hash' THEN 3 WHEN 'gist' THEN 10
                                                   WHEN 'gin' THEN 7 WHEN 'spgist' THEN 7 ELSE 5 END) AS options
FROM pg_opclass o JOIN pg_am am ON am.oid = o.opcmethod";

/// The definitions of the indexes Rust cannot write (see [`SQL_INDEXES`]), asked for
/// by OID after the index step, only when there are any.
const SQL_INDEX_DEFS: &str =
    "SELECT i.oid, pg_get_indexdef(i.oid) AS def FROM unnest($1::oid[]) i(oid)";

const SQL_INDEXES: &str = indexes!("i.indnullsnotdistinct");

/// `indnullsnotdistinct` exists from PostgreSQL 15 on.
const SQL_INDEXES_14: &str = indexes!("NULL::bool");

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
                 ELSE ",
    qual!("opn.nspname"),
    " || quote_ident(opc.opcname) END
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

/// What follows the table in `CREATE [UNIQUE] INDEX name ON [ONLY] table USING am
/// (...)`. Searching for the method too avoids a table whose quoted name happens to
/// contain " USING ".
fn after_table(def: String, am: &str) -> String {
    def.find(&format!(" USING {am} ("))
        .or_else(|| def.find(" USING "))
        .map(|i| def[i + 1..].to_string())
        .unwrap_or(def)
}

/// How a step's rows enter the model.
#[derive(Clone, Copy)]
enum Enter {
    Rows(Apply),
    /// Rows about the parts of a relation, named by its oid in the column given: only
    /// those of relations the model holds (as [`Held`] says) enter, with that oid.
    Parts(&'static str, Held, fn(&mut Builder, Oid, &PgRow) -> R),
}

impl Enter {
    fn row(self, b: &mut Builder, row: &PgRow) -> R {
        match self {
            Enter::Rows(apply) => apply(b, row),
            Enter::Parts(column, held, apply) => match b.held(row, column, held)? {
                Some(rel) => apply(b, rel, row),
                None => Ok(()),
            },
        }
    }
}

/// Every catalog query, in the order it runs: what it reads (for errors), the SQL,
/// and how each of its rows enters the model. Later steps rely on maps earlier ones fill
/// (columns need their tables, for instance).
#[rustfmt::skip]
const STEPS: [(&str, Pick, Enter); 23] = [
    ("the search path",   Always(SQL_SEARCH_PATH),   Enter::Rows(|_, _| Ok(()))),
    ("server capabilities", Always(SQL_CAPABILITIES), Enter::Rows(Builder::capabilities)),
    ("server settings",   Always(SQL_SETTINGS),      Enter::Rows(Builder::settings)),
    ("comments",          Always(SQL_COMMENTS),      Enter::Rows(Builder::comments)),
    ("roles",             Always(SQL_ROLES),         Enter::Rows(Builder::roles)),
    ("schemas",           Always(SQL_SCHEMAS),       Enter::Rows(Builder::schemas)),
    ("extensions",        Always(SQL_EXTENSIONS),    Enter::Rows(Builder::extensions)),
    ("tables and views",  Always(SQL_RELATIONS),     Enter::Rows(Builder::relations)),
    ("sequences",         Always(SQL_SEQUENCES),     Enter::Rows(Builder::sequences)),
    ("table inheritance", Always(SQL_INHERITS),      Enter::Rows(Builder::inherits)),
    ("columns",           Since(140000, SQL_COLUMNS, SQL_COLUMNS_13), Enter::Rows(Builder::columns)),
    ("column grants",     Always(SQL_COLUMN_GRANTS), Enter::Rows(Builder::column_grants)),
    ("constraints",       Always(SQL_CONSTRAINTS),   Enter::Parts("rel", Held::Tables, Builder::constraints)),
    ("operator classes",  Always(SQL_KEY_CLASSES),   Enter::Rows(Builder::opclasses)),
    ("indexes",           Since(150000, SQL_INDEXES, SQL_INDEXES_14),       Enter::Parts("rel", Held::Relations, Builder::indexes)),
    ("policies",          Always(SQL_POLICIES),      Enter::Parts("rel", Held::Tables, Builder::policies)),
    ("triggers",          Always(SQL_TRIGGERS),      Enter::Parts("rel", Held::Relations, Builder::triggers)),
    ("types",             Always(SQL_TYPES),         Enter::Rows(Builder::types)),
    ("enum labels",       Always(SQL_ENUM_LABELS),   Enter::Rows(Builder::enum_labels)),
    ("domain checks",     Always(SQL_DOMAIN_CHECKS), Enter::Rows(Builder::domain_checks)),
    ("functions",         Always(SQL_FUNCTIONS),     Enter::Rows(Builder::functions)),
    ("view dependencies", Always(SQL_VIEW_DEPS),     Enter::Parts("view", Held::Views, Builder::view_deps)),
    ("object kinds present", Always(SQL_PRESENT),    Enter::Rows(Builder::present)),
];

/// Statements one inspection runs at most besides `BEGIN` and `COMMIT`, whatever the
/// schema (the kinds [`SQL_PRESENT`] finds absent are not read, and the definitions of
/// [`SQL_INDEX_DEFS`] only when some index needs them).
pub const QUERY_COUNT: usize = STEPS.len() + LATE_STEPS.len() + 1;

/// The catalog queries in the order inspection runs them, for the benchmark's floor
/// (the same statements through psql, with no model built): `examples/pg_catalog_floor.rs`.
pub fn catalog_queries() -> impl Iterator<Item = &'static str> {
    let steps = STEPS.iter().map(|(_, pick, _)| pick);
    steps
        .chain(LATE_STEPS.iter().map(|(_, pick, _, _)| pick))
        .map(|pick| pick.sql(i32::MAX, true))
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
    let begin = format!("{BEGIN}; {}", limits.set_local());
    let mut tx = conn
        .begin_with(sqlx::AssertSqlSafe(begin))
        .await
        .map_err(|e| DbError::query("starting a read-only transaction", url, e))?;
    let mut b = Builder::new();
    for (what, pick, enter) in STEPS {
        count_statement();
        // The server's version is known from the second step on.
        let (version, superuser) = b.capabilities;
        let sql = pick.sql(version, superuser);
        // Each row enters the model as it arrives, so Rust works while the server is
        // still producing the rest. The rows themselves are not kept: `()` per row.
        sqlx::query(sql)
            .try_map(|row: PgRow| enter.row(&mut b, &row))
            .fetch_all(&mut *tx)
            .await
            .map_err(|e| DbError::query(format!("reading {what}"), url, e))?;
    }
    if !b.pending_defs.is_empty() {
        count_statement();
        let oids: Vec<Oid> = b.pending_defs.keys().copied().collect();
        sqlx::query(SQL_INDEX_DEFS)
            .bind(oids)
            .try_map(|row: PgRow| b.index_def(&row))
            .fetch_all(&mut *tx)
            .await
            .map_err(|e| DbError::query("reading index definitions", url, e))?;
    }
    for (what, pick, apply, gate) in LATE_STEPS {
        if gate.is_some_and(|g| !b.present.contains(g)) {
            continue;
        }
        count_statement();
        let (version, superuser) = b.capabilities;
        sqlx::query(pick.sql(version, superuser))
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
        relative_to(&mut db, &schema);
    }
    Ok(db)
}

/// A tenant's texts as relative to its schema as the rest of its model: the server
/// qualifies a function's own name in `pg_get_functiondef`, a trigger's table in
/// `pg_get_triggerdef`, a statistics object's name in `pg_get_statisticsobjdef` and a
/// rule's table in `pg_get_ruledef` even when the schema is on the `search_path` (the
/// statements
/// this module builds for the other kinds leave it out themselves: `qual!`). Left
/// qualified, every tenant would differ from the replay (read in `public`) on each
/// such object, and a fix would create it in `public`.
fn relative_to(db: &mut Database, schema: &str) {
    use lockstep_core::dialect::postgres::text::{unqualify, Qualified};
    for f in db.functions.values_mut() {
        f.definition = unqualify(&f.definition, schema, Qualified::Header);
    }
    for t in db.triggers.values_mut() {
        t.definition = unqualify(&t.definition, schema, Qualified::After("on"));
    }
    // So do `pg_get_statisticsobjdef` a statistics object's own name and
    // `pg_get_ruledef` a rule's table.
    for o in db.others.values_mut() {
        let after = match o.kind.as_str() {
            "statistics" => "statistics",
            "rule" => "to",
            _ => continue,
        };
        if let Some(first) = o.create.first_mut() {
            let relative = unqualify(first, schema, Qualified::After(after));
            o.definition = o.definition.replacen(first.as_str(), &relative, 1);
            *first = relative;
        }
    }
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
    /// Identity columns' sequence parameters by (table, column); `always` comes from the
    /// column, read later.
    identity_seqs: HashMap<(Oid, i16), Identity>,
    /// Identity columns by table and `attnum`, with `always`: their sequences are found
    /// by name at the end, once every column's name is known (see
    /// [`Builder::identity_seq`]).
    identity_columns: Vec<(Oid, i16, bool)>,
    /// Sequences `OWNED BY` a column (`ALTER SEQUENCE` wants the table in the
    /// sequence's schema, so it is in the model), by table and `attnum`: named at the
    /// end from the tables' and columns' rows instead of three lookups per sequence in
    /// the statement (half of its server time at 10,000 sequences).
    owned_by: Vec<(QualName, Oid, i16)>,
    /// Columns by table and `attnum`, sorted into their tables at the end.
    table_columns: HashMap<Oid, Vec<(i16, Column)>>,
    view_columns: HashMap<Oid, Vec<(i16, String)>>,
    /// Every table and view column, hidden inherited ones included, by table and
    /// `attnum`: its name (for constraints, indexes and sequence owners) and its type
    /// and collation OIDs (for index definitions); `quoted_names`, the few whose SQL
    /// spelling needs quotes.
    column_names: HashMap<(Oid, i16), ColumnKey>,
    /// The columns step's fields, in the order [`Builder::columns`] takes them.
    column_positions: Positions<17>,
    quoted_names: HashMap<(Oid, i16), String>,
    /// Operator classes by OID, and the (method, type) pairs with a default class.
    opclasses: HashMap<u32, OpClass>,
    default_classes: HashSet<(u32, u32)>,
    /// Indexes whose definition `pg_get_indexdef` has to print, by OID: their names and
    /// methods.
    pending_defs: HashMap<Oid, (QualName, String)>,
    /// Attributes of relations that are neither tables nor views of the model, by OID
    /// (`typrelid`), with `attnum` and type OID. Free-standing composite types pick
    /// theirs up; the rest (an extension's tables) is never read.
    composite_attrs: HashMap<Oid, Vec<(i16, Attribute, Oid)>>,
    /// User types, their array types, and table row types (and arrays), to their keys.
    type_keys: HashMap<Oid, String>,
    types: HashMap<Oid, (TypeDef, Vec<Oid>)>,
    functions: HashMap<Oid, (String, Function, Vec<Oid>)>,
    view_refs: HashMap<Oid, Vec<(Catalog, Oid)>>,
    /// Server version number and whether the session is a superuser's.
    capabilities: (i32, bool),
    /// The gates of [`LATE_STEPS`] that [`SQL_PRESENT`] found objects for.
    present: HashSet<&'static str>,
    /// An aggregate's support functions, by key, for creation order.
    agg_deps: HashMap<Oid, Vec<String>>,
}

type R<T = ()> = Result<T, sqlx::Error>;

/// Where a statement's columns are in its rows, looked up by name on the first row:
/// `try_get` by name hashes the name for every value, which at 100,000 columns of 17
/// values each was a sixth of the columns step's CPU.
struct Positions<const N: usize> {
    names: [&'static str; N],
    at: Option<[usize; N]>,
}

impl<const N: usize> Positions<N> {
    const fn new(names: [&'static str; N]) -> Self {
        Positions { names, at: None }
    }

    fn of(&mut self, row: &PgRow) -> R<[usize; N]> {
        if let Some(at) = self.at {
            return Ok(at);
        }
        let mut at = [0; N];
        for (slot, name) in at.iter_mut().zip(self.names) {
            *slot = sqlx::Column::ordinal(row.try_column(name)?);
        }
        self.at = Some(at);
        Ok(at)
    }
}

/// A table or view column's name, and its type and collation OIDs for
/// [`Builder::index_is_plain`].
struct ColumnKey {
    name: String,
    type_oid: u32,
    collation: u32,
}

/// An operator class, as [`Builder::index_is_plain`] needs it (OIDs as numbers).
struct OpClass {
    method: u32,
    in_type: u32,
    key_type: u32,
    default: bool,
    options: bool,
}

/// `Type { a, b, ...; rest }`: each field listed first is read from the row's column of
/// the same name (what sqlx's `FromRow` derive does, for model types of another crate);
/// `rest` is written as in a struct literal.
macro_rules! from_row {
    ($row:expr, $ty:ident { $($field:ident),+ $(; $($rest:tt)*)? }) => {
        $ty { $($field: $row.try_get(stringify!($field))?,)+ $($($rest)*)? }
    };
}

/// The name of a catalog's one-letter code (`polcmd`, `prokind`), or `otherwise`.
fn named_code(code: &str, names: &[(&str, &str)], otherwise: &str) -> String {
    let name = names.iter().find(|(c, _)| *c == code).map(|(_, n)| *n);
    name.unwrap_or(otherwise).to_string()
}

/// A text column that may be NULL, as empty text when it is.
fn text_or_empty(row: &PgRow, column: &str) -> R<String> {
    Ok(row
        .try_get::<Option<String>, _>(column)?
        .unwrap_or_default())
}

/// The object a row is about, from its `schema` and `name` columns.
fn qual_name(row: &PgRow) -> R<QualName> {
    Ok(QualName::new(
        row.try_get::<String, _>("schema")?,
        row.try_get::<String, _>("name")?,
    ))
}

/// Which relations of the model a row's parts may belong to (see [`Builder::held`]).
#[derive(Clone, Copy)]
enum Held {
    Tables,
    Views,
    Relations,
}

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

/// A key's `extra`, what `pg_get_constraintdef` prints after its columns (the
/// `INCLUDE` list), then its index's storage parameters, in the order
/// `PRIMARY KEY (...) INCLUDE (...) WITH (...)` takes them.
fn key_extra(included: &[String], index_options: Option<&str>) -> Option<String> {
    let include = (!included.is_empty()).then(|| format!("INCLUDE ({})", included.join(", ")));
    let with = index_options
        .filter(|o| !o.is_empty())
        .map(|o| format!("WITH ({o})"));
    match (include, with) {
        (Some(i), Some(w)) => Some(format!("{i} {w}")),
        (i, w) => i.or(w),
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
            comments: HashMap::default(),
            all_roles: Vec::new(),
            roles_used: BTreeSet::new(),
            tables: HashMap::default(),
            views: HashMap::default(),
            rel_names: HashMap::default(),
            partition_parent: HashMap::default(),
            inherits_from: HashSet::default(),
            identity_seqs: HashMap::default(),
            identity_columns: Vec::new(),
            owned_by: Vec::new(),
            table_columns: HashMap::default(),
            view_columns: HashMap::default(),
            column_names: HashMap::default(),
            column_positions: Positions::new([
                "rel",
                "num",
                "name",
                "type",
                "type_oid",
                "collation_oid",
                "not_null",
                "default_expr",
                "generated",
                "identity",
                "is_local",
                "quoted",
                "collation",
                "storage",
                "compression",
                "options",
                "statistics",
            ]),
            quoted_names: HashMap::default(),
            opclasses: HashMap::default(),
            default_classes: HashSet::default(),
            pending_defs: HashMap::default(),
            composite_attrs: HashMap::default(),
            type_keys: HashMap::default(),
            types: HashMap::default(),
            functions: HashMap::default(),
            view_refs: HashMap::default(),
            capabilities: (0, false),
            present: HashSet::default(),
            agg_deps: HashMap::default(),
        }
    }

    fn comment(&self, catalog: Catalog, oid: Oid, subid: i32) -> Option<String> {
        self.comments.get(&(catalog, oid, subid)).cloned()
    }

    fn owner(&mut self, owner: String) -> Option<String> {
        self.roles_used.insert(owner.clone());
        Some(owner)
    }

    /// A row's owner, comment and grants, for the kinds that have all three (`owned!`
    /// in the model); the roles they name are roles in use.
    fn owned(
        &mut self,
        row: &PgRow,
        catalog: Catalog,
        oid: Oid,
    ) -> R<(Option<String>, Option<String>, Vec<Grant>)> {
        let owner = self.owner(row.try_get("owner")?);
        let grants = self.grants(row.try_get("grants")?);
        Ok((owner, self.comment(catalog, oid, 0), grants))
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
        self.all_roles.push(from_row!(row, Role {
            name, login, superuser, createdb, createrole, inherit, replication, bypassrls,
            connection_limit; member_of
        }));
        Ok(())
    }

    fn schemas(&mut self, row: &PgRow) -> R {
        // Nor are its owner and grantees roles the tenant needs: a tenant with nothing
        // applied yet would otherwise read as a role added beside an empty replay.
        if row.try_get::<bool, _>("container")? {
            return Ok(());
        }
        let oid: Oid = row.try_get("oid")?;
        let name: String = row.try_get("name")?;
        let (owner, comment, grants) = self.owned(row, Catalog::Namespace, oid)?;
        let ns = Namespace {
            name: name.clone(),
            owner,
            comment,
            grants,
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
        let name = qual_name(row)?;
        let kind: String = row.try_get("kind")?;
        let options: Vec<String> = row
            .try_get::<Option<Vec<String>>, _>("options")?
            .unwrap_or_default();
        let (owner, comment, grants) = self.owned(row, Catalog::Class, oid)?;
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
        // Room for the columns the columns step brings, so that 100,000 of them are
        // not moved on every doubling of their tables' vectors and maps.
        let columns = usize::try_from(row.try_get::<i16, _>("column_count")?).unwrap_or(0);
        self.table_columns.insert(oid, Vec::with_capacity(columns));
        self.column_names.reserve(columns);
        self.tables.insert(oid, t);
        Ok(())
    }

    fn sequences(&mut self, row: &PgRow) -> R {
        let oid: Oid = row.try_get("oid")?;
        let dep_type: Option<String> = row.try_get("dep_type")?;
        let owner_rel: Option<Oid> = row.try_get("owner_rel")?;
        let owner_num: Option<i16> = row.try_get("owner_num")?;
        // Read once as an identity's options: an identity sequence is kept as that.
        let o = from_row!(row, Identity {
            start, increment, min, max, cache, cycle; always: false
        });
        // An identity sequence is part of its column, not an object of its own.
        if let (Some("i"), Some(rel), Some(num)) = (dep_type.as_deref(), owner_rel, owner_num) {
            self.identity_seqs.insert((rel, num), o);
            return Ok(());
        }
        let name = qual_name(row)?;
        if let (Some(rel), Some(num)) = (owner_rel, owner_num) {
            self.owned_by.push((name.clone(), rel, num));
        }
        let (owner, comment, grants) = self.owned(row, Catalog::Class, oid)?;
        let seq = Sequence {
            name: name.clone(),
            type_: row.try_get("type")?,
            start: o.start,
            increment: o.increment,
            min: o.min,
            max: o.max,
            cache: o.cache,
            cycle: o.cycle,
            owned_by: None,
            owner,
            comment,
            grants,
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

    /// The identity sequence of a column, from `by_name` (the identity sequences by
    /// table and column name). On PostgreSQL 17+ partitions share their parent's
    /// identity sequence, which hangs off the parent's column of the same name (its
    /// number may differ).
    fn identity_seq<'a>(
        &self,
        by_name: &HashMap<(Oid, &str), &'a Identity>,
        rel: Oid,
        column: &str,
    ) -> Option<&'a Identity> {
        let mut rel = rel;
        // Bounded: a partition tree cannot be deeper than the number of tables.
        for _ in 0..=self.partition_parent.len() {
            if let Some(s) = by_name.get(&(rel, column)) {
                return Some(s);
            }
            rel = *self.partition_parent.get(&rel)?;
        }
        None
    }

    /// Identity columns' sequences and `OWNED BY` columns, now that every column's
    /// name is known.
    fn name_sequence_columns(&mut self) {
        let identity_seqs = std::mem::take(&mut self.identity_seqs);
        let by_name: HashMap<(Oid, &str), &Identity> = identity_seqs
            .iter()
            .filter_map(|((rel, num), s)| {
                let column = self.column_names.get(&(*rel, *num))?;
                Some(((*rel, column.name.as_str()), s))
            })
            .collect();
        let mut found = Vec::new();
        for &(rel, num, always) in &self.identity_columns {
            let Some(column) = self.column_names.get(&(rel, num)) else {
                continue;
            };
            if let Some(s) = self.identity_seq(&by_name, rel, &column.name) {
                found.push((
                    rel,
                    num,
                    Identity {
                        always,
                        ..s.clone()
                    },
                ));
            }
        }
        for (rel, num, identity) in found {
            if let Some(c) = self.column_mut(rel, num) {
                c.identity = Some(identity);
            }
        }
        for (seq, rel, num) in std::mem::take(&mut self.owned_by) {
            let (Some(table), Some(column)) =
                (self.rel_names.get(&rel), self.column_names.get(&(rel, num)))
            else {
                continue;
            };
            let owned_by = ColumnRef {
                table: table.clone(),
                column: column.name.clone(),
            };
            if let Some(s) = self.db.sequences.get_mut(&seq) {
                s.owned_by = Some(owned_by);
            }
        }
    }

    /// Columns arrive in no particular order; they are numbered here and put in
    /// `attnum` order by [`Builder::finish`] (and by `types` for composite types).
    fn columns(&mut self, row: &PgRow) -> R {
        let [p_rel, p_num, p_name, p_type, p_type_oid, p_collation_oid, p_not_null, p_default, p_generated, p_identity, p_is_local, p_quoted, p_collation, p_storage, p_compression, p_options, p_statistics] =
            self.column_positions.of(row)?;
        let rel: Oid = row.try_get(p_rel)?;
        let num: i16 = row.try_get(p_num)?;
        let name: String = row.try_get(p_name)?;
        let type_: String = row.try_get(p_type)?;
        let collation: Option<String> = row.try_get(p_collation)?;
        let comment = self.comment(Catalog::Class, rel, i32::from(num));
        if self.tables.contains_key(&rel) || self.views.contains_key(&rel) {
            let key = ColumnKey {
                name: name.clone(),
                type_oid: row.try_get::<Oid, _>(p_type_oid)?.0,
                collation: row.try_get::<Oid, _>(p_collation_oid)?.0,
            };
            self.column_names.insert((rel, num), key);
            if let Some(quoted) = row.try_get::<Option<String>, _>(p_quoted)? {
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
            let type_oid: Oid = row.try_get(p_type_oid)?;
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
        let is_local: bool = row.try_get(p_is_local)?;
        if !is_local && self.inherits_from.contains(&rel) {
            return Ok(());
        }
        let mut c = Column::new(name, type_);
        c.not_null = row.try_get(p_not_null)?;
        c.collation = collation;
        let default: Option<String> = row.try_get(p_default)?;
        // A generated column's expression is stored as its default.
        match row.try_get::<&str, _>(p_generated)? {
            g @ ("s" | "v") => {
                c.generated = default.map(|expression| Generated {
                    expression,
                    stored: g == "s",
                });
            }
            _ => c.default = default,
        }
        let identity: &str = row.try_get(p_identity)?;
        if identity == "a" || identity == "d" {
            self.identity_columns.push((rel, num, identity == "a"));
        }
        c.comment = comment;
        c.storage = ColumnStorage {
            storage: row.try_get(p_storage)?,
            compression: row.try_get(p_compression)?,
            options: row
                .try_get::<Option<Vec<String>>, _>(p_options)?
                .unwrap_or_default()
                .into_iter()
                .filter(|o| !o.starts_with("pg_"))
                .collect(),
            statistics: row.try_get(p_statistics)?,
            fdw_options: None,
        };
        self.table_columns.entry(rel).or_default().push((num, c));
        Ok(())
    }

    /// The relation in `column` of a row about one of its parts, when the model holds
    /// it as `held` says; the parts of the others are not read.
    fn held(&self, row: &PgRow, column: &str, held: Held) -> R<Option<Oid>> {
        let oid: Oid = row.try_get(column)?;
        let table = || self.tables.contains_key(&oid);
        let view = || self.views.contains_key(&oid);
        let yes = match held {
            Held::Tables => table(),
            Held::Views => view(),
            Held::Relations => table() || view(),
        };
        Ok(yes.then_some(oid))
    }

    /// The table column of a row's `rel` and `num`, when the model shows it: hidden
    /// inherited columns and other relations' columns are not in it.
    fn table_column(&mut self, row: &PgRow) -> R<Option<&mut Column>> {
        let rel: Oid = row.try_get("rel")?;
        let num: i16 = row.try_get("num")?;
        Ok(self.column_mut(rel, num))
    }

    fn column_mut(&mut self, rel: Oid, num: i16) -> Option<&mut Column> {
        self.table_columns
            .get_mut(&rel)
            .and_then(|cols| cols.iter_mut().find(|(n, _)| *n == num))
            .map(|(_, c)| c)
    }

    fn column_grants(&mut self, row: &PgRow) -> R {
        // Looked up first: the grantees of a column not shown are not roles in use.
        if self.table_column(row)?.is_none() {
            return Ok(());
        }
        let grants = self.grants(row.try_get("grants")?);
        if let Some(c) = self.table_column(row)? {
            c.grants = grants;
        }
        Ok(())
    }

    fn constraints(&mut self, rel: Oid, row: &PgRow) -> R {
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
                    .map_or_else(|| n.to_string(), |c| c.name.clone())
            })
            .collect();
        let extra = || -> R<Option<String>> {
            let included = self.key_included(rel, row, nums.len())?;
            let index_options: Option<String> = row.try_get("index_options")?;
            Ok(key_extra(&included, index_options.as_deref()))
        };
        let kind = match kind.as_str() {
            "p" => ConstraintKind::PrimaryKey {
                columns,
                extra: extra()?,
            },
            "u" => ConstraintKind::Unique {
                columns,
                // Absent before 15, which has no such option.
                nulls_not_distinct: row
                    .try_get::<Option<bool>, _>("nulls_not_distinct")?
                    .unwrap_or(false),
                extra: extra()?,
            },
            "f" => ConstraintKind::ForeignKey {
                columns,
                references: QualName::new(
                    text_or_empty(row, "ref_schema")?,
                    text_or_empty(row, "ref_table")?,
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
                expression: text_or_empty(row, "check_expr")?,
                no_inherit: row.try_get("no_inherit")?,
            },
            "x" => ConstraintKind::Exclusion {
                definition: strip_constraint_flags(&text_or_empty(row, "def")?).to_string(),
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

    fn indexes(&mut self, rel: Oid, row: &PgRow) -> R {
        let oid: Oid = row.try_get("oid")?;
        let schema: String = row.try_get("schema")?;
        let name = QualName::new(schema.clone(), row.try_get::<String, _>("name")?);
        let am: String = row.try_get("am")?;
        let columns = self.index_columns(rel, row)?;
        let predicate: Option<String> = row.try_get("predicate")?;
        let definition = match row.try_get::<Option<String>, _>("def")? {
            Some(def) => after_table(def, &am),
            None if self.index_is_plain(rel, row)? => {
                self.index_definition(rel, row, &am, &columns, predicate.as_deref())?
            }
            None => {
                self.pending_defs.insert(oid, (name.clone(), am));
                String::new()
            }
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

    fn opclasses(&mut self, row: &PgRow) -> R {
        let oid: Oid = row.try_get("oid")?;
        let class = OpClass {
            method: row.try_get::<Oid, _>("method")?.0,
            in_type: row.try_get::<Oid, _>("in_type")?.0,
            key_type: row.try_get::<Oid, _>("key_type")?.0,
            default: row.try_get("is_default")?,
            options: row.try_get("options")?,
        };
        if class.default {
            self.default_classes.insert((class.method, class.in_type));
        }
        self.opclasses.insert(oid.0, class);
        Ok(())
    }

    /// Whether `pg_get_indexdef` would print no operator class, options or collation
    /// for any key of this index, which [`Builder::index_definition`] then writes as the
    /// function would. The function prints a key's class unless it is the default one
    /// for the column's type (`GetDefaultOpClass`): the class for the type itself or,
    /// for `varchar` where the method has no class of its own for it, `text`'s
    /// (binary-coercible, and its category's preferred type). Other coercible cases
    /// (domains, enums, arrays and their polymorphic classes) are left to the function.
    /// It prints a collation unless it is the column's own; an expression has no
    /// column, so its key must have none, and its type is the index attribute's.
    fn index_is_plain(&self, rel: Oid, row: &PgRow) -> R<bool> {
        const TEXT: u32 = 25;
        const VARCHAR: u32 = 1043;
        let count = usize::try_from(row.try_get::<i16, _>("key_count")?).unwrap_or(0);
        let mut nums = row.try_get::<&str, _>("key_nums")?.split_whitespace();
        let mut classes = row.try_get::<&str, _>("key_classes")?.split_whitespace();
        let mut collations = row.try_get::<&str, _>("key_collations")?.split_whitespace();
        let expression_types: Option<Vec<i64>> = row.try_get("key_types")?;
        for k in 0..count {
            let parsed = (
                nums.next().and_then(|n| n.parse::<i16>().ok()),
                classes.next().and_then(|c| c.parse::<u32>().ok()),
                collations.next().and_then(|c| c.parse::<u32>().ok()),
            );
            let (Some(num), Some(class), Some(collation)) = parsed else {
                return Ok(false);
            };
            let Some(class) = self.opclasses.get(&class) else {
                return Ok(false);
            };
            if !class.default || class.options {
                return Ok(false);
            }
            let fits = if num == 0 {
                collation == 0
                    && class.key_type == 0
                    && expression_types
                        .as_ref()
                        .and_then(|types| types.get(k))
                        .is_some_and(|&t| t == i64::from(class.in_type))
            } else {
                self.column_names.get(&(rel, num)).is_some_and(|column| {
                    (collation == 0 || collation == column.collation)
                        && (class.in_type == column.type_oid
                            || class.in_type == TEXT
                                && column.type_oid == VARCHAR
                                && !self.default_classes.contains(&(class.method, VARCHAR)))
                })
            };
            if !fits {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// An index [`Builder::indexes`] left to `pg_get_indexdef` ([`SQL_INDEX_DEFS`]).
    fn index_def(&mut self, row: &PgRow) -> R {
        let oid: Oid = row.try_get("oid")?;
        let def: Option<String> = row.try_get("def")?;
        if let (Some((name, am)), Some(def)) = (self.pending_defs.remove(&oid), def) {
            if let Some(index) = self.db.indexes.get_mut(&name) {
                index.definition = after_table(def, &am);
            }
        }
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

    /// The `INCLUDE` columns of an index (always plain columns), quoted.
    fn index_included(&self, rel: Oid, row: &PgRow) -> R<Vec<String>> {
        let count: i16 = row.try_get("key_count")?;
        Ok(self.included(rel, row.try_get("key_nums")?, count))
    }

    /// A key constraint's `INCLUDE` columns, as `pg_get_constraintdef` names them.
    fn key_included(&self, rel: Oid, row: &PgRow, keys: usize) -> R<Vec<String>> {
        let nums: Option<&str> = row.try_get("index_key_nums")?;
        Ok(self.included(rel, nums.unwrap_or_default(), keys))
    }

    /// The positions of an index's `indkey` (as text) past its `keys` key columns,
    /// quoted.
    fn included(&self, rel: Oid, nums: &str, keys: impl TryInto<usize>) -> Vec<String> {
        nums.split_whitespace()
            .skip(keys.try_into().unwrap_or(0))
            .map(|n| self.column_sql(rel, n))
            .collect()
    }

    /// Column `num` of `rel` as SQL names it: quoted where it has to be.
    fn column_sql(&self, rel: Oid, num: &str) -> String {
        num.parse::<i16>()
            .ok()
            .and_then(|k| {
                self.quoted_names
                    .get(&(rel, k))
                    .or_else(|| self.column_names.get(&(rel, k)).map(|c| &c.name))
            })
            .cloned()
            .unwrap_or_else(|| num.to_string())
    }

    fn policies(&mut self, rel: Oid, row: &PgRow) -> R {
        let mut roles: Vec<String> = row.try_get("roles")?;
        roles.sort();
        roles.dedup();
        self.roles_used.extend(roles.iter().cloned());
        let name: String = row.try_get("name")?;
        let policy = Policy {
            name: name.clone(),
            permissive: row.try_get("permissive")?,
            command: named_code(
                row.try_get("cmd")?,
                &[
                    ("r", "SELECT"),
                    ("a", "INSERT"),
                    ("w", "UPDATE"),
                    ("d", "DELETE"),
                ],
                "ALL",
            ),
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
        let name = qual_name(row)?;
        let mut refs = Vec::new();
        let kind = match row.try_get::<String, _>("kind")?.as_str() {
            "e" => TypeKind::Enum { labels: vec![] },
            "d" => {
                refs.push(row.try_get("base_oid")?);
                TypeKind::Domain {
                    base: text_or_empty(row, "base")?,
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
                    subtype: text_or_empty(row, "subtype")?,
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
        let (owner, comment, grants) = self.owned(row, Catalog::Type, oid)?;
        let def = TypeDef {
            name,
            kind,
            owner,
            comment,
            grants,
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
        let (owner, comment, grants) = self.owned(row, Catalog::Proc, oid)?;
        let f = Function {
            name: QualName::new(schema, name),
            kind: named_code(
                row.try_get("kind")?,
                &[("p", "procedure"), ("w", "window")],
                "function",
            ),
            arguments,
            returns: row.try_get("result")?,
            language: row.try_get("language")?,
            definition: row.try_get("def")?,
            owner,
            comment,
            grants,
            depends_on: vec![],
        };
        let refs: Vec<Oid> = row.try_get("type_oids")?;
        self.functions.insert(oid, (key, f, refs));
        Ok(())
    }

    fn triggers(&mut self, _rel: Oid, row: &PgRow) -> R {
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

    fn view_deps(&mut self, view: Oid, row: &PgRow) -> R {
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
        self.name_sequence_columns();
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
        for (oid, (key, mut f, refs)) in std::mem::take(&mut self.functions) {
            f.depends_on = resolve_types("", &refs);
            f.depends_on
                .extend(self.agg_deps.remove(&oid).unwrap_or_default());
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
    r: crate::wait::OwnRead<'_>,
    // The catalog is read whole: telling that it is one read before would cost as much.
    _memo: Option<&crate::SchemaMemo>,
) -> Result<std::sync::Arc<Database>, DbError> {
    let db = crate::wait::own(r.url, r.pid, r.limits, inspect(c, r.url, r.limits)).await?;
    Ok(std::sync::Arc::new(db))
}

// ---------------------------------------------------------------------------- objects compared by definition
//
// Kinds without a model of their own (see `model::Other`), one catalog query each, all
// with the same columns: kind, name, the statements that create the object (every name
// quoted, built from the catalogs as pg_dump builds them), the one that drops it, the
// phase of a create script it belongs to, and the keys of others it needs first. They
// run after the steps above, with the statement for the server's version.

/// `quote_ident(schema).quote_ident(name)` for two SQL expressions.
macro_rules! qn {
    ($n:literal, $x:literal) => {
        concat!("(", qual!($n), " || quote_ident(", $x, "))")
    };
}

/// `OPTIONS (key 'value', ...)` from a `key=value` text[] column, or ''.
macro_rules! fdw_options {
    ($col:literal) => {
        concat!(
            "COALESCE(' OPTIONS (' || (SELECT string_agg(quote_ident(split_part(o, '=', 1)) || ' ' || quote_literal(substr(o, strpos(o, '=') + 1)), ', ') FROM unnest(",
            $col,
            ") o) || ')', '')"
        )
    };
}

/// `GRANT` statements for an ACL column, beyond the owner's and the default ones.
macro_rules! acl_grants {
    ($acl:literal, $kind:literal, $owner:literal, $on:expr) => {
        concat!(
            "ARRAY(SELECT 'GRANT ' || g.privilege_type || ' ON ",
            $on,
            " TO ' || CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(g.grantee)) END || CASE WHEN g.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END FROM aclexplode(",
            $acl,
            ") g WHERE g.grantee <> ",
            $owner,
            " AND (g.grantee, g.privilege_type) NOT IN (SELECT d.grantee, d.privilege_type FROM aclexplode(acldefault(",
            $kind,
            ", ",
            $owner,
            ")) d) ORDER BY 1)"
        )
    };
}

const SQL_COLLATIONS: &str = concat!(
    "SELECT 'collation' AS kind, n.nspname || '.' || c.collname AS name,
       ARRAY['CREATE COLLATION ' || ", qn!("n.nspname", "c.collname"), " || ' (provider = ' ||
         CASE c.collprovider WHEN 'i' THEN 'icu' WHEN 'b' THEN 'builtin' ELSE 'libc' END ||
         CASE WHEN c.collprovider <> 'c'
                THEN ', locale = ' || quote_literal(COALESCE(j ->> 'colllocale', j ->> 'colliculocale', c.collcollate))
              WHEN c.collcollate = c.collctype THEN ', locale = ' || quote_literal(c.collcollate)
              ELSE ', lc_collate = ' || quote_literal(c.collcollate) || ', lc_ctype = ' || quote_literal(c.collctype) END ||
         CASE WHEN j ->> 'collicurules' IS NOT NULL THEN ', rules = ' || quote_literal(j ->> 'collicurules') ELSE '' END ||
         CASE WHEN NOT c.collisdeterministic THEN ', deterministic = false' ELSE '' END || ')'] AS stmts,
       'DROP COLLATION ' || ", qn!("n.nspname", "c.collname"), " AS drop_sql, 'before_types' AS phase, ARRAY[]::text[] AS deps
FROM pg_collation c CROSS JOIN LATERAL to_jsonb(c) j
JOIN pg_namespace n ON n.oid = c.collnamespace
WHERE ", user_ns!("n"), " AND ", not_ext!("pg_collation", "c.oid")
);

const SQL_TS_PARSERS: &str = concat!(
    "SELECT 'text search parser' AS kind, n.nspname || '.' || p.prsname AS name,
       ARRAY['CREATE TEXT SEARCH PARSER ' || ", qn!("n.nspname", "p.prsname"),
    " || ' (START = ' || p.prsstart::regproc || ', GETTOKEN = ' || p.prstoken::regproc || ', END = ' || p.prsend::regproc ||
         ', LEXTYPES = ' || p.prslextype::regproc ||
         CASE WHEN p.prsheadline <> 0 THEN ', HEADLINE = ' || p.prsheadline::regproc ELSE '' END || ')'] AS stmts,
       'DROP TEXT SEARCH PARSER ' || ", qn!("n.nspname", "p.prsname"), " AS drop_sql, 'before_tables' AS phase, ARRAY[]::text[] AS deps
FROM pg_ts_parser p JOIN pg_namespace n ON n.oid = p.prsnamespace
WHERE ", user_ns!("n"), " AND ", not_ext!("pg_ts_parser", "p.oid")
);

const SQL_TS_TEMPLATES: &str = concat!(
    "SELECT 'text search template' AS kind, n.nspname || '.' || t.tmplname AS name,
       ARRAY['CREATE TEXT SEARCH TEMPLATE ' || ", qn!("n.nspname", "t.tmplname"),
    " || ' (' || CASE WHEN t.tmplinit <> 0 THEN 'INIT = ' || t.tmplinit::regproc || ', ' ELSE '' END ||
         'LEXIZE = ' || t.tmpllexize::regproc || ')'] AS stmts,
       'DROP TEXT SEARCH TEMPLATE ' || ", qn!("n.nspname", "t.tmplname"), " AS drop_sql, 'before_tables' AS phase, ARRAY[]::text[] AS deps
FROM pg_ts_template t JOIN pg_namespace n ON n.oid = t.tmplnamespace
WHERE ", user_ns!("n"), " AND ", not_ext!("pg_ts_template", "t.oid")
);

const SQL_TS_DICTS: &str = concat!(
    "SELECT 'text search dictionary' AS kind, n.nspname || '.' || d.dictname AS name,
       ARRAY['CREATE TEXT SEARCH DICTIONARY ' || ",
    qn!("n.nspname", "d.dictname"),
    " || ' (TEMPLATE = ' || ",
    qn!("tn.nspname", "t.tmplname"),
    " || COALESCE(', ' || d.dictinitoption, '') || ')'] AS stmts,
       'DROP TEXT SEARCH DICTIONARY ' || ",
    qn!("n.nspname", "d.dictname"),
    " AS drop_sql, 'before_tables' AS phase,
       ARRAY['text search template ' || tn.nspname || '.' || t.tmplname] AS deps
FROM pg_ts_dict d JOIN pg_namespace n ON n.oid = d.dictnamespace
JOIN pg_ts_template t ON t.oid = d.dicttemplate JOIN pg_namespace tn ON tn.oid = t.tmplnamespace
WHERE ",
    user_ns!("n"),
    " AND ",
    not_ext!("pg_ts_dict", "d.oid")
);

/// A configuration, then one `ADD MAPPING` per token type, as pg_dump writes it.
const SQL_TS_CONFIGS: &str = concat!(
    "SELECT 'text search configuration' AS kind, n.nspname || '.' || c.cfgname AS name,
       ARRAY['CREATE TEXT SEARCH CONFIGURATION ' || ", qn!("n.nspname", "c.cfgname"),
    " || ' (PARSER = ' || ", qn!("pn.nspname", "p.prsname"), " || ')'] ||
       ARRAY(SELECT 'ALTER TEXT SEARCH CONFIGURATION ' || ", qn!("n.nspname", "c.cfgname"),
    " || ' ADD MAPPING FOR ' || quote_ident(tt.alias) || ' WITH ' ||
                    string_agg(", qn!("dn.nspname", "dd.dictname"), ", ', ' ORDER BY m.mapseqno)
             FROM pg_ts_config_map m
             JOIN ts_token_type(c.cfgparser) tt ON tt.tokid = m.maptokentype
             JOIN pg_ts_dict dd ON dd.oid = m.mapdict JOIN pg_namespace dn ON dn.oid = dd.dictnamespace
             WHERE m.mapcfg = c.oid GROUP BY tt.tokid, tt.alias ORDER BY tt.tokid) AS stmts,
       'DROP TEXT SEARCH CONFIGURATION ' || ", qn!("n.nspname", "c.cfgname"), " AS drop_sql, 'before_tables' AS phase,
       ARRAY['text search parser ' || pn.nspname || '.' || p.prsname] ||
       ARRAY(SELECT DISTINCT 'text search dictionary ' || dn.nspname || '.' || dd.dictname FROM pg_ts_config_map m
             JOIN pg_ts_dict dd ON dd.oid = m.mapdict JOIN pg_namespace dn ON dn.oid = dd.dictnamespace
             WHERE m.mapcfg = c.oid) AS deps
FROM pg_ts_config c JOIN pg_namespace n ON n.oid = c.cfgnamespace
JOIN pg_ts_parser p ON p.oid = c.cfgparser JOIN pg_namespace pn ON pn.oid = p.prsnamespace
WHERE ", user_ns!("n"), " AND ", not_ext!("pg_ts_config", "c.oid")
);

/// Operators with a function (a shell, made by a forward reference, has none and is
/// left out as pg_dump leaves it out). `OPERATOR(schema.op)` names a commutator or
/// negator that may not exist yet: PostgreSQL makes a shell for it.
const SQL_OPERATORS: &str = concat!(
    "SELECT 'operator' AS kind,
       n.nspname || '.' || o.oprname || '(' || COALESCE(format_type(NULLIF(o.oprleft, 0), NULL), 'NONE') || ', ' || COALESCE(format_type(NULLIF(o.oprright, 0), NULL), 'NONE') || ')' AS name,
       ARRAY['CREATE OPERATOR ' || ", qual!("n.nspname"), " || o.oprname || ' (FUNCTION = ' || o.oprcode::regproc ||
         CASE WHEN o.oprleft <> 0 THEN ', LEFTARG = ' || format_type(o.oprleft, NULL) ELSE '' END ||
         CASE WHEN o.oprright <> 0 THEN ', RIGHTARG = ' || format_type(o.oprright, NULL) ELSE '' END ||
         COALESCE(', COMMUTATOR = OPERATOR(' || ", qual!("cn.nspname"), " || co.oprname || ')', '') ||
         COALESCE(', NEGATOR = OPERATOR(' || ", qual!("nn.nspname"), " || no.oprname || ')', '') ||
         CASE WHEN o.oprrest <> 0 THEN ', RESTRICT = ' || o.oprrest::regproc ELSE '' END ||
         CASE WHEN o.oprjoin <> 0 THEN ', JOIN = ' || o.oprjoin::regproc ELSE '' END ||
         CASE WHEN o.oprcanhash THEN ', HASHES' ELSE '' END ||
         CASE WHEN o.oprcanmerge THEN ', MERGES' ELSE '' END || ')'] AS stmts,
       'DROP OPERATOR ' || ", qual!("n.nspname"), " || o.oprname || ' (' || COALESCE(format_type(NULLIF(o.oprleft, 0), NULL), 'NONE') || ', ' || COALESCE(format_type(NULLIF(o.oprright, 0), NULL), 'NONE') || ')' AS drop_sql,
       'before_tables' AS phase, ARRAY[]::text[] AS deps
FROM pg_operator o JOIN pg_namespace n ON n.oid = o.oprnamespace
LEFT JOIN pg_operator co ON co.oid = o.oprcom LEFT JOIN pg_namespace cn ON cn.oid = co.oprnamespace
LEFT JOIN pg_operator no ON no.oid = o.oprnegate LEFT JOIN pg_namespace nn ON nn.oid = no.oprnamespace
WHERE o.oprcode <> 0 AND ", user_ns!("n"), " AND ", not_ext!("pg_operator", "o.oid")
);

/// Operator families, with the members tied to the family itself rather than to one of
/// its classes (pg_dump's "loose" members).
const SQL_OPFAMILIES: &str = concat!(
    "SELECT 'operator family' AS kind, n.nspname || '.' || f.opfname || ' using ' || am.amname AS name,
       ARRAY['CREATE OPERATOR FAMILY ' || ", qn!("n.nspname", "f.opfname"), " || ' USING ' || quote_ident(am.amname)] ||
       ARRAY(SELECT 'ALTER OPERATOR FAMILY ' || ", qn!("n.nspname", "f.opfname"), " || ' USING ' || quote_ident(am.amname) || ' ADD OPERATOR ' || ao.amopstrategy || ' ' || ao.amopopr::regoperator ||
                    CASE WHEN ao.amoppurpose = 'o' THEN ' FOR ORDER BY ' || ", qn!("sn.nspname", "sf.opfname"), " ELSE '' END
             FROM pg_amop ao JOIN pg_depend d ON d.classid = 'pg_amop'::regclass AND d.objid = ao.oid
                  AND d.refclassid = 'pg_opfamily'::regclass AND d.refobjid = f.oid
             LEFT JOIN pg_opfamily sf ON sf.oid = ao.amopsortfamily LEFT JOIN pg_namespace sn ON sn.oid = sf.opfnamespace
             WHERE ao.amopfamily = f.oid ORDER BY ao.amopstrategy, ao.amoplefttype, ao.amoprighttype) ||
       ARRAY(SELECT 'ALTER OPERATOR FAMILY ' || ", qn!("n.nspname", "f.opfname"), " || ' USING ' || quote_ident(am.amname) || ' ADD FUNCTION ' || ap.amprocnum || ' (' || format_type(ap.amproclefttype, NULL) || ', ' || format_type(ap.amprocrighttype, NULL) || ') ' || ap.amproc::regprocedure
             FROM pg_amproc ap JOIN pg_depend d ON d.classid = 'pg_amproc'::regclass AND d.objid = ap.oid
                  AND d.refclassid = 'pg_opfamily'::regclass AND d.refobjid = f.oid
             WHERE ap.amprocfamily = f.oid ORDER BY ap.amprocnum, ap.amproclefttype, ap.amprocrighttype) AS stmts,
       'DROP OPERATOR FAMILY ' || ", qn!("n.nspname", "f.opfname"), " || ' USING ' || quote_ident(am.amname) AS drop_sql,
       'before_tables' AS phase, ARRAY[]::text[] AS deps
FROM pg_opfamily f JOIN pg_namespace n ON n.oid = f.opfnamespace JOIN pg_am am ON am.oid = f.opfmethod
WHERE ", user_ns!("n"), " AND ", not_ext!("pg_opfamily", "f.oid")
);

/// Operator classes, always with their family named: the family is created first.
const SQL_OPCLASSES: &str = concat!(
    "SELECT 'operator class' AS kind, n.nspname || '.' || c.opcname || ' using ' || am.amname AS name,
       ARRAY['CREATE OPERATOR CLASS ' || ", qn!("n.nspname", "c.opcname"),
    " || CASE WHEN c.opcdefault THEN ' DEFAULT' ELSE '' END || ' FOR TYPE ' || format_type(c.opcintype, NULL) ||
         ' USING ' || quote_ident(am.amname) || ' FAMILY ' || ", qn!("fn.nspname", "f.opfname"), " || ' AS ' ||
         array_to_string(
           ARRAY(SELECT 'OPERATOR ' || ao.amopstrategy || ' ' || ao.amopopr::regoperator ||
                        CASE WHEN ao.amoppurpose = 'o' THEN ' FOR ORDER BY ' || ", qn!("sn.nspname", "sf.opfname"), " ELSE '' END
                 FROM pg_amop ao JOIN pg_depend d ON d.classid = 'pg_amop'::regclass AND d.objid = ao.oid
                      AND d.refclassid = 'pg_opclass'::regclass AND d.refobjid = c.oid
                 LEFT JOIN pg_opfamily sf ON sf.oid = ao.amopsortfamily LEFT JOIN pg_namespace sn ON sn.oid = sf.opfnamespace
                 ORDER BY ao.amopstrategy, ao.amoplefttype, ao.amoprighttype) ||
           ARRAY(SELECT 'FUNCTION ' || ap.amprocnum || ' (' || format_type(ap.amproclefttype, NULL) || ', ' || format_type(ap.amprocrighttype, NULL) || ') ' || ap.amproc::regprocedure
                 FROM pg_amproc ap JOIN pg_depend d ON d.classid = 'pg_amproc'::regclass AND d.objid = ap.oid
                      AND d.refclassid = 'pg_opclass'::regclass AND d.refobjid = c.oid
                 ORDER BY ap.amprocnum, ap.amproclefttype, ap.amprocrighttype) ||
           CASE WHEN c.opckeytype <> 0 THEN ARRAY['STORAGE ' || format_type(c.opckeytype, NULL)] ELSE ARRAY[]::text[] END,
           ', ')] AS stmts,
       'DROP OPERATOR CLASS ' || ", qn!("n.nspname", "c.opcname"), " || ' USING ' || quote_ident(am.amname) AS drop_sql,
       'before_tables' AS phase,
       ARRAY['operator family ' || fn.nspname || '.' || f.opfname || ' using ' || am.amname] AS deps
FROM pg_opclass c JOIN pg_namespace n ON n.oid = c.opcnamespace JOIN pg_am am ON am.oid = c.opcmethod
JOIN pg_opfamily f ON f.oid = c.opcfamily JOIN pg_namespace fn ON fn.oid = f.opfnamespace
WHERE ", user_ns!("n"), " AND ", not_ext!("pg_opclass", "c.oid")
);

/// User casts (built-in ones have OIDs below 16384); not those the server made for
/// another object (a range type's cast to its multirange: `deptype 'i'`).
const SQL_CASTS: &str = concat!(
    "SELECT 'cast' AS kind, '(' || format_type(c.castsource, NULL) || ' AS ' || format_type(c.casttarget, NULL) || ')' AS name,
       ARRAY['CREATE CAST (' || format_type(c.castsource, NULL) || ' AS ' || format_type(c.casttarget, NULL) || ') ' ||
         CASE c.castmethod WHEN 'f' THEN 'WITH FUNCTION ' || c.castfunc::regprocedure WHEN 'i' THEN 'WITH INOUT' ELSE 'WITHOUT FUNCTION' END ||
         CASE c.castcontext WHEN 'a' THEN ' AS ASSIGNMENT' WHEN 'i' THEN ' AS IMPLICIT' ELSE '' END] AS stmts,
       'DROP CAST (' || format_type(c.castsource, NULL) || ' AS ' || format_type(c.casttarget, NULL) || ')' AS drop_sql,
       'before_tables' AS phase, ARRAY[]::text[] AS deps
FROM pg_cast c WHERE c.oid >= 16384 AND ", not_ext!("pg_cast", "c.oid"),
    " AND NOT EXISTS (SELECT FROM pg_depend xi WHERE xi.classid = 'pg_cast'::regclass AND xi.objid = c.oid AND xi.deptype = 'i')"
);

const SQL_FDWS: &str = concat!(
    "SELECT 'foreign-data wrapper' AS kind, w.fdwname::text AS name,
       ARRAY['CREATE FOREIGN DATA WRAPPER ' || quote_ident(w.fdwname) ||
         CASE WHEN w.fdwhandler <> 0 THEN ' HANDLER ' || w.fdwhandler::regproc ELSE ' NO HANDLER' END ||
         CASE WHEN w.fdwvalidator <> 0 THEN ' VALIDATOR ' || w.fdwvalidator::regproc ELSE ' NO VALIDATOR' END || ",
    fdw_options!("w.fdwoptions"),
    "] || ",
    acl_grants!("w.fdwacl", "'F'", "w.fdwowner", "' || 'FOREIGN DATA WRAPPER ' || quote_ident(w.fdwname) || '"),
    " AS stmts,
       'DROP FOREIGN DATA WRAPPER ' || quote_ident(w.fdwname) AS drop_sql, 'before_tables' AS phase, ARRAY[]::text[] AS deps
FROM pg_foreign_data_wrapper w WHERE ", not_ext!("pg_foreign_data_wrapper", "w.oid")
);

const SQL_SERVERS: &str = concat!(
    "SELECT 'server' AS kind, s.srvname::text AS name,
       ARRAY['CREATE SERVER ' || quote_ident(s.srvname) || COALESCE(' TYPE ' || quote_literal(s.srvtype), '') ||
         COALESCE(' VERSION ' || quote_literal(s.srvversion), '') || ' FOREIGN DATA WRAPPER ' || quote_ident(w.fdwname) || ",
    fdw_options!("s.srvoptions"),
    "] || ",
    acl_grants!("s.srvacl", "'S'", "s.srvowner", "' || 'FOREIGN SERVER ' || quote_ident(s.srvname) || '"),
    " AS stmts,
       'DROP SERVER ' || quote_ident(s.srvname) AS drop_sql, 'before_tables' AS phase,
       ARRAY['foreign-data wrapper ' || w.fdwname] AS deps
FROM pg_foreign_server s JOIN pg_foreign_data_wrapper w ON w.oid = s.srvfdw
WHERE ", not_ext!("pg_foreign_server", "s.oid")
);

/// User mappings, through the view that hides options from those who may not see them.
/// A password is never read into the model: the mapping is created without it, and
/// its definition says one is set, so a password set or removed is still drift.
const SQL_USER_MAPPINGS: &str = concat!(
    "SELECT 'user mapping' AS kind, 'for ' || CASE WHEN u.umuser = 0 THEN 'PUBLIC' ELSE u.usename::text END || ' server ' || u.srvname AS name,
       ARRAY['CREATE USER MAPPING FOR ' || CASE WHEN u.umuser = 0 THEN 'PUBLIC' ELSE quote_ident(u.usename) END ||
         ' SERVER ' || quote_ident(u.srvname) || ",
    fdw_options!("ARRAY(SELECT o FROM unnest(u.umoptions) o WHERE o NOT LIKE 'password=%')"),
    "] AS stmts,
       'DROP USER MAPPING FOR ' || CASE WHEN u.umuser = 0 THEN 'PUBLIC' ELSE quote_ident(u.usename) END || ' SERVER ' || quote_ident(u.srvname) AS drop_sql,
       'before_tables' AS phase, ARRAY['server ' || u.srvname] AS deps,
       CASE WHEN EXISTS (SELECT FROM unnest(u.umoptions) o WHERE o LIKE 'password=%') THEN 'password set' END AS note
FROM pg_user_mappings u"
);

/// Rules other than a view's own `_RETURN`.
const SQL_RULES: &str = concat!(
    "SELECT 'rule' AS kind, n.nspname || '.' || c.relname || '.' || r.rulename AS name,
       ARRAY[rtrim(pg_get_ruledef(r.oid), ';')] ||
       CASE r.ev_enabled WHEN 'O' THEN ARRAY[]::text[]
         ELSE ARRAY['ALTER TABLE ' || ", qn!("n.nspname", "c.relname"), " || CASE r.ev_enabled WHEN 'D' THEN ' DISABLE' WHEN 'R' THEN ' ENABLE REPLICA' ELSE ' ENABLE ALWAYS' END || ' RULE ' || quote_ident(r.rulename)] END AS stmts,
       'DROP RULE ' || quote_ident(r.rulename) || ' ON ' || ", qn!("n.nspname", "c.relname"), " AS drop_sql,
       'after_tables' AS phase, ARRAY[]::text[] AS deps
FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE r.rulename <> '_RETURN' AND ", user_ns!("n"), " AND ", not_ext!("pg_class", "c.oid")
);

/// Extended statistics; the target is NULL or -1 by default, depending on the version.
const SQL_STATISTICS: &str = concat!(
    "SELECT 'statistics' AS kind, n.nspname || '.' || s.stxname AS name,
       ARRAY[pg_get_statisticsobjdef(s.oid)] ||
       CASE WHEN COALESCE(s.stxstattarget, -1) >= 0
            THEN ARRAY['ALTER STATISTICS ' || ",
    qn!("n.nspname", "s.stxname"),
    " || ' SET STATISTICS ' || s.stxstattarget] ELSE ARRAY[]::text[] END AS stmts,
       'DROP STATISTICS ' || ",
    qn!("n.nspname", "s.stxname"),
    " AS drop_sql, 'after_tables' AS phase, ARRAY[]::text[] AS deps
FROM pg_statistic_ext s JOIN pg_namespace n ON n.oid = s.stxnamespace
WHERE ",
    user_ns!("n"),
    " AND ",
    not_ext!("pg_statistic_ext", "s.oid")
);

/// Publications as pg_dump writes them: the publication, then each table it adds.
macro_rules! publications {
    ($tables:expr) => {
        concat!(
            "SELECT 'publication' AS kind, p.pubname::text AS name,
       ARRAY['CREATE PUBLICATION ' || quote_ident(p.pubname) || CASE WHEN p.puballtables THEN ' FOR ALL TABLES' ELSE '' END ||
         ' WITH (publish = ' || quote_literal(array_to_string(ARRAY[CASE WHEN p.pubinsert THEN 'insert' END, CASE WHEN p.pubupdate THEN 'update' END,
              CASE WHEN p.pubdelete THEN 'delete' END, CASE WHEN p.pubtruncate THEN 'truncate' END], ', ')) ||
         CASE WHEN p.pubviaroot THEN ', publish_via_partition_root = true' ELSE '' END || ')'] || ",
            $tables,
            " AS stmts,
       'DROP PUBLICATION ' || quote_ident(p.pubname) AS drop_sql, 'after_tables' AS phase, ARRAY[]::text[] AS deps
FROM pg_publication p WHERE ",
            not_ext!("pg_publication", "p.oid")
        )
    };
}

/// From 15 on: schemas, column lists and row filters.
const SQL_PUBLICATIONS: &str = publications!(concat!(
    "ARRAY(SELECT 'ALTER PUBLICATION ' || quote_ident(p.pubname) || ' ADD TABLES IN SCHEMA ' || quote_ident(sn.nspname)
             FROM pg_publication_namespace pn JOIN pg_namespace sn ON sn.oid = pn.pnnspid WHERE pn.pnpubid = p.oid ORDER BY 1) ||
       ARRAY(SELECT 'ALTER PUBLICATION ' || quote_ident(p.pubname) || ' ADD TABLE ONLY ' || ", qn!("rn.nspname", "rc.relname"), " ||
                    COALESCE(' (' || (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) FROM pg_attribute a
                                      WHERE a.attrelid = r.prrelid AND a.attnum = ANY (r.prattrs::int2[])) || ')', '') ||
                    COALESCE(' WHERE (' || pg_get_expr(r.prqual, r.prrelid) || ')', '')
             FROM pg_publication_rel r JOIN pg_class rc ON rc.oid = r.prrelid JOIN pg_namespace rn ON rn.oid = rc.relnamespace
             WHERE r.prpubid = p.oid ORDER BY 1)"
));

const SQL_PUBLICATIONS_14: &str = publications!(concat!(
    "ARRAY(SELECT 'ALTER PUBLICATION ' || quote_ident(p.pubname) || ' ADD TABLE ONLY ' || ", qn!("rn.nspname", "rc.relname"), "
             FROM pg_publication_rel r JOIN pg_class rc ON rc.oid = r.prrelid JOIN pg_namespace rn ON rn.oid = rc.relnamespace
             WHERE r.prpubid = p.oid ORDER BY 1)"
));

/// Subscriptions of this database, created as pg_dump creates them: without connecting
/// (so without a replication slot) and disabled. Only a superuser may read the
/// connection string; a password in it is never read into the model.
macro_rules! subscriptions {
    ($conninfo:literal) => {
        concat!(
            "SELECT 'subscription' AS kind, s.subname::text AS name,
       ARRAY['CREATE SUBSCRIPTION ' || quote_ident(s.subname) || ' CONNECTION ' || quote_literal(",
            $conninfo,
            ") ||
         ' PUBLICATION ' || (SELECT string_agg(quote_ident(x), ', ') FROM unnest(s.subpublications) x) ||
         ' WITH (connect = false, slot_name = ' || COALESCE(quote_literal(s.subslotname), 'NONE') ||
         CASE WHEN s.subbinary THEN ', binary = true' ELSE '' END ||
         CASE WHEN (to_jsonb(s.substream) #>> '{}') IN ('t', 'true') THEN ', streaming = on' WHEN (to_jsonb(s.substream) #>> '{}') = 'p' THEN ', streaming = parallel' ELSE '' END ||
         CASE WHEN s.subsynccommit <> 'off' THEN ', synchronous_commit = ' || quote_literal(s.subsynccommit) ELSE '' END || ')'] AS stmts,
       'DROP SUBSCRIPTION ' || quote_ident(s.subname) AS drop_sql, 'after_tables' AS phase, ARRAY[]::text[] AS deps
FROM pg_subscription s WHERE s.subdbid = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())"
        )
    };
}

const SQL_SUBSCRIPTIONS: &str = subscriptions!(
    "regexp_replace(regexp_replace(s.subconninfo, '\\s*password\\s*=\\s*(''([^'']|\\\\'')*''|\\S+)', '', 'g'), '(://[^:@/]*):[^@/]*@', '\\1@')"
);

const SQL_SUBSCRIPTIONS_UNPRIVILEGED: &str = subscriptions!("'(not readable without superuser)'");

const SQL_EVENT_TRIGGERS: &str = concat!(
    "SELECT 'event trigger' AS kind, e.evtname::text AS name,
       ARRAY['CREATE EVENT TRIGGER ' || quote_ident(e.evtname) || ' ON ' || quote_ident(e.evtevent) ||
         COALESCE(' WHEN TAG IN (' || (SELECT string_agg(quote_literal(t), ', ') FROM unnest(e.evttags) t) || ')', '') ||
         ' EXECUTE FUNCTION ' || e.evtfoid::regproc || '()'] ||
       CASE e.evtenabled WHEN 'O' THEN ARRAY[]::text[]
         ELSE ARRAY['ALTER EVENT TRIGGER ' || quote_ident(e.evtname) || CASE e.evtenabled WHEN 'D' THEN ' DISABLE' WHEN 'R' THEN ' ENABLE REPLICA' ELSE ' ENABLE ALWAYS' END] END AS stmts,
       'DROP EVENT TRIGGER ' || quote_ident(e.evtname) AS drop_sql, 'last' AS phase, ARRAY[]::text[] AS deps
FROM pg_event_trigger e
-- lockstep's own audit (`lockstep audit install`) is not the schema's.
WHERE NOT EXISTS (SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                  WHERE p.oid = e.evtfoid AND n.nspname = 'lockstep')
  AND ", not_ext!("pg_event_trigger", "e.oid")
);

/// `ALTER DEFAULT PRIVILEGES`. A database-wide entry replaces the built-in default, so
/// it is written as what it revokes from and grants beyond `acldefault`; an entry for
/// one schema only adds. Undoing one is the reverse of the same statements.
const SQL_DEFAULT_ACLS: &str = "
WITH d AS (
  SELECT a.oid, a.defaclrole AS role, a.defaclnamespace AS nsp, a.defaclobjtype AS t, a.defaclacl AS acl,
         CASE a.defaclobjtype WHEN 'r' THEN 'TABLES' WHEN 'S' THEN 'SEQUENCES' WHEN 'f' THEN 'FUNCTIONS' WHEN 'T' THEN 'TYPES' ELSE 'SCHEMAS' END AS word,
         'ALTER DEFAULT PRIVILEGES FOR ROLE ' || quote_ident(pg_get_userbyid(a.defaclrole)) ||
           COALESCE(' IN SCHEMA ' || quote_ident(n.nspname), '') AS head,
         pg_get_userbyid(a.defaclrole)::text AS role_name, n.nspname::text AS nsp_name
  FROM pg_default_acl a LEFT JOIN pg_namespace n ON n.oid = a.defaclnamespace
), e AS (
  SELECT d.oid, x.grantee, x.privilege_type, x.is_grantable, true AS granted FROM d, aclexplode(d.acl) x
  UNION ALL
  SELECT d.oid, x.grantee, x.privilege_type, x.is_grantable, false FROM d,
         aclexplode(acldefault(CASE d.t WHEN 'S' THEN 's' ELSE d.t END, d.role)) x WHERE d.nsp = 0
), s AS (
  SELECT e.oid, e.grantee, e.privilege_type, bool_or(e.granted) AND NOT bool_or(NOT e.granted) AS grant_it,
         bool_or(NOT e.granted) AND NOT bool_or(e.granted) AS revoke_it, bool_or(e.is_grantable AND e.granted) AS grantable
  FROM e GROUP BY e.oid, e.grantee, e.privilege_type
)
SELECT 'default privileges' AS kind,
       'for role ' || d.role_name || COALESCE(' in schema ' || d.nsp_name, '') || ' on ' || lower(d.word) AS name,
       ARRAY(SELECT d.head || CASE WHEN s.grant_it THEN ' GRANT ' ELSE ' REVOKE ' END || s.privilege_type || ' ON ' || d.word ||
                    CASE WHEN s.grant_it THEN ' TO ' ELSE ' FROM ' END ||
                    CASE WHEN s.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(s.grantee)) END ||
                    CASE WHEN s.grant_it AND s.grantable THEN ' WITH GRANT OPTION' ELSE '' END
             FROM s WHERE s.oid = d.oid AND (s.grant_it OR s.revoke_it) ORDER BY s.grantee <> d.role, 1) AS stmts,
       (SELECT string_agg(d.head || CASE WHEN s.grant_it THEN ' REVOKE ' ELSE ' GRANT ' END || s.privilege_type || ' ON ' || d.word ||
                    CASE WHEN s.grant_it THEN ' FROM ' ELSE ' TO ' END ||
                    CASE WHEN s.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(s.grantee)) END, '; ' ORDER BY 1)
        FROM s WHERE s.oid = d.oid AND (s.grant_it OR s.revoke_it)) AS drop_sql,
       'last' AS phase, ARRAY[]::text[] AS deps
FROM d";

const SQL_ACCESS_METHODS: &str = concat!(
    "SELECT 'access method' AS kind, a.amname::text AS name,
       ARRAY['CREATE ACCESS METHOD ' || quote_ident(a.amname) || CASE a.amtype WHEN 'i' THEN ' TYPE INDEX' ELSE ' TYPE TABLE' END ||
         ' HANDLER ' || a.amhandler::regproc] AS stmts,
       'DROP ACCESS METHOD ' || quote_ident(a.amname) AS drop_sql, 'before_tables' AS phase, ARRAY[]::text[] AS deps
FROM pg_am a WHERE a.oid >= 16384 AND ", not_ext!("pg_am", "a.oid")
);

const SQL_CONVERSIONS: &str = concat!(
    "SELECT 'conversion' AS kind, n.nspname || '.' || c.conname AS name,
       ARRAY['CREATE ' || CASE WHEN c.condefault THEN 'DEFAULT ' ELSE '' END || 'CONVERSION ' || ", qn!("n.nspname", "c.conname"),
    " || ' FOR ' || quote_literal(pg_encoding_to_char(c.conforencoding)) || ' TO ' || quote_literal(pg_encoding_to_char(c.contoencoding)) ||
         ' FROM ' || c.conproc::regproc] AS stmts,
       'DROP CONVERSION ' || ", qn!("n.nspname", "c.conname"), " AS drop_sql, 'before_tables' AS phase, ARRAY[]::text[] AS deps
FROM pg_conversion c JOIN pg_namespace n ON n.oid = c.connamespace
WHERE ", user_ns!("n"), " AND ", not_ext!("pg_conversion", "c.oid")
);

const SQL_TRANSFORMS: &str = concat!(
    "SELECT 'transform' AS kind, 'for ' || format_type(t.trftype, NULL) || ' language ' || l.lanname AS name,
       ARRAY['CREATE TRANSFORM FOR ' || format_type(t.trftype, NULL) || ' LANGUAGE ' || quote_ident(l.lanname) || ' (' ||
         array_to_string(ARRAY[CASE WHEN t.trffromsql <> 0 THEN 'FROM SQL WITH FUNCTION ' || t.trffromsql::regprocedure END,
                               CASE WHEN t.trftosql <> 0 THEN 'TO SQL WITH FUNCTION ' || t.trftosql::regprocedure END], ', ') || ')'] AS stmts,
       'DROP TRANSFORM FOR ' || format_type(t.trftype, NULL) || ' LANGUAGE ' || quote_ident(l.lanname) AS drop_sql,
       'before_tables' AS phase, ARRAY[]::text[] AS deps
FROM pg_transform t JOIN pg_language l ON l.oid = t.trflang WHERE ", not_ext!("pg_transform", "t.oid")
);

/// What lockstep does not model at all, found by sweeping the catalogs that hold user
/// objects of other kinds: base and shell types, procedural languages. Each is listed
/// by name, so a plan says it cannot create it and drift sees it come and go.
const SQL_NOT_MODELLED: &str = concat!(
    "SELECT i.type AS kind, i.identity AS name, ARRAY[]::text[] AS stmts, NULL::text AS drop_sql,
       'before_tables' AS phase, ARRAY[]::text[] AS deps
FROM (
  SELECT 'pg_type'::regclass AS classid, t.oid AS objid FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
  WHERE t.typtype IN ('b', 'p') AND t.oid >= 16384 AND t.typcategory <> 'A' AND ", user_ns!("n"), " AND ", not_ext!("pg_type", "t.oid"), "
  UNION ALL
  SELECT 'pg_language'::regclass, l.oid FROM pg_language l WHERE l.oid >= 16384 AND ", not_ext!("pg_language", "l.oid"), "
) x CROSS JOIN LATERAL pg_identify_object(x.classid, x.objid, 0) i"
);

/// Aggregates, as functions of kind `aggregate` whose definition is built here (no
/// server function prints one), with the keys of their support functions for order.
const SQL_AGGREGATES: &str = concat!(
    "SELECT p.oid, n.nspname::text AS schema, p.proname::text AS name, 'a' AS kind,
       pg_get_function_identity_arguments(p.oid) AS args, pg_get_function_result(p.oid) AS result,
       l.lanname::text AS language, pg_get_userbyid(p.proowner)::text AS owner,
       'CREATE OR REPLACE AGGREGATE ' || ", qn!("n.nspname", "p.proname"),
    " || '(' || COALESCE(NULLIF(pg_get_function_arguments(p.oid), ''), '*') || ') (' ||
       array_to_string(ARRAY[
         'SFUNC = ' || a.aggtransfn::regproc, 'STYPE = ' || format_type(a.aggtranstype, NULL),
         CASE WHEN a.aggtransspace <> 0 THEN 'SSPACE = ' || a.aggtransspace END,
         CASE WHEN a.aggfinalfn <> 0 THEN 'FINALFUNC = ' || a.aggfinalfn::regproc END,
         CASE WHEN a.aggfinalextra THEN 'FINALFUNC_EXTRA' END,
         CASE WHEN a.aggfinalmodify <> CASE WHEN a.aggkind = 'n' THEN 'r' ELSE 'w' END
              THEN 'FINALFUNC_MODIFY = ' || CASE a.aggfinalmodify WHEN 'r' THEN 'READ_ONLY' WHEN 's' THEN 'SHAREABLE' ELSE 'READ_WRITE' END END,
         CASE WHEN a.aggcombinefn <> 0 THEN 'COMBINEFUNC = ' || a.aggcombinefn::regproc END,
         CASE WHEN a.aggserialfn <> 0 THEN 'SERIALFUNC = ' || a.aggserialfn::regproc END,
         CASE WHEN a.aggdeserialfn <> 0 THEN 'DESERIALFUNC = ' || a.aggdeserialfn::regproc END,
         CASE WHEN a.agginitval IS NOT NULL THEN 'INITCOND = ' || quote_literal(a.agginitval) END,
         CASE WHEN a.aggmtransfn <> 0 THEN 'MSFUNC = ' || a.aggmtransfn::regproc END,
         CASE WHEN a.aggminvtransfn <> 0 THEN 'MINVFUNC = ' || a.aggminvtransfn::regproc END,
         CASE WHEN a.aggmtranstype <> 0 THEN 'MSTYPE = ' || format_type(a.aggmtranstype, NULL) END,
         CASE WHEN a.aggmtransspace <> 0 THEN 'MSSPACE = ' || a.aggmtransspace END,
         CASE WHEN a.aggmfinalfn <> 0 THEN 'MFINALFUNC = ' || a.aggmfinalfn::regproc END,
         CASE WHEN a.aggmfinalextra THEN 'MFINALFUNC_EXTRA' END,
         CASE WHEN a.aggmtransfn <> 0 AND a.aggmfinalmodify <> CASE WHEN a.aggkind = 'n' THEN 'r' ELSE 'w' END
              THEN 'MFINALFUNC_MODIFY = ' || CASE a.aggmfinalmodify WHEN 'r' THEN 'READ_ONLY' WHEN 's' THEN 'SHAREABLE' ELSE 'READ_WRITE' END END,
         CASE WHEN a.aggminitval IS NOT NULL THEN 'MINITCOND = ' || quote_literal(a.aggminitval) END,
         CASE WHEN a.aggsortop <> 0 THEN 'SORTOP = OPERATOR(' || ", qual!("sn.nspname"), " || so.oprname || ')' END,
         CASE p.proparallel WHEN 's' THEN 'PARALLEL = SAFE' WHEN 'r' THEN 'PARALLEL = RESTRICTED' END,
         CASE WHEN a.aggkind = 'h' THEN 'HYPOTHETICAL' END], ', ') || ')' AS def,
       ARRAY(SELECT fn.nspname || '.' || f.proname || '(' || pg_get_function_identity_arguments(f.oid) || ')'
             FROM pg_proc f JOIN pg_namespace fn ON fn.oid = f.pronamespace
             WHERE f.oid IN (a.aggtransfn, a.aggfinalfn, a.aggcombinefn, a.aggserialfn, a.aggdeserialfn,
                             a.aggmtransfn, a.aggminvtransfn, a.aggmfinalfn)) AS fn_keys,
       ARRAY(SELECT u FROM unnest(COALESCE(p.proallargtypes, p.proargtypes::oid[])) u)
           || p.prorettype || a.aggtranstype AS type_oids, ",
    grants!("p.proacl", "'f'", "p.proowner"),
    " AS grants
FROM pg_proc p JOIN pg_aggregate a ON a.aggfnoid = p.oid
JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang
LEFT JOIN pg_operator so ON so.oid = a.aggsortop LEFT JOIN pg_namespace sn ON sn.oid = so.oprnamespace
WHERE ", user_ns!("n"), " AND ", not_ext!("pg_proc", "p.oid")
);

/// Non-default replica identities; `USING INDEX` names the index.
const SQL_REPLICA_IDENTITY: &str = concat!(
    "SELECT c.oid AS rel, CASE c.relreplident WHEN 'f' THEN 'FULL' WHEN 'n' THEN 'NOTHING'
         ELSE 'USING INDEX ' || (SELECT quote_ident(ic.relname) FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
                                 WHERE i.indrelid = c.oid AND i.indisreplident) END AS identity
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND c.relreplident <> 'd' AND ", user_ns!("n")
);

/// A foreign table's server and options, and its columns' options, each as
/// `attnum options`.
const SQL_FOREIGN_TABLES: &str = concat!(
    "SELECT f.ftrelid AS rel, quote_ident(s.srvname) || ",
    fdw_options!("f.ftoptions"),
    " AS server,
       ARRAY(SELECT a.attnum || ' ' || (SELECT string_agg(quote_ident(split_part(o, '=', 1)) || ' ' || quote_literal(substr(o, strpos(o, '=') + 1)), ', ') FROM unnest(a.attfdwoptions) o)
             FROM pg_attribute a WHERE a.attrelid = f.ftrelid AND a.attnum > 0 AND NOT a.attisdropped AND a.attfdwoptions IS NOT NULL) AS column_options
FROM pg_foreign_table f JOIN pg_foreign_server s ON s.oid = f.ftserver"
);

/// Which statements a server can run: the version and whether the role may read
/// everything (a subscription's connection string).
const SQL_CAPABILITIES: &str = "SELECT current_setting('server_version_num')::int4 AS version, current_setting('is_superuser') = 'on' AS superuser";

/// The statement a step after [`STEPS`] runs, for the server's version and privileges.
#[derive(Clone, Copy)]
enum Pick {
    Always(&'static str),
    /// The first from this `server_version_num` on, the second before.
    Since(i32, &'static str, &'static str),
    /// The first for a superuser, the second for other roles.
    Superuser(&'static str, &'static str),
}

impl Pick {
    fn sql(self, version: i32, superuser: bool) -> &'static str {
        match self {
            Pick::Always(s) => s,
            Pick::Since(v, new, old) => {
                if version >= v {
                    new
                } else {
                    old
                }
            }
            Pick::Superuser(yes, no) => {
                if superuser {
                    yes
                } else {
                    no
                }
            }
        }
    }
}

use Pick::{Always, Since, Superuser};

/// Which kinds the steps after [`STEPS`] may find, in one statement, so that a
/// database without them (most) skips their statements: on a fresh session each costs
/// its planning on cold catalog caches, together about a third of inspecting a small
/// schema, which a fleet pays per member. Each test is a superset of its statement's
/// rows: whatever a user or an extension creates has an OID from 16384
/// (`FirstNormalObjectId`; the counter wraps around to it, never below), and the
/// catalogs tested for any row at all hold nothing of the system's. A user mapping
/// needs a server.
const SQL_PRESENT: &str = "
SELECT EXISTS (SELECT FROM pg_proc WHERE oid >= 16384 AND prokind = 'a') AS aggregates,
       EXISTS (SELECT FROM pg_foreign_table) AS foreign_tables,
       EXISTS (SELECT FROM pg_collation WHERE oid >= 16384) AS collations,
       EXISTS (SELECT FROM pg_ts_parser WHERE oid >= 16384) AS ts_parsers,
       EXISTS (SELECT FROM pg_ts_template WHERE oid >= 16384) AS ts_templates,
       EXISTS (SELECT FROM pg_ts_dict WHERE oid >= 16384) AS ts_dicts,
       EXISTS (SELECT FROM pg_ts_config WHERE oid >= 16384) AS ts_configs,
       EXISTS (SELECT FROM pg_operator WHERE oid >= 16384) AS operators,
       EXISTS (SELECT FROM pg_opfamily WHERE oid >= 16384) AS opfamilies,
       EXISTS (SELECT FROM pg_opclass WHERE oid >= 16384) AS opclasses,
       EXISTS (SELECT FROM pg_cast WHERE oid >= 16384) AS casts,
       EXISTS (SELECT FROM pg_am WHERE oid >= 16384) AS access_methods,
       EXISTS (SELECT FROM pg_conversion WHERE oid >= 16384) AS conversions,
       EXISTS (SELECT FROM pg_transform) AS transforms,
       EXISTS (SELECT FROM pg_foreign_data_wrapper) AS fdws,
       EXISTS (SELECT FROM pg_foreign_server) AS servers,
       EXISTS (SELECT FROM pg_rewrite WHERE oid >= 16384 AND rulename <> '_RETURN') AS rules,
       EXISTS (SELECT FROM pg_statistic_ext) AS statistics,
       EXISTS (SELECT FROM pg_publication) AS publications,
       EXISTS (SELECT FROM pg_subscription s WHERE s.subdbid <> 0) AS subscriptions,
       EXISTS (SELECT FROM pg_event_trigger) AS event_triggers,
       EXISTS (SELECT FROM pg_default_acl) AS default_acls,
       EXISTS (SELECT FROM pg_type WHERE oid >= 16384 AND typtype IN ('b', 'p') AND typcategory <> 'A')
         OR EXISTS (SELECT FROM pg_language WHERE oid >= 16384) AS not_modelled";

#[rustfmt::skip] // a table: one step a line
const LATE_STEPS: [(&str, Pick, Apply, Option<&str>); 25] = [
    ("aggregates", Always(SQL_AGGREGATES), Builder::aggregates, Some("aggregates")),
    ("replica identities", Always(SQL_REPLICA_IDENTITY), Builder::replica_identity, None),
    ("foreign tables", Always(SQL_FOREIGN_TABLES), Builder::foreign_tables, Some("foreign_tables")),
    ("collations", Always(SQL_COLLATIONS), Builder::others, Some("collations")),
    ("text search parsers", Always(SQL_TS_PARSERS), Builder::others, Some("ts_parsers")),
    ("text search templates", Always(SQL_TS_TEMPLATES), Builder::others, Some("ts_templates")),
    ("text search dictionaries", Always(SQL_TS_DICTS), Builder::others, Some("ts_dicts")),
    ("text search configurations", Always(SQL_TS_CONFIGS), Builder::others, Some("ts_configs")),
    ("operators", Always(SQL_OPERATORS), Builder::others, Some("operators")),
    ("operator families", Always(SQL_OPFAMILIES), Builder::others, Some("opfamilies")),
    ("operator classes", Always(SQL_OPCLASSES), Builder::others, Some("opclasses")),
    ("casts", Always(SQL_CASTS), Builder::others, Some("casts")),
    ("access methods", Always(SQL_ACCESS_METHODS), Builder::others, Some("access_methods")),
    ("conversions", Always(SQL_CONVERSIONS), Builder::others, Some("conversions")),
    ("transforms", Always(SQL_TRANSFORMS), Builder::others, Some("transforms")),
    ("foreign-data wrappers", Always(SQL_FDWS), Builder::others, Some("fdws")),
    ("foreign servers", Always(SQL_SERVERS), Builder::others, Some("servers")),
    ("user mappings", Always(SQL_USER_MAPPINGS), Builder::others, Some("servers")),
    ("rules", Always(SQL_RULES), Builder::others, Some("rules")),
    ("extended statistics", Always(SQL_STATISTICS), Builder::others, Some("statistics")),
    ("publications", Since(150000, SQL_PUBLICATIONS, SQL_PUBLICATIONS_14), Builder::others, Some("publications")),
    ("subscriptions", Superuser(SQL_SUBSCRIPTIONS, SQL_SUBSCRIPTIONS_UNPRIVILEGED), Builder::others, Some("subscriptions")),
    ("event triggers", Always(SQL_EVENT_TRIGGERS), Builder::others, Some("event_triggers")),
    ("default privileges", Always(SQL_DEFAULT_ACLS), Builder::others, Some("default_acls")),
    ("objects of other kinds", Always(SQL_NOT_MODELLED), Builder::others, Some("not_modelled")),
];

impl Builder {
    fn capabilities(&mut self, row: &PgRow) -> R {
        self.capabilities = (row.try_get("version")?, row.try_get("superuser")?);
        Ok(())
    }

    fn aggregates(&mut self, row: &PgRow) -> R {
        let oid: Oid = row.try_get("oid")?;
        self.functions(row)?;
        if let Some((_, f, _)) = self.functions.get_mut(&oid) {
            f.kind = "aggregate".into();
        }
        self.agg_deps.insert(oid, row.try_get("fn_keys")?);
        Ok(())
    }

    fn replica_identity(&mut self, row: &PgRow) -> R {
        let rel: Oid = row.try_get("rel")?;
        if let Some(t) = self.tables.get_mut(&rel) {
            t.replica_identity = row.try_get("identity")?;
        }
        Ok(())
    }

    fn foreign_tables(&mut self, row: &PgRow) -> R {
        let rel: Oid = row.try_get("rel")?;
        if let Some(t) = self.tables.get_mut(&rel) {
            t.foreign_server = row.try_get("server")?;
        }
        let column_options: Vec<String> = row.try_get("column_options")?;
        for entry in column_options {
            let Some((num, options)) = entry.split_once(' ') else {
                continue;
            };
            if let Some(c) = num.parse().ok().and_then(|n| self.column_mut(rel, n)) {
                c.storage.fdw_options = Some(options.to_string());
            }
        }
        Ok(())
    }

    fn present(&mut self, row: &PgRow) -> R {
        for gate in LATE_STEPS.iter().filter_map(|(_, _, _, gate)| *gate) {
            if row.try_get::<bool, _>(gate)? {
                self.present.insert(gate);
            }
        }
        Ok(())
    }

    fn others(&mut self, row: &PgRow) -> R {
        let create: Vec<String> = row
            .try_get::<Option<Vec<Option<String>>>, _>("stmts")?
            .unwrap_or_default()
            .into_iter()
            .flatten()
            .collect();
        let kind: String = row.try_get("kind")?;
        let name: String = row.try_get("name")?;
        let note: Option<String> = row.try_get("note").ok().flatten();
        let mut definition = if create.is_empty() {
            format!("{kind} {name}")
        } else {
            create.join(";\n")
        };
        if let Some(n) = note {
            definition.push_str(&format!(" ({n})"));
        }
        if create.is_empty() {
            self.db
                .env
                .warnings
                .push(format!("not modelled: {kind} {name}"));
        }
        let other = Other {
            phase: match row.try_get::<&str, _>("phase")? {
                "before_types" => OtherPhase::BeforeTypes,
                "after_tables" => OtherPhase::AfterTables,
                "last" => OtherPhase::Last,
                _ => OtherPhase::BeforeTables,
            },
            kind,
            name,
            create,
            definition,
            drop: row.try_get("drop_sql")?,
            depends_on: row.try_get("deps")?,
        };
        self.db.others.insert(other.key(), other);
        Ok(())
    }
}
