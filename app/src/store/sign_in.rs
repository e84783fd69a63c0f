//! Sign-in blocks: failed sign-ins counted per address group (`ip::block_key`) and per account, before the
//! password is checked, and the blocks they lead to.

use rusqlite::OptionalExtension;
use sqlx::SqliteConnection;

use super::{error::StoreError, handle::AuditStore};
use crate::model::{
    NewEvent,
    ip::{IpBlock, block_key},
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

/// Until when (Unix ms) the address group `group` is blocked at `now`, if it is.
async fn blocked_until(conn: &mut SqliteConnection, group: &str, now: i64) -> Result<Option<i64>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT until FROM ip_blocks WHERE ip = ? AND until > ?")
            .bind(group)
            .bind(now)
            .fetch_optional(conn)
            .await?,
    )
}

/// The failures counted under `key` (an address group or an account) in the window that ends at `now`.
async fn failures(conn: &mut SqliteConnection, key: &str, now: i64, window_ms: i64) -> Result<i64, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT COUNT(*) FROM login_failures WHERE ip = ? AND at > ?")
            .bind(key)
            .bind(now - window_ms)
            .fetch_one(conn)
            .await?,
    )
}

/// A transaction that reads, then writes, takes the write lock first: a deferred one that read before the
/// event writer committed cannot write after it (`SQLITE_BUSY_SNAPSHOT`, which waiting does not cure), so
/// sign-ins failed under ingestion.
const WRITE_FIRST: &str = "BEGIN IMMEDIATE";

impl AuditStore {
    /// Until when (Unix ms) sign-in from this address group (`ip::block_key`) is blocked, if it is.
    pub async fn ip_blocked_until(&self, ip: &str, now: i64) -> Result<Option<i64>, StoreError> {
        blocked_until(&mut *self.write.acquire().await?, &block_key(ip), now).await
    }

    /// Counts a sign-in attempt from `ip` for `account` as a failure before its password is checked, so that
    /// parallel attempts cannot all be judged before the first failure is counted. `Blocked(until)` when the
    /// address group is blocked, or already has `max_failures` attempts in the window (then it is not
    /// judged at all); otherwise the attempt, with how many failures the account had in the window (for a
    /// slowdown). A success takes its attempt back (`sign_in_succeeded`).
    pub async fn begin_sign_in(
        &self,
        ip: &str,
        account: &str,
        now: i64,
        policy: BruteForcePolicy,
    ) -> Result<SignInAttempt, StoreError> {
        let (group, account) = (block_key(ip), account_key(account));
        let mut tx = self.write.begin_with(WRITE_FIRST).await?;
        if let Some(until) = blocked_until(&mut tx, &group, now).await? {
            return Ok(SignInAttempt::Blocked(until));
        }
        sqlx::query("DELETE FROM login_failures WHERE at <= ?")
            .bind(now - policy.window_ms)
            .execute(&mut *tx)
            .await?;
        if failures(&mut tx, &group, now, policy.window_ms).await? >= i64::from(policy.max_failures) {
            tx.commit().await?;
            return Ok(SignInAttempt::Blocked(now + policy.block_ms));
        }
        let account_failures = failures(&mut tx, &account, now, policy.window_ms).await? as u32;
        let mut ids = Vec::with_capacity(2);
        for key in [&group, &account] {
            let id = sqlx::query("INSERT INTO login_failures (ip, at) VALUES (?, ?)")
                .bind(key)
                .bind(now)
                .execute(&mut *tx)
                .await?
                .last_insert_rowid();
            ids.push(id);
        }
        tx.commit().await?;
        Ok(SignInAttempt::Judge { ids, account_failures })
    }

    /// Takes back the failures `begin_sign_in` counted for an attempt that succeeded.
    pub async fn sign_in_succeeded(&self, ids: &[i64]) -> Result<(), StoreError> {
        for id in ids {
            sqlx::query("DELETE FROM login_failures WHERE rowid = ?")
                .bind(id)
                .execute(&self.write)
                .await?;
        }
        Ok(())
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
        let mut tx = self.write.begin_with(WRITE_FIRST).await?;
        let n = failures(&mut tx, &group, now, policy.window_ms).await?;
        let already = blocked_until(&mut tx, &group, now).await?;
        let blocked = if n >= i64::from(policy.max_failures) && already.is_none() {
            let until = now + policy.block_ms;
            sqlx::query(
                "INSERT INTO ip_blocks (ip, until, failures) VALUES (?, ?, ?) \
                 ON CONFLICT (ip) DO UPDATE SET until = excluded.until, failures = excluded.failures",
            )
            .bind(&group)
            .bind(until)
            .bind(n)
            .execute(&mut *tx)
            .await?;
            sqlx::query("DELETE FROM login_failures WHERE ip = ?")
                .bind(&group)
                .execute(&mut *tx)
                .await?;
            Some(until)
        } else {
            None
        };
        tx.commit().await?;
        Ok(blocked)
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
