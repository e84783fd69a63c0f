//! Command line and configuration: defaults, then flags, then `AUDITLOG_*` environment variables
//! (clap reads both; a flag wins over the environment).

use std::net::SocketAddr;

use clap::{Args, Parser, Subcommand, ValueEnum};

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/auditlog.db";

#[derive(Debug, Parser)]
#[command(
    name = "auditlog",
    version,
    about = "The audit log an admin panel embeds as a tab."
)]
pub struct Cli {
    /// SQLite database URL; the file (and its folder) is created when missing.
    #[arg(long, global = true, env = "AUDITLOG_DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    pub database_url: String,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Manage API tokens for scripts.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Import JSONL audit files (this product's export, or daily files of
    /// {"timestamp","user","action","target","details"} lines). Idempotent.
    Import(ImportArgs),
    /// Write every event matching the filters to standard output.
    Export(ExportArgs),
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "AUDITLOG_ADDR", default_value = "127.0.0.1:3000")]
    pub addr: SocketAddr,
    /// Fill an empty database with about 5,000 realistic demo events.
    #[arg(long, env = "AUDITLOG_DEMO")]
    pub demo: bool,
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
}
