//! The benchmark: the release `auditlog` binary as a child process on a real port, over a real SQLite file.
//!
//! cargo run --release -p server --example bench -- [--events 1000000] [--skip-ingest] [--skip-import]
//!     [--skip-queries] [--skip-export] [--skip-purge] [--skip-tenants] [--skip-webhooks]
//!
//! 1. Ingest over HTTP into a fresh database: 1,000-event batches from 1, 4 and 8 clients, then single events
//!    from 8 clients.
//! 2. A dataset of N events (generated once, cached under target/bench/), then every query shape of the
//!    list over HTTP (the store code path the page's server function uses), p50/p95 each; then the tab's
//!    server-rendered page for four of them, signed in as the admin the server is started with.
//! 3. CSV export of everything over HTTP: rows/s and the server's peak resident memory above idle.
//! 4. `auditlog import` of a 1M-line JSONL file: lines/s until stored, and for the whole command (which ends
//!    with the events indexed for search), then for the whole command with `--no-index`.
//! 5. Tenants (`common/tenant_bench.rs`): the shapes of a tenant's tab over 1,000 tenants of unequal size;
//!    ingest of events with tenants (with the ingest runs).
//! 6. Webhooks (`common/webhook_bench.rs`): delivery latency, ingest with endpoints, a 1M backlog, SIGKILL.

use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use app::{
    model::{NewEvent, ValidEvent},
    store::{AuditStore, Scopes},
};
use rand::{SeedableRng, rngs::StdRng};
use serde_json::json;

use common::{Result, Running, binary, start};

mod common;
#[path = "common/tenant_bench.rs"]
mod tenant_bench;
#[path = "common/webhook_bench.rs"]
mod webhook_bench;

struct Args {
    events: usize,
    skip_ingest: bool,
    skip_import: bool,
    skip_export: bool,
    skip_queries: bool,
    skip_purge: bool,
    skip_webhooks: bool,
    skip_tenants: bool,
}

fn args() -> Args {
    let mut a = Args {
        events: 1_000_000,
        skip_ingest: false,
        skip_import: false,
        skip_export: false,
        skip_queries: false,
        skip_purge: false,
        skip_webhooks: false,
        skip_tenants: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--events" => {
                a.events = it
                    .next()
                    .and_then(|v| v.replace('_', "").parse().ok())
                    .expect("--events N")
            }
            "--skip-ingest" => a.skip_ingest = true,
            "--skip-import" => a.skip_import = true,
            "--skip-export" => a.skip_export = true,
            "--skip-queries" => a.skip_queries = true,
            "--skip-purge" => a.skip_purge = true,
            "--skip-webhooks" => a.skip_webhooks = true,
            "--skip-tenants" => a.skip_tenants = true,
            other => panic!("unknown argument {other}"),
        }
    }
    a
}

struct Server {
    running: Running,
    base: String,
}

impl Server {
    async fn start(db: &Path, port: u16) -> Result<Server> {
        let env = [
            ("AUDITLOG_ADMIN_EMAIL", "bench@example.com"),
            ("AUDITLOG_ADMIN_PASSWORD", "bench-password"),
            ("RUST_LOG", "warn"),
        ];
        Ok(Server {
            running: start(db, port, &env).await?,
            base: format!("http://127.0.0.1:{port}"),
        })
    }

