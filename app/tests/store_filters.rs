//! Each filter alone and combined, inclusive UTC day bounds, the actor by id, email or name, the facets, and
//! the values a page's rows carry.
#![cfg(feature = "ssr")]

mod common;

use app::model::{Actor, ActorType, NewEvent, Outcome, Target};
use common::*;
use serde_json::json;

#[tokio::test]
async fn newest_first_by_default() {
    let (store, _d) = seeded().await;
    assert_eq!(days(&store, "").await, (1..=12).rev().collect::<Vec<_>>());
}

#[tokio::test]
async fn a_verb_is_every_action_of_it_whatever_its_category() {
    let (store, _d) = seeded().await;
    assert_eq!(days(&store, "verb=delete").await, vec![9, 5, 1]);
    assert_eq!(days(&store, "verb=update&sort=action").await.len(), 3);
    assert_eq!(days(&store, "verb=login&action=auth.login").await, vec![10, 6, 2]);
    assert_eq!(days(&store, "verb=create&category=mailbox").await, vec![12, 8, 4]);
    assert_eq!(days(&store, "verb=delete&action=auth.login").await, Vec::<u32>::new());
    assert_eq!(days(&store, "verb=purge").await, Vec::<u32>::new(), "no action has it");
    assert_eq!(store.count(&q("verb=delete")).await.unwrap(), 3);
    assert_eq!(store.count(&q("verb=purge")).await.unwrap(), 0);
    let page = store.list(&q("verb=delete&page_size=2")).await.unwrap();
    assert_eq!((page.total, page.entries.len()), (3, 2));
    assert_eq!(
        exported_ids(&store, "verb=delete", 2, None).await.len(),
        3,
        "the export too"
    );
}

#[tokio::test]
async fn the_sign_ins_view_is_the_auth_category_and_activity_every_other() {
    let (store, _d) = seeded().await;
    assert_eq!(days(&store, "view=signins").await, vec![10, 6, 2]);
    assert_eq!(days(&store, "view=activity").await, vec![12, 11, 9, 8, 7, 5, 4, 3, 1]);
    assert_eq!(days(&store, "view=activity&sort=action&order=asc").await.len(), 9);
    assert_eq!(
        days(&store, "view=activity&category=mailbox").await,
        vec![12, 9, 8, 5, 4, 1]
    );
    assert_eq!(days(&store, "view=activity&verb=login").await, Vec::<u32>::new());
    assert_eq!(days(&store, "view=activity&category=auth").await, Vec::<u32>::new());
    assert_eq!(
        days(&store, "view=signins&action=mailbox.create").await,
        Vec::<u32>::new()
    );
    assert_eq!(days(&store, "view=signins&outcome=failure").await, vec![10]);
    assert_eq!(days(&store, "view=activity&q=café").await, vec![7], "with free text");
    assert_eq!(store.count(&q("view=activity")).await.unwrap(), 9);
    assert_eq!(store.count(&q("view=signins&source=mail")).await.unwrap(), 3);
    assert_eq!(
        exported_ids(&store, "view=activity", 4, None).await.len(),
        9,
        "the export too"
    );
}

