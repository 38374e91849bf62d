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

/// The SMTP command a diagnostic names in capitals ("... after RCPT TO:<a@b>", ">>> DATA"),
/// for texts without one of `stage_in`'s phrases. Of several, the later in the session.
pub fn command_in(text: &str) -> Option<SmtpStage> {
    const TOKENS: &[(&str, SmtpStage)] = &[
        ("HELO", SmtpStage::Ehlo),
        ("EHLO", SmtpStage::Ehlo),
        ("STARTTLS", SmtpStage::StartTls),
        ("AUTH PLAIN", SmtpStage::Auth),
        ("AUTH LOGIN", SmtpStage::Auth),
        ("AUTH CRAM-", SmtpStage::Auth),
        ("MAIL F", SmtpStage::MailFrom),
        ("RCPT", SmtpStage::RcptTo),
        ("DATA", SmtpStage::Data),
    ];
    let text = crate::feedback::truncate(text, MAX_TEXT);
    let b = text.as_bytes();
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'@';
    TOKENS
        .iter()
        .rev()
        .find(|(token, _)| {
            text.match_indices(token).any(|(at, _)| {
                // Whole words: "DATA" is not "DATABASE", "MAIL F" is not "EMAIL FROM".
                (at == 0 || !word(b[at - 1]))
                    && (token.ends_with(' ')
                        || token.contains(' ')
                        || b.get(at + token.len()).is_none_or(|c| !word(*c)))
            })
        })
        .map(|(_, stage)| *stage)
}

use super::phrases::{ADDRESS_DOES_NOT_EXIST, CHECK_THE_ADDRESS, PHRASES};
use super::wordings;

/// The reason a text names, if any: the first whose specific statement it makes (in the order
/// a bare text is read), else the first with one of the broad words of `phrases.rs`.
pub fn by_phrase(lower: &str) -> Option<BounceReason> {
    wordings::spoken(lower, false).or_else(|| {
        PHRASES.iter().find_map(|(reason, phrases)| {
            phrases
                .iter()
                .any(|p| contains_phrase(lower, p))
                .then_some(*reason)
        })
    })
}