    /// The server's own resident memory (`RssAnon`): its heap and stacks, without the pages of the database
    /// file that its readers map (those are the OS's page cache, shared and reclaimable).
    fn rss_kb(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.running.0.id())).unwrap_or_default();
        status
            .lines()
            .find(|l| l.starts_with("RssAnon:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }
}

fn synthetic(rng: &mut StdRng, i: usize, start_ms: i64, step_ms: i64) -> NewEvent {
    let mut e = server::demo::sample(rng, i);
    let ts = start_ms + i as i64 * step_ms;
    e.timestamp = app::model::time::parse_rfc3339(&app::model::time::format_millis(ts));
    e.id = Some(ulid::Ulid::from_parts(ts as u64, rand::Rng::r#gen::<u128>(rng)).to_string());
    e
}

/// A database of `n` events over the last 400 days, generated once and kept.
async fn dataset(n: usize) -> Result<(PathBuf, String)> {
    let dir = PathBuf::from(std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into())).join("bench");
    std::fs::create_dir_all(&dir)?;
    let db = dir.join(format!("bench-{n}.db"));
    let url = format!("sqlite://{}", db.display());
    let store = AuditStore::open(&url).await?;
    let have = store.count(&Default::default()).await? as usize;
    if have < n {
        let t = Instant::now();
        let mut rng = StdRng::seed_from_u64(7);
        let span_ms: i64 = 400 * 86_400_000;
        let step = (span_ms / n as i64).max(1);
        let start = chrono::Utc::now().timestamp_millis() - span_ms;
        for chunk_start in (have..n).step_by(10_000) {
            let end = (chunk_start + 10_000).min(n);
            let batch: Vec<ValidEvent> = (chunk_start..end)
                .map(|i| synthetic(&mut rng, i, start, step).validate().expect("valid"))
                .collect();
            store.insert_valid(batch).await?;
        }
        println!("generated {n} events in {:.1}s", t.elapsed().as_secs_f64());
    }
    // Queries are measured with the free-text index caught up, as on a server that is not mid-burst.
    let t = Instant::now();
    let mut indexed = 0;
    loop {
        let n = store.index_pending(20_000).await?;
        if n == 0 {
            break;
        }
        indexed += n;
    }
    if indexed > 0 {
        println!(
            "indexed {indexed} events for free text in {:.1}s",
            t.elapsed().as_secs_f64()
        );
    }
    let token = store.create_token("bench", &Scopes::parse("admin")?).await?.plaintext;
    store.close().await;
    Ok((db, token))
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

async fn time_query(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    qs: &str,
    runs: usize,
) -> Result<(f64, f64, f64, u64)> {
    let url = &format!("{base}/api/v1/events?{qs}");
    timed(runs, move || async move {
        let resp = client.get(url).bearer_auth(token).send().await?;
        if !resp.status().is_success() {
            return Err(format!("{qs}: {}", resp.status()).into());
        }
        let body: serde_json::Value = resp.json().await?;
        Ok(body["total"].as_u64().unwrap_or(0))
    })
    .await
}

/// Makes `runs` requests after three that warm up (the first of those is the first request reported): p50,
/// p95, the first request's time, in ms, and what the last request gave.
async fn timed<T, F, Fut>(runs: usize, mut request: F) -> Result<(f64, f64, f64, T)>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let (mut times, mut cold) = (Vec::with_capacity(runs), 0.0);
    let mut last = None;
    for i in 0..runs + 3 {
        let t = Instant::now();
        last = Some(request().await?);
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        if i == 0 {
            cold = ms;
        }
        if i >= 3 {
            times.push(ms);
        }
    }
    times.sort_by(|a, b| a.total_cmp(b));
    let last = last.ok_or("no request")?;
    Ok((percentile(&times, 0.5), percentile(&times, 0.95), cold, last))
}

async fn bench_ingest() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("ingest.db");
    let store = AuditStore::open(&format!("sqlite://{}", db.display())).await?;
    let token = store.create_token("bench", &Scopes::parse("ingest")?).await?.plaintext;
    store.close().await;
    let server = Server::start(&db, 3901).await?;
    let client = reqwest::Client::new();
    let mut rng = StdRng::seed_from_u64(1);
    let start = chrono::Utc::now().timestamp_millis() - 86_400_000;
    let batches: Vec<serde_json::Value> = (0..100)
        .map(|b| {
            let events: Vec<serde_json::Value> = (0..1000)
                .map(|i| to_json(&synthetic(&mut rng, b * 1000 + i, start, 1)))
                .collect();
            json!({ "events": events })
        })
        .collect();
    let bodies: Vec<Vec<u8>> = batches.iter().map(|b| serde_json::to_vec(b).expect("json")).collect();
    for clients in [1usize, 4, 8] {
        let per = bodies.len() / clients;
        let events = per * clients * 1000;
        let t = Instant::now();
        let mut tasks = Vec::new();
        for c in 0..clients {
            let (client, token, base) = (client.clone(), token.clone(), server.base.clone());
            // Each run sends its own copy with fresh ids (a re-sent id would only count as a duplicate).
            let mine: Vec<Vec<u8>> = bodies[c * per..(c + 1) * per]
                .iter()
                .map(|b| {
                    String::from_utf8_lossy(b)
                        .replace("\"id\":\"01", &format!("\"id\":\"{c}{clients}"))
                        .into_bytes()
                })
                .collect();
            tasks.push(tokio::spawn(post_all(client, base, token, mine)));
        }
        for task in tasks {
            task.await?;
        }
        let secs = t.elapsed().as_secs_f64();
        println!(
            "| ingest, 1,000-event batches over HTTP, {clients} client(s) | {:.0} events/s | {events} events in {secs:.2}s |",
            events as f64 / secs
        );
    }

    let per_client = 2_000;
    let t = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..8 {
        let (client, token, base) = (client.clone(), token.clone(), server.base.clone());
        let events: Vec<Vec<u8>> = (0..per_client)
            .map(|i| {
                serde_json::to_vec(&to_json(&synthetic(&mut rng, 200_000 + c * per_client + i, start, 1)))
                    .expect("json")
            })
            .collect();
        tasks.push(tokio::spawn(post_all(client, base, token, events)));
    }
    for t in tasks {
        t.await?;
    }
    let secs = t.elapsed().as_secs_f64();
    let n = 8 * per_client;
    println!(
        "| ingest, single events, 8 concurrent clients | {:.0} requests/s | {n} requests in {secs:.2}s |",
        n as f64 / secs
    );
    tenant_bench::bench_tenant_ingest(&server, &token).await
}

/// Posts each body to the ingest endpoint in turn; every one must be accepted.
async fn post_all(client: reqwest::Client, base: String, token: String, bodies: Vec<Vec<u8>>) {
    for body in bodies {
        let resp = client
            .post(format!("{base}/api/v1/events"))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("post");
        assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap_or_default());
    }
}