#[tokio::test]
async fn a_time_range_ends_now() {
    let (store, _d) = open().await;
    let now = chrono::Utc::now();
    let ago = |minutes: i64| {
        let t = now - chrono::Duration::minutes(minutes);
        let mut e = ev("user.update", &format!("m{minutes}"), "2026-01-01T00:00:00Z");
        e.timestamp = Some(t);
        e
    };
    let events = [30, 120, 3 * 24 * 60, 40 * 24 * 60].map(ago).to_vec();
    store.record_batch(events).await.unwrap();
    let count = |qs: &'static str| {
        let store = store.clone();
        async move { store.count(&q(qs)).await.unwrap() }
    };
    assert_eq!(count("range=1h").await, 1);
    assert_eq!(count("range=24h").await, 2);
    assert_eq!(count("range=7d").await, 3);
    assert_eq!(count("range=30d").await, 3);
    let page = store.list(&q("range=24h")).await.unwrap();
    assert_eq!((page.total, page.entries.len()), (2, 2));
    let since = (now - chrono::Duration::minutes(60))
        .format("%Y-%m-%dT%H:%M:%S")
        .to_string();
    assert_eq!(
        store.count(&q(&format!("range=7d&from={since}"))).await.unwrap(),
        1,
        "the later start counts"
    );
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
async fn facets_group_actions_by_category() {
    let (store, _d) = seeded().await;
    let f = store.facets(None).await.unwrap();
    let cats: Vec<&str> = f.categories.iter().map(|c| c.category.as_str()).collect();
    assert_eq!(cats, vec!["auth", "mailbox", "user"]);
    let mailbox: u64 = f.categories[1].actions.iter().map(|a| a.count).sum();
    assert_eq!(mailbox, 6);
    assert_eq!(f.target_types, vec!["mailbox"]);
    assert_eq!(f.sources, vec!["mail", "proxy"]);
    // The built-in catalog labels the product's own actions; a host's adds its own.
    assert_eq!(f.action_label("auth.login"), Some("Signed in"));
    assert_eq!(f.categories[0].label.as_deref(), Some("Sign-ins"));
    assert_eq!(f.action_label("mailbox.create"), None);
    let host = app::model::ActionCatalog::from_json(
        r#"{"categories": {"mailbox": "Mailboxes"}, "actions": {"mailbox.create": "Mailbox created"}}"#,
    )
    .unwrap();
    let f = store.clone().with_catalog(host).facets(None).await.unwrap();
    assert_eq!(f.action_label("mailbox.create"), Some("Mailbox created"));
    assert_eq!(f.categories[1].label.as_deref(), Some("Mailboxes"));
    assert_eq!(f.action_label("auth.login"), Some("Signed in"));
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
    let facets = store.facets(None).await.unwrap();
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

#[tokio::test]
async fn live_counts_give_each_option_with_the_other_filters() {
    let (store, _d) = seeded().await;
    let counts = |qs: &'static str| {
        let store = store.clone();
        async move { store.facet_counts(&q(qs)).await.unwrap() }
    };
    let pairs = |m: &std::collections::BTreeMap<String, u64>| {
        m.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" ")
    };
    let all = counts("").await.unwrap();
    assert_eq!(
        pairs(&all.actions),
        "auth.login=3 mailbox.create=3 mailbox.delete=3 user.update=3"
    );
    assert_eq!(pairs(&all.verbs), "create=3 delete=3 login=3 update=3");
    assert_eq!(pairs(&all.sources), "mail=6 proxy=6");
    assert_eq!(pairs(&all.actor_types), "api_token=1 user=11");
    assert_eq!(pairs(&all.target_types), "mailbox=8");

    // Each menu counts with the other filters, not its own.
    let mail = counts("source=mail").await.unwrap();
    assert_eq!(pairs(&mail.actions), "auth.login=3 mailbox.create=3");
    assert_eq!(pairs(&mail.sources), "mail=6 proxy=6");
    let created = counts("action=mailbox.create&verb=create").await.unwrap();
    assert_eq!(pairs(&created.sources), "mail=3");
    assert_eq!(pairs(&created.verbs), "create=3");
    assert_eq!(pairs(&created.actions), "mailbox.create=3");
    assert_eq!(pairs(&counts("view=signins").await.unwrap().actions), "auth.login=3");
    assert_eq!(pairs(&counts("actor=u1").await.unwrap().sources), "mail=2 proxy=1");

    // Partial days at either end are counted from the events, whole days from the cube.
    let total = |c: app::model::FacetCounts| c.sources.values().sum::<u64>();
    assert_eq!(
        total(counts("from=2026-03-04T13:00&to=2026-03-08T11:00").await.unwrap()),
        3
    );
    assert_eq!(
        total(counts("from=2026-03-04T11:00&to=2026-03-08T13:00").await.unwrap()),
        5
    );
    assert_eq!(
        total(counts("from=2026-03-04T11:00&to=2026-03-04T13:00").await.unwrap()),
        1
    );
    assert_eq!(counts("q=box").await, None, "a search has no live counts");

    // Remembered, then grown by the events inserted since.
    let mut more = ev("mailbox.create", "u1", "2026-03-06T08:00:00Z");
    more.source = Some("mail".into());
    store.record_batch(vec![more.clone(), more]).await.unwrap();
    assert_eq!(
        pairs(&counts("source=mail").await.unwrap().actions),
        "auth.login=3 mailbox.create=5"
    );
    assert_eq!(pairs(&counts("actor=u1").await.unwrap().sources), "mail=4 proxy=1");
    assert_eq!(total(counts("").await.unwrap()), 14);
}

