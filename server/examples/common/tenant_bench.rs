//! The tenants' benchmark: N events over 1,000 tenants, a few large and most small (the tenant of an event is
//! drawn with weight 1/rank: the largest holds about 13% of the log, the smallest about 0.013%), generated
//! once and kept under target/bench/. Each shape is read as a tenant's own token reads it (bound to the
//! tenant), for the largest tenant, one of the tenth rank and one of the five-hundredth; then ingest of
//! 1,000-event batches whose events carry tenants.

use std::{path::PathBuf, time::Instant};

use app::{
    model::{NewEvent, ValidEvent},
    store::{AuditStore, Scopes},
};
use rand::{Rng, SeedableRng, rngs::StdRng};

use super::{Server, post_all, synthetic, time_query, to_json};
use crate::common::Result;

pub const TENANTS: usize = 1_000;

/// The tenants a benchmark reads as: the largest, one of the tenth rank, one of the five-hundredth.
const READ_AS: [usize; 3] = [0, 9, 499];

pub fn tenant_name(rank: usize) -> String {
    format!("t{rank:03}")
}

/// A tenant drawn with weight 1/(rank + 1), from the cumulative weights `cumulative`.
fn draw(rng: &mut StdRng, cumulative: &[f64]) -> usize {
    let total = cumulative.last().copied().unwrap_or(1.0);
    let x = rng.r#gen::<f64>() * total;
    cumulative.partition_point(|&c| c <= x).min(cumulative.len() - 1)
}

fn cumulative_weights() -> Vec<f64> {
    let mut sum = 0.0;
    (0..TENANTS)
        .map(|rank| {
            sum += 1.0 / (rank + 1) as f64;
            sum
        })
        .collect()
}

/// The synthetic event `i`, in the tenant the generator draws for it.
fn tenanted(rng: &mut StdRng, cumulative: &[f64], i: usize, start: i64, step: i64) -> NewEvent {
    let mut e = synthetic(rng, i, start, step);
    e.tenant = Some(tenant_name(draw(rng, cumulative)));
    e
}

/// A database of `n` events over the last 400 days and 1,000 tenants, generated once and kept, indexed for
/// free text; and a `read` token bound to each tenant of `READ_AS`.
async fn dataset(n: usize) -> Result<(PathBuf, Vec<(String, String)>)> {
    let dir = PathBuf::from(std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into())).join("bench");
    std::fs::create_dir_all(&dir)?;
    let db = dir.join(format!("bench-tenants-{n}.db"));
    let store = AuditStore::open(&format!("sqlite://{}", db.display())).await?;
    let have = store.count(&Default::default()).await? as usize;
    if have < n {
        let t = Instant::now();
        let mut rng = StdRng::seed_from_u64(11);
        let cumulative = cumulative_weights();
        let span_ms: i64 = 400 * 86_400_000;
        let step = (span_ms / n as i64).max(1);
        let start = chrono::Utc::now().timestamp_millis() - span_ms;
        for chunk_start in (have..n).step_by(10_000) {
            let end = (chunk_start + 10_000).min(n);
            let batch: Vec<ValidEvent> = (chunk_start..end)
                .map(|i| {
                    tenanted(&mut rng, &cumulative, i, start, step)
                        .validate()
                        .expect("valid")
                })
                .collect();
            store.insert_valid(batch).await?;
        }
        println!(
            "generated {n} events over {TENANTS} tenants in {:.1}s",
            t.elapsed().as_secs_f64()
        );
    }
    while store.index_pending(20_000).await? > 0 {}
    let mut tokens = Vec::new();
    for rank in READ_AS {
        let tenant = tenant_name(rank);
        let scopes = Scopes::parse("read")?;
        let token = store
            .create_token_recorded("bench", &scopes, Some(&tenant), |_| None)
            .await?
            .plaintext;
        tokens.push((tenant, token));
    }
    store.close().await;
    Ok((db, tokens))
}

