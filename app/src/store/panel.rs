//! Panel users (Argon2id password hashes), sessions (only a hash of the cookie value is stored), sign-in
//! failures and IP blocks, and the demo panel's settings.

use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};

use argon2::{
    Argon2, PasswordHash, PasswordHasher, PasswordVerifier,
    password_hash::{SaltString, rand_core::OsRng},
};
use rand::{Rng, distributions::Alphanumeric};
use rusqlite::{OptionalExtension, params};
use sqlx::FromRow;

use super::{error::StoreError, handle::AuditStore, schema::now_millis, tokens::sha256_hex};
use crate::model::{FieldError, NewEvent, Role, User, user::is_email_address};

/// How long a session lasts.
pub const SESSION_TTL_MS: i64 = 8 * 60 * 60 * 1000;

/// The panel setting that says how long a session lasts, in minutes.
const SESSION_TIMEOUT_KEY: &str = "session_timeout_minutes";
/// The longest session the setting may ask for: 30 days.
const MAX_SESSION_MINUTES: i64 = 30 * 24 * 60;

fn parse_session_minutes(value: &str) -> Option<i64> {
    value
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|m| (1..=MAX_SESSION_MINUTES).contains(m))
}

#[derive(FromRow)]
struct UserRow {
    id: String,
    email: String,
    name: String,
    role: String,
}

impl UserRow {
    /// The user, or an error naming the row when its role is not one this product knows.
    fn decode(self) -> Result<User, StoreError> {
        let role = Role::parse(&self.role).ok_or_else(|| StoreError::corrupt("users", &self.id, "role", &self.role))?;
        Ok(User {
            id: self.id,
            email: self.email,
            name: self.name,
            role,
            tenant: None,
        })
    }
}

/// A new session cookie value: 43 random letters and digits.
pub(super) fn session_token() -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(43)
        .map(char::from)
        .collect()
}

/// Opens a session for `user_id` lasting `ttl_ms`; returns its cookie value (stored only as a hash).
pub(super) fn open_session(tx: &rusqlite::Transaction, user_id: &str, ttl_ms: i64) -> rusqlite::Result<String> {
    let token = session_token();
    let now = now_millis();
    tx.execute(
        "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
        params![sha256_hex(&token), user_id, now, now + ttl_ms],
    )?;
    Ok(token)
}

fn check_email(email: &str) -> Result<String, FieldError> {
    let email = email.trim();
    if is_email_address(email) {
        Ok(email.to_string())
    } else {
        Err(FieldError::invalid("email", "must be an email address"))
    }
}

fn check_password(password: &str) -> Result<(), FieldError> {
    if password.chars().count() < 8 {
        return Err(FieldError::invalid("password", "must be at least 8 characters"));
    }
    Ok(())
}

/// Password hashes computed at once: one per core. Each Argon2id run takes tens of milliseconds and 19 MiB;
/// more at once only queue on the cores and multiply the memory (a burst of sign-ins could exhaust it).
fn hashing_turns() -> &'static tokio::sync::Semaphore {
    static TURNS: std::sync::LazyLock<tokio::sync::Semaphore> = std::sync::LazyLock::new(|| {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        tokio::sync::Semaphore::new(cores)
    });
    &TURNS
}

/// Argon2id with a random salt. CPU-heavy: runs off the async workers, one per core at a time.
async fn hash_password(password: String) -> Result<String, StoreError> {
    let _turn = hashing_turns().acquire().await.map_err(|_| StoreError::ShuttingDown)?;
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
    })
    .await?
    .map_err(|e| StoreError::Hashing(e.to_string()))
}

/// Checks `password` against `hash`, counting the Argon2 run in `checks` (and `password_checks_total`).
async fn verify_password(password: String, hash: String, checks: &Arc<AtomicU64>) -> bool {
    let Ok(_turn) = hashing_turns().acquire().await else {
        return false;
    };
    let checks = checks.clone();
    tokio::task::spawn_blocking(move || {
        checks.fetch_add(1, Ordering::Relaxed);
        metrics::counter!("password_checks_total").increment(1);
        PasswordHash::new(&hash).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
    })
    .await
    .unwrap_or(false)
}

/// A real hash to verify against when the email is unknown, so that an unknown email and a wrong password
/// take the same time.
static DUMMY_HASH: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();

async fn dummy_hash() -> Result<String, StoreError> {
    let hash = DUMMY_HASH
        .get_or_try_init(|| hash_password("not a real password".into()))
        .await?;
    Ok(hash.clone())
}

impl AuditStore {
    /// Creates a user, unrecorded (setup and tests; the panel and the CLI use `create_user_recorded`).
    pub async fn create_user(&self, email: &str, name: &str, role: Role, password: &str) -> Result<User, StoreError> {
        self.create_user_recorded(email, name, role, password, |_| None).await
    }

