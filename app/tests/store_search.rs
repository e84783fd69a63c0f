//! Free text: totals capped and exact, next to filters through the index, in a time range, block by block,
//! by action, before, during and after indexing.
#![cfg(feature = "ssr")]

mod common;

use app::model::{NewEvent, Outcome, Target, time};
use common::*;

#[tokio::test]
async fn free_text_totals_stop_at_ten_thousand_unless_asked_for_exactly() {
    let (store, _d) = open().await;
    for chunk in 0..11 {
        let batch = (0..1000)
            .map(|i| ev("mailbox.create", &format!("needle-{chunk}-{i}"), "2026-03-01T00:00:00Z"))
            .collect();
        store.record_batch(batch).await.unwrap();
    }
    let capped = store.list(&q("q=needle&page_size=10")).await.unwrap();
    assert_eq!((capped.total, capped.total_is_lower_bound), (10_000, true));
    let exact = store.list(&q("q=needle&page_size=10&count=exact")).await.unwrap();
    assert_eq!((exact.total, exact.total_is_lower_bound), (11_000, false));
    let structured = store.list(&q("action=mailbox.create&page_size=10")).await.unwrap();
    assert_eq!(
        (structured.total, structured.total_is_lower_bound),
        (11_000, false),
        "structured filters count exactly"
    );
    let few = store.list(&q("q=needle-3-99")).await.unwrap();
    assert_eq!(
        (few.total, few.total_is_lower_bound),
        (11, false),
        "needle-3-99 and needle-3-990..999"
    );
}

#[tokio::test]
async fn a_search_the_index_cannot_serve_is_counted_for_a_bounded_time() {
    let (store, _d) = open().await;
    for chunk in 0..4 {
        let batch = (0..1000)
            .map(|i| ev("mailbox.create", &format!("zq-{chunk}-{i}"), "2026-03-01T00:00:00Z"))
            .collect();
        store.record_batch(batch).await.unwrap();
    }
    // Two characters: no trigram to look up, so LIKE reads the rows, by windows of 500 here.
    let tuned = |budget_ms| {
        store.clone().with_tuning(app::store::Tuning {
            scan_window_rows: 500,
            scan_budget: std::time::Duration::from_millis(budget_ms),
            ..app::store::Tuning::default()
        })
    };
    let whole = tuned(60_000).list(&q("q=zq&count=exact&page_size=10")).await.unwrap();
    assert_eq!((whole.total, whole.total_is_lower_bound), (4_000, false));
    // No time at all: the first window only, shown as a lower bound; the page itself is whole.
    let hurried = tuned(0).list(&q("q=zq&count=exact&page_size=10")).await.unwrap();
    assert_eq!((hurried.total, hurried.total_is_lower_bound), (500, true));
    assert_eq!(hurried.entries.len(), 10);
    let capped = tuned(0).list(&q("q=zq&page_size=10")).await.unwrap();
    assert_eq!((capped.total, capped.total_is_lower_bound), (500, true));
}

