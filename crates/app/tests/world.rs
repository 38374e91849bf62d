//! End to end against the recipient world (scripts/world/start.sh): real dnsmasq, Postfix and
//! Dovecot on loopback. Asserts, per recipient, what Herald recorded against what the world
//! really did: the Maildir, and Postfix's own log.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use common::{Herald, dkimpy_verify, recipient};

struct World {
    dns: String,
    mx_port: String,
    mail: PathBuf,
    maillog: PathBuf,
}

fn world() -> World {
    let dir = std::env::var("HERALD_WORLD").unwrap_or_else(|_| "/tmp/herald-world".into());
    let env = std::fs::read_to_string(Path::new(&dir).join("env")).unwrap_or_else(|e| {
        panic!("the recipient world is not running ({dir}/env: {e}); start it with scripts/world/start.sh")
    });
    let kv: HashMap<_, _> = env.lines().filter_map(|l| l.split_once('=')).collect();
    World {
        dns: kv["WORLD_DNS"].to_string(),
        mx_port: kv["WORLD_MX_PORT"].to_string(),
        mail: kv["WORLD_MAIL"].into(),
        maillog: kv["WORLD_MAILLOG"].into(),
    }
}

/// Every message file (in a Maildir's new/ or cur/) under `dir` that contains `needle`.
fn files_containing(dir: &Path, needle: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p
                .parent()
                .and_then(|d| d.file_name())
                .is_some_and(|n| n == "new" || n == "cur")
                && std::fs::read(&p)
                    .map(|b| String::from_utf8_lossy(&b).contains(needle))
                    .unwrap_or(false)
            {
                out.push(p);
            }
        }
    }
    out
}

