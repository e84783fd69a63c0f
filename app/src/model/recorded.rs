//! Every event the product records about itself, built in this one place whether the panel, the sign-in
//! page, an export or the command line caused it: sign-ins and sign-outs, blocked addresses, users, API
//! tokens, settings, exports. Where the request came from (IP, user agent) is added by whoever saw it.

use serde_json::{Map, Value, json};

use super::{
    Actor, ActorType, NewEvent, Outcome, Target, User, ip::IpBlock, time, token::ApiToken, user::is_email_address,
    webhook::WebhookSettings,
};

/// The source of the events the product records about its own sign-ins, exports and command line.
pub const OWN_SOURCE: &str = "auditlog";

fn own(action: &str, outcome: Outcome, actor: Actor, target: Option<Target>, details: Map<String, Value>) -> NewEvent {
    NewEvent {
        action: action.into(),
        outcome,
        actor: Some(actor),
        target,
        source: Some(OWN_SOURCE.into()),
        details,
        ..NewEvent::default()
    }
}

fn user_target(user: &User) -> Target {
    Target {
        kind: "user".into(),
        id: Some(user.id.clone()),
        name: Some(user.email.clone()),
    }
}

/// `auth.login`: `user` signed in with a password.
pub fn signed_in(user: &User) -> NewEvent {
    let mut details = Map::new();
    details.insert("method".into(), json!("password"));
    own(
        "auth.login",
        Outcome::Success,
        user.actor(),
        Some(user_target(user)),
        details,
    )
}

/// `auth.login` that failed: what was typed in the email box stands as the actor, when it is an email address.
/// Anything else (people type their password in the wrong box) is not stored: it reads `(not an email address)`.
pub fn sign_in_failed(attempted_email: &str) -> NewEvent {
    let typed = attempted_email.trim();
    // An address a user could have, with a single `@` (more is never what someone meant to type).
    let looks_like_email = is_email_address(typed) && typed.matches('@').count() == 1;
    let attempted = match (typed.is_empty(), looks_like_email) {
        (true, _) => "(empty)".to_string(),
        (false, true) => typed.to_string(),
        (false, false) => "(not an email address)".to_string(),
    };
    let mut details = Map::new();
    details.insert("reason".into(), json!("invalid_credentials"));
    details.insert("attempted_email".into(), json!(attempted));
    let actor = Actor {
        kind: ActorType::User,
        id: None,
        name: None,
        email: Some(attempted),
    };
    own("auth.login", Outcome::Failure, actor, None, details)
}

/// `auth.login` with a host's JWT exchanged for a session (`?auth_token=`).
pub fn host_signed_in(user: &User) -> NewEvent {
    let mut event = signed_in(user);
    event.details.insert("method".into(), json!("jwt"));
    // One tenant's viewer signing in is one of that tenant's events.
    event.tenant = user.tenant.clone();
    event
}

/// `auth.login` that failed: a host's JWT refused for `reason` (`expired`, `bad_signature`, `alg_none`,
/// `unknown_key`, `wrong_audience`, `role_missing`, ...). `subject` is the token's `sub`, when it could be read
/// (it is not trusted: the token was refused).
pub fn host_sign_in_refused(reason: &str, subject: Option<&str>) -> NewEvent {
    let mut details = Map::new();
    details.insert("method".into(), json!("jwt"));
    details.insert("reason".into(), json!(reason));
    if let Some(sub) = subject {
        details.insert(
            "claimed_subject".into(),
            json!(sub.chars().take(200).collect::<String>()),
        );
    }
    let actor = Actor {
        kind: ActorType::User,
        id: None,
        name: Some("(host sign-in refused)".into()),
        email: None,
    };
    own("auth.login", Outcome::Failure, actor, None, details)
}

/// `auth.ip_blocked`: `ip` failed `failures` times within `window_minutes` and is blocked for
/// `blocked_minutes`.
pub fn ip_blocked(ip: &str, failures: u32, window_minutes: i64, blocked_minutes: i64) -> NewEvent {
    let mut details = Map::new();
    details.insert("failures".into(), json!(failures));
    details.insert("window_minutes".into(), json!(window_minutes));
    details.insert("blocked_minutes".into(), json!(blocked_minutes));
    let target = Target {
        kind: "ip".into(),
        id: None,
        name: Some(ip.to_string()),
    };
    own(
        "auth.ip_blocked",
        Outcome::Success,
        Actor::system(OWN_SOURCE),
        Some(target),
        details,
    )
}

/// `auth.ip_unblocked`: `by` lifted the block of the address group `block.address` before it ended.
pub fn ip_unblocked(by: Actor, block: &IpBlock) -> NewEvent {
    let mut details = Map::new();
    details.insert("failures".into(), json!(block.failures));
    details.insert("blocked_until".into(), json!(time::format_millis(block.until)));
    let target = Target {
        kind: "ip".into(),
        id: None,
        name: Some(block.address.clone()),
    };
    own("auth.ip_unblocked", Outcome::Success, by, Some(target), details)
}