#[tokio::test]
async fn free_text_next_to_filters_counts_the_same_through_the_index() {
    let (store, _d) = open().await;
    let n = 24_000;
    let actions = ["mailbox.create", "auth.login"];
    for chunk in 0..n / 1000 {
        let batch = (0..1000)
            .map(|i| {
                let k = chunk * 1000 + i;
                let mut e = ev(actions[k % 2], &format!("needle-{k}"), "2026-03-01T00:00:00Z");
                if k % 3 == 0 {
                    e.outcome = Outcome::Failure;
                }
                e
            })
            .collect();
        store.record_batch(batch).await.unwrap();
    }
    // (query, exact count)
    let cases = [
        ("q=needle", n),
        ("q=needle&outcome=failure", n / 3),
        ("q=needle&action=auth.login", n / 2),
        ("q=needle&action=auth.login&outcome=failure", n / 6),
        ("q=needle&action=mailbox.create&action=auth.login", n),
        ("q=needle&actor_type=api_token", 0),
        ("q=needle-1&outcome=success", 7_409),
        ("q=needle-1&outcome=success&from=2026-03-01", 7_409),
        ("q=needle-77&actor=needle-770", 1),
        ("q=needle&outcome=success&sort=action&order=asc", n * 2 / 3),
        ("q=needle&action=mailbox.create&action=auth.login&sort=action&page=3", n),
        // From one action into the next (16,000 successes: 8,000 of each action).
        (
            "q=needle&outcome=success&sort=action&order=asc&page=81&page_size=99",
            n * 2 / 3,
        ),
        ("q=needle&outcome=success&sort=action&page=161", n * 2 / 3),
    ];
    let check = |state: &'static str| {
        let store = &store;
        async move {
            for (qs, exact) in cases {
                let exact = exact as u64;
                let page = assert_search_totals(store, qs, exact, state).await;
                let size = u64::from(page.page_size);
                let on_page = exact.saturating_sub((u64::from(page.page) - 1) * size).min(size);
                assert_eq!(page.entries.len() as u64, on_page, "{qs}, {state}");
            }
        }
    };
    let first_pages = || async {
        let mut ids = Vec::new();
        for (qs, _) in cases {
            let page = store.list(&q(qs)).await.unwrap();
            ids.push(page.entries.into_iter().map(|r| r.id).collect::<Vec<_>>());
        }
        ids
    };
    let before = first_pages().await;
    check("not indexed").await;
    store.index_pending(10_000).await.unwrap();
    assert_eq!(first_pages().await, before, "partly indexed");
    check("partly indexed").await;
    while store.index_pending(10_000).await.unwrap() > 0 {}
    assert_eq!(first_pages().await, before, "fully indexed");
    check("fully indexed").await;
    // Pages near the end of an exact count are read from the other end: the same rows and cursor.
    for qs in [
        "q=needle&page=480",
        "q=needle&page=475&order=asc",
        "q=needle&page=471&page_size=51",
        "q=needle&outcome=failure&page=160",
        "q=needle&sort=action&page=478",
    ] {
        let walked = store.list(&q(qs)).await.unwrap();
        let from_the_end = store.list(&q(&format!("{qs}&count=exact"))).await.unwrap();
        let ids = |p: &app::model::EventPage| p.entries.iter().map(|r| r.id.clone()).collect::<Vec<_>>();
        assert!(!walked.entries.is_empty(), "{qs}");
        assert_eq!(ids(&from_the_end), ids(&walked), "{qs}");
        assert_eq!(from_the_end.next_cursor, walked.next_cursor, "{qs}");
    }
}

/// A common term in a time range, next to a filter the index holds, is counted block by block (the index for
/// blocks inside the range, LIKE for the blocks at its ends and rows not yet indexed): the same totals as the
/// events counted here, capped and exact, before, during and after indexing.
#[tokio::test]
async fn a_search_in_a_time_range_counts_the_events_in_it() {
    let (store, _d) = open().await;
    let n = 30_000usize;
    for chunk in 0..n / 1000 {
        let batch = (chunk * 1000..(chunk + 1) * 1000)
            .map(|i| timed_login(&format!("needle-{}", i % 7), i, i % 2 == 0))
            .collect();
        store.record_batch(batch).await.unwrap();
    }
    let at = |second: usize| {
        let start = time::parse_rfc3339("2026-01-01T00:00:00Z").unwrap();
        (start + chrono::Duration::seconds(second as i64)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    };
    // (the events' seconds are in [from, to], the failures only)
    let cases = [
        (1_000, 25_000, false),
        (1_000, 25_000, true),
        (5_000, 5_100, false),
        (29_990, 40_000, true),
        (0, 4_095, false),
        (30_000, 40_000, false),
    ];
    let check = |state: &'static str| {
        let store = &store;
        async move {
            for (from, to, failures) in cases {
                let qs = format!(
                    "q=needle&from={}&to={}{}",
                    at(from),
                    at(to),
                    if failures { "&outcome=failure" } else { "" }
                );
                let exact = (from..=to.min(n - 1)).filter(|i| !failures || i % 2 == 0).count() as u64;
                assert_search_totals(store, &qs, exact, state).await;
            }
        }
    };
    check("not indexed").await;
    // 20,000 events indexed: more than 10,000 matches, the last block indexed only in part.
    store.index_pending(10_000).await.unwrap();
    store.index_pending(10_000).await.unwrap();
    check("partly indexed").await;
    while store.index_pending(10_000).await.unwrap() > 0 {}
    check("fully indexed").await;
}

