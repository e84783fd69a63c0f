use leptos::prelude::*;

use crate::model::{AppError, VerifyStatus};

/// `Verify log`: starts checking the whole log on the server (as `auditlog verify` does), unless a check is
/// running already. Admins only; the run is recorded as `audit.verify`.
#[server(output = crate::api::Answer, prefix = "/api/fn", endpoint = "start_verify")]
pub async fn start_verify() -> Result<VerifyStatus, AppError> {
    let (store, user) = super::guard::admin()?;
    let by = crate::model::RecordedBy::session(&user.id, &user.email);
    store.start_verification(user.actor(), by);
    Ok(store.verification())
}

/// How the running (or last) check stands; `None` for an admin of one tenant, who cannot check the whole
/// log (the tab then offers no `Verify log`).
#[server(output = crate::api::Answer, input = leptos::server_fn::codec::GetUrl, prefix = "/api/fn", endpoint = "verify_status")]
pub async fn verification_status() -> Result<Option<VerifyStatus>, AppError> {
    let (store, tenant) = super::guard::audit_reader().await?;
    Ok(tenant.is_none().then(|| store.verification()))
}
