//! The subcommands of the one binary.

use std::{io::Write, process::ExitCode};

use app::{
    model::{
        Actor, AuditQuery, NewEvent, Role, User,
        recorded::{self, token_event, user_event},
    },
    store::{ApiToken, AuditStore, Scopes},
};
use clap::Parser;
use rand::Rng;

use crate::{
    config::{Cli, Command, ExportArgs, ServeArgs, ServeDefaults, TokenCommand, UserCommand, WebhookCommand},
    demo, export, import,
};

pub type CliResult = Result<ExitCode, Box<dyn std::error::Error + Send + Sync>>;

pub async fn run(cli: Cli) -> CliResult {
    match cli
        .command
        .unwrap_or_else(|| Command::Serve(ServeDefaults::parse_from(["auditlog"]).args))
    {
        Command::Serve(args) => serve(&cli.database, args).await,
        Command::Token(cmd) => token(&cli.database, cmd).await,
        Command::Webhook(cmd) => webhook(&cli.database, cmd).await,
        Command::Import(args) => import::run(&cli.database, args).await,
        Command::Export(args) => export_to_stdout(&cli.database, args).await,
        Command::User(cmd) => user(&cli.database, cmd).await,
        Command::Backup(args) => backup(&cli.database, args).await,
        Command::Verify => verify(&cli.database).await,
        Command::Retention(cmd) => retention(&cli.database, cmd).await,
        Command::VerifyExport(args) => verify_export(&args),
    }
}

/// `auditlog verify-export FILE --key KEY`: needs nothing but the file and the key (no database).
fn verify_export(args: &crate::config::VerifyExportArgs) -> CliResult {
    let key = match std::fs::read_to_string(&args.key) {
        Ok(text) => text,
        Err(_) => args.key.clone(),
    };
    let key = app::trust::Verifier::parse(key.trim()).map_err(|e| format!("--key: {e}"))?;
    let text = std::fs::read_to_string(&args.file).map_err(|e| format!("{}: {e}", args.file.display()))?;
    let check = app::trust::export::verify_export(&text, &key);
    for problem in &check.problems {
        println!("{problem}");
    }
    if check.problems.is_empty() {
        println!(
            "verified {} events, in the signed checkpoint of {} events",
            check.events, check.tree_size
        );
        Ok(ExitCode::SUCCESS)
    } else {
        Ok(ExitCode::from(1))
    }
}

