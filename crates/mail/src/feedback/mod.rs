//! What a message arriving at the return path or the feedback address says (sans-IO).
//!
//! One entry point, [`classify_message`], sorts a message into a [`Kind`] and reads, per
//! recipient, the reason in Sisimai's vocabulary, hard/soft, the status and the diagnostic:
//!
//! - RFC 3464 / RFC 6533 DSNs: the `message/(global-)delivery-status` part, field by field;
//! - the non-standard bounces many MTAs still send (Exim, qmail, old Exchange, Notes, …): the
//!   recipients and their error lines are read from the human-readable text (see `scrape`);
//! - ARF complaints (RFC 5965) and DMARC failure reports (RFC 6591): the feedback type and who
//!   complained;
//! - RFC 3834 auto-replies, which are not bounces;
//! - DMARC aggregate reports (RFC 7489), summarised through mail-auth.
//!
//! [`classify_text`] does the same for one SMTP reply text. Nothing here panics on any input;
//! `fuzz/` holds a target for it.

pub mod dmarc;
pub(crate) mod providers;
pub mod reasons;
mod scrape;

use std::borrow::Cow;

use herald_domain::BounceReason;
use mail_parser::{Message, MessageParser, MimeHeaders, PartType};
use serde::Serialize;

pub use dmarc::DmarcSummary;
use reasons::{Refusal, SmtpStage, Status, stage_in};

/// What kind of message it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A bounce: a DSN or a non-standard non-delivery report.
    Dsn,
    /// A feedback-loop complaint or a DMARC failure report.
    Arf,
    /// An out-of-office or other automatic reply (RFC 3834).
    Autoreply,
    /// Nothing Herald acts on.
    NotBounce,
    /// A DMARC aggregate report.
    Dmarc,
    /// A single SMTP reply text.
    Reply,
}

/// What the message says about one recipient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub email: Option<String>,
    pub reason: BounceReason,
    /// The address itself is bad: do not mail it again.
    pub hard: bool,
    pub status: Option<String>,
    pub reply_code: Option<String>,
    pub diagnostic: Option<String>,
    /// `failed`, `delayed`, `delivered`… when the DSN says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
}

/// The reading of one message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Classified {
    pub kind: Kind,
    pub recipients: Vec<Verdict>,
    pub feedback_type: Option<String>,
    /// Message-ID of the returned original, when the report includes it: a way back to the
    /// delivery when the return-path token is missing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original_message_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dmarc: Option<DmarcSummary>,
}

impl Classified {
    fn empty(kind: Kind) -> Self {
        Self {
            kind,
            recipients: Vec::new(),
            feedback_type: None,
            original_message_id: None,
            dmarc: None,
        }
    }
}

/// Longest diagnostic kept per recipient.
const MAX_DIAGNOSTIC: usize = 1000;
/// A report's human-readable text is read up to this many bytes: real reports say what they
/// have to say in a few KB, and the bound keeps hostile input linear.
const MAX_REPORT_TEXT: usize = 64 * 1024;
/// Recipients read from one report.
pub(crate) const MAX_RECIPIENTS: usize = 100;

