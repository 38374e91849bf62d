//! Who wrote a bounce, and what that MTA's own wording means.
//!
//! The same words mean different things from different reporters: qmail's "Unable to …" is its
//! own system error, Exim's "retry timeout exceeded" is its queue giving up, an Exchange NDR's
//! `RESOLVER.ADR.RecipNotFound` is its directory's verdict, Gmail's "(state 14)" is the RCPT
//! stage. [`Reporter::identify`] reads the report's headers and its opening lines (what each
//! MTA's bounce template looks like, from their documentation and their bounces); [`conventions`]
//! gives, for one recipient's lines, the reason that MTA's wording states and the SMTP stage it
//! names. A reason given here is weighed as the reporter's own verdict (`Refusal::preset`):
//! statements of a specific reason and a precise status code still come first where the
//! reporter's verdict is a vague one (see `reasons::decide`).

use herald_domain::{BounceReason, SmtpStage};
use mail_parser::Message;

use BounceReason::*;

/// The MTA (or service) whose template a bounce follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Reporter {
    Postfix,
    Exim,
    Sendmail,
    Qmail,
    Exchange2007,
    Exchange2003,
    Gmail,
    Domino,
    Notes,
    Courier,
    OpenSmtpd,
    IMailServer,
    DragonFly,
    Gmx,
    Zoho,
    MessagingServer,
    Kddi,
    Verizon,
    Biglobe,
    InterScan,
    /// amavisd-new, the content filter: its DSNs name the message's category.
    Amavis,
    /// Netscape Mail Server: its delivery modules' notices ("The Program-Deliver module
    /// couldn't deliver the message …").
    NetscapeMail,
    /// Trustwave's MailMarshal (Secure Email Gateway): one cause, then the recipients it hit.
    MailMarshal,
    /// A report whose template is not one of the above (RFC 3464 fields still say a lot).
    #[default]
    Other,
}

/// Headers and opening text of a report, lower-cased.
struct Look {
    from: String,
    subject: String,
    message_id: String,
    received: String,
    body: String,
    headers: Vec<String>,
}

impl Look {
    fn has_header(&self, name: &str) -> bool {
        self.headers.iter().any(|h| h.eq_ignore_ascii_case(name))
    }
}

impl Reporter {
    /// Identify the reporter from the message and its human-readable text.
    pub(crate) fn identify(message: &Message<'_>, human: &str) -> Reporter {
        let lower = |s: Option<&str>| s.unwrap_or_default().to_ascii_lowercase();
        let from = message
            .from()
            .and_then(|a| a.first())
            .map(|a| {
                format!(
                    "{} <{}>",
                    a.name().unwrap_or_default(),
                    a.address().unwrap_or_default()
                )
            })
            .unwrap_or_default()
            .to_ascii_lowercase();
        let received = super::received_lower(message);
        let look = Look {
            from,
            subject: lower(message.subject()),
            message_id: lower(message.message_id()),
            received,
            body: crate::feedback::truncate(human, 16 * 1024).to_ascii_lowercase(),
            headers: message
                .headers()
                .iter()
                .map(|h| h.name().to_string())
                .collect(),
        };
        Self::from_look(&look, message)
    }