#[tokio::test]
async fn an_excluded_actor_leaves_everyone_else() {
    let (store, _d) = seeded().await;
    // Day 7 is the token `ci-deploy`; u1 has days 1, 4 and 10.
    assert_eq!(
        days(&store, "exclude_actor=ci-deploy").await,
        vec![12, 11, 10, 9, 8, 6, 5, 4, 3, 2, 1]
    );
    assert_eq!(
        days(&store, "exclude_actor=u1@x.org&source=mail").await,
        vec![12, 8, 6, 2]
    );
    assert_eq!(days(&store, "q=-actor:u1&category=mailbox").await, vec![12, 9, 8, 5]);
    assert_eq!(days(&store, "exclude_actor=nobody").await.len(), 12);
    assert_eq!(store.count(&q("exclude_actor=u1")).await.unwrap(), 9);
    assert_eq!(store.count(&q("exclude_actor=u1&outcome=failure")).await.unwrap(), 1);
    let page = store
        .list(&q("exclude_actor=Name u1&page_size=2&page=2"))
        .await
        .unwrap();
    assert_eq!((page.total, page.entries.len()), (9, 2));
    assert_eq!(
        days(&store, "exclude_actor=u1&q=box").await,
        vec![12, 11, 9, 8, 7, 5, 2]
    );
    assert_eq!(
        exported_ids(&store, "exclude_actor=u1", 4, None).await.len(),
        9,
        "the export too"
    );
    assert_eq!(store.facet_counts(&q("exclude_actor=u1")).await.unwrap(), None);
}

/// Tenants: the seeded events of even days belong to `acme`, the others to no tenant; the totals, live counts
/// and menus of `tenant=acme` are acme's alone (whole days from the tenant's cube, partial days and an actor
/// within the tenant from its events), and grow with events inserted since.
#[tokio::test]
async fn a_tenants_totals_live_counts_and_menus_are_its_own() {
    let (store, _d) = open().await;
    let mut events = Vec::new();
    for day in 1..=12 {
        let action = ["mailbox.create", "mailbox.delete", "auth.login", "user.update"][day % 4];
        let mut e = ev(action, &format!("u{}", day % 3), &format!("2026-03-{day:02}T12:00:00Z"));
        e.tenant = (day % 2 == 0).then(|| "acme".to_string());
        e.outcome = if day % 4 == 0 {
            app::model::Outcome::Failure
        } else {
            app::model::Outcome::Success
        };
        events.push(e);
    }
    store.record_batch(events).await.unwrap();
    let total = |qs: &'static str| {
        let store = store.clone();
        async move { store.count(&q(qs)).await.unwrap() }
    };
    assert_eq!(total("tenant=acme").await, 6);
    assert_eq!(total("tenant=acme&outcome=failure").await, 3);
    assert_eq!(total("tenant=acme&action=mailbox.delete").await, 0);
    assert_eq!(total("tenant=acme&actor=u1").await, 2);
    assert_eq!(total("tenant=acme&from=2026-03-04T13:00&to=2026-03-10T11:00").await, 2);
    assert_eq!(total("tenant=globex").await, 0);

    let pairs = |m: &std::collections::BTreeMap<String, u64>| {
        m.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" ")
    };
    let counts = |qs: &'static str| {
        let store = store.clone();
        async move { store.facet_counts(&q(qs)).await.unwrap().unwrap() }
    };
    let acme = counts("tenant=acme").await;
    assert_eq!(pairs(&acme.actions), "auth.login=3 mailbox.create=3");
    assert_eq!(pairs(&acme.verbs), "create=3 login=3");
    assert_eq!(
        pairs(&counts("tenant=acme&actor=u2").await.actions),
        "auth.login=1 mailbox.create=1"
    );
    let partial = counts("tenant=acme&from=2026-03-04T13:00&to=2026-03-10T11:00").await;
    assert_eq!(pairs(&partial.actions), "auth.login=1 mailbox.create=1");

    let facets = store.facets(Some("acme")).await.unwrap();
    let actions: Vec<&str> = facets
        .categories
        .iter()
        .flat_map(|c| &c.actions)
        .map(|a| a.action.as_str())
        .collect();
    assert_eq!(actions, ["auth.login", "mailbox.create"]);
    assert!(facets.tenants.is_empty());
    assert_eq!(store.facets(None).await.unwrap().tenants, ["acme"]);

    // Remembered, then grown by what was inserted since.
    let mut more = ev("mailbox.create", "u1", "2026-03-06T08:00:00Z");
    more.tenant = Some("acme".into());
    store.record_batch(vec![more.clone(), more]).await.unwrap();
    assert_eq!(total("tenant=acme").await, 8);
    assert_eq!(
        pairs(&counts("tenant=acme").await.actions),
        "auth.login=3 mailbox.create=5"
    );
}