/// A search's page read block by block of row ids (newest block first, stopping when the next cannot hold a row
/// of the page) equals the page computed here, when two events arrived far from their time, so that blocks'
/// times overlap; both orders, deep pages, next to a filter. Stopping one hour too early fails it.
#[tokio::test]
async fn a_page_of_a_search_read_block_by_block_is_the_page_in_time_order() {
    let (store, _d) = open().await;
    let n = 20_000usize;
    // Seconds after the start for each event in arrival order: in order, except two matches that arrived far
    // from their time: one in the first block of row ids, a second newer than the 50th newest match of the last
    // blocks; one in the last block, a second older than the 50th oldest match. The first block's times then
    // overlap the fourth's, and the last block's the first's.
    let mut second: Vec<usize> = (0..n).collect();
    let (late, early) = (101, 19_951);
    second[late] = 97 * 157 + 1;
    second[early] = 97 * 49 - 1;
    let matches = |i: usize| i.is_multiple_of(97) || i == late || i == early;
    let name = |i: usize| {
        if matches(i) {
            format!("mid-term-{i}")
        } else {
            format!("other-{i}")
        }
    };
    for chunk in 0..n / 1000 {
        let batch = (chunk * 1000..(chunk + 1) * 1000)
            .map(|i| timed_login(&name(i), second[i], i % 2 == 1))
            .collect();
        store.record_batch(batch).await.unwrap();
    }
    let expected = |failures_only: bool, asc: bool, page: usize, size: usize| {
        let hits = (0..n).filter(|&i| matches(i) && (!failures_only || i % 2 == 1));
        page_in_time_order(hits, &second, asc, page, size)
            .map(name)
            .collect::<Vec<_>>()
    };
    let cases = [
        ("q=mid-term", false, false, 1, 50),
        ("q=mid-term&order=asc", false, true, 1, 50),
        ("q=mid-term&page=2&page_size=25", false, false, 2, 25),
        ("q=mid-term&page=5&page_size=20&order=asc", false, true, 5, 20),
        ("q=mid-term&outcome=failure", true, false, 1, 50),
        (
            "q=mid-term&outcome=failure&page=2&page_size=10&order=asc",
            true,
            true,
            2,
            10,
        ),
    ];
    for state in ["not indexed", "indexed"] {
        if state == "indexed" {
            while store.index_pending(10_000).await.unwrap() > 0 {}
        }
        for (qs, failures_only, asc, page, size) in cases {
            let got = store.list(&q(qs)).await.unwrap();
            let actors: Vec<String> = got.entries.into_iter().filter_map(|r| r.actor_id).collect();
            assert_eq!(actors, expected(failures_only, asc, page, size), "{qs}, {state}");
        }
    }
}

