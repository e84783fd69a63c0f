//! The Settings tab's `Webhooks` section (admins): `Add endpoint` (its secret shown once), and each
//! endpoint with its state, `Send test event`, `Rotate secret`, `Disable`/`Enable`, `Remove`, `Replay from`, and
//! its recent deliveries.

use leptos::{form::ActionForm, prelude::*};

use crate::{
    api::{AddWebhook, WebhookAction, WebhookEntry, WebhookOutcome, list_webhooks},
    model::webhook::{Delivery, WebhookFormat, WebhookState},
};

#[component]
pub fn Webhooks() -> impl IntoView {
    let add = ServerAction::<AddWebhook>::new();
    // Every button of every endpoint goes through this one action (`act` names the button).
    let act = ServerAction::<WebhookAction>::new();
    let endpoints = Resource::new(
        move || (add.version().get(), act.version().get()),
        |_| async move { list_webhooks().await.unwrap_or_default() },
    );
    view! {
        <h2>"Webhooks"</h2>
        <Outcomes add act/>
        <details class="add-webhook">
            <summary role="button">"Add endpoint"</summary>
            <ActionForm action=add attr:class="stack webhook-form" attr:aria-label="Add a webhook endpoint">
                <label for="webhook-url">"URL"</label>
                <input id="webhook-url" type="url" name="url" required placeholder="https://siem.example.com/hooks/audit"/>
                <label for="webhook-description">"Description"</label>
                <input id="webhook-description" type="text" name="description"/>
                <label for="webhook-actions">"Actions"</label>
                <textarea id="webhook-actions" name="actions" rows="3" aria-describedby="webhook-actions-help">"*"</textarea>
                <small id="webhook-actions-help">"One pattern per line: * for every event, auth.* for a category, user.delete for an action."</small>
                <label for="webhook-outcome">"Outcome"</label>
                <select id="webhook-outcome" name="outcome">
                    <option value="any">"Any"</option>
                    <option value="success">"Success"</option>
                    <option value="failure">"Failure"</option>
                </select>
                <label for="webhook-format">"Format"</label>
                <select id="webhook-format" name="format">
                    <option value="standard">"Standard Webhooks (JSON)"</option>
                    <option value="chat">"Chat message (Slack-compatible)"</option>
                </select>
                <label class="check"><input type="checkbox" name="enabled" value="on" checked/>"Enabled"</label>
                <button type="submit">"Save"</button>
            </ActionForm>
        </details>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let entries = endpoints.await;
                if entries.is_empty() {
                    return view! { <p>"No webhook endpoint yet."</p> }.into_any();
                }
                entries.into_iter().map(|entry| view! { <Endpoint entry act/> }).collect_view().into_any()
            })}
        </Suspense>
    }
}

/// What the last action said: a secret shown once, a test's result, or an error.
#[component]
fn Outcomes(add: ServerAction<AddWebhook>, act: ServerAction<WebhookAction>) -> impl IntoView {
    let failed = |e: crate::model::AppError| view! { <p role="alert" class="error">{e.to_string()}</p> }.into_any();
    let secret = |title: &'static str, secret: String| {
        view! {
            <div class="notice" role="status">
                <p>{title}" Its signing secret is shown only this once: give it to the receiver now."</p>
                <code class="token" aria-label="Signing secret">{secret}</code>
            </div>
        }
        .into_any()
    };
    let added = move || {
        add.value().get().map(|r| match r {
            Ok(s) => secret("Endpoint added.", s),
            Err(e) => failed(e),
        })
    };
    let acted = move || {
        act.value().get().map(|r| match r {
            Ok(WebhookOutcome::Rotated(s)) => secret("Secret rotated; the previous one signs too for 24 hours.", s),
            Ok(WebhookOutcome::Tested(d)) if d.succeeded() => view! {
                <p role="status">{format!("Test event delivered: HTTP {} in {} ms.", d.status.unwrap_or(0), d.latency_ms)}</p>
            }
            .into_any(),
            Ok(WebhookOutcome::Tested(d)) => view! {
                <p role="alert" class="error">{format!("Test event failed: {}.", d.error.unwrap_or_default())}</p>
            }
            .into_any(),
            Ok(WebhookOutcome::Done(what)) => view! { <p role="status">{what}</p> }.into_any(),
            Err(e) => failed(e),
        })
    };
    view! { {added} {acted} }
}

