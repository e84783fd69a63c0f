//! Totals: from the per-day counts the first time, kept exact as events arrive.
#![cfg(feature = "ssr")]

mod common;

use app::model::{Outcome, Target, time};
use common::*;

/// A row of `day_cube`: day, action, category, outcome, actor type, target type, source, count.
type CubeRow = (i64, String, String, String, String, String, String, i64);

/// A row of `actor_day_cube`: who, then the columns of `CubeRow`.
type ActorCubeRow = (String, i64, String, String, String, String, String, String, i64);

/// Events every 7 hours over 20 days, across day boundaries, one before 1970 too.
fn spread_events() -> Vec<app::model::NewEvent> {
    let mut events = Vec::new();
    for i in 0..70i64 {
        let ms = 1_772_323_200_000 + i * 7 * 3_600_000 + i * 61_000 * (i % 2);
        let action = ["mailbox.create", "mailbox.delete", "auth.login"][(i % 3) as usize];
        let mut e = ev(action, "u1", &time::format_millis(ms));
        e.outcome = if i % 4 == 0 { Outcome::Failure } else { Outcome::Success };
        e.tenant = [Some("acme"), Some("globex"), None][(i % 4) as usize % 3].map(str::to_string);
        e.ip = [Some("203.0.113.7"), Some("2001:db8::1"), None][(i % 3) as usize].map(str::to_string);
        e.target = (i % 5 != 0).then(|| Target {
            kind: "mailbox".into(),
            id: None,
            name: None,
        });
        events.push(e);
    }
    events.push(ev("auth.login", "u2", "1969-12-31T23:00:00Z"));
    events
}

#[tokio::test]
async fn first_totals_from_day_counts_equal_the_rows_for_any_range() {
    let (store, _dir) = open().await;
    store.record_batch(spread_events()).await.unwrap();
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
        "tenant=acme",
        "tenant=globex&outcome=failure",
        "tenant=acme&actor=u1",
        "tenant=globex&action=mailbox.delete&target_type=mailbox",
        "ip=203.0.113.0/24",
        "ip=2001:db8::/32&outcome=success&tenant=acme",
    ];
    for range in ranges {
        for filter in filters {
            let qs = format!("{filter}&{range}");
            let rows = store.list(&q(&format!("{qs}&page_size=100"))).await.unwrap();
            assert_eq!(rows.total, rows.entries.len() as u64, "{qs}");
        }
    }
}

#[tokio::test]
async fn the_writers_counts_equal_the_migrations_backfill() {
    let (store, dir) = open().await;
    store.record_batch(spread_events()).await.unwrap();
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
    assert_keyed_cube_is_the_events(&pool, "tenant_day_cube", "tenant").await;
    assert_keyed_cube_is_the_events(&pool, "ip_day_cube", "ip").await;
    let totals = "SELECT col, value, n FROM value_counts WHERE col <> 'ip' ORDER BY 1, 2";
    let kept_totals: Vec<(String, String, i64)> = sqlx::query_as(totals).fetch_all(&pool).await.unwrap();
    let summed: Vec<(String, String, i64)> =
        sqlx::query_as("SELECT col, value, SUM(n) FROM day_counts GROUP BY 1, 2 ORDER BY 1, 2")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(kept_totals, summed, "the writer's totals are the sums of its days");
    // Addresses are counted without days, as migration 22 counts them.
    let ips = "SELECT col, value, n FROM value_counts WHERE col = 'ip' ORDER BY 2";
    let kept_ips: Vec<(String, String, i64)> = sqlx::query_as(ips).fetch_all(&pool).await.unwrap();
    let recounted_ips: Vec<(String, String, i64)> =
        sqlx::query_as("SELECT 'ip', ip, COUNT(*) FROM events WHERE ip IS NOT NULL GROUP BY ip ORDER BY 2")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(kept_ips, recounted_ips, "the writer's addresses are the events'");
    assert_eq!(kept_ips.len(), 2);
    assert!(kept_cube.len() > 20);
    assert!(
        kept.iter().any(|(_, _, day, _)| *day == -1),
        "the 1969 event is on day -1"
    );
}

/// The writer's `table` (a keyed cube) holds what grouping the events by `key` and the cube's columns gives.
async fn assert_keyed_cube_is_the_events(pool: &sqlx::SqlitePool, table: &str, key: &str) {
    let kept: Vec<ActorCubeRow> = sqlx::query_as(&format!("SELECT * FROM {table} ORDER BY 1, 2, 3, 4, 5, 6, 7, 8"))
        .fetch_all(pool)
        .await
        .unwrap();
    let recounted: Vec<ActorCubeRow> = sqlx::query_as(&format!(
        "SELECT {key}, (ts - ((ts % 86400000) + 86400000) % 86400000) / 86400000 AS d, action, category, \
         outcome, actor_type, IFNULL(target_type, '') AS tt, source, COUNT(*) FROM events \
         WHERE {key} IS NOT NULL GROUP BY 1, 2, 3, 5, 6, 7, 8 ORDER BY 1, 2, 3, 4, 5, 6, 7, 8"
    ))
    .fetch_all(pool)
    .await
    .unwrap();
    assert_eq!(kept, recounted, "the writer's {table} is the events'");
    assert!(kept.len() > 20, "{table} has {} rows", kept.len());
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
