//! `lockstep parity [ENV ...]`: environments side by side. Each difference names the odd
//! one out: the environment whose value differs from the most common one.

use crate::cli::OutFormat;
use crate::config::Config;
use crate::project;
use anyhow::Result;
use lockstep_core::migrate::state;
use std::collections::BTreeMap;
use std::process::ExitCode;

struct Row {
    fact: String,
    values: Vec<String>,
}

/// Indexes of the environments whose value is not the most common one. None when all
/// agree; all of them when every value is different.
fn odd_ones(values: &[String]) -> Vec<usize> {
    let mut counts: BTreeMap<&String, usize> = BTreeMap::new();
    for v in values {
        *counts.entry(v).or_default() += 1;
    }
    if counts.len() <= 1 {
        return vec![];
    }
    let max = counts.values().copied().max().unwrap_or(0);
    let leaders: Vec<&&String> = counts
        .iter()
        .filter(|(_, c)| **c == max)
        .map(|(v, _)| v)
        .collect();
    if leaders.len() > 1 {
        return (0..values.len()).collect();
    }
    values
        .iter()
        .enumerate()
        .filter(|(_, v)| v != leaders[0])
        .map(|(i, _)| i)
        .collect()
}

pub async fn run(config: Option<&Config>, envs: &[String], format: OutFormat) -> Result<ExitCode> {
    let config = project::require_config(config)?;
    let names: Vec<String> = if envs.is_empty() {
        config.envs.keys().cloned().collect()
    } else {
        envs.to_vec()
    };
    for n in &names {
        project::env(config, n)?;
    }
    let mut rows: Vec<Row> = vec![];
    let mut drift_lists: Vec<Vec<String>> = vec![];
    let mut facts: Vec<BTreeMap<String, String>> = vec![];
    for n in &names {
        let mut o = super::deploy::open(config, n, false).await?;
        let history = o.effective_history();
        let st = state::state(&o.migrations.set, &history, &o.progress);
        let actual = o.db.inspect().await?;
        let mut f = BTreeMap::new();
        f.insert(
            "1 version".to_string(),
            st.current()
                .map(|v| v.to_string())
                .unwrap_or_else(|| "none".into()),
        );
        f.insert("2 pending".to_string(), st.pending.len().to_string());
        f.insert(
            "4 engine".to_string(),
            format!(
                "{} {}",
                actual.env.engine,
                actual.env.version.split(' ').next().unwrap_or("")
            ),
        );
        for (name, e) in &actual.extensions {
            f.insert(format!("5 extension {name}"), e.version.clone());
        }
        for (k, v) in &actual.env.settings {
            f.insert(format!("6 setting {k}"), v.clone());
        }
        for (rname, r) in &actual.roles {
            f.insert(
                format!("7 role {rname}"),
                if r.login {
                    "login".into()
                } else {
                    "no login".into()
                },
            );
        }
        let exp = crate::expected::expected(config, n, &o, None).await;
        o.db.close().await;
        let list: Vec<String> = match exp {
            Ok(e) => lockstep_core::drift::drift(&e.model, &actual)
                .iter()
                .map(|i| i.describe())
                .collect(),
            Err(e) => vec![format!("drift could not be checked: {e:#}")],
        };
        f.insert("3 drift".to_string(), format!("{} item(s)", list.len()));
        drift_lists.push(list);
        facts.push(f);
    }
    let keys: std::collections::BTreeSet<&String> = facts.iter().flat_map(|f| f.keys()).collect();
    for k in keys {
        rows.push(Row {
            fact: k[2..].to_string(),
            values: facts
                .iter()
                .map(|f| f.get(k).cloned().unwrap_or_else(|| "-".into()))
                .collect(),
        });
    }
    // Drift has a right answer, zero, so every environment with drift is odd.
    let odd_for = |r: &Row| -> Vec<usize> {
        if r.fact == "drift" {
            r.values
                .iter()
                .enumerate()
                .filter(|(_, v)| !v.starts_with("0 "))
                .map(|(i, _)| i)
                .collect()
        } else {
            odd_ones(&r.values)
        }
    };
    let mut differences = vec![];
    for r in &rows {
        let odd = odd_for(r);
        if !odd.is_empty() {
            for i in odd {
                differences.push(serde_json::json!({
                    "fact": r.fact,
                    "odd_one_out": names[i],
                    "value": r.values[i],
                    "others": names.iter().zip(&r.values).filter(|(n, _)| **n != names[i]).map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>(),
                }));
            }
        }
    }
    if format == OutFormat::Json {
        let envs_json: Vec<_> = names
            .iter()
            .zip(&facts)
            .zip(&drift_lists)
            .map(|((n, f), d)| {
                let facts: BTreeMap<String, String> = f
                    .iter()
                    .map(|(k, v)| (k[2..].to_string(), v.clone()))
                    .collect();
                serde_json::json!({"env": n, "facts": facts, "drift": d})
            })
            .collect();
        super::out(&serde_json::to_string_pretty(&serde_json::json!({
            "environments": envs_json,
            "differences": differences,
        }))?)?;
    } else {
        let w0 = rows.iter().map(|r| r.fact.len()).max().unwrap_or(4).max(4);
        let widths: Vec<usize> = (0..names.len())
            .map(|i| {
                rows.iter()
                    .map(|r| r.values[i].len())
                    .chain([names[i].len()])
                    .max()
                    .unwrap_or(4)
            })
            .collect();
        let mut s = format!("{:<w0$}", "");
        for (n, w) in names.iter().zip(&widths) {
            s.push_str(&format!("  {n:<w$}"));
        }
        s.push('\n');
        for r in &rows {
            let odd = odd_for(r);
            s.push_str(&format!("{:<w0$}", r.fact));
            for (i, (v, w)) in r.values.iter().zip(&widths).enumerate() {
                let mark = if odd.contains(&i) { "*" } else { " " };
                s.push_str(&format!(" {mark}{v:<w$}"));
            }
            s.push('\n');
        }
        s.push_str("(* marks the odd one out)\n");
        for (n, d) in names.iter().zip(&drift_lists) {
            for (i, item) in d.iter().enumerate() {
                s.push_str(&format!("{n}: drift {}. {item}\n", i + 1));
            }
        }
        super::out(&s)?;
    }
    Ok(if differences.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

#[cfg(test)]
mod tests {
    use super::odd_ones;

    #[test]
    fn the_odd_one_out_is_the_minority() {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(odd_ones(&v(&["1", "1", "2"])), vec![2]);
        assert!(odd_ones(&v(&["1", "1", "1"])).is_empty());
        assert_eq!(odd_ones(&v(&["1", "2"])), vec![0, 1]);
    }
}
