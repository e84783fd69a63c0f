//! The event writer: concurrent writers, a change stored with the event that records it, checkpoints.
#![cfg(feature = "ssr")]

mod common;

use app::model::{Actor, NewEvent};
use common::*;
use serde_json::json;

#[tokio::test]
async fn concurrent_writers_never_see_database_is_locked() {
    let (store, _d) = open().await;
    let mut tasks = Vec::new();
    for w in 0..16 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..50 {
                store
                    .record(ev("a.b", &format!("{w}-{i}"), "2026-03-01T00:00:00Z"))
                    .await
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(store.count(&q("")).await.unwrap(), 800);
    assert_eq!(store.integrity_check().await.unwrap(), "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panel_change_goes_ahead_of_the_events_queued_before_it() {
    let (store, _d) = open().await;
    let by = |name: &str| NewEvent {
        action: "settings.update".into(),
        actor: Some(Actor::system(name)),
        ..NewEvent::default()
    };
    // A change that holds the writer until it is let go.
    let (let_go, held) = std::sync::mpsc::channel::<()>();
    let gate = {
        let (store, event) = (store.clone(), by("gate"));
        tokio::spawn(async move {
            store
                .update_setting_recorded("smtp_relay", "relay8.example.com", move |_| {
                    held.recv().unwrap();
                    Some(event)
                })
                .await
                .unwrap();
        })
    };
    // 20 batches of events queue behind it, then a second change.
    let batches: Vec<_> = (0..20)
        .map(|b| {
            let store = store.clone();
            let events = (0..500)
                .map(|i| ev("mailbox.create", &format!("{b}-{i}"), "2026-03-01T00:00:00Z"))
                .collect();
            tokio::spawn(async move { store.record_batch(events).await.unwrap() })
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let second = {
        let (store, event) = (store.clone(), by("second"));
        tokio::spawn(async move {
            store
                .update_setting_recorded("smtp_relay", "relay9.example.com", move |_| Some(event))
                .await
                .unwrap();
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let_go.send(()).unwrap();
    gate.await.unwrap();
    second.await.unwrap();
    for b in batches {
        b.await.unwrap();
    }
    // In commit order: the gate, the second change, then the 10,000 events.
    let changes = store.list(&q("action=settings.update")).await.unwrap();
    let mut places = Vec::new();
    for entry in &changes.entries {
        let event = store.get(&entry.id).await.unwrap();
        places.push((event.actor.name.clone().unwrap(), event.log_index.unwrap()));
    }
    places.sort_by_key(|(_, at)| *at);
    assert_eq!(places, [("gate".to_string(), 0), ("second".to_string(), 1)]);
    assert_eq!(store.count(&q("")).await.unwrap(), 10_002);
}

#[tokio::test]
async fn a_change_and_the_event_that_records_it_are_stored_together_or_not_at_all() {
    use app::{model::Role, store::StoreError};
    let (store, _d) = open().await;
    let event = |action: &str| NewEvent {
        action: action.into(),
        actor: Some(Actor::system("test")),
        ..NewEvent::default()
    };
    // An event that cannot be stored takes its change with it.
    let bad = event("Not An Action");
    let refused = store
        .create_user_recorded(
            "ann@example.com",
            "Ann",
            Role::Admin,
            "correct-horse-battery",
            move |_| Some(bad),
        )
        .await;
    assert!(matches!(refused, Err(StoreError::Invalid(_))), "{refused:?}");
    assert!(store.user_by_email("ann@example.com").await.unwrap().is_none());
    let bad = event("Not An Action");
    assert!(
        store
            .update_setting_recorded("smtp_relay", "relay9.example.com", move |_| Some(bad))
            .await
            .is_err()
    );
    let settings = store.settings().await.unwrap();
    assert!(
        settings.contains(&("smtp_relay".into(), "relay1.acme.com".into())),
        "{settings:?}"
    );
    assert_eq!(store.count(&q("")).await.unwrap(), 0);
    // A refused change records nothing.
    let unknown = store
        .update_user_recorded("01ARZ3NDEKTSV4RRFFQ69G5FAV", "X", Role::Viewer, |_, _| {
            Some(NewEvent {
                action: "user.update".into(),
                actor: Some(Actor::system("test")),
                ..NewEvent::default()
            })
        })
        .await;
    assert!(matches!(unknown, Err(StoreError::NotFound)), "{unknown:?}");
    assert_eq!(store.count(&q("")).await.unwrap(), 0);
    // Both, when both can be stored; the event sees the state before the change.
    let before = store
        .update_setting_recorded("smtp_relay", "relay9.example.com", |before| {
            Some(NewEvent {
                action: "settings.update".into(),
                actor: Some(Actor::system("test")),
                details: json!({"from": before}).as_object().unwrap().clone(),
                ..NewEvent::default()
            })
        })
        .await
        .unwrap();
    assert_eq!(before, "relay1.acme.com");
    let page = store.list(&q("action=settings.update")).await.unwrap();
    assert_eq!(page.total, 1);
    let stored = store.get(&page.entries[0].id).await.unwrap();
    assert_eq!(stored.details["from"], "relay1.acme.com");
    let token = store
        .create_token_recorded("ci", &app::store::Scopes::parse("ingest").unwrap(), None, |_| None)
        .await
        .unwrap();
    let bad = event("Not An Action");
    assert!(
        store
            .revoke_token_recorded(&token.token.id, move |_| Some(bad))
            .await
            .is_err()
    );
    let tokens = store.list_tokens().await.unwrap();
    assert!(
        tokens[0].revoked_at.is_none(),
        "the revocation was rolled back with its event"
    );
    assert_eq!(store.count(&q("")).await.unwrap(), 1);
}

/// Checkpoints run on their own thread: events committed by the writer reach the database file itself (read
/// here ignoring the WAL) while the store stays open, and the WAL does not just grow.
#[tokio::test]
async fn committed_events_are_checkpointed_into_the_database_file_while_the_store_is_open() {
    let (store, dir) = open().await;
    for batch in 0..5 {
        let events = (0..200)
            .map(|i| ev("a.b", &format!("{batch}-{i}"), "2026-03-01T00:00:00Z"))
            .collect();
        store.record_batch(events).await.unwrap();
    }
    let file_only = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(dir.path().join("t.db"))
        .read_only(true)
        .immutable(true);
    let mut in_file = 0;
    for _ in 0..100 {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let mut conn = sqlx::ConnectOptions::connect(&file_only).await.unwrap();
        // Before the first checkpoint the file may not even hold the table yet.
        in_file = sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM events")
            .fetch_one(&mut conn)
            .await
            .unwrap_or(0);
        if in_file == 1_000 {
            break;
        }
    }
    assert_eq!(in_file, 1_000, "every committed event is in the database file");
}
