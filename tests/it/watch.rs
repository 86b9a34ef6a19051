//! `lockstep watch` on PostgreSQL: an out-of-band change is announced once, its revert
//! once, a restart announces nothing, and a webhook receiver that fails for a while gets
//! every event, signed, once it is back.

use crate::cli::lockstep;
use crate::support::TestPg;
use base64::Engine as _;
use hmac::{KeyInit, Mac};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn project(dir: &Path, url: &str, watch: &str) {
    std::fs::create_dir_all(dir.join("migrations")).unwrap();
    std::fs::write(
        dir.join("lockstep.toml"),
        format!("migrations = \"migrations\"\n[env.prod]\nurl = \"{url}\"\n{watch}"),
    )
    .unwrap();
    std::fs::write(
        dir.join("migrations/20260101000000_orders.up.sql"),
        "CREATE TABLE orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, total_cents integer NOT NULL);\n",
    )
    .unwrap();
    let o = lockstep(&["deploy", "--env", "prod"], dir);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
}

/// `watch --once --format json`: exit code, one JSON event per stdout line, stderr.
fn once(dir: &Path) -> (Option<i32>, Vec<Value>, String) {
    let o = lockstep(&["watch", "--once", "--format", "json"], dir);
    let lines = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    (
        o.status.code(),
        lines,
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn watch_announces_each_change_once_and_a_restart_nothing() {
    let Some(prod) = TestPg::new("watch_once") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    project(dir, &prod.url, "");

    let (code, lines, err) = once(dir);
    assert_eq!((code, lines.len()), (Some(0), 0), "{lines:?} {err}");

    prod.exec("ALTER TABLE orders ADD COLUMN note text");
    let (code, lines, err) = once(dir);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(lines.len(), 1, "{lines:?}");
    let new = &lines[0];
    assert_eq!(new["event"], "drift.new");
    assert_eq!(new["env"], "prod");
    assert_eq!(new["item"]["object"], "public.orders.note");
    assert_eq!(new["item"]["change"], "added");
    assert_eq!(new["item"]["first_seen"], new["at"]);
    let keys: Vec<&String> = new.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["event", "env", "item", "at"]);

    // A restart announces nothing that was announced.
    let (_, lines, _) = once(dir);
    assert!(lines.is_empty(), "{lines:?}");
    assert!(dir.join(".lockstep/watch.json").is_file());
    assert_eq!(
        std::fs::read_to_string(dir.join(".lockstep/.gitignore")).unwrap(),
        "*\n"
    );

    // `lockstep drift` shows when watch first saw the item, and keeps its other fields.
    let o = lockstep(&["drift", "--env", "prod", "--format", "json"], dir);
    let d: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(d["items"][0]["first_seen"], new["at"], "{d}");
    let keys: Vec<&String> = d["items"][0].as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "object",
            "kind",
            "change",
            "expected",
            "actual",
            "first_seen",
            "first_seen_after"
        ]
    );
    // It appeared after watch's first check, which did not see it.
    assert!(
        d["items"][0]["first_seen_after"].as_str() <= d["items"][0]["first_seen"].as_str(),
        "{d}"
    );
    let o = lockstep(&["drift", "--env", "prod"], dir);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("first seen between "), "{text}");

    // An environment that cannot be reached resolves nothing.
    let good = std::fs::read_to_string(dir.join("lockstep.toml")).unwrap();
    std::fs::write(
        dir.join("lockstep.toml"),
        "migrations = \"migrations\"\n[env.prod]\nurl = \"postgres://nobody@127.0.0.1:1/x\"\n",
    )
    .unwrap();
    let (code, lines, err) = once(dir);
    assert_eq!(code, Some(2), "{err}");
    assert!(lines.is_empty(), "{lines:?}");
    assert!(err.contains("prod could not be checked"), "{err}");
    std::fs::write(dir.join("lockstep.toml"), good).unwrap();
    let (code, lines, _) = once(dir);
    assert_eq!((code, lines.len()), (Some(0), 0), "{lines:?}");

    // The revert is announced once, with the item as it was first seen.
    prod.exec("ALTER TABLE orders DROP COLUMN note");
    let (_, lines, _) = once(dir);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["event"], "drift.resolved");
    assert_eq!(lines[0]["item"], new["item"]);
    let (_, lines, _) = once(dir);
    assert!(lines.is_empty(), "{lines:?}");
}

/// One request a receiver got, and what it answered.
#[derive(Debug, Clone)]
struct Hit {
    headers: BTreeMap<String, String>,
    body: String,
    answered: u16,
}