    fn from_look(l: &Look, message: &Message<'_>) -> Reporter {
        let x_mailer = message
            .header_raw("X-Mailer")
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        let subject = l.subject.trim();
        if subject.starts_with("delivery failure:") || subject.contains("delivery_failure") {
            return Reporter::Domino;
        }
        if subject.starts_with("undeliverable message") {
            return Reporter::Notes;
        }
        if subject.starts_with("undeliverable mail: \"")
            || (l.body.contains(MAILMARSHAL_CAUSE) && l.body.contains(MAILMARSHAL_RECIPIENTS))
        {
            return Reporter::MailMarshal;
        }
        if l.from.contains("mailer-daemon@googlemail.com")
            && subject.contains("delivery status notification")
        {
            return Reporter::Gmail;
        }
        let mime_ole = message
            .header_raw("X-MimeOLE")
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        if l.has_header("X-MS-Embedded-Report")
            || mime_ole.starts_with("produced by microsoft exchange")
            || x_mailer.starts_with("internet mail service (")
            || x_mailer.starts_with("microsoft exchange server internet mail connector")
            || l.body.contains("msexch:")
        {
            return Reporter::Exchange2003;
        }
        // The administrators' section of its NDR, in English, French, Italian or Swedish.
        if l.body.contains(" resolver.")
            || l.body.contains(" queue.expired")
            || l.body.contains("diagnostic information for administrators")
            || l.body
                .contains("informations de diagnostic pour les administrateurs")
            || l.body
                .contains("informazioni di diagnostica per gli amministratori")
            || l.body.contains("diagnostisk information f")
        {
            return Reporter::Exchange2007;
        }
        if l.has_header("X-GMX-Antispam")
            || (l.from.contains("mail delivery system")
                && subject == "mail delivery failed: returning message to sender"
                && l.body.contains("for the following reason:"))
        {
            return Reporter::Gmx;
        }
        if l.has_header("X-ZohoMail") {
            return Reporter::Zoho;
        }
        if l.from.contains("post_master@vtext.com") || l.from.contains(".vzwpix.com") {
            return Reporter::Verizon;
        }
        if l.from.contains("ezweb.ne.jp")
            || l.from.contains("@au.com")
            || l.received.contains("ezweb.ne.jp")
            || l.has_header("X-SPASIGN")
        {
            return Reporter::Kddi;
        }
        if [
            "@biglobe.ne.jp",
            "@inacatv.ne.jp",
            "@tmtv.ne.jp",
            "@ttv.ne.jp",
        ]
        .iter()
        .any(|d| l.from.contains(d))
        {
            return Reporter::Biglobe;
        }
        if l.from.contains("content-filter at ")
            || l.body
                .contains("our internal reference code for your message is")
        {
            return Reporter::Amavis;
        }
        if l.from.contains("interscan") || l.body.contains(" interscan ") {
            return Reporter::InterScan;
        }
        if l.body
            .contains("the program-deliver module couldn't deliver")
        {
            return Reporter::NetscapeMail;
        }
        if l.body.contains("this is the dragonfly mail agent") {
            return Reporter::DragonFly;
        }
        if l.body
            .contains("this is the mailer-daemon, please do not reply")
        {
            return Reporter::OpenSmtpd;
        }
        if subject.starts_with("undeliverable mail ") || x_mailer.starts_with("<smtp32 v") {
            return Reporter::IMailServer;
        }
        if l.from.contains("courier mail server at ")
            || l.message_id.starts_with("courier.")
            || subject.contains("notice: mail delivery status.")
            || subject.contains("warning: delayed mail.")
        {
            return Reporter::Courier;
        }
        if subject.starts_with("delivery notification: ")
            || l.body.contains(
                "this report relates to a message you sent with the following header fields",
            )
        {
            return Reporter::MessagingServer;
        }
        let exim_subject = [
            "mail delivery failed",
            "mail failure",
            "message frozen",
            "warning: message ",
            "error(s) in forwarding or filtering",
        ]
        .iter()
        .any(|s| subject.contains(s));
        // Exim's ids: `1xa2FS-0007Nh-2o`, led by an `E` in the Message-ID of its own bounces.
        let exim_id = {
            let id = l
                .message_id
                .strip_prefix('e')
                .unwrap_or(&l.message_id)
                .as_bytes();
            id.len() > 17
                && id.get(6) == Some(&b'-')
                && (id.get(13) == Some(&b'-') || id.get(18) == Some(&b'-'))
        };
        let exim_body = l
            .body
            .contains("this message was created automatically by mail delivery software");
        if [
            exim_subject,
            exim_id,
            l.from.contains("mail delivery system"),
            exim_body,
        ]
        .iter()
        .filter(|b| **b)
        .count()
            >= 2
            || l.has_header("X-MXL-Hash")
            || l.has_header("X-MX-Bounce")
        {
            return Reporter::Exim;
        }
        if subject == "failure notice" || l.body.contains("hi. this is the qmail") {
            return Reporter::Qmail;
        }
        if subject.contains("undelivered mail returned to sender")
            || l.body.contains("this is the mail system at host")
            || l.body.contains("the postfix program")
        {
            return Reporter::Postfix;
        }
        if l.body.contains("----- transcript of session follows -----")
            || subject.ends_with("see transcript for details")
            || subject.starts_with("returned mail:")
        {
            return Reporter::Sendmail;
        }
        // Domino's diagnostic type, when no template above was recognised.
        if notes_diagnostic(message) {
            return Reporter::Domino;
        }
        // A qmail hop in the Received chain is the weakest sign: the templates come first.
        if l.received.contains("(qmail ") {
            return Reporter::Qmail;
        }
        Reporter::Other
    }
}

