//! The audit event of spec/events.md. Untrusted input is parsed into a `ValidEvent` (parse, don't validate);
//! the stored, returned and exported form is `Event`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{FieldError, RecordedBy, ip, redact, time};

pub const MAX_ACTION_LEN: usize = 100;
pub const MAX_USER_AGENT_LEN: usize = 1_000;
pub const MAX_TEXT_LEN: usize = 500;
pub const MAX_DETAILS_BYTES: usize = 64 * 1024;

/// An event as stored and returned: the canonical JSON of spec/events.md.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub id: String,
    pub timestamp: String,
    pub received_at: String,
    pub action: String,
    pub outcome: Outcome,
    pub actor: Actor,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<Target>,
    pub source: String,
    /// The tenant (customer, project, organisation) the event belongs to, when the log serves several.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(value_type = Object))]
    pub details: Map<String, Value>,
    /// Who put it in the log (server-set). Absent only in events not read from the store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded_by: Option<RecordedBy>,
    /// Its place in the log's Merkle tree, 0-based, in commit order (docs/trust.md). Not part of its leaf.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_index: Option<u64>,
}

impl Event {
    /// The `from`/`to` pairs of `details.changes`, in order, for the diff table.
    pub fn changes(&self) -> Vec<(String, Value, Value)> {
        let Some(Value::Object(changes)) = self.details.get("changes") else {
            return Vec::new();
        };
        changes
            .iter()
            .map(|(field, change)| {
                let side = |k: &str| change.get(k).cloned().unwrap_or(Value::Null);
                (field.clone(), side("from"), side("to"))
            })
            .collect()
    }
}

#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    #[default]
    Success,
    Failure,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "success" => Some(Outcome::Success),
            "failure" => Some(Outcome::Failure),
            _ => None,
        }
    }
}

#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActorType {
    User,
    ApiToken,
    System,
}

impl ActorType {
    pub const ALL: [ActorType; 3] = [ActorType::User, ActorType::ApiToken, ActorType::System];

