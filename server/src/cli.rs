//! The subcommands of the one binary.

use std::{io::Write, process::ExitCode};

use app::{
    model::{Actor, AuditQuery, NewEvent, Target},
    store::{ApiToken, AuditStore, Scopes},
};
use serde_json::{Map, json};

use crate::{
    config::{Cli, Command, ExportArgs, ServeArgs, TokenCommand},
    demo, export, import,
};

pub type CliResult = Result<ExitCode, Box<dyn std::error::Error + Send + Sync>>;

pub async fn run(cli: Cli) -> CliResult {
    match cli.command {
        Command::Serve(args) => serve(&cli.database_url, args).await,
        Command::Token(cmd) => token(&cli.database_url, cmd).await,
        Command::Import(args) => import::run(&cli.database_url, args).await,
        Command::Export(args) => export_to_stdout(&cli.database_url, args).await,
    }
}

async fn serve(database_url: &str, args: ServeArgs) -> CliResult {
    let state = crate::build_state(database_url).await?;
    if args.demo {
        let added = demo::seed_if_empty(&state.store).await?;
        if added > 0 {
            tracing::info!(events = added, "demo data added");
        }
    }
    let listener = tokio::net::TcpListener::bind(args.addr).await?;
    let addr = listener.local_addr()?;
    println!("auditlog is serving http://{addr}/admin/audit-log (database {database_url})");
    crate::serve(listener, state).await?;
    Ok(ExitCode::SUCCESS)
}

/// The command line acts as a system actor in the events it causes.
pub fn cli_actor() -> Actor {
    Actor::system("auditlog cli")
}

pub fn token_event(action: &str, actor: Actor, token: &ApiToken) -> NewEvent {
    let mut details = Map::new();
    details.insert("scopes".into(), json!(token.scopes.to_list()));
    details.insert("prefix".into(), json!(token.prefix));
    NewEvent {
        action: action.into(),
        actor: Some(actor),
        target: Some(Target {
            kind: "api_token".into(),
            id: Some(token.id.clone()),
            name: Some(token.name.clone()),
        }),
        source: Some("auditlog".into()),
        details,
        ..NewEvent::default()
    }
}

async fn token(database_url: &str, cmd: TokenCommand) -> CliResult {
    let store = AuditStore::open(database_url).await?;
    match cmd {
        TokenCommand::Create { name, scope } => {
            let scopes = Scopes::parse(&scope)?;
            let created = store.create_token(&name, &scopes).await?;
            store
                .record(token_event("api_token.create", cli_actor(), &created.token))
                .await?;
            println!("{}", created.plaintext);
            eprintln!(
                "Created token {} ({}) with scopes {}. It is shown only once: store it now.",
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
                let status = if t.revoked_at.is_some() {
                    "revoked"
                } else {
                    "active"
                };
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
            let token = store.revoke_token(&id).await.map_err(|e| match e {
                app::store::StoreError::NotFound => format!("no token with id {id}").into(),
                other => Box::<dyn std::error::Error + Send + Sync>::from(other),
            })?;
            store
                .record(token_event("api_token.revoke", cli_actor(), &token))
                .await?;
            eprintln!("Revoked token {} ({}).", token.id, token.name);
        }
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

async fn export_to_stdout(database_url: &str, args: ExportArgs) -> CliResult {
    let store = AuditStore::open(database_url).await?;
    let query = AuditQuery::from_query_string(&args.filter)?;
    let total = store.count(&query).await?;
    let progress = import::progress_bar(total, "rows");
    let mut exporter = export::Exporter::new(store.clone(), query.clone(), args.format);
    let mut stdout = std::io::stdout().lock();
    let result = loop {
        match exporter.next_chunk().await {
            Ok(Some(bytes)) => {
                if let Err(e) = stdout.write_all(&bytes) {
                    break Err(Box::<dyn std::error::Error + Send + Sync>::from(e));
                }
                progress.set_position(exporter.rows);
            }
            Ok(None) => break Ok(()),
            Err(e) => {
                let _ = stdout.write_all(&exporter.failure_marker());
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
            exporter.rows,
            completed,
        ))
        .await?;
    store.close().await;
    result?;
    eprintln!("Exported {} events.", exporter.rows);
    Ok(ExitCode::SUCCESS)
}
