//! Faults against the real `gongzhi serve` process (the binary, on a fresh database with the
//! small demo city): kill -9 rounds during mixed writes, SIGTERM with requests in flight (and a
//! grace period running out), backups taken while clients write.
//!
//! They run only when `GONGZHI_FAULTS=1` (`tests/faults/run.sh`, called by `.ci/run`); a plain
//! `cargo test` skips them with a notice. The backend is `GONGZHI_TEST_DATABASE`'s, as for the
//! other suites (SQLite when unset); the backup round is SQLite's.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use gongzhi_core::case::{Case, CaseEvent, CaseState};
use gongzhi_core::ids::CaseId;
use gongzhi_store::prelude::*;
use gongzhi_testkit::{demo_db, postgres_url, small_demo};
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_gongzhi");
/// What any one request or step may take before the test calls it hung.
const TIMEOUT: Duration = Duration::from_secs(30);

fn enabled(test: &str) -> bool {
    if std::env::var("GONGZHI_FAULTS").as_deref() != Ok("1") {
        eprintln!("{test}: skipped (set GONGZHI_FAULTS=1: tests/faults/run.sh)");
        return false;
    }
    true
}

/// A seed for the random moments, printed so that a failing run can be repeated
/// (`GONGZHI_FAULTS_SEED=N`).
fn rng(test: &str) -> rand::rngs::StdRng {
    let seed = std::env::var("GONGZHI_FAULTS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| rand::thread_rng().gen::<u64>());
    eprintln!("{test}: seed {seed} (GONGZHI_FAULTS_SEED)");
    rand::rngs::StdRng::seed_from_u64(seed)
}

/// A new key in the UUID shape.
fn new_key(rng: &mut impl Rng) -> String {
    let (a, b): (u64, u64) = (rng.gen(), rng.gen());
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        (b >> 48) & 0xffff,
        b & 0xffff_ffff_ffff
    )
}

fn point_in_first_grid() -> (f64, f64) {
    let g = &small_demo().grids[0];
    let r = geo::BoundingRect::bounding_rect(&g.geometry).unwrap();
    ((r.min().x + r.max().x) / 2.0, (r.min().y + r.max().y) / 2.0)
}

/// A report whose description carries `[key]`, the marker its stored case is found by.
fn report_body(key: &str) -> Value {
    let (lng, lat) = point_in_first_grid();
    json!({"condition": "C0105-02", "description": format!("故障测试 井盖破损 [{key}]"), "lng": lng, "lat": lat, "register": false})
}

fn marker_of(description: &str) -> Option<&str> {
    let start = description.rfind('[')? + 1;
    let end = description[start..].find(']')? + start;
    Some(&description[start..end])
}

/// `gongzhi serve` on `db`, its stdout and stderr gathered into one log.
struct Server {
    child: Child,
    addr: String,
    log: Arc<Mutex<String>>,
}

