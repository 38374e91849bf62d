//! The public face, attacked as a stranger would on loopback, through the real binary
//! (`herald serve --sandbox`): a login flood (memory stays bounded, the answer is 429 with
//! Retry-After, the open pixel keeps answering), half-sent request headers (closed at the
//! header timeout; other clients are served meanwhile), a viewer posting a CSV upload and every
//! other UI write (403, nothing changes), redirects after login that leave the site, forged
//! page messages, the security headers, and a domain name that is a path.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use common::{
    Herald, Serve, free_port, hidden, http, login_form, post_login, serve_sandbox, session_cookie,
    wait_for,
};

/// The peak resident memory of a process, in MB (VmHWM).
fn peak_rss_mb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .unwrap()
        / 1024
}

/// One GET of the open pixel from 127.0.0.2 (another client than the attacker's 127.0.0.1):
/// the status and how long the answer took.
fn pixel(port: u16) -> (u16, Duration) {
    let started = Instant::now();
    // std cannot bind a client socket to an address before connecting: tokio's can.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let status = rt.block_on(async {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let s = tokio::net::TcpSocket::new_v4().unwrap();
        s.bind(SocketAddr::from(([127, 0, 0, 2], 0))).unwrap();
        let mut c = s
            .connect(SocketAddr::from(([127, 0, 0, 1], port)))
            .await
            .unwrap();
        c.write_all(b"GET /t/o/not-a-token HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut out = Vec::new();
        tokio::time::timeout(Duration::from_secs(10), c.read_to_end(&mut out))
            .await
            .unwrap()
            .unwrap();
        String::from_utf8_lossy(&out)
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0)
    });
    (status, started.elapsed())
}

fn start(tmp: &std::path::Path, extra: &[(&str, &str)]) -> (Herald, Serve, u16) {
    let port = free_port();
    let mut h = Herald::new(&tmp.join("data")).web_only(port);
    for (k, v) in extra {
        h = h.env(k, v);
    }
    let pw = tmp.join("pw");
    std::fs::write(&pw, "correct horse battery\n").unwrap();
    for (user, role) in [
        ("admin@herald.test", "admin"),
        ("viewer@herald.test", "viewer"),
    ] {
        h.ok(&[
            "user",
            "add",
            user,
            "--password-file",
            pw.to_str().unwrap(),
            "--role",
            role,
        ]);
    }
    let serve = serve_sandbox(&h, port);
    (h, serve, port)
}