/// Classify a whole message (or a bare DMARC XML / gzip / zip report).
pub fn classify_message(raw: &[u8]) -> Classified {
    // One decompression allowance for everything in this message.
    let mut budget = dmarc::Budget::default();
    if let Some(summary) = dmarc::from_attachment_bytes(raw, &mut budget) {
        return Classified {
            dmarc: Some(summary),
            ..Classified::empty(Kind::Dmarc)
        };
    }
    let Some(message) = MessageParser::new().parse(raw) else {
        return Classified::empty(Kind::NotBounce);
    };
    let original_message_id = original_message_id(&message);
    let mut out = if let Some(arf) = arf(&message) {
        arf
    } else if let Some(summary) = dmarc::from_message(&message, &mut budget) {
        Classified {
            dmarc: Some(summary),
            ..Classified::empty(Kind::Dmarc)
        }
    } else if let Some(dsn) = delivery_status(&message) {
        dsn
    } else if let Some(dsn) = returned_message(&message)
        .filter(|_| looks_like_bounce(&message))
        .and_then(delivery_status)
    {
        // A bounce that returns a DSN (a forwarded or re-sent report): the inner report's
        // fields are the structured account of what happened.
        dsn
    } else if looks_like_bounce(&message) {
        let mut text = human_text(&message);
        if text.trim().is_empty() {
            // Broken MIME (a boundary lost to bad folding): read the raw body instead.
            text = raw_body_text(raw);
        }
        let mut recipients =
            scrape::recipients(&text, &header_list(&message), &own_addresses(&message));
        if recipients.is_empty() {
            // A report that names nobody: the returned message's one recipient is the one,
            // and the subject and text say why ("Returned mail: User unknown").
            let to = returned_message(&message)
                .and_then(|m| m.to())
                .and_then(|a| (a.iter().count() == 1).then(|| a.first()).flatten())
                .and_then(|a| a.address())
                .map(str::to_ascii_lowercase);
            if let Some(to) = to {
                let lower = text.to_ascii_lowercase();
                let words = format!("{}\n{text}", message.subject().unwrap_or_default());
                recipients.push(scrape::verdict(
                    &to,
                    &words,
                    &words,
                    scrape::says_gave_up(&lower),
                    scrape::says_delayed(&lower),
                ));
            }
        }
        if recipients.is_empty() {
            Classified::empty(Kind::NotBounce)
        } else {
            Classified {
                recipients,
                ..Classified::empty(Kind::Dsn)
            }
        }
    } else if let Some(refusal) = list_refusal(&message) {
        refusal
    } else if is_autoreply(&message) {
        let to = message
            .from()
            .and_then(|a| a.first())
            .and_then(|a| a.address())
            .map(str::to_string);
        Classified {
            recipients: vec![Verdict {
                email: to,
                reason: BounceReason::Vacation,
                hard: false,
                status: None,
                reply_code: None,
                diagnostic: message.subject().map(clip),
                action: None,
            }],
            ..Classified::empty(Kind::Autoreply)
        }
    } else {
        Classified::empty(Kind::NotBounce)
    };
    out.original_message_id = original_message_id;
    out
}

/// The messages of an mbox file (each after a `From ` separator line at the start of the
/// file or after an empty line); anything else is one message. Bounces saved from a mail
/// client or a spool often come this way.
pub fn split_mbox(raw: &[u8]) -> Vec<&[u8]> {
    if !raw.starts_with(b"From ") {
        return vec![raw];
    }
    const SEPARATOR: &[u8] = b"\nFrom ";
    let mut starts = vec![0];
    let mut at = 0;
    while let Some(n) = raw[at..]
        .windows(SEPARATOR.len())
        .position(|w| w == SEPARATOR)
    {
        let newline = at + n;
        // Only after an empty line (LF or CRLF files); elsewhere "From " is text.
        let before = &raw[..newline];
        if before.ends_with(b"\n") || before.ends_with(b"\n\r") {
            starts.push(newline + 1);
        }
        at = newline + 1;
    }
    starts
        .iter()
        .enumerate()
        .map(|(i, &from)| {
            let end = starts.get(i + 1).copied().unwrap_or(raw.len());
            let message = &raw[from..end];
            // Drop the separator line itself.
            message
                .iter()
                .position(|&b| b == b'\n')
                .map_or(&message[message.len()..], |nl| &message[nl + 1..])
        })
        .filter(|m| !m.iter().all(u8::is_ascii_whitespace))
        .collect()
}

/// Classify one SMTP reply or diagnostic text ("550 5.1.1 <a@b>: user unknown").
pub fn classify_text(text: &str) -> Classified {
    let text = text.trim();
    let lower = text.to_ascii_lowercase();
    if VACATION_WORDS.iter().any(|w| lower.contains(w)) && leading_reply_code(text).is_none() {
        return Classified {
            recipients: vec![Verdict {
                email: None,
                reason: BounceReason::Vacation,
                hard: false,
                status: None,
                reply_code: None,
                diagnostic: Some(clip(text)),
                action: None,
            }],
            ..Classified::empty(Kind::Autoreply)
        };
    }
    let reply_code = leading_reply_code(text);
    let status = Status::find(text);
    // A bare reply answers one recipient unless it says otherwise.
    let stage = stage_in(&lower).or(Some(SmtpStage::RcptTo));
    let reason = reasons::decide(&Refusal {
        status,
        reply_code,
        text,
        stage,
        gave_up: false,
    });
    // A provider's reply that names its own hosts ("… - mta1061.mail.ne1.yahoo.com").
    let reason = providers::reason(text, &lower, stage).unwrap_or(reason);
    let permanent = permanence(status, reply_code);
    Classified {
        recipients: vec![Verdict {
            email: scrape::first_address(text),
            reason,
            hard: reasons::is_hard(reason, permanent),
            status: status.map(|s| format!("{}.{}.{}", s.class, s.subject, s.detail)),
            reply_code: reply_code.map(|c| c.to_string()),
            diagnostic: Some(clip(text)),
            action: None,
        }],
        ..Classified::empty(Kind::Reply)
    }
}

