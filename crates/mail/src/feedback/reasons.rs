//! From what a receiver said to a reason in Sisimai's vocabulary.
//!
//! Three inputs decide, in this order: the words of the diagnostic (receivers reuse one status
//! code for many things, and the words say which), the SMTP stage the refusal came at (an
//! "unknown user" answer to the message *content* is a filter, a refusal of `MAIL FROM` is about
//! the sender), and the enhanced status code (RFC 3463) when the words say nothing we know.
//!
//! The phrase lists are plain data (`phrases.rs`) so a new receiver's wording is one line; the
//! table test in `tests` and the corpus test in `tests/corpus.rs` pin the behaviour.

use herald_domain::BounceReason;

pub use herald_domain::SmtpStage;

/// The SMTP stage a refusal answered, when the bounce says so.
/// Finds "after RCPT TO", "in reply to end of DATA command", "MAIL FROM:<…>… said" and the like.
pub fn stage_in(lower: &str) -> Option<SmtpStage> {
    const MARKS: &[(&str, SmtpStage)] = &[
        ("end of data", SmtpStage::EndOfData),
        ("after data", SmtpStage::EndOfData),
        ("in reply to data", SmtpStage::EndOfData),
        ("after end of data", SmtpStage::EndOfData),
        (">>> rcpt to", SmtpStage::RcptTo),
        ("our rcpt to", SmtpStage::RcptTo),
        ("rcpt to command", SmtpStage::RcptTo),
        ("rcpt to response", SmtpStage::RcptTo),
        ("rcpt to:<", SmtpStage::RcptTo),
        ("after rcpt", SmtpStage::RcptTo),
        ("smtp:rcpt", SmtpStage::RcptTo),
        ("rcpt host", SmtpStage::RcptTo),
        ("in reply to rcpt", SmtpStage::RcptTo),
        ("[rcpt_to]", SmtpStage::RcptTo),
        ("[mail_from]", SmtpStage::MailFrom),
        (">>> mail from", SmtpStage::MailFrom),
        ("our mail from", SmtpStage::MailFrom),
        ("mail from command", SmtpStage::MailFrom),
        ("after mail", SmtpStage::MailFrom),
        ("in reply to mail", SmtpStage::MailFrom),
        ("in reply to ehlo", SmtpStage::Ehlo),
        ("in reply to helo", SmtpStage::Ehlo),
        ("after ehlo", SmtpStage::Ehlo),
        ("after helo", SmtpStage::Ehlo),
        ("after initial connection", SmtpStage::Connect),
        ("in reply to initial", SmtpStage::Connect),
        ("smtp greeting", SmtpStage::Connect),
        ("refused to talk to me", SmtpStage::Connect),
    ];
    MARKS
        .iter()
        .filter_map(|(m, s)| lower.find(m).map(|at| (at, *s)))
        .min_by_key(|(at, _)| *at)
        .map(|(_, s)| s)
}

use super::phrases::{ADDRESS_DOES_NOT_EXIST, PHRASES};

/// [`by_phrase`] without the expiry phrases.
fn by_phrase_after_expiry(lower: &str) -> Option<BounceReason> {
    PHRASES[1..].iter().find_map(|(reason, phrases)| {
        phrases
            .iter()
            .any(|p| contains_phrase(lower, p))
            .then_some(*reason)
    })
}

/// The first reason with a phrase in `lower` (already lower-cased), and the phrase.
pub fn by_phrase(lower: &str) -> Option<(BounceReason, &'static str)> {
    PHRASES.iter().find_map(|(reason, phrases)| {
        phrases
            .iter()
            .find(|p| contains_phrase(lower, p))
            .map(|p| (*reason, *p))
    })
}

/// Whole-word containment for short phrases ("rbl", "uce", "spf" must not match inside a word).
/// A ` * ` in a phrase stands for one word, such as the host name in "host * not found".
fn contains_phrase(hay: &str, needle: &str) -> bool {
    if let Some((head, tail)) = needle.split_once(" * ") {
        return hay.match_indices(head).any(|(at, _)| {
            let rest = hay[at + head.len()..].trim_start_matches(' ');
            let word_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            word_end > 0 && rest[word_end..].trim_start_matches(' ').starts_with(tail)
        });
    }
    if needle.len() > 5 {
        return hay.contains(needle);
    }
    let bytes = hay.as_bytes();
    let mut from = 0;
    while let Some(i) = hay[from..].find(needle) {
        let start = from + i;
        let end = start + needle.len();
        let before = start == 0 || !bytes[start - 1].is_ascii_alphanumeric();
        let after = end >= bytes.len() || !bytes[end].is_ascii_alphanumeric();
        if before && after {
            return true;
        }
        from = start + 1;
        if from >= hay.len() {
            break;
        }
    }
    false
}