/// A webhook receiver on a free loopback port that answers 500 to its first `fail`
/// requests and 200 after that.
fn receiver(fail: usize) -> (String, Arc<Mutex<Vec<Hit>>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    let log: Arc<Mutex<Vec<Hit>>> = Arc::default();
    let seen = log.clone();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            let mut r = BufReader::new(s.try_clone().unwrap());
            let mut headers = BTreeMap::new();
            let mut line = String::new();
            r.read_line(&mut line).unwrap();
            loop {
                line.clear();
                r.read_line(&mut line).unwrap();
                if line.trim().is_empty() {
                    break;
                }
                if let Some((k, v)) = line.split_once(':') {
                    headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
                }
            }
            let n: usize = headers
                .get("content-length")
                .map(|v| v.parse().unwrap())
                .unwrap_or(0);
            let mut body = vec![0; n];
            r.read_exact(&mut body).unwrap();
            let mut log = seen.lock().unwrap();
            let answered = if log.len() < fail { 500 } else { 200 };
            log.push(Hit {
                headers,
                body: String::from_utf8(body).unwrap(),
                answered,
            });
            drop(log);
            let _ = write!(
                s,
                "HTTP/1.1 {answered} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
        }
    });
    (addr, log)
}

/// The Standard Webhooks check, written from the specification: HMAC-SHA256 over
/// `id.timestamp.body` with the base64 key after `whsec_`.
fn verifies(secret: &str, h: &Hit) -> bool {
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let (Some(id), Some(ts), Some(sig)) = (
        h.headers.get("webhook-id"),
        h.headers.get("webhook-timestamp"),
        h.headers.get("webhook-signature"),
    ) else {
        return false;
    };
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{ts}.{}", h.body).as_bytes());
    let want = format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let fresh = ts.parse::<u64>().is_ok_and(|t| now.abs_diff(t) < 300);
    fresh && sig.split(' ').any(|s| s == want)
}

