//! Herald over HTTP (axum). For now the public, signed endpoints that messages link to:
//! `public/` — the open pixel, the click redirect, the unsubscribe page and RFC 8058 one-click.
//! Every public route verifies an HMAC token before doing anything; a bad token is a 404 that
//! redirects nowhere. (The authenticated UI and `/api/v1` join this crate with their issue.)

pub mod public;

use std::future::Future;
use std::net::SocketAddr;

use axum::Router;
use tokio::net::TcpListener;

/// Serve `router` on `listener` until `shutdown` resolves; requests in flight finish first.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
