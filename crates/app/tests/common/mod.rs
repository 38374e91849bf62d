//! Running the real `herald` binary from tests.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub struct Herald {
    pub data_dir: PathBuf,
    pub env: Vec<(String, String)>,
}

impl Herald {
    /// Herald with its data in `data_dir`: SQLite there by default; with
    /// `HERALD_TEST_BACKEND=postgres`, a PostgreSQL database of its own (one per data dir, on
    /// the server at `HERALD_TEST_POSTGRES`), so the same tests run on both backends.
    pub fn new(data_dir: &Path) -> Self {
        let mut env = Vec::new();
        if std::env::var("HERALD_TEST_BACKEND").as_deref() == Ok("postgres") {
            env.push(("HERALD__DATABASE__URL".to_string(), pg_database(data_dir)));
        }
        Self {
            data_dir: data_dir.to_path_buf(),
            env,
        }
    }

    /// The same settings (environment) over another data directory.
    pub fn clone_env(&self, data_dir: &Path) -> Self {
        Self {
            data_dir: data_dir.to_path_buf(),
            env: self.env.clone(),
        }
    }

    /// HTTP on 127.0.0.1:`port` (also its public URL); no inbound listener.
    pub fn web_only(self, port: u16) -> Self {
        self.env("HERALD__HTTP__LISTEN", &format!("127.0.0.1:{port}"))
            .env(
                "HERALD__HTTP__PUBLIC_URL",
                &format!("http://127.0.0.1:{port}"),
            )
            .env("HERALD__INBOUND__ENABLED", "false")
    }

    pub fn env(mut self, k: &str, v: &str) -> Self {
        self.env.push((k.into(), v.into()));
        self
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_herald"));
        c.arg("--data-dir").arg(&self.data_dir).args(args);
        for (k, v) in &self.env {
            c.env(k, v);
        }
        c.env_remove("HERALD_DATA_DIR");
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run herald")
    }

    /// Run, require success, return stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "herald {args:?} failed ({}):\nstdout: {}\nstderr: {}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let out = self.ok(args);
        serde_json::from_str(&out)
            .unwrap_or_else(|e| panic!("herald {args:?}: not JSON ({e}): {out}"))
    }

    /// `campaign send ID --wait --wait-timeout TIMEOUT --json`: send and wait until every
    /// recipient has an outcome; the report.
    pub fn sent(&self, id: &str, timeout: &str) -> serde_json::Value {
        self.json(&[
            "campaign",
            "send",
            id,
            "--wait",
            "--wait-timeout",
            timeout,
            "--json",
        ])
    }
}

pub fn recipient<'a>(report: &'a serde_json::Value, email: &str) -> &'a serde_json::Value {
    report["recipients"]
        .as_array()
        .expect("recipients")
        .iter()
        .find(|r| r["email"] == email)
        .unwrap_or_else(|| panic!("no recipient {email} in {report:#}"))
}