    pub fn as_str(self) -> &'static str {
        match self {
            ActorType::User => "user",
            ActorType::ApiToken => "api_token",
            ActorType::System => "system",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// Who did it. At least one of `id`, `name`, `email` is present.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Actor {
    #[serde(rename = "type")]
    pub kind: ActorType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

impl Actor {
    pub fn system(name: &str) -> Self {
        Actor {
            kind: ActorType::System,
            id: None,
            name: Some(name.into()),
            email: None,
        }
    }

    /// What the table shows: the name, else the email, else the id.
    pub fn label(&self) -> String {
        self.name
            .clone()
            .or_else(|| self.email.clone())
            .or_else(|| self.id.clone())
            .unwrap_or_default()
    }
}

/// The affected thing.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Target {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// A valid action key: `category.verb`, lowercase, dotted, at most 100 characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ActionKey(String);

impl ActionKey {
    pub fn parse(s: &str) -> Result<Self, String> {
        if s.is_empty() {
            return Err("is required".into());
        }
        if s.chars().count() > MAX_ACTION_LEN {
            return Err(format!("must be at most {MAX_ACTION_LEN} characters"));
        }
        // spec/events.md's pattern is `^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$`, but its own action list has
        // `auth.2fa_enroll`: segments after the category may therefore start with a digit.
        let parts: Vec<&str> = s.split('.').collect();
        let part_ok = |(i, p): (usize, &&str)| {
            let mut chars = p.chars();
            let first_ok = match chars.next() {
                Some('a'..='z') => true,
                Some('0'..='9') => i > 0,
                _ => false,
            };
            first_ok && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        };
        if parts.len() < 2 || !parts.iter().enumerate().all(part_ok) {
            return Err(
                "must be a lowercase dotted key such as `mailbox.create` (category.verb, letters, digits and _)".into(),
            );
        }
        Ok(ActionKey(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part before the first dot.
    pub fn category(&self) -> &str {
        category_of(&self.0)
    }
}

pub fn category_of(action: &str) -> &str {
    action.split('.').next().unwrap_or(action)
}

/// The part of an action after its last dot, its *verb* (`delete` in `mailbox.delete`).
pub fn verb_of(action: &str) -> &str {
    action.rsplit('.').next().unwrap_or(action)
}

pub const MAX_TENANT_LEN: usize = 100;

/// A tenant's name: 1 to 100 characters of `[A-Za-z0-9._:-]`, or the message saying what is wrong with it.
pub fn parse_tenant(s: &str) -> Result<String, &'static str> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-');
    if s.is_empty() || s.len() > MAX_TENANT_LEN || !s.chars().all(allowed) {
        return Err("must be 1 to 100 characters of letters, digits, `.`, `_`, `:` and `-`");
    }
    Ok(s.to_string())
}

/// A ULID: 26 Crockford base-32 characters whose first is at most `7`. Returned uppercase.
pub fn parse_ulid(s: &str) -> Option<String> {
    // Crockford's base 32: digits and letters without I, L, O, U.
    let crockford =
        |c: u8| matches!(c, b'0'..=b'9' | b'A'..=b'H' | b'J' | b'K' | b'M' | b'N' | b'P'..=b'T' | b'V'..=b'Z');
    let upper = s.to_ascii_uppercase();
    let ok = upper.len() == 26 && upper.bytes().all(crockford) && upper.as_bytes()[0] <= b'7';
    ok.then_some(upper)
}

/// An event as a caller hands it in (the HTTP API after JSON parsing, the recorder, the importer).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NewEvent {
    pub id: Option<String>,
    pub timestamp: Option<DateTime<Utc>>,
    /// Only an import of this product's own export sets it (to restore an archive as it was); the API
    /// never reads it from the wire, the server sets it.
    pub received_at: Option<DateTime<Utc>>,
    pub action: String,
    pub outcome: Outcome,
    pub actor: Option<Actor>,
    pub target: Option<Target>,
    pub source: Option<String>,
    pub tenant: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub details: Map<String, Value>,
}

/// An event that passed every rule, redacted, ready to store. Only `NewEvent::validate` makes one.
#[derive(Clone, Debug, PartialEq)]
pub struct ValidEvent {
    pub id: Option<String>,
    pub timestamp: Option<DateTime<Utc>>,
    pub received_at: Option<DateTime<Utc>>,
    pub action: ActionKey,
    pub outcome: Outcome,
    pub actor: Actor,
    pub target: Option<Target>,
    pub source: String,
    pub tenant: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// Serialized, redacted `details`.
    pub details_json: String,
    /// One short line for the table's Details column, so a page of results never reads the details JSON.
    pub summary: String,
    /// Who records it: the product itself unless the store's caller says otherwise (never the event's sender).
    pub recorded_by: RecordedBy,
}

impl ValidEvent {
    /// The event as it will be stored with this id and these times (Unix ms), before it has a log index:
    /// what its leaf is made from.
    pub fn to_event(&self, id: &str, ts: i64, received_at: i64) -> Event {
        Event {
            id: id.into(),
            timestamp: time::format_millis(ts),
            received_at: time::format_millis(received_at),
            action: self.action.as_str().into(),
            outcome: self.outcome,
            actor: self.actor.clone(),
            target: self.target.clone(),
            source: self.source.clone(),
            tenant: self.tenant.clone(),
            ip: self.ip.clone(),
            user_agent: self.user_agent.clone(),
            // Written by `validate` from a map: it reads back.
            details: serde_json::from_str(&self.details_json).unwrap_or_default(),
            recorded_by: Some(self.recorded_by.clone()),
            log_index: None,
        }
    }
}

fn check_text(field: &str, value: Option<String>, max: usize) -> Result<Option<String>, FieldError> {
    match value {
        Some(v) if v.chars().count() > max => {
            Err(FieldError::invalid(field, format!("must be at most {max} characters")))
        }
        Some(v) if v.trim().is_empty() => Ok(None),
        other => Ok(other),
    }
}

fn check_key(field: &str, value: &str) -> Result<(), FieldError> {
    let mut chars = value.chars();
    let ok = matches!(chars.next(), Some('a'..='z'))
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
        && value.len() <= 100;
    if ok {
        Ok(())
    } else {
        Err(FieldError::invalid(
            field,
            "must be a lowercase key such as `mailbox` (letters, digits, _ and -)",
        ))
    }
}

impl NewEvent {
    pub fn validate(self) -> Result<ValidEvent, FieldError> {
        let id = match self.id {
            Some(id) => Some(parse_ulid(&id).ok_or_else(|| FieldError::invalid("id", "must be a ULID"))?),
            None => None,
        };
        let action = ActionKey::parse(&self.action).map_err(|m| FieldError::invalid("action", m))?;
        let actor = self.actor.ok_or_else(|| FieldError::invalid("actor", "is required"))?;
        let actor = Actor {
            kind: actor.kind,
            id: check_text("actor.id", actor.id, MAX_TEXT_LEN)?,
            name: check_text("actor.name", actor.name, MAX_TEXT_LEN)?,
            email: check_text("actor.email", actor.email, MAX_TEXT_LEN)?,
        };
        if actor.id.is_none() && actor.name.is_none() && actor.email.is_none() {
            return Err(FieldError::invalid("actor", "needs at least one of id, name, email"));
        }
        let target = match self.target {
            Some(t) => {
                check_key("target.type", &t.kind)?;
                Some(Target {
                    kind: t.kind,
                    id: check_text("target.id", t.id, MAX_TEXT_LEN)?,
                    name: check_text("target.name", t.name, MAX_TEXT_LEN)?,
                })
            }
            None => None,
        };
        let source = match check_text("source", self.source, 100)? {
            Some(s) => s,
            None => "default".into(),
        };
        let tenant = match self.tenant {
            Some(t) => Some(parse_tenant(&t).map_err(|m| FieldError::invalid("tenant", m))?),
            None => None,
        };
        let ip = match self.ip.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(raw) => {
                Some(ip::canonical(raw).ok_or_else(|| FieldError::invalid("ip", "must be an IPv4 or IPv6 address"))?)
            }
            None => None,
        };
        let user_agent = check_text("user_agent", self.user_agent, MAX_USER_AGENT_LEN)?;
        let mut details = self.details;
        redact::redact_details(&mut details);
        let details_json = serde_json::to_string(&details).unwrap_or_else(|_| "{}".into());
        if details_json.len() > MAX_DETAILS_BYTES {
            return Err(FieldError::invalid("details", "must be at most 64 KiB when serialized"));
        }
        let summary = summarize(&details);
        Ok(ValidEvent {
            id,
            timestamp: self.timestamp.map(|t| time::from_millis(time::to_millis(t))),
            received_at: self.received_at.map(|t| time::from_millis(time::to_millis(t))),
            action,
            outcome: self.outcome,
            actor,
            target,
            source,
            tenant,
            ip,
            user_agent,
            details_json,
            summary,
            recorded_by: RecordedBy::system(),
        })
    }

    /// Reads one event from untrusted JSON, naming the field of the first problem.
    pub fn from_json(value: Value) -> Result<NewEvent, FieldError> {
        let Value::Object(mut obj) = value else {
            return Err(FieldError::invalid("", "an event must be a JSON object"));
        };
        // Taken out whole (not copied): it is the largest part of an event.
        let details = match obj.remove("details") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(m)) => m,
            Some(_) => return Err(FieldError::invalid("details", "must be a JSON object")),
        };
        let text = |field: &str| -> Result<Option<String>, FieldError> {
            opt_string(obj.get(field)).map_err(|m| FieldError::invalid(field, m))
        };
        let timestamp = match text("timestamp")? {
            Some(s) => Some(time::parse_rfc3339(&s).ok_or_else(|| {
                FieldError::invalid(
                    "timestamp",
                    "must be an RFC 3339 date-time such as 2026-06-24T10:22:11.123Z",
                )
            })?),
            None => None,
        };
        let outcome = match text("outcome")? {
            Some(s) => {
                Outcome::parse(&s).ok_or_else(|| FieldError::invalid("outcome", "must be `success` or `failure`"))?
            }
            None => Outcome::Success,
        };
        let actor = match obj.get("actor") {
            None | Some(Value::Null) => None,
            Some(v) => Some(actor_from_json(v).map_err(|e| e.under("actor"))?),
        };
        let target = match obj.get("target") {
            None | Some(Value::Null) => None,
            Some(v) => Some(target_from_json(v).map_err(|e| e.under("target"))?),
        };
        Ok(NewEvent {
            id: text("id")?,
            timestamp,
            received_at: None,
            action: text("action")?.unwrap_or_default(),
            outcome,
            actor,
            target,
            source: text("source")?,
            tenant: text("tenant")?,
            ip: text("ip")?,
            user_agent: text("user_agent")?,
            details,
        })
    }
}

