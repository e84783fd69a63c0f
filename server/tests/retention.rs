//! Retention over the real server: the setting (HTTP, recorded), the purge, and everything derived from the
//! events agreeing with the rows that remain; the log still verifies and names what was purged.

mod common;

use app::model::AuditQuery;
use common::{TestApp, auditlog, text};
use serde_json::{Value, json};

fn at(days_ago: i64) -> String {
    (chrono::Utc::now() - chrono::Duration::days(days_ago)).to_rfc3339()
}

async fn plain_count(app: &TestApp, sql: &str) -> i64 {
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", app.dir.path().join("audit.db").display()))
        .await
        .unwrap();
    sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap()
}

#[tokio::test]
async fn a_purge_deletes_the_old_events_and_leaves_every_count_and_the_log_right() {
    let app = TestApp::start().await;
    let token = app.token("ingest,read,admin").await;
    seed(&app, &token).await;
    let q = |s: &str| AuditQuery::from_query_string(s).unwrap();
    assert_eq!(app.store.count(&q("q=ancientterm")).await.unwrap(), 30);
    assert_eq!(app.store.count(&q("source=old-panel")).await.unwrap(), 30);

    set_over_http(&app, &token).await;

    let purge = app
        .store
        .purge_expired(chrono::Utc::now().timestamp_millis())
        .await
        .unwrap();
    assert_eq!(purge.deleted, 30);

    // Every total, facet and search agrees with the rows that remain.
    let rows = plain_count(&app, "SELECT COUNT(*) FROM events").await;
    assert_eq!(app.store.count(&AuditQuery::default()).await.unwrap() as i64, rows);
    let (_, page) = app.get_json(&token, "/api/v1/events").await;
    assert_eq!(page["total"].as_i64(), Some(rows));
    assert_eq!(app.store.count(&q("source=old-panel")).await.unwrap(), 0);
    assert_eq!(app.store.count(&q("q=ancientterm")).await.unwrap(), 0);
    assert_eq!(app.store.count(&q("actor=ancient3@example.com")).await.unwrap(), 0);
    assert_eq!(app.store.count(&q("target_id=mb-3")).await.unwrap(), 1);
    derived_tables_agree(&app, rows).await;

    // The purge is recorded once, with what it deleted.
    let purges = app.store.list(&q("action=audit.retention_purge")).await.unwrap();
    assert_eq!(purges.total, 1);
    let recorded = app.store.get(&purges.entries[0].id).await.unwrap();
    assert_eq!(Some(recorded.id.clone()), purge.event_id);
    assert_eq!(recorded.details["deleted"], json!(30));
    assert_eq!(recorded.details["retention_days"], json!(365));
    assert!(recorded.details["first_log_index"].as_u64() < recorded.details["last_log_index"].as_u64());

    // The log still verifies, and says what was purged.
    let report = app.store.verify(|_, _| {}).await.unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!(report.purged.len(), 2, "two runs: {:?}", report.purged);
    assert!(report.purged[0].contains(purge.event_id.as_deref().unwrap()));
    let db = format!("sqlite://{}", app.dir.path().join("audit.db").display());
    let out = auditlog(&db, &["verify"], &[]);
    let said = text(&out.stdout);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("purged by retention"), "{said}");

    // A second purge finds nothing more; nothing is recorded for it.
    assert_eq!(
        app.store
            .purge_expired(chrono::Utc::now().timestamp_millis())
            .await
            .unwrap()
            .deleted,
        0
    );
    assert_eq!(app.store.count(&q("action=audit.retention_purge")).await.unwrap(), 1);
}

