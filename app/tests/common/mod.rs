//! Helpers shared by the store tests: a store on a fresh SQLite file, events, queries, and the seeded set.
#![allow(dead_code)]

use app::{
    model::{Actor, ActorType, AuditQuery, NewEvent, Outcome, Target, time},
    store::AuditStore,
};
use serde_json::json;

pub async fn open() -> (AuditStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = AuditStore::open(&format!("sqlite://{}", dir.path().join("t.db").display()))
        .await
        .unwrap();
    (store, dir)
}

pub fn ev(action: &str, actor: &str, ts: &str) -> NewEvent {
    NewEvent {
        action: action.into(),
        actor: Some(Actor {
            kind: ActorType::User,
            id: Some(actor.into()),
            name: Some(format!("Name {actor}")),
            email: Some(format!("{actor}@x.org")),
        }),
        timestamp: time::parse_rfc3339(ts),
        ..NewEvent::default()
    }
}

pub fn q(qs: &str) -> AuditQuery {
    AuditQuery::from_query_string(qs).unwrap()
}

/// Twelve events on 2026-03-01..12 at noon, with varied fields.
pub async fn seeded() -> (AuditStore, tempfile::TempDir) {
    let (store, dir) = open().await;
    let mut events = Vec::new();
    for day in 1..=12 {
        let action = ["mailbox.create", "mailbox.delete", "auth.login", "user.update"][day % 4];
        let mut e = ev(action, &format!("u{}", day % 3), &format!("2026-03-{day:02}T12:00:00Z"));
        e.outcome = if day % 5 == 0 {
            Outcome::Failure
        } else {
            Outcome::Success
        };
        e.source = Some(if day % 2 == 0 { "mail" } else { "proxy" }.into());
        e.target = (day % 3 != 0).then(|| Target {
            kind: "mailbox".into(),
            id: Some(day.to_string()),
            name: Some(format!("box{day}@acme.com")),
        });
        if day == 7 {
            e.actor = Some(Actor {
                kind: ActorType::ApiToken,
                id: Some("tok".into()),
                name: Some("ci-deploy".into()),
                email: None,
            });
            e.details = json!({"note": "Ünïcode café 100% done"}).as_object().unwrap().clone();
        }
        events.push(e);
    }
    store.record_batch(events).await.unwrap();
    (store, dir)
}

pub async fn days(store: &AuditStore, qs: &str) -> Vec<u32> {
    store
        .list(&q(qs))
        .await
        .unwrap()
        .entries
        .iter()
        .map(|r| r.timestamp[8..10].parse().unwrap())
        .collect()
}

/// The ids an export walk hands out, reading `chunk` rows per query.
pub async fn exported_ids(store: &AuditStore, qs: &str, chunk: u32, stop_after: Option<usize>) -> Vec<String> {
    let plan = store.export_plan(&q(qs), None).await.unwrap().with_chunk_rows(chunk);
    tokio::task::spawn_blocking(move || {
        let mut ids = Vec::new();
        let n = plan
            .walk(|r| {
                ids.push(r.id.to_string());
                stop_after.is_none_or(|max| ids.len() < max)
            })
            .unwrap();
        assert_eq!(n as usize, ids.len());
        ids
    })
    .await
    .unwrap()
}

/// Through the index, the count of free text next to filters comes from FTS5 (the filters are tags there):
/// exact below 10,000, a lower bound above unless asked for, and the same before, during and after indexing.
/// Asserts a search's totals against `exact`, its number of matches: shown up to 10,000 (then as a lower
/// bound), and in full with `count=exact`. Returns the first page.
pub async fn assert_search_totals(store: &AuditStore, qs: &str, exact: u64, state: &str) -> app::model::EventPage {
    let page = store.list(&q(qs)).await.unwrap();
    let shown = (exact.min(10_000), exact > 10_000);
    assert_eq!((page.total, page.total_is_lower_bound), shown, "{qs}, {state}");
    let all = store.list(&q(&format!("{qs}&count=exact"))).await.unwrap();
    assert_eq!(
        (all.total, all.total_is_lower_bound),
        (exact, false),
        "{qs}&count=exact, {state}"
    );
    page
}

/// An `auth.login` event by `name`, `second` seconds into 2026, failed when `failure`.
pub fn timed_login(name: &str, second: usize, failure: bool) -> NewEvent {
    let start = time::parse_rfc3339("2026-01-01T00:00:00Z").unwrap();
    let mut e = ev("auth.login", name, "2026-01-01T00:00:00Z");
    e.timestamp = Some(start + chrono::Duration::seconds(second as i64));
    if failure {
        e.outcome = Outcome::Failure;
    }
    e
}

/// Page `page` (of `size`) of the events `hits` (by arrival), sorted by their times in `second`, newest first
/// unless `asc`.
pub fn page_in_time_order(
    hits: impl Iterator<Item = usize>,
    second: &[usize],
    asc: bool,
    page: usize,
    size: usize,
) -> impl Iterator<Item = usize> {
    let mut hits: Vec<usize> = hits.collect();
    hits.sort_by_key(|&i| second[i]);
    if !asc {
        hits.reverse();
    }
    hits.into_iter().skip((page - 1) * size).take(size)
}

pub async fn futures_days(store: &AuditStore, queries: &[&str]) -> Vec<Vec<u32>> {
    let mut out = Vec::new();
    for qs in queries {
        out.push(days(store, qs).await);
    }
    out
}

/// `e` with a target of this kind, id and name.
pub fn targeted(mut e: NewEvent, kind: &str, id: &str, name: &str) -> NewEvent {
    e.target = Some(Target {
        kind: kind.into(),
        id: Some(id.into()),
        name: Some(name.into()),
    });
    e
}
