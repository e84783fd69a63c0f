//! Command line and configuration: defaults, then flags, then `AUDITLOG_*` environment variables
//! (clap reads both; a flag wins over the environment).

use std::net::SocketAddr;

use clap::{Args, Parser, Subcommand, ValueEnum};

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/auditlog.db";

#[derive(Debug, Parser)]
#[command(name = "auditlog", version, about = "The audit log an admin panel embeds as a tab.")]
pub struct Cli {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The database and its log: what every command opens.
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// SQLite database URL; the file (and its folder) is created when missing.
    #[arg(long, global = true, env = "AUDITLOG_DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    pub database_url: String,
    /// The key that signs the log's checkpoints (`PRIVATE+KEY+…`, the Go `note` signer format); made on first
    /// start when missing. Default: `<database file>.signing-key`.
    #[arg(long, global = true, env = "AUDITLOG_SIGNING_KEY_FILE")]
    pub signing_key_file: Option<std::path::PathBuf>,
    /// The origin the checkpoints name (first line of each); default the key's, `auditlog/<instance id>`
    /// for a new key.
    #[arg(long, global = true, env = "AUDITLOG_LOG_ORIGIN")]
    pub log_origin: Option<String>,
    /// At most how often a checkpoint is signed when events were committed since the last, in milliseconds.
    #[arg(long, global = true, env = "AUDITLOG_CHECKPOINT_INTERVAL_MS", default_value_t = 10_000,
          value_parser = clap::value_parser!(u64).range(10..=86_400_000))]
    pub checkpoint_interval_ms: u64,
    /// Append every event to `DIR/YYYY-MM-DD.jsonl` (the UTC day it was received), one canonical JSON line
    /// each, within a second of its commit. The retention purge deletes no event that is not archived yet.
    #[arg(long, global = true, env = "AUDITLOG_ARCHIVE_DIR")]
    pub archive_dir: Option<std::path::PathBuf>,
}

impl DatabaseArgs {
    /// Opens (creating and migrating when needed) the database these arguments name.
    pub async fn open(&self) -> Result<app::store::AuditStore, app::store::StoreError> {
        let tuning = app::store::Tuning {
            log_checkpoint_interval: std::time::Duration::from_millis(self.checkpoint_interval_ms),
            ..app::store::Tuning::default()
        };
        let log = app::store::LogConfig {
            key_file: self.signing_key_file.clone(),
            origin: self.log_origin.clone(),
        };
        let store = app::store::AuditStore::open_with(&self.database_url, tuning, &log).await?;
        if let Some(dir) = &self.archive_dir {
            let (_, archived) = crate::archive::Archive::open(dir).map_err(|e| {
                app::store::StoreError::Io(std::io::Error::other(format!("--archive-dir {}: {e}", dir.display())))
            })?;
            store.set_archived(archived);
        }
        Ok(store)
    }
}