/// Whole-word containment for short phrases ("rbl", "uce", "spf" must not match inside a word).
/// A ` * ` in a phrase stands for one word, such as the host name in "host * not found".
pub(super) fn contains_phrase(hay: &str, needle: &str) -> bool {
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

    /// The reason this code names by itself (RFC 3463 and the codes big receivers use), or
    /// None for codes that leave it to the words (x.0.0, 4.3.0, 4.4.0, 4.5.0, 4.7.0, …).
    pub fn name(self) -> Option<BounceReason> {
        use BounceReason::*;
        Some(match (self.class, self.subject, self.detail) {
            (2, _, _) => Delivered,
            (_, 1, 6) => HasMoved,
            (_, 1, 7) | (_, 1, 8) => Rejected,
            (_, 1, 9) => SystemError,
            (5, 1, 0) | (5, 1, 1) | (5, 1, 3) => UserUnknown,
            (5, 1, 2) => HostUnknown,
            (5, 1, 4) => Filtered,
            (5, 1, 10) => NotAccept,
            (4, 2, 1) => Blocked,
            (5, 2, 0) | (5, 2, 1) => Filtered,
            (_, 2, 2) => MailboxFull,
            (_, 2, 3) => ExceedLimit,
            (_, 2, 4) => Filtered,
            (_, 3, 1) => SystemFull,
            (_, 3, 2) => NotAccept,
            (5, 3, 0) => SystemError,
            (_, 3, 3) | (_, 3, 5) => SystemError,
            (5, 3, 4) => MesgTooBig,
            (4, 4, 1) | (4, 4, 7) => Expired,
            (4, 4, 2) | (4, 4, 4) | (4, 4, 6) | (4, 4, 8) => NetworkError,
            (4, 4, 3) => SystemError,
            (4, 4, 5) => SystemFull,
            (5, 4, 0) => NetworkError,
            (5, 4, 3) => SystemError,
            (5, 4, 4) => HostUnknown,
            (4, 5, 3) | (4, 5, 5) => SystemError,
            (5, 5, 2) | (5, 5, 6) => SyntaxError,
            (5, 5, 3) => TooManyConn,
            (5, 5, 4) | (5, 5, 5) => SystemError,
            (4, 6, 0) | (4, 6, 2) | (4, 6, 5) => ContentError,
            (5, 6, 0..=3) | (5, 6, 5..=9) => ContentError,
            (4, 7, 1) | (4, 7, 2) => Blocked,
            (4, 7, 5..=7) | (4, 7, 12) | (4, 7, 15) => SecurityError,
            (5, 7, 0..=11) | (5, 7, 14) | (5, 7, 15) | (5, 7, 19) => SecurityError,
            (5, 7, 13) => Suspend,
            (_, 7, 16) => MesgTooBig,
            (5, 7, 17) | (5, 7, 18) => HasMoved,
            (5, 7, 20..=24) | (_, 7, 24) | (_, 7, 26) | (5, 7, 29) => AuthFailure,
            (_, 7, 25) => RequirePtr,
            (5, 7, 28) => SpamDetected,
            (5, 7, 30) => FailedStartTls,
            // 5.7.27 is the *sender's* null MX (RFC 7505), but Sendmail answers it for the
            // recipient's ("Host does not accept mail"): the words decide.
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
    /// The report says the queue gave up retrying: "expired" when nothing more specific is
    /// said.
    pub gave_up: bool,
    /// The report is a delay warning (the message is still queued): a connection failure it
    /// states is the cause; "expired" only when it states none.
    pub delayed: bool,
    /// The reporting MTA's own verdict from its wording (see `mta`).
    pub preset: Option<BounceReason>,
    /// The diagnostic is a local program's (`X-Unix;`), not an SMTP reply.
    pub local: bool,
}

/// Reasons a reporter's verdict or a status code can give that are vague enough for the
/// words to be asked again.
fn asked_again(reason: BounceReason) -> bool {
    use BounceReason::*;
    matches!(
        reason,
        Undefined
            | OnHold
            | SystemError
            | SecurityError
            | Expired
            | NetworkError
            | HostUnknown
            | UserUnknown
    )
}

/// Stages before the message's content: a refusal there is not a verdict on the content.
fn before_data(stage: Option<SmtpStage>) -> bool {
    stage.is_some_and(|s| !s.is_content())
}

/// The reasons whose probes (status code, stage and statements together) are asked first,
/// in this order: the more specific before the more general that shares words with them.
const PROBED: &[BounceReason] = &[
    BounceReason::MailboxFull,
    BounceReason::MesgTooBig,
    BounceReason::ExceedLimit,
    BounceReason::Suspend,
    BounceReason::HasMoved,
    BounceReason::NoRelaying,
    BounceReason::AuthFailure,
    BounceReason::UserUnknown,
    BounceReason::Filtered,
    BounceReason::RequirePtr,
    BounceReason::NotCompliantRfc,
    BounceReason::BadReputation,
    BounceReason::ContentError,
    BounceReason::Rejected,
    BounceReason::HostUnknown,
    BounceReason::SpamDetected,
    BounceReason::Speeding,
    BounceReason::TooManyConn,
    BounceReason::Blocked,
];

/// The reasons asked by their statements alone when the status code names no reason (or a
/// vague one), in this order.
const STATED: &[BounceReason] = &[
    BounceReason::MailboxFull,
    BounceReason::AuthFailure,
    BounceReason::BadReputation,
    BounceReason::Speeding,
    BounceReason::SpamDetected,
    BounceReason::VirusDetected,
    BounceReason::PolicyViolation,
    BounceReason::NoRelaying,
    BounceReason::SystemError,
    BounceReason::NetworkError,
    BounceReason::Suspend,
    BounceReason::ContentError,
    BounceReason::SystemFull,
    BounceReason::NotAccept,
    BounceReason::Expired,
    BounceReason::FailedStartTls,
    BounceReason::SecurityError,
    BounceReason::MailerError,
];

/// One refusal as the probes read it.
struct Probe<'a> {
    lower: &'a str,
    status: Option<Status>,
    /// The reason the status code names, if any.
    named: Option<BounceReason>,
    reply_code: Option<u16>,
    stage: Option<SmtpStage>,
    preset: Option<BounceReason>,
    /// A delay warning: the message is still queued.
    delayed: bool,
}

impl Probe<'_> {
    fn says(&self, reason: BounceReason) -> bool {
        wordings::says(reason, self.lower)
    }

    fn named(&self, reason: BounceReason) -> bool {
        self.named == Some(reason)
    }

    /// The refusal's own code is a temporary one (4.x.x, or a 4xx reply without a status).
    fn temporary(&self) -> bool {
        match (self.status, self.reply_code) {
            (Some(s), _) => s.class == 4,
            (None, Some(c)) => (400..500).contains(&c),
            (None, None) => false,
        }
    }

    /// Does this refusal show `reason`? Each reason weighs the status code, the stage and its
    /// statements its own way.
    fn shows(&self, reason: BounceReason) -> bool {
        use BounceReason::*;
        if self.preset == Some(reason) {
            return true;
        }
        match reason {
            MesgTooBig => {
                if self.named(MesgTooBig) {
                    return true;
                }
                // x.2.3: the recipient's own limit, not the message's size.
                if self.named(ExceedLimit) {
                    return false;
                }
                self.says(MesgTooBig)
            }
            Suspend => self.reply_code == Some(525) || self.says(Suspend),
            // Refused at MAIL FROM, no recipient had been named: a moved mailbox there is not
            // the recipient's (the Rejected probe's).
            HasMoved => self.stage != Some(SmtpStage::MailFrom) && self.says(reason),
            NotCompliantRfc | BadReputation | Speeding => self.says(reason),
            NoRelaying => {
                !matches!(self.preset, Some(SecurityError | SystemError | Undefined))
                    && !self.stage.is_some_and(SmtpStage::is_session_setup)
                    && self.says(NoRelaying)
            }
            UserUnknown => {
                // A code naming the sender, or a suspended mailbox, is not about this address.
                if self.named(Suspend) || self.named(Rejected) {
                    return false;
                }
                // Refused before any recipient was named: not about a recipient.
                if matches!(self.stage, Some(SmtpStage::MailFrom))
                    || self.stage.is_some_and(SmtpStage::is_session_setup)
                {
                    return false;
                }
                // Words that say it is something else win over the code and the stage.
                if [
                    NoRelaying,
                    Blocked,
                    MailboxFull,
                    HasMoved,
                    Rejected,
                    NotAccept,
                ]
                .iter()
                .any(|r| self.says(*r))
                {
                    return false;
                }
                // x.1.1 means the address. Without the code the words are about the address
                // unless the refusal came after the message (a filter's verdict on it, below)
                // or the code names a filter (5.2.0, 5.2.1, x.2.4): a report that does not say at
                // which command it failed is taken at its word. (Sisimai reads an unstaged
                // "unknown user" as `filtered`; every independent reader of our collections
                // reads it as `userunknown`, and so does a sender deciding whether the address
                // is dead.)
                self.named(UserUnknown)
                    || (self.stage == Some(SmtpStage::RcptTo) && self.says(UserUnknown))
                    || (self.stage.is_none()
                        && !self.named(Filtered)
                        && !self.temporary()
                        && self.says(UserUnknown))
                    || states_address_missing(self.lower)
                    // A receiving server that finds no route for an address of its own domain
                    // at RCPT TO (Exim's stock "550 Unrouteable address") has no such user;
                    // Exim's own bounce saying it (no server answered) is about the domain.
                    || (self.stage == Some(SmtpStage::RcptTo)
                        && self.reply_code.is_some_and(|c| c >= 500)
                        && says_unrouteable(self.lower))
            }
            Filtered => {
                if self.named(Suspend) {
                    return false;
                }
                if self.named(Filtered) {
                    return self.says(UserUnknown) || self.says(Filtered);
                }
                // "Unknown user" answered after the message: a filter's verdict on it; so is
                // one with a temporary code that no command is named for (an address that does
                // not exist is no temporary matter).
                (!before_data(self.stage) && self.says(Filtered))
                    || ((self.stage.is_some_and(SmtpStage::is_content)
                        || (self.stage.is_none() && self.temporary()))
                        && self.says(UserUnknown))
            }
            ContentError => {
                !self.shows(SpamDetected) && (self.named(ContentError) || self.says(ContentError))
            }
            Rejected => {
                // A code that names the sender, or words that refuse our sender by name
                // ("Sender address rejected: …", "Sender verify failed") whatever code they
                // carry (Postfix's 5.1.0 for an unlisted sender).
                if self.named(Rejected) || wordings::refuses_our_sender(self.lower) {
                    return true;
                }
                // Refused at MAIL FROM: the words say the sender was refused, or a code about an
                // address names the sender's.
                if self.stage == Some(SmtpStage::MailFrom) {
                    return self.says(Rejected)
                        || self.named.is_some_and(|n| ADDRESS_VERDICTS.contains(&n))
                        // No recipient had been named: an address or a domain said not to
                        // exist (or to take no mail) is our sender's (Courier's "517-Domain
                        // does not exist: …", Sendmail's "Illegal MX record for host …"), for
                        // good or for now.
                        || [UserUnknown, HostUnknown, NotAccept, HasMoved]
                            .iter()
                            .any(|r| self.says(*r))
                        // x.4.3, a directory (name) server failure, refused for good at MAIL
                        // FROM: the one address the server had to resolve is our sender's
                        // (qpsmtpd's resolvable_fromhost: "Temporary address resolution
                        // failure (#5.4.3)").
                        || (!self.temporary()
                            && !self.delayed
                            && self.reply_code.is_none_or(|c| c >= 500)
                            && self.status.is_some_and(|s| s.subject == 4 && s.detail == 3));
                }
                let vague = self
                    .named
                    .is_none_or(|r| matches!(r, SecurityError | SystemError));
                let relevant = self.stage == Some(SmtpStage::MailFrom)
                    || (self.stage.is_some_and(SmtpStage::is_content) && !self.named(UserUnknown))
                    || vague;
                relevant && self.says(Rejected)
            }
            HostUnknown => {
                // A lookup that failed for now ("… Host not found, try again", a 4.x.x code)
                // is a network error, not a verdict on the domain; a queue that gave up on
                // the domain's hosts found them (whatever status code it wrote).
                if self.says(NetworkError)
                    || self.says(Expired)
                    || self.status.is_some_and(|s| s.class == 4)
                {
                    return false;
                }
                self.named(HostUnknown)
                    || self.says(HostUnknown)
                    // Exim's own bounce (no command answered it); said in reply to MAIL FROM
                    // it is about our sender's domain (the Rejected probe's).
                    || (self.stage.is_none() && says_unrouteable(self.lower))
            }
            Blocked => {
                // Sendmail's "Deferred: Connection refused by [host]" in a delay warning is a
                // connection refused at the TCP level, not a refusal of us (read below as a
                // network error); other words of a block still count.
                if self.delayed
                    && !self.named(Blocked)
                    && self.lower.contains("connection refused by")
                {
                    return wordings::says(
                        Blocked,
                        &self.lower.replace("connection refused by", ""),
                    );
                }
                self.named(Blocked) || self.says(Blocked)
            }
            SpamDetected => {
                if self.status.is_none() {
                    return false;
                }
                if self.named(SpamDetected) {
                    return true;
                }
                !before_data(self.stage) && self.says(SpamDetected)
            }
            _ => self.named(reason) || self.says(reason),
        }
    }

    /// When no probe decides: the statements of the other reasons, then what the code's
    /// class and subject, the program, the reply code and the stage leave.
    fn otherwise(&self, local: bool, gave_up: bool) -> Option<BounceReason> {
        use BounceReason::*;
        // A delay warning that says the recipient's server could not be reached: nothing has
        // expired yet, the queue is still trying (Sisimai, and a reporter's own template,
        // read it as `expired`; Herald departs, see the README).
        // A local program's own output ("Command output: avpcheck: unable to connect to avp
        // daemon") is about that program, not the recipient's server.
        // A code that names another cause (4.3.1 a full system, …) keeps it.
        if self.delayed
            && !local
            && !self.lower.contains("command output")
            && self
                .preset
                .is_none_or(|p| matches!(p, Expired | Undefined | OnHold))
            && self
                .named
                .is_none_or(|n| matches!(n, Expired | NetworkError))
            && (self.says(NetworkError) || says_connection_failed(self.lower))
        {
            return Some(NetworkError);
        }
        // A warning template's "expired" says nothing yet: the cause it states comes first.
        if let Some(p) = self
            .preset
            .filter(|p| !(matches!(p, Undefined | OnHold) || (self.delayed && *p == Expired)))
        {
            return Some(p);
        }
        if !(self.named.is_none_or(asked_again) || local) {
            return self.named;
        }
        if let Some(r) = STATED.iter().find(|r| self.says(**r)) {
            return Some(*r);
        }
        // A warning that states no cause: its template's "expired" (not a guess from the code).
        if self.delayed && self.preset == Some(Expired) {
            return Some(Expired);
        }
        if self.named.is_some() {
            return self.named;
        }
        match self.status.map(|s| s.subject) {
            Some(6) => return Some(ContentError),
            Some(7) => return Some(SecurityError),
            _ => {}
        }
        if local {
            return Some(MailerError);
        }
        if self
            .reply_code
            .is_some_and(|c| (401..=407).contains(&c) || (501..=507).contains(&c))
        {
            return Some(SyntaxError);
        }
        if gave_up || self.delayed {
            return Some(Expired);
        }
        if self.stage.is_some_and(SmtpStage::is_session_setup) {
            return Some(Blocked);
        }
        None
    }
}

/// The reason for one refusal. In order: the reporting MTA's own verdict where it is precise;
/// a local delivery agent's words; amavisd-new's category in its reply; a refused SMTP login
/// (`smtp_login_refused`); the probes, each weighing status code, stage and statements
/// (`PROBED`); the reporter's vaguer verdict; the statements alone (`STATED`);
/// what the status code, the reply code and the stage leave; the broad words; `onhold`.
pub fn decide(r: &Refusal<'_>) -> BounceReason {
    use BounceReason::*;
    if let Some(p) = r.preset
        && !asked_again(p)
    {
        return p;
    }
    // What decides a reason is in the first few KB; the bound keeps the phrase scan linear.
    let lower = crate::feedback::truncate(r.text, MAX_TEXT).to_ascii_lowercase();
    // The original's subject, quoted by a report ("The subject of the message is: …", a
    // "Subject:" line), is the sender's words, not the refusal's: a campaign called "Your
    // mailbox is full" is not a full mailbox.
    let lower = without_quoted_subjects(&lower);
    // A refusal only ever given to a sender is read as said at MAIL FROM, whatever stage the
    // report names.
    if r.stage != Some(SmtpStage::MailFrom) && said_only_of_our_sender(r.reply_code, &lower) {
        return decide(&Refusal {
            stage: Some(SmtpStage::MailFrom),
            ..r.clone()
        });
    }
    let status = r.status.or_else(|| Status::find(&lower));
    // A local delivery agent's template quotes the address ("Your message to <a@b> was …").
    let agent = local_agent(&lower);
    // Addresses and links say nothing about the reason ("blocked@…", "…/reason/#spam").
    let lower = without_addresses_and_links(&lower);
    if status.is_some_and(|s| s.class == 2) || r.reply_code.is_some_and(|c| (200..300).contains(&c))
    {
        return Delivered;
    }
    if r.stage.is_none_or(SmtpStage::is_content)
        && let Some(agent) = agent
    {
        return agent;
    }
    // amavisd-new's reply names its verdict after the message's id, whoever relays it.
    if let Some(category) = crate::feedback::mta::amavis_reply(&lower) {
        return category;
    }
    if smtp_login_refused(r.reply_code, &lower) {
        return SecurityError;
    }
    let probe = Probe {
        lower: &lower,
        status,
        named: status.and_then(Status::name),
        reply_code: r.reply_code,
        stage: r.stage,
        preset: r.preset,
        delayed: r.delayed,
    };
    if !r.local
        && let Some(reason) = PROBED.iter().find(|reason| probe.shows(**reason))
    {
        return *reason;
    }
    if let Some(reason) = probe.otherwise(r.local, r.gave_up) {
        return reason;
    }
    if wordings::says(Vacation, &lower) {
        return Vacation;
    }
    // Nothing specific: the broad words ("policy", "denied", "blocked"), then the reply code.
    let broad = by_phrase(&lower);
    // A refusal of MAIL FROM with no words or only broad words of policy (Exim's "550
    // Administrative prohibition"): the sender refused, by Sisimai's convention for that command.
    if refuses_the_sender(r) && broad.is_none_or(|b| b == PolicyViolation) {
        return Rejected;
    }
    // Broad words of an address or a domain there: no recipient had been named, so they are
    // about our sender, whatever code (or none) the refusal carries. So too where the text
    // names our sender as their subject ("Email from that domain is not accepted here.").
    if let Some(reason) = broad
        && (r.stage == Some(SmtpStage::MailFrom) || wordings::names_our_sender(&lower))
        && ADDRESS_VERDICTS.contains(&reason)
    {
        return Rejected;
    }
    if let Some(reason) = broad {
        // Broad words of an unknown user, answered after the message: a filter's verdict on
        // the message (as the Filtered probe reads the specific statements).
        if reason == UserUnknown && r.stage.is_some_and(SmtpStage::is_content) {
            return Filtered;
        }
        return reason;
    }
    match r.reply_code {
        Some(552) => MailboxFull,
        Some(421) => TooManyConn,
        // RFC 5321's 551 names where the user went; without an address to try it is a relay
        // refusing a user who is not local.
        Some(551) if lower.contains("please try") && r.text.contains('@') => HasMoved,
        Some(c) if (400..500).contains(&c) => SystemError,
        _ if lower.trim().is_empty() && status.is_none() && r.reply_code.is_none() => Undefined,
        _ => OnHold,
    }
}

/// Replies only ever given to a sender, whatever the stage that is not named: Courier's 517
/// (submit.C answers a sender's domain that fails its DNS checks or its list of bad senders so:
/// "517-Domain does not exist: …", "517 Sender rejected: …") and Sendmail's FEATURE(badmx),
/// which check_mail runs on the sender's domain ("550 5.1.2 Illegal MX record for host …",
/// "… Invalid MX record for host …"), at RCPT TO under FEATURE(delay_checks): so whether or
/// not the text names RCPT.
pub(super) fn said_only_of_our_sender(reply_code: Option<u16>, lower: &str) -> bool {
    reply_code == Some(517)
        || lower.contains("illegal mx record for host")
        || lower.contains("invalid mx record for host")
}

/// Words of the message's own authentication (besides the AuthFailure statements).
const MESSAGE_AUTHENTICATION: &[&str] = &[
    "spf",
    "dkim",
    "dmarc",
    "domainkeys",
    "sender policy framework",
];

/// One of RFC 4954's replies to AUTH (534, 535, 538) that speaks of it: our own SMTP login was
/// refused ("535 Error: authentication failed"), not the message's SPF, DKIM or DMARC, nor a
/// relay that wants a login ("Relaying denied. Proper authentication required"). The code alone
/// is not enough: servers answer other things with it ("534 SIZE=Message too big").
pub(super) fn smtp_login_refused(reply_code: Option<u16>, lower: &str) -> bool {
    let speaks_of_auth = lower
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|w| (w.starts_with("auth") && w != "author") || w.starts_with("unauth"));
    matches!(reply_code, Some(534 | 535 | 538))
        && speaks_of_auth
        && !wordings::says(BounceReason::AuthFailure, lower)
        && !wordings::says(BounceReason::NoRelaying, lower)
        && !MESSAGE_AUTHENTICATION
            .iter()
            .any(|w| contains_phrase(lower, w))
}

