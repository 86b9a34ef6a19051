//! The DDL audit on PostgreSQL: event triggers that record every DDL statement in
//! `lockstep.audit` (`lockstep audit install`). See docs/audit.md.
//!
//! One statement is one row: `sql_drop` (which fires just before `ddl_command_end` for
//! the same statement) only stashes what it dropped in a transaction-local setting, and
//! `ddl_command_end` writes the row and clears the stash. Objects in temporary schemas
//! are left out, and a statement that touched nothing else writes nothing.
//!
//! Neither function can stop a statement: each body runs in a block that turns any
//! error (a dropped, renamed or locked-down table, a role gone) into a WARNING. Both are
//! SECURITY DEFINER and set their own search_path (`pg_catalog, pg_temp`) before
//! touching anything, after reading the caller's, which the row records; every name in
//! them is qualified.

use crate::audit::AuditRow;
use crate::driver::AuditSql;
use sqlx::{PgConnection, Row};

/// Why there is no audit hook here, or what it needs (`Driver::NO_AUDIT_HOOK`).
pub const NO_HOOK: &str =
    "event triggers can only be created by a superuser (managed servers such as Neon forbid them, Supabase does not fire them for its superusers' DDL, and a read replica cannot have them)";

pub const SQL: AuditSql = AuditSql {
    install: INSTALL,
    uninstall: UNINSTALL,
    exists: "SELECT 1 FROM pg_catalog.pg_event_trigger WHERE evtname = 'lockstep_audit_ddl'",
    can_install: "SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user",
    server_log: "",
};

const INSTALL: &str = r#"
BEGIN;
-- The install's own statements are not recorded (a second install would record them).
DROP EVENT TRIGGER IF EXISTS lockstep_audit_drop;
DROP EVENT TRIGGER IF EXISTS lockstep_audit_ddl;
CREATE SCHEMA IF NOT EXISTS lockstep;
CREATE TABLE IF NOT EXISTS lockstep.audit (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    session_role text,
    role text,
    application text,
    client_addr inet,
    client_port integer,
    backend_pid integer,
    txid bigint,
    command_tags text[],
    object_types text[],
    objects text[],
    statement text,
    search_path text,
    deploy_id text);
REVOKE ALL ON lockstep.audit FROM PUBLIC;

-- The trigger functions run as the role whose statement fired them (so that they
-- see its current_user and search_path), qualify every name, and catch everything.
CREATE OR REPLACE FUNCTION lockstep.audit_stash_dropped() RETURNS event_trigger
LANGUAGE plpgsql AS $lockstep$
DECLARE
    stash text := pg_catalog.current_setting('lockstep.audit_dropped', true);
    more text;
BEGIN
    BEGIN
        SELECT pg_catalog.string_agg(pg_catalog.json_build_object(
                    't', d.object_type, 'i', d.object_identity, 'temp', d.is_temporary)::text, ',')
          INTO more
          FROM pg_catalog.pg_event_trigger_dropped_objects() d
         WHERE d.original OR d.object_type IN ('table column', 'index', 'table constraint', 'trigger', 'policy');
        IF more IS NOT NULL THEN
            IF stash IS NOT NULL AND stash OPERATOR(pg_catalog.<>) '' THEN
                more := pg_catalog.concat(stash, ',', more);
            END IF;
            PERFORM pg_catalog.set_config('lockstep.audit_dropped', more, true);
        END IF;
    EXCEPTION WHEN OTHERS THEN
        RAISE WARNING 'lockstep audit: could not note what % dropped (%); the statement goes on', TG_TAG, SQLERRM
            USING HINT = 'run `lockstep audit install --env ENV` again to repair the audit';
    END;
END
$lockstep$;

