//! Reading a non-standard bounce: the recipients and their error lines come from the text a
//! human would read. Written by hand because no crate reads these (they differ per MTA and
//! version); the rules stay generic — where addresses sit, where the returned original starts,
//! which lines carry an SMTP reply — and never name a particular MTA's template.

use super::mta::{self, Reporter};
use super::reasons::{self, Refusal, Status, stage_in};
use super::{Verdict, clip, leading_reply_code};

/// Lines after which the returned original message starts.
const ORIGINAL_MARKERS: &[&str] = &[
    "this is a copy of the message",
    "this is a copy of the headers",
    "copy of the original message",
    "below this line is a copy of the message",
    "original message follows",
    "original message headers",
    "original message",
    "unsent message below",
    "message headers follow",
    "message header follows",
    "headers of your message follow",
    "your message reads",
    "returned message follows",
    "returned message",
    "content-type: message/rfc822",
    "content-type: text/rfc822-headers",
];

/// Words that say the queue gave up after retrying for a long time.
const GAVE_UP: &[&str] = &[
    "delivery time expired",
    "retry timeout exceeded",
    "retry time not reached for any host after a long failure period",
    "message expired",
    "message timed out",
    "could not be delivered within",
    "was not delivered within",
    "have been unable to deliver",
    "too long in queue",
    "queue too long",
    "delivery attempts will not continue",
    "has been delayed and will not be retried",
    "delivery was deferred until the message expired",
    "timeout exceeded",
    "timed out in queue",
    "exceeded maximum delivery attempts",
    "maximum delivery attempts exceeded",
    "maximum delivery attempts reached",
    "message could not be delivered in time",
    // chasquid: "… failed repeatedly and timed out, last error: …".
    "failed repeatedly and timed out",
];

pub(super) fn says_gave_up(lower: &str) -> bool {
    GAVE_UP.iter().any(|w| lower.contains(w))
        || (lower.contains("delivery failed") && lower.contains(" attempts"))
        || (GAVE_UP_OR_WARNING.iter().any(|w| lower.contains(w))
            && !STILL_RETRYING.iter().any(|w| lower.contains(w)))
}

/// Words a final report and a warning share ("could not be delivered for 5 days" / "… for 12
/// hours. It will be retried until …"): the queue gave up unless the text says it goes on.
const GAVE_UP_OR_WARNING: &[&str] = &[
    "could not be delivered for",
    "has not been delivered for",
    "were unable to deliver your message for",
    "unable to deliver for",
];

/// Words of a warning that the queue goes on trying.
const STILL_RETRYING: &[&str] = &[
    "will be retried",
    "warning only",
    "warning message only",
    "do not need to resend",
    "no need to resend",
    "will continue trying",
    "will continue to try",
    "will keep trying",
    "delivery attempts will continue",
];

/// Words of a delay warning: the message is still queued and will be retried.
const DELAYED: &[&str] = &[
    "has been delayed",
    "have been delayed",
    "delivery delayed",
    "delivery has been delayed",
    "delayed delivery",
    "warning message only",
    "do not need to resend",
    "no need to resend",
    "will be retried",
    "will continue trying",
    "will continue to try",
    "will keep trying",
    "still trying",
    "not yet been delivered",
    "have not yet received",
    "delivery attempts will continue",
];

pub(super) fn says_delayed(lower: &str) -> bool {
    DELAYED.iter().any(|w| lower.contains(w))
}

/// The report's own text, without the returned original message: cut at the first line that
/// announces it (markers count only at the start of a line, after decoration such as dashes).
pub(super) fn cut_returned_original(text: &str) -> &str {
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        let head = line
            .trim_start_matches(|c: char| {
                c == '-' || c == '=' || c == '*' || c == '_' || c.is_whitespace()
            })
            .to_ascii_lowercase();
        if at > 0 && ORIGINAL_MARKERS.iter().any(|m| head.starts_with(m)) {
            return &text[..at];
        }
        at += line.len();
    }
    text
}

