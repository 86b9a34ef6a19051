//! Each command: parse arguments, call the engine, render its report, choose the exit
//! code. Nothing here computes a result of its own.

use crate::cli::{
    Args, ChangeArgs, Command, DiffFormat, Expected, InspectFormat, OutFormat, Resolve, Waved,
};
use crate::render::{self, json, out};
use crate::ui::{service_events, terminal_events};
use anyhow::{bail, Result};
use lockstep_engine::deploy::{self, DeployOptions, Destruction};
use lockstep_engine::expected::Mode;
use lockstep_engine::{Config, Session};
use std::io::IsTerminal;
use std::process::ExitCode;

const FINDINGS: u8 = 1;
const TROUBLE: u8 = 2;

fn code(c: u8) -> ExitCode {
    ExitCode::from(c)
}

/// Removes the progress bars before a report is printed.
fn clear_line() {
    crate::ui::clear();
}

fn session(config: Option<Config>) -> Result<Session> {
    match config {
        Some(c) => Ok(Session::new(c, terminal_events())),
        None => bail!(
            "no lockstep.toml found in this directory or a parent\n  hint: create one with `migrations = \"migrations\"` and an [env.NAME] url, or pass --config PATH"
        ),
    }
}

/// Asks on a terminal before statements that destroy data run.
fn confirm(d: &[Destruction]) -> bool {
    use std::io::Write;
    crate::ui::suspend(|| {
        let mut err = crate::ui::stderr();
        let _ = write!(err, "{}", render::deploy::confirm_prompt(d));
        let _ = err.flush();
        let mut line = String::new();
        if std::io::stdin().read_line(&mut line).is_err() {
            return false;
        }
        matches!(line.trim().to_ascii_lowercase().as_str(), "yes" | "y")
    })
}

fn interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

fn all_envs(s: &Session, named: &[String]) -> Result<Vec<String>> {
    let envs: Vec<String> = if named.is_empty() {
        s.config.envs.keys().cloned().collect()
    } else {
        named.to_vec()
    };
    if envs.is_empty() {
        bail!(
            "{} has no environments\n  hint: add an [env.NAME] section with a url",
            s.config.path.display()
        );
    }
    Ok(envs)
}

fn mode(e: Option<Expected>) -> Option<Mode> {
    e.map(|e| match e {
        Expected::Snapshot => Mode::Snapshot,
        Expected::Replay => Mode::Replay,
    })
}

