//! The detail dialog of the event named by `event=` in the URL: every field whole, details pretty-printed,
//! and a Field / Before / After table when `details.changes` exists.

use leptos::prelude::*;
use serde_json::Value;

use super::{href_for, query_navigator};
use crate::{
    api::get_event,
    model::{AuditQuery, EventView, FieldError},
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
    let navigate = query_navigator();
    let handle = window_event_listener(leptos::ev::keydown, move |ev| {
        if ev.key() == "Escape" && id.get_untracked().is_some() {
            let q = query.get_untracked().unwrap_or_default();
            navigate(&AuditQuery { event: None, ..q }.to_query_string());
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
fn Dialog(view: EventView, close_href: String) -> impl IntoView {
    let integrity = view.integrity();
    let event = view.event;
    let changes = event.changes();
    let pretty = serde_json::to_string_pretty(&event.details).unwrap_or_default();
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Null => "—".into(),
        other => other.to_string(),
    };
    let diff = (!changes.is_empty()).then(|| {
        let rows = changes
            .iter()
            .map(|(field, from, to)| {
                view! { <tr><th scope="row">{field.clone()}</th><td class="before">{text(from)}</td><td class="after">{text(to)}</td></tr> }
            })
            .collect_view();
        view! {
            <table class="diff" aria-label="Changes">
                <thead><tr><th scope="col">"Field"</th><th scope="col">"Before"</th><th scope="col">"After"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        }
    });
    let target = event.target.clone();
    let field = |name: &'static str, value: Option<String>| value.map(|v| view! { <dt>{name}</dt><dd>{v}</dd> });
    view! {
        <div class="dialog-backdrop">
            <div role="dialog" aria-modal="true" aria-labelledby="event-details-title" class="dialog">
                <div class="dialog-head">
                    <h2 id="event-details-title">"Event details"</h2>
                    <a role="button" class="button secondary" href=close_href>"Close"</a>
                </div>
                <dl class="fields">
                    {field("ID", Some(event.id.clone()))}
                    {field("Timestamp", Some(event.timestamp.clone()))}
                    {field("Received", Some(event.received_at.clone()))}
                    {field("Action", Some(event.action.clone()))}
                    {field("Outcome", Some(event.outcome.as_str().to_string()))}
                    {field("Actor type", Some(event.actor.kind.as_str().to_string()))}
                    {field("Actor ID", event.actor.id.clone())}
                    {field("Actor name", event.actor.name.clone())}
                    {field("Actor email", event.actor.email.clone())}
                    {field("Target type", target.as_ref().map(|t| t.kind.clone()))}
                    {field("Target ID", target.as_ref().and_then(|t| t.id.clone()))}
                    {field("Target name", target.as_ref().and_then(|t| t.name.clone()))}
                    {field("Source", Some(event.source.clone()))}
                    {field("IP address", event.ip.clone())}
                    {field("User agent", event.user_agent.clone())}
                    {field("Recorded by", event.recorded_by.as_ref().map(|r| r.label()))}
                    {field("Integrity", Some(integrity))}
                </dl>
                {diff}
                <h3>"Details"</h3>
                <pre class="json">{pretty}</pre>
            </div>
        </div>
    }
    .into_any()
}
