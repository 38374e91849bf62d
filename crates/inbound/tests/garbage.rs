//! The SMTP listener faces the Internet: garbage neither hangs a session nor stops the server.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::sync::Arc;
use std::time::Duration;

use herald_inbound::{Capture, Limits};
use herald_testkit::noise::Noise;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

async fn exchange(addr: std::net::SocketAddr, input: &[u8]) -> Vec<u8> {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let _ = s.write_all(input).await;
    let _ = s.shutdown().await;
    let mut out = Vec::new();
    // The server answers and closes (QUIT, EOF or an error), well within the bound.
    tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out))
        .await
        .expect("session hung")
        .ok();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn noise_then_a_real_session() {
    let dir = tempfile::tempdir().unwrap();
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let limits = Limits {
        max_message_bytes: 4096,
        timeout: Duration::from_secs(2),
        ..Limits::default()
    };
    tokio::spawn(herald_inbound::serve(
        l,
        Arc::new(Capture::new(dir.path().into()).unwrap()),
        limits,
        std::future::pending(),
    ));

    let mut n = Noise::new(7);
    for i in 0..300 {
        let mut input = n.bytes(400);
        if i % 3 == 0 {
            // Noise after a valid start reaches the later states too.
            let mut start =
                b"EHLO x\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\nDATA\r\n".to_vec();
            start.append(&mut input);
            input = start;
        }
        let out = exchange(addr, &input).await;
        assert!(
            out.starts_with(b"220 "),
            "no greeting: {:?}",
            String::from_utf8_lossy(&out)
        );
    }

    let out = exchange(addr, b"EHLO me\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<bob@x.test>\r\nDATA\r\nSubject: hi\r\n\r\nbody\r\n.\r\nQUIT\r\n").await;
    let text = String::from_utf8_lossy(&out);
    assert!(text.contains("250 2.0.0 Ok: queued as"), "{text}");
    assert!(text.ends_with("221 2.0.0 Bye\r\n"), "{text}");

    let too_big = format!(
        "EHLO me\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<bob@x.test>\r\nDATA\r\n{}\r\n.\r\nQUIT\r\n",
        "x".repeat(10_000)
    );
    let text = String::from_utf8_lossy(&exchange(addr, too_big.as_bytes()).await).into_owned();
    assert!(text.contains("552 5.3.4"), "{text}");
}