/// An optional text field of untrusted JSON: a string, or a number taken as its text; `null` or absent is
/// `None`; anything else is an error message.
pub fn opt_string(v: Option<&Value>) -> Result<Option<String>, String> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(_) => Err("must be a string".into()),
    }
}

fn actor_from_json(v: &Value) -> Result<Actor, FieldError> {
    let obj = v
        .as_object()
        .ok_or_else(|| FieldError::invalid("", "must be an object with `type`"))?;
    let field = |f: &str| opt_string(obj.get(f)).map_err(|m| FieldError::invalid(f, m));
    let kind = match field("type")? {
        Some(t) => ActorType::parse(&t)
            .ok_or_else(|| FieldError::invalid("type", "must be `user`, `api_token` or `system`"))?,
        None => return Err(FieldError::invalid("type", "is required")),
    };
    Ok(Actor {
        kind,
        id: field("id")?,
        name: field("name")?,
        email: field("email")?,
    })
}

fn target_from_json(v: &Value) -> Result<Target, FieldError> {
    let obj = v
        .as_object()
        .ok_or_else(|| FieldError::invalid("", "must be an object with `type`"))?;
    let field = |f: &str| opt_string(obj.get(f)).map_err(|m| FieldError::invalid(f, m));
    let kind = field("type")?.ok_or_else(|| FieldError::invalid("type", "is required"))?;
    Ok(Target {
        kind,
        id: field("id")?,
        name: field("name")?,
    })
}

