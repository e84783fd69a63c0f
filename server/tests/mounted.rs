//! A host mounts the tab and its API in its own axum app, at a path of its choosing, behind its own sign-in
//! (here: a header its front end sets), through the public seam (`server::viewers::Viewers`) the demo panel
//! uses too: the rendered page, its links, the export and the server functions all work there, as the host's
//! person, and the host's own routes are untouched.

mod common;

use std::sync::Arc;

use app::model::Role;
use axum::{Router, routing::get};
use server::viewers::{Asking, Found, Viewer, Viewers};

const AT: &str = "/admin/security/audit";

/// The host's sign-in: whoever its front end says in `x-host-user` (an admin of the whole log).
struct HostSignIn;

impl Viewers for HostSignIn {
    fn viewer<'a>(&'a self, asking: Asking<'a>) -> Found<'a> {
        Box::pin(async move {
            let name = asking.headers.get("x-host-user")?.to_str().ok()?.to_string();
            Some(Viewer {
                id: format!("host:{name}"),
                email: format!("{name}@host.example"),
                name,
                role: Role::Admin,
                tenant: None,
            })
        })
    }
}

struct Host {
    base: String,
    store: app::store::AuditStore,
    client: reqwest::Client,
    _dir: tempfile::TempDir,
}

async fn host() -> Host {
    let dir = tempfile::tempdir().unwrap();
    let db = server::config::DatabaseArgs {
        database_url: format!("sqlite://{}", dir.path().join("audit.db").display()),
        ..Default::default()
    };
    let security = server::config::SecurityArgs {
        base_path: AT.into(),
        ..Default::default()
    };
    let mut state = server::build_state(&db, &security).await.unwrap();
    state.viewers = Arc::new(HostSignIn);
    let store = state.store.clone();
    let app = Router::new()
        .route("/", get(|| async { "the host's own home" }))
        .merge(server::router::router(state));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
        axum::serve(listener, app).await.unwrap();
    });
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    Host {
        base: format!("http://{addr}"),
        store,
        client,
        _dir: dir,
    }
}

impl Host {
    async fn get(&self, path: &str, user: Option<&str>) -> reqwest::Response {
        let mut req = self.client.get(format!("{}{path}", self.base));
        if let Some(user) = user {
            req = req.header("x-host-user", user);
        }
        req.send().await.unwrap()
    }
}

#[tokio::test]
async fn a_host_mounts_the_tab_and_its_api_behind_its_own_sign_in() {
    let host = host().await;
    let token = host
        .store
        .create_token("host", &app::store::Scopes::parse("ingest").unwrap())
        .await
        .unwrap()
        .plaintext;
    let ingested = host
        .client
        .post(format!("{}{AT}/api/v1/events", host.base))
        .bearer_auth(&token)
        .json(&serde_json::json!({"action": "mailbox.create", "actor": {"type": "user", "name": "Mia Mounted"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(ingested.status(), 201);
    assert_eq!(host.get("/", None).await.text().await.unwrap(), "the host's own home");

    // Not signed in with the host: sent to sign in, under the mount.
    let anonymous = host.get(&format!("{AT}/admin/audit-log"), None).await;
    assert_eq!(anonymous.status(), 303);
    assert!(
        anonymous.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with(&format!("{AT}/login?next="))
    );

    // The page as the host's person sees it: the event, every link and form under the mount.
    let page = host.get(&format!("{AT}/admin/audit-log?embed=1"), Some("alice")).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap().replace("<!>", "");
    assert!(html.contains("Mia Mounted"));
    assert!(html.contains(&format!(r#"action="{AT}/api/v1/events/export""#)));
    common::assert_paths_under(&html, AT);

    // The server functions behind the filters and the detail.
    let list = host
        .get(
            &format!("{AT}/api/fn/list_events?query=actor%3DMia%2BMounted"),
            Some("alice"),
        )
        .await;
    assert_eq!(list.status(), 200);
    let list: serde_json::Value = list.json().await.unwrap();
    assert_eq!(list["total"], 1, "{list}");
    let id = list["entries"][0]["id"].as_str().unwrap();
    assert_eq!(
        host.get(&format!("{AT}/api/fn/get_event?id={id}"), Some("alice"))
            .await
            .status(),
        200
    );

    // The export, recorded as the host's person.
    let export = host
        .get(&format!("{AT}/api/v1/events/export?format=csv"), Some("alice"))
        .await;
    assert_eq!(export.status(), 200);
    assert!(export.text().await.unwrap().contains("Mia Mounted"));
    let q = app::model::AuditQuery::from_query_string("action=audit.export&actor=host:alice").unwrap();
    let mut recorded = host.store.count(&q).await.unwrap();
    for _ in 0..50 {
        if recorded > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        recorded = host.store.count(&q).await.unwrap();
    }
    assert_eq!(recorded, 1);
}