#[test]
fn a_login_flood_is_bounded_and_the_pixel_keeps_answering() {
    let tmp = tempfile::tempdir().unwrap();
    // The per-address backoff is raised so that every guess reaches the password check: the
    // check's own bound (one per CPU, a short queue, then 429) is what is under test.
    let (_h, serve, port) = start(
        tmp.path(),
        &[("HERALD__HTTP__LOGIN_FAILURES_PER_IP", "1000000")],
    );
    let pid = serve.0.id();
    let before = peak_rss_mb(pid);
    let csrf = login_form(port);
    let (flood_done, pixels) = std::thread::scope(|s| {
        let mut guessers = Vec::new();
        for i in 0..128 {
            let csrf = csrf.clone();
            guessers.push(s.spawn(move || {
                (0..3)
                    .map(|_| {
                        let r =
                            post_login(port, &csrf, &format!("who{i}@herald.test"), "guess", "/");
                        (r.status, r.header("retry-after").map(str::to_string))
                    })
                    .collect::<Vec<_>>()
            }));
        }
        // The pixel, from another address, while the flood runs.
        let mut pixels = Vec::new();
        for _ in 0..10 {
            pixels.push(pixel(port));
            std::thread::sleep(Duration::from_millis(100));
        }
        let answers: Vec<_> = guessers
            .into_iter()
            .flat_map(|g| g.join().unwrap())
            .collect();
        (answers, pixels)
    });
    // 401: checked and wrong; 429: refused before hashing; 503: over the per-address
    // connection cap (128 guessers from one address), refused before reading the request.
    let refused = flood_done.iter().filter(|(s, _)| *s == 429).count();
    let wrong = flood_done.iter().filter(|(s, _)| *s == 401).count();
    let busy = flood_done.iter().filter(|(s, _)| *s == 503).count();
    assert_eq!(refused + wrong + busy, flood_done.len(), "{flood_done:?}");
    assert!(refused > 0, "no login was refused under the flood");
    assert!(
        flood_done
            .iter()
            .filter(|(s, _)| *s == 429 || *s == 503)
            .all(|(_, ra)| ra.as_deref().is_some_and(|v| v.parse::<u64>().is_ok())),
        "429 without Retry-After"
    );
    assert!(pixels.iter().all(|(s, _)| *s == 404), "{pixels:?}");
    let peak = peak_rss_mb(pid);
    let slowest = pixels.iter().map(|(_, t)| *t).max().unwrap();
    println!(
        "login flood: 384 guesses, {wrong} checked (401), {refused} refused (429), {busy} over the connection cap (503); \
         peak RSS {before} MB -> {peak} MB; slowest pixel answer {slowest:?}"
    );
    assert!(peak < 300, "peak RSS {peak} MB under the login flood");

    // One account guessed at: after five failures it must wait (429 with Retry-After), even
    // with the right password, and other accounts are not affected.
    let csrf = login_form(port);
    for _ in 0..4 {
        assert_eq!(
            post_login(port, &csrf, "admin@herald.test", "nope", "/").status,
            401
        );
    }
    let r = post_login(port, &csrf, "admin@herald.test", "nope", "/");
    assert_eq!(r.status, 429);
    assert!(r.header("retry-after").is_some());
    let r = post_login(
        port,
        &csrf,
        "admin@herald.test",
        "correct+horse+battery",
        "/",
    );
    assert_eq!(r.status, 429, "blocked accounts are not checked at all");
    let r = post_login(
        port,
        &csrf,
        "viewer@herald.test",
        "correct+horse+battery",
        "/",
    );
    assert_eq!(r.status, 303, "{}", r.body);
}

#[test]
fn half_sent_headers_are_closed_and_others_are_served() {
    let tmp = tempfile::tempdir().unwrap();
    let (_h, _serve, port) = start(tmp.path(), &[("HERALD__HTTP__HEADER_TIMEOUT", "2s")]);
    let started = Instant::now();
    let mut slow = Vec::new();
    for _ in 0..300 {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let _ = s.write_all(b"GET /t/o/x HTTP/1.1\r\nHost: x\r\nX-Slow: ");
        slow.push(s);
    }
    // Another client is served while they hang.
    let (status, took) = pixel(port);
    assert_eq!(status, 404);
    // Every one of them is closed by the server: past the per-address cap at once (503), the
    // rest at the header timeout.
    let mut busy = 0;
    for s in &mut slow {
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        if out.starts_with(b"HTTP/1.1 503") {
            busy += 1;
        }
    }
    let all_closed = started.elapsed();
    assert!(busy > 0, "the per-address cap never answered 503");
    println!(
        "300 half-sent requests: {busy} refused at once, all closed after {all_closed:?}; \
         the pixel answered in {took:?} meanwhile"
    );
}

