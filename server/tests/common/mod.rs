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
    deliverers: Option<tokio::task::JoinHandle<()>>,
}

impl TestApp {
    pub async fn start() -> TestApp {
        Self::start_tuned(app::store::Tuning::default()).await
    }

    /// A server whose store reads with `tuning` (an export's stall limit, say).
    pub async fn start_tuned(tuning: app::store::Tuning) -> TestApp {
        Self::start_with(tuning, server::config::SecurityArgs::default(), None).await
    }

    /// A server whose webhooks may reach 127.0.0.1, with its deliverers running as `delivery` paces them and
    /// each attempt given `timeout`.
    pub async fn start_delivering(delivery: server::webhooks::DeliveryConfig, timeout: std::time::Duration) -> TestApp {
        let security = server::config::SecurityArgs {
            webhook_allow_private: true,
            ..Default::default()
        };
        Self::start_with(app::store::Tuning::default(), security, Some((delivery, timeout))).await
    }

    /// A server with these access settings (a JWT sign-in, say).
    pub async fn start_secured(security: server::config::SecurityArgs) -> TestApp {
        Self::start_with(app::store::Tuning::default(), security, None).await
    }

    async fn start_with(
        tuning: app::store::Tuning,
        security: server::config::SecurityArgs,
        delivery: Option<(server::webhooks::DeliveryConfig, std::time::Duration)>,
    ) -> TestApp {
        // TEST_LOG=tower_http=debug,server=debug shows each request of a hanging or failing test.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(std::env::var("TEST_LOG").unwrap_or_else(|_| "off".into()))
            .with_writer(std::io::stderr)
            .with_thread_names(true)
            .try_init();
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("audit.db").display());
        let db = server::config::DatabaseArgs {
            database_url: url,
            checkpoint_interval_ms: 100,
            ..Default::default()
        };
        let mut state = server::build_state(&db, &security).await.expect("state");
        state.store = state.store.clone().with_tuning(tuning);
        let deliverers = delivery.map(|(config, timeout)| {
            let destinations = state.webhooks.destinations();
            state.webhooks = server::webhooks::Sender::new(destinations, timeout);
            tokio::spawn(server::webhooks::deliver::run(
                state.store.clone(),
                state.webhooks.clone(),
                config,
            ))
        });
        let store = state.store.clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let server = tokio::spawn(async move {
            let app = server::router::router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
            axum::serve(listener, app).await.expect("serve");
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
            deliverers,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A session cookie (`Cookie` header value) of a new user with this role.
    pub async fn session(&self, role: app::model::Role) -> String {
        let email = format!("{}-{}@example.com", role.as_str(), ulid::Ulid::new());
        let user = self
            .store
            .create_user(&email, "Test User", role, "correct-horse-battery")
            .await
            .expect("user");
        let token = self.store.create_session(&user.id, 60_000).await.expect("session");
        format!("auditlog_session={token}")
    }

    /// The `Origin` this server accepts for state-changing requests.
    pub fn origin(&self) -> String {
        self.base.clone()
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
        if let Some(d) = &self.deliverers {
            d.abort();
        }
    }
}

/// Asserts that every path a page links to, posts to or loads (`href`, `action`, `src` starting with `/`)
/// lies under `prefix`.
pub fn assert_paths_under(html: &str, prefix: &str) {
    for attribute in [r#"href="/"#, r#"action="/"#, r#"src="/"#] {
        for (at, _) in html.match_indices(attribute) {
            let rest = &html[at + attribute.len() - 1..];
            assert!(rest.starts_with(prefix), "{}", &rest[..rest.len().min(60)]);
        }
    }
}

/// A valid event with the given action and actor name.
pub fn event(action: &str, actor: &str) -> Value {
    serde_json::json!({"action": action, "actor": {"type": "user", "id": actor, "name": actor}})
}

/// Runs the real binary over the database `db` with `args` and `env`.
pub fn auditlog(db: &str, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_auditlog"));
    cmd.args(["--database-url", db])
        .args(args)
        .env("RUST_LOG", "warn")
        .stdin(std::process::Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run auditlog")
}

/// Output bytes as text.
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The real binary serving the database `db` on a free port of 127.0.0.1, killed (SIGKILL) when dropped.
pub struct Served {
    pub base: String,
    child: std::process::Child,
}

impl Served {
    /// Starts `auditlog serve` and waits until it answers `/healthz`.
    pub async fn start(db: &str) -> Served {
        Self::start_env(db, &[]).await
    }

    /// `start`, with these environment variables too.
    pub async fn start_env(db: &str, env: &[(&str, &str)]) -> Served {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
            l.local_addr().expect("addr").port()
        };
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_auditlog"))
            .args(["--database-url", db, "serve", "--addr", &format!("127.0.0.1:{port}")])
            .env("AUDITLOG_ADMIN_EMAIL", "a@example.com")
            .env("AUDITLOG_ADMIN_PASSWORD", "served-test-password")
            .env("RUST_LOG", "warn")
            .envs(env.iter().copied())
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("start auditlog serve");
        let served = Served {
            base: format!("http://127.0.0.1:{port}"),
            child,
        };
        let client = reqwest::Client::new();
        let started = std::time::Instant::now();
        while client.get(served.url("/healthz")).send().await.is_err() {
            assert!(
                started.elapsed() < std::time::Duration::from_secs(20),
                "server did not start"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        served
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// SIGKILL, and waits for the process to end.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.kill();
    }
}
