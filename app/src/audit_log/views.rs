//! The log's views as tabs: every event, the sign-ins, the activity besides them. Each is a link to the same
//! filters in another view (from its first page), so they work before the WASM arrives.

use leptos::prelude::*;

use super::href_for;
use crate::model::{AuditQuery, Facets, LogView};

#[component]
pub fn ViewTabs(q: AuditQuery) -> impl IntoView {
    let tabs = LogView::ALL
        .into_iter()
        .map(|view| {
            let selected = q.view == view;
            let href = href_for(&AuditQuery {
                view,
                page: 1,
                cursor: None,
                event: None,
                ..q.clone()
            });
            view! {
                <a role="tab" class="view-tab" aria-selected=if selected { "true" } else { "false" } href=href>
                    {view.label()}
                </a>
            }
        })
        .collect_view();
    view! { <div role="tablist" aria-label="Log views" class="view-tabs">{tabs}</div> }
}

/// What the filter menus offer within `view`: its categories only.
pub fn facets_of(view: LogView, facets: Facets) -> Facets {
    Facets {
        categories: facets
            .categories
            .into_iter()
            .filter(|c| view.holds_category(&c.category))
            .collect(),
        ..facets
    }
}
