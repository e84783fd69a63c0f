//! The demo panel's Settings tab: panel settings (any signed-in user), API tokens and blocked addresses
//! (admins). Every change is recorded: `settings.update` with a diff, `api_token.create` / `api_token.revoke`,
//! `auth.ip_unblocked`.

use leptos::prelude::*;

use crate::model::AppError;

#[cfg(feature = "ssr")]
use crate::model::recorded::{setting_changed, token_event};
use crate::model::{ip::IpBlock, token::ApiToken};

#[server(output = crate::api::Answer, input = leptos::server_fn::codec::GetUrl, prefix = "/api/fn", endpoint = "list_settings")]
pub async fn list_settings() -> Result<Vec<(String, String)>, AppError> {
    let (store, _) = super::guard::signed_in()?;
    store.settings().await.map_err(super::guard::opaque)
}

#[server(output = crate::api::Answer, prefix = "/api/fn", endpoint = "update_setting")]
pub async fn update_setting(key: String, value: String) -> Result<(), AppError> {
    let (store, by) = super::guard::signed_in()?;
    let value = value.trim().to_string();
    if value.is_empty() || value.chars().count() > 200 {
        return Err(super::guard::bad_input(crate::model::FieldError::invalid(
            "value",
            "must be 1 to 200 characters",
        )));
    }
    let meta = super::guard::request_meta();
    let (changed_key, to) = (key.clone(), value.clone());
    let record = move |before: &str| {
        // Setting a value to what it was changes nothing, and records nothing.
        (before != to).then(|| {
            let event = setting_changed(by.actor(), &changed_key, before, &to);
            super::guard::panel_event(event, &meta)
        })
    };
    store
        .update_setting_recorded(&key, &value, record)
        .await
        .map_err(super::guard::opaque)?;
    Ok(())
}

/// How many days the audit log keeps events; `None`: forever. Admins only.
#[server(output = crate::api::Answer, input = leptos::server_fn::codec::GetUrl, prefix = "/api/fn", endpoint = "get_retention")]
pub async fn get_retention() -> Result<Option<u32>, AppError> {
    let (store, _) = super::guard::admin()?;
    store.retention_days().await.map_err(super::guard::opaque)
}

/// Sets the retention from the Settings tab's `Keep events for`: a number of days, or empty for forever.
/// Recorded as `settings.update`; the purge follows within moments. Admins only.
#[server(output = crate::api::Answer, prefix = "/api/fn", endpoint = "set_retention")]
pub async fn set_retention(days: String) -> Result<(), AppError> {
    let (store, by) = super::guard::admin()?;
    let days = match days.trim() {
        "" | "forever" => None,
        d => Some(d.parse::<i64>().map_err(|_| {
            super::guard::bad_input(crate::model::FieldError::invalid("days", "must be a number of days"))
        })?),
    };
    let days = crate::store::check_retention(days).map_err(super::guard::bad_input)?;
    let meta = super::guard::request_meta();
    let recorder = crate::model::RecordedBy::session(&by.id, &by.email);
    store
        .set_retention_days(days, by.actor(), recorder, move |e| super::guard::panel_event(e, &meta))
        .await
        .map_err(super::guard::opaque)?;
    Ok(())
}

#[server(output = crate::api::Answer, input = leptos::server_fn::codec::GetUrl, prefix = "/api/fn", endpoint = "list_tokens")]
pub async fn list_tokens() -> Result<Vec<ApiToken>, AppError> {
    let (store, _) = super::guard::admin()?;
    store.list_tokens().await.map_err(super::guard::opaque)
}

/// Creates a token and returns it: the only time it is shown.
#[server(output = crate::api::Answer, prefix = "/api/fn", endpoint = "create_token")]
pub async fn create_token(name: String, scopes: String, tenant: Option<String>) -> Result<String, AppError> {
    use crate::model::token::Scopes;
    let (store, by) = super::guard::admin()?;
    let scopes = Scopes::parse(&scopes).map_err(super::guard::bad_input)?;
    let meta = super::guard::request_meta();
    let record = move |token: &ApiToken| {
        Some(super::guard::panel_event(
            token_event("api_token.create", by.actor(), token),
            &meta,
        ))
    };
    let created = store
        .create_token_recorded(&name, &scopes, tenant.as_deref(), record)
        .await
        .map_err(super::guard::opaque)?;
    Ok(created.plaintext)
}

#[server(output = crate::api::Answer, prefix = "/api/fn", endpoint = "revoke_token")]
pub async fn revoke_token(id: String) -> Result<(), AppError> {
    let (store, by) = super::guard::admin()?;
    let meta = super::guard::request_meta();
    let record = move |token: &ApiToken| {
        Some(super::guard::panel_event(
            token_event("api_token.revoke", by.actor(), token),
            &meta,
        ))
    };
    store
        .revoke_token_recorded(&id, record)
        .await
        .map_err(super::guard::opaque)?;
    Ok(())
}

/// The addresses blocked from signing in after failed attempts, now. Admins only.
#[server(output = crate::api::Answer, input = leptos::server_fn::codec::GetUrl, prefix = "/api/fn", endpoint = "list_ip_blocks")]
pub async fn list_ip_blocks() -> Result<Vec<IpBlock>, AppError> {
    let (store, _) = super::guard::admin()?;
    let now = crate::model::time::to_millis(chrono::Utc::now());
    store.ip_blocks(now).await.map_err(super::guard::opaque)
}

/// Lifts the block of a blocked address (as `list_ip_blocks` names it), recorded as `auth.ip_unblocked`.
/// Admins only; an address that is not blocked is a 404.
#[server(output = crate::api::Answer, prefix = "/api/fn", endpoint = "unblock_ip")]
pub async fn unblock_ip(address: String) -> Result<(), AppError> {
    let (store, by) = super::guard::admin()?;
    let meta = super::guard::request_meta();
    let now = crate::model::time::to_millis(chrono::Utc::now());
    let record = move |block: &IpBlock| {
        Some(super::guard::panel_event(
            crate::model::recorded::ip_unblocked(by.actor(), block),
            &meta,
        ))
    };
    store
        .unblock_ip_recorded(address.trim(), now, record)
        .await
        .map_err(super::guard::opaque)?;
    Ok(())
}
