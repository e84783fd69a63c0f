//! Webhook endpoints: what one subscribes to and where it sends, how it is listed (its secret only once, at
//! creation), and the deliveries it shows. The URL's destination (public address or not) is checked by the
//! server, which resolves it.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{ActionKey, FieldError};

/// At most this many action patterns per endpoint.
pub const MAX_PATTERNS: usize = 100;
pub const MAX_URL_LEN: usize = 2_000;
pub const MAX_DESCRIPTION_CHARS: usize = 200;

/// Which outcomes an endpoint receives.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeFilter {
    #[default]
    Any,
    Success,
    Failure,
}

impl OutcomeFilter {
    pub fn as_str(self) -> &'static str {
        match self {
            OutcomeFilter::Any => "any",
            OutcomeFilter::Success => "success",
            OutcomeFilter::Failure => "failure",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [OutcomeFilter::Any, OutcomeFilter::Success, OutcomeFilter::Failure]
            .into_iter()
            .find(|o| o.as_str() == s)
    }
}

/// How a delivery's body is written.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookFormat {
    /// Standard Webhooks 1.0: `{"type", "timestamp", "data"}`, signed.
    #[default]
    Standard,
    /// `{"text": "..."}`, which Slack, Mattermost and Discord (`/slack`) post as a message.
    Chat,
}

impl WebhookFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookFormat::Standard => "standard",
            WebhookFormat::Chat => "chat",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [WebhookFormat::Standard, WebhookFormat::Chat]
            .into_iter()
            .find(|f| f.as_str() == s)
    }
}

/// An endpoint's settings: everything an admin chooses.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WebhookSettings {
    pub url: String,
    pub description: String,
    /// Patterns: `*`, a category's `auth.*`, or an action `user.delete`.
    pub actions: Vec<String>,
    pub outcome: OutcomeFilter,
    pub format: WebhookFormat,
    pub enabled: bool,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        WebhookSettings {
            url: String::new(),
            description: String::new(),
            actions: vec!["*".into()],
            outcome: OutcomeFilter::Any,
            format: WebhookFormat::Standard,
            enabled: true,
        }
    }
}

impl WebhookSettings {
    /// True when an event with this action and outcome goes to the endpoint.
    pub fn matches(&self, action: &str, outcome: &str) -> bool {
        let outcome_ok = match self.outcome {
            OutcomeFilter::Any => true,
            other => other.as_str() == outcome,
        };
        outcome_ok && self.actions.iter().any(|p| pattern_matches(p, action))
    }

    /// The settings with each field checked (an error names it): a URL of at most `MAX_URL_LEN` characters
    /// starting `https://` or `http://`, a description of at most `MAX_DESCRIPTION_CHARS`, 1 to
    /// `MAX_PATTERNS` valid patterns (duplicates dropped).
    pub fn checked(mut self) -> Result<Self, FieldError> {
        self.url = self.url.trim().to_string();
        let lower = self.url.to_ascii_lowercase();
        if !(lower.starts_with("https://") || lower.starts_with("http://")) {
            return Err(FieldError::invalid("url", "must start with https:// (or http://)"));
        }
        if self.url.chars().count() > MAX_URL_LEN || self.url.chars().any(char::is_whitespace) {
            return Err(FieldError::invalid(
                "url",
                format!("must be at most {MAX_URL_LEN} characters, without spaces"),
            ));
        }
        self.description = self.description.trim().to_string();
        if self.description.chars().count() > MAX_DESCRIPTION_CHARS {
            return Err(FieldError::invalid(
                "description",
                format!("must be at most {MAX_DESCRIPTION_CHARS} characters"),
            ));
        }
        let mut patterns: Vec<String> = Vec::new();
        for p in self.actions.iter().map(|p| p.trim()).filter(|p| !p.is_empty()) {
            check_pattern(p)?;
            if !patterns.iter().any(|q| q == p) {
                patterns.push(p.to_string());
            }
        }
        if patterns.is_empty() {
            patterns.push("*".into());
        }
        if patterns.len() > MAX_PATTERNS {
            return Err(FieldError::invalid(
                "actions",
                format!("at most {MAX_PATTERNS} patterns"),
            ));
        }
        self.actions = patterns;
        Ok(self)
    }
}

