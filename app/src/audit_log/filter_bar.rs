//! The filters: a plain GET form, so they work before (and without) the WASM. Once hydrated, a change to any
//! control applies at once, the search box after a short pause, and the URL is updated without a reload.

use leptos::{html, prelude::*, wasm_bindgen::JsCast};

use std::time::Duration;

use super::{href_for, local_time, menus};
use crate::{
    model::{ActorType, AuditQuery, FacetCounts, Facets, Outcome, TimeRange, Zone, query::TimeBound, syntax, time},
    use_address,
};

const SEARCH_DEBOUNCE_MS: u64 = 300;

#[component]
pub fn FilterBar(q: AuditQuery, facets: Facets, counts: Option<FacetCounts>) -> impl IntoView {
    let form = NodeRef::<html::Form>::new();
    let address = use_address();
    let pending_search = StoredValue::new(None::<TimeoutHandle>);
    // A mistake in the search syntax, shown under the box; nothing is sent while there is one.
    let syntax_error = RwSignal::new(None::<Mistake>);
    let submit = move || {
        if let Some(form) = form.get_untracked() {
            let _ = form.request_submit();
        }
    };
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if let Some(handle) = pending_search.get_value() {
            handle.clear();
        }
        if let Some(form) = form.get_untracked() {
            match form_query_string(&form) {
                Ok(qs) => {
                    syntax_error.set(None);
                    address.go(&qs, false);
                }
                Err(message) => syntax_error.set(Some(message)),
            }
        }
    };
    let on_change = move |ev: leptos::ev::Event| {
        let Some(target) = ev.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) else {
            return;
        };
        match target.id().as_str() {
            // The search box applies after a pause in typing (`on_search_input`).
            "audit-q" => {}
            // `Custom` waits for From and To; a preset replaces them.
            "audit-range" => match select_value("audit-range").as_str() {
                RANGE_CUSTOM => focus("audit-from"),
                _ => {
                    set_control("audit-from", "");
                    set_control("audit-to", "");
                    submit();
                }
            },
            "audit-from" | "audit-to" => {
                set_control("audit-range", RANGE_CUSTOM);
                submit();
            }
            _ => submit(),
        }
    };
    let on_search_input = move |_| {
        if let Some(handle) = pending_search.get_value() {
            handle.clear();
        }
        let handle = set_timeout_with_handle(submit, Duration::from_millis(SEARCH_DEBOUNCE_MS));
        pending_search.set_value(handle.ok());
    };

    // Once hydrated, every control shows the URL's state, also after Back and Forward (a control the user
    // changed would otherwise keep its own value when the URL goes back).
    let shown = q.clone();
    Effect::new(move |_| show_state(&shown));
    let selected_action = action_value(&q);
    let action_groups = menus::action_groups(&facets, counts.as_ref(), &selected_action);
    let actor_options = menus::actor_options(&facets);

    let page_sizes = menus::page_size_options(q.page_size);
    let cleared = AuditQuery {
        view: q.view,
        zone: q.zone,
        page_size: q.page_size,
        auto_refresh: q.auto_refresh,
        embed: q.embed,
        ..AuditQuery::new()
    };

    view! {
        <form class="filters" method="get" node_ref=form on:submit=on_submit on:change=on_change>
            <div class="field search-field">
                <label for="audit-q">"Search"</label>
                <input id="audit-q" type="search" name="q" value=q.q.as_deref().map(syntax::text).unwrap_or_default()
                    placeholder="Search, or filter: action:mailbox.* outcome:failure created:>=2026-11-01"
                    autocomplete="off" aria-describedby="audit-q-error"
                    aria-invalid=move || if syntax_error.get().is_some() { "true" } else { "false" }
                    on:input=on_search_input/>
                {move || mistake_view(syntax_error.get())}
                {chips(&q)}
            </div>
            {select_field("audit-action", "Action", "action", "All actions", action_groups)}
            <div class="field">
                <label for="audit-actor">"Actor"</label>
                <input id="audit-actor" type="text" name="actor" list="audit-actor-options"
                    value=q.actor.clone().unwrap_or_default() placeholder="id, email or name" autocomplete="off"/>
                <datalist id="audit-actor-options">{actor_options}</datalist>
            </div>
            {choice_fields(&q, &facets, counts.as_ref())}
            {time_fields(&q)}
            <div class="field">
                <label for="audit-page-size">"Page size"</label>
                <select id="audit-page-size" name="page_size">{page_sizes}</select>
            </div>
            {hidden_fields(&q, &facets)}
            <div class="filter-actions">
                <button type="submit" class="apply">"Apply"</button>
                <a role="button" class="button secondary" href=href_for(&cleared)>"Clear filters"</a>
            </div>
        </form>
    }
    .into_any()
}

