//! Server functions: one per file, each a thin shim over the store behind the audit access check.

mod answer;
mod current_user;
mod get_event;
mod get_facets;
mod list_events;
mod settings;
mod users;
mod verify_log;
mod webhooks;

pub use answer::{Answer, JsonText};
pub use current_user::{CurrentUser, current_user};
pub use get_event::{GetEvent, get_event};
pub use get_facets::{GetFacetCounts, GetFacets, get_facet_counts, get_facets};
pub use list_events::{ListEvents, list_events};
pub use settings::{
    CreateToken, GetRetention, ListIpBlocks, ListSettings, ListTokens, RevokeToken, SetRetention, UnblockIp,
    UpdateSetting, create_token, get_retention, list_ip_blocks, list_settings, list_tokens, revoke_token,
    set_retention, unblock_ip, update_setting,
};
pub use users::{CreateUser, DeleteUser, ListUsers, UpdateUser, create_user, delete_user, list_users, update_user};
pub use verify_log::{StartVerify, VerificationStatus, start_verify, verification_status};
pub use webhooks::{
    AddWebhook, ListWebhooks, WebhookAction, WebhookEntry, WebhookOutcome, add_webhook, list_webhooks, webhook_action,
};
#[cfg(feature = "ssr")]
pub use webhooks::{WebhookDelivery, Webhooks};

#[cfg(feature = "ssr")]
pub mod guard;
