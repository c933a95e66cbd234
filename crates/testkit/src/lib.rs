//! Test helpers shared by the storage and API suites.
//!
//! The backend is chosen by `GONGZHI_TEST_DATABASE`: unset → a fresh SQLite file per test; a
//! `postgres://…` URL → a fresh schema per test on that server (dropped at the end of the run
//! by nothing: schemas are cheap and named `t_<random>`, `.ci/run` drops them).
#![forbid(unsafe_code)]

use std::net::SocketAddr;
use std::sync::OnceLock;

use gongzhi_store::Store;
use gongzhi_web::AppState;
use rand::Rng;
use sqlx::Connection;

/// A store on a fresh database, and what keeps that database alive.
pub struct TestDb {
    pub store: Store,
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

/// The PostgreSQL URL under test, if any.
pub fn postgres_url() -> Option<String> {
    std::env::var("GONGZHI_TEST_DATABASE")
        .ok()
        .filter(|u| u.starts_with("postgres"))
}

/// The URL of a fresh, empty database (not yet migrated), and what keeps it alive.
pub async fn fresh_url() -> (String, Option<tempfile::TempDir>) {
    match postgres_url() {
        Some(base) => {
            sqlx::any::install_default_drivers();
            let schema = format!("t_{:016x}", rand::thread_rng().gen::<u64>());
            let mut conn = sqlx::AnyConnection::connect(&base)
                .await
                .unwrap_or_else(|e| panic!("PostgreSQL at {base} is unreachable: {e}"));
            sqlx::query(&format!("CREATE SCHEMA {schema}"))
                .execute(&mut conn)
                .await
                .expect("create schema");
            conn.close().await.ok();
            let sep = if base.contains('?') { '&' } else { '?' };
            (format!("{base}{sep}options=-c%20search_path%3D{schema}"), None)
        }
        None => {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite://{}", dir.path().join("test.db").display());
            (url, Some(dir))
        }
    }
}

pub async fn fresh_db() -> TestDb {
    let (url, dir) = fresh_url().await;
    let store = Store::connect(&url).await.expect("connect to the test database");
    TestDb { store, url, _dir: dir }
}

/// The demo city, small (3 communities), built once per test binary.
pub fn small_demo() -> &'static gongzhi_demo::Demo {
    static DEMO: OnceLock<gongzhi_demo::Demo> = OnceLock::new();
    DEMO.get_or_init(|| {
        gongzhi_demo::build(&gongzhi_demo::Options {
            communities: Some(3),
            seed: 7,
        })
    })
}

/// A cheap password hash for tests (argon2 with the real code, computed once).
pub fn demo_hash(p: &str) -> String {
    static HASH: OnceLock<String> = OnceLock::new();
    assert_eq!(p, gongzhi_demo::DEMO_PASSWORD);
    HASH.get_or_init(|| gongzhi_web::auth::hash_password(gongzhi_demo::DEMO_PASSWORD))
        .clone()
}

/// A fresh database with the small demo city loaded.
pub async fn demo_db() -> TestDb {
    let db = fresh_db().await;
    gongzhi_demo::load(&db.store, small_demo(), &demo_hash, |_| {})
        .await
        .expect("load demo");
    db
}

/// A SQLite database file in `dir` (which the caller keeps alive) with the small demo city
/// loaded: for tests that choose where the file lives (a small disk, for instance).
pub async fn demo_db_in(dir: &std::path::Path) -> TestDb {
    let url = format!("sqlite://{}", dir.join("test.db").display());
    let store = Store::connect(&url).await.expect("connect to the test database");
    gongzhi_demo::load(&store, small_demo(), &demo_hash, |_| {})
        .await
        .expect("load demo");
    TestDb { store, url, _dir: None }
}

/// The real server on a loopback port over a demo database.
pub struct TestApp {
    pub addr: SocketAddr,
    pub db: TestDb,
    pub client: reqwest::Client,
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        TestApp::spawn_on(demo_db().await).await
    }

    /// The real server over a database the caller prepared.
    pub async fn spawn_on(db: TestDb) -> TestApp {
        let state = AppState::new(db.store.clone(), gongzhi_demo::CITY)
            .await
            .expect("state");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            axum_serve(listener, state).await;
        });
        TestApp {
            addr,
            db,
            client: reqwest::Client::new(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Log in as a demo account and return its bearer token.
    pub async fn token(&self, username: &str) -> String {
        let r = self
            .client
            .post(self.url("/api/auth/login"))
            .json(&serde_json::json!({ "username": username, "password": gongzhi_demo::DEMO_PASSWORD }))
            .send()
            .await
            .expect("login request");
        assert_eq!(r.status(), 200, "login as {username}");
        let v: serde_json::Value = r.json().await.expect("login json");
        v["token"].as_str().expect("token").to_owned()
    }

    /// A client that logged in through the login form as a demo account, carrying the session
    /// cookie, for page tests.
    pub async fn browser(&self, username: &str) -> reqwest::Client {
        let client = reqwest::Client::builder().cookie_store(true).build().expect("client");
        let form = [("username", username), ("password", gongzhi_demo::DEMO_PASSWORD)];
        let r = client
            .post(self.url("/login"))
            .form(&form)
            .send()
            .await
            .expect("login request");
        assert!(r.status().is_success(), "page login as {username}");
        client
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> (u16, serde_json::Value) {
        let mut req = self.client.get(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let r = req.send().await.expect("request");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(serde_json::Value::Null))
    }

    pub async fn send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: serde_json::Value,
    ) -> (u16, serde_json::Value) {
        let mut req = self
            .client
            .request(method.parse().expect("method"), self.url(path))
            .json(&body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let r = req.send().await.expect("request");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(serde_json::Value::Null))
    }
}

async fn axum_serve(listener: tokio::net::TcpListener, state: AppState) {
    gongzhi_web::serve_on(listener, state).await.expect("server");
}
