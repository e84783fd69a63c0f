//! Webhooks end to end: endpoints managed over the API, deliveries to a real receiver on 127.0.0.1 (signature
//! checked by an independent HMAC), order, retries after 500s and a timeout, a 410, rotation, replay, the
//! destination policy, and the outbox surviving SIGKILL.

mod common;
#[path = "common/receiver.rs"]
mod receiver;

use std::time::Duration;

use common::{TestApp, event};
use receiver::{Receiver, Reply, signed_by};
use serde_json::{Value, json};
use server::webhooks::DeliveryConfig;

/// Retries after 100 ms, 200 ms, then every 300 ms; disabled after failing for `give_up`.
fn quick(give_up: Duration) -> DeliveryConfig {
    DeliveryConfig {
        backoff: vec![
            Duration::from_millis(100),
            Duration::from_millis(200),
            Duration::from_millis(300),
        ],
        give_up_after: give_up,
        ..DeliveryConfig::default()
    }
}

async fn quick_app() -> TestApp {
    TestApp::start_delivering(quick(Duration::from_secs(3_600)), Duration::from_millis(500)).await
}

async fn send(app: &TestApp, token: &str, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut request = app.client.request(method, app.url(path)).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Creates an endpoint; returns its id and secret.
async fn add_endpoint(app: &TestApp, admin: &str, body: Value) -> (String, String) {
    let (status, created) = send(app, admin, reqwest::Method::POST, "/api/v1/webhooks", Some(body)).await;
    assert_eq!(status, 201, "{created}");
    (
        created["id"].as_str().unwrap().to_string(),
        created["secret"].as_str().unwrap().to_string(),
    )
}

/// The endpoint as shown once it is disabled (or after 5 s).
async fn once_disabled(app: &TestApp, admin: &str, id: &str) -> Value {
    shown_once(app, admin, id, |state| state["state"] == "disabled").await
}

/// The endpoint as the API shows it, once `ready` says so (or after 5 s): a delivery is stored only after its
/// receiver has answered.
async fn shown_once(app: &TestApp, admin: &str, id: &str, ready: impl Fn(&Value) -> bool) -> Value {
    let mut state = Value::Null;
    for _ in 0..100 {
        state = send(
            app,
            admin,
            reqwest::Method::GET,
            &format!("/api/v1/webhooks/{id}"),
            None,
        )
        .await
        .1;
        if ready(&state) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    state
}

/// The JSONL export of every event, by id.
async fn exported(app: &TestApp, token: &str) -> std::collections::HashMap<String, Value> {
    let text = app
        .client
        .get(app.url("/api/v1/events/export?format=jsonl"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter_map(|v| Some((v.get("id")?.as_str()?.to_string(), v)))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn matching_events_arrive_signed_in_commit_order() {
    let app = quick_app().await;
    let receiver = Receiver::start().await;
    let admin = app.token("admin").await;
    let (id, secret) = add_endpoint(
        &app,
        &admin,
        json!({"url": receiver.url, "description": "SIEM", "actions": ["auth.*", "user.delete"], "outcome": "any"}),
    )
    .await;
    let mut expected = Vec::new();
    for i in 0..40 {
        let action = ["auth.login", "user.create", "user.delete", "mailbox.create"][i % 4];
        let (status, body) = app.post_events(&admin, &event(action, &format!("u{i}"))).await;
        assert_eq!(status, 201, "{body}");
        if matches!(action, "auth.login" | "user.delete") {
            expected.push(body["ids"][0].as_str().unwrap().to_string());
        }
    }
    let got = receiver.wait_for(expected.len(), Duration::from_secs(10)).await;
    let ids: Vec<String> = got.iter().map(|r| r.id.clone()).collect();
    assert_eq!(ids, expected, "the matching events, once each, in commit order");
    let events = exported(&app, &admin).await;
    let now = chrono::Utc::now().timestamp();
    for r in &got {
        assert!(signed_by(&secret, r), "signature of {}", r.id);
        assert!(!signed_by("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", r));
        assert!(
            (now - r.timestamp).abs() < 60,
            "webhook-timestamp is the attempt's time"
        );
        let body = r.json();
        let event = events
            .get(&r.id)
            .unwrap_or_else(|| panic!("{} not in {:?}", r.id, events.keys()));
        assert_eq!(body["data"], *event, "data is the canonical event, as exported");
        assert_eq!(body["type"], event["action"]);
        assert_eq!(body["timestamp"], event["timestamp"]);
    }
    // The endpoint shows its deliveries, and the log recorded its creation without the secret.
    let last = expected.last().map(String::as_str);
    let shown = shown_once(&app, &admin, &id, |s| s["deliveries"][0]["event_id"].as_str() == last).await;
    assert_eq!(shown["state"], "healthy");
    assert!(shown.get("secret").is_none());
    assert_eq!(shown["deliveries"][0]["status"], 200);
    assert_eq!(
        shown["deliveries"][0]["event_id"].as_str(),
        expected.last().map(String::as_str)
    );
    let created = events
        .values()
        .find(|e| e["action"] == "webhook.create")
        .expect("webhook.create recorded");
    assert_eq!(created["target"]["id"], json!(id));
    assert!(
        !events.values().any(|e| e.to_string().contains(&secret[6..])),
        "the secret is never in the log"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_are_retried_in_order_and_a_410_disables_the_endpoint() {
    let app = quick_app().await;
    let receiver = Receiver::start().await;
    let admin = app.token("admin").await;
    let (id, _) = add_endpoint(&app, &admin, json!({"url": receiver.url, "actions": ["order.*"]})).await;
    // Two 500s, then a timeout (the receiver answers after the attempt's 500 ms), then 200s.
    receiver.script(&[
        Reply::Status(500),
        Reply::Status(503),
        Reply::Slow(Duration::from_millis(1_500)),
    ]);
    let first = app.post_events(&admin, &event("order.create", "a")).await.1["ids"][0].clone();
    let second = app.post_events(&admin, &event("order.create", "b")).await.1["ids"][0].clone();
    let got = receiver.wait_for(5, Duration::from_secs(10)).await;
    let ids: Vec<&str> = got.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids.len(), 5, "{ids:?}");
    assert!(
        ids[..4].iter().all(|i| *i == first),
        "the first is retried until delivered: {ids:?}"
    );
    assert_eq!(ids[4], second, "the second waits for the first");
    let shown = shown_once(&app, &admin, &id, |s| {
        s["deliveries"].as_array().is_some_and(|d| d.len() >= 5)
    })
    .await;
    let errors: Vec<Value> = shown["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .map(|d| d["error"].clone())
        .collect();
    assert_eq!(errors[..3], [json!("HTTP 500"), json!("HTTP 503"), json!("timed out")]);
    assert_eq!(shown["deliveries"][0]["attempt"], 1);
    assert_eq!(shown["deliveries"][1]["attempt"], 4, "the first event's fourth attempt");

    // 410 Gone: disabled at once, and recorded.
    receiver.always(410);
    app.post_events(&admin, &event("order.delete", "c")).await;
    receiver.wait_for(6, Duration::from_secs(10)).await;
    let state = once_disabled(&app, &admin, &id).await;
    assert_eq!(state["state"], "disabled", "{state}");
    assert_eq!(state["enabled"], false);
    assert!(state["disabled_reason"].as_str().unwrap().contains("410"));
    let (_, page) = app
        .get_json(&admin, "/api/v1/events?action=webhook.disabled&fields=full")
        .await;
    assert_eq!(page["entries"][0]["target"]["id"], json!(id), "{page}");
    // Nothing more goes to it.
    app.post_events(&admin, &event("order.delete", "d")).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.got().len(), 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_failing_past_the_limit_is_disabled_with_its_last_error() {
    let app = TestApp::start_delivering(quick(Duration::from_millis(700)), Duration::from_millis(500)).await;
    let receiver = Receiver::start().await;
    receiver.always(500);
    let admin = app.token("admin").await;
    let (id, _) = add_endpoint(&app, &admin, json!({"url": receiver.url})).await;
    app.post_events(&admin, &event("order.create", "a")).await;
    let state = once_disabled(&app, &admin, &id).await;
    assert_eq!(state["state"], "disabled", "{state}");
    assert!(
        state["disabled_reason"].as_str().unwrap().contains("HTTP 500"),
        "{state}"
    );
    assert!(receiver.got().len() >= 3, "retried before giving up");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_secret_and_the_previous_one_both_sign_and_replay_sends_again() {
    let app = quick_app().await;
    let receiver = Receiver::start().await;
    let admin = app.token("admin").await;
    let (id, old) = add_endpoint(
        &app,
        &admin,
        json!({"url": receiver.url, "actions": ["order.*"], "format": "standard"}),
    )
    .await;
    let first = app.post_events(&admin, &event("order.create", "a")).await.1["ids"][0].clone();
    receiver.wait_for(1, Duration::from_secs(10)).await;
    let (status, rotated) = send(
        &app,
        &admin,
        reqwest::Method::POST,
        &format!("/api/v1/webhooks/{id}/rotate-secret"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let new = rotated["secret"].as_str().unwrap().to_string();
    assert_ne!(new, old);
    app.post_events(&admin, &event("order.update", "a")).await;
    let got = receiver.wait_for(2, Duration::from_secs(10)).await;
    let last = got.last().unwrap();
    let stored = app.store.webhook_target(&id).await.unwrap();
    assert!(
        signed_by(&new, last) && signed_by(&old, last),
        "both secrets sign: {} {:?}",
        last.signature,
        stored.secrets
    );
    assert!(signed_by(&old, &got[0]) && !signed_by(&new, &got[0]));

    // Replay from before the first event: it comes again, then the second, in order.
    let from = "2000-01-01T00:00:00Z";
    let (status, _) = send(
        &app,
        &admin,
        reqwest::Method::POST,
        &format!("/api/v1/webhooks/{id}/replay"),
        Some(json!({"from": from})),
    )
    .await;
    assert_eq!(status, 200);
    let got = receiver.wait_for(4, Duration::from_secs(10)).await;
    assert_eq!(got[2].id, first.as_str().unwrap());
    assert_eq!(got[3].id, got[1].id);
    let (status, bad) = send(
        &app,
        &admin,
        reqwest::Method::POST,
        &format!("/api/v1/webhooks/{id}/replay"),
        Some(json!({"from": "yesterday"})),
    )
    .await;
    assert_eq!((status, bad["error"]["field"].as_str()), (400, Some("from")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_messages_and_test_events() {
    let app = quick_app().await;
    let receiver = Receiver::start().await;
    let admin = app.token("admin").await;
    let (id, secret) = add_endpoint(
        &app,
        &admin,
        json!({"url": receiver.url, "format": "chat", "outcome": "failure"}),
    )
    .await;
    app.post_events(&admin, &event("order.create", "ann")).await;
    let mut failed = event("auth.login", "bob");
    failed["outcome"] = json!("failure");
    app.post_events(&admin, &failed).await;
    let got = receiver.wait_for(1, Duration::from_secs(10)).await;
    let text = got[0].json()["text"].as_str().unwrap().to_string();
    assert!(
        text.contains("bob") && text.contains("auth.login") && text.ends_with("failure"),
        "{text}"
    );
    assert_eq!(got.len(), 1, "only failures");

    let (status, attempt) = send(
        &app,
        &admin,
        reqwest::Method::POST,
        &format!("/api/v1/webhooks/{id}/test"),
        None,
    )
    .await;
    assert_eq!((status, attempt["status"].as_u64()), (200, Some(200)), "{attempt}");
    let got = receiver.wait_for(2, Duration::from_secs(5)).await;
    assert!(got[1].json()["text"].as_str().unwrap().contains("webhook.test"));
    assert!(signed_by(&secret, &got[1]));
    let (_, shown) = send(
        &app,
        &admin,
        reqwest::Method::GET,
        &format!("/api/v1/webhooks/{id}"),
        None,
    )
    .await;
    assert_eq!(shown["deliveries"][0]["event_id"], attempt["event_id"]);
}

#[tokio::test]
async fn endpoints_are_checked_named_and_admin_only() {
    // The default policy: https to public addresses only.
    let app = TestApp::start().await;
    let admin = app.token("admin").await;
    let reader = app.token("read").await;
    let post = |token: String, body: Value| {
        let app = &app;
        async move { send(app, &token, reqwest::Method::POST, "/api/v1/webhooks", Some(body)).await }
    };
    for (body, field) in [
        (json!({"url": "http://127.0.0.1:9/hook"}), "url"),
        (json!({"url": "https://127.0.0.1/hook"}), "url"),
        (json!({"url": "https://[::1]/hook"}), "url"),
        (json!({"url": "https://10.0.0.8/hook"}), "url"),
        (json!({"url": "https://169.254.169.254/latest/meta-data"}), "url"),
        (json!({"description": "no url"}), "url"),
        (
            json!({"url": "https://93.184.216.34/x", "actions": ["Bad Pattern"]}),
            "actions",
        ),
        (json!({"url": "https://93.184.216.34/x", "outcome": "maybe"}), "outcome"),
        (json!({"url": "https://93.184.216.34/x", "secret": "mine"}), "secret"),
    ] {
        let (status, error) = post(admin.clone(), body.clone()).await;
        assert_eq!(
            (status, error["error"]["field"].as_str()),
            (400, Some(field)),
            "{body}: {error}"
        );
    }
    let (status, _) = post(reader.clone(), json!({"url": "https://93.184.216.34/x"})).await;
    assert_eq!(status, 403);
    let anonymous = app.client.get(app.url("/api/v1/webhooks")).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let (status, created) = post(admin.clone(), json!({"url": "https://93.184.216.34/x"})).await;
    assert_eq!(status, 201);
    let id = created["id"].as_str().unwrap();
    assert_eq!(created["actions"], json!(["*"]));
    let path = format!("/api/v1/webhooks/{id}");
    let (status, changed) = send(
        &app,
        &admin,
        reqwest::Method::PATCH,
        &path,
        Some(json!({"enabled": false, "actions": ["auth.*"]})),
    )
    .await;
    assert_eq!((status, &changed["state"]), (200, &json!("disabled")));
    let (_, page) = app
        .get_json(&admin, "/api/v1/events?action=webhook.update&fields=full")
        .await;
    assert_eq!(
        page["entries"][0]["details"]["changes"]["enabled"],
        json!({"from": true, "to": false})
    );
    let (status, _) = send(&app, &admin, reqwest::Method::DELETE, &path, None).await;
    assert_eq!(status, 204);
    let (status, _) = send(&app, &admin, reqwest::Method::GET, &path, None).await;
    assert_eq!(status, 404);
    let (_, list) = send(&app, &admin, reqwest::Method::GET, "/api/v1/webhooks", None).await;
    assert_eq!(list["webhooks"], json!([]));
}

/// The real binary is killed (SIGKILL) three times while it delivers to a slow receiver; after the last
/// restart every event has arrived at least once, and in commit order (the first arrival of each).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("audit.db").display());
    let made = common::auditlog(&db, &["token", "create", "--name", "ops", "--scope", "admin"], &[]);
    let token = common::text(&made.stdout).trim().to_string();
    assert!(token.starts_with("alk_"), "{token}");
    let receiver = Receiver::start().await;
    // Every request takes 5 ms: the queue drains over about a second and a half.
    receiver.script(&[Reply::Slow(Duration::from_millis(5)); 2_000]);
    let env = [("AUDITLOG_WEBHOOK_ALLOW_PRIVATE", "1")];
    let client = reqwest::Client::new();
    let mut served = common::Served::start_env(&db, &env).await;
    let created: Value = client
        .post(served.url("/api/v1/webhooks"))
        .bearer_auth(&token)
        .json(&json!({"url": receiver.url, "actions": ["order.*"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(created["secret"].is_string(), "{created}");
    let mut expected = Vec::new();
    for round in 0..3 {
        let batch: Vec<Value> = (0..100)
            .map(|i| event("order.create", &format!("r{round}-{i}")))
            .collect();
        let answer: Value = client
            .post(served.url("/api/v1/events"))
            .bearer_auth(&token)
            .json(&json!({"events": batch}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        expected.extend(
            answer["ids"]
                .as_array()
                .expect("ids")
                .iter()
                .map(|v| v.as_str().unwrap().to_string()),
        );
        tokio::time::sleep(Duration::from_millis(150)).await;
        served.kill();
        served = common::Served::start_env(&db, &env).await;
    }
    let started = std::time::Instant::now();
    let received: Vec<String> = loop {
        let got = receiver.got();
        let mut firsts: Vec<String> = Vec::new();
        for r in &got {
            if !firsts.contains(&r.id) {
                firsts.push(r.id.clone());
            }
        }
        if firsts.len() >= expected.len() {
            break firsts;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{} of {} arrived",
            firsts.len(),
            expected.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(
        received, expected,
        "every event at least once, first arrivals in commit order"
    );
    drop(served);
}

#[test]
fn the_command_line_adds_lists_disables_and_removes() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("audit.db").display());
    let run = |args: &[&str]| common::auditlog(&db, args, &[]);
    let refused = run(&["webhook", "add", "--url", "http://127.0.0.1:9/hook"]);
    assert!(!refused.status.success());
    assert!(
        common::text(&refused.stderr).contains("--url"),
        "{}",
        common::text(&refused.stderr)
    );
    let bad = run(&[
        "webhook",
        "add",
        "--url",
        "https://93.184.216.34/h",
        "--actions",
        "Auth",
    ]);
    assert!(
        common::text(&bad.stderr).contains("--actions"),
        "{}",
        common::text(&bad.stderr)
    );
    let added = run(&[
        "webhook",
        "add",
        "--url",
        "http://127.0.0.1:9/hook",
        "--allow-private",
        "--actions",
        "auth.*,user.delete",
        "--format",
        "chat",
    ]);
    assert!(added.status.success(), "{}", common::text(&added.stderr));
    let secret = common::text(&added.stdout).trim().to_string();
    assert!(secret.starts_with("whsec_") && secret.len() == 6 + 44, "{secret}");
    let list = common::text(&run(&["webhook", "list"]).stdout);
    let id = list
        .lines()
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    assert!(
        list.contains("Healthy") && list.contains("auth.*,user.delete") && list.contains("chat"),
        "{list}"
    );
    assert!(!list.contains(&secret[6..]));
    assert!(run(&["webhook", "disable", &id]).status.success());
    assert!(common::text(&run(&["webhook", "list"]).stdout).contains("Disabled"));
    assert!(run(&["webhook", "remove", &id]).status.success());
    let again = run(&["webhook", "remove", &id]);
    assert!(
        common::text(&again.stderr).contains("no webhook has the id"),
        "{}",
        common::text(&again.stderr)
    );
    let log = common::text(&run(&["export", "--format", "jsonl"]).stdout);
    for action in ["webhook.create", "webhook.update", "webhook.delete"] {
        assert!(log.contains(&format!("\"action\":\"{action}\"")), "{action} recorded");
    }
    assert!(!log.contains(&secret[6..]), "the secret is never in the log");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_purge_keeps_what_an_enabled_endpoint_has_not_delivered() {
    let app = quick_app().await;
    let receiver = Receiver::start().await;
    receiver.always(503);
    let admin = app.token("admin").await;
    let (id, _) = add_endpoint(&app, &admin, json!({"url": receiver.url, "actions": ["order.*"]})).await;
    let old = (chrono::Utc::now() - chrono::Duration::days(400)).to_rfc3339();
    let batch: Vec<Value> = (0..5)
        .map(|i| {
            let mut e = event("order.create", &format!("old-{i}"));
            e["timestamp"] = json!(old);
            e
        })
        .collect();
    app.post_events(&admin, &json!({ "events": batch })).await;
    receiver.wait_for(1, Duration::from_secs(10)).await;
    let (status, _) = send(
        &app,
        &admin,
        reqwest::Method::PUT,
        "/api/v1/settings/retention",
        Some(json!({"days": 365})),
    )
    .await;
    assert_eq!(status, 200);
    let now = chrono::Utc::now().timestamp_millis();
    assert_eq!(
        app.store.purge_expired(now).await.unwrap().deleted,
        0,
        "the endpoint still has them to deliver"
    );
    // Disabled, it holds nothing back.
    send(
        &app,
        &admin,
        reqwest::Method::PATCH,
        &format!("/api/v1/webhooks/{id}"),
        Some(json!({"enabled": false})),
    )
    .await;
    assert_eq!(app.store.purge_expired(now).await.unwrap().deleted, 5);
}
