//! From what a receiver said to a reason in Sisimai's vocabulary.
//!
//! Three inputs decide, in this order: the words of the diagnostic (receivers reuse one status
//! code for many things, and the words say which), the SMTP stage the refusal came at (an
//! "unknown user" answer to the message *content* is a filter, a refusal of `MAIL FROM` is about
//! the sender), and the enhanced status code (RFC 3463) when the words say nothing we know.
//!
//! The phrase lists are plain data so a new receiver's wording is one line; the table test in
//! `tests` and the corpus test in `tests/corpus.rs` pin the behaviour.

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

/// Phrases per reason, checked in this order: the first reason with a phrase in the text wins.
/// More specific reasons come before the general ones that share words with them.
const PHRASES: &[(BounceReason, &[&str])] = &[
    (
        BounceReason::Expired,
        &[
            "delivery time expired",
            "retry timeout exceeded",
            "retry time not reached for any host after a long failure period",
            "message expired",
            "message timed out",
            "was not delivered within",
            "could not be delivered within",
            "delivery expired",
            "have been unable to deliver",
            "has not been delivered for",
            "too long in queue",
            "queue lifetime",
            "delivery attempts have failed for",
            "could not deliver for",
            "message could not be delivered for more than",
            "maximum time limit",
            "time limit exceeded",
            "timeout exceeded",
            "undeliverable for",
            "has been in the queue too long",
            "delivery was deferred until the message expired",
            "did not accept our requests to connect",
            "connection expired",
            "past the expiration",
        ],
    ),
    // Postfix's notice when it lost the per-recipient record: it says nothing of why.
    (BounceReason::Undefined, &["delivery report unavailable"]),
    // Refusals of the sender, worded unmistakably: before the recipient words they contain.
    (
        BounceReason::Rejected,
        &[
            "sender address rejected",
            "sender verify failed",
            "sender verification failed",
            "domain of sender address",
            "permission to post",
            "not allowed to post",
            "投稿する権限",
            // The sender's address (not its IP) is on the receiver's list.
            "address that has been blacklisted",
            "email address has been blacklisted",
            "email address has been blocked",
            "badmailfrom list",
            "sender account is disabled",
        ],
    ),
    // Unmistakable wordings of reasons whose general words come late in this list.
    (
        BounceReason::Filtered,
        &[
            "message filtered",
            "has been filtered",
            "was filtered",
            "recipient preferences",
            "blocked by the recipient",
        ],
    ),
    (
        BounceReason::UserUnknown,
        &["recipient address rejected: access denied"],
    ),
    (
        BounceReason::NotCompliantRfc,
        &["valid rfc 5321", "rfc 5322 compliant", "not rfc 5322"],
    ),
    (BounceReason::FailedStartTls, &["mta-sts"]),
    (
        BounceReason::ExceedLimit,
        &[
            "header size",
            "headers size",
            "header is too large",
            "too many headers",
        ],
    ),
    // The cause named beats the consequence ("rate limited because … isn't aligned", "rate
    // limited due to the very low reputation").
    (
        BounceReason::AuthFailure,
        &[
            "isn't aligned",
            "is not aligned",
            "not aligned with",
            "dmarc policy",
            "spf check failed",
            "dkim check failed",
        ],
    ),
    (
        BounceReason::BadReputation,
        &[
            "low reputation",
            "poor reputation",
            "bad reputation",
            "reputation of the sending",
        ],
    ),
    // The named cause again: "rejected due to spam classification … (set up SPF)".
    (
        BounceReason::SpamDetected,
        &[
            "rejected due to spam",
            "due to spam classification",
            "classified as spam",
        ],
    ),
    (
        BounceReason::NotAccept,
        &[
            "null mx",
            "indicated no smtp service",
            "doesn't receive email",
            "does not receive email",
            "accepts no mail",
        ],
    ),
    (
        BounceReason::PolicyViolation,
        &[
            "content presents a potential",
            "illegal attachment",
            "due to local policy",
        ],
    ),
    (
        BounceReason::TooManyConn,
        &["connection frequency", "frequency limited"],
    ),
    (
        BounceReason::SecurityError,
        &[
            "unauthenticated senders",
            "authentication required",
            "authrequired",
            "must authenticate",
            "login attempts",
            "log in with your web browser",
        ],
    ),
    (
        BounceReason::SyntaxError,
        &[
            "malformed address",
            "syntax error",
            "improper sequence",
            "bad sequence of commands",
        ],
    ),
    (
        BounceReason::NoRelaying,
        &[
            "not configured to relay",
            // A relay that sends only for identities it has verified (Amazon SES).
            "email address is not verified",
            "credentials for relay",
            "relaying denied",
            "relay access denied",
        ],
    ),
    (
        BounceReason::SystemError,
        &[
            "transaction failed",
            // A mail loop back to the sender's own host is its configuration; a routing loop
            // between hosts (hop count) stays a network error.
            "loops back to myself",
            "mail loop",
            "loop detected",
            "is looping",
        ],
    ),
    (
        BounceReason::VirusDetected,
        &[
            "virus",
            "infected",
            "malware",
            "malicious",
            "the message contains a dangerous",
        ],
    ),
    (
        BounceReason::MailboxFull,
        &[
            "mailbox full",
            "mailbox is full",
            "mailbox has exceeded",
            "mailbox exceeds",
            "mailbox size limit",
            "mailbox over",
            "mailbox quota",
            "mail quota",
            "mailfolder is full",
            "mail box full",
            "disk quota",
            "over quota",
            "overquota",
            "over the quota",
            "over its quota",
            "quota exceeded",
            "exceeded storage",
            "exceeds the size limit of the mailbox",
            "insufficient storage",
            "insufficient disk space",
            "account is full",
            "account is over",
            "user is over",
            "recipient is over",
            "storage allocation",
            "no space left",
            "out of storage",
            "too much mail data",
            "mailbox not enough space",
            "would exceed mailbox",
            "inbox is full",
            "has exceeded its storage",
            "exceeded the storage",
        ],
    ),
    (
        BounceReason::MesgTooBig,
        &[
            "message too large",
            "message too big",
            "message is too large",
            "message is too big",
            "message size exceeds",
            "message size limit",
            "size exceeds",
            "exceeds size limit",
            "exceeds the maximum size",
            "exceeded the maximum message size",
            "message length exceeds",
            "message file too big",
            "size limit exceeded",
            "mail size limit",
            "larger than the maximum",
        ],
    ),
    (
        BounceReason::ExceedLimit,
        &[
            "message exceeds local size limit",
            "message exceeded",
            "exceeds the maximum allowed",
            "size limit",
        ],
    ),
    (
        BounceReason::SystemFull,
        &[
            "mail system full",
            "requested mail action aborted: exceeded storage",
            "insufficient system storage",
            "system storage",
            "server is full",
            "queue is full",
            "too many messages in queue",
        ],
    ),
    (
        BounceReason::Speeding,
        &[
            "recipients this hour",
            "rate limit",
            "ratelimit",
            "rate-limit",
            "too quickly",
            "too fast",
            "too many messages",
            "too many emails",
            "too many mails",
            "throttl",
            "sending rate",
            "slow down",
            "exceeded the rate",
            "receiving mail at a rate",
        ],
    ),
    (
        BounceReason::TooManyConn,
        &[
            "too many connections",
            "too many recipients",
            "too many concurrent",
            "too many simultaneous",
            "connection limit",
            "too many smtp sessions",
            "too many sessions",
            "exceeded the maximum number of connections",
            "concurrent connections",
        ],
    ),
    (
        BounceReason::HasMoved,
        &[
            "has moved",
            "has been moved",
            "no longer at this address",
            "user has moved",
            "address has changed",
            "changed e-mail address",
            "please use the new address",
        ],
    ),
    (
        BounceReason::Suspend,
        &[
            "recipient suspend",
            "account disabled",
            "account is disabled",
            "account has been disabled",
            "account is inactive",
            "inactive account",
            "account inactive",
            "account suspended",
            "account has been suspended",
            "account is suspended",
            "mailbox disabled",
            "mailbox is disabled",
            "mailbox is inactive",
            "mailbox has been disabled",
            "mailbox suspended",
            "mailbox is frozen",
            "address is disabled",
            "account has been locked",
            "temporary locked",
            "temporarily locked",
            "account is locked",
            "account closed",
            "account deleted",
            "user suspended",
            "recipient suspended",
            "disabled recipient",
            "recipient is disabled",
            "suspended mailbox",
            "not an active",
            "is not active",
            "no longer active",
            "deactivated",
            "has been terminated",
            "email account that you tried to reach is disabled",
            "email account that you tried to reach is inactive",
        ],
    ),
    (
        BounceReason::NoRelaying,
        &[
            "relay access denied",
            "relaying denied",
            "relay denied",
            "relay not permitted",
            "relaying not permitted",
            "relaying not allowed",
            "we do not relay",
            "unable to relay",
            "not permitted to relay",
            "relay prohibited",
            "no relaying",
            "not allowed to relay",
            "not a gateway",
            "relay operation rejected",
            "relaying mail to",
            "cannot relay",
            "can't relay",
            "is not a local domain",
        ],
    ),
    (
        BounceReason::RequirePtr,
        &[
            "reverse dns",
            "reverse lookup",
            "reverse-lookup",
            "ptr record",
            "no ptr",
            "rdns",
            "cannot find your hostname",
            "cannot resolve your address",
            "client host rejected: cannot find your",
            "hostname does not resolve",
            "cannot find your reverse hostname",
            "your ip address has no hostname",
            "ip name lookup failed",
            "no reverse",
            "unresolvable address",
            "not resolve your",
            "did not reverse-resolve",
            "no valid hostname",
            "unverifiable sending ip",
            "unverifyable sending ip",
            "rfc1912",
        ],
    ),
    (
        BounceReason::AuthFailure,
        &[
            "spf",
            "dkim",
            "dmarc",
            "sender policy framework",
            "unauthenticated email",
            "not authenticated",
            "authentication failure",
            "authentication failed",
            "failed authentication",
            "does not pass authentication",
            "sender authentication",
            "domainkeys",
            "550 5.7.509",
            "5.7.509",
            "5.7.26",
            "5.7.27",
        ],
    ),
    (
        BounceReason::HostUnknown,
        &[
            "host unknown",
            "unknown host",
            "host not found",
            "host * not found",
            "domain not found",
            "no such domain",
            "domain does not exist",
            "domain may not exist",
            "domain name not found",
            "unrouteable address",
            "unroutable address",
            "no mx",
            "name or service not known",
            "unknown domain",
            "domain is not",
            "domain isn't in my list",
            "illegal host/domain",
            "host or domain name not found",
            "mx record",
            "all relevant mx records point to non-existent hosts",
            "not our customer",
            "does not accept mail",
        ],
    ),
    (BounceReason::UserUnknown, ADDRESS_DOES_NOT_EXIST),
    (
        BounceReason::UserUnknown,
        &[
            "user unknown",
            "unknown user",
            "unknown recipient",
            "unknown address",
            "unknown local part",
            "unknown mailbox",
            "no such user",
            "no such mailbox",
            "no such recipient",
            "no such address",
            "no such person",
            "no such account",
            "user not found",
            "user doesn't exist",
            "user does not exist",
            "recipient not found",
            "recipient does not exist",
            "recipient unknown",
            "recipient address rejected: user",
            "recipient rejected",
            "invalid recipient",
            "invalid mailbox",
            "invalid address",
            "address does not exist",
            "address unknown",
            "addressee unknown",
            "mailbox unavailable",
            "mailbox not found",
            "mailbox does not exist",
            "mailbox not available",
            "mailbox is unavailable",
            "mailbox name not allowed",
            "no mailbox",
            "not a valid mailbox",
            "not a valid recipient",
            "not a known user",
            "not listed in",
            "unknown or illegal alias",
            "account does not exist",
            "account that you tried to reach does not exist",
            "does not exist here",
            "doesn't have an account",
            "user doesn't have a",
            "does not have an account",
            "email address could not be found",
            "e-mail address was not found",
            "could not be found",
            "no longer valid",
            "not exist",
            "nonexistent",
            "non-existent",
            "bad destination mailbox",
            "bad recipient",
            "is not a valid",
            "unknown in virtual",
            "in virtual mailbox table",
            "in local recipient table",
            "in relay recipient table",
            "undeliverable address",
            "user is unknown",
            "is not a registered",
            "sorry, no mailbox here",
            "this account has been",
            "no account by that name",
            "550 5.1.1",
            "5.1.1",
            "mailbox not exist",
            "no valid recipients",
            "user invalid",
            "unknown or invalid",
            "rejecting mail for",
            "requested action not taken: mailbox",
            "delivery to the following recipient failed permanently",
            "delivery to the following recipients failed",
        ],
    ),
    (
        BounceReason::SpamDetected,
        &[
            "spam",
            "junk mail",
            "unsolicited",
            "bulk mail",
            "looks like spam",
            "message content rejected",
            "content rejected",
            "rejected by the content filter",
            "score too high",
            "high probability",
            "classified as",
            "suspicious",
            "unwanted",
            "uce",
            "message refused",
            "message rejected due to content",
            "identified as",
        ],
    ),
    (
        BounceReason::NetworkError,
        &[
            "routing loop",
            "too many hops",
            "hop count",
            "unable to connect",
            "connection refused",
            "connection timed out",
            "connection reset",
            "no route to host",
            "network is unreachable",
            "dns lookup",
            "name service error",
            "dns error",
            "temporary lookup failure",
            "lookup failed",
            "name server",
            "could not connect",
            "couldn't connect",
            "no answer from host",
            "host unreachable",
            "unreachable",
            "timeout",
            "timed out",
            "lost connection",
            "connection closed",
        ],
    ),
    (
        BounceReason::BadReputation,
        &[
            "reputation",
            "user complaints",
            "temporarily rate limited due to ip reputation",
            "sender score",
            "poor",
        ],
    ),
    (
        BounceReason::Blocked,
        &[
            "blacklist",
            "blocklist",
            "black list",
            "block list",
            "blocked using",
            "listed at",
            "listed on",
            "listed in",
            "spamhaus",
            "spamcop",
            "barracudacentral",
            "sorbs",
            "dnsbl",
            "rbl",
            "client host rejected",
            "client host blocked",
            "service refuse",
            "connection rejected",
            "access denied",
            "blocked",
            "banned",
            "not allowed to send",
            "your ip",
            "your server",
            "your host",
            "your network",
            "ip address",
            "hostname",
            "dynamic",
            "dial-up",
            "dialup",
            "residential",
            "not accepting",
            "poor",
            "rejected due to",
            "is not allowed",
        ],
    ),
    (
        BounceReason::PolicyViolation,
        &[
            "policy",
            "prohibited",
            "not permitted",
            "not allowed",
            "violation",
            "violat",
            "restricted",
            "administrative",
            "forbidden",
        ],
    ),
    (
        BounceReason::NotCompliantRfc,
        &[
            "rfc 5321",
            "rfc 5322",
            "rfc5322",
            "rfc 2822",
            "rfc2822",
            "not rfc",
            "rfc compliant",
            "multiple",
            "duplicate",
            "malformed",
        ],
    ),
    (
        BounceReason::ContentError,
        &[
            "header",
            "content",
            "mime",
            "encoding",
            "attachment",
            "line too long",
            "8-bit",
            "8bit",
        ],
    ),
    (
        BounceReason::SyntaxError,
        &[
            "syntax error",
            "command unrecognized",
            "command not recognized",
            "unrecognized command",
            "unknown command",
            "bad sequence of commands",
            "out of sequence",
            "invalid command",
            "command rejected",
        ],
    ),
    (
        BounceReason::FailedStartTls,
        &[
            "starttls",
            "tls required",
            "must issue a starttls",
            "encryption required",
            "requires tls",
            "tls is required",
            "tls negotiation",
        ],
    ),
    (
        BounceReason::SecurityError,
        &[
            "security",
            "authentication required",
            "auth required",
            "must authenticate",
            "sender not allowed",
            "not authorized",
            "unauthorized",
            "insecure",
        ],
    ),
    (
        BounceReason::MailerError,
        &[
            "mailer error",
            "operating system error",
            "mailer-daemon error",
            "pipe to",
            "procmail",
            "command died",
            "exit code",
            "exit status",
            "x-unix;",
            "unknown mailer",
            "local delivery failed",
            "local mailer",
            "error in processing",
            "delivery to program",
        ],
    ),
    (
        BounceReason::SystemError,
        &[
            "system error",
            "internal error",
            "server error",
            "local error",
            "local configuration error",
            "configuration error",
            "temporary failure",
            "service unavailable",
            "service not available",
            "system not available",
            "resources",
            "try again",
            "unavailable",
            "i/o error",
            "database",
            "server busy",
        ],
    ),
    (
        BounceReason::Rejected,
        &[
            "sender address rejected",
            "sender rejected",
            "sender domain",
            "domain of sender address",
            "sender verify failed",
            "sender verification",
            "sender is not allowed",
            "envelope from",
            "envelope sender",
            "mail from",
            "return path",
            "from address",
            "sender",
            "rejected",
            "not accepted",
            "refused",
            "you do not have permission",
            "permission to post",
            "permission",
            "denied",
        ],
    ),
];

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

/// Statements that the address itself does not exist, whatever the stage (also the first of
/// the unknown-user phrases in `PHRASES`).
const ADDRESS_DOES_NOT_EXIST: &[&str] = &[
    "recipient name is not recognized",
    "address couldn't be found",
    "address could not be found",
    "address not found",
    "check if address is correct",
    "check if the address is correct",
    "check the recipient address",
    "check the recipient's address",
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