fn permanence(status: Option<Status>, reply_code: Option<u16>) -> bool {
    match (status, reply_code) {
        (Some(s), _) => s.is_permanent(),
        (None, Some(c)) => (500..600).contains(&c),
        // A bounce with no code at all came back to us as a failure.
        (None, None) => true,
    }
}

pub(crate) fn leading_reply_code(text: &str) -> Option<u16> {
    let digits: String = text.chars().take_while(char::is_ascii_digit).collect();
    if digits.len() != 3 {
        return None;
    }
    let code: u16 = digits.parse().ok()?;
    (200..600).contains(&code).then_some(code)
}

pub(crate) fn clip(s: &str) -> String {
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.len() <= MAX_DIAGNOSTIC {
        return s;
    }
    let mut end = MAX_DIAGNOSTIC;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

fn is_type<'x>(part: &impl MimeHeaders<'x>, ctype: &str, subtype: &str) -> bool {
    part.content_type().is_some_and(|ct| {
        ct.ctype().eq_ignore_ascii_case(ctype)
            && ct
                .subtype()
                .is_some_and(|s| s.eq_ignore_ascii_case(subtype))
    })
}

fn part_bytes<'a>(body: &'a PartType<'_>) -> Option<Cow<'a, [u8]>> {
    match body {
        PartType::Text(t) | PartType::Html(t) => Some(Cow::Borrowed(t.as_bytes())),
        PartType::Binary(b) | PartType::InlineBinary(b) => Some(Cow::Borrowed(b.as_ref())),
        PartType::Message(m) => Some(Cow::Borrowed(m.raw_message.as_ref())),
        PartType::Multipart(_) => None,
    }
}

/// Header blocks separated by blank lines, each unfolded into (lower-case name, value) pairs.
pub(crate) fn field_blocks(text: &str) -> Vec<Vec<(String, String)>> {
    let mut blocks = Vec::new();
    let mut block: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            if !block.is_empty() {
                blocks.push(std::mem::take(&mut block));
            }
            continue;
        }
        if line.starts_with([' ', '\t']) {
            if let Some(last) = block.last_mut() {
                last.1.push(' ');
                last.1.push_str(line.trim());
            }
            continue;
        }
        if let Some((name, value)) = line.split_once(':') {
            let name = name.trim();
            if !name.is_empty() && !name.contains(' ') {
                block.push((name.to_ascii_lowercase(), value.trim().to_string()));
            }
        }
    }
    if !block.is_empty() {
        blocks.push(block);
    }
    blocks
}

fn field<'a>(block: &'a [(String, String)], name: &str) -> Option<&'a str> {
    block
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// An exit code alone, or text led by a program's name and a colon ("procmail: Couldn't …").
fn program_output(diagnostic: &str) -> bool {
    let d = diagnostic.trim();
    if !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()) {
        return true;
    }
    d.split_once(':').is_some_and(|(name, _)| {
        !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
            && name.bytes().any(|b| b.is_ascii_alphabetic())
    })
}

/// PowerMTA's bounce categories (`X-PowerMTA-BounceCategory`, its accounting's `bounceCat`)
/// in Sisimai's vocabulary; `other` and unknown names say nothing.
fn powermta_category(category: &str) -> Option<BounceReason> {
    use BounceReason::*;
    Some(match category.trim().to_ascii_lowercase().as_str() {
        "bad-mailbox" => UserUnknown,
        "bad-domain" => HostUnknown,
        "inactive-mailbox" => Suspend,
        "quota-issues" => MailboxFull,
        "message-expired" => Expired,
        "bad-connection" | "no-answer-from-host" | "routing-errors" => NetworkError,
        "bad-configuration" => SystemError,
        "protocol-errors" => SyntaxError,
        "content-related" => ContentError,
        "invalid-sender" => Rejected,
        "policy-related" => PolicyViolation,
        "relaying-issues" => NoRelaying,
        "spam-related" => SpamDetected,
        "virus-related" => VirusDetected,
        _ => return None,
    })
}