/// What a reporter's wording says about one recipient.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Conventions {
    pub reason: Option<BounceReason>,
    pub stage: Option<SmtpStage>,
}

/// First entry whose statement is in `lower`.
fn first(table: &[(BounceReason, &[&str])], lower: &str) -> Option<BounceReason> {
    table
        .iter()
        .find(|(_, words)| words.iter().any(|w| lower.contains(w)))
        .map(|(r, _)| *r)
}

const EXIM: &[(BounceReason, &[&str])] = &[
    (UserUnknown, &["user not found"]),
    // The recipient's own filter file failed the message with its `fail` command: Exim adds
    // "(filter fail)" to the text the filter gave.
    (Filtered, &["(filter fail)"]),
    (
        HostUnknown,
        &[
            "all host address lookups failed permanently",
            "all relevant mx records point to non-existent hosts",
            "unrouteable address",
        ],
    ),
    (MailboxFull, &["mailbox is full", "error: quota exceed"]),
    (
        NotAccept,
        &[
            "an mx or srv record indicated no smtp service",
            "no host found for existing smtp connection",
        ],
    ),
    (
        SyntaxError,
        &[
            "angle-brackets nested too deep",
            "expected word or \"<\"",
            "domain missing in source-routed address",
            "malformed address:",
        ],
    ),
    (
        SystemError,
        &[
            "delivery to file forbidden",
            "delivery to pipe forbidden",
            "local delivery failed",
            "lmtp error after ",
        ],
    ),
    (ContentError, &["too many \"received\" headers"]),
];

const EXIM_EXPIRED: &[&str] = &[
    "retry timeout exceeded",
    "retry time not reached for any host after a long failure period",
    "all hosts have been failing for a long time and were last tried",
    "delay reason: ",
    "has been frozen",
    "was frozen on arrival by ",
];

const QMAIL: &[(BounceReason, &[&str])] = &[
    // "… any host named x (#5.1.2)"; "… any host by that name (#4.1.2)" is a DNS failure.
    (HostUnknown, &["sorry, i couldn't find any host named "]),
    (MailboxFull, &["disk quota exceeded"]),
    (
        MesgTooBig,
        &["message size exceeds fixed maximum message size:"],
    ),
    (
        NetworkError,
        &[
            "sorry, i wasn't able to establish an smtp connection",
            "although i'm listed as a best-preference mx or a for that host",
        ],
    ),
    (
        NotAccept,
        &["sorry, i couldn't find a mail exchanger or ip address"],
    ),
    (
        SystemFull,
        &["requested action not taken: mailbox unavailable (not enough free space)"],
    ),
    (
        SystemError,
        &[
            "bad interpreter: no such file or directory",
            "system error",
            "unable to",
        ],
    ),
    (UserUnknown, &["no mailbox here by that name"]),
    // qmail-ldap's own messages.
    (
        ExceedLimit,
        &["the message exeeded the maximum size the user accepts"],
    ),
    (
        Suspend,
        &[
            "mailaddress is administrativly disabled",
            "mailaddress is administrativley disabled",
            "mailaddress is administratively disabled",
            "mailaddress is administrativeley disabled",
        ],
    ),
    (
        SystemError,
        &[
            "automatic homedir creator crashed",
            "illegal value in ldap attribute",
            "ldap attribute is not given but mandatory",
            "timeout while performing search on ldap server",
            "too many results returned but needs to be unique",
            "error while executing qmail-forward",
            "temporary error in automatic homedir creation",
            "temporary failure in ldap lookup",
            "unable to contact ldap server",
            "unable to login into ldap server",
        ],
    ),
];

const QMAIL_STAGES: &[(SmtpStage, &[&str])] = &[
    (SmtpStage::Greeting, &[" but greeting failed."]),
    (SmtpStage::Ehlo, &[" but my name was rejected."]),
    (SmtpStage::MailFrom, &[" but sender was rejected."]),
    (SmtpStage::RcptTo, &[" does not like recipient."]),
    (
        SmtpStage::EndOfData,
        &[
            " failed on data command",
            " failed after i sent the message",
        ],
    ),
];