/// Exim's "Unrouteable address" (and its misspelling): whose verdict it is depends on who
/// says it (the probes for UserUnknown and HostUnknown).
fn says_unrouteable(lower: &str) -> bool {
    lower.contains("unrouteable address") || lower.contains("unroutable address")
}

/// A permanent refusal of MAIL FROM that named nothing more specific. (A 552 there is the
/// message's announced SIZE over the server's limit, not a refusal of the sender.)
fn refuses_the_sender(r: &Refusal<'_>) -> bool {
    r.stage == Some(SmtpStage::MailFrom)
        && r.reply_code != Some(552)
        && (r.status.is_some() || r.reply_code.is_some())
        && super::permanence(r.status, r.reply_code)
}

/// A local delivery agent's own words (the text of a pipe or mailbox delivery that failed).
fn local_agent(lower: &str) -> Option<BounceReason> {
    use BounceReason::*;
    type Agent = (
        &'static [&'static str],
        &'static [(BounceReason, &'static [&'static str])],
    );
    const AGENTS: &[Agent] = &[
        (
            &["> was automatically rejected:"],
            &[
                (MailboxFull, &["not enough disk space", "quota exceeded"]),
                (UserUnknown, &["mailbox doesn't exist: "]),
            ],
        ),
        (
            &["mail.local: "],
            &[
                (
                    MailboxFull,
                    &["disc quota exceeded", "mailbox full or quota exceeded"],
                ),
                (SystemError, &["temporary file write error"]),
                (
                    UserUnknown,
                    &[
                        ": invalid mailbox path",
                        ": unknown user:",
                        ": user missing home directory",
                        ": user unknown",
                    ],
                ),
            ],
        ),
        (
            &["procmail: ", "/procmail "],
            &[
                (
                    MailboxFull,
                    &["quota exceeded while writing", "user over quota"],
                ),
                (SystemError, &["service unavailable"]),
                (SystemFull, &["no space left to finish writing"]),
            ],
        ),
        (
            &["maildrop: "],
            &[
                (MailboxFull, &["maildir over quota."]),
                (
                    UserUnknown,
                    &["cannot find system user", "invalid user specified."],
                ),
            ],
        ),
        (
            &["vdelivermail: "],
            &[
                (Filtered, &["user does not exist, but will deliver to "]),
                (MailboxFull, &["domain is over quota", "user is over quota"]),
                (Suspend, &["account is locked email bounced"]),
                (UserUnknown, &["sorry, no mailbox here by that name."]),
            ],
        ),
        (
            &["vdeliver: "],
            &[
                (
                    MailboxFull,
                    &["delivery failed due to system quota violation"],
                ),
                (
                    UserUnknown,
                    &[
                        "invalid or unknown base user or domain",
                        "invalid or unknown virtual user",
                        "user name does not refer to a virtual user",
                    ],
                ),
            ],
        ),
    ];
    let (_, table) = AGENTS
        .iter()
        .find(|(marks, _)| marks.iter().any(|m| lower.contains(m)))?;
    Some(
        table
            .iter()
            .find(|(_, words)| words.iter().any(|w| lower.contains(w)))
            .map_or(MailerError, |(r, _)| *r),
    )
}

