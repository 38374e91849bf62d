//! Outbound webhooks through the real binary: a receiver on loopback sees each event once with a
//! valid signature, across a SIGKILL of `herald serve` while the receiver was failing; several
//! nodes on one PostgreSQL database post each event once; events given up on are replayed; the
//! API manages endpoints with the admin role.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Herald, free_port, http, wait_for};

/// One post the receiver took, with the status it answered.
#[derive(Clone, Debug)]
struct Post {
    headers: HashMap<String, String>,
    body: Vec<u8>,
    answered: u16,
}

impl Post {
    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// An HTTP/1.1 endpoint on loopback (keep-alive, one thread per connection) that records every
/// POST and answers `status` (set it to 503 to play an endpoint that is down).
struct Receiver {
    port: u16,
    posts: Arc<Mutex<Vec<Post>>>,
    status: Arc<AtomicU16>,
}

impl Receiver {
    fn start(status: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let posts = Arc::new(Mutex::new(Vec::new()));
        let status = Arc::new(AtomicU16::new(status));
        let (p, s) = (posts.clone(), status.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let (p, s) = (p.clone(), s.clone());
                std::thread::spawn(move || {
                    let _ = serve_connection(conn, &p, &s);
                });
            }
        });
        Self {
            port,
            posts,
            status,
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hook", self.port)
    }

    fn posts(&self) -> Vec<Post> {
        self.posts.lock().unwrap().clone()
    }

    /// The posts answered 2xx, by event id.
    fn accepted(&self) -> HashMap<String, Vec<Post>> {
        let mut by_id: HashMap<String, Vec<Post>> = HashMap::new();
        for p in self.posts().into_iter().filter(|p| p.answered == 200) {
            by_id
                .entry(p.json()["id"].as_str().unwrap().to_string())
                .or_default()
                .push(p);
        }
        by_id
    }
}

fn serve_connection(
    conn: std::net::TcpStream,
    posts: &Mutex<Vec<Post>>,
    status: &AtomicU16,
) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(120)))?;
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut out = conn;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let mut headers = HashMap::new();
        loop {
            let mut h = String::new();
            reader.read_line(&mut h)?;
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
            }
        }
        let len: usize = headers
            .get("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; len];
        reader.read_exact(&mut body)?;
        let answered = status.load(Ordering::SeqCst);
        posts.lock().unwrap().push(Post {
            headers,
            body,
            answered,
        });
        write!(
            out,
            "HTTP/1.1 {answered} X\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"
        )?;
        out.flush()?;
    }
}

fn import(h: &Herald, dir: &std::path::Path, n: usize) -> Vec<String> {
    let emails: Vec<String> = (0..n).map(|i| format!("person{i}@inbox.test")).collect();
    let csv = dir.join("contacts.csv");
    std::fs::write(&csv, format!("email\n{}\n", emails.join("\n"))).unwrap();
    h.ok(&[
        "contacts",
        "import",
        csv.to_str().unwrap(),
        "--list",
        "club",
    ]);
    emails
}

fn add_webhook(h: &Herald, url: &str, events: &str) -> (i64, String) {
    let e = h.json(&["webhooks", "add", url, "--events", events, "--json"]);
    (
        e["id"].as_i64().unwrap(),
        e["secret"].as_str().unwrap().to_string(),
    )
}

/// Every post's signature checks out with `secret`, within five minutes of now.
fn assert_signed(posts: &[Post], secret: &str) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    for p in posts {
        let sig = p
            .headers
            .get("herald-signature")
            .expect("a Herald-Signature header");
        herald_mail::webhook_signature::verify(secret, sig, &p.body, now, 300)
            .unwrap_or_else(|e| panic!("{e}: {sig} over {}", String::from_utf8_lossy(&p.body)));
        assert_eq!(
            p.headers.get("herald-event-id").map(String::as_str),
            p.json()["id"].as_str()
        );
        assert_eq!(
            p.headers.get("content-type").map(String::as_str),
            Some("application/json")
        );
    }
}

