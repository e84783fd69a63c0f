//! Trust (docs/trust.md): the log refuses edits and deletions from any connection, each event says who
//! recorded it, and its proofs check out under an implementation written here from RFC 9162 (not the
//! product's), against checkpoints whose signatures are checked here too.

mod common;

use base64::{Engine, engine::general_purpose::STANDARD as B64};
use common::{TestApp, auditlog, event, text};
use ed25519_dalek::{Signature, VerifyingKey};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

type Hash = [u8; 32];

fn node(left: &[u8], right: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

fn hash(b64: &Value) -> Hash {
    B64.decode(b64.as_str().unwrap()).unwrap().try_into().unwrap()
}

/// The leaf hash of an event as `GET /api/v1/events/{id}` returns it: RFC 8785 bytes without `log_index`.
fn leaf_of(mut event: Value) -> Hash {
    event.as_object_mut().unwrap().remove("log_index");
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(serde_json_canonicalizer::to_vec(&event).unwrap());
    h.finalize().into()
}

/// MTH of RFC 6962 2.1, recursively.
fn mth(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => Sha256::digest([]).into(),
        1 => leaves[0],
        n => {
            let k = 1 << (usize::BITS - 1 - (n - 1).leading_zeros());
            node(&mth(&leaves[..k]), &mth(&leaves[k..]))
        }
    }
}

