//! The command line, run as the real binary against a real SQLite file.

mod common;

use app::{model::AuditQuery, store::AuditStore};
use common::{auditlog, text};

#[test]
fn serve_refuses_an_action_catalog_that_is_wrong_naming_the_entry() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("cli.db").display());
    let catalog = dir.path().join("catalog.json");
    std::fs::write(&catalog, r#"{"actions": {"Mailbox Created": "Mailbox created"}}"#).unwrap();
    let path = catalog.display().to_string();
    let served = auditlog(&db, &["serve", "--addr", "127.0.0.1:0", "--action-catalog", &path], &[]);
    assert!(!served.status.success());
    let message = text(&served.stderr);
    assert!(
        message.contains("actions.Mailbox Created") && message.contains("catalog.json"),
        "{message}"
    );
    let missing = auditlog(&db, &["serve", "--action-catalog", "/no/such/catalog.json"], &[]);
    assert!(!missing.status.success());
    assert!(text(&missing.stderr).contains("/no/such/catalog.json"));
}

#[tokio::test]
async fn tokens_are_printed_once_listed_without_secret_revoked_and_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("cli.db").display());
    let created = auditlog(&db, &["token", "create", "--name", "ci", "--scope", "ingest,read"], &[]);
    assert!(created.status.success(), "{}", text(&created.stderr));
    let token = text(&created.stdout).trim().to_string();
    assert!(token.starts_with("alk_") && token.len() > 30, "{token}");

    let list = auditlog(&db, &["token", "list"], &[]);
    let listing = text(&list.stdout);
    assert!(
        listing.contains("ci") && listing.contains("ingest,read") && listing.contains("active"),
        "{listing}"
    );
    assert!(!listing.contains(&token), "the token itself is never listed");
    let id = listing
        .lines()
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();

    let bad = auditlog(&db, &["token", "create", "--name", "x", "--scope", "write"], &[]);
    assert!(!bad.status.success());
    assert!(text(&bad.stderr).contains("scope"), "{}", text(&bad.stderr));

    let revoke = auditlog(&db, &["token", "revoke", &id], &[]);
    assert!(revoke.status.success(), "{}", text(&revoke.stderr));
    assert!(text(&auditlog(&db, &["token", "list"], &[]).stdout).contains("revoked"));
    let missing = auditlog(&db, &["token", "revoke", "01JB8Q4K7N2X5S3V9T0R1C6M2D"], &[]);
    assert!(!missing.status.success());

    let store = AuditStore::open(&db).await.unwrap();
    let q = |s: &str| AuditQuery::from_query_string(s).unwrap();
    assert_eq!(store.count(&q("action=api_token.create")).await.unwrap(), 1);
    assert_eq!(store.count(&q("action=api_token.revoke")).await.unwrap(), 1);
}

#[tokio::test]
async fn user_create_takes_the_password_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("users.db").display());
    let out = auditlog(
        &db,
        &["user", "create", "--email", "v@example.com", "--role", "viewer"],
        &[("AUDITLOG_PASSWORD", "viewer-password")],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let store = AuditStore::open(&db).await.unwrap();
    let user = store
        .authenticate("v@example.com", "viewer-password")
        .await
        .unwrap()
        .expect("signs in");
    assert_eq!(user.role, app::model::Role::Viewer);
    let short = auditlog(
        &db,
        &["user", "create", "--email", "w@example.com", "--role", "admin"],
        &[("AUDITLOG_PASSWORD", "short")],
    );
    assert!(!short.status.success());
    assert!(text(&short.stderr).contains("password"), "{}", text(&short.stderr));
}

#[tokio::test]
async fn export_writes_the_stream_to_standard_output_and_is_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("export.db").display());
    let store = AuditStore::open(&db).await.unwrap();
    let events = (0..3)
        .map(|i| app::model::NewEvent {
            action: if i == 0 {
                "user.delete".into()
            } else {
                "user.create".into()
            },
            actor: Some(app::model::Actor::system("seed")),
            ..Default::default()
        })
        .collect();
    store.record_batch(events).await.unwrap();
    let out = auditlog(
        &db,
        &["export", "--format", "jsonl", "--filter", "action=user.create"],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert!(lines.iter().all(|e| e["action"] == "user.create"));
    let csv = auditlog(&db, &["export", "--format", "csv"], &[]);
    assert!(text(&csv.stdout).starts_with("\u{feff}id,timestamp,action,"));
    let bad = auditlog(&db, &["export", "--filter", "from=yesterday"], &[]);
    assert!(
        !bad.status.success() && text(&bad.stderr).contains("from"),
        "{}",
        text(&bad.stderr)
    );

    let recorded = store
        .list(&AuditQuery::from_query_string("action=audit.export&order=asc").unwrap())
        .await
        .unwrap();
    assert_eq!(recorded.total, 2);
    let first = store.get(&recorded.entries[0].id).await.unwrap();
    assert_eq!(first.details["rows"], serde_json::json!(2));
    assert_eq!(first.details["format"], serde_json::json!("jsonl"));
}

