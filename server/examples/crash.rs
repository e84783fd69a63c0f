//! Crash test: the release server killed with SIGKILL while 8 clients send events, again and again. After each
//! kill the server starts again on the same file; at the end every event the server acknowledged (201) must be
//! stored, `PRAGMA integrity_check` must say `ok`, and `auditlog verify` must pass.
//!
//! cargo run --release -p server --example crash -- [--kills 20]  (or `scripts/crash.sh`)

use std::{
    collections::HashSet,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use common::{Result, auditlog, start, token};
use serde_json::json;

mod common;

/// Sends single events and small batches until `stop`; returns the ids the server acknowledged.
async fn send(base: String, token: String, client: usize, stop: Arc<AtomicBool>, acked: Arc<Mutex<HashSet<String>>>) {
    let http = reqwest::Client::new();
    let mut n = 0u64;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        let size = if n.is_multiple_of(3) { 20 } else { 1 };
        let events: Vec<_> = (0..size)
            .map(|i| {
                json!({"action": "mailbox.update", "actor": {"type": "user", "id": format!("c{client}")},
                            "details": {"n": n, "i": i}})
            })
            .collect();
        let sent = http
            .post(format!("{base}/api/v1/events"))
            .bearer_auth(&token)
            .json(&json!({ "events": events }))
            .timeout(Duration::from_secs(5))
            .send()
            .await;
        match sent {
            Ok(r) if r.status().as_u16() == 201 => {
                if let Ok(body) = r.json::<serde_json::Value>().await
                    && let Some(ids) = body["ids"].as_array()
                    && let Ok(mut acked) = acked.lock()
                {
                    acked.extend(ids.iter().filter_map(|i| i.as_str().map(String::from)));
                }
            }
            // The server is down (killed): wait for it to come back.
            _ => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let mut kills = 20;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--kills" => kills = args.next().and_then(|k| k.parse().ok()).ok_or("--kills N")?,
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("crash.db");
    let token = token(&db, "crash", "ingest")?;
    let port = 3950;
    let base = format!("http://127.0.0.1:{port}");
    let acked = Arc::new(Mutex::new(HashSet::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let env = [("AUDITLOG_CHECKPOINT_INTERVAL_MS", "200")];
    let mut server = start(&db, port, &env).await?;
    let clients: Vec<_> = (0..8)
        .map(|c| tokio::spawn(send(base.clone(), token.clone(), c, stop.clone(), acked.clone())))
        .collect();
    let started = Instant::now();
    for kill in 1..=kills {
        // Somewhere between 0.2 and 1.2 s into the run, mid-commit as likely as not.
        tokio::time::sleep(Duration::from_millis(200 + (kill as u64 * 389) % 1000)).await;
        drop(server);
        let check = auditlog(&db, &["verify"]);
        let said = String::from_utf8_lossy(&check.stdout).trim().to_string();
        println!(
            "kill {kill}: {} acknowledged so far; after restart `auditlog verify`: {said}",
            acked.lock().map(|a| a.len()).unwrap_or(0)
        );
        if !check.status.success() {
            return Err(format!("verify failed after kill {kill}").into());
        }
        server = start(&db, port, &env).await?;
    }
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.await?;
    }
    drop(server);
    let acked: HashSet<String> = acked.lock().map(|a| a.clone()).unwrap_or_default();
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display())).await?;
    let integrity: String = sqlx::query_scalar("PRAGMA integrity_check").fetch_one(&pool).await?;
    let stored: Vec<String> = sqlx::query_scalar("SELECT id FROM events").fetch_all(&pool).await?;
    let stored: HashSet<String> = stored.into_iter().collect();
    let lost = acked.difference(&stored).count();
    println!(
        "\n{kills} kills in {:.0} s: {} events acknowledged, {} stored, {lost} acknowledged and lost; integrity_check: {integrity}",
        started.elapsed().as_secs_f64(),
        acked.len(),
        stored.len()
    );
    if lost > 0 || integrity != "ok" {
        return Err("events were lost or the file is damaged".into());
    }
    Ok(())
}