/// A JSON value as a person reads it: a string without its quotes, `null` as `null_text`, anything else as JSON.
pub fn value_text(v: &Value, null_text: &str) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => null_text.into(),
        other => other.to_string(),
    }
}

/// A one-line digest of `details`: the changed fields with their new values, else the top-level members.
pub fn summarize(details: &Map<String, Value>) -> String {
    const MAX: usize = 160;
    let scalar = |v: &Value| value_text(v, "∅");
    let mut parts: Vec<String> = Vec::new();
    if let Some(Value::Object(changes)) = details.get("changes") {
        for (field, change) in changes {
            let from = change.get("from").map(scalar).unwrap_or_default();
            let to = change.get("to").map(scalar).unwrap_or_default();
            parts.push(format!("{field}: {from} → {to}"));
        }
    }
    for (k, v) in details.iter().filter(|(k, _)| k.as_str() != "changes") {
        parts.push(format!("{k}: {}", scalar(v)));
    }
    let line = parts.join(", ");
    if line.chars().count() > MAX {
        let cut: String = line.chars().take(MAX - 1).collect();
        format!("{cut}…")
    } else {
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> Result<ValidEvent, FieldError> {
        NewEvent::from_json(v)?.validate()
    }

    fn minimal() -> Value {
        json!({"action": "mailbox.create", "actor": {"type": "user", "id": "42"}})
    }

    fn with(field: &str, value: Value) -> Value {
        let mut v = minimal();
        v[field] = value;
        v
    }

    fn field_of(v: Value) -> String {
        parse(v).expect_err("should be rejected").field
    }

    #[test]
    fn a_minimal_event_gets_defaults() {
        let e = parse(minimal()).unwrap();
        assert_eq!(e.action.category(), "mailbox");
        assert_eq!(e.outcome, Outcome::Success);
        assert_eq!(e.source, "default");
        assert_eq!(e.details_json, "{}");
        assert!(e.id.is_none() && e.timestamp.is_none());
    }

    #[test]
    fn action_without_category_is_rejected() {
        assert!(ActionKey::parse("login").is_err());
    }

    #[test]
    fn action_key_rules() {
        for bad in [
            "",
            "Mailbox.create",
            "mailbox.",
            ".create",
            "mailbox..create",
            "1x.y",
            "mail box.create",
            "a.b-c",
            "2fa.enroll",
        ] {
            assert!(ActionKey::parse(bad).is_err(), "{bad:?} should be rejected");
        }
        for good in [
            "a.b",
            "api_token.create",
            "dns.record.update",
            "x1.y2_z",
            "auth.2fa_enroll",
        ] {
            assert!(ActionKey::parse(good).is_ok(), "{good:?} should be accepted");
        }
        assert!(ActionKey::parse(&format!("a.{}", "b".repeat(98))).is_ok());
        assert!(ActionKey::parse(&format!("a.{}", "b".repeat(99))).is_err());
        assert_eq!(ActionKey::parse("dns.record.update").unwrap().category(), "dns");
    }

    #[test]
    fn each_rule_names_its_field() {
        let cases: Vec<(Value, &str)> = vec![
            (with("action", json!("Bad")), "action"),
            (with("action", json!(5)), "action"),
            (json!({"actor": {"type": "user", "id": "1"}}), "action"),
            (json!({"action": "a.b"}), "actor"),
            (with("actor", json!({"type": "robot", "id": "1"})), "actor.type"),
            (with("actor", json!({"id": "1"})), "actor.type"),
            (with("actor", json!({"type": "user"})), "actor"),
            (with("actor", json!("bob")), "actor"),
            (with("actor", json!({"type": "user", "name": ["x"]})), "actor.name"),
            (
                with("actor", json!({"type": "user", "id": "x".repeat(501)})),
                "actor.id",
            ),
            (with("target", json!({"id": "1"})), "target.type"),
            (with("target", json!({"type": "Mail Box"})), "target.type"),
            (with("outcome", json!("ok")), "outcome"),
            (with("ip", json!("10.0.0.256")), "ip"),
            (with("ip", json!("localhost")), "ip"),
            (with("user_agent", json!("u".repeat(1001))), "user_agent"),
            (with("details", json!([1, 2])), "details"),
            (with("details", json!({"blob": "x".repeat(70_000)})), "details"),
            (with("timestamp", json!("yesterday")), "timestamp"),
            (with("id", json!("not-a-ulid")), "id"),
            (with("id", json!("81JB8Q4K7N2X5S3V9T0R1C6M2D")), "id"),
            (with("source", json!("s".repeat(101))), "source"),
        ];
        for (input, field) in cases {
            assert_eq!(field_of(input.clone()), field, "input {input}");
        }
    }

    #[test]
    fn ip_is_stored_in_canonical_form() {
        let e = parse(with("ip", json!("2001:0db8::0001"))).unwrap();
        assert_eq!(e.ip.as_deref(), Some("2001:db8::1"));
    }

    #[test]
    fn secrets_in_details_never_reach_the_stored_json() {
        let e = parse(with(
            "details",
            json!({"changes": {"password": {"from": "a", "to": "b"}}, "token": "t"}),
        ))
        .unwrap();
        assert!(!e.details_json.contains("\"a\"") && !e.details_json.contains("\"t\""));
        assert!(e.details_json.contains(redact::REDACTED));
    }

    #[test]
    fn ids_are_normalised_to_uppercase() {
        let e = parse(with("id", json!("01jb8q4k7n2x5s3v9t0r1c6m2d"))).unwrap();
        assert_eq!(e.id.as_deref(), Some("01JB8Q4K7N2X5S3V9T0R1C6M2D"));
    }

    #[test]
    fn summary_lists_changes_first() {
        let d = json!({"quota_mb": 2048, "changes": {"quota_mb": {"from": 1024, "to": 2048}}});
        let Value::Object(map) = d else { unreachable!() };
        assert_eq!(summarize(&map), "quota_mb: 1024 → 2048, quota_mb: 2048");
    }
}