/// True when `pattern` (`*`, `auth.*`, `user.delete`) covers `action`.
pub fn pattern_matches(pattern: &str, action: &str) -> bool {
    match pattern.strip_suffix(".*") {
        _ if pattern == "*" => true,
        Some(prefix) => {
            action.len() > prefix.len() && action.starts_with(prefix) && action[prefix.len()..].starts_with('.')
        }
        None => pattern == action,
    }
}

fn check_pattern(p: &str) -> Result<(), FieldError> {
    if p == "*" {
        return Ok(());
    }
    let as_action = match p.strip_suffix(".*") {
        Some(prefix) => format!("{prefix}.x"),
        None => p.to_string(),
    };
    ActionKey::parse(&as_action).map(|_| ()).map_err(|_| {
        FieldError::invalid(
            "actions",
            format!("`{p}` is not a pattern: use `*`, a category such as `auth.*`, or an action such as `user.delete`"),
        )
    })
}

/// A change to an endpoint's settings: each field given replaces the current one. Read from JSON by
/// `from_json`, which names the field that is wrong.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WebhookPatch {
    pub url: Option<String>,
    pub description: Option<String>,
    pub actions: Option<Vec<String>>,
    pub outcome: Option<OutcomeFilter>,
    pub format: Option<WebhookFormat>,
    pub enabled: Option<bool>,
}

impl WebhookPatch {
    /// The patch in a JSON object such as `{"url": "https://…", "actions": ["auth.*"], "enabled": false}`;
    /// an unknown member is an error too.
    pub fn from_json(value: &Value) -> Result<Self, FieldError> {
        let Value::Object(members) = value else {
            return Err(FieldError::invalid("body", "must be a JSON object"));
        };
        let mut patch = WebhookPatch::default();
        for (name, v) in members {
            let text = || {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| FieldError::invalid(name.as_str(), "must be a string"))
            };
            match name.as_str() {
                "url" => patch.url = Some(text()?),
                "description" => patch.description = Some(text()?),
                "actions" => {
                    let list = v
                        .as_array()
                        .and_then(|a| {
                            a.iter()
                                .map(|p| p.as_str().map(str::to_string))
                                .collect::<Option<Vec<_>>>()
                        })
                        .ok_or_else(|| {
                            FieldError::invalid("actions", "must be a list of patterns such as [\"auth.*\"]")
                        })?;
                    patch.actions = Some(list);
                }
                "outcome" => {
                    let o = text()?;
                    patch.outcome = Some(
                        OutcomeFilter::parse(&o)
                            .ok_or_else(|| FieldError::invalid("outcome", "must be `any`, `success` or `failure`"))?,
                    );
                }
                "format" => {
                    let f = text()?;
                    patch.format = Some(
                        WebhookFormat::parse(&f)
                            .ok_or_else(|| FieldError::invalid("format", "must be `standard` or `chat`"))?,
                    );
                }
                "enabled" => {
                    patch.enabled = Some(
                        v.as_bool()
                            .ok_or_else(|| FieldError::invalid("enabled", "must be true or false"))?,
                    )
                }
                other => {
                    return Err(FieldError::invalid(
                        other,
                        "is not a field of a webhook (url, description, actions, outcome, format, enabled)",
                    ));
                }
            }
        }
        Ok(patch)
    }

    /// `settings` with this patch applied (unchecked).
    pub fn apply(self, settings: &WebhookSettings) -> WebhookSettings {
        let s = settings.clone();
        WebhookSettings {
            url: self.url.unwrap_or(s.url),
            description: self.description.unwrap_or(s.description),
            actions: self.actions.unwrap_or(s.actions),
            outcome: self.outcome.unwrap_or(s.outcome),
            format: self.format.unwrap_or(s.format),
            enabled: self.enabled.unwrap_or(s.enabled),
        }
    }
}