/// A retention purge of about a tenth of the dataset (a copy of it), while 8 clients send single events:
/// how long the purge took and the latency of the inserts meanwhile (each batch holds the writer).
async fn bench_purge(dataset: &Path, token: &str) -> Result<()> {
    let dir = tempfile::tempdir_in(dataset.parent().ok_or("no folder")?)?;
    let db = common::copy_of(dataset, dir.path(), "purge.db")?;
    let url = format!("sqlite://{}", db.display());
    let (total, tenth): (i64, i64) = {
        let pool = sqlx::SqlitePool::connect(&url).await?;
        let total: i64 = sqlx::query_scalar("SELECT n FROM event_count").fetch_one(&pool).await?;
        let ts: i64 = sqlx::query_scalar("SELECT ts FROM events ORDER BY ts LIMIT 1 OFFSET ?")
            .bind(total / 10)
            .fetch_one(&pool)
            .await?;
        pool.close().await;
        (total, ts)
    };
    let days = (chrono::Utc::now().timestamp_millis() - tenth) / 86_400_000;
    let server = Server::start(&db, 3903).await?;
    let client = reqwest::Client::new();
    let stop = Arc::new(AtomicBool::new(false));
    let mut senders = Vec::new();
    for c in 0..8 {
        let (client, base, token, stop) = (client.clone(), server.base.clone(), token.to_string(), stop.clone());
        senders.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut rng = StdRng::seed_from_u64(100 + c);
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                let mut e = to_json(&synthetic(&mut rng, 5_000_000 + c as usize * 1_000_000 + i, 0, 1));
                e["timestamp"] = json!(chrono::Utc::now().to_rfc3339());
                e["id"] = serde_json::Value::Null;
                let t = Instant::now();
                let resp = client
                    .post(format!("{base}/api/v1/events"))
                    .bearer_auth(&token)
                    .json(&e)
                    .send()
                    .await;
                if resp.is_ok_and(|r| r.status().is_success()) {
                    latencies.push((t, t.elapsed().as_secs_f64() * 1000.0));
                }
                i += 1;
            }
            latencies
        }));
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let t = Instant::now();
    let resp = client
        .put(format!("{}/api/v1/settings/retention", server.base))
        .bearer_auth(token)
        .json(&json!({ "days": days }))
        .send()
        .await?;
    if !resp.status().is_success() {
        return Err(format!("retention: {}", resp.text().await?).into());
    }
    let purge = loop {
        // The product's own purge event (the dataset has synthetic ones from other sources).
        let url = format!(
            "{}/api/v1/events?action=audit.retention_purge&source=auditlog&fields=full",
            server.base
        );
        let body: serde_json::Value = client.get(url).bearer_auth(token).send().await?.json().await?;
        if let Some(e) = body["entries"].as_array().and_then(|e| e.first()) {
            break e["details"].clone();
        }
        if t.elapsed() > Duration::from_secs(600) {
            return Err("the purge did not end within 10 minutes".into());
        }
        // Asked once a second: a page of the tab, as an admin watching would load it.
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    let took = t.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    // The inserts sent while the purge ran.
    let mut latencies = Vec::new();
    for s in senders {
        latencies.extend(s.await?.into_iter().filter(|(sent, _)| *sent >= t).map(|(_, ms)| ms));
    }
    latencies.sort_by(|a, b| a.total_cmp(b));
    let at = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    println!(
        "\nRetention purge of {} of {total} events ({days} days kept) while 8 clients send single events: {took:.1} s; \
         {} inserts, latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        purge["deleted"],
        latencies.len(),
        at(0.5),
        at(0.99),
        latencies.last().copied().unwrap_or_default()
    );
    Ok(())
}