/// Exchange 2007 and later: the category token after `RESOLVER.` / `QUEUE.`.
const EXCHANGE_2007: &[(BounceReason, &[&str])] = &[
    (
        UserUnknown,
        &[
            "resolver.adr.recipnotfound",
            "resolver.adr.recipientnotfound",
            "resolver.adr.exrecipnotfound",
        ],
    ),
    (
        SystemError,
        &[
            "resolver.adr.badprimary",
            "resolver.adr.invalidinsmtp",
            "resolver.adr.ambiguous",
            "resolver.fwd.notfound",
        ],
    ),
    (NetworkError, &["resolver.fwd.loop"]),
    (TooManyConn, &["resolver.adr.reciplimit"]),
    (SecurityError, &["resolver.rst.authrequired"]),
    (Rejected, &["resolver.rst.notauthorized"]),
    (ExceedLimit, &["resolver.rst.recipsizelimit"]),
    // The sender's organisation's limit, not the recipient's.
    (MesgTooBig, &["resolver.rst.sendsizelimit"]),
    (Expired, &["queue.expired"]),
];

/// Exchange 2000/2003: the MSEXCH error number.
const EXCHANGE_2003: &[(BounceReason, &[&str])] = &[
    (UserUnknown, &["000c05a6"]),
    (Filtered, &["000c0595"]),
    (SystemError, &["00010256", "000d06b5"]),
    (NetworkError, &["00120270"]),
    (ContentError, &["00050311", "000502cc"]),
    (SecurityError, &["000b0981"]),
];

const GMAIL: &[(BounceReason, &[&str])] = &[
    (
        Expired,
        &[
            "dns error: could not contact dns servers",
            "delivery to the following recipient has been delayed",
            "the recipient server did not accept our requests to connect",
        ],
    ),
    (
        HostUnknown,
        &[
            "dns error: domain name not found",
            "dns error: dns server returned answer with no data",
        ],
    ),
];

/// Gmail's "(state N)": the stage of its session with the remote and what failing there means.
const GMAIL_STATES: &[(&str, SmtpStage, BounceReason)] = &[
    ("(state 6)", SmtpStage::MailFrom, FailedStartTls),
    ("(state 8)", SmtpStage::Auth, SystemError),
    ("(state 9)", SmtpStage::Auth, FailedStartTls),
    ("(state 13)", SmtpStage::Ehlo, Blocked),
    ("(state 14)", SmtpStage::RcptTo, UserUnknown),
    ("(state 15)", SmtpStage::EndOfData, Filtered),
    ("(state 17)", SmtpStage::EndOfData, Filtered),
    ("(state 18)", SmtpStage::EndOfData, Filtered),
];

/// MailMarshal's report: "Your message: … Could not be delivered because of <the reply> The
/// following recipients were affected: <addresses> Additional Information …" (its layout as
/// Sisimai's MailMarshalSMTP module documents it).
const MAILMARSHAL_CAUSE: &str = "could not be delivered because of";
const MAILMARSHAL_RECIPIENTS: &str = "the following recipients were affected";

/// The one cause a report states for all the recipients it lists after it (MailMarshal's),
/// where each recipient's own lines say nothing of their own.
pub(crate) fn shared_cause(reporter: Reporter, text: &str) -> Option<&str> {
    if reporter != Reporter::MailMarshal {
        return None;
    }
    let lower = text.to_ascii_lowercase();
    let start = lower.find(MAILMARSHAL_CAUSE)? + MAILMARSHAL_CAUSE.len();
    let end = lower[start..]
        .find(MAILMARSHAL_RECIPIENTS)
        .map_or(text.len(), |at| start + at);
    Some(text[start..end].trim()).filter(|cause| !cause.is_empty())
}

/// Domino's DSNs type their diagnostic `X-Notes` (RFC 3464 §2.3.6 leaves the type to the MTA),
/// whatever the subject they were given: read in the report's own delivery-status part, not in
/// a returned message that may quote one.
fn notes_diagnostic(message: &Message<'_>) -> bool {
    message
        .parts
        .iter()
        .filter(|p| super::is_type(*p, "message", "delivery-status"))
        .filter_map(|p| super::part_bytes(&p.body))
        .any(|body| {
            super::field_blocks(&String::from_utf8_lossy(&body))
                .iter()
                .flatten()
                .any(|(name, value)| {
                    name == "diagnostic-code"
                        && value
                            .split_once(';')
                            .is_some_and(|(t, _)| t.trim().eq_ignore_ascii_case("x-notes"))
                })
        })
}

const DOMINO: &[(BounceReason, &[&str])] = &[
    (Filtered, &["cannot route mail to user"]),
    (SystemError, &["several matches found in domino directory"]),
    (
        UserUnknown,
        &[
            "not listed in domino directory",
            "not listed in public name & address book",
            "no se encuentra en el directorio de domino",
            "dans l'annuaire domino",
            "nicht im domino-verzeichnis",
        ],
    ),
];

