//! The detail dialog of the event named by `event=` in the URL: every field whole, details pretty-printed,
//! and a Field / Before / After table when `details.changes` exists (as the server wrote them: `EventDetail`).

use leptos::prelude::*;

use super::href_for;
use crate::{
    api::get_event,
    model::{AuditQuery, EventDetail, FieldError},
    use_address,
};

#[component]
pub fn EventDetail(query: Memo<Result<AuditQuery, FieldError>>) -> impl IntoView {
    let id = Memo::new(move |_| query.get().ok().and_then(|q| q.event));
    let event = Resource::new(
        move || id.get(),
        |id| async move {
            match id {
                Some(id) => get_event(id).await.map(Some).map_err(|e| e.to_string()),
                None => Ok(None),
            }
        },
    );
    let close_href = move || {
        let q = query.get().unwrap_or_default();
        href_for(&AuditQuery { event: None, ..q })
    };
    let address = use_address();
    let handle = window_event_listener(leptos::ev::keydown, move |ev| {
        if ev.key() == "Escape" && id.get_untracked().is_some() {
            let q = query.get_untracked().unwrap_or_default();
            address.go(&AuditQuery { event: None, ..q }.to_query_string(), false);
        }
    });
    on_cleanup(move || handle.remove());

    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match event.await {
                    Ok(Some(e)) => Some(view! { <Dialog view=e close_href=close_href()/> }.into_any()),
                    Ok(None) => None,
                    Err(message) => Some(view! {
                        <div class="dialog-backdrop">
                            <div role="dialog" aria-modal="true" aria-labelledby="event-details-title" class="dialog">
                                <h2 id="event-details-title">"Event details"</h2>
                                <p class="error">{message}</p>
                                <a role="button" class="button" href=close_href()>"Close"</a>
                            </div>
                        </div>
                    }.into_any()),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Dialog(view: EventDetail, close_href: String) -> impl IntoView {
    let diff = (!view.changes.is_empty()).then(|| {
        let rows = view
            .changes
            .into_iter()
            .map(|(field, from, to)| {
                view! { <tr><th scope="row">{field}</th><td class="before">{from}</td><td class="after">{to}</td></tr> }
            })
            .collect_view();
        view! {
            <table class="diff" aria-label="Changes">
                <thead><tr><th scope="col">"Field"</th><th scope="col">"Before"</th><th scope="col">"After"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        }
    });
    let fields = view
        .fields
        .into_iter()
        .map(|(label, value)| view! { <dt>{label}</dt><dd>{value}</dd> })
        .collect_view();
    view! {
        <div class="dialog-backdrop">
            <div role="dialog" aria-modal="true" aria-labelledby="event-details-title" class="dialog">
                <div class="dialog-head">
                    <h2 id="event-details-title">"Event details"</h2>
                    <a role="button" class="button secondary" href=close_href>"Close"</a>
                </div>
                <dl class="fields">{fields}</dl>
                {diff}
                <h3>"Details"</h3>
                <pre class="json">{view.details}</pre>
            </div>
        </div>
    }
    .into_any()
}
