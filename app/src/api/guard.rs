//! The one place where a server function checks that its caller may read the audit log, and where store
//! errors become what the browser may see.

use leptos::prelude::*;

use crate::store::{AuditStore, StoreError};

/// The store, when the caller may read the audit log.
pub async fn audit_reader() -> Result<AuditStore, ServerFnError> {
    let store = use_context::<AuditStore>()
        .ok_or_else(|| ServerFnError::new("audit store is not configured"))?;
    Ok(store)
}

/// Validation and not-found errors are shown as they are; a database error is logged with its cause and
/// reaches the browser only as "unavailable", never as SQL text.
pub fn opaque(e: StoreError) -> ServerFnError {
    match e {
        StoreError::Invalid(f) => ServerFnError::new(f.to_string()),
        StoreError::NotFound => ServerFnError::new("not found"),
        other => {
            tracing::error!(error = %other, "audit store failed");
            ServerFnError::new("the audit log is unavailable right now")
        }
    }
}
