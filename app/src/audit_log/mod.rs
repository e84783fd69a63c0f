//! The Audit Log tab: one self-contained module a host app mounts at a path of its choosing. All of its
//! state lives in the URL's query string, so it never assumes it owns the page's path.

mod event_detail;
mod event_table;
mod export;
mod filter_bar;
mod local_time;
mod menus;
mod pager;
mod timers;
mod verify_log;
mod views;

use leptos::prelude::*;

use crate::{
    api::{get_facet_counts, get_facets, list_events},
    model::{AppError, AuditQuery, EventPage, FacetCounts, Facets, page::thousands},
    use_address,
};

/// How often `Auto-refresh` reloads the table.
const AUTO_REFRESH_MS: u32 = 10_000;

/// The tab. Reads its state from the URL and renders it; every control changes the URL.
#[component]
pub fn AuditLogTab() -> impl IntoView {
    let address = use_address();
    let query = Memo::new(move |_| AuditQuery::from_query_string(&address.query()));
    let page = Resource::new(
        move || query.get(),
        |q| async move {
            match q {
                Ok(q) => list_events(q).await.map_err(|e| error_text(&e)),
                Err(e) => Err(e.to_string()),
            }
        },
    );
    let facets = Resource::new(|| (), |_| async move { get_facets().await.unwrap_or_default() });
    // The menus' live counts follow the filters, not the page, the sort or the open detail. They are
    // counted for the browser only: the server renders the menus without them, so that the page never waits
    // for them, and the hydrated tab asks for them at once (below).
    let counts = Resource::new(
        move || query.get().ok().map(|q| q.filters_key()),
        |key| async move {
            if cfg!(feature = "ssr") {
                return None;
            }
            let q = AuditQuery::from_query_string(&key?).ok()?;
            get_facet_counts(q).await.ok().flatten()
        },
    );
    Effect::new(move |_| counts.refetch());
    let loading = ArcRwSignal::new(false);
    let pending = RwSignal::from(loading.clone());
    // Auto-refresh lives in the URL (`refresh=1`), like every other part of the view: a reload keeps it.
    let auto_refresh = Memo::new(move |_| query.get().is_ok_and(|q| q.auto_refresh));
    let set_auto_refresh = refresh_switch(query);
    // The interval lives in the effect's own state (effects run only in the browser): each run drops the
    // previous one (when `_previous` goes out of scope), which stops it.
    Effect::new(move |_previous: Option<Option<timers::Interval>>| {
        auto_refresh
            .get()
            .then(|| timers::Interval::new(AUTO_REFRESH_MS, move || page.refetch()))
    });

    view! {
        <section class="audit-log" on:click=move |ev| follow_in_place(ev, address)>
            <div class="audit-log-head">
                <h1>"Audit Log"</h1>
                <verify_log::VerifyLog/>
                <label class="auto-refresh">
                    <input type="checkbox" prop:checked=auto_refresh on:change=move |ev| set_auto_refresh(event_target_checked(&ev))/>
                    "Auto-refresh"
                </label>
            </div>
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> } set_pending=pending_setter(loading)>
                {move || Suspend::new(async move {
                    let facets = facets.await;
                    let counts = counts.await;
                    let result = page.await;
                    let q = query.get().unwrap_or_default();
                    view! { <Results q facets counts result pending retry=move || page.refetch()/> }
                })}
            </Transition>
            <event_detail::EventDetail query/>
        </section>
    }
}

/// The filters, the summary, the table and the pager for one loaded page (or its error).
#[component]
fn Results(
    q: AuditQuery,
    facets: Facets,
    counts: Option<FacetCounts>,
    result: Result<EventPage, String>,
    pending: RwSignal<bool>,
    retry: impl Fn() + Send + Sync + Copy + 'static,
) -> impl IntoView {
    let body = match result {
        Ok(page) => {
            let summary = summary_text(&page);
            let exact = page.total_is_lower_bound.then(|| {
                let href = href_for(&AuditQuery {
                    exact_count: true,
                    ..q.clone()
                });
                view! { <a class="button small" role="button" href=href>"Count exactly"</a> }
            });
            view! {
                <p class="summary-line"><span role="status" class="summary">{summary}</span>{exact}</p>
                <event_table::EventTable q=q.clone() page=page.clone() facets=facets.clone()/>
                <pager::Pager q=q.clone() page/>
            }
            .into_any()
        }
        Err(message) => view! {
            <div class="error" role="alert">
                <p>"The audit log could not be loaded: " {message}</p>
                <button type="button" on:click=move |_| retry()>"Retry"</button>
            </div>
        }
        .into_any(),
    };
    let facets = views::facets_of(q.view, facets);
    view! {
        <views::ViewTabs q=q.clone()/>
        <filter_bar::FilterBar q=q.clone() facets counts/>
        <export::ExportForm q/>
        <div class="results" class:pending=move || pending.get()>{body}</div>
    }
    .into_any()
}

