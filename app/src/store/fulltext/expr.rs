//! FTS5 query text: a phrase that matches the search text as a substring, and the tags of the filters the
//! index holds (migration 13).

use crate::{
    model::{AuditQuery, LogView, query::Filters},
    store::{
        error::StoreError,
        filter::MAX_BOUND_LIST,
        schema::{TAGS, absent_tag, tag, tag_token},
    },
};

/// An FTS5 phrase that matches the text as a substring (trigram tokenizer).
pub(super) fn phrase(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// The FTS5 condition that the searched text holds `text` as a substring: the first part of every search's
/// FTS5 query.
pub(super) fn body_phrase(text: &str) -> String {
    format!("{{body}} : {}", phrase(text))
}

/// The FTS5 condition that an event's tag at `place` in `TAGS` is one of `values` (a value no indexed event
/// has is a tag no event has).
pub(super) async fn tag_condition(
    conn: &mut sqlx::SqliteConnection,
    place: usize,
    values: &[String],
) -> Result<String, StoreError> {
    let name = TAGS[place].0;
    let mut tokens = Vec::with_capacity(values.len().max(1));
    for value in values {
        let id: Option<i64> = sqlx::query_scalar("SELECT id FROM fts_tags WHERE col = ? AND value = ?")
            .bind(name)
            .bind(value)
            .fetch_optional(&mut *conn)
            .await?;
        tokens.push(id.map_or_else(|| absent_tag(place), |id| tag_token(place, id)));
    }
    if tokens.is_empty() {
        // An actor no event has: no key.
        tokens.push(absent_tag(place));
    }
    let any: Vec<String> = tokens.iter().map(|t| format!("{{t_{name}}} : {}", phrase(t))).collect();
    Ok(format!("({})", any.join(" OR ")))
}

/// The FTS5 query for the text and the query's filters that the index holds as tags, whether those are all of
/// its filters (then the query's matches among indexed rows are exactly the FTS5 query's), and whether they
/// are all but `from`/`to`.
pub(super) async fn match_expression(
    conn: &mut sqlx::SqliteConnection,
    text: &str,
    q: &AuditQuery,
    actor: Option<(&[String], bool)>,
    ips: Option<&[String]>,
) -> Result<(String, bool, bool), StoreError> {
    let Filters {
        q: _,
        actions,
        category,
        // A verb, a view and a range reach the store's plans as actions, a category and `from`
        // (`AuditStore::plain`).
        view,
        verb,
        actor: _,
        // The index holds who did it, not who did not: not exact with an exclusion.
        exclude_actor,
        actor_type,
        target_type,
        target_id,
        outcome,
        source,
        // Its addresses (`ips`).
        ip: _,
        tenant,
        range,
        from,
        to,
    } = q.filters();
    debug_assert!(
        verb.is_none() && *view == LogView::All && range.is_none(),
        "a verb, a view and a range are served as actions, a category and `from`"
    );
    let mut parts = vec![body_phrase(text)];
    // The index holds no tag of a target id, nor times.
    let mut exact_but_time = target_id.is_none() && exclude_actor.is_none();
    let mut filters: Vec<(usize, Vec<String>)> = Vec::new();
    if !actions.is_empty() {
        filters.push((tag::ACTION, actions.clone()));
    }
    let tagged = [
        (tag::CATEGORY, category.clone()),
        (tag::OUTCOME, outcome.map(|o| o.as_str().to_string())),
        (tag::ACTOR_TYPE, actor_type.map(|t| t.as_str().to_string())),
        (tag::TARGET_TYPE, target_type.clone()),
        (tag::SOURCE, source.clone()),
        (tag::TENANT, tenant.clone()),
    ];
    for (place, value) in tagged {
        if let Some(value) = value {
            filters.push((place, vec![value]));
        }
    }
    if let Some((whos, all)) = actor {
        filters.push((tag::WHO, whos.to_vec()));
        exact_but_time &= all;
    }
    // A range of more addresses than a query lists is left to the rows.
    match ips {
        Some(ips) if ips.len() <= MAX_BOUND_LIST => filters.push((tag::IP, ips.to_vec())),
        Some(_) => exact_but_time = false,
        None => {}
    }
    for (place, values) in filters {
        parts.push(tag_condition(conn, place, &values).await?);
    }
    let exact = exact_but_time && from.is_none() && to.is_none();
    Ok((parts.join(" AND "), exact, exact_but_time))
}