/// An IP range: the events of the addresses stored in it (an IPv4 network also holding the IPv4-mapped form),
/// one address, an IPv6 network; its totals and the menus' live counts come from the
/// address cube, also for part of a day; next to an actor (which no cube holds with it) from the events,
/// remembered and then added to.
#[tokio::test]
async fn an_ip_ranges_totals_and_live_counts() {
    let (store, _d) = ip_store().await;
    let total = |qs: &'static str| {
        let store = store.clone();
        async move { store.count(&q(qs)).await.unwrap() }
    };
    assert_eq!(total("ip=203.0.113.0/24").await, days_where(&in_v4_net));
    assert_eq!(
        total("ip=203.0.113.0/24&outcome=failure").await,
        days_where(&|d| in_v4_net(d) && d % 4 == 0)
    );
    assert_eq!(
        total("ip=2001:db8::/32").await,
        days_where(&|d| !d.is_multiple_of(6) && d % 5 == 3)
    );
    assert_eq!(
        total("ip=198.51.100.1").await,
        days_where(&|d| !d.is_multiple_of(6) && d % 5 == 4)
    );
    assert_eq!(total("ip=10.0.0.0/8").await, 0);
    assert_eq!(
        total("ip=203.0.113.0/24&from=2026-03-04T13:00&to=2026-03-12T11:00").await,
        days_where(&|d| in_v4_net(d) && (5..=11).contains(&d))
    );
    assert_eq!(
        total("ip=203.0.113.0/24&actor=u1").await,
        days_where(&|d| in_v4_net(d) && d % 3 == 1)
    );

    let counts = |qs: &'static str| {
        let store = store.clone();
        async move { store.facet_counts(&q(qs)).await.unwrap().unwrap() }
    };
    let pairs = |m: &std::collections::BTreeMap<String, u64>| {
        m.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" ")
    };
    let action_counts = |keep: &dyn Fn(usize) -> bool| {
        let mut m = std::collections::BTreeMap::new();
        for d in (1..=20).filter(|&d| keep(d)) {
            let action = ["mailbox.create", "mailbox.delete", "auth.login", "user.update"][d % 4];
            *m.entry(action.to_string()).or_insert(0u64) += 1;
        }
        pairs(&m)
    };
    assert_eq!(
        pairs(&counts("ip=203.0.113.0/24").await.actions),
        action_counts(&in_v4_net)
    );
    assert_eq!(
        pairs(
            &counts("ip=203.0.113.0/24&from=2026-03-04T13:00&to=2026-03-12T11:00")
                .await
                .actions
        ),
        action_counts(&|d| in_v4_net(d) && (5..=11).contains(&d))
    );
    assert_eq!(
        pairs(&counts("ip=203.0.113.0/24&actor=u1").await.actions),
        action_counts(&|d| in_v4_net(d) && d % 3 == 1)
    );
    // Remembered, then added to with the events inserted since.
    let before = counts("ip=203.0.113.0/24&actor=u1").await.actions;
    let mut later = ev("zz.new", "u1", "2026-03-21T12:00:00Z");
    later.ip = Some("203.0.113.77".into());
    store.record(later).await.unwrap();
    let after = counts("ip=203.0.113.0/24&actor=u1").await.actions;
    assert_eq!(after.get("zz.new"), Some(&1));
    assert_eq!(after.len(), before.len() + 1);
    // Two keys at once over more events than `live_count_rows`: no counts (one key has its cube).
    let few = store.clone().with_tuning(app::store::Tuning {
        live_count_rows: 2,
        ..app::store::Tuning::default()
    });
    let fresh = q("ip=203.0.113.0/24&actor=u2");
    assert_eq!(few.facet_counts(&fresh).await.unwrap(), None);
    assert!(few.facet_counts(&q("ip=203.0.113.0/24")).await.unwrap().is_some());
}