/// The selects of one value each: what was done whatever to (the verb), who did it (a person, a token, the
/// system), to what kind of target, how it ended, and on which server.
fn choice_fields(q: &AuditQuery, facets: &Facets, counts: Option<&FacetCounts>) -> impl IntoView + use<> {
    let target_options = menus::target_options(facets, counts, q.target_type.as_deref().unwrap_or_default());
    let source_options = menus::source_options(facets, counts, q.source.as_deref().unwrap_or_default());
    let verb_options = menus::verb_options(facets, counts, q.verb.as_deref().unwrap_or_default());
    let actor_type_options = menus::actor_type_options(counts, q.actor_type);
    let outcome = q.outcome;
    view! {
        {select_field("audit-verb", "Verb", "verb", "All verbs", verb_options)}
        <div class="field">
            <label for="audit-actor-type">"Actor type"</label>
            <select id="audit-actor-type" name="actor_type">{actor_type_options}</select>
        </div>
        {select_field("audit-target-type", "Target type", "target_type", "All types", target_options)}
        <div class="field">
            <label for="audit-outcome">"Outcome"</label>
            <select id="audit-outcome" name="outcome">{menus::outcome_options(outcome)}</select>
        </div>
        {select_field("audit-source", "Source", "source", "All sources", source_options)}
        {tenant_field(q, facets)}
    }
}

/// The Tenant select, for an admin of a log that has tenants (a viewer of one tenant is offered none: its
/// facets name no tenant).
fn tenant_field(q: &AuditQuery, facets: &Facets) -> Option<impl IntoView + use<>> {
    let selected = q.tenant.as_deref().unwrap_or_default();
    if facets.tenants.is_empty() {
        return None;
    }
    let options = menus::tenant_options(facets, selected);
    Some(select_field("audit-tenant", "Tenant", "tenant", "All tenants", options))
}

/// The select of one filter: `all` (the filter absent) first, then `options`.
fn select_field(
    id: &'static str,
    label: &'static str,
    name: &'static str,
    all: &'static str,
    options: impl IntoView + 'static,
) -> impl IntoView {
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <select id=id name=name>
                <option value="">{all}</option>
                {options}
            </select>
        </div>
    }
}

/// Hidden fields for what `q` holds that no control of the bar shows (the filters it has no control for yet,
/// the sort, auto-refresh), so that submitting the bar keeps them.
fn hidden_fields(q: &AuditQuery, facets: &Facets) -> impl IntoView + use<> {
    // Each value as the URL writes it (sort and order even at their defaults).
    let pairs = q.to_pairs();
    let written = |name: &str| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| v.clone());
    let kept = [
        ("view", written("view")),
        // The Action select shows a category only when no action is chosen.
        ("category", written("category").filter(|_| !q.actions.is_empty())),
        ("target_id", written("target_id")),
        ("ip", written("ip")),
        // Shown by the Tenant select only where the log has tenants to offer.
        ("tenant", written("tenant").filter(|_| facets.tenants.is_empty())),
        ("sort", Some(q.sort.as_str().to_string())),
        ("order", Some(q.order.as_str().to_string())),
        ("refresh", written("refresh")),
        ("embed", written("embed")),
    ];
    kept.into_iter()
        .filter_map(|(name, value)| value.map(|value| view! { <input type="hidden" name=name value=value/> }))
        .collect_view()
}