#[tokio::test]
async fn the_command_line_shows_sets_and_purges() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("r.db").display());
    assert_eq!(
        text(&auditlog(&db, &["retention", "show"], &[]).stdout).trim(),
        "forever"
    );
    let set = auditlog(&db, &["retention", "set", "90"], &[]);
    assert!(set.status.success(), "{}", text(&set.stderr));
    assert_eq!(
        text(&auditlog(&db, &["retention", "show"], &[]).stdout).trim(),
        "90 days"
    );
    assert!(!auditlog(&db, &["retention", "set", "0"], &[]).status.success());
    let purge = auditlog(&db, &["retention", "purge"], &[]);
    assert!(
        text(&purge.stdout).starts_with("no event is older than"),
        "{}",
        text(&purge.stdout)
    );
    auditlog(&db, &["retention", "off"], &[]);
    assert_eq!(
        text(&auditlog(&db, &["retention", "show"], &[]).stdout).trim(),
        "forever"
    );
}

/// 30 events 400 days old and 20 a day old, interleaved in commit order (so that the purged log indexes are
/// not one run), all indexed for search.
async fn seed(app: &TestApp, token: &str) {
    let old: Vec<Value> = (0..30)
        .map(|i| {
            json!({"action": "mailbox.delete", "timestamp": at(400), "source": "old-panel",
                   "actor": {"type": "user", "email": format!("ancient{i}@example.com")},
                   "target": {"type": "mailbox", "id": format!("mb-{i}")},
                   "tenant": (i % 2 == 0).then_some("acme"),
                   "ip": if i % 3 == 0 { "198.51.100.1" } else { "203.0.113.5" },
                   "details": {"note": "ancientterm"}})
        })
        .collect();
    let recent: Vec<Value> = (0..20)
        .map(|i| {
            json!({"action": "mailbox.create", "timestamp": at(1),
                   "actor": {"type": "user", "email": "fresh@example.com"},
                   "tenant": (i % 2 == 0).then_some("acme"),
                   "ip": "203.0.113.5",
                   "target": {"type": "mailbox", "id": format!("mb-{i}")}})
        })
        .collect();
    // Interleaved in commit order, so that the purged log indexes are not one run.
    app.post_events(token, &json!({"events": old[..15]})).await;
    app.post_events(token, &json!({"events": recent})).await;
    app.post_events(token, &json!({"events": old[15..]})).await;
    while app.store.index_pending(1_000).await.unwrap() > 0 {}
}

/// The setting over HTTP: bad values name the field, a read token may not change it, the change is recorded.
async fn set_over_http(app: &TestApp, token: &str) {
    let q = |s: &str| AuditQuery::from_query_string(s).unwrap();
    // The setting: bad values name the field; a read token may not change it.
    let put = |body: Value, token: String| async move {
        let r = app
            .client
            .put(app.url("/api/v1/settings/retention"))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json::<Value>().await.unwrap_or(Value::Null))
    };
    let (status, body) = put(json!({"days": 0}), token.to_string()).await;
    assert_eq!((status, body["error"]["field"].as_str()), (400, Some("days")), "{body}");
    let (status, _) = put(json!({"days": "a year"}), token.to_string()).await;
    assert_eq!(status, 400);
    let reader = app.token("read").await;
    assert_eq!(put(json!({"days": 365}), reader).await.0, 403);
    let (status, body) = put(json!({"days": 365}), token.to_string()).await;
    assert_eq!((status, &body), (200, &json!({"days": 365})));
    let (_, shown) = app.get_json(token, "/api/v1/settings/retention").await;
    assert_eq!(shown, json!({"days": 365}));
    let change = app.store.list(&q("action=settings.update")).await.unwrap();
    let change = app.store.get(&change.entries[0].id).await.unwrap();
    assert_eq!(
        change.details["changes"]["retention_days"],
        json!({"from": "forever", "to": "365"})
    );
}

