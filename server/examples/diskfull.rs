//! Disk full: the release server with its database on a small file system (a tmpfs made for the test, so it
//! needs root), 4 clients sending batches until it fills. Ingestion must answer 503 naming the cause, nothing
//! acknowledged may be lost, reads go on, and ingestion must recover by itself once there is room (the tmpfs is
//! grown). At the end `PRAGMA integrity_check` must say `ok` and `auditlog verify` must pass.
//!
//! cargo run --release -p server --example diskfull -- [--size-mib 24]  (or `scripts/diskfull.sh`)

use std::{
    collections::HashSet,
    path::Path,
    process::Command,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use common::{Result, auditlog, start, token, url};
use serde_json::{Value, json};

mod common;

fn mount(dir: &Path, options: &str) -> Result<()> {
    let status = Command::new("mount")
        .args(["-t", "tmpfs", "-o", options, "tmpfs"])
        .arg(dir)
        .status()?;
    if !status.success() {
        return Err(format!("mount -o {options} failed (this test needs root)").into());
    }
    Ok(())
}

/// What the clients saw.
#[derive(Default)]
struct Seen {
    acked: Mutex<HashSet<String>>,
    full: AtomicU64,
    other_errors: AtomicU64,
    first_full: Mutex<Option<(Instant, Value, Option<String>)>>,
    last_ack: Mutex<Option<Instant>>,
}

async fn send(base: String, token: String, client: usize, stop: Arc<AtomicBool>, seen: Arc<Seen>) {
    let http = reqwest::Client::new();
    let padding = "x".repeat(400);
    let mut n = 0u64;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        let events: Vec<_> = (0..50)
            .map(|i| {
                json!({"action": "mailbox.update", "actor": {"type": "user", "id": format!("c{client}")},
                       "details": {"n": n, "i": i, "note": padding}})
            })
            .collect();
        let sent = http
            .post(format!("{base}/api/v1/events"))
            .bearer_auth(&token)
            .json(&json!({ "events": events }))
            .timeout(Duration::from_secs(10))
            .send()
            .await;
        match sent {
            Ok(r) if r.status().as_u16() == 201 => {
                let body: Value = r.json().await.unwrap_or_default();
                let ids = body["ids"].as_array().cloned().unwrap_or_default();
                if let Ok(mut acked) = seen.acked.lock() {
                    acked.extend(ids.iter().filter_map(|i| i.as_str().map(String::from)));
                }
                if let Ok(mut last) = seen.last_ack.lock() {
                    *last = Some(Instant::now());
                }
            }
            Ok(r) if r.status().as_u16() == 503 => {
                seen.full.fetch_add(1, Ordering::Relaxed);
                let retry = r
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .map(String::from);
                let body: Value = r.json().await.unwrap_or_default();
                if let Ok(mut first) = seen.first_full.lock() {
                    first.get_or_insert((Instant::now(), body, retry));
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            _ => {
                seen.other_errors.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// The ids in the file, and what `PRAGMA integrity_check` says of it.
async fn stored_ids(db: &Path) -> Result<(HashSet<String>, String)> {
    let pool = sqlx::SqlitePool::connect(&url(db)).await?;
    let integrity: String = sqlx::query_scalar("PRAGMA integrity_check").fetch_one(&pool).await?;
    let stored: Vec<String> = sqlx::query_scalar("SELECT id FROM events").fetch_all(&pool).await?;
    // Closed before the file system is unmounted.
    pool.close().await;
    Ok((stored.into_iter().collect(), integrity))
}

#[tokio::main]
async fn main() -> Result<()> {
    let mut size_mib = 24u64;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--size-mib" => size_mib = args.next().and_then(|k| k.parse().ok()).ok_or("--size-mib N")?,
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let dir = tempfile::tempdir()?;
    mount(dir.path(), &format!("size={size_mib}m"))?;
    let outcome = run(dir.path(), size_mib).await;
    let _ = Command::new("umount").arg(dir.path()).status();
    outcome
}

async fn run(dir: &Path, size_mib: u64) -> Result<()> {
    let db = dir.join("full.db");
    let token = token(&db, "full", "admin")?;
    let port = 3960;
    let base = format!("http://127.0.0.1:{port}");
    // The server logs each refused commit; the figures below say what the clients saw.
    let env = [("AUDITLOG_CHECKPOINT_INTERVAL_MS", "200"), ("RUST_LOG", "off")];
    let server = start(&db, port, &env).await?;
    let seen = Arc::new(Seen::default());
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let clients: Vec<_> = (0..4)
        .map(|c| tokio::spawn(send(base.clone(), token.clone(), c, stop.clone(), seen.clone())))
        .collect();

    // Until the disk has been full for two seconds.
    let full_at = loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if let Some((at, _, _)) = seen.first_full.lock().ok().and_then(|f| f.clone())
            && at.elapsed() > Duration::from_secs(2)
        {
            break at;
        }
        if started.elapsed() > Duration::from_secs(300) {
            return Err("the disk never filled".into());
        }
    };
    let acked_when_full = seen.acked.lock().map(|a| a.len()).unwrap_or(0);
    let http = reqwest::Client::new();
    let read = http
        .get(format!("{base}/api/v1/events?page_size=10"))
        .bearer_auth(&token)
        .send()
        .await?;
    let read_status = read.status().as_u16();
    let health = http.get(format!("{base}/healthz")).send().await?.status().as_u16();

    // Room again: ingestion must come back by itself.
    let room_at = Instant::now();
    let status = Command::new("mount")
        .args(["-o", &format!("remount,size={}m", size_mib * 8)])
        .arg(dir)
        .status()?;
    if !status.success() {
        return Err("remount failed".into());
    }
    let recovered = loop {
        tokio::time::sleep(Duration::from_millis(20)).await;
        if let Some(last) = seen.last_ack.lock().ok().and_then(|l| *l)
            && last > room_at
        {
            break last - room_at;
        }
        if room_at.elapsed() > Duration::from_secs(60) {
            return Err("ingestion did not recover within 60 s of room returning".into());
        }
    };
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.await?;
    }
    drop(server);

    let verify = auditlog(&db, &["verify"]);
    let verified = String::from_utf8_lossy(&verify.stdout).trim().to_string();
    let acked: HashSet<String> = seen.acked.lock().map(|a| a.clone()).unwrap_or_default();
    let (stored, integrity) = stored_ids(&db).await?;
    let lost = acked.difference(&stored).count();
    let (_, body, retry) = seen
        .first_full
        .lock()
        .ok()
        .and_then(|f| f.clone())
        .ok_or("no 503 seen")?;

    println!("file system: tmpfs of {size_mib} MiB, grown to {} MiB", size_mib * 8);
    println!(
        "full after {:.1} s, {acked_when_full} events acknowledged by then",
        (full_at - started).as_secs_f64()
    );
    println!(
        "503 answers while full: {}; first: Retry-After {}, {body}",
        seen.full.load(Ordering::Relaxed),
        retry.as_deref().unwrap_or("(none)")
    );
    println!("other failed requests: {}", seen.other_errors.load(Ordering::Relaxed));
    println!("while full: GET /api/v1/events {read_status}, /healthz {health}");
    println!(
        "ingestion back {:.0} ms after room returned",
        recovered.as_secs_f64() * 1e3
    );
    println!(
        "{} acknowledged, {} stored, {lost} acknowledged and lost; integrity_check: {integrity}; verify: {verified}",
        acked.len(),
        stored.len()
    );
    if lost > 0 || integrity != "ok" || !verify.status.success() || body["error"]["code"] != "storage_full" {
        return Err("the disk-full test failed".into());
    }
    Ok(())
}