fn summary_text(page: &EventPage) -> String {
    if page.total == 0 || page.entries.is_empty() {
        return "No events match these filters".into();
    }
    let first = u64::from(page.page.saturating_sub(1)) * u64::from(page.page_size) + 1;
    let last = first + page.entries.len() as u64 - 1;
    // A search that stopped counting says so, as the pager does: "10,000+".
    let more = if page.total_is_lower_bound { "+" } else { "" };
    format!(
        "Showing {}–{} of {}{more} events",
        thousands(first),
        thousands(last),
        thousands(page.total)
    )
}

fn error_text(e: &AppError) -> String {
    match e.error.code.as_str() {
        "unreachable" | "invalid_response" => "the server could not be reached".into(),
        _ => e.message().to_string(),
    }
}

/// The tab's links (`?…`: the pager, sorting, details, chips) change the query in place, without loading the
/// page again; a click that asks for more (a new tab or window) is left to the browser. The listener is on the
/// tab's own element (Leptos attaches events to their element unless built with its `delegation` feature), so
/// it runs before a host's router, which listens on the window, would handle the same click. A page of the
/// pager starts at its top, as a loaded page would: the tab is scrolled back into view when its top is above.
fn follow_in_place(ev: leptos::ev::MouseEvent, address: crate::Address) {
    use leptos::wasm_bindgen::JsCast;
    if ev.default_prevented() || ev.button() != 0 || ev.ctrl_key() || ev.meta_key() || ev.shift_key() || ev.alt_key() {
        return;
    }
    let link = ev
        .target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        .and_then(|el| el.closest("a[href^='?']").ok().flatten());
    let Some((link, href)) = link.and_then(|a| a.get_attribute("href").map(|href| (a, href))) else {
        return;
    };
    ev.prevent_default();
    address.go(&href[1..], false);
    let paged = link.closest("nav.pager").ok().flatten().is_some();
    let tab = ev.current_target().and_then(|t| t.dyn_into::<web_sys::Element>().ok());
    if let Some(tab) = tab.filter(|tab| paged && tab.get_bounding_client_rect().top() < 0.0) {
        tab.scroll_into_view();
    }
}

/// Turns auto-refresh on or off by replacing the URL's state (not a new history entry). Call it while
/// rendering; call what it returns from handlers.
fn refresh_switch(query: Memo<Result<AuditQuery, crate::model::FieldError>>) -> impl Fn(bool) + Clone + 'static {
    let address = use_address();
    move |on: bool| {
        let Ok(q) = query.get_untracked() else { return };
        address.go(&AuditQuery { auto_refresh: on, ..q }.to_query_string(), true);
    }
}

/// Where the `Transition` reports that a new page is loading. It may report after the page is gone (a
/// server-rendered response already sent, its owner disposed): the setter then does nothing.
///
/// The signal is reference-counted, not kept in the reactive arena, on purpose: the setter runs while the
/// arena is read-locked, and a second read of it there (an arena signal's `set`) waits behind any thread
/// that is about to write to it (disposing a finished request's owner). That froze the whole server.
fn pending_setter(loading: ArcRwSignal<bool>) -> SignalSetter<bool> {
    SignalSetter::map(move |now| loading.set(now))
}

/// `?query` for a link that shows the given state.
pub(crate) fn href_for(q: &AuditQuery) -> String {
    format!("?{}", q.to_query_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::EventRow;

    fn page(total: u64, total_is_lower_bound: bool) -> EventPage {
        let row = EventRow {
            id: "01JB8Q4K7N2X5S3V9T0R1C6M2D".into(),
            timestamp: "2026-12-04T00:00:00.000Z".into(),
            action: "user.create".into(),
            outcome: "success".into(),
            actor_type: "user".into(),
            actor_id: None,
            actor_name: None,
            actor_email: None,
            target_type: None,
            target_id: None,
            target_name: None,
            source: "api".into(),
            ip: None,
            browser: None,
            summary: String::new(),
        };
        EventPage {
            entries: vec![row; 50],
            total,
            total_is_lower_bound,
            page: 2,
            page_size: 50,
            next_cursor: None,
        }
    }

    #[test]
    fn the_status_line_says_when_a_total_is_only_a_lower_bound() {
        assert_eq!(summary_text(&page(10_000, true)), "Showing 51–100 of 10,000+ events");
        assert_eq!(summary_text(&page(1_234, false)), "Showing 51–100 of 1,234 events");
    }
}
