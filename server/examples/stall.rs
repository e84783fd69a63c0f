//! Stalled exports: 10 clients start an export of the whole log and then read nothing, and another caller
//! exports meanwhile. Run twice: the 10 with one token (one caller may run 2 exports at once; the rest are
//! refused with 429), then each with a token of its own (they take the 4 turns until the stall limit, 30 s,
//! stops them). Prints how long the other caller's export took.
//!
//! cargo run --release -p server --example stall  (or `scripts/stall.sh`)

use std::time::{Duration, Instant};

use common::{Result, start, token};
use serde_json::json;

mod common;

/// Starts an export and reads nothing of it; `None` when it was refused (its status).
async fn stall(http: &reqwest::Client, base: &str, token: &str) -> Result<std::result::Result<reqwest::Response, u16>> {
    let r = http
        .get(format!("{base}/api/v1/events/export?format=csv"))
        .bearer_auth(token)
        .send()
        .await?;
    Ok(match r.status().as_u16() {
        200 => Ok(r),
        other => Err(other),
    })
}

/// A whole export by `token`: its rows and how long it took.
async fn export(http: &reqwest::Client, base: &str, token: &str) -> Result<(usize, Duration)> {
    let started = Instant::now();
    let body = http
        .get(format!("{base}/api/v1/events/export?format=csv"))
        .bearer_auth(token)
        .send()
        .await?
        .bytes()
        .await?;
    let rows = body.split(|b| *b == b'\n').filter(|l| !l.is_empty()).count() - 1;
    Ok((rows, started.elapsed()))
}

#[tokio::main]
async fn main() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("stall.db");
    let tokens: Vec<String> = (0..12)
        .map(|i| token(&db, &format!("t{i}"), "admin"))
        .collect::<Result<_>>()?;
    let port = 3970;
    let base = format!("http://127.0.0.1:{port}");
    let _server = start(&db, port, &[]).await?;
    let http = reqwest::Client::new();
    // 50,000 events of about 1 KB: an export of them far outgrows what the sockets' buffers hold.
    for b in 0..50 {
        let events: Vec<_> = (0..1000)
            .map(|i| {
                json!({"action": "mailbox.update", "actor": {"type": "system", "name": format!("{b}-{i}")},
                            "details": {"pad": "x".repeat(800)}})
            })
            .collect();
        http.post(format!("{base}/api/v1/events"))
            .bearer_auth(&tokens[0])
            .json(&json!({ "events": events }))
            .send()
            .await?
            .error_for_status()?;
    }
    let (rows, alone) = export(&http, &base, &tokens[11]).await?;
    println!("alone: {rows} rows exported in {:.2} s", alone.as_secs_f64());

    let mut held = Vec::new();
    let mut refused = Vec::new();
    for _ in 0..10 {
        match stall(&http, &base, &tokens[0]).await? {
            Ok(r) => held.push(r),
            Err(status) => refused.push(status),
        }
    }
    let (rows, took) = export(&http, &base, &tokens[11]).await?;
    println!(
        "10 stalled clients of one token: {} running, {} refused ({:?}); another caller's export of {rows} rows took {:.2} s",
        held.len(),
        refused.len(),
        refused.first(),
        took.as_secs_f64()
    );
    drop(held);
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Ten callers each stalling one export: each waits in turn; the stall limit stops them.
    let stalls: Vec<_> = (1..=10)
        .map(|i| {
            let (http, base, token) = (http.clone(), base.clone(), tokens[i].clone());
            tokio::spawn(async move {
                // Held, unread, until the run ends.
                let response = stall(&http, &base, &token).await;
                tokio::time::sleep(Duration::from_secs(600)).await;
                drop(response);
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (rows, took) = export(&http, &base, &tokens[11]).await?;
    println!(
        "10 stalled clients of 10 tokens: another caller's export of {rows} rows took {:.1} s",
        took.as_secs_f64()
    );
    for s in stalls {
        s.abort();
    }
    Ok(())
}
