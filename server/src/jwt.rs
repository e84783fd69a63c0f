//! The host's sign-in, trusted: a short-lived JWT that the host panel signs for the person looking, HS256
//! with a shared secret (`AUDITLOG_JWT_SECRET`) or EdDSA / RS256 with the public keys of a JWKS file
//! (`AUDITLOG_JWT_JWKS_FILE`). Verification is `jsonwebtoken`'s; this file chooses the key, states what a
//! token must carry, and names why one is refused.

use std::collections::HashMap;

use app::model::{Role, User};
use jsonwebtoken::{
    Algorithm, DecodingKey, Validation, decode, decode_header,
    errors::ErrorKind,
    jwk::{JwkSet, KeyAlgorithm},
};
use serde::Deserialize;

/// A token may say it is valid for at most this long: a host mints them for one visit.
pub const MAX_LIFETIME_MS: i64 = 12 * 3_600_000;

/// What a token carries.
#[derive(Debug, Deserialize)]
struct Claims {
    sub: Option<String>,
    name: Option<String>,
    email: Option<String>,
    role: Option<String>,
    tenant: Option<String>,
    exp: i64,
}

/// Why a token was refused: the reason recorded with the `auth.login` failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    Expired,
    BadSignature,
    /// `alg: none` (an unsigned token).
    AlgNone,
    /// An algorithm other than HS256, EdDSA and RS256, or one this server has no key for.
    UnsupportedAlgorithm,
    /// A `kid` that is not in the JWKS.
    UnknownKey,
    WrongAudience,
    RoleMissing,
    SubjectMissing,
    /// `exp` more than 12 hours ahead.
    TooLongLived,
    /// A `tenant` claim that is not a tenant's name (1 to 100 of `[A-Za-z0-9._:-]`).
    BadTenant,
    Malformed,
}

impl Refusal {
    pub fn reason(self) -> &'static str {
        match self {
            Refusal::Expired => "expired",
            Refusal::BadSignature => "bad_signature",
            Refusal::AlgNone => "alg_none",
            Refusal::UnsupportedAlgorithm => "unsupported_algorithm",
            Refusal::UnknownKey => "unknown_key",
            Refusal::WrongAudience => "wrong_audience",
            Refusal::RoleMissing => "role_missing",
            Refusal::SubjectMissing => "subject_missing",
            Refusal::TooLongLived => "expires_too_late",
            Refusal::BadTenant => "bad_tenant",
            Refusal::Malformed => "malformed",
        }
    }
}

/// A verified token: who is looking, and until when the host vouches for it (Unix ms).
#[derive(Clone, Debug)]
pub struct Verified {
    pub viewer: User,
    pub expires_at: i64,
}

/// The keys a host's tokens are checked against.
pub struct HostTokens {
    secret: Option<DecodingKey>,
    /// By `kid`: the algorithm the key is for, and the key.
    keys: HashMap<String, (Algorithm, DecodingKey)>,
    audience: Option<String>,
}

impl std::fmt::Debug for HostTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostTokens")
            .field("secret", &self.secret.is_some())
            .field("keys", &self.keys.keys().collect::<Vec<_>>())
            .field("audience", &self.audience)
            .finish()
    }
}

impl HostTokens {
    /// The verifier of a configuration, or `None` when neither a secret nor a JWKS is set. A JWKS that cannot
    /// be read, or a key in it that is not an Ed25519 or RSA signing key with a `kid`, is an error naming it.
    pub fn new(secret: Option<&str>, jwks: Option<&str>, audience: Option<String>) -> Result<Option<Self>, String> {
        if secret.is_none() && jwks.is_none() {
            return Ok(None);
        }
        if secret.is_some_and(|s| s.len() < 32) {
            return Err("AUDITLOG_JWT_SECRET: must be at least 32 characters".into());
        }
        let mut keys = HashMap::new();
        if let Some(text) = jwks {
            let set: JwkSet = serde_json::from_str(text).map_err(|e| format!("the JWKS is not a key set: {e}"))?;
            for jwk in &set.keys {
                let kid = jwk.common.key_id.clone().ok_or("a key of the JWKS has no `kid`")?;
                let alg = match jwk.common.key_algorithm {
                    Some(KeyAlgorithm::EdDSA) => Algorithm::EdDSA,
                    Some(KeyAlgorithm::RS256) => Algorithm::RS256,
                    other => return Err(format!("JWKS key {kid}: `alg` must be EdDSA or RS256, not {other:?}")),
                };
                let key = DecodingKey::from_jwk(jwk).map_err(|e| format!("JWKS key {kid}: {e}"))?;
                keys.insert(kid, (alg, key));
            }
        }
        Ok(Some(HostTokens {
            secret: secret.map(|s| DecodingKey::from_secret(s.as_bytes())),
            keys,
            audience,
        }))
    }