const NOTES: &[(BounceReason, &[&str])] = &[
    (NetworkError, &["message has exceeded maximum hop count"]),
    (
        UserUnknown,
        &["user not listed in public name & address book"],
    ),
];

const COURIER: &[(BounceReason, &[&str])] = &[
    (HostUnknown, &["no such domain."]),
    (SystemError, &["this domain's dns violates rfc 1035."]),
    (NetworkError, &["dns lookup failed."]),
];

/// amavisd-new's categories as its reply names them after the message's id ("554 5.7.0
/// Reject, id=12345-01 - SPAM", "… - INFECTED: Eicar…", "… - BANNED: …", "… - BAD HEADER: …").
const AMAVIS: &[(BounceReason, &str)] = &[
    (VirusDetected, "infected"),
    (SpamDetected, "spam"),
    (PolicyViolation, "banned"),
    (ContentError, "bad header"),
];

/// The category amavisd-new names after the message's id on one line of its reply or notice.
fn amavis_category(line: &str) -> Option<BounceReason> {
    let (_, after_id) = line.split_once("id=")?;
    let (_, category) = after_id.split_once(" - ")?;
    AMAVIS
        .iter()
        .find(|(_, c)| category.trim_start().starts_with(c))
        .map(|(r, _)| *r)
}

/// amavisd-new's reply ("554 5.7.0 Reject, id=… - INFECTED: …") in any report or single reply,
/// whoever relays it (a Postfix before-queue proxy, a relay's bounce): its category, read from
/// the id on (a line the relaying MTA wrapped is read as one).
pub(crate) fn amavis_reply(lower: &str) -> Option<BounceReason> {
    const REJECT: &str = "reject,";
    lower.match_indices(REJECT).find_map(|(at, _)| {
        let rest = &lower[at + REJECT.len()..];
        let head = rest
            .char_indices()
            .nth(200)
            .map_or(rest, |(i, _)| &rest[..i]);
        let head = super::dsn::one_line(head);
        head.starts_with("id=")
            .then(|| amavis_category(&head))
            .flatten()
    })
}

/// amavisd-new's verdict: the category on a line that names the message's id (the reply, not
/// the quoted original's Subject), else its notice's own sentence about bulk mail.
fn amavis(lower: &str, whole: &str) -> Option<BounceReason> {
    lower.lines().find_map(amavis_category).or_else(|| {
        whole
            .contains("was considered unsolicited bulk e-mail")
            .then_some(SpamDetected)
    })
}

const IMAIL: &[(BounceReason, &[&str])] = &[
    (HostUnknown, &["unknown host"]),
    (
        UserUnknown,
        &["unknown user", "invalid final delivery userid"],
    ),
    (MailboxFull, &["user mailbox exceeds allowed size"]),
    (
        VirusDetected,
        &["requested action not taken: virus detected"],
    ),
    (SpamDetected, &["blacklisted url in message"]),
    (Expired, &["delivery failed "]),
];

const OPENSMTPD: &[(BounceReason, &[&str])] = &[
    (Expired, &["envelope expired"]),
    (SecurityError, &["could not retrieve credentials"]),
    (
        HostUnknown,
        &["invalid domain name", "domain does not exist"],
    ),
    (
        NetworkError,
        &[
            "address family mismatch on destination mxs",
            "all routes to destination blocked",
            "bad dns lookup error code",
            "could not retrieve source address",
            "loop detected",
            "network error on destination mxs",
            "no valid route to remote mx",
            "no valid route to destination",
            "temporary failure in mx lookup",
        ],
    ),
    (
        NotAccept,
        &[
            "destination seem to reject all mails",
            "no mx found for domain",
            "no mx found for destination",
        ],
    ),
];

const DRAGONFLY: &[(BounceReason, &[&str])] = &[
    (Expired, &["could not deliver for the last "]),
    (HostUnknown, &["dns lookup failure: host "]),
];

const GMX: &[(BounceReason, &[&str])] = &[
    (Expired, &["delivery retry timeout exceeded"]),
    (MesgTooBig, &["mail size limit exceeded"]),
];

const KDDI: &[(BounceReason, &[&str])] = &[
    (
        MailboxFull,
        &[
            "as their mailbox is full",
            "account is temporarily over quota",
        ],
    ),
    (NoRelaying, &["due to the following smtp relay error"]),
    (HostUnknown, &["as the remote domain doesnt exist"]),
    (Expired, &["your message was not delivered within "]),
    (
        Suspend,
        &[
            "the user(s) account is disabled.",
            "the user(s) account is temporarily limited.",
        ],
    ),
];