#[test]
fn each_event_once_signed_across_a_kill_while_the_receiver_was_down() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let port = free_port();
    let h = Herald::new(&data)
        .web_only(port)
        .env("HERALD__WEBHOOKS__RETRY_SCHEDULE", "[\"1s\"]")
        // A batch leased when the kill lands waits out its lease (the timeouts of its posts).
        .env("HERALD__WEBHOOKS__TIMEOUT", "2s")
        .env("HERALD__TRACKING__MIN_OPEN_DELAY", "0s");
    let emails = import(&h, tmp.path(), 12);
    let receiver = Receiver::start(503);
    let (hook, secret) = add_webhook(&h, &receiver.url(), "delivered,opened");
    // A second endpoint for bounces only hears nothing of this campaign.
    let other = Receiver::start(200);
    add_webhook(&h, &other.url(), "bounced");

    let serve = common::serve_sandbox(&h, port);
    let id = common::draft(&h, tmp.path(), "club", "Winter", "Winter news", "<p>Hi</p>");
    h.ok(&["campaign", "send", &id, "--wait", "--wait-timeout", "60s"]);
    // Down: every event is posted, refused, and waits for its retry.
    wait_for(
        "a refused post of every event",
        Duration::from_secs(30),
        || {
            let ids: std::collections::HashSet<String> = receiver
                .posts()
                .iter()
                .filter(|p| p.answered == 503)
                .map(|p| p.json()["id"].as_str().unwrap().to_string())
                .collect();
            (ids.len() >= emails.len()).then_some(())
        },
    );
    // The sender records a batch's answers once all its posts are answered: wait for that too.
    let log = wait_for("every refusal recorded", Duration::from_secs(30), || {
        let log = h.json(&["webhooks", "log", &hook.to_string(), "--json"]);
        let recorded = log["events"]
            .as_array()?
            .iter()
            .filter(|e| e["last_status"] == 503)
            .count();
        (recorded >= emails.len()).then_some(log)
    });
    let events = log["events"].as_array().unwrap();
    assert_eq!(events.len(), emails.len(), "{log}");
    for e in events {
        assert_eq!(e["state"], "pending", "{e}");
        assert_eq!(e["last_status"], 503, "{e}");
        assert!(e["next_attempt_at"].is_string(), "{e}");
    }
    let listed = h.json(&["webhooks", "list", "--json"]);
    assert_eq!(listed["webhooks"][0]["last_status"], 503, "{listed}");
    assert!(listed["webhooks"][0].get("secret").is_none(), "{listed}");

    // Killed (SIGKILL) while the receiver is down; the receiver comes back; a new serve
    // posts what was left.
    drop(serve);
    receiver.status.store(200, Ordering::SeqCst);
    let _serve = common::serve_sandbox(&h, port);
    common::open_copy(
        &data,
        port,
        &emails[3],
        "Winter news",
        Some(
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15",
        ),
    );
    wait_for(
        "every delivered event and the open, accepted",
        Duration::from_secs(60),
        || (receiver.accepted().len() > emails.len()).then_some(()),
    );
    // A moment more, so a duplicate post would have arrived.
    std::thread::sleep(Duration::from_secs(3));
    let accepted = receiver.accepted();
    assert_eq!(accepted.len(), emails.len() + 1);
    for (id, posts) in &accepted {
        assert_eq!(posts.len(), 1, "{id} was accepted {} times", posts.len());
    }
    let accepted: Vec<Post> = accepted.into_values().flatten().collect();
    assert_signed(&accepted, &secret);
    let mut delivered_to: Vec<String> = Vec::new();
    for p in &accepted {
        let v = p.json();
        let d = &v["data"];
        assert_eq!(d["campaign_id"].to_string(), id, "{v}");
        assert_eq!(d["campaign"], "Winter", "{v}");
        assert!(d["message_id"].as_str().unwrap().starts_with('<'), "{v}");
        match v["type"].as_str().unwrap() {
            "delivered" => {
                assert_eq!(d["detail"]["code"], 250, "{v}");
                assert!(
                    d["detail"]["reply"].as_str().unwrap().starts_with("250"),
                    "{v}"
                );
                assert!(v["attempt"].as_u64().unwrap() >= 2, "{v}");
                delivered_to.push(d["email"].as_str().unwrap().to_string());
            }
            "opened" => {
                assert_eq!(d["email"], emails[3].as_str(), "{v}");
                assert_eq!(d["detail"]["verdict"], "human", "{v}");
            }
            other => panic!("an event of a kind not subscribed to: {other}: {v}"),
        }
    }
    delivered_to.sort();
    let mut expected = emails.clone();
    expected.sort();
    assert_eq!(delivered_to, expected);
    assert!(
        other.posts().is_empty(),
        "the bounces endpoint heard {:?}",
        other.posts()
    );
    let log = h.json(&["webhooks", "log", &hook.to_string(), "--json"]);
    for e in log["events"].as_array().unwrap() {
        assert_eq!(e["state"], "delivered", "{e}");
        assert!(e["delivered_at"].is_string(), "{e}");
    }
}

