use leptos::prelude::*;

use crate::model::AppError;

use crate::model::Event;

/// One whole event, for the detail dialog.
#[server(input = leptos::server_fn::codec::GetUrl, prefix = "/api/fn", endpoint = "get_event")]
pub async fn get_event(id: String) -> Result<Event, AppError> {
    let store = super::guard::audit_reader().await?;
    store.get(&id).await.map_err(super::guard::opaque)
}