/// Free text alone with more than 10,000 matches, all in the last actions of the order: the action sort walks
/// 20,000 events without a match, then goes one action at a time (the index counts each action's matches).
/// Pages within an action, across two (both read action by action), deeper (walked), and in the other order.
#[tokio::test]
async fn a_term_bunched_in_the_last_actions_is_paged_by_action() {
    let (store, _d) = open().await;
    let start = time::parse_rfc3339("2026-01-01T00:00:00Z").unwrap();
    // (action, name) in arrival order; each event one second after the one before.
    let mut events: Vec<(&str, String)> = (0..25_000).map(|i| ("zz.other", format!("other-{i}"))).collect();
    events.extend((0..500).map(|i| ("mailbox.moved", format!("bunched-m{i}"))));
    events.extend((0..11_000).map(|i| ("auth.login", format!("bunched-a{i}"))));
    for (chunk, part) in events.chunks(1000).enumerate() {
        let batch = part
            .iter()
            .enumerate()
            .map(|(j, (action, name))| {
                let mut e = ev(action, name, "2026-01-01T00:00:00Z");
                e.timestamp = Some(start + chrono::Duration::seconds((chunk * 1000 + j) as i64));
                e
            })
            .collect();
        store.record_batch(batch).await.unwrap();
    }
    while store.index_pending(10_000).await.unwrap() > 0 {}
    // Sorted by action, then time: newest first within each action for `desc`.
    let mut matches: Vec<(usize, &str, &String)> = events
        .iter()
        .enumerate()
        .filter(|(_, (_, name))| name.starts_with("bunched"))
        .map(|(i, (action, name))| (i, *action, name))
        .collect();
    matches.sort_by(|a, b| (a.1, a.0).cmp(&(b.1, b.0)));
    let ascending: Vec<String> = matches.iter().map(|m| m.2.clone()).collect();
    let descending: Vec<String> = ascending.iter().rev().cloned().collect();
    for (qs, order, page, size) in [
        ("q=bunched&sort=action", &descending, 1, 50),
        ("q=bunched&sort=action&page=10&page_size=51", &descending, 10, 51),
        ("q=bunched&sort=action&page=120", &descending, 120, 50),
        ("q=bunched&sort=action&order=asc&page=3", &ascending, 3, 50),
    ] {
        let got = store.list(&q(qs)).await.unwrap();
        assert_eq!(got.total, 10_000, "{qs}");
        let names: Vec<String> = got.entries.into_iter().filter_map(|r| r.actor_id).collect();
        assert_eq!(names, order[(page - 1) * size..page * size], "{qs}");
    }
}

