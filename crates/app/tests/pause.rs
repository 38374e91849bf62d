//! Pause, resume and cancel (issue 19, item 3), against real `herald serve` processes sending
//! through a slow SMTP peer: a pause stops new attempts on every node within a second (those
//! in flight finish and are recorded), resume finishes with every recipient mailed exactly once,
//! and cancel leaves the rest `not_sent: cancelled`. States and counts add up throughout.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use common::{Herald, Serve, free_port, http, pg_database, wait_for};
use herald_testkit::{ScriptedPeer, start_peer};

/// A slow SMTP peer on its own runtime (the test itself is synchronous): every DATA takes
/// `delay`. Returns the peer, its address, and what keeps it running.
fn slow_peer(delay: Duration) -> (Arc<ScriptedPeer>, String, tokio::runtime::Runtime) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    let peer = Arc::new(ScriptedPeer::default());
    *peer.data_delay.lock().unwrap() = delay;
    let (addr, stop) = rt.block_on(start_peer(peer.clone()));
    // The peer stops when `stop` is dropped: keep it for the runtime's life.
    std::mem::forget(stop);
    (peer, addr.to_string(), rt)
}

/// Recipient → copies the peer accepted.
fn copies(peer: &ScriptedPeer) -> HashMap<String, usize> {
    let mut m = HashMap::new();
    for (rcpts, _) in peer.received.lock().unwrap().iter() {
        for r in rcpts {
            *m.entry(r.to_ascii_lowercase()).or_insert(0) += 1;
        }
    }
    m
}

fn received(peer: &ScriptedPeer) -> usize {
    peer.received.lock().unwrap().len()
}

/// Settings of a node sending through the peer.
fn node(h: Herald, relay: &str, port: u16, name: &str) -> Herald {
    h.web_only(port)
        .env("HERALD__DELIVERY__TRANSPORT", "relay")
        .env("HERALD__RELAY__HOST", relay.split_once(':').unwrap().0)
        .env("HERALD__RELAY__PORT", relay.split_once(':').unwrap().1)
        .env("HERALD__RELAY__TLS", "none")
        .env("HERALD__DELIVERY__LEASE", "3s")
        .env("HERALD__DELIVERY__CLAIM_BATCH", "100")
        .env("HERALD__DELIVERY__MAX_IN_FLIGHT", "200")
        // Two nodes stay under the peer's ten connections per address.
        .env("HERALD__DELIVERY__MAX_CONNECTIONS", "4")
        .env("HERALD__DELIVERY__MAX_CONNECTIONS_PER_DOMAIN", "2")
        .env("HERALD__DELIVERY__MAX_MESSAGES_PER_CONNECTION", "50")
        .env(
            "HERALD__DELIVERY__HELO_NAME",
            &format!("{name}.herald.test"),
        )
}

