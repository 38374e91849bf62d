//! A client that sends requests and never reads the answers cannot keep its connection: once
//! the socket buffers are full, a write that makes no progress for `request_timeout` ends it.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::time::Duration;

use axum::Router;
use axum::routing::get;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_reads_is_disconnected() {
    let big = vec![b'x'; 1 << 20];
    let router = Router::new().route("/big", get(move || std::future::ready(big.clone())));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let limits = herald_http::ServerLimits {
        request_timeout: Duration::from_secs(1),
        header_timeout: Duration::from_secs(60),
        ..herald_http::ServerLimits::default()
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(herald_http::serve(listener, router, limits, async {
        let _ = stopped.await;
    }));

    let mut c = tokio::net::TcpStream::connect(addr).await.unwrap();
    let requests = 64;
    let one = b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n";
    for _ in 0..requests {
        c.write_all(one).await.unwrap();
    }
    // Do not read while the server fills the buffers and stalls.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut got = Vec::new();
    let ended = tokio::time::timeout(Duration::from_secs(10), c.read_to_end(&mut got)).await;
    assert!(ended.is_ok(), "the connection was still open after 13 s");
    assert!(
        got.len() < requests * (1 << 20),
        "every answer was delivered: {} bytes",
        got.len()
    );
    println!("a non-reading client was cut after {} bytes", got.len());
    drop(stop);
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("the server stops (graceful shutdown is bounded)")
        .unwrap()
        .unwrap();
}
