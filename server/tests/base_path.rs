//! The whole server under a base path (`--base-path /admin/audit`), as a host's reverse proxy passes one path
//! to it: the page, its links, assets, forms and redirects, the API, the export and the server functions all
//! live under the prefix, and nothing answers outside it.

mod common;

use app::model::Role;
use common::TestApp;

const BASE: &str = "/admin/audit";

async fn app() -> TestApp {
    TestApp::start_secured(server::config::SecurityArgs {
        base_path: format!("{BASE}/"),
        ..Default::default()
    })
    .await
}

#[tokio::test]
async fn the_tab_its_api_and_its_server_functions_live_under_the_base_path() {
    let app = app().await;
    let token = app.token("ingest,read").await;
    let (status, body) = app
        .client
        .post(app.url(&format!("{BASE}/api/v1/events")))
        .bearer_auth(&token)
        .json(&common::event("mailbox.create", "Ada Prefix"))
        .send()
        .await
        .map(|r| (r.status(), r))
        .unwrap();
    assert_eq!(status, 201, "{:?}", body.text().await);
    // Outside the prefix nothing answers.
    for path in [
        "/admin/audit-log",
        "/api/v1/events",
        "/healthz",
        "/admin/auditx/healthz",
    ] {
        let resp = app.client.get(app.url(path)).bearer_auth(&token).send().await.unwrap();
        assert_eq!(resp.status(), 404, "{path}");
    }

    // The page, as an admin sees it under the prefix.
    let cookie = app.session(Role::Admin).await;
    let get = |path: String| {
        let (client, cookie) = (app.client.clone(), cookie.clone());
        let url = app.url(&path);
        async move { client.get(url).header("cookie", cookie).send().await.unwrap() }
    };
    let page = get(format!("{BASE}/admin/audit-log?embed=1")).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap().replace("<!>", "");
    for expected in [
        r#"<meta name="auditlog-base" content="/admin/audit">"#,
        r#"href="/admin/audit/pkg/auditlog.css""#,
        r#"<link rel="modulepreload" href="/admin/audit/pkg/auditlog.js""#,
        r#"("/admin/audit", "pkg", "auditlog""#,
        r#"action="/admin/audit/api/v1/events/export""#,
        r#"action="/admin/audit/api/fn/start_verify""#,
        "Ada Prefix",
    ] {
        assert!(html.contains(expected), "the page lacks {expected}");
    }
    // No link or form of the page leaves the prefix.
    common::assert_paths_under(&html, BASE);

    // The page of a path that is none, under the prefix too.
    let missing = get(format!("{BASE}/admin/nothing-here")).await;
    assert_eq!(missing.status(), 404);
    let missing = missing.text().await.unwrap().replace("<!>", "");
    assert!(missing.contains("Page not found"));
    common::assert_paths_under(&missing, BASE);

    // The server functions behind filters, auto-refresh and the detail.
    let list = get(format!("{BASE}/api/fn/list_events?query=actor%3DAda%2BPrefix")).await;
    assert_eq!(list.status(), 200);
    let list: serde_json::Value = list.json().await.unwrap();
    assert_eq!(list["total"], 1, "{list}");
    let id = list["entries"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(get(format!("{BASE}/api/fn/get_event?id={id}")).await.status(), 200);
    // The export the tab's form asks for.
    let export = get(format!("{BASE}/api/v1/events/export?format=csv&embed=1")).await;
    assert_eq!(export.status(), 200);
    assert!(export.text().await.unwrap().contains("Ada Prefix"));
    let (status, _) = app.get_json(&token, &format!("{BASE}/api/v1/events/{id}")).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn redirects_and_sign_in_stay_under_the_base_path() {
    let app = app().await;
    let location = |r: &reqwest::Response| r.headers()["location"].to_str().unwrap().to_string();
    let root = app.client.get(app.url(BASE)).send().await.unwrap();
    assert_eq!(location(&root), format!("{BASE}/admin"));
    let tab = app
        .client
        .get(app.url(&format!("{BASE}/admin/audit-log?embed=1")))
        .send()
        .await
        .unwrap();
    assert_eq!(tab.status(), 303);
    let to_sign_in = location(&tab);
    assert_eq!(
        to_sign_in,
        format!("{BASE}/login?next=%2Fadmin%2Faudit-log%3Fembed%3D1")
    );
    // The sign-in page posts under the prefix, and signing in comes back to the tab there.
    let form = app
        .client
        .get(app.url(&to_sign_in))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        form.contains(r#"action="/admin/audit/login""#),
        "the sign-in form leaves the prefix"
    );
    app.store
        .create_user("base@example.com", "B", Role::Admin, "correct-horse-battery")
        .await
        .unwrap();
    let signed_in = app
        .client
        .post(app.url(&format!("{BASE}/login")))
        .header("origin", app.origin())
        .form(&[
            ("email", "base@example.com"),
            ("password", "correct-horse-battery"),
            ("next", "/admin/audit-log?embed=1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 303);
    assert_eq!(location(&signed_in), format!("{BASE}/admin/audit-log?embed=1"));
}

#[test]
fn a_malformed_base_path_stops_the_start() {
    let security = server::config::SecurityArgs {
        base_path: "admin/audit".into(),
        ..Default::default()
    };
    let err = server::state::Security::new(&security).unwrap_err();
    assert!(err.contains("AUDITLOG_BASE_PATH"), "{err}");
}