struct Watch {
    child: Child,
    out: Receiver<String>,
    err: Receiver<String>,
    /// stderr lines read so far.
    log: Vec<String>,
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Watch {
    fn lines<R: Read + Send + 'static>(r: R) -> Receiver<String> {
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            for l in BufReader::new(r).lines() {
                let Ok(l) = l else { break };
                if tx.send(l).is_err() {
                    break;
                }
            }
        });
        rx
    }

    /// Reads stderr until `n` more checks (live schema reads) happened; returns the
    /// stdout lines that arrived meanwhile.
    fn ticks(&mut self, n: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(180);
        let mut seen = 0;
        let mut out = vec![];
        while seen < n {
            assert!(
                Instant::now() < deadline,
                "watch stopped ticking: {:?}",
                self.log
            );
            while let Ok(l) = self.out.try_recv() {
                out.push(serde_json::from_str(&l).unwrap());
            }
            match self.err.recv_timeout(Duration::from_millis(200)) {
                Ok(l) => {
                    if l.contains("read the live schema") {
                        seen += 1;
                    }
                    self.log.push(l);
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                Err(e) => panic!("watch ended: {e}: {:?}", self.log),
            }
        }
        while let Ok(l) = self.out.try_recv() {
            out.push(serde_json::from_str(&l).unwrap());
        }
        out
    }

    /// Takes in what stderr said so far (while the test waited elsewhere), so that
    /// [`Watch::ticks`] counts only checks from now on.
    fn drain(&mut self) {
        while let Ok(l) = self.err.recv_timeout(Duration::from_millis(300)) {
            self.log.push(l);
        }
        let early: Vec<String> = self.out.try_iter().collect();
        assert!(early.is_empty(), "{early:?}");
    }

    /// Waits for the next event; returns it and how many checks (live schema reads)
    /// happened from the call until it was printed, the check that found it included.
    fn next_event(&mut self) -> (Value, usize) {
        let deadline = Instant::now() + Duration::from_secs(180);
        let mut checks = 0;
        loop {
            if let Ok(l) = self.out.try_recv() {
                return (serde_json::from_str(&l).unwrap(), checks);
            }
            assert!(
                Instant::now() < deadline && checks <= 20,
                "no event after {checks} checks: {:?}",
                self.log
            );
            match self.err.recv_timeout(Duration::from_millis(50)) {
                Ok(l) => {
                    if l.contains("read the live schema") {
                        checks += 1;
                    }
                    self.log.push(l);
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                Err(e) => panic!("watch ended: {e}: {:?}", self.log),
            }
        }
    }
}

fn wait_for(what: &str, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(180);
    while !ok() {
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn watch_tells_a_webhook_that_was_down_once_it_is_back_signed() {
    let Some(prod) = TestPg::new("watch_hook") else {
        return;
    };
    let (hook, hits) = receiver(3);
    let (slack, slack_hits) = receiver(0);
    let secret = format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(b"a secret of the test, 32 bytes!!")
    );
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    project(
        dir,
        &prod.url,
        &format!(
            "[watch]\ninterval = \"1s\"\nsecret = \"${{LOCKSTEP_TEST_HOOK_SECRET}}\"\nwebhooks = [{{ url = \"http://{slack}/services/T0/B0/x\", slack = true }}]\n"
        ),
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_lockstep"))
        .args(["-v", "watch", "--format", "json", "--webhook"])
        .arg(format!("http://{hook}/hook"))
        .current_dir(dir)
        .env("LOCKSTEP_TEST_HOOK_SECRET", &secret)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = Watch::lines(child.stdout.take().unwrap());
    let err = Watch::lines(child.stderr.take().unwrap());
    let mut w = Watch {
        child,
        out,
        err,
        log: vec![],
    };
    assert!(w.ticks(1).is_empty(), "no drift yet");

    w.drain();
    prod.exec("ALTER TABLE orders ADD COLUMN note text");
    let (new, checks) = w.next_event();
    // Within one interval: the first check that starts after the change sees it (the one
    // running during the change may or may not).
    assert!(checks <= 2, "announced after {checks} checks");
    assert_eq!(new["event"], "drift.new");
    assert_eq!(new["item"]["object"], "public.orders.note");
    let delivered = |id_of: &Value| {
        let body = id_of.to_string();
        hits.lock()
            .unwrap()
            .iter()
            .any(|h| h.answered == 200 && h.body == body)
    };
    wait_for("the receiver to accept drift.new", || delivered(&new));

    w.drain();
    prod.exec("ALTER TABLE orders DROP COLUMN note");
    let (resolved, checks) = w.next_event();
    assert!(checks <= 2, "announced after {checks} checks");
    assert_eq!(resolved["event"], "drift.resolved");
    assert_eq!(resolved["item"], new["item"]);
    wait_for("the receiver to accept drift.resolved", || {
        delivered(&resolved)
    });
    // Nothing more while nothing changes.
    let more = w.ticks(3);
    assert!(more.is_empty(), "{more:?}");
    let replays = w.log.iter().filter(|l| l.contains("replaying")).count();
    assert_eq!(
        replays, 1,
        "the expected schema is replayed once and reused: {:?}",
        w.log
    );
    drop(w);

    let hits = hits.lock().unwrap().clone();
    let failed: Vec<&Hit> = hits.iter().filter(|h| h.answered != 200).collect();
    let ok: Vec<&Hit> = hits.iter().filter(|h| h.answered == 200).collect();
    assert_eq!(failed.len(), 3, "{hits:?}");
    assert_eq!(ok.len(), 2, "each event accepted once: {hits:?}");
    // The retries are the same message: same id, same body.
    for f in &failed {
        assert_eq!(f.headers["webhook-id"], ok[0].headers["webhook-id"]);
        assert_eq!(f.body, ok[0].body);
    }
    assert_ne!(ok[0].headers["webhook-id"], ok[1].headers["webhook-id"]);
    assert_eq!(ok[0].body, new.to_string());
    assert_eq!(ok[1].body, resolved.to_string());
    for h in &hits {
        assert!(verifies(&secret, h), "bad signature: {h:?}");
        assert_eq!(h.headers["content-type"], "application/json");
    }
    let mut tampered = ok[0].clone();
    tampered.body = tampered.body.replace("note", "n0te");
    assert!(!verifies(&secret, &tampered));

    let slack_hits = slack_hits.lock().unwrap().clone();
    assert_eq!(slack_hits.len(), 2, "{slack_hits:?}");
    let text: Vec<String> = slack_hits
        .iter()
        .map(|h| {
            let v: Value = serde_json::from_str(&h.body).unwrap();
            v["text"].as_str().unwrap().to_string()
        })
        .collect();
    assert!(
        text[0].contains("prod: new drift: column public.orders.note"),
        "{text:?}"
    );
    assert!(text[1].contains("prod: drift resolved"), "{text:?}");

    // A restart announces nothing and owes nothing.
    let o = Command::new(env!("CARGO_BIN_EXE_lockstep"))
        .args(["watch", "--once", "--format", "json"])
        .current_dir(dir)
        .env("LOCKSTEP_TEST_HOOK_SECRET", &secret)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert!(o.stdout.is_empty(), "{o:?}");
    let st: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join(".lockstep/watch.json")).unwrap())
            .unwrap();
    assert_eq!(st["outbox"], serde_json::json!([]), "{st}");
    let state = st.to_string();
    assert!(
        !state.contains("services/T0"),
        "webhook URLs stay out of the file"
    );
}
