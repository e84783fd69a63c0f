//! Group commit. Every event insert goes through one writer task: it takes whatever requests are waiting,
//! inserts them all in one transaction, commits, and only then answers each request. Under concurrent
//! load many requests share one commit; alone, a request commits by itself. Either way an event is
//! acknowledged only once it is committed.

use sqlx::SqlitePool;
use tokio::sync::{mpsc, oneshot};

use super::{StoreError, events::insert_rows};
use crate::model::ValidEvent;

/// At most this many events share one transaction.
const MAX_GROUP_EVENTS: usize = 5_000;

struct Request {
    rows: Vec<(String, ValidEvent)>,
    received: i64,
    reply: oneshot::Sender<Result<u64, String>>,
}

/// The handle the store sends inserts through.
#[derive(Clone, Debug)]
pub(super) struct Writer {
    tx: mpsc::Sender<Request>,
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request").field("rows", &self.rows.len()).finish()
    }
}

impl Writer {
    pub(super) fn spawn(pool: SqlitePool) -> Writer {
        let (tx, rx) = mpsc::channel(1_024);
        tokio::spawn(run(pool, rx));
        Writer { tx }
    }

    /// True while inserts are queued for the writer.
    pub(super) fn busy(&self) -> bool {
        self.tx.capacity() < self.tx.max_capacity()
    }

    /// Inserts the rows; returns how many were new, once they are committed.
    pub(super) async fn insert(&self, rows: Vec<(String, ValidEvent)>, received: i64) -> Result<u64, StoreError> {
        let (reply, answer) = oneshot::channel();
        let gone = || StoreError::Database(sqlx::Error::PoolClosed);
        self.tx
            .send(Request { rows, received, reply })
            .await
            .map_err(|_| gone())?;
        match answer.await.map_err(|_| gone())? {
            Ok(n) => Ok(n),
            Err(message) => Err(StoreError::Database(sqlx::Error::Protocol(message))),
        }
    }
}

async fn run(pool: SqlitePool, mut rx: mpsc::Receiver<Request>) {
    while let Some(first) = rx.recv().await {
        let mut size = first.rows.len();
        let mut group = vec![first];
        while size < MAX_GROUP_EVENTS {
            match rx.try_recv() {
                Ok(next) => {
                    size += next.rows.len();
                    group.push(next);
                }
                Err(_) => break,
            }
        }
        match commit(&pool, &group).await {
            Ok(counts) => {
                for (request, n) in group.into_iter().zip(counts) {
                    let _ = request.reply.send(Ok(n));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, requests = group.len(), "insert failed; nothing of it was stored");
                for request in group {
                    let _ = request.reply.send(Err(e.to_string()));
                }
            }
        }
    }
}

async fn commit(pool: &SqlitePool, group: &[Request]) -> Result<Vec<u64>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let mut counts = Vec::with_capacity(group.len());
    for request in group {
        counts.push(insert_rows(&mut tx, &request.rows, request.received).await?);
    }
    let added: u64 = counts.iter().sum();
    sqlx::query("UPDATE event_count SET n = n + ? WHERE id = 1")
        .bind(added as i64)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(counts)
}
