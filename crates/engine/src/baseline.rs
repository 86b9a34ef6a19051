//! `baseline`: records every migration up to a version as applied without running it,
//! for a database built before lockstep (by hand, or by a tool lockstep does not read).
//! Unlike other tools' baselines, it first proves the claim: the live schema must equal
//! the migrations replayed up to that version.

use crate::deploy::{who, DeployReport, Direction, Outcome};
use crate::error::Result;
use crate::{Session, Target};
use lockstep_core::drift::drift as compare;
use lockstep_core::migrate::{Migration, Version};

pub struct BaselineOptions {
    pub to: String,
    /// Skip the proof (the database is known to match).
    pub no_verify: bool,
}

pub async fn baseline(
    s: &Session,
    env: &str,
    member: Option<&str>,
    o: &BaselineOptions,
) -> Result<DeployReport> {
    s.env(env)?;
    let mut t = s.open_in(env, member, false).await?;
    let r = baseline_target(s, &mut t, o).await;
    t.close().await;
    r
}

pub async fn baseline_target(
    s: &Session,
    t: &mut Target,
    o: &BaselineOptions,
) -> Result<DeployReport> {
    let m = s.migrations()?;
    let to: Version = crate::parse_version(&o.to)?;
    crate::require_known_version(&m, &to)?;
    let mut report = DeployReport::start(t, Direction::Up, true);
    let migrations = t.migrations.clone();
    let applied: Vec<&Migration> = migrations
        .set
        .migrations
        .iter()
        .filter(|x| x.version <= to)
        .collect();
    if !t.history.is_empty() {
        let h = t.effective_history();
        let st = t.state_of(&h);
        let newest = st.current().map(|v| v.to_string());
        let same = st.applied.len() == applied.len()
            && applied.iter().all(|x| st.applied.contains(&x.version));
        report.outcome = if same {
            Outcome::UpToDate {
                current: newest.unwrap_or_else(|| "none".into()),
            }
        } else {
            Outcome::Refused {
                problems: vec![format!(
                    "{} already has lockstep history (at version {}); baseline is for a database built without lockstep\n  hint: `lockstep status --env {}` shows what is applied; deploy what is pending",
                    t.env,
                    newest.as_deref().unwrap_or("none"),
                    t.env
                )],
            }
        };
        return Ok(report);
    }
    if !o.no_verify {
        let r = s.replay(t, &migrations, &applied, &[]).await?;
        let actual = t.actual().await?;
        let items = compare(&r.model, actual);
        if !items.is_empty() {
            let mut problems: Vec<String> = items
                .iter()
                .enumerate()
                .map(|(i, it)| format!("drift item {}: {}", i + 1, it.describe()))
                .collect();
            problems.push(format!(
                "{} is not what the migrations up to {to} make ({} difference(s)); nothing was recorded\n  hint: find the version it matches (`lockstep diff {} @VERSION`), fix the differences, or pass --no-verify if you are sure",
                t.env,
                items.len(),
                t.env
            ));
            report.outcome = Outcome::Refused { problems };
            return Ok(report);
        }
    }
    let rows: Vec<lockstep_db::history::Applied> = applied
        .iter()
        .map(|x| lockstep_db::history::Applied {
            version: x.version.clone(),
            name: x.name.clone(),
            checksum: x.checksum.clone(),
            code_checksum: x.code_checksum.clone(),
        })
        .collect();
    let started = std::time::Instant::now();
    crate::deploy::lock_target(s, t).await?;
    let who = who();
    let r = async {
        t.db.mark_deploy(&who.deploy_id).await?;
        t.db.ensure_history().await?;
        t.db.baseline(&who, &rows).await
    }
    .await;
    t.db.unlock().await;
    r?;
    s.events.note(
        Some(&t.env),
        format!(
            "recorded {} migration(s) up to {to} as baselined on {}: they were not run",
            rows.len(),
            t.env
        ),
    );
    report.outcome = Outcome::Applied {
        versions: rows.iter().map(|r| r.version.to_string()).collect(),
        current: to.to_string(),
        seconds: started.elapsed().as_secs_f64(),
    };
    Ok(report)
}
