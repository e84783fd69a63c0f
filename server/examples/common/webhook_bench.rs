//! The benchmark's webhook phase (docs/integrations.md has the figures):
//!
//! 1. Latency: 1,000 events/s for 10 s (batches of 10 every 10 ms) to three endpoints on 127.0.0.1; p50/p95
//!    of the time from each batch's acknowledgement (its commit) to the event's arrival at each receiver.
//! 2. Ingest: 1,000-event batches from 4 clients, without endpoints and then with three subscribed ones.
//! 3. Backlog: one endpoint replays 1M events (a day of downtime, say); deliveries/s, every event once and in
//!    order, and the server's resident memory over the run.
//! 4. SIGKILL: the server killed 10 times while it delivers to a slow receiver; every event arrives at
//!    least once, and the first arrivals are in commit order.
//! 5. Archive files: at 1,000 events/s, the time from acknowledgement to the event's line in its file; and
//!    ingest with `--archive-dir` against without.

use std::{
    collections::HashMap,
    path::Path,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{extract::State, http::HeaderMap, routing::post};
use serde_json::{Value, json};

use super::common::{Result, Running, start, token};

/// What a receiver got: each request's `webhook-id` and when it arrived.
#[derive(Clone, Default)]
struct Got(Arc<Mutex<Vec<(String, Instant)>>>);

struct Receiver {
    url: String,
    got: Got,
    _task: tokio::task::JoinHandle<()>,
}

/// A receiver answering 200 after `delay`.
async fn receiver(delay: Duration) -> Result<Receiver> {
    let got = Got::default();
    let app = axum::Router::new()
        .route(
            "/hook",
            post(move |State(got): State<Got>, headers: HeaderMap| async move {
                let id = headers
                    .get("webhook-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                got.0.lock().unwrap().push((id, Instant::now()));
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                axum::http::StatusCode::OK
            }),
        )
        .with_state(got.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hook", listener.local_addr()?);
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(Receiver { url, got, _task: task })
}

impl Receiver {
    fn count(&self) -> usize {
        self.got.0.lock().unwrap().len()
    }

    async fn wait_for(&self, n: usize, within: Duration) -> bool {
        let started = Instant::now();
        while self.count() < n {
            if started.elapsed() > within {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        true
    }
}

const ENV: [(&str, &str); 2] = [("AUDITLOG_WEBHOOK_ALLOW_PRIVATE", "1"), ("RUST_LOG", "error")];

async fn serve(db: &Path, port: u16) -> Result<Running> {
    start(db, port, &ENV).await
}

async fn add_endpoint(client: &reqwest::Client, base: &str, token: &str, url: &str) -> Result<String> {
    let created: Value = client
        .post(format!("{base}/api/v1/webhooks"))
        .bearer_auth(token)
        .json(&json!({ "url": url, "actions": ["order.*"] }))
        .send()
        .await?
        .json()
        .await?;
    Ok(created["id"].as_str().ok_or("no webhook id")?.to_string())
}

/// Posts a batch; returns the ids, once acknowledged.
async fn post_batch(client: &reqwest::Client, base: &str, token: &str, body: &Value) -> Result<Vec<String>> {
    let answer: Value = client
        .post(format!("{base}/api/v1/events"))
        .bearer_auth(token)
        .json(body)
        .send()
        .await?
        .json()
        .await?;
    let ids = answer["ids"].as_array().ok_or("no ids")?;
    Ok(ids.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
}

fn batch(tag: &str, n: usize) -> Value {
    let events: Vec<Value> = (0..n)
        .map(|i| {
            json!({"action": "order.create", "actor": {"type": "user", "id": format!("{tag}-{i}")},
                        "target": {"type": "order", "id": format!("o-{tag}-{i}")}})
        })
        .collect();
    json!({ "events": events })
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

pub async fn bench_webhooks() -> Result<()> {
    latency().await?;
    ingest_overhead().await?;
    backlog(1_000_000).await?;
    sigkill(10).await?;
    archive_lag().await?;
    archive_overhead().await
}

/// The ids of the lines of every file in `dir` not read yet (`read`: how far each file was read).
fn new_lines(dir: &Path, read: &mut HashMap<std::path::PathBuf, usize>) -> Vec<String> {
    let mut ids = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let from = read.get(&path).copied().unwrap_or(0);
        let whole = text.rfind('\n').map_or(0, |i| i + 1);
        if whole > from {
            for line in text[from..whole].lines() {
                // `{"id":"<26 characters>",…`
                if let Some(id) = line.get(7..33) {
                    ids.push(id.to_string());
                }
            }
            read.insert(path, whole);
        }
    }
    ids
}

async fn archive_lag() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("archive.db");
    let archive = dir.path().join("archive");
    let token = token(&db, "bench", "admin")?;
    let env = [
        ("AUDITLOG_ARCHIVE_DIR", archive.to_str().ok_or("path")?),
        ("RUST_LOG", "error"),
    ];
    let _server = start(&db, 3915, &env).await?;
    let base = "http://127.0.0.1:3915";
    let client = reqwest::Client::new();
    let seen: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watcher = {
        let (seen, done, archive) = (seen.clone(), done.clone(), archive.clone());
        tokio::task::spawn_blocking(move || {
            let mut read = HashMap::new();
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                let ids = new_lines(&archive, &mut read);
                let now = Instant::now();
                seen.lock().unwrap().extend(ids.into_iter().map(|id| (id, now)));
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };
    let mut acked: HashMap<String, Instant> = HashMap::new();
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    for b in 0..1_000 {
        tick.tick().await;
        let ids = post_batch(&client, base, &token, &batch(&format!("a{b}"), 10)).await?;
        let now = Instant::now();
        acked.extend(ids.into_iter().map(|id| (id, now)));
    }
    let started = Instant::now();
    while acked.keys().any(|id| !seen.lock().unwrap().contains_key(id)) && started.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    watcher.await?;
    let seen = seen.lock().unwrap();
    let mut ms: Vec<f64> = acked
        .iter()
        .filter_map(|(id, ack)| {
            seen.get(id)
                .map(|at| at.saturating_duration_since(*ack).as_secs_f64() * 1e3)
        })
        .collect();
    ms.sort_by(f64::total_cmp);
    println!(
        "| archive file, 1,000 events/s: acknowledgement to the line in its file | p50 {:.1} ms, p95 {:.1} ms | {} of {} lines, max {:.1} ms |",
        percentile(&ms, 0.5),
        percentile(&ms, 0.95),
        ms.len(),
        acked.len(),
        ms.last().copied().unwrap_or(0.0)
    );
    Ok(())
}

async fn archive_overhead() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("archived.db");
    let archive = dir.path().join("archive");
    let token = token(&db, "bench", "admin")?;
    let env = [
        ("AUDITLOG_ARCHIVE_DIR", archive.to_str().ok_or("path")?),
        ("RUST_LOG", "error"),
    ];
    let _server = start(&db, 3916, &env).await?;
    let rate = ingest_rate("http://127.0.0.1:3916", &token, "arch").await?;
    println!("| ingest, 1,000-event batches, 4 clients, with --archive-dir | {rate:.0} events/s | |");
    Ok(())
}

async fn latency() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("latency.db");
    let token = token(&db, "bench", "admin")?;
    let _server = serve(&db, 3911).await?;
    let base = "http://127.0.0.1:3911";
    let client = reqwest::Client::new();
    let receivers = [
        receiver(Duration::ZERO).await?,
        receiver(Duration::ZERO).await?,
        receiver(Duration::ZERO).await?,
    ];
    for r in &receivers {
        add_endpoint(&client, base, &token, &r.url).await?;
    }
    let mut acked: HashMap<String, Instant> = HashMap::new();
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    for b in 0..1_000 {
        tick.tick().await;
        let ids = post_batch(&client, base, &token, &batch(&format!("l{b}"), 10)).await?;
        let now = Instant::now();
        acked.extend(ids.into_iter().map(|id| (id, now)));
    }
    for r in &receivers {
        if !r.wait_for(acked.len(), Duration::from_secs(60)).await {
            return Err(format!("only {} of {} delivered", r.count(), acked.len()).into());
        }
    }
    let mut ms: Vec<f64> = receivers
        .iter()
        .flat_map(|r| r.got.0.lock().unwrap().clone())
        .filter_map(|(id, at)| {
            acked
                .get(&id)
                .map(|ack| at.saturating_duration_since(*ack).as_secs_f64() * 1e3)
        })
        .collect();
    ms.sort_by(f64::total_cmp);
    println!(
        "| webhook delivery latency from commit, 1,000 events/s to 3 endpoints | p50 {:.1} ms, p95 {:.1} ms | {} deliveries, max {:.1} ms |",
        percentile(&ms, 0.5),
        percentile(&ms, 0.95),
        ms.len(),
        ms.last().copied().unwrap_or(0.0)
    );
    Ok(())
}

/// Events/s of 1,000-event batches from 4 clients (200 batches).
async fn ingest_rate(base: &str, token: &str, tag: &str) -> Result<f64> {
    let client = reqwest::Client::new();
    let bodies: Vec<Value> = (0..200).map(|b| batch(&format!("{tag}{b}"), 1_000)).collect();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for chunk in bodies.chunks(50) {
        let (client, base, token, chunk) = (client.clone(), base.to_string(), token.to_string(), chunk.to_vec());
        tasks.push(tokio::spawn(async move {
            for body in &chunk {
                post_batch(&client, &base, &token, body).await.expect("ingest");
            }
        }));
    }
    for t in tasks {
        t.await?;
    }
    Ok(200_000.0 / started.elapsed().as_secs_f64())
}

async fn ingest_overhead() -> Result<()> {
    let client = reqwest::Client::new();
    let mut rates = Vec::new();
    for endpoints in [0, 3] {
        let dir = tempfile::tempdir()?;
        let db = dir.path().join("ingest.db");
        let token = token(&db, "bench", "admin")?;
        let _server = serve(&db, 3912).await?;
        let base = "http://127.0.0.1:3912";
        let mut receivers = Vec::new();
        for _ in 0..endpoints {
            let r = receiver(Duration::ZERO).await?;
            add_endpoint(&client, base, &token, &r.url).await?;
            receivers.push(r);
        }
        let rate = ingest_rate(base, &token, &format!("i{endpoints}")).await?;
        let behind: Vec<usize> = receivers.iter().map(|r| 200_000 - r.count().min(200_000)).collect();
        println!(
            "| ingest, 1,000-event batches, 4 clients, {endpoints} subscribed webhook endpoints | {rate:.0} events/s | still to deliver when ingest ended: {behind:?} |"
        );
        rates.push(rate);
    }
    println!(
        "| ingest with 3 endpoints against without | {:.1}% | |",
        (rates[1] / rates[0] - 1.0) * 100.0
    );
    Ok(())
}

/// The server's resident memory (`RssAnon`), in MiB.
fn rss_mib(server: &Running) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", server.0.id())).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("RssAnon:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(0.0)
        / 1024.0
}

async fn backlog(n: usize) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("backlog.db");
    let token = token(&db, "bench", "admin")?;
    let server = serve(&db, 3913).await?;
    let base = "http://127.0.0.1:3913";
    let client = reqwest::Client::new();
    let mut order = Vec::with_capacity(n);
    for b in 0..n / 1_000 {
        order.extend(post_batch(&client, base, &token, &batch(&format!("b{b}"), 1_000)).await?);
    }
    let r = receiver(Duration::ZERO).await?;
    let id = add_endpoint(&client, base, &token, &r.url).await?;
    let idle = rss_mib(&server);
    let started = Instant::now();
    let replayed = client
        .post(format!("{base}/api/v1/webhooks/{id}/replay"))
        .bearer_auth(&token)
        .json(&json!({"from": "2000-01-01T00:00:00Z"}))
        .send()
        .await?;
    if !replayed.status().is_success() {
        return Err(format!("replay: {}", replayed.status()).into());
    }
    let mut peak = idle;
    let mut samples = Vec::new();
    while r.count() < n {
        if started.elapsed() > Duration::from_secs(900) {
            return Err(format!("only {} of {n} delivered in 15 min", r.count()).into());
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        let rss = rss_mib(&server);
        peak = peak.max(rss);
        samples.push(rss);
    }
    let secs = started.elapsed().as_secs_f64();
    let got: Vec<String> = r.got.0.lock().unwrap().iter().map(|(id, _)| id.clone()).collect();
    let in_order = got == order;
    let quarter = samples.len() / 4;
    println!(
        "| webhook backlog of {n} events to one endpoint | {:.0} deliveries/s | {secs:.1}s; in order: {in_order}; \
         memory {idle:.0} MiB idle, {:.0} MiB after a quarter, {:.0} MiB at the end, {peak:.0} MiB peak |",
        n as f64 / secs,
        samples.get(quarter).copied().unwrap_or(idle),
        samples.last().copied().unwrap_or(idle),
    );
    Ok(())
}

async fn sigkill(kills: usize) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("kill.db");
    let token = token(&db, "bench", "admin")?;
    let mut server = serve(&db, 3914).await?;
    let base = "http://127.0.0.1:3914";
    let client = reqwest::Client::new();
    // 2 ms per request: the queue is always being delivered when the kill comes.
    let r = receiver(Duration::from_millis(2)).await?;
    add_endpoint(&client, base, &token, &r.url).await?;
    let mut order = Vec::new();
    for k in 0..kills {
        order.extend(post_batch(&client, base, &token, &batch(&format!("k{k}"), 500)).await?);
        tokio::time::sleep(Duration::from_millis(300)).await;
        let _ = server.0.kill();
        let _ = server.0.wait();
        server = serve(&db, 3914).await?;
    }
    let started = Instant::now();
    let firsts = loop {
        let got: Vec<String> = r.got.0.lock().unwrap().iter().map(|(id, _)| id.clone()).collect();
        let mut seen = std::collections::HashSet::new();
        let firsts: Vec<String> = got.into_iter().filter(|id| seen.insert(id.clone())).collect();
        if firsts.len() >= order.len() || started.elapsed() > Duration::from_secs(120) {
            break firsts;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let total = r.count();
    let ok = firsts == order;
    println!(
        "| webhooks, SIGKILL during delivery {kills} times | every event delivered, in order: {ok} | {} events, {total} requests ({} delivered again after a kill) |",
        order.len(),
        total - firsts.len()
    );
    if !ok {
        return Err("a webhook delivery was lost or out of order across SIGKILL".into());
    }
    drop(server);
    Ok(())
}
