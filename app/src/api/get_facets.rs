use leptos::prelude::*;

use crate::model::AppError;

use crate::model::{AuditQuery, FacetCounts, Facets};

/// What the filter menus offer.
#[server(output = crate::api::Answer, input = leptos::server_fn::codec::GetUrl, prefix = "/api/fn", endpoint = "get_facets")]
pub async fn get_facets() -> Result<Facets, AppError> {
    let (store, tenant) = super::guard::audit_reader().await?;
    store.facets(tenant.as_deref()).await.map_err(super::guard::opaque)
}

/// How many events each option of the menus would give with the query's other filters (`None` for a search,
/// whose menus show no counts).
#[server(output = crate::api::Answer, input = leptos::server_fn::codec::GetUrl, prefix = "/api/fn", endpoint = "get_facet_counts")]
pub async fn get_facet_counts(query: AuditQuery) -> Result<Option<FacetCounts>, AppError> {
    let (store, tenant) = super::guard::audit_reader().await?;
    store
        .facet_counts(&query.within(tenant.as_deref()))
        .await
        .map_err(super::guard::opaque)
}
