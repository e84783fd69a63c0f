//! Sorting, pages and cursors over the same rows, and deep pages started from their day against pages that
//! skip every row.
#![cfg(feature = "ssr")]

mod common;

use app::{
    model::{NewEvent, Outcome, time},
    store::Tuning,
};
use common::*;

#[tokio::test]
async fn sorting_by_action_breaks_ties_by_time_then_id() {
    let (store, _d) = seeded().await;
    let page = store.list(&q("sort=action&order=asc")).await.unwrap();
    let actions: Vec<&str> = page.entries.iter().map(|r| r.action.as_str()).collect();
    let mut sorted = actions.clone();
    sorted.sort();
    assert_eq!(actions, sorted);
    assert_eq!(
        days(&store, "sort=action&order=asc&action=auth.login").await,
        vec![2, 6, 10]
    );
    assert_eq!(
        days(&store, "sort=action&order=desc&action=auth.login").await,
        vec![10, 6, 2]
    );
    assert_eq!(days(&store, "order=asc").await, (1..=12).collect::<Vec<_>>());
}

#[tokio::test]
async fn pages_and_cursors_walk_the_same_rows() {
    let (seeded_store, _d) = seeded().await;
    // Walks sorted by action read the action index past some number of matching rows: both ways here.
    let stores = [
        seeded_store.clone(),
        seeded_store.with_tuning(Tuning {
            sort_by_index_rows: 0,
            ..Tuning::default()
        }),
    ];
    for (store, sort) in stores.iter().flat_map(|s| {
        [
            "sort=timestamp",
            "sort=action",
            "sort=action&order=asc",
            "order=asc",
            "actor=u1&sort=action",
        ]
        .map(|q| (s, q))
    }) {
        let mut by_pages = Vec::new();
        for p in 1..=3 {
            by_pages.extend(
                store
                    .list(&q(&format!("{sort}&page_size=5&page={p}")))
                    .await
                    .unwrap()
                    .entries,
            );
        }
        let mut by_cursor = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let qs = match &cursor {
                Some(c) => format!("{sort}&page_size=5&cursor={}", urlencoding::encode(c)),
                None => format!("{sort}&page_size=5"),
            };
            let page = store.list(&q(&qs)).await.unwrap();
            by_cursor.extend(page.entries);
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        assert_eq!(by_pages.len(), if sort.starts_with("actor") { 3 } else { 12 }, "{sort}");
        assert_eq!(by_pages, by_cursor, "{sort}");
    }
    let store = &stores[0];
    let last = store.list(&q("page_size=5&page=3")).await.unwrap();
    assert_eq!((last.entries.len(), last.total, last.page_count()), (2, 12, 3));
    assert_eq!(store.list(&q("page_size=5&page=9")).await.unwrap().entries.len(), 0);
}

#[tokio::test]
async fn deep_pages_started_from_their_day_equal_pages_that_skip_every_row() {
    let (store, _dir) = open().await;
    let mut events = Vec::new();
    // Several events a day over 20 days, some at the same instant (ties broken by id), one before 1970.
    for i in 0..90i64 {
        let ms = 1_772_323_200_000 + (i / 2) * 5 * 3_600_000 + (i % 7) * 1_000 * (i % 2);
        let action = ["mailbox.create", "mailbox.delete", "auth.login", "user.update"][(i % 4) as usize];
        let mut e = ev(action, &format!("u{}", i % 3), &time::format_millis(ms));
        e.outcome = if i % 5 == 0 { Outcome::Failure } else { Outcome::Success };
        events.push(e);
    }
    events.push(ev("auth.login", "u1", "1969-12-31T23:00:00Z"));
    store.record_batch(events).await.unwrap();
    let anchored = store.clone().with_tuning(Tuning {
        anchor_min_offset: Some(0),
        ..Tuning::default()
    });
    let skipping = store.clone().with_tuning(Tuning {
        anchor_min_offset: None,
        ..Tuning::default()
    });
    let queries = [
        "",
        "order=asc",
        "sort=action",
        "sort=action&order=asc",
        "outcome=success",
        "outcome=success&sort=action&order=asc",
        "category=mailbox&outcome=success",
        "category=mailbox&outcome=success&sort=action",
        "action=auth.login&action=user.update&sort=action",
        "actor=u1&order=asc",
        "actor=u1&outcome=success",
        "actor=u2&category=mailbox&sort=action",
        "actor=Name u0&outcome=success&from=2026-03-04T05:00:00Z&sort=action&order=asc",
        "from=2026-03-03T07:00:00Z&to=2026-03-15T13:00:00Z",
        "from=2026-03-03T07:00:00Z&to=2026-03-15T13:00:00Z&sort=action&order=asc",
        "from=1969-12-31&outcome=failure&order=asc",
    ];
    // The rows, and the total (which a page placed by the per-day counts takes from them).
    let ids = |page: app::model::EventPage| {
        let total = page.total;
        (page.entries.into_iter().map(|r| r.id).collect::<Vec<_>>(), total)
    };
    let mut compared = 0;
    for qs in queries {
        // Pages of 2 and 3 rows also lie in the second half of a day (about ten rows), which is read from the
        // day's other end.
        for (size, pages) in [(2, 40), (3, 30), (7, 14), (10, 14)] {
            for page in 1..=pages {
                let query = q(&format!("{qs}&page_size={size}&page={page}"));
                let want = ids(skipping.list(&query).await.unwrap());
                let got = ids(anchored.list(&query).await.unwrap());
                assert_eq!(got, want, "{qs}, page {page} of {size}");
                compared += want.0.len();
            }
        }
    }
    assert!(compared > 2_500, "most pages hold rows ({compared})");
    // Events arriving later (on old days and new ones) are counted into the remembered histograms.
    let late: Vec<NewEvent> = (0..25i64)
        .map(|i| {
            let ms = 1_772_323_200_000 + (i % 5) * 4 * 86_400_000 + i * 3_600_000;
            let action = ["auth.login", "mailbox.create", "user.update"][(i % 3) as usize];
            ev(action, &format!("u{}", i % 3), &time::format_millis(ms))
        })
        .collect();
    store.record_batch(late).await.unwrap();
    for qs in queries {
        for (size, page) in [(7, 1), (7, 3), (7, 8), (7, 12), (2, 9), (2, 24), (3, 17)] {
            let query = q(&format!("{qs}&page_size={size}&page={page}"));
            let want = ids(skipping.list(&query).await.unwrap());
            assert_eq!(
                ids(anchored.list(&query).await.unwrap()),
                want,
                "after more events: {qs}, page {page}"
            );
        }
    }
}
