//! ARF complaints (RFC 5965) and DMARC failure reports (RFC 6591): the feedback type, who
//! complained, and the returned original's Message-ID.

use super::*;

/// The feedback type's token: `Abuse`, `abuse (spam)`, `"opt-out";` → `abuse`, `opt-out`.
fn feedback_token(value: &str) -> String {
    value
        .trim()
        .trim_start_matches(['"', '\''])
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect::<String>()
        .to_ascii_lowercase()
}

/// An ARF complaint or a DMARC failure report, at the top or forwarded as an attachment (a
/// mailbox provider or an abuse desk passing a report on).
pub(super) fn arf(message: &Message<'_>) -> Option<Classified> {
    arf_here(message)
        .or_else(|| jmrp_as_is(message))
        .or_else(|| {
            let inner = returned_message(message).filter(|inner| is_feedback_report(inner))?;
            let mut report = arf_here(inner)?;
            // The complained-of message is the one the forwarded report returns.
            report.original_message_id = original_message_id(inner);
            Some(report)
        })
}

/// Outlook.com's (Hotmail's) Junk Mail Reporting Program in its "as-is" format: the
/// complained-of message itself, re-sent with Hotmail's headers on top, among them
/// `X-HmXmrOriginalRecipient`, the user who marked it as junk. (JMRP's other format, the message
/// attached to a note from staff@hotmail.com, is read by `arf_here`.) The report's own
/// Message-ID is the original's. A complaint suppresses an address, so one header is not
/// enough: the copy must also have come through Hotmail's hosts (their `X-SID-PRA`, or a
/// Received hop of theirs), and not be a bounce or an auto-reply that happens to carry it.
fn jmrp_as_is(message: &Message<'_>) -> Option<Classified> {
    let complainer = typed_address(message.header_raw("X-HmXmrOriginalRecipient")?);
    let is_report = message.content_type().is_some_and(|ct| {
        ct.subtype()
            .is_some_and(|s| s.eq_ignore_ascii_case("report"))
    });
    let received = super::received_lower(message);
    let through_hotmail = message.header_raw("X-SID-PRA").is_some()
        || ["hotmail.com", "outlook.com", ".phx.gbl"]
            .iter()
            .any(|h| received.contains(h));
    if is_report
        || !through_hotmail
        || super::looks_like_bounce(message)
        || super::is_autoreply(message)
    {
        return None;
    }
    // A complaint whose user was redacted still names the message.
    let complainer = if complainer.contains('@') {
        complainer
    } else {
        String::new()
    };
    Some(Classified {
        original_message_id: message.message_id().map(str::to_string),
        ..complaint(vec![complainer], "abuse".to_string())
    })
}

/// A complaint by each of `complainers` (an empty address: the report names nobody).
fn complaint(complainers: Vec<String>, feedback_type: String) -> Classified {
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
            remote_mta: None,
        })
        .collect();
    Classified {
        recipients,
        feedback_type: Some(feedback_type),
        ..Classified::empty(Kind::Arf)
    }
}

/// `multipart/report; report-type=feedback-report`, or a `message/feedback-report` part.
fn is_feedback_report(message: &Message<'_>) -> bool {
    message
        .content_type()
        .and_then(|ct| ct.attribute("report-type"))
        .is_some_and(|t| t.eq_ignore_ascii_case("feedback-report"))
        || message
            .parts
            .iter()
            .any(|p| is_type(p, "message", "feedback-report"))
}

fn arf_here(message: &Message<'_>) -> Option<Classified> {
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
        .map(|(_, v)| feedback_token(v))
        .filter(|v| !v.is_empty())
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
    Some(complaint(complainers, feedback_type))
}

pub(super) fn returned_message<'a>(message: &'a Message<'a>) -> Option<&'a Message<'a>> {
    message.parts.iter().find_map(|p| match &p.body {
        PartType::Message(m) => Some(m),
        _ => None,
    })
}

