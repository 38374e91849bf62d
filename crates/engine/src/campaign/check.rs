//! The pre-send check (issue 19, item 5): what receivers' bulk-sender rules (Gmail's and
//! Yahoo's) and mail clients will hold against a campaign, each in plain words with what to
//! do. Plain policy over what the caller gathered (the domain's verification through DNS, the
//! campaign rendered for one contact, the health figures of the last 30 days): no I/O here.

use crate::api_types::{CheckFinding, CheckSeverity};
use crate::domains::verify::{Status, Verification};

/// Gmail clips a message whose HTML is larger than this ("[Message clipped]"): the rest,
/// the unsubscribe link and the open pixel included, is behind a click.
pub const GMAIL_CLIP_BYTES: usize = 102 * 1024;
/// Gmail's published spam-rate thresholds for bulk senders: stay under 0.1 %, never reach 0.3 %.
pub const COMPLAINTS_WARN: f64 = 0.001;
pub const COMPLAINTS_PROBLEM: f64 = 0.003;
/// The findings that stop a send unless a reason is given (recorded on the campaign): a
/// spam-complaint rate past Gmail's 0.3 %, overall or at one receiving provider.
pub const BLOCKING_CODES: &[&str] = &["complaint_rate_high", "provider_complaint_rate_high"];

/// Fewer deliveries than this make a complaint rate noise, not a signal.
pub const COMPLAINTS_MIN_DELIVERED: u64 = 200;

/// What the check looks at.
pub struct CheckInput<'a> {
    /// The From address's domain.
    pub from_domain: &'a str,
    /// The installation is a sandbox: nothing leaves the machine, the domain is not checked.
    pub sandbox: bool,
    /// The connected domain's verification now; None when the From domain is not connected.
    pub verification: Option<&'a Verification>,
    /// Why the From gate was bypassed for this campaign, if it was.
    pub gate_override: Option<&'a str>,
    /// The HTML as rendered for the list's first contact, with `unsubscribe_url` set to
    /// `unsubscribe_placeholder`.
    pub html: &'a str,
    pub unsubscribe_placeholder: &'a str,
    /// Its messages carry List-Unsubscribe and List-Unsubscribe-Post (RFC 8058).
    pub one_click: bool,
    /// The `List-Id` its messages carry.
    pub list_id: &'a str,
    /// Messages delivered (or relayed) and spam reports in the last 30 UTC days, and how many
    /// campaigns sent in them.
    pub recent: (u64, u64, usize),
    /// Per receiving provider (gmail, microsoft, yahoo, apple, …) in the last 30 days:
    /// messages delivered (or relayed) and spam reports. Gmail and Yahoo judge a sender by
    /// its rate at them, whatever the rest of its mail does.
    pub providers: Vec<(String, u64, u64)>,
    /// The campaign's attachments (name, bytes), and whether the installation allows them.
    pub attachments: &'a [(String, i64)],
    pub attachments_enabled: bool,
}

fn finding(code: &str, severity: CheckSeverity, text: String, fix: Option<String>) -> CheckFinding {
    CheckFinding {
        code: code.to_string(),
        severity,
        text,
        fix,
    }
}

/// Every finding, problems first.
pub fn findings(i: &CheckInput<'_>) -> Vec<CheckFinding> {
    let mut out = Vec::new();
    domain(i, &mut out);
    content(i, &mut out);
    complaints(i, &mut out);
    attachments(i, &mut out);
    out.push(finding(
        "list_id",
        CheckSeverity::Info,
        format!("Its messages carry List-Id: {}.", i.list_id),
        None,
    ));
    out.sort_by_key(|f| std::cmp::Reverse(f.severity));
    out
}

