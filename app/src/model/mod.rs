//! Wire types shared by the server and the browser (they compile to WASM): the event, the query, a page of
//! results, and the error shape of the API.

#[cfg(feature = "ssr")]
pub mod browser;
pub mod catalog;
pub mod error;
pub mod event;
pub mod integrity;
pub mod ip;
pub mod page;
pub mod query;
pub mod recorded;
pub mod recorded_by;
pub mod redact;
pub mod scope;
pub mod syntax;
pub mod time;
pub mod token;
pub mod user;
pub mod webhook;
pub mod wire;

pub use catalog::ActionCatalog;
pub use error::{AppError, FieldError};
pub use event::{ActionKey, Actor, ActorType, Event, NewEvent, Outcome, Target, ValidEvent};
pub use integrity::{CheckpointRef, EventDetail, PurgeOutcome, VerifyOutcome, VerifyStatus};
pub use page::{EventPage, EventRow, FacetCounts, Facets};
pub use query::{AuditQuery, SortKey, SortOrder};
pub use recorded_by::{RecordedBy, RecorderKind};
pub use scope::{LogView, TimeRange, Zone};
pub use user::{Role, User};