pub(super) fn original_message_id(message: &Message<'_>) -> Option<String> {
    let own = message.message_id().unwrap_or_default();
    if let Some(original) = returned_message(message) {
        if let Some(id) = original.message_id() {
            return Some(id.to_string());
        }
        // An original that starts with a blank line or an mbox "From " line (Amazon SES's
        // forwarded Yahoo reports) parses with no header at all: its header block is text.
        // (Its first block of fields, folded lines unfolded; the mbox line is no field.)
        if original.headers().is_empty()
            && let Some(id) = super::field_blocks(&String::from_utf8_lossy(original.raw_message()))
                .first()
                .and_then(|header| super::dsn::field(header, "message-id"))
                .map(|id| id.trim_matches(['<', '>']).to_string())
                .filter(|id| !id.is_empty())
        {
            return Some(id);
        }
    }
    // The returned header alone (text/ or message/rfc822-headers, which the parser keeps as
    // bytes), or the original pasted into the text.
    message
        .parts
        .iter()
        .filter(|p| {
            is_type(*p, "message", "rfc822-headers") || is_type(*p, "text", "rfc822-headers")
        })
        .filter_map(|p| part_bytes(&p.body))
        .find_map(|b| message_id_line(&String::from_utf8_lossy(&b), own))
        .or_else(|| message_id_line(&all_text(message), own))
}

