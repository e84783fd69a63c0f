//! Human labels for actions and categories (`Mailbox created`, `Mailboxes`): built in for the events the
//! product records about itself, extended by the host with a JSON file (`--action-catalog FILE`):
//!
//! ```json
//! { "categories": { "mailbox": "Mailboxes" }, "actions": { "mailbox.create": "Mailbox created" } }
//! ```
//!
//! The viewer shows a label where one is known and the key otherwise; the key stays in the title and the
//! detail, and is what filters, the URL and the API use.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{ActionKey, FieldError};

/// The longest label, in characters.
pub const MAX_LABEL_CHARS: usize = 100;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionCatalog {
    #[serde(default)]
    pub categories: BTreeMap<String, String>,
    #[serde(default)]
    pub actions: BTreeMap<String, String>,
}

/// The labels of the product's own events.
const BUILT_IN_CATEGORIES: [(&str, &str); 6] = [
    ("auth", "Sign-ins"),
    ("user", "Users"),
    ("api_token", "API tokens"),
    ("settings", "Settings"),
    ("audit", "Audit log"),
    ("webhook", "Webhooks"),
];

const BUILT_IN_ACTIONS: [(&str, &str); 21] = [
    ("auth.login", "Signed in"),
    ("auth.logout", "Signed out"),
    ("auth.password_change", "Password changed"),
    ("auth.ip_blocked", "Address blocked"),
    ("auth.ip_unblocked", "Address unblocked"),
    ("user.create", "User created"),
    ("user.update", "User updated"),
    ("user.role_change", "Role changed"),
    ("user.delete", "User deleted"),
    ("api_token.create", "API token created"),
    ("api_token.revoke", "API token revoked"),
    ("settings.update", "Settings changed"),
    ("audit.export", "Audit log exported"),
    ("audit.backup", "Audit log backed up"),
    ("audit.verify", "Audit log verified"),
    ("audit.retention_purge", "Old events purged"),
    ("webhook.create", "Webhook added"),
    ("webhook.update", "Webhook changed"),
    ("webhook.delete", "Webhook removed"),
    ("webhook.rotate_secret", "Webhook secret rotated"),
    ("webhook.disabled", "Webhook disabled"),
];

impl ActionCatalog {
    /// The labels of the product's own events.
    pub fn built_in() -> Self {
        let owned = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        ActionCatalog {
            categories: owned(&BUILT_IN_CATEGORIES),
            actions: owned(&BUILT_IN_ACTIONS),
        }
    }

    /// A host's catalog from its JSON text. A key that is not a category or an action, or a label that is
    /// empty or longer than `MAX_LABEL_CHARS`, is an error naming it (`actions.Mailbox`).
    pub fn from_json(text: &str) -> Result<Self, FieldError> {
        let catalog: ActionCatalog =
            serde_json::from_str(text).map_err(|e| FieldError::invalid("catalog", format!("is not a catalog: {e}")))?;
        for (category, label) in &catalog.categories {
            let field = format!("categories.{category}");
            // A category is an action's first part: an action of it with any verb is valid.
            if ActionKey::parse(&format!("{category}.x")).is_err() || category.contains('.') {
                return Err(FieldError::invalid(
                    field,
                    "is not a category (lowercase letters, digits and _)",
                ));
            }
            check_label(&field, label)?;
        }
        for (action, label) in &catalog.actions {
            let field = format!("actions.{action}");
            if ActionKey::parse(action).is_err() {
                return Err(FieldError::invalid(field, "is not an action key (`category.verb`)"));
            }
            check_label(&field, label)?;
        }
        Ok(catalog)
    }

    /// This catalog with `other`'s labels added, `other`'s winning where both have one.
    pub fn extended(mut self, other: ActionCatalog) -> Self {
        self.categories.extend(other.categories);
        self.actions.extend(other.actions);
        self
    }

    pub fn action_label(&self, action: &str) -> Option<&str> {
        self.actions.get(action).map(String::as_str)
    }

    pub fn category_label(&self, category: &str) -> Option<&str> {
        self.categories.get(category).map(String::as_str)
    }
}

fn check_label(field: &str, label: &str) -> Result<(), FieldError> {
    let n = label.trim().chars().count();
    if n == 0 || n > MAX_LABEL_CHARS {
        return Err(FieldError::invalid(
            field,
            format!("must be a label of 1 to {MAX_LABEL_CHARS} characters"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hosts_catalog_adds_to_the_built_in_labels_and_wins() {
        let host = ActionCatalog::from_json(
            r#"{"categories": {"mailbox": "Mailboxes"}, "actions": {"mailbox.create": "Mailbox created", "auth.login": "Logged in"}}"#,
        )
        .unwrap();
        let catalog = ActionCatalog::built_in().extended(host);
        assert_eq!(catalog.action_label("mailbox.create"), Some("Mailbox created"));
        assert_eq!(catalog.category_label("mailbox"), Some("Mailboxes"));
        assert_eq!(catalog.action_label("auth.login"), Some("Logged in"));
        assert_eq!(catalog.action_label("user.create"), Some("User created"));
        assert_eq!(catalog.action_label("mailbox.delete"), None);
    }

    #[test]
    fn a_bad_key_or_label_is_named() {
        for (json, field) in [
            (r#"{"actions": {"Mailbox": "x"}}"#, "actions.Mailbox"),
            (r#"{"actions": {"mailbox.create": ""}}"#, "actions.mailbox.create"),
            (r#"{"categories": {"mail.box": "x"}}"#, "categories.mail.box"),
            (r#"{"labels": {}}"#, "catalog"),
            ("[1]", "catalog"),
        ] {
            assert_eq!(ActionCatalog::from_json(json).unwrap_err().field, field, "{json}");
        }
    }
}
