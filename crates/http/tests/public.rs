//! The public endpoints face anyone: huge or malformed tokens, giant parameters, odd agents and
//! forwarded addresses, floods of garbage. Every answer is a clean status, the server keeps
//! serving, and a valid request still works afterwards.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use herald_engine::feedback::engagement::Rules;
use herald_http::public::{IpPolicy, Public, router, writer};
use herald_mail::tracking::{Keyset, TokenKind, TrackingKey, encode_url};
use herald_testkit::noise::Noise;
use herald_testkit::test_store;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Send `request` and read until the server closes (`half_close`: end our side first, as a
/// client that sent garbage and left).
async fn raw_with(addr: SocketAddr, request: &[u8], half_close: bool) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let _ = s.write_all(request).await;
    if half_close {
        let _ = s.shutdown().await;
    }
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

async fn raw(addr: SocketAddr, request: &[u8]) -> String {
    raw_with(addr, request, false).await
}

fn status(reply: &str) -> u16 {
    reply
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

async fn get(addr: SocketAddr, path: &str, extra: &str) -> String {
    raw(
        addr,
        format!("GET {path} HTTP/1.1\r\nHost: x\r\n{extra}Connection: close\r\n\r\n").as_bytes(),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_requests_get_clean_answers() {
    let t = test_store().await;
    let keys = Arc::new(Keyset::new(vec![TrackingKey::new(1, &[5u8; 32], None)]).unwrap());
    let (events, drained) = writer::start(t.store.clone());
    let state = Arc::new(Public::new(
        t.store.clone(),
        keys.clone(),
        Rules::default(),
        IpPolicy::Anonymized,
        herald_http::ClientIp {
            trust_forwarded: true,
            trusted_proxies: Vec::new(),
        },
        events,
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    // Garbage parsing is under test here, not the per-address cap: the flood below comes
    // from one address.
    let limits = herald_http::ServerLimits {
        max_connections_per_ip: 0,
        ..herald_http::ServerLimits::default()
    };
    let server = tokio::spawn(herald_http::serve(listener, router(state), limits, async {
        let _ = stopped.await;
    }));

    let open = format!("/t/o/{}", keys.sign(TokenKind::Open, 1, 0, ""));
    let url = "https://a.example/x";
    let click = format!(
        "/t/c/{}?u={}",
        keys.sign(TokenKind::Click, 1, 0, url),
        encode_url(url)
    );
    assert_eq!(status(&get(addr, &open, "User-Agent: x\r\n").await), 200);

    // Oversized and malformed tokens and parameters: 4xx, never a redirect.
    for path in [
        format!("/t/o/{}", "A".repeat(20_000)),
        format!("{click}{}", "A".repeat(60_000)),
        format!("{}?u={}", click.split('?').next().unwrap(), "%%%%"),
        click.split('?').next().unwrap().to_string(),
        "/t/o/%00%ff%fe".to_string(),
        "/t/c/../../etc/passwd".to_string(),
        "/u/".to_string(),
        "/nothing/here".to_string(),
    ] {
        let reply = get(addr, &path, "").await;
        let code = status(&reply);
        assert!(
            (400..500).contains(&code),
            "{path:.80}: {code} {reply:.200}"
        );
        assert!(
            !reply.to_ascii_lowercase().contains("location:"),
            "{path:.80}"
        );
    }

    // Odd agents and forwarded addresses (IPv6, mapped, garbage) still get the pixel.
    // Control characters in a header: hyper's clean 400.
    assert_eq!(
        status(&get(addr, &open, "User-Agent: \u{1}\u{7f}weird\r\n").await),
        400
    );
    for extra in [
        "User-Agent: Mozilla/5.0 (Ünïcode; 漢字)\r\n",
        "User-Agent: Mozilla/5.0\r\nX-Forwarded-For: ::ffff:17.1.2.3\r\n",
        "X-Forwarded-For: 2001:db8::1, 10.0.0.1\r\n",
        "X-Forwarded-For: [not-an-ip]\r\n",
        &format!("User-Agent: {}\r\n", "U".repeat(10_000)),
    ] {
        let reply = get(addr, &open, extra).await;
        assert_eq!(status(&reply), 200, "{extra:.60}: {reply:.200}");
    }
    assert_eq!(status(&get(addr, &click, "User-Agent: x\r\n").await), 302);

    // A flood of garbage over many connections.
    let mut noise = Noise::new(11);
    let mut floods = Vec::new();
    for _ in 0..200 {
        let bytes = noise.bytes(2000);
        floods.push(tokio::spawn(
            async move { raw_with(addr, &bytes, true).await },
        ));
    }
    for f in floods {
        let reply = f.await.unwrap();
        if !reply.is_empty() {
            assert!(reply.starts_with("HTTP/1.1 4"), "{reply:.100}");
        }
    }
    // Still serving.
    assert_eq!(status(&get(addr, &open, "User-Agent: x\r\n").await), 200);

    drop(stop);
    server.await.unwrap().unwrap();
    // Events of deliveries that do not exist are dropped, not an error; the writer drained.
    assert_eq!(drained.await.unwrap(), 0);
}
