//! Export: a plain GET form to the export endpoint, so the browser's own download takes every event that
//! matches the current filters (not only the visible page).

use leptos::prelude::*;

use crate::model::AuditQuery;

#[component]
pub fn ExportForm(q: AuditQuery) -> impl IntoView {
    let hidden = q
        .filters_only()
        .to_pairs()
        .into_iter()
        .filter(|(k, _)| !matches!(*k, "page" | "page_size" | "cursor" | "event"))
        .map(|(k, v)| view! { <input type="hidden" name=k value=v/> })
        .collect_view();
    view! {
        <form class="export" method="get" action=crate::base_path().join("/api/v1/events/export")>
            {hidden}
            <label for="audit-export-format">"Export format"</label>
            <select id="audit-export-format" name="format">
                <option value="csv">"CSV"</option>
                <option value="jsonl">"JSONL"</option>
            </select>
            <button type="submit">"Export"</button>
        </form>
    }
}
