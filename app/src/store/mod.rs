//! The SQLite store: the one place for every SQL statement of the product. Server-side only.
//!
//! The files import one way, from the bottom up (a test in `app/tests/design.rs` keeps it so):
//!
//! - `error`, `tuning`: the store's error and every number that trades one cost against another;
//! - `schema`: what the migrations laid down (columns, the actor key, days and blocks, the text index's
//!   layout, decoding a stored row);
//! - `sql`: writing and binding SQL through either driver; `filter`: a query's filters as SQL;
//! - `caches`, `days`, `indexer`, `log` (the Merkle tree as stored), `prepared` (events ready to store),
//!   `purge` (a batch of the retention purge), `writer` (with `derived`, what it keeps beside each event);
//! - `handle`: `AuditStore` itself, what every subject shares;
//! - `fulltext`, then `events` (the list's planner and its plans, totals, one event, facets), `export`,
//!   `backup`, `integrity` (checkpoints, proofs, verification), `retention`;
//! - `outbox` (what webhook deliverers read and save), then `webhooks` (the endpoints as admins manage them);
//! - `tokens` (the audit log's API tokens), `panel` (the demo host panel's users, sessions and settings) and
//!   `sign_in` (its sign-in blocks): a host that brings its own sign-in uses neither of the last two;
//!   `viewers` (the sessions of the people a host signs in with a JWT).

mod backup;
mod caches;
mod days;
mod derived;
mod error;
mod events;
mod export;
mod facet_counts;
mod filter;
mod fulltext;
mod handle;
mod indexer;
mod integrity;
mod log;
mod outbox;
mod panel;
mod prepared;
mod purge;
mod retention;
mod schema;
mod scope;
mod sign_in;
mod sql;
mod tokens;
mod tuning;
mod viewers;
mod wal;
mod webhooks;
mod writer;

pub use error::StoreError;
pub use events::{InsertOutcome, PagePlan, Prepared};
pub use export::{ExportPlan, ExportRecord};
pub use filter::Source;
pub use handle::{AuditStore, LogConfig};
pub use integrity::{ConsistencyProof, InclusionProof, VerifyReport};
pub use outbox::{Attempt, PendingEvent, Progress, Retry, WebhookTarget};
pub use panel::SESSION_TTL_MS;
pub use retention::{MAX_RETENTION_DAYS, check_retention};
pub use sign_in::{BruteForcePolicy, SignInAttempt};
pub use tokens::{ApiToken, NewToken, Scope, Scopes};
pub use tuning::Tuning;
pub use webhooks::{Changer, SECRET_OVERLAP_HOURS};