    /// Creates a user and stores the event `record` makes of it in the same transaction.
    pub async fn create_user_recorded(
        &self,
        email: &str,
        name: &str,
        role: Role,
        password: &str,
        record: impl FnOnce(&User) -> Option<NewEvent> + Send + 'static,
    ) -> Result<User, StoreError> {
        let email = check_email(email)?;
        check_password(password)?;
        let hash = hash_password(password.to_string()).await?;
        let user = User {
            id: ulid::Ulid::new().to_string(),
            email,
            name: name.trim().to_string(),
            role,
            tenant: None,
        };
        self.change(move |tx| {
            let now = now_millis();
            let inserted = tx.execute(
                "INSERT INTO users (id, email, name, role, password_hash, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
                params![user.id, user.email, user.name, role.as_str(), hash, now],
            );
            match inserted {
                Err(rusqlite::Error::SqliteFailure(e, _))
                    if e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE =>
                {
                    return Err(FieldError::invalid("email", "a user with this email already exists").into());
                }
                other => other?,
            };
            let event = record(&user);
            Ok((user, event))
        })
        .await
    }

    /// Makes sure the user with this email exists with this role and password, creating it when missing
    /// (the server's configured admin, at every start). Nothing changes, and nothing is recorded, when the
    /// password and role already are these. Otherwise the change is stored with the event `record` makes of
    /// it (the user before and after, and whether the password changed) in one transaction, and a changed
    /// password ends the user's sessions.
    pub async fn ensure_user_recorded(
        &self,
        email: &str,
        role: Role,
        password: &str,
        record: impl FnOnce(Option<&User>, &User, bool) -> Option<NewEvent> + Send + 'static,
    ) -> Result<User, StoreError> {
        check_password(password)?;
        // The panel's own read connections: a sign-in never waits behind the searches', nor for the write pool.
        let row: Option<(String, String)> = sqlx::query_as("SELECT id, password_hash FROM users WHERE email = ?")
            .bind(email.trim())
            .fetch_optional(&self.panel_read)
            .await?;
        let Some((id, hash)) = row else {
            return self
                .create_user_recorded(email, "", role, password, move |user| record(None, user, true))
                .await;
        };
        let same_password = verify_password(password.to_string(), hash, &self.password_checks).await;
        let new_hash = match same_password {
            true => None,
            false => Some(hash_password(password.to_string()).await?),
        };
        let before = self.user(&id).await?;
        if same_password && before.role == role {
            return Ok(before);
        }
        self.change(move |tx| {
            let before = user_in(tx, &id)?;
            tx.execute(
                "UPDATE users SET role = ?1, updated_at = ?2 WHERE id = ?3",
                params![role.as_str(), now_millis(), id],
            )?;
            if let Some(hash) = &new_hash {
                tx.execute("UPDATE users SET password_hash = ?1 WHERE id = ?2", params![hash, id])?;
                tx.execute("DELETE FROM sessions WHERE user_id = ?1", [&id])?;
            }
            let after = User { role, ..before.clone() };
            let event = record(Some(&before), &after, new_hash.is_some());
            Ok((after, event))
        })
        .await
    }