fn to_json(e: &NewEvent) -> serde_json::Value {
    let actor = e.actor.as_ref().map(|a| serde_json::to_value(a).expect("actor"));
    json!({
        "id": e.id, "timestamp": e.timestamp.map(|t| t.to_rfc3339()), "action": e.action,
        "outcome": e.outcome.as_str(), "actor": actor,
        "target": e.target.as_ref().map(|t| serde_json::to_value(t).expect("target")),
        "source": e.source, "tenant": e.tenant, "ip": e.ip, "user_agent": e.user_agent, "details": e.details,
    })
}

async fn bench_queries(n: usize, db: &Path, token: &str, skip_queries: bool, skip_export: bool) -> Result<()> {
    let server = Server::start(db, 3902).await?;
    let client = reqwest::Client::new();
    let shapes = [
        ("first page", ""),
        ("page 2,000", "page=2000"),
        ("sort by action", "sort=action&order=asc"),
        ("sort by action, page 2,000", "sort=action&page=2000"),
        ("action", "action=mailbox.update"),
        ("category", "category=backup"),
        ("actor", "actor=zoe@acme.com"),
        ("actor type", "actor_type=api_token"),
        ("target type", "target_type=domain"),
        ("outcome", "outcome=failure"),
        ("source", "source=newsletter"),
        ("date range (30 days)", &date_range()),
        (
            "combined",
            &format!("category=mailbox&outcome=success&source=mail-manager&{}", date_range()),
        ),
        (
            "combined, page 100",
            &format!("category=auth&actor=zoe@acme.com&{}&page=100", date_range()),
        ),
        (
            "combined (category, outcome, source), page 2,000",
            "category=mailbox&outcome=success&source=mail-manager&page=2000",
        ),
        ("actor, sorted by action", "actor=zoe@acme.com&sort=action"),
        (
            "actor and outcome, page 2,000, sorted by action",
            "actor=zoe@acme.com&outcome=success&page=2000&sort=action",
        ),
        ("Sign-ins view", "view=signins"),
        ("Sign-ins view, failures", "view=signins&outcome=failure"),
        ("Activity view", "view=activity"),
        ("Activity view, page 2,000", "view=activity&page=2000"),
        ("Activity view, sorted by action", "view=activity&sort=action"),
        ("verb", "verb=delete"),
        (
            "verb and source, sorted by action",
            "verb=update&source=newsletter&sort=action",
        ),
        ("actor excluded", "exclude_actor=zoe@acme.com"),
        ("actor excluded, page 2,000", "exclude_actor=zoe@acme.com&page=2000"),
        (
            "actor excluded and outcome, sorted by action",
            "exclude_actor=zoe@acme.com&outcome=failure&sort=action",
        ),
        ("last 30 days", "range=30d"),
        ("six hours of one day", &hours_of_a_day()),
        ("IPv4 network", "ip=203.0.113.0/24"),
        ("IPv4 network, page 2,000", "ip=203.0.113.0/24&page=2000"),
        ("IPv6 network", "ip=2001:db8::/32"),
        (
            "IPv6 network and outcome, sorted by action",
            "ip=2001:db8::/32&outcome=failure&sort=action",
        ),
        ("one address and actor", "ip=10.20.30.40&actor=zoe@acme.com"),
        ("q, common term", "q=acme"),
        ("q, no match", "q=zzzznotthere"),
        ("q, mid-frequency term", "q=nightly-12"),
        ("q and outcome", "q=zoe&outcome=failure"),
        ("q and actor type, no match", "q=zoe&actor_type=api_token"),
        ("q and category", "q=newsletter&category=backup"),
        ("q, sorted by action", "q=zoe&sort=action"),
        ("q and outcome, sorted by action", "q=zoe&outcome=failure&sort=action"),
        (
            "q and category, sorted by action",
            "q=newsletter&category=backup&sort=action",
        ),
        ("q, common term, page 2,000", "q=acme&page=2000"),
        ("q in the Activity view", "q=zoe&view=activity"),
        ("q and IPv4 network", "q=zoe&ip=203.0.113.0/24"),
        (
            "q and outcome, page 2,000, sorted by action",
            "q=zoe&outcome=failure&sort=action&page=2000",
        ),
    ];
    let shapes = if skip_queries { &shapes[..0] } else { &shapes[..] };
    println!("\n{n} events; GET /api/v1/events over HTTP, 30 runs each\n");
    bench_list(&client, &server, token, shapes).await;
    if !skip_queries {
        bench_pages(&server, shapes).await?;
        bench_log(&client, &server, token, db).await?;
    }
    if skip_export {
        return Ok(());
    }
    // The first export after the queries reads much of the file from disk; the second finds it in the OS's
    // page cache. Both are reported.
    for run in ["first", "second"] {
        bench_export(&client, &server, token, run).await?;
    }
    Ok(())
}

