//! What the benchmark and the fault and load tests share: the release binary beside them, its command line,
//! the server started on a file, a copy of the benchmark's dataset.
#![allow(dead_code)] // each example uses a different part

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

pub type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// The release binary: `target/release/examples/<example>` → `target/release/auditlog`.
pub fn binary() -> PathBuf {
    let exe = std::env::current_exe().expect("exe");
    exe.parent()
        .and_then(Path::parent)
        .expect("target dir")
        .join("auditlog")
}

pub fn url(db: &Path) -> String {
    format!("sqlite://{}", db.display())
}

/// Runs the command line over `db` with `args`, logging errors only.
pub fn auditlog(db: &Path, args: &[&str]) -> std::process::Output {
    Command::new(binary())
        .args(["--database-url", &url(db)])
        .args(args)
        .env("RUST_LOG", "error")
        .output()
        .expect("auditlog")
}

/// A new API token on `db` with `scopes` (`admin`, `ingest,read`): the secret the command line prints.
pub fn token(db: &Path, name: &str, scopes: &str) -> Result<String> {
    let created = auditlog(db, &["token", "create", "--name", name, "--scope", scopes]);
    Ok(String::from_utf8(created.stdout)?.trim().to_string())
}

/// The server, killed when dropped (also when a run fails part-way).
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `auditlog serve` on `db` at `port` with `env`, and waits (up to 5 minutes: the first start over a
/// dataset from before the log hashes every event into it) until it answers.
pub async fn start(db: &Path, port: u16, env: &[(&str, &str)]) -> Result<Running> {
    let mut cmd = Command::new(binary());
    cmd.args(["--database-url", &url(db), "serve", "--addr"])
        .arg(format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "error")
        .stdout(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let running = Running(cmd.spawn()?);
    let client = reqwest::Client::new();
    for _ in 0..6_000 {
        if client
            .get(format!("http://127.0.0.1:{port}/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return Ok(running);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err("the server did not start".into())
}

/// A copy of the dataset in `dir` as `name`: the file, its WAL (the latest commits) and the log's key.
pub fn copy_of(dataset: &Path, dir: &Path, name: &str) -> Result<PathBuf> {
    let db = dir.join(name);
    std::fs::copy(dataset, &db)?;
    for suffix in ["-wal", ".signing-key"] {
        let (mut from, mut to) = (dataset.as_os_str().to_owned(), db.as_os_str().to_owned());
        from.push(suffix);
        to.push(suffix);
        if Path::new(&from).exists() {
            std::fs::copy(&from, &to)?;
        }
    }
    Ok(db)
}
