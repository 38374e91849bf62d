//! The sandbox's capture server: accepts mail for any recipient and writes each message to a
//! folder as `<queue id>.eml`, so a new user can try the whole flow with no mail server.
//!
//! It also plays every receiver, so the sandbox shows each outcome Herald records — including
//! the ones "Delivered" hides. The recipient's local part steers what happens to that person:
//! - `bounce…@` → `550 5.1.1` at RCPT (unknown user);
//! - `defer…@` → `451 4.7.1` on the first try, accepted on the next (greylisting);
//! - `late…@` → accepted (`250`), then the receiver's inner server bounces it: a DSN
//!   (`5.1.1`) comes back to the return path a few seconds later;
//! - `read…@` → accepted; a person opens it a few seconds later and clicks its first link
//!   after a while (unless it was held in a quarantine).
//!
//! The first label of the recipient's domain steers the receiving organisation:
//! - `junk…` (e.g. `junk.example`) → accepted, filed in Junk;
//! - `quarantine…` → accepted, then held in a security filter's quarantine (no mailbox gets it);
//! - `scan…` → accepted; the gateway's link scanner follows every link at once;
//! - anything else → accepted into the Inbox: `250 2.0.0 Ok: queued as <id>`.
//!
//! Seeds work the same way: in sandbox mode a seed's copy is "found" where this server filed
//! it ([`filing`]), so a seed at `junk.example` sees the Junk filing and one at
//! `quarantine.example` never sees its copy.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::server::{Handler, ServerReply};

/// Where the simulated receiver files an accepted message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filing {
    Inbox,
    Junk,
    /// Held by a security filter: no mailbox, not even Junk, gets it.
    Quarantine,
}

/// Where the receiver of `rcpt` files what it accepts (by its domain's first label).
pub fn filing(rcpt: &str) -> Filing {
    let label = first_label(rcpt);
    if label.starts_with("junk") {
        Filing::Junk
    } else if label.starts_with("quarantine") {
        Filing::Quarantine
    } else {
        Filing::Inbox
    }
}

/// What happens to an accepted message afterwards, in the sandbox's world.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Aftermath {
    /// Accepted by the gateway, then bounced by the server behind it (a DSN comes back).
    pub late_bounce: bool,
    /// A person opens it, and later clicks its first link.
    pub person_reads: bool,
    /// The receiving gateway's link scanner follows every link as soon as it arrives.
    pub link_scanner: bool,
}

impl Aftermath {
    pub fn of(rcpt: &str) -> Aftermath {
        let local = local_part(rcpt);
        let late_bounce = local.starts_with("late");
        Aftermath {
            late_bounce,
            person_reads: local.starts_with("read")
                && !late_bounce
                && filing(rcpt) != Filing::Quarantine,
            link_scanner: first_label(rcpt).starts_with("scan"),
        }
    }

    pub fn is_quiet(&self) -> bool {
        *self == Aftermath::default()
    }
}

/// Called, inside the SMTP session and before the `250`, with each accepted message that has
/// an aftermath; it must not block (spawn what takes time).
pub type AftermathHandler = std::sync::Arc<dyn Fn(Accepted) + Send + Sync>;

/// An accepted message with an aftermath, handed to whoever plays the recipients.
#[derive(Debug, Clone)]
pub struct Accepted {
    /// The envelope sender (the return path a DSN goes to).
    pub from: String,
    pub rcpt: String,
    pub queue_id: String,
    pub message: Vec<u8>,
    pub aftermath: Aftermath,
}

pub struct Capture {
    dir: PathBuf,
    seen_deferred: Mutex<HashSet<String>>,
    counter: AtomicU64,
    prefix: String,
    aftermath: Option<AftermathHandler>,
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
            aftermath: None,
        })
    }

    /// Hand every accepted message with an [`Aftermath`] to `to`.
    pub fn with_aftermath(mut self, to: AftermathHandler) -> Self {
        self.aftermath = Some(to);
        self
    }
}

fn local_part(addr: &str) -> String {
    addr.rsplit_once('@')
        .map(|(l, _)| l)
        .unwrap_or(addr)
        .to_ascii_lowercase()
}

fn first_label(addr: &str) -> String {
    addr.rsplit_once('@')
        .map(|(_, d)| d)
        .unwrap_or("")
        .split('.')
        .next()
        .unwrap_or("")
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

    fn data(&self, from: &str, rcpts: &[String], message: &[u8]) -> ServerReply {
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
            Ok(()) => {
                self.hand_on(from, rcpts, &id, message);
                ServerReply::new(250, "2.0.0", format!("Ok: queued as {id}"))
            }
            Err(e) => {
                tracing::error!(path = %path.display(), error = %e, "sandbox could not store a message");
                ServerReply::new(451, "4.3.0", "Local error in processing")
            }
        }
    }
}