/// `rfc822; a@b` → `a@b`.
fn typed_address(v: &str) -> String {
    let v = v.split_once(';').map_or(v, |(_, a)| a).trim();
    v.trim_matches(['<', '>', ' ', '"']).to_string()
}

/// An RFC 3464 / RFC 6533 DSN.
fn delivery_status(message: &Message<'_>) -> Option<Classified> {
    let part = message.parts.iter().find(|p| {
        is_type(*p, "message", "delivery-status")
            || is_type(*p, "message", "global-delivery-status")
    });
    let text = match part {
        Some(part) => String::from_utf8_lossy(&part_bytes(&part.body)?).into_owned(),
        None => {
            // A DSN whose MIME structure was lost (no multipart header): its fields are in the
            // text, after a "Content-Type: message/delivery-status" line.
            let all = all_text(message);
            let lower = all.to_ascii_lowercase();
            let at = lower.find("content-type: message/delivery-status")?;
            all[at..].to_string()
        }
    };
    let blocks = field_blocks(&text);
    let human = human_text(message);
    let human_lower = human.to_ascii_lowercase();
    let gave_up = scrape::says_gave_up(&human_lower);
    let mut recipients = Vec::new();
    let all_rcpts: Vec<String> = blocks
        .iter()
        .filter_map(|b| field(b, "final-recipient").or_else(|| field(b, "original-recipient")))
        .map(typed_address)
        .collect();
    let reporting_mta = blocks
        .iter()
        .find_map(|b| field(b, "reporting-mta"))
        .unwrap_or_default();
    for block in blocks.iter() {
        let Some(rcpt) =
            field(block, "final-recipient").or_else(|| field(block, "original-recipient"))
        else {
            continue;
        };
        let email = typed_address(rcpt);
        let action = field(block, "action").map(|a| a.to_ascii_lowercase());
        let status = field(block, "status").and_then(Status::find);
        let diagnostic = field(block, "diagnostic-code")
            .map(|d| d.split_once(';').map_or(d, |(_, t)| t).trim().to_string())
            .unwrap_or_default();
        // `X-Unix;` (RFC 3464 §2.3.6 diagnostic type) is what a local delivery reports; when
        // it is a program's exit code ("71") or a program's own output ("procmail: …"), the
        // program failed. (Postfix's own local delivery also says X-Unix, in its own words:
        // "no mailbox here by that name" stays unknown-user.)
        let local_program = field(block, "diagnostic-code").is_some_and(|d| {
            d.split_once(';')
                .is_some_and(|(t, _)| t.trim().eq_ignore_ascii_case("x-unix"))
        }) && program_output(&diagnostic);
        // The human-readable part often carries the words the DSN fields leave out.
        let context = scrape::context_for(&human, &email, &all_rcpts);
        // The diagnostic speaks for this recipient; the human text only when it says nothing
        // we can read (it often covers several recipients).
        let diagnostic_speaks = reasons::by_phrase(&diagnostic.to_ascii_lowercase()).is_some();
        let words = if diagnostic.is_empty() {
            context.clone()
        } else if diagnostic_speaks {
            diagnostic.clone()
        } else {
            format!("{diagnostic}\n{context}")
        };
        let reply_code = leading_reply_code(diagnostic.trim())
            .or_else(|| scrape::reply_code_in(&diagnostic))
            .or_else(|| scrape::reply_code_in(&context));
        let lower = words.to_ascii_lowercase();
        let delayed = action.as_deref() == Some("delayed");
        let stage = stage_in(&lower).or_else(|| stage_in(&human_lower));
        // A vague DSN status (x.0.0) says less than a precise code in the words.
        let read_status = if diagnostic.is_empty() {
            Status::find(&lower)
                .filter(|s| !s.is_vague())
                .or(status)
                .or_else(|| Status::find(&lower))
        } else {
            Status::find(&diagnostic).or(status)
        };
        let reason = match action.as_deref() {
            Some("delivered" | "relayed" | "expanded") => BounceReason::Delivered,
            _ => reasons::decide(&Refusal {
                status: read_status,
                reply_code,
                text: &words,
                stage,
                // "failed" with a temporary status: the sender's queue stopped retrying
                // (RFC 3464 §2.3.3), i.e. the message expired.
                gave_up: gave_up
                    || (action.as_deref() == Some("failed")
                        && status.is_some_and(|s| s.class == 4))
                    || delayed,
            }),
        };
        // A big provider's reply means what the provider documents it to mean.
        let hosts = format!(
            "{} {reporting_mta} {email}\n{context}",
            field(block, "remote-mta").unwrap_or_default()
        );
        let reply = if diagnostic.is_empty() {
            &words
        } else {
            &diagnostic
        };
        let reason = match providers::reason(&hosts, &reply.to_ascii_lowercase(), stage) {
            Some(r) if reason != BounceReason::Delivered => r,
            _ => reason,
        };
        // The report's own text can say what the remote's reply leaves open ("Address not
        // found" above a bare "550 User unknown" answered to the message).
        let reason = if reason == BounceReason::Filtered
            && reasons::says_address_missing(&context.to_ascii_lowercase())
        {
            BounceReason::UserUnknown
        } else {
            reason
        };
        // The sending MTA's own verdict on the reply (PowerMTA writes one per recipient)
        // decides what a vague or missing status code leaves to the words, and beats the
        // guess that an unknown-user answer no stage ties to the address was a filter.
        let reason = match field(block, "x-powermta-bouncecategory").and_then(powermta_category) {
            Some(category)
                if reason != BounceReason::Delivered
                    && (read_status.is_none_or(Status::is_vague)
                        || reason == BounceReason::Filtered) =>
            {
                category
            }
            _ => reason,
        };
        // What a local program printed is about the program unless it names the mailbox's
        // own limits ("Disk quota exceeded").
        let reason = if local_program
            && !matches!(
                reason,
                BounceReason::MailboxFull
                    | BounceReason::MesgTooBig
                    | BounceReason::ExceedLimit
                    | BounceReason::Delivered
            ) {
            BounceReason::MailerError
        } else {
            reason
        };
        let permanent = !delayed && permanence(status, reply_code);
        recipients.push(Verdict {
            email: Some(email),
            reason,
            hard: reasons::is_hard(reason, permanent),
            status: status.map(|s| format!("{}.{}.{}", s.class, s.subject, s.detail)),
            reply_code: reply_code.map(|c| c.to_string()),
            diagnostic: (!diagnostic.is_empty()).then(|| clip(&diagnostic)),
            action,
        });
    }
    if recipients.is_empty() {
        // A report part with no recipient fields: read the text instead.
        recipients = scrape::recipients(&human, &header_list(message), &own_addresses(message));
        if recipients.is_empty() {
            return None;
        }
    }
    Some(Classified {
        recipients,
        ..Classified::empty(Kind::Dsn)
    })
}