/// An enhanced status code, `class.subject.detail` (RFC 3463).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    pub class: u8,
    pub subject: u16,
    pub detail: u16,
}

impl Status {
    pub fn parse(s: &str) -> Option<Status> {
        let s = s.trim().trim_end_matches([',', ';', ':', '.', ')', ']']);
        let mut it = s.split('.');
        let class: u8 = it.next()?.trim().parse().ok()?;
        let subject: u16 = it.next()?.parse().ok()?;
        let detail: u16 = it.next()?.parse().ok()?;
        (it.next().is_none() && matches!(class, 2 | 4 | 5) && subject < 10 && detail < 1000)
            .then_some(Status {
                class,
                subject,
                detail,
            })
    }

    /// The first `d.ddd.ddd` in a text (not part of a longer dotted number such as an IP address).
    pub fn find(text: &str) -> Option<Status> {
        let b = text.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if matches!(b[i], b'2' | b'4' | b'5')
                && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'.'))
                && b.get(i + 1) == Some(&b'.')
            {
                let end = text[i..]
                    .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                    .map_or(b.len(), |n| i + n);
                let token = text[i..end].trim_end_matches('.');
                if token.matches('.').count() == 2
                    && let Some(s) = Status::parse(token)
                {
                    return Some(s);
                }
                i = end.max(i + 1);
                continue;
            }
            i += 1;
        }
        None
    }

    pub fn is_permanent(self) -> bool {
        self.class == 5
    }

    /// Codes that only say "failed" or "policy": the words decide.
    pub(crate) fn is_vague(self) -> bool {
        matches!(
            (self.subject, self.detail),
            (0, 0) | (7, 0) | (7, 1) | (5, 0) | (3, 0) | (2, 0) | (4, 0)
        )
    }

    pub fn reason(self) -> Option<BounceReason> {
        use BounceReason::*;
        if self.class == 2 {
            return Some(Delivered);
        }
        Some(match (self.subject, self.detail) {
            (1, 1) | (1, 3) | (1, 10) => UserUnknown,
            // "Other address status", permanent: the address is refused.
            (1, 0) if self.class == 5 => UserUnknown,
            (1, 2) => HostUnknown,
            (1, 4) => UserUnknown,
            (1, 6) => HasMoved,
            (1, 7) | (1, 8) => Rejected,
            (2, 1) => Suspend,
            (2, 2) => MailboxFull,
            (2, 3) => ExceedLimit,
            (2, 4) => SystemError,
            (3, 1) => SystemFull,
            (3, 4) => MesgTooBig,
            (3, 5) => SystemError,
            (3, 2) | (3, 3) => SystemError,
            // Exchange Online answers 5.4.1 for a recipient its directory does not know.
            (4, 1) if self.class == 5 => UserUnknown,
            (4, 1) => NetworkError,
            (4, 2) => NetworkError,
            (4, 3) => NetworkError,
            (4, 4) => HostUnknown,
            (4, 5) => SystemFull,
            (4, 6) => NetworkError,
            (4, 7) => Expired,
            (5, 1) | (5, 2) | (5, 4) | (5, 5) => SyntaxError,
            // Too many recipients: Sisimai counts it with too many connections.
            (5, 3) => TooManyConn,
            (6, _) => ContentError,
            (7, 1) => Rejected,
            (7, 2) => Rejected,
            (7, 7) => SecurityError,
            (7, 8) | (7, 20..=24) | (7, 26) => AuthFailure,
            (7, 9) => PolicyViolation,
            (7, 10) | (7, 11) => FailedStartTls,
            (7, 13) | (7, 14) => Suspend,
            (7, 25) => RequirePtr,
            (7, 27) => NotAccept,
            (7, 28) => SpamDetected,
            (7, 606..=609) => Blocked,
            (7, 650..=651) => BadReputation,
            (7, 509..=510) => AuthFailure,
            (7, _) => SecurityError,
            _ => return None,
        })
    }
}

