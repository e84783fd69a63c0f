//! What the list and the filter menus return.

use serde::{Deserialize, Serialize};

/// One row of the table: only the columns it shows. The details JSON is not read for a page of results.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EventRow {
    pub id: String,
    pub timestamp: String,
    pub action: String,
    pub outcome: String,
    pub actor_type: String,
    pub actor_id: Option<String>,
    pub actor_name: Option<String>,
    pub actor_email: Option<String>,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub target_name: Option<String>,
    pub source: String,
    /// Masked.
    pub ip: Option<String>,
    /// The user agent as a person reads it (`Chrome 131 on Windows 10`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub browser: Option<String>,
    pub summary: String,
}

impl EventRow {
    pub fn actor_label(&self) -> String {
        self.actor_name
            .clone()
            .or_else(|| self.actor_email.clone())
            .or_else(|| self.actor_id.clone())
            .unwrap_or_default()
    }

    pub fn target_label(&self) -> String {
        let label = self.target_name.clone().or_else(|| self.target_id.clone());
        match (&self.target_type, label) {
            (Some(t), Some(l)) => format!("{t}: {l}"),
            (Some(t), None) => t.clone(),
            (None, Some(l)) => l,
            (None, None) => String::new(),
        }
    }
}

#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EventPage {
    pub entries: Vec<EventRow>,
    pub total: u64,
    /// True when `total` is only a lower bound (a free-text search stopped counting at 10,000).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub total_is_lower_bound: bool,
    pub page: u32,
    pub page_size: u32,
    pub next_cursor: Option<String>,
}

impl EventPage {
    pub fn page_count(&self) -> u64 {
        self.total.div_ceil(u64::from(self.page_size.max(1))).max(1)
    }
}

#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ActionCount {
    pub action: String,
    pub count: u64,
    /// The action as people read it (`Mailbox created`), when the catalog has it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CategoryFacet {
    pub category: String,
    /// The category as people read it (`Mailboxes`), when the catalog has it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    pub actions: Vec<ActionCount>,
}

#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ActorFacet {
    pub actor: String,
    pub count: u64,
}

/// What the filter menus offer.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Facets {
    pub categories: Vec<CategoryFacet>,
    pub target_types: Vec<String>,
    pub sources: Vec<String>,
    pub actors: Vec<ActorFacet>,
    /// The tenants of the log, for a caller of the whole log (the `Tenant` filter); empty for a caller
    /// bound to one tenant.
    #[serde(default)]
    pub tenants: Vec<String>,
}

/// How many events each option of a filter menu would give with the other filters as they are (the tab's
/// live counts), by option value. An option without events is absent (it counts 0).
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FacetCounts {
    pub actions: std::collections::BTreeMap<String, u64>,
    pub verbs: std::collections::BTreeMap<String, u64>,
    pub actor_types: std::collections::BTreeMap<String, u64>,
    pub target_types: std::collections::BTreeMap<String, u64>,
    pub sources: std::collections::BTreeMap<String, u64>,
}

impl Facets {
    /// The label of `action` the facets carry, if any.
    pub fn action_label(&self, action: &str) -> Option<&str> {
        let category = super::event::category_of(action);
        self.categories
            .iter()
            .find(|c| c.category == category)?
            .actions
            .iter()
            .find(|a| a.action == action)?
            .label
            .as_deref()
    }
}

/// `1234567` as `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_234), "1,234");
        assert_eq!(thousands(10_000_000), "10,000,000");
    }
}
