//! The Settings tab: panel settings (each change recorded as `settings.update` with a diff) and, for
//! admins, retention, API tokens (created and shown once, listed, revoked) and the addresses blocked after
//! failed sign-ins (each can be unblocked, recorded as `auth.ip_unblocked`), and webhook endpoints (`webhooks`).

use leptos::{form::ActionForm, prelude::*};

use crate::{
    api::{
        CreateToken, RevokeToken, SetRetention, UnblockIp, UpdateSetting, current_user, get_retention, list_ip_blocks,
        list_settings, list_tokens,
    },
    model::{ip::IpBlock, time, token::ApiToken},
};

#[component]
pub fn Settings() -> impl IntoView {
    let update = ServerAction::<UpdateSetting>::new();
    let settings = Resource::new(
        move || update.version().get(),
        |_| async move { list_settings().await.unwrap_or_default() },
    );
    let me = Resource::new(|| (), |_| async move { current_user().await.ok().flatten() });
    let update_error = move || {
        update
            .value()
            .get()
            .and_then(|r| r.err())
            .map(|e| view! { <p role="alert" class="error">{e.to_string()}</p> })
    };
    view! {
        <h1>"Settings"</h1>
        {update_error}
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                let rows = settings
                    .await
                    .into_iter()
                    .map(|(key, value)| {
                        let input_id = format!("setting-{key}");
                        view! {
                            <tr>
                                <th scope="row"><label for=input_id.clone()>{key.clone()}</label></th>
                                <td>
                                    <ActionForm action=update attr:class="inline">
                                        <input type="hidden" name="key" value=key.clone()/>
                                        <input id=input_id type="text" name="value" value=value/>
                                        <button type="submit" class="secondary">{format!("Save {key}")}</button>
                                    </ActionForm>
                                </td>
                            </tr>
                        }
                    })
                    .collect_view();
                let admin = me.await.is_some_and(|u| u.is_admin());
                view! {
                    <table class="simple" aria-label="Settings"><tbody>{rows}</tbody></table>
                    {admin.then(|| view! { <Retention/> <Tokens/> <BlockedAddresses/> <super::webhooks::Webhooks/> })}
                }
            })}
        </Suspense>
    }
}

/// The choices of `Keep events for`: days (empty: forever) and how each is named.
const RETENTIONS: [(&str, &str); 7] = [
    ("", "Forever"),
    ("30", "30 days"),
    ("90", "90 days"),
    ("180", "180 days"),
    ("365", "1 year"),
    ("730", "2 years"),
    ("2555", "7 years"),
];

/// How long the audit log keeps events (admins): saved, recorded, and purged by the server within moments.
#[component]
fn Retention() -> impl IntoView {
    let save = ServerAction::<SetRetention>::new();
    let current = Resource::new(
        move || save.version().get(),
        |_| async move { get_retention().await.ok().flatten() },
    );
    let outcome = move || {
        save.value().get().map(|r| match r {
            Ok(()) => view! { <p role="status">"Retention saved."</p> }.into_any(),
            Err(e) => view! { <p role="alert" class="error">{e.to_string()}</p> }.into_any(),
        })
    };
    view! {
        <h2>"Retention"</h2>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let days = current.await.map(|d| d.to_string()).unwrap_or_default();
                // A value set elsewhere (the command line, the API) that is not one of the choices is shown too.
                let other = (!RETENTIONS.iter().any(|(v, _)| *v == days)).then(|| {
                    view! { <option value=days.clone() selected=true>{format!("{days} days")}</option> }
                });
                let options = RETENTIONS
                    .iter()
                    .map(|(value, label)| view! { <option value=*value selected=*value == days>{*label}</option> })
                    .collect_view();
                view! {
                    <ActionForm action=save attr:class="inline">
                        <label for="retention-days">"Keep events for"</label>
                        <select id="retention-days" name="days">{options}{other}</select>
                        <button type="submit">"Save"</button>
                    </ActionForm>
                }
            })}
        </Suspense>
        {outcome}
    }
}