#[test]
fn viewers_cannot_write_and_pages_cannot_be_made_to_lie() {
    let tmp = tempfile::tempdir().unwrap();
    let (h, _serve, port) = start(tmp.path(), &[]);
    let cookie = session_cookie(port, "viewer@herald.test");
    let page = http(port, "GET", "/contacts", &[("Cookie", &cookie)], None);
    assert_eq!(page.status, 200);
    let token = hidden(&page.body, "csrf");

    // The CSV upload, with a valid CSRF token: refused by role, nothing imported.
    let boundary = "XyZ";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{token}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"list\"\r\n\r\nl\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"c.csv\"\r\n\
         Content-Type: text/csv\r\n\r\nemail,first_name\r\nmallory@example.com,M\r\n\r\n--{boundary}--\r\n"
    );
    let ct = format!("multipart/form-data; boundary={boundary}");
    let r = http(
        port,
        "POST",
        "/contacts/import",
        &[("Cookie", &cookie), ("Content-Type", &ct)],
        Some(&body),
    );
    assert_eq!(r.status, 403, "{}", r.body);
    let admin_token = h
        .ok(&[
            "token",
            "create",
            "--user",
            "admin@herald.test",
            "--name",
            "t",
        ])
        .trim()
        .to_string();
    let bearer = format!("Bearer {admin_token}");
    let found = http(
        port,
        "GET",
        "/api/v1/contacts?q=mallory",
        &[("Authorization", &bearer)],
        None,
    );
    assert_eq!(found.status, 200);
    assert!(!found.body.contains("mallory@"), "imported: {}", found.body);
    // Every other write of the UI, the same.
    let form = format!("csrf={token}&email=x%40example.com&to=x%40example.com");
    for path in [
        "/suppressions",
        "/suppressions/remove",
        "/campaigns",
        "/campaigns/1/send",
        "/campaigns/1/test",
        "/domains/example.com/verify",
    ] {
        let r = http(
            port,
            "POST",
            path,
            &[
                ("Cookie", &cookie),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            Some(&form),
        );
        assert_eq!(r.status, 403, "{path}: {}", r.body);
    }

    // After login, only a plain local path: tabs, vertical tabs and backslashes mean home.
    for next in [
        "%2F%09%2Fevil.example%2F",
        "%2F%0B%2Fevil.example",
        "%2F%5Cevil.example",
        "%2F%2Fevil.example",
    ] {
        let csrf = login_form(port);
        let r = post_login(
            port,
            &csrf,
            "viewer@herald.test",
            "correct+horse+battery",
            next,
        );
        assert_eq!(r.status, 303, "{next}: {}", r.body);
        assert_eq!(r.header("location"), Some("/"), "{next}");
    }

    // Security headers on pages; messages only from Herald itself.
    let page = http(port, "GET", "/login?notice=You+won", &[], None);
    let csp = page.header("content-security-policy").unwrap_or("");
    assert!(
        csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert_eq!(page.header("x-frame-options"), Some("DENY"));
    assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
    assert!(page.header("referrer-policy").is_some());
    assert!(!page.body.contains("<script>"), "an inline script");
    for path in [
        "/suppressions?message=Your+account+is+closed",
        "/suppressions?flash=bm9wZQ.AAAAAAAAAAAAAAAAAAAAAA",
    ] {
        let r = http(port, "GET", path, &[("Cookie", &cookie)], None);
        assert_eq!(r.status, 200);
        assert!(
            !r.body.contains("suppression-message"),
            "{path}: {}",
            r.body
        );
    }
    let js = http(port, "GET", "/static/herald.js", &[], None);
    assert_eq!(js.status, 200);
    assert!(js.body.contains("preview"));

    // A domain that is a path never reaches the file system.
    for path in [
        "/api/v1/domains/..%2F..%2Fpt/verify",
        "/api/v1/domains/..%2F..%2F..%2Fetc/verify",
        "/api/v1/domains/%2E%2E/verify",
    ] {
        let r = http(port, "POST", path, &[("Authorization", &bearer)], Some(""));
        assert_eq!(r.status, 404, "{path}: {}", r.body);
    }
}

#[test]
fn secrets_are_owner_only_and_passwords_never_print() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let h = Herald::new(&data);
    h.ok(&["init"]);
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&data.join("herald.toml")), 0o600);
    if std::env::var("HERALD_TEST_BACKEND").as_deref() != Ok("postgres") {
        assert_eq!(mode(&data.join("herald.db")), 0o600);
    }
    // A PostgreSQL password in a failing URL is not repeated in the error.
    let out = Herald::new(&tmp.path().join("other"))
        .env(
            "HERALD__DATABASE__URL",
            "postgres://herald:hunter2-secret@127.0.0.1:1/herald",
        )
        .run(&["suppressions", "list"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("herald:***@127.0.0.1"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
}

#[test]
fn credentials_can_be_listed_expired_revoked_and_removed() {
    let tmp = tempfile::tempdir().unwrap();
    let (h, _serve, port) = start(tmp.path(), &[]);
    let api = |token: &str| {
        http(
            port,
            "GET",
            "/api/v1/campaigns",
            &[("Authorization", &format!("Bearer {token}"))],
            None,
        )
        .status
    };
    let created = h.json(&[
        "token",
        "create",
        "--user",
        "viewer@herald.test",
        "--name",
        "ci",
        "--json",
    ]);
    let ci = created["token"].as_str().unwrap().to_string();
    assert_eq!(created["expires_at"], serde_json::Value::Null);
    let short = h.json(&[
        "token",
        "create",
        "--user",
        "viewer@herald.test",
        "--name",
        "short",
        "--expires",
        "1s",
        "--json",
    ]);
    let short = short["token"].as_str().unwrap().to_string();
    assert_eq!(api(&ci), 200);
    let listed = h.json(&["token", "list", "--json"]);
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["ci", "short"], "{listed:#}");
    assert!(!listed.to_string().contains(&ci), "a secret was listed");
    wait_for("the short token to expire", Duration::from_secs(10), || {
        (api(&short) == 401).then_some(())
    });
    assert_eq!(api(&ci), 200);

    // Revoked: at once.
    let revoke = [
        "token",
        "revoke",
        "--user",
        "viewer@herald.test",
        "--name",
        "ci",
    ];
    h.ok(&revoke);
    assert_eq!(api(&ci), 401);
    assert_eq!(
        h.run(&revoke).status.code(),
        Some(2),
        "nothing left to revoke"
    );

    // A password reset ends the user's sessions.
    let cookie = session_cookie(port, "viewer@herald.test");
    assert_eq!(
        http(port, "GET", "/", &[("Cookie", &cookie)], None).status,
        200
    );
    let pw = tmp.path().join("pw2");
    std::fs::write(&pw, "another long password\n").unwrap();
    h.ok(&[
        "user",
        "add",
        "viewer@herald.test",
        "--password-file",
        pw.to_str().unwrap(),
        "--role",
        "viewer",
    ]);
    assert_eq!(
        http(port, "GET", "/", &[("Cookie", &cookie)], None).status,
        303
    );

    // Removed: its tokens stop working; the last admin cannot be removed.
    let t = h.json(&[
        "token",
        "create",
        "--user",
        "viewer@herald.test",
        "--name",
        "x",
        "--json",
    ]);
    h.ok(&["user", "remove", "viewer@herald.test"]);
    assert_eq!(api(t["token"].as_str().unwrap()), 401);
    let users = h.json(&["user", "list", "--json"]);
    assert_eq!(users.as_array().unwrap().len(), 1, "{users:#}");
    let last = h.run(&["user", "remove", "admin@herald.test"]);
    assert_eq!(last.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&last.stderr).contains("last admin"));
}

#[test]
fn init_creates_the_admin_login_once() {
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let h = Herald::new(&tmp.path().join("data")).web_only(port);
    let first = h.json(&["init", "--json"]);
    assert_eq!(first["url"], format!("http://127.0.0.1:{port}/login"));
    assert_eq!(first["admin"]["email"], "admin@herald.local");
    let password = first["admin"]["password"].as_str().unwrap().to_string();
    assert!(password.len() >= 20, "{password}");
    // Run again: nothing new, nothing reset.
    let again = h.json(&["init", "--json"]);
    assert_eq!(again["admin"], serde_json::Value::Null);
    // The printed login works.
    let _serve = serve_sandbox(&h, port);
    let csrf = login_form(port);
    let r = post_login(port, &csrf, "admin@herald.local", &password, "/");
    assert_eq!(r.status, 303, "{}", r.body);
    // Text output names the login, the password and the URL.
    let other = Herald::new(&tmp.path().join("other"));
    let text = other.ok(&["init", "--admin", "boss@example.com"]);
    assert!(text.contains("admin login: boss@example.com"), "{text}");
    assert!(text.contains("password:"), "{text}");
    assert!(text.contains("/login"), "{text}");
}
