use clap::Parser;

/// mimalloc instead of the C library's allocator: events are parsed on one thread and freed on the writer
/// thread, and glibc then locks the parsing thread's arena for every free (the two threads kept waiting on
/// each other during ingest).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    server::telemetry::init();
    let cli = server::config::Cli::parse();
    match server::cli::run(cli).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
