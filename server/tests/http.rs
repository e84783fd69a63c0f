//! The real server over HTTP: health, the tab's HTML, ingestion, the read API, and their errors.

mod common;

use common::{TestApp, event};
use serde_json::{Value, json};

#[tokio::test]
async fn health_answers_ok_and_the_tab_renders_on_the_server() {
    let app = TestApp::start().await;
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(health.text().await.unwrap(), "ok");

    let token = app.token("ingest").await;
    let (status, _) = app
        .post_events(&token, &event("mailbox.create", "Zoë <b>bold</b>"))
        .await;
    assert_eq!(status, 201);
    let admin = app.session(app::model::Role::Admin).await;
    let html = app
        .client
        .get(app.url("/admin/audit-log"))
        .header("cookie", admin)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains(r#"aria-label="Audit log""#), "table present");
    for header in ["Timestamp", "Action", "Actor", "Target", "Details", "IP address"] {
        assert!(html.contains(&format!(">{header}<")), "header {header}");
    }
    assert!(html.contains("Showing 1–1 of 1 events"));
    // Values are text, never markup.
    assert!(html.contains("Zoë &lt;b&gt;bold&lt;/b&gt;") && !html.contains("<b>bold</b>"));
}

#[tokio::test]
async fn embed_shows_the_tab_alone_and_every_link_keeps_it() {
    let app = TestApp::start().await;
    let token = app.token("ingest").await;
    let batch: Vec<Value> = (0..60).map(|i| event("mailbox.create", &format!("u{i}"))).collect();
    let (status, _) = app.post_events(&token, &json!({ "events": batch })).await;
    assert_eq!(status, 201);
    let admin = app.session(app::model::Role::Admin).await;
    let page = |path: &str| {
        let (client, url, cookie) = (app.client.clone(), app.url(path), admin.clone());
        async move {
            client
                .get(url)
                .header("cookie", cookie)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    let whole = page("/admin/audit-log").await;
    assert!(whole.contains(">Sign out<") && whole.contains(r#"aria-label="Admin""#));
    let alone = page("/admin/audit-log?embed=1").await;
    assert!(alone.contains(r#"aria-label="Audit log""#), "the tab is there");
    assert!(
        !alone.contains(">Sign out<") && !alone.contains(r#"aria-label="Admin""#),
        "without the panel"
    );
    // Every link of the tab (pager, sort headers, view tabs, details) keeps it; the filter form carries it.
    let links: Vec<&str> = alone
        .split("href=\"?")
        .skip(1)
        .map(|l| &l[..l.find('"').unwrap()])
        .collect();
    assert!(links.len() > 10, "{links:?}");
    for link in &links {
        assert!(link.ends_with("embed=1"), "{link}");
    }
    for kind in ["page=2", "sort=action", "view=signins", "event="] {
        assert!(links.iter().any(|l| l.contains(kind)), "a link with {kind}: {links:?}");
    }
    assert!(alone.contains(r#"name="embed" value="1""#));
}

#[tokio::test]
async fn root_leads_to_the_panel() {
    let app = TestApp::start().await;
    let resp = app.client.get(app.url("/")).send().await.unwrap();
    assert!(resp.status().is_redirection());
    assert_eq!(resp.headers()["location"], "/admin");
}

#[tokio::test]
async fn ingest_requires_a_token_with_the_ingest_scope() {
    let app = TestApp::start().await;
    let body = event("user.create", "1");
    let no_token = app
        .client
        .post(app.url("/api/v1/events"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(no_token.status(), 401);
    let err: Value = no_token.json().await.unwrap();
    assert_eq!(err["error"]["code"], "unauthorized");

    let (status, _) = app.post_events("alk_not-a-real-token", &body).await;
    assert_eq!(status, 401);
    let read_only = app.token("read").await;
    let (status, err) = app.post_events(&read_only, &body).await;
    assert_eq!((status, err["error"]["code"].as_str()), (403, Some("forbidden")));

    let created = app
        .store
        .create_token("revoked", &app::store::Scopes::parse("ingest").unwrap())
        .await
        .unwrap();
    app.store.revoke_token(&created.token.id).await.unwrap();
    let (status, _) = app.post_events(&created.plaintext, &body).await;
    assert_eq!(status, 401);

    let admin = app.token("admin").await;
    let (status, _) = app.post_events(&admin, &body).await;
    assert_eq!(status, 201);
}

#[tokio::test]
async fn one_event_is_stored_whole_and_returned_canonically() {
    let app = TestApp::start().await;
    let token = app.token("ingest,read").await;
    let input = json!({
        "id": "01JB8Q4K7N2X5S3V9T0R1C6M2D",
        "timestamp": "2026-06-24T12:22:11.123+02:00",
        "action": "mailbox.create",
        "outcome": "success",
        "actor": {"type": "user", "id": "42", "name": "Aisha Karim", "email": "aisha@acme.com"},
        "target": {"type": "mailbox", "id": "17", "name": "info@acme.com"},
        "source": "mail-manager",
        "ip": "203.0.113.42",
        "user_agent": "Mozilla/5.0",
        "details": {"quota_mb": 2048, "changes": {"quota_mb": {"from": 1024, "to": 2048}}, "password": "x"}
    });
    let (status, body) = app.post_events(&token, &input).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        body,
        json!({"accepted": 1, "duplicates": 0, "ids": ["01JB8Q4K7N2X5S3V9T0R1C6M2D"]})
    );

    let (status, got) = app.get_json(&token, "/api/v1/events/01JB8Q4K7N2X5S3V9T0R1C6M2D").await;
    assert_eq!(status, 200);
    assert_eq!(got["timestamp"], "2026-06-24T10:22:11.123Z");
    assert_eq!(got["ip"], "203.0.113.42");
    assert_eq!(got["details"]["password"], "[REDACTED]");
    assert_eq!(got["target"], input["target"]);
    assert!(got["received_at"].as_str().unwrap().ends_with('Z'));

    let (status, err) = app.get_json(&token, "/api/v1/events/01JB8Q4K7N2X5S3V9T0R1C6M2E").await;
    assert_eq!((status, err["error"]["code"].as_str()), (404, Some("not_found")));
}

#[tokio::test]
async fn a_batch_is_all_or_nothing_and_names_the_bad_index() {
    let app = TestApp::start().await;
    let token = app.token("ingest,read").await;
    let batch = json!({"events": [event("a.b", "1"), event("a.c", "2"), {"action": "a.d", "actor": {"type": "robot", "id": "3"}}]});
    let (status, err) = app.post_events(&token, &batch).await;
    assert_eq!(status, 400);
    assert_eq!(err["error"]["field"], "events[2].actor.type");
    assert_eq!(
        app.store.count(&Default::default()).await.unwrap(),
        0,
        "nothing of the batch is stored"
    );

    let good = json!({"events": (0..1000).map(|i| event("a.b", &i.to_string())).collect::<Vec<_>>()});
    let (status, body) = app.post_events(&token, &good).await;
    assert_eq!((status, body["accepted"].as_u64()), (201, Some(1000)));

    let too_many = json!({"events": (0..1001).map(|i| event("a.b", &i.to_string())).collect::<Vec<_>>()});
    let (status, err) = app.post_events(&token, &too_many).await;
    assert_eq!((status, err["error"]["field"].as_str()), (400, Some("events")));
}

#[tokio::test]
async fn a_resent_id_is_a_duplicate_not_a_second_row() {
    let app = TestApp::start().await;
    let token = app.token("ingest").await;
    let mut e = event("user.update", "7");
    e["id"] = json!("01JB8Q4K7N2X5S3V9T0R1C6M2D");
    let (_, first) = app.post_events(&token, &e).await;
    assert_eq!(
        (first["accepted"].as_u64(), first["duplicates"].as_u64()),
        (Some(1), Some(0))
    );
    let (status, again) = app.post_events(&token, &json!({"events": [e.clone(), e]})).await;
    assert_eq!(status, 201);
    assert_eq!(
        (again["accepted"].as_u64(), again["duplicates"].as_u64()),
        (Some(0), Some(2))
    );
    assert_eq!(app.store.count(&Default::default()).await.unwrap(), 1);
}

#[tokio::test]
async fn malformed_bodies_are_4xx_naming_the_problem() {
    let app = TestApp::start().await;
    let token = app.token("ingest").await;
    let resp = app
        .client
        .post(app.url("/api/v1/events"))
        .bearer_auth(&token)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let err: Value = resp.json().await.unwrap();
    assert_eq!(err["error"]["code"], "invalid_json");

    let big = "x".repeat(5 * 1024 * 1024 + 10);
    let resp = app
        .client
        .post(app.url("/api/v1/events"))
        .bearer_auth(&token)
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);

    let (status, err) = app.post_events(&token, &json!({"events": "nope"})).await;
    assert_eq!((status, err["error"]["field"].as_str()), (400, Some("events")));
    let (status, err) = app
        .post_events(
            &token,
            &json!({"action": "x.y", "actor": {"type": "user", "id": "1"}, "ip": "1.2.3"}),
        )
        .await;
    assert_eq!((status, err["error"]["field"].as_str()), (400, Some("ip")));
}

#[tokio::test]
async fn the_list_filters_sorts_pages_and_rejects_bad_parameters() {
    let app = TestApp::start().await;
    let token = app.token("ingest,read").await;
    let events: Vec<Value> = (0..30)
        .map(|i| {
            let mut e = event(
                if i % 3 == 0 { "user.delete" } else { "mailbox.create" },
                &format!("u{}", i % 2),
            );
            e["timestamp"] = json!(format!("2026-01-{:02}T12:00:00Z", i + 1));
            e
        })
        .collect();
    app.post_events(&token, &json!({ "events": events })).await;

    let (status, page) = app
        .get_json(&token, "/api/v1/events?action=user.delete&page_size=4")
        .await;
    assert_eq!(status, 200);
    assert_eq!(page["total"], 10);
    assert_eq!(page["entries"].as_array().unwrap().len(), 4);
    assert_eq!(page["entries"][0]["timestamp"], "2026-01-28T12:00:00.000Z");
    let cursor = page["next_cursor"].as_str().unwrap().to_string();
    let (_, next) = app
        .get_json(
            &token,
            &format!(
                "/api/v1/events?action=user.delete&page_size=4&cursor={}",
                urlencoding::encode(&cursor)
            ),
        )
        .await;
    assert_eq!(next["entries"][0]["timestamp"], "2026-01-16T12:00:00.000Z");

    let (_, day) = app
        .get_json(&token, "/api/v1/events?from=2026-01-05&to=2026-01-05")
        .await;
    assert_eq!(day["total"], 1);
    let (_, asc) = app
        .get_json(&token, "/api/v1/events?sort=action&order=asc&page_size=1")
        .await;
    assert_eq!(asc["entries"][0]["action"], "mailbox.create");

    // The search box's syntax in `q`: terms are filters, the same as their parameters.
    let (_, said) = app
        .get_json(
            &token,
            &format!(
                "/api/v1/events?q={}",
                urlencoding::encode("action:user.delete created:2026-01-01..2026-01-10")
            ),
        )
        .await;
    let (_, params) = app
        .get_json(
            &token,
            "/api/v1/events?action=user.delete&from=2026-01-01&to=2026-01-10",
        )
        .await;
    assert_eq!(
        (said["total"].clone(), said["entries"].clone()),
        (params["total"].clone(), params["entries"].clone())
    );
    assert_eq!(said["total"], 4);
    let (status, err) = app
        .get_json(
            &token,
            &format!("/api/v1/events?q={}", urlencoding::encode("u1 acter:bob")),
        )
        .await;
    assert_eq!((status, err["error"]["field"].as_str()), (400, Some("q")));
    let message = err["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("did you mean \"actor\"") && message.contains("character 4"),
        "{message}"
    );

    for (qs, field) in [
        ("sort=size", "sort"),
        ("page_size=0", "page_size"),
        ("from=2026-02-30", "from"),
        ("from=2026-02-02&to=2026-02-01", "from"),
        ("ip=203.0.113.0/33", "ip"),
        ("ip=acme", "ip"),
    ] {
        let (status, err) = app.get_json(&token, &format!("/api/v1/events?{qs}")).await;
        assert_eq!(status, 400, "{qs}");
        assert_eq!(err["error"]["field"], field, "{qs}");
        assert_eq!(err["error"]["code"], "invalid_filter");
    }
    let ingest_only = app.token("ingest").await;
    assert_eq!(app.get_json(&ingest_only, "/api/v1/events").await.0, 403);
    assert_eq!(
        app.client.get(app.url("/api/v1/events")).send().await.unwrap().status(),
        401
    );

    let (status, facets) = app.get_json(&token, "/api/v1/facets").await;
    assert_eq!(status, 200);
    assert_eq!(facets["categories"][0]["category"], "mailbox");
}

#[tokio::test]
async fn an_ip_range_keeps_its_networks_addresses_as_a_parameter_and_a_term() {
    let app = TestApp::start().await;
    let token = app.token("ingest,read").await;
    let events: Vec<Value> = (0..30)
        .map(|i| {
            let mut e = event(if i % 3 == 0 { "user.delete" } else { "mailbox.create" }, "u1");
            e["ip"] = json!(
                [
                    "203.0.113.7",
                    "203.0.114.7",
                    "2001:db8::42",
                    "::ffff:203.0.113.9",
                    "10.1.2.3"
                ][i % 5]
            );
            e
        })
        .collect();
    app.post_events(&token, &json!({ "events": events })).await;
    // A network's addresses (with their IPv4-mapped form), one address, as a parameter and as a term of `q`.
    for (qs, total) in [
        ("ip=203.0.113.0/24", 12),
        (&format!("q={}", urlencoding::encode("ip:203.0.113.0/24")), 12),
        ("ip=2001:db8::/32&action=user.delete", 2),
        ("ip=10.1.2.3", 6),
        ("ip=192.0.2.0/24", 0),
    ] {
        let (status, page) = app.get_json(&token, &format!("/api/v1/events?{qs}")).await;
        assert_eq!((status, page["total"].as_u64()), (200, Some(total)), "{qs}");
    }
}

#[tokio::test]
async fn fields_full_lists_whole_events_in_the_pages_order() {
    let app = TestApp::start().await;
    let token = app.token("ingest,read").await;
    let mut one = common::event("mailbox.create", "7");
    one["ip"] = serde_json::json!("203.0.113.42");
    one["details"] = serde_json::json!({"quota_mb": 512});
    app.post_events(&token, &one).await;
    app.post_events(&token, &common::event("mailbox.delete", "8")).await;
    let (status, rows) = app.get_json(&token, "/api/v1/events").await;
    assert_eq!(status, 200);
    assert_eq!(rows["entries"][1]["ip"], "203.0.113.xxx", "rows are masked");
    let (status, full) = app.get_json(&token, "/api/v1/events?fields=full").await;
    assert_eq!(status, 200);
    assert_eq!(full["total"], 2);
    let ids = |v: &serde_json::Value| -> Vec<String> {
        v["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(ids(&full), ids(&rows), "the same page, in the same order");
    assert_eq!(full["entries"][1]["ip"], "203.0.113.42");
    assert_eq!(full["entries"][1]["details"]["quota_mb"], 512);
    let (status, bad) = app.get_json(&token, "/api/v1/events?fields=everything").await;
    assert_eq!(status, 400);
    assert_eq!(bad["error"]["field"], "fields");
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_events_ingested() {
    let app = TestApp::start().await;
    let token = app.token("ingest,read").await;
    app.post_events(
        &token,
        &serde_json::json!({"events": [common::event("a.b", "1"), common::event("a.b", "2")]}),
    )
    .await;
    app.get_json(&token, "/api/v1/events/01JB8Q4K7N2X5S3V9T0R1C6M2D").await;
    let refused = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(refused.status(), 401, "metrics need a read token unless made public");
    let resp = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = resp.text().await.unwrap();
    for needed in [
        "events_ingested_total",
        "ingest_batch_events",
        "writer_commit_seconds",
        "database_size_bytes",
        "wal_size_bytes",
        "search_index_backlog_events",
        "http_request_duration_seconds",
    ] {
        assert!(text.contains(needed), "{needed} missing from:\n{text}");
    }
    // Series by route pattern, never by the id in the path.
    assert!(text.contains(r#"route="/api/v1/events/{id}""#), "{text}");
    assert!(!text.contains("01JB8Q4K7N2X5S3V9T0R1C6M2D"), "{text}");
}