pub async fn dispatch(args: Args) -> Result<ExitCode> {
    use crate::ui::Verbosity;
    crate::ui::set_verbosity(if args.verbose {
        Verbosity::Verbose
    } else if args.quiet {
        Verbosity::Quiet
    } else {
        Verbosity::Normal
    });
    // These work without (or before) a lockstep.toml.
    match &args.command {
        Command::Init { migrations } => return init(args.config.as_deref(), migrations.as_deref()),
        Command::Completions { shell } => {
            let mut cmd = <Args as clap::CommandFactory>::command();
            let mut buf = vec![];
            clap_complete::generate(*shell, &mut cmd, "lockstep", &mut buf);
            out(&String::from_utf8_lossy(&buf))?;
            return Ok(ExitCode::SUCCESS);
        }
        Command::Man { out_dir } => return man(out_dir.as_deref()),
        _ => {}
    }
    let config = Config::find(args.config.as_deref())?;
    match args.command {
        Command::Init { .. } | Command::Completions { .. } | Command::Man { .. } => {
            unreachable!("handled above")
        }
        Command::Inspect { source, format } => {
            let s = config.map(|c| Session::new(c, terminal_events()));
            let loaded = lockstep_engine::diff::inspect(s.as_ref(), &source).await?;
            match format {
                InspectFormat::Json => json(&loaded.model)?,
                InspectFormat::Sql => {
                    out(&lockstep_engine::rehearse::create_script(&loaded.model))?
                }
                InspectFormat::Text => out(&render::diff::summary(&loaded))?,
            }
            // The process ends next; freeing a model of 10,000 tables piece by piece
            // (a million allocations) took 50 ms of a 1.3 s inspection.
            std::mem::forget(loaded);
            Ok(ExitCode::SUCCESS)
        }
        Command::Diff {
            from,
            to,
            format,
            renames,
            allow_rebuild,
        } => {
            let s = config.map(|c| Session::new(c, terminal_events()));
            let opts = lockstep_engine::diff::DiffOptions {
                renames,
                allow_rebuild,
            };
            let r = lockstep_engine::diff::diff(s.as_ref(), &from, &to, &opts).await?;
            match format {
                DiffFormat::Json => json(&r.json())?,
                DiffFormat::Sql => {
                    if !r.identical() {
                        out(&r.plan.to_sql())?
                    }
                }
                DiffFormat::Text => out(&render::diff::text(&r))?,
            }
            Ok(if r.identical() {
                ExitCode::SUCCESS
            } else {
                code(FINDINGS)
            })
        }
        Command::Status {
            env,
            member,
            format,
        } => {
            let s = session(config)?;
            let envs = all_envs(&s, &env.into_iter().collect::<Vec<_>>())?;
            if member.is_some() && envs.len() != 1 {
                bail!("--member names a member of one fleet\n  hint: add --env FLEET");
            }
            let r = lockstep_engine::status::status(&s, &envs, member.as_deref()).await?;
            match format {
                OutFormat::Json => json(&r)?,
                OutFormat::Text => out(&render::status::text(&r))?,
            }
            Ok(if r.has_errors() {
                code(TROUBLE)
            } else if r.has_problems() {
                code(FINDINGS)
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Deploy {
            target: Waved { env, member, waves },
            to,
            resolve,
            change,
        } => {
            let s = session(config)?;
            let ask = |d: &[Destruction]| confirm(d);
            let o = DeployOptions {
                to,
                resolve: resolve.map(|r| match r {
                    Resolve::Done => deploy::Resolve::Done,
                    Resolve::Retry => deploy::Resolve::Retry,
                }),
                ..change_options(&change, &ask)
            };
            one_or_fleet(
                is_fleet(&s, &env, &member)?,
                lockstep_engine::fleet::deploy(&s, &env, &o, waves.as_deref()),
                deploy::deploy(&s, &env, member.as_deref(), &o),
                change.format,
                "deploy:",
            )
            .await
        }
        Command::Rollback {
            target: Waved { env, member, waves },
            to,
            change,
        } => {
            let s = session(config)?;
            let ask = |d: &[Destruction]| confirm(d);
            let o = change_options(&change, &ask);
            let fleet = lockstep_engine::fleet::rollback(&s, &env, &to, &o, waves.as_deref());
            let one = deploy::rollback(&s, &env, member.as_deref(), &to, &o);
            one_or_fleet(
                is_fleet(&s, &env, &member)?,
                fleet,
                one,
                change.format,
                "rollback:",
            )
            .await
        }
        Command::Baseline {
            env,
            member,
            to,
            no_verify,
            format,
        } => {
            let s = session(config)?;
            let o = lockstep_engine::baseline::BaselineOptions { to, no_verify };
            one_or_fleet(
                is_fleet(&s, &env, &member)?,
                lockstep_engine::fleet::baseline(&s, &env, &o),
                lockstep_engine::baseline::baseline(&s, &env, member.as_deref(), &o),
                format,
                "baseline:",
            )
            .await
        }
        Command::New { name } => {
            let s = session(config)?;
            let r = lockstep_engine::new::new(&s, &name)?;
            let mut text = String::new();
            for c in &r.created {
                text.push_str(&format!("created {c}\n"));
            }
            text.push_str(&format!("updated {}; commit it", r.sum));
            out(&text)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Hash { allow_applied } => {
            let s = session(config)?;
            let r = deploy::hash(&s, allow_applied).await?;
            if !r.written {
                let mut e = format!(
                    "lockstep: {} was not rewritten: these migrations changed after an environment applied them:\n",
                    r.path
                );
                for a in &r.applied_changed {
                    e.push_str(&format!("  {a}\n"));
                }
                e.push_str("  hint: restore them (git checkout) and put the change in a new migration (`lockstep new NAME`); for an edit that changes nothing (a comment), pass --allow-applied\n");
                render::err(&e)?;
                return Ok(code(FINDINGS));
            }
            out(&format!(
                "wrote {} ({} migrations); commit it",
                r.path, r.migrations
            ))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Lint {
            files,
            env,
            member,
            base,
            format,
        } => {
            let s = config.map(|c| Session::new(c, terminal_events()));
            let r = match &env {
                Some(env) => {
                    let Some(s) = &s else {
                        session(None)?;
                        unreachable!()
                    };
                    lockstep_engine::lint::lint_env(s, env, member.as_deref(), &files).await?
                }
                None => lockstep_engine::lint::lint_files(s.as_ref(), &files, base.as_deref())?,
            };
            render::lint::print(&r.findings, &r.inputs, format)?;
            Ok(if r.errors() > 0 {
                code(FINDINGS)
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Drift {
            env,
            member,
            expected,
            format,
        } => {
            let s = session(config)?;
            if is_fleet(&s, &env, &member)? {
                let r = lockstep_engine::fleet::drift(&s, &env, mode(expected)).await?;
                clear_line();
                match format {
                    OutFormat::Json => json(&r)?,
                    OutFormat::Text => out(&render::fleet::drift(&r))?,
                }
                return Ok(if !r.errors.is_empty() {
                    code(TROUBLE)
                } else if r.drifted() > 0 {
                    code(FINDINGS)
                } else {
                    ExitCode::SUCCESS
                });
            }
            let r =
                lockstep_engine::drift::drift(&s, &env, member.as_deref(), mode(expected)).await?;
            match format {
                OutFormat::Json => json(&r)?,
                OutFormat::Text => out(&render::drift::text(&r))?,
            }
            Ok(if r.is_clean() {
                ExitCode::SUCCESS
            } else {
                code(FINDINGS)
            })
        }
        Command::Audit { action } => {
            use crate::cli::AuditAction;
            let s = session(config)?;
            match action {
                AuditAction::Install { env, format } => {
                    let r = lockstep_engine::audit::install(&s, &env).await?;
                    clear_line();
                    match format {
                        OutFormat::Json => json(&r)?,
                        OutFormat::Text => out(&render::audit::install(&r))?,
                    }
                    Ok(if r.installed {
                        ExitCode::SUCCESS
                    } else {
                        code(FINDINGS)
                    })
                }
                AuditAction::Uninstall { env, format } => {
                    let r = lockstep_engine::audit::uninstall(&s, &env).await?;
                    clear_line();
                    match format {
                        OutFormat::Json => json(&r)?,
                        OutFormat::Text => out(&render::audit::uninstall(&r))?,
                    }
                    Ok(ExitCode::SUCCESS)
                }
                AuditAction::Log { env, since, format } => {
                    let within = since
                        .map(|d| lockstep_engine::config::parse_duration(&d))
                        .transpose()
                        .map_err(|e| anyhow::anyhow!("--since: {e}"))?;
                    let r = lockstep_engine::audit::log(&s, &env, within).await?;
                    clear_line();
                    match format {
                        OutFormat::Json => json(&r)?,
                        OutFormat::Text => out(&render::audit::log(&r))?,
                    }
                    Ok(ExitCode::SUCCESS)
                }
            }
        }
        Command::Demo { dir } => crate::demo::run(dir.as_deref()).await,
        Command::Impact {
            env,
            member,
            base,
            format,
        } => {
            let s = session(config)?;
            let r = match &env {
                Some(e) => lockstep_engine::impact::impact_env(&s, e, member.as_deref()).await?,
                None => lockstep_engine::impact::impact_base(&s, base.as_deref())?,
            };
            match format {
                OutFormat::Json => json(&r)?,
                OutFormat::Text => out(&render::impact::text(&r))?,
            }
            Ok(if r.high_confidence() > 0 {
                code(FINDINGS)
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Check {
            env,
            member,
            format,
        } => {
            let s = session(config)?;
            if is_fleet(&s, &env, &member)? {
                let r = lockstep_engine::fleet::check(&s, &env).await?;
                clear_line();
                match format {
                    OutFormat::Json => json(&r)?,
                    OutFormat::Text => out(&render::fleet::check(&r))?,
                }
                return Ok(verdict_code(r.verdict));
            }
            let r = lockstep_engine::check::check(&s, &env, member.as_deref()).await?;
            clear_line();
            match format {
                OutFormat::Json => json(&r)?,
                OutFormat::Text => out(&render::check::text(&r))?,
            }
            Ok(verdict_code(r.verdict))
        }
        Command::Parity { envs, format } => {
            let s = session(config)?;
            let envs = all_envs(&s, &envs)?;
            let r = lockstep_engine::parity::parity(&s, &envs).await?;
            clear_line();
            match format {
                OutFormat::Json => json(&r)?,
                OutFormat::Text => out(&render::parity::text(&r))?,
            }
            Ok(if r.has_errors() {
                code(TROUBLE)
            } else if !r.differences.is_empty() {
                code(FINDINGS)
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Rehearse {
            env,
            member,
            with_data,
            format,
        } => {
            let s = session(config)?;
            let r =
                lockstep_engine::rehearse::rehearse(&s, &env, member.as_deref(), with_data).await?;
            match format {
                OutFormat::Json => json(&r)?,
                OutFormat::Text => out(&render::rehearse::text(&r))?,
            }
            Ok(if r.ok {
                ExitCode::SUCCESS
            } else {
                code(FINDINGS)
            })
        }
        Command::Serve {
            listen,
            token,
            refresh,
            envs,
        } => {
            let s = session(config)?;
            let s = Session::new(s.config, service_events());
            let envs = all_envs(&s, &envs)?;
            let refresh = lockstep_engine::config::parse_duration(&refresh)
                .map_err(|e| anyhow::anyhow!("--refresh: {e}"))?;
            let opts = lockstep_web::Options {
                listen,
                token,
                refresh,
                envs,
            };
            let serve = lockstep_web::serve(s, opts, |addr| {
                let _ = out(&format!("serving http://{addr}/ (Ctrl-C stops)"));
            });
            tokio::select! {
                r = serve => r?,
                _ = tokio::signal::ctrl_c() => {}
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Watch {
            envs,
            interval,
            webhooks,
            slack,
            once,
            format,
        } => {
            use lockstep_engine::watch;
            let s = session(config)?;
            let s = Session::new(s.config, service_events());
            let envs = all_envs(&s, &envs)?;
            let interval = interval
                .map(|i| lockstep_engine::config::parse_duration(&i))
                .transpose()
                .map_err(|e| anyhow::anyhow!("--interval: {e}"))?;
            let extra = webhooks
                .into_iter()
                .map(|url| lockstep_engine::config::WebhookConfig { url, slack })
                .collect();
            let opts = watch::Options::resolve(&s.config, envs, interval, extra)?;
            let mut w = watch::Watcher::new(s, opts)?;
            let unchecked = std::cell::Cell::new(false);
            let run = watch::run(&mut w, once, |t| {
                for a in &t.announcements {
                    let line = match format {
                        OutFormat::Json => serde_json::to_string(a).unwrap_or_default(),
                        OutFormat::Text => a.line(),
                    };
                    let _ = out(&line);
                }
                // A watch says it once; a single check says it every time.
                for (env, e) in if once { &t.errors } else { &t.unchecked } {
                    crate::ui::say(&format!(
                        "{env} could not be checked: {}",
                        render::indent_rest(e, "  ")
                    ));
                }
                for env in &t.recovered {
                    crate::ui::say(&format!("{env} can be checked again"));
                }
                unchecked.set(!t.errors.is_empty());
            });
            tokio::select! {
                r = run => r?,
                _ = tokio::signal::ctrl_c() => {}
            }
            Ok(if once && unchecked.get() {
                code(TROUBLE)
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Snapshot { to, env } => {
            let s = session(config)?;
            let r = lockstep_engine::snapshot::snapshot(&s, to.as_deref(), env.as_deref()).await?;
            out(&format!(
                "wrote {} ({} migrations replayed); commit it",
                r.path, r.replayed
            ))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Whether `env` is a fleet worked on as a whole (no `--member`).
fn is_fleet(s: &Session, env: &str, member: &Option<String>) -> Result<bool> {
    Ok(member.is_none() && s.env(env)?.is_fleet())
}

fn verdict_code(verdict: &str) -> ExitCode {
    match verdict {
        "pass" => ExitCode::SUCCESS,
        "fail" => code(FINDINGS),
        _ => code(TROUBLE),
    }
}

/// What deploy and rollback take from their shared flags; on a terminal, steps that
/// destroy data are confirmed with `ask`.
fn change_options<'a>(c: &ChangeArgs, ask: deploy::Confirm<'a>) -> DeployOptions<'a> {
    DeployOptions {
        lock: c.lock.wait(),
        dry_run: c.dry_run,
        allow_drift: c.allow_drift,
        yes: c.yes,
        confirm: interactive().then_some(ask),
        ..Default::default()
    }
}

/// Deploy, rollback and baseline run on a whole fleet or on one target; both futures are
/// lazy, so only the one that applies ever runs.
async fn one_or_fleet(
    fleet: bool,
    on_fleet: impl std::future::Future<
        Output = lockstep_engine::Result<lockstep_engine::fleet::FleetDeployReport>,
    >,
    on_one: impl std::future::Future<Output = lockstep_engine::Result<deploy::DeployReport>>,
    format: OutFormat,
    verb: &str,
) -> Result<ExitCode> {
    if fleet {
        let r = on_fleet.await?;
        clear_line();
        return fleet_result(&r, format, verb);
    }
    let r = on_one.await?;
    clear_line();
    deploy_result(&r, format)
}

fn fleet_result(
    r: &lockstep_engine::fleet::FleetDeployReport,
    format: OutFormat,
    verb: &str,
) -> Result<ExitCode> {
    match format {
        OutFormat::Json => json(r)?,
        OutFormat::Text => out(&render::fleet::deploy(r, verb))?,
    }
    Ok(if r.ok() {
        ExitCode::SUCCESS
    } else {
        code(FINDINGS)
    })
}

fn deploy_result(r: &deploy::DeployReport, format: OutFormat) -> Result<ExitCode> {
    match format {
        OutFormat::Json => json(r)?,
        OutFormat::Text => {
            let (o, e) = render::deploy::text(r);
            if !e.is_empty() {
                render::err(&e)?;
            }
            if !o.is_empty() {
                out(&o)?;
            }
        }
    }
    Ok(if r.ok() {
        ExitCode::SUCCESS
    } else {
        code(FINDINGS)
    })
}

/// `lockstep init`: the engine finds the migrations and writes the file; this says what
/// it wrote and what to do next.
fn init(
    config: Option<&std::path::Path>,
    migrations: Option<&std::path::Path>,
) -> Result<ExitCode> {
    let cwd = std::env::current_dir()?;
    let path = config
        .map(std::path::Path::to_path_buf)
        .unwrap_or_else(|| cwd.join(lockstep_engine::config::FILE_NAME));
    let r = lockstep_engine::init::init(&cwd, &path, migrations)?;
    out(&render::init::text(&r))?;
    Ok(ExitCode::SUCCESS)
}

/// `lockstep man`: lockstep.1 on stdout, or one page per command in a directory.
fn man(out_dir: Option<&std::path::Path>) -> Result<ExitCode> {
    let cmd = <Args as clap::CommandFactory>::command();
    match out_dir {
        None => {
            let mut buf = vec![];
            clap_mangen::Man::new(cmd).render(&mut buf)?;
            out(&String::from_utf8_lossy(&buf))?;
        }
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|e| {
                anyhow::anyhow!(
                    "creating {}: {e}\n  hint: choose a directory you can write (--out-dir DIR)",
                    dir.display()
                )
            })?;
            clap_mangen::generate_to(cmd, dir)?;
            out(&format!("wrote the man pages into {}", dir.display()))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
