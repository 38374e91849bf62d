//! `herald`: the one binary. CLI parsing, telemetry, and the exit-status contract
//! (0 success, 1 the operation failed, 2 bad usage or bad input).

mod cli;
mod commands;
mod output;
mod settings;
mod startup;
mod tracking_keys;
mod web;

use clap::Parser;

/// An error caused by the user's input (exit status 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BadInput(pub String);

pub fn bad_input(msg: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(BadInput(msg.into()))
}

/// What the user named does not exist (exit status 2; HTTP 404).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct NotFound(pub String);

pub fn not_found(msg: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(NotFound(msg.into()))
}

/// The request is fine but the installation's state refuses it (exit status 2; HTTP 409).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Conflict(pub String);

pub fn conflict(msg: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(Conflict(msg.into()))
}

/// Whether the user can fix `e` by changing what they asked (exit status 2).
pub(crate) fn users_to_fix(e: &anyhow::Error) -> bool {
    e.downcast_ref::<BadInput>().is_some()
        || e.downcast_ref::<NotFound>().is_some()
        || e.downcast_ref::<Conflict>().is_some()
}

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
