//! ARF complaints (RFC 5965) and DMARC failure reports (RFC 6591): the feedback type, who
//! complained, and the returned original's Message-ID.

use super::*;

/// An ARF complaint or a DMARC failure report.
pub(super) fn arf(message: &Message<'_>) -> Option<Classified> {
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
            remote_mta: None,
        })
        .collect();
    Some(Classified {
        recipients,
        feedback_type: Some(feedback_type),
        ..Classified::empty(Kind::Arf)
    })
}

pub(super) fn returned_message<'a>(message: &'a Message<'a>) -> Option<&'a Message<'a>> {
    message.parts.iter().find_map(|p| match &p.body {
        PartType::Message(m) => Some(m),
        _ => None,
    })
}

pub(super) fn original_message_id(message: &Message<'_>) -> Option<String> {
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
