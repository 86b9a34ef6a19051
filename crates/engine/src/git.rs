//! Which migrations are new or changed compared with a git base: what lint and impact
//! look at when no environment is named.

use crate::error::{Context, Result};
use crate::fail;
use crate::project::Migrations;
use lockstep_core::migrate::Migration;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

pub fn canon(p: &Path) -> PathBuf {
    p.canonicalize().unwrap_or_else(|_| p.to_path_buf())
}

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let o = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    o.status
        .success()
        .then(|| String::from_utf8_lossy(&o.stdout).trim().to_string())
}

/// The migrations whose up or down script is new or changed compared with the git base
/// (see [`changed_since_base`]), and that base; every migration, and `None`, outside git
/// or when no default branch is found.
pub fn since_base<'a>(
    m: &'a Migrations,
    base: Option<&str>,
) -> Result<(Vec<&'a Migration>, Option<String>)> {
    let Some((base, changed)) = changed_since_base(&m.dir, base)? else {
        return Ok((m.set.migrations.iter().collect(), None));
    };
    let pending = m
        .set
        .migrations
        .iter()
        .filter(|x| {
            std::iter::once(&x.up.path)
                .chain(x.down.as_ref().map(|d| &d.path))
                .any(|p| changed.contains(&canon(&m.dir.join(p))))
        })
        .collect();
    Ok((pending, Some(base)))
}

/// The files (canonical paths) new or changed in the working tree compared with where
/// the current branch left `base` (default: the default branch: `origin/HEAD`, else
/// `main`, `origin/main`, `master`, `origin/master`); untracked files count as new.
/// `None` outside a git repository, or when no default branch is found and no base is
/// given: then every migration counts.
fn changed_since_base(
    dir: &Path,
    base: Option<&str>,
) -> Result<Option<(String, BTreeSet<PathBuf>)>> {
    let Some(top) = git(dir, &["rev-parse", "--show-toplevel"]) else {
        if base.is_some() {
            fail!(
                "--base needs a git repository, and {} is not in one",
                dir.display()
            );
        }
        return Ok(None);
    };
    let base = match base {
        Some(b) => {
            git(dir, &["rev-parse", "--verify", "--quiet", &format!("{b}^{{commit}}")])
                .with_context(|| format!("--base {b}: no such commit, branch or tag\n  hint: name a branch such as main or origin/main"))?;
            b.to_string()
        }
        None => {
            let origin = git(
                dir,
                &[
                    "symbolic-ref",
                    "--quiet",
                    "--short",
                    "refs/remotes/origin/HEAD",
                ],
            );
            let found = origin
                .into_iter()
                .chain(["main", "origin/main", "master", "origin/master"].map(String::from))
                .find(|b| {
                    git(
                        dir,
                        &[
                            "rev-parse",
                            "--verify",
                            "--quiet",
                            &format!("{b}^{{commit}}"),
                        ],
                    )
                    .is_some()
                });
            match found {
                Some(b) => b,
                None => return Ok(None),
            }
        }
    };
    let Some(fork) = git(dir, &["merge-base", &base, "HEAD"]) else {
        return Ok(None);
    };
    let top = PathBuf::from(top);
    let mut out = BTreeSet::new();
    let diffs = git(dir, &["diff", "--name-only", "--no-renames", &fork]).unwrap_or_default();
    let untracked = git(
        dir,
        &[
            "ls-files",
            "--others",
            "--exclude-standard",
            "--full-name",
            ":/",
        ],
    )
    .unwrap_or_default();
    for rel in diffs.lines().chain(untracked.lines()) {
        if !rel.is_empty() {
            out.insert(canon(&top.join(rel)));
        }
    }
    Ok(Some((base, out)))
}
