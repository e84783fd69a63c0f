//! API tokens: only a SHA-256 hash is stored (tokens are long random strings, so a fast hash is the right
//! tool; passwords, which are guessable, use Argon2id). The plaintext exists once, in `NewToken`.

use rand::{Rng, distributions::Alphanumeric};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::FromRow;

use super::{AuditStore, StoreError, now_millis};
use crate::model::FieldError;
pub use crate::model::token::{ApiToken, Scope, Scopes};

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
}

impl From<TokenRow> for ApiToken {
    fn from(r: TokenRow) -> Self {
        ApiToken {
            id: r.id,
            name: r.name,
            prefix: r.prefix,
            scopes: Scopes::parse(&r.scopes).unwrap_or_default(),
            created_at: r.created_at,
            last_used_at: r.last_used_at,
            revoked_at: r.revoked_at,
        }
    }
}

fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

const TOKEN_COLUMNS: &str = "id, name, prefix, scopes, created_at, last_used_at, revoked_at";

impl AuditStore {
    pub async fn create_token(&self, name: &str, scopes: &Scopes) -> Result<NewToken, StoreError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(FieldError::invalid("name", "must be 1 to 100 characters").into());
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
        };
        sqlx::query(
            "INSERT INTO api_tokens (id, name, token_hash, prefix, scopes, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&token.id)
        .bind(&token.name)
        .bind(hash(&plaintext))
        .bind(&token.prefix)
        .bind(token.scopes.to_list())
        .bind(token.created_at)
        .execute(&self.write)
        .await?;
        Ok(NewToken { token, plaintext })
    }

    pub async fn list_tokens(&self) -> Result<Vec<ApiToken>, StoreError> {
        let rows: Vec<TokenRow> = sqlx::query_as(&format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens ORDER BY created_at DESC, id DESC"
        ))
        .fetch_all(&self.read)
        .await?;
        Ok(rows.into_iter().map(ApiToken::from).collect())
    }

    /// Revokes by id. Revoking twice is harmless; an unknown id is `NotFound`.
    pub async fn revoke_token(&self, id: &str) -> Result<ApiToken, StoreError> {
        sqlx::query("UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?")
            .bind(now_millis())
            .bind(id)
            .execute(&self.write)
            .await?;
        let row: TokenRow = sqlx::query_as(&format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE id = ?"))
            .bind(id)
            .fetch_optional(&self.write)
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok(row.into())
    }

    /// The token a bearer string belongs to, whether revoked or not (the caller decides), marking it used.
    pub async fn find_token(&self, plaintext: &str) -> Result<Option<ApiToken>, StoreError> {
        let row: Option<TokenRow> =
            sqlx::query_as(&format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE token_hash = ?"))
                .bind(hash(plaintext))
                .fetch_optional(&self.read)
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
        Ok(Some(row.into()))
    }
}