/// `auth.logout`.
pub fn signed_out(user: &User) -> NewEvent {
    own("auth.logout", Outcome::Success, user.actor(), None, Map::new())
}

/// `audit.export`: who exported, in which format, with which filters (a query string), how many rows, and
/// whether the export finished.
pub fn exported(actor: Actor, format: &str, filters: String, rows: u64, completed: bool) -> NewEvent {
    let mut details = Map::new();
    details.insert("format".into(), json!(format));
    details.insert("filters".into(), json!(filters));
    details.insert("rows".into(), json!(rows));
    details.insert("completed".into(), json!(completed));
    let target = Target {
        kind: "audit_log".into(),
        id: None,
        name: Some("Audit log".into()),
    };
    let outcome = if completed { Outcome::Success } else { Outcome::Failure };
    own("audit.export", outcome, actor, Some(target), details)
}

/// `audit.backup`: a copy of the whole log was written to `file`, holding `events` events.
pub fn backed_up(actor: Actor, file: &str, events: u64) -> NewEvent {
    let mut details = Map::new();
    details.insert("file".into(), json!(file));
    details.insert("events".into(), json!(events));
    let target = Target {
        kind: "audit_log".into(),
        id: None,
        name: Some("Audit log".into()),
    };
    own("audit.backup", Outcome::Success, actor, Some(target), details)
}

/// `audit.verify`: the whole log was checked (`Verify log`), with what was found. A failure when a problem was.
pub fn verified(actor: Actor, outcome: &super::VerifyOutcome) -> NewEvent {
    let mut details = Map::new();
    details.insert("events".into(), json!(outcome.events));
    details.insert("checkpoints".into(), json!(outcome.checkpoints));
    details.insert("problems".into(), json!(outcome.problems.len()));
    if let Some(first) = outcome.problems.first() {
        details.insert("first_problem".into(), json!(first));
    }
    let target = Target {
        kind: "audit_log".into(),
        id: None,
        name: Some("Audit log".into()),
    };
    let result = if outcome.problems.is_empty() {
        Outcome::Success
    } else {
        Outcome::Failure
    };
    own("audit.verify", result, actor, Some(target), details)
}

/// `audit.retention_purge`: events older than the retention window were deleted.
pub fn retention_purged(purge: &super::PurgeOutcome) -> NewEvent {
    let mut details = Map::new();
    details.insert("retention_days".into(), json!(purge.retention_days));
    details.insert("cutoff".into(), json!(purge.cutoff));
    details.insert("deleted".into(), json!(purge.deleted));
    details.insert("first_log_index".into(), json!(purge.first_log_index));
    details.insert("last_log_index".into(), json!(purge.last_log_index));
    let target = Target {
        kind: "audit_log".into(),
        id: None,
        name: Some("Audit log".into()),
    };
    own(
        "audit.retention_purge",
        Outcome::Success,
        Actor::system("retention"),
        Some(target),
        details,
    )
}

/// `settings.update` of the panel setting `key`, with its `changes` diff.
pub fn setting_changed(actor: Actor, key: &str, from: &str, to: &str) -> NewEvent {
    let mut details = Map::new();
    details.insert("changes".into(), json!({ key: {"from": from, "to": to} }));
    NewEvent {
        action: "settings.update".into(),
        actor: Some(actor),
        target: Some(Target {
            kind: "settings".into(),
            id: Some(key.to_string()),
            name: Some(key.to_string()),
        }),
        details,
        ..NewEvent::default()
    }
}

/// A `user.*` event; with `before`, a `changes` diff of what differs (name, role).
pub fn user_event(action: &str, actor: Actor, user: &User, before: Option<&User>) -> NewEvent {
    let mut details = Map::new();
    details.insert("role".into(), json!(user.role.as_str()));
    if let Some(before) = before {
        let mut changes = Map::new();
        if before.name != user.name {
            changes.insert("name".into(), json!({"from": before.name, "to": user.name}));
        }
        if before.role != user.role {
            changes.insert(
                "role".into(),
                json!({"from": before.role.as_str(), "to": user.role.as_str()}),
            );
        }
        details.insert("changes".into(), Value::Object(changes));
    }
    NewEvent {
        action: action.into(),
        actor: Some(actor),
        target: Some(user_target(user)),
        details,
        ..NewEvent::default()
    }
}

/// The event of the server's configured admin made sure of at start (`AUDITLOG_ADMIN_*`): `user.create` when it
/// was missing, otherwise `user.update` with what changed (its role; its password, whose values are
/// redacted before storage).
pub fn configured_admin(before: Option<&User>, after: &User, password_changed: bool) -> NewEvent {
    let actor = Actor::system(OWN_SOURCE);
    let mut event = match before {
        None => user_event("user.create", actor, after, None),
        Some(before) => user_event("user.update", actor, after, Some(before)),
    };
    if let (Some(_), true, Some(Value::Object(changes))) = (before, password_changed, event.details.get_mut("changes"))
    {
        changes.insert("password".into(), json!({"from": "old", "to": "new"}));
    }
    event.source = Some(OWN_SOURCE.into());
    event
}

