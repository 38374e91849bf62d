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

mod arf;
mod autoreply;
pub mod dmarc;
mod dsn;
mod mbox;
mod mta;
mod phrases;
pub(crate) mod providers;
pub mod reasons;
mod scrape;
mod text;
mod wordings;

use std::borrow::Cow;

use herald_domain::BounceReason;
use mail_parser::{Message, MessageParser, MimeHeaders, PartType};
use serde::Serialize;

pub use dmarc::{DmarcReport, DmarcSummary};
pub use mbox::split_mbox;
pub use text::classify_text;

pub(crate) use dsn::{clip, leading_reply_code};
pub(crate) use text::truncate;

use arf::{arf, original_message_id, returned_message};
use autoreply::{
    VACATION_WORDS, is_autoreply, is_unaddressed_bounce, list_refusal, looks_like_bounce,
};
use dsn::{delivery_status, permanence, typed_address};
use reasons::{Refusal, SmtpStage, Status, stage_in};
use text::{all_text, header_list, human_text, own_addresses, raw_body_text};

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
    /// The server the reporting MTA handed it to (`Remote-MTA`, its type prefix removed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote_mta: Option<String>,
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
    /// The whole aggregate report (every row), which the engine stores; not in the summary
    /// JSON kept with the inbound message.
    #[serde(skip)]
    pub dmarc_report: Option<Box<DmarcReport>>,
}

impl Classified {
    fn empty(kind: Kind) -> Self {
        Self {
            kind,
            recipients: Vec::new(),
            feedback_type: None,
            original_message_id: None,
            dmarc: None,
            dmarc_report: None,
        }
    }

    fn dmarc(report: DmarcReport) -> Self {
        Self {
            dmarc: Some(report.summary()),
            dmarc_report: Some(Box::new(report)),
            ..Self::empty(Kind::Dmarc)
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
    if let Some(report) = dmarc::from_attachment_bytes(raw, &mut budget) {
        return Classified::dmarc(report);
    }
    let Some(message) = parse_untrusted(raw) else {
        return Classified::empty(Kind::NotBounce);
    };
    let original_message_id = original_message_id(&message);
    let mut out = if let Some(arf) = arf(&message) {
        arf
    } else if let Some(report) = dmarc::from_message(&message, &mut budget) {
        Classified::dmarc(report)
    } else if let Some(dsn) = report(&message) {
        dsn
    } else if looks_like_bounce(&message) {
        let mut text = human_text(&message);
        if text.trim().is_empty() {
            // Broken MIME (a boundary lost to bad folding): read the raw body instead.
            text = raw_body_text(raw);
        }
        let reporter = mta::Reporter::identify(&message, &text);
        let spam_sign = dsn::spam_sign(&message);
        let mut recipients = scrape::recipients(
            &text,
            &header_list(&message),
            &own_addresses(&message),
            reporter,
            spam_sign,
        );
        // A verdict from the whole report's words (its subject's cause and its text) for
        // `email`, when no recipient's own lines were found.
        let whole_report = |email: &str| {
            let lower = text.to_ascii_lowercase();
            let words = format!("{}\n{text}", subject_cause(&message));
            scrape::verdict(
                email,
                &words,
                &words,
                scrape::says_gave_up(&lower),
                scrape::says_delayed(&lower),
                reporter,
                spam_sign,
            )
        };
        if recipients.is_empty() {
            // A report that names nobody: the returned message's one recipient is the one,
            // and the subject and text say why ("Returned mail: User unknown").
            let to = returned_message(&message)
                .and_then(|m| m.to())
                .and_then(|a| (a.iter().count() == 1).then(|| a.first()).flatten())
                .and_then(|a| a.address())
                .map(str::to_ascii_lowercase);
            if let Some(to) = to {
                recipients.push(whole_report(&to));
            }
        }
        if recipients.is_empty() && is_unaddressed_bounce(&message) {
            // A report that names nobody, not even through its returned message (cut down
            // to its preamble, or a delivery report whose parts were lost), is still a bounce
            // of the delivery whose signed return path it came to: one verdict, no address,
            // the cause its words give (`onhold` when they give none). Never hard: with no
            // address to tie them to, its words may be the original's (a subject quoted in
            // "Undeliverable: …"), and a wrong hard suppresses a good address.
            let mut verdict = whole_report("");
            verdict.email = None;
            verdict.hard = false;
            recipients.push(verdict);
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
                remote_mta: None,
            }],
            ..Classified::empty(Kind::Autoreply)
        }
    } else {
        Classified::empty(Kind::NotBounce)
    };
    // A report forwarded as an attachment names its own original (set where it was read).
    out.original_message_id = out.original_message_id.take().or(original_message_id);
    out
}

