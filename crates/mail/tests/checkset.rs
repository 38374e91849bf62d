//! The classifier on the check set (testdata/checkset, see its README): bounces no rule was
//! written against — real DSNs the recipient world's Postfix wrote for causes set up on purpose,
//! and other projects' labelled fixtures. Nothing in the classifier may be changed to fix a
//! miss here; the figures printed are the ones the README quotes.
//!
//! Scored per recipient, each where the sample is labelled: the bounce recognised, the
//! recipient found, the DSN status, permanence (5.x.x / 4.x.x), the reason, hard/soft.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use herald_mail::feedback::{Classified, Kind, classify_message, classify_text};

mod common;
use common::Score;

/// Regression guards: below these, something that worked on unseen mail stopped working.
/// They sit under the figures measured when the set was made; they are not targets.
const FLOORS: &[(&str, f64)] = &[
    ("recognised", 0.95),
    ("recipient", 0.95),
    ("status", 0.90),
    ("permanence", 0.85),
    ("reason", 0.75),
    ("hard_soft", 0.88),
    ("reply_reason", 0.80),
];

struct Row {
    file: String,
    kind: String,
    recipients: Vec<String>,
    reasons: Vec<String>,
    hard_soft: Vec<String>,
    statuses: Vec<String>,
    permanence: String,
}

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/checkset")
}

fn list(s: &str) -> Vec<String> {
    s.split(';')
        .map(|x| x.trim().to_string())
        .filter(|x| !x.is_empty())
        .collect()
}

fn rows() -> Vec<Row> {
    let text = std::fs::read_to_string(dir().join("manifest.tsv")).expect("manifest");
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            let get = |i: usize| c.get(i).copied().unwrap_or("").trim().to_string();
            Row {
                file: get(0),
                kind: get(1),
                recipients: list(&get(2)),
                reasons: list(&get(3)),
                hard_soft: list(&get(4)),
                statuses: list(&get(5)),
                permanence: get(6),
            }
        })
        .collect()
}

/// A fixture that is only a bounce's human-readable text (no header): given the header a
/// mailer daemon's bounce would have, so it is read as it would arrive.
fn as_message(kind: &str, bytes: Vec<u8>) -> Vec<u8> {
    if kind != "dsn-text" {
        return bytes;
    }
    let mut m = b"From: MAILER-DAEMON@mx.example.net (Mail Delivery System)\r\n\
Subject: Undelivered Mail Returned to Sender\r\n\
Content-Type: text/plain; charset=utf-8\r\n\r\n"
        .to_vec();
    m.extend(bytes);
    m
}

/// The verdict for `email` (case-insensitive), else the only verdict of a one-recipient row.
fn verdict_for<'a>(
    c: &'a Classified,
    email: Option<&str>,
    one: bool,
) -> Option<&'a herald_mail::feedback::Verdict> {
    let found = email.and_then(|e| {
        c.recipients.iter().find(|v| {
            v.email
                .as_deref()
                .is_some_and(|x| x.eq_ignore_ascii_case(e))
        })
    });
    found.or_else(|| (one && c.recipients.len() == 1).then(|| &c.recipients[0]))
}

