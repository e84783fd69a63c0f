//! Access control over HTTP: every route and server function of the router is in the table below (the test
//! fails when one is added without an entry), and each is tried without credentials, as a viewer, with a
//! token of the wrong scope and with a revoked token. Then sign-in, brute force, CSRF and headers.

mod common;

use app::model::Role;
use common::TestApp;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Needs {
    Public,
    SignedIn,
    Admin,
    /// The JSON API; the scope a token needs.
    Api(&'static str),
}

/// Every route: (method, route pattern, path to request, what it needs).
const ROUTES: &[(&str, &str, &str, Needs)] = &[
    ("GET", "/", "/", Needs::Public),
    ("GET", "/healthz", "/healthz", Needs::Public),
    // The API's contract: what any client may read before it has a token.
    ("GET", "/api/v1/openapi.json", "/api/v1/openapi.json", Needs::Public),
    ("POST", "/login", "/login", Needs::Public),
    ("POST", "/logout", "/logout", Needs::Public),
    ("GET", "/login", "/login", Needs::Public),
    ("POST", "/api/v1/events", "/api/v1/events", Needs::Api("ingest")),
    ("GET", "/api/v1/events", "/api/v1/events", Needs::Api("read")),
    (
        "GET",
        "/api/v1/events/export",
        "/api/v1/events/export",
        Needs::Api("read"),
    ),
    (
        "GET",
        "/api/v1/events/{id}",
        "/api/v1/events/01JB8Q4K7N2X5S3V9T0R1C6M2D",
        Needs::Api("read"),
    ),
    (
        "GET",
        "/api/v1/events/{id}/proof",
        "/api/v1/events/01JB8Q4K7N2X5S3V9T0R1C6M2D/proof",
        Needs::Api("read"),
    ),
    ("GET", "/api/v1/log/key", "/api/v1/log/key", Needs::Api("read")),
    (
        "GET",
        "/api/v1/log/checkpoint",
        "/api/v1/log/checkpoint",
        Needs::Api("read"),
    ),
    (
        "GET",
        "/api/v1/log/consistency",
        "/api/v1/log/consistency?from=1",
        Needs::Api("read"),
    ),
    ("GET", "/api/v1/facets", "/api/v1/facets", Needs::Api("read")),
    (
        "GET",
        "/api/v1/settings/retention",
        "/api/v1/settings/retention",
        Needs::Api("admin"),
    ),
    (
        "PUT",
        "/api/v1/settings/retention",
        "/api/v1/settings/retention",
        Needs::Api("admin"),
    ),
    ("GET", "/api/v1/webhooks", "/api/v1/webhooks", Needs::Api("admin")),
    ("POST", "/api/v1/webhooks", "/api/v1/webhooks", Needs::Api("admin")),
    (
        "GET",
        "/api/v1/webhooks/{id}",
        "/api/v1/webhooks/01JB8Q4K7N2X5S3V9T0R1C6M2D",
        Needs::Api("admin"),
    ),
    (
        "PATCH",
        "/api/v1/webhooks/{id}",
        "/api/v1/webhooks/01JB8Q4K7N2X5S3V9T0R1C6M2D",
        Needs::Api("admin"),
    ),
    (
        "DELETE",
        "/api/v1/webhooks/{id}",
        "/api/v1/webhooks/01JB8Q4K7N2X5S3V9T0R1C6M2D",
        Needs::Api("admin"),
    ),
    (
        "POST",
        "/api/v1/webhooks/{id}/rotate-secret",
        "/api/v1/webhooks/01JB8Q4K7N2X5S3V9T0R1C6M2D/rotate-secret",
        Needs::Api("admin"),
    ),
    (
        "POST",
        "/api/v1/webhooks/{id}/replay",
        "/api/v1/webhooks/01JB8Q4K7N2X5S3V9T0R1C6M2D/replay",
        Needs::Api("admin"),
    ),
    (
        "POST",
        "/api/v1/webhooks/{id}/test",
        "/api/v1/webhooks/01JB8Q4K7N2X5S3V9T0R1C6M2D/test",
        Needs::Api("admin"),
    ),
    ("GET", "/metrics", "/metrics", Needs::Api("read")),
    ("GET", "/admin", "/admin", Needs::SignedIn),
    ("GET", "/admin/users", "/admin/users", Needs::SignedIn),
    ("GET", "/admin/settings", "/admin/settings", Needs::SignedIn),
    ("GET", "/admin/audit-log", "/admin/audit-log", Needs::Admin),
    ("GET", "/api/fn/list_events", "/api/fn/list_events", Needs::Admin),
    ("GET", "/api/fn/get_event", "/api/fn/get_event", Needs::Admin),
    ("GET", "/api/fn/get_facets", "/api/fn/get_facets", Needs::Admin),
    (
        "GET",
        "/api/fn/get_facet_counts",
        "/api/fn/get_facet_counts?query=",
        Needs::Admin,
    ),
    ("POST", "/api/fn/start_verify", "/api/fn/start_verify", Needs::Admin),
    ("GET", "/api/fn/verify_status", "/api/fn/verify_status", Needs::Admin),
    ("GET", "/api/fn/current_user", "/api/fn/current_user", Needs::SignedIn),
    ("GET", "/api/fn/list_users", "/api/fn/list_users", Needs::SignedIn),
    ("POST", "/api/fn/create_user", "/api/fn/create_user", Needs::Admin),
    ("POST", "/api/fn/update_user", "/api/fn/update_user", Needs::Admin),
    ("POST", "/api/fn/delete_user", "/api/fn/delete_user", Needs::Admin),
    ("GET", "/api/fn/list_settings", "/api/fn/list_settings", Needs::SignedIn),
    (
        "POST",
        "/api/fn/update_setting",
        "/api/fn/update_setting",
        Needs::SignedIn,
    ),
    ("GET", "/api/fn/get_retention", "/api/fn/get_retention", Needs::Admin),
    ("POST", "/api/fn/set_retention", "/api/fn/set_retention", Needs::Admin),
    ("GET", "/api/fn/list_tokens", "/api/fn/list_tokens", Needs::Admin),
    ("POST", "/api/fn/create_token", "/api/fn/create_token", Needs::Admin),
    ("POST", "/api/fn/revoke_token", "/api/fn/revoke_token", Needs::Admin),
    ("GET", "/api/fn/list_ip_blocks", "/api/fn/list_ip_blocks", Needs::Admin),
    ("POST", "/api/fn/unblock_ip", "/api/fn/unblock_ip", Needs::Admin),
    ("GET", "/api/fn/list_webhooks", "/api/fn/list_webhooks", Needs::Admin),
    ("POST", "/api/fn/add_webhook", "/api/fn/add_webhook", Needs::Admin),
    ("POST", "/api/fn/webhook_action", "/api/fn/webhook_action", Needs::Admin),
];

/// The password every user of these tests has.
const PASSWORD: &str = "correct-horse-battery";

/// A user with this email and role.
async fn user(app: &TestApp, email: &str, role: Role) -> app::model::User {
    app.store.create_user(email, "Test User", role, PASSWORD).await.unwrap()
}

/// Posts the sign-in form from this server's origin, with `headers` besides.
async fn sign_in(app: &TestApp, form: &[(&str, &str)], headers: &[(&str, &str)]) -> reqwest::Response {
    let mut req = app
        .client
        .post(app.url("/login"))
        .header("origin", app.origin())
        .form(form);
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    req.send().await.unwrap()
}

fn normalise(path: &str) -> String {
    // Leptos lists server functions and pages in its own spelling; compare without a trailing slash.
    path.trim_end_matches('/').to_string()
}

#[test]
fn every_route_of_the_router_has_an_entry() {
    let inventory = server::router::inventory();
    assert!(
        inventory.len() >= 20,
        "the inventory lists every route ({} found)",
        inventory.len()
    );
    for (method, path) in inventory {
        let known = ROUTES
            .iter()
            .any(|(m, p, _, _)| *m == method.as_str() && normalise(p) == normalise(&path));
        assert!(known, "{method} {path} has no entry in the access table of this test");
    }
}

async fn send(
    app: &TestApp,
    method: &str,
    path: &str,
    cookie: Option<&str>,
    bearer: Option<&str>,
) -> reqwest::Response {
    let method = Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = app.client.request(method.clone(), app.url(path));
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    if let Some(t) = bearer {
        req = req.bearer_auth(t);
    }
    if ![Method::GET, Method::HEAD].contains(&method) {
        req = req
            .header("origin", app.origin())
            .header("content-type", "application/x-www-form-urlencoded")
            .body("");
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn every_route_refuses_whoever_may_not_use_it() {
    let app = TestApp::start().await;
    let viewer_user = app
        .store
        .create_user("v@example.com", "V", Role::Viewer, "correct-horse-battery")
        .await
        .unwrap();
    let admin_user = app
        .store
        .create_user("a@example.com", "A", Role::Admin, "correct-horse-battery")
        .await
        .unwrap();
    let revoked = app
        .store
        .create_token("old", &app::store::Scopes::parse("admin").unwrap())
        .await
        .unwrap();
    app.store.revoke_token(&revoked.token.id).await.unwrap();
    for &(method, _, path, needs) in ROUTES {
        // Fresh sessions each time: `POST /logout` ends the one it is sent with.
        let cookie = |id: String| {
            let store = app.store.clone();
            async move { format!("auditlog_session={}", store.create_session(&id, 60_000).await.unwrap()) }
        };
        let viewer = cookie(viewer_user.id.clone()).await;
        let admin = cookie(admin_user.id.clone()).await;
        let anon = send(&app, method, path, None, None).await;
        let as_viewer = send(&app, method, path, Some(&viewer), None).await.status();
        let as_admin = send(&app, method, path, Some(&admin), None).await.status();
        let what = format!("{method} {path}");
        match needs {
            Needs::Public => {
                assert!(
                    ![401, 403].contains(&anon.status().as_u16()),
                    "{what}: public, got {}",
                    anon.status()
                );
            }
            Needs::SignedIn | Needs::Admin if path.starts_with("/api/fn/") => {
                assert_eq!(anon.status(), StatusCode::UNAUTHORIZED, "{what}: anonymous");
                let viewer_refused = as_viewer == StatusCode::FORBIDDEN;
                assert_eq!(viewer_refused, needs == Needs::Admin, "{what}: viewer got {as_viewer}");
                assert!(![401, 403].contains(&as_admin.as_u16()), "{what}: admin got {as_admin}");
            }
            Needs::SignedIn | Needs::Admin => {
                assert_eq!(
                    anon.status(),
                    StatusCode::SEE_OTHER,
                    "{what}: anonymous is sent to sign in"
                );
                assert!(
                    anon.headers()["location"].to_str().unwrap().starts_with("/login?next="),
                    "{what}"
                );
                let expected = if needs == Needs::Admin { 403 } else { 200 };
                assert_eq!(as_viewer.as_u16(), expected, "{what}: viewer");
                assert_eq!(as_admin.as_u16(), 200, "{what}: admin");
            }
            Needs::Api(scope) => {
                assert_eq!(anon.status(), StatusCode::UNAUTHORIZED, "{what}: anonymous");
                assert_eq!(as_viewer, StatusCode::FORBIDDEN, "{what}: viewer session");
                assert!(
                    ![401, 403].contains(&as_admin.as_u16()),
                    "{what}: admin session got {as_admin}"
                );
                let wrong = if scope == "read" { "ingest" } else { "read" };
                let wrong = app.token(wrong).await;
                assert_eq!(
                    send(&app, method, path, None, Some(&wrong)).await.status(),
                    403,
                    "{what}: wrong scope"
                );
                let right = app.token(scope).await;
                let ok = send(&app, method, path, None, Some(&right)).await.status();
                assert!(![401, 403].contains(&ok.as_u16()), "{what}: right scope got {ok}");
                let gone = send(&app, method, path, None, Some(&revoked.plaintext)).await.status();
                assert_eq!(gone, 401, "{what}: revoked token");
            }
        }
    }
}

/// A token bound to a tenant, and a host's admin of one tenant: each reaches what reads events (its tenant's),
/// and nothing of the whole log's settings, webhooks or figures.
#[tokio::test]
async fn a_tenant_reaches_its_events_and_none_of_the_whole_logs_settings() {
    let app = TestApp::start().await;
    let scopes = app::store::Scopes::parse("ingest,read").unwrap();
    let token = app
        .store
        .create_token_recorded("acme-ci", &scopes, Some("acme"), |_| None)
        .await
        .unwrap()
        .plaintext;
    let viewer = app::model::User {
        id: "host:t-1".into(),
        email: "t@acme.example".into(),
        name: "T".into(),
        role: Role::Admin,
        tenant: Some("acme".into()),
    };
    let reads = [
        "list_events",
        "get_event",
        "get_facets",
        "get_facet_counts",
        "verify_status",
    ];
    for &(method, _, path, needs) in ROUTES {
        let what = format!("{method} {path}");
        match needs {
            Needs::Api(scope) => {
                let status = send(&app, method, path, None, Some(&token)).await.status().as_u16();
                let whole_log = scope == "admin" || path == "/metrics";
                match whole_log {
                    true => assert_eq!(status, 403, "{what}: a tenant's token"),
                    false => assert!(![401, 403].contains(&status), "{what}: a tenant's token got {status}"),
                }
            }
            Needs::Admin | Needs::SignedIn if path.starts_with("/api/fn/") => {
                let expires = chrono::Utc::now().timestamp_millis() + 60_000;
                let session = app.store.create_host_session(&viewer, expires).await.unwrap();
                let cookie = format!("auditlog_session={session}");
                let status = send(&app, method, path, Some(&cookie), None).await.status().as_u16();
                let read = reads.iter().any(|r| path.contains(r)) || needs == Needs::SignedIn;
                match read {
                    true => assert!(![401, 403].contains(&status), "{what}: a tenant's admin got {status}"),
                    false => assert_eq!(status, 403, "{what}: a tenant's admin"),
                }
            }
            _ => {}
        }
    }
    // A token for one tenant cannot be an admin token.
    let admin = app::store::Scopes::parse("admin").unwrap();
    let refused = app
        .store
        .create_token_recorded("x", &admin, Some("acme"), |_| None)
        .await;
    assert!(matches!(refused, Err(app::store::StoreError::Invalid(f)) if f.field == "scope"));
}

#[tokio::test]
async fn sign_in_sets_a_strict_http_only_session_and_is_recorded() {
    let app = TestApp::start().await;
    user(&app, "ann@example.com", Role::Admin).await;
    let form = [
        ("email", "ann@example.com"),
        ("password", PASSWORD),
        ("next", "/admin/audit-log"),
    ];
    let resp = sign_in(&app, &form, &[("user-agent", "test-agent/1")]).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()["location"], "/admin/audit-log");
    let cookie = resp.headers()["set-cookie"].to_str().unwrap().to_string();
    for part in ["auditlog_session=", "HttpOnly", "SameSite=Strict", "Path=/", "Max-Age="] {
        assert!(cookie.contains(part), "{cookie} lacks {part}");
    }
    let session = cookie.split(';').next().unwrap().to_string();
    let page = app
        .client
        .get(app.url("/admin/audit-log"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);

    let events = app
        .store
        .list(&app::model::AuditQuery::from_query_string("action=auth.login").unwrap())
        .await
        .unwrap();
    let e = app.store.get(&events.entries[0].id).await.unwrap();
    assert_eq!(
        (e.outcome.as_str(), e.actor.email.as_deref()),
        ("success", Some("ann@example.com"))
    );
    assert_eq!(e.user_agent.as_deref(), Some("test-agent/1"));
    assert_eq!(e.ip.as_deref(), Some("127.0.0.1"));

    let out = app
        .client
        .post(app.url("/logout"))
        .header("cookie", &session)
        .header("origin", app.origin())
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    let after = app
        .client
        .get(app.url("/admin"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), StatusCode::SEE_OTHER, "the session is gone");
    assert_eq!(
        app.store
            .count(&app::model::AuditQuery::from_query_string("action=auth.logout").unwrap())
            .await
            .unwrap(),
        1
    );
}

#[tokio::test]
async fn an_admin_sees_the_blocked_addresses_and_unblocks_one_recorded() {
    let app = TestApp::start().await;
    user(&app, "ann@example.com", Role::Viewer).await;
    let attempt = |password: &'static str| {
        app.client
            .post(app.url("/login"))
            .form(&[("email", "ann@example.com"), ("password", password)])
            .send()
    };
    for _ in 0..5 {
        attempt("wrong-password").await.unwrap();
    }
    assert_eq!(attempt(PASSWORD).await.unwrap().status(), StatusCode::TOO_MANY_REQUESTS);

    let admin = app.session(Role::Admin).await;
    let (status, body) = call(&app, &admin, "GET", "/api/fn/list_ip_blocks", "").await;
    assert_eq!(status, 200, "{body}");
    let blocks: Vec<app::model::ip::IpBlock> = serde_json::from_str(&body).unwrap();
    assert_eq!(blocks.len(), 1, "{body}");
    assert_eq!((blocks[0].address.as_str(), blocks[0].failures), ("127.0.0.1", 5));

    let (status, body) = call(&app, &admin, "POST", "/api/fn/unblock_ip", "address=127.0.0.1").await;
    assert_eq!(status, 200, "{body}");
    let (_, body) = call(&app, &admin, "GET", "/api/fn/list_ip_blocks", "").await;
    assert_eq!(body, "[]");
    let signed_in = attempt(PASSWORD).await.unwrap();
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    assert!(!signed_in.headers()["location"].to_str().unwrap().starts_with("/login"));

    let q = |s: &str| app::model::AuditQuery::from_query_string(s).unwrap();
    let page = app.store.list(&q("action=auth.ip_unblocked")).await.unwrap();
    assert_eq!(page.total, 1);
    let event = app.store.get(&page.entries[0].id).await.unwrap();
    assert_eq!(event.target.and_then(|t| t.name).as_deref(), Some("127.0.0.1"));
    assert_eq!(event.details["failures"], json!(5));
    assert_eq!(event.actor.kind, app::model::ActorType::User);
    let (status, _) = call(&app, &admin, "POST", "/api/fn/unblock_ip", "address=127.0.0.1").await;
    assert_eq!(status, 404, "no longer blocked");
}

#[tokio::test]
async fn unknown_email_and_wrong_password_fail_alike_and_five_failures_block_the_ip() {
    let app = TestApp::start().await;
    app.store
        .create_user("ann@example.com", "Ann", Role::Admin, "correct-horse-battery")
        .await
        .unwrap();
    let attempt = |email: &'static str, password: &'static str| {
        app.client
            .post(app.url("/login"))
            .form(&[("email", email), ("password", password)])
            .send()
    };
    let unknown = attempt("nobody@example.com", "whatever-password").await.unwrap();
    let wrong = attempt("ann@example.com", "wrong-password").await.unwrap();
    assert_eq!(unknown.status(), StatusCode::SEE_OTHER);
    assert_eq!(unknown.headers()["location"], wrong.headers()["location"]);
    assert!(
        unknown.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/login?error=invalid")
    );
    for _ in 0..2 {
        attempt("ann@example.com", "wrong-password").await.unwrap();
    }
    let fifth = attempt("ann@example.com", "wrong-password").await.unwrap();
    assert_eq!(fifth.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = fifth.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((3500..=3600).contains(&retry), "retry after {retry}");
    let right_password_too_late = attempt("ann@example.com", "correct-horse-battery").await.unwrap();
    assert_eq!(
        right_password_too_late.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "blocked even with the right password"
    );

    let q = |s: &str| app::model::AuditQuery::from_query_string(s).unwrap();
    assert_eq!(
        app.store.count(&q("action=auth.login&outcome=failure")).await.unwrap(),
        5
    );
    assert_eq!(app.store.count(&q("action=auth.ip_blocked")).await.unwrap(), 1);
    let failure = app
        .store
        .list(&q("action=auth.login&outcome=failure&order=asc"))
        .await
        .unwrap();
    let first = app.store.get(&failure.entries[0].id).await.unwrap();
    assert_eq!(first.details["attempted_email"], json!("nobody@example.com"));
}

#[tokio::test]
async fn the_block_expires_after_its_window() {
    let app = TestApp::start().await;
    let policy = app::store::BruteForcePolicy {
        max_failures: 3,
        window_ms: 1_000,
        block_ms: 5_000,
    };
    let t0 = 1_000_000;
    assert_eq!(
        app.store.record_login_failure("192.0.2.1", t0, policy).await.unwrap(),
        None
    );
    // A failure outside the window does not count towards the block.
    assert_eq!(
        app.store
            .record_login_failure("192.0.2.1", t0 + 1_500, policy)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        app.store
            .record_login_failure("192.0.2.1", t0 + 1_600, policy)
            .await
            .unwrap(),
        None
    );
    let until = app
        .store
        .record_login_failure("192.0.2.1", t0 + 1_700, policy)
        .await
        .unwrap();
    assert_eq!(until, Some(t0 + 6_700));
    assert_eq!(
        app.store.ip_blocked_until("192.0.2.1", t0 + 6_000).await.unwrap(),
        Some(t0 + 6_700)
    );
    assert_eq!(
        app.store.ip_blocked_until("192.0.2.1", t0 + 6_700).await.unwrap(),
        None,
        "expired"
    );
    assert_eq!(
        app.store.ip_blocked_until("192.0.2.2", t0 + 2_000).await.unwrap(),
        None,
        "other IPs unaffected"
    );
}

#[tokio::test]
async fn a_cross_origin_post_with_a_session_is_refused() {
    let app = TestApp::start().await;
    let admin = app.session(Role::Admin).await;
    let evil = app
        .client
        .post(app.url("/api/v1/events"))
        .header("cookie", &admin)
        .header("origin", "https://evil.example")
        .json(&common::event("a.b", "1"))
        .send()
        .await
        .unwrap();
    assert_eq!(evil.status(), 403);
    let missing = app
        .client
        .post(app.url("/api/v1/events"))
        .header("cookie", &admin)
        .json(&common::event("a.b", "1"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 403, "no Origin with a session cookie");
    let same = app
        .client
        .post(app.url("/api/v1/events"))
        .header("cookie", &admin)
        .header("origin", app.origin())
        .json(&common::event("a.b", "1"))
        .send()
        .await
        .unwrap();
    assert_eq!(same.status(), 201);
}

#[tokio::test]
async fn pages_carry_security_headers_with_a_nonce_for_their_scripts() {
    let app = TestApp::start().await;
    let admin = app.session(Role::Admin).await;
    let resp = app
        .client
        .get(app.url("/admin/audit-log"))
        .header("cookie", admin)
        .send()
        .await
        .unwrap();
    let csp = resp.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert_eq!(resp.headers()["x-content-type-options"], "nosniff");
    assert!(resp.headers().contains_key("referrer-policy"));
    assert_eq!(
        resp.headers()["cache-control"],
        "no-store",
        "a page of audit data is never cached"
    );
    assert!(
        !resp.headers().contains_key("x-auditlog-nonce"),
        "the nonce hand-off header is removed"
    );
    assert!(
        csp.contains("frame-ancestors 'self'") && csp.contains("default-src 'self'"),
        "{csp}"
    );
    let html = resp.text().await.unwrap();
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|s| s.split('\'').next())
        .expect("nonce in CSP");
    assert!(
        html.contains(&format!("nonce=\"{nonce}\"")),
        "the page's scripts carry the CSP nonce"
    );
}

/// Calls a server function as this session, with a form body (POST) or a query string (GET).
async fn call(app: &TestApp, cookie: &str, method: &str, path: &str, args: &str) -> (u16, String) {
    let req = if method == "GET" {
        app.client.get(app.url(&format!("{path}?{args}")))
    } else {
        app.client
            .post(app.url(path))
            .header("origin", app.origin())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(args.to_string())
    };
    let resp = req.header("cookie", cookie).send().await.unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap_or_default())
}

#[tokio::test]
async fn server_functions_answer_bad_input_with_a_4xx_that_names_the_field() {
    let app = TestApp::start().await;
    let admin = app
        .store
        .create_user("boss@example.com", "Boss", Role::Admin, "correct-horse-battery")
        .await
        .unwrap();
    let other = app
        .store
        .create_user("ola@example.com", "Ola", Role::Viewer, "correct-horse-battery")
        .await
        .unwrap();
    let cookie = format!(
        "auditlog_session={}",
        app.store.create_session(&admin.id, 60_000).await.unwrap()
    );
    let unknown = "01ARZ3NDEKTSV4RRFFQ69G5FAV";
    let cases: Vec<(&str, &str, String, u16, &str)> = vec![
        (
            "POST",
            "/api/fn/update_user",
            format!("id={}&name=X&role=boss", other.id),
            400,
            "role",
        ),
        (
            "POST",
            "/api/fn/update_user",
            format!("id={unknown}&name=X&role=viewer"),
            404,
            "not found",
        ),
        ("POST", "/api/fn/delete_user", format!("id={}", admin.id), 400, "id"),
        ("POST", "/api/fn/delete_user", format!("id={unknown}"), 404, "not found"),
        (
            "POST",
            "/api/fn/create_user",
            "email=not-an-email&name=X&role=viewer&password=correct-horse-battery".into(),
            400,
            "email",
        ),
        (
            "POST",
            "/api/fn/update_setting",
            "key=smtp_relay&value=".into(),
            400,
            "value",
        ),
        (
            "POST",
            "/api/fn/update_setting",
            "key=no_such_key&value=1".into(),
            400,
            "key",
        ),
        (
            "POST",
            "/api/fn/create_token",
            "name=ci&scopes=everything".into(),
            400,
            "scope",
        ),
        (
            "POST",
            "/api/fn/revoke_token",
            format!("id={unknown}"),
            404,
            "not found",
        ),
        ("GET", "/api/fn/get_event", format!("id={unknown}"), 404, "not found"),
        (
            "POST",
            "/api/fn/unblock_ip",
            "address=192.0.2.1".into(),
            404,
            "not found",
        ),
        ("POST", "/api/fn/update_user", format!("id={}", other.id), 400, "name"),
        ("GET", "/api/fn/list_events", "query=page%3Dabc".into(), 400, "page"),
    ];
    for (method, path, args, status, names) in cases {
        let (got, body) = call(&app, &cookie, method, path, &args).await;
        assert_eq!(got, status, "{method} {path} {args}: {body}");
        assert!(body.contains(names), "{method} {path} {args}: `{body}` names `{names}`");
    }
    // Nothing was changed by the refused calls.
    assert_eq!(app.store.user(&other.id).await.unwrap().name, "Ola");
    assert_eq!(app.store.list_users().await.unwrap().len(), 2);
}

#[tokio::test]
async fn server_functions_refuse_with_the_apis_json_error() {
    let app = TestApp::start().await;
    let admin = app.session(Role::Admin).await;
    let refusal = |resp: reqwest::Response| async move {
        let status = resp.status().as_u16();
        let body: serde_json::Value = resp.json().await.expect("a JSON error body");
        (status, body)
    };
    let missing = app
        .client
        .get(app.url("/api/fn/get_event?id=01JB8Q4K7N2X5S3V9T0R1C6M2D"))
        .header("cookie", &admin)
        .send()
        .await
        .unwrap();
    let (status, body) = refusal(missing).await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "not_found", "{body}");
    let bad_role = app
        .client
        .post(app.url("/api/fn/create_user"))
        .header("cookie", &admin)
        .header("origin", app.origin())
        .form(&[
            ("email", "new@example.com"),
            ("name", "New"),
            ("role", "owner"),
            ("password", "long enough pw"),
        ])
        .send()
        .await
        .unwrap();
    let (status, body) = refusal(bad_role).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["field"], "role", "{body}");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("admin or viewer"),
        "{body}"
    );
    let no_session = app.client.get(app.url("/api/fn/list_events")).send().await.unwrap();
    assert_eq!(no_session.status(), 401);
}