#[tokio::test]
async fn an_import_leaves_the_log_indexed_for_search_and_no_wal_behind() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("import.db");
    let db = format!("sqlite://{}", path.display());
    let file = dir.path().join("day.jsonl");
    let lines: String = (0..2_500)
        .map(|i| {
            format!(
                "{{\"timestamp\":\"2026-03-01T10:{:02}:{:02}Z\",\"user\":\"u{i}@acme.com\",\"action\":\"user.login\",\"target\":\"box-{i}\",\"details\":{{}}}}\n",
                (i / 60) % 60,
                i % 60
            )
        })
        .collect();
    std::fs::write(&file, lines).unwrap();
    let out = auditlog(&db, &["import", file.to_str().unwrap()], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("imported 2500"), "{}", text(&out.stderr));
    let wal = dir.path().join("import.db-wal");
    let wal_bytes = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    assert_eq!(wal_bytes, 0, "the WAL was emptied at the end of the import");
    let store = AuditStore::open(&db).await.unwrap();
    assert_eq!(
        store.index_backlog().await.unwrap(),
        0,
        "every event is in the search index"
    );
    let found = store
        .list(&AuditQuery::from_query_string("q=box-2499").unwrap())
        .await
        .unwrap();
    assert_eq!(found.total, 1);
}

#[tokio::test]
async fn a_backup_taken_while_events_arrive_is_a_consistent_copy_and_is_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("live.db").display());
    let store = AuditStore::open(&db).await.unwrap();
    let batch = |n: usize| {
        (0..n)
            .map(|i| app::model::NewEvent {
                action: "mailbox.create".into(),
                actor: Some(app::model::Actor::system(&format!("seed-{i}"))),
                ..Default::default()
            })
            .collect::<Vec<_>>()
    };
    store.record_batch(batch(20_000)).await.unwrap();
    // Events keep arriving while the copy is made.
    let writer = store.clone();
    let writing = tokio::spawn(async move {
        for _ in 0..20 {
            writer.record_batch(batch(500)).await.unwrap();
        }
    });
    let copy = dir.path().join("copy.db");
    let copy_path = copy.to_str().unwrap().to_string();
    let out = tokio::task::spawn_blocking({
        let db = db.clone();
        move || auditlog(&db, &["backup", &copy_path], &[])
    })
    .await
    .unwrap();
    writing.await.unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("backed up"), "{}", text(&out.stderr));
    let copied = AuditStore::open(&format!("sqlite://{}", copy.display())).await.unwrap();
    assert_eq!(copied.integrity_check().await.unwrap(), "ok");
    let n = copied.count(&AuditQuery::new()).await.unwrap();
    assert!((20_000..=30_000).contains(&n), "{n} events in the copy");
    // The copy is of one moment: its total and its rows agree.
    let rows = copied
        .list(&AuditQuery::from_query_string("page_size=1").unwrap())
        .await
        .unwrap();
    assert_eq!(rows.total, n);
    let recorded = store
        .list(&AuditQuery::from_query_string("action=audit.backup").unwrap())
        .await
        .unwrap();
    assert_eq!(recorded.total, 1);
    // A second backup to the same file is refused, naming it.
    let again = auditlog(&db, &["backup", copy.to_str().unwrap()], &[]);
    assert!(
        !again.status.success() && text(&again.stderr).contains("exists"),
        "{}",
        text(&again.stderr)
    );
}

#[test]
fn the_systemd_unit_and_the_container_image_start_the_server_with_arguments_it_takes() {
    use clap::Parser;
    use server::config::{Cli, Command};
    let unit = include_str!("../../deploy/auditlog.service");
    let exec = unit
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .expect("ExecStart");
    let args: Vec<&str> = exec.split_whitespace().collect();
    assert_eq!(
        args[0], "/opt/auditlog/bin/auditlog",
        "where scripts/release.sh puts the binary"
    );
    let cli = Cli::try_parse_from(&args).expect("the unit's command line parses");
    assert!(matches!(cli.command, Some(Command::Serve(ref s)) if s.addr.port() == 3000));
    let url = unit
        .lines()
        .find_map(|l| l.strip_prefix("Environment=AUDITLOG_DATABASE_URL="))
        .expect("the database's URL");
    let options: sqlx::sqlite::SqliteConnectOptions = url.parse().unwrap();
    assert_eq!(
        options.get_filename(),
        std::path::Path::new("/var/lib/auditlog/auditlog.db")
    );
    assert!(unit.contains("Environment=LEPTOS_SITE_ROOT=/opt/auditlog/site"));
    let docker = include_str!("../../deploy/Dockerfile");
    assert!(docker.contains(r#"ENTRYPOINT ["/opt/auditlog/bin/auditlog"]"#));
    let cmd = docker.lines().find_map(|l| l.strip_prefix("CMD ")).expect("CMD");
    let cmd: Vec<String> = serde_json::from_str(cmd).unwrap();
    let mut args = vec!["auditlog".to_string()];
    args.extend(cmd);
    assert!(matches!(
        Cli::try_parse_from(&args).unwrap().command,
        Some(Command::Serve(_))
    ));
    let release = include_str!("../../scripts/release.sh");
    assert!(release.contains(r#"cp "$target/release/auditlog" "$out/bin/auditlog""#));
    assert!(release.contains(r#"cp -r target/site "$out/site""#));
}
