//! Environments side by side. Each difference names the odd one out: the environment
//! whose value differs from the most common one. An environment that cannot be reached
//! is a column with its error; the others are still compared.

use crate::error::Result;
use crate::Session;
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug)]
pub struct EnvFacts {
    pub env: String,
    /// Facts by "N name": N orders the rows.
    facts: BTreeMap<String, String>,
    pub drift: Vec<String>,
    /// Why drift could not be checked (the other facts are still shown).
    pub drift_error: Option<String>,
    pub error: Option<String>,
}

impl EnvFacts {
    pub fn facts(&self) -> BTreeMap<String, String> {
        self.facts
            .iter()
            .map(|(k, v)| (k[2..].to_string(), v.clone()))
            .collect()
    }
}

impl Serialize for EnvFacts {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("env", &self.env)?;
        match &self.error {
            Some(e) => m.serialize_entry("error", e)?,
            None => {
                m.serialize_entry("facts", &self.facts())?;
                m.serialize_entry("drift", &self.drift)?;
                if let Some(e) = &self.drift_error {
                    m.serialize_entry("drift_error", e)?;
                }
            }
        }
        m.end()
    }
}

#[derive(Debug, Serialize)]
pub struct Difference {
    pub fact: String,
    pub odd_one_out: String,
    pub value: String,
    pub others: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct ParityReport {
    pub environments: Vec<EnvFacts>,
    pub differences: Vec<Difference>,
    /// Fact rows (name, one value per environment), for tables.
    #[serde(skip)]
    pub rows: Vec<Row>,
}

#[derive(Debug)]
pub struct Row {
    pub fact: String,
    pub values: Vec<String>,
    /// Indexes of the environments that are odd for this fact.
    pub odd: Vec<usize>,
}

impl ParityReport {
    pub fn has_errors(&self) -> bool {
        self.environments.iter().any(|e| e.error.is_some())
    }
}

/// Indexes of the values that are not the most common one. None when all agree, and
/// none when no value is more common than another (two environments that differ, or
/// every value different): then nobody is "the odd one", they just differ.
pub fn odd_ones(values: &[String]) -> Vec<usize> {
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
        return vec![];
    }
    values
        .iter()
        .enumerate()
        .filter(|(_, v)| v != leaders[0])
        .map(|(i, _)| i)
        .collect()
}

async fn facts_of(s: &Session, t: Result<crate::Target>) -> Result<EnvFacts> {
    let mut t = t?;
    let env = t.env.clone();
    let env = env.as_str();
    let mut f = BTreeMap::new();
    {
        let h = t.effective_history();
        let st = t.state_of(&h);
        f.insert(
            "1 version".to_string(),
            st.current()
                .map(|v| v.to_string())
                .unwrap_or_else(|| "none".into()),
        );
        f.insert("2 pending".to_string(), st.pending.len().to_string());
    }
    let actual = t.actual().await?.clone();
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
    let (drift, drift_error) = match crate::drift::drift_of(s, &mut t, None).await {
        Ok(d) => (d.items.iter().map(|i| i.describe()).collect(), None),
        Err(e) => (vec![], Some(e.text())),
    };
    s.put_back(t, drift_error.is_none()).await;
    f.insert(
        "3 drift".to_string(),
        match &drift_error {
            None => format!("{} item(s)", drift.len()),
            Some(_) => "could not be checked".into(),
        },
    );
    Ok(EnvFacts {
        env: env.to_string(),
        facts: f,
        drift,
        drift_error,
        error: None,
    })
}

pub async fn parity(s: &Session, envs: &[String]) -> Result<ParityReport> {
    let unreachable = |env: String, e: crate::Error| EnvFacts {
        env,
        facts: BTreeMap::new(),
        drift: vec![],
        drift_error: None,
        error: Some(e.text()),
    };
    let mut all = vec![];
    for env in envs {
        s.events.stage(env, "parity");
        match &s.env(env)?.fleet {
            None => all.push(
                facts_of(s, s.open(env, false).await)
                    .await
                    .unwrap_or_else(|e| unreachable(env.clone(), e)),
            ),
            // A fleet's members are columns of their own.
            Some(f) => {
                let facts = crate::fleet::fan_out(&f.members, f.concurrency, |m| async move {
                    facts_of(s, s.open_member_reading(env, m).await).await
                })
                .await;
                s.close_idle().await;
                for (m, r) in facts {
                    all.push(r.unwrap_or_else(|e| unreachable(format!("{env}/{}", m.name), e)));
                }
            }
        }
    }
    let reachable: Vec<usize> = (0..all.len()).filter(|i| all[*i].error.is_none()).collect();
    let keys: BTreeSet<&String> = all.iter().flat_map(|f| f.facts.keys()).collect();
    let mut rows = vec![];
    for k in keys {
        let values: Vec<String> = all
            .iter()
            .map(|f| match &f.error {
                Some(_) => "unreachable".into(),
                None => f.facts.get(k).cloned().unwrap_or_else(|| "-".into()),
            })
            .collect();
        let fact = k[2..].to_string();
        // Drift has a right answer, zero, so every environment with drift is odd; other
        // facts are compared among the environments that could be read.
        let odd: Vec<usize> = if fact == "drift" {
            reachable
                .iter()
                .copied()
                .filter(|i| !values[*i].starts_with("0 "))
                .collect()
        } else {
            let vals: Vec<String> = reachable.iter().map(|i| values[*i].clone()).collect();
            odd_ones(&vals).into_iter().map(|j| reachable[j]).collect()
        };
        rows.push(Row { fact, values, odd });
    }
    let mut differences = vec![];
    for r in &rows {
        let differ = {
            let vals: BTreeSet<&String> = reachable.iter().map(|i| &r.values[*i]).collect();
            vals.len() > 1
        };
        if r.odd.is_empty() && differ {
            // They differ, but no one is the odd one out: report each value.
            for i in &reachable {
                differences.push(difference(&all, r, *i));
            }
        }
        for i in &r.odd {
            differences.push(difference(&all, r, *i));
        }
    }
    Ok(ParityReport {
        environments: all,
        differences,
        rows,
    })
}

fn difference(all: &[EnvFacts], r: &Row, i: usize) -> Difference {
    Difference {
        fact: r.fact.clone(),
        odd_one_out: all[i].env.clone(),
        value: r.values[i].clone(),
        others: all
            .iter()
            .zip(&r.values)
            .filter(|(e, _)| e.env != all[i].env && e.error.is_none())
            .map(|(e, v)| format!("{}={v}", e.env))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::odd_ones;

    #[test]
    fn the_odd_one_out_is_the_minority() {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(odd_ones(&v(&["1", "1", "2"])), vec![2]);
        assert!(odd_ones(&v(&["1", "1", "1"])).is_empty());
        // Two that differ: neither is "the odd one".
        assert!(odd_ones(&v(&["1", "2"])).is_empty());
    }
}
