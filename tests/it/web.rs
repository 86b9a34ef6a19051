//! `lockstep serve`: the status page and its JSON API, started as the binary on a free
//! loopback port and spoken to over real HTTP (and, for the page, by a real browser).

use crate::cli::lockstep;
use crate::harness::Project;
use crate::support::{require_services, TestPg};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// A running `lockstep serve`, killed when dropped.
pub struct Server {
    child: Child,
    pub addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP response.
pub struct Resp {
    pub code: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl Server {
    /// Starts `lockstep serve --listen 127.0.0.1:0` (plus `args`) in `dir` and waits for
    /// the line that names the port.
    pub fn start(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Server {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_lockstep"));
        cmd.arg("serve");
        if !args.contains(&"--listen") {
            cmd.args(["--listen", "127.0.0.1:0"]);
        }
        cmd.args(args)
            .current_dir(dir)
            .env_remove("LOCKSTEP_TOKEN")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("start lockstep serve");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .split("http://")
            .nth(1)
            .and_then(|r| r.split('/').next())
            .unwrap_or_else(|| panic!("no address in {line:?}"))
            .to_string();
        Server { child, addr }
    }

    /// A request with optional extra headers.
    pub fn req(&self, method: &str, path: &str, headers: &[(&str, &str)]) -> Resp {
        http(&self.addr, method, path, headers)
    }

    pub fn get(&self, path: &str) -> Resp {
        self.req("GET", path, &[])
    }

    /// Waits until the first read is done (the API answers 200).
    pub fn wait_ready(&self, headers: &[(&str, &str)]) {
        let deadline = Instant::now() + Duration::from_secs(180);
        loop {
            let r = self.req("GET", "/api/status", headers);
            if r.code == 200 {
                return;
            }
            assert_eq!(r.code, 503, "{}", r.text());
            assert!(
                Instant::now() < deadline,
                "serve never finished its first read"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// A minimal HTTP/1.1 client (one request per connection), so the test depends on
/// nothing but std.
pub fn http(addr: &str, method: &str, path: &str, headers: &[(&str, &str)]) -> Resp {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if method != "GET" && method != "HEAD" {
        req.push_str("Content-Length: 0\r\n");
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = vec![];
    s.read_to_end(&mut raw).unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a header block");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut body = raw[split + 4..].to_vec();
    let mut lines = head.lines();
    let code: u16 = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    if headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"))
    {
        body = dechunk(&body);
    }
    Resp {
        code,
        headers,
        body,
    }
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = vec![];
    loop {
        let nl = b.windows(2).position(|w| w == b"\r\n").unwrap();
        let n = usize::from_str_radix(std::str::from_utf8(&b[..nl]).unwrap().trim(), 16).unwrap();
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&b[nl + 2..nl + 2 + n]);
        b = &b[nl + 4 + n..];
    }
}

fn demo(tmp: &Path) -> PathBuf {
    let o = lockstep(&["demo", "shop"], tmp);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    tmp.join("shop")
}

/// The CLI's stdout for `args`.
fn cli(dir: &Path, args: &[&str]) -> Vec<u8> {
    let o = lockstep(args, dir);
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o.stdout
}

#[test]
fn serve_demo_page_and_api_equal_the_cli() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = demo(tmp.path());
    let srv = Server::start(&dir, &[], &[]);
    srv.wait_ready(&[]);

    let page = srv.get("/");
    assert_eq!(page.code, 200);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let csp = page.header("content-security-policy").unwrap_or_default();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    let html = page.text();
    for env in ["dev", "qa", "prod"] {
        assert!(html.contains(&format!("id=\"env-{env}\"")), "{env}: {html}");
    }
    assert!(html.contains("main.orders.segment"), "{html}");
    assert!(html.contains("Read at "), "{html}");
    assert!(!html.contains("<script"), "no script is needed: {html}");
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no outside assets"
    );

    // The API is the CLI's JSON, byte for byte.
    for (path, args) in [
        ("/api/status", vec!["status", "--format", "json"]),
        ("/api/parity", vec!["parity", "--format", "json"]),
        (
            "/api/drift?env=prod",
            vec!["drift", "--env", "prod", "--format", "json"],
        ),
        (
            "/api/drift?env=dev",
            vec!["drift", "--env", "dev", "--format", "json"],
        ),
        (
            "/api/check?env=prod",
            vec!["check", "--env", "prod", "--format", "json"],
        ),
    ] {
        let r = srv.get(path);
        assert_eq!(r.code, 200, "{path}: {}", r.text());
        assert_eq!(r.header("content-type"), Some("application/json"));
        let want = cli(&dir, &args);
        assert!(
            r.body == want,
            "{path} differs from lockstep {}:\n--- api\n{}\n--- cli\n{}",
            args.join(" "),
            r.text(),
            String::from_utf8_lossy(&want)
        );
    }

    // Nothing changes state: every other method is refused, on every path.
    for (method, path) in [
        ("POST", "/"),
        ("POST", "/api/status"),
        ("PUT", "/api/drift?env=prod"),
        ("DELETE", "/api/parity"),
        ("PATCH", "/nowhere"),
    ] {
        let r = srv.req(method, path, &[]);
        assert_eq!(r.code, 405, "{method} {path}: {}", r.text());
        assert!(r.header("content-security-policy").is_some());
    }
    assert_eq!(srv.get("/nowhere").code, 404);
    let r = srv.get("/api/drift");
    assert_eq!(r.code, 400, "{}", r.text());
    assert!(r.text().contains("hint"), "{}", r.text());
    assert_eq!(srv.get("/api/drift?env=nope").code, 404);
}

/// Waits for `child`; kills it and fails with `what` once `limit` has passed.
fn wait_within(child: &mut Child, limit: Duration, what: &str) -> ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Runs `lockstep serve` that is expected to refuse; a server that starts instead is
/// killed after a while (a generous guard: the test fails rather than hangs).
fn serve_refused(dir: &Path, listen: &str, token: Option<&str>) -> (Option<i32>, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_lockstep"));
    cmd.args(["serve", "--listen", listen])
        .current_dir(dir)
        .env_remove("LOCKSTEP_TOKEN")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some(t) = token {
        cmd.env("LOCKSTEP_TOKEN", t);
    }
    let mut child = cmd.spawn().unwrap();
    let status = wait_within(
        &mut child,
        Duration::from_secs(30),
        &format!("lockstep serve --listen {listen} started instead of refusing"),
    );
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    (status.code(), err)
}

#[test]
fn serve_refuses_an_open_address_without_a_token() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = demo(tmp.path());
    for listen in ["0.0.0.0:0", "[::]:0"] {
        let (code, err) = serve_refused(&dir, listen, None);
        assert_eq!(code, Some(2), "{listen}: {err}");
        assert!(err.contains("without a token"), "{err}");
        assert!(
            err.contains("hint:") && err.contains("LOCKSTEP_TOKEN"),
            "{err}"
        );
    }
    // An empty token is no token.
    let (code, err) = serve_refused(&dir, "0.0.0.0:0", Some(""));
    assert_eq!(code, Some(2), "{err}");
}

#[test]
fn serve_with_a_token_requires_it_on_every_request() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = demo(tmp.path());
    let token = "t0ken-for-the-test";
    let bearer = format!("Bearer {token}");
    // Off loopback, a token makes it allowed; the token comes from the environment.
    let srv = Server::start(
        &dir,
        &["--listen", "0.0.0.0:0"],
        &[("LOCKSTEP_TOKEN", token)],
    );
    let port = srv.addr.rsplit(':').next().unwrap();
    let addr = format!("127.0.0.1:{port}");
    let auth = [("Authorization", bearer.as_str())];
    let deadline = Instant::now() + Duration::from_secs(180);
    while http(&addr, "GET", "/api/status", &auth).code != 200 {
        assert!(Instant::now() < deadline, "never ready");
        std::thread::sleep(Duration::from_millis(100));
    }
    for path in [
        "/",
        "/api/status",
        "/api/parity",
        "/api/drift?env=prod",
        "/nowhere",
    ] {
        let r = http(&addr, "GET", path, &[]);
        assert_eq!(r.code, 401, "{path}");
        assert!(r
            .header("www-authenticate")
            .is_some_and(|v| v.starts_with("Bearer")));
        assert!(!r.text().contains("orders"), "{path} leaked: {}", r.text());
        let r = http(&addr, "GET", path, &[("Authorization", "Bearer wrong")]);
        assert_eq!(r.code, 401, "{path}");
        let r = http(&addr, "GET", path, &[("Authorization", token)]);
        assert_eq!(r.code, 401, "{path}: the scheme is required");
    }
    assert_eq!(http(&addr, "GET", "/", &auth).code, 200);
    assert_eq!(http(&addr, "GET", "/api/drift?env=prod", &auth).code, 200);
    assert_eq!(http(&addr, "POST", "/api/status", &[]).code, 401);
    assert_eq!(http(&addr, "POST", "/api/status", &auth).code, 405);
}

/// A PostgreSQL project: dev and prod deployed with one migration.
fn pg_project(envs: &[(&str, &str)]) -> Project {
    let p = Project::new(envs);
    std::fs::write(
        p.path().join("migrations/20260101000000_orders.up.sql"),
        "CREATE TABLE orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, total_cents integer NOT NULL);\n",
    )
    .unwrap();
    p
}

#[test]
fn serve_escapes_names_and_matches_drift_on_postgres() {
    let (Some(dev), Some(prod)) = (TestPg::new("web_dev"), TestPg::new("web_prod")) else {
        return;
    };
    let project = pg_project(&[("dev", &dev.url), ("prod", &prod.url)]);
    let dir = project.path();
    for env in ["dev", "prod"] {
        let o = lockstep(&["deploy", "--env", env], dir);
        assert_eq!(o.status.code(), Some(0), "{o:?}");
    }
    let evil = "<img src=x onerror=alert(1)>";
    prod.exec(&format!("CREATE TABLE \"{evil}\" (id int)"));
    let srv = Server::start(dir, &[], &[]);
    srv.wait_ready(&[]);
    let html = srv.get("/").text();
    assert!(!html.contains("<img"), "an unescaped name: {html}");
    assert!(
        html.contains("public.&lt;img src=x onerror=alert(1)&gt;"),
        "the name, as text: {html}"
    );
    let r = srv.get("/api/drift?env=prod");
    assert_eq!(r.code, 200);
    assert_eq!(
        String::from_utf8_lossy(&r.body),
        String::from_utf8_lossy(&cli(dir, &["drift", "--env", "prod", "--format", "json"]))
    );
    assert!(r.text().contains(evil), "JSON keeps the name as it is");
    let r = srv.get("/api/status");
    assert_eq!(r.body, cli(dir, &["status", "--format", "json"]));
}

#[test]
fn serve_shows_no_password_and_an_unreachable_environment() {
    let Some(db) = TestPg::new("web_secret") else {
        return;
    };
    // The server trusts local connections, so any password is accepted: these only have
    // to stay out of every response.
    let with_secrets = {
        let u = &db.url;
        let (scheme, rest) = u.split_once("://").unwrap();
        let rest = rest.split_once('@').map(|(_, r)| r).unwrap_or(rest);
        format!("{scheme}://postgres:SECRETPW1@{rest}?password=SECRETPW2&sslmode=disable")
    };
    let down = "postgres://bob:SECRETPW3@127.0.0.1:1/nowhere?sslmode=disable&password=SECRETPW4";
    let project = pg_project(&[("live", &with_secrets), ("down", down)]);
    let dir = project.path();
    let o = lockstep(&["deploy", "--env", "live"], dir);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    db.exec("ALTER TABLE orders ADD COLUMN note text");
    let srv = Server::start(dir, &[], &[]);
    srv.wait_ready(&[]);
    let page = srv.get("/");
    let html = page.text();
    assert!(html.contains("id=\"env-down\""), "{html}");
    let down_card = html.split("id=\"env-down\"").nth(1).unwrap();
    let down_card = down_card.split("</article>").next().unwrap();
    assert!(down_card.contains("unreachable"), "{down_card}");
    assert!(
        html.contains("public.orders.note"),
        "the reachable one is shown: {html}"
    );
    let status = srv.get("/api/status").text();
    assert!(status.contains("\"error\""), "{status}");
    for path in [
        "/",
        "/api/status",
        "/api/parity",
        "/api/drift?env=live",
        "/api/drift?env=down",
        "/api/check?env=live",
        "/api/check?env=down",
    ] {
        let r = srv.get(path);
        let t = r.text();
        for s in ["SECRETPW1", "SECRETPW2", "SECRETPW3", "SECRETPW4"] {
            assert!(!t.contains(s), "{path} shows {s}: {t}");
        }
    }
}

/// Headless Chromium, when installed (CI installs it); None after printing why not.
fn chromium() -> Option<PathBuf> {
    for name in ["chromium", "chromium-browser"] {
        if let Ok(o) = Command::new("sh")
            .args(["-c", &format!("command -v {name}")])
            .output()
        {
            let p = String::from_utf8_lossy(&o.stdout).trim().to_string();
            if o.status.success() && !p.is_empty() {
                return Some(PathBuf::from(p));
            }
        }
    }
    let msg = "chromium is not installed (apt-get install chromium)";
    if require_services() {
        panic!("LOCKSTEP_REQUIRE_SERVICES=1 but {msg}");
    }
    eprintln!("SKIPPED: browser test: {msg}");
    None
}

/// Runs headless Chromium on `url`; its stdout and stderr. A browser that hangs is
/// killed after a generous while, and the test fails instead of hanging.
fn browse(chromium: &Path, profile: &Path, what: &[&str], url: &str) -> (bool, String, String) {
    let out = profile.with_extension("out");
    let err = profile.with_extension("err");
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(what)
        .arg(url)
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .expect("run chromium");
    let status = wait_within(
        &mut child,
        Duration::from_secs(120),
        &format!("chromium did not finish loading {url}"),
    );
    (
        status.success(),
        std::fs::read_to_string(out).unwrap_or_default(),
        std::fs::read_to_string(err).unwrap_or_default(),
    )
}

/// The text a person reads in an element: tags dropped, entities decoded, spaces folded.
fn visible(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    let out = out
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&");
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn browser_shows_every_environment_the_drift_and_the_odd_one_out() {
    let Some(chromium) = chromium() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = demo(tmp.path());
    let srv = Server::start(&dir, &[], &[]);
    srv.wait_ready(&[]);
    let url = format!("http://{}/", srv.addr);

    let (ok, dom, log) = browse(&chromium, &tmp.path().join("p1"), &["--dump-dom"], &url);
    assert!(ok, "chromium failed: {log}");
    assert!(
        !log.contains("Content Security Policy"),
        "the page's own style was blocked: {log}"
    );
    let card = |env: &str| {
        let at = dom
            .find(&format!("id=\"env-{env}\""))
            .unwrap_or_else(|| panic!("no card for {env}: {dom}"));
        let start = dom[..at].rfind('<').unwrap();
        let end = dom[start..].find("</article>").unwrap() + start;
        visible(&dom[start..end])
    };
    let (dev, qa, prod) = (card("dev"), card("qa"), card("prod"));
    assert!(dev.starts_with("dev in step"), "{dev}");
    assert!(prod.starts_with("prod drifted"), "{prod}");
    assert!(prod.contains("odd one out: drift"), "{prod}");
    assert!(prod.contains("drift 1 item"), "{prod}");
    assert!(prod.contains("check fail"), "{prod}");
    assert!(qa.starts_with("qa in step"), "{qa}");
    assert!(!qa.contains("odd one out"), "{qa}");
    assert!(dev.contains("odd one out: version"), "{dev}");
    let all = visible(&dom);
    assert!(
        all.contains("added column main.orders.segment TEXT"),
        "the drift item: {all}"
    );
    assert!(
        all.contains("prod is the odd one out on drift"),
        "the difference: {all}"
    );

    let shot = tmp.path().join("serve.png");
    let (ok, _, log) = browse(
        &chromium,
        &tmp.path().join("p2"),
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1280,1100",
        ],
        &url,
    );
    assert!(ok, "{log}");
    let png = std::fs::read(&shot).expect("a screenshot");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 10_000);
    if let Ok(keep) = std::env::var("LOCKSTEP_SERVE_SCREENSHOT") {
        std::fs::copy(&shot, keep).unwrap();
    }
}

/// A fleet is one row: its members' spread over versions and its drift in groups, the
/// members behind a `<details>`; its drift API is the CLI's fleet drift JSON.
#[test]
fn serve_shows_a_fleet_as_one_row() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::create_dir_all(dir.join("migrations")).unwrap();
    std::fs::create_dir_all(dir.join("db")).unwrap();
    let members: String = (1..=5)
        .map(|i| format!("shop{i} sqlite://db/shop{i}.db\n"))
        .collect();
    std::fs::write(dir.join("shops.txt"), members).unwrap();
    std::fs::write(
        dir.join("lockstep.toml"),
        "migrations = \"migrations\"\n[env.shops]\nmembers = \"shops.txt\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("migrations/1_init.up.sql"),
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, total INTEGER);\n",
    )
    .unwrap();
    assert_eq!(crate::cli::lockstep(&["hash"], dir).status.code(), Some(0));
    let o = crate::cli::lockstep(&["deploy", "--env", "shops"], dir);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    // Two shops got the same hand-made index.
    for i in [2, 4] {
        let u = lockstep_db::DbUrl::parse(&format!("sqlite://{}/db/shop{i}.db", dir.display()))
            .unwrap();
        crate::support::rt().block_on(async {
            let mut db = lockstep_db::Db::connect(&u, false).await.unwrap();
            db.execute_script("CREATE INDEX bi_total ON orders (total)")
                .await
                .unwrap();
            db.close().await;
        });
    }
    let srv = Server::start(dir, &[], &[]);
    srv.wait_ready(&[]);
    let html = srv.get("/").text();
    assert!(html.contains("id=\"env-shops\""), "{html}");
    let card = &html[html.find("id=\"env-shops\"").unwrap()..];
    let card = &card[..card.find("</article>").unwrap()];
    let text = visible(card);
    assert!(text.contains("fleet"), "{text}");
    assert!(text.contains("members 5"), "{text}");
    assert!(text.contains("1 × 5"), "{text}");
    assert!(text.contains("2 members in 1 group"), "{text}");
    for i in 1..=5 {
        assert!(text.contains(&format!("shop{i}")), "{text}");
    }
    let drift = &html[html.find("id=\"drift-shops\"").unwrap()..];
    assert!(visible(drift).contains("Group 1: 2 members"), "{drift}");
    assert!(visible(drift).contains("shop2, shop4"), "{drift}");
    assert!(drift.contains("bi_total"), "{drift}");
    let r = srv.get("/api/drift?env=shops");
    let want = cli(dir, &["drift", "--env", "shops", "--format", "json"]);
    assert!(
        r.body == want,
        "api:\n{}\ncli:\n{}",
        r.text(),
        String::from_utf8_lossy(&want)
    );
}
