//! The status page: one HTML document rendered from the last reports, with maud (which
//! escapes every value it is given), the stylesheet inline and no script. It refreshes
//! itself with a `<meta http-equiv="refresh">`, so it works without JavaScript.

use lockstep_engine::check::CheckReport;
use lockstep_engine::drift::DriftReport;
use lockstep_engine::fleet::FleetDriftReport;
use lockstep_engine::parity::ParityReport;
use lockstep_engine::recent::{DeployRow, RecentReport};
use lockstep_engine::status::{EnvStatus, FleetSummary, StatusReport};
use maud::{html, Markup, PreEscaped, DOCTYPE};
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;

pub const STYLE: &str = include_str!("style.css");

/// Everything one read of the environments produced.
pub struct Data {
    pub project: String,
    pub read_at: String,
    pub took: Duration,
    pub refresh: Duration,
    pub envs: Vec<String>,
    pub status: Result<StatusReport, String>,
    pub parity: Result<ParityReport, String>,
    pub drift: BTreeMap<String, Result<DriftReport, String>>,
    /// Fleets' drift, grouped across members.
    pub fleet_drift: BTreeMap<String, Result<FleetDriftReport, String>>,
    pub check: BTreeMap<String, Result<CheckReport, String>>,
    pub recent: BTreeMap<String, Result<RecentReport, String>>,
}

fn head(title: &str, refresh_secs: u64) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            meta http-equiv="refresh" content=(refresh_secs);
            meta name="referrer" content="no-referrer";
            title { (title) }
            style { (PreEscaped(STYLE)) }
        }
    }
}

/// The page before the first read has finished.
pub fn loading(project: &str) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(&format!("lockstep · {project}"), 2))
            body {
                header {
                    h1 { "lockstep · " (project) }
                    p.meta { "Reading the environments for the first time… this page reloads by itself." }
                }
            }
        }
    }
    .into_string()
}

/// Percent-encodes a query value (maud escapes for HTML, not for URLs).
fn query_value(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn secs(d: Duration) -> String {
    if d.as_secs() >= 120 && d.as_secs().is_multiple_of(60) {
        format!("{} min", d.as_secs() / 60)
    } else if d < Duration::from_secs(10) {
        format!("{:.1} s", d.as_secs_f64())
    } else {
        format!("{} s", d.as_secs())
    }
}

/// Who ran a history row: `os_user on client_host as db_role`, each part where known.
pub fn who(d: &DeployRow) -> String {
    let mut s = d
        .os_user
        .clone()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "unknown user".into());
    if let Some(h) = d.client_host.as_deref().filter(|h| !h.is_empty()) {
        s.push_str(&format!(" on {h}"));
    }
    if let Some(r) = d.db_role.as_deref().filter(|r| !r.is_empty()) {
        s.push_str(&format!(" as {r}"));
    }
    s
}

/// `role via application from client at time`, from an item's `author` where the audit
/// knows it.
fn author(item: &Value) -> Option<String> {
    let a = item.get("author")?;
    if a.is_null() {
        return None;
    }
    let field = |k: &str| a.get(k).and_then(Value::as_str).filter(|s| !s.is_empty());
    let mut s = field("role").unwrap_or("someone").to_string();
    if let Some(app) = field("application") {
        s.push_str(&format!(" via {app}"));
    }
    if let Some(c) = field("client") {
        s.push_str(&format!(" from {c}"));
    }
    if let Some(t) = field("at") {
        s.push_str(&format!(" at {t}"));
    }
    Some(s)
}

/// Facts each environment is the odd one out on, as parity marks them.
fn odd_facts(d: &Data) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    if let Ok(p) = &d.parity {
        for diff in &p.differences {
            let v = out.entry(diff.odd_one_out.clone()).or_default();
            if !v.contains(&diff.fact) {
                v.push(diff.fact.clone());
            }
        }
    }
    out
}