impl Server {
    fn start(db: &str, extra: &[&str]) -> Server {
        let mut child = Command::new(BIN)
            .args(["serve", "--port", "0", "--database", db])
            .args(extra)
            .env("GONGZHI_LOG", "info,sqlx=warn,tower_http=warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run gongzhi serve");
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel();
        let out = child.stdout.take().unwrap();
        let l = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if let Some(rest) = line.split("serving on http://").nth(1) {
                    let _ = tx.send(rest.split_whitespace().next().unwrap_or("").to_owned());
                }
                let mut l = l.lock().unwrap();
                l.push_str(&line);
                l.push('\n');
            }
        });
        let err = child.stderr.take().unwrap();
        let l = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines() {
                let Ok(line) = line else { break };
                let mut l = l.lock().unwrap();
                l.push_str(&line);
                l.push('\n');
            }
        });
        let addr = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(a) => a,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("serve did not start:\n{}", log.lock().unwrap());
            }
        };
        Server { child, addr, log }
    }

    fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    fn kill9(&mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reap");
    }

    fn term(&self) {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    }

    /// Its exit status, once it has exited within `within`.
    fn exited(&mut self, within: Duration) -> Option<ExitStatus> {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                // Let the reader threads take the last lines.
                std::thread::sleep(Duration::from_millis(50));
                return Some(status);
            }
            if started.elapsed() > within {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The answer to a request, or that it got none (refused, reset, cut).
#[derive(Debug)]
enum Outcome {
    Answered {
        status: u16,
        replayed: bool,
        body: Value,
    },
    /// Why, shown when a test fails.
    Cut(#[allow(dead_code)] String),
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(TIMEOUT)
        .pool_max_idle_per_host(0)
        .build()
        .unwrap()
}

async fn post(client: &reqwest::Client, base: &str, path: &str, token: &str, key: &str, body: &Value) -> Outcome {
    let sent = client
        .post(format!("{base}{path}"))
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await;
    match sent {
        Err(e) => Outcome::Cut(e.to_string()),
        Ok(r) => {
            let status = r.status().as_u16();
            let replayed = r.headers().get("idempotent-replayed").is_some_and(|v| v == "true");
            match r.bytes().await {
                Ok(b) => Outcome::Answered {
                    status,
                    replayed,
                    body: serde_json::from_slice(&b).unwrap_or(Value::Null),
                },
                Err(e) => Outcome::Cut(format!("answer cut: {e}")),
            }
        }
    }
}

async fn get(client: &reqwest::Client, base: &str, path: &str, token: &str) -> (u16, Value) {
    let r = client
        .get(format!("{base}{path}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {path}: {e}"));
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn login(base: &str, username: &str) -> String {
    let r = client()
        .post(format!("{base}/api/auth/login"))
        .json(&json!({"username": username, "password": gongzhi_demo::DEMO_PASSWORD}))
        .send()
        .await
        .expect("login");
    assert_eq!(r.status(), 200, "login as {username}");
    let v: Value = r.json().await.unwrap();
    v["token"].as_str().unwrap().to_owned()
}

/// The record id a 409 `idempotency_key_unanswered` names (the write was stored, its answer
/// was lost with the process).
fn unanswered_record(body: &Value) -> Option<i64> {
    if body["code"] != "idempotency_key_unanswered" {
        return None;
    }
    let record = &body["details"]["record"];
    record.as_i64().or_else(|| {
        let s = record.as_str()?;
        let digits: String = s
            .chars()
            .rev()
            .take_while(char::is_ascii_digit)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        digits.parse().ok()
    })
}

/// What the clients share: where the server is now, the accounts' tokens, and the cases
/// acknowledged to the reporters that the actor has not taken yet.
struct Shared {
    base: Mutex<String>,
    resident: String,
    leader: String,
    dispatcher: String,
    reported: Mutex<Vec<i64>>,
}

impl Shared {
    fn base(&self) -> String {
        self.base.lock().unwrap().clone()
    }
}

/// A reporting client: a new report each time, the same key and body again until it is
/// acknowledged.
struct Reporter {
    rng: rand::rngs::StdRng,
    pending: Option<(String, Value)>,
    /// Every key sent, with the case acknowledged for it (once it is).
    keys: BTreeMap<String, Option<i64>>,
    acknowledged: usize,
    replayed: usize,
    unanswered: usize,
    cut: usize,
}

impl Reporter {
    fn new(seed: u64) -> Reporter {
        Reporter {
            rng: rand::rngs::StdRng::seed_from_u64(seed),
            pending: None,
            keys: BTreeMap::new(),
            acknowledged: 0,
            replayed: 0,
            unanswered: 0,
            cut: 0,
        }
    }

    /// Report until `stop`; with `drain`, only until nothing is pending.
    async fn run(mut self, shared: Arc<Shared>, stop: Arc<AtomicBool>, drain: bool) -> Reporter {
        let client = client();
        loop {
            if stop.load(Ordering::SeqCst) || (drain && self.pending.is_none()) {
                return self;
            }
            let (key, body) = match self.pending.take() {
                Some(p) => p,
                None => {
                    let key = new_key(&mut self.rng);
                    let body = report_body(&key);
                    (key, body)
                }
            };
            self.keys.entry(key.clone()).or_insert(None);
            match post(&client, &shared.base(), "/api/cases", &shared.resident, &key, &body).await {
                Outcome::Answered {
                    status: 200 | 201,
                    replayed,
                    body: v,
                } => {
                    let id = v["case"]["case"]["id"]
                        .as_i64()
                        .unwrap_or_else(|| panic!("no case id: {v}"));
                    assert_eq!(
                        v["case"]["case"]["description"].as_str().and_then(marker_of),
                        Some(key.as_str()),
                        "the answer is the case of this key: {v}"
                    );
                    self.acknowledged += 1;
                    self.replayed += usize::from(replayed);
                    self.keys.insert(key, Some(id));
                    shared.reported.lock().unwrap().push(id);
                }
                Outcome::Answered {
                    status: 409, body: v, ..
                } if unanswered_record(&v).is_some() => {
                    // Stored before the kill, its answer lost with the process: not an
                    // acknowledgement, but the record exists; the check below verifies it.
                    self.unanswered += 1;
                    let id = unanswered_record(&v).unwrap();
                    self.keys.insert(key, Some(id));
                    shared.reported.lock().unwrap().push(id);
                }
                Outcome::Answered { status, body: v, .. } if status >= 500 => {
                    // Not stored (never a 2xx for that); retried with the same key.
                    eprintln!("report answered {status} (retried): {v}");
                    self.pending = Some((key, body));
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Outcome::Answered { status, body: v, .. } => panic!("a report answered {status}: {v}"),
                Outcome::Cut(_) => {
                    self.cut += 1;
                    self.pending = Some((key, body));
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }
    }
}

/// A case step a client is taking: its key and body stay the same until it is answered.
#[derive(Clone)]
struct Step {
    case: i64,
    /// `register` (by the shift leader) or `dispatch` (by the dispatcher).
    action: &'static str,
    key: String,
    tries: u32,
}

impl Step {
    /// The event the step records.
    fn event(&self) -> &'static str {
        match self.action {
            "register" => "registered",
            _ => "dispatched",
        }
    }
}

/// A client taking reported cases through register and dispatch.
struct Actor {
    rng: rand::rngs::StdRng,
    pending: Option<Step>,
    /// (case, event) of every acknowledged step.
    acknowledged: Vec<(i64, &'static str)>,
    /// Steps found done when retried whose retry was refused as illegal (no key replay).
    done_before: usize,
    unanswered: usize,
    cut: usize,
}

impl Actor {
    async fn run(mut self, shared: Arc<Shared>, stop: Arc<AtomicBool>, drain: bool) -> Actor {
        let client = client();
        loop {
            if stop.load(Ordering::SeqCst) || (drain && self.pending.is_none()) {
                return self;
            }
            let mut step = match self.pending.take() {
                Some(s) => s,
                None => {
                    let next = shared.reported.lock().unwrap().pop();
                    match next {
                        Some(case) => Step {
                            case,
                            action: "register",
                            key: new_key(&mut self.rng),
                            tries: 0,
                        },
                        None => {
                            tokio::time::sleep(Duration::from_millis(10)).await;
                            continue;
                        }
                    }
                }
            };
            step.tries += 1;
            let token = if step.action == "register" {
                &shared.leader
            } else {
                &shared.dispatcher
            };
            let path = format!("/api/cases/{}/actions", step.case);
            let body = json!({"type": step.action});
            let base = shared.base();
            let done = match post(&client, &base, &path, token, &step.key, &body).await {
                Outcome::Answered { status: 200 | 201, .. } => {
                    self.acknowledged.push((step.case, step.event()));
                    true
                }
                Outcome::Answered {
                    status: 409, body: v, ..
                } if unanswered_record(&v).is_some() => {
                    self.unanswered += 1;
                    true
                }
                Outcome::Answered {
                    status: 409, body: v, ..
                } if step.tries > 1 && v["code"] == "illegal_step" => {
                    // A retry refused: the first try must have been stored before the cut.
                    let (s, detail) =
                        get(&client, &base, &format!("/api/cases/{}", step.case), &shared.dispatcher).await;
                    assert_eq!(s, 200, "{detail}");
                    let events = timeline_kinds(&detail);
                    assert!(
                        events.contains(&step.event()),
                        "{} on case {} was refused on retry ({v}) yet is not in its timeline {events:?}",
                        step.action,
                        step.case
                    );
                    self.done_before += 1;
                    true
                }
                Outcome::Answered { status, body: v, .. } if status >= 500 => {
                    eprintln!("{} answered {status} (retried): {v}", step.action);
                    false
                }
                Outcome::Answered { status, body: v, .. } => {
                    panic!("{} on case {} answered {status}: {v}", step.action, step.case)
                }
                Outcome::Cut(_) => {
                    self.cut += 1;
                    false
                }
            };
            if !done {
                self.pending = Some(step);
                tokio::time::sleep(Duration::from_millis(20)).await;
            } else if step.action == "register" {
                self.pending = Some(Step {
                    case: step.case,
                    action: "dispatch",
                    key: new_key(&mut self.rng),
                    tries: 0,
                });
            }
        }
    }
}

fn timeline_kinds(detail: &Value) -> Vec<&str> {
    detail["timeline"]
        .as_array()
        .map(|t| t.iter().filter_map(|e| e["kind"].as_str()).collect())
        .unwrap_or_default()
}

/// Every case the dispatcher sees, by marker (cases without one are the demo's).
async fn cases_by_marker(base: &str, token: &str) -> HashMap<String, Vec<Value>> {
    let client = client();
    let mut found: HashMap<String, Vec<Value>> = HashMap::new();
    let mut page = 1;
    loop {
        let (s, v) = get(&client, base, &format!("/api/cases?page={page}&page_size=1000"), token).await;
        assert_eq!(s, 200, "{v}");
        let cases = v["cases"].as_array().expect("cases").clone();
        for c in &cases {
            if let Some(m) = c["case"]["description"].as_str().and_then(marker_of) {
                found.entry(m.to_owned()).or_default().push(c.clone());
            }
        }
        if cases.len() < 1000 {
            return found;
        }
        page += 1;
    }
}

/// Each case's stored state is the one its events lead to (no half transition), and no step
/// is recorded twice.
async fn check_consistent(base: &str, token: &str, id: i64) -> Vec<String> {
    let (s, detail) = get(&client(), base, &format!("/api/cases/{id}"), token).await;
    assert_eq!(s, 200, "case {id}: {detail}");
    let mut replayed = Case::new(CaseId(id));
    for e in detail["timeline"].as_array().expect("timeline") {
        let event: CaseEvent = serde_json::from_value(e["event"].clone()).expect("an event");
        replayed.apply(&event, e["at"].as_i64().unwrap_or(0));
    }
    let stored: CaseState = serde_json::from_value(detail["case"]["state"].clone()).expect("state");
    assert_eq!(
        (replayed.state, replayed.version),
        (stored, detail["case"]["version"].as_u64().expect("version") as _),
        "case {id}: its state and version are not what its events say: {detail}"
    );
    let kinds: Vec<String> = timeline_kinds(&detail).into_iter().map(str::to_owned).collect();
    for once in ["collected", "registered", "dispatched"] {
        assert!(
            kinds.iter().filter(|k| *k == once).count() <= 1,
            "case {id}: {once} recorded more than once: {kinds:?}"
        );
    }
    kinds
}

/// kill -9 at random moments while two clients report cases (with an `Idempotency-Key` each)
/// and one registers and dispatches them; the server is restarted on the same database and the
/// clients retry what was not answered with the same key and body. Then: every acknowledged
/// report and step is stored, one case per key, and every case's state is what its events say.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_mixed_writes_loses_nothing_acknowledged_and_duplicates_nothing() {
    let test = "kill_9_during_mixed_writes_loses_nothing_acknowledged_and_duplicates_nothing";
    if !enabled(test) {
        return;
    }
    let started = Instant::now();
    let mut rng = rng(test);
    let db = demo_db().await;
    db.store.close().await;
    let url = db.url.clone();
    let rounds = 8;

    let mut server = Server::start(&url, &[]);
    let base = server.base();
    let shared = Arc::new(Shared {
        base: Mutex::new(base.clone()),
        resident: login(&base, "resident").await,
        leader: login(&base, "shiftleader").await,
        dispatcher: login(&base, "dispatcher").await,
        reported: Mutex::new(Vec::new()),
    });
    let mut reporters = vec![Reporter::new(rng.gen()), Reporter::new(rng.gen())];
    let mut actor = Actor {
        rng: rand::rngs::StdRng::seed_from_u64(rng.gen()),
        pending: None,
        acknowledged: Vec::new(),
        done_before: 0,
        unanswered: 0,
        cut: 0,
    };
    for round in 0..=rounds {
        if round > 0 {
            server = Server::start(&url, &[]);
            *shared.base.lock().unwrap() = server.base();
        }
        let stop = Arc::new(AtomicBool::new(false));
        let drain = round == rounds;
        let r: Vec<_> = reporters
            .drain(..)
            .map(|r| tokio::spawn(r.run(shared.clone(), stop.clone(), drain)))
            .collect();
        let a = tokio::spawn(actor.run(shared.clone(), stop.clone(), drain));
        if !drain {
            tokio::time::sleep(Duration::from_millis(rng.gen_range(300..1500))).await;
            server.kill9();
            stop.store(true, Ordering::SeqCst);
        }
        for h in r {
            reporters.push(
                tokio::time::timeout(TIMEOUT, h)
                    .await
                    .expect("a reporter hung")
                    .expect("a reporter failed"),
            );
        }
        actor = tokio::time::timeout(TIMEOUT, a)
            .await
            .expect("the actor hung")
            .expect("the actor failed");
    }
    // The last server is up, and every client request has been answered.
    let base = server.base();
    let found = cases_by_marker(&base, &shared.dispatcher).await;
    let mut keys = 0;
    for r in &reporters {
        for (key, id) in &r.keys {
            keys += 1;
            let id = id.unwrap_or_else(|| panic!("key {key} was never answered"));
            let cases = found.get(key).map(Vec::as_slice).unwrap_or_default();
            assert_eq!(
                cases.len(),
                1,
                "key {key}: exactly one case, found {}: {cases:?}",
                cases.len()
            );
            assert_eq!(cases[0]["case"]["id"].as_i64(), Some(id), "key {key}");
        }
    }
    assert_eq!(found.len(), keys, "a case with a marker no client sent");
    let mut timelines = HashMap::new();
    for cases in found.values() {
        let id = cases[0]["case"]["id"].as_i64().unwrap();
        timelines.insert(id, check_consistent(&base, &shared.dispatcher, id).await);
    }
    for (case, event) in &actor.acknowledged {
        assert!(
            timelines[case].iter().any(|k| k == event),
            "{event} on case {case} was acknowledged but is not stored: {:?}",
            timelines[case]
        );
    }
    let acknowledged: usize = reporters.iter().map(|r| r.acknowledged).sum();
    let replayed: usize = reporters.iter().map(|r| r.replayed).sum();
    let unanswered: usize = reporters.iter().map(|r| r.unanswered).sum::<usize>() + actor.unanswered;
    let cut: usize = reporters.iter().map(|r| r.cut).sum::<usize>() + actor.cut;
    eprintln!(
        "{test}: {rounds} kills on {}: {keys} reports ({acknowledged} acknowledged, {replayed} of them replayed \
         after a cut), {} steps acknowledged, {} steps found done when retried, {unanswered} answers lost \
         with the process (409, record stored), {cut} requests cut; all stored once, every state \
         consistent ({:.1} s)",
        if postgres_url().is_some() {
            "PostgreSQL"
        } else {
            "SQLite"
        },
        actor.acknowledged.len(),
        actor.done_before,
        started.elapsed().as_secs_f64()
    );
    assert!(
        acknowledged > 0 && !actor.acknowledged.is_empty(),
        "no write went through"
    );
    server.term();
    assert!(server.exited(TIMEOUT).is_some_and(|s| s.success()), "{}", server.log());
}

/// A raw HTTP/1.1 report that stops after its headers, with `Expect: 100-continue`: once the
/// server answers `100 Continue` the request is in flight (its handler reads the body).
struct HeldRequest {
    stream: std::net::TcpStream,
    body: Vec<u8>,
}

impl HeldRequest {
    fn open(addr: &str, token: &str, key: &str, body: &Value) -> HeldRequest {
        let body = serde_json::to_vec(body).unwrap();
        let mut stream = std::net::TcpStream::connect(addr).expect("connect");
        stream.set_read_timeout(Some(TIMEOUT)).unwrap();
        write!(
            stream,
            "POST /api/cases HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nIdempotency-Key: {key}\r\nExpect: 100-continue\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            let n = stream.read(&mut byte).expect("read 100 Continue");
            assert_eq!(n, 1, "closed before 100 Continue: {}", String::from_utf8_lossy(&head));
            head.push(byte[0]);
        }
        let head = String::from_utf8_lossy(&head);
        assert!(head.starts_with("HTTP/1.1 100"), "{head}");
        HeldRequest { stream, body }
    }

    /// Send the body and read the whole answer: status and JSON body.
    fn finish(mut self) -> Result<(u16, Value), String> {
        self.stream
            .write_all(&self.body)
            .map_err(|e| format!("send body: {e}"))?;
        let mut answer = Vec::new();
        self.stream
            .read_to_end(&mut answer)
            .map_err(|e| format!("read answer: {e}"))?;
        let text = String::from_utf8_lossy(&answer).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").ok_or(format!("no answer: {text:?}"))?;
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or(format!("no status: {head}"))?;
        let length: Option<usize> = head
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("content-length:")
                    .map(|v| v.trim().to_owned())
            })
            .and_then(|v| v.parse().ok());
        if let Some(n) = length {
            if body.len() != n {
                return Err(format!("answer cut: {} of {n} bytes: {text}", body.len()));
            }
        }
        let v = serde_json::from_str(body).map_err(|e| format!("incomplete answer ({e}): {text}"))?;
        Ok((status, v))
    }
}

/// SIGTERM while requests are in flight: the server stops taking connections, answers every
/// request that had reached it completely, stops its sweeper, and exits 0 within the grace
/// period; what it answered 201 is stored. Then a request that never finishes: the grace
/// period runs out, the server stops anyway (exit 0) and says so; a second SIGTERM does the same
/// at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_answers_the_requests_in_flight_within_the_grace_period() {
    let test = "sigterm_answers_the_requests_in_flight_within_the_grace_period";
    if !enabled(test) {
        return;
    }
    let started = Instant::now();
    let mut rng = rng(test);
    let db = demo_db().await;
    db.store.close().await;
    let url = db.url.clone();
    let grace = 20;
    let mut server = Server::start(&url, &["--grace-seconds", &grace.to_string()]);
    let resident = login(&server.base(), "resident").await;
    let addr = server.addr.clone();

    // Sixteen reports in flight at once (each read its headers and awaits its body).
    let n = 16;
    let keys: Vec<String> = (0..n).map(|_| new_key(&mut rng)).collect();
    let held: Vec<HeldRequest> = keys
        .iter()
        .map(|k| HeldRequest::open(&addr, &resident, k, &report_body(k)))
        .collect();
    let signalled = Instant::now();
    server.term();
    // New connections are refused from now on.
    let refused = loop {
        if std::net::TcpStream::connect(&addr).is_err() {
            break true;
        }
        if signalled.elapsed() > Duration::from_secs(5) {
            break false;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(
        refused,
        "still accepting connections 5 s after SIGTERM\n{}",
        server.log()
    );
    assert!(
        server.child.try_wait().unwrap().is_none(),
        "exited with requests in flight\n{}",
        server.log()
    );
    let answers: Vec<(u16, Value)> = std::thread::scope(|s| {
        let handles: Vec<_> = held.into_iter().map(|h| s.spawn(move || h.finish())).collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap()
                    .unwrap_or_else(|e| panic!("a request in flight was cut: {e}"))
            })
            .collect()
    });
    let mut ids = Vec::new();
    for (key, (status, v)) in keys.iter().zip(&answers) {
        assert_eq!(*status, 201, "{v}");
        assert_eq!(
            v["case"]["case"]["description"].as_str().and_then(marker_of),
            Some(key.as_str())
        );
        ids.push(v["case"]["case"]["id"].as_i64().unwrap());
    }
    let status = server.exited(Duration::from_secs(grace + 5));
    let stopped_in = signalled.elapsed();
    let log = server.log();
    let status = status.unwrap_or_else(|| panic!("serve did not exit after SIGTERM\n{log}"));
    assert!(status.success(), "{status:?}\n{log}");
    assert!(
        stopped_in < Duration::from_secs(grace),
        "took {stopped_in:?}, grace {grace} s\n{log}"
    );
    assert!(log.contains("every request in flight was answered"), "{log}");
    assert!(log.contains("sweeper stopped"), "{log}");

    // Restarted: every report answered 201 is stored, once.
    let mut server = Server::start(&url, &["--grace-seconds", "2"]);
    let found = cases_by_marker(&server.base(), &login(&server.base(), "dispatcher").await).await;
    for (key, id) in keys.iter().zip(&ids) {
        let cases = found.get(key).map(Vec::as_slice).unwrap_or_default();
        assert_eq!(cases.len(), 1, "key {key}: {cases:?}");
        assert_eq!(cases[0]["case"]["id"].as_i64(), Some(*id));
    }

    // A request that never finishes: the grace period (2 s) runs out.
    let held = HeldRequest::open(&server.addr, &resident, &new_key(&mut rng), &report_body("stuck"));
    let signalled = Instant::now();
    server.term();
    let status = server.exited(Duration::from_secs(10));
    let took = signalled.elapsed();
    let log = server.log();
    let status = status.unwrap_or_else(|| panic!("serve did not stop after its grace period\n{log}"));
    assert!(status.success(), "{status:?}\n{log}");
    assert!(
        took >= Duration::from_millis(1900) && took < Duration::from_secs(8),
        "stopped after {took:?}, grace 2 s\n{log}"
    );
    assert!(log.contains("grace period is over"), "{log}");
    drop(held);

    // A second signal cuts a long grace period short.
    let mut server = Server::start(&url, &["--grace-seconds", "120"]);
    let held = HeldRequest::open(&server.addr, &resident, &new_key(&mut rng), &report_body("stuck"));
    server.term();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let second = Instant::now();
    server.term();
    let status = server.exited(Duration::from_secs(10));
    let log = server.log();
    let status = status.unwrap_or_else(|| panic!("a second SIGTERM did not stop serve\n{log}"));
    assert!(status.success(), "{status:?}\n{log}");
    assert!(
        second.elapsed() < Duration::from_secs(5),
        "{:?}\n{log}",
        second.elapsed()
    );
    assert!(log.contains("a second signal"), "{log}");
    drop(held);
    eprintln!(
        "{test}: {n} requests in flight at SIGTERM all answered 201 and stored; exit 0 in {:.2} s; \
         a stuck request cut after the 2 s grace period; a second SIGTERM stops at once ({:.1} s in all)",
        stopped_in.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
}

fn gongzhi(db: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new(BIN)
        .args(args)
        .env("GONGZHI_DATABASE", db)
        .env("GONGZHI_LOG", "warn")
        .output()
        .expect("run gongzhi");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// `gongzhi backup` several times while two clients report cases: each backup passes
/// `check-backup`, restores into a database that opens and serves, and holds every case
/// acknowledged before the backup began.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backups_taken_during_writes_are_sound_and_hold_every_acknowledged_case() {
    let test = "backups_taken_during_writes_are_sound_and_hold_every_acknowledged_case";
    if !enabled(test) {
        return;
    }
    if postgres_url().is_some() {
        eprintln!("{test}: skipped on PostgreSQL (pg_dump is its backup)");
        return;
    }
    let started = Instant::now();
    let mut rng = rng(test);
    let db = demo_db().await;
    db.store.close().await;
    let url = db.url.clone();
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(&url, &[]);
    let base = server.base();
    let resident = login(&base, "resident").await;

    let acknowledged: Arc<Mutex<Vec<(String, i64)>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..2)
        .map(|_| {
            let (acknowledged, stop, base, resident) =
                (acknowledged.clone(), stop.clone(), base.clone(), resident.clone());
            let mut rng = rand::rngs::StdRng::seed_from_u64(rng.gen());
            tokio::spawn(async move {
                let client = client();
                while !stop.load(Ordering::SeqCst) {
                    let key = new_key(&mut rng);
                    match post(&client, &base, "/api/cases", &resident, &key, &report_body(&key)).await {
                        Outcome::Answered { status: 201, body, .. } => {
                            let id = body["case"]["case"]["id"].as_i64().unwrap();
                            acknowledged.lock().unwrap().push((key, id));
                        }
                        other => panic!("a report during a backup: {other:?}"),
                    }
                }
            })
        })
        .collect();

    let backups = 4;
    let mut during = Vec::new();
    for i in 0..backups {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let before = acknowledged.lock().unwrap().clone();
        let file = dir.path().join(format!("backup-{i}.db"));
        let (u, f) = (url.clone(), file.clone());
        let (ok, out) = tokio::task::spawn_blocking(move || gongzhi(&u, &["backup", "--to", f.to_str().unwrap()]))
            .await
            .unwrap();
        assert!(ok, "backup {i}: {out}");
        during.push(acknowledged.lock().unwrap().len() - before.len());
        let (ok, out) = gongzhi(&url, &["check-backup", file.to_str().unwrap()]);
        assert!(ok && out.contains("sound backup"), "backup {i}: {out}");
        let restored = format!("sqlite://{}", dir.path().join(format!("restored-{i}.db")).display());
        let (ok, out) = gongzhi(&restored, &["restore", "--from", file.to_str().unwrap()]);
        assert!(ok, "restore {i}: {out}");

        // The restored database opens and serves, with every case acknowledged before.
        let mut copy = Server::start(&restored, &["--grace-seconds", "5"]);
        let client = client();
        let (s, v) = get(&client, &copy.base(), "/api/health", &resident).await;
        assert_eq!(s, 200, "restored {i}: {v}");
        let store = gongzhi_store::Store::connect(&restored)
            .await
            .expect("open the restored database");
        for (key, id) in &before {
            let row = store
                .case(gongzhi_demo::CITY, CaseId(*id))
                .await
                .expect("read")
                .unwrap_or_else(|| panic!("backup {i}: case {id} was acknowledged before it began but is missing"));
            assert_eq!(marker_of(&row.case.description), Some(key.as_str()));
        }
        store.close().await;
        if let Some((_, id)) = before.last() {
            let (s, v) = get(&client, &copy.base(), &format!("/api/cases/{id}"), &resident).await;
            assert_eq!(s, 200, "restored {i} serves case {id}: {v}");
        }
        copy.term();
        assert!(copy.exited(TIMEOUT).is_some_and(|s| s.success()), "{}", copy.log());
    }
    stop.store(true, Ordering::SeqCst);
    for w in writers {
        tokio::time::timeout(TIMEOUT, w)
            .await
            .expect("a writer hung")
            .expect("a writer failed");
    }
    // And the live database has everything too.
    let all = acknowledged.lock().unwrap().clone();
    let found = cases_by_marker(&base, &login(&base, "dispatcher").await).await;
    for (key, id) in &all {
        let cases = found.get(key).map(Vec::as_slice).unwrap_or_default();
        assert_eq!(cases.len(), 1, "key {key}: {cases:?}");
        assert_eq!(cases[0]["case"]["id"].as_i64(), Some(*id));
    }
    server.term();
    assert!(server.exited(TIMEOUT).is_some_and(|s| s.success()), "{}", server.log());
    eprintln!(
        "{test}: {backups} backups while {} reports were acknowledged ({during:?} during each backup), \
         each sound, restored and served ({:.1} s)",
        all.len(),
        started.elapsed().as_secs_f64()
    );
}
