//! The Users tab: the panel's users; admins create, update and delete them, and each change is recorded.

use leptos::{form::ActionForm, prelude::*};

use crate::{
    api::{CreateUser, DeleteUser, UpdateUser, current_user, list_users},
    model::{Role, User},
};

#[component]
pub fn Users() -> impl IntoView {
    let create = ServerAction::<CreateUser>::new();
    let update = ServerAction::<UpdateUser>::new();
    let delete = ServerAction::<DeleteUser>::new();
    let users = Resource::new(
        move || (create.version().get(), update.version().get(), delete.version().get()),
        |_| async move { list_users().await.unwrap_or_default() },
    );
    let me = Resource::new(|| (), |_| async move { current_user().await.ok().flatten() });
    let error = move || {
        [
            create.value().get().and_then(|r| r.err()),
            update.value().get().and_then(|r| r.err()),
            delete.value().get().and_then(|r| r.err()),
        ]
        .into_iter()
        .flatten()
        .next()
        .map(|e| view! { <p role="alert" class="error">{e.to_string()}</p> })
    };
    view! {
        <h1>"Users"</h1>
        {error}
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                let list = users.await;
                let admin = me.await.is_some_and(|u| u.is_admin());
                let rows = list
                    .into_iter()
                    .map(|u| view! { <UserRow user=u admin update delete/> })
                    .collect_view();
                view! {
                    <table class="simple" aria-label="Users">
                        <thead><tr><th>"Email"</th><th>"Name"</th><th>"Role"</th><th></th></tr></thead>
                        <tbody>{rows}</tbody>
                    </table>
                    {admin.then(|| view! {
                        <h2>"Add a user"</h2>
                        <ActionForm action=create attr:class="stack" attr:aria-label="Add a user">
                            <label for="new-user-email">"New user email"</label>
                            <input id="new-user-email" type="email" name="email" required/>
                            <label for="new-user-name">"New user name"</label>
                            <input id="new-user-name" type="text" name="name"/>
                            <label for="new-user-role">"New user role"</label>
                            <select id="new-user-role" name="role">
                                <option value="viewer">"viewer"</option>
                                <option value="admin">"admin"</option>
                            </select>
                            <label for="new-user-password">"New user password"</label>
                            <input id="new-user-password" type="password" name="password" minlength="8" required/>
                            <button type="submit">"Add user"</button>
                        </ActionForm>
                    })}
                }
            })}
        </Suspense>
    }
}

#[component]
fn UserRow(
    user: User,
    admin: bool,
    update: ServerAction<UpdateUser>,
    delete: ServerAction<DeleteUser>,
) -> impl IntoView {
    let cells = (user.email.clone(), user.name.clone(), user.role.as_str());
    let label = user.email.clone();
    let (id, name) = (user.id.clone(), user.name.clone());
    let controls = admin.then(move || {
        let is_admin = user.role == Role::Admin;
        let delete_label = format!("Delete {label}");
        let name_label = format!("Name of {label}");
        let role_label = format!("Role of {label}");
        let delete_id = id.clone();
        view! {
            <ActionForm action=update attr:class="inline">
                <input type="hidden" name="id" value=id/>
                <input type="text" name="name" value=name aria-label=name_label/>
                <select name="role" aria-label=role_label>
                    <option value="viewer" selected=!is_admin>"viewer"</option>
                    <option value="admin" selected=is_admin>"admin"</option>
                </select>
                <button type="submit" class="secondary">"Save"</button>
            </ActionForm>
            <ActionForm action=delete attr:class="inline">
                <input type="hidden" name="id" value=delete_id/>
                <button type="submit" class="secondary">{delete_label}</button>
            </ActionForm>
        }
    });
    view! {
        <tr>
            <td>{cells.0}</td>
            <td>{cells.1}</td>
            <td>{cells.2}</td>
            <td>{controls}</td>
        </tr>
    }
}