impl Default for DatabaseArgs {
    fn default() -> Self {
        DatabaseArgs {
            database_url: DEFAULT_DATABASE_URL.into(),
            signing_key_file: None,
            log_origin: None,
            checkpoint_interval_ms: 10_000,
            archive_dir: None,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Manage API tokens for scripts.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Manage webhook endpoints (the server delivers to them).
    #[command(subcommand)]
    Webhook(WebhookCommand),
    /// Import JSONL audit files (this product's export, or daily files of
    /// {"timestamp","user","action","target","details"} lines). Idempotent.
    Import(ImportArgs),
    /// Write every event matching the filters to standard output.
    Export(ExportArgs),
    /// Manage panel users.
    #[command(subcommand)]
    User(UserCommand),
    /// Copy the live database to a new file (consistent, safe while the server runs).
    Backup(BackupArgs),
    /// How long events are kept: show it, set it in days, keep forever (off), or purge now.
    #[command(subcommand)]
    Retention(RetentionCommand),
    /// Check a JSONL export offline: every line an unaltered event of the log, proved by the signed
    /// checkpoint in its last line. Exit 1 naming each line that is not.
    VerifyExport(VerifyExportArgs),
    /// Check the log: every event against its leaf, every checkpoint's root and signature. Exit 1 naming
    /// each problem found.
    Verify,
}

#[derive(Debug, Args)]
pub struct VerifyExportArgs {
    /// The JSONL export.
    pub file: std::path::PathBuf,
    /// The log's verifier key (`GET /api/v1/log/key`), or a file that holds it.
    #[arg(long)]
    pub key: String,
}

#[derive(Debug, Subcommand)]
pub enum RetentionCommand {
    /// Print the retention: `N days`, or `forever`.
    Show,
    /// Keep events for DAYS days (1 to 36,500); older ones are purged.
    Set {
        #[arg(value_parser = clap::value_parser!(u32).range(1..=36_500))]
        days: u32,
    },
    /// Keep events forever.
    Off,
    /// Delete the events older than the retention now.
    Purge,
}

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The new file (it must not exist).
    pub file: std::path::PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user; the password comes from AUDITLOG_PASSWORD or standard input.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long, value_parser = ["admin", "viewer"])]
        role: String,
        #[arg(long, default_value = "")]
        name: String,
    },
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "AUDITLOG_ADDR", default_value = "127.0.0.1:3000")]
    pub addr: SocketAddr,
    /// Fill an empty database with about 5,000 realistic demo events.
    #[arg(long, env = "AUDITLOG_DEMO")]
    pub demo: bool,
    /// Make sure this admin exists at start (with AUDITLOG_ADMIN_PASSWORD).
    #[arg(long, env = "AUDITLOG_ADMIN_EMAIL")]
    pub admin_email: Option<String>,
    #[arg(long, env = "AUDITLOG_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<Secret>,
    /// Labels for the host's actions and categories, a JSON file:
    /// `{"categories": {"mailbox": "Mailboxes"}, "actions": {"mailbox.create": "Mailbox created"}}`.
    #[arg(long, env = "AUDITLOG_ACTION_CATALOG")]
    pub action_catalog: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub security: SecurityArgs,
}

/// Access-control settings of the server.
#[derive(Debug, Clone, Args)]
pub struct SecurityArgs {
    /// Peers whose `X-Forwarded-For` is believed (comma-separated IPs). Otherwise the socket's address counts.
    #[arg(long, env = "AUDITLOG_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Origins that may frame the panel (CSP `frame-ancestors`), e.g. `https://panel.example.com`.
    #[arg(
        long,
        env = "AUDITLOG_FRAME_ANCESTORS",
        value_delimiter = ',',
        default_value = "'self'"
    )]
    pub frame_ancestors: Vec<String>,
    /// Failed sign-ins from one IP that block it.
    #[arg(long, env = "AUDITLOG_LOGIN_MAX_FAILURES", default_value_t = 5)]
    pub login_max_failures: u32,
    /// The window in which those failures count, in minutes.
    #[arg(long, env = "AUDITLOG_LOGIN_WINDOW_MINUTES", default_value_t = 10)]
    pub login_window_minutes: i64,
    /// How long a blocked IP stays blocked, in minutes.
    #[arg(long, env = "AUDITLOG_LOGIN_BLOCK_MINUTES", default_value_t = 60)]
    pub login_block_minutes: i64,
    /// Serve `/metrics` without credentials (for a Prometheus on a private network).
    #[arg(long, env = "AUDITLOG_METRICS_PUBLIC", value_parser = clap::builder::BoolishValueParser::new())]
    pub metrics_public: bool,
    /// Let webhooks go to `http://` URLs and to loopback, private and link-local addresses (by default only
    /// `https://` to public addresses: a webhook must not reach the internal network).
    #[arg(long, env = "AUDITLOG_WEBHOOK_ALLOW_PRIVATE", value_parser = clap::builder::BoolishValueParser::new())]
    pub webhook_allow_private: bool,
    /// The host panel's sign-in: the HS256 secret its JWTs are signed with (at least 32 characters).
    #[arg(long, env = "AUDITLOG_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<Secret>,
    /// The host panel's sign-in: a JWKS file of the EdDSA and RS256 public keys its JWTs are signed with.
    #[arg(long, env = "AUDITLOG_JWT_JWKS_FILE")]
    pub jwt_jwks_file: Option<std::path::PathBuf>,
    /// The `aud` the host's JWTs must carry (not checked when unset).
    #[arg(long, env = "AUDITLOG_JWT_AUDIENCE")]
    pub jwt_audience: Option<String>,
    /// Serve everything under this path (`/admin/audit`), for a reverse proxy that passes that one path here,
    /// prefix included.
    #[arg(long, env = "AUDITLOG_BASE_PATH", default_value = "")]
    pub base_path: String,
}