fn serve(h: &Herald, port: u16) -> Serve {
    let s = Serve(
        h.command(&["serve"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_for("the node's HTTP port", Duration::from_secs(30), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).ok()
    });
    s
}

/// `n` contacts over ten domains and a draft campaign to them; returns its id.
fn campaign(h: &Herald, tmp: &Path, n: usize) -> String {
    let csv = tmp.join("c.csv");
    let mut rows = String::from("email\n");
    for i in 0..n {
        rows.push_str(&format!("r{i}@d{}.pause.test\n", i % 10));
    }
    std::fs::write(&csv, rows).unwrap();
    h.ok(&["contacts", "import", csv.to_str().unwrap(), "--list", "all"]);
    let html = tmp.join("b.html");
    std::fs::write(&html, "<p>Hello</p>").unwrap();
    h.json(&[
        "campaign",
        "create",
        "--name",
        "paced",
        "--list",
        "all",
        "--from",
        "Ann <ann@sender.test>",
        "--subject",
        "Hi",
        "--html",
        html.to_str().unwrap(),
        "--allow-unverified",
        "--no-seeds",
        "--json",
    ])["id"]
        .as_str()
        .unwrap()
        .to_string()
}

fn report(h: &Herald, id: &str) -> serde_json::Value {
    h.json(&["campaign", "report", id, "--recipients", "--json"])
}

/// Every recipient is in exactly one state, and the states add up to the recipients.
fn assert_adds_up(r: &serde_json::Value) {
    let k = &r["counts"];
    let states = [
        "not_sent",
        "queued",
        "deferred",
        "relayed",
        "delivered",
        "bounced",
        "expired",
        "failed",
    ];
    let sum: u64 = states.iter().map(|s| k[*s].as_u64().unwrap()).sum();
    assert_eq!(sum, k["recipients"].as_u64().unwrap(), "{k:#}");
    let rows = r["recipients"].as_array().unwrap();
    assert_eq!(rows.len() as u64, sum, "one row per recipient");
    for s in states {
        let n = rows.iter().filter(|x| x["state"] == s).count() as u64;
        assert_eq!(n, k[s].as_u64().unwrap(), "{s}: rows and counts agree");
    }
}

fn epoch_ms(rfc3339: &str) -> i64 {
    let t = time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339)
        .unwrap();
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

#[test]
fn pause_stops_every_node_within_a_second_and_resume_mails_nobody_twice() {
    const N: usize = 5000;
    let (peer, relay, _rt) = slow_peer(Duration::from_millis(4));
    let tmp = tempfile::tempdir().unwrap();
    let db = pg_database(&tmp.path().join("cluster"));
    let ports = [free_port(), free_port()];
    let heralds: Vec<Herald> = ["n1", "n2"]
        .iter()
        .zip(ports)
        .map(|(name, port)| {
            common::share_erasure_key(&tmp.path().join(name));
            let h = Herald::new(&tmp.path().join(name)).env("HERALD__DATABASE__URL", &db);
            node(h, &relay, port, name)
        })
        .collect();
    let h = &heralds[0];
    let id = campaign(h, tmp.path(), N);
    common::add_user(h, "ops@herald.test", "admin");
    let bearer = common::bearer(h, "ops@herald.test");
    let auth = [("Authorization", bearer.as_str())];

    let _nodes: Vec<Serve> = heralds
        .iter()
        .zip(ports)
        .map(|(h, p)| serve(h, p))
        .collect();
    // With the servers running, `campaign send` only starts the campaign: they send it.
    h.ok(&["campaign", "send", &id]);
    wait_for("a fifth of the campaign", Duration::from_secs(60), || {
        (received(&peer) >= N / 5).then_some(())
    });

    // Pause through the API of one node; the other must stop too.
    let paused_at = now_ms();
    let r = http(
        ports[0],
        "POST",
        &format!("/api/v1/campaigns/{id}/pause"),
        &auth,
        Some(""),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v["status"], "paused");
    let again = http(
        ports[1],
        "POST",
        &format!("/api/v1/campaigns/{id}/pause"),
        &auth,
        Some(""),
    );
    assert_eq!(again.status, 409, "already paused: {}", again.body);

    std::thread::sleep(Duration::from_secs(1));
    let after_a_second = received(&peer);
    std::thread::sleep(Duration::from_secs(3));
    let later = received(&peer);
    assert_eq!(
        later, after_a_second,
        "no message was accepted later than a second after the pause"
    );
    assert!(later < N, "paused mid-way ({later} of {N})");
    let r = report(h, &id);
    assert_eq!(r["campaign"]["status"], "paused");
    assert_adds_up(&r);
    // What was in flight finished and was recorded: every accepted copy is a relayed row (the
    // peer is the relay).
    assert_eq!(r["counts"]["relayed"].as_u64().unwrap(), later as u64);
    let late: Vec<&serde_json::Value> = r["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| {
            x["evidence"]["started_at"]
                .as_str()
                .is_some_and(|t| epoch_ms(t) > paused_at + 1000)
        })
        .collect();
    assert!(
        late.is_empty(),
        "attempts started more than a second after the pause: {late:#?}"
    );
    // A paused campaign is not sent again by `send`: it is resumed.
    let out = h.run(&["campaign", "send", &id]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("campaign resume"));

    h.ok(&["campaign", "resume", &id]);
    let start = Instant::now();
    let r = loop {
        let r = report(h, &id);
        if r["campaign"]["status"] == "sent" {
            break r;
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "not finished: {:#}",
            r["counts"]
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    assert_adds_up(&r);
    assert_eq!(r["counts"]["relayed"], N as u64, "{:#}", r["counts"]);
    let got = copies(&peer);
    assert_eq!(got.len(), N, "every recipient got the campaign");
    let twice: Vec<_> = got.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "mailed twice: {twice:?}");
    assert!(
        r["recipients"]
            .as_array()
            .unwrap()
            .iter()
            .all(|x| x["possible_duplicate"] == false)
    );
}

#[test]
fn cancel_ends_the_rest_as_not_sent_cancelled() {
    const N: usize = 1500;
    let (peer, relay, _rt) = slow_peer(Duration::from_millis(4));
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let h = node(Herald::new(&tmp.path().join("data")), &relay, port, "solo");
    let id = campaign(&h, tmp.path(), N);
    // Not started yet: nothing to cancel or pause.
    let out = h.run(&["campaign", "cancel", &id]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("is draft"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    common::add_user(&h, "admin@herald.test", "admin");
    common::add_user(&h, "viewer@herald.test", "viewer");
    let _node = serve(&h, port);
    h.ok(&["campaign", "send", &id]);
    wait_for("a tenth of the campaign", Duration::from_secs(60), || {
        (received(&peer) >= N / 10).then_some(())
    });

    // The campaign's page: an admin pauses and resumes; a viewer sees no buttons and may not.
    let page_of = |cookie: &str| {
        http(
            port,
            "GET",
            &format!("/campaigns/{id}"),
            &[("Cookie", cookie)],
            None,
        )
        .body
    };
    let post = |cookie: &str, action: &str| {
        let csrf = common::hidden(&page_of(cookie), "csrf");
        let r = http(
            port,
            "POST",
            &format!("/campaigns/{id}/{action}"),
            &[
                ("Cookie", cookie),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            Some(&format!("csrf={csrf}")),
        );
        let to = r.header("location").map(str::to_string);
        (r.status, to)
    };
    let viewer = common::session_cookie(port, "viewer@herald.test");
    assert!(!page_of(&viewer).contains("id=\"pause-form\""));
    assert_eq!(post(&viewer, "pause").0, 403);
    let admin = common::session_cookie(port, "admin@herald.test");
    let page = page_of(&admin);
    assert!(page.contains("id=\"pause-form\"") && page.contains("id=\"cancel-form\""));
    assert!(!page.contains("id=\"resume-form\""));
    let (status, to) = post(&admin, "pause");
    assert_eq!(status, 303);
    let page = http(port, "GET", &to.unwrap(), &[("Cookie", &admin)], None).body;
    assert!(page.contains("Paused: no new messages go out"), "{page}");
    assert!(page.contains("id=\"resume-form\"") && !page.contains("id=\"pause-form\""));
    let paused: serde_json::Value = h.json(&["campaign", "list", "--status", "paused", "--json"]);
    assert_eq!(
        paused["campaigns"].as_array().unwrap().len(),
        1,
        "{paused:#}"
    );
    let (status, _) = post(&admin, "resume");
    assert_eq!(status, 303);
    assert_eq!(report(&h, &id)["campaign"]["status"], "sending");

    let done = h.json(&["campaign", "cancel", &id, "--json"]);
    assert_eq!(done["status"], "cancelled");
    assert!(done["cancelled"].as_u64().unwrap() > 0, "{done}");
    let r = wait_for("every recipient final", Duration::from_secs(30), || {
        let r = report(&h, &id);
        let k = &r["counts"];
        (k["queued"] == 0 && k["deferred"] == 0).then_some(r)
    });
    assert_eq!(r["campaign"]["status"], "cancelled");
    assert_adds_up(&r);
    let k = &r["counts"];
    let delivered = k["relayed"].as_u64().unwrap();
    assert!(delivered < N as u64, "cancelled mid-way");
    assert_eq!(
        r["not_sent_reasons"]["cancelled"].as_u64().unwrap() + delivered,
        N as u64,
        "{r:#}"
    );
    std::thread::sleep(Duration::from_secs(2));
    let got = copies(&peer);
    assert_eq!(
        got.len() as u64,
        delivered,
        "what was accepted is delivered"
    );
    assert!(got.values().all(|n| *n == 1), "nobody mailed twice");
    // Over: no resume, no pause, no send.
    for cmd in ["resume", "pause", "send"] {
        let out = h.run(&["campaign", cmd, &id]);
        assert_eq!(out.status.code(), Some(2), "{cmd}");
    }
    let why = h.json(&[
        "why",
        &id,
        r["recipients"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["reason"] == "cancelled")
            .unwrap()["email"]
            .as_str()
            .unwrap(),
        "--json",
    ]);
    assert!(why["findings"].to_string().contains("cancelled"), "{why:#}");
}
