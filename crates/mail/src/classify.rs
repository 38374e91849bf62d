//! A first bounce classifier for synchronous SMTP replies: the enhanced status code (RFC 3463)
//! decides, with the reply text refining it where receivers use one code for many things
//! (x.7.1 is "spam", "blocked by an RBL" or "relaying denied" depending on who says it).
//! Reasons use Sisimai's vocabulary.

use herald_domain::{BounceReason, Reply};

/// What a refusal means for the recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Classification {
    pub reason: BounceReason,
    /// A hard bounce will fail again: the address should not be mailed any more.
    pub hard: bool,
}

/// Text patterns checked before the status code, most specific first.
const TEXT_RULES: &[(&[&str], BounceReason)] = &[
    (
        &[
            "mailbox full",
            "mailbox is full",
            "over quota",
            "quota exceeded",
            "exceeded storage",
            "insufficient storage",
            "mailbox size limit",
        ],
        BounceReason::MailboxFull,
    ),
    (
        &[
            "user unknown",
            "unknown user",
            "no such user",
            "does not exist",
            "user not found",
            "unknown recipient",
            "recipient not found",
            "invalid recipient",
            "no mailbox",
            "mailbox unavailable",
            "no such recipient",
            "not a valid recipient",
            "addressee unknown",
        ],
        BounceReason::UserUnknown,
    ),
    (
        &["disabled", "suspended", "inactive", "deactivated"],
        BounceReason::Suspend,
    ),
    (
        &[
            "spamhaus",
            "spamcop",
            "blacklist",
            "blocklist",
            "block list",
            "black list",
            "dnsbl",
            "rbl",
        ],
        BounceReason::Blocked,
    ),
    (
        &[
            "spam",
            "junk mail",
            "unsolicited",
            "content rejected",
            "looks like spam",
        ],
        BounceReason::SpamDetected,
    ),
    (
        &["reverse dns", "ptr record", "rdns", "no ptr"],
        BounceReason::RequirePtr,
    ),
    (
        &[
            "spf",
            "dkim",
            "dmarc",
            "authentication",
            "not authenticated",
        ],
        BounceReason::AuthFailure,
    ),
    (&["listed", "reputation", "blocked"], BounceReason::Blocked),
    (&["relay", "relaying"], BounceReason::NoRelaying),
    (
        &["too many connections", "too many concurrent"],
        BounceReason::TooManyConn,
    ),
    (
        &["rate limit", "too quickly", "too many messages", "throttl"],
        BounceReason::SpeedLimit,
    ),
    (
        &["message too large", "message size", "too big"],
        BounceReason::MesgTooBig,
    ),
    (
        &[
            "host unknown",
            "domain not found",
            "no mx",
            "unrouteable",
            "domain does not exist",
        ],
        BounceReason::HostUnknown,
    ),
];

/// Classify a 4xx/5xx reply to one recipient.
pub fn classify_reply(reply: &Reply) -> Classification {
    let text = reply.text().to_ascii_lowercase();
    let status = reply
        .enhanced
        .as_deref()
        .and_then(parse_status)
        .or_else(|| parse_status(text.split_whitespace().next().unwrap_or("")));
    let by_status = status.and_then(|(_, subject, detail)| reason_for_status(subject, detail));
    // A precise status (x.1.1, x.2.2, …) wins; generic or overloaded ones defer to the text
    // (x.2.1 is "mailbox disabled" at some receivers and "receiving too quickly" at Gmail).
    let generic = matches!(
        status,
        None | Some((_, 0, 0) | (_, 7, 1) | (_, 5, 0) | (_, 7, 0) | (_, 2, 1))
    );
    let by_text = TEXT_RULES
        .iter()
        .find(|(words, _)| words.iter().any(|w| text.contains(w)))
        .map(|(_, r)| *r);
    let reason = match (generic, by_status, by_text) {
        (false, Some(r), _) => r,
        (true, _, Some(r)) => r,
        // A generic temporary refusal says only "not now".
        (true, _, None) if reply.is_transient() => BounceReason::SystemError,
        (_, Some(r), None) => r,
        (_, None, Some(r)) => r,
        (_, None, None) => match reply.code {
            550 | 553 => BounceReason::Rejected,
            552 => BounceReason::MailboxFull,
            421 => BounceReason::TooManyConn,
            _ if reply.is_transient() => BounceReason::SystemError,
            _ => BounceReason::Undefined,
        },
    };
    let hard = reply.is_permanent() && is_hard(reason);
    Classification { reason, hard }
}

/// Reasons that will fail the same way next time (Sisimai's hard bounces).
pub fn is_hard(reason: BounceReason) -> bool {
    matches!(
        reason,
        BounceReason::UserUnknown | BounceReason::HostUnknown | BounceReason::NotAccept
    )
}