/// Addresses in a text, in order of appearance, each with its byte offset.
fn addresses(text: &str) -> Vec<(usize, String)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let is_local = |c: u8| c.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~.".contains(&c);
    let is_domain = |c: u8| c.is_ascii_alphanumeric() || c == b'-' || c == b'.';
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'@' {
            let mut s = i;
            while s > 0 && is_local(b[s - 1]) {
                s -= 1;
            }
            let mut e = i + 1;
            while e < b.len() && is_domain(b[e]) {
                e += 1;
            }
            let local = text[s..i].trim_start_matches('.');
            let domain = text[i + 1..e].trim_end_matches('.');
            if !local.is_empty() && domain.contains('.') && !domain.starts_with('.') {
                out.push((s, format!("{local}@{domain}")));
            }
            i = e.max(i + 1);
            continue;
        }
        i += 1;
    }
    out
}

pub(super) fn first_address(text: &str) -> Option<String> {
    addresses(text).into_iter().next().map(|(_, a)| a)
}

/// The three-digit reply code in a text ("host said: 550 …", "<a@b>: 554 …").
pub(super) fn reply_code_in(text: &str) -> Option<u16> {
    let b = text.as_bytes();
    for i in 0..b.len().saturating_sub(2) {
        if matches!(b[i], b'4' | b'5')
            && b[i + 1].is_ascii_digit()
            && b[i + 2].is_ascii_digit()
            && (i == 0
                || matches!(
                    b[i - 1],
                    b' ' | b':' | b'\t' | b'\n' | b'(' | b'<' | b'"' | b'='
                ))
            && b.get(i + 3)
                .is_none_or(|c| matches!(c, b' ' | b'-' | b'\r' | b'\n' | b')' | b'.' | b','))
        {
            let code: u16 = text[i..i + 3].parse().ok()?;
            if (421..=559).contains(&code) {
                return Some(code);
            }
        }
    }
    None
}

/// The lines about `email` in a report's text: from its first mention, at most 8 lines, up
/// to the first line that names another of the report's recipients.
pub(super) fn context_for(text: &str, email: &str, others: &[String]) -> String {
    let lower = text.to_ascii_lowercase();
    let key = email.to_ascii_lowercase();
    let Some(at) = find_address(&lower, &key) else {
        return String::new();
    };
    let others: Vec<String> = others
        .iter()
        .map(|o| o.to_ascii_lowercase())
        .filter(|o| *o != key)
        .collect();
    let start = lower[..at].rfind('\n').map_or(0, |n| n + 1);
    let mut out = Vec::new();
    for (i, line) in text[start..].lines().take(8).enumerate() {
        let l = line.to_ascii_lowercase();
        if i > 0 && others.iter().any(|o| find_address(&l, o).is_some()) {
            break;
        }
        out.push(line);
    }
    out.join("\n")
}

/// Where `address` occurs in `text` as a whole address: ann@example.com is not the end of
/// joann@example.com, nor the start of ann@example.com.au.
fn find_address(text: &str, address: &str) -> Option<usize> {
    // What can go on a local part to its left (a VERP's "=", not the quote that often
    // encloses an address: "to 'ann@x.com'") and a domain to its right.
    let local = |c: u8| c.is_ascii_alphanumeric() || b".!#$%&*+-/=?^_`{|}~".contains(&c);
    let domain = |c: u8| c.is_ascii_alphanumeric() || c == b'-';
    let bytes = text.as_bytes();
    text.match_indices(address).map(|(at, _)| at).find(|&at| {
        let end = at + address.len();
        let before = at.checked_sub(1).map(|i| bytes[i]);
        // A full stop after the address ends a sentence unless the domain goes on after it.
        let goes_on = match bytes.get(end) {
            Some(b'.') => bytes.get(end + 1).is_some_and(|&c| domain(c)),
            Some(&c) => domain(c) || c == b'@',
            None => false,
        };
        !before.is_some_and(local) && !goes_on
    })
}

/// The start of the header line an address at `at` sits on, lower-cased (a folded line's
/// header is the one it continues; at most 32 bytes are read).
fn header_of_line(text: &str, at: usize) -> String {
    let mut start = text[..at].rfind('\n').map_or(0, |n| n + 1);
    for _ in 0..20 {
        if start == 0 || !text[start..].starts_with([' ', '\t']) {
            break;
        }
        start = text[..start - 1].rfind('\n').map_or(0, |n| n + 1);
    }
    let mut end = (start + 32).min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[start..end].trim_start().to_ascii_lowercase()
}

