//! API tokens: only a SHA-256 hash is stored (tokens are long random strings, so a fast hash is the right
//! tool; passwords, which are guessable, use Argon2id). The plaintext exists once, in `NewToken`.

use rand::{Rng, distributions::Alphanumeric};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::FromRow;

use super::{error::StoreError, handle::AuditStore, schema::now_millis};
pub use crate::model::token::{ApiToken, Scope, Scopes};
use crate::model::{FieldError, NewEvent, event::parse_tenant};

const TOKEN_PREFIX: &str = "alk_";
const TOKEN_RANDOM_LEN: usize = 40;
/// `last_used_at` is refreshed at most this often, so a busy ingest token does not write on every request.
const LAST_USED_RESOLUTION_MS: i64 = 60_000;

/// A token just created: the only moment its plaintext exists.
#[derive(Clone, Serialize)]
pub struct NewToken {
    pub token: ApiToken,
    pub plaintext: String,
}

impl std::fmt::Debug for NewToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewToken")
            .field("token", &self.token)
            .field("plaintext", &"[REDACTED]")
            .finish()
    }
}

#[derive(FromRow)]
struct TokenRow {
    id: String,
    name: String,
    prefix: String,
    scopes: String,
    created_at: i64,
    last_used_at: Option<i64>,
    revoked_at: Option<i64>,
    tenant: Option<String>,
}

impl TokenRow {
    /// The token, or an error naming the row when its scopes are not ones this product knows.
    fn decode(self) -> Result<ApiToken, StoreError> {
        let scopes = Scopes::parse(&self.scopes)
            .map_err(|e| StoreError::corrupt("api_tokens", &self.id, "scopes", e.message))?;
        Ok(ApiToken {
            id: self.id,
            name: self.name,
            prefix: self.prefix,
            scopes,
            created_at: self.created_at,
            last_used_at: self.last_used_at,
            revoked_at: self.revoked_at,
            tenant: self.tenant,
        })
    }
}

/// What a bearer secret (an API token, a session cookie's value) is stored as: its SHA-256, in hex.
pub(super) fn sha256_hex(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

const TOKEN_COLUMNS: &str = "id, name, prefix, scopes, created_at, last_used_at, revoked_at, tenant";

impl AuditStore {
    /// Creates a token, unrecorded (setup and tests; the panel and the CLI use `create_token_recorded`).
    pub async fn create_token(&self, name: &str, scopes: &Scopes) -> Result<NewToken, StoreError> {
        self.create_token_recorded(name, scopes, None, |_| None).await
    }

    /// Creates a token, bound to `tenant` when given, and stores the event `record` makes of it in the same
    /// transaction. A token bound to a tenant cannot have the `admin` scope (which reaches the whole log's
    /// settings).
    pub async fn create_token_recorded(
        &self,
        name: &str,
        scopes: &Scopes,
        tenant: Option<&str>,
        record: impl FnOnce(&ApiToken) -> Option<NewEvent> + Send + 'static,
    ) -> Result<NewToken, StoreError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(FieldError::invalid("name", "must be 1 to 100 characters").into());
        }
        let tenant = match tenant.map(str::trim).filter(|t| !t.is_empty()) {
            Some(t) => Some(parse_tenant(t).map_err(|m| FieldError::invalid("tenant", m))?),
            None => None,
        };
        if tenant.is_some() && scopes.0.contains(&Scope::Admin) {
            return Err(FieldError::invalid(
                "scope",
                "a token bound to a tenant may have `ingest` and `read`, not `admin`",
            )
            .into());
        }
        let random: String = rand::thread_rng()
            .sample_iter(&Alphanumeric)
            .take(TOKEN_RANDOM_LEN)
            .map(char::from)
            .collect();
        let plaintext = format!("{TOKEN_PREFIX}{random}");
        let token = ApiToken {
            id: ulid::Ulid::new().to_string(),
            name: name.to_string(),
            prefix: plaintext[..TOKEN_PREFIX.len() + 6].to_string(),
            scopes: scopes.clone(),
            created_at: now_millis(),
            last_used_at: None,
            revoked_at: None,
            tenant,
        };
        let token_hash = sha256_hex(&plaintext);
        let token = self
            .change(move |tx| {
                tx.execute(
                    "INSERT INTO api_tokens (id, name, token_hash, prefix, scopes, created_at, tenant) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    params![
                        token.id,
                        token.name,
                        token_hash,
                        token.prefix,
                        token.scopes.to_list(),
                        token.created_at,
                        token.tenant
                    ],
                )?;
                let event = record(&token);
                Ok((token, event))
            })
            .await?;
        Ok(NewToken { token, plaintext })
    }

    pub async fn list_tokens(&self) -> Result<Vec<ApiToken>, StoreError> {
        let rows: Vec<TokenRow> = sqlx::query_as(&format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens ORDER BY created_at DESC, id DESC"
        ))
        .fetch_all(&self.panel_read)
        .await?;
        rows.into_iter().map(TokenRow::decode).collect()
    }

    /// Revokes by id, unrecorded (tests; the panel and the CLI use `revoke_token_recorded`).
    pub async fn revoke_token(&self, id: &str) -> Result<ApiToken, StoreError> {
        self.revoke_token_recorded(id, |_| None).await
    }

    /// Revokes by id and stores the event `record` makes of the token in the same transaction. Revoking twice
    /// is harmless (and recorded again); an unknown id is `NotFound`.
    pub async fn revoke_token_recorded(
        &self,
        id: &str,
        record: impl FnOnce(&ApiToken) -> Option<NewEvent> + Send + 'static,
    ) -> Result<ApiToken, StoreError> {
        let id = id.to_string();
        self.change(move |tx| {
            tx.execute(
                "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, ?1) WHERE id = ?2",
                params![now_millis(), id],
            )?;
            let row = tx
                .query_row(
                    &format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE id = ?1"),
                    [&id],
                    |r| {
                        Ok(TokenRow {
                            id: r.get(0)?,
                            name: r.get(1)?,
                            prefix: r.get(2)?,
                            scopes: r.get(3)?,
                            created_at: r.get(4)?,
                            last_used_at: r.get(5)?,
                            revoked_at: r.get(6)?,
                            tenant: r.get(7)?,
                        })
                    },
                )
                .optional()?
                .ok_or(StoreError::NotFound)?;
            let token = row.decode()?;
            let event = record(&token);
            Ok((token, event))
        })
        .await
    }

    /// The token a bearer string belongs to, whether revoked or not (the caller decides), marking it used.
    pub async fn find_token(&self, plaintext: &str) -> Result<Option<ApiToken>, StoreError> {
        let row: Option<TokenRow> =
            sqlx::query_as(&format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE token_hash = ?"))
                .bind(sha256_hex(plaintext))
                .fetch_optional(&self.panel_read)
                .await?;
        let Some(row) = row else { return Ok(None) };
        let now = now_millis();
        if row.revoked_at.is_none() && row.last_used_at.is_none_or(|t| now - t > LAST_USED_RESOLUTION_MS) {
            sqlx::query("UPDATE api_tokens SET last_used_at = ? WHERE id = ?")
                .bind(now)
                .bind(&row.id)
                .execute(&self.write)
                .await?;
        }
        row.decode().map(Some)
    }
}
