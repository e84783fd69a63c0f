//! The API's contract: the OpenAPI 3.1 document served at `GET /api/v1/openapi.json`, assembled by utoipa from
//! the handlers' `#[utoipa::path]` attributes and the model's own types. `tests/openapi.rs` checks it against
//! the router (every route documented, nothing documented that is not routed) and against the query parser;
//! Schemathesis (scripts/fuzz.sh) checks the server's answers against it.

use app::model::{Actor, Outcome, Target};
use axum::{Json, response::IntoResponse};
use utoipa::{
    IntoParams, IntoResponses, Modify, OpenApi, ToSchema,
    openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme},
};

use crate::{error::ErrorBody, export, ingest, log, read, settings, webhooks};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "auditlog",
        description = "Record administrative events and read them back: the audit log's HTTP API. \
            Every route needs an API token (`Authorization: Bearer alk_…`) with the scope it names, or a \
            signed-in admin's session cookie."
    ),
    paths(
        ingest::ingest,
        read::list,
        export::export,
        read::get_one,
        log::proof,
        log::key,
        log::checkpoint,
        log::consistency,
        settings::retention,
        settings::set_retention,
        read::facets,
        webhooks::list,
        webhooks::create,
        webhooks::get_one,
        webhooks::update,
        webhooks::delete,
        webhooks::rotate_secret,
        webhooks::replay,
        webhooks::send_test,
        document,
    ),
    components(schemas(ErrorBody)),
    modifiers(&Credentials),
    security(("token" = []), ("session" = [])),
)]
pub struct ApiDoc;

/// `GET /api/v1/openapi.json`: this document.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "contract",
    security(()),
    responses((status = 200, description = "The OpenAPI 3.1 document of every `/api/v1` route", content_type = "application/json", body = Object))
)]
pub async fn document() -> impl IntoResponse {
    Json(ApiDoc::openapi())
}

// The API's refusals, each described once; every operation lists those it can answer. The bodies are all
// `ErrorBody`. They describe answers; none is built.

/// A parameter or the body is malformed; the error names it.
#[derive(IntoResponses)]
#[response(status = 400)]
#[allow(dead_code)]
pub struct BadRequest(ErrorBody);

/// No credentials, or unknown ones.
#[derive(IntoResponses)]
#[response(status = 401)]
#[allow(dead_code)]
pub struct Unauthorized(ErrorBody);

/// The credentials lack the scope.
#[derive(IntoResponses)]
#[response(status = 403)]
#[allow(dead_code)]
pub struct Forbidden(ErrorBody);

/// No such record.
#[derive(IntoResponses)]
#[response(status = 404)]
#[allow(dead_code)]
pub struct NotFound(ErrorBody);

/// The body is too large.
#[derive(IntoResponses)]
#[response(status = 413)]
#[allow(dead_code)]
pub struct TooLarge(ErrorBody);

/// The store is unavailable (or its disk is full); try again.
#[derive(IntoResponses)]
#[response(status = 503)]
#[allow(dead_code)]
pub struct Unavailable(ErrorBody);

/// The two ways to be let in: an API token, or the session cookie of a signed-in admin (the tab's own calls).
struct Credentials;

impl Modify for Credentials {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new("auditlog_session"))),
        );
    }
}

/// The body of `POST /api/v1/events`: one event, or a batch.
#[derive(ToSchema, serde::Deserialize)]
#[serde(untagged)]
#[allow(dead_code)] // describes the body; the handler reads it with `app::model::wire`
pub enum IngestBody {
    One(Box<EventInput>),
    Batch(EventBatch),
}

/// One event as `POST /api/v1/events` takes it. Members not listed here are ignored.
#[derive(ToSchema, serde::Deserialize)]
#[allow(dead_code)] // describes the body; the handler reads it with `app::model::wire`
pub struct EventInput {
    /// A ULID; the server makes one when absent. Sending an id again is a duplicate, not a second event.
    #[schema(pattern = "^[0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{26}$")]
    id: Option<String>,
    /// When it happened (RFC 3339); the time it was received when absent.
    #[schema(format = DateTime)]
    timestamp: Option<String>,
    /// `<category>.<verb>`, lower case: `mailbox.create`, `auth.2fa_enroll`.
    #[schema(
        examples("mailbox.create"),
        pattern = "^[a-z][a-z0-9_]*(\\.[a-z0-9][a-z0-9_]*)+$",
        max_length = 100
    )]
    action: String,
    /// `success` when absent.
    outcome: Option<Outcome>,
    actor: Actor,
    target: Option<Target>,
    /// What sent it (a server, a service); `auditlog` is the product's own and refused.
    source: Option<String>,
    /// The tenant (customer, project) it belongs to: 1 to 100 of `[A-Za-z0-9._:-]`. A token bound to a
    /// tenant sets it, and refuses (403) an event that names another.
    #[schema(pattern = "^[A-Za-z0-9._:-]{1,100}$")]
    tenant: Option<String>,
    /// The client's address, IPv4 or IPv6.
    ip: Option<String>,
    user_agent: Option<String>,
    /// Anything else, at most 64 KiB of JSON; `details.changes` holds `{"field": {"from": …, "to": …}}`.
    details: Option<serde_json::Map<String, serde_json::Value>>,
}

