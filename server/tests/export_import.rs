//! Export (exact CSV bytes, JSONL round trip through import, filters, filename, auth) and import (good, bad
//! and mixed files; idempotent).

mod common;

use std::io::Write;

use app::model::{AuditQuery, Role};
use common::TestApp;
use serde_json::{Value, json};

/// `GET /api/v1/events/export?<query>` with a bearer token.
async fn export(app: &TestApp, token: &str, query: &str) -> reqwest::Response {
    app.client
        .get(app.url(&format!("/api/v1/events/export?{query}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn seed_two(app: &TestApp) -> String {
    let token = app.token("ingest,read").await;
    let events = json!({"events": [
        {
            "id": "01JB8Q4K7N2X5S3V9T0R1C6M2D", "timestamp": "2026-01-02T03:04:05.678Z", "action": "user.update",
            "actor": {"type": "user", "id": "7", "name": "Zoë, \"Z\"\nMüller", "email": "zoe@acme.com"},
            "target": {"type": "user", "id": "9", "name": "=HYPERLINK(\"x\")"}, "source": "panel",
            "ip": "203.0.113.42", "user_agent": "Mozilla/5.0", "details": {"note": "a,b", "password": "hunter2"}
        },
        {
            "id": "01JB8Q4K7N2X5S3V9T0R1C6M2E", "timestamp": "2026-01-02T03:04:06Z", "action": "auth.login",
            "outcome": "failure", "actor": {"type": "user", "email": "-1+2@x.org"}, "ip": "2001:db8::1",
            "user_agent": "\tcurl", "details": {}
        }
    ]});
    let (status, body) = app.post_events(&token, &events).await;
    assert_eq!(status, 201, "{body}");
    token
}

#[tokio::test]
async fn csv_export_has_exact_bytes() {
    let app = TestApp::start().await;
    let token = seed_two(&app).await;
    let resp = export(&app, &token, "format=csv&order=asc").await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "text/csv; charset=utf-8");
    let today = chrono::Utc::now().format("%Y-%m-%d");
    assert_eq!(
        resp.headers()["content-disposition"].to_str().unwrap(),
        format!("attachment; filename=\"audit-log-{today}.csv\"")
    );
    let body = resp.text().await.unwrap();
    let expected = concat!(
        "\u{feff}id,timestamp,action,outcome,actor_type,actor_id,actor_name,actor_email,target_type,target_id,target_name,source,tenant,ip,user_agent,details\r\n",
        "01JB8Q4K7N2X5S3V9T0R1C6M2D,2026-01-02T03:04:05.678Z,user.update,success,user,7,\"Zoë, \"\"Z\"\"\nMüller\",zoe@acme.com,user,9,\"'=HYPERLINK(\"\"x\"\")\",panel,,203.0.113.xxx,Mozilla/5.0,\"{\"\"note\"\":\"\"a,b\"\",\"\"password\"\":\"\"[REDACTED]\"\"}\"\r\n",
        "01JB8Q4K7N2X5S3V9T0R1C6M2E,2026-01-02T03:04:06.000Z,auth.login,failure,user,,,'-1+2@x.org,,,,default,,2001:db8::xxxx,'\tcurl,{}\r\n",
    );
    assert_eq!(body, expected);
}

#[tokio::test]
async fn export_needs_read_access_and_respects_the_filters() {
    let app = TestApp::start().await;
    let token = seed_two(&app).await;
    assert_eq!(
        app.client
            .get(app.url("/api/v1/events/export"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    let ingest_only = app.token("ingest").await;
    let r = export(&app, &ingest_only, "").await;
    assert_eq!(r.status(), 403);
    let r = export(&app, &token, "format=xml").await;
    assert_eq!(r.status(), 400);
    let jsonl = export(&app, &token, "format=jsonl&outcome=failure").await;
    assert!(
        jsonl.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .ends_with(".jsonl\"")
    );
    let text = jsonl.text().await.unwrap();
    let lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["action"], "auth.login");
    assert_eq!(
        lines[0]["ip"], "2001:db8::1",
        "JSONL keeps the whole address (see README)"
    );

    // The export is itself recorded, with its row count.
    let exports = app
        .store
        .list(&AuditQuery::from_query_string("action=audit.export").unwrap())
        .await
        .unwrap();
    let last = app.store.get(&exports.entries[0].id).await.unwrap();
    assert_eq!(last.details["rows"], json!(1));
    assert_eq!(last.details["completed"], json!(true));
    assert_eq!(last.details["filters"], json!("outcome=failure"));
    assert_eq!(last.actor.kind.as_str(), "api_token");
}

#[tokio::test]
async fn export_matches_the_list_for_the_same_filters_across_chunks() {
    let app = TestApp::start().await;
    let token = app.token("ingest,read").await;
    for b in 0..5 {
        let events: Vec<_> = (0..1000)
            .map(|i| json!({"action": if i % 3 == 0 { "mailbox.delete" } else { "mailbox.create" }, "actor": {"type": "user", "id": format!("{b}-{i}")}, "timestamp": format!("2026-02-{:02}T00:00:{:02}Z", 1 + i % 28, i % 60)}))
            .collect();
        app.post_events(&token, &json!({ "events": events })).await;
    }
    let qs = "action=mailbox.delete&sort=action&order=asc";
    let response = export(&app, &token, &format!("format=jsonl&{qs}")).await;
    let exported: Vec<String> = response
        .text()
        .await
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    let mut listed = Vec::new();
    for page in 1.. {
        let (_, body) = app
            .get_json(&token, &format!("/api/v1/events?{qs}&page_size=500&page={page}"))
            .await;
        let entries = body["entries"].as_array().unwrap();
        if entries.is_empty() {
            break;
        }
        listed.extend(entries.iter().map(|e| e["id"].as_str().unwrap().to_string()));
    }
    assert_eq!(exported.len(), 1670);
    assert_eq!(exported, listed);
}

#[tokio::test]
async fn a_signed_in_admin_can_export_from_the_browser() {
    let app = TestApp::start().await;
    seed_two(&app).await;
    let admin = app.session(Role::Admin).await;
    let r = app
        .client
        .get(app.url("/api/v1/events/export?format=csv"))
        .header("cookie", admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.text().await.unwrap().lines().count(),
        4,
        "header, two rows (one with a newline inside)"
    );
}

#[tokio::test]
async fn jsonl_export_imports_into_an_empty_database_as_the_same_events() {
    let app = TestApp::start().await;
    let token = seed_two(&app).await;
    // With its proof: the last line, which the import skips.
    let exported = export(&app, &token, "format=jsonl&proof=true")
        .await
        .text()
        .await
        .unwrap();
    let file = app.dir.path().join("export.jsonl");
    std::fs::write(&file, &exported).unwrap();

    let other = tempfile::tempdir().unwrap();
    let store = app::store::AuditStore::open(&format!("sqlite://{}", other.path().join("b.db").display()))
        .await
        .unwrap();
    let summary = server::import::import_file(&store, &file, "import", &mut |l, e| panic!("line {l}: {e}"))
        .await
        .unwrap();
    // Events only: the export itself was recorded after the stream, in the first database.
    assert_eq!((summary.imported, summary.duplicates, summary.rejected), (2, 0, 0));
    let file_name = file.display().to_string();
    let (events, trailer) = exported.trim_end().rsplit_once('\n').unwrap();
    assert!(trailer.starts_with(r#"{"auditlog_proof":"#), "{trailer}");
    for line in events.lines() {
        let mut original: app::model::Event = serde_json::from_str(line).unwrap();
        assert_eq!(original.recorded_by.as_ref().unwrap().kind.as_str(), "token");
        let mut imported = store.get(&original.id).await.unwrap();
        // The same event, recorded again, by the import, in the new log's order.
        let by = imported.recorded_by.take().unwrap();
        assert_eq!((by.kind.as_str(), by.id.as_str()), ("import", file_name.as_str()));
        assert!(imported.log_index.take().unwrap() < 2);
        (original.recorded_by, original.log_index) = (None, None);
        assert_eq!(imported, original);
    }
}

#[tokio::test]
async fn import_reports_bad_lines_skips_them_and_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let store = app::store::AuditStore::open(&format!("sqlite://{}", dir.path().join("i.db").display()))
        .await
        .unwrap();
    let file = dir.path().join("2026-03-01.log");
    let mut f = std::fs::File::create(&file).unwrap();
    writeln!(f, r#"{{"timestamp":"2026-03-01 10:00:00","user":"admin@acme.com","action":"create_mailbox","target":"info@acme.com","details":{{"quota":1}}}}"#).unwrap();
    writeln!(
        f,
        r#"{{"action":"mailbox.delete","actor":{{"type":"user","id":"1"}},"timestamp":"2026-03-01T10:01:00Z"}}"#
    )
    .unwrap();
    writeln!(f, "not json").unwrap();
    writeln!(f).unwrap();
    writeln!(
        f,
        r#"{{"action":"mailbox.delete","actor":{{"type":"robot","id":"1"}},"timestamp":"2026-03-01T10:01:00Z"}}"#
    )
    .unwrap();
    writeln!(f, r#"{{"timestamp":"yesterday","user":"bob","action":"login"}}"#).unwrap();
    drop(f);
    let mut errors = Vec::new();
    let first = server::import::import_file(&store, &file, "import", &mut |l, e| errors.push((l, e)))
        .await
        .unwrap();
    assert_eq!((first.imported, first.duplicates, first.rejected), (2, 0, 3));
    let lines: Vec<u64> = errors.iter().map(|(l, _)| *l).collect();
    assert_eq!(lines, vec![3, 5, 6]);
    assert!(errors[1].1.starts_with("actor.type"), "{}", errors[1].1);
    assert!(errors[2].1.starts_with("timestamp"), "{}", errors[2].1);

    let again = server::import::import_file(&store, &file, "import", &mut |_, _| {})
        .await
        .unwrap();
    assert_eq!((again.imported, again.duplicates, again.rejected), (0, 2, 3));
    assert_eq!(store.count(&AuditQuery::new()).await.unwrap(), 2);
    let daily = store
        .list(&AuditQuery::from_query_string("action=mailbox.create").unwrap())
        .await
        .unwrap();
    assert_eq!(daily.entries[0].actor_email.as_deref(), Some("admin@acme.com"));
}

#[test]
fn the_cli_import_prints_a_summary_and_fails_on_rejected_lines() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("x.jsonl");
    std::fs::write(
        &file,
        "{\"action\":\"a.b\",\"actor\":{\"type\":\"user\",\"id\":\"1\"},\"timestamp\":\"2026-01-01T00:00:00Z\"}\n{}\n",
    )
    .unwrap();
    let db = format!("sqlite://{}", dir.path().join("c.db").display());
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_auditlog"))
        .args(["--database-url", &db, "import"])
        .arg(&file)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(&format!("{}:2: ", file.display())), "{stderr}");
    assert!(stderr.contains("imported 1, duplicates 0, rejected 1"), "{stderr}");
}

#[tokio::test]
async fn a_client_that_disconnects_mid_export_stops_it_and_it_is_recorded_as_incomplete() {
    let app = TestApp::start().await;
    let token = app.token("ingest,read").await;
    for b in 0..10 {
        let events: Vec<_> = (0..1000)
            .map(|i| json!({"action": "mailbox.update", "actor": {"type": "user", "id": format!("{b}-{i}")}, "details": {"pad": "x".repeat(400)}}))
            .collect();
        app.post_events(&token, &json!({ "events": events })).await;
    }
    let mut resp = export(&app, &token, "format=csv").await;
    let first = resp.chunk().await.unwrap().expect("a first chunk");
    assert!(!first.is_empty());
    drop(resp); // the client goes away

    let q = AuditQuery::from_query_string("action=audit.export").unwrap();
    let mut recorded = None;
    for _ in 0..100 {
        let page = app.store.list(&q).await.unwrap();
        if let Some(row) = page.entries.first() {
            recorded = Some(app.store.get(&row.id).await.unwrap());
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let e = recorded.expect("the interrupted export is recorded");
    assert_eq!(e.details["completed"], json!(false));
    assert_eq!(e.outcome.as_str(), "failure");
    let rows = e.details["rows"].as_u64().unwrap();
    assert!(rows < 10_000, "the walk stopped early ({rows} of 10,000 rows read)");
}

#[tokio::test]
async fn a_database_error_mid_export_ends_the_file_visibly_and_aborts_the_transfer() {
    let app = TestApp::start().await;
    let token = seed_two(&app).await;
    // An older row the reader cannot decode (its action is not text): the walk fails after the two good rows.
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", app.dir.path().join("audit.db").display()))
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO events (id, ts, received_at, action, category, outcome, actor_type, source) \
         VALUES ('01JB8Q4K7N2X5S3V9T0R1C6M2A', 1767225600000, 0, X'FF', 'x', 'success', 'user', 'panel')",
    )
    .execute(&pool)
    .await
    .unwrap();
    let mut resp = export(&app, &token, "format=csv").await;
    assert_eq!(resp.status(), 200);
    let mut body = Vec::new();
    let ended = loop {
        match resp.chunk().await {
            Ok(Some(piece)) => body.extend_from_slice(&piece),
            Ok(None) => break Ok(()),
            Err(e) => break Err(e),
        }
    };
    assert!(ended.is_err(), "the transfer must not end as if complete");
    let text = String::from_utf8(body).unwrap();
    let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 4, "header, two rows, the marker: {text}");
    assert_eq!(
        lines[3],
        "EXPORT INCOMPLETE: the export failed after 2 rows; this file is not complete"
    );
    let q = AuditQuery::from_query_string("action=audit.export").unwrap();
    let page = app.store.list(&q).await.unwrap();
    let e = app.store.get(&page.entries[0].id).await.unwrap();
    assert_eq!(
        (e.details["completed"].clone(), e.details["rows"].clone()),
        (json!(false), json!(2))
    );
}

/// 40,000 events of about 1 KB: far more than the sockets' buffers hold, so that a client that reads nothing
/// stalls its export.
async fn many_large_events(app: &TestApp) {
    for b in 0..40 {
        let events = (0..1000)
            .map(|i| app::model::NewEvent {
                action: "mailbox.update".into(),
                actor: Some(app::model::Actor::system(&format!("{b}-{i}"))),
                details: json!({"pad": "x".repeat(800)}).as_object().cloned().unwrap(),
                ..Default::default()
            })
            .collect();
        app.store.record_batch(events).await.unwrap();
    }
}

#[tokio::test]
async fn exports_whose_clients_stall_give_their_turn_to_the_next() {
    let tuning = app::store::Tuning {
        exports_at_once: 2,
        export_stall: std::time::Duration::from_secs(1),
        ..app::store::Tuning::default()
    };
    let app = TestApp::start_tuned(tuning).await;
    let (token, other) = (app.token("read").await, app.token("read").await);
    many_large_events(&app).await;
    let stalled = [
        export(&app, &token, "format=csv").await,
        export(&app, &token, "format=csv").await,
    ];
    let whole = tokio::time::timeout(std::time::Duration::from_secs(30), async {
        export(&app, &other, "format=csv").await.bytes().await.unwrap()
    })
    .await
    .expect("a third export gets a turn while two clients stall");
    let lines = whole.split(|b| *b == b'\n').filter(|l| !l.is_empty()).count();
    assert_eq!(lines, 40_001, "the header and every row");
    drop(stalled);
}

#[tokio::test]
async fn one_caller_runs_two_exports_at_once_and_the_others_are_not_held_up() {
    let tuning = app::store::Tuning {
        export_stall: std::time::Duration::from_secs(600),
        ..app::store::Tuning::default()
    };
    let app = TestApp::start_tuned(tuning).await;
    let (token, other) = (app.token("read").await, app.token("read").await);
    many_large_events(&app).await;
    let stalled = [
        export(&app, &token, "format=csv").await,
        export(&app, &token, "format=csv").await,
    ];
    let third = export(&app, &token, "format=csv").await;
    assert_eq!(third.status(), 429);
    assert_eq!(third.headers()["retry-after"], "10");
    let body: Value = third.json().await.unwrap();
    assert_eq!(body["error"]["code"], "too_many_exports");
    let whole = tokio::time::timeout(std::time::Duration::from_secs(30), async {
        export(&app, &other, "format=csv&action=mailbox.update")
            .await
            .bytes()
            .await
            .unwrap()
    })
    .await
    .expect("another caller exports while the first one's two clients stall");
    assert_eq!(whole.split(|b| *b == b'\n').filter(|l| !l.is_empty()).count(), 40_001);
    drop(stalled);
    // Its turns come back when its exports end.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let again = export(&app, &token, "format=csv&action=none.such").await;
    assert_eq!(again.status(), 200);
}
