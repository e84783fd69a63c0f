//! Nothing acknowledged is lost: the real binary is killed with SIGKILL in the middle of a heavy concurrent
//! ingest; afterwards every event it acknowledged (201) is in the database, which passes integrity_check.

mod common;

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use app::store::{AuditStore, Scopes};
use common::Served;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_during_ingest_loses_no_acknowledged_event() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("kill.db").display());
    let store = AuditStore::open(&url).await.unwrap();
    let token = store
        .create_token("kill", &Scopes::parse("ingest").unwrap())
        .await
        .unwrap()
        .plaintext;
    store.close().await;

    let mut served = Served::start(&url).await;
    let base = served.base.clone();
    let client = reqwest::Client::new();

    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut writers = Vec::new();
    for w in 0..6 {
        let (client, token, base, acked) = (client.clone(), token.clone(), base.clone(), acknowledged.clone());
        writers.push(tokio::spawn(async move {
            for b in 0.. {
                let size = if w % 2 == 0 { 200 } else { 1 };
                let events: Vec<_> = (0..size)
                    .map(|i| {
                        let id = ulid::Ulid::new().to_string();
                        json!({"id": id, "action": "load.write", "actor": {"type": "system", "name": format!("w{w}")}, "details": {"b": b, "i": i}})
                    })
                    .collect();
                let ids: Vec<String> = events.iter().map(|e| e["id"].as_str().unwrap().to_string()).collect();
                match client.post(format!("{base}/api/v1/events")).bearer_auth(&token).json(&json!({"events": events})).send().await {
                    Ok(r) if r.status() == 201 => acked.lock().unwrap().extend(ids),
                    _ => break, // the server is gone
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    served.kill();
    for w in writers {
        w.await.unwrap();
    }

    let acked = acknowledged.lock().unwrap().clone();
    assert!(
        acked.len() > 500,
        "the load was heavy enough ({} acknowledged)",
        acked.len()
    );
    let store = AuditStore::open(&url).await.unwrap();
    assert_eq!(store.integrity_check().await.unwrap(), "ok");
    let stored = store.count(&Default::default()).await.unwrap() as usize;
    assert!(stored >= acked.len(), "stored {stored} < acknowledged {}", acked.len());
    for id in &acked {
        store
            .get(id)
            .await
            .unwrap_or_else(|_| panic!("acknowledged event {id} was lost"));
    }
}