/// Poll (every 100 ms, at most 10 s) until `f` returns Some: Postfix hands a message to
/// Dovecot asynchronously after its 250.
fn eventually<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    for _ in 0..100 {
        if let Some(v) = f() {
            return v;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("timed out waiting for {what}")
}

fn herald(w: &World, data: &Path) -> Herald {
    Herald::new(data)
        .env("HERALD__DNS__NAMESERVERS", &format!("[\"{}\"]", w.dns))
        .env("HERALD__DELIVERY__MX_PORT", &w.mx_port)
        .env("HERALD__DELIVERY__HELO_NAME", "sender.test")
        .env("HERALD__DELIVERY__RETRY_SCHEDULE", "[\"1s\"]")
        .env("HERALD__DELIVERY__EXPIRY", "3s")
        .env("HERALD__DELIVERY__COMMAND_TIMEOUT", "10s")
}

#[test]
fn a_campaign_into_the_recipient_world_is_recorded_as_the_world_saw_it() {
    let w = world();
    let tmp = tempfile::tempdir().unwrap();
    let h = herald(&w, &tmp.path().join("data"));
    let csv = tmp.path().join("contacts.csv");
    std::fs::write(
        &csv,
        "email,first_name\n\
         alice@inbox.test,Alice\n\
         Bob@Inbox.Test,Bob\n\
         nobody@inbox.test,Nobody\n\
         someone@defer.test,Some\n\
         lost@discard.test,Lost\n\
         alice@backup.test,Backup\n\
         alice@amx.test,Implicit\n\
         x@nullmx.test,Null\n\
         y@nomx.test,Missing\n\
         not an address,Broken\n",
    )
    .unwrap();
    let html = tmp.path().join("body.html");
    std::fs::write(
        &html,
        "<p>Hello {{ contact.first_name }}, this is the world test.</p>",
    )
    .unwrap();

    let imported = h.json(&[
        "contacts",
        "import",
        csv.to_str().unwrap(),
        "--list",
        "world",
        "--json",
    ]);
    assert_eq!(imported["imported"], 9, "{imported:#}");
    assert_eq!(imported["rejected"][0]["line"], 11, "{imported:#}");

    // Connect the sending domain: from now on its mail carries two DKIM signatures.
    let domain = h.json(&["domain", "add", "sender.test", "--selector", "w1", "--json"]);
    assert_eq!(domain["domain"], "sender.test");
    // Publish what it printed: the gate lets the campaign through only once the domain verifies.
    common::publish(&common::dnsmasq_lines(&domain));

    let created = h.json(&[
        "campaign",
        "create",
        "--name",
        "World",
        "--list",
        "world",
        "--from",
        "Ann Sender <ann@sender.test>",
        "--subject",
        "Hi {{ contact.first_name }}",
        "--reply-to",
        "Ann's desk <desk@sender.test>",
        "--html",
        html.to_str().unwrap(),
        "--json",
    ]);
    let id = created["id"].as_str().unwrap().to_string();
    let report = h.json(&["campaign", "send", &id, "--wait", "--json"]);
    assert_eq!(report["campaign"]["status"], "sent", "{report:#}");
    let details = h.json(&["campaign", "show", &id, "--json"]);
    assert_eq!(
        (
            details["dkim"]["status"].as_str(),
            details["dkim"]["d"].as_str()
        ),
        (Some("signing"), Some("sender.test")),
        "{details:#}"
    );
    assert_eq!(
        details["return_path_domain"], "bounces.sender.test",
        "{details:#}"
    );
    // The pre-send check ran at send and looked the domain up in the world's DNS: it verifies.
    let check = &details["check"];
    assert_eq!(check["at"], "send", "{details:#}");
    let findings = check["findings"].as_array().unwrap();
    assert!(
        findings.iter().any(|f| f["code"] == "domain_verified"),
        "{check:#}"
    );
    assert!(
        !findings.iter().any(|f| {
            let c = f["code"].as_str().unwrap();
            ["dkim_", "spf_", "dmarc_", "unaligned_from"]
                .iter()
                .any(|p| c.starts_with(p))
        }),
        "{check:#}"
    );
    let c = &report["counts"];
    assert_eq!(
        (
            c["recipients"].as_u64(),
            c["delivered"].as_u64(),
            c["bounced"].as_u64(),
            c["expired"].as_u64()
        ),
        (Some(9), Some(5), Some(3), Some(1)),
        "{report:#}"
    );
    let maillog = || std::fs::read_to_string(&w.maillog).unwrap();

    // Delivered into a mailbox: the message is in that Maildir, and Postfix logged our queue id
    // delivering to that recipient.
    for (email, mailbox) in [
        ("alice@inbox.test", "inbox.test/alice"),
        ("Bob@inbox.test", "inbox.test/bob"),
    ] {
        let r = recipient(&report, email);
        assert_eq!(r["state"], "delivered", "{r:#}");
        let ev = &r["evidence"];
        assert_eq!(
            (ev["code"].as_u64(), ev["enhanced"].as_str()),
            (Some(250), Some("2.0.0")),
            "{r:#}"
        );
        assert_eq!(ev["mx"], "mx.inbox.test");
        assert_eq!(ev["ip"], "127.0.0.1");
        assert!(
            ev["tls"].as_str().unwrap_or("").starts_with("TLSv1."),
            "STARTTLS was offered: {r:#}"
        );
        let qid = ev["remote_queue_id"]
            .as_str()
            .expect("queue id parsed from the 250");
        let line = eventually(&format!("Postfix to log {qid} for {email}"), || {
            maillog()
                .lines()
                .find(|l| l.contains(&format!("{qid}: to=<{email}>")))
                .map(str::to_string)
        });
        assert!(line.contains("status=sent"), "{line}");
        // The envelope sender Postfix saw is this delivery's signed VERP return path.
        let from_line = maillog()
            .lines()
            .find(|l| l.contains(&format!("{qid}: from=<")))
            .map(str::to_string)
            .unwrap_or_default();
        assert!(
            from_line.contains("from=<b+") && from_line.contains("@bounces.sender.test>"),
            "{from_line}"
        );
        let mid = r["message_id"].as_str().unwrap();
        let copies = eventually(&format!("{mid} in {mailbox}"), || {
            Some(files_containing(&w.mail.join(mailbox).join("Maildir"), mid))
                .filter(|c| !c.is_empty())
        });
        assert_eq!(copies.len(), 1, "{email}: one copy of {mid} in the Maildir");
        let raw = std::fs::read(&copies[0]).unwrap();
        let body = String::from_utf8_lossy(&raw);
        // The subject the recipient got (personalised) is the one Herald shows and hands to
        // their IT, not the campaign's template.
        let subject = body
            .lines()
            .find_map(|l| l.strip_prefix("Subject: "))
            .expect("a Subject header")
            .trim()
            .to_string();
        assert!(
            subject.starts_with("Hi ") && !subject.contains("{{"),
            "{subject}"
        );
        assert_eq!(r["evidence"]["subject"], subject.as_str(), "{r:#}");
        // Reply-To as given, and the list's List-Id under the sending domain (RFC 2919).
        let header = |name: &str| {
            body.lines()
                .find_map(|l| l.strip_prefix(&format!("{name}: ")))
                .map(|v| v.trim().to_string())
                .unwrap_or_else(|| panic!("no {name} header in {body}"))
        };
        assert_eq!(header("List-Id"), "\"world\" <world-1.sender.test>");
        assert!(
            header("Reply-To").contains("<desk@sender.test>"),
            "{}",
            header("Reply-To")
        );
        assert_eq!(details["list_id"], "\"world\" <world-1.sender.test>");
        assert_eq!(details["reply_to"], "Ann's desk <desk@sender.test>");
        let why = h.json(&["why", &id, email, "--json"]);
        assert_eq!(why["subject"], subject.as_str(), "{why:#}");
        let it = why["it_report"].as_str().unwrap();
        assert!(
            it.lines()
                .any(|l| l.starts_with("Subject") && l.ends_with(&format!("  {subject}"))),
            "{it}"
        );
        assert!(it.contains("Message size and SHA-256"), "{it}");
        // The copy as delivered (with Postfix's and Dovecot's headers added) still verifies.
        assert_eq!(
            dkimpy_verify(&domain, &raw),
            vec![true, true],
            "DKIM of the delivered copy"
        );
    }

    // 550 at RCPT → bounced/userunknown, hard, with the reply kept.
    let r = recipient(&report, "nobody@inbox.test");
    assert_eq!(
        (
            r["state"].as_str(),
            r["reason"].as_str(),
            r["hard"].as_bool()
        ),
        (Some("bounced"), Some("userunknown"), Some(true)),
        "{r:#}"
    );
    assert_eq!(
        (
            r["evidence"]["code"].as_u64(),
            r["evidence"]["enhanced"].as_str()
        ),
        (Some(550), Some("5.1.1"))
    );
    assert!(
        r["evidence"]["reply"]
            .as_str()
            .unwrap()
            .contains("User unknown")
    );

    // 451 → deferred, retried, then expired with the short test schedule.
    let r = recipient(&report, "someone@defer.test");
    assert_eq!(r["state"], "expired", "{r:#}");
    assert!(
        r["attempts"].as_u64().unwrap() >= 2,
        "retried before expiring: {r:#}"
    );
    assert_eq!(r["evidence"]["code"], 451);

    // Accepted, then silently discarded: Herald says delivered (the server said 250) and no
    // mailbox has it — the quarantine case a later diagnosis explains.
    let r = recipient(&report, "lost@discard.test");
    assert_eq!(r["state"], "delivered");
    let mid = r["message_id"].as_str().unwrap();
    let qid = r["evidence"]["remote_queue_id"].as_str().unwrap();
    eventually(&format!("Postfix to discard {qid}"), || {
        maillog()
            .lines()
            .any(|l| l.contains(qid) && l.contains("discarded"))
            .then_some(())
    });
    assert!(
        files_containing(&w.mail, mid).is_empty(),
        "discarded mail must not be in any Maildir"
    );

    // Dead primary MX, working backup: delivered through the backup, preference recorded.
    let r = recipient(&report, "alice@backup.test");
    assert_eq!(r["state"], "delivered", "{r:#}");
    assert_eq!(
        (
            r["evidence"]["mx"].as_str(),
            r["evidence"]["mx_preference"].as_u64()
        ),
        (Some("mx.backup.test"), Some(20))
    );

    // No MX, an A record: the implicit MX.
    let r = recipient(&report, "alice@amx.test");
    assert_eq!(r["state"], "delivered", "{r:#}");
    assert_eq!(r["evidence"]["mx"], "amx.test");
    assert!(r["evidence"]["mx_preference"].is_null());

    let r = recipient(&report, "x@nullmx.test");
    assert_eq!(
        (r["state"].as_str(), r["reason"].as_str()),
        (Some("bounced"), Some("notaccept")),
        "{r:#}"
    );
    let r = recipient(&report, "y@nomx.test");
    assert_eq!(
        (r["state"].as_str(), r["reason"].as_str()),
        (Some("bounced"), Some("hostunknown")),
        "{r:#}"
    );

    // A second campaign to the same list: the hard bounce is not mailed again, and says why.
    let created = h.json(&[
        "campaign",
        "create",
        "--name",
        "World again",
        "--list",
        "world",
        "--from",
        "ann@sender.test",
        "--subject",
        "Again",
        "--html",
        html.to_str().unwrap(),
        "--json",
    ]);
    let id2 = created["id"].as_str().unwrap().to_string();
    let report2 = h.sent(&id2, "20s");
    let r = recipient(&report2, "nobody@inbox.test");
    assert_eq!(
        (r["state"].as_str(), r["reason"].as_str()),
        (Some("not_sent"), Some("previously_bounced")),
        "{r:#}"
    );
    assert_eq!(
        recipient(&report2, "alice@inbox.test")["state"],
        "delivered"
    );
}
