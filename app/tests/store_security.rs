//! Events cannot be edited; SQL injection through every text parameter is just text.
#![cfg(feature = "ssr")]

mod common;

use common::*;

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
