//! Server functions: one per file, each a thin shim over the store behind the audit access check.

mod get_event;
mod get_facets;
mod list_events;

pub use get_event::{GetEvent, get_event};
pub use get_facets::{GetFacets, get_facets};
pub use list_events::{ListEvents, list_events};

#[cfg(feature = "ssr")]
pub mod guard;