/// An ARF complaint or a DMARC failure report.
fn arf(message: &Message<'_>) -> Option<Classified> {
    let report_type = message
        .content_type()
        .and_then(|ct| ct.attribute("report-type"))
        .map(str::to_ascii_lowercase);
    let feedback_part = message
        .parts
        .iter()
        .find(|p| is_type(*p, "message", "feedback-report"))
        .and_then(|p| part_bytes(&p.body))
        .map(|b| String::from_utf8_lossy(&b).into_owned());
    let fields_text = match feedback_part {
        Some(t) => t,
        None => {
            // Some reporters put the fields in a text part, or send no machine part at all.
            let text = all_text(message);
            let lower = text.to_ascii_lowercase();
            let subject = message.subject().unwrap_or_default().to_ascii_lowercase();
            let dmarc_failure = subject.contains("dmarc")
                && ["failure", "forensic", "ruf"]
                    .iter()
                    .any(|w| subject.contains(w));
            // Hotmail-style complaints: "complaint about message from …" with the message attached.
            let bare_complaint =
                subject.contains("complaint") && returned_message(message).is_some();
            if report_type.as_deref() != Some("feedback-report")
                && !lower.contains("feedback-type:")
                && !dmarc_failure
                && !bare_complaint
            {
                return None;
            }
            text
        }
    };
    let fields: Vec<(String, String)> = field_blocks(&fields_text).into_iter().flatten().collect();
    let feedback_type = fields
        .iter()
        .find(|(n, _)| n == "feedback-type")
        .map(|(_, v)| v.trim().to_ascii_lowercase())
        .or_else(|| {
            // A DMARC failure report without its machine part is an auth-failure report.
            let subject = message.subject().unwrap_or_default().to_ascii_lowercase();
            (subject.contains("dmarc") || subject.contains("forensic"))
                .then(|| "auth-failure".to_string())
        })
        .unwrap_or_else(|| "abuse".to_string());
    let mut complainers: Vec<String> = fields
        .iter()
        .filter(|(n, _)| n == "original-rcpt-to" || n == "removal-recipient")
        .map(|(_, v)| typed_address(v))
        .filter(|a| a.contains('@'))
        .collect();
    if complainers.is_empty()
        && let Some(original) = returned_message(message)
    {
        if let Some(rcpt) = original.header_raw("X-HmXmrOriginalRecipient") {
            complainers.push(typed_address(rcpt));
        } else if let Some(to) = original.to() {
            complainers.extend(to.iter().filter_map(|a| a.address()).map(str::to_string));
        }
    }
    if complainers.is_empty() {
        complainers.push(String::new());
    }
    let recipients = complainers
        .into_iter()
        .map(|email| Verdict {
            email: (!email.is_empty()).then_some(email),
            reason: BounceReason::Feedback,
            hard: false,
            status: None,
            reply_code: None,
            diagnostic: None,
            action: None,
        })
        .collect();
    Some(Classified {
        recipients,
        feedback_type: Some(feedback_type),
        ..Classified::empty(Kind::Arf)
    })
}