/// Each list shape: p50, p95, the first request and the total (10 runs for free text, 30 for the rest).
async fn bench_list(client: &reqwest::Client, server: &Server, token: &str, shapes: &[(&str, &str)]) {
    println!("| query | p50 ms | p95 ms | first request ms | total |");
    println!("|---|---|---|---|---|");
    for &(name, qs) in shapes {
        let runs = if qs.starts_with("q=") { 10 } else { 30 };
        match time_query(client, &server.base, token, qs, runs).await {
            Ok((p50, p95, cold, total)) => println!("| {name} | {p50:.1} | {p95:.1} | {cold:.1} | {total} |"),
            Err(e) => println!("| {name} | error: {e} | | |"),
        }
    }
}

/// The log's proofs over HTTP (events spread over the whole log), then `auditlog verify` of the whole file
/// while the server runs.
async fn bench_log(client: &reqwest::Client, server: &Server, token: &str, db: &Path) -> Result<()> {
    let base = &server.base;
    let mut ids = Vec::new();
    // Not the newest: those may have come after the latest checkpoint (the sign-ins of the runs above).
    for page in [100, 500, 1_000, 1_500, 2_000] {
        let url = format!("{base}/api/v1/events?page={page}&page_size=10");
        let body: serde_json::Value = client.get(url).bearer_auth(token).send().await?.json().await?;
        for e in body["entries"].as_array().ok_or("no entries")? {
            ids.push(e["id"].as_str().ok_or("no id")?.to_string());
        }
    }
    // The server signs its first checkpoint of this dataset within the interval (10 s).
    let key = format!("{base}/api/v1/log/checkpoint");
    let mut size = 0u64;
    for _ in 0..150 {
        let resp = client.get(&key).bearer_auth(token).send().await?;
        if resp.status().is_success() {
            size = resp
                .text()
                .await?
                .lines()
                .nth(1)
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    println!("\nThe log ({size} leaves in the latest checkpoint)\n");
    println!("| request | p50 ms | p95 ms | first request ms |\n|---|---|---|---|");
    let mut next = 0;
    let (p50, p95, cold, _) = timed(50, || {
        next += 1;
        let url = format!("{base}/api/v1/events/{}/proof", ids[next % ids.len()]);
        async move {
            let resp = client.get(url).bearer_auth(token).send().await?;
            Ok(resp.error_for_status()?.bytes().await?.len())
        }
    })
    .await?;
    println!("| an event's audit path | {p50:.1} | {p95:.1} | {cold:.1} |");
    let mut from = 0;
    let (p50, p95, cold, _) = timed(50, || {
        from = (from + size / 53).max(1) % size.max(2);
        let url = format!("{base}/api/v1/log/consistency?from={}", from.max(1));
        async move {
            let resp = client.get(url).bearer_auth(token).send().await?;
            Ok(resp.error_for_status()?.bytes().await?.len())
        }
    })
    .await?;
    println!("| a consistency proof | {p50:.1} | {p95:.1} | {cold:.1} |");
    let t = Instant::now();
    let out = Command::new(binary())
        .args(["--database-url", &format!("sqlite://{}", db.display()), "verify"])
        .env("RUST_LOG", "warn")
        .output()?;
    let said = String::from_utf8_lossy(&out.stdout);
    println!(
        "\n`auditlog verify`: {:.1} s, `{}`",
        t.elapsed().as_secs_f64(),
        said.lines().last().unwrap_or("")
    );
    Ok(())
}

/// The tab itself for a few of the shapes: the server-rendered HTML a browser gets (before the WASM), with an
/// admin's session: the list, its total and the facets, through the server functions.
async fn bench_pages(server: &Server, shapes: &[(&str, &str)]) -> Result<()> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let login = client
        .post(format!("{}/login", server.base))
        .header("origin", &server.base)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("email=bench%40example.com&password=bench-password")
        .send()
        .await?;
    let cookie = login
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("auditlog_session="))
        .and_then(|v| v.split(';').next())
        .ok_or("the bench admin could not sign in")?
        .to_string();
    println!("\nThe tab, server-rendered (GET /admin/audit-log with an admin's session), 30 runs each (10 for q)\n");
    println!("| query | p50 ms | p95 ms | first request ms |");
    println!("|---|---|---|---|");
    let wanted = [
        "first page",
        "actor, sorted by action",
        "combined (category, outcome, source), page 2,000",
        "q and category",
    ];
    for &(name, qs) in shapes.iter().filter(|(name, _)| wanted.contains(name)) {
        let url = &format!("{}/admin/audit-log?{qs}", server.base);
        let runs = if qs.starts_with("q=") { 10 } else { 30 };
        let (client, cookie) = (&client, &cookie);
        let (p50, p95, cold, ()) = timed(runs, move || async move {
            let resp = client.get(url).header("cookie", cookie).send().await?;
            let status = resp.status();
            let body = resp.text().await?;
            if !status.is_success() || !body.contains("role=\"status\"") {
                return Err(format!("page {qs}: {status}").into());
            }
            Ok(())
        })
        .await?;
        println!("| {name} | {p50:.1} | {p95:.1} | {cold:.1} |");
    }
    bench_facet_counts(server, &client, &cookie, shapes).await
}