/// Events on 20 days, from addresses in an IPv4 /24 (one of them IPv4-mapped), an IPv6 address, another IPv4
/// address, and none: by day, 1 .200, 2 ::ffff:…9, 3 2001:db8::1, 4 198.51.100.1, 5 .7, (6 none), 7 …
async fn ip_store() -> (app::store::AuditStore, tempfile::TempDir) {
    let (store, dir) = open().await;
    let ips = [
        "203.0.113.7",
        "203.0.113.200",
        "::ffff:203.0.113.9",
        "2001:db8::1",
        "198.51.100.1",
    ];
    let mut events = Vec::new();
    for day in 1..=20 {
        let action = ["mailbox.create", "mailbox.delete", "auth.login", "user.update"][day % 4];
        let mut e = ev(action, &format!("u{}", day % 3), &format!("2026-03-{day:02}T12:00:00Z"));
        e.ip = (!day.is_multiple_of(6)).then(|| ips[day % 5].to_string());
        e.outcome = if day % 4 == 0 {
            Outcome::Failure
        } else {
            Outcome::Success
        };
        events.push(e);
    }
    store.record_batch(events).await.unwrap();
    (store, dir)
}

/// How many of `ip_store`'s days (one event each) `keep` holds.
fn days_where(keep: &dyn Fn(usize) -> bool) -> u64 {
    (1..=20).filter(|&d| keep(d)).count() as u64
}

/// The days of `ip_store` whose address is in 203.0.113.0/24.
fn in_v4_net(day: usize) -> bool {
    !day.is_multiple_of(6) && [0, 1, 2].contains(&(day % 5))
}

/// An IP range sorted by action is read from its cube; next to an actor (which no cube holds with it) it is
/// not. A search next to a range is held by the index.
#[tokio::test]
async fn an_ip_range_is_paged_by_action_from_its_cube_and_searched_through_the_index() {
    let (store, _d) = ip_store().await;
    let plan = |qs: &'static str| {
        let store = store.clone();
        async move { store.explain(&q(qs)).await.unwrap() }
    };
    assert_eq!(
        plan("ip=203.0.113.0/24&outcome=failure&sort=action").await,
        app::store::PagePlan::AnchoredByAction
    );
    assert_ne!(
        plan("ip=203.0.113.0/24&actor=u1&sort=action").await,
        app::store::PagePlan::AnchoredByAction
    );
    // A search next to a range is held by the index (a set of its matches, as next to any tagged filter).
    while store.index_pending(1_000).await.unwrap() > 0 {}
    assert_eq!(plan("q=mailbox&ip=203.0.113.0/24").await, app::store::PagePlan::TextSet);
    let page = store.list(&q("q=mailbox&ip=203.0.113.0/24")).await.unwrap();
    assert_eq!(page.total, days_where(&|d| in_v4_net(d) && d % 4 < 2));
}