fn returned_message<'a>(message: &'a Message<'a>) -> Option<&'a Message<'a>> {
    message.parts.iter().find_map(|p| match &p.body {
        PartType::Message(m) => Some(m),
        _ => None,
    })
}

fn original_message_id(message: &Message<'_>) -> Option<String> {
    if let Some(original) = returned_message(message)
        && let Some(id) = original.message_id()
    {
        return Some(id.to_string());
    }
    // text/rfc822-headers, or the original pasted into the text.
    let text = all_text(message);
    let own = message.message_id().unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.trim()
                .eq_ignore_ascii_case("message-id")
                .then(|| value.trim().trim_matches(['<', '>']).to_string())
        })
        .find(|id| !id.is_empty() && id != own)
}

/// The human-readable text of the report (not the returned original).
fn human_text(message: &Message<'_>) -> String {
    let mut out = String::new();
    for (i, part) in message.parts.iter().enumerate() {
        match &part.body {
            PartType::Text(t) if !is_type(part, "text", "rfc822-headers") => {
                out.push_str(t);
                out.push('\n');
            }
            PartType::Html(h) if i == 0 || out.is_empty() => {
                out.push_str(&html_to_text(h));
                out.push('\n');
            }
            _ => {}
        }
    }
    let text = scrape::cut_returned_original(&out);
    truncate(text, MAX_REPORT_TEXT).to_string()
}

/// The body of a raw message as text, without the returned original.
fn raw_body_text(raw: &[u8]) -> String {
    let head_end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| p + 4)
        .or_else(|| raw.windows(2).position(|w| w == b"\n\n").map(|p| p + 2))
        .unwrap_or(raw.len());
    let body = &raw[head_end..raw.len().min(head_end + MAX_REPORT_TEXT)];
    let text = String::from_utf8_lossy(body);
    scrape::cut_returned_original(&text).to_string()
}

/// The longest prefix of `s` within `max` bytes, on a character boundary.
pub(crate) fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Every text part, including returned headers: where a field may hide.
fn all_text(message: &Message<'_>) -> String {
    let mut out = String::new();
    for part in &message.parts {
        if let PartType::Text(t) = &part.body {
            out.push_str(truncate(t, MAX_REPORT_TEXT));
            out.push('\n');
        }
        if out.len() > 4 * MAX_REPORT_TEXT {
            break;
        }
    }
    out
}

fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&")
}