/// Recipients of a non-standard bounce and what was said about each.
/// `own`: the report's own From and To addresses (lower case), never a failed recipient.
pub(super) fn recipients(
    text: &str,
    from_headers: &[String],
    own: &[String],
    reporter: Reporter,
    spam_sign: bool,
) -> Vec<Verdict> {
    // A message's identifier looks like an address ("Message-ID: <n1@sender.example>", in a
    // returned message's header) and never is one.
    let names_a_message = |at: usize| {
        let header = header_of_line(text, at);
        [
            "message-id:",
            "original-message-id:",
            "x-original-message-id:",
            "resent-message-id:",
            "original message id:",
            "in-reply-to:",
            "references:",
        ]
        .iter()
        .any(|h| header.starts_with(h))
    };
    let found: Vec<(usize, String)> = addresses(text)
        .into_iter()
        .filter(|(at, _)| !names_a_message(*at))
        .collect();
    let mut emails: Vec<String> = Vec::new();
    let push = |a: &str, emails: &mut Vec<String>| {
        let lower = a.to_ascii_lowercase();
        if !own.contains(&lower) && !emails.iter().any(|e| e.eq_ignore_ascii_case(a)) {
            emails.push(a.to_string());
        }
    };
    for a in from_headers.iter().take(super::MAX_RECIPIENTS) {
        push(a, &mut emails);
    }
    if emails.is_empty() {
        // Role addresses ("send mail to postmaster@…") are boilerplate, unless they are all
        // the report names.
        let role = |a: &str| {
            let local = a.split('@').next().unwrap_or("").to_ascii_lowercase();
            matches!(
                local.as_str(),
                "postmaster" | "mailer-daemon" | "abuse" | "noreply" | "no-reply"
            )
        };
        // An address introduced as a sender ("MAIL FROM: a@b", "From: a@b") is not a
        // failed recipient.
        let is_sender = |at: usize| {
            let line_start = text[..at].rfind('\n').map_or(0, |n| n + 1);
            let before = text[line_start..at].to_ascii_lowercase();
            before.trim_end().ends_with("from:")
                || before.trim_end().ends_with("from: <")
                || before.contains("envelope-from")
                || before.trim_start().starts_with("from:")
                || before.trim_start().starts_with("sender:")
                // MailMarshal's "Original Sender:    <a@b>", an "Envelope sender: a@b".
                || before.trim_end().trim_end_matches('<').trim_end().ends_with("sender:")
                // A remote's reply quoted in a session transcript ("<<< 550 … (a@b)"): the
                // recipient is on the MTA's own lines.
                || before.trim_start().starts_with("<<<")
        };
        // An address inside a remote's reply quoted for another recipient: Postfix writes one
        // record per recipient, "<a@b>: host mx[…] said: 554 … contact tosa@rx.t-online.de …",
        // the reply wrapped over the lines under it, up to a blank line or the next record.
        // Read within 2 KB before the address, so a long report costs no more per address.
        let in_quoted_reply = |at: usize, a: &str| {
            let mut floor = at.saturating_sub(2048);
            while !text.is_char_boundary(floor) {
                floor -= 1;
            }
            let window = &text[floor..at];
            let line_start = |end: usize| match window[..end].rfind('\n') {
                Some(n) => Some(n + 1),
                None => (floor == 0).then_some(0),
            };
            let Some(mut start) = line_start(window.len()) else {
                return false;
            };
            while !window[start..].starts_with('<') {
                let Some(previous) = start.checked_sub(1).and_then(line_start) else {
                    return false;
                };
                if window[previous..start].trim().is_empty() {
                    return false;
                }
                start = previous;
            }
            let record = &window[start..];
            let Some((named, _)) = record[1..].split_once('>') else {
                return false;
            };
            named.contains('@') && !named.eq_ignore_ascii_case(a) && record.contains(" said:")
        };
        let people: Vec<&String> = found
            .iter()
            .filter(|(at, a)| !role(a) && !is_sender(*at) && !in_quoted_reply(*at, a))
            .map(|(_, a)| a)
            .collect();
        let pick: Vec<&String> = if people.is_empty() {
            found.iter().map(|(_, a)| a).collect()
        } else {
            people
        };
        for a in pick {
            push(a, &mut emails);
            if emails.len() >= super::MAX_RECIPIENTS {
                break;
            }
        }
    }
    let lower_all = text.to_ascii_lowercase();
    let gave_up = says_gave_up(&lower_all);
    let delayed = says_delayed(&lower_all);
    // Where each recipient's paragraph starts, to split the text between them.
    let mut starts: Vec<(usize, &String)> = emails
        .iter()
        .filter_map(|e| {
            find_address(&lower_all, &e.to_ascii_lowercase())
                .map(|at| (lower_all[..at].rfind('\n').map_or(0, |n| n + 1), e))
        })
        .collect();
    starts.sort_by_key(|(at, _)| *at);
    let shared = super::mta::shared_cause(reporter, text);
    emails
        .iter()
        .map(|email| {
            let own = starts.iter().position(|(_, e)| *e == email);
            let block = match (shared, own) {
                (Some(cause), _) => cause,
                (None, Some(i)) => {
                    let from = starts[i].0;
                    let to = starts
                        .get(i + 1)
                        .map_or(text.len(), |(at, _)| *at)
                        .max(from);
                    let mut end = to.min(from + 2000).min(text.len());
                    while !text.is_char_boundary(end) {
                        end -= 1;
                    }
                    &text[from..end]
                }
                (None, None) => "",
            };
            verdict(email, block, text, gave_up, delayed, reporter, spam_sign)
        })
        .collect()
}