/// Every shape of a tenant's tab, for each tenant of `READ_AS`, through its own token.
pub async fn bench_tenant_queries(n: usize) -> Result<()> {
    let (db, tokens) = dataset(n).await?;
    let server = Server::start(&db, 3904).await?;
    let client = reqwest::Client::new();
    let shapes = [
        ("first page", ""),
        ("page 2,000", "page=2000"),
        ("sort by action", "sort=action&order=asc"),
        ("sort by action, page 2,000", "sort=action&page=2000"),
        ("action", "action=mailbox.update"),
        ("outcome", "outcome=failure"),
        ("category and outcome", "category=auth&outcome=success"),
        ("actor type, sorted by action", "actor_type=api_token&sort=action"),
        ("verb", "verb=delete"),
        ("Sign-ins view", "view=signins"),
        ("last 30 days", "range=30d"),
        ("actor", "actor=zoe@acme.com"),
        ("q, common term", "q=acme"),
        ("q and outcome", "q=zoe&outcome=failure"),
        ("q, no match", "q=zzzznotthere"),
    ];
    println!("\n{n} events over {TENANTS} tenants; GET /api/v1/events with a token bound to the tenant\n");
    println!("| tenant (events) | query | p50 ms | p95 ms | first request ms | total |");
    println!("|---|---|---|---|---|---|");
    for (tenant, token) in &tokens {
        let (_, _, _, size) = time_query(&client, &server.base, token, "", 1).await?;
        for &(name, qs) in &shapes {
            let runs = if qs.starts_with("q=") { 10 } else { 30 };
            match time_query(&client, &server.base, token, qs, runs).await {
                Ok((p50, p95, cold, total)) => {
                    println!("| {tenant} ({size}) | {name} | {p50:.1} | {p95:.1} | {cold:.1} | {total} |")
                }
                Err(e) => println!("| {tenant} ({size}) | {name} | error: {e} | | | |"),
            }
        }
    }
    bench_tenant_facets(&client, &server, &tokens).await
}

/// The menus of a tenant's tab (`GET /api/v1/facets`), for each tenant read as.
async fn bench_tenant_facets(client: &reqwest::Client, server: &Server, tokens: &[(String, String)]) -> Result<()> {
    println!("\nA tenant's menus (GET /api/v1/facets), 30 runs each\n");
    println!("| tenant | p50 ms | p95 ms | first request ms |");
    println!("|---|---|---|---|");
    for (tenant, token) in tokens {
        let url = &format!("{}/api/v1/facets", server.base);
        let (p50, p95, cold, ()) = super::timed(30, move || async move {
            let resp = client.get(url).bearer_auth(token).send().await?;
            if !resp.status().is_success() {
                return Err(format!("facets: {}", resp.status()).into());
            }
            resp.bytes().await?;
            Ok(())
        })
        .await?;
        println!("| {tenant} | {p50:.1} | {p95:.1} | {cold:.1} |");
    }
    Ok(())
}

/// Ingest of 1,000-event batches whose events carry tenants (drawn as the dataset's are), from 8 clients,
/// after the untenanted runs on the same server: what a tenant's indexes and cube cost the writer.
pub async fn bench_tenant_ingest(server: &Server, token: &str) -> Result<()> {
    let client = reqwest::Client::new();
    let mut rng = StdRng::seed_from_u64(5);
    let cumulative = cumulative_weights();
    let start = chrono::Utc::now().timestamp_millis() - 86_400_000;
    let clients = 8;
    let per = 100 / clients;
    let mut tasks = Vec::new();
    for c in 0..clients {
        let bodies: Vec<Vec<u8>> = (0..per)
            .map(|b| {
                let events: Vec<serde_json::Value> = (0..1000)
                    .map(|i| {
                        to_json(&tenanted(
                            &mut rng,
                            &cumulative,
                            500_000 + (c * per + b) * 1000 + i,
                            start,
                            1,
                        ))
                    })
                    .collect();
                serde_json::to_vec(&serde_json::json!({ "events": events })).expect("json")
            })
            .collect();
        tasks.push((client.clone(), server.base.clone(), token.to_string(), bodies));
    }
    let t = Instant::now();
    let running: Vec<_> = tasks
        .into_iter()
        .map(|(client, base, token, bodies)| tokio::spawn(post_all(client, base, token, bodies)))
        .collect();
    for task in running {
        task.await?;
    }
    let secs = t.elapsed().as_secs_f64();
    let events = clients * per * 1000;
    println!(
        "| ingest, 1,000-event batches over {TENANTS} tenants, 8 clients | {:.0} events/s | {events} events in {secs:.2}s |",
        events as f64 / secs
    );
    Ok(())
}
