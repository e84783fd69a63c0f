//! The Settings tab's `Webhooks` section (admins): `Add endpoint` (its secret shown once), and each
//! endpoint with its state, `Send test event`, `Rotate secret`, `Disable`/`Enable`, `Remove`, `Replay from`, and
//! its recent deliveries.

use leptos::{form::ActionForm, prelude::*};

use crate::{
    api::{
        AddWebhook, RemoveWebhook, ReplayWebhook, RotateWebhookSecret, SendTestEvent, SetWebhookEnabled, WebhookEntry,
        list_webhooks,
    },
    model::webhook::{Delivery, WebhookFormat, WebhookState},
};

/// The actions of one endpoint's buttons, shared by every row.
#[derive(Clone, Copy)]
struct Actions {
    enable: ServerAction<SetWebhookEnabled>,
    remove: ServerAction<RemoveWebhook>,
    rotate: ServerAction<RotateWebhookSecret>,
    test: ServerAction<SendTestEvent>,
    replay: ServerAction<ReplayWebhook>,
}

#[component]
pub fn Webhooks() -> impl IntoView {
    let add = ServerAction::<AddWebhook>::new();
    let actions = Actions {
        enable: ServerAction::new(),
        remove: ServerAction::new(),
        rotate: ServerAction::new(),
        test: ServerAction::new(),
        replay: ServerAction::new(),
    };
    let endpoints = Resource::new(
        move || {
            (
                add.version().get(),
                actions.enable.version().get(),
                actions.remove.version().get(),
                actions.rotate.version().get(),
                actions.test.version().get(),
                actions.replay.version().get(),
            )
        },
        |_| async move { list_webhooks().await.unwrap_or_default() },
    );
    view! {
        <h2>"Webhooks"</h2>
        <Outcomes add actions/>
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
                entries.into_iter().map(|entry| view! { <Endpoint entry actions/> }).collect_view().into_any()
            })}
        </Suspense>
    }
}

/// What the last action said: a secret shown once, a test's result, or an error.
#[component]
fn Outcomes(add: ServerAction<AddWebhook>, actions: Actions) -> impl IntoView {
    let secret = |title: &'static str, r: Option<Result<String, crate::model::AppError>>| {
        r.map(|r| match r {
            Ok(secret) => view! {
                <div class="notice" role="status">
                    <p>{title}" Its signing secret is shown only this once: give it to the receiver now."</p>
                    <code class="token" aria-label="Signing secret">{secret}</code>
                </div>
            }
            .into_any(),
            Err(e) => view! { <p role="alert" class="error">{e.to_string()}</p> }.into_any(),
        })
    };
    let tested = move || {
        actions.test.value().get().map(|r| match r {
            Ok(d) if d.succeeded() => view! { <p role="status">{format!("Test event delivered: HTTP {} in {} ms.", d.status.unwrap_or(0), d.latency_ms)}</p> }.into_any(),
            Ok(d) => view! { <p role="alert" class="error">{format!("Test event failed: {}.", d.error.unwrap_or_default())}</p> }.into_any(),
            Err(e) => view! { <p role="alert" class="error">{e.to_string()}</p> }.into_any(),
        })
    };
    let failed = move || {
        [
            actions.enable.value().get().and_then(Result::err),
            actions.remove.value().get().and_then(Result::err),
            actions.replay.value().get().and_then(Result::err),
        ]
        .into_iter()
        .flatten()
        .map(|e| view! { <p role="alert" class="error">{e.to_string()}</p> })
        .collect_view()
    };
    view! {
        {move || secret("Endpoint added.", add.value().get())}
        {move || secret("Secret rotated; the previous one signs too for 24 hours.", actions.rotate.value().get())}
        {tested}
        {failed}
    }
}

#[component]
fn Endpoint(entry: WebhookEntry, actions: Actions) -> impl IntoView {
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
                <ActionForm action=actions.test attr:class="inline">
                    {id_field(for_test)}
                    <button type="submit" class="secondary">"Send test event"</button>
                </ActionForm>
                <ActionForm action=actions.rotate attr:class="inline">
                    {id_field(for_rotate)}
                    <button type="submit" class="secondary">"Rotate secret"</button>
                </ActionForm>
                <ActionForm action=actions.enable attr:class="inline">
                    {id_field(for_enable)}
                    <input type="hidden" name="enabled" value=(!enabled).to_string()/>
                    <button type="submit" class="secondary">{if enabled { "Disable" } else { "Enable" }}</button>
                </ActionForm>
                <ActionForm action=actions.remove attr:class="inline">
                    {id_field(for_remove)}
                    <button type="submit" class="secondary">"Remove"</button>
                </ActionForm>
                <ActionForm action=actions.replay attr:class="inline">
                    {id_field(for_replay)}
                    <label for=format!("replay-{}", w.id)>"Replay from (UTC)"</label>
                    <input id=format!("replay-{}", w.id) type="datetime-local" name="from" required/>
                    <button type="submit" class="secondary">"Replay from"</button>
                </ActionForm>
            </div>
            <Deliveries url deliveries/>
        </section>
    }
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