/// Up to 1,000 events, stored all or nothing.
#[derive(ToSchema, serde::Deserialize)]
#[allow(dead_code)] // describes the body; the handler reads it with `app::model::wire`
pub struct EventBatch {
    events: Vec<EventInput>,
}

/// The filters of the list and of the export: one query string for the tab, the API and the export.
/// Empty values count as absent; a malformed value is a 400 naming the parameter.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // describes the query string; the handlers read it with `AuditQuery::from_query_string`
pub struct Filters {
    /// `all` (the default), `signins` (the `auth` category) or `activity` (every other category).
    view: Option<String>,
    /// Free text over action, actor, target, source, IP and details (at most 500 characters). Also takes
    /// `field:value` terms, which set filters: `action:mailbox.*`, `category:auth`, `verb:delete`,
    /// `actor:"Ana Lima"`, `actor_type:api_token`, `target_type:domain`, `target_id:42`, `outcome:failure`,
    /// `source:mx2`, `ip:203.0.113.0/24`, `tenant:acme`, `created:>=2026-11-01`, `created:2026-11-01..2026-11-30`; an
    /// unknown field is a 400.
    q: Option<String>,
    /// Only these actions (repeat the parameter, at most 100 times); `<category>.*` is the whole category.
    action: Option<Vec<String>>,
    /// Only the actions of this category (the part before the dot: `mailbox`).
    category: Option<String>,
    /// Only the actions of this verb (their last part: `delete`), whatever their category.
    verb: Option<String>,
    /// The actor's id, name or email.
    actor: Option<String>,
    /// Every event but this actor's (id, name or email): `-actor:` in `q`.
    exclude_actor: Option<String>,
    /// `user`, `api_token` or `system`.
    actor_type: Option<String>,
    target_type: Option<String>,
    target_id: Option<String>,
    /// `success` or `failure`.
    outcome: Option<String>,
    source: Option<String>,
    /// The events from an address in this network (CIDR: `203.0.113.0/24`, `2001:db8::/32`) or from this
    /// address (`203.0.113.42`). An IPv4 network also holds the IPv4-mapped IPv6 form of its addresses.
    ip: Option<String>,
    /// One tenant's events (`[A-Za-z0-9._:-]`, 1 to 100). A caller bound to a tenant always reads its own,
    /// whatever this says.
    #[param(pattern = "^[A-Za-z0-9._:-]{1,100}$")]
    tenant: Option<String>,
    /// A range that ends now: `1h`, `24h`, `7d` or `30d` (`custom`: `from` and `to` alone). With `from`, the
    /// later start counts.
    range: Option<String>,
    /// From this day (`YYYY-MM-DD`, from its start), UTC time of day (`YYYY-MM-DDTHH:MM[:SS]`) or instant
    /// (RFC 3339), inclusive.
    from: Option<String>,
    /// To this day (to its end), UTC time of day (to the end of that minute or second) or instant (RFC 3339),
    /// inclusive.
    to: Option<String>,
    /// `timestamp` (the default) or `action`.
    sort: Option<String>,
    /// `desc` (the default) or `asc`.
    order: Option<String>,
    /// The page, from 1.
    page: Option<String>,
    /// Rows a page, 1 to 500 (50 when absent).
    page_size: Option<String>,
    /// The `next_cursor` of the previous page: the next page without counting what came before.
    cursor: Option<String>,
    /// `exact` counts every match of a free-text search; `capped` (the default) stops at 10,000.
    count: Option<String>,
    /// The tab's auto-refresh (`1` or `0`); the API ignores it.
    refresh: Option<String>,
    /// The tab's time zone (`utc` or `local`); the API ignores it (its times are UTC).
    tz: Option<String>,
    /// The tab's open detail (an event id); the API ignores it.
    event: Option<String>,
    /// `1`: the tab is shown alone, without the panel's navigation; the API ignores it.
    embed: Option<String>,
}