    pub async fn user_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        let row: Option<UserRow> = sqlx::query_as("SELECT id, email, name, role FROM users WHERE email = ?")
            .bind(email.trim())
            .fetch_optional(&self.write)
            .await?;
        row.map(UserRow::decode).transpose()
    }

    pub async fn user(&self, id: &str) -> Result<User, StoreError> {
        let row: Option<UserRow> = sqlx::query_as("SELECT id, email, name, role FROM users WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.panel_read)
            .await?;
        row.ok_or(StoreError::NotFound)?.decode()
    }

    pub async fn list_users(&self) -> Result<Vec<User>, StoreError> {
        let rows: Vec<UserRow> = sqlx::query_as("SELECT id, email, name, role FROM users ORDER BY email")
            .fetch_all(&self.panel_read)
            .await?;
        rows.into_iter().map(UserRow::decode).collect()
    }

    pub async fn admin_exists(&self) -> Result<bool, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE role = 'admin'")
            .fetch_one(&self.write)
            .await?;
        Ok(n > 0)
    }

    /// Changes name and role, and stores the event `record` makes of the user before and after in the same
    /// transaction; returns the user before and after.
    pub async fn update_user_recorded(
        &self,
        id: &str,
        name: &str,
        role: Role,
        record: impl FnOnce(&User, &User) -> Option<NewEvent> + Send + 'static,
    ) -> Result<(User, User), StoreError> {
        let (id, name) = (id.to_string(), name.trim().to_string());
        self.change(move |tx| {
            let before = user_in(tx, &id)?;
            tx.execute(
                "UPDATE users SET name = ?1, role = ?2, updated_at = ?3 WHERE id = ?4",
                params![name, role.as_str(), now_millis(), id],
            )?;
            let after = User {
                name,
                role,
                ..before.clone()
            };
            let event = record(&before, &after);
            Ok(((before, after), event))
        })
        .await
    }

    /// Deletes a user (and their sessions), and stores the event `record` makes of them in the same
    /// transaction; returns the user.
    pub async fn delete_user_recorded(
        &self,
        id: &str,
        record: impl FnOnce(&User) -> Option<NewEvent> + Send + 'static,
    ) -> Result<User, StoreError> {
        let id = id.to_string();
        self.change(move |tx| {
            let user = user_in(tx, &id)?;
            tx.execute("DELETE FROM users WHERE id = ?1", [&id])?;
            let event = record(&user);
            Ok((user, event))
        })
        .await
    }

    /// The user whose email and password these are. Unknown email and wrong password look the same.
    pub async fn authenticate(&self, email: &str, password: &str) -> Result<Option<User>, StoreError> {
        // The panel's own read connections: a sign-in never waits behind the searches', nor for the write pool.
        let row: Option<(String, String)> = sqlx::query_as("SELECT id, password_hash FROM users WHERE email = ?")
            .bind(email.trim())
            .fetch_optional(&self.panel_read)
            .await?;
        let (id, hash) = match row {
            Some(row) => row,
            None => (String::new(), dummy_hash().await?),
        };
        let ok = verify_password(password.to_string(), hash, &self.password_checks).await;
        if ok && !id.is_empty() {
            Ok(Some(self.user(&id).await?))
        } else {
            Ok(None)
        }
    }

    /// How many passwords this store has checked against their hash since it was opened (each an Argon2 run,
    /// also counted in the metric `password_checks_total`).
    pub fn password_checks(&self) -> u64 {
        self.password_checks.load(Ordering::Relaxed)
    }

    /// How long a new session lasts: the panel's `session_timeout_minutes` setting, or `SESSION_TTL_MS` when
    /// it is missing.
    pub async fn session_ttl_ms(&self) -> Result<i64, StoreError> {
        let value: Option<String> = sqlx::query_scalar("SELECT value FROM settings WHERE key = ?")
            .bind(SESSION_TIMEOUT_KEY)
            .fetch_optional(&self.panel_read)
            .await?;
        Ok(value
            .as_deref()
            .and_then(parse_session_minutes)
            .map_or(SESSION_TTL_MS, |m| m * 60_000))
    }

    /// A new session for the user, unrecorded (a sign-in opens its own with `sign_in_succeeded`); returns the
    /// cookie value (stored only as a hash).
    pub async fn create_session(&self, user_id: &str, ttl_ms: i64) -> Result<String, StoreError> {
        let user_id = user_id.to_string();
        self.change(move |tx| Ok((open_session(tx, &user_id, ttl_ms)?, None)))
            .await
    }

    /// The user of an unexpired session.
    pub async fn session_user(&self, token: &str) -> Result<Option<User>, StoreError> {
        let row: Option<UserRow> = sqlx::query_as(
            "SELECT u.id, u.email, u.name, u.role FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = ? AND s.expires_at > ?",
        )
        .bind(sha256_hex(token))
        .bind(now_millis())
        .fetch_optional(&self.panel_read)
        .await?;
        row.map(UserRow::decode).transpose()
    }

    pub async fn delete_session(&self, token: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = ? OR expires_at <= ?")
            .bind(sha256_hex(token))
            .bind(now_millis())
            .execute(&self.write)
            .await?;
        Ok(())
    }

    pub async fn settings(&self) -> Result<Vec<(String, String)>, StoreError> {
        Ok(sqlx::query_as("SELECT key, value FROM settings ORDER BY key")
            .fetch_all(&self.panel_read)
            .await?)
    }

    /// Changes a setting, and stores the event `record` makes of the value before in the same transaction;
    /// returns the value before.
    pub async fn update_setting_recorded(
        &self,
        key: &str,
        value: &str,
        record: impl FnOnce(&str) -> Option<NewEvent> + Send + 'static,
    ) -> Result<String, StoreError> {
        let (key, value) = (key.to_string(), value.to_string());
        if key == SESSION_TIMEOUT_KEY && parse_session_minutes(&value).is_none() {
            return Err(FieldError::invalid(
                "value",
                format!("must be a whole number of minutes from 1 to {MAX_SESSION_MINUTES}"),
            )
            .into());
        }
        self.change(move |tx| {
            let before: Option<String> = tx
                .query_row("SELECT value FROM settings WHERE key = ?1", [&key], |r| r.get(0))
                .optional()?;
            let before = before.ok_or_else(|| FieldError::invalid("key", format!("unknown setting `{key}`")))?;
            tx.execute("UPDATE settings SET value = ?1 WHERE key = ?2", [&value, &key])?;
            let event = record(&before);
            Ok((before, event))
        })
        .await
    }
}

/// The user with this id, in the writer's transaction.
fn user_in(tx: &rusqlite::Transaction, id: &str) -> Result<User, StoreError> {
    tx.query_row("SELECT id, email, name, role FROM users WHERE id = ?1", [id], |r| {
        Ok(UserRow {
            id: r.get(0)?,
            email: r.get(1)?,
            name: r.get(2)?,
            role: r.get(3)?,
        })
    })
    .optional()?
    .ok_or(StoreError::NotFound)?
    .decode()
}