fn env_card(d: &Data, env: &str, st: Option<&EnvStatus>, odd: &[String]) -> Markup {
    let error = st
        .and_then(|s| s.error.clone())
        .or_else(|| d.status.as_ref().err().cloned());
    let state = st.and_then(|s| s.state.as_ref());
    let drift = d.drift.get(env);
    let check = d.check.get(env);
    let recent = d.recent.get(env);
    let drifted = matches!(drift, Some(Ok(r)) if !r.items.is_empty());
    let failing = matches!(check, Some(Ok(c)) if c.verdict != "pass");
    let mut class = String::from("env");
    if error.is_some() {
        class.push_str(" unreachable");
    } else if drifted {
        class.push_str(" drifted");
    } else if failing {
        class.push_str(" failing");
    }
    if !odd.is_empty() {
        class.push_str(" odd");
    }
    let is_odd = |fact: &str| odd.iter().any(|f| f == fact);
    html! {
        article class=(class) id={ "env-" (env) } {
            h3 {
                span.name { (env) }
                @if error.is_some() {
                    span.badge.warn { "unreachable" }
                } @else if drifted {
                    span.badge.bad { "drifted" }
                } @else {
                    span.badge.ok { "in step" }
                }
                @if !odd.is_empty() {
                    span.badge.odd title="parity: this environment differs from the others" {
                        "odd one out: " (odd.join(", "))
                    }
                }
            }
            @if let Some(s) = state {
                p.url { (s.url) }
            }
            @if let Some(e) = &error {
                p.error { "Could not be read: " (e) }
            }
            @if let Some(s) = state {
                dl {
                    dt { "version" }
                    dd class=[is_odd("version").then_some("odd")] {
                        (s.current.clone().unwrap_or_else(|| "none".into()))
                    }
                    dt { "pending" }
                    dd class=[is_odd("pending").then_some("odd")] {
                        @if s.pending_names.is_empty() {
                            "none"
                        } @else {
                            (s.pending_names.len()) ": "
                            @for (i, (v, n)) in s.pending_names.iter().enumerate() {
                                @if i > 0 { ", " }
                                span.mono { (v) "_" (n) }
                            }
                        }
                    }
                    dt { "drift" }
                    dd class=[is_odd("drift").then_some("odd")] {
                        @match drift {
                            Some(Ok(r)) => {
                                @if r.items.is_empty() { "none" }
                                @else { a href={ "#drift-" (env) } { (plural(r.items.len(), "item", "items")) } }
                            }
                            Some(Err(e)) => { span.error { "could not be checked: " (e) } }
                            None => { "not read" }
                        }
                    }
                    dt { "last deploy" }
                    dd {
                        @match recent.map(|r| r.as_ref().map(|r| r.last_applied())) {
                            Some(Ok(Some(last))) => {
                                (last.started_at) " by " (who(last))
                                br;
                                span.mono { (last.version) "_" (last.name) } " " (last.direction) ", " (last.outcome)
                            }
                            Some(Ok(None)) => { "never deployed by lockstep" }
                            Some(Err(e)) => { span.error { (e) } }
                            None => { "not read" }
                        }
                    }
                    dt { "check" }
                    dd {
                        @match check {
                            Some(Ok(c)) => {
                                @let failed: Vec<&str> = c.checks.iter().filter(|x| !x.ok).map(|x| x.name).collect();
                                span class={ "badge " (match c.verdict { "pass" => "ok", "fail" => "bad", _ => "warn" }) } { (c.verdict) }
                                @if !failed.is_empty() { " (" (failed.join(", ")) ")" }
                            }
                            Some(Err(e)) => { span.error { "could not run: " (e) } }
                            None => { "not run" }
                        }
                    }
                    @if !s.problems.is_empty() {
                        dt { "problems" }
                        dd { @for p in &s.problems { div.error { (p) } } }
                    }
                    @for f in odd.iter().filter(|f| !["version", "pending", "drift"].contains(&f.as_str())) {
                        dt { (f) }
                        dd.odd { (fact_value(d, env, f)) }
                    }
                }
            }
        }
    }
}