/// The menus' live counts (every menu at once) for the structured shapes, through the tab's server function.
async fn bench_facet_counts(
    server: &Server,
    client: &reqwest::Client,
    cookie: &str,
    shapes: &[(&str, &str)],
) -> Result<()> {
    println!("\nThe menus' live counts (GET /api/fn/get_facet_counts, every menu at once), 30 runs each\n");
    println!("| filters | p50 ms | p95 ms | first request ms |");
    println!("|---|---|---|---|");
    let wanted = [
        "first page",
        "actor",
        "combined",
        "Sign-ins view",
        "Activity view",
        "verb and source, sorted by action",
        "last 30 days",
        "six hours of one day",
        "IPv4 network",
        "one address and actor",
    ];
    for &(name, qs) in shapes.iter().filter(|(name, _)| wanted.contains(name)) {
        let url = &format!(
            "{}/api/fn/get_facet_counts?query={}",
            server.base,
            urlencoding::encode(qs)
        );
        // `null`: no counts (the menus show none), e.g. for more events of two keys than the store groups.
        let (p50, p95, cold, counted) = timed(30, move || async move {
            let resp = client.get(url).header("cookie", cookie).send().await?;
            let status = resp.status();
            let body = resp.text().await?;
            match (status.is_success(), body.contains("\"actions\""), body.trim() == "null") {
                (true, true, _) => Ok(true),
                (true, false, true) => Ok(false),
                _ => Err(format!("counts {qs}: {status} {body}").into()),
            }
        })
        .await?;
        let none = if counted { "" } else { " (no counts)" };
        println!("| {name}{none} | {p50:.1} | {p95:.1} | {cold:.1} |");
    }
    Ok(())
}