impl Default for SecurityArgs {
    fn default() -> Self {
        SecurityArgs {
            trusted_proxies: Vec::new(),
            frame_ancestors: vec!["'self'".into()],
            login_max_failures: 5,
            login_window_minutes: 10,
            login_block_minutes: 60,
            metrics_public: false,
            webhook_allow_private: false,
            jwt_secret: None,
            jwt_jwks_file: None,
            jwt_audience: None,
            base_path: String::new(),
        }
    }
}

/// A secret from the command line or environment: its `Debug` never shows it.
#[derive(Clone)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[REDACTED]")
    }
}

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Secret(s.to_string()))
    }
}

#[derive(Debug, Subcommand)]
pub enum WebhookCommand {
    /// Add an endpoint and print its signing secret once.
    Add {
        /// `https://…`; `http://` and internal addresses only with --allow-private.
        #[arg(long)]
        url: String,
        #[arg(long, default_value = "")]
        description: String,
        /// Comma-separated patterns: `*`, `auth.*`, `user.delete`.
        #[arg(long, default_value = "*", value_delimiter = ',')]
        actions: Vec<String>,
        #[arg(long, value_parser = ["any", "success", "failure"], default_value = "any")]
        outcome: String,
        /// `standard` (Standard Webhooks JSON) or `chat` (Slack-compatible `{"text"}`).
        #[arg(long, value_parser = ["standard", "chat"], default_value = "standard")]
        format: String,
        /// Allow `http://` and loopback, private and link-local addresses (as the server's
        /// AUDITLOG_WEBHOOK_ALLOW_PRIVATE).
        #[arg(long, env = "AUDITLOG_WEBHOOK_ALLOW_PRIVATE", value_parser = clap::builder::BoolishValueParser::new())]
        allow_private: bool,
    },
    /// List the endpoints and their state (never their secrets).
    List,
    /// Stop delivering to an endpoint (its place in the log is kept; enable it again over the API or Settings).
    Disable { id: String },
    /// Remove an endpoint and its deliveries.
    Remove { id: String },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print it once.
    Create {
        #[arg(long)]
        name: String,
        /// Comma-separated: ingest, read, admin.
        #[arg(long)]
        scope: String,
        /// Bind the token to one tenant: the events it ingests get that tenant, and it reads only that
        /// tenant's events (`ingest` and `read` only).
        #[arg(long)]
        tenant: Option<String>,
    },
    /// List tokens (never the tokens themselves).
    List,
    /// Revoke a token by id.
    Revoke { id: String },
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    #[arg(required = true)]
    pub files: Vec<std::path::PathBuf>,
    /// The `source` of imported events that do not name one.
    #[arg(long, default_value = "import")]
    pub source: String,
    /// Leave indexing the events for search to the server (which indexes behind ingestion; until it has
    /// caught up, searches read the events not yet indexed directly, and are slower). By default the import
    /// ends with every event indexed.
    #[arg(long)]
    pub no_index: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    Csv,
    Jsonl,
}

impl ExportFormat {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "csv" => Some(ExportFormat::Csv),
            "jsonl" => Some(ExportFormat::Jsonl),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Jsonl => "jsonl",
        }
    }
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[arg(long, value_enum, default_value = "csv")]
    pub format: ExportFormat,
    /// Filters as the API takes them, e.g. `action=user.create&from=2026-01-01`.
    #[arg(long, default_value = "")]
    pub filter: String,
    /// End a JSONL export with the proof of its events, for `auditlog verify-export`.
    #[arg(long)]
    pub proof: bool,
}

/// `serve`'s flags alone, for when no subcommand is given (defaults and `AUDITLOG_*` still apply).
#[derive(Debug, Parser)]
pub struct ServeDefaults {
    #[command(flatten)]
    pub args: ServeArgs,
}
