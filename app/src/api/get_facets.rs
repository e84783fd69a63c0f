use leptos::prelude::*;

use crate::model::AppError;

use crate::model::Facets;

/// What the filter menus offer.
#[server(input = leptos::server_fn::codec::GetUrl, prefix = "/api/fn", endpoint = "get_facets")]
pub async fn get_facets() -> Result<Facets, AppError> {
    let store = super::guard::audit_reader().await?;
    store.facets().await.map_err(super::guard::opaque)
}