/// Does `lower` (lower case) make one of `reason`'s specific statements?
pub fn says(reason: BounceReason, lower: &str) -> bool {
    wordings::says(reason, lower)
}

/// The text (lower-case) *states* that the address does not exist (not advice such as "check
/// the recipient address").
fn states_address_missing(lower: &str) -> bool {
    ADDRESS_DOES_NOT_EXIST.iter().any(|p| lower.contains(p))
}

/// A connection to the recipient's server that failed or was never answered.
const CONNECTION_FAILED: &[&str] = &[
    "connection timed out",
    // strerror(ETIMEDOUT) on the BSDs and macOS.
    "operation timed out",
    "connection timeout",
    "connection refused",
    "connection reset",
    "lost connection",
    "could not connect",
    "couldn't connect",
    "cannot connect",
    "unable to connect",
    "failed to connect",
    "requests to connect",
    "did not respond",
    "could not be reached",
    "couldn't be reached",
    "no answer from host",
    ": timed out",
];

/// The text (lower-case) says a connection to the recipient's server failed ("connect to …
/// failed", "connection to … failed: …" included).
pub(super) fn says_connection_failed(lower: &str) -> bool {
    lower.lines().any(|line| {
        // A service on the reporting host itself (a content filter on 127.0.0.1:10024, an
        // LMTP socket) that did not answer is that host's own trouble.
        let loopback = line
            .match_indices("127.0.0.1")
            .any(|(at, m)| !line[at + m.len()..].starts_with(|c: char| c.is_ascii_digit()));
        let local = loopback
            || ["localhost", "[::1]", "lmtp", "unix:", "private/", ".sock"]
                .iter()
                .any(|l| line.contains(l));
        !local
            && (CONNECTION_FAILED.iter().any(|p| line.contains(p))
                || wordings::in_order(line, &["connection to ", " failed"])
                || wordings::in_order(line, &["connect to ", " failed"])
                || wordings::in_order(line, &["no ", " could be reached"]))
    })
}