/// A fleet as one row: how its members spread over versions, how many drifted or could
/// not be read, and the members themselves behind a `<details>` (no script needed).
fn fleet_card(d: &Data, env: &str) -> Markup {
    let summary: Option<&FleetSummary> = d
        .status
        .as_ref()
        .ok()
        .and_then(|s| s.fleets.iter().find(|f| f.env == env));
    let prefix = format!("{env}/");
    let members: Vec<&EnvStatus> = match &d.status {
        Ok(s) => s
            .environments
            .iter()
            .filter(|e| e.env.starts_with(&prefix))
            .collect(),
        Err(_) => vec![],
    };
    let drift = d.fleet_drift.get(env);
    // Which drift group each member is in (1 is the largest).
    let group_of: BTreeMap<&str, usize> = match drift {
        Some(Ok(r)) => r
            .groups
            .iter()
            .enumerate()
            .flat_map(|(i, g)| g.members.iter().map(move |m| (m.as_str(), i + 1)))
            .collect(),
        _ => BTreeMap::new(),
    };
    let drifted = matches!(drift, Some(Ok(r)) if r.drifted() > 0);
    let unreachable = summary.map_or(0, |s| s.unreachable.len());
    let mut class = String::from("env fleet");
    if drifted {
        class.push_str(" drifted");
    } else if unreachable > 0 || d.status.is_err() {
        class.push_str(" unreachable");
    }
    html! {
        article class=(class) id={ "env-" (env) } {
            h3 {
                span.name { (env) }
                span.badge { "fleet" }
                @if drifted {
                    span.badge.bad { "drifted" }
                } @else if unreachable > 0 {
                    span.badge.warn { (unreachable) " unreachable" }
                } @else {
                    span.badge.ok { "in step" }
                }
            }
            @if let Err(e) = &d.status {
                p.error { "Could not be read: " (e) }
            }
            @if let Some(f) = summary {
                dl {
                    dt { "members" }
                    dd { (f.members) }
                    dt { "versions" }
                    dd {
                        @for (i, (v, n)) in f.versions.iter().enumerate() {
                            @if i > 0 { ", " }
                            span.mono { (v) } " × " (n)
                        }
                    }
                    dt { "pending" }
                    dd { @if f.pending == 0 { "none" } @else { (plural(f.pending, "member", "members")) } }
                    dt { "drift" }
                    dd {
                        @match drift {
                            Some(Ok(r)) if r.drifted() == 0 => { "none" }
                            Some(Ok(r)) => {
                                a href={ "#drift-" (env) } {
                                    (plural(r.drifted(), "member", "members")) " in "
                                    (plural(r.groups.len(), "group", "groups"))
                                }
                            }
                            Some(Err(e)) => { span.error { "could not be checked: " (e) } }
                            None => { "not read" }
                        }
                    }
                    @if !f.problems.is_empty() {
                        dt { "problems" }
                        dd.error { (f.problems.join(", ")) }
                    }
                    @if unreachable > 0 {
                        dt { "unreachable" }
                        dd.error { (f.unreachable.join(", ")) }
                    }
                }
            }
            details {
                summary { (plural(members.len(), "member", "members")) }
                div.scroll {
                    table {
                        thead { tr { th { "member" } th { "version" } th { "pending" } th { "drift" } } }
                        tbody {
                            @for m in &members {
                                @let name = &m.env[prefix.len()..];
                                tr {
                                    td { (name) }
                                    @if let Some(e) = &m.error {
                                        td colspan="3" { span.error { (e) } }
                                    } @else if let Some(st) = &m.state {
                                        td.mono { (st.current.clone().unwrap_or_else(|| "none".into())) }
                                        td { (st.pending.len()) }
                                        td {
                                            @match group_of.get(name) {
                                                Some(g) => { a href={ "#drift-" (env) "-" (g) } { "group " (g) } }
                                                None => { "none" }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn fact_value(d: &Data, env: &str, fact: &str) -> String {
    let Ok(p) = &d.parity else {
        return String::new();
    };
    p.differences
        .iter()
        .find(|x| x.odd_one_out == env && x.fact == fact)
        .map(|x| x.value.clone())
        .unwrap_or_default()
}

fn drift_section(d: &Data) -> Markup {
    html! {
        section aria-labelledby="drift-h" {
            h2 id="drift-h" { "Drift" }
            @for env in &d.envs {
                section.drift-env id={ "drift-" (env) } {
                    h3 { (env) }
                    @if let Some(f) = d.fleet_drift.get(env) {
                        (fleet_drift(env, f))
                    } @else {
                    @match d.drift.get(env) {
                        Some(Ok(r)) if r.items.is_empty() => {
                            p.none { "No drift: the live schema is what the applied migrations make (expected schema from " (r.expected_from) ")." }
                        }
                        Some(Ok(r)) => {
                            @let v = serde_json::to_value(r).unwrap_or(Value::Null);
                            @let items = v.get("items").and_then(Value::as_array).cloned().unwrap_or_default();
                            div.scroll {
                                table {
                                    thead { tr { th { "change" } th { "object" } th { "expected" } th { "actual" } th { "who" } th { "first seen" } } }
                                    tbody {
                                        @for (it, item) in r.items.iter().zip(&items) {
                                            tr {
                                                td { (it.change) " " (it.kind) }
                                                td { code { (it.object) } }
                                                td { code { (it.expected.clone().unwrap_or_default()) } }
                                                td { code { (it.actual.clone().unwrap_or_default()) } }
                                                td { (author(item).unwrap_or_else(|| "not recorded".into())) }
                                                td { (item.get("first_seen").and_then(Value::as_str).unwrap_or("")) }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                        Some(Err(e)) => { p.error { "Drift could not be checked: " (e) } }
                        None => { p.none { "Not read yet." } }
                    }
                    }
                }
            }
        }
    }
}

/// A fleet's drift: one table per group of members with identical drift.
fn fleet_drift(env: &str, r: &Result<FleetDriftReport, String>) -> Markup {
    html! {
        @match r {
            Ok(r) if r.groups.is_empty() => {
                p.none { "No drift on any of " (plural(r.clean.len(), "member", "members")) " read." }
            }
            Ok(r) => {
                @for (i, g) in r.groups.iter().enumerate() {
                    h4 id={ "drift-" (env) "-" (i + 1) } {
                        "Group " (i + 1) ": " (plural(g.members.len(), "member", "members"))
                    }
                    p.members { (g.members.join(", ")) }
                    div.scroll {
                        table {
                            thead { tr { th { "change" } th { "object" } th { "expected" } th { "actual" } } }
                            tbody {
                                @for it in &g.items {
                                    tr {
                                        td { (it.change) " " (it.kind) }
                                        td { code { (it.object) } }
                                        td { code { (it.expected.clone().unwrap_or_default()) } }
                                        td { code { (it.actual.clone().unwrap_or_default()) } }
                                    }
                                }
                            }
                        }
                    }
                }
                @if !r.clean.is_empty() {
                    p.none { (plural(r.clean.len(), "member", "members")) " without drift." }
                }
            }
            Err(e) => { p.error { "Drift could not be checked: " (e) } }
        }
        @if let Ok(r) = r {
            @for e in &r.errors {
                p.error { (e.member) ": " (e.error) }
            }
        }
    }
}

fn recent_section(d: &Data) -> Markup {
    let mut rows: Vec<(&str, &DeployRow)> = d
        .recent
        .iter()
        .filter_map(|(env, r)| r.as_ref().ok().map(|r| (env.as_str(), r)))
        .flat_map(|(env, r)| r.deploys.iter().map(move |x| (env, x)))
        .collect();
    rows.sort_by(|a, b| b.1.started_at.cmp(&a.1.started_at));
    rows.truncate(20);
    html! {
        section aria-labelledby="recent-h" {
            h2 id="recent-h" { "Recent deploys" }
            @if rows.is_empty() {
                p.none { "No deploys recorded yet." }
            } @else {
                div.scroll {
                    table {
                        thead { tr { th { "when" } th { "environment" } th { "migration" } th { "what" } th { "who" } th { "took" } } }
                        tbody {
                            @for (env, r) in &rows {
                                tr {
                                    td { (r.started_at) }
                                    td { (env) }
                                    td { code { (r.version) "_" (r.name) } }
                                    td { (r.direction) ", " (r.outcome) }
                                    td { (who(r)) }
                                    td { @if let Some(ms) = r.duration_ms { (format!("{:.1} s", ms as f64 / 1000.0)) } }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The page for one read.
pub fn page(d: &Data) -> String {
    let odd = odd_facts(d);
    let statuses: BTreeMap<&str, &EnvStatus> = match &d.status {
        Ok(s) => s.environments.iter().map(|e| (e.env.as_str(), e)).collect(),
        Err(_) => BTreeMap::new(),
    };
    let refresh = d.refresh.as_secs().max(1);
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(&format!("lockstep · {}", d.project), refresh))
            body {
                header {
                    h1 { "lockstep · " (d.project) }
                    p.meta {
                        "Read at " time datetime=(d.read_at) { (d.read_at) }
                        " (took " (secs(d.took)) "); read again every " (secs(d.refresh)) ". "
                        (plural(d.envs.len(), "environment", "environments")) "."
                    }
                }
                main {
                    section aria-labelledby="envs-h" {
                        h2 id="envs-h" { "Environments" }
                        div.envs {
                            @for env in &d.envs {
                                @if d.fleet_drift.contains_key(env) {
                                    (fleet_card(d, env))
                                } @else {
                                    (env_card(d, env, statuses.get(env.as_str()).copied(), odd.get(env).map(Vec::as_slice).unwrap_or(&[])))
                                }
                            }
                        }
                    }
                    section aria-labelledby="parity-h" {
                        h2 id="parity-h" { "Differences between environments" }
                        @match &d.parity {
                            Ok(p) if p.differences.is_empty() => { p.none { "None: every environment that could be read agrees." } }
                            Ok(p) => {
                                ul.differences {
                                    @for x in &p.differences {
                                        li {
                                            strong { (x.odd_one_out) } " is the odd one out on " (x.fact) ": "
                                            code { (x.value) }
                                            @if !x.others.is_empty() { " (" (x.others.join(", ")) ")" }
                                        }
                                    }
                                }
                            }
                            Err(e) => { p.error { "Parity could not be read: " (e) } }
                        }
                    }
                    (drift_section(d))
                    (recent_section(d))
                }
                footer {
                    "lockstep " (env!("CARGO_PKG_VERSION")) " · read-only · JSON: "
                    a href="api/status" { "status" } ", "
                    a href="api/parity" { "parity" } ", drift: "
                    @for (i, env) in d.envs.iter().enumerate() {
                        @if i > 0 { ", " }
                        a href={ "api/drift?env=" (query_value(env)) } { (env) }
                    }
                }
            }
        }
    }
    .into_string()
}
