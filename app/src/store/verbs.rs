//! A verb (`verb=delete`) as the store serves it: the actions of that verb present in the log, so that every
//! plan, which knows actions, serves a verb too.

use std::borrow::Cow;

use super::{error::StoreError, handle::AuditStore};
use crate::model::AuditQuery;

impl AuditStore {
    /// `q` with its verb replaced by the actions of that verb present in the log (those of them it already
    /// names, when it names actions): every plan of the store knows actions, so every one of them serves a
    /// verb. A verb no stored action has gives an action no event has.
    pub(super) async fn verb_as_actions<'a>(&self, q: &'a AuditQuery) -> Result<Cow<'a, AuditQuery>, StoreError> {
        let Some(verb) = &q.verb else {
            return Ok(Cow::Borrowed(q));
        };
        // The parser lets a verb hold only letters, digits and `_`: nothing GLOB reads as a pattern.
        let pattern = format!("*.{verb}");
        let present: Vec<String> =
            sqlx::query_scalar("SELECT value FROM value_counts WHERE col = 'action' AND n > 0 AND value GLOB ?")
                .bind(&pattern)
                .fetch_all(&self.read)
                .await?;
        let mut actions: Vec<String> = match q.actions.is_empty() {
            true => present,
            false => q.actions.iter().filter(|a| present.contains(a)).cloned().collect(),
        };
        if actions.is_empty() {
            actions.push(pattern);
        }
        Ok(Cow::Owned(AuditQuery {
            actions,
            verb: None,
            ..q.clone()
        }))
    }
}
