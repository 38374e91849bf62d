//! Herald's DKIM signatures checked by a verifier nobody here wrote: Debian's python3-dkim
//! (dkimpy, with python3-nacl for Ed25519), fed our public records.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use herald_domain::EmailAddress;
use herald_mail::dkim::{Signer, generate, public_records, selectors};
use herald_mail::{OutgoingMessage, build_message};

const VERIFY: &str = r#"
import json, sys, dkim
records = json.load(open(sys.argv[1]))
msg = open(sys.argv[2], "rb").read()
def dns(name, timeout=5):
    return records.get(name.decode().rstrip(".").lower(), "").encode()
d = dkim.DKIM(msg)
results = [d.verify(idx=i, dnsfunc=dns) for i in range(2)]
print(json.dumps(results))
"#;

/// Verify both signatures of `signed` with dkimpy; returns [rsa_ok, ed25519_ok].
fn dkimpy(domain: &str, selector: &str, records: (&str, &str), signed: &[u8]) -> Vec<bool> {
    let dir = tempfile::tempdir().unwrap();
    let (rsa_sel, ed_sel) = selectors(selector);
    let table = serde_json::json!({
        format!("{rsa_sel}._domainkey.{domain}"): records.0,
        format!("{ed_sel}._domainkey.{domain}"): records.1,
    });
    std::fs::write(dir.path().join("records.json"), table.to_string()).unwrap();
    std::fs::write(dir.path().join("msg.eml"), signed).unwrap();
    std::fs::write(dir.path().join("verify.py"), VERIFY).unwrap();
    // Debian's interpreter, where python3-dkim is installed (scripts/world/install.sh).
    let out = std::process::Command::new("/usr/bin/python3")
        .arg(dir.path().join("verify.py"))
        .arg(dir.path().join("records.json"))
        .arg(dir.path().join("msg.eml"))
        .output()
        .expect("run /usr/bin/python3 (apt-get install python3-dkim python3-nacl)");
    assert!(
        out.status.success(),
        "dkimpy failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn setup() -> (Signer, (String, String)) {
    let keys = generate().unwrap();
    let records = public_records(&keys).unwrap();
    (Signer::new("sender.test", "hd1", &keys).unwrap(), records)
}

#[test]
fn a_campaign_message_carries_two_signatures_dkimpy_accepts() {
    let (signer, records) = setup();
    let from = EmailAddress::parse("ann@sender.test").unwrap();
    let to = EmailAddress::parse("bob@inbox.test").unwrap();
    let raw = build_message(&OutgoingMessage {
        from_name: Some("Ann Sender"),
        from: &from,
        to_name: Some("Bob"),
        to: &to,
        subject: "Hello Bob — ünïcode subject",
        html: "<p>Hello Bob</p>\n<p>A second paragraph</p>",
        text: "Hello Bob\n\nA second paragraph\n",
        message_id: "abc.123@sender.test",
        date: 1_764_151_200,
        reply_to: None,
        headers: &[("List-Unsubscribe", "<https://sender.test/u/1>".to_string())],
        attachments: &[],
    })
    .unwrap();
    let signed = signer.sign(&raw).unwrap();
    let text = String::from_utf8_lossy(&signed);
    assert_eq!(text.matches("DKIM-Signature:").count(), 2, "{text}");
    assert!(
        text.contains("a=rsa-sha256") && text.contains("a=ed25519-sha256"),
        "{text}"
    );
    assert_eq!(
        dkimpy("sender.test", "hd1", (&records.0, &records.1), &signed),
        vec![true, true]
    );

    // A changed Subject fails both: the check can fail.
    let tampered = text.replace("Subject: ", "Subject: Re: ");
    assert_eq!(
        dkimpy(
            "sender.test",
            "hd1",
            (&records.0, &records.1),
            tampered.as_bytes()
        ),
        vec![false, false]
    );
}

/// Regression test for mail-auth 0.13's relaxed body hash bug (upstream issue 62): a
/// single-part body ending in whitespace-only lines.
#[test]
fn a_body_ending_in_whitespace_only_lines_still_verifies() {
    let (signer, records) = setup();
    let raw = b"From: Ann <ann@sender.test>\r\nTo: bob@inbox.test\r\nSubject: plain\r\nDate: Wed, 26 Nov 2026 10:00:00 +0000\r\nMessage-ID: <p1@sender.test>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello\r\n  \r\n\t\r\n \r\n";
    let signed = signer.sign(raw).unwrap();
    assert_eq!(
        dkimpy("sender.test", "hd1", (&records.0, &records.1), &signed),
        vec![true, true]
    );
}