#[component]
fn Tokens() -> impl IntoView {
    let create = ServerAction::<CreateToken>::new();
    let revoke = ServerAction::<RevokeToken>::new();
    let tokens = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| async move { list_tokens().await.unwrap_or_default() },
    );
    let created = move || {
        create.value().get().map(|r| match r {
            Ok(token) => view! {
                <div class="notice" role="status">
                    <p>"New token (shown only this once; store it now):"</p>
                    <code class="token">{token}</code>
                </div>
            }
            .into_any(),
            Err(e) => view! { <p role="alert" class="error">{e.to_string()}</p> }.into_any(),
        })
    };
    view! {
        <h2>"API tokens"</h2>
        {created}
        <ActionForm action=create attr:class="inline" attr:aria-label="Create an API token">
            <label for="token-name">"Token name"</label>
            <input id="token-name" type="text" name="name" required/>
            <label for="token-scopes">"Scopes"</label>
            <select id="token-scopes" name="scopes">
                <option value="ingest">"ingest"</option>
                <option value="read">"read"</option>
                <option value="ingest,read">"ingest, read"</option>
                <option value="admin">"admin"</option>
            </select>
            <label for="token-tenant">"Bound to tenant"</label>
            <input id="token-tenant" type="text" name="tenant" placeholder="(whole log)"/>
            <button type="submit">"Create token"</button>
        </ActionForm>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let rows = tokens.await.into_iter().map(|t| view! { <TokenRow token=t revoke/> }).collect_view();
                view! {
                    <table class="simple" aria-label="API tokens">
                        <thead><tr><th>"Name"</th><th>"Scopes"</th><th>"Tenant"</th><th>"Prefix"</th><th>"Created"</th><th>"Status"</th><th></th></tr></thead>
                        <tbody>{rows}</tbody>
                    </table>
                }
            })}
        </Suspense>
    }
}

#[component]
fn TokenRow(token: ApiToken, revoke: ServerAction<RevokeToken>) -> impl IntoView {
    let revoked = token.revoked_at.is_some();
    let name = token.name.clone();
    view! {
        <tr>
            <td>{token.name.clone()}</td>
            <td>{token.scopes.to_list()}</td>
            <td>{token.tenant.clone().unwrap_or_default()}</td>
            <td><code>{token.prefix.clone()}"…"</code></td>
            <td>{time::display_millis(token.created_at)}</td>
            <td>{if revoked { "revoked" } else { "active" }}</td>
            <td>
                {(!revoked).then(|| view! {
                    <ActionForm action=revoke attr:class="inline">
                        <input type="hidden" name="id" value=token.id.clone()/>
                        <button type="submit" class="secondary">{format!("Revoke {name}")}</button>
                    </ActionForm>
                })}
            </td>
        </tr>
    }
}

/// The addresses blocked from signing in after failed attempts, each with `Unblock` (admins).
#[component]
fn BlockedAddresses() -> impl IntoView {
    let unblock = ServerAction::<UnblockIp>::new();
    let blocks = Resource::new(
        move || unblock.version().get(),
        |_| async move { list_ip_blocks().await.unwrap_or_default() },
    );
    let outcome = move || {
        unblock.value().get().map(|r| match r {
            Ok(()) => view! { <p role="status">"Address unblocked."</p> }.into_any(),
            Err(e) => view! { <p role="alert" class="error">{e.to_string()}</p> }.into_any(),
        })
    };
    view! {
        <h2>"Blocked addresses"</h2>
        {outcome}
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let blocks = blocks.await;
                if blocks.is_empty() {
                    return view! { <p>"No address is blocked."</p> }.into_any();
                }
                let rows = blocks.into_iter().map(|b| view! { <BlockRow block=b unblock/> }).collect_view();
                view! {
                    <table class="simple" aria-label="Blocked addresses">
                        <thead><tr><th>"Address"</th><th>"Failures"</th><th>"Blocked until"</th><th></th></tr></thead>
                        <tbody>{rows}</tbody>
                    </table>
                }
                .into_any()
            })}
        </Suspense>
    }
}

#[component]
fn BlockRow(block: IpBlock, unblock: ServerAction<UnblockIp>) -> impl IntoView {
    let label = format!("Unblock {}", block.address);
    view! {
        <tr>
            <td><code>{block.address.clone()}</code></td>
            <td>{block.failures}</td>
            <td>{format!("{} UTC", time::display_millis(block.until))}</td>
            <td>
                <ActionForm action=unblock attr:class="inline">
                    <input type="hidden" name="address" value=block.address.clone()/>
                    <button type="submit" class="secondary" aria-label=label>"Unblock"</button>
                </ActionForm>
            </td>
        </tr>
    }
}