/// The counts kept beside the events agree with a plain count of the rows that remain.
async fn derived_tables_agree(app: &TestApp, rows: i64) {
    let facets = app.store.facets(None).await.unwrap();
    let actions: i64 = plain_count(app, "SELECT COUNT(*) FROM events WHERE action = 'mailbox.delete'").await;
    assert_eq!(actions, 0);
    let facet_json = serde_json::to_string(&facets).unwrap();
    assert!(!facet_json.contains("mailbox.delete"), "{facet_json}");
    assert!(
        !facet_json.contains("old-panel") && !facet_json.contains("ancient"),
        "{facet_json}"
    );
    for (col, sql) in [
        ("*", "SELECT COUNT(*) FROM events"),
        ("action", "SELECT COUNT(*) FROM events WHERE action = 'mailbox.create'"),
    ] {
        let value = if col == "*" { "" } else { "mailbox.create" };
        let kept = plain_count(
            app,
            &format!("SELECT COALESCE(SUM(n), 0) FROM day_counts WHERE col = '{col}' AND value = '{value}'"),
        )
        .await;
        assert_eq!(kept, plain_count(app, sql).await, "day_counts {col}");
    }
    assert_eq!(
        plain_count(app, "SELECT COUNT(*) FROM actors WHERE who LIKE 'ancient%'").await,
        0
    );
    assert_eq!(
        plain_count(app, "SELECT COALESCE(SUM(n), 0) FROM day_cube").await,
        rows,
        "the cube sums to the rows"
    );
    // A tenant's counts and cube lose its purged events too, and keep no emptied row.
    let tenanted = plain_count(app, "SELECT COUNT(*) FROM events WHERE tenant = 'acme'").await;
    assert_eq!(tenanted, 10, "the recent half of acme's events remains");
    for sql in [
        "SELECT COALESCE(SUM(n), 0) FROM tenant_day_cube WHERE tenant = 'acme'",
        "SELECT COALESCE(SUM(n), 0) FROM day_counts WHERE col = 'tenant' AND value = 'acme'",
        "SELECT COALESCE(SUM(n), 0) FROM value_counts WHERE col = 'tenant' AND value = 'acme'",
    ] {
        assert_eq!(plain_count(app, sql).await, tenanted, "{sql}");
    }
    assert_eq!(
        plain_count(app, "SELECT COUNT(*) FROM tenant_day_cube WHERE n <= 0").await,
        0
    );
    let q = AuditQuery::from_query_string("tenant=acme&action=mailbox.delete").unwrap();
    assert_eq!(app.store.count(&q).await.unwrap(), 0);
    // An address's count loses its purged events; an address none of whose events remain is gone.
    let ip_counts = "SELECT COUNT(*) FROM value_counts WHERE col = 'ip' AND value = '198.51.100.1'";
    assert_eq!(plain_count(app, ip_counts).await, 0);
    for ip_counts in [
        "SELECT COALESCE(SUM(n), 0) FROM value_counts WHERE col = 'ip' AND value = '203.0.113.5'",
        "SELECT COALESCE(SUM(n), 0) FROM ip_day_cube WHERE ip = '203.0.113.5'",
    ] {
        assert_eq!(plain_count(app, ip_counts).await, 20, "{ip_counts}");
    }
    assert_eq!(
        plain_count(
            app,
            "SELECT COUNT(*) FROM ip_day_cube WHERE n <= 0 OR ip = '198.51.100.1'"
        )
        .await,
        0
    );
    let q = AuditQuery::from_query_string("ip=198.51.100.0/24").unwrap();
    assert_eq!(app.store.count(&q).await.unwrap(), 0);
    let q = AuditQuery::from_query_string("ip=203.0.113.0/24").unwrap();
    assert_eq!(app.store.count(&q).await.unwrap(), 20);
}

#[tokio::test]
async fn the_server_purges_moments_after_the_retention_changes() {
    let app = TestApp::start().await;
    let token = app.token("ingest,read,admin").await;
    seed(&app, &token).await;
    // What `serve` runs beside the server: a purge at start (nothing: forever), then at each change.
    tokio::spawn(app.store.clone().run_retention(std::time::Duration::from_secs(3_600)));
    let q = AuditQuery::from_query_string("source=old-panel").unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(app.store.count(&q).await.unwrap(), 30, "kept forever by default");
    let r = app
        .client
        .put(app.url("/api/v1/settings/retention"))
        .bearer_auth(&token)
        .json(&json!({"days": 365}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let started = std::time::Instant::now();
    while app.store.count(&q).await.unwrap() > 0 {
        assert!(started.elapsed().as_secs() < 10, "no purge 10 s after the change");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
