//! The events the product records about its own users and tokens, built the same way whether the panel or
//! the command line caused them.

use serde_json::{Map, Value, json};

use super::{Actor, NewEvent, Target, User, token::ApiToken};

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
        target: Some(Target {
            kind: "user".into(),
            id: Some(user.id.clone()),
            name: Some(user.email.clone()),
        }),
        details,
        ..NewEvent::default()
    }
}

/// An `api_token.*` event: which token (never the token itself), its scopes and prefix.
pub fn token_event(action: &str, actor: Actor, token: &ApiToken) -> NewEvent {
    let mut details = Map::new();
    details.insert("scopes".into(), json!(token.scopes.to_list()));
    details.insert("prefix".into(), json!(token.prefix));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Role;

    #[test]
    fn a_user_update_records_only_what_changed() {
        let before = User {
            id: "1".into(),
            email: "a@x.org".into(),
            name: "Ann".into(),
            role: Role::Viewer,
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
