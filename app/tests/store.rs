//! The store against a real SQLite file per test: filters alone and combined, sorting, paging, keyset
//! cursors, inclusive UTC day bounds, idempotency, and SQL injection through every text parameter.
#![cfg(feature = "ssr")]

use app::{
    model::{Actor, ActorType, AuditQuery, NewEvent, Outcome, Target, time},
    store::AuditStore,
};
use serde_json::json;

async fn open() -> (AuditStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = AuditStore::open(&format!("sqlite://{}", dir.path().join("t.db").display()))
        .await
        .unwrap();
    (store, dir)
}

fn ev(action: &str, actor: &str, ts: &str) -> NewEvent {
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

fn q(qs: &str) -> AuditQuery {
    AuditQuery::from_query_string(qs).unwrap()
}

/// Twelve events on 2026-03-01..12 at noon, with varied fields.
async fn seeded() -> (AuditStore, tempfile::TempDir) {
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

async fn days(store: &AuditStore, qs: &str) -> Vec<u32> {
    store
        .list(&q(qs))
        .await
        .unwrap()
        .entries
        .iter()
        .map(|r| r.timestamp[8..10].parse().unwrap())
        .collect()
}

#[tokio::test]
async fn newest_first_by_default() {
    let (store, _d) = seeded().await;
    assert_eq!(days(&store, "").await, (1..=12).rev().collect::<Vec<_>>());
}

#[tokio::test]
async fn each_filter_alone() {
    let (store, _d) = seeded().await;
    assert_eq!(days(&store, "action=auth.login").await, vec![10, 6, 2]);
    assert_eq!(
        days(&store, "action=auth.login&action=user.update").await,
        vec![11, 10, 7, 6, 3, 2]
    );
    assert_eq!(days(&store, "category=mailbox").await, vec![12, 9, 8, 5, 4, 1]);
    assert_eq!(days(&store, "actor=u1").await, vec![10, 4, 1], "by id");
    assert_eq!(days(&store, "actor=u1@x.org").await, vec![10, 4, 1], "by email");
    assert_eq!(days(&store, "actor=Name u1").await, vec![10, 4, 1], "by name");
    assert_eq!(days(&store, "actor_type=api_token").await, vec![7]);
    assert_eq!(days(&store, "target_type=mailbox").await.len(), 8);
    assert_eq!(days(&store, "target_id=5").await, vec![5]);
    assert_eq!(days(&store, "outcome=failure").await, vec![10, 5]);
    assert_eq!(days(&store, "source=mail").await, vec![12, 10, 8, 6, 4, 2]);
    assert_eq!(days(&store, "q=café").await, vec![7], "details");
    assert_eq!(
        days(&store, "q=BOX3@ACME").await,
        Vec::<u32>::new(),
        "day 3 has no target"
    );
    assert_eq!(days(&store, "q=box4@ACME").await, vec![4], "case-insensitive");
    assert_eq!(days(&store, "q=100%").await, vec![7], "% is literal");
    assert_eq!(days(&store, "q=ci-deploy").await, vec![7], "actor name");
}

#[tokio::test]
async fn filters_combine_with_and() {
    let (store, _d) = seeded().await;
    assert_eq!(days(&store, "category=mailbox&source=mail").await, vec![12, 8, 4]);
    assert_eq!(
        days(&store, "category=mailbox&source=mail&outcome=success&from=2026-03-05").await,
        vec![12, 8]
    );
    assert_eq!(
        store.count(&q("category=mailbox&actor=u0")).await.unwrap(),
        2,
        "days 9 and 12"
    );
}

#[tokio::test]
async fn day_bounds_are_inclusive_utc() {
    let (store, _d) = open().await;
    store
        .record_batch(vec![
            ev("a.b", "1", "2026-03-01T23:59:59.999Z"),
            ev("a.b", "1", "2026-03-02T00:00:00.000Z"),
            ev("a.b", "1", "2026-03-02T23:59:59.999Z"),
            ev("a.b", "1", "2026-03-03T00:00:00.000Z"),
        ])
        .await
        .unwrap();
    assert_eq!(store.count(&q("from=2026-03-02&to=2026-03-02")).await.unwrap(), 2);
    assert_eq!(store.count(&q("from=2026-03-02T00:00:00Z")).await.unwrap(), 3);
    assert_eq!(store.count(&q("to=2026-03-01T23:59:59.999Z")).await.unwrap(), 1);
}

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
    let stores = [seeded_store.clone(), seeded_store.with_sort_by_index_rows(0)];
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

/// A row of `day_cube`: day, action, category, outcome, actor type, target type, source, count.
type CubeRow = (i64, String, String, String, String, String, String, i64);
/// A row of `actor_day_cube`: who, then the columns of `CubeRow`.
type ActorCubeRow = (String, i64, String, String, String, String, String, String, i64);

#[tokio::test]
async fn first_totals_from_day_counts_equal_the_rows_for_any_range() {
    let (store, dir) = open().await;
    let mut events = Vec::new();
    // Events every 7 hours over 20 days, across day boundaries, some before 1970 too.
    for i in 0..70i64 {
        let ms = 1_772_323_200_000 + i * 7 * 3_600_000 + i * 61_000 * (i % 2);
        let action = ["mailbox.create", "mailbox.delete", "auth.login"][(i % 3) as usize];
        let mut e = ev(action, "u1", &time::format_millis(ms));
        e.outcome = if i % 4 == 0 { Outcome::Failure } else { Outcome::Success };
        e.target = (i % 5 != 0).then(|| Target {
            kind: "mailbox".into(),
            id: None,
            name: None,
        });
        events.push(e);
    }
    events.push(ev("auth.login", "u2", "1969-12-31T23:00:00Z"));
    store.record_batch(events).await.unwrap();
    let ranges = [
        "",
        "from=2026-03-03",
        "to=2026-03-10",
        "from=2026-03-02T05:30:00Z&to=2026-03-15T17:45:10.5Z",
        "from=2026-03-04&to=2026-03-04",
        "from=2026-03-04T23:59:59.999Z&to=2026-03-06T00:00:00Z",
        "from=1969-12-31&to=2026-03-05T06:00:00Z",
    ];
    let filters = [
        "",
        "action=auth.login",
        "action=auth.login&action=mailbox.delete",
        "category=mailbox",
        "outcome=failure",
        "target_type=mailbox",
        "actor_type=user",
        "source=nothing",
        "actor=u1",
        "actor=Name u2",
        "actor=u1&outcome=failure",
        "category=mailbox&outcome=failure",
        "action=auth.login&action=mailbox.create&target_type=mailbox&actor_type=user",
        "outcome=success&source=nothing&category=auth",
        "category=auth&outcome=success&source=api",
    ];
    for range in ranges {
        for filter in filters {
            let qs = format!("{filter}&{range}");
            let rows = store.list(&q(&format!("{qs}&page_size=100"))).await.unwrap();
            assert_eq!(rows.total, rows.entries.len() as u64, "{qs}");
        }
    }
    // The writer's per-day counts are the migration's: the same days, by floor division, for every column.
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", dir.path().join("t.db").display()))
        .await
        .unwrap();
    let kept: Vec<(String, String, i64, i64)> = sqlx::query_as(
        "SELECT col, value, day, n FROM day_counts WHERE col IN ('*', 'action', 'actor') ORDER BY 1, 2, 3",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let recounted: Vec<(String, String, i64, i64)> = sqlx::query_as(
        "SELECT * FROM (SELECT '*', '', d, COUNT(*) FROM (SELECT (ts - ((ts % 86400000) + 86400000) % 86400000) \
         / 86400000 AS d FROM events) GROUP BY d UNION ALL SELECT 'action', action, d, COUNT(*) FROM (SELECT action, \
         (ts - ((ts % 86400000) + 86400000) % 86400000) / 86400000 AS d FROM events) GROUP BY action, d \
         UNION ALL SELECT 'actor', w, d, COUNT(*) FROM (SELECT COALESCE(actor_email, actor_id, actor_name) AS w, \
         (ts - ((ts % 86400000) + 86400000) % 86400000) / 86400000 AS d FROM events) GROUP BY w, d) ORDER BY 1, 2, 3",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(kept, recounted);
    let cube = "SELECT day, action, category, outcome, actor_type, target_type, source, n FROM day_cube ORDER BY 1, 2, 3, 4, 5, 6, 7";
    let kept_cube: Vec<CubeRow> = sqlx::query_as(cube).fetch_all(&pool).await.unwrap();
    sqlx::query("DELETE FROM day_cube").execute(&pool).await.unwrap();
    let migration = include_str!("../../migrations/20261122000009_day_cube.sql");
    let backfill = &migration[migration.find("INSERT INTO day_cube").unwrap()..];
    sqlx::query(backfill).execute(&pool).await.unwrap();
    let recounted_cube: Vec<CubeRow> = sqlx::query_as(cube).fetch_all(&pool).await.unwrap();
    assert_eq!(kept_cube, recounted_cube, "the writer's cube is the migration's");
    let actor_cube = "SELECT * FROM actor_day_cube ORDER BY 1, 2, 3, 4, 5, 6, 7, 8";
    let kept_actor_cube: Vec<ActorCubeRow> = sqlx::query_as(actor_cube).fetch_all(&pool).await.unwrap();
    sqlx::query("DELETE FROM actor_day_cube").execute(&pool).await.unwrap();
    let migration = include_str!("../../migrations/20261122000011_actor_day_cube.sql");
    let backfill = &migration[migration.find("INSERT INTO actor_day_cube").unwrap()..];
    sqlx::query(backfill).execute(&pool).await.unwrap();
    let recounted_actor_cube: Vec<ActorCubeRow> = sqlx::query_as(actor_cube).fetch_all(&pool).await.unwrap();
    assert_eq!(
        kept_actor_cube, recounted_actor_cube,
        "the writer's actor cube is the migration's"
    );
    let totals = "SELECT col, value, n FROM value_counts ORDER BY 1, 2";
    let kept_totals: Vec<(String, String, i64)> = sqlx::query_as(totals).fetch_all(&pool).await.unwrap();
    let summed: Vec<(String, String, i64)> =
        sqlx::query_as("SELECT col, value, SUM(n) FROM day_counts GROUP BY 1, 2 ORDER BY 1, 2")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(kept_totals, summed, "the writer's totals are the sums of its days");
    assert!(kept_cube.len() > 20);
    assert!(
        kept.iter().any(|(_, _, day, _)| *day == -1),
        "the 1969 event is on day -1"
    );
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
    let anchored = store.clone().with_anchor_min_offset(Some(0));
    let skipping = store.clone().with_anchor_min_offset(None);
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

/// The ids an export walk hands out, reading `chunk` rows per query.
async fn exported_ids(store: &AuditStore, qs: &str, chunk: u32, stop_after: Option<usize>) -> Vec<String> {
    let plan = store.export_plan(&q(qs)).await.unwrap().with_chunk_rows(chunk);
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

#[tokio::test]
async fn export_walks_the_rows_of_the_list_in_its_order_across_chunks() {
    let (seeded_store, _d) = seeded().await;
    for store in [seeded_store.clone(), seeded_store.clone().with_sort_by_index_rows(0)] {
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
async fn list_rows_mask_ip_and_skip_details() {
    let (store, _d) = open().await;
    let mut e = ev("user.update", "1", "2026-03-01T10:00:00Z");
    e.ip = Some("203.0.113.42".into());
    e.details = json!({"changes": {"role": {"from": "viewer", "to": "admin"}}})
        .as_object()
        .unwrap()
        .clone();
    store.record(e).await.unwrap();
    let row = &store.list(&q("")).await.unwrap().entries[0];
    assert_eq!(row.ip.as_deref(), Some("203.0.113.xxx"));
    assert_eq!(row.summary, "role: viewer → admin");
    let whole = store.get(&row.id).await.unwrap();
    assert_eq!(whole.ip.as_deref(), Some("203.0.113.42"), "stored whole");
}

/// Every column of a listed row is the stored value, byte for byte (the page's rows come from SQLite as one JSON
/// array): quotes, backslashes, JSON and HTML in text, other scripts, and missing values.
#[tokio::test]
async fn list_rows_carry_every_value_as_stored() {
    let (store, _d) = open().await;
    let tricky = [
        r#"say "hi" \ back\slash \u0041 {"a": [1, null]}"#,
        "<script>alert(1)</script> &amp; 'single'",
        "שלום עולם مرحبا 👩‍💻 Ünïcode\ttab",
        "=SUM(A1) line\nbreak",
    ];
    let mut events = Vec::new();
    for (i, text) in tricky.iter().enumerate() {
        let mut e = ev(
            "user.update",
            &format!("u{i}"),
            &format!("2026-03-0{}T12:00:00Z", i + 1),
        );
        e.actor = Some(Actor {
            kind: ActorType::User,
            id: Some(format!("id {text}")),
            name: Some(text.to_string()),
            email: None,
        });
        e.target = Some(Target {
            kind: "mailbox".into(),
            id: Some(text.to_string()),
            name: Some(format!("name {text}")),
        });
        e.source = Some(format!("src {i}"));
        e.details = json!({"note": text}).as_object().unwrap().clone();
        events.push(e);
    }
    // And one without the optional values.
    let mut bare = ev("auth.login", "x", "2026-03-09T12:00:00Z");
    bare.actor = Some(Actor {
        kind: ActorType::System,
        id: Some("cron".into()),
        name: None,
        email: None,
    });
    events.push(bare);
    store.record_batch(events).await.unwrap();
    for qs in [
        "",
        "sort=action",
        "sort=action&order=asc",
        "q=line",
        "page_size=2&page=2",
    ] {
        let page = store.list(&q(qs)).await.unwrap();
        assert!(!page.entries.is_empty(), "{qs}");
        for row in &page.entries {
            let whole = store.get(&row.id).await.unwrap();
            let stored = (
                whole.action.as_str(),
                whole.actor.id.as_deref(),
                whole.actor.name.as_deref(),
                whole.actor.email.as_deref(),
                whole.target.as_ref().map(|t| t.kind.as_str()),
                whole.target.as_ref().and_then(|t| t.id.as_deref()),
                whole.target.as_ref().and_then(|t| t.name.as_deref()),
                whole.source.as_str(),
                whole.timestamp.as_str(),
            );
            let listed = (
                row.action.as_str(),
                row.actor_id.as_deref(),
                row.actor_name.as_deref(),
                row.actor_email.as_deref(),
                row.target_type.as_deref(),
                row.target_id.as_deref(),
                row.target_name.as_deref(),
                row.source.as_str(),
                row.timestamp.as_str(),
            );
            assert_eq!(listed, stored, "{qs}");
        }
    }
    let names: Vec<Option<String>> = store
        .list(&q("sort=action&order=asc"))
        .await
        .unwrap()
        .entries
        .into_iter()
        .map(|r| r.actor_name)
        .collect();
    let mut expected = vec![None];
    expected.extend(tricky.iter().map(|t| Some(t.to_string())));
    assert_eq!(names, expected, "auth.login first, then the updates oldest first");
}

#[tokio::test]
async fn events_cannot_be_edited() {
    let (store, dir) = seeded().await;
    let id = store.list(&q("")).await.unwrap().entries[0].id.clone();
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", dir.path().join("t.db").display()))
        .await
        .unwrap();
    let err = sqlx::query("UPDATE events SET action = 'x.y' WHERE id = ?")
        .bind(&id)
        .execute(&pool)
        .await;
    assert!(err.unwrap_err().to_string().contains("append-only"));
}

#[tokio::test]
async fn sql_injection_through_every_text_parameter_is_just_text() {
    let (store, _d) = seeded().await;
    let attacks = [
        "' OR '1'='1",
        "x'); DROP TABLE events; --",
        "\" OR 1=1 --",
        "%' OR 1=1 --",
        "\\",
        "_",
    ];
    for param in ["q", "action", "category", "actor", "target_type", "target_id", "source"] {
        for attack in attacks {
            let qs = format!("{param}={}", urlencoding::encode(attack));
            let page = store.list(&q(&qs)).await.unwrap_or_else(|e| panic!("{qs}: {e}"));
            assert_eq!(page.total, 0, "{qs} matched rows");
        }
    }
    assert_eq!(store.count(&q("")).await.unwrap(), 12, "table intact");
}

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

#[tokio::test]
async fn facets_group_actions_by_category() {
    let (store, _d) = seeded().await;
    let f = store.facets().await.unwrap();
    let cats: Vec<&str> = f.categories.iter().map(|c| c.category.as_str()).collect();
    assert_eq!(cats, vec!["auth", "mailbox", "user"]);
    let mailbox: u64 = f.categories[1].actions.iter().map(|a| a.count).sum();
    assert_eq!(mailbox, 6);
    assert_eq!(f.target_types, vec!["mailbox"]);
    assert_eq!(f.sources, vec!["mail", "proxy"]);
}

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

/// Through the index, the count of free text next to filters comes from FTS5 (the filters are tags there):
/// exact below 10,000, a lower bound above unless asked for, and the same before, during and after indexing.
/// Asserts a search's totals against `exact`, its number of matches: shown up to 10,000 (then as a lower
/// bound), and in full with `count=exact`. Returns the first page.
async fn assert_search_totals(store: &AuditStore, qs: &str, exact: u64, state: &str) -> app::model::EventPage {
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

/// An `auth.login` event by `name`, `second` seconds into 2026, failed when `failure`.
fn timed_login(name: &str, second: usize, failure: bool) -> NewEvent {
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
fn page_in_time_order(
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

#[tokio::test]
async fn actors_are_found_by_id_email_or_name_as_their_parts_change() {
    let (store, dir) = open().await;
    let actor = |id: Option<&str>, name: Option<&str>, email: Option<&str>| Actor {
        kind: ActorType::User,
        id: id.map(Into::into),
        name: name.map(Into::into),
        email: email.map(Into::into),
    };
    let zoe = actor(Some("z1"), Some("Zoe"), Some("zoe@x.org"));
    let renamed = actor(Some("z1"), Some("Zoe B"), Some("zoe@x.org"));
    let other = actor(Some("a9"), Some("Zoe"), Some("admin@y.org"));
    let cron = actor(None, Some("cron"), None);
    let who = [&zoe, &zoe, &renamed, &other, &cron];
    let events = who
        .iter()
        .enumerate()
        .map(|(i, a)| NewEvent {
            actor: Some((*a).clone()),
            ..ev("auth.login", "-", &format!("2026-03-0{}T12:00:00Z", i + 1))
        })
        .collect();
    store.record_batch(events).await.unwrap();
    let cases: [(&str, &[u32]); 9] = [
        ("actor=zoe@x.org", &[3, 2, 1]),
        ("actor=z1", &[3, 2, 1]),
        ("actor=Zoe", &[4, 2, 1]),
        ("actor=Zoe&order=asc", &[1, 2, 4]),
        ("actor=Zoe&from=2026-03-02", &[4, 2]),
        ("actor=Zoe B", &[3]),
        ("actor=cron", &[5]),
        ("actor=admin@y.org&actor_type=user", &[4]),
        ("actor=nobody", &[]),
    ];
    for (qs, want) in cases {
        let page = store.list(&q(qs)).await.unwrap();
        let got: Vec<u32> = page
            .entries
            .iter()
            .map(|r| r.timestamp[8..10].parse().unwrap())
            .collect();
        assert_eq!(got, want, "{qs}");
        assert_eq!(page.total, want.len() as u64, "{qs}: total");
    }
    let paged: Vec<u32> = futures_days(
        &store,
        &["actor=Zoe&page_size=1&page=2", "actor=Zoe&page_size=1&page=3"],
    )
    .await
    .concat();
    assert_eq!(paged, vec![2, 1]);
    let facets = store.facets().await.unwrap();
    let busiest: Vec<(&str, u64)> = facets.actors.iter().map(|a| (a.actor.as_str(), a.count)).collect();
    assert_eq!(busiest, vec![("zoe@x.org", 3), ("admin@y.org", 1), ("cron", 1)]);
    // What the writer added to `actors` is what migration 8 derives from the events.
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", dir.path().join("t.db").display()))
        .await
        .unwrap();
    let kept: Vec<(String, String, String, String)> =
        sqlx::query_as("SELECT actor_id, actor_name, actor_email, who FROM actors ORDER BY 1, 2, 3")
            .fetch_all(&pool)
            .await
            .unwrap();
    let derived: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT DISTINCT IFNULL(actor_id, ''), IFNULL(actor_name, ''), IFNULL(actor_email, ''), \
         COALESCE(actor_email, actor_id, actor_name) FROM events ORDER BY 1, 2, 3",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(kept, derived);
    assert_eq!(kept.len(), 4);
}

async fn futures_days(store: &AuditStore, queries: &[&str]) -> Vec<Vec<u32>> {
    let mut out = Vec::new();
    for qs in queries {
        out.push(days(store, qs).await);
    }
    out
}

#[tokio::test]
async fn the_unfiltered_total_is_kept_exact_through_duplicates_and_batches() {
    let (store, _d) = open().await;
    let mut e = ev("a.b", "1", "2026-03-01T00:00:00Z");
    e.id = Some("01JB8Q4K7N2X5S3V9T0R1C6M2D".into());
    store.record(e.clone()).await.unwrap();
    store.record(e).await.unwrap(); // a duplicate adds nothing
    store
        .record_batch(
            (0..7)
                .map(|i| ev("a.c", &i.to_string(), "2026-03-02T00:00:00Z"))
                .collect(),
        )
        .await
        .unwrap();
    assert_eq!(store.count(&q("")).await.unwrap(), 8);
    assert_eq!(
        store.count(&q("from=2000-01-01")).await.unwrap(),
        8,
        "the counted path agrees"
    );
}

#[tokio::test]
async fn structured_totals_stay_exact_as_events_arrive() {
    let (store, _d) = seeded().await;
    let shapes = [
        "action=auth.login",
        "category=mailbox&source=mail",
        "outcome=failure",
        "actor=u1",
        "from=2026-03-05&to=2026-03-07",
    ];
    let fresh = |qs: &str| {
        let store = store.clone();
        let qs = qs.to_string();
        async move {
            // The list's rows, counted by hand: the truth the cached total must match.
            let mut all = q(&qs);
            all.page_size = 500;
            store.list(&all).await.unwrap().entries.len() as u64
        }
    };
    for round in 0..3 {
        for qs in shapes {
            assert_eq!(
                store.count(&q(qs)).await.unwrap(),
                fresh(qs).await,
                "round {round}: {qs}"
            );
        }
        // New events, some matching each shape, some backdated into the range.
        let mut batch = Vec::new();
        for i in 0..4 {
            let mut e = ev(
                ["auth.login", "mailbox.create", "user.update", "mailbox.delete"][i],
                &format!("u{}", i % 3),
                "2026-03-06T08:00:00Z",
            );
            e.outcome = if i % 2 == 0 { Outcome::Failure } else { Outcome::Success };
            e.source = Some(if i < 2 { "mail" } else { "proxy" }.into());
            batch.push(e);
        }
        store.record_batch(batch).await.unwrap();
    }
}

/// `e` with a target of this kind, id and name.
fn targeted(mut e: NewEvent, kind: &str, id: &str, name: &str) -> NewEvent {
    e.target = Some(Target {
        kind: kind.into(),
        id: Some(id.into()),
        name: Some(name.into()),
    });
    e
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
        .create_token_recorded("ci", &app::store::Scopes::parse("ingest").unwrap(), |_| None)
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

#[tokio::test]
async fn exports_beyond_the_limit_wait_for_a_turn() {
    let (store, _d) = seeded().await;
    let store = store.with_exports_at_once(2);
    let first = store.export_plan(&q("")).await.unwrap();
    let second = store.export_plan(&q("outcome=failure")).await.unwrap();
    let wait = std::time::Duration::from_millis(200);
    let third = tokio::time::timeout(wait, store.export_plan(&q(""))).await;
    assert!(third.is_err(), "a third export waits while two run");
    drop(first);
    let third = tokio::time::timeout(wait, store.export_plan(&q(""))).await;
    let third = third.expect("its turn comes when one ends").unwrap();
    let walked = tokio::task::spawn_blocking(move || third.walk(|_| true));
    assert_eq!(walked.await.unwrap().unwrap(), 12, "and it reads every row");
    drop(second);
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
