//! Secrets never land: values under secret-looking keys are replaced before anything is stored.

use serde_json::{Map, Value};

pub const REDACTED: &str = "[REDACTED]";

const SECRET_MARKERS: [&str; 10] = [
    "password",
    "passwd",
    "secret",
    "token",
    "api_key",
    "apikey",
    "authorization",
    "cookie",
    "private_key",
    "credential",
];

/// True for a key that names a secret, however it is spelled: `api-key`, `X-Api-Key`, `private key`.
pub fn is_secret_key(key: &str) -> bool {
    let key: String = key
        .chars()
        .map(|c| match c {
            '-' | ' ' | '.' => '_',
            c => c.to_ascii_lowercase(),
        })
        .collect();
    SECRET_MARKERS.iter().any(|m| key.contains(m))
}

/// Redacts `details` in place, at any depth. Inside `changes`, a secret field keeps its `from`/`to` shape so the
/// diff still shows that it changed, but both sides read `[REDACTED]`.
pub fn redact_details(details: &mut Map<String, Value>) {
    for (key, value) in details.iter_mut() {
        if is_secret_key(key) {
            *value = Value::String(REDACTED.into());
        } else if key == "changes" {
            if let Value::Object(changes) = value {
                redact_changes(changes);
            } else {
                redact_value(value);
            }
        } else {
            redact_value(value);
        }
    }
}

fn redact_changes(changes: &mut Map<String, Value>) {
    for (field, change) in changes.iter_mut() {
        match change {
            Value::Object(sides) if is_secret_key(field) => {
                // Every side of the diff (`from`, `to`, anything else a client sent) is the secret.
                sides.values_mut().for_each(|v| *v = Value::String(REDACTED.into()));
            }
            _ if is_secret_key(field) => *change = Value::String(REDACTED.into()),
            other => redact_value(other),
        }
    }
}

fn redact_value(value: &mut Value) {
    match value {
        Value::Object(map) => redact_details(map),
        Value::Array(items) => items.iter_mut().for_each(redact_value),
        Value::String(text) => redact_json_text(text),
        _ => {}
    }
}

/// JSON written as a string value (a request body logged as text): its secrets are redacted too, and the
/// string is written again only when something in it was.
fn redact_json_text(text: &mut String) {
    let trimmed = text.trim_start();
    if !(trimmed.starts_with('{') || trimmed.starts_with('[')) {
        return;
    }
    let Ok(mut inner) = serde_json::from_str::<Value>(text) else {
        return;
    };
    let before = inner.clone();
    redact_value(&mut inner);
    if inner != before {
        *text = inner.to_string();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn redacted(v: Value) -> Value {
        let Value::Object(mut map) = v else {
            panic!("object expected")
        };
        redact_details(&mut map);
        Value::Object(map)
    }

    #[test]
    fn secret_keys_spelled_with_dashes_or_spaces_and_json_inside_strings_are_redacted() {
        let out = redacted(json!({
            "api-key": "k1",
            "X-Api-Key": "k2",
            "private key": "p",
            "credentials": {"user": "u", "pass": "x"},
            "body": "{\"password\": \"hunter2\", \"name\": \"a\"}",
            "text": "{not json, stays}",
            "list": "[{\"token\": \"t\"}]",
            "plain": "stays"
        }));
        assert_eq!(out["api-key"], REDACTED);
        assert_eq!(out["X-Api-Key"], REDACTED);
        assert_eq!(out["private key"], REDACTED);
        assert_eq!(out["credentials"], REDACTED);
        let body: Value = serde_json::from_str(out["body"].as_str().unwrap()).unwrap();
        assert_eq!(body, json!({"password": REDACTED, "name": "a"}));
        assert_eq!(out["text"], "{not json, stays}");
        assert_eq!(out["list"], json!([{"token": REDACTED}]).to_string());
        assert_eq!(out["plain"], "stays");
    }

    #[test]
    fn secret_keys_are_redacted_at_any_depth_and_case() {
        let out = redacted(json!({
            "user": {"name": "a", "Password": "hunter2", "nested": [{"API_KEY": "k"}, {"ok": 1}]},
            "smtp_secret": {"x": 1},
            "Authorization": "Bearer abc",
            "session_cookie": "c",
            "private_key_pem": "p",
            "plain": "stays"
        }));
        assert_eq!(
            out,
            json!({
                "user": {"name": "a", "Password": REDACTED, "nested": [{"API_KEY": REDACTED}, {"ok": 1}]},
                "smtp_secret": REDACTED,
                "Authorization": REDACTED,
                "session_cookie": REDACTED,
                "private_key_pem": REDACTED,
                "plain": "stays"
            })
        );
    }

    #[test]
    fn a_secret_field_in_changes_keeps_its_diff_shape() {
        let out = redacted(json!({
            "changes": {
                "password": {"from": "old", "to": "new"},
                "quota_mb": {"from": 1, "to": 2},
                "meta": {"from": {"api_token": "t"}, "to": null}
            }
        }));
        assert_eq!(
            out,
            json!({
                "changes": {
                    "password": {"from": REDACTED, "to": REDACTED},
                    "quota_mb": {"from": 1, "to": 2},
                    "meta": {"from": {"api_token": REDACTED}, "to": null}
                }
            })
        );
    }
}
