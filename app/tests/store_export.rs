//! The export walk: the list's rows in its order across chunks, and its limit of exports at once.
#![cfg(feature = "ssr")]

mod common;

use app::store::Tuning;
use common::*;

#[tokio::test]
async fn export_walks_the_rows_of_the_list_in_its_order_across_chunks() {
    let (seeded_store, _d) = seeded().await;
    for store in [
        seeded_store.clone(),
        seeded_store.clone().with_tuning(Tuning {
            sort_by_index_rows: 0,
            ..Tuning::default()
        }),
    ] {
        for qs in [
            "",
            "order=asc",
            "sort=action",
            "sort=action&order=asc",
            "category=user",
            "from=2026-03-03&to=2026-03-09&sort=action",
            "q=name",
            "actor=u1&order=asc",
        ] {
            let listed: Vec<String> = store
                .list(&q(&format!("{qs}&page_size=100")))
                .await
                .unwrap()
                .entries
                .into_iter()
                .map(|r| r.id)
                .collect();
            assert!(!listed.is_empty(), "{qs}");
            for chunk in [1, 2, 5, 10_000] {
                assert_eq!(
                    exported_ids(&store, qs, chunk, None).await,
                    listed,
                    "{qs}, chunks of {chunk}"
                );
            }
        }
    }
    let store = seeded_store;
    // A consumer that stops is not handed another row.
    assert_eq!(exported_ids(&store, "", 2, Some(3)).await.len(), 3);
    assert!(exported_ids(&store, "actor=nobody", 2, None).await.is_empty());
}

#[tokio::test]
async fn exports_beyond_the_limit_wait_for_a_turn() {
    let (store, _d) = seeded().await;
    let store = store.with_tuning(Tuning {
        exports_at_once: 2,
        ..Tuning::default()
    });
    let first = store.export_plan(&q(""), None).await.unwrap();
    let second = store.export_plan(&q("outcome=failure"), None).await.unwrap();
    let wait = std::time::Duration::from_millis(200);
    let third = tokio::time::timeout(wait, store.export_plan(&q(""), None)).await;
    assert!(third.is_err(), "a third export waits while two run");
    drop(first);
    let third = tokio::time::timeout(wait, store.export_plan(&q(""), None)).await;
    let third = third.expect("its turn comes when one ends").unwrap();
    let walked = tokio::task::spawn_blocking(move || third.walk(|_| true));
    assert_eq!(walked.await.unwrap().unwrap(), 12, "and it reads every row");
    drop(second);
}