/// Sets each control of the form to `q`'s value (the browser only).
fn show_state(q: &AuditQuery) {
    set_control("audit-q", &q.q.as_deref().map(syntax::text).unwrap_or_default());
    set_control("audit-action", &action_value(q));
    set_control("audit-actor", q.actor.as_deref().unwrap_or(""));
    set_control("audit-verb", q.verb.as_deref().unwrap_or(""));
    set_control("audit-actor-type", q.actor_type.map_or("", ActorType::as_str));
    set_control("audit-target-type", q.target_type.as_deref().unwrap_or(""));
    set_control("audit-source", q.source.as_deref().unwrap_or(""));
    set_control("audit-tenant", q.tenant.as_deref().unwrap_or(""));
    set_control("audit-outcome", q.outcome.map_or("", Outcome::as_str));
    set_control("audit-range", range_value(q));
    let shown_minute = |bound: &Option<TimeBound>| match q.zone {
        Zone::Utc => minute_of(bound),
        Zone::Local => bound.as_ref().map(|b| local_time::minute(b.millis)).unwrap_or_default(),
    };
    set_control("audit-from", &shown_minute(&q.from));
    set_control("audit-to", &shown_minute(&q.to));
    set_control("audit-tz", q.zone.as_str());
    set_control("audit-page-size", &q.page_size.to_string());
}

/// Sets the value of the form control with the id `id` (the browser only).
fn set_control(id: &str, value: &str) {
    let Some(element) = document().get_element_by_id(id) else {
        return;
    };
    match element.dyn_into::<web_sys::HtmlSelectElement>() {
        Ok(select) => select.set_value(value),
        Err(element) => {
            if let Ok(input) = element.dyn_into::<web_sys::HtmlInputElement>() {
                input.set_value(value);
            }
        }
    }
}

/// The value of the select with the id `id` (the browser only).
fn select_value(id: &str) -> String {
    document()
        .get_element_by_id(id)
        .and_then(|e| e.dyn_into::<web_sys::HtmlSelectElement>().ok())
        .map(|s| s.value())
        .unwrap_or_default()
}

fn focus(id: &str) {
    if let Some(input) = document()
        .get_element_by_id(id)
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = input.focus();
    }
}

/// What the Action select shows for `q`: its action, its whole category (`<category>.*`), or all.
fn action_value(q: &AuditQuery) -> String {
    match (q.actions.first(), &q.category) {
        (Some(action), _) => action.clone(),
        (None, Some(category)) => format!("{category}.*"),
        (None, None) => String::new(),
    }
}

/// The Time range select's value that stands for `from` and `to`.
const RANGE_CUSTOM: &str = "custom";

/// The time range: a preset that ends now, or `Custom` (`From` and `To`, with a time of day, in the time zone
/// the tab shows), and that time zone.
fn time_fields(q: &AuditQuery) -> impl IntoView + use<> {
    let chosen = range_value(q);
    let presets = TimeRange::ALL
        .into_iter()
        .map(|r| view! { <option value=r.as_str() selected=r.as_str() == chosen>{r.label()}</option> })
        .collect_view();
    view! {
        <div class="field">
            <label for="audit-range">"Time range"</label>
            <select id="audit-range" name="range">
                <option value="" selected=chosen.is_empty()>"Any time"</option>
                {presets}
                <option value=RANGE_CUSTOM selected=chosen == RANGE_CUSTOM>"Custom"</option>
            </select>
        </div>
        <div class="field">
            <label for="audit-from">"From"</label>
            <input id="audit-from" type="datetime-local" name="from" value=minute_of(&q.from)/>
        </div>
        <div class="field">
            <label for="audit-to">"To"</label>
            <input id="audit-to" type="datetime-local" name="to" value=minute_of(&q.to)/>
        </div>
        <div class="field">
            <label for="audit-tz">"Time zone"</label>
            <select id="audit-tz" name="tz">
                <option value="utc" selected=q.zone == Zone::Utc>"UTC"</option>
                <option value="local" selected=q.zone == Zone::Local>"Local"</option>
            </select>
        </div>
    }
}

