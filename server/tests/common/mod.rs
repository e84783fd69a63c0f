//! A real server on 127.0.0.1:0 over a temporary SQLite file, for tests that drive it over HTTP.
#![allow(dead_code)] // each test binary uses a different part of this helper

use app::store::{AuditStore, Scopes};
use serde_json::Value;
use tempfile::TempDir;

pub struct TestApp {
    pub base: String,
    pub store: AuditStore,
    pub client: reqwest::Client,
    pub dir: TempDir,
    server: tokio::task::JoinHandle<()>,
}

impl TestApp {
    pub async fn start() -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("audit.db").display());
        let state = server::build_state(&url).await.expect("state");
        let store = state.store.clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let server = tokio::spawn(async move {
            axum::serve(listener, server::router::router(state))
                .await
                .expect("serve");
        });
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        TestApp {
            base: format!("http://{addr}"),
            store,
            client,
            dir,
            server,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn token(&self, scopes: &str) -> String {
        self.store
            .create_token("test", &Scopes::parse(scopes).expect("scopes"))
            .await
            .expect("token")
            .plaintext
    }

    pub async fn post_events(&self, token: &str, body: &Value) -> (u16, Value) {
        let resp = self
            .client
            .post(self.url("/api/v1/events"))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("post");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    pub async fn get_json(&self, token: &str, path: &str) -> (u16, Value) {
        let resp = self
            .client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("get");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// A valid event with the given action and actor name.
pub fn event(action: &str, actor: &str) -> Value {
    serde_json::json!({"action": action, "actor": {"type": "user", "id": actor, "name": actor}})
}