/// A term next to a filter, more than 10,000 matches, sorted by action: the page goes one action at a time over
/// the actions with rows for the filter (an action whose events all succeeded is not even counted), skips the
/// actions before it by the index's count, and reads its own action in time order block by block. The same
/// rows as computed here: pages across actions, deep pages, both orders, events arriving out of order across a
/// block boundary, and rows the indexer has not reached.
#[tokio::test]
async fn a_term_next_to_a_filter_is_paged_by_action_one_action_at_a_time() {
    let (store, _d) = open().await;
    let n = 37_000usize;
    let mut second: Vec<usize> = (0..n).collect();
    second.swap(3 * 4096 - 10, 3 * 4096 + 10);
    let action = |i: usize| ["auth.login", "auth.login", "mailbox.moved", "zz.other", "aa.quiet"][i % 5];
    let failed = |i: usize| i % 2 == 1 && action(i) != "aa.quiet";
    let name = |i: usize| {
        if i.is_multiple_of(4) {
            format!("other-{i}")
        } else {
            format!("term-{i}")
        }
    };
    let start = time::parse_rfc3339("2026-01-01T00:00:00Z").unwrap();
    let record = |range: std::ops::Range<usize>| {
        let batch: Vec<NewEvent> = range
            .map(|i| {
                let mut e = ev(action(i), &name(i), "2026-01-01T00:00:00Z");
                e.timestamp = Some(start + chrono::Duration::seconds(second[i] as i64));
                if failed(i) {
                    e.outcome = Outcome::Failure;
                }
                e
            })
            .collect();
        store.record_batch(batch)
    };
    for chunk in 0..34 {
        record(chunk * 1000..(chunk + 1) * 1000).await.unwrap();
    }
    while store.index_pending(10_000).await.unwrap() > 0 {}
    // The newest 2,000 are not indexed yet.
    record(34_000..36_000).await.unwrap();
    // `only`: the actions the query filters on (none: every action).
    let check = |stored: usize, only: &'static [&'static str]| {
        let store = &store;
        let filter: String = only.iter().map(|a| format!("&action={a}")).collect();
        let mut hits: Vec<usize> = (0..stored)
            .filter(|&i| !i.is_multiple_of(4) && failed(i) && (only.is_empty() || only.contains(&action(i))))
            .collect();
        hits.sort_by_key(|&i| (action(i), second[i]));
        async move {
            let ascending: Vec<String> = hits.iter().map(|&i| name(i)).collect();
            let descending: Vec<String> = ascending.iter().rev().cloned().collect();
            // Where the first action ends in each order.
            let logins = hits.iter().filter(|&&i| action(i) == "auth.login").count();
            let others = hits.iter().filter(|&&i| action(i) == "zz.other").count();
            let mut cases = vec![
                (
                    format!("q=term&outcome=failure{filter}&sort=action"),
                    &descending,
                    1,
                    50,
                ),
                (
                    format!("q=term&outcome=failure{filter}&sort=action&order=asc"),
                    &ascending,
                    1,
                    50,
                ),
            ];
            for (order, list, boundary) in [("desc", &descending, others), ("asc", &ascending, logins)] {
                for (page, size) in [
                    (boundary / 53 + 1, 53),
                    (boundary / 50 + 2, 50),
                    (150, 50),
                    (hits.len() / 50, 50),
                ] {
                    let qs = format!(
                        "q=term&outcome=failure{filter}&sort=action&order={order}&page={page}&page_size={size}"
                    );
                    cases.push((qs, list, page, size));
                }
            }
            for (qs, list, page, size) in cases {
                let got = store.list(&q(&qs)).await.unwrap();
                assert_eq!(got.total, hits.len().min(10_000) as u64, "{qs}, {stored} events");
                let names: Vec<String> = got.entries.into_iter().filter_map(|r| r.actor_id).collect();
                let want = &list[((page - 1) * size).min(list.len())..(page * size).min(list.len())];
                assert_eq!(names, want, "{qs}, {stored} events");
            }
        }
    };
    check(36_000, &[]).await;
    // Fewer than 10,000 matches: the index names them all, and the page still goes action by action.
    check(36_000, &["mailbox.moved", "zz.other"]).await;
    // The counts of the actions are remembered: after the rest is indexed and more events arrive, the same
    // pages count only what is new.
    while store.index_pending(10_000).await.unwrap() > 0 {}
    record(36_000..n).await.unwrap();
    check(n, &[]).await;
    check(n, &["mailbox.moved", "zz.other"]).await;
}

/// A search whose filters leave events in one action, sorted by action, through a set of the index's matches:
/// that action's count is the set's size (nothing else is read for it). The pages are the action's matches in
/// time order, before and after more events arrive and are indexed.
#[tokio::test]
async fn a_set_whose_filters_leave_one_action_pages_it_in_time_order() {
    let (store, _d) = open().await;
    let store = store.with_tuning(app::store::Tuning {
        small_set: 0,
        ..app::store::Tuning::default()
    });
    // Failures only in `auth.login`; `term` in two events of three.
    let failed = |i: usize| i.is_multiple_of(2);
    let event = |i: usize| {
        let name = if i.is_multiple_of(3) {
            format!("other-{i}")
        } else {
            format!("term-{i}")
        };
        let mut e = timed_login(&name, (i * 7919) % 6_000, failed(i));
        if !failed(i) {
            e.action = ["mailbox.moved", "zz.other"][i % 4 / 2].into();
        }
        e
    };
    let check = |stored: usize| {
        let store = &store;
        let hits = (0..stored).filter(move |&i| !i.is_multiple_of(3) && failed(i));
        async move {
            let total = hits.clone().count();
            for (order, asc) in [("desc", false), ("asc", true)] {
                for (page, size) in [(1, 50), (7, 50), (total / 40, 40), (total / 40 + 1, 40)] {
                    let qs = format!("q=term&outcome=failure&sort=action&order={order}&page={page}&page_size={size}");
                    assert_eq!(
                        store.explain(&q(&qs)).await.unwrap(),
                        app::store::PagePlan::TextByAction { walk_first: false },
                        "{qs}"
                    );
                    let got = store.list(&q(&qs)).await.unwrap();
                    assert_eq!(got.total, total as u64, "{qs}, {stored} events");
                    let names: Vec<String> = got.entries.into_iter().filter_map(|r| r.actor_id).collect();
                    let seconds: Vec<usize> = (0..stored).map(|i| (i * 7919) % 6_000).collect();
                    let want: Vec<String> = page_in_time_order(hits.clone(), &seconds, asc, page, size)
                        .map(|i| format!("term-{i}"))
                        .collect();
                    assert_eq!(names, want, "{qs}, {stored} events");
                }
            }
        }
    };
    store.record_batch((0..4_000).map(event).collect()).await.unwrap();
    while store.index_pending(10_000).await.unwrap() > 0 {}
    check(4_000).await;
    store.record_batch((4_000..6_000).map(event).collect()).await.unwrap();
    while store.index_pending(10_000).await.unwrap() > 0 {}
    check(6_000).await;
}