#[component]
fn Endpoint(entry: WebhookEntry, act: ServerAction<WebhookAction>) -> impl IntoView {
    let w = entry.webhook;
    let url = w.settings.url.clone();
    let id = w.id.clone();
    let state = match (&w.state, &w.disabled_reason, &w.last_error) {
        (WebhookState::Disabled, Some(reason), _) => format!("Disabled: {reason}"),
        (WebhookState::Retrying, _, Some(error)) => format!("Retrying: {error}"),
        (state, _, _) => state.label().to_string(),
    };
    let format = match w.settings.format {
        WebhookFormat::Standard => "Standard Webhooks",
        WebhookFormat::Chat => "Chat message",
    };
    let enabled = w.settings.enabled;
    // Each form's hidden `id`, made from its own copy (a form's children own what they show).
    let id_field = |id: String| view! { <input type="hidden" name="id" value=id/> };
    let [for_test, for_rotate, for_enable, for_remove, for_replay] = [(); 5].map(|_| id.clone());
    let deliveries = entry.deliveries;
    let label = format!("Webhook {url}");
    view! {
        <section class="webhook" aria-label=label>
            <h3>{url.clone()}</h3>
            <dl class="fields">
                <dt>"State"</dt><dd class="webhook-state">{state}</dd>
                <dt>"Description"</dt><dd>{w.settings.description.clone()}</dd>
                <dt>"Actions"</dt><dd>{w.settings.actions.join(", ")}</dd>
                <dt>"Outcome"</dt><dd>{w.settings.outcome.as_str()}</dd>
                <dt>"Format"</dt><dd>{format}</dd>
            </dl>
            <div class="buttons">
                {button(act, for_test, "test", "Send test event")}
                {button(act, for_rotate, "rotate", "Rotate secret")}
                {if enabled { button(act, for_enable, "disable", "Disable") } else { button(act, for_enable, "enable", "Enable") }}
                {button(act, for_remove, "remove", "Remove")}
                <ActionForm action=act attr:class="inline">
                    {id_field(for_replay)}
                    <input type="hidden" name="act" value="replay"/>
                    <label for=format!("replay-{}", w.id)>"Replay from (UTC)"</label>
                    <input id=format!("replay-{}", w.id) type="datetime-local" name="from" required/>
                    <button type="submit" class="secondary">"Replay from"</button>
                </ActionForm>
            </div>
            <Deliveries url deliveries/>
        </section>
    }
}

/// One of an endpoint's buttons: a form of its own that sends `act`.
fn button(act: ServerAction<WebhookAction>, id: String, what: &'static str, label: &'static str) -> AnyView {
    view! {
        <ActionForm action=act attr:class="inline">
            <input type="hidden" name="id" value=id/>
            <input type="hidden" name="act" value=what/>
            <button type="submit" class="secondary">{label}</button>
        </ActionForm>
    }
    .into_any()
}

#[component]
fn Deliveries(url: String, deliveries: Vec<Delivery>) -> impl IntoView {
    if deliveries.is_empty() {
        return view! { <p>"No delivery yet."</p> }.into_any();
    }
    let rows = deliveries
        .into_iter()
        .map(|d| {
            view! {
                <tr>
                    <td><code>{d.event_id.clone()}</code></td>
                    <td>{d.attempt}</td>
                    <td>{d.at.replace('T', " ").trim_end_matches('Z').to_string()}</td>
                    <td>{d.status.map(|s| s.to_string()).unwrap_or_default()}</td>
                    <td>{format!("{} ms", d.latency_ms)}</td>
                    <td>{d.error.clone().unwrap_or_default()}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="simple" aria-label=format!("Deliveries to {url}")>
            <thead><tr><th>"Event"</th><th>"Attempt"</th><th>"Time (UTC)"</th><th>"HTTP status"</th><th>"Latency"</th><th>"Error"</th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}