CREATE OR REPLACE FUNCTION lockstep.audit_record() RETURNS event_trigger
LANGUAGE plpgsql AS $lockstep$
BEGIN
    BEGIN
        PERFORM lockstep.audit_write(TG_TAG, current_user::text, pg_catalog.current_setting('search_path'));
    EXCEPTION WHEN OTHERS THEN
        RAISE WARNING 'lockstep audit: could not record % (%); the statement goes on', TG_TAG, SQLERRM
            USING HINT = 'run `lockstep audit install --env ENV` again to repair the audit';
    END;
    PERFORM pg_catalog.set_config('lockstep.audit_dropped', '', true);
END
$lockstep$;

-- The writer runs as the audit's owner with a fixed search_path: nobody else may write
-- to the table. It reads what the statement did from the event trigger's own context
-- (which fails anywhere else), and accepts only a role the session may act as.
CREATE OR REPLACE FUNCTION lockstep.audit_write(tag text, caller text, caller_path text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $lockstep$
DECLARE
    dropped jsonb := ('[' || COALESCE(current_setting('lockstep.audit_dropped', true), '') || ']')::jsonb;
    tags text[];
    types text[];
    idents text[];
    saw_temp boolean;
    n integer;
BEGIN
    IF caller IS DISTINCT FROM session_user::text AND NOT pg_has_role(session_user, caller, 'MEMBER') THEN
        RAISE EXCEPTION 'role % is not one this session may act as', caller;
    END IF;
    SELECT array_agg(DISTINCT c.command_tag) FILTER (WHERE c.command_tag IS NOT NULL),
           array_agg(c.object_type ORDER BY c.ord) FILTER (WHERE NOT c.temp AND c.object_identity IS NOT NULL AND c.object_identity NOT LIKE 'pg\_toast.%'),
           array_agg(c.object_identity ORDER BY c.ord) FILTER (WHERE NOT c.temp AND c.object_identity IS NOT NULL AND c.object_identity NOT LIKE 'pg\_toast.%'),
           COALESCE(bool_or(c.temp), false),
           count(*)
      INTO tags, types, idents, saw_temp, n
      FROM (SELECT k.command_tag, k.object_type, k.object_identity,
                   COALESCE(k.schema_name LIKE 'pg\_temp%' OR k.schema_name LIKE 'pg\_toast\_temp%', false) AS temp,
                   k.ord
              FROM pg_event_trigger_ddl_commands() WITH ORDINALITY
                   AS k(classid, objid, objsubid, command_tag, object_type, schema_name, object_identity, in_extension, command, ord)
            UNION ALL
            SELECT NULL, e->>'t', e->>'i', COALESCE((e->>'temp')::boolean, false), 1000000 + o
              FROM jsonb_array_elements(dropped) WITH ORDINALITY AS x(e, o)) c;
    IF n = 0 OR (idents IS NULL AND saw_temp) THEN
        -- Nothing changed (`CREATE … IF NOT EXISTS` of what exists, `DROP … IF EXISTS`
        -- of what does not), or temporary objects only, which no other session sees
        -- and which end with this one.
        RETURN;
    END IF;
    INSERT INTO lockstep.audit (session_role, role, application, client_addr, client_port,
            backend_pid, txid, command_tags, object_types, objects, statement, search_path, deploy_id)
    VALUES (session_user, caller, NULLIF(current_setting('application_name'), ''),
            inet_client_addr(), inet_client_port(), pg_backend_pid(), txid_current(),
            COALESCE(tags, ARRAY[tag]), types, idents, current_query(), caller_path,
            NULLIF(current_setting('lockstep.deploy_id', true), ''));
END
$lockstep$;
-- A repair puts back what a damaged audit lost: ownership and the grants it needs.
ALTER FUNCTION lockstep.audit_write(text, text, text) OWNER TO CURRENT_USER;
ALTER TABLE lockstep.audit OWNER TO CURRENT_USER;
REVOKE ALL ON FUNCTION lockstep.audit_write(text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION lockstep.audit_write(text, text, text) TO PUBLIC;
GRANT USAGE ON SCHEMA lockstep TO PUBLIC;

CREATE EVENT TRIGGER lockstep_audit_drop ON sql_drop EXECUTE FUNCTION lockstep.audit_stash_dropped();
CREATE EVENT TRIGGER lockstep_audit_ddl ON ddl_command_end EXECUTE FUNCTION lockstep.audit_record();
COMMIT;
"#;

const UNINSTALL: &str = r#"
BEGIN;
DROP EVENT TRIGGER IF EXISTS lockstep_audit_ddl;
DROP EVENT TRIGGER IF EXISTS lockstep_audit_drop;
DROP FUNCTION IF EXISTS lockstep.audit_record();
DROP FUNCTION IF EXISTS lockstep.audit_write(text, text, text);
DROP FUNCTION IF EXISTS lockstep.audit_stash_dropped();
DROP TABLE IF EXISTS lockstep.audit;
DO $lockstep$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = 'lockstep') THEN
        REVOKE USAGE ON SCHEMA lockstep FROM PUBLIC;
    END IF;
    -- The schema goes too when the audit was all it held (no history yet).
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = 'lockstep')
       AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'lockstep')
       AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'lockstep')
       AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = 'lockstep')
    THEN
        DROP SCHEMA lockstep;
    END IF;
