//! A scratch copy of the environment's actual schema, drift included, with the pending
//! migrations applied the way `deploy` would. The environment itself is only read.

use crate::deploy::{step, who};
use crate::error::{Context, Result};
use crate::{fail, Session, Target};
use lockstep_core::diff::diff;
use lockstep_core::drift::DriftItem;
use lockstep_core::model::{Database, Dialect};
use lockstep_core::plan;
use lockstep_db::apply::{apply, ApplyError, Direction, LockWait, Step};
use lockstep_db::scratch::Scratch;
use lockstep_db::{Db, DbUrl};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct RehearseReport {
    pub env: String,
    /// How many migrations were pending.
    pub pending: usize,
    pub ok: bool,
    /// The failure for people: file:line, message, statement, cause.
    pub failure: Option<String>,
    /// The same failure as fields.
    pub error: Option<StatementFailure>,
    /// The drift item the failure collides with, numbered as `drift` numbers them.
    pub drift_item: Option<Blamed>,
    /// After a passing rehearsal: how the rehearsed schema differs from what the
    /// migrations alone produce (applied and pending, replayed). Empty means the pending
    /// migrations reconcile any drift. None when not asked for or not computable.
    #[serde(skip)]
    pub residual: Option<Vec<DriftItem>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StatementFailure {
    pub version: String,
    pub path: String,
    pub line: usize,
    pub statement: String,
    pub message: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Blamed {
    pub number: usize,
    pub item: DriftItem,
}

impl RehearseReport {
    /// The pending migrations apply, and leave exactly what the migrations say.
    pub fn adopts_drift(&self) -> bool {
        self.ok && self.residual.as_ref().is_some_and(|r| r.is_empty())
    }
}

/// The drift item whose object the failing statement or message names.
fn blame(items: &[DriftItem], statement: &str, message: &str) -> Option<Blamed> {
    let hay = format!("{statement} {message}").to_lowercase();
    let mentions = |name: &str| {
        let n = name.to_lowercase();
        hay.match_indices(&n).any(|(i, _)| {
            let before = hay[..i].chars().last();
            let after = hay[i + n.len()..].chars().next();
            let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
            !word(before) && !word(after)
        })
    };
    items.iter().enumerate().find_map(|(i, it)| {
        let parts: Vec<&str> = it.object.split('.').collect();
        let hit = match it.kind.as_str() {
            // schema.table.column: both the table and the column are named.
            "column" if parts.len() >= 3 => {
                mentions(parts[parts.len() - 1]) && mentions(parts[parts.len() - 2])
            }
            _ => parts.last().is_some_and(|n| mentions(n)),
        };
        hit.then(|| Blamed {
            number: i + 1,
            item: it.clone(),
        })
    })
}

/// The create script of a model: the plan from an empty database.
pub fn create_script(m: &Database) -> String {
    let empty = Database::empty(m.dialect);
    plan::plan(&diff(&empty, m), &empty, m).to_sql()
}

/// Rehearses on an opened target. `drift` explains a failure; `residual` asks whether
/// the pending migrations reconcile the drift (one more model, from the session's
/// replay).
pub async fn rehearse_of(
    s: &Session,
    t: &mut Target,
    with_data: bool,
    drift: Option<&[DriftItem]>,
    residual: bool,
) -> Result<RehearseReport> {
    let history = t.effective_history();
    let pending: Vec<Step> = {
        let st = t.state_of(&history);
        st.pending
            .iter()
            .map(|m| step(m, &t.migrations, Direction::Up))
            .collect()
    };
    let url = t.url.clone();
    let mut actual = t.actual().await?.clone();
    // A tenant is rehearsed in the schema its scratch work is confined to.
    let tenant = url.schema();
    if let Some(schema) = &tenant {
        crate::expected::move_schema(&mut actual, schema, crate::expected::TENANT_SCRATCH_SCHEMA)?;
    }

    // The scratch copy: a copied SQLite file with --with-data, otherwise the actual
    // schema's create script on a scratch database.
    // Only a copy of a SQLite file needs a folder; a kill cannot clean one up, so none
    // is made otherwise.
    let mut tmp: Option<tempfile::TempDir> = None;
    let mut scratch: Option<Scratch> = None;
    let mut db = if with_data && url.dialect() == Dialect::Sqlite {
        let tmp = tmp.insert(
            tempfile::Builder::new()
                .prefix("lockstep-rehearse-")
                .tempdir()
                .context("creating a temporary folder for the rehearsal")?,
        );
        let src = url.sqlite_path().unwrap_or_default();
        let copy = tmp.path().join("rehearsal.db");
        std::fs::copy(&src, &copy).with_context(|| format!("copying {src}"))?;
        Db::connect(
            &DbUrl::parse(&format!("sqlite://{}", copy.display()))?,
            false,
        )
        .await?
    } else {
        if with_data {
            fail!(
                "--with-data copies SQLite files only\n  hint: for PostgreSQL, restore a backup (pg_dump/pg_restore) into a database, add it as an environment, and rehearse against that one (see docs/drift.md)"
            );
        }
        let mut sc = Scratch::create(&t.scratch).await?;
        if let Err(e) = sc.build(&create_script(&actual)).await {
            sc.drop().await;
            fail!("could not build the scratch copy of {}: {e}", t.env);
        }
        let db = std::mem::replace(
            &mut sc.db,
            Db::connect(&DbUrl::parse("sqlite::memory:")?, true).await?,
        );
        scratch = Some(sc);
        db
    };
    let result = async {
        db.ensure_history().await?;
        let r = apply(
            &mut db,
            &who(),
            &pending,
            &[],
            &LockWait::default(),
            &mut |_, _, _, _| {},
            &mut |_| {},
        )
        .await;
        let after = match &r {
            Ok(()) => Some(db.inspect().await?),
            Err(_) => None,
        };
        Ok::<_, crate::Error>((r, after))
    }
    .await;
    db.close().await;
    if let Some(sc) = scratch {
        sc.drop().await;
    }
    drop(tmp);
    let (result, after) = result?;
    let mut report = RehearseReport {
        env: t.env.clone(),
        pending: pending.len(),
        ok: result.is_ok(),
        failure: None,
        error: None,
        drift_item: None,
        residual: None,
    };
    match result {
        Ok(()) => {
            if let (true, Some(mut after)) = (residual, after) {
                if let Some(schema) = &tenant {
                    crate::expected::move_schema(
                        &mut after,
                        crate::expected::TENANT_SCRATCH_SCHEMA,
                        schema,
                    )?;
                }
                let exp = s.expected_with_pending(t).await?;
                report.residual = exp
                    .after_pending
                    .map(|model| lockstep_core::drift::drift(&model, &after));
            }
        }
        Err(ApplyError::Statement {
            version,
            path,
            line,
            statement,
            message,
            ..
        }) => {
            let blamed = drift.and_then(|items| blame(items, &statement, &message));
            let mut failure = format!(
                "{path}:{line}: migration {version} fails: {message}\n  statement: {statement}"
            );
            if let Some(b) = &blamed {
                failure.push_str(&format!(
                    "\n  cause: {} (drift item {})",
                    b.item.describe(),
                    b.number
                ));
            }
            report.failure = Some(failure);
            report.error = Some(StatementFailure {
                version,
                path,
                line,
                statement,
                message,
            });
            report.drift_item = blamed;
        }
        Err(ApplyError::Db(e)) => return Err(e.into()),
    }
    Ok(report)
}

pub async fn rehearse(
    s: &Session,
    env: &str,
    member: Option<&str>,
    with_data: bool,
) -> Result<RehearseReport> {
    s.env(env)?;
    let mut t = s.open_in(env, member, false).await?;
    // Drift is computed only to explain a failure; a failure to compute it must not hide
    // the rehearsal's own result.
    let drift = crate::drift::drift_of(s, &mut t, None).await.ok();
    let r = rehearse_of(
        s,
        &mut t,
        with_data,
        drift.as_ref().map(|d| d.items.as_slice()),
        false,
    )
    .await;
    t.close().await;
    r
}
