//! The classifier on the wording surveys' probes (`docs/research/*-probes.tsv`): one concrete
//! reply per surveyed wording, each citing where the wording was seen and labelled with the
//! reason it means. These are tuning data (rules were written from the surveys), so the figures
//! say how much of what is known about real products' wordings the rules cover, not how they
//! hold on unseen mail: that is the check set's job.
//!
//! Scored: the probes whose meaning the survey calls beyond doubt (confidence `high` or
//! `medium`). Guarded: no probe whose meaning is soft reads hard (a wrong hard suppresses a good
//! address) nor one whose meaning is hard reads soft (a dead address mailed again), and each
//! survey's agreement stays above the floor measured when it was added.

use std::path::Path;

use herald_mail::feedback::{Classified, classify_message, classify_text};

mod common;
use common::Score;

/// Per survey, the reason agreement below which something that worked stopped working. Under the
/// figures measured when each was added; not targets.
const FLOORS: &[(&str, f64)] = &[
    ("account", 0.92),
    ("blocklist", 0.87),
    ("codes", 0.91),
    ("content", 0.94),
    ("languages", 0.85),
    ("legacy", 0.86),
    ("localized", 0.93),
    ("isp", 0.82),
    ("mta", 0.93),
    ("ownwords", 0.91),
    ("providers", 0.43),
    ("sender", 0.75),
    ("transport", 0.90),
];

/// Reasons that make an address hard when the refusal is permanent (Sisimai's hard bounces).
const HARD_REASONS: &[&str] = &["userunknown", "hostunknown", "hasmoved", "notaccept"];

struct Probe {
    id: String,
    text: String,
    expected: String,
    hard: bool,
}

/// The scored probes of one survey file: a header names the columns; `id`, `text`, `expected`
/// and `confidence` are required (a text's line breaks written `\n`), `hard_soft` is optional (without it, hard follows the reason and
/// a permanent leading code).
fn read(path: &Path) -> Vec<Probe> {
    let body = std::fs::read_to_string(path).expect("probe file readable");
    let mut lines = body.lines();
    let header: Vec<&str> = lines.next().expect("a header line").split('\t').collect();
    let col = |name: &str| header.iter().position(|h| *h == name);
    let need =
        |name: &str| col(name).unwrap_or_else(|| panic!("{}: no column {name}", path.display()));
    let (id, text, expected, confidence) = (
        need("id"),
        need("text"),
        need("expected"),
        need("confidence"),
    );
    let hard_soft = col("hard_soft");
    let mut probes = Vec::new();
    for (n, line) in lines.enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split('\t').collect();
        assert!(
            f.len() <= header.len(),
            "{}:{}: {} fields, the header names {} (a tab inside a field?)",
            path.display(),
            n + 2,
            f.len(),
            header.len()
        );
        let field = |i: usize| {
            f.get(i).map(|s| s.trim()).unwrap_or_else(|| {
                panic!("{}:{}: missing field {}", path.display(), n + 2, header[i])
            })
        };
        let want = field(expected);
        if want.is_empty() || !matches!(field(confidence), "high" | "medium") {
            continue;
        }
        // A report's body keeps its line breaks as the two characters `\n` (a TSV field holds
        // no newline).
        let text = field(text).replace("\\n", "\n");
        let hard = match hard_soft.map(field) {
            Some("hard") => true,
            Some("soft") => false,
            Some(other) => panic!("{}:{}: hard_soft {other:?}", path.display(), n + 2),
            None => HARD_REASONS.contains(&want) && text.trim_start().starts_with('5'),
        };
        probes.push(Probe {
            id: field(id).to_string(),
            text,
            expected: want.to_string(),
            hard,
        });
    }
    probes
}

/// A report's body (several lines that are not one multi-line reply) is read as the bounce it
/// comes in; one reply, on one line or several (the first may carry a relay's "host … said: "),
/// as a reply.
fn is_report_body(text: &str) -> bool {
    let one_reply = text.lines().skip(1).all(|l| {
        l.get(..3)
            .is_some_and(|c| c.bytes().all(|b| b.is_ascii_digit()))
    });
    text.contains('\n') && !one_reply
}

fn classify(text: &str) -> Classified {
    if is_report_body(text) {
        classify_message(&common::as_bounce(text.as_bytes()))
    } else {
        classify_text(text)
    }
}

#[test]
fn surveyed_wordings_read_as_they_mean() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/research");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("docs/research readable")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with("-probes.tsv"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no probe files in {}", dir.display());
    let mut wrong_hard = Vec::new();
    let mut wrong_soft = Vec::new();
    let mut below = Vec::new();
    for path in &files {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix("-probes.tsv"))
            .unwrap_or_default()
            .to_string();
        let (mut reason, mut hard_soft) = (Score::default(), Score::default());
        let mut misses = Vec::new();
        for p in read(path) {
            let got = classify(&p.text);
            let v = got.recipients.first();
            let have = v.map_or("none".to_string(), |v| v.reason.to_string());
            let hard = v.is_some_and(|v| v.hard);
            // A report that names no address (Exchange 5.5's X.400 form) is never hard: there
            // is no address to suppress, and its words may be the original's.
            let p = Probe {
                hard: p.hard && (p.text.contains('@') || !is_report_body(&p.text)),
                ..p
            };
            reason.add(have == p.expected);
            hard_soft.add(hard == p.hard);
            if have != p.expected || hard != p.hard {
                misses.push(format!(
                    "  {name} {}: {}{}, read {have}{}: {}",
                    p.id,
                    p.expected,
                    if p.hard { " (hard)" } else { "" },
                    if hard { " (hard)" } else { "" },
                    p.text.replace('\n', "\\n")
                ));
            }
            if hard && !p.hard {
                wrong_hard.push(format!("{name} {}: {}", p.id, p.text));
            }
            if p.hard && !hard {
                wrong_soft.push(format!("{name} {}: {}", p.id, p.text));
            }
        }
        println!(
            "probes {name}: reasons {}/{} ({:.1} %), hard/soft {}/{}",
            reason.right,
            reason.total,
            100.0 * reason.ratio(),
            hard_soft.right,
            hard_soft.total
        );
        for m in &misses {
            println!("{m}");
        }
        assert!(reason.total > 0, "{name}: no probe is scored");
        let floor = FLOORS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, f)| *f)
            .unwrap_or_else(|| panic!("{name}: no floor in FLOORS"));
        if reason.ratio() < floor {
            below.push(format!("{name}: {:.3} < {floor}", reason.ratio()));
        }
    }
    assert!(
        wrong_hard.is_empty(),
        "soft wordings read hard: {wrong_hard:#?}"
    );
    // A dead address read soft keeps being mailed: none of the surveyed ones may be.
    assert!(
        wrong_soft.is_empty(),
        "hard wordings read soft: {wrong_soft:#?}"
    );
    assert!(below.is_empty(), "below the floor: {below:?}");
}
