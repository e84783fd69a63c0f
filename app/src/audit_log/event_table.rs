//! The table of one page of events. Every value is rendered as text, never as HTML.

use leptos::prelude::*;

use super::href_for;
use crate::{
    model::{AuditQuery, EventPage, EventRow, Facets, LogView, SortKey, SortOrder, Zone, time},
    use_address,
};

#[component]
pub fn EventTable(q: AuditQuery, page: EventPage, facets: Facets) -> impl IntoView {
    let address = use_address();
    let sign_ins = q.view == LogView::SignIns;
    let rows = page
        .entries
        .into_iter()
        .map(|row| {
            let detail = AuditQuery {
                event: Some(row.id.clone()),
                ..q.clone()
            };
            let detail_qs = detail.to_query_string();
            let open = move |ev: leptos::ev::MouseEvent| {
                // A click on the row's own link or button is handled by that element.
                let on_control = ev
                    .target()
                    .and_then(|t| leptos::wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(t).ok())
                    .is_some_and(|el| el.closest("a, button").ok().flatten().is_some());
                if !on_control {
                    address.go(&detail_qs, false);
                }
            };
            let detail_href = href_for(&detail);
            let label = facets.action_label(&row.action).unwrap_or(&row.action).to_string();
            let zone = q.zone;
            match sign_ins {
                true => view! { <SignInRow row label zone detail_href on_click=open/> }.into_any(),
                false => view! { <Row row label zone detail_href on_click=open/> }.into_any(),
            }
        })
        .collect_view();
    let head = match sign_ins {
        true => view! {
            <SortHeader q=q.clone() key=SortKey::Timestamp label="Time"/>
            <th scope="col">"Outcome"</th>
            <th scope="col">"Account"</th>
            <th scope="col">"IP address"</th>
            <th scope="col">"Browser"</th>
        }
        .into_any(),
        false => view! {
            <SortHeader q=q.clone() key=SortKey::Timestamp label="Timestamp"/>
            <SortHeader q=q.clone() key=SortKey::Action label="Action"/>
            <th scope="col">"Actor"</th>
            <th scope="col">"Target"</th>
            <th scope="col">"Details"</th>
            <th scope="col">"IP address"</th>
        }
        .into_any(),
    };
    view! {
        <div class="table-wrap">
            <table aria-label="Audit log" class="events">
                <thead>
                    <tr>
                        {head}
                        <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}

/// A row of the Sign-ins view: when, how it ended (and what it was, when not a sign-in), the account, from
/// where and with what browser.
#[component]
fn SignInRow(
    row: EventRow,
    label: String,
    zone: Zone,
    detail_href: String,
    on_click: impl FnMut(leptos::ev::MouseEvent) + 'static,
) -> impl IntoView {
    let outcome = match row.outcome.as_str() {
        "failure" => view! { <span class="badge badge-red">"Failure"</span> },
        _ => view! { <span class="badge badge-green">"Success"</span> },
    };
    let kind = (row.action != SIGN_IN_ACTION)
        .then(|| view! { <span class="sign-in-kind" title=row.action.clone()>{label}</span> });
    let account = row.actor_email.clone().unwrap_or_else(|| row.actor_label());
    let browser = row.browser.clone().unwrap_or_default();
    view! {
        <tr on:click=on_click class="event-row">
            <td class="ts"><Time timestamp=row.timestamp.clone() zone/></td>
            <td>{outcome}{kind}</td>
            <td class="truncate" title=account.clone()>{account.clone()}</td>
            <td class="ip">{row.ip.clone().unwrap_or_default()}</td>
            <td class="truncate" title=browser.clone()>{browser.clone()}</td>
            <td><a role="button" class="button small" href=detail_href>"View details"</a></td>
        </tr>
    }
    .into_any()
}

/// The action the Sign-ins view shows by its outcome alone.
const SIGN_IN_ACTION: &str = "auth.login";

/// An event's time as the table shows it, the instant in its title: UTC as rendered; in the browser's time
/// zone once hydrated, with `tz=local`.
#[component]
fn Time(timestamp: String, zone: Zone) -> impl IntoView {
    let millis = time::parse_rfc3339(&timestamp).map(time::to_millis);
    let when = millis.map(time::display_millis);
    let node = NodeRef::<leptos::html::Time>::new();
    Effect::new(move |_| {
        if let (Zone::Local, Some(ms), Some(el)) = (zone, millis, node.get()) {
            el.set_text_content(Some(&super::local_time::display(ms)));
        }
    });
    view! { <time node_ref=node datetime=timestamp.clone() title=timestamp>{when}</time> }
}

#[component]
fn Row(
    row: EventRow,
    label: String,
    zone: Zone,
    detail_href: String,
    on_click: impl FnMut(leptos::ev::MouseEvent) + 'static,
) -> impl IntoView {
    let actor = row.actor_label();
    let actor_title = [row.actor_type.clone(), row.actor_email.clone().unwrap_or_default()].join(" · ");
    let target = row.target_label();
    view! {
        <tr on:click=on_click class="event-row">
            <td class="ts"><Time timestamp=row.timestamp.clone() zone/></td>
            <td><span class=badge_class(&row.action, &row.outcome) title=row.action.clone()>{label}</span>
                {(row.outcome == "failure").then(|| view! { <span class="outcome-failure">" failure"</span> })}
            </td>
            <td class="truncate" title=actor_title>{actor}</td>
            <td class="truncate" title=target.clone()>{target.clone()}</td>
            <td class="truncate details" title=row.summary.clone()>{row.summary.clone()}</td>
            <td class="ip">{row.ip.clone().unwrap_or_default()}</td>
            <td><a role="button" class="button small" href=detail_href>"View details"</a></td>
        </tr>
    }
    .into_any()
}

/// A sortable column header: a button that toggles the order, with `aria-sort` on the header.
#[component]
fn SortHeader(q: AuditQuery, key: SortKey, label: &'static str) -> impl IntoView {
    let active = q.sort == key;
    let aria_sort = match (active, q.order) {
        (false, _) => "none",
        (true, SortOrder::Asc) => "ascending",
        (true, SortOrder::Desc) => "descending",
    };
    let next_order = if active { q.order.flipped() } else { SortOrder::Desc };
    let next = AuditQuery {
        sort: key,
        order: next_order,
        page: 1,
        cursor: None,
        event: None,
        ..q
    };
    let arrow = match aria_sort {
        "ascending" => "▲",
        "descending" => "▼",
        _ => "↕",
    };
    view! {
        <th scope="col" aria-sort=aria_sort>
            <a role="button" class="sort" href=href_for(&next)>{label}<span aria-hidden="true" class="arrow">{arrow}</span></a>
        </th>
    }
}

/// Badge colour by verb: create/add green; update/change yellow; delete/revoke/remove and every failure red;
/// the rest (sign-ins, services) the accent colour.
pub fn badge_class(action: &str, outcome: &str) -> &'static str {
    let verb = crate::model::event::verb_of(action);
    if outcome == "failure"
        || ["delete", "revoke", "remove", "purge", "ip_blocked"]
            .iter()
            .any(|v| verb.contains(v))
    {
        "badge badge-red"
    } else if ["create", "add", "enroll"].iter().any(|v| verb.contains(v)) {
        "badge badge-green"
    } else if ["update", "change", "edit", "restore"].iter().any(|v| verb.contains(v)) {
        "badge badge-yellow"
    } else {
        "badge badge-accent"
    }
}

#[cfg(test)]
mod tests {
    use super::badge_class;

    #[test]
    fn badges_are_coloured_by_verb_and_failure() {
        assert_eq!(badge_class("mailbox.create", "success"), "badge badge-green");
        assert_eq!(badge_class("user.role_change", "success"), "badge badge-yellow");
        assert_eq!(badge_class("api_token.revoke", "success"), "badge badge-red");
        assert_eq!(badge_class("auth.login", "failure"), "badge badge-red");
        assert_eq!(badge_class("auth.login", "success"), "badge badge-accent");
    }
}