fn parse_status(s: &str) -> Option<(u8, u16, u16)> {
    let mut it = s.split('.');
    let class: u8 = it.next()?.parse().ok()?;
    let subject: u16 = it.next()?.parse().ok()?;
    let detail: u16 = it.next()?.trim_end_matches([',', ';', ':']).parse().ok()?;
    (it.next().is_none() && matches!(class, 2 | 4 | 5)).then_some((class, subject, detail))
}

fn reason_for_status(subject: u16, detail: u16) -> Option<BounceReason> {
    use BounceReason::*;
    Some(match (subject, detail) {
        (1, 1) | (1, 0) | (1, 3) | (1, 6) | (1, 10) => UserUnknown,
        (1, 2) => HostUnknown,
        (1, 8) => Rejected,
        (2, 1) => Suspend,
        (2, 2) => MailboxFull,
        (2, 3) => MesgTooBig,
        (3, 1) => SystemFull,
        (3, 4) => MesgTooBig,
        (3, _) => SystemError,
        (4, 4) => HostUnknown,
        (4, 7) => Expired,
        (4, _) => NetworkError,
        (5, 3) => ExceedLimit,
        (6, _) => ContentError,
        (7, 1) => Rejected,
        (7, 25) => RequirePtr,
        (7, 8) | (7, 20..=24) | (7, 26) => AuthFailure,
        (7, 27) => NotAccept,
        (7, 28) => SpamDetected,
        (7, _) => SecurityError,
        (0, 0) => return None,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(code: u16, enhanced: Option<&str>, text: &str) -> Reply {
        Reply {
            code,
            enhanced: enhanced.map(str::to_string),
            lines: vec![text.to_string()],
        }
    }

    #[test]
    fn table() {
        use BounceReason::*;
        let cases = [
            (
                550,
                Some("5.1.1"),
                "<x@inbox.test>: Recipient address rejected: User unknown in virtual mailbox table",
                UserUnknown,
                true,
            ),
            (
                550,
                Some("5.1.1"),
                "The email account that you tried to reach does not exist.",
                UserUnknown,
                true,
            ),
            (
                552,
                Some("5.2.2"),
                "The email account that you tried to reach is over quota.",
                MailboxFull,
                false,
            ),
            (
                550,
                Some("5.7.1"),
                "Service unavailable; Client host [192.0.2.1] blocked using Spamhaus",
                Blocked,
                false,
            ),
            (
                554,
                Some("5.7.1"),
                "Message rejected as spam",
                SpamDetected,
                false,
            ),
            (554, Some("5.7.1"), "Relay access denied", NoRelaying, false),
            (
                550,
                Some("5.7.25"),
                "The IP address sending this message does not have a PTR record setup",
                RequirePtr,
                false,
            ),
            (
                550,
                Some("5.7.26"),
                "Unauthenticated email from example.com is not accepted due to DMARC policy",
                AuthFailure,
                false,
            ),
            (
                556,
                Some("5.1.10"),
                "Recipient address has null MX",
                UserUnknown,
                true,
            ),
            (
                450,
                Some("4.2.1"),
                "The user you are trying to contact is receiving mail too quickly",
                SpeedLimit,
                false,
            ),
            (
                550,
                Some("5.2.1"),
                "The email account that you tried to reach is disabled",
                Suspend,
                false,
            ),
            (
                451,
                Some("4.3.0"),
                "Temporary lookup failure",
                SystemError,
                false,
            ),
            (
                421,
                None,
                "Too many connections from your IP",
                TooManyConn,
                false,
            ),
            (550, None, "No such user here", UserUnknown, true),
            (550, None, "Administrative prohibition", Rejected, false),
            (554, None, "", Undefined, false),
            // Postfix words every recipient refusal "Recipient address rejected: …".
            (
                451,
                Some("4.7.1"),
                "<a@defer.test>: Recipient address rejected: Service temporarily unavailable, try again later",
                SystemError,
                false,
            ),
            (
                550,
                Some("5.7.1"),
                "<a@x.test>: Recipient address rejected: Access denied",
                Rejected,
                false,
            ),
        ];
        for (code, enh, text, reason, hard) in cases {
            let c = classify_reply(&reply(code, enh, text));
            assert_eq!((c.reason, c.hard), (reason, hard), "{code} {enh:?} {text}");
        }
    }

    #[test]
    fn enhanced_code_may_lead_the_text() {
        let c = classify_reply(&reply(550, None, "5.1.1 mailbox unavailable"));
        assert_eq!(c.reason, BounceReason::UserUnknown);
    }
}
