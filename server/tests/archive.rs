//! Archive files over the real binary: one canonical line per event in its day's file, equal to the JSONL
//! export; completed after SIGKILL and after a line cut short, without a gap or a duplicate; and the
//! retention purge never deleting an event that is not archived yet.

mod common;

use std::{collections::BTreeMap, path::Path, time::Duration};

use common::{Served, TestApp, auditlog, event, text};
use serde_json::{Value, json};

/// Every line of every archive file, by log index (a duplicate fails).
fn archived(dir: &Path) -> BTreeMap<i64, Value> {
    let mut lines = BTreeMap::new();
    let mut files: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    for file in files {
        let day = file.file_name().unwrap().to_string_lossy()[..10].to_string();
        for line in std::fs::read_to_string(&file).unwrap().lines() {
            let value: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{}: {e}: {line}", file.display()));
            assert_eq!(
                value["received_at"].as_str().unwrap()[..10],
                day,
                "in the file of its day"
            );
            let index = value["log_index"].as_i64().unwrap();
            assert!(lines.insert(index, value).is_none(), "log index {index} archived twice");
        }
    }
    lines
}

/// The JSONL export of the whole log, by log index.
fn exported(db: &str) -> BTreeMap<i64, Value> {
    let out = auditlog(db, &["export", "--format", "jsonl"], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter_map(|v| Some((v.get("log_index")?.as_i64()?, v)))
        .collect()
}

async fn wait_for(dir: &Path, n: usize) -> BTreeMap<i64, Value> {
    let started = std::time::Instant::now();
    loop {
        let lines = if dir.exists() { archived(dir) } else { BTreeMap::new() };
        if lines.len() >= n || started.elapsed() > Duration::from_secs(20) {
            return lines;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn ingest(served: &Served, token: &str, tag: &str, n: usize) {
    let batch: Vec<Value> = (0..n).map(|i| event("order.create", &format!("{tag}-{i}"))).collect();
    let status = reqwest::Client::new()
        .post(served.url("/api/v1/events"))
        .bearer_auth(token)
        .json(&json!({ "events": batch }))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_archive_equals_the_export_and_survives_sigkill_and_a_cut_line() {
    let tmp = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", tmp.path().join("audit.db").display());
    let dir = tmp.path().join("archive");
    let made = auditlog(
        &db,
        &["token", "create", "--name", "ops", "--scope", "ingest,read"],
        &[],
    );
    let token = text(&made.stdout).trim().to_string();
    let env = [("AUDITLOG_ARCHIVE_DIR", dir.to_str().unwrap())];
    // Events from before the archive existed are archived too.
    let mut served = Served::start(&db).await;
    ingest(&served, &token, "before", 20).await;
    served.kill();

    let mut total = 20;
    served = Served::start_env(&db, &env).await;
    // The admin the server makes sure of at start is recorded too: a few events more than ingested.
    for round in 0..3 {
        ingest(&served, &token, &format!("r{round}"), 200).await;
        total += 200;
        tokio::time::sleep(Duration::from_millis(30)).await;
        served.kill();
        served = Served::start_env(&db, &env).await;
    }
    let expected = exported(&db);
    assert!(expected.len() >= total);
    let got = wait_for(&dir, expected.len()).await;
    assert_eq!(got, expected, "every event once, as the export writes it");

    // A crash in the middle of a line: the line is removed at start and written again whole.
    served.kill();
    let latest = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .max()
        .unwrap();
    let content = std::fs::read_to_string(&latest).unwrap();
    let last_line_start = content[..content.len() - 1].rfind('\n').map_or(0, |i| i + 1);
    std::fs::write(&latest, &content[..last_line_start + 10]).unwrap();
    served = Served::start_env(&db, &env).await;
    ingest(&served, &token, "after", 5).await;
    let expected = exported(&db);
    let got = wait_for(&dir, expected.len()).await;
    assert_eq!(got, expected);
    drop(served);
}

#[tokio::test]
async fn the_purge_keeps_what_is_not_archived() {
    let app = TestApp::start().await;
    let token = app.token("ingest,read,admin").await;
    let old = (chrono::Utc::now() - chrono::Duration::days(400)).to_rfc3339();
    let batch: Vec<Value> = (0..10)
        .map(|i| {
            let mut e = event("order.create", &format!("old-{i}"));
            e["timestamp"] = json!(old);
            e
        })
        .collect();
    let (status, _) = app.post_events(&token, &json!({ "events": batch })).await;
    assert_eq!(status, 201);
    app.store
        .set_retention_days(
            Some(365),
            app::model::Actor::system("test"),
            app::model::RecordedBy::system(),
            |e| e,
        )
        .await
        .unwrap();
    // Only the first four are in the archive.
    app.store.set_archived(4);
    let purge = app
        .store
        .purge_expired(chrono::Utc::now().timestamp_millis())
        .await
        .unwrap();
    assert_eq!(purge.deleted, 4);
    let left = app.store.count(&app::model::AuditQuery::default()).await.unwrap();
    assert_eq!(left, 8, "6 old, the setting and the purge");
    app.store.set_archived(i64::MAX);
    let purge = app
        .store
        .purge_expired(chrono::Utc::now().timestamp_millis())
        .await
        .unwrap();
    assert_eq!(purge.deleted, 6);
}
