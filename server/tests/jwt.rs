//! The host's JWT sign-in over the real server: HS256 with a shared secret, EdDSA and RS256 from a JWKS file,
//! as a bearer credential and as a one-time `auth_token` exchanged for a session; and every refusal a 401,
//! recorded with its reason.

mod common;

use common::TestApp;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};

const SECRET: &str = "a-shared-secret-of-the-host-panel-0123456789";
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/jwt");

async fn app() -> TestApp {
    TestApp::start_secured(server::config::SecurityArgs {
        jwt_secret: Some(server::config::Secret(SECRET.into())),
        jwt_jwks_file: Some(format!("{FIXTURES}/jwks.json").into()),
        jwt_audience: Some("auditlog".into()),
        // Every refusal below is from this address: none may block it.
        login_max_failures: 100,
        ..Default::default()
    })
    .await
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn claims(role: &str) -> Value {
    json!({"sub": "u-42", "name": "Aisha Khan", "email": "aisha@host.example", "role": role,
           "aud": "auditlog", "exp": now() + 600})
}

fn hs256(claims: &Value) -> String {
    encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap()
}

fn signed_with(alg: Algorithm, kid: &str, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.kid = Some(kid.into());
    let key = match alg {
        Algorithm::EdDSA => EncodingKey::from_ed_pem(&std::fs::read(format!("{FIXTURES}/ed25519.pem")).unwrap()),
        _ => EncodingKey::from_rsa_pem(&std::fs::read(format!("{FIXTURES}/rsa.pem")).unwrap()),
    };
    encode(&header, claims, &key.unwrap()).unwrap()
}

/// `path` with a session cookie (`name=value`).
async fn with_cookie(app: &TestApp, path: &str, cookie: &str) -> reqwest::Response {
    app.client
        .get(app.url(path))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
}

/// The session cookie (`name=value`) an answer sets.
fn session_of(answer: &reqwest::Response) -> String {
    let set = answer.headers()["set-cookie"].to_str().unwrap();
    set.split(';').next().unwrap().to_string()
}

async fn get(app: &TestApp, path: &str, jwt: &str) -> reqwest::Response {
    app.client.get(app.url(path)).bearer_auth(jwt).send().await.unwrap()
}

/// The reason of the latest refused host sign-in in the log: the last committed (two refusals may share a
/// millisecond, which the list orders by id).
async fn last_refusal(app: &TestApp) -> Value {
    let q = app::model::AuditQuery::from_query_string("action=auth.login&outcome=failure&page_size=5").unwrap();
    let page = app.store.list(&q).await.unwrap();
    let mut latest = None::<app::model::Event>;
    for row in &page.entries {
        let event = app.store.get(&row.id).await.unwrap();
        if latest.as_ref().is_none_or(|l| l.log_index < event.log_index) {
            latest = Some(event);
        }
    }
    let event = latest.expect("a refusal");
    assert_eq!(event.details["method"], "jwt");
    event.details["reason"].clone()
}

#[tokio::test]
async fn an_hs256_bearer_token_reads_as_its_role_says() {
    let app = app().await;
    let admin = hs256(&claims("admin"));
    assert_eq!(get(&app, "/api/v1/events", &admin).await.status(), 200);
    let viewer = hs256(&claims("viewer"));
    assert_eq!(get(&app, "/api/v1/events", &viewer).await.status(), 403);
    // What the host's admin does is recorded as them.
    let export = get(&app, "/api/v1/events/export?format=jsonl", &admin).await;
    assert_eq!(export.status(), 200);
    export.text().await.unwrap();
    let q = app::model::AuditQuery::from_query_string("action=audit.export").unwrap();
    let mut exported = app.store.list(&q).await.unwrap();
    for _ in 0..50 {
        if exported.total > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        exported = app.store.list(&q).await.unwrap();
    }
    let event = app.store.get(&exported.entries[0].id).await.unwrap();
    assert_eq!(event.actor.id.as_deref(), Some("host:u-42"));
    assert_eq!(event.actor.email.as_deref(), Some("aisha@host.example"));
}

/// A `tenant` claim makes the person a viewer of that tenant: its events only, as a bearer credential and
/// through the session an `auth_token` is exchanged for; the sign-in is one of the tenant's events.
#[tokio::test]
async fn a_tenant_claim_keeps_the_person_to_the_tenants_events() {
    let app = app().await;
    let ingest = app.token("ingest").await;
    for tenant in ["acme", "globex"] {
        let event = json!({"action": "mailbox.create", "tenant": tenant,
                           "actor": {"type": "user", "name": format!("{tenant} person")}});
        assert_eq!(app.post_events(&ingest, &event).await.0, 201);
    }
    let mut acme = claims("admin");
    acme["tenant"] = json!("acme");
    let jwt = hs256(&acme);
    let page: Value = get(&app, "/api/v1/events?tenant=globex", &jwt)
        .await
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["actor_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["acme person"], "{page}");
    assert_eq!(get(&app, "/api/v1/webhooks", &jwt).await.status(), 403);

    let entry = app
        .client
        .get(app.url(&format!("/admin/audit-log?auth_token={jwt}")))
        .send()
        .await
        .unwrap();
    assert_eq!(entry.status(), 303);
    let session = session_of(&entry);
    let html = with_cookie(&app, "/admin/audit-log", &session)
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("acme person") && !html.contains("globex person"));
    let q = app::model::AuditQuery::from_query_string("action=auth.login&outcome=success&tenant=acme").unwrap();
    assert_eq!(app.store.count(&q).await.unwrap(), 1, "the sign-in is acme's");
}

#[tokio::test]
async fn eddsa_and_rs256_tokens_are_checked_against_the_jwks() {
    let app = app().await;
    for alg in [Algorithm::EdDSA, Algorithm::RS256] {
        let kid = if alg == Algorithm::EdDSA { "host-ed" } else { "host-rsa" };
        let token = signed_with(alg, kid, &claims("admin"));
        assert_eq!(get(&app, "/api/v1/events", &token).await.status(), 200, "{alg:?}");
        // The key of the other algorithm is not this one's.
        let other = if alg == Algorithm::EdDSA { "host-rsa" } else { "host-ed" };
        let token = signed_with(alg, other, &claims("admin"));
        assert_eq!(
            get(&app, "/api/v1/events", &token).await.status(),
            401,
            "{alg:?} under {other}"
        );
        assert_eq!(last_refusal(&app).await, "unknown_key");
    }
}

#[tokio::test]
async fn an_auth_token_is_exchanged_once_for_a_session_and_left_out_of_the_url() {
    let app = app().await;
    let token = hs256(&claims("admin"));
    let entry = app
        .client
        .get(app.url(&format!(
            "/admin/audit-log?action=user.create&auth_token={token}&page=1"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(entry.status(), 303);
    assert_eq!(
        entry.headers()["location"],
        "/admin/audit-log?action=user.create&page=1"
    );
    let cookie = entry.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.contains("HttpOnly") && cookie.contains("Max-Age="), "{cookie}");
    let session = session_of(&entry);
    assert_eq!(with_cookie(&app, "/admin/audit-log", &session).await.status(), 200);
    let list = with_cookie(&app, "/api/v1/events?action=auth.login", &session).await;
    let body: Value = list.json().await.unwrap();
    assert_eq!(body["entries"][0]["actor_id"], "host:u-42", "{body}");
    assert_eq!(body["entries"][0]["outcome"], "success");
    // A viewer's session opens the panel but not the audit log.
    let viewer = hs256(&claims("viewer"));
    let entry = app
        .client
        .get(app.url(&format!("/admin/audit-log?auth_token={viewer}")))
        .send()
        .await
        .unwrap();
    let page = with_cookie(&app, "/admin/audit-log", &session_of(&entry)).await;
    assert_eq!(page.status(), 403);
}

#[tokio::test]
async fn every_refused_token_is_a_401_recorded_with_its_reason() {
    let app = app().await;
    let with = |change: &dyn Fn(&mut Value)| {
        let mut c = claims("admin");
        change(&mut c);
        c
    };
    let unsigned = {
        use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
        let part = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
        format!(
            "{}.{}.",
            part(&json!({"alg": "none", "typ": "JWT"})),
            part(&claims("admin"))
        )
    };
    let other_secret = encode(
        &Header::new(Algorithm::HS256),
        &claims("admin"),
        &EncodingKey::from_secret(b"not-the-host-panel-secret-at-all-0123456789"),
    )
    .unwrap();
    let cases: Vec<(&str, String)> = vec![
        ("expired", hs256(&with(&|c| c["exp"] = json!(now() - 3_600)))),
        ("bad_signature", other_secret),
        ("alg_none", unsigned),
        (
            "unknown_key",
            signed_with(Algorithm::EdDSA, "retired-key", &claims("admin")),
        ),
        ("wrong_audience", hs256(&with(&|c| c["aud"] = json!("another-product")))),
        (
            "wrong_audience",
            hs256(&with(&|c| {
                c.as_object_mut().unwrap().remove("aud");
            })),
        ),
        (
            "role_missing",
            hs256(&with(&|c| {
                c.as_object_mut().unwrap().remove("role");
            })),
        ),
        ("role_missing", hs256(&with(&|c| c["role"] = json!("owner")))),
        (
            "expires_too_late",
            hs256(&with(&|c| c["exp"] = json!(now() + 13 * 3_600))),
        ),
        ("bad_tenant", hs256(&with(&|c| c["tenant"] = json!("acme corp")))),
        (
            "malformed",
            hs256(&with(&|c| {
                c.as_object_mut().unwrap().remove("exp");
            })),
        ),
    ];
    for (reason, token) in cases {
        let api = get(&app, "/api/v1/events", &token).await;
        assert_eq!(api.status(), 401, "{reason} over the API");
        let body: Value = api.json().await.unwrap();
        assert!(body["error"]["message"].as_str().unwrap().ends_with(reason), "{body}");
        assert_eq!(last_refusal(&app).await, reason);
        let entry = app
            .client
            .get(app.url(&format!("/admin/audit-log?auth_token={token}")))
            .send()
            .await
            .unwrap();
        assert_eq!(entry.status(), 401, "{reason} as auth_token");
        assert!(entry.headers().get("set-cookie").is_none());
    }
}

#[tokio::test]
async fn refusals_count_against_the_address_like_wrong_passwords() {
    let app = TestApp::start_secured(server::config::SecurityArgs {
        jwt_secret: Some(server::config::Secret(SECRET.into())),
        login_max_failures: 3,
        ..Default::default()
    })
    .await;
    let expired = hs256(&json!({"sub": "x", "role": "admin", "exp": now() - 3_600}));
    let statuses: Vec<u16> = futures::future::join_all((0..5).map(|_| get(&app, "/api/v1/events", &expired)))
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect();
    assert!(statuses.contains(&429), "{statuses:?}");
    assert_eq!(get(&app, "/api/v1/events", &expired).await.status(), 429);
    // Blocked, even a good token is not exchanged for a session; as a bearer it is no guess, and reads.
    let good = hs256(&claims("admin"));
    let entry = app
        .client
        .get(app.url(&format!("/admin?auth_token={good}")))
        .send()
        .await
        .unwrap();
    assert_eq!(entry.status(), 429);
    assert_eq!(get(&app, "/api/v1/events", &good).await.status(), 200);
}

#[test]
fn a_short_secret_or_a_bad_jwks_stops_the_start() {
    assert!(server::jwt::HostTokens::new(Some("short"), None, None).is_err());
    let err =
        server::jwt::HostTokens::new(None, Some("{\"keys\": [{\"kty\": \"oct\", \"k\": \"AA\"}]}"), None).unwrap_err();
    assert!(err.contains("kid"), "{err}");
    assert!(server::jwt::HostTokens::new(None, None, None).unwrap().is_none());
}