#[test]
fn events_given_up_on_are_replayed_and_the_api_needs_an_admin() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let port = free_port();
    let h = Herald::new(&data)
        .web_only(port)
        .env("HERALD__WEBHOOKS__RETRY_SCHEDULE", "[\"1s\"]")
        .env("HERALD__WEBHOOKS__EXPIRY", "2s");
    let emails = import(&h, tmp.path(), 3);
    common::add_user(&h, "admin@herald.test", "admin");
    common::add_user(&h, "viewer@herald.test", "viewer");
    let admin = common::bearer(&h, "admin@herald.test");
    let viewer = common::bearer(&h, "viewer@herald.test");
    let receiver = Receiver::start(500);

    let _serve = common::serve_sandbox(&h, port);
    let json = [("Content-Type", "application/json")];
    let body = format!(
        r#"{{"url": "{}", "events": ["delivered"], "description": "CRM"}}"#,
        receiver.url()
    );
    let as_viewer = http(
        port,
        "POST",
        "/api/v1/webhooks",
        &[json[0], ("Authorization", &viewer)],
        Some(&body),
    );
    assert_eq!(as_viewer.status, 403, "{}", as_viewer.body);
    let bad = http(
        port,
        "POST",
        "/api/v1/webhooks",
        &[json[0], ("Authorization", &admin)],
        Some(r#"{"url": "https://u:p@crm.example/hook", "events": ["delivered"]}"#),
    );
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(bad.body.contains("password"), "{}", bad.body);
    let bad = http(
        port,
        "POST",
        "/api/v1/webhooks",
        &[json[0], ("Authorization", &admin)],
        Some(r#"{"url": "https://crm.example/hook", "events": ["deliverd"]}"#),
    );
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(bad.body.contains("deliverd"), "{}", bad.body);
    let created = http(
        port,
        "POST",
        "/api/v1/webhooks",
        &[json[0], ("Authorization", &admin)],
        Some(&body),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    let created: serde_json::Value = serde_json::from_str(&created.body).unwrap();
    let hook = created["id"].as_i64().unwrap();
    let secret = created["secret"].as_str().unwrap().to_string();
    assert_eq!(created["events"], serde_json::json!(["delivered"]));
    assert_eq!(created["created_by"], "api:admin@herald.test");

    let id = common::draft(&h, tmp.path(), "club", "Spring", "Spring news", "<p>Hi</p>");
    h.ok(&["campaign", "send", &id, "--wait", "--wait-timeout", "60s"]);
    let events = format!("/api/v1/webhooks/{hook}/events");
    let failed = wait_for("the events given up on", Duration::from_secs(30), || {
        let r = http(port, "GET", &events, &[("Authorization", &admin)], None);
        let v: serde_json::Value = serde_json::from_str(&r.body).ok()?;
        let all = v["events"].as_array()?.clone();
        (all.len() == emails.len() && all.iter().all(|e| e["state"] == "failed")).then_some(all)
    });
    assert!(failed.iter().all(|e| e["last_status"] == 500), "{failed:?}");
    let refused = receiver.posts().len();
    assert!(refused >= emails.len(), "{refused} posts");

    // The receiver is fixed; one event alone, then the rest.
    receiver.status.store(200, Ordering::SeqCst);
    let one = failed[0]["id"].as_str().unwrap().to_string();
    let replay = format!("/api/v1/webhooks/{hook}/replay");
    let as_viewer = http(
        port,
        "POST",
        &replay,
        &[json[0], ("Authorization", &viewer)],
        Some(r#"{"failed": true}"#),
    );
    assert_eq!(as_viewer.status, 403);
    let r = http(
        port,
        "POST",
        &replay,
        &[json[0], ("Authorization", &admin)],
        Some(&format!(r#"{{"event": "{one}"}}"#)),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("\"replayed\":1"), "{}", r.body);
    wait_for("the replayed event", Duration::from_secs(20), || {
        receiver.accepted().contains_key(&one).then_some(())
    });
    assert_eq!(receiver.accepted().len(), 1);
    let out = h.ok(&["webhooks", "replay", &hook.to_string(), "--failed"]);
    assert!(out.contains("2 event(s)"), "{out}");
    wait_for("every event accepted", Duration::from_secs(20), || {
        (receiver.accepted().len() == emails.len()).then_some(())
    });
    let accepted: Vec<Post> = receiver.accepted().into_values().flatten().collect();
    assert_eq!(accepted.len(), emails.len());
    assert_signed(&accepted, &secret);

    let listed = http(
        port,
        "GET",
        "/api/v1/webhooks",
        &[("Authorization", &admin)],
        None,
    );
    assert_eq!(listed.status, 200);
    let listed: serde_json::Value = serde_json::from_str(&listed.body).unwrap();
    assert_eq!(
        listed["webhooks"][0]["delivered"],
        emails.len() as u64,
        "{listed}"
    );
    assert_eq!(listed["webhooks"][0]["failed"], 0, "{listed}");
    // The web UI: admins see the endpoints and add one (its secret on the answer); viewers
    // see nothing of them.
    let cookie = common::session_cookie(port, "admin@herald.test");
    let page = http(port, "GET", "/webhooks", &[("Cookie", &cookie)], None);
    assert_eq!(page.status, 200);
    assert!(page.body.contains(&receiver.url()), "{}", page.body);
    assert!(
        !page.body.contains(&secret),
        "the secret is shown once only"
    );
    let csrf = common::hidden(&page.body, "csrf");
    let form = format!(
        "csrf={csrf}&url=https%3A%2F%2Fcrm.example%2Fui&event=bounced&event=complained&description=From+the+UI"
    );
    let added = http(
        port,
        "POST",
        "/webhooks",
        &[
            ("Cookie", &cookie),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        Some(&form),
    );
    assert_eq!(added.status, 201, "{}", added.body);
    assert!(added.body.contains("whsec_"), "{}", added.body);
    assert_eq!(added.header("cache-control"), Some("no-store"));
    let listed = h.json(&["webhooks", "list", "--json"]);
    let ui = listed["webhooks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["url"] == "https://crm.example/ui")
        .unwrap();
    assert_eq!(ui["events"], serde_json::json!(["bounced", "complained"]));
    assert_eq!(ui["created_by"], "ui:admin@herald.test");
    let bad = http(
        port,
        "POST",
        "/webhooks",
        &[
            ("Cookie", &cookie),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        Some(&format!(
            "csrf={csrf}&url=ftp%3A%2F%2Fx.example&event=bounced&description=kept"
        )),
    );
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(
        bad.body.contains("https://") && bad.body.contains("value=\"kept\""),
        "{}",
        bad.body
    );
    let log = http(
        port,
        "GET",
        &format!("/webhooks/{hook}"),
        &[("Cookie", &cookie)],
        None,
    );
    assert_eq!(log.status, 200);
    assert!(log.body.contains(&one), "{}", log.body);
    let viewer_cookie = common::session_cookie(port, "viewer@herald.test");
    let denied = http(
        port,
        "GET",
        "/webhooks",
        &[("Cookie", &viewer_cookie)],
        None,
    );
    assert_eq!(denied.status, 403);
    assert!(!denied.body.contains(&receiver.url()));
    let denied = http(
        port,
        "GET",
        &format!("/webhooks/{hook}"),
        &[("Cookie", &viewer_cookie)],
        None,
    );
    assert_eq!(denied.status, 403);
    let viewer_page = http(
        port,
        "GET",
        "/segments",
        &[("Cookie", &viewer_cookie)],
        None,
    );
    let viewer_csrf = common::hidden(&viewer_page.body, "csrf");
    for (path, body) in [
        (
            "/webhooks",
            format!("csrf={viewer_csrf}&url=https%3A%2F%2Fx.example&event=all"),
        ),
        (
            "/webhooks/replay",
            format!("csrf={viewer_csrf}&id={hook}&replay=failed"),
        ),
        ("/webhooks/remove", format!("csrf={viewer_csrf}&id={hook}")),
    ] {
        let r = http(
            port,
            "POST",
            path,
            &[
                ("Cookie", &viewer_cookie),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            Some(&body),
        );
        assert_eq!(r.status, 403, "{path}: {}", r.body);
    }

    let gone = http(
        port,
        "DELETE",
        &format!("/api/v1/webhooks/{hook}"),
        &[("Authorization", &admin)],
        None,
    );
    assert_eq!(gone.status, 204);
    let out = h.run(&["webhooks", "log", &hook.to_string()]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
}

#[test]
fn two_nodes_on_one_postgresql_database_post_each_event_once() {
    let tmp = tempfile::tempdir().unwrap();
    let db = common::pg_database(&tmp.path().join("cluster"));
    let receiver = Receiver::start(200);
    let mut nodes = Vec::new();
    let mut first = None;
    for name in ["a", "b"] {
        let data = tmp.path().join(name);
        common::share_erasure_key(&data);
        let port = free_port();
        let h = Herald::new(&data)
            .web_only(port)
            .env("HERALD__DATABASE__URL", &db)
            .env("HERALD__DELIVERY__NODE_NAME", name)
            .env("HERALD__DELIVERY__CLAIM_BATCH", "50")
            // Small batches, so both nodes take some.
            .env("HERALD__WEBHOOKS__BATCH", "10")
            .env("HERALD__WEBHOOKS__MAX_IN_FLIGHT", "4");
        if first.is_none() {
            import(&h, tmp.path(), 300);
            add_webhook(&h, &receiver.url(), "all");
        }
        nodes.push(common::serve_sandbox(&h, port));
        first.get_or_insert(h);
    }
    let h = first.unwrap();
    let id = common::draft(&h, tmp.path(), "club", "Both", "For both", "<p>Hi</p>");
    h.ok(&["campaign", "send", &id, "--wait", "--wait-timeout", "120s"]);
    wait_for("300 delivered events", Duration::from_secs(60), || {
        (receiver.accepted().len() >= 300).then_some(())
    });
    std::thread::sleep(Duration::from_secs(3));
    let accepted = receiver.accepted();
    assert_eq!(accepted.len(), 300);
    let twice: Vec<&String> = accepted
        .iter()
        .filter(|(_, p)| p.len() > 1)
        .map(|(id, _)| id)
        .collect();
    assert!(twice.is_empty(), "posted more than once: {twice:?}");
    assert!(
        accepted
            .values()
            .all(|p| p[0].json()["type"] == "delivered")
    );
}
