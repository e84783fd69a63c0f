//! A query in the terms every plan of the store knows: a verb (`verb=delete`) and a view (`view=activity`) as
//! the actions they stand for, and a time range that ends now (`range=24h`) as its first instant. Done first
//! by every entry point (the list, the counts, `explain`, export), so that each plan serves them all.

use std::borrow::Cow;

use super::{error::StoreError, handle::AuditStore};
use crate::model::{AuditQuery, LogView, event::category_of, query::TimeBound, scope::SIGN_IN_CATEGORY, time};

/// An action no event has: what a query that can match nothing asks for.
const NO_ACTION: &str = "*";

impl AuditStore {
    /// `q` without a verb, a view or a range: the same events asked for with actions, a category and `from`.
    pub(super) async fn plain<'a>(&self, q: &'a AuditQuery) -> Result<Cow<'a, AuditQuery>, StoreError> {
        if q.verb.is_none() && q.view == LogView::All && q.range.is_none() {
            return Ok(Cow::Borrowed(q));
        }
        let mut plain = q.clone();
        if let Some(verb) = plain.verb.take() {
            // The parser lets a verb hold only letters, digits and `_`: nothing GLOB reads as a pattern.
            let present = self.actions_present(&format!("*.{verb}")).await?;
            narrow_actions(&mut plain, present);
        }
        match std::mem::take(&mut plain.view) {
            LogView::All => {}
            LogView::SignIns => match &plain.category {
                None => plain.category = Some(SIGN_IN_CATEGORY.into()),
                Some(c) if c == SIGN_IN_CATEGORY => {}
                Some(_) => plain.actions = vec![NO_ACTION.into()],
            },
            LogView::Activity => match &plain.category {
                Some(c) if c == SIGN_IN_CATEGORY => plain.actions = vec![NO_ACTION.into()],
                // One category besides the sign-ins is within the view.
                Some(_) => {}
                None => {
                    let present = self.actions_present("*").await?;
                    let activity = present
                        .into_iter()
                        .filter(|a| LogView::Activity.holds_category(category_of(a)))
                        .collect();
                    narrow_actions(&mut plain, activity);
                }
            },
        }
        if plain.range.is_some() {
            let start = plain.first_instant(time::to_millis(chrono::Utc::now()));
            plain.range = None;
            if let Some(start) = start
                && plain.from.as_ref().is_none_or(|f| f.millis != start)
            {
                plain.from = Some(TimeBound {
                    raw: time::format_millis(start),
                    millis: start,
                });
            }
        }
        Ok(Cow::Owned(plain))
    }

    /// The actions of stored events that match the GLOB `pattern`.
    async fn actions_present(&self, pattern: &str) -> Result<Vec<String>, StoreError> {
        let present =
            sqlx::query_scalar("SELECT value FROM value_counts WHERE col = 'action' AND n > 0 AND value GLOB ?")
                .bind(pattern)
                .fetch_all(&self.read)
                .await?;
        Ok(present)
    }
}

/// Keeps to `allowed` the actions `q` asks for (all of `allowed` when it names none). When none is left, `q`
/// asks for an action no event has.
fn narrow_actions(q: &mut AuditQuery, allowed: Vec<String>) {
    let mut actions: Vec<String> = match q.actions.is_empty() {
        true => allowed,
        false => q.actions.iter().filter(|a| allowed.contains(a)).cloned().collect(),
    };
    if actions.is_empty() {
        actions.push(NO_ACTION.into());
    }
    q.actions = actions;
}
