//! `herald serve [--sandbox]`: the delivery workers of this node, until Ctrl-C / SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use herald_engine::queue::Until;
use herald_store::prelude::*;

use super::shutdown_signal;
use crate::startup::App;

/// Where a started node answers.
#[derive(Debug, Clone)]
pub struct Listening {
    /// `[http] listen` (the UI, the API, the public links), as bound (port 0 gets one).
    pub http: SocketAddr,
    /// The return-path listener, when `[inbound] enabled`.
    pub inbound: Option<SocketAddr>,
    /// The sandbox's capture server and the folder its copies go to.
    pub sandbox: Option<(SocketAddr, PathBuf)>,
}

pub async fn run(app: App, sandbox: bool) -> anyhow::Result<()> {
    run_until(app, sandbox, shutdown_signal(), None).await
}

/// Serve until `shutdown` resolves; once every listener is bound, where they are is sent on
/// `ready` (in-process tests wait for it). Stopping finishes and records what is in flight.
pub async fn run_until(
    mut app: App,
    sandbox: bool,
    shutdown: impl std::future::Future<Output = ()>,
    ready: Option<tokio::sync::oneshot::Sender<Listening>>,
) -> anyhow::Result<()> {
    // `--sandbox` is the setting for everything this process does (test sends from the web
    // UI included), not only for the delivery loop.
    app.settings.delivery.sandbox |= sandbox;
    // The Settings page's changes reach every part started below within seconds.
    let _runtime = app.follow_runtime().await?;
    let sandbox = if app.settings.delivery.sandbox {
        Some(app.start_sandbox().await?)
    } else {
        None
    };
    if let Some(sb) = &sandbox {
        eprintln!(
            "sandbox: every message goes to the capture server on {}; copies in {}",
            sb.addr,
            sb.dir.display()
        );
    }
    // First of all, take this node's name on the database (refused if it is running).
    let mut queue = app.queue(sandbox.as_ref())?;
    let node = app.register_node(queue.owner(), queue.paces()).await?;
    let (inbound_addr, _inbound) = if app.settings.inbound.enabled {
        let (addr, stop) = app.start_inbound().await?;
        eprintln!("inbound: return-path and feedback listener on {addr}");
        (Some(addr), Some(stop))
    } else {
        (None, None)
    };
    let (http_addr, http_stop, http_task) = app.start_http().await?;
    eprintln!(
        "http: tracking and unsubscribe links on {http_addr} (public as {})",
        app.settings.http.public_url
    );
    let _poller = super::seeds::spawn_poller(&app);
    let _scheduler = super::campaign::spawn_scheduler(&app);
    let _purger = super::lists::spawn_purger(&app);
    let _webhooks = app.spawn_webhooks(queue.owner())?;
    // Drift: re-verify connected domains and hold the sends of those that stop verifying.
    // Sandbox mode is exempt, as from the gate: nothing leaves the machine.
    let _drift = if sandbox.is_none() {
        let (holds, task) = app.spawn_drift().await?;
        queue = queue.with_holds(holds, app.settings.domains.reverify_every.0);
        Some(task)
    } else {
        None
    };
    eprintln!(
        "herald serving as node {} ({}; database {}); Ctrl-C stops",
        app.node_name(),
        queue.owner(),
        app.store.backend()
    );
    if let Some(ready) = ready {
        let _ = ready.send(Listening {
            http: http_addr,
            inbound: inbound_addr,
            sandbox: sandbox.as_ref().map(|s| (s.addr, s.dir.clone())),
        });
    }
    queue
        .run(None, Until::Forever, None, shutdown)
        .await
        .context("delivery loop")?;
    // Stopped cleanly: this node is no longer live for `campaign send` on the installation.
    drop(node);
    if let Err(e) = app
        .store
        .node_heartbeat(&app.node_name(), queue.owner(), 0)
        .await
    {
        tracing::warn!(error = %e, "marking this node stopped");
    }
    // Stop taking requests, then wait until every queued open and click is written.
    drop(http_stop);
    let _ = http_task.await;
    eprintln!("stopped cleanly");
    Ok(())
}