/// Deep pages of a search with more than 10,000 matches skip whole segments of blocks by the index's counts,
/// then sort one segment: the same rows as computed here, with events arriving out of order across block
/// boundaries (so that blocks merge into segments), in both orders, next to a filter, and with rows the
/// indexer has not reached.
#[tokio::test]
async fn deep_pages_of_a_common_term_skip_whole_blocks() {
    let (store, _d) = open().await;
    let n = 32_000usize;
    // Seconds after the start, in arrival order, except across two block boundaries (row ids 8,192 and 24,576),
    // where two events 20 apart swap times: blocks 1 and 2 overlap, and 5 and 6, and form segments.
    let mut second: Vec<usize> = (0..n).collect();
    for boundary in [2 * 4096, 6 * 4096] {
        second.swap(boundary - 10, boundary + 10);
    }
    let common = |i: usize| !i.is_multiple_of(3);
    let name = |i: usize| {
        if common(i) {
            format!("common-{i}")
        } else {
            format!("rare-{i}")
        }
    };
    let record = |range: std::ops::Range<usize>| {
        let batch: Vec<NewEvent> = range.map(|i| timed_login(&name(i), second[i], i % 2 == 1)).collect();
        store.record_batch(batch)
    };
    for chunk in 0..28 {
        record(chunk * 1000..(chunk + 1) * 1000).await.unwrap();
    }
    while store.index_pending(10_000).await.unwrap() > 0 {}
    // The newest 2,000 are not indexed yet.
    record(28_000..30_000).await.unwrap();
    let stored = std::cell::Cell::new(30_000);
    let expected = |failures_only: bool, asc: bool, page: usize, size: usize| {
        let hits = (0..stored.get()).filter(|&i| common(i) && (!failures_only || i % 2 == 1));
        page_in_time_order(hits, &second, asc, page, size)
            .map(name)
            .collect::<Vec<_>>()
    };
    for (qs, failures_only, asc, page, size) in [
        ("q=common&page=150", false, false, 150, 50),
        ("q=common&page=101&page_size=99", false, false, 101, 99),
        ("q=common&page=390&order=asc", false, true, 390, 50),
        ("q=common&outcome=failure&page=180", true, false, 180, 50),
        ("q=common&page=399", false, false, 399, 50),
    ] {
        let got = store.list(&q(qs)).await.unwrap();
        let names: Vec<String> = got.entries.into_iter().filter_map(|r| r.actor_id).collect();
        assert_eq!(names, expected(failures_only, asc, page, size), "{qs}");
    }
    // Pages of 53 rows from the 100th on, some of which straddle two segments.
    for page in (100..=377).step_by(3) {
        let got = store
            .list(&q(&format!("q=common&page={page}&page_size=53")))
            .await
            .unwrap();
        let names: Vec<String> = got.entries.into_iter().filter_map(|r| r.actor_id).collect();
        assert_eq!(names, expected(false, false, page, 53), "page {page} of 53");
    }
    // The blocks counted above are remembered; after more events arrive and are indexed, pages that reuse
    // those counts still come out right.
    while store.index_pending(10_000).await.unwrap() > 0 {}
    record(30_000..n).await.unwrap();
    stored.set(n);
    for (qs, asc, page) in [
        ("q=common&page=150", false, 150),
        ("q=common&page=420", false, 420),
        ("q=common&page=390&order=asc", true, 390),
    ] {
        let got = store.list(&q(qs)).await.unwrap();
        let names: Vec<String> = got.entries.into_iter().filter_map(|r| r.actor_id).collect();
        assert_eq!(names, expected(false, asc, page, 50), "{qs}, after more events");
    }
}