/// The report's own From: never a failed recipient. (Its To, the original sender, can be one:
/// people mail themselves.)
fn own_addresses(message: &Message<'_>) -> Vec<String> {
    message
        .from()
        .into_iter()
        .flat_map(|a| a.iter())
        .filter_map(|a| a.address())
        .map(str::to_ascii_lowercase)
        .collect()
}

/// Addresses the report's headers name as failed (Exim's `X-Failed-Recipients`, and others).
fn header_list(message: &Message<'_>) -> Vec<String> {
    let mut out = Vec::new();
    for name in [
        "X-Failed-Recipients",
        "X-Original-To-Failed",
        "Original-Recipient",
    ] {
        if let Some(v) = message.header_raw(name) {
            out.extend(
                v.split(',')
                    .map(|a| typed_address(a.trim()))
                    .filter(|a| a.contains('@')),
            );
        }
    }
    out
}

fn looks_like_bounce(message: &Message<'_>) -> bool {
    const SUBJECTS: &[&str] = &[
        "undeliver",
        "undelivered",
        "delivery status",
        "delivery failure",
        "delivery failed",
        "delivery notification",
        "delivery problem",
        "failure notice",
        "returned mail",
        "returned to sender",
        "mail delivery",
        "non-delivery",
        "nondeliverable",
        "non remis",
        "could not send",
        "not delivered",
        "delivery has failed",
        "mail system error",
        "rejected",
        "bounce",
        "warning: could not",
        "notice",
        "error",
        "failed",
    ];
    const SENDERS: &[&str] = &[
        "mailer-daemon",
        "postmaster",
        "post_master",
        "mail delivery",
        "mdaemon",
    ];
    let subject = message.subject().unwrap_or_default().to_ascii_lowercase();
    let from = message
        .from()
        .and_then(|a| a.first())
        .map(|a| {
            format!(
                "{} {}",
                a.name().unwrap_or_default(),
                a.address().unwrap_or_default()
            )
            .to_ascii_lowercase()
        })
        .unwrap_or_default();
    // The null reverse path (RFC 5321 §4.5.5) with the returned message attached is how an
    // MTA bounces, whatever its From and Subject say.
    let null_sender = message
        .header_raw("Return-Path")
        .is_some_and(|v| v.trim() == "<>");
    let returns_original = message
        .parts
        .iter()
        .any(|p| is_type(p, "message", "rfc822") || is_type(p, "text", "rfc822-headers"));
    message.header_raw("X-Failed-Recipients").is_some()
        || SENDERS.iter().any(|s| from.contains(s))
        || (null_sender && returns_original && !is_autoreply(message))
        || (SUBJECTS.iter().any(|s| subject.contains(s)) && !is_autoreply(message))
}

/// Words of a mailing list manager refusing a post from someone who may not post.
const LIST_REFUSALS: &[&str] = &[
    "not a member of this",
    "not a member of the list",
    "are not member",
    "not allowed to post",
    "permission to post",
    "only members can post",
    "members-only list",
];

/// A mailing list's notice that it refused the message because of who sent it (Mailman,
/// fml, ezmlm, Google Groups send these to the return path): the list address is the
/// recipient, refused for the sender's sake.
fn list_refusal(message: &Message<'_>) -> Option<Classified> {
    const LIST_HEADERS: &[&str] = &[
        "List-Id",
        "List-Post",
        "List-Subscribe",
        "Mailing-List",
        "X-MLServer",
        "X-Mailman-Version",
    ];
    if !LIST_HEADERS
        .iter()
        .any(|h| message.header_raw(*h).is_some())
    {
        return None;
    }
    let text = human_text(message);
    let lower = text.to_ascii_lowercase();
    let said = format!(
        "{}\n{lower}",
        message.subject().unwrap_or_default().to_ascii_lowercase()
    );
    if !LIST_REFUSALS.iter().any(|w| said.contains(w)) {
        return None;
    }
    let own = own_addresses(message);
    let list = scrape::recipients(&text, &[], &own)
        .into_iter()
        .next()?
        .email;
    Some(Classified {
        recipients: vec![Verdict {
            email: list,
            reason: BounceReason::Rejected,
            hard: false,
            status: None,
            reply_code: None,
            diagnostic: LIST_REFUSALS
                .iter()
                .find_map(|w| text.lines().find(|l| l.to_ascii_lowercase().contains(w)))
                .map(clip),
            action: Some("failed".into()),
        }],
        ..Classified::empty(Kind::Dsn)
    })
}