pub(super) fn verdict(
    email: &str,
    block: &str,
    whole: &str,
    gave_up: bool,
    delayed: bool,
    reporter: Reporter,
    spam_sign: bool,
) -> Verdict {
    // Each recipient reads a bounded slice: the scan stays linear in the report's size.
    let block = super::truncate(block, 4096);
    let whole = super::truncate(whole, 8192);
    // The recipient's own lines first; the whole text when they say nothing we can read.
    let lower_block = block.to_ascii_lowercase();
    let informative = Status::find(block).is_some()
        || reply_code_in(block).is_some()
        || reasons::by_phrase(&lower_block).is_some();
    let words = if informative && block.lines().count() > 1 {
        block.to_string()
    } else if informative {
        format!("{block}\n{whole}")
    } else {
        whole.to_string()
    };
    let lower = words.to_ascii_lowercase();
    let conventions = mta::conventions(reporter, &lower, &whole.to_ascii_lowercase(), spam_sign);
    let status = Status::find(&words);
    let reply_code = diagnostic_line(&words)
        .and_then(|l| leading_reply_code(l.trim()))
        .or_else(|| reply_code_in(&words));
    let stage = conventions
        .stage
        .or_else(|| stage_in(&lower))
        .or_else(|| diagnostic_line(&words).and_then(reasons::command_in));
    let mut reason = reasons::decide(&Refusal {
        status,
        reply_code,
        text: &words,
        stage,
        gave_up,
        delayed: delayed && !gave_up,
        preset: conventions.reason,
        local: false,
    });
    // A big provider's reply means what the provider documents it to mean.
    if let Some(r) = super::providers::reason(&format!("{email}\n{block}"), &lower, stage) {
        reason = r;
    }
    let temporary = delayed
        || match (status, reply_code) {
            (Some(s), _) => s.class == 4,
            (None, Some(c)) => c < 500,
            (None, None) => false,
        };
    Verdict {
        email: Some(email.to_string()),
        reason,
        hard: !delayed && reasons::is_hard_report(reason, temporary),
        status: status.map(|s| format!("{}.{}.{}", s.class, s.subject, s.detail)),
        reply_code: reply_code.map(|c| c.to_string()),
        diagnostic: diagnostic_line(&words).map(clip),
        action: Some(
            if delayed && !gave_up {
                "delayed"
            } else {
                "failed"
            }
            .into(),
        ),
        remote_mta: None,
    }
}