/// A term common overall but found only in the oldest events: the page walks the newest rows first, expecting
/// the matches spread evenly, finds too few, and reads the index's matches instead. The page is still right.
#[tokio::test]
async fn a_page_whose_matches_are_all_old_is_right_when_the_walk_gives_up() {
    let (store, _d) = open().await;
    for chunk in 0..3 {
        let batch = (0..1000)
            .map(|i| {
                let actor = match (chunk, i) {
                    (0, _) => format!("old-term-{i}"),
                    (2, 0..10) => format!("old-term-new-{i}"),
                    _ => format!("new-{i}"),
                };
                ev("auth.login", &actor, &format!("2026-03-0{}T00:00:00Z", chunk + 1))
            })
            .collect();
        store.record_batch(batch).await.unwrap();
    }
    while store.index_pending(10_000).await.unwrap() > 0 {}
    // Newest first: the ten recent ones, then the old ones.
    let order: Vec<String> = (0..10)
        .rev()
        .map(|i| format!("old-term-new-{i}"))
        .chain((0..1000).rev().map(|i| format!("old-term-{i}")))
        .collect();
    for (qs, page) in [
        ("q=old-term&outcome=success", 1),
        ("q=old-term&action=auth.login&page=2", 2),
    ] {
        let got = store.list(&q(qs)).await.unwrap();
        assert_eq!(got.total, 1010, "{qs}");
        let actors: Vec<String> = got.entries.into_iter().filter_map(|r| r.actor_id).collect();
        assert_eq!(actors, order[(page - 1) * 50..page * 50], "{qs}");
    }
}

#[tokio::test]
async fn free_text_and_target_id_give_the_same_rows_before_during_and_after_indexing() {
    let (store, _d) = seeded().await;
    let queries = [
        "target_id=5",
        "target_id=4&order=asc",
        "target_type=mailbox&target_id=8",
        "target_id=nothing",
        "q=café",
        "q=box4@ACME",
        "q=ci-deploy",
        "q=mailbox",
        "q=100%",
        "q=u1",
        "q=zzz-none",
        "q=Name u2&order=asc",
        // Free text next to each filter the index holds as a tag, and next to those it does not.
        "q=acme&outcome=failure",
        "q=acme&action=mailbox.create&action=auth.login",
        "q=box&category=mailbox&order=asc",
        "q=acme&actor_type=api_token",
        "q=acme&actor_type=user&source=mail",
        "q=box&target_type=mailbox",
        "q=acme&actor=u1",
        "q=acme&actor=Name u2",
        "q=acme&actor=nobody",
        "q=acme&action=never.seen",
        "q=acme&source=proxy&from=2026-03-03&to=2026-03-08",
        "q=acme&target_id=5",
    ];
    // Every query's rows fit on one page: its total (capped or exact) is the number of its rows.
    let totals_match_rows = |state: &'static str| {
        let store = &store;
        async move {
            for qs in queries {
                let rows = days(store, qs).await.len() as u64;
                assert_eq!(store.list(&q(qs)).await.unwrap().total, rows, "{qs}, {state}");
                let exact = format!("{qs}&count=exact");
                assert_eq!(store.list(&q(&exact)).await.unwrap().total, rows, "{exact}, {state}");
            }
        }
    };
    let before: Vec<Vec<u32>> = futures_days(&store, &queries).await;
    assert_eq!(
        before[12],
        vec![10, 5],
        "q=acme&outcome=failure: the reading without the index"
    );
    assert_eq!(before[15], vec![7], "q=acme&actor_type=api_token");
    totals_match_rows("not indexed").await;
    store.index_pending(5).await.unwrap(); // part of the rows indexed
    assert_eq!(futures_days(&store, &queries).await, before, "partly indexed");
    totals_match_rows("partly indexed").await;
    while store.index_pending(1000).await.unwrap() > 0 {}
    assert_eq!(futures_days(&store, &queries).await, before, "fully indexed");
    totals_match_rows("fully indexed").await;
    // Events after indexing are found too, until the indexer reaches them.
    store
        .record(ev("webhook.create", "late-arrival", "2026-04-01T00:00:00Z"))
        .await
        .unwrap();
    assert_eq!(days(&store, "q=late-arrival").await.len(), 1);
    let mut late = ev("webhook.create", "u1", "2026-04-02T00:00:00Z");
    late.target = Some(Target {
        kind: "mailbox".into(),
        id: Some("5".into()),
        name: None,
    });
    store.record(late).await.unwrap();
    assert_eq!(days(&store, "target_id=5").await, vec![2, 5], "April 2 and March 5");
    while store.index_pending(1000).await.unwrap() > 0 {}
    assert_eq!(days(&store, "target_id=5").await, vec![2, 5], "once indexed");
    assert_eq!(store.count(&q("target_id=5&order=asc")).await.unwrap(), 2);
}