fn is_autoreply(message: &Message<'_>) -> bool {
    let header = |n: &str| message.header_raw(n).map(|v| v.trim().to_ascii_lowercase());
    if header("Auto-Submitted").is_some_and(|v| v.starts_with("auto-replied")) {
        return true;
    }
    if header("X-Autoreply").is_some()
        || header("X-Autorespond").is_some()
        || header("X-Auto-Response-Suppress").is_some_and(|v| v.contains("oof"))
        || header("Precedence").is_some_and(|v| v == "auto_reply")
    {
        return true;
    }
    let subject = message.subject().unwrap_or_default().to_ascii_lowercase();
    VACATION_WORDS.iter().any(|w| subject.contains(w))
}

/// Words of an out-of-office or other automatic reply.
const VACATION_WORDS: &[&str] = &[
    "out of office",
    "out of the office",
    "automatic reply",
    "auto reply",
    "autoreply",
    "auto-reply",
    "vacation",
    "away from",
    "i am away",
    "i'm away",
    "abwesenheit",
    "absence",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_blocks_unfold() {
        let b = field_blocks(
            "Reporting-MTA: dns; a\n\nFinal-Recipient: rfc822; x@y\nDiagnostic-Code: smtp; 550\n  user unknown\n",
        );
        assert_eq!(b.len(), 2);
        assert_eq!(
            field(&b[1], "diagnostic-code"),
            Some("smtp; 550 user unknown")
        );
    }

    #[test]
    fn mbox_files_split_into_messages() {
        let one = b"Subject: x\n\nFrom the start of a line, not a separator\n";
        assert_eq!(split_mbox(one), vec![&one[..]]);
        let two = b"From MAILER-DAEMON Thu Apr 29 23:34:45 2015\nSubject: a\n\nbody a\n\nFrom MAILER-DAEMON Thu Apr 29 23:34:46 2015\nSubject: b\n\nbody b\n";
        let parts = split_mbox(two);
        assert_eq!(parts.len(), 2);
        assert!(parts[0].starts_with(b"Subject: a"));
        assert!(parts[1].starts_with(b"Subject: b"));
        // A "From " inside a paragraph is text, not a separator.
        let inner = b"From x\nSubject: a\n\nline\nFrom here on\n";
        assert_eq!(split_mbox(inner).len(), 1);
        assert!(split_mbox(b"From ").is_empty());
        let crlf = b"From a\r\nSubject: a\r\n\r\nx\r\n\r\nFrom b\r\nSubject: b\r\n\r\ny\r\n";
        let parts = split_mbox(crlf);
        assert_eq!(parts.len(), 2);
        assert!(parts[1].starts_with(b"Subject: b"));
    }

    #[test]
    fn garbage_is_not_a_bounce() {
        assert_eq!(classify_message(b"").kind, Kind::NotBounce);
        assert_eq!(
            classify_message(b"\xff\xfe\x00garbage").kind,
            Kind::NotBounce
        );
    }

    /// A DSN from a local delivery (`X-Unix;`): a program's exit code or its own output is a
    /// mailer error; the MTA's own words keep their meaning.
    #[test]
    fn local_delivery_program_failures() {
        let dsn = |diagnostic: &str| {
            let raw = format!(
                "From: MAILER-DAEMON@mx.example\r\nTo: b@example.org\r\nSubject: Undelivered Mail\r\n\
                 MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n\
                 --B\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n\
                 --B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example\r\n\r\n\
                 Final-Recipient: rfc822; who@example.net\r\nAction: failed\r\nStatus: 5.1.1\r\n\
                 Diagnostic-Code: X-Unix; {diagnostic}\r\n\r\n--B--\r\n"
            );
            classify_message(raw.as_bytes()).recipients[0].reason
        };
        assert_eq!(dsn("75"), BounceReason::MailerError);
        assert_eq!(
            dsn("procmail: Couldn't create \"/var/mail/x\": No such user"),
            BounceReason::MailerError
        );
        assert_eq!(
            dsn("no mailbox here by that name"),
            BounceReason::UserUnknown
        );
        assert_eq!(
            dsn("/home/x/Maildir/tmp/1.2: Disk quota exceeded"),
            BounceReason::MailboxFull
        );
    }
}