/// Verify every DKIM signature of `message` with Debian's python3-dkim (an independent
/// verifier), answering its DNS queries from `records` (the `domain add --json` output).
pub fn dkimpy_verify(records: &serde_json::Value, message: &[u8]) -> Vec<bool> {
    let dir = tempfile::tempdir().unwrap();
    let table: serde_json::Map<String, serde_json::Value> = records["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["type"] == "TXT")
        .map(|r| (r["name"].as_str().unwrap().to_string(), r["value"].clone()))
        .collect();
    std::fs::write(
        dir.path().join("records.json"),
        serde_json::Value::Object(table).to_string(),
    )
    .unwrap();
    std::fs::write(dir.path().join("msg.eml"), message).unwrap();
    let script = r#"
import json, sys, dkim
records = json.load(open(sys.argv[1]))
msg = open(sys.argv[2], "rb").read()
def dns(name, timeout=5):
    return records.get(name.decode().rstrip(".").lower(), "").encode()
n = msg.count(b"DKIM-Signature:")
print(json.dumps([dkim.DKIM(msg).verify(idx=i, dnsfunc=dns) for i in range(n)]))
"#;
    std::fs::write(dir.path().join("verify.py"), script).unwrap();
    let out = std::process::Command::new("/usr/bin/python3")
        .args([
            dir.path().join("verify.py"),
            dir.path().join("records.json"),
            dir.path().join("msg.eml"),
        ])
        .output()
        .expect("run /usr/bin/python3 (apt-get install python3-dkim python3-nacl)");
    assert!(
        out.status.success(),
        "dkimpy: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

pub use herald_testkit::app::pg_database;

/// The recipient world's `env` file as key/value pairs (scripts/world/start.sh writes it).
pub fn world_env() -> std::collections::HashMap<String, String> {
    let dir = std::env::var("HERALD_WORLD").unwrap_or_else(|_| "/tmp/herald-world".into());
    let env = std::fs::read_to_string(Path::new(&dir).join("env")).unwrap_or_else(|e| {
        panic!("the recipient world is not running ({dir}/env: {e}); start it with scripts/world/start.sh")
    });
    env.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Replace the test records published in the world's DNS (dnsmasq lines).
pub fn publish(lines: &[String]) {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("published.conf");
    std::fs::write(&f, lines.join("\n") + "\n").unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/world/publish.sh");
    let out = Command::new(script).arg(&f).output().unwrap();
    assert!(
        out.status.success(),
        "publish.sh: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// dnsmasq lines for the records `domain add --json` printed (TXT and MX).
pub fn dnsmasq_lines(records: &serde_json::Value) -> Vec<String> {
    records["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| {
            let name = r["name"].as_str().unwrap();
            match r["type"].as_str().unwrap() {
                "TXT" => {
                    let strings: Vec<String> = match r["strings"].as_array() {
                        Some(a) => a
                            .iter()
                            .map(|s| format!("\"{}\"", s.as_str().unwrap()))
                            .collect(),
                        None => vec![format!("\"{}\"", r["value"].as_str().unwrap())],
                    };
                    Some(format!("txt-record={name},{}", strings.join(",")))
                }
                "MX" => {
                    let (pref, host) = r["value"].as_str().unwrap().split_once(' ').unwrap();
                    Some(format!(
                        "mx-host={name},{},{pref}",
                        host.trim_end_matches('.')
                    ))
                }
                _ => None,
            }
        })
        .collect()
}

/// An HTTP/1.1 answer.
pub struct HttpReply {
    pub status: u16,
    /// Header lines, lower-cased names.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl HttpReply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// One request over a fresh connection to 127.0.0.1:`port` (Herald's own server, no TLS).
pub fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> HttpReply {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(15)))
        .unwrap();
    let mut req =
        format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some(b) = body {
        req.push_str(&format!("Content-Length: {}\r\n", b.len()));
    }
    req.push_str("\r\n");
    req.push_str(body.unwrap_or(""));
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    HttpReply {
        status,
        headers,
        body: body.to_string(),
    }
}

/// A loopback port for a server the test starts (see `herald_testkit::app::free_port`).
pub fn free_port() -> u16 {
    herald_testkit::app::free_port()
}

/// A `herald serve` (or other long-running) child, killed and reaped when dropped.
pub struct Serve(pub std::process::Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Poll `f` every 200 ms until it returns Some, for at most `limit`.
pub fn wait_for<T>(what: &str, limit: std::time::Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let start = std::time::Instant::now();
    while start.elapsed() < limit {
        if let Some(v) = f() {
            return v;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    panic!("timed out after {limit:?} waiting for {what}")
}

/// The message with `message_id` somewhere under `mailbox` of the world's Maildir tree
/// (`mail_dir`, e.g. `inbox.test/carol`: new/ or cur/), waited for up to 30 s.
pub fn delivered(mail_dir: &Path, mailbox: &str, message_id: &str) -> Vec<u8> {
    let id = message_id.trim_matches(['<', '>']).to_string();
    wait_for(
        &format!("{id} in {mailbox}"),
        std::time::Duration::from_secs(30),
        || {
            let mut stack = vec![mail_dir.join(mailbox)];
            while let Some(d) = stack.pop() {
                let Ok(rd) = std::fs::read_dir(&d) else {
                    continue;
                };
                for e in rd.flatten() {
                    let p = e.path();
                    let in_maildir = p
                        .parent()
                        .and_then(|d| d.file_name())
                        .is_some_and(|n| n == "new" || n == "cur");
                    if p.is_dir() {
                        stack.push(p);
                    } else if in_maildir
                        && let Ok(raw) = std::fs::read(&p)
                        && String::from_utf8_lossy(&raw).contains(&id)
                    {
                        return Some(raw);
                    }
                }
            }
            None
        },
    )
}

/// The value of the hidden form field `name` in an HTML page.
pub fn hidden(body: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let at = body
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} field in {body}"))
        + marker.len();
    body[at..].split('"').next().unwrap().to_string()
}

/// Post a form to `action` as the session `cookie`: `body` (URL-encoded fields) after the CSRF
/// token of the page at `page`, as a browser submits a form of that page.
pub fn submit_form(port: u16, cookie: &str, page: &str, action: &str, body: &str) -> HttpReply {
    let page = http(port, "GET", page, &[("Cookie", cookie)], None);
    let csrf = hidden(&page.body, "csrf");
    http(
        port,
        "POST",
        action,
        &[
            ("Cookie", cookie),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        Some(&format!("csrf={csrf}&{body}")),
    )
}

/// `herald serve --sandbox` for `h`, once its HTTP port answers (its output dropped; its log
/// kept beside the data directory). A server that exits before it listens fails the test at
/// once, with its exit status and its log, rather than as a timeout.
pub fn serve_sandbox(h: &Herald, port: u16) -> Serve {
    let log_path = h.data_dir.with_extension("serve.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut serve = Serve(
        h.command(&["serve", "--sandbox"])
            .stdout(std::process::Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap(),
    );
    wait_for(
        "the HTTP server",
        std::time::Duration::from_secs(20),
        || {
            if let Ok(Some(status)) = serve.0.try_wait() {
                let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                panic!(
                    "herald serve --sandbox exited before it listened on {port}: {status}\n{log}"
                );
            }
            std::net::TcpStream::connect(("127.0.0.1", port)).ok()
        },
    );
    serve
}

/// A login form's CSRF token and its cookie.
pub fn login_form(port: u16) -> (String, String) {
    let page = http(port, "GET", "/login", &[], None);
    let csrf = hidden(&page.body, "csrf");
    (csrf.clone(), format!("herald_login_csrf={csrf}"))
}

pub fn post_login(
    port: u16,
    csrf: &(String, String),
    email: &str,
    pw: &str,
    next: &str,
) -> HttpReply {
    let body = format!(
        "csrf={}&email={}&password={}&next={}",
        csrf.0,
        email.replace('@', "%40"),
        pw,
        next
    );
    http(
        port,
        "POST",
        "/login",
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Cookie", &csrf.1),
        ],
        Some(&body),
    )
}

/// Log in as `user` (password `correct horse battery`) and return the `Cookie` header of the session.
pub fn session_cookie(port: u16, user: &str) -> String {
    let csrf = login_form(port);
    let r = post_login(port, &csrf, user, "correct+horse+battery", "/");
    assert_eq!(r.status, 303, "{}", r.body);
    r.all("set-cookie")
        .iter()
        .find_map(|c| c.strip_prefix("herald_session="))
        .map(|c| format!("herald_session={}", c.split(';').next().unwrap()))
        .unwrap()
}

/// Add a web user with the password `correct horse battery` (what [`session_cookie`] logs in
/// with) and `role` (admin or viewer).
pub fn add_user(h: &Herald, email: &str, role: &str) {
    let pw = h.data_dir.with_extension("password");
    std::fs::write(&pw, "correct horse battery\n").unwrap();
    h.ok(&[
        "user",
        "add",
        email,
        "--password-file",
        pw.to_str().unwrap(),
        "--role",
        role,
    ]);
}

/// A new API token of `email` (an existing user), as `Bearer …`.
pub fn bearer(h: &Herald, email: &str) -> String {
    let token = h.ok(&["token", "create", "--user", email, "--name", "test"]);
    format!("Bearer {}", token.trim())
}

/// The captured (sandbox) message to `to` whose subject is `subject`, parsed.
pub fn captured(data: &Path, to: &str, subject: &str) -> Vec<u8> {
    wait_for(
        &format!("{subject:?} to {to} in the capture folder"),
        std::time::Duration::from_secs(20),
        || {
            std::fs::read_dir(data.join("sandbox"))
                .ok()?
                .flatten()
                .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
                .filter_map(|e| std::fs::read(e.path()).ok())
                .find(|raw| {
                    let m = mail_parser::MessageParser::default().parse(raw);
                    m.is_some_and(|m| {
                        m.subject() == Some(subject)
                            && m.to().and_then(|a| a.first()).and_then(|a| a.address()) == Some(to)
                    })
                })
        },
    )
}

/// Give the data directory `data` the erasure key every node of one test's cluster shares
/// (the README: nodes on one database share `secrets/`; a node with another erasure key is
/// refused, as it would forget every erasure).
pub fn share_erasure_key(data: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let dir = data.join("secrets");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    let key = dir.join("erasure.key");
    std::fs::write(&key, [42u8; 32]).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
}

/// Create a draft to `list` from `News <news@sender.invalid>` (the From gate bypassed) with
/// `subject` and `html` (written beside `dir`); its id.
pub fn draft(h: &Herald, dir: &Path, list: &str, name: &str, subject: &str, html: &str) -> String {
    let file = dir.join(format!(
        "{}.html",
        h.data_dir.file_name().unwrap().to_string_lossy()
    ));
    std::fs::write(&file, html).unwrap();
    h.json(&[
        "campaign",
        "create",
        "--name",
        name,
        "--list",
        list,
        "--from",
        "News <news@sender.invalid>",
        "--subject",
        subject,
        "--html",
        file.to_str().unwrap(),
        "--allow-unverified",
        "--json",
    ])["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Fetch the open pixel of the captured copy to `to` with `subject`, as `agent` (None: no
/// User-Agent, which Herald takes for a machine).
pub fn open_copy(data: &Path, port: u16, to: &str, subject: &str, agent: Option<&str>) {
    let raw = captured(data, to, subject);
    let msg = mail_parser::MessageParser::default().parse(&raw).unwrap();
    let body = msg.body_html(0).unwrap().into_owned();
    let at = body.find("/t/o/").expect("an open pixel");
    let pixel = body[at..].split('"').next().unwrap().to_string();
    let headers: Vec<(&str, &str)> = agent.map(|a| ("User-Agent", a)).into_iter().collect();
    assert_eq!(http(port, "GET", &pixel, &headers, None).status, 200);
}

/// One SMTP transaction with swaks; returns whether it was accepted.
pub fn swaks(port: &str, to: &str, data: &std::path::Path) -> (bool, String) {
    let out = std::process::Command::new("swaks")
        .args([
            "--server",
            &format!("127.0.0.1:{port}"),
            "--from",
            "",
            "--to",
            to,
        ])
        .args(["--helo", "fbl.world.test", "--data"])
        .arg(data)
        .output()
        .expect("run swaks (scripts/world/install.sh installs it)");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}
