//! Sign-in blocks: failed sign-ins counted per address group (`ip::block_key`) and per account, before the
//! verdict on the password is used, and the blocks they lead to.

use rusqlite::OptionalExtension;

use super::{error::StoreError, handle::AuditStore, panel::open_session};
use crate::model::{
    NewEvent, RecordedBy,
    ip::{IpBlock, block_key},
    recorded,
};

/// Brute-force protection: `max_failures` failed sign-ins from one IP within `window_ms` block sign-in from
/// that IP for `block_ms`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BruteForcePolicy {
    pub max_failures: u32,
    pub window_ms: i64,
    pub block_ms: i64,
}

impl Default for BruteForcePolicy {
    fn default() -> Self {
        BruteForcePolicy {
            max_failures: 5,
            window_ms: 10 * 60 * 1000,
            block_ms: 60 * 60 * 1000,
        }
    }
}

impl BruteForcePolicy {
    /// The `auth.ip_blocked` event of the address group of `ip`, blocked under this policy.
    pub fn blocked_event(&self, ip: &str) -> NewEvent {
        recorded::ip_blocked(
            &block_key(ip),
            self.max_failures,
            self.window_ms / 60_000,
            self.block_ms / 60_000,
        )
    }
}

/// What `begin_sign_in` decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignInAttempt {
    /// Sign-in from this address group is blocked until then (Unix ms).
    Blocked(i64),
    /// Check the password. `ids` are the failures counted for it (taken back on success);
    /// `account_failures` how many failed attempts the account had in the window before this one.
    Judge { ids: Vec<i64>, account_failures: u32 },
}

/// The key an account's failures are counted under, beside the address groups' (an address never starts
/// with `account:`).
fn account_key(account: &str) -> String {
    format!("account:{}", account.trim().to_lowercase())
}

/// Until when (Unix ms) an address group (`?1`) is blocked at an instant (`?2`), if it is.
const BLOCKED_UNTIL: &str = "SELECT until FROM ip_blocks WHERE ip = ?1 AND until > ?2";

/// Until when (Unix ms) the address group `group` is blocked at `now`, if it is.
fn blocked_until(tx: &rusqlite::Transaction, group: &str, now: i64) -> rusqlite::Result<Option<i64>> {
    tx.query_row(BLOCKED_UNTIL, rusqlite::params![group, now], |r| r.get(0))
        .optional()
}

/// The failures counted under `key` (an address group or an account) in the window that ends at `now`.
fn failures(tx: &rusqlite::Transaction, key: &str, now: i64, window_ms: i64) -> rusqlite::Result<i64> {
    tx.query_row(
        "SELECT COUNT(*) FROM login_failures WHERE ip = ?1 AND at > ?2",
        rusqlite::params![key, now - window_ms],
        |r| r.get(0),
    )
}

/// `begin_sign_in` in the writer's transaction.
fn begin(
    tx: &rusqlite::Transaction,
    (group, account): (&str, &str),
    now: i64,
    policy: BruteForcePolicy,
) -> rusqlite::Result<SignInAttempt> {
    if let Some(until) = blocked_until(tx, group, now)? {
        return Ok(SignInAttempt::Blocked(until));
    }
    tx.execute("DELETE FROM login_failures WHERE at <= ?1", [now - policy.window_ms])?;
    if failures(tx, group, now, policy.window_ms)? >= i64::from(policy.max_failures) {
        return Ok(SignInAttempt::Blocked(now + policy.block_ms));
    }
    let account_failures = failures(tx, account, now, policy.window_ms)? as u32;
    let mut ids = Vec::with_capacity(2);
    for key in [group, account] {
        tx.execute(
            "INSERT INTO login_failures (ip, at) VALUES (?1, ?2)",
            rusqlite::params![key, now],
        )?;
        ids.push(tx.last_insert_rowid());
    }
    Ok(SignInAttempt::Judge { ids, account_failures })
}

/// `sign_in_failed` in the writer's transaction.
fn failed(
    tx: &rusqlite::Transaction,
    group: &str,
    now: i64,
    policy: BruteForcePolicy,
) -> rusqlite::Result<Option<i64>> {
    let n = failures(tx, group, now, policy.window_ms)?;
    if n < i64::from(policy.max_failures) || blocked_until(tx, group, now)?.is_some() {
        return Ok(None);
    }
    let until = now + policy.block_ms;
    tx.execute(
        "INSERT INTO ip_blocks (ip, until, failures) VALUES (?1, ?2, ?3) \
         ON CONFLICT (ip) DO UPDATE SET until = excluded.until, failures = excluded.failures",
        rusqlite::params![group, until, n],
    )?;
    tx.execute("DELETE FROM login_failures WHERE ip = ?1", [group])?;
    Ok(Some(until))
}