/// Exports every row as CSV over HTTP, sampling the server's own resident memory while it streams.
async fn bench_export(client: &reqwest::Client, server: &Server, token: &str, run: &str) -> Result<()> {
    let idle = server.rss_kb();
    let t = Instant::now();
    let mut resp = client
        .get(format!("{}/api/v1/events/export?format=csv", server.base))
        .bearer_auth(token)
        .send()
        .await?;
    let (mut bytes, mut lines, mut peak) = (0u64, 0u64, idle);
    let mut last_sample = Instant::now();
    while let Some(chunk) = resp.chunk().await? {
        bytes += chunk.len() as u64;
        lines += chunk.iter().filter(|b| **b == b'\n').count() as u64;
        if last_sample.elapsed() > Duration::from_millis(20) {
            peak = peak.max(server.rss_kb());
            last_sample = Instant::now();
        }
    }
    let secs = t.elapsed().as_secs_f64();
    let rows = lines.saturating_sub(1);
    println!(
        "| CSV export over HTTP, {run} run | {:.0} rows/s | {rows} rows, {:.0} MB in {secs:.2}s | peak memory {:.1} MB above idle ({:.1} MB idle, RssAnon) |",
        rows as f64 / secs,
        bytes as f64 / 1e6,
        (peak.saturating_sub(idle)) as f64 / 1024.0,
        idle as f64 / 1024.0
    );
    Ok(())
}

fn date_range() -> String {
    let to = chrono::Utc::now().date_naive() - chrono::Duration::days(60);
    let from = to - chrono::Duration::days(30);
    format!("from={from}&to={to}")
}

/// 08:00 to 14:00 UTC of a day 45 days ago (a range with a time of day).
fn hours_of_a_day() -> String {
    let day = chrono::Utc::now().date_naive() - chrono::Duration::days(45);
    format!("from={day}T08:00&to={day}T14:00")
}

async fn bench_import(n: usize) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("events.jsonl");
    {
        use std::io::Write;
        let mut w = std::io::BufWriter::new(std::fs::File::create(&file)?);
        let mut rng = StdRng::seed_from_u64(3);
        let start = chrono::Utc::now().timestamp_millis() - 86_400_000 * 30;
        for i in 0..n {
            serde_json::to_writer(&mut w, &to_json(&synthetic(&mut rng, i, start, 1)))?;
            w.write_all(b"\n")?;
        }
    }
    let (secs, stderr) = import(&file, &dir.path().join("import.db"), &[])?;
    // `imported N, … (S s)`: the time until every line was stored, before indexing for search.
    let stored = stderr
        .lines()
        .find(|l| l.starts_with("imported "))
        .and_then(|l| l.rsplit_once('(')?.1.strip_suffix(" s)")?.parse::<f64>().ok())
        .unwrap_or(secs);
    println!(
        "| import of a {n}-line JSONL file, stored | {:.0} lines/s | {stored:.2}s |",
        n as f64 / stored
    );
    println!(
        "| import of a {n}-line JSONL file, stored and indexed for search (the whole command) | {:.0} lines/s | {secs:.2}s |",
        n as f64 / secs
    );
    let (secs, _) = import(&file, &dir.path().join("import-no-index.db"), &["--no-index"])?;
    println!(
        "| import of a {n}-line JSONL file with `--no-index` (the whole command) | {:.0} lines/s | {secs:.2}s |",
        n as f64 / secs
    );
    Ok(())
}

/// Runs `auditlog import` of `file` into a new database `db` with `extra` arguments: its time and its stderr.
fn import(file: &Path, db: &Path, extra: &[&str]) -> Result<(f64, String)> {
    let t = Instant::now();
    let out = Command::new(binary())
        .args(["--database-url", &format!("sqlite://{}", db.display()), "import"])
        .args(extra)
        .arg(file)
        .env("RUST_LOG", "warn")
        .stderr(Stdio::piped())
        .output()?;
    let secs = t.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "import failed: {stderr}");
    Ok((secs, stderr))
}

#[tokio::main]
async fn main() -> Result<()> {
    let a = args();
    println!(
        "auditlog benchmark on {} cores\n",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    );
    println!("| what | rate | detail |\n|---|---|---|");
    if !a.skip_ingest {
        bench_ingest().await?;
    }
    if !a.skip_import {
        bench_import(a.events.min(1_000_000)).await?;
    }
    if !(a.skip_queries && a.skip_export && a.skip_purge) {
        let (db, token) = dataset(a.events).await?;
        if !(a.skip_queries && a.skip_export) {
            bench_queries(a.events, &db, &token, a.skip_queries, a.skip_export).await?;
        }
        if !a.skip_purge {
            bench_purge(&db, &token).await?;
        }
    }
    if !a.skip_tenants {
        tenant_bench::bench_tenant_queries(a.events).await?;
    }
    if !a.skip_webhooks {
        webhook_bench::bench_webhooks().await?;
    }
    Ok(())
}