/// Bytes of a refusal's text that are read.
const MAX_TEXT: usize = 8 * 1024;

/// Everything known about one refusal.
#[derive(Debug, Clone, Default)]
pub struct Refusal<'a> {
    pub status: Option<Status>,
    pub reply_code: Option<u16>,
    pub text: &'a str,
    pub stage: Option<SmtpStage>,
    /// The report says the message waited in a queue until it gave up.
    pub gave_up: bool,
}

/// The reason for one refusal.
pub fn decide(r: &Refusal<'_>) -> BounceReason {
    use BounceReason::*;
    // What decides a reason is in the first few KB; the bound keeps the phrase scan linear.
    let lower = crate::feedback::truncate(r.text, MAX_TEXT).to_ascii_lowercase();
    let status = r.status.or_else(|| Status::find(&lower));
    // Addresses and links say nothing about the reason ("blocked@…", "…/reason/#spam").
    let lower = without_addresses_and_links(&lower);
    if status.is_some_and(|s| s.class == 2) || r.reply_code.is_some_and(|c| (200..300).contains(&c))
    {
        return Delivered;
    }
    let by_status = status.and_then(Status::reason);
    // Expiry words are checked apart: what the last attempt said is the more useful reason
    // ("mailbox full for 5 days"), and "expired" is what remains when it said nothing.
    let expired_words = PHRASES[0].1.iter().any(|p| contains_phrase(&lower, p));
    let phrase = by_phrase_after_expiry(&lower);
    let precise_status = status.is_some_and(|s| !s.is_vague()) && by_status.is_some();
    let precise_permanent = precise_status && status.is_some_and(Status::is_permanent);
    if (r.gave_up || expired_words) && !precise_permanent {
        // Connection trouble, vague content or policy words are what expiring looks like.
        let specific = phrase.filter(|p| {
            !matches!(
                p,
                SystemError
                    | OnHold
                    | Undefined
                    | NetworkError
                    | ContentError
                    | NotCompliantRfc
                    | PolicyViolation
                    | SecurityError
                    | Rejected
            )
        });
        // A route that does not exist is a network error however long it was retried; a
        // timeout is what expiring looks like.
        if UNREACHABLE.iter().any(|p| lower.contains(p)) {
            return NetworkError;
        }
        // Refused at the greeting, every time until the queue gave up: blocked.
        if r.stage.is_some_and(SmtpStage::is_session_setup) && specific.is_none() {
            return Blocked;
        }
        if specific.is_none() && (!precise_status || status.is_some_and(|s| s.class == 4)) {
            return Expired;
        }
    }
    let mut reason = match (phrase, by_status) {
        // Specific words beat a vague code ("5.7.1 … blocked using Spamhaus").
        (Some(p), Some(s)) if precise_status && !words_refine(s, p) => s,
        (Some(p), _) => p,
        (None, Some(s)) => s,
        (None, None) => match r.reply_code {
            Some(552) => MailboxFull,
            Some(421) => TooManyConn,
            Some(551) => HasMoved,
            Some(553) => Rejected,
            Some(550) => OnHold,
            Some(c) if (400..500).contains(&c) => SystemError,
            _ => OnHold,
        },
    };
    // An "unknown user" answer to the message content is a filter; so is one that neither a
    // precise code (x.1.1) nor the RCPT stage ties to the address (Sisimai's convention).
    // Wordings that state the address does not exist are not a filter's ("The recipient name
    // is not recognized", Gmail's "the address couldn't be found").
    if matches!(reason, UserUnknown)
        && !says_address_missing(&lower)
        && (r.stage.is_some_and(SmtpStage::is_content)
            || (r.stage.is_none()
                && status.is_none_or(|s| s.is_vague() || (s.subject, s.detail) == (2, 1))))
    {
        reason = Filtered;
    }
    // "No such domain" said temporarily is a DNS problem, not a verdict on the domain.
    if reason == HostUnknown && status.is_some_and(|s| s.class == 4) {
        reason = NetworkError;
    }
    // A refusal of the envelope sender is about the sender, not the recipient.
    if r.stage == Some(SmtpStage::MailFrom)
        && matches!(reason, UserUnknown | OnHold | PolicyViolation)
    {
        reason = Rejected;
    }
    // Refused at connection or greeting: the sending host was blocked.
    if r.stage.is_some_and(SmtpStage::is_session_setup)
        && matches!(reason, Rejected | OnHold | PolicyViolation | SecurityError)
    {
        reason = Blocked;
    }
    reason
}

