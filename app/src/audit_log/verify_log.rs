//! `Verify log`: runs the server's check of the whole log (every event against its leaf, every checkpoint's
//! root and signature), shows its progress, then the outcome: a `status` when the log verified, an `alert`
//! naming the first problem otherwise. Without the WASM the button still posts, and the page shows how the
//! check stands when it comes back.

use leptos::{prelude::*, server_fn::ServerFn};

use super::timers;
use crate::{
    api::{StartVerify, verification_status},
    model::VerifyStatus,
};

/// How often a running check is asked how far it got.
const POLL_MS: u32 = 500;

#[component]
pub fn VerifyLog() -> impl IntoView {
    let first = Resource::new(|| (), |_| async { verification_status().await.ok().flatten() });
    let status = RwSignal::new(None::<VerifyStatus>);
    let running = Memo::new(move |_| status.get().is_some_and(|s| s.running));
    // While a check runs, ask how far it got; each run of the effect drops the previous interval.
    Effect::new(move |_previous: Option<Option<timers::Interval>>| {
        running.get().then(|| {
            timers::Interval::new(POLL_MS, move || {
                leptos::task::spawn_local(async move {
                    if let Ok(Some(s)) = verification_status().await {
                        status.set(Some(s));
                    }
                });
            })
        })
    });
    // Offered to those who may check the whole log (the first status says so).
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let initial = first.await?;
                Some(view! {
                    <div class="verify-log">
                        <form method="post" action=crate::base_path().join(StartVerify::url()) on:submit=move |ev| {
                            ev.prevent_default();
                            leptos::task::spawn_local(async move {
                                if let Ok(s) = crate::api::start_verify().await {
                                    status.set(Some(s));
                                }
                            });
                        }>
                            <button type="submit" class="secondary" disabled=running>"Verify log"</button>
                        </form>
                        {move || view! { <Shown status=status.get().or_else(|| Some(initial.clone()))/> }}
                    </div>
                })
            })}
        </Suspense>
    }
}

#[component]
fn Shown(status: Option<VerifyStatus>) -> impl IntoView {
    let status = status?;
    if status.running {
        // Before the first report the total is unknown: an indeterminate bar.
        let value = (status.total > 0).then(|| status.done.to_string());
        return Some(
            view! {
                <progress aria-label="Verifying the log" max=status.total.max(1).to_string() value=value></progress>
            }
            .into_any(),
        );
    }
    let outcome = status.result?;
    let message = outcome.message();
    Some(if outcome.problems.is_empty() {
        view! { <p role="status" class="verified">{message}</p> }.into_any()
    } else {
        view! { <p role="alert" class="error">{message}</p> }.into_any()
    })
}