/// The message's delivery report; or, when it has none or its own names nobody, the one it
/// returns (a forwarded or re-sent report: the inner report's fields are the structured
/// account of what happened).
fn report(message: &Message<'_>) -> Option<Classified> {
    let returned = || {
        returned_message(message)
            .filter(|_| looks_like_bounce(message))
            .and_then(delivery_status)
    };
    match delivery_status(message) {
        Some(own) if own.recipients.iter().all(|v| v.email.is_none()) => returned().or(Some(own)),
        Some(own) => Some(own),
        None => returned(),
    }
}

/// A bounce's subject as words about the cause ("Returned mail: User unknown"), without the
/// stock words every bounce of that kind has: Postfix's "Undelivered Mail Returned to Sender"
/// says nothing about a sender.
fn subject_cause(message: &Message<'_>) -> String {
    let subject = message.subject().unwrap_or_default();
    let lower = subject.to_ascii_lowercase();
    match lower.find("returned to sender") {
        Some(at) if subject.is_char_boundary(at) && subject.is_char_boundary(at + 18) => {
            format!("{}{}", &subject[..at], &subject[at + 18..])
        }
        _ => subject.to_string(),
    }
}

/// The message's Received fields as written, lower-case, one per line (the parsed form drops
/// the comments that name the hosts and the MTA).
pub(crate) fn received_lower(message: &Message<'_>) -> String {
    let raw = message.raw_message();
    message
        .headers()
        .iter()
        .filter(|h| h.name().eq_ignore_ascii_case("Received"))
        .filter_map(|h| raw.get(h.offset_start() as usize..h.offset_end() as usize))
        .map(String::from_utf8_lossy)
        .collect::<Vec<_>>()
        .join("\n")
        .to_ascii_lowercase()
}