/// RFC 9162 2.1.3.2: an audit path from `leaf` up to `root`.
fn verify_inclusion(index: u64, size: u64, leaf: Hash, path: &[Hash], root: Hash) -> bool {
    if index >= size {
        return false;
    }
    let (mut f, mut s, mut r) = (index, size - 1, leaf);
    for p in path {
        if s == 0 {
            return false;
        }
        if f & 1 == 1 || f == s {
            r = node(p, &r);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = node(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    s == 0 && r == root
}

/// RFC 9162 2.1.4.2: a consistency proof from (`first`, `first_root`) to (`second`, `second_root`).
fn verify_consistency(first: u64, second: u64, first_root: Hash, second_root: Hash, proof: &[Hash]) -> bool {
    if first == second {
        return proof.is_empty() && first_root == second_root;
    }
    let mut path = proof.to_vec();
    if first.is_power_of_two() {
        path.insert(0, first_root);
    }
    let (mut f, mut s) = (first - 1, second - 1);
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let (mut fr, mut sr) = (path[0], path[0]);
    for c in &path[1..] {
        if s == 0 {
            return false;
        }
        if f & 1 == 1 || f == s {
            fr = node(c, &fr);
            sr = node(c, &sr);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            sr = node(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    fr == first_root && sr == second_root && s == 0
}

/// A checkpoint's tree size and root, when `note` carries a valid signature of `key` (the verifier key
/// text), per C2SP signed-note and tlog-checkpoint.
fn open_checkpoint(key: &str, note: &str) -> Option<(u64, Hash)> {
    let mut parts = key.trim().splitn(3, '+');
    let (origin, id, key) = (parts.next()?, parts.next()?, parts.next()?);
    let key = B64.decode(key).ok()?;
    assert_eq!(key[0], 1, "Ed25519");
    let public = VerifyingKey::from_bytes(&key[1..].try_into().ok()?).ok()?;
    let mut h = Sha256::new();
    h.update(format!("{origin}\n").as_bytes());
    h.update(&key);
    assert_eq!(
        hex::encode(&h.finalize()[..4]),
        id,
        "the key id is as the format defines it"
    );
    let (body, sigs) = note.split_once("\n\n")?;
    let body = format!("{body}\n");
    let line = sigs.lines().find(|l| l.starts_with(&format!("\u{2014} {origin} ")))?;
    let sig = B64.decode(line.rsplit(' ').next()?).ok()?;
    assert_eq!(hex::encode(&sig[..4]), id);
    let signature = Signature::from_slice(&sig[4..]).ok()?;
    public.verify_strict(body.as_bytes(), &signature).ok()?;
    let mut lines = body.lines();
    assert_eq!(lines.next()?, origin);
    let size = lines.next()?.parse().ok()?;
    let root = B64.decode(lines.next()?).ok()?.try_into().ok()?;
    Some((size, root))
}

async fn get_text(app: &TestApp, token: &str, path: &str) -> (u16, String) {
    let r = app.client.get(app.url(path)).bearer_auth(token).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// The latest checkpoint once it covers at least `size` events (checkpoints come every 100 ms here).
async fn checkpoint_of(app: &TestApp, token: &str, size: u64) -> String {
    for _ in 0..100 {
        let (status, note) = get_text(app, token, "/api/v1/log/checkpoint").await;
        if status == 200 && note.lines().nth(1).and_then(|n| n.parse::<u64>().ok()) >= Some(size) {
            return note;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no checkpoint of {size} events");
}

#[tokio::test]
async fn every_event_is_proved_in_a_signed_checkpoint_and_checkpoints_are_consistent() {
    let app = TestApp::start().await;
    let token = app.token("ingest,read").await;
    let batch: Vec<Value> = (0..13).map(|i| event(&format!("mailbox.create{i}"), "ann")).collect();
    let (status, body) = app.post_events(&token, &json!({ "events": batch })).await;
    assert_eq!(status, 201, "{body}");
    let ids: Vec<String> = serde_json::from_value(body["ids"].clone()).unwrap();
    let (_, key) = get_text(&app, &token, "/api/v1/log/key").await;
    let first_note = checkpoint_of(&app, &token, 13).await;
    let (first, first_root) = open_checkpoint(&key, &first_note).expect("the checkpoint's signature verifies");

    for id in &ids {
        let (_, event) = app.get_json(&token, &format!("/api/v1/events/{id}")).await;
        let (status, proof) = app
            .get_json(&token, &format!("/api/v1/events/{id}/proof?tree_size={first}"))
            .await;
        assert_eq!(status, 200, "{proof}");
        assert_eq!(proof["log_index"], event["log_index"]);
        let leaf = leaf_of(event.clone());
        assert_eq!(
            hash(&proof["leaf_hash"]),
            leaf,
            "the leaf is the event's RFC 8785 bytes"
        );
        let path: Vec<Hash> = proof["hashes"].as_array().unwrap().iter().map(hash).collect();
        let index = proof["log_index"].as_u64().unwrap();
        assert!(verify_inclusion(index, first, leaf, &path, first_root), "event {id}");
        let mut wrong = leaf;
        wrong[0] ^= 1;
        assert!(!verify_inclusion(index, first, wrong, &path, first_root));
    }

    // More events, a later checkpoint, and the proof that it extends the first.
    let more: Vec<Value> = (0..20).map(|i| event(&format!("domain.update{i}"), "bob")).collect();
    app.post_events(&token, &json!({ "events": more })).await;
    let second_note = checkpoint_of(&app, &token, first + 20).await;
    let (second, second_root) = open_checkpoint(&key, &second_note).unwrap();
    let (status, proof) = app
        .get_json(&token, &format!("/api/v1/log/consistency?from={first}&to={second}"))
        .await;
    assert_eq!(status, 200, "{proof}");
    let path: Vec<Hash> = proof["hashes"].as_array().unwrap().iter().map(hash).collect();
    assert!(verify_consistency(first, second, first_root, second_root, &path));
    assert!(!verify_consistency(first, second, second_root, second_root, &path));
    // Every smaller tree is consistent with the second: its root computed here from every event's leaf.
    let (_, page) = app.get_json(&token, "/api/v1/events?fields=full&page_size=100").await;
    let mut all: Vec<Value> = page["entries"].as_array().unwrap().clone();
    all.sort_by_key(|e| e["log_index"].as_u64());
    assert_eq!(all.len() as u64, second, "every event is in the log once");
    let leaves: Vec<Hash> = all.into_iter().map(leaf_of).collect();
    assert_eq!(mth(&leaves), second_root);
    for m in 1..second {
        let (_, p) = app
            .get_json(&token, &format!("/api/v1/log/consistency?from={m}&to={second}"))
            .await;
        let path: Vec<Hash> = p["hashes"].as_array().unwrap().iter().map(hash).collect();
        assert!(
            verify_consistency(m, second, mth(&leaves[..m as usize]), second_root, &path),
            "{m}"
        );
    }

    // A checkpoint whose signature was altered does not open.
    let (body, sig) = second_note.rsplit_once(' ').unwrap();
    let mut bytes = B64.decode(sig.trim()).unwrap();
    bytes[10] ^= 1;
    let forged = format!("{body} {}\n", B64.encode(bytes));
    assert!(open_checkpoint(&key, &forged).is_none());
    let changed = second_note.replacen(&format!("\n{second}\n"), &format!("\n{}\n", second + 1), 1);
    assert!(open_checkpoint(&key, &changed).is_none());

    // Bad parameters name themselves; an event not in the tree asked for is a 404.
    let (status, body) = app.get_json(&token, "/api/v1/log/consistency?from=0").await;
    assert_eq!((status, body["error"]["field"].as_str()), (400, Some("from")), "{body}");
    let (status, body) = app
        .get_json(&token, &format!("/api/v1/events/{}/proof?tree_size=abc", ids[0]))
        .await;
    assert_eq!((status, body["error"]["field"].as_str()), (400, Some("tree_size")));
    let (status, _) = app
        .get_json(&token, &format!("/api/v1/events/{}/proof?tree_size=1", ids[5]))
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn recorded_by_is_set_by_the_server_and_the_own_source_is_reserved() {
    let app = TestApp::start().await;
    let token = app.token("ingest,read").await;
    let mut e = event("mailbox.delete", "ann");
    e["recorded_by"] = json!({"type": "system", "id": "forged", "name": "forged"});
    let (status, body) = app.post_events(&token, &e).await;
    assert_eq!(status, 201, "{body}");
    let (_, stored) = app
        .get_json(&token, &format!("/api/v1/events/{}", body["ids"][0].as_str().unwrap()))
        .await;
    assert_eq!(stored["recorded_by"]["type"], "token");
    assert_eq!(stored["recorded_by"]["name"], "test");
    assert!(stored["log_index"].is_u64());

    let mut own = event("auth.login", "mallory");
    own["source"] = json!("auditlog");
    let (status, body) = app.post_events(&token, &own).await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (400, Some("source")),
        "{body}"
    );
    let (status, body) = app
        .post_events(&token, &json!({"events": [event("a.b", "x"), own]}))
        .await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (400, Some("events[1].source"))
    );

    let exported = app
        .client
        .get(app.url("/api/v1/events/export?format=jsonl"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let line: Value = serde_json::from_str(exported.lines().next().unwrap()).unwrap();
    assert_eq!(line["recorded_by"]["type"], "token");
    assert_eq!(line["log_index"], stored["log_index"]);
}

#[tokio::test]
async fn a_plain_connection_can_neither_update_nor_delete_events() {
    let app = TestApp::start().await;
    let token = app.token("ingest,read").await;
    app.post_events(&token, &json!({"events": [event("a.b", "x"), event("a.c", "y")]}))
        .await;
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", app.dir.path().join("audit.db").display()))
        .await
        .unwrap();
    for sql in [
        "DELETE FROM events",
        "UPDATE events SET action = 'x.y'",
        "DELETE FROM events WHERE seq = 1",
    ] {
        let err = sqlx::query(sql).execute(&pool).await.unwrap_err().to_string();
        assert!(err.contains("append-only"), "{sql}: {err}");
    }
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(n, 2);
}

/// A database of `n` events written through the store and closed (its last checkpoint signed).
async fn log_of(dir: &std::path::Path, n: usize) -> (String, Vec<String>) {
    let db = format!("sqlite://{}", dir.join("log.db").display());
    let store = app::store::AuditStore::open(&db).await.unwrap();
    let events = (0..n)
        .map(|i| app::model::NewEvent {
            action: format!("mailbox.update{i}"),
            actor: Some(app::model::Actor {
                kind: app::model::ActorType::User,
                id: Some(format!("u{i}")),
                name: None,
                email: None,
            }),
            details: json!({"quota": i}).as_object().unwrap().clone(),
            ..Default::default()
        })
        .collect();
    let ids = store.record_batch(events).await.unwrap().ids;
    store.close().await;
    (db, ids)
}

/// Runs `sql` on the file with the append-only triggers dropped, as an attacker with the file could.
async fn tamper(db: &str, sql: &str) {
    use sqlx::Connection;
    // One connection: another one's schema would still have the triggers when it prepares the statement.
    let mut conn = sqlx::SqliteConnection::connect(db).await.unwrap();
    for s in [
        "DROP TRIGGER IF EXISTS events_are_append_only",
        "DROP TRIGGER IF EXISTS events_no_delete",
        sql,
    ] {
        sqlx::query(s).execute(&mut conn).await.unwrap();
    }
    conn.close().await.unwrap();
}

#[tokio::test]
async fn verify_passes_a_clean_log_and_names_each_tampered_event() {
    let dir = tempfile::tempdir().unwrap();
    let (db, ids) = log_of(dir.path(), 40).await;
    let clean = auditlog(&db, &["verify"], &[]);
    assert!(clean.status.success(), "{}{}", text(&clean.stdout), text(&clean.stderr));
    assert_eq!(text(&clean.stdout).trim(), "verified 40 events, 1 checkpoints");

    // One byte of one event's details.
    tamper(
        &db,
        &format!("UPDATE events SET details = '{{\"quota\":8}}' WHERE id = '{}'", ids[7]),
    )
    .await;
    let out = auditlog(&db, &["verify"], &[]);
    let said = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(
        said.contains(&format!("event {} (log index 7) does not match its leaf", ids[7])),
        "{said}"
    );
}

#[tokio::test]
async fn verify_names_a_deleted_row_and_swapped_rows() {
    let dir = tempfile::tempdir().unwrap();
    let (db, ids) = log_of(dir.path(), 40).await;
    tamper(&db, &format!("DELETE FROM events WHERE id = '{}'", ids[12])).await;
    let out = auditlog(&db, &["verify"], &[]);
    let said = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains("log indexes 12..12 missing"), "{said}");

    // Two rows' contents swapped (each keeps its place): both are named.
    let (a, b) = (&ids[20], &ids[30]);
    let swap = [
        format!("UPDATE events SET details = '{{\"quota\":30}}', actor_id = 'u30' WHERE id = '{a}'"),
        format!("UPDATE events SET details = '{{\"quota\":20}}', actor_id = 'u20' WHERE id = '{b}'"),
    ];
    tamper(&db, &swap[0]).await;
    tamper(&db, &swap[1]).await;
    let said = text(&auditlog(&db, &["verify"], &[]).stdout);
    assert!(
        said.contains(&format!("event {} (log index 20) does not match its leaf", ids[20])),
        "{said}"
    );
    assert!(
        said.contains(&format!("event {} (log index 30) does not match its leaf", ids[30])),
        "{said}"
    );
}

#[tokio::test]
async fn a_jsonl_export_verifies_offline_and_a_changed_byte_names_its_line() {
    let app = TestApp::start().await;
    let token = app.token("ingest,read").await;
    let batch: Vec<Value> = (0..25).map(|i| event(&format!("mailbox.update{i}"), "ann")).collect();
    app.post_events(&token, &json!({ "events": batch })).await;
    let url = app.url("/api/v1/events/export?format=jsonl&proof=true&actor=ann");
    let exported = app
        .client
        .get(url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(exported.lines().count(), 26, "25 events and the proof");
    let (_, key) = get_text(&app, &token, "/api/v1/log/key").await;
    let file = app.dir.path().join("export.jsonl");
    let key_file = app.dir.path().join("log.key");
    std::fs::write(&file, &exported).unwrap();
    std::fs::write(&key_file, &key).unwrap();
    // No database is needed: an empty URL's file is never opened.
    let db = format!("sqlite://{}", app.dir.path().join("unused.db").display());
    let args = [
        "verify-export",
        file.to_str().unwrap(),
        "--key",
        key_file.to_str().unwrap(),
    ];
    let out = auditlog(&db, &args, &[]);
    let said = text(&out.stdout);
    assert!(out.status.success(), "{said}{}", text(&out.stderr));
    assert!(
        said.starts_with("verified 25 events, in the signed checkpoint of"),
        "{said}"
    );
    assert!(!app.dir.path().join("unused.db").exists());

    // One byte of the third line changed: that line is named, and the file fails.
    let changed =
        exported
            .replacen("mailbox.update", "mailbox.updatf", 3)
            .replacen("mailbox.updatf", "mailbox.update", 2);
    assert_ne!(changed, exported);
    std::fs::write(&file, &changed).unwrap();
    let out = auditlog(&db, &args, &[]);
    let said = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.starts_with("line 3: event "), "{said}");
    assert_eq!(said.lines().count(), 1, "only that line: {said}");

    // A line dropped from the file no longer fits the proof; a proof for another log does not open.
    let dropped: String = exported.lines().skip(1).map(|l| format!("{l}\n")).collect();
    std::fs::write(&file, &dropped).unwrap();
    assert_eq!(auditlog(&db, &args, &[]).status.code(), Some(1));
    std::fs::write(&file, &exported).unwrap();
    let other = TestApp::start().await;
    let other_token = other.token("read").await;
    let (_, other_key) = get_text(&other, &other_token, "/api/v1/log/key").await;
    std::fs::write(&key_file, &other_key).unwrap();
    let said = text(&auditlog(&db, &args, &[]).stdout);
    assert!(said.starts_with("the checkpoint: "), "{said}");
}
