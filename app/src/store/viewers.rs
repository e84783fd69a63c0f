//! Sessions of the people a host panel signs in with a JWT: the host vouches for who they are, so they are
//! kept as the token described them (migration 20), never as users of the demo panel.

use super::{
    error::StoreError, handle::AuditStore, panel::session_token, schema::now_millis, tokens::sha256_hex as hash,
};
use crate::model::User;

impl AuditStore {
    /// A session for `viewer` until `expires_at` (Unix ms); returns the cookie value (stored only as a hash).
    pub async fn create_host_session(&self, viewer: &User, expires_at: i64) -> Result<String, StoreError> {
        let token = session_token();
        let now = now_millis();
        let viewer = serde_json::to_string(viewer).map_err(|e| StoreError::Io(std::io::Error::other(e)))?;
        sqlx::query("DELETE FROM host_sessions WHERE expires_at <= ?")
            .bind(now)
            .execute(&self.write)
            .await?;
        sqlx::query("INSERT INTO host_sessions (token_hash, viewer, created_at, expires_at) VALUES (?, ?, ?, ?)")
            .bind(hash(&token))
            .bind(viewer)
            .bind(now)
            .bind(expires_at)
            .execute(&self.write)
            .await?;
        Ok(token)
    }

    /// The viewer of an unexpired host session.
    pub async fn host_session_viewer(&self, token: &str) -> Result<Option<User>, StoreError> {
        let viewer: Option<String> =
            sqlx::query_scalar("SELECT viewer FROM host_sessions WHERE token_hash = ? AND expires_at > ?")
                .bind(hash(token))
                .bind(now_millis())
                .fetch_optional(&self.panel_read)
                .await?;
        viewer
            .map(|v| serde_json::from_str(&v).map_err(|e| StoreError::Io(std::io::Error::other(e))))
            .transpose()
    }

    /// Ends a host session (sign-out).
    pub async fn delete_host_session(&self, token: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM host_sessions WHERE token_hash = ?")
            .bind(hash(token))
            .execute(&self.write)
            .await?;
        Ok(())
    }
}