/// Parse a message that came from outside. mail-parser 0.11.9 has a `debug_assert!` on some
/// broken multipart nestings (found by the `feedback_message` fuzz target: a multipart whose
/// parts hold message/rfc822 parts with no boundary of their own); release builds compile it
/// out and parse on, but a debug build would lose the message, and the task reading it, to a
/// panic. The parse is kept apart so that never happens: a message it cannot read is no report.
pub(crate) fn parse_untrusted(raw: &[u8]) -> Option<Message<'_>> {
    std::panic::catch_unwind(|| MessageParser::new().parse(raw))
        .ok()
        .flatten()
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
            // A fold continues the field's value (which may have started on the next line).
            if let Some(last) = block.last_mut() {
                if !last.1.is_empty() {
                    last.1.push(' ');
                }
                last.1.push_str(line.trim());
            }
            continue;
        }
        match line.split_once(':') {
            Some((name, value)) if !name.trim().is_empty() && !name.trim().contains(' ') => {
                let name = name.trim().to_ascii_lowercase();
                // Recipients not separated by a blank line: a recipient field, or an Action
                // after a recipient, that the block already has starts the next one. (Fields
                // come in any order: Postfix writes Final-Recipient before
                // Original-Recipient, Amazon SES Action before both.)
                let has = |n: &str| block.iter().any(|(b, _)| b == n);
                let next_recipient = match name.as_str() {
                    "final-recipient" | "original-recipient" => has(&name),
                    "action" => {
                        has("action") && (has("final-recipient") || has("original-recipient"))
                    }
                    _ => false,
                };
                if next_recipient {
                    blocks.push(std::mem::take(&mut block));
                }
                block.push((name, value.trim().to_string()));
            }
            // Not a field and not folded, after a diagnostic: a line break some mail system
            // put into the diagnostic's text (a fold breaks before whitespace; this one broke
            // mid-text, "judged to b" / "e spam"), so the text goes on without a space. Only
            // there: other fields are short, and a MIME boundary is never text.
            _ => {
                if let Some(last) = block.last_mut()
                    && last.0 == "diagnostic-code"
                    && !line.starts_with("--")
                {
                    last.1.push_str(line.trim());
                }
            }
        }
    }
    if !block.is_empty() {
        blocks.push(block);
    }
    blocks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_single_reply_that_could_not_connect_is_a_network_error() {
        let reason = |t: &str| classify_text(t).recipients[0].reason;
        assert_eq!(
            reason(
                "delivery temporarily suspended: connect to mx.example.org[192.0.2.1]:25: Connection timed out"
            ),
            BounceReason::NetworkError
        );
        // A session the server closed for inactivity is an idle timeout, not a mailbox.
        assert_eq!(
            reason("421 4.4.2 mx.example.net Error: timeout, closing connection due to inactivity"),
            BounceReason::NetworkError
        );
        // Unless the text says the queue gave up.
        assert_eq!(
            reason("retry timeout exceeded: Connection timed out"),
            BounceReason::Expired
        );
        assert_eq!(
            reason(
                "550 5.4.7 Delivery expired (message too old): connect to mx.example.org[192.0.2.1]:25: Connection refused"
            ),
            BounceReason::Expired
        );
        // A local daemon that does not answer is not the network.
        assert_ne!(
            reason("451 4.4.1 antivirus daemon not responding"),
            BounceReason::NetworkError
        );
    }

    #[test]
    fn one_recipients_unknown_user_is_not_anothers_temporary_refusal() {
        let raw = b"From: MAILER-DAEMON@mx.example.net\r\nSubject: Undelivered Mail Returned to Sender\r\n\r\nI could not deliver your message to the following addresses.\r\n\r\n<b@example.net>: 451 Temporary local problem - please try later\r\n<a@example.org>: 550 User unknown\r\n";
        let c = classify_message(raw);
        let of = |who: &str| {
            c.recipients
                .iter()
                .find(|v| v.email.as_deref() == Some(who))
                .map(|v| (v.reason, v.hard))
        };
        assert_eq!(of("a@example.org"), Some((BounceReason::UserUnknown, true)));
        assert_eq!(of("b@example.net").map(|(_, hard)| hard), Some(false));
    }

    #[test]
    fn a_filters_notice_with_a_bounce_subject_is_a_bounce() {
        // InterScan's notice: no null sender, no mailer-daemon, no DSN part; its subject says it.
        let raw = b"From: imss@kviv.example\r\nTo: list-bounces@lists.example\r\nSubject: Mail could not be delivered\r\n\r\n****** Message from InterScan Messaging Security Suite ******\r\nSent <<< RCPT TO:<who@example.be>\r\nReceived >>> 550 5.1.1 unknown user.\r\nUnable to deliver message to <who@example.be>.\r\n";
        let c = classify_message(raw);
        assert_eq!(c.kind, Kind::Dsn);
        assert_eq!(c.recipients[0].email.as_deref(), Some("who@example.be"));
        assert_eq!(c.recipients[0].reason, BounceReason::UserUnknown);
        // The queue's verdict, in a filter's words: it gave up.
        let raw = b"From: gw@example.com\r\nSubject: Mail could not be delivered\r\n\r\nThe following mail could not be delivered to who@example.org.\r\nReason:  Exceeded Maximum Delivery Attempts.\r\n";
        assert_eq!(
            classify_message(raw).recipients[0].reason,
            BounceReason::Expired
        );
        // A warning that names the limit it has not reached has not given up.
        let raw = b"From: gw@example.com\r\nSubject: Mail could not be delivered yet\r\n\r\nThe following mail to who@example.org has been delayed; we will retry until the maximum delivery attempts are reached.\r\n";
        let c = classify_message(raw);
        assert_eq!(c.recipients[0].action.as_deref(), Some("delayed"));
        // A person's reply repeating such a subject is not a bounce.
        let raw = b"From: Ann <ann@example.org>\r\nSubject: Re: Your parcel could not be delivered\r\nIn-Reply-To: <1@shop.example>\r\n\r\nWhich parcel? Write to bob@example.com.\r\n";
        assert_eq!(classify_message(raw).kind, Kind::NotBounce);
    }

    #[test]
    fn a_bounce_that_names_no_recipient_is_still_a_bounce() {
        // A report cut down to its preamble (a forwarding system stripped the rest): it came to
        // the signed return path, which names the delivery, so it is a bounce of that delivery
        // with no recipient and no cause to read.
        let raw = b"From: MAILER-DAEMON@mail.example.com (Mail Delivery System)\r\n\
Subject: Undelivered Mail Returned to Sender\r\nTo: news@brand.example\r\n\r\n\
This is the mail system at host mail.example.com.\r\n\r\nI'm sorry to have to inform you \
that your message could not\r\nbe delivered to one or more recipients. It's attached below.\r\n";
        let c = classify_message(raw);
        assert_eq!(c.kind, Kind::Dsn);
        let got: Vec<_> = c
            .recipients
            .iter()
            .map(|v| (v.email.clone(), v.reason, v.hard))
            .collect();
        assert_eq!(got, [(None, BounceReason::OnHold, false)]);
        // What its words say still counts.
        let said = String::from_utf8_lossy(raw).replace(
            "It's attached below.",
            "It's attached below.\r\n\r\n550 5.2.2 Mailbox full",
        );
        assert_eq!(
            classify_message(said.as_bytes()).recipients[0].reason,
            BounceReason::MailboxFull
        );
        // A delivery report (RFC 3464's report type) whose parts were lost is one too, whoever
        // it is from.
        let report = b"From: <gw@example.org>\r\nTo: <news@brand.example>\r\n\
Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n\
--b\r\nContent-Type: text/plain\r\n\r\nDelivery to these recipients failed:\r\n--b--\r\n";
        let c = classify_message(report);
        assert_eq!((c.kind, c.recipients.len()), (Kind::Dsn, 1));
        // Never hard with nobody named: the words may be the original's.
        let said = String::from_utf8_lossy(raw).replace(
            "It's attached below.",
            "It's attached below.\r\n\r\n550 5.1.1 User unknown",
        );
        let c = classify_message(said.as_bytes());
        assert_eq!(
            (c.recipients[0].reason, c.recipients[0].hard),
            (BounceReason::UserUnknown, false)
        );
        // A message that only has a bounce-like subject and names nobody stays a message; so
        // does the postmaster's auto-reply, and a notice from the mailer daemon that says no
        // delivery failed.
        let person = b"From: Ann <ann@example.org>\r\nSubject: Error in your invoice\r\n\r\nPlease check it.\r\n";
        assert_eq!(classify_message(person).kind, Kind::NotBounce);
        let auto = b"From: postmaster@customer.example\r\nSubject: Re: Our news (delivery notification)\r\n\
Auto-Submitted: auto-replied\r\n\r\nThanks, your message was received.\r\n";
        assert_ne!(classify_message(auto).kind, Kind::Dsn);
        let notice = b"From: MAILER-DAEMON@lists.example\r\nSubject: Notice: your message awaits approval\r\n\r\n\
Your message is held until the list moderator can review it.\r\n";
        assert_ne!(classify_message(notice).kind, Kind::Dsn);
    }

    #[test]
    fn a_flattened_delay_warning_states_its_cause() {
        // A Postfix delay warning as people paste it (or as a gateway flattens it): the
        // delivery-status fields are plain text, with no "Content-Type" line before them; the
        // cause is BSD's word for a connection that timed out ("Operation timed out").
        let raw = "From: MAILER-DAEMON@mx.example.com (Mail Delivery System)\r\n\
Subject: Delayed Mail (still being retried)\r\n\r\n\
This is the mail system at host mx.example.com.\r\n\r\n\
# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #\r\n\r\n\
<ann@example.org>: connect to\r\n    mx.example.org[192.0.2.7]:25: Operation timed out\r\n\r\n\
Reporting-MTA: dns; mx.example.com\r\n\r\n\
Final-Recipient: rfc822; ann@example.org\r\nAction: delayed\r\nStatus: 4.4.1\r\n\
Diagnostic-Code: X-Postfix; connect to\r\n    mx.example.org[192.0.2.7]:25: Operation timed out\r\n";
        let c = classify_message(raw.as_bytes());
        assert_eq!(c.kind, Kind::Dsn);
        let v = &c.recipients[0];
        assert_eq!(
            (
                v.email.as_deref(),
                v.status.as_deref(),
                v.action.as_deref(),
                v.reason
            ),
            (
                Some("ann@example.org"),
                Some("4.4.1"),
                Some("delayed"),
                BounceReason::NetworkError
            )
        );
        // Field-like lines in a person's message are not a report.
        let person = "From: Ann <ann@example.org>\r\nSubject: Question\r\n\r\n\
Our form has these fields:\r\nFinal-Recipient: x\r\nAction: failed\r\nStatus: 5.1.1\r\n";
        assert_eq!(classify_message(person.as_bytes()).kind, Kind::NotBounce);
    }

    #[test]
    fn mailmarshal_states_one_cause_for_the_recipients_it_lists() {
        // Its layout: the original's From and Subject, the cause, then the recipients, then
        // "Additional Information" naming the original sender (who is no recipient).
        let raw = "From: postmaster@gw.example.com\r\nTo: bounce+1@herald.example\r\n\
Subject: Undeliverable Mail: \"Our news\"\r\n\r\nYour message:\r\n    From:    news@brand.example\r\n\
    Subject: Our news\r\n\r\nCould not be delivered because of\r\n\r\n552 5.2.2 Mailbox full\r\n\r\n\
The following recipients were affected:\r\n    ann@example.com\r\n    bob@example.com\r\n\r\n\
Additional Information\r\n======================\r\nOriginal Sender:    <news@brand.example>\r\n\
Sender-MTA:         <10.0.0.5>\r\nReporting-MTA:      <gw.example.com>\r\n";
        let c = classify_message(raw.as_bytes());
        assert_eq!(c.kind, Kind::Dsn);
        let got: Vec<_> = c
            .recipients
            .iter()
            .map(|v| (v.email.as_deref().unwrap_or_default(), v.reason, v.hard))
            .collect();
        assert_eq!(
            got,
            [
                ("ann@example.com", BounceReason::MailboxFull, false),
                ("bob@example.com", BounceReason::MailboxFull, false)
            ]
        );
    }

    #[test]
    fn field_blocks_unfold() {
        let b = field_blocks(
            "Reporting-MTA: dns; a\n\nFinal-Recipient: rfc822; x@y\nDiagnostic-Code: smtp; 550\n  user unknown\n",
        );
        assert_eq!(b.len(), 2);
        assert_eq!(
            dsn::field(&b[1], "diagnostic-code"),
            Some("smtp; 550 user unknown")
        );
        // A line broken mid-text, without the fold's whitespace, still belongs to its field.
        let b = field_blocks(
            "Final-Recipient: rfc822; x@y\nDiagnostic-Code: smtp; 552 judged to b\ne spam, see <https://example.org/>\nStatus: 5.7.1\n",
        );
        assert_eq!(
            dsn::field(&b[0], "diagnostic-code"),
            Some("smtp; 552 judged to be spam, see <https://example.org/>")
        );
        assert_eq!(dsn::field(&b[0], "status"), Some("5.7.1"));
        // Nothing else is glued: not to another field, not a boundary.
        let b = field_blocks(
            "Feedback-Type: abuse\nThis is a complaint.\nDiagnostic-Code: smtp; 550 unknown\n--b1\n",
        );
        assert_eq!(dsn::field(&b[0], "feedback-type"), Some("abuse"));
        assert_eq!(
            dsn::field(&b[0], "diagnostic-code"),
            Some("smtp; 550 unknown")
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
    fn a_multipart_mail_parser_cannot_nest_is_read_without_a_panic() {
        // The fuzz target's minimised input: message/rfc822 parts without a boundary of their
        // own inside a multipart (mail-parser debug-asserts on it).
        let raw = b"R0\nContent-Type: multipart/rtus;\n\tboundary=\"B/x.example\" 7\n\n--B/x.example\nCescsage\nContent-Type: message/rfc822\nnte\n\nlage\nContent-Type: message/rfc822\nit\n\nRe \n\n--B/x.example--\n";
        let c = classify_message(raw);
        assert_eq!(c.kind, Kind::NotBounce);
    }

    #[test]
    fn garbage_is_not_a_bounce() {
        assert_eq!(classify_message(b"").kind, Kind::NotBounce);
        assert_eq!(
            classify_message(b"\xff\xfe\x00garbage").kind,
            Kind::NotBounce
        );
    }

    /// Haraka writes its own words as a comment after the status code, with no
    /// Diagnostic-Code; a queue that gave up on the domain's hosts is not an unknown domain,
    /// whatever code it wrote (a wrong hard would suppress a good address).
    #[test]
    fn a_comment_after_the_status_code_is_the_diagnostic() {
        let dsn = |status: &str| {
            let raw = format!(
                "From: MAILER-DAEMON\r\nTo: b@example.org\r\n\
                 MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n\
                 --B\r\nContent-Type: text/plain\r\n\r\n\r\n\
                 --B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns;mx.example\r\n\r\n\
                 Final-Recipient: rfc822;who@example.net\r\nAction: failed\r\nStatus: {status}\r\n\r\n--B--\r\n"
            );
            let c = classify_message(raw.as_bytes());
            let v = &c.recipients[0];
            (v.reason, v.hard, v.diagnostic.clone())
        };
        let (reason, hard, diagnostic) = dsn("5.1.2 (550 Tried all MXs example.net)");
        assert_eq!((reason, hard), (BounceReason::Expired, false));
        assert_eq!(diagnostic.as_deref(), Some("550 Tried all MXs example.net"));
        assert_eq!(
            dsn("5.1.2 (550 Nowhere to deliver mail to for domain: example.net)").0,
            BounceReason::HostUnknown
        );
        assert_eq!(
            dsn("5.1.10 (556 Domain example.net sends and receives no email (NULL MX))").0,
            BounceReason::NotAccept
        );
        // No comment, or one that only names the code: nothing but the code.
        assert_eq!(dsn("5.1.1").2, None);
        assert_eq!(dsn("5.1.1 (bad destination mailbox address)").2, None);
    }

    /// A report's own text, with a DSN part that gives only a status (`status`; XWall writes
    /// codes RFC 3463 does not define, which then say nothing).
    fn report_with_text(text: &str, status: &str) -> Classified {
        let raw = format!(
            "From: postmaster@mx.example\r\nTo: b@example.org\r\nSubject: Non delivery report\r\n\
             MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n\
             --B\r\nContent-Type: text/plain\r\n\r\n{text}\r\n\
             --B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example\r\n\r\n\
             Final-Recipient: rfc822; who@example.net\r\nAction: failed\r\nStatus: {status}\r\n\r\n--B--\r\n"
        );
        classify_message(raw.as_bytes())
    }

    #[test]
    fn amavis_reply_text_names_its_category() {
        let reason = |t: &str| classify_text(t).recipients[0].reason;
        assert_eq!(
            reason("554 5.7.0 Reject, id=03217-09 - INFECTED: Win.Test.EICAR_HDB-1"),
            BounceReason::VirusDetected
        );
        assert_eq!(
            reason("554 5.7.0 Reject, id=03217-09 - BANNED: .exe,zip,invoice.pdf.exe"),
            BounceReason::PolicyViolation
        );
        assert_eq!(
            reason("554 5.7.0 Reject, id=03217-09 - SPAM"),
            BounceReason::SpamDetected
        );
        // An earlier "id=" on the line is not amavis's.
        assert_eq!(
            reason("554 5.7.0 queue-id=A1B2 - ok; Reject, id=03217-09 - INFECTED: Eicar"),
            BounceReason::VirusDetected
        );
    }

    #[test]
    fn amavis_reply_wrapped_by_postfix_names_its_category() {
        let raw = b"From: MAILER-DAEMON@relay.example\r\nSubject: Undelivered Mail Returned to Sender\r\n\r\n\
            This is the mail system at host relay.example.\r\n\r\n\
            <who@example.net>: host 127.0.0.1[127.0.0.1] said: 554 5.7.0 Reject,\r\n    \
            id=03217-09 - INFECTED: Eicar-Test-Signature (in reply to end of DATA\r\n    command)\r\n";
        let c = classify_message(raw);
        assert_eq!(c.recipients[0].reason, BounceReason::VirusDetected);
    }

    #[test]
    fn a_refused_smtp_login_reads_the_same_as_a_text() {
        let reason = |t: &str| classify_text(t).recipients[0].reason;
        // Our login, whatever else the words say ("account disabled" is not the recipient's).
        assert_eq!(
            reason("535 5.7.8 Authentication failed: account disabled"),
            BounceReason::SecurityError
        );
        assert_eq!(
            reason("535 Error: authentication failed"),
            BounceReason::SecurityError
        );
        // A relay that wants a login refuses to relay.
        assert_eq!(
            reason("535 5.7.1 Relaying denied. Proper authentication required"),
            BounceReason::NoRelaying
        );
    }

    #[test]
    fn a_blocked_attachment_is_a_content_policy_not_a_block_of_the_sender() {
        // XWall's notice: the cause on its "Reason:" line.
        let xwall = |reason: &str| {
            let text = format!(
                "Your message\r\n\r\n From:\tb@example.org\r\n\r\n To:\twho@example.net\r\n\r\n\
                 has encountered a delivery problem.\r\n\r\nReason: {reason}"
            );
            report_with_text(&text, "5.9.5").recipients[0].reason
        };
        assert_eq!(
            xwall(
                "Blocked attachment\r\nOne of the attachment(s) in the message is blocked.\r\n\
                 The blocked attachment is: invoice.scr"
            ),
            BounceReason::PolicyViolation
        );
        // A virus found in the blocked attachment is the virus.
        assert_eq!(
            xwall("Attachment was blocked - virus found: Eicar-Test-Signature"),
            BounceReason::VirusDetected
        );
        assert_eq!(
            classify_text("554 5.7.1 Attachment was blocked - virus found: Eicar-Test-Signature")
                .recipients[0]
                .reason,
            BounceReason::VirusDetected
        );
        // A blocked sender is still a block.
        assert_eq!(
            xwall("Your IP address is blocked by our blocklist"),
            BounceReason::Blocked
        );
    }

    #[test]
    fn exims_own_unrouteable_mail_domain_is_the_domain() {
        let exim = |lines: &str| {
            let raw = format!(
                "From: Mail Delivery System <Mailer-Daemon@mx.example>\r\n\
                 Subject: Mail delivery failed: returning message to sender\r\n\
                 Message-Id: <E1qAbCd-000123-Xy@mx.example>\r\n\r\n\
                 This message was created automatically by mail delivery software.\r\n\r\n\
                 A message that you sent could not be delivered to one or more of its\r\n\
                 recipients. This is a permanent error. The following address(es) failed:\r\n\r\n\
                 {lines}\r\n"
            );
            classify_message(raw.as_bytes()).recipients[0].reason
        };
        assert_eq!(
            exim("  who@nowhere.example\r\n    Unrouteable mail domain \"nowhere.example\""),
            BounceReason::HostUnknown
        );
        // A remote server's check of our sender, quoted: not the recipient's domain.
        assert_ne!(
            exim(
                "  who@example.net\r\n    host mx.example.net [192.0.2.1]\r\n    \
                 SMTP error from remote mail server after RCPT TO:<who@example.net>:\r\n    \
                 550-Verification failed for <a@sender.example>\r\n    \
                 550-Unrouteable mail domain \"sender.example\"\r\n    550 Sender verify failed"
            ),
            BounceReason::HostUnknown
        );
    }

    #[test]
    fn a_delivery_program_that_failed_is_a_mailer_error() {
        // Netscape Mail Server's Program-Deliver module: the program's own output ("No such
        // file or directory") is about the program, not the receiving system.
        let c = report_with_text(
            "The Program-Deliver module couldn't deliver the message to one or more\r\n\
             of the intended recipients because their delivery program(s) failed.\r\n\r\n\
             The delivery program \"/usr/local/bin/filter.pl\" produced\r\n\
             the following output while delivering the message to\r\nwho@example.net\r\n\
             Can't open /var/spool/x: No such file or directory\r\n",
            "5.0.0",
        );
        assert_eq!(c.recipients[0].reason, BounceReason::MailerError);
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