/// The first `Message-ID:` line's value in `text` that is not `own`.
fn message_id_line(text: &str, own: &str) -> Option<String> {
    text.lines()
        .filter_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.trim()
                .eq_ignore_ascii_case("message-id")
                .then(|| value.trim().trim_matches(['<', '>']).to_string())
        })
        .find(|id| !id.is_empty() && id != own)
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &str = "From: fbl@isp.example\r\nTo: abuse@sender.example\r\nSubject: FW: report\r\n\
MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=feedback-report; boundary=\"R\"\r\n\r\n\
--R\r\nContent-Type: text/plain\r\n\r\nA complaint.\r\n\
--R\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: Abuse (spam)\r\nUser-Agent: x/1\r\nVersion: 1\r\n\
Original-Rcpt-To: <who@isp.example>\r\n\r\n\
--R\r\nContent-Type: message/rfc822\r\n\r\nFrom: news@sender.example\r\nTo: who@isp.example\r\nMessage-ID: <m1@sender.example>\r\nSubject: hi\r\n\r\nbody\r\n--R--\r\n";

    #[test]
    fn an_original_that_starts_with_a_blank_line_keeps_its_message_id() {
        // Amazon SES forwards Yahoo's reports with the original after a blank line and an mbox
        // "From " line: parsed, it has no header; its Message-ID is still the original's.
        let report = REPORT.replace(
            "Content-Type: message/rfc822\r\n\r\nFrom: news@sender.example",
            "Content-Type: message/rfc822\r\n\r\n\r\nFrom List Thu Jul 10 21:37:00 2014\r\nFrom: news@sender.example",
        );
        assert_ne!(report, REPORT);
        let c = classify_message(report.as_bytes());
        assert_eq!(c.kind, Kind::Arf);
        assert_eq!(c.original_message_id.as_deref(), Some("m1@sender.example"));
        // Its header block only: an ID in the body is not the original's; a folded one is.
        let in_body = REPORT.replace(
            "Content-Type: message/rfc822\r\n\r\nFrom: news@sender.example\r\nTo: who@isp.example\r\nMessage-ID: <m1@sender.example>\r\n",
            "Content-Type: message/rfc822\r\n\r\n\r\nFrom: news@sender.example\r\nTo: who@isp.example\r\n",
        ).replace("\r\n\r\nbody\r\n", "\r\n\r\nMessage-ID: <other@elsewhere.example>\r\n");
        assert_ne!(in_body, REPORT);
        assert_eq!(
            classify_message(in_body.as_bytes()).original_message_id,
            None
        );
        let folded = report.replace(
            "Message-ID: <m1@sender.example>",
            "Message-ID:\r\n <m2@sender.example>",
        );
        assert_eq!(
            classify_message(folded.as_bytes())
                .original_message_id
                .as_deref(),
            Some("m2@sender.example")
        );
    }

    #[test]
    fn a_message_id_in_the_returned_header_alone_is_read() {
        // RFC 5965's own example (and generators copying it) return the original's header as
        // message/rfc822-headers with a Message-ID that has no angle brackets.
        let headers = REPORT
            .replace(
                "Content-Type: message/rfc822\r\n",
                "Content-Type: message/rfc822-headers\r\n",
            )
            .replace("<m1@sender.example>", "m1@sender.example")
            .replace("\r\n\r\nbody\r\n", "\r\n");
        assert!(!headers.contains("body"));
        let c = classify_message(headers.as_bytes());
        assert_eq!(c.kind, Kind::Arf);
        assert_eq!(c.original_message_id.as_deref(), Some("m1@sender.example"));
        // The same in a returned message/rfc822 (the parser takes it as it is).
        let whole = REPORT.replace("<m1@sender.example>", "m1@sender.example");
        assert_eq!(
            classify_message(whole.as_bytes())
                .original_message_id
                .as_deref(),
            Some("m1@sender.example")
        );
    }

    #[test]
    fn odd_feedback_types_and_forwarded_reports() {
        let c = classify_message(REPORT.as_bytes());
        assert_eq!(
            (c.kind, c.feedback_type.as_deref()),
            (Kind::Arf, Some("abuse"))
        );
        assert_eq!(c.recipients[0].email.as_deref(), Some("who@isp.example"));
        // The same report forwarded by an abuse desk as an attachment.
        let forwarded = format!(
            "From: desk@isp.example\r\nTo: abuse@sender.example\r\nSubject: Fwd: report\r\n\
MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"F\"\r\n\r\n\
--F\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n\
--F\r\nContent-Type: message/rfc822\r\n\r\n{REPORT}\r\n--F--\r\n"
        );
        let c = classify_message(forwarded.as_bytes());
        assert_eq!(
            (c.kind, c.feedback_type.as_deref()),
            (Kind::Arf, Some("abuse"))
        );
        assert_eq!(c.recipients[0].email.as_deref(), Some("who@isp.example"));
        assert_eq!(c.original_message_id.as_deref(), Some("m1@sender.example"));
        assert_eq!(feedback_token("\"opt-out\";"), "opt-out");
        assert_eq!(feedback_token("auth-failure"), "auth-failure");
    }

    #[test]
    fn hotmails_junk_reports_as_is() {
        // JMRP's "as-is" format: the complained-of message, Hotmail's headers on top.
        let jmrp = "X-HmXmrOriginalRecipient: <ann@hotmail.example>\r\n\
Received: from BAY0-XMR-001.phx.gbl by mx.sender.example; Mon, 1 Dec 2026 10:00:00 +0000\r\n\
From: News <news@sender.example>\r\nTo: ann@hotmail.example\r\nSubject: Our offers\r\n\
Message-ID: <c42@sender.example>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nOffers.\r\n";
        let c = classify_message(jmrp.as_bytes());
        assert_eq!(
            (c.kind, c.feedback_type.as_deref()),
            (Kind::Arf, Some("abuse"))
        );
        assert_eq!(c.recipients.len(), 1);
        assert_eq!(
            c.recipients[0].email.as_deref(),
            Some("ann@hotmail.example")
        );
        assert_eq!(c.original_message_id.as_deref(), Some("c42@sender.example"));
        // Without the header it is the plain message it looks like.
        let plain = jmrp
            .split_once("\r\n")
            .map(|(_, rest)| rest)
            .unwrap_or_default();
        assert_ne!(classify_message(plain.as_bytes()).kind, Kind::Arf);
        // A redacted user: still a complaint about the message, by nobody named.
        let nobody = classify_message(jmrp.replace("<ann@hotmail.example>", "redacted").as_bytes());
        assert_eq!(
            (nobody.kind, nobody.recipients[0].email.as_deref()),
            (Kind::Arf, None)
        );
        // The header alone, on a message that never came through Hotmail, is no complaint.
        let elsewhere = jmrp.replace("BAY0-XMR-001.phx.gbl", "mx.example.net");
        assert_ne!(classify_message(elsewhere.as_bytes()).kind, Kind::Arf);
        // Nor is a bounce or an auto-reply that carries it.
        let reply = jmrp.replace(
            "Subject: Our offers",
            "Subject: Out of office\r\nAuto-Submitted: auto-replied",
        );
        assert_ne!(classify_message(reply.as_bytes()).kind, Kind::Arf);
    }
}