/// How an endpoint is doing.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookState {
    /// Its last delivery succeeded (or it has had none).
    Healthy,
    /// An event is failing and is being retried.
    Retrying,
    /// It receives nothing: switched off, or disabled after a 410 or three days of failures.
    Disabled,
}

impl WebhookState {
    pub fn label(self) -> &'static str {
        match self {
            WebhookState::Healthy => "Healthy",
            WebhookState::Retrying => "Retrying",
            WebhookState::Disabled => "Disabled",
        }
    }
}

/// An endpoint as listed: never its secret.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Webhook {
    pub id: String,
    #[serde(flatten)]
    pub settings: WebhookSettings,
    pub state: WebhookState,
    /// Why it was disabled, when it was by the deliverer (`410 Gone`, failing for 3 days).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disabled_reason: Option<String>,
    /// The last failure of the event being retried.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// RFC 3339.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failing_since: Option<String>,
    pub created_at: String,
}

/// One attempt to deliver an event.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    pub event_id: String,
    /// 1 for the first attempt of an event.
    pub attempt: u32,
    /// RFC 3339.
    pub at: String,
    /// The HTTP status, when an answer came.
    pub status: Option<u16>,
    pub latency_ms: u64,
    /// Why it failed (a status other than 2xx, a timeout, a refused connection); none on success.
    pub error: Option<String>,
}

impl Delivery {
    pub fn succeeded(&self) -> bool {
        self.error.is_none()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn patterns_cover_a_category_an_action_or_everything() {
        assert!(pattern_matches("*", "user.delete"));
        assert!(pattern_matches("auth.*", "auth.login"));
        assert!(pattern_matches("auth.*", "auth.2fa.enroll"));
        assert!(!pattern_matches("auth.*", "authz.login"));
        assert!(!pattern_matches("auth.*", "auth"));
        assert!(pattern_matches("user.delete", "user.delete"));
        assert!(!pattern_matches("user.delete", "user.deleted"));
    }

    #[test]
    fn settings_match_patterns_and_outcome() {
        let s = WebhookSettings {
            actions: vec!["auth.*".into(), "user.delete".into()],
            outcome: OutcomeFilter::Failure,
            ..WebhookSettings::default()
        };
        assert!(s.matches("auth.login", "failure"));
        assert!(!s.matches("auth.login", "success"));
        assert!(s.matches("user.delete", "failure"));
        assert!(!s.matches("user.create", "failure"));
    }

    #[test]
    fn a_wrong_field_is_named() {
        let field = |v: Value| WebhookPatch::from_json(&v).unwrap_err().field;
        assert_eq!(field(json!({"outcome": "sometimes"})), "outcome");
        assert_eq!(field(json!({"format": "xml"})), "format");
        assert_eq!(field(json!({"actions": "auth.*"})), "actions");
        assert_eq!(field(json!({"enabled": "yes"})), "enabled");
        assert_eq!(field(json!({"secret": "x"})), "secret");
        let checked = |url: &str, actions: &[&str]| {
            WebhookSettings {
                url: url.into(),
                actions: actions.iter().map(|a| a.to_string()).collect(),
                ..WebhookSettings::default()
            }
            .checked()
        };
        assert_eq!(checked("ftp://x", &["*"]).unwrap_err().field, "url");
        assert_eq!(checked("https://x/a b", &["*"]).unwrap_err().field, "url");
        assert_eq!(checked("https://x", &["Auth.*"]).unwrap_err().field, "actions");
        assert_eq!(checked("https://x", &["auth"]).unwrap_err().field, "actions");
        let ok = checked(" https://x ", &["auth.*", " auth.* ", ""]).unwrap();
        assert_eq!((ok.url.as_str(), ok.actions), ("https://x", vec!["auth.*".to_string()]));
        assert_eq!(checked("https://x", &[]).unwrap().actions, vec!["*".to_string()]);
    }
}