/// The remote could not be reached at all (as opposed to answering too slowly).
const UNREACHABLE: &[&str] = &[
    "no route to host",
    "network is unreachable",
    "host is unreachable",
];

/// The text (lower-case) states that the address does not exist.
pub(crate) fn says_address_missing(lower: &str) -> bool {
    ADDRESS_DOES_NOT_EXIST.iter().any(|p| lower.contains(p))
}

/// The text with e-mail addresses, `<…>` brackets and URLs blanked out.
fn without_addresses_and_links(lower: &str) -> String {
    lower
        .split_inclusive(char::is_whitespace)
        .map(|w| {
            let t = w.trim();
            if t.contains('@') || t.contains("://") || t.starts_with("www.") {
                " "
            } else {
                w
            }
        })
        .collect()
}

/// Where a precise code and the words disagree, the words win when they are the more specific
/// statement about the same subject (x.2.1 "disabled" vs "unknown user"; x.1.1 and "over quota").
fn words_refine(status: BounceReason, words: BounceReason) -> bool {
    use BounceReason::*;
    matches!(
        (status, words),
        (Suspend, UserUnknown | MailboxFull | Speeding | Filtered)
            | (
                UserUnknown,
                MailboxFull | Suspend | Speeding | HasMoved | Filtered | AuthFailure
            )
            | (
                Rejected,
                AuthFailure | Blocked | SpamDetected | RequirePtr | NoRelaying
            )
            | (SecurityError, _)
            | (SyntaxError, _)
            | (SystemError, _)
            | (NetworkError, Expired | HostUnknown)
            | (HostUnknown, NotAccept | NetworkError)
            | (ExceedLimit, MailboxFull)
            | (MailboxFull, ExceedLimit)
            | (Rejected, HostUnknown)
            | (ContentError | Rejected, NotCompliantRfc)
    )
}

/// Reasons that will fail the same way next time (Sisimai's hard bounces): the address itself
/// is bad.
pub fn is_hard(reason: BounceReason, permanent: bool) -> bool {
    permanent
        && matches!(
            reason,
            BounceReason::UserUnknown
                | BounceReason::HostUnknown
                | BounceReason::HasMoved
                | BounceReason::NotAccept
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_find_skips_ip_addresses() {
        assert_eq!(Status::find("host 192.0.2.5 said 550"), None);
        assert_eq!(
            Status::find("[192.0.2.5]: 550 5.1.1 <a@b> user unknown"),
            Some(Status {
                class: 5,
                subject: 1,
                detail: 1
            })
        );
        assert_eq!(Status::find("version 5.1.1.2"), None);
    }

    #[test]
    fn short_phrases_match_whole_words_only() {
        assert!(contains_phrase("listed by rbl here", "rbl"));
        assert!(!contains_phrase("terrible", "rbl"));
        assert!(!contains_phrase("produce", "uce"));
    }

    #[test]
    fn stage_changes_the_meaning() {
        let r = |stage| {
            decide(&Refusal {
                status: Status::parse("5.1.1"),
                reply_code: Some(550),
                text: "550 5.1.1 user unknown",
                stage,
                gave_up: false,
            })
        };
        assert_eq!(r(Some(SmtpStage::RcptTo)), BounceReason::UserUnknown);
        assert_eq!(r(Some(SmtpStage::Data)), BounceReason::Filtered);
    }

    #[test]
    fn a_stated_missing_address_is_not_a_filter() {
        let r = |text| {
            decide(&Refusal {
                status: None,
                reply_code: Some(550),
                text,
                stage: None,
                gave_up: false,
            })
        };
        // Nothing ties a bare "user unknown" to the address (Sisimai's convention)…
        assert_eq!(r("550 User unknown"), BounceReason::Filtered);
        // …but a report that says the address does not exist does.
        assert_eq!(
            r("The recipient name is not recognized"),
            BounceReason::UserUnknown
        );
    }
}
