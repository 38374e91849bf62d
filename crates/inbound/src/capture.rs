//! The sandbox's capture server: accepts mail for any recipient and writes each message to a
//! folder as `<queue id>.eml`, so a new user can try the whole flow with no mail server.
//!
//! To show every outcome Herald records, the local part steers the answer:
//! `bounce…@` → `550 5.1.1` (unknown user), `defer…@` → `451 4.7.1` on the first try and
//! accepted on the next (greylisting), anything else → `250 2.0.0 Ok: queued as <id>`.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::server::{Handler, ServerReply};

pub struct Capture {
    dir: PathBuf,
    seen_deferred: Mutex<HashSet<String>>,
    counter: AtomicU64,
    prefix: String,
}

impl Capture {
    pub fn new(dir: PathBuf) -> std::io::Result<Self> {
        use std::os::unix::fs::PermissionsExt;
        std::fs::create_dir_all(&dir)?;
        // Captured messages hold working unsubscribe and tracking links: owner only.
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))?;
        // Unique per instance: several capture servers may start within one second (serve's and
        // a test send's), and a captured message is never overwritten.
        let prefix = format!(
            "{:X}",
            time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1000
        );
        Ok(Self {
            dir,
            seen_deferred: Mutex::new(HashSet::new()),
            counter: AtomicU64::new(0),
            prefix,
        })
    }
}

fn local_part(addr: &str) -> String {
    addr.rsplit_once('@')
        .map(|(l, _)| l)
        .unwrap_or(addr)
        .to_ascii_lowercase()
}

impl Handler for Capture {
    fn rcpt(&self, _from: &str, rcpt: &str) -> ServerReply {
        let local = local_part(rcpt);
        if local.starts_with("bounce") {
            return ServerReply::new(
                550,
                "5.1.1",
                format!("<{rcpt}>: Recipient address rejected: User unknown (sandbox)"),
            );
        }
        if local.starts_with("defer") {
            let first = self
                .seen_deferred
                .lock()
                .map(|mut s| s.insert(rcpt.to_ascii_lowercase()))
                .unwrap_or(false);
            if first {
                return ServerReply::new(
                    451,
                    "4.7.1",
                    format!(
                        "<{rcpt}>: Recipient address rejected: Greylisted, try again (sandbox)"
                    ),
                );
            }
        }
        ServerReply::new(250, "2.1.5", "Ok")
    }

    fn data(&self, _from: &str, _rcpts: &[String], message: &[u8]) -> ServerReply {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let id = format!("{}{:06X}", self.prefix, n);
        let path = self.dir.join(format!("{id}.eml"));
        let written = {
            use std::io::Write;
            use std::os::unix::fs::OpenOptionsExt;
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
                .and_then(|mut f| f.write_all(message))
        };
        match written {
            Ok(()) => ServerReply::new(250, "2.0.0", format!("Ok: queued as {id}")),
            Err(e) => {
                tracing::error!(path = %path.display(), error = %e, "sandbox could not store a message");
                ServerReply::new(451, "4.3.0", "Local error in processing")
            }
        }
    }
}
