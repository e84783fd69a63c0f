//! Which plan serves each shape of query (`AuditStore::explain`), so that a change of a threshold or of the
//! planner cannot silently point a query, or a test written for one path, at another.
#![cfg(feature = "ssr")]

mod common;

use app::{
    model::{Actor, NewEvent},
    store::{AuditStore, PagePlan, Source, Tuning},
};
use common::*;

async fn plan(store: &AuditStore, qs: &str) -> PagePlan {
    store.explain(&q(qs)).await.unwrap()
}

fn tuned(store: &AuditStore, change: impl FnOnce(&mut Tuning)) -> AuditStore {
    let mut tuning = Tuning::default();
    change(&mut tuning);
    store.clone().with_tuning(tuning)
}

#[tokio::test]
async fn structured_filters_are_read_by_keyset_offset_or_from_their_day() {
    let (store, _dir) = seeded().await;
    let keyset = PagePlan::Keyset { source: Source::Table };
    let offset = PagePlan::Offset { source: Source::Table };
    assert_eq!(plan(&store, "").await, keyset);
    assert_eq!(plan(&store, "outcome=failure&source=mail").await, keyset);
    let first = store.list(&q("page_size=5")).await.unwrap();
    let cursor = first.next_cursor.unwrap();
    assert_eq!(plan(&store, &format!("page_size=5&cursor={cursor}")).await, keyset);
    // A shallow page skips through the index; past `anchor_min_offset` it starts from its day.
    assert_eq!(plan(&store, "page=2&page_size=5").await, offset);
    let anchored = tuned(&store, |t| t.anchor_min_offset = Some(0));
    assert_eq!(
        plan(&anchored, "page=2&page_size=5").await,
        PagePlan::Anchored { source: Source::Table }
    );
    assert_eq!(
        plan(&anchored, "actor=u1&page=2&page_size=2").await,
        PagePlan::Anchored { source: Source::Table }
    );
    // An excluded actor is counted per day too (the other filters' days less the actor's).
    assert_eq!(
        plan(&anchored, "exclude_actor=u1&page=2&page_size=2").await,
        PagePlan::Anchored { source: Source::Table }
    );
    assert_eq!(
        plan(&store, "exclude_actor=u1&outcome=failure&sort=action").await,
        PagePlan::AnchoredByAction
    );
    // A range inside one day is not counted per day, nor is a target id.
    let within_a_day = "page=2&page_size=1&from=2026-03-05T10:00:00Z&to=2026-03-05T20:00:00Z";
    assert_eq!(plan(&anchored, within_a_day).await, offset);
    assert_eq!(
        plan(&anchored, "target_id=3&page=2&page_size=1").await,
        PagePlan::Offset {
            source: Source::NotIndexed
        }
    );
    // Sorted by action: from the action and day, or, without the per-day counts, through the action index
    // once the filter matches more than `sort_by_index_rows`.
    assert_eq!(plan(&store, "sort=action").await, PagePlan::AnchoredByAction);
    let skipping = tuned(&store, |t| t.anchor_min_offset = None);
    assert_eq!(plan(&skipping, "sort=action").await, offset);
    let by_index = tuned(&store, |t| {
        t.anchor_min_offset = None;
        t.sort_by_index_rows = 0;
    });
    assert_eq!(
        plan(&by_index, "sort=action").await,
        PagePlan::Offset {
            source: Source::ByAction
        }
    );
}

#[tokio::test]
async fn a_search_with_a_small_set_reads_it_walks_when_common_and_turns_around_near_the_end() {
    let (store, _dir) = seeded().await;
    store.index_pending(1_000).await.unwrap();
    // `acme` is in 8 of the 12 events: a page of 50 would have to walk further than the index names.
    assert_eq!(plan(&store, "q=acme").await, PagePlan::TextSet);
    // A page of one is expected within the first two rows: walked, with the set behind it.
    assert_eq!(
        plan(&store, "q=acme&page_size=1").await,
        PagePlan::TextWalk {
            source: Source::Table,
            budget: 8,
            otherwise: Box::new(PagePlan::TextSet)
        }
    );
    // Sorted by action, a small set is sorted whole, walked when common.
    assert_eq!(
        plan(&store, "q=acme&sort=action").await,
        PagePlan::Offset { source: Source::Table }
    );
    assert_eq!(
        plan(&store, "q=acme&sort=action&page_size=1").await,
        PagePlan::TextWalk {
            source: Source::Table,
            budget: 8,
            otherwise: Box::new(PagePlan::Offset { source: Source::Table })
        }
    );
    // Next to a filter, a set larger than `small_set` is counted action by action.
    let no_small_sets = tuned(&store, |t| t.small_set = 0);
    assert_eq!(
        plan(&no_small_sets, "q=acme&outcome=success&sort=action").await,
        PagePlan::TextByAction { walk_first: false }
    );
    // The last page of an exact count is read from the other end.
    let last = plan(&store, "q=acme&count=exact&page=8&page_size=1").await;
    assert!(matches!(last, PagePlan::FromEnd { total: 8, rows: 1, .. }), "{last:?}");
    // Two characters cannot use the trigram index: the table is read as for any filter.
    assert_eq!(plan(&store, "q=ac").await, PagePlan::Keyset { source: Source::Table });
}

#[tokio::test]
async fn a_common_term_is_read_by_blocks_when_deep_and_by_action_when_sorted_so() {
    let (store, _dir) = open().await;
    let events: Vec<NewEvent> = (0..10_050)
        .map(|i| {
            let mut e = ev(
                ["backup.create", "mailbox.create"][i % 2],
                "u1",
                &format!("2026-03-01T00:{:02}:{:02}Z", (i / 60) % 60, i % 60),
            );
            e.actor = Some(Actor::system(&format!("nightly-{i}")));
            e
        })
        .collect();
    store.record_batch(events).await.unwrap();
    while store.index_pending(5_000).await.unwrap() > 0 {}
    assert_eq!(
        plan(&store, "q=nightly&page=120").await,
        PagePlan::TextBlocks {
            otherwise: Box::new(PagePlan::Offset { source: Source::Table })
        }
    );
    assert_eq!(
        plan(&store, "q=nightly&sort=action").await,
        PagePlan::TextByAction { walk_first: true }
    );
    assert_eq!(
        plan(&store, "q=nightly&outcome=success&sort=action").await,
        PagePlan::TextByAction { walk_first: false }
    );
    // A shallow page walks the table in time order, where matches are dense.
    assert_eq!(
        plan(&store, "q=nightly&page=2").await,
        PagePlan::Offset { source: Source::Table }
    );
    // Next to filters that match much of the log (a view's actions), the time index, which SQLite would
    // leave for the action index and a sort of every match.
    let many_actions = "q=nightly&action=backup.create&action=mailbox.create";
    assert_eq!(
        plan(&store, many_actions).await,
        PagePlan::Keyset { source: Source::ByTime }
    );
    assert_eq!(
        plan(&store, "q=nightly&view=activity&page=3").await,
        PagePlan::Offset { source: Source::ByTime }
    );
}
