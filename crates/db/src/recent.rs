//! The newest rows of lockstep's history table, with who ran them: what the status page
//! shows as recent deploys. One query, bounded by `limit`, whatever the history's length.

use crate::{Conn, Db, DbError};
use serde::Serialize;
use sqlx::Row;

/// One history row as people read it.
#[derive(Debug, Clone, Serialize)]
pub struct DeployRow {
    pub version: String,
    pub name: String,
    /// up, down or adopt.
    pub direction: String,
    /// applied, failed, rolled back, adopted…
    pub outcome: String,
    pub started_at: String,
    pub duration_ms: Option<i64>,
    pub os_user: Option<String>,
    pub db_role: Option<String>,
    pub client_host: Option<String>,
    pub deploy_id: String,
}

impl Db {
    /// The `limit` newest history rows, newest first; none when lockstep never deployed
    /// here.
    pub async fn recent_deploys(&mut self, limit: i64) -> Result<Vec<DeployRow>, DbError> {
        if !self.history_exists().await? {
            return Ok(vec![]);
        }
        let url = self.url.clone();
        let err = |e| DbError::query("reading lockstep's recent deploys", &url, e);
        let sql = match self.conn {
            // lockstep keeps no history on MySQL yet.
            Conn::Mysql(_) => return Ok(vec![]),
            Conn::Postgres(_) => "SELECT version, name, direction, outcome, started_at::text AS started_at, duration_ms, os_user, db_role, client_host, deploy_id FROM lockstep.history ORDER BY id DESC LIMIT $1",
            Conn::Sqlite(_) => "SELECT version, name, direction, outcome, started_at, duration_ms, os_user, db_role, client_host, deploy_id FROM lockstep_history ORDER BY id DESC LIMIT $1",
        };
        let mut out = vec![];
        macro_rules! read {
            ($c:expr) => {{
                for r in sqlx::query(sql)
                    .bind(limit)
                    .fetch_all(&mut *$c)
                    .await
                    .map_err(err)?
                {
                    out.push(DeployRow {
                        version: r.try_get("version").map_err(err)?,
                        name: r.try_get("name").map_err(err)?,
                        direction: r.try_get("direction").map_err(err)?,
                        outcome: r.try_get("outcome").map_err(err)?,
                        started_at: r.try_get("started_at").map_err(err)?,
                        duration_ms: r.try_get("duration_ms").map_err(err)?,
                        os_user: r.try_get("os_user").map_err(err)?,
                        db_role: r.try_get("db_role").map_err(err)?,
                        client_host: r.try_get("client_host").map_err(err)?,
                        deploy_id: r.try_get("deploy_id").map_err(err)?,
                    });
                }
            }};
        }
        match &mut self.conn {
            Conn::Postgres(c) => read!(c),
            Conn::Sqlite(c) => read!(c),
            Conn::Mysql(_) => {}
        }
        Ok(out)
    }
}
