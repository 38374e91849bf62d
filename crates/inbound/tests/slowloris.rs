//! Slow clients cannot hold the listener: a command trickled a byte at a time, a DATA trickled
//! slower than `min_data_rate`, and more connections from one address than
//! `max_connections_per_ip` are all cut off, while a normal client is still served.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use herald_inbound::{Capture, Limits};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

async fn server(dir: &std::path::Path) -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let limits = Limits {
        timeout: Duration::from_secs(1),
        min_data_rate: 1000,
        max_connections: 4,
        max_connections_per_ip: 2,
        ..Limits::default()
    };
    tokio::spawn(herald_inbound::serve(
        l,
        Arc::new(Capture::new(dir.into()).unwrap()),
        limits,
        std::future::pending(),
    ));
    addr
}

/// Read what the server says until it closes, for at most `limit`.
async fn rest(s: &mut TcpStream, limit: Duration) -> String {
    let mut out = Vec::new();
    let _ = tokio::time::timeout(limit, s.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

async fn read_reply(s: &mut TcpStream) -> String {
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

/// Send `bytes` one at a time, `gap` apart, until the server closes or all are sent.
async fn trickle(s: &mut TcpStream, bytes: &[u8], gap: Duration) -> bool {
    for b in bytes {
        if s.write_all(&[*b]).await.is_err() {
            return false;
        }
        tokio::time::sleep(gap).await;
    }
    true
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trickled_command_is_cut_off_at_its_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let addr = server(dir.path()).await;
    let mut s = TcpStream::connect(addr).await.unwrap();
    assert!(read_reply(&mut s).await.starts_with("220"));
    let started = Instant::now();
    // One byte every 300 ms: each read comes well within the 1 s timeout, the command never
    // within its deadline.
    let _ = trickle(
        &mut s,
        b"EHLO slow.example.com\r\n",
        Duration::from_millis(300),
    )
    .await;
    let said = rest(&mut s, Duration::from_secs(5)).await;
    assert!(said.contains("421 4.4.2"), "{said:?}");
    println!("trickled command cut after {:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trickled_data_is_cut_off_and_not_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let addr = server(dir.path()).await;
    let mut s = TcpStream::connect(addr).await.unwrap();
    assert!(read_reply(&mut s).await.starts_with("220"));
    s.write_all(b"EHLO c.example\r\nMAIL FROM:<a@c.example>\r\nRCPT TO:<b@d.example>\r\nDATA\r\n")
        .await
        .unwrap();
    let mut seen = String::new();
    while !seen.contains("354") {
        seen.push_str(&read_reply(&mut s).await);
    }
    // 20 bytes a second against a 1000 B/s minimum: the allowance is ~1 s.
    let message = format!("Subject: slow\r\n\r\n{}\r\n.\r\n", "x".repeat(200));
    let _ = trickle(&mut s, message.as_bytes(), Duration::from_millis(50)).await;
    let said = rest(&mut s, Duration::from_secs(5)).await;
    assert!(said.contains("421 4.4.2"), "{said:?}");
    assert!(
        !said.contains("250 2.0.0"),
        "a trickled DATA was accepted: {said:?}"
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing was captured"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_cannot_take_every_connection() {
    let dir = tempfile::tempdir().unwrap();
    let addr = server(dir.path()).await;
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut s = TcpStream::connect(addr).await.unwrap();
        assert!(read_reply(&mut s).await.starts_with("220"));
        held.push(s);
    }
    let mut third = TcpStream::connect(addr).await.unwrap();
    let said = rest(&mut third, Duration::from_secs(5)).await;
    assert!(said.starts_with("421 4.7.0"), "{said:?}");
    // Once the held ones are gone (or timed out), the address is served again.
    drop(held);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut again = TcpStream::connect(addr).await.unwrap();
    assert!(read_reply(&mut again).await.starts_with("220"));
    again.write_all(b"QUIT\r\n").await.unwrap();
    assert!(
        rest(&mut again, Duration::from_secs(5))
            .await
            .contains("221")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_that_only_chats_is_closed() {
    let dir = tempfile::tempdir().unwrap();
    let addr = server(dir.path()).await;
    let mut s = TcpStream::connect(addr).await.unwrap();
    assert!(read_reply(&mut s).await.starts_with("220"));
    // Each NOOP comes well within the deadline; together they never bring a message.
    s.write_all(&b"NOOP\r\n".repeat(60)).await.unwrap();
    let said = rest(&mut s, Duration::from_secs(5)).await;
    assert!(said.contains("421 4.7.0 Too many commands"), "{said:?}");
}