/// What the Time range select shows for `q`: its preset, `custom` when it has `from` or `to`, or any time.
fn range_value(q: &AuditQuery) -> &'static str {
    match (q.range, q.from.is_some() || q.to.is_some()) {
        (Some(r), _) => r.as_str(),
        (None, true) => RANGE_CUSTOM,
        (None, false) => "",
    }
}

/// A time bound to the minute, UTC, as a `datetime-local` input shows it (`2026-11-01T08:30`).
fn minute_of(bound: &Option<TimeBound>) -> String {
    bound.as_ref().map(|b| time::input_minute(b.millis)).unwrap_or_default()
}

/// The form's fields as a canonical query string (defaults and empty fields dropped). With `tz=local`, `From`
/// and `To` are the browser's times: they go into the URL as the UTC instants they mean. A mistake in the
/// search syntax is the error (shown, nothing sent); any other is left for the server to name.
fn form_query_string(form: &web_sys::HtmlFormElement) -> Result<String, Mistake> {
    let raw = web_sys::FormData::new_with_form(form)
        .and_then(|data| web_sys::UrlSearchParams::new_with_str_sequence_sequence(&data))
        .map(|params| String::from(params.to_string()))
        .unwrap_or_default();
    match AuditQuery::from_query_string(&raw) {
        Ok(q) if q.zone == Zone::Local => Ok(in_utc(q).to_query_string()),
        Ok(q) => Ok(q.to_query_string()),
        Err(e) if e.field == "q" => {
            let text = search_text(&raw);
            Err(AuditQuery::new()
                .apply_search(&text)
                .err()
                .map_or((e.message, None), |e| (e.message, Some((text, e.position)))))
        }
        Err(_) => Ok(raw),
    }
}

/// The search box's text in a form's query string.
fn search_text(raw: &str) -> String {
    crate::model::query::decode_pairs(raw)
        .into_iter()
        .find(|(k, _)| k == "q")
        .map(|(_, v)| v)
        .unwrap_or_default()
}

/// A search mistake: what, and where (the text with a caret under the character), when known.
type Mistake = (String, Option<(String, usize)>);

/// The mistake under the search box: the message (announced), then the text with a caret at its position.
fn mistake_view(mistake: Option<Mistake>) -> impl IntoView {
    let (message, at) = match mistake {
        Some((message, at)) => (Some(message), at),
        None => (None, None),
    };
    let caret = at.map(|(text, position)| {
        let marker = format!("{}^", " ".repeat(position));
        view! { <pre class="syntax-at" aria-hidden="true">{text}"\n"{marker}</pre> }
    });
    // Present only while there is a mistake (an alert inserted is announced), so that the tab has no empty
    // alert beside its others.
    let message = message.map(|m| view! { <p id="audit-q-error" class="field-error" role="alert">{m}</p> });
    view! { {message} {caret} }
}

/// The search's terms as chips, each a link to the same view without it.
fn chips(q: &AuditQuery) -> impl IntoView + use<> {
    let chips = q
        .search_terms()
        .into_iter()
        .map(|(term, without)| {
            // Named by its content ("Remove action:…"), not by `aria-label`, which a search by label (`Verb`,
            // `Outcome`) would find beside the control.
            view! {
                <a role="button" class="chip" href=href_for(&without)>
                    <span class="visually-hidden">"Remove "</span>{term}<span aria-hidden="true">" ×"</span>
                </a>
            }
        })
        .collect_view();
    view! { <div class="chips">{chips}</div> }
}

/// `q` with the `From` and `To` a person typed in the browser's time zone as UTC instants.
fn in_utc(q: AuditQuery) -> AuditQuery {
    let convert = |bound: Option<TimeBound>, end: bool| {
        bound.map(|b| match local_time::to_utc(&b.raw, end) {
            Some(raw) => TimeBound { raw, ..b },
            None => b,
        })
    };
    AuditQuery {
        from: convert(q.from.clone(), false),
        to: convert(q.to.clone(), true),
        ..q
    }
}
