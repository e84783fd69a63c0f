use leptos::prelude::*;

use crate::model::{AppError, EventDetail};

/// One whole event as the detail dialog shows it, with the signed checkpoint that covers it (if one does yet).
#[server(output = crate::api::Answer, input = leptos::server_fn::codec::GetUrl, prefix = "/api/fn", endpoint = "get_event")]
pub async fn get_event(id: String) -> Result<EventDetail, AppError> {
    let (store, tenant) = super::guard::audit_reader().await?;
    let event = store
        .get_within(&id, tenant.as_deref())
        .await
        .map_err(super::guard::opaque)?;
    let checkpoint = match event.log_index {
        Some(index) => store.checkpoint_covering(index).await.map_err(super::guard::opaque)?,
        None => None,
    };
    Ok(EventDetail::new(event, checkpoint.as_ref()))
}
