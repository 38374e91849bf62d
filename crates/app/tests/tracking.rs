//! Tracking end to end: a campaign goes into the recipient world, the delivered message is read
//! from the Maildir, and its real pixel, links and unsubscribe URL are followed over HTTP —
//! as a person, as a scanner, and with tampered tokens. The report shows the events with their
//! verdicts, one-click unsubscribe suppresses at once, a GET never does, links survive a
//! restart and a key rotation, and the mailto unsubscribe reaches the inbound listener.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::{Herald, delivered, free_port, recipient, world_env};

const SAFARI: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15";

struct Serve(Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_for<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(30) {
        if let Some(v) = f() {
            return v;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("timed out waiting for {what}")
}

struct Reply {
    status: u16,
    headers: String,
    body: String,
}

/// One HTTP/1.1 request over a fresh connection (the server is Herald's; no TLS here).
fn http(port: u16, method: &str, path_and_query: &str, ua: &str, body: Option<&str>) -> Reply {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut req = format!(
        "{method} {path_and_query} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: {ua}\r\nConnection: close\r\n"
    );
    if let Some(b) = body {
        req.push_str(&format!(
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
            b.len()
        ));
    }
    req.push_str("\r\n");
    req.push_str(body.unwrap_or(""));
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    Reply {
        status,
        headers: head.to_ascii_lowercase(),
        body: body.to_string(),
    }
}

/// Every `href` and `src` value in the HTML.
fn urls(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for attr in ["href=\"", "src=\""] {
        let mut rest = html;
        while let Some(i) = rest.find(attr) {
            rest = &rest[i + attr.len()..];
            if let Some(end) = rest.find('"') {
                out.push(rest[..end].replace("&amp;", "&"));
                rest = &rest[end..];
            }
        }
    }
    out
}

fn path_of(url: &str, port: u16) -> String {
    url.strip_prefix(&format!("http://127.0.0.1:{port}"))
        .unwrap_or_else(|| panic!("{url} does not point at Herald"))
        .to_string()
}

#[test]
fn links_in_a_delivered_message_track_honestly_and_unsubscribe_in_one_click() {
    let w = world_env();
    let port = free_port();
    let inbound_port = "12527";
    let tmp = tempfile::tempdir().unwrap();
    let h = Herald::new(&tmp.path().join("data"))
        .env(
            "HERALD__DNS__NAMESERVERS",
            &format!("[\"{}\"]", w["WORLD_DNS"]),
        )
        .env("HERALD__DELIVERY__MX_PORT", &w["WORLD_MX_PORT"])
        .env("HERALD__DELIVERY__HELO_NAME", "world-sender.test")
        .env("HERALD__HTTP__LISTEN", &format!("127.0.0.1:{port}"))
        .env(
            "HERALD__HTTP__PUBLIC_URL",
            &format!("http://127.0.0.1:{port}"),
        )
        .env(
            "HERALD__INBOUND__LISTEN",
            &format!("127.0.0.1:{inbound_port}"),
        )
        .env(
            "HERALD__INBOUND__RETURN_PATH_DOMAIN",
            "bounces.world-sender.test",
        )
        .env("HERALD__TRACKING__MIN_CLICK_DELAY", "0s")
        .env("HERALD__TRACKING__MIN_OPEN_DELAY", "0s")
        .env("HERALD__TRACKING__IP", "full");
    let csv = tmp.path().join("c.csv");
    std::fs::write(
        &csv,
        "email,first_name\ncarol@inbox.test,Carol\ndave@inbox.test,Dave\n",
    )
    .unwrap();
    let html = tmp.path().join("b.html");
    std::fs::write(
        &html,
        "<html><body><p>Hi {{ contact.first_name }}</p>\
         <p><a href=\"https://shop.example/sale?a=1&amp;b=2\">Sale</a> \
         <a href=\"https://example.org/news\">News</a> \
         <a href=\"mailto:help@example.org\">Help</a></p>\
         <p><a href=\"{{ unsubscribe_url }}\">Unsubscribe</a></p></body></html>",
    )
    .unwrap();
    h.ok(&["contacts", "import", csv.to_str().unwrap(), "--list", "t"]);
    let id = h.json(&[
        "campaign",
        "create",
        "--name",
        "Track",
        "--list",
        "t",
        "--from",
        "News <news@world-sender.test>",
        "--subject",
        "Tracked",
        "--html",
        html.to_str().unwrap(),
        "--allow-unverified",
        "--json",
    ])["id"]
        .as_str()
        .unwrap()
        .to_string();
    let start_serve = || {
        Serve(
            h.command(&["serve"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        )
    };
    let serve = start_serve();
    wait_for("the HTTP server", || {
        TcpStream::connect(("127.0.0.1", port)).ok()
    });
    let report = h.json(&["campaign", "send", &id, "--wait", "--json"]);
    let carol = recipient(&report, "carol@inbox.test");
    assert_eq!(carol["state"], "delivered", "{report:#}");

    // What Carol's mailbox really holds.
    let raw = delivered(
        Path::new(&w["WORLD_MAIL"]),
        "inbox.test/carol",
        carol["message_id"].as_str().unwrap(),
    );
    let msg = mail_parser::MessageParser::new().parse(&raw).unwrap();
    let body = msg.body_html(0).unwrap().into_owned();
    let lu = msg.header_raw("List-Unsubscribe").unwrap().to_string();
    assert!(
        lu.contains(&format!("<http://127.0.0.1:{port}/u/"))
            && lu.contains("<mailto:u+")
            && lu.contains("@bounces.world-sender.test?subject=unsubscribe>"),
        "{lu}"
    );
    assert_eq!(
        msg.header_raw("List-Unsubscribe-Post").map(str::trim),
        Some("List-Unsubscribe=One-Click")
    );
    let all = urls(&body);
    let clicks: Vec<&String> = all.iter().filter(|u| u.contains("/t/c/")).collect();
    let pixel = all
        .iter()
        .find(|u| u.contains("/t/o/"))
        .expect("an open pixel");
    let unsub = all
        .iter()
        .find(|u| u.contains("/u/"))
        .expect("the unsubscribe link");
    assert_eq!(clicks.len(), 2, "both web links tracked: {all:?}");
    assert!(
        all.contains(&"mailto:help@example.org".to_string()),
        "mailto untouched: {all:?}"
    );
    assert!(
        !body.contains("https://shop.example"),
        "no raw tracked link left: {body}"
    );

    // A person opens and clicks.
    let r = http(port, "GET", &path_of(pixel, port), SAFARI, None);
    assert_eq!(r.status, 200);
    assert!(
        r.headers.contains("content-type: image/gif"),
        "{}",
        r.headers
    );
    let r = http(port, "GET", &path_of(clicks[0], port), SAFARI, None);
    assert_eq!(r.status, 302);
    assert!(
        r.headers
            .contains("location: https://shop.example/sale?a=1&b=2"),
        "{}",
        r.headers
    );
    // A scanner checks the other link with HEAD; a script fetches it.
    assert_eq!(
        http(port, "HEAD", &path_of(clicks[1], port), SAFARI, None).status,
        302
    );
    // Tampered: another URL under the same token, a changed token, garbage — 404, no redirect.
    let tampered_url = format!(
        "{}?u={}",
        path_of(clicks[0], port).split('?').next().unwrap(),
        herald_mail_encode("https://evil.example/")
    );
    for bad in [
        tampered_url,
        path_of(clicks[0], port)
            .replacen("/t/c/A", "/t/c/B", 1)
            .replacen("/t/c/B", "/t/c/C", 1),
        "/t/c/AAAA?u=aHR0cHM6Ly9ldmlsLmV4YW1wbGUv".to_string(),
        format!("/t/o/{}", "A".repeat(5000)),
        "/u/not-a-token".to_string(),
    ] {
        let r = http(port, "GET", &bad, SAFARI, None);
        assert_eq!(r.status, 404, "{bad}");
        assert!(!r.headers.contains("location:"), "{bad}: {}", r.headers);
    }

    // The unsubscribe page: a GET shows a button and unsubscribes nobody.
    let r = http(port, "GET", &path_of(unsub, port), SAFARI, None);
    assert_eq!(r.status, 200);
    assert!(r.body.contains("<form method=\"post\""), "{}", r.body);
    assert_eq!(
        h.json(&["suppressions", "list", "--json"]),
        serde_json::json!([])
    );
    // RFC 8058 one-click: a POST with List-Unsubscribe=One-Click, honoured at once.
    let r = http(
        port,
        "POST",
        &path_of(unsub, port),
        "Mozilla/5.0 (compatible; one-click)",
        Some("List-Unsubscribe=One-Click"),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let list = h.json(&["suppressions", "list", "--json"]);
    assert_eq!(list[0]["email"], "carol@inbox.test", "{list:#}");
    assert_eq!(list[0]["reason"], "unsubscribed", "{list:#}");

    let report = wait_for("the events in the report", || {
        let r = h.json(&["campaign", "report", &id, "--recipients", "--json"]);
        let c = &r["counts"];
        (c["opened"] == 1
            && c["clicked"] == 1
            && c["machine_clicked"] == 1
            && c["unsubscribed"] == 1)
            .then_some(r)
    });
    let carol = recipient(&report, "carol@inbox.test");
    let events = carol["events"].as_array().unwrap();
    let kinds: Vec<(&str, &str)> = events
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap(),
                e["detail"]["verdict"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert!(kinds.contains(&("open", "human")), "{events:#?}");
    assert!(kinds.contains(&("click", "human")), "{events:#?}");
    assert!(kinds.contains(&("click", "machine")), "{events:#?}");
    assert!(kinds.contains(&("unsubscribe", "human")), "{events:#?}");
    let machine = events
        .iter()
        .find(|e| e["detail"]["verdict"] == "machine")
        .unwrap();
    assert_eq!(machine["detail"]["reason"], "head_request", "{machine:#}");
    assert_eq!(machine["detail"]["url"], "https://example.org/news");

    // Links survive a restart and a key rotation.
    drop(serve);
    h.ok(&["tracking", "rotate-key"]);
    let _serve = start_serve();
    wait_for("the HTTP server again", || {
        TcpStream::connect(("127.0.0.1", port)).ok()
    });
    assert_eq!(
        http(port, "GET", &path_of(pixel, port), SAFARI, None).status,
        200
    );

    // Dave unsubscribes by mail: the mailto of List-Unsubscribe reaches the inbound listener.
    let dave = recipient(&report, "dave@inbox.test");
    let raw = delivered(
        Path::new(&w["WORLD_MAIL"]),
        "inbox.test/dave",
        dave["message_id"].as_str().unwrap(),
    );
    let msg = mail_parser::MessageParser::new().parse(&raw).unwrap();
    let lu = msg.header_raw("List-Unsubscribe").unwrap().to_string();
    let mailto = lu
        .split("<mailto:")
        .nth(1)
        .and_then(|r| r.split('?').next())
        .unwrap()
        .to_string();
    wait_for("the inbound listener", || {
        TcpStream::connect(format!("127.0.0.1:{inbound_port}")).ok()
    });
    let mail = tmp.path().join("unsub.eml");
    std::fs::write(&mail, "Subject: unsubscribe\r\n\r\nunsubscribe\r\n").unwrap();
    let out = std::process::Command::new("swaks")
        .args([
            "--server",
            &format!("127.0.0.1:{inbound_port}"),
            "--to",
            &mailto,
        ])
        .args(["--from", "dave@inbox.test", "--data"])
        .arg(&mail)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    wait_for("dave's mailto unsubscribe", || {
        let list = h.json(&["suppressions", "list", "--json"]);
        list.as_array()
            .unwrap()
            .iter()
            .any(|s| s["email"] == "dave@inbox.test" && s["reason"] == "unsubscribed")
            .then_some(())
    });
}

/// The `u` parameter encoding (URL-safe base64 without padding), written out here so the test
/// does not trust the code under test to build its own attack.
fn herald_mail_encode(url: &str) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let b = url.as_bytes();
    let mut out = String::new();
    for chunk in b.chunks(3) {
        let n = chunk.iter().fold(0u32, |n, &x| (n << 8) | x as u32) << (8 * (3 - chunk.len()));
        for i in 0..=chunk.len() {
            out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}