/// The line that looks most like the receiver's answer.
fn diagnostic_line(text: &str) -> Option<&str> {
    text.lines()
        .map(str::trim)
        .find(|l| reply_code_in(l).is_some() || Status::find(l).is_some())
        .or_else(|| {
            text.lines()
                .map(str::trim)
                .find(|l| reasons::by_phrase(&l.to_ascii_lowercase()).is_some())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qmails_sender_quoted_in_the_remotes_reply_is_not_a_recipient() {
        // qmail's bounce quotes the remote's refusal of our sender (the report's To): that
        // address is not a failed recipient, and the refusal is of the sender.
        let bounce = "From: MAILER-DAEMON@mx.example.org\n\
To: owner@mx.example.org\n\
Subject: failure notice\n\n\
Hi. This is the qmail-send program at mx.example.org.\n\
I'm afraid I wasn't able to deliver your message to the following addresses.\n\
This is a permanent error; I've given up. Sorry it didn't work out.\n\n\
<rcpt@example.net>:\n\
Connected to 192.0.2.225 but sender was rejected.\n\
Remote host said: 550 5.7.1 <owner@mx.example.org>... Access denied\n\n\
--- Below this line is a copy of the message.\n";
        let c = crate::feedback::classify_message(bounce.as_bytes());
        let found: Vec<_> = c
            .recipients
            .iter()
            .filter_map(|v| v.email.clone())
            .collect();
        assert_eq!(found, ["rcpt@example.net"]);
        assert_eq!(c.recipients[0].reason, BounceReason::Rejected);
    }

    #[test]
    fn an_address_in_a_remotes_quoted_reply_is_not_a_recipient() {
        let bounce = "From: MAILER-DAEMON@mx.example.org (Mail Delivery System)\r\n\
Subject: Undelivered Mail Returned to Sender\r\n\r\n\
This is the mail system at host mx.example.org.\r\n\r\n\
<rcpt@t-online.de>: host mx00.t-online.de[192.0.2.1] said: 554 IP=192.0.2.9 - A\r\n\
    problem occurred. (Ask your postmaster for help or to contact\r\n\
    tosa@rx.t-online.de to clarify.) (BL) (in reply to RCPT TO command)\r\n";
        let c = crate::feedback::classify_message(bounce.as_bytes());
        let found: Vec<_> = c.recipients.iter().map(|v| v.email.clone()).collect();
        assert_eq!(found, [Some("rcpt@t-online.de".to_string())]);
        // Read by the provider that answered: T-Online's block-list tag.
        assert_eq!(c.recipients[0].reason, BounceReason::Blocked);
        // The recipient itself quoted in the reply is still the one recipient.
        let own = bounce.replace("tosa@rx.t-online.de", "rcpt@t-online.de");
        let c = crate::feedback::classify_message(own.as_bytes());
        assert_eq!(c.recipients.len(), 1);
        // With LF line ends, and for a recipient expanded from an alias, the same.
        let lf = bounce.replace("\r\n", "\n");
        let c = crate::feedback::classify_message(lf.as_bytes());
        assert_eq!(c.recipients.len(), 1);
        let expanded = bounce.replace(
            "<rcpt@t-online.de>: host",
            "<rcpt@t-online.de> (expanded from <team@example.org>): host",
        );
        let c = crate::feedback::classify_message(expanded.as_bytes());
        let found: Vec<_> = c
            .recipients
            .iter()
            .filter_map(|v| v.email.clone())
            .collect();
        assert!(
            !found.contains(&"tosa@rx.t-online.de".to_string()),
            "{found:?}"
        );
        // A second recipient's own record, even with no blank line between, is one of ours.
        let two = "From: MAILER-DAEMON@mx.example.org (Mail Delivery System)\n\
Subject: Undelivered Mail Returned to Sender\n\n\
This is the mail system at host mx.example.org.\n\n\
<a@x.example>: host mx.x.example[192.0.2.1] said: 550 5.1.1 no such user\n\
    (in reply to RCPT TO command)\n\
<b@x.example>: host mx.x.example[192.0.2.1] said: 550 5.1.1 no such user\n\
    (in reply to RCPT TO command)\n";
        let c = crate::feedback::classify_message(two.as_bytes());
        let found: Vec<_> = c
            .recipients
            .iter()
            .filter_map(|v| v.email.clone())
            .collect();
        assert_eq!(found, ["a@x.example", "b@x.example"]);
    }

    #[test]
    fn a_warning_that_it_will_retry_has_not_given_up() {
        assert!(says_gave_up(
            "your message could not be delivered for 5 days.\nmessage will be deleted from queue"
        ));
        assert!(says_gave_up(
            "- \"ann@example.org\" (email) failed repeatedly and timed out, last error:"
        ));
        // A final report that also says "will be retried" (in boilerplate, in the original)
        // still gave up when its words are a final report's own.
        assert!(says_gave_up(
            "retry timeout exceeded\n> the newsletter will be retried next week"
        ));
        assert!(!says_gave_up(
            "this is a warning only.\nyour message could not be delivered for 0 days, 12 hours.\nit will be retried until it is 1 days old."
        ));
    }

    #[test]
    fn a_message_id_is_not_a_recipient() {
        let text = "Failed addresses follow:\n <ann@example.org>\n   552 5.2.2 Quota exceeded\n\nMessage header follows:\nMessage-ID: <n1@sender.example>\nReferences: <n0@sender.example>\n <n00@sender.example>\n";
        let got = recipients(text, &[], &[], Reporter::Other, false);
        let emails: Vec<_> = got.iter().filter_map(|v| v.email.as_deref()).collect();
        assert_eq!(emails, ["ann@example.org"]);
    }

    #[test]
    fn an_address_is_found_whole() {
        assert_eq!(
            find_address("to joann@x.com and ann@x.com", "ann@x.com"),
            Some(19)
        );
        assert_eq!(find_address("sent to ann@x.com.", "ann@x.com"), Some(8));
        assert_eq!(find_address("ann@x.com.au only", "ann@x.com"), None);
        assert_eq!(find_address("<ann@x.com>: 550", "ann@x.com"), Some(1));
        assert_eq!(
            find_address("deliver to 'ann@x.com'", "ann@x.com"),
            Some(12)
        );
        assert_eq!(find_address("bounce=ann@x.com", "ann@x.com"), None);
        // One recipient's lines are not another's whose address ends the same way.
        let text = "joann@x.com: 550 5.1.1 user unknown\nann@x.com: 552 mailbox full\n";
        let others = ["joann@x.com".to_string(), "ann@x.com".to_string()];
        assert_eq!(
            context_for(text, "ann@x.com", &others),
            "ann@x.com: 552 mailbox full"
        );
        // Nor is its verdict.
        let text = "joann@x.com:\n  550 5.1.1 user unknown\nann@x.com:\n  552 mailbox full\n";
        let got = recipients(text, &others, &[], Reporter::Other, false);
        let got: Vec<_> = got
            .iter()
            .map(|v| (v.email.as_deref().unwrap_or_default(), v.reason))
            .collect();
        assert_eq!(
            got,
            [
                ("joann@x.com", BounceReason::UserUnknown),
                ("ann@x.com", BounceReason::MailboxFull)
            ]
        );
    }
    use herald_domain::BounceReason;

    #[test]
    fn finds_addresses_and_codes() {
        let t = "  kijitora@example.jp\n    host mx [192.0.2.1]: 550 5.1.1 <kijitora@example.jp>... User Unknown\n";
        assert_eq!(first_address(t).as_deref(), Some("kijitora@example.jp"));
        assert_eq!(reply_code_in(t), Some(550));
        let v = recipients(t, &[], &[], Reporter::Other, false);
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].reason, BounceReason::UserUnknown);
    }

    #[test]
    fn cuts_the_returned_original() {
        let t = "error here\n------ This is a copy of the message, including all the headers.\nSubject: spam";
        assert_eq!(cut_returned_original(t), "error here\n");
        let t = "delete your own text from the attached returned message.\n<a@b>: 550 unknown\n";
        assert_eq!(
            cut_returned_original(t),
            t,
            "only a line that starts with a marker cuts"
        );
    }
}