    /// Checks `token` at `now` (Unix ms).
    pub fn verify(&self, token: &str, now: i64) -> Result<Verified, Refusal> {
        let header = decode_header(token).map_err(|_| unsigned_or_malformed(token))?;
        let key = match header.alg {
            Algorithm::HS256 => self.secret.as_ref().ok_or(Refusal::UnsupportedAlgorithm)?,
            Algorithm::EdDSA | Algorithm::RS256 => {
                let kid = header.kid.as_deref().ok_or(Refusal::UnknownKey)?;
                match self.keys.get(kid) {
                    Some((alg, key)) if *alg == header.alg => key,
                    _ => return Err(Refusal::UnknownKey),
                }
            }
            _ => return Err(Refusal::UnsupportedAlgorithm),
        };
        let mut validation = Validation::new(header.alg);
        validation.leeway = 30;
        match &self.audience {
            Some(aud) => {
                validation.set_required_spec_claims(&["exp", "aud"]);
                validation.set_audience(&[aud]);
            }
            None => {
                validation.set_required_spec_claims(&["exp"]);
                validation.validate_aud = false;
            }
        }
        let claims = decode::<Claims>(token, key, &validation)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => Refusal::Expired,
                ErrorKind::InvalidSignature => Refusal::BadSignature,
                ErrorKind::InvalidAudience => Refusal::WrongAudience,
                ErrorKind::MissingRequiredClaim(c) if c == "aud" => Refusal::WrongAudience,
                _ => Refusal::Malformed,
            })?
            .claims;
        let expires_at = claims.exp.saturating_mul(1_000);
        if expires_at - now > MAX_LIFETIME_MS {
            return Err(Refusal::TooLongLived);
        }
        let tenant = match claims.tenant.as_deref() {
            Some(t) => Some(app::model::event::parse_tenant(t).map_err(|_| Refusal::BadTenant)?),
            None => None,
        };
        let role = claims
            .role
            .as_deref()
            .and_then(Role::parse)
            .ok_or(Refusal::RoleMissing)?;
        let sub = claims
            .sub
            .filter(|s| !s.trim().is_empty())
            .ok_or(Refusal::SubjectMissing)?;
        let clip = |s: String| s.chars().take(200).collect::<String>();
        Ok(Verified {
            viewer: User {
                id: clip(format!("host:{sub}")),
                email: clip(claims.email.unwrap_or_default()),
                name: clip(claims.name.unwrap_or_default()),
                role,
                tenant,
            },
            expires_at,
        })
    }
}

/// A header `jsonwebtoken` cannot read: `alg: none` (which it has no name for) or not a JWT at all.
fn unsigned_or_malformed(token: &str) -> Refusal {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    let header = token.split('.').next().and_then(|h| URL_SAFE_NO_PAD.decode(h).ok());
    let alg = header
        .and_then(|h| serde_json::from_slice::<serde_json::Value>(&h).ok())
        .and_then(|h| h.get("alg").and_then(|a| a.as_str()).map(str::to_ascii_lowercase));
    match alg.as_deref() {
        Some("none") => Refusal::AlgNone,
        Some(_) => Refusal::UnsupportedAlgorithm,
        None => Refusal::Malformed,
    }
}

/// The `sub` a token claims, read without trusting it (for the record of a refusal).
pub fn claimed_subject(token: &str) -> Option<String> {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    let payload = URL_SAFE_NO_PAD.decode(token.split('.').nth(1)?).ok()?;
    let value: serde_json::Value = serde_json::from_slice(&payload).ok()?;
    value.get("sub")?.as_str().map(str::to_string)
}

/// True for a bearer credential shaped as a JWT (three dot-separated parts), which an API token never is.
pub fn looks_like_jwt(credential: &str) -> bool {
    credential.split('.').count() == 3 && !credential.starts_with("alk_")
}