impl Capture {
    fn hand_on(&self, from: &str, rcpts: &[String], id: &str, message: &[u8]) {
        let Some(to) = &self.aftermath else { return };
        for rcpt in rcpts {
            let aftermath = Aftermath::of(rcpt);
            if aftermath.is_quiet() {
                continue;
            }
            to(Accepted {
                from: from.to_string(),
                rcpt: rcpt.clone(),
                queue_id: id.to_string(),
                message: message.to_vec(),
                aftermath,
            });
        }
    }
}

/// The DSN the receiver of `rcpt` sends back to `return_path` when the server behind its
/// gateway does not know the person (RFC 3464: a `multipart/report` with the original's
/// header block). Written out here: a fixed, short layout, like a Postfix bounce.
pub fn late_bounce_dsn(
    return_path: &str,
    rcpt: &str,
    queue_id: &str,
    original: &[u8],
    now: time::OffsetDateTime,
) -> Vec<u8> {
    let date = now
        .format(&time::format_description::well_known::Rfc2822)
        .unwrap_or_default();
    let domain = rcpt
        .rsplit_once('@')
        .map(|(_, d)| d)
        .unwrap_or("sandbox.invalid");
    let headers_end = original
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| p + 2)
        .or_else(|| {
            original
                .windows(2)
                .position(|w| w == b"\n\n")
                .map(|p| p + 1)
        })
        .unwrap_or(original.len());
    let original_headers = String::from_utf8_lossy(&original[..headers_end]);
    let boundary = format!("{queue_id}.sandbox-dsn");
    let mut out = format!(
        "From: Mail Delivery System <MAILER-DAEMON@mailstore.{domain}>\r\n\
         To: <{return_path}>\r\n\
         Subject: Undelivered Mail Returned to Sender\r\n\
         Date: {date}\r\n\
         Message-ID: <{queue_id}.dsn@mailstore.{domain}>\r\n\
         Auto-Submitted: auto-replied\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: multipart/report; report-type=delivery-status;\r\n\
         \tboundary=\"{boundary}\"\r\n\
         \r\n\
         --{boundary}\r\n\
         Content-Type: text/plain; charset=us-ascii\r\n\
         \r\n\
         This is the mail system at host mailstore.{domain}.\r\n\
         \r\n\
         The gateway accepted your message, but the mailbox server behind it could not\r\n\
         deliver it to the recipient below.\r\n\
         \r\n\
         <{rcpt}>: user unknown (sandbox)\r\n\
         \r\n\
         --{boundary}\r\n\
         Content-Type: message/delivery-status\r\n\
         \r\n\
         Reporting-MTA: dns; mailstore.{domain}\r\n\
         X-Postfix-Queue-ID: {queue_id}\r\n\
         Arrival-Date: {date}\r\n\
         \r\n\
         Final-Recipient: rfc822; {rcpt}\r\n\
         Original-Recipient: rfc822;{rcpt}\r\n\
         Action: failed\r\n\
         Status: 5.1.1\r\n\
         Remote-MTA: dns; mailstore.{domain}\r\n\
         Diagnostic-Code: smtp; 550 5.1.1 <{rcpt}>: Recipient address rejected: User\r\n\
         \x20   unknown in virtual mailbox table\r\n\
         \r\n\
         --{boundary}\r\n\
         Content-Type: text/rfc822-headers\r\n\
         \r\n"
    );
    out.push_str(&original_headers);
    out.push_str(&format!("\r\n--{boundary}--\r\n"));
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_address_steers_the_simulated_receiver() {
        assert_eq!(filing("carla@junk.example"), Filing::Junk);
        assert_eq!(filing("Eve@Quarantine.Example"), Filing::Quarantine);
        assert_eq!(filing("ann@example.com"), Filing::Inbox);
        assert_eq!(filing("ann@notjunk.example"), Filing::Inbox);
        assert!(Aftermath::of("ann@example.com").is_quiet());
        assert!(Aftermath::of("late.jo@example.net").late_bounce);
        assert!(Aftermath::of("read.ann@example.com").person_reads);
        // Held in a quarantine: nobody can read it.
        assert!(!Aftermath::of("read.ann@quarantine.example").person_reads);
        assert!(Aftermath::of("ivan@scanner.example").link_scanner);
    }

    #[test]
    fn a_late_bounce_is_a_delivery_status_report_naming_the_recipient() {
        let original = b"Message-ID: <m1@herald.example>\r\nSubject: Hi\r\n\r\nbody text\r\n";
        let dsn = late_bounce_dsn(
            "bounces+x@rp.example",
            "late.jo@example.net",
            "Q1",
            original,
            time::OffsetDateTime::UNIX_EPOCH,
        );
        let text = String::from_utf8(dsn).unwrap_or_default();
        assert!(text.contains("Final-Recipient: rfc822; late.jo@example.net"));
        assert!(text.contains("Status: 5.1.1"));
        assert!(text.contains("To: <bounces+x@rp.example>"));
        assert!(text.contains("Message-ID: <m1@herald.example>"));
        assert!(
            !text.contains("body text"),
            "only the original's headers go back"
        );
    }
}