#[test]
fn check_set_figures() {
    let rows = rows();
    assert!(!rows.is_empty(), "the check set is empty");
    let mut scores: BTreeMap<&str, Score> = BTreeMap::new();
    let mut by_source: BTreeMap<String, Score> = BTreeMap::new();
    // Reasons per source: real DSNs labelled by construction apart from other projects' labels.
    let mut reasons_by_source: BTreeMap<String, Score> = BTreeMap::new();
    let mut misses: Vec<String> = Vec::new();
    for row in &rows {
        let bytes = std::fs::read(dir().join(&row.file)).expect("sample");
        if row.kind == "reply" {
            // One SMTP/LMTP reply as a server answered it: its reason.
            let got = classify_text(&String::from_utf8_lossy(&bytes));
            let have = got.recipients.first().map(|v| v.reason.to_string());
            if let Some(want) = row.reasons.first() {
                let ok = have.as_deref() == Some(want.as_str());
                scores.entry("reply_reason").or_default().add(ok);
                if !ok {
                    misses.push(format!("{}: {want}, read {have:?}", row.file));
                }
            }
            continue;
        }
        let got = classify_message(&as_message(&row.kind, bytes));
        let source = row.file.split("__").next().unwrap_or("").to_string();
        if row.kind == "not-bounce" {
            let ok = got.kind != Kind::Dsn;
            scores.entry("recognised").or_default().add(ok);
            if !ok {
                misses.push(format!("{}: read as a bounce", row.file));
            }
            continue;
        }
        let recognised = got.kind == Kind::Dsn;
        scores.entry("recognised").or_default().add(recognised);
        by_source.entry(source.clone()).or_default().add(recognised);
        if !recognised {
            misses.push(format!("{}: not recognised ({:?})", row.file, got.kind));
        }
        let n = row
            .recipients
            .len()
            .max(row.reasons.len())
            .max(row.statuses.len())
            .max(1);
        for i in 0..n {
            let email = row.recipients.get(i).map(String::as_str);
            if let Some(e) = email {
                let found = verdict_for(&got, Some(e), false).is_some();
                scores.entry("recipient").or_default().add(found);
                if !found {
                    misses.push(format!("{}: recipient {e} not found", row.file));
                }
            }
            let v = verdict_for(&got, email, n == 1);
            if let Some(want) = row.statuses.get(i) {
                let have = v.and_then(|v| v.status.clone()).unwrap_or_default();
                let ok = &have == want;
                scores.entry("status").or_default().add(ok);
                if !ok {
                    misses.push(format!("{}: status {want}, read {have:?}", row.file));
                }
            }
            if matches!(row.permanence.as_str(), "permanent" | "temporary") {
                let class = v
                    .and_then(|v| v.status.as_deref().or(v.reply_code.as_deref()))
                    .and_then(|s| s.chars().next());
                let have = match class {
                    Some('5') => "permanent",
                    Some('4') => "temporary",
                    _ => "unknown",
                };
                let ok = have == row.permanence;
                scores.entry("permanence").or_default().add(ok);
                if !ok {
                    misses.push(format!("{}: {}, read {have}", row.file, row.permanence));
                }
            }
            if let Some(want) = row.reasons.get(i) {
                let have = v.map(|v| v.reason.to_string()).unwrap_or_default();
                let ok = &have == want;
                scores.entry("reason").or_default().add(ok);
                reasons_by_source.entry(source.clone()).or_default().add(ok);
                if !ok {
                    misses.push(format!("{}: {want}, read {have:?}", row.file));
                }
            }
            if let Some(want) = row.hard_soft.get(i) {
                let have = match v {
                    Some(v) if v.hard => "hard",
                    Some(_) => "soft",
                    None => "none",
                };
                let ok = have == want;
                scores.entry("hard_soft").or_default().add(ok);
                if !ok {
                    misses.push(format!("{}: {want}, read {have}", row.file));
                }
            }
        }
    }
    println!("check set ({} samples, testdata/checkset):", rows.len());
    for (k, s) in &scores {
        println!(
            "  {k:<12} {:>3}/{:<3} = {:5.1} %",
            s.right,
            s.total,
            s.ratio() * 100.0
        );
    }
    for (k, s) in &by_source {
        println!("  recognised from {k}: {}/{}", s.right, s.total);
    }
    for (k, s) in &reasons_by_source {
        println!("  reasons from {k}: {}/{}", s.right, s.total);
    }
    for m in &misses {
        println!("  miss: {m}");
    }
    for (k, floor) in FLOORS {
        // A floored figure with nothing scored is a broken manifest, not a pass.
        let s = scores
            .get(k)
            .map(Score::ratio)
            .unwrap_or_else(|| panic!("{k}: nothing in the check set scores it"));
        assert!(
            s >= *floor,
            "{k}: {:.1} % under its floor {floor}",
            s * 100.0
        );
    }
}