/// `auditlog retention show | set DAYS | off | purge`. A change is recorded as `settings.update` by the
/// command line; `purge` prints what it deleted.
async fn retention(db: &crate::config::DatabaseArgs, cmd: crate::config::RetentionCommand) -> CliResult {
    use crate::config::RetentionCommand;
    let store = db.open().await?;
    let shown = |days: Option<u32>| days.map_or("forever".to_string(), |d| format!("{d} days"));
    match cmd {
        RetentionCommand::Show => println!("{}", shown(store.retention_days().await?)),
        RetentionCommand::Set { days } => {
            let before = store
                .set_retention_days(Some(days), cli_actor(), app::model::RecordedBy::system(), |e| e)
                .await?;
            println!("events are kept {} (was {})", shown(Some(days)), shown(before));
        }
        RetentionCommand::Off => {
            let before = store
                .set_retention_days(None, cli_actor(), app::model::RecordedBy::system(), |e| e)
                .await?;
            println!("events are kept forever (was {})", shown(before));
        }
        RetentionCommand::Purge => {
            let purge = store.purge_expired(chrono::Utc::now().timestamp_millis()).await?;
            match purge.event_id {
                Some(id) => println!(
                    "deleted {} events older than {} (log indexes {}..{}; recorded as {id})",
                    purge.deleted,
                    purge.cutoff,
                    purge.first_log_index.unwrap_or_default(),
                    purge.last_log_index.unwrap_or_default()
                ),
                None if purge.retention_days == 0 => println!("events are kept forever: nothing to purge"),
                None => println!("no event is older than {}", purge.cutoff),
            }
        }
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

/// `auditlog verify`: every event's leaf, every stored subtree, every checkpoint's root and signature.
/// Exit 0 when all hold; otherwise each problem is named and the exit code is 1.
async fn verify(db: &crate::config::DatabaseArgs) -> CliResult {
    let store = db.open().await?;
    let bar = crate::import::progress_bar(0, "events");
    let shown = bar.clone();
    let report = store
        .verify(move |done, total| {
            shown.set_length(total);
            shown.set_position(done);
        })
        .await?;
    bar.finish_and_clear();
    store.close().await;
    for line in report.purged.iter().chain(&report.problems) {
        println!("{line}");
    }
    if report.problems.is_empty() {
        println!("verified {} events, {} checkpoints", report.events, report.checkpoints);
        Ok(ExitCode::SUCCESS)
    } else {
        println!(
            "{} problems; {} events verified, {} checkpoints",
            report.problems.len(),
            report.events,
            report.checkpoints
        );
        Ok(ExitCode::from(1))
    }
}

/// `auditlog backup FILE`: the copy, with a progress bar on a terminal, recorded as `audit.backup`.
async fn backup(db: &crate::config::DatabaseArgs, args: crate::config::BackupArgs) -> CliResult {
    let store = db.open().await?;
    let bar = crate::import::progress_bar(0, "pages");
    let shown = bar.clone();
    let events = store
        .backup(&args.file, move |copied, total| {
            shown.set_length(total);
            shown.set_position(copied);
        })
        .await?;
    bar.finish_and_clear();
    let file = args.file.display().to_string();
    let event = recorded::backed_up(cli_actor(), &file, events);
    store.record(event).await?;
    store.close().await;
    eprintln!("backed up {events} events to {file}");
    Ok(ExitCode::SUCCESS)
}

const GENERATED_ADMIN: &str = "admin@localhost";

/// With AUDITLOG_ADMIN_EMAIL and AUDITLOG_ADMIN_PASSWORD, that admin exists (its password set). With
/// neither and no admin yet, `admin@localhost` gets a generated password, printed this once. Returns the
/// line that tells how to sign in.
async fn ensure_admin(
    store: &AuditStore,
    args: &ServeArgs,
) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
    match (&args.admin_email, &args.admin_password) {
        (Some(email), Some(password)) => {
            store
                .ensure_user_recorded(email, Role::Admin, &password.0, |before, after, changed| {
                    Some(recorded::configured_admin(before, after, changed))
                })
                .await?;
            Ok(format!(
                "Sign in as {email} with the password in AUDITLOG_ADMIN_PASSWORD."
            ))
        }
        (Some(_), None) | (None, Some(_)) => {
            Err("set both AUDITLOG_ADMIN_EMAIL and AUDITLOG_ADMIN_PASSWORD, or neither".into())
        }
        (None, None) if !store.admin_exists().await? => {
            let password: String = rand::thread_rng()
                .sample_iter(&rand::distributions::Alphanumeric)
                .take(20)
                .map(char::from)
                .collect();
            store
                .create_user(GENERATED_ADMIN, "Administrator", Role::Admin, &password)
                .await?;
            Ok(format!(
                "First start: sign in as {GENERATED_ADMIN} with password {password} (shown only this once)."
            ))
        }
        (None, None) => Ok("Sign in with an admin account (create one with `auditlog user create`).".into()),
    }
}

async fn user(db: &crate::config::DatabaseArgs, cmd: UserCommand) -> CliResult {
    let store = db.open().await?;
    match cmd {
        UserCommand::Create { email, role, name } => {
            let role = Role::parse(&role).ok_or("role must be admin or viewer")?;
            let password = match std::env::var("AUDITLOG_PASSWORD") {
                Ok(p) => p,
                Err(_) => {
                    let mut line = String::new();
                    std::io::stdin().read_line(&mut line)?;
                    line.trim_end_matches(['\r', '\n']).to_string()
                }
            };
            let record = |user: &User| Some(from_cli(user_event("user.create", cli_actor(), user, None)));
            let user = store
                .create_user_recorded(&email, &name, role, &password, record)
                .await?;
            eprintln!("Created {} user {} ({}).", user.role.as_str(), user.email, user.id);
        }
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

async fn serve(db: &crate::config::DatabaseArgs, args: ServeArgs) -> CliResult {
    let catalog = args.action_catalog.as_deref().map(read_catalog).transpose()?;
    let mut state = crate::build_state(db, &args.security).await?;
    if let Some(catalog) = catalog {
        state.store = state.store.with_catalog(catalog);
    }
    let sign_in = ensure_admin(&state.store, &args).await?;
    if args.demo {
        let added = demo::seed_if_empty(&state.store).await?;
        if added > 0 {
            tracing::info!(events = added, "demo data added");
        }
    }
    let listener = tokio::net::TcpListener::bind(args.addr).await?;
    let addr = listener.local_addr()?;
    println!(
        "auditlog is serving http://{addr}/admin/audit-log (database {})",
        db.database_url
    );
    println!("{sign_in}");
    let store = state.store.clone();
    if let Some(dir) = &db.archive_dir {
        let (archive, archived) =
            crate::archive::Archive::open(dir).map_err(|e| format!("--archive-dir {}: {e}", dir.display()))?;
        tokio::spawn(archive.run(store.clone(), archived));
    }
    crate::serve(listener, state).await?;
    // In-flight requests have finished: the WAL is copied into the database and emptied.
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

/// The host's action catalog (`--action-catalog`); an error names the file and the entry that is wrong.
fn read_catalog(path: &std::path::Path) -> Result<app::model::ActionCatalog, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("--action-catalog {}: {e}", path.display()))?;
    app::model::ActionCatalog::from_json(&text)
        .map_err(|e| format!("--action-catalog {}: `{}` {}", path.display(), e.field, e.message))
}

/// Events the command line causes come from the `auditlog` source.
fn from_cli(event: NewEvent) -> NewEvent {
    NewEvent {
        source: Some("auditlog".into()),
        ..event
    }
}

/// The command line acts as a system actor in the events it causes.
pub fn cli_actor() -> Actor {
    Actor::system("auditlog cli")
}

/// Who changes webhooks from the command line.
fn cli_changer() -> app::store::Changer {
    app::store::Changer {
        actor: cli_actor(),
        by: app::model::RecordedBy::system(),
        finish: Box::new(from_cli),
    }
}

async fn webhook(db: &crate::config::DatabaseArgs, cmd: WebhookCommand) -> CliResult {
    use app::model::webhook::{OutcomeFilter, WebhookFormat, WebhookPatch, WebhookSettings};
    let store = db.open().await?;
    let named = |e: app::model::FieldError| format!("--{}: {}", e.field, e.message);
    match cmd {
        WebhookCommand::Add {
            url,
            description,
            actions,
            outcome,
            format,
            allow_private,
        } => {
            let settings = WebhookSettings {
                url,
                description,
                actions,
                outcome: OutcomeFilter::parse(&outcome).unwrap_or_default(),
                format: WebhookFormat::parse(&format).unwrap_or_default(),
                enabled: true,
            }
            .checked()
            .map_err(named)?;
            let destinations = crate::webhooks::Destinations { allow_private };
            destinations.check(&settings.url).await.map_err(named)?;
            let (webhook, secret) = store.create_webhook(settings, cli_changer()).await?;
            println!("{secret}");
            eprintln!(
                "Added webhook {} for {}. Its signing secret is shown only once: give it to the receiver now.",
                webhook.id, webhook.settings.url
            );
        }
        WebhookCommand::List => {
            println!("{:<26}  {:<9}  {:<8}  {:<24}  URL", "ID", "STATE", "FORMAT", "ACTIONS");
            for w in store.list_webhooks().await? {
                println!(
                    "{:<26}  {:<9}  {:<8}  {:<24}  {}",
                    w.id,
                    w.state.label(),
                    w.settings.format.as_str(),
                    w.settings.actions.join(","),
                    w.settings.url
                );
            }
        }
        WebhookCommand::Disable { id } => {
            let patch = WebhookPatch {
                enabled: Some(false),
                ..WebhookPatch::default()
            };
            store
                .update_webhook(&id, patch, cli_changer())
                .await
                .map_err(|e| not_found(e, &id))?;
            eprintln!("Webhook {id} is disabled.");
        }
        WebhookCommand::Remove { id } => {
            store
                .delete_webhook(&id, cli_changer())
                .await
                .map_err(|e| not_found(e, &id))?;
            eprintln!("Webhook {id} is removed.");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A store error, with an unknown id named.
fn not_found(e: app::store::StoreError, id: &str) -> String {
    match e {
        app::store::StoreError::NotFound => format!("no webhook has the id {id}"),
        other => other.to_string(),
    }
}

async fn token(db: &crate::config::DatabaseArgs, cmd: TokenCommand) -> CliResult {
    let store = db.open().await?;
    match cmd {
        TokenCommand::Create { name, scope, tenant } => {
            let scopes = Scopes::parse(&scope)?;
            let record = |token: &ApiToken| Some(from_cli(token_event("api_token.create", cli_actor(), token)));
            let created = store
                .create_token_recorded(&name, &scopes, tenant.as_deref(), record)
                .await?;
            println!("{}", created.plaintext);
            let bound = match &created.token.tenant {
                Some(t) => format!(" for tenant {t}"),
                None => String::new(),
            };
            eprintln!(
                "Created token {} ({}) with scopes {}{bound}. It is shown only once: store it now.",
                created.token.id,
                created.token.name,
                created.token.scopes.to_list()
            );
        }
        TokenCommand::List => {
            println!(
                "{:<26}  {:<24}  {:<18}  {:<10}  STATUS",
                "ID", "NAME", "SCOPES", "PREFIX"
            );
            for t in store.list_tokens().await? {
                let status = if t.revoked_at.is_some() { "revoked" } else { "active" };
                println!(
                    "{:<26}  {:<24}  {:<18}  {:<10}  {status}",
                    t.id,
                    t.name,
                    t.scopes.to_list(),
                    t.prefix
                );
            }
        }
        TokenCommand::Revoke { id } => {
            let record = |token: &ApiToken| Some(from_cli(token_event("api_token.revoke", cli_actor(), token)));
            let token = store.revoke_token_recorded(&id, record).await.map_err(|e| match e {
                app::store::StoreError::NotFound => format!("no token with id {id}").into(),
                other => Box::<dyn std::error::Error + Send + Sync>::from(other),
            })?;
            eprintln!("Revoked token {} ({}).", token.id, token.name);
        }
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

async fn export_to_stdout(db: &crate::config::DatabaseArgs, args: ExportArgs) -> CliResult {
    let store = db.open().await?;
    let query = AuditQuery::from_query_string(&args.filter)?;
    let total = store.count(&query).await?;
    let progress = import::progress_bar(total, "rows");
    // Standard output may wait on a reader (a pager): no stall limit.
    if args.proof && args.format != crate::config::ExportFormat::Jsonl {
        return Err("--proof: only a JSONL export carries a proof".into());
    }
    let mut export = export::Export::start(&store, &query, args.format, None, args.proof, None).await?;
    let mut stdout = std::io::stdout().lock();
    let result = loop {
        match export.next().await {
            Some(Ok(bytes)) => {
                if let Err(e) = stdout.write_all(&bytes) {
                    break Err(Box::<dyn std::error::Error + Send + Sync>::from(e));
                }
                progress.set_position(export.rows());
            }
            None => break Ok(()),
            Some(Err(e)) => {
                let _ = stdout.write_all(&export.failure_marker());
                break Err(e.into());
            }
        }
    };
    let _ = stdout.flush();
    progress.finish_and_clear();
    let completed = result.is_ok();
    store
        .record(export::export_event(
            cli_actor(),
            args.format,
            &query,
            export.rows(),
            completed,
        ))
        .await?;
    store.close().await;
    result?;
    eprintln!("Exported {} events.", export.rows());
    Ok(ExitCode::SUCCESS)
}