/// An `api_token.*` event: which token (never the token itself), its scopes and prefix.
pub fn token_event(action: &str, actor: Actor, token: &ApiToken) -> NewEvent {
    let mut details = Map::new();
    details.insert("scopes".into(), json!(token.scopes.to_list()));
    details.insert("prefix".into(), json!(token.prefix));
    if let Some(t) = &token.tenant {
        details.insert("tenant".into(), json!(t));
    }
    NewEvent {
        action: action.into(),
        actor: Some(actor),
        target: Some(Target {
            kind: "api_token".into(),
            id: Some(token.id.clone()),
            name: Some(token.name.clone()),
        }),
        details,
        ..NewEvent::default()
    }
}

/// A `webhook.*` change (`webhook.create`, `webhook.update`, `webhook.delete`): the endpoint's settings (never
/// its secret); with `before`, a `changes` diff of what differs.
pub fn webhook_event(
    action: &str,
    actor: Actor,
    id: &str,
    after: &WebhookSettings,
    before: Option<&WebhookSettings>,
) -> NewEvent {
    let settings = |s: &WebhookSettings| {
        json!({
            "url": s.url,
            "description": s.description,
            "actions": s.actions,
            "outcome": s.outcome.as_str(),
            "format": s.format.as_str(),
            "enabled": s.enabled,
        })
    };
    let mut details = Map::new();
    let now = settings(after);
    match before.map(settings) {
        Some(Value::Object(was)) => {
            let mut changes = Map::new();
            for (name, from) in was {
                let to = &now[name.as_str()];
                if &from != to {
                    changes.insert(name, json!({"from": from, "to": to}));
                }
            }
            details.insert("changes".into(), Value::Object(changes));
        }
        _ => {
            details.insert("webhook".into(), now);
        }
    }
    NewEvent {
        action: action.into(),
        actor: Some(actor),
        target: Some(webhook_target(id, &after.url)),
        details,
        ..NewEvent::default()
    }
}

/// `webhook.rotate_secret`: the endpoint signs with a new secret (and the previous one for `overlap_hours`).
pub fn webhook_secret_rotated(actor: Actor, id: &str, url: &str, overlap_hours: i64) -> NewEvent {
    let mut details = Map::new();
    details.insert("previous_secret_valid_hours".into(), json!(overlap_hours));
    NewEvent {
        action: "webhook.rotate_secret".into(),
        actor: Some(actor),
        target: Some(webhook_target(id, url)),
        details,
        ..NewEvent::default()
    }
}

/// `webhook.disabled`: the deliverer stopped sending to an endpoint, and why (`410 Gone`, or its last error
/// after failing for three days).
pub fn webhook_disabled(id: &str, url: &str, reason: &str, event_id: &str) -> NewEvent {
    let mut details = Map::new();
    details.insert("reason".into(), json!(reason));
    details.insert("event_id".into(), json!(event_id));
    own(
        "webhook.disabled",
        Outcome::Failure,
        Actor::system(OWN_SOURCE),
        Some(webhook_target(id, url)),
        details,
    )
}

fn webhook_target(id: &str, url: &str) -> Target {
    Target {
        kind: "webhook".into(),
        id: Some(id.to_string()),
        name: Some(url.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Role;

    #[test]
    fn a_failed_sign_in_keeps_what_was_typed_only_when_it_is_an_email_address() {
        let typed = |s: &str| sign_in_failed(s).details["attempted_email"].clone();
        assert_eq!(typed(" ann@example.com "), json!("ann@example.com"));
        assert_eq!(typed("hunter2-my-password"), json!("(not an email address)"));
        assert_eq!(typed("correct horse@battery staple"), json!("(not an email address)"));
        assert_eq!(typed("admin@localhost"), json!("admin@localhost"));
        assert_eq!(typed("a@b@c"), json!("(not an email address)"));
        assert_eq!(typed(""), json!("(empty)"));
    }

    #[test]
    fn a_user_update_records_only_what_changed() {
        let before = User {
            id: "1".into(),
            email: "a@x.org".into(),
            name: "Ann".into(),
            role: Role::Viewer,
            tenant: None,
        };
        let after = User {
            role: Role::Admin,
            ..before.clone()
        };
        let e = user_event("user.role_change", Actor::system("t"), &after, Some(&before));
        assert_eq!(e.details["changes"], json!({"role": {"from": "viewer", "to": "admin"}}));
        assert_eq!(e.target.unwrap().name.as_deref(), Some("a@x.org"));
        e_is_valid(user_event("user.create", Actor::system("t"), &after, None));
    }

    fn e_is_valid(e: NewEvent) {
        e.validate().expect("valid event");
    }
}