impl AuditStore {
    /// Until when (Unix ms) sign-in from this address group (`ip::block_key`) is blocked, if it is.
    pub async fn ip_blocked_until(&self, ip: &str, now: i64) -> Result<Option<i64>, StoreError> {
        let until = sqlx::query_scalar(BLOCKED_UNTIL)
            .bind(block_key(ip))
            .bind(now)
            .fetch_optional(&self.panel_read)
            .await?;
        Ok(until)
    }

    /// Counts a sign-in attempt from `ip` for `account` as a failure before the verdict on its password is
    /// used, so that parallel attempts cannot all be judged before the first failure is counted.
    /// `Blocked(until)` when the address group is blocked, or already has `max_failures` attempts in the window
    /// (then it is not judged at all); otherwise the attempt, with how many failures the account had in the
    /// window (for a slowdown). A success takes its attempt back (`sign_in_succeeded`).
    pub async fn begin_sign_in(
        &self,
        ip: &str,
        account: &str,
        now: i64,
        policy: BruteForcePolicy,
    ) -> Result<SignInAttempt, StoreError> {
        let (group, account) = (block_key(ip), account_key(account));
        // On the event writer's connection, ahead of the events queued there: no wait for the database's write
        // lock, which the writer holds while events pour in.
        self.change(move |tx| Ok((begin(tx, (&group, &account), now, policy)?, None)))
            .await
    }

    /// A sign-in that succeeded: takes back the failures `begin_sign_in` counted for it (`attempt`), opens a
    /// session for `user_id` lasting `ttl_ms` and records `event`, in one of the writer's transactions.
    /// Returns the session's cookie value (stored only as a hash).
    pub async fn sign_in_succeeded(
        &self,
        attempt: Vec<i64>,
        user_id: &str,
        ttl_ms: i64,
        event: NewEvent,
    ) -> Result<String, StoreError> {
        let user_id = user_id.to_string();
        // Recorded by the product, as every sign-in is (the session is what it opens).
        self.change_as(RecordedBy::system(), move |tx| {
            for id in &attempt {
                tx.execute("DELETE FROM login_failures WHERE rowid = ?1", [id])?;
            }
            Ok((open_session(tx, &user_id, ttl_ms)?, Some(event)))
        })
        .await
    }

    /// After a failed attempt (already counted): `Some(until)` when the address group has reached
    /// `max_failures` in the window and is now blocked.
    pub async fn sign_in_failed(
        &self,
        ip: &str,
        now: i64,
        policy: BruteForcePolicy,
    ) -> Result<Option<i64>, StoreError> {
        let group = block_key(ip);
        self.change(move |tx| Ok((failed(tx, &group, now, policy)?, None)))
            .await
    }

    /// The address groups blocked at `now`, the longest-blocked first.
    pub async fn ip_blocks(&self, now: i64) -> Result<Vec<IpBlock>, StoreError> {
        let rows: Vec<(String, i64, i64)> =
            sqlx::query_as("SELECT ip, failures, until FROM ip_blocks WHERE until > ? ORDER BY until DESC, ip")
                .bind(now)
                .fetch_all(&self.panel_read)
                .await?;
        Ok(rows
            .into_iter()
            .map(|(address, failures, until)| IpBlock {
                address,
                failures: u32::try_from(failures).unwrap_or(u32::MAX),
                until,
            })
            .collect())
    }

    /// Lifts the block of the address group `address` (as `ip_blocks` lists it) and forgets its counted
    /// failures, storing the event `record` makes of the block in the same transaction. `NotFound` when the
    /// group is not blocked at `now`.
    pub async fn unblock_ip_recorded(
        &self,
        address: &str,
        now: i64,
        record: impl FnOnce(&IpBlock) -> Option<NewEvent> + Send + 'static,
    ) -> Result<IpBlock, StoreError> {
        let address = address.to_string();
        self.change(move |tx| {
            let block = tx
                .query_row(
                    "SELECT failures, until FROM ip_blocks WHERE ip = ?1 AND until > ?2",
                    rusqlite::params![address, now],
                    |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)),
                )
                .optional()?
                .map(|(failures, until)| IpBlock {
                    address: address.clone(),
                    failures: u32::try_from(failures).unwrap_or(u32::MAX),
                    until,
                })
                .ok_or(StoreError::NotFound)?;
            tx.execute("DELETE FROM ip_blocks WHERE ip = ?1", [&address])?;
            tx.execute("DELETE FROM login_failures WHERE ip = ?1", [&address])?;
            let event = record(&block);
            Ok((block, event))
        })
        .await
    }

    /// Counts a failed sign-in from `ip` (for an unnamed account); returns `Some(until)` when it blocks the
    /// address group.
    pub async fn record_login_failure(
        &self,
        ip: &str,
        now: i64,
        policy: BruteForcePolicy,
    ) -> Result<Option<i64>, StoreError> {
        match self.begin_sign_in(ip, "", now, policy).await? {
            SignInAttempt::Blocked(until) => Ok(Some(until)),
            SignInAttempt::Judge { .. } => self.sign_in_failed(ip, now, policy).await,
        }
    }
}
