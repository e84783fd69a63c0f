use leptos::prelude::*;

use crate::model::AppError;

use crate::model::{AuditQuery, EventPage};

/// One page of the audit log for the viewer.
#[server(output = crate::api::Answer, input = leptos::server_fn::codec::GetUrl, prefix = "/api/fn", endpoint = "list_events")]
pub async fn list_events(query: AuditQuery) -> Result<EventPage, AppError> {
    let (store, tenant) = super::guard::audit_reader().await?;
    store
        .list(&query.within(tenant.as_deref()))
        .await
        .map_err(super::guard::opaque)
}
