//! The demo panel's Users tab: list for everyone signed in; create, update and delete for admins. Every
//! change is recorded, updates with a `changes` diff.

use leptos::prelude::*;

use crate::model::AppError;

use crate::model::User;
#[cfg(feature = "ssr")]
use crate::model::recorded::user_event;

#[server(output = crate::api::Answer, input = leptos::server_fn::codec::GetUrl, prefix = "/api/fn", endpoint = "list_users")]
pub async fn list_users() -> Result<Vec<User>, AppError> {
    let (store, _) = super::guard::signed_in()?;
    store.list_users().await.map_err(super::guard::opaque)
}

#[server(output = crate::api::Answer, prefix = "/api/fn", endpoint = "create_user")]
pub async fn create_user(email: String, name: String, role: String, password: String) -> Result<User, AppError> {
    use crate::model::Role;
    let (store, by) = super::guard::admin()?;
    let role = Role::parse(&role)
        .ok_or_else(|| super::guard::bad_input(crate::model::FieldError::invalid("role", "must be admin or viewer")))?;
    let meta = super::guard::request_meta();
    let record = move |user: &User| {
        Some(super::guard::panel_event(
            user_event("user.create", by.actor(), user, None),
            &meta,
        ))
    };
    store
        .create_user_recorded(&email, &name, role, &password, record)
        .await
        .map_err(super::guard::opaque)
}

#[server(output = crate::api::Answer, prefix = "/api/fn", endpoint = "update_user")]
pub async fn update_user(id: String, name: String, role: String) -> Result<(), AppError> {
    use crate::model::Role;
    let (store, by) = super::guard::admin()?;
    let role = Role::parse(&role)
        .ok_or_else(|| super::guard::bad_input(crate::model::FieldError::invalid("role", "must be admin or viewer")))?;
    let meta = super::guard::request_meta();
    let record = move |before: &User, after: &User| {
        let action = if before.role != after.role {
            "user.role_change"
        } else {
            "user.update"
        };
        Some(super::guard::panel_event(
            user_event(action, by.actor(), after, Some(before)),
            &meta,
        ))
    };
    store
        .update_user_recorded(&id, &name, role, record)
        .await
        .map_err(super::guard::opaque)?;
    Ok(())
}

#[server(output = crate::api::Answer, prefix = "/api/fn", endpoint = "delete_user")]
pub async fn delete_user(id: String) -> Result<(), AppError> {
    let (store, by) = super::guard::admin()?;
    if by.id == id {
        return Err(super::guard::bad_input(crate::model::FieldError::invalid(
            "id",
            "you cannot delete yourself",
        )));
    }
    let meta = super::guard::request_meta();
    let record = move |user: &User| {
        Some(super::guard::panel_event(
            user_event("user.delete", by.actor(), user, None),
            &meta,
        ))
    };
    store
        .delete_user_recorded(&id, record)
        .await
        .map_err(super::guard::opaque)?;
    Ok(())
}
