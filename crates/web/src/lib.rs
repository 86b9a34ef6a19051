//! `lockstep serve`: a read-only status page and the contract's JSON API over the
//! engine's reports.
//!
//! Reports are computed in the background, every `refresh`, through one session that
//! lives as long as the server; a request only reads the bytes of the last computation.
//! So the databases see the same queries whether nobody looks or a whole company does,
//! and a slow or unreachable environment never makes a request wait.
//!
//! Security: GET (and HEAD) only, everything else is 405; loopback unless a token is
//! set, and with a token every request needs `Authorization: Bearer TOKEN`; every value
//! on the page is escaped by the template engine; a Content-Security-Policy allows
//! nothing but the page's own inline stylesheet; every body passes through
//! [`scrub::scrub`] so no password leaves the server.

pub mod page;
pub mod scrub;

use axum::body::{Body, Bytes};
use axum::extract::{Query, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use base64::Engine as _;
use lockstep_engine::{Config, Session};
use serde::Deserialize;
use sha2::Digest;
use std::collections::BTreeMap;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::{Arc, RwLock};
use std::time::Duration;

pub const DEFAULT_LISTEN: &str = "127.0.0.1:7800";
pub const DEFAULT_REFRESH: Duration = Duration::from_secs(60);

/// How many history rows per environment the page lists.
const RECENT: usize = 10;

#[derive(Debug, Clone)]
pub struct Options {
    /// `HOST:PORT`.
    pub listen: String,
    /// Required off loopback; an empty token counts as none.
    pub token: Option<String>,
    pub refresh: Duration,
    /// The environments shown, in this order.
    pub envs: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A complete message (what, where, hint).
    #[error("{0}")]
    Msg(String),
    #[error(transparent)]
    Engine(#[from] lockstep_engine::Error),
}

/// The addresses `listen` names, or an error when one is off loopback and there is no
/// token: the page shows every environment's schema to whoever can reach it.
pub fn listen_addrs(listen: &str, token: Option<&str>) -> Result<Vec<SocketAddr>, Error> {
    let addrs: Vec<SocketAddr> = listen
        .to_socket_addrs()
        .map_err(|e| {
            Error::Msg(format!(
                "`{listen}` is not an address to listen on: {e}\n  hint: give HOST:PORT, such as {DEFAULT_LISTEN}"
            ))
        })?
        .collect();
    if addrs.is_empty() {
        return Err(Error::Msg(format!(
            "`{listen}` names no address\n  hint: give HOST:PORT, such as {DEFAULT_LISTEN}"
        )));
    }
    if token.is_none_or(str::is_empty) {
        if let Some(open) = addrs.iter().find(|a| !a.ip().is_loopback()) {
            return Err(Error::Msg(format!(
                "refusing to listen on {listen} ({}) without a token: anyone who can reach it could read every environment's status and schema\n  hint: pass --token TOKEN or set LOCKSTEP_TOKEN (clients then send `Authorization: Bearer TOKEN`), or listen on 127.0.0.1",
                open.ip()
            )));
        }
    }
    Ok(addrs)
}

/// A response body computed once per read: status code and bytes.
#[derive(Clone)]
struct Doc {
    code: StatusCode,
    bytes: Bytes,
}

impl Doc {
    fn json(code: StatusCode, text: &str) -> Doc {
        Doc {
            code,
            bytes: Bytes::from(scrub::scrub(text)),
        }
    }
}

/// The last read, as the bytes every request gets.
struct Snapshot {
    ready: bool,
    page: Bytes,
    status: Doc,
    parity: Doc,
    drift: BTreeMap<String, Doc>,
    check: BTreeMap<String, Doc>,
}

struct Shared {
    snapshot: RwLock<Arc<Snapshot>>,
    token: Option<String>,
    csp: HeaderValue,
    envs: Vec<String>,
}

impl Shared {
    fn snap(&self) -> Arc<Snapshot> {
        self.snapshot
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

fn error_json(env: Option<&str>, error: &str, hint: Option<&str>) -> String {
    let mut m = serde_json::Map::new();
    if let Some(e) = env {
        m.insert("env".into(), e.into());
    }
    m.insert("error".into(), error.into());
    if let Some(h) = hint {
        m.insert("hint".into(), h.into());
    }
    let mut s = serde_json::to_string_pretty(&m).expect("a map serializes");
    s.push('\n');
    s
}

fn report_doc<T: serde::Serialize>(env: Option<&str>, r: &Result<T, String>) -> Doc {
    match r {
        Ok(r) => match lockstep_engine::json_text(r) {
            Ok(t) => Doc::json(StatusCode::OK, &t),
            Err(e) => Doc::json(
                StatusCode::INTERNAL_SERVER_ERROR,
                &error_json(env, &e.text(), None),
            ),
        },
        // The environment could not be read: the server is fine, the upstream is not.
        Err(e) => Doc::json(StatusCode::BAD_GATEWAY, &error_json(env, e, None)),
    }
}

impl Snapshot {
    fn loading(project: &str) -> Snapshot {
        let wait = Doc::json(
            StatusCode::SERVICE_UNAVAILABLE,
            &error_json(
                None,
                "the first read of the environments is still running",
                Some("try again in a moment"),
            ),
        );
        Snapshot {
            ready: false,
            page: Bytes::from(page::loading(project)),
            status: wait.clone(),
            parity: wait,
            drift: BTreeMap::new(),
            check: BTreeMap::new(),
        }
    }

    fn of(d: &page::Data) -> Snapshot {
        Snapshot {
            ready: true,
            page: Bytes::from(scrub::scrub(&page::page(d))),
            status: report_doc(None, &d.status),
            parity: report_doc(None, &d.parity),
            drift: d
                .drift
                .iter()
                .map(|(e, r)| (e.clone(), report_doc(Some(e), r)))
                .chain(
                    d.fleet_drift
                        .iter()
                        .map(|(e, r)| (e.clone(), report_doc(Some(e), r))),
                )
                .collect(),
            check: d
                .check
                .iter()
                .map(|(e, r)| (e.clone(), report_doc(Some(e), r)))
                .collect(),
        }
    }
}

/// Reads every report once, through `s`. An environment that cannot be reached is
/// tried once (by status) and then shown with that error, rather than timing out again
/// for each report.
async fn read(s: &Session, envs: &[String], refresh: Duration) -> page::Data {
    let started = std::time::Instant::now();
    let read_at = lockstep_engine::watch::now_rfc3339();
    let status = lockstep_engine::status::status(s, envs, None)
        .await
        .map_err(|e| e.text());
    let down: BTreeMap<String, String> = match &status {
        Ok(r) => r
            .environments
            .iter()
            .filter_map(|e| e.error.clone().map(|x| (e.env.clone(), x)))
            .collect(),
        Err(e) => envs.iter().map(|x| (x.clone(), e.clone())).collect(),
    };
    let parity = lockstep_engine::parity::parity(s, envs)
        .await
        .map_err(|e| e.text());
    let mut drift = BTreeMap::new();
    let mut check = BTreeMap::new();
    let mut recent = BTreeMap::new();
    let mut fleet_drift = BTreeMap::new();
    for env in envs {
        // A fleet is one row: its drift grouped across members; check and recent
        // deploys are per member, which the CLI gives with --member.
        if s.env(env).is_ok_and(|e| e.is_fleet()) {
            fleet_drift.insert(
                env.clone(),
                lockstep_engine::fleet::drift(s, env, None)
                    .await
                    .map_err(|e| e.text()),
            );
            continue;
        }
        if let Some(e) = down.get(env) {
            drift.insert(env.clone(), Err(e.clone()));
            check.insert(env.clone(), Err(e.clone()));
            recent.insert(env.clone(), Err(e.clone()));
            continue;
        }
        drift.insert(
            env.clone(),
            lockstep_engine::drift::drift(s, env, None, None)
                .await
                .map_err(|e| e.text()),
        );
        check.insert(
            env.clone(),
            lockstep_engine::check::check(s, env, None)
                .await
                .map_err(|e| e.text()),
        );
        recent.insert(
            env.clone(),
            lockstep_engine::recent::recent(s, env, RECENT)
                .await
                .map_err(|e| e.text()),
        );
    }
    page::Data {
        project: project_name(&s.config),
        read_at,
        took: started.elapsed(),
        refresh,
        envs: envs.to_vec(),
        status,
        parity,
        drift,
        fleet_drift,
        check,
        recent,
    }
}

fn project_name(c: &Config) -> String {
    c.dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| c.dir.display().to_string())
}

/// Reads every `refresh`, for as long as the server runs. The session lives across
/// reads (its replays are memoized); a changed migrations directory starts a new one.
async fn refresh_loop(mut session: Session, refresh: Duration, shared: Arc<Shared>) {
    let mut fp = lockstep_engine::watch::fingerprint(&session.config);
    loop {
        let started = tokio::time::Instant::now();
        let now_fp = lockstep_engine::watch::fingerprint(&session.config);
        if now_fp != fp {
            match Config::load(&session.config.path) {
                Ok(c) => {
                    session = Session::new(c, session.events.clone());
                    fp = now_fp;
                }
                Err(e) => session.events.warn(None, e.text()),
            }
        }
        let data = read(&session, &shared.envs, refresh).await;
        let snap = Arc::new(Snapshot::of(&data));
        *shared.snapshot.write().unwrap_or_else(|p| p.into_inner()) = snap;
        tokio::time::sleep_until(started + refresh).await;
    }
}

fn respond(code: StatusCode, content_type: &'static str, bytes: Bytes) -> Response {
    let mut r = Response::new(Body::from(bytes));
    *r.status_mut() = code;
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

const JSON: &str = "application/json";

fn doc(d: &Doc) -> Response {
    let mut r = respond(d.code, JSON, d.bytes.clone());
    if d.code == StatusCode::SERVICE_UNAVAILABLE {
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    r
}

async fn index(State(sh): State<Arc<Shared>>) -> Response {
    respond(
        StatusCode::OK,
        "text/html; charset=utf-8",
        sh.snap().page.clone(),
    )
}

async fn api_status(State(sh): State<Arc<Shared>>) -> Response {
    doc(&sh.snap().status)
}

async fn api_parity(State(sh): State<Arc<Shared>>) -> Response {
    doc(&sh.snap().parity)
}

#[derive(Deserialize)]
struct EnvQuery {
    env: Option<String>,
}

fn per_env(
    sh: &Shared,
    q: &EnvQuery,
    pick: impl Fn(&Snapshot) -> &BTreeMap<String, Doc>,
) -> Response {
    let snap = sh.snap();
    let Some(env) = q.env.as_deref() else {
        return doc(&Doc::json(
            StatusCode::BAD_REQUEST,
            &error_json(
                None,
                "which environment? the query has no env",
                Some(&format!("add ?env=NAME; known: {}", sh.envs.join(", "))),
            ),
        ));
    };
    if !sh.envs.iter().any(|e| e == env) {
        return doc(&Doc::json(
            StatusCode::NOT_FOUND,
            &error_json(
                Some(env),
                "no such environment",
                Some(&format!("known: {}", sh.envs.join(", "))),
            ),
        ));
    }
    if !snap.ready {
        return doc(&snap.status);
    }
    match pick(&snap).get(env) {
        Some(d) => doc(d),
        None => doc(&snap.status),
    }
}

async fn api_drift(State(sh): State<Arc<Shared>>, Query(q): Query<EnvQuery>) -> Response {
    per_env(&sh, &q, |s| &s.drift)
}

async fn api_check(State(sh): State<Arc<Shared>>, Query(q): Query<EnvQuery>) -> Response {
    per_env(&sh, &q, |s| &s.check)
}

/// Unknown paths: 404 for a read, 405 for anything that would change something.
async fn fallback(method: Method) -> Response {
    if method == Method::GET || method == Method::HEAD {
        respond(
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            Bytes::from_static(b"not found: this server has /, /api/status, /api/parity, /api/drift?env=E and /api/check?env=E\n"),
        )
    } else {
        let mut r = respond(
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain; charset=utf-8",
            Bytes::from_static(b"method not allowed: this server is read-only (GET)\n"),
        );
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        r
    }
}

/// Compares in time that does not depend on where the first difference is.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The token check, then the security headers on every response (401 and 405 included).
async fn guard(State(sh): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let mut r = match &sh.token {
        Some(t)
            if !req
                .headers()
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .is_some_and(|given| same(given.trim().as_bytes(), t.as_bytes())) =>
        {
            let mut r = respond(
                StatusCode::UNAUTHORIZED,
                "text/plain; charset=utf-8",
                Bytes::from_static(b"unauthorized: send Authorization: Bearer TOKEN\n"),
            );
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"lockstep\""),
            );
            r
        }
        _ => next.run(req).await,
    };
    let h = r.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, sh.csp.clone());
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// Nothing may load or run but the page's own inline stylesheet, named by its hash.
fn csp() -> HeaderValue {
    let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(page::STYLE));
    HeaderValue::from_str(&format!(
        "default-src 'none'; style-src 'sha256-{hash}'; img-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ))
    .expect("the policy is ASCII")
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/api/status", get(api_status))
        .route("/api/parity", get(api_parity))
        .route("/api/drift", get(api_drift))
        .route("/api/check", get(api_check))
        .fallback(fallback)
        .layer(middleware::from_fn_with_state(shared.clone(), guard))
        .with_state(shared)
}

/// Serves until the process ends. `ready` is told the address actually bound (the port
/// the system chose for `:0`) as soon as requests are accepted; the page says it is
/// reading until the first read is done.
pub async fn serve(
    session: Session,
    opts: Options,
    ready: impl FnOnce(SocketAddr),
) -> Result<(), Error> {
    let token = opts.token.filter(|t| !t.is_empty());
    let addrs = listen_addrs(&opts.listen, token.as_deref())?;
    for env in &opts.envs {
        session.env(env)?;
    }
    let listener = tokio::net::TcpListener::bind(&addrs[..])
        .await
        .map_err(|e| {
            Error::Msg(format!(
                "could not listen on {}: {e}\n  hint: choose another port with --listen HOST:PORT",
                opts.listen
            ))
        })?;
    let local = listener
        .local_addr()
        .map_err(|e| Error::Msg(format!("reading the address listened on: {e}")))?;
    let shared = Arc::new(Shared {
        snapshot: RwLock::new(Arc::new(Snapshot::loading(&project_name(&session.config)))),
        token,
        csp: csp(),
        envs: opts.envs.clone(),
    });
    let app = router(shared.clone());
    ready(local);
    let server = axum::serve(listener, app);
    tokio::select! {
        r = server => r.map_err(|e| Error::Msg(format!("serving on {local}: {e}"))),
        () = refresh_loop(session, opts.refresh, shared) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_needs_no_token_and_anything_else_does() {
        assert!(listen_addrs("127.0.0.1:0", None).is_ok());
        assert!(listen_addrs("[::1]:0", None).is_ok());
        let e = listen_addrs("0.0.0.0:0", None).unwrap_err().to_string();
        assert!(e.contains("without a token") && e.contains("hint:"), "{e}");
        assert!(listen_addrs("0.0.0.0:0", Some("")).is_err());
        assert!(listen_addrs("0.0.0.0:0", Some("t")).is_ok());
        let e = listen_addrs("nonsense", None).unwrap_err().to_string();
        assert!(e.contains("hint:"), "{e}");
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abc", b"abd"));
        assert!(!same(b"abc", b"abcd"));
    }
}
