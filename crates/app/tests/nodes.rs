//! Several `herald serve` nodes on one PostgreSQL database share a campaign: every recipient is
//! delivered exactly once (counted in what the nodes' sandbox servers captured), the work is
//! split between the nodes, and when a node is killed with SIGKILL mid-send the others pick its
//! deliveries up after the lease runs out: nobody is lost, and a recipient is only ever captured
//! twice when the report flags it `possible_duplicate` (the dead node may have sent it).

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::{Herald, free_port, http, pg_database};

struct Node {
    child: Child,
    data: PathBuf,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn node(tmp: &Path, name: &str, db: &str, port: u16) -> (Herald, PathBuf) {
    let data = tmp.join(name);
    common::share_erasure_key(&data);
    let h = Herald::new(&data)
        .env("HERALD__DATABASE__URL", db)
        .env("HERALD__DELIVERY__SANDBOX", "true")
        .env("HERALD__DELIVERY__LEASE", "2s")
        // Small claims, so the nodes share the campaign instead of the first taking it all.
        .env("HERALD__DELIVERY__CLAIM_BATCH", "50")
        .env("HERALD__DELIVERY__MAX_IN_FLIGHT", "100")
        .env(
            "HERALD__DELIVERY__HELO_NAME",
            &format!("{name}.herald.test"),
        )
        .env("HERALD__INBOUND__ENABLED", "false")
        .env("HERALD__HTTP__LISTEN", &format!("127.0.0.1:{port}"))
        .env(
            "HERALD__HTTP__PUBLIC_URL",
            &format!("http://127.0.0.1:{port}"),
        );
    (h, data)
}

fn start(h: &Herald, data: PathBuf) -> Node {
    let child = h
        .command(&["serve", "--sandbox"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    Node { child, data }
}

/// Recipient → how many copies the sandboxes under `dirs` captured.
fn captured(dirs: &[PathBuf]) -> (HashMap<String, u32>, Vec<usize>) {
    let mut copies = HashMap::new();
    let mut per_node = Vec::new();
    for d in dirs {
        let mut n = 0;
        if let Ok(entries) = std::fs::read_dir(d.join("sandbox")) {
            for e in entries {
                let text = std::fs::read_to_string(e.unwrap().path()).unwrap_or_default();
                let to = text
                    .lines()
                    .find(|l| l.starts_with("To:"))
                    .and_then(|l| l.split('<').nth(1))
                    .and_then(|l| l.split('>').next())
                    .unwrap_or_default()
                    .to_ascii_lowercase();
                // A file cut short by SIGKILL (the sandbox server dies with its node) was
                // never acknowledged: not a copy.
                if to.is_empty() {
                    continue;
                }
                *copies.entry(to).or_insert(0) += 1;
                n += 1;
            }
        }
        per_node.push(n);
    }
    (copies, per_node)
}

/// Contacts, a campaign and an admin token on the shared database (through the first node's
/// data directory); returns the campaign id and the token.
fn prepare(h: &Herald, tmp: &Path, recipients: usize) -> (String, String) {
    let csv = tmp.join("c.csv");
    let mut rows = String::from("email\n");
    for i in 0..recipients {
        rows.push_str(&format!("user{i}@example.com\n"));
    }
    std::fs::write(&csv, rows).unwrap();
    h.ok(&["contacts", "import", csv.to_str().unwrap(), "--list", "all"]);
    let html = tmp.join("b.html");
    std::fs::write(&html, "<p>Hello from the cluster</p>").unwrap();
    let id = h.json(&[
        "campaign",
        "create",
        "--name",
        "cluster",
        "--list",
        "all",
        "--from",
        "Ann <ann@sender.example>",
        "--subject",
        "Hi",
        "--html",
        html.to_str().unwrap(),
        "--json",
    ])["id"]
        .as_str()
        .unwrap()
        .to_string();
    let pw = tmp.join("pw");
    std::fs::write(&pw, "correct horse battery\n").unwrap();
    h.ok(&[
        "user",
        "add",
        "ops@herald.test",
        "--password-file",
        pw.to_str().unwrap(),
    ]);
    let token = h
        .ok(&[
            "token",
            "create",
            "--user",
            "ops@herald.test",
            "--name",
            "t",
        ])
        .trim()
        .to_string();
    (id, token)
}

fn wait_for_port(port: u16) {
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "node did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Ask a node to send the campaign (it only snapshots; every node's queue delivers).
fn send(port: u16, id: &str, token: &str) {
    let r = http(
        port,
        "POST",
        &format!("/api/v1/campaigns/{id}/send"),
        &[("Authorization", &format!("Bearer {token}"))],
        Some(""),
    );
    assert_eq!(r.status, 202, "{}", r.body);
}

fn report_when_sent(h: &Herald, id: &str, limit: Duration) -> serde_json::Value {
    let start = Instant::now();
    loop {
        let r = h.json(&["campaign", "report", id, "--recipients", "--json"]);
        if r["campaign"]["status"] == "sent" {
            return r;
        }
        assert!(start.elapsed() < limit, "not finished: {:#}", r["counts"]);
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[test]
fn three_nodes_deliver_each_recipient_exactly_once() {
    let tmp = tempfile::tempdir().unwrap();
    let db = pg_database(&tmp.path().join("cluster"));
    let ports = [free_port(), free_port(), free_port()];
    let heralds: Vec<(Herald, PathBuf)> = ["n1", "n2", "n3"]
        .iter()
        .zip(ports)
        .map(|(name, port)| node(tmp.path(), name, &db, port))
        .collect();
    let (id, token) = prepare(&heralds[0].0, tmp.path(), 1500);
    let nodes: Vec<Node> = heralds.iter().map(|(h, d)| start(h, d.clone())).collect();
    for p in ports {
        wait_for_port(p);
    }
    send(ports[0], &id, &token);
    let report = report_when_sent(&heralds[0].0, &id, Duration::from_secs(120));
    assert_eq!(
        report["counts"]["delivered"], 1500,
        "{:#}",
        report["counts"]
    );
    let dirs: Vec<PathBuf> = nodes.iter().map(|n| n.data.clone()).collect();
    let (copies, per_node) = captured(&dirs);
    assert_eq!(copies.len(), 1500, "every recipient captured");
    assert!(
        copies.values().all(|n| *n == 1),
        "a recipient was sent twice: {:?}",
        copies.iter().filter(|(_, n)| **n > 1).collect::<Vec<_>>()
    );
    eprintln!("copies per node: {per_node:?}");
    assert_eq!(per_node.iter().sum::<usize>(), 1500);
    assert!(
        per_node.iter().filter(|n| **n > 0).count() >= 2,
        "the work was shared: {per_node:?}"
    );
    let flagged = report["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["possible_duplicate"] == true)
        .count();
    assert_eq!(flagged, 0);
    // The evidence names the node that sent each copy; every node is registered with its name.
    let by: std::collections::BTreeSet<&str> = report["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["evidence"]["node"].as_str())
        .collect();
    assert!(
        by.len() >= 2 && by.iter().all(|n| n.ends_with(".herald.test")),
        "{by:?}"
    );
    let ips = heralds[0].0.json(&["ips", "--json"]);
    let names: Vec<&str> = ips["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        vec!["n1.herald.test", "n2.herald.test", "n3.herald.test"]
    );

    // A second process under a running node's name is refused, with the reason.
    common::share_erasure_key(&tmp.path().join("n2-again"));
    let dup = heralds[1]
        .0
        .clone_env(&tmp.path().join("n2-again"))
        .run(&["serve", "--sandbox"]);
    assert_eq!(dup.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&dup.stderr).contains("already running on this database"),
        "{}",
        String::from_utf8_lossy(&dup.stderr)
    );
    drop(nodes);
}

#[test]
fn a_node_killed_mid_send_loses_nobody() {
    let tmp = tempfile::tempdir().unwrap();
    let db = pg_database(&tmp.path().join("cluster"));
    let ports = [free_port(), free_port()];
    let (a, a_dir) = node(tmp.path(), "a", &db, ports[0]);
    let (b, b_dir) = node(tmp.path(), "b", &db, ports[1]);
    let (id, token) = prepare(&a, tmp.path(), 3000);
    let mut node_a = start(&a, a_dir.clone());
    let node_b = start(&b, b_dir.clone());
    wait_for_port(ports[0]);
    wait_for_port(ports[1]);
    send(ports[0], &id, &token);
    // Kill A once it has sent something, well before the campaign is done.
    let start_at = Instant::now();
    while captured(std::slice::from_ref(&a_dir)).1[0] < 50 {
        assert!(
            start_at.elapsed() < Duration::from_secs(30),
            "A sent nothing"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    node_a.child.kill().unwrap();
    node_a.child.wait().unwrap();
    let report = report_when_sent(&a, &id, Duration::from_secs(120));
    assert_eq!(
        report["counts"]["delivered"], 3000,
        "{:#}",
        report["counts"]
    );
    let (copies, per_node) = captured(&[a_dir, b_dir]);
    assert_eq!(copies.len(), 3000, "nobody lost: {per_node:?}");
    let flagged: std::collections::HashSet<String> = report["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["possible_duplicate"] == true)
        .map(|r| r["email"].as_str().unwrap().to_string())
        .collect();
    for (rcpt, n) in &copies {
        assert!(
            *n == 1 || flagged.contains(rcpt),
            "{rcpt} captured {n} times but not flagged"
        );
    }
    eprintln!(
        "copies per node: {per_node:?}; flagged possible duplicates: {}; captured twice: {}",
        flagged.len(),
        copies.values().filter(|n| **n > 1).count()
    );
    assert!(per_node[1] > 0, "B took over: {per_node:?}");
    drop(node_b);
}

/// A PostgreSQL cluster of one test's own (Debian's pg_createcluster, trust on loopback), so
/// that restarting it disturbs no other test; dropped with the test.
struct Cluster {
    version: String,
    name: String,
    port: u16,
}

impl Cluster {
    fn create() -> Cluster {
        let version = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL server binaries (scripts/test installs them)")
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .max_by_key(|v| v.parse::<u32>().unwrap_or(0))
            .unwrap();
        let port = free_port();
        let name = format!("herald_t{port}");
        let ok = |cmd: &mut std::process::Command| {
            let out = cmd.output().unwrap();
            assert!(
                out.status.success(),
                "{cmd:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        ok(std::process::Command::new("pg_createcluster").args([
            &version,
            &name,
            "-p",
            &port.to_string(),
            "--",
            "--auth=trust",
        ]));
        let c = Cluster {
            version,
            name,
            port,
        };
        c.ctl("start");
        c
    }

    fn ctl(&self, action: &str) {
        let out = std::process::Command::new("pg_ctlcluster")
            .args([&self.version, &self.name, action, "-m", "fast"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "pg_ctlcluster {action}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = std::process::Command::new("pg_dropcluster")
            .args(["--stop", &self.version, &self.name])
            .output();
    }
}

#[test]
fn a_database_restart_mid_send_loses_nobody() {
    let cluster = Cluster::create();
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    // Leases longer than the restart: the node keeps its deliveries and records them after.
    let (h, data) = node(tmp.path(), "r", &cluster.url(), port);
    let h = h.env("HERALD__DELIVERY__LEASE", "20s");
    let (id, token) = prepare(&h, tmp.path(), 3000);
    let log = tmp.path().join("serve.log");
    let n = Node {
        child: h
            .command(&["serve", "--sandbox"])
            .env("HERALD_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap(),
        data: data.clone(),
    };
    wait_for_port(port);
    send(port, &id, &token);
    let start_at = Instant::now();
    while captured(std::slice::from_ref(&data)).1[0] < 300 {
        assert!(start_at.elapsed() < Duration::from_secs(30), "nothing sent");
        std::thread::sleep(Duration::from_millis(10));
    }
    let at_restart = captured(std::slice::from_ref(&data)).1[0];
    let t = Instant::now();
    cluster.ctl("restart");
    eprintln!(
        "restart took {:?}; {} copies before, {} after",
        t.elapsed(),
        at_restart,
        captured(std::slice::from_ref(&data)).1[0]
    );
    assert!(at_restart < 3000, "the restart came after the send");
    let report = report_when_sent(&h, &id, Duration::from_secs(120));
    assert_eq!(
        report["counts"]["delivered"], 3000,
        "{:#}",
        report["counts"]
    );
    let (copies, _) = captured(std::slice::from_ref(&data));
    assert_eq!(copies.len(), 3000, "nobody lost");
    let flagged: std::collections::HashSet<&str> = report["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["possible_duplicate"] == true)
        .map(|r| r["email"].as_str().unwrap())
        .collect();
    for (rcpt, n) in &copies {
        assert!(
            *n == 1 || flagged.contains(rcpt.as_str()),
            "{rcpt} sent {n} times, not flagged"
        );
    }
    // The node waited for the database (its pool reconnects; failed statements are retried)
    // and did not stop.
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(!log.contains("delivery loop"), "serve stopped: {log}");
    eprintln!(
        "restart mid-send after {at_restart} copies: {} captured twice, {} flagged",
        copies.values().filter(|n| **n > 1).count(),
        flagged.len()
    );
    drop(n);
}
