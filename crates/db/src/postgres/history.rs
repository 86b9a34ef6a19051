//! lockstep's tables on PostgreSQL: `lockstep.history` and `lockstep.progress`, in a
//! schema of their own that inspection leaves out. A session confined to one schema
//! (schema-per-tenant) keeps them inside it instead, as `lockstep_history` and
//! `lockstep_progress` (see [`in_schema`]): each tenant has its own history.

use crate::driver::HistorySql;

pub const SQL: HistorySql = HistorySql {
    exists: "SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'lockstep' AND c.relname = 'history'",
    create: "CREATE SCHEMA IF NOT EXISTS lockstep;
        CREATE TABLE IF NOT EXISTS lockstep.history (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            version text NOT NULL,
            name text NOT NULL,
            checksum text NOT NULL,
            direction text NOT NULL,
            outcome text NOT NULL,
            started_at timestamptz NOT NULL,
            finished_at timestamptz,
            duration_ms bigint,
            os_user text,
            db_role text,
            client_host text,
            lockstep_version text,
            deploy_id text NOT NULL,
            error text,
            failed_statement text,
            failed_line integer,
            code_checksum text);
        CREATE TABLE IF NOT EXISTS lockstep.progress (
            version text NOT NULL,
            statement_no integer NOT NULL,
            statement text NOT NULL,
            line integer NOT NULL,
            state text NOT NULL,
            deploy_id text NOT NULL,
            updated_at timestamptz NOT NULL,
            PRIMARY KEY (version, statement_no));",
    read_history: "SELECT id, version, name, checksum, direction, outcome, started_at::text AS started_at, error, failed_statement, failed_line::bigint AS failed_line, db_role, code_checksum FROM lockstep.history ORDER BY id",
    read_history_v1: "SELECT id, version, name, checksum, direction, outcome, started_at::text AS started_at, error, failed_statement, failed_line::bigint AS failed_line, db_role, NULL::text AS code_checksum FROM lockstep.history ORDER BY id",
    // pg_catalog, not information_schema: planned on a fresh backend (every fleet
    // member's), the view costs about 5 ms and this join 1.5.
    has_code_checksum: "SELECT 1 FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'lockstep' AND c.relname = 'history' AND a.attname = 'code_checksum' AND NOT a.attisdropped",
    add_code_checksum: "ALTER TABLE lockstep.history ADD COLUMN IF NOT EXISTS code_checksum text",
    read_progress: "SELECT version, statement_no::bigint AS statement_no, statement, line::bigint AS line, state FROM lockstep.progress ORDER BY version, statement_no",
    insert_history: "INSERT INTO lockstep.history (version, name, checksum, direction, outcome, started_at, finished_at, duration_ms, os_user, db_role, client_host, lockstep_version, deploy_id, error, failed_statement, failed_line, code_checksum)
        VALUES ($1, $2, $3, $4, $5, COALESCE($6::timestamptz, clock_timestamp()), clock_timestamp(), $7, $8, current_user, $9, $10, $11, $12, $13, $14, $15)",
    set_progress: "INSERT INTO lockstep.progress (version, statement_no, statement, line, state, deploy_id, updated_at) VALUES ($1, $2, $3, $4, $5, $6, clock_timestamp())
        ON CONFLICT (version, statement_no) DO UPDATE SET state = EXCLUDED.state, deploy_id = EXCLUDED.deploy_id, updated_at = EXCLUDED.updated_at",
    progress_done: "UPDATE lockstep.progress SET state = 'done', updated_at = clock_timestamp() WHERE version = $1 AND statement_no = $2",
    progress_forget: "DELETE FROM lockstep.progress WHERE version = $1 AND statement_no = $2",
    progress_clear: "DELETE FROM lockstep.progress WHERE version = $1",
    recent: "SELECT version, name, direction, outcome, started_at::text AS started_at, duration_ms, os_user, db_role, client_host, deploy_id FROM lockstep.history ORDER BY id DESC LIMIT $1",
    now: "SELECT clock_timestamp()::text",
    begin_deploy: "BEGIN",
};

/// Whether `table` exists, as a row or none.
pub fn table_exists(table: &str) -> String {
    format!("SELECT 1 WHERE to_regclass('{table}') IS NOT NULL")
}

/// Whether the table `table` names on the search path (the one [`table_exists`] finds
/// and the history query reads) has `column`: a table of that name in another schema,
/// another tenant's, does not count.
pub fn column_exists(table: &str, column: &str) -> String {
    format!("SELECT 1 FROM pg_catalog.pg_attribute WHERE attrelid = to_regclass('{table}') AND attname = '{column}' AND NOT attisdropped")
}

/// The type a version number is cast to, to read it as text.
pub const TEXT: &str = "TEXT";

/// lockstep's own reads run read-only within its time limits.
pub fn begin_own_read(limits: &crate::Limits) -> Option<String> {
    Some(format!("BEGIN READ ONLY; {}", limits.set_local()))
}

/// Statement `no` recorded as done, written to go in the same simple-query message as
/// the statement: PostgreSQL runs the two as one implicit transaction, so the statement
/// and its checkpoint commit together. Text goes in dollar quotes, which mean the same
/// whatever `standard_conforming_strings` a migration set.
pub fn checkpoint_with(c: &crate::driver::Checkpoint) -> Option<String> {
    use lockstep_core::plan::dollar_quote as q;
    let (no, line) = (c.no, c.line);
    Some(format!(
        "INSERT INTO lockstep.progress (version, statement_no, statement, line, state, deploy_id, updated_at) VALUES ({}, {no}, {}, {line}, 'done', {}, clock_timestamp()) ON CONFLICT (version, statement_no) DO UPDATE SET state = 'done', deploy_id = EXCLUDED.deploy_id, updated_at = EXCLUDED.updated_at",
        q(c.version),
        q(c.statement),
        q(c.deploy_id)
    ))
}

/// One of lockstep's statements ([`SQL`]) for a session confined to `schema`: the tables
/// live in that schema (created with it when missing), named `lockstep_history` and
/// `lockstep_progress`.
pub fn in_schema(sql: &str, schema: &str) -> String {
    let q = lockstep_core::plan::ident(schema);
    let lit = lockstep_core::plan::literal(schema);
    sql.replace(
        "CREATE SCHEMA IF NOT EXISTS lockstep;",
        &format!("CREATE SCHEMA IF NOT EXISTS {q};"),
    )
    .replace("lockstep.history", &format!("{q}.lockstep_history"))
    .replace("lockstep.progress", &format!("{q}.lockstep_progress"))
    .replace(
        "n.nspname = 'lockstep' AND c.relname = 'history'",
        &format!("n.nspname = {lit} AND c.relname = 'lockstep_history'"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every statement of a tenant names the tenant's tables and none of the
    /// `lockstep` schema's.
    #[test]
    fn a_tenant_keeps_its_history_in_its_schema() {
        let all = [
            SQL.exists,
            SQL.create,
            SQL.read_history,
            SQL.read_history_v1,
            SQL.has_code_checksum,
            SQL.add_code_checksum,
            SQL.read_progress,
            SQL.insert_history,
            SQL.set_progress,
            SQL.progress_done,
            SQL.progress_forget,
            SQL.progress_clear,
            SQL.recent,
        ];
        for sql in all {
            let t = in_schema(sql, "Tenant's");
            assert!(!t.contains("lockstep."), "{t}");
            assert!(!t.contains("'lockstep'"), "{t}");
            assert!(
                t.contains("\"Tenant's\"") || t.contains("'Tenant''s'"),
                "{t}"
            );
        }
    }
}