const BIGLOBE: &[(BounceReason, &[&str])] = &[
    (Filtered, &["mail delivery failed... user unknown"]),
    (
        MailboxFull,
        &["the number of messages in recipient's mailbox exceeded the local limit."],
    ),
];

/// What `reporter`'s wording says about one recipient: `lower` is the recipient's own lines,
/// `whole` the report's text (both lower case), `spam_sign` an `X-SPASIGN: NG` verdict (au).
pub(crate) fn conventions(
    reporter: Reporter,
    lower: &str,
    whole: &str,
    spam_sign: bool,
) -> Conventions {
    let mut out = Conventions::default();
    match reporter {
        Reporter::Exim => {
            let remote =
                lower.contains("smtp error from remote ") || lower.contains("lmtp error after ");
            if remote {
                out.stage = super::reasons::stage_in(lower);
            }
            out.reason = if out.stage == Some(SmtpStage::Ehlo) {
                Some(Blocked)
            } else {
                // This recipient's own lines: another's "retry timeout exceeded" is not its.
                // Exim's own "Unrouteable mail domain" (no server answered: its routers found
                // no way to the domain, a permanent failure) is about the domain; said in a
                // remote's reply ("Verification failed for <…>") it is that server's check.
                first(EXIM, lower)
                    .or_else(|| {
                        (!remote && lower.contains("unrouteable mail domain"))
                            .then_some(HostUnknown)
                    })
                    .or_else(|| {
                        (EXIM_EXPIRED.iter().any(|w| lower.contains(w)))
                            .then_some(Expired)
                            .or_else(|| lower.contains("pipe to |").then_some(MailerError))
                    })
            };
        }
        Reporter::Qmail => {
            out.stage = QMAIL_STAGES
                .iter()
                .find(|(_, words)| words.iter().any(|w| lower.contains(w)))
                .map(|(s, _)| *s);
            let queued_too_long = "this message has been in the queue too long.";
            out.reason = if out.stage == Some(SmtpStage::Ehlo) {
                Some(Blocked)
            } else if lower.contains(" does not like recipient.")
                && (lower.contains(queued_too_long) || whole.contains(queued_too_long))
            {
                Some(OnHold)
            } else {
                // qmail's own lines, not the remote's reply it quotes ("Remote host said:
                // 553 … unable to relay" is the remote's, read by the generic rules).
                let own = lower
                    .find("remote host said:")
                    .map_or(lower, |at| &lower[..at]);
                first(QMAIL, own).or_else(|| (own.contains(queued_too_long)).then_some(Expired))
            };
        }
        Reporter::Exchange2007 => out.reason = first(EXCHANGE_2007, lower),
        Reporter::Exchange2003 => {
            out.reason = lower
                .find("msexch:")
                .and_then(|at| first(EXCHANGE_2003, &lower[at..]))
                .or_else(|| {
                    whole
                        .find("msexch:")
                        .and_then(|at| first(EXCHANGE_2003, &whole[at..]))
                });
        }
        Reporter::Gmail => {
            if let Some((_, stage, reason)) =
                GMAIL_STATES.iter().find(|(s, _, _)| lower.contains(s))
            {
                out.stage = Some(*stage);
                out.reason = Some(*reason);
            } else {
                out.reason = first(GMAIL, lower);
            }
            // A precise status code in Gmail's text names the reason better than its state.
            if out.reason.is_some()
                && let Some(status) = super::reasons::Status::find(lower)
                && status.subject != 0
                && status.detail != 0
                && let Some(named) = status.name()
            {
                out.reason = Some(named);
            }
        }
        Reporter::Domino => out.reason = first(DOMINO, lower),
        Reporter::Notes => out.reason = first(NOTES, lower),
        Reporter::Courier => out.reason = first(COURIER, lower),
        Reporter::IMailServer => out.reason = first(IMAIL, lower),
        Reporter::Amavis => out.reason = amavis(lower, whole),
        Reporter::OpenSmtpd => out.reason = first(OPENSMTPD, lower),
        Reporter::DragonFly => out.reason = first(DRAGONFLY, lower),
        // The recipient's line is what the program printed ("No such file or directory"): the
        // notice's own sentence says whose failure it is, when it names no other module.
        Reporter::NetscapeMail => {
            out.reason = (whole.contains("because their delivery program(s) failed")
                && whole.matches("-deliver module").count()
                    == whole.matches("program-deliver module").count())
            .then_some(MailerError);
        }
        Reporter::Gmx => out.reason = first(GMX, lower).or_else(|| first(GMX, whole)),
        Reporter::Zoho => {
            out.reason = lower.contains("host not reachable").then_some(Expired);
        }
        Reporter::MessagingServer => {
            out.reason = lower
                .contains("illegal host/domain name found")
                .then_some(HostUnknown);
        }
        Reporter::Kddi => {
            out.stage = super::reasons::stage_in(lower);
            out.reason = if spam_sign {
                Some(Filtered)
            } else if whole
                .contains("each of the following recipients was rejected by a remote mail server")
            {
                Some(OnHold)
            } else {
                first(KDDI, lower)
                    .or_else(|| first(KDDI, whole))
                    .or_else(|| (out.stage == Some(SmtpStage::RcptTo)).then_some(UserUnknown))
            };
        }
        Reporter::Verizon => {
            out.reason = (lower.contains("requested action not taken: no such user here")
                || lower.contains("no valid recipients"))
            .then_some(UserUnknown);
        }
        Reporter::Biglobe => out.reason = first(BIGLOBE, lower).or_else(|| first(BIGLOBE, whole)),
        Reporter::InterScan => {
            // Its "Unable to deliver" is the whole diagnosis only when no remote reply is
            // quoted; a quoted reply says what it was.
            let quoted = super::reasons::Status::find(lower).is_some()
                || super::scrape::reply_code_in(lower).is_some();
            out.reason = (lower.contains("unable to deliver") && !quoted).then_some(UserUnknown);
        }
        Reporter::Postfix | Reporter::Sendmail | Reporter::MailMarshal | Reporter::Other => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_mtas_own_words() {
        let c = conventions(
            Reporter::Exim,
            "  a@b.example\n    retry timeout exceeded",
            "",
            false,
        );
        assert_eq!(c.reason, Some(Expired));
        // A recipient's Exim filter that failed the message.
        let c = conventions(
            Reporter::Exim,
            "  a@b.example
    subject was \"buy now\" (filter fail)",
            "",
            false,
        );
        assert_eq!(c.reason, Some(Filtered));
        let c = conventions(
            Reporter::Qmail,
            "<a@b.example>:\nconnected to 192.0.2.1 but my name was rejected.",
            "",
            false,
        );
        assert_eq!((c.reason, c.stage), (Some(Blocked), Some(SmtpStage::Ehlo)));
        // qmail's "Unable to" is its own system error; from anyone else it says nothing.
        let words = "<a@b.example>:\nunable to chdir to maildir.";
        assert_eq!(
            conventions(Reporter::Qmail, words, "", false).reason,
            Some(SystemError)
        );
        assert_eq!(conventions(Reporter::Other, words, "", false).reason, None);
        let c = conventions(
            Reporter::Gmail,
            "the error that the other server returned was: 550 5.2.2 mailbox full (state 14).",
            "",
            false,
        );
        assert_eq!(
            (c.reason, c.stage),
            (Some(MailboxFull), Some(SmtpStage::RcptTo))
        );
        // qmail's temporary DNS failure is not an unknown host; a remote's quoted "unable to"
        // is not qmail's own system error.
        let c = conventions(
            Reporter::Qmail,
            "<a@b.example>:\nsorry, i couldn't find any host by that name. (#4.1.2)",
            "",
            false,
        );
        assert_eq!(c.reason, None);
        let c = conventions(
            Reporter::Qmail,
            "<a@b.example>:\nremote host said: 553 sorry, unable to relay",
            "",
            false,
        );
        assert_eq!(c.reason, None);
        let c = conventions(
            Reporter::Exchange2007,
            "#550 5.1.1 resolver.adr.recipnotfound; not found ##",
            "",
            false,
        );
        assert_eq!(c.reason, Some(UserUnknown));
    }

    fn reporter(raw: &str) -> Reporter {
        let m = mail_parser::MessageParser::new()
            .parse(raw.as_bytes())
            .unwrap_or_default();
        Reporter::identify(&m, &crate::feedback::text::human_text(&m))
    }

    #[test]
    fn reporters_are_known_by_their_templates() {
        let exim = "From: Mail Delivery System <Mailer-Daemon@mx.example>\r\nSubject: Mail delivery failed: returning message to sender\r\nMessage-Id: <E1xa2FS-0007Nh-2o@mx.example>\r\n\r\nThis message was created automatically by mail delivery software.\r\n";
        assert_eq!(reporter(exim), Reporter::Exim);
        // Exim 4.97's longer ids.
        let exim_new = "From: x@y.example\r\nSubject: Mail delivery failed\r\nMessage-Id: <E1tGz2X-00000000Ab1-Qx0a@mx.example>\r\n\r\nhello\r\n";
        assert_eq!(reporter(exim_new), Reporter::Exim);
        let postfix = "From: MAILER-DAEMON@mx.example (Mail Delivery System)\r\nSubject: Undelivered Mail Returned to Sender\r\nReceived: from a (qmail 123 invoked by uid 1)\r\n\r\nThis is the mail system at host mx.example.\r\n";
        // A qmail hop in the Received chain does not make a Postfix bounce qmail's.
        assert_eq!(reporter(postfix), Reporter::Postfix);
        let qmail = "From: MAILER-DAEMON@mx.example\r\nSubject: failure notice\r\n\r\nHi. This is the qmail-send program at mx.example.\r\n";
        assert_eq!(reporter(qmail), Reporter::Qmail);
        let unknown = "From: someone@example.org\r\nSubject: hello\r\n\r\nhi\r\n";
        assert_eq!(reporter(unknown), Reporter::Other);
        // A header value as written starts with the space after the colon.
        let imail = "From: Postmaster <postmaster@mx.example>\r\nSubject: Undeliverable Mail\r\nX-Mailer: <SMTP32 v8.15>\r\n\r\nInvalid final delivery userid: a@b.example\r\n";
        assert_eq!(reporter(imail), Reporter::IMailServer);
        let amavis = "From: \"Content-filter at mx.example\" <postmaster@mx.example>\r\nSubject: Considered UNSOLICITED BULK EMAIL, apparently from you\r\n\r\nOur internal reference code for your message is 00832-01/Ed\r\n";
        assert_eq!(reporter(amavis), Reporter::Amavis);
        let by_from = "From: \"Content-filter at mx.example\" <postmaster@mx.example>\r\nSubject: x\r\n\r\nhello\r\n";
        assert_eq!(reporter(by_from), Reporter::Amavis);
        let by_body = "From: postmaster@mx.example\r\nSubject: x\r\n\r\nOur internal reference code for your message is 1-01/x\r\n";
        assert_eq!(reporter(by_body), Reporter::Amavis);
        // Exchange 2003's connector, known by its X-Mailer (compared without the leading space).
        let exchange = "From: postmaster@mx.example\r\nSubject: Undeliverable: x\r\nX-Mailer: Internet Mail Service (5.5.2653.19)\r\n\r\nhello\r\n";
        assert_eq!(reporter(exchange), Reporter::Exchange2003);
        let exchange = "From: postmaster@mx.example\r\nSubject: Undeliverable: x\r\nX-MimeOLE: Produced By Microsoft Exchange V6.5\r\n\r\nhello\r\n";
        assert_eq!(reporter(exchange), Reporter::Exchange2003);
        // Exchange 2007 and later, in French: the administrators' section names it.
        let exchange = "From: postmaster@mx.example\r\nSubject: Non remis : x\r\n\r\nInformations de diagnostic pour les administrateurs :\r\n";
        assert_eq!(reporter(exchange), Reporter::Exchange2007);
    }

    #[test]
    fn amavis_names_the_category() {
        let read =
            |diag: &str, whole: &str| conventions(Reporter::Amavis, diag, whole, false).reason;
        assert_eq!(
            read("554 5.7.0 reject, id=00832-01 - spam", ""),
            Some(SpamDetected)
        );
        assert_eq!(
            read("554 5.7.0 reject, id=1-01 - infected: eicar", ""),
            Some(VirusDetected)
        );
        assert_eq!(
            read("554 5.7.0 reject, id=1-01 - banned: p=p003", ""),
            Some(PolicyViolation)
        );
        assert_eq!(
            read("554 5.6.0 reject, id=1-01 - bad header: mime error", ""),
            Some(ContentError)
        );
        // The quoted original's subject is not the reply.
        assert_eq!(
            read(
                "554 5.7.0 reject, id=1-01 - message size exceeds recipient's size limit",
                "subject: flash sale - spam-free offers inside"
            ),
            None
        );
        // The notice's own sentence.
        let notice =
            "a message from <a@b> to: -> c@d was considered unsolicited bulk e-mail (ube).";
        assert_eq!(read("", notice), Some(SpamDetected));
    }
}