/// The text (lower-case) states that the address does not exist, or tells the sender to check it.
pub fn says_address_missing(lower: &str) -> bool {
    states_address_missing(lower) || CHECK_THE_ADDRESS.iter().any(|p| lower.contains(p))
}

/// The text (lower-case) without the lines that quote the original's subject.
fn without_quoted_subjects(lower: &str) -> String {
    lower
        .lines()
        .filter(|l| {
            let l = l.trim_start();
            !(l.starts_with("subject:") || l.starts_with("the subject of the message is:"))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The text with e-mail addresses, `<…>` brackets and URLs blanked out.
fn without_addresses_and_links(lower: &str) -> String {
    lower
        .split_inclusive(char::is_whitespace)
        .map(|w| {
            let t = w.trim();
            // A piece is a word and the one whitespace after it, so `t` starts `w`; the
            // whitespace stays (a line break ends a line for the line-by-line readers).
            let blank = || match &w[t.len()..] {
                "" => " ",
                ws => ws,
            };
            let link = |t: &str| t.contains("://") || t.starts_with("www.");
            if link(t) {
                blank()
            } else if t.contains('@') {
                // Sendmail's "<a@b>... User unknown" written without the space
                // ("a@b...User account is unavailable"): the words after the dots stay.
                match t.rsplit_once("...") {
                    Some((_, rest)) if !rest.is_empty() && !rest.contains('@') && !link(rest) => {
                        &w[t.len() - rest.len()..]
                    }
                    _ => blank(),
                }
            } else {
                w
            }
        })
        .collect()
}

/// Reasons that will fail the same way next time (Sisimai's hard bounces): the address itself
/// is bad.
pub fn is_hard(reason: BounceReason, permanent: bool) -> bool {
    permanent && is_hard_report(reason, false)
}

/// The verdicts on an address or its domain: said in reply to MAIL FROM, before any recipient
/// was named, each is about our sender.
const ADDRESS_VERDICTS: &[BounceReason] = &[
    BounceReason::UserUnknown,
    BounceReason::HostUnknown,
    BounceReason::NotAccept,
    BounceReason::Filtered,
    BounceReason::HasMoved,
];

/// `reason` as read at `stage`: a verdict on an address said in reply to MAIL FROM is a refusal
/// of our sender (`rejected`), never a dead recipient, whoever read it (a probe, the broad
/// words, a provider's table).
pub(super) fn at_stage(reason: BounceReason, stage: Option<SmtpStage>) -> BounceReason {
    if stage == Some(SmtpStage::MailFrom) && ADDRESS_VERDICTS.contains(&reason) {
        BounceReason::Rejected
    } else {
        reason
    }
}

/// Hard or soft for a report of a delivery that ended (a DSN): an address that does not
/// exist, a domain that does not, a mailbox that moved are hard however the code was worded (a
/// queue that gave up on "4.1.1 user unknown" after days tried enough); a domain that accepts
/// no mail is hard unless the refusal was temporary.
pub fn is_hard_report(reason: BounceReason, temporary: bool) -> bool {
    match reason {
        BounceReason::UserUnknown | BounceReason::HostUnknown | BounceReason::HasMoved => true,
        BounceReason::NotAccept => !temporary,
        _ => false,
    }
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
    fn broad_unknown_user_words_after_the_message_are_a_filters_verdict() {
        let r = |text, stage| {
            decide(&Refusal {
                status: Status::parse("5.0.0"),
                reply_code: Some(554),
                text,
                stage,
                ..Refusal::default()
            })
        };
        // Only the broad words say it ("does not exist"), and the stage decides.
        let broad = "554 rcpt <a@example.net> does not exist";
        assert_eq!(r(broad, Some(SmtpStage::RcptTo)), BounceReason::UserUnknown);
        assert_eq!(r(broad, None), BounceReason::UserUnknown);
        assert_eq!(r(broad, Some(SmtpStage::EndOfData)), BounceReason::Filtered);
        // Words that state the address does not exist say it whatever the stage.
        assert_eq!(
            r("554 address not found", Some(SmtpStage::EndOfData)),
            BounceReason::UserUnknown
        );
    }

    #[test]
    fn stage_changes_the_meaning() {
        let r = |status, stage| {
            decide(&Refusal {
                status: Status::parse(status),
                reply_code: Some(550),
                text: "550 user unknown",
                stage,
                ..Refusal::default()
            })
        };
        // x.1.1 names the address whatever the stage.
        assert_eq!(
            r("5.1.1", Some(SmtpStage::RcptTo)),
            BounceReason::UserUnknown
        );
        assert_eq!(
            r("5.1.1", Some(SmtpStage::EndOfData)),
            BounceReason::UserUnknown
        );
        // A vague code: the answer to RCPT TO is about the address; the same words after the
        // message are a filter's verdict; at MAIL FROM they are about the sender.
        assert_eq!(
            r("5.0.0", Some(SmtpStage::RcptTo)),
            BounceReason::UserUnknown
        );
        assert_eq!(
            r("5.0.0", Some(SmtpStage::EndOfData)),
            BounceReason::Filtered
        );
        assert_eq!(
            r("5.1.0", Some(SmtpStage::MailFrom)),
            BounceReason::Rejected
        );
    }

    #[test]
    fn commands_named_in_capitals_are_whole_words() {
        assert_eq!(
            command_in("SMTP error from remote mail server after RCPT TO:<a@b>: 550"),
            Some(SmtpStage::RcptTo)
        );
        assert_eq!(command_in(">>> DATA\n<<< 554 no"), Some(SmtpStage::Data));
        assert_eq!(command_in("DATABASE@example.org unavailable"), None);
        assert_eq!(command_in("send EMAIL FROM the web"), None);
        // Of several, the later in the session.
        assert_eq!(
            command_in(">>> MAIL From:<a@b>\n>>> RCPT To:<c@d>"),
            Some(SmtpStage::RcptTo)
        );
    }

    #[test]
    fn temporary_and_sender_refusals_are_not_about_the_address() {
        let r = |status, stage, text| {
            decide(&Refusal {
                status: Status::parse(status),
                text,
                stage,
                ..Refusal::default()
            })
        };
        // A DNS lookup that failed for now is not a verdict on the domain.
        assert_eq!(
            r(
                "4.4.3",
                None,
                "Host or domain name not found. Name service error: Host not found, try again"
            ),
            BounceReason::NetworkError
        );
        assert_eq!(
            r(
                "5.4.4",
                None,
                "Host or domain name not found. Name service error for name=x type=A: Host not found"
            ),
            BounceReason::HostUnknown
        );
        // Our sender address failed the receiver's verification: not this recipient's fault.
        assert_eq!(
            r(
                "5.1.7",
                Some(SmtpStage::RcptTo),
                "<bounce@us.example>: Sender address rejected: undeliverable address: host x said: 550 5.1.1 User unknown"
            ),
            BounceReason::Rejected
        );
        // Advice to check the address is not a statement that it does not exist.
        assert_ne!(
            r(
                "5.7.1",
                None,
                "550 5.7.1 blocked using zen.spamhaus.org; check the recipient address"
            ),
            BounceReason::UserUnknown
        );
    }

    #[test]
    fn a_precise_code_yields_to_words_about_something_else() {
        let r = |text| {
            decide(&Refusal {
                status: Status::parse("5.1.1"),
                reply_code: Some(550),
                text,
                stage: None,
                ..Refusal::default()
            })
        };
        assert_eq!(r("550 5.1.1 user unknown"), BounceReason::UserUnknown);
        assert_eq!(r("550 5.1.1 mailbox full"), BounceReason::MailboxFull);
        assert_eq!(r("550 5.1.1 relay access denied"), BounceReason::NoRelaying);
        // A code that names nothing leaves it to the statements, then to its class.
        let vague = |text| {
            decide(&Refusal {
                status: Status::parse("5.7.0"),
                reply_code: Some(554),
                text,
                ..Refusal::default()
            })
        };
        assert_eq!(
            vague("554 5.7.0 message rejected as spam"),
            BounceReason::SpamDetected
        );
        assert_eq!(vague("554 5.7.0 no"), BounceReason::SecurityError);
    }

    #[test]
    fn a_reporters_verdict_and_a_local_agent() {
        // A precise verdict of the reporting MTA stands; a vague one yields to a probe.
        let r = |preset, text| {
            decide(&Refusal {
                text,
                preset: Some(preset),
                ..Refusal::default()
            })
        };
        assert_eq!(
            r(BounceReason::MesgTooBig, "550 5.1.1 x"),
            BounceReason::MesgTooBig
        );
        assert_eq!(
            r(BounceReason::Expired, "550 5.2.2 mailbox full"),
            BounceReason::MailboxFull
        );
        assert_eq!(
            r(BounceReason::Expired, "retry timeout exceeded"),
            BounceReason::Expired
        );
        let agent = |text| {
            decide(&Refusal {
                text,
                ..Refusal::default()
            })
        };
        assert_eq!(
            agent(
                "Your message to <x@example.org> was automatically rejected: Not enough disk space"
            ),
            BounceReason::MailboxFull
        );
        assert_eq!(agent("maildrop: something odd"), BounceReason::MailerError);
    }

    #[test]
    fn spf_refusals_and_phquery_are_read() {
        let r = |text, status| {
            decide(&Refusal {
                status: Status::parse(status),
                reply_code: Some(550),
                text,
                ..Refusal::default()
            })
        };
        assert_eq!(
            r(
                "550 192.0.2.68 is not allowed to send mail from example.com",
                "5.0.0"
            ),
            BounceReason::AuthFailure
        );
        assert_eq!(
            r(
                "550 <ann@example.edu>... Does not have a final email delivery point, please contact this person by alternate means.",
                ""
            ),
            BounceReason::UserUnknown
        );
        assert_eq!(
            r("Esta casilla ha expirado por falta de uso.", ""),
            BounceReason::Suspend
        );
    }

    #[test]
    fn addresses_and_links_are_blanked_and_the_words_and_lines_kept() {
        assert_eq!(
            without_addresses_and_links("550 a@b...user account is unavailable"),
            "550 user account is unavailable"
        );
        assert_eq!(
            without_addresses_and_links("550 <a@b>... user unknown"),
            "550  user unknown"
        );
        assert_eq!(
            without_addresses_and_links("to a@b\nconnection timed out"),
            "to \nconnection timed out"
        );
        assert_eq!(
            without_addresses_and_links("see a@b...www.example.org/why or https://x.y/z\u{a0}now"),
            "see  or \u{a0}now"
        );
        assert_eq!(without_addresses_and_links("é@ü...ñ end"), "ñ end");
    }

    #[test]
    fn a_mailbox_closed_for_inactivity_is_suspended_and_an_unavailable_account_unknown() {
        let rcpt = |text, status| {
            decide(&Refusal {
                status: Status::parse(status),
                reply_code: Some(550),
                text,
                stage: Some(SmtpStage::RcptTo),
                ..Refusal::default()
            })
        };
        // A mailbox "blocked" for inactivity is the mailbox, not the sending client.
        assert_eq!(
            rcpt(
                "550 5.2.1 This mailbox has been blocked due to inactivity",
                "5.2.1"
            ),
            BounceReason::Suspend
        );
        assert_eq!(
            rcpt(
                "550 5.2.1 This address has been disabled because of inactivity",
                "5.2.1"
            ),
            BounceReason::Suspend
        );
        // EarthLink's answer at RCPT TO for an address it does not have.
        assert_eq!(
            rcpt(
                "550 someone@example.net...User account is unavailable",
                "5.0.0"
            ),
            BounceReason::UserUnknown
        );
        // A session closed for inactivity is an idle timeout, not a mailbox.
        assert_eq!(
            decide(&Refusal {
                status: Status::parse("4.4.2"),
                reply_code: Some(421),
                text: "421 4.4.2 mx.example.net Error: timeout, closing connection due to inactivity",
                ..Refusal::default()
            }),
            BounceReason::NetworkError
        );
        // A client blocked for other causes stays a block.
        assert_eq!(
            rcpt("550 5.7.1 Your IP has been blocked due to abuse", "5.7.1"),
            BounceReason::Blocked
        );
    }

    #[test]
    fn a_delay_that_names_a_connection_failure_is_a_network_error() {
        let r = |text, gave_up, delayed, preset| {
            decide(&Refusal {
                status: Status::parse("4.4.1"),
                text,
                gave_up,
                delayed,
                preset,
                ..Refusal::default()
            })
        };
        let timed_out = "[mx.example.org 192.0.2.1: timed out]";
        // Still queued: the stated cause, not an expiry (whatever a template says).
        assert_eq!(r(timed_out, false, true, None), BounceReason::NetworkError);
        assert_eq!(
            r(timed_out, false, true, Some(BounceReason::Expired)),
            BounceReason::NetworkError
        );
        assert_eq!(
            r(
                "connection to 'mx.example.org' failed: Connection timeout",
                true,
                true,
                None
            ),
            BounceReason::NetworkError
        );
        assert_eq!(
            r(
                "421 4.4.0 no MXs for this domain could be reached",
                true,
                true,
                None
            ),
            BounceReason::NetworkError
        );
        // The queue gave up on it: expired. A delay that states no cause: expired too.
        assert_eq!(r(timed_out, true, false, None), BounceReason::Expired);
        assert_eq!(
            r("delivery is delayed", false, true, None),
            BounceReason::Expired
        );
        // A content filter on the reporting host itself is that host's trouble; an address
        // that only starts like loopback's is not it.
        assert_ne!(
            r(
                "connect to 127.0.0.1[127.0.0.1]:10024: Connection refused",
                true,
                true,
                None
            ),
            BounceReason::NetworkError
        );
        assert_eq!(
            r("[example.de 127.0.0.17: timed out]", false, true, None),
            BounceReason::NetworkError
        );
        // The two halves of a pattern must be on one line.
        assert_ne!(
            r(
                "connection to the list is ok\nthe spam check failed",
                true,
                true,
                None
            ),
            BounceReason::NetworkError
        );
        // A code that names another cause keeps it.
        assert_eq!(
            decide(&Refusal {
                status: Status::parse("4.3.1"),
                text: timed_out,
                gave_up: false,
                delayed: true,
                ..Refusal::default()
            }),
            BounceReason::SystemFull
        );
        // Sendmail's words for a TCP refusal, in a warning: not a block.
        assert_eq!(
            r(
                "Deferred: Connection refused by [192.0.2.2]",
                true,
                true,
                None
            ),
            BounceReason::NetworkError
        );
        // A warning template's "expired" gives way to the cause the warning states.
        let spam = "Delay reason: SMTP error from remote mail server after DATA: host mx.example.org [192.0.2.7]: 451 SPAM not accepted";
        assert_eq!(
            decide(&Refusal {
                reply_code: Some(451),
                text: spam,
                gave_up: false,
                delayed: true,
                preset: Some(BounceReason::Expired),
                ..Refusal::default()
            }),
            BounceReason::SpamDetected
        );
        // A warning that states no cause keeps its template's verdict, not a guess from the
        // code; the original's subject it quotes is no cause.
        let warning = |status, text| {
            decide(&Refusal {
                status: Status::parse(status),
                reply_code: Some(451),
                text,
                gave_up: false,
                delayed: true,
                preset: Some(BounceReason::Expired),
                ..Refusal::default()
            })
        };
        assert_eq!(
            warning("4.7.0", "451 4.7.0 Temporary rejection, try again later"),
            BounceReason::Expired
        );
        assert_eq!(
            warning(
                "",
                "The subject of the message is: Your mailbox is full - upgrade now\nSubject: Your mailbox is full"
            ),
            BounceReason::Expired
        );
        // …not once the queue gave up: then it is the reporter's verdict.
        assert_eq!(
            decide(&Refusal {
                reply_code: Some(451),
                text: spam,
                gave_up: true,
                delayed: false,
                preset: Some(BounceReason::Expired),
                ..Refusal::default()
            }),
            BounceReason::Expired
        );
        // A local program that could not reach its own daemon is not the network.
        assert_ne!(
            r(
                "temporary failure. Command output: avpcheck: unable to connect to avp daemon: Connection refused",
                true,
                true,
                None
            ),
            BounceReason::NetworkError
        );
        // A reporter's specific verdict stands.
        assert_eq!(
            r(timed_out, false, true, Some(BounceReason::Blocked)),
            BounceReason::Blocked
        );
    }

    #[test]
    fn an_unknown_user_is_a_filters_verdict_only_after_the_message() {
        let r = |text, stage, status| {
            decide(&Refusal {
                status: Status::parse(status),
                reply_code: Some(550),
                text,
                stage,
                gave_up: false,
                ..Refusal::default()
            })
        };
        // A report that does not say at which command it failed is taken at its word (Sisimai
        // reads this as `filtered`; Herald departs, see the README)…
        assert_eq!(r("550 User unknown", None, ""), BounceReason::UserUnknown);
        assert_eq!(
            r("550 5.7.1 User Unknown: a@example.org", None, "5.7.1"),
            BounceReason::UserUnknown
        );
        assert!(is_hard(r("550 User unknown", None, ""), true));
        // …and so is an answer to RCPT TO.
        assert_eq!(
            r("550 User unknown", Some(SmtpStage::RcptTo), ""),
            BounceReason::UserUnknown
        );
        // Said after the message, it is a verdict on the message; so it is under a code that
        // names a filter (x.2.0).
        assert_eq!(
            r("550 User unknown", Some(SmtpStage::EndOfData), ""),
            BounceReason::Filtered
        );
        assert_eq!(
            r("550 5.2.0 User unknown", None, "5.2.0"),
            BounceReason::Filtered
        );
        // A temporary refusal is no verdict on the address: never hard.
        let temporary = decide(&Refusal {
            status: Status::parse("4.2.1"),
            reply_code: Some(450),
            text: "450 4.2.1 Requested mail action not taken: mailbox unavailable",
            ..Refusal::default()
        });
        assert_ne!(temporary, BounceReason::UserUnknown);
        assert!(!is_hard_report(temporary, true));
        // Words that state the address does not exist say so whatever the stage.
        assert_eq!(
            r(
                "The recipient name is not recognized",
                Some(SmtpStage::EndOfData),
                ""
            ),
            BounceReason::UserUnknown
        );
    }

    /// Exim's stock refusals, as a receiving server answers them (the world's Exim daemon,
    /// scripts/world/exim-receiver.sh).
    #[test]
    fn exims_stock_refusals_by_the_command_they_answer() {
        let r = |text, stage| {
            decide(&Refusal {
                status: Status::parse("5.0.0"),
                reply_code: Some(550),
                text,
                stage,
                ..Refusal::default()
            })
        };
        // The receiving server found no route for the address at RCPT TO: its own domain,
        // no such local part.
        assert_eq!(
            r("550 Unrouteable address", Some(SmtpStage::RcptTo)),
            BounceReason::UserUnknown
        );
        // So is the bare reply (a reply is taken as the answer to RCPT TO).
        let reply = crate::feedback::classify_text("550 Unrouteable address");
        assert_eq!(
            (reply.recipients[0].reason, reply.recipients[0].hard),
            (BounceReason::UserUnknown, true)
        );
        // Exim's own bounce (no server answered) keeps Sisimai's reading: no route to the
        // domain.
        assert_eq!(r("Unrouteable address", None), BounceReason::HostUnknown);
        // Said of our sender's address at MAIL FROM, it is no verdict on the recipient.
        assert_eq!(
            r("550 Unrouteable address", Some(SmtpStage::MailFrom)),
            BounceReason::Rejected
        );
        // Sendmail's badmx answers at RCPT TO under delay_checks: still our sender's domain.
        assert_eq!(
            r(
                "550 5.1.2 Illegal MX record for host example.org",
                Some(SmtpStage::RcptTo)
            ),
            BounceReason::Rejected
        );
        // A refusal of MAIL FROM that names no cause refuses the sender (Sisimai's convention
        // for the MAIL command), not a policy in general…
        assert_eq!(
            r("550 Administrative prohibition", Some(SmtpStage::MailFrom)),
            BounceReason::Rejected
        );
        // A bare 552 there answers the message's announced size: not the sender's fault.
        let size = decide(&Refusal {
            reply_code: Some(552),
            text: "552",
            stage: Some(SmtpStage::MailFrom),
            ..Refusal::default()
        });
        assert_ne!(size, BounceReason::Rejected);
        // …a cause it does name still counts; and at RCPT TO the same words stay vague.
        assert_eq!(
            r(
                "550 Administrative prohibition: your IP is blacklisted",
                Some(SmtpStage::MailFrom)
            ),
            BounceReason::Blocked
        );
        assert_eq!(
            r("550 Administrative prohibition", Some(SmtpStage::RcptTo)),
            BounceReason::PolicyViolation
        );
    }

    /// A report's refusal made in reply to MAIL FROM came before any recipient was named: a
    /// domain or an address it says does not exist is our sender's, whatever code it carries
    /// (Courier's "517-Domain does not exist", a bare "No such user" with no status), never a
    /// dead recipient, for good or for now.
    #[test]
    fn an_unknown_address_or_domain_at_mail_from_is_our_sender() {
        let at = |text, reply_code, stage| {
            decide(&Refusal {
                reply_code: Some(reply_code),
                text,
                stage: Some(stage),
                ..Refusal::default()
            })
        };
        for (text, reply_code) in [
            (
                "517-Domain does not exist: example.org.\n517 Invalid domain, see <URL:ftp://ftp.isi.edu/in-notes/rfc1035.txt>",
                517,
            ),
            ("550 Domain does not exist: example.org.", 550),
            ("550 No such user here", 550),
            ("554 Domain example.org does not accept mail", 554),
            ("550 5.1.6 Mailbox has moved", 550),
        ] {
            let reason = at(text, reply_code, SmtpStage::MailFrom);
            assert_eq!(reason, BounceReason::Rejected, "{text}");
            // At RCPT TO the same words are the recipient's; Courier's 517 itself is only ever
            // said of a sender.
            let at_rcpt = at(text, reply_code, SmtpStage::RcptTo);
            if reply_code == 517 {
                assert_eq!(at_rcpt, BounceReason::Rejected, "{text}");
            } else {
                assert_ne!(at_rcpt, BounceReason::Rejected, "{text}");
            }
        }
        let temporary = at(
            "451 Domain does not exist: example.org, try again",
            451,
            SmtpStage::MailFrom,
        );
        assert_eq!(temporary, BounceReason::Rejected);
        assert!(!is_hard_report(temporary, true));
    }

    /// Refusals of our sender as a report carries them: Haraka's mail_from.is_resolvable
    /// ("No MX for your FROM address"), Postfix's unlisted sender, Sendmail's FEATURE(badmx)
    /// at MAIL FROM — about our sender, not the recipient (which would be hard) — and a report
    /// whose other recipient's sender refusal must not hide this one's unknown user.
    #[test]
    fn a_refusal_of_our_sender_in_a_report_is_not_a_dead_recipient() {
        for stage in [Some(SmtpStage::MailFrom), None] {
            let reason = decide(&Refusal {
                status: Status::parse("5.0.0"),
                reply_code: Some(550),
                text: "550 No MX for your FROM address",
                stage,
                ..Refusal::default()
            });
            assert_eq!(reason, BounceReason::Rejected);
            assert!(!is_hard_report(reason, false));
        }
        // In a report, likewise: Postfix's refusal of our sender at RCPT TO (its default delay),
        // and Sendmail's FEATURE(badmx) answer to MAIL FROM.
        for (text, status, stage) in [
            (
                "550 5.1.0 <dsn@example.org>: Sender address rejected: User unknown in local recipient table",
                "5.1.0",
                SmtpStage::RcptTo,
            ),
            (
                "550 5.1.2 Illegal MX record for host example.org",
                "5.1.2",
                SmtpStage::MailFrom,
            ),
        ] {
            let reason = decide(&Refusal {
                status: Status::parse(status),
                reply_code: Some(550),
                text,
                stage: Some(stage),
                ..Refusal::default()
            });
            assert_eq!(reason, BounceReason::Rejected, "{text}");
        }
        // A report's text holds each recipient's line and then the report around it: our
        // sender refused for another recipient does not hide this one's unknown user.
        for text in [
            "dead@x.example: 550 5.1.1 <dead@x.example>: Recipient address rejected: User unknown in virtual mailbox table\nDelivery has failed to these recipients:\ndead@x.example: 550 5.1.1 <dead@x.example>: Recipient address rejected: User unknown in virtual mailbox table\nok@y.example: 550 5.7.1 <news@ours.example>: Sender address rejected: Access denied",
            "dead@x.example: 550 5.1.1 <dead@x.example>... User unknown\nok@y.example: 550 5.7.1 <news@ours.example>: Sender address rejected: Access denied",
        ] {
            let reason = decide(&Refusal {
                status: Status::parse("5.1.1"),
                reply_code: Some(550),
                text,
                stage: Some(SmtpStage::RcptTo),
                ..Refusal::default()
            });
            assert_eq!(reason, BounceReason::UserUnknown, "{text}");
        }
        let reply = crate::feedback::classify_text("550 No MX for your FROM address");
        assert_eq!(
            (reply.recipients[0].reason, reply.recipients[0].hard),
            (BounceReason::Rejected, false)
        );
    }

    /// qpsmtpd's and chasquid's stock refusals, as receiving servers answer them (the world's
    /// daemons, scripts/world/qpsmtpd-receiver.sh and chasquid-receiver.sh).
    #[test]
    fn qpsmtpds_and_chasquids_stock_refusals() {
        // chasquid refuses to relay for an unauthenticated client with a 503.
        for stage in [Some(SmtpStage::RcptTo), None] {
            assert_eq!(
                decide(&Refusal {
                    status: Status::parse("5.7.1"),
                    reply_code: Some(503),
                    text: "503 5.7.1 Relay not allowed",
                    stage,
                    ..Refusal::default()
                }),
                BounceReason::NoRelaying
            );
        }
        let reply = crate::feedback::classify_text("503 5.7.1 Relay not allowed");
        assert_eq!(reply.recipients[0].reason, BounceReason::NoRelaying);
        // qpsmtpd's resolvable_fromhost refuses a sender's domain it cannot resolve in these
        // words (its "missing result" path, made permanent by reject_type perm): in reply to
        // MAIL FROM the address it failed to resolve is our sender's.
        // (Postfix's DSN says 5.0.0; the code in the words says more, and is what is read.)
        let at = |stage| {
            decide(&Refusal {
                status: Status::parse("5.4.3"),
                reply_code: Some(550),
                text: "550 Temporary address resolution failure (#5.4.3)",
                stage,
                ..Refusal::default()
            })
        };
        assert_eq!(at(Some(SmtpStage::MailFrom)), BounceReason::Rejected);
        // A temporary reply (qpsmtpd's default answer, 451) is no refusal of the sender, whatever
        // status a report gives it.
        let temporary = decide(&Refusal {
            status: Status::parse("5.4.3"),
            reply_code: Some(451),
            text: "451 Temporary address resolution failure (#5.4.3)",
            stage: Some(SmtpStage::MailFrom),
            ..Refusal::default()
        });
        assert_ne!(temporary, BounceReason::Rejected);
        // Answered to anything else, the words stay the server's own failure.
        assert_ne!(at(Some(SmtpStage::RcptTo)), BounceReason::Rejected);
        assert_ne!(at(None), BounceReason::Rejected);
    }
}