#[tokio::test]
async fn after_sign_in_only_a_plain_same_site_path_is_followed() {
    let app = TestApp::start().await;
    user(&app, "ned@example.com", Role::Admin).await;
    for (next, expected) in [
        (
            "/admin/audit-log?action=user.create",
            "/admin/audit-log?action=user.create",
        ),
        ("/\t/evil.example", "/admin"),
        ("/\\evil.example", "/admin"),
        ("//evil.example", "/admin"),
        ("https://evil.example", "/admin"),
        ("/admin\r\nSet-Cookie: x=1", "/admin"),
    ] {
        let form = [("email", "ned@example.com"), ("password", PASSWORD), ("next", next)];
        let resp = sign_in(&app, &form, &[]).await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER, "{next:?}");
        assert_eq!(resp.headers()["location"], expected, "{next:?}");
    }
}

#[tokio::test]
async fn json_answers_are_never_cached() {
    let app = TestApp::start().await;
    let token = app.token("read").await;
    let resp = app
        .client
        .get(app.url("/api/v1/events"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let refused = app.client.get(app.url("/api/v1/facets")).send().await.unwrap();
    assert_eq!(refused.status(), 401);
    assert_eq!(refused.headers()["cache-control"], "no-store");
}

#[tokio::test]
async fn oversized_server_function_and_sign_in_bodies_are_413_with_the_json_error() {
    let app = TestApp::start().await;
    let admin = app.session(Role::Admin).await;
    let big = format!("query={}", "a".repeat(1024 * 1024));
    let resp = app
        .client
        .post(app.url("/api/fn/list_events"))
        .header("cookie", &admin)
        .header("origin", app.origin())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "body_too_large", "{body}");
    // Without a declared length, the limit holds all the same.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = (0..100).map(|_| Ok(vec![b'a'; 1024])).collect();
    let streamed = app
        .client
        .post(app.url("/api/fn/list_events"))
        .header("cookie", &admin)
        .header("origin", app.origin())
        .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
        .send()
        .await
        .unwrap();
    assert_eq!(streamed.status(), 413);
    let sign_in = app
        .client
        .post(app.url("/login"))
        .header("origin", app.origin())
        .form(&[("email", "a@example.com"), ("password", &"p".repeat(8 * 1024))])
        .send()
        .await
        .unwrap();
    assert_eq!(sign_in.status(), 413);
}

#[tokio::test]
async fn thirty_parallel_wrong_passwords_from_one_address_are_judged_at_most_five_times() {
    let app = TestApp::start().await;
    user(&app, "pat@example.com", Role::Admin).await;
    let attempts = (0..30).map(|i| {
        app.client
            .post(app.url("/login"))
            .form(&[("email", "pat@example.com"), ("password", &format!("wrong-{i}"))])
            .send()
    });
    let answers = futures::future::join_all(attempts).await;
    let refused = answers
        .iter()
        .filter(|r| r.as_ref().unwrap().status() == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert!(refused >= 25, "only {refused} of 30 refused");
    let q = |s: &str| app::model::AuditQuery::from_query_string(s).unwrap();
    let judged = app.store.count(&q("action=auth.login&outcome=failure")).await.unwrap();
    assert!(judged <= 5, "{judged} attempts were judged");
    assert_eq!(app.store.count(&q("action=auth.ip_blocked")).await.unwrap(), 1);
    // Once the address is blocked, its attempts are refused before their password is hashed.
    let checked = app.store.password_checks();
    let attempts = (0..30).map(|i| {
        app.client
            .post(app.url("/login"))
            .form(&[("email", "pat@example.com"), ("password", &format!("again-{i}"))])
            .send()
    });
    for answer in futures::future::join_all(attempts).await {
        assert_eq!(answer.unwrap().status(), StatusCode::TOO_MANY_REQUESTS);
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        app.store.password_checks(),
        checked,
        "passwords hashed for a blocked address"
    );
}

#[tokio::test]
async fn addresses_of_one_ipv6_64_share_a_block_and_a_mapped_ipv4_is_that_ipv4() {
    let app = TestApp::start().await;
    let policy = app::store::BruteForcePolicy {
        max_failures: 3,
        window_ms: 60_000,
        block_ms: 60_000,
    };
    let t0 = 5_000_000;
    for (i, ip) in ["2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:ffff::3"]
        .iter()
        .enumerate()
    {
        let blocked = app.store.record_login_failure(ip, t0 + i as i64, policy).await.unwrap();
        assert_eq!(blocked.is_some(), i == 2, "{ip}");
    }
    assert!(
        app.store
            .ip_blocked_until("2001:db8:1:2::abcd", t0 + 10)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        app.store
            .ip_blocked_until("2001:db8:1:3::1", t0 + 10)
            .await
            .unwrap()
            .is_none()
    );
    for i in 0..3 {
        app.store
            .record_login_failure("10.0.0.1", t0 + i, policy)
            .await
            .unwrap();
    }
    assert!(
        app.store
            .ip_blocked_until("::ffff:10.0.0.1", t0 + 10)
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn the_configured_admin_is_changed_only_when_it_differs_and_every_change_is_recorded() {
    let app = TestApp::start().await;
    let record = |before: Option<&app::model::User>, after: &app::model::User, changed: bool| {
        Some(app::model::recorded::configured_admin(before, after, changed))
    };
    let q = |s: &str| app::model::AuditQuery::from_query_string(s).unwrap();
    let admin = app
        .store
        .ensure_user_recorded("root@example.com", Role::Admin, "first-password", record)
        .await
        .unwrap();
    assert_eq!(app.store.count(&q("action=user.create")).await.unwrap(), 1);
    let session = app.store.create_session(&admin.id, 60_000).await.unwrap();
    // The same password and role at the next start: nothing changes, nothing is recorded.
    app.store
        .ensure_user_recorded("root@example.com", Role::Admin, "first-password", record)
        .await
        .unwrap();
    assert_eq!(app.store.count(&q("action=user.update")).await.unwrap(), 0);
    assert!(app.store.session_user(&session).await.unwrap().is_some());
    // A new password: recorded (its values redacted), and the admin's sessions end.
    app.store
        .ensure_user_recorded("root@example.com", Role::Admin, "second-password", record)
        .await
        .unwrap();
    let updates = app.store.list(&q("action=user.update")).await.unwrap();
    assert_eq!(updates.total, 1);
    let update = app.store.get(&updates.entries[0].id).await.unwrap();
    assert_eq!(
        update.details["changes"]["password"]["to"],
        json!("[REDACTED]"),
        "{:?}",
        update.details
    );
    assert!(app.store.session_user(&session).await.unwrap().is_none(), "signed out");
    assert!(
        app.store
            .authenticate("root@example.com", "second-password")
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn the_session_timeout_setting_decides_how_long_a_new_session_lasts() {
    let app = TestApp::start().await;
    user(&app, "sam@example.com", Role::Admin).await;
    let refused = app
        .store
        .update_setting_recorded("session_timeout_minutes", "forever", |_| None)
        .await;
    assert!(matches!(refused, Err(app::store::StoreError::Invalid(f)) if f.field == "value"));
    app.store
        .update_setting_recorded("session_timeout_minutes", "2", |_| None)
        .await
        .unwrap();
    let resp = sign_in(&app, &[("email", "sam@example.com"), ("password", PASSWORD)], &[]).await;
    let cookie = resp.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.contains("Max-Age=120"), "{cookie}");
}

#[tokio::test]
async fn over_https_through_the_proxy_the_session_cookie_is_host_only_and_hsts_is_sent() {
    let app = TestApp::start().await;
    user(&app, "tia@example.com", Role::Admin).await;
    // The test client is on this host: a reverse proxy here is believed without configuration.
    let proxied = [("x-forwarded-proto", "HTTPS"), ("x-forwarded-for", "198.51.100.7")];
    let resp = sign_in(&app, &[("email", "tia@example.com"), ("password", PASSWORD)], &proxied).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let cookie = resp.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.starts_with("__Host-auditlog_session="), "{cookie}");
    assert!(
        cookie.contains("; Secure") && cookie.contains("Path=/") && !cookie.contains("Domain"),
        "{cookie}"
    );
    assert!(
        resp.headers()["strict-transport-security"]
            .to_str()
            .unwrap()
            .starts_with("max-age=")
    );
    let session = cookie.split(';').next().unwrap().to_string();
    let page = app
        .client
        .get(app.url("/admin/audit-log"))
        .header("cookie", &session)
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200, "the host-only cookie signs in");
    let q = |s: &str| app::model::AuditQuery::from_query_string(s).unwrap();
    let signed_in = app.store.list(&q("action=auth.login&outcome=success")).await.unwrap();
    let event = app.store.get(&signed_in.entries[0].id).await.unwrap();
    assert_eq!(event.ip.as_deref(), Some("198.51.100.7"), "the client behind the proxy");
    // Plain http: no HSTS, the plain cookie name.
    let plain = app.client.get(app.url("/login")).send().await.unwrap();
    assert!(!plain.headers().contains_key("strict-transport-security"));
}

#[tokio::test]
async fn slow_searches_holding_every_read_connection_do_not_hold_up_the_panels_sign_in_check() {
    // As many scans at once as there are searches, so that they hold every read connection.
    let app = TestApp::start_tuned(app::store::Tuning {
        scans_at_once: 8,
        ..app::store::Tuning::default()
    })
    .await;
    // Many rows, written straight into the file: a two-character search reads every one of them.
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", app.dir.path().join("audit.db").display()))
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO events (id, ts, received_at, action, category, outcome, actor_type, actor_id, source, details) \
         WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 200000) \
         SELECT printf('01JB8Q4K7N2X5S3V9T%08d', n), 1700000000000 + n, 1700000000000 + n, 'mailbox.create', \
         'mailbox', 'success', 'user', 'u' || n, 'api', '{\"note\":\"' || hex(zeroblob(150)) || '\"}' FROM c",
    )
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;
    let token = app.token("read").await;
    let admin = app.session(Role::Admin).await;
    let started = std::time::Instant::now();
    // Twice as many searches as the read pool has connections: half of them wait for one.
    let searches: Vec<_> = (0..8)
        .map(|_| {
            let request = app
                .client
                .get(app.url("/api/v1/events?q=zq"))
                .bearer_auth(&token)
                .send();
            tokio::spawn(async move { (request.await.map(|r| r.status().as_u16()), std::time::Instant::now()) })
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let asked = std::time::Instant::now();
    let check = app
        .client
        .get(app.url("/api/fn/current_user"))
        .header("cookie", &admin)
        .send()
        .await
        .unwrap();
    let answered = std::time::Instant::now();
    assert_eq!(check.status(), 200);
    let mut first_search = None::<std::time::Instant>;
    for search in searches {
        let (status, done) = search.await.unwrap();
        assert_eq!(status.unwrap(), 200);
        first_search = Some(first_search.map_or(done, |t| t.min(done)));
    }
    let first_search = first_search.unwrap();
    // The check takes its own connection: it answers in a small part of the time a search takes.
    let (check_took, search_took) = (answered - asked, first_search - started);
    assert!(
        check_took * 4 < search_took,
        "the sign-in check took {check_took:?}, the first search {search_took:?}"
    );
}

#[tokio::test]
async fn sign_ins_succeed_while_events_pour_in() {
    let app = TestApp::start().await;
    user(&app, "ann@example.com", Role::Admin).await;
    let token = app.token("ingest").await;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut senders = Vec::new();
    for c in 0..4 {
        let (client, url, token, stop) = (
            app.client.clone(),
            app.url("/api/v1/events"),
            token.clone(),
            stop.clone(),
        );
        senders.push(tokio::spawn(async move {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let e = serde_json::json!({"action": "a.b", "actor": {"type": "user", "id": format!("c{c}")}});
                client.post(&url).bearer_auth(&token).json(&e).send().await.unwrap();
            }
        }));
    }
    let form = [("email", "ann@example.com"), ("password", PASSWORD)];
    for i in 0..15 {
        let resp = sign_in(&app, &form, &[]).await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER, "sign-in {i} during ingestion");
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for s in senders {
        s.await.unwrap();
    }
}