fn attachments(i: &CheckInput<'_>, out: &mut Vec<CheckFinding>) {
    if i.attachments.is_empty() {
        return;
    }
    let total: i64 = i.attachments.iter().map(|a| a.1).sum();
    let names = i
        .attachments
        .iter()
        .map(|a| a.0.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    out.push(if i.attachments_enabled {
        finding(
            "attachments",
            CheckSeverity::Warning,
            format!(
                "Every copy carries {} attachment(s), {} KB together ({names}): bulk mail with \
                 attachments is filtered more often, some receivers strip or quarantine them, \
                 and each copy is about a third larger than the files (base64).",
                i.attachments.len(),
                (total + 1023) / 1024
            ),
            Some(
                "put the file on your site and link to it instead (herald campaign detach ID \
                 NAME)"
                    .into(),
            ),
        )
    } else {
        finding(
            "attachments_off",
            CheckSeverity::Problem,
            format!(
                "The campaign carries {} attachment(s) ({names}) but attachments are off on \
                 this installation ([attachments] enabled = false).",
                i.attachments.len()
            ),
            Some(
                "remove them (herald campaign detach ID NAME), or set [attachments] enabled = \
                 true"
                    .into(),
            ),
        )
    });
}

fn domain(i: &CheckInput<'_>, out: &mut Vec<CheckFinding>) {
    if i.sandbox {
        out.push(finding(
            "sandbox",
            CheckSeverity::Info,
            "Sandbox: every message goes to the capture folder, so the From domain's DNS \
             records were not checked."
                .into(),
            None,
        ));
        return;
    }
    let Some(v) = i.verification else {
        out.push(finding(
            "unaligned_from",
            CheckSeverity::Problem,
            format!(
                "The From domain {} is not connected: its messages carry no DKIM signature \
                 aligned with it, so Gmail, Yahoo and Microsoft, which require DMARC alignment \
                 from bulk senders, will junk or reject them.",
                i.from_domain
            ),
            Some(format!(
                "herald domain add {0}, publish the records it prints, then herald domain verify {0}",
                i.from_domain
            )),
        ));
        return;
    };
    for c in v.records.iter().filter(|c| c.status != Status::Pass) {
        let severity = if c.required {
            CheckSeverity::Problem
        } else {
            CheckSeverity::Warning
        };
        let found = c
            .found
            .as_deref()
            .map(|f| format!(" (found: {f})"))
            .unwrap_or_default();
        out.push(finding(
            &format!("{}_{}", c.kind, c.status.as_str()),
            severity,
            format!(
                "The {} record {} is {}{found}: {}",
                c.kind,
                c.name,
                match c.status {
                    Status::Missing => "missing",
                    Status::DnsError => "not answering in DNS",
                    _ => "wrong",
                },
                c.why
            ),
            Some(format!("publish {} {}", c.name, c.expected)),
        ));
    }
    if v.records
        .iter()
        .all(|c| !c.required || c.status == Status::Pass)
    {
        out.push(finding(
            "domain_verified",
            CheckSeverity::Info,
            format!(
                "{} verifies: every required record (DKIM, SPF, DMARC, return path) passes, \
                 aligned with the From domain {}.",
                v.domain, i.from_domain
            ),
            None,
        ));
    }
    if let Some(why) = i.gate_override {
        out.push(finding(
            "gate_override",
            CheckSeverity::Warning,
            format!("It was created although its From domain did not verify ({why})."),
            None,
        ));
    }
}

fn content(i: &CheckInput<'_>, out: &mut Vec<CheckFinding>) {
    if !i.one_click {
        out.push(finding(
            "no_one_click_unsubscribe",
            CheckSeverity::Problem,
            "Its messages carry no one-click unsubscribe (List-Unsubscribe-Post, RFC 8058), \
             which Gmail and Yahoo require from bulk senders."
                .into(),
            Some("set [http] public_url so Herald can sign unsubscribe links".into()),
        ));
    }
    if !has_link_to(i.html, i.unsubscribe_placeholder) {
        out.push(finding(
            "no_unsubscribe_link",
            CheckSeverity::Problem,
            "The message has no visible unsubscribe link: people who cannot find one press \
             \"Report spam\" instead."
                .into(),
            Some("add <a href=\"{{ unsubscribe_url }}\">Unsubscribe</a> to the HTML".into()),
        ));
    }
    if i.html.len() > GMAIL_CLIP_BYTES {
        out.push(finding(
            "clipped_by_gmail",
            CheckSeverity::Warning,
            format!(
                "The HTML is {} KB: Gmail clips anything over 102 KB, hiding the rest (the \
                 unsubscribe link and the open pixel with it).",
                i.html.len().div_ceil(1024)
            ),
            Some("shorten the HTML, or move long content to a web page".into()),
        ));
    }
    let missing = images_without_alt(i.html);
    if missing > 0 {
        out.push(finding(
            "images_without_alt",
            CheckSeverity::Warning,
            format!(
                "{missing} image(s) have no alt text: with images blocked (the default in many \
                 clients) the reader sees nothing in their place, and filters score \
                 image-only mail as spam."
            ),
            Some("give every <img> an alt=\"…\" describing it".into()),
        ));
    }
}

/// The spam-report findings alone (overall and per provider), as `findings` makes them: what a
/// send needs to decide whether it is blocked ([`BLOCKING_CODES`]).
pub fn complaint_findings(
    recent: (u64, u64, usize),
    providers: Vec<(String, u64, u64)>,
) -> Vec<CheckFinding> {
    let mut out = Vec::new();
    complaints_of(recent, &providers, &mut out);
    out
}

fn complaints(i: &CheckInput<'_>, out: &mut Vec<CheckFinding>) {
    complaints_of(i.recent, &i.providers, out);
}

fn complaints_of(
    recent: (u64, u64, usize),
    providers: &[(String, u64, u64)],
    out: &mut Vec<CheckFinding>,
) {
    let (delivered, complained, campaigns) = recent;
    if delivered < COMPLAINTS_MIN_DELIVERED {
        return;
    }
    let rate = complained as f64 / delivered as f64;
    let text = format!(
        "Spam reports in the last 30 days: {complained} of {delivered} delivered ({:.2} %) over \
         {campaigns} campaign(s); Gmail asks bulk senders to stay under 0.1 % and never reach 0.3 %.",
        rate * 100.0
    );
    let (code, severity) = if rate >= COMPLAINTS_PROBLEM {
        ("complaint_rate_high", CheckSeverity::Problem)
    } else if rate >= COMPLAINTS_WARN {
        ("complaint_rate_rising", CheckSeverity::Warning)
    } else {
        ("complaint_rate", CheckSeverity::Info)
    };
    let fix = (severity != CheckSeverity::Info).then(|| {
        "send only to people who asked for it (double opt-in), make unsubscribing easy, and \
         leave out those who have not opened in months"
            .to_string()
    });
    out.push(finding(code, severity, text, fix));
    provider_complaints(providers, out);
}

/// A provider whose own spam-report rate is past Gmail's thresholds, though the whole may not be.
fn provider_complaints(providers: &[(String, u64, u64)], out: &mut Vec<CheckFinding>) {
    for (name, delivered, complained) in providers {
        if *delivered < COMPLAINTS_MIN_DELIVERED {
            continue;
        }
        let rate = *complained as f64 / *delivered as f64;
        let (code, severity) = if rate >= COMPLAINTS_PROBLEM {
            ("provider_complaint_rate_high", CheckSeverity::Problem)
        } else if rate >= COMPLAINTS_WARN {
            ("provider_complaint_rate_rising", CheckSeverity::Warning)
        } else {
            continue;
        };
        out.push(finding(
            code,
            severity,
            format!(
                "At {name}, spam reports in the last 30 days: {complained} of {delivered} \
                 delivered ({:.2} %); {name} judges a sender by its rate there (Gmail and Yahoo: \
                 under 0.1 %, never 0.3 %), so mail to {name} is junked or refused first.",
                rate * 100.0
            ),
            Some(format!(
                "look at who reports you at {name} (herald health, the campaigns' complained \
                 tabs); send there only to people who opened recently until the rate falls"
            )),
        ));
    }
}

/// Whether `html` has a link (`href`) to exactly `url`.
fn has_link_to(html: &str, url: &str) -> bool {
    let lower = html.to_ascii_lowercase();
    let mut from = 0;
    while let Some(at) = lower[from..].find("href") {
        let start = from + at + 4;
        let rest = html[start..].trim_start();
        if let Some(value) = rest.strip_prefix('=') {
            let value = value.trim_start();
            let v = match value.chars().next() {
                Some(q @ ('"' | '\'')) => value[1..].split(q).next().unwrap_or(""),
                _ => value
                    .split(|c: char| c.is_ascii_whitespace() || c == '>')
                    .next()
                    .unwrap_or(""),
            };
            if v.trim() == url {
                return true;
            }
        }
        from = start;
    }
    false
}

/// How many `<img>` tags have no `alt` attribute (an empty `alt=""` counts as one: it says
/// the image is decoration).
fn images_without_alt(html: &str) -> usize {
    let lower = html.to_ascii_lowercase();
    let mut n = 0;
    let mut from = 0;
    while let Some(at) = lower[from..].find("<img") {
        let start = from + at + 4;
        let end = lower[start..].find('>').map_or(lower.len(), |e| start + e);
        let tag = &lower[start..end];
        let has_alt = tag.match_indices("alt").any(|(k, _)| {
            let before_ok = tag[..k]
                .chars()
                .last()
                .is_none_or(|c| c.is_ascii_whitespace() || c == '/');
            let after = tag[k + 3..].trim_start();
            before_ok && after.starts_with('=')
        });
        if !has_alt {
            n += 1;
        }
        from = end;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input<'a>(html: &'a str) -> CheckInput<'a> {
        CheckInput {
            from_domain: "news.example.com",
            sandbox: false,
            verification: None,
            gate_override: None,
            html,
            unsubscribe_placeholder: "https://herald.invalid/u/check",
            one_click: true,
            list_id: "\"news\" <news.example.com>",
            recent: (0, 0, 0),
            providers: Vec::new(),
            attachments: &[],
            attachments_enabled: false,
        }
    }

    #[test]
    fn attachments_warn_and_are_a_problem_when_off() {
        let ok = "<p>Hi</p><a href=\"https://herald.invalid/u/check\">Unsubscribe</a>";
        let files = [("a.pdf".to_string(), 3000), ("b.txt".to_string(), 100)];
        let mut i = input(ok);
        i.attachments = &files;
        i.attachments_enabled = true;
        let f = findings(&i);
        let a = f.iter().find(|x| x.code == "attachments").unwrap();
        assert_eq!(a.severity, CheckSeverity::Warning);
        assert!(a.text.contains("2 attachment(s), 4 KB") && a.text.contains("a.pdf, b.txt"));
        i.attachments_enabled = false;
        let f = findings(&i);
        assert_eq!(
            f.iter()
                .find(|x| x.code == "attachments_off")
                .map(|x| x.severity),
            Some(CheckSeverity::Problem)
        );
        assert!(
            !codes(&findings(&input(ok)))
                .iter()
                .any(|c| c.starts_with("attach"))
        );
    }

    fn codes(f: &[CheckFinding]) -> Vec<&str> {
        f.iter().map(|f| f.code.as_str()).collect()
    }

    #[test]
    fn names_each_problem() {
        let ok = "<p>Hi</p><a href=\"https://herald.invalid/u/check\">Unsubscribe</a>";
        let f = findings(&input(ok));
        assert_eq!(codes(&f), vec!["unaligned_from", "list_id"]);
        assert_eq!(f[0].severity, CheckSeverity::Problem);

        let f = findings(&input("<p>Hi</p><img src=a.png><IMG SRC='b' ALT='b'>"));
        assert!(codes(&f).contains(&"no_unsubscribe_link"), "{f:?}");
        let alt = f.iter().find(|x| x.code == "images_without_alt").unwrap();
        assert!(alt.text.starts_with("1 image"), "{alt:?}");
        // An attribute that merely contains "alt" is not alt text.
        assert_eq!(images_without_alt("<img data-salt=1 src=x>"), 1);
        assert_eq!(images_without_alt("<img src=x alt=\"\">"), 0);

        let big = format!("{ok}{}", "x".repeat(GMAIL_CLIP_BYTES));
        assert!(codes(&findings(&input(&big))).contains(&"clipped_by_gmail"));

        let mut i = input(ok);
        i.one_click = false;
        assert!(codes(&findings(&i)).contains(&"no_one_click_unsubscribe"));
    }

    #[test]
    fn link_forms() {
        let u = "https://herald.invalid/u/check";
        assert!(has_link_to(&format!("<a HREF = '{u}'>x</a>"), u));
        assert!(has_link_to(&format!("<a href={u}>x</a>"), u));
        assert!(!has_link_to(&format!("<p>{u}</p>"), u), "text, not a link");
        assert!(!has_link_to(&format!("<a href=\"{u}x\">"), u));
    }

    #[test]
    fn complaint_thresholds() {
        let ok = "<a href=\"https://herald.invalid/u/check\">u</a>";
        let at = |delivered, complained| {
            let mut i = input(ok);
            i.recent = (delivered, complained, 3);
            findings(&i)
                .into_iter()
                .find(|f| f.code.starts_with("complaint"))
                .map(|f| (f.code, f.severity))
        };
        assert_eq!(at(100, 50), None, "too few to tell");
        assert_eq!(at(10_000, 5).map(|x| x.1), Some(CheckSeverity::Info));
        assert_eq!(
            at(10_000, 12),
            Some(("complaint_rate_rising".into(), CheckSeverity::Warning))
        );
        assert_eq!(
            at(10_000, 30),
            Some(("complaint_rate_high".into(), CheckSeverity::Problem))
        );
    }

    #[test]
    fn one_provider_past_its_limit_is_named() {
        let mut i = input("<a href=\"https://herald.invalid/u/check\">u</a>");
        // 0.05 % overall, but 0.4 % at gmail; yahoo under the limit, apple too small to tell.
        i.recent = (100_000, 50, 10);
        i.providers = vec![
            ("gmail".into(), 5_000, 20),
            ("yahoo".into(), 10_000, 5),
            ("apple".into(), 100, 10),
        ];
        let f = findings(&i);
        let gmail = f
            .iter()
            .find(|x| x.code == "provider_complaint_rate_high")
            .unwrap_or_else(|| panic!("{f:?}"));
        assert_eq!(gmail.severity, CheckSeverity::Problem);
        assert!(gmail.text.starts_with(
            "At gmail, spam reports in the last 30 days: 20 of 5000 delivered (0.40 %)"
        ));
        assert_eq!(
            f.iter().filter(|x| x.code.starts_with("provider_")).count(),
            1,
            "{f:?}"
        );
        i.providers = vec![("microsoft".into(), 10_000, 12)];
        assert!(codes(&findings(&i)).contains(&"provider_complaint_rate_rising"));
    }
}
