//! Load test: 50 clients running slow searches (two-character terms, which no index serves, over a copy of the
//! benchmark's 1M-event dataset) while 8 clients send events; meanwhile the panel's own page and a sign-in are
//! timed. They must stay fast: the panel reads through its own connections and the sign-in's password hashing
//! through its own queue, whatever the searches hold.
//!
//! cargo run --release -p server --example load -- DATASET.db [--seconds 20]  (or `scripts/load.sh`)

use std::{
    path::PathBuf,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use common::{Result, copy_of, start, token};
use serde_json::json;

mod common;

/// p50 and p95 of `times` (ms).
fn spread(mut times: Vec<f64>) -> (f64, f64) {
    times.sort_by(|a, b| a.total_cmp(b));
    let at = |p: f64| times[((times.len() as f64 * p) as usize).min(times.len() - 1)];
    (at(0.5), at(0.95))
}

/// Signs in through the form; the session cookie.
async fn sign_in(http: &reqwest::Client, base: &str) -> Result<(String, f64)> {
    let t = Instant::now();
    let r = http
        .post(format!("{base}/login"))
        .header("origin", base)
        .form(&[("email", "load@example.com"), ("password", "load-password-1")])
        .send()
        .await?;
    let ms = t.elapsed().as_secs_f64() * 1000.0;
    let cookie = r
        .headers()
        .get("set-cookie")
        .and_then(|c| c.to_str().ok())
        .and_then(|c| c.split(';').next())
        .ok_or("no session cookie")?
        .to_string();
    Ok((cookie, ms))
}

/// 50 clients searching two-character terms (counted in `searches`) and 8 sending events, until `stop`.
fn spawn_load(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    stop: &Arc<AtomicBool>,
    searches: &Arc<AtomicU64>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let mut tasks = Vec::new();
    for c in 0..50u64 {
        let (http, base, token, stop, searches) = (
            http.clone(),
            base.to_string(),
            token.to_string(),
            stop.clone(),
            searches.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let letters = b"abcdefghijklmnopqrstuvwxyz";
            let mut i = c;
            while !stop.load(Ordering::Relaxed) {
                i += 7;
                let q = format!(
                    "{}{}",
                    letters[(i % 26) as usize] as char,
                    letters[(i / 26 % 26) as usize] as char
                );
                let sent = http
                    .get(format!("{base}/api/v1/events?q={q}&count=exact"))
                    .bearer_auth(&token)
                    .send()
                    .await;
                if sent.is_ok() {
                    searches.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for c in 0..8 {
        let (http, base, token, stop) = (http.clone(), base.to_string(), token.to_string(), stop.clone());
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let e = json!({"action": "mailbox.update", "actor": {"type": "user", "id": format!("load{c}")}});
                let _ = http
                    .post(format!("{base}/api/v1/events"))
                    .bearer_auth(&token)
                    .json(&e)
                    .send()
                    .await;
            }
        }));
    }
    tasks
}

#[tokio::main]
async fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let dataset = PathBuf::from(
        args.next()
            .ok_or("the dataset's path (target/bench/bench-1000000.db)")?,
    );
    let mut seconds = 20;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--seconds" => seconds = args.next().and_then(|s| s.parse().ok()).ok_or("--seconds N")?,
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let dir = tempfile::tempdir_in(dataset.parent().ok_or("no folder")?)?;
    let db = copy_of(&dataset, dir.path(), "load.db")?;
    let token = token(&db, "load", "ingest,read")?;
    let port = 3960;
    let base = format!("http://127.0.0.1:{port}");
    let env = [
        ("AUDITLOG_ADMIN_EMAIL", "load@example.com"),
        ("AUDITLOG_ADMIN_PASSWORD", "load-password-1"),
    ];
    let server = start(&db, port, &env).await?;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let stop = Arc::new(AtomicBool::new(false));
    let searches = Arc::new(AtomicU64::new(0));
    let tasks = spawn_load(&http, &base, &token, &stop, &searches);
    let (cookie, _) = sign_in(&http, &base).await?;
    let (mut pages, mut sign_ins) = (Vec::new(), Vec::new());
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(seconds) {
        let t = Instant::now();
        let r = http
            .get(format!("{base}/admin/users"))
            .header("cookie", &cookie)
            .send()
            .await?;
        if !r.status().is_success() {
            return Err(format!("the panel's page: {}", r.status()).into());
        }
        r.bytes().await?;
        pages.push(t.elapsed().as_secs_f64() * 1000.0);
        sign_ins.push(sign_in(&http, &base).await?.1);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    stop.store(true, Ordering::Relaxed);
    drop(server);
    for t in tasks {
        let _ = t.await;
    }
    let (page50, page95) = spread(pages.clone());
    let (sign50, sign95) = spread(sign_ins.clone());
    println!(
        "{seconds} s, 50 clients searching two-character terms ({} searches answered) and 8 sending events:\n\
         the panel's Users page p50 {page50:.1} ms, p95 {page95:.1} ms ({} requests); \
         a sign-in p50 {sign50:.1} ms, p95 {sign95:.1} ms ({} sign-ins)",
        searches.load(Ordering::Relaxed),
        pages.len(),
        sign_ins.len()
    );
    Ok(())
}
