//! First / Previous / Next / Last page and `Page N of M`: links that work without the WASM, shown as buttons.

use leptos::prelude::*;

use super::href_for;
use crate::model::{AuditQuery, EventPage, page::thousands};

#[component]
pub fn Pager(q: AuditQuery, page: EventPage) -> impl IntoView {
    let count = page.page_count();
    let current = u64::from(q.page);
    // When the total is a lower bound (a free-text search counted to 10,000), there may be more pages.
    let more = page.total_is_lower_bound;
    let plus = if more { "+" } else { "" };
    let link = move |label: &'static str, target: u64, enabled: bool| {
        let href = enabled.then(|| {
            let page = u32::try_from(target).unwrap_or(u32::MAX);
            href_for(&AuditQuery {
                page,
                cursor: None,
                event: None,
                ..q.clone()
            })
        });
        view! {
            <a role="button" class="button pager-button" href=href aria-disabled=(!enabled).then_some("true")>{label}</a>
        }
    };
    view! {
        <nav class="pager" aria-label="Pagination">
            {link("First page", 1, current > 1)}
            {link("Previous page", current.saturating_sub(1).max(1), current > 1)}
            <span class="page-of">{format!("Page {} of {}{plus}", thousands(current), thousands(count))}</span>
            {link("Next page", current + 1, current < count || (more && page.entries.len() == page.page_size as usize))}
            {link("Last page", count, current < count && !more)}
        </nav>
    }
    .into_any()
}
