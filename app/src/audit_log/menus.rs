//! The options of the filter bar's menus, each with the selected one marked. Where live counts are known (the
//! filters are not a search), an option reads `mailbox.create (1,204)`: the events it would give with the other
//! filters as they are; `(0)` options stay selectable.

use std::collections::BTreeMap;

use leptos::prelude::*;

use crate::model::{ActorType, FacetCounts, Facets, Outcome, event::verb_of, page::thousands, query::PAGE_SIZES};

/// `text (n)` with the count of `key` in `counts` (0 when absent), or `text` when no counts are known.
fn counted(text: &str, counts: Option<&BTreeMap<String, u64>>, key: &str) -> String {
    match counts {
        Some(counts) => format!("{text} ({})", thousands(counts.get(key).copied().unwrap_or(0))),
        None => text.to_string(),
    }
}

/// The actions, grouped by category, each group led by its whole category.
pub fn action_groups(facets: &Facets, counts: Option<&FacetCounts>, selected: &str) -> impl IntoView + use<> {
    let counts = counts.map(|c| &c.actions);
    facets
        .categories
        .iter()
        .map(|c| {
            let whole = format!("{}.*", c.category);
            let whole_selected = whole == selected;
            let label = format!("All {} actions", c.category);
            let options = c
                .actions
                .iter()
                .map(|a| {
                    let selected = a.action == selected;
                    let text = counted(a.label.as_deref().unwrap_or(&a.action), counts, &a.action);
                    view! { <option value=a.action.clone() title=a.action.clone() selected=selected>{text}</option> }
                })
                .collect_view();
            let group = c.label.clone().unwrap_or_else(|| c.category.clone());
            view! {
                <optgroup label=group>
                    <option value=whole selected=whole_selected>{label}</option>
                    {options}
                </optgroup>
            }
        })
        .collect_view()
}

/// Plain options of `values`, each with its count; `selected` is offered even when `values` lacks it (a value
/// in the URL the log does not hold yet), so that the select shows it.
fn value_options(
    mut values: Vec<String>,
    counts: Option<&BTreeMap<String, u64>>,
    selected: &str,
) -> impl IntoView + use<> {
    if !selected.is_empty() && !values.iter().any(|v| v == selected) {
        values.push(selected.to_string());
        values.sort_unstable();
    }
    values
        .into_iter()
        .map(|v| {
            let text = counted(&v, counts, &v);
            let chosen = v == selected;
            view! { <option value=v selected=chosen>{text}</option> }
        })
        .collect_view()
}

pub fn target_options(facets: &Facets, counts: Option<&FacetCounts>, selected: &str) -> impl IntoView + use<> {
    value_options(facets.target_types.clone(), counts.map(|c| &c.target_types), selected)
}

/// The sources present in the log (the servers of a multi-server setup).
pub fn source_options(facets: &Facets, counts: Option<&FacetCounts>, selected: &str) -> impl IntoView + use<> {
    value_options(facets.sources.clone(), counts.map(|c| &c.sources), selected)
}

/// The tenants of the log, for an admin of the whole log (a viewer of one tenant is offered none), with the
/// one in the URL kept even when the log has no event of it.
pub fn tenant_options(facets: &Facets, selected: &str) -> impl IntoView + use<> {
    let mut tenants = facets.tenants.clone();
    if !selected.is_empty() && !tenants.iter().any(|t| t == selected) {
        tenants.push(selected.to_string());
    }
    value_options(tenants, None, selected)
}

/// The verbs of the actions present (the last part of each: `create`, `delete`, ...), across every category.
pub fn verb_options(facets: &Facets, counts: Option<&FacetCounts>, selected: &str) -> impl IntoView + use<> {
    let mut verbs: Vec<String> = facets
        .categories
        .iter()
        .flat_map(|c| &c.actions)
        .map(|a| verb_of(&a.action).to_string())
        .collect();
    verbs.sort_unstable();
    verbs.dedup();
    value_options(verbs, counts.map(|c| &c.verbs), selected)
}

/// Who did it: a person, an API token or the system.
pub fn actor_type_options(counts: Option<&FacetCounts>, selected: Option<ActorType>) -> impl IntoView + use<> {
    let label = |t: ActorType| match t {
        ActorType::User => "User",
        ActorType::ApiToken => "API token",
        ActorType::System => "System",
    };
    let counts = counts.map(|c| &c.actor_types);
    let options = ActorType::ALL
        .into_iter()
        .map(|t| {
            let text = counted(label(t), counts, t.as_str());
            view! { <option value=t.as_str() selected=selected == Some(t)>{text}</option> }
        })
        .collect_view();
    view! {
        <option value="" selected=selected.is_none()>"All"</option>
        {options}
    }
}

/// The busiest actors, offered as the actor box's suggestions.
pub fn actor_options(facets: &Facets) -> impl IntoView + use<> {
    facets
        .actors
        .iter()
        .map(|a| view! { <option value=a.actor.clone()></option> })
        .collect_view()
}

pub fn outcome_options(outcome: Option<Outcome>) -> impl IntoView {
    view! {
        <option value="" selected=outcome.is_none()>"All"</option>
        <option value="success" selected=outcome == Some(Outcome::Success)>"Success"</option>
        <option value="failure" selected=outcome == Some(Outcome::Failure)>"Failure"</option>
    }
}

pub fn page_size_options(selected: u32) -> impl IntoView {
    PAGE_SIZES
        .iter()
        .map(|s| view! { <option value=s.to_string() selected=*s == selected>{s.to_string()}</option> })
        .collect_view()
}
