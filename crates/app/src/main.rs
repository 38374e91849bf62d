//! `herald`: the one binary. CLI parsing, telemetry, and the exit-status contract
//! (0 success, 1 the operation failed, 2 bad usage or bad input).

use clap::Parser;
use herald_app::{cli, commands, users_to_fix};

fn main() {
    let cli = cli::Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("HERALD_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: starting the runtime: {e}");
            std::process::exit(1);
        }
    };
    let result = runtime.block_on(commands::run(cli));
    if let Err(e) = result {
        eprintln!("error: {e:#}");
        let code = if users_to_fix(&e) { 2 } else { 1 };
        std::process::exit(code);
    }
}