/// A phrase next to a filter whose events never hold it: counted as none (the index shows it through the
/// phrase's rarest trigram, or through the phrase when every trigram is there but apart), remembered as none,
/// and counted again once an event of the filter holds it.
#[tokio::test]
async fn a_phrase_that_never_meets_a_filter_counts_none_until_it_does() {
    let (store, _d) = open().await;
    let mut batch = Vec::new();
    for k in 0..300 {
        // "mailbox" only in the mailbox category; its trigrams apart in the auth category.
        let (at, m, s) = ("2026-03-01T10:00:00Z", format!("m{k}"), format!("s{k}"));
        batch.push(targeted(
            ev("mailbox.create", &format!("owner-{k}"), at),
            "mailbox",
            &m,
            &format!("box {k}"),
        ));
        batch.push(targeted(
            ev("auth.login", &format!("mail-{k}"), at),
            "session",
            &s,
            &format!("box ilbo {k}"),
        ));
    }
    store.record_batch(batch).await.unwrap();
    // (query, matches now, matches once the events below are stored)
    let cases = [
        ("q=mailbox&category=auth", 0, 1),
        ("q=mailbox&category=auth&sort=action", 0, 1),
        ("q=xilboy&category=mailbox", 0, 1),
        ("q=xilboy&category=mailbox&sort=action&order=asc", 0, 1),
        ("q=mailbox&category=mailbox", 300, 301),
    ];
    let check = |state: &'static str, after: bool| {
        let store = &store;
        async move {
            for (qs, now, later) in cases {
                let expected = if after { later } else { now };
                let page = store.list(&q(qs)).await.unwrap();
                assert_eq!(page.total, expected, "{qs}, {state}");
                assert_eq!(page.entries.len() as u64, expected.min(50), "{qs}, {state}");
            }
        }
    };
    check("not indexed", false).await;
    while store.index_pending(10_000).await.unwrap() > 0 {}
    check("indexed", false).await;
    check("indexed, asked again", false).await;
    let at = "2026-03-02T09:00:00Z";
    let e = targeted(ev("auth.login", "late", at), "session", "late", "a mailbox");
    let f = targeted(
        ev("mailbox.create", "late", at),
        "mailbox",
        "xilboy",
        "xilboy and a mailbox",
    );
    store.record_batch(vec![e, f]).await.unwrap();
    check("new events not indexed", true).await;
    while store.index_pending(10_000).await.unwrap() > 0 {}
    check("new events indexed", true).await;
}