END
$lockstep$;
COMMIT;
"#;

/// Binds: since (a timestamp as text, or NULL), within (seconds, or NULL). Newest first.
const READ: &str = "SELECT id, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS at, session_role, role, application, host(client_addr) AS client_addr, client_port, backend_pid, txid, coalesce(command_tags, '{}') AS command_tags, coalesce(object_types, '{}') AS object_types, coalesce(objects, '{}') AS objects, statement, search_path, deploy_id
    FROM lockstep.audit
    WHERE ($1::text IS NULL OR at >= $1::timestamptz)
      AND ($2::float8 IS NULL OR at >= clock_timestamp() - make_interval(secs => $2::float8))
    ORDER BY at DESC, id DESC";

/// Marks this session's DDL as lockstep's own deploy: the audit records the id, and such
/// rows are never out-of-band. A custom setting any role may set.
pub fn mark_deploy(id: &str) -> Option<String> {
    Some(format!(
        "SET lockstep.deploy_id = '{}'",
        id.replace('\'', "''")
    ))
}

pub async fn rows(
    c: &mut PgConnection,
    since: Option<&str>,
    within_secs: Option<f64>,
) -> Result<Vec<AuditRow>, sqlx::Error> {
    sqlx::query_as(READ)
        .bind(since)
        .bind(within_secs)
        .fetch_all(&mut *c)
        .await
}

/// DDL statements of this database in pg_stat_statements, with the role that ran them:
/// where the audit cannot be installed, the one other record of who changed the schema
/// (no time, client or application). None when the extension is not there, not loaded
/// (`shared_preload_libraries`) or not readable by this role.
pub async fn ddl_statements(c: &mut PgConnection) -> Option<Vec<(String, String)>> {
    let schema: String = sqlx::query(
        "SELECT n.nspname::text FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_stat_statements'",
    )
    .fetch_optional(&mut *c)
    .await
    .ok()??
    .try_get(0)
    .ok()?;
    let sql = format!(
        "SELECT r.rolname::text, s.query FROM \"{}\".pg_stat_statements s JOIN pg_catalog.pg_roles r ON r.oid = s.userid
         WHERE s.dbid = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())
           AND s.query ~* '^\\s*(create|alter|drop|grant|revoke|comment)\\M'",
        schema.replace('"', "\"\"")
    );
    // A failure (not loaded, no privilege) aborts nothing: this runs outside any
    // transaction of lockstep's.
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(&mut *c)
        .await
        .ok()?;
    rows.iter()
        .map(|r| Some((r.try_get(0).ok()?, r.try_get(1).ok()?)))
        .collect()
}
