//! `herald`: the one binary. CLI parsing, telemetry, and the exit-status contract
//! (0 success, 1 the operation failed, 2 bad usage or bad input).

use clap::Parser;
use herald_app::{cli, commands, users_to_fix};

fn main() {
    bound_the_allocator();
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

/// glibc's malloc gives each thread that allocates an arena of its own (up to 8 per core) and
/// keeps what it freed there, and after a large block is freed it raises the size above which
/// blocks come from mmap (returned at once) to as much as 32 MB; a send's render threads,
/// runtime workers and SQLite connection threads then each held megabytes (`bench send` of
/// 1,000,000 messages: 85 MB; with two arenas and a fixed mmap threshold 57 MB, about a fifth
/// slower, see the README). Those are glibc tunables, read from the environment at start only
/// (setting them from inside needs `mallopt`, an unsafe call this workspace forbids), so the
/// process executes itself again once with `GLIBC_TUNABLES` set: same pid, arguments,
/// environment otherwise, and open descriptors. A `GLIBC_TUNABLES` already set is the
/// operator's choice and is kept. `HERALD_MALLOC_TUNED` marks the second start, so it never
/// loops (a secure-execution start — setuid, file capabilities — has `GLIBC_TUNABLES` removed
/// by the loader).
fn bound_the_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use std::os::unix::process::CommandExt;
        const MARK: &str = "HERALD_MALLOC_TUNED";
        if std::env::var_os("GLIBC_TUNABLES").is_some() || std::env::var_os(MARK).is_some() {
            return;
        }
        // The binary's own path (not /proc/self/exe: the process keeps its name, "herald").
        let Ok(exe) = std::env::current_exe() else {
            return;
        };
        let mut args = std::env::args_os();
        let arg0 = args.next().unwrap_or_else(|| "herald".into());
        let err = std::process::Command::new(exe)
            .arg0(arg0)
            .args(args)
            .env(
                "GLIBC_TUNABLES",
                "glibc.malloc.arena_max=2:glibc.malloc.mmap_threshold=131072",
            )
            .env(MARK, "1")
            .exec();
        // Only reached when the exec failed (the binary replaced under a running upgrade…):
        // run on with glibc's defaults; only memory use differs, so nothing is said.
        drop(err);
    }
}
