//! The classifier for synchronous SMTP replies: the same reason rules as asynchronous bounces
//! (`feedback::reasons`), fed with the reply the delivery engine got.

use herald_domain::{BounceReason, Reply};

use crate::feedback::reasons::{self, Refusal, SmtpStage, Status};

/// What a refusal means for the recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Classification {
    pub reason: BounceReason,
    /// A hard bounce will fail again: the address should not be mailed any more.
    pub hard: bool,
}

/// Classify a 4xx/5xx reply to one recipient, with the same rules as asynchronous bounces.
pub fn classify_reply(reply: &Reply) -> Classification {
    classify_reply_from(reply, None)
}

/// [`classify_reply`] knowing the host that answered (the MX or relay): a big provider's
/// replies then mean what the provider documents. The stage is taken to be RCPT TO (a reply
/// read without its session says nothing of its stage).
pub fn classify_reply_from(reply: &Reply, host: Option<&str>) -> Classification {
    classify_reply_at(reply, host, SmtpStage::RcptTo)
}

/// [`classify_reply_from`] at the stage the reply answered: the same `550 5.1.1` means an
/// unknown address at RCPT TO, and a filter's verdict after the message (Sisimai's convention).
pub fn classify_reply_at(reply: &Reply, host: Option<&str>, stage: SmtpStage) -> Classification {
    let text = reply.text();
    let status = reply
        .enhanced
        .as_deref()
        .and_then(Status::parse)
        .or_else(|| Status::find(&text));
    let mut reason = reasons::decide(&Refusal {
        status,
        reply_code: Some(reply.code),
        text: &text,
        stage: Some(stage),
        gave_up: false,
        ..Refusal::default()
    });
    // A provider's reply that names its own hosts means what the provider documents.
    let hosts = format!("{} {text}", host.unwrap_or_default());
    if let Some(r) =
        crate::feedback::providers::reason(&hosts, &text.to_ascii_lowercase(), Some(stage))
    {
        reason = r;
    }
    let lower = text.to_ascii_lowercase();
    // Our own session: a reply after the message answers the whole transaction, not one
    // recipient, so "user unknown" there is not evidence that this address does not exist
    // (a report's per-recipient Status is; see `feedback`). Not hard: nobody is suppressed on it.
    if stage.is_content()
        && reason == BounceReason::UserUnknown
        && !crate::feedback::reasons::says_address_missing(&lower)
    {
        reason = BounceReason::Filtered;
    }
    if reply.is_transient()
        && (reason == BounceReason::OnHold
            || (reason == BounceReason::Blocked
                && !crate::feedback::reasons::says(BounceReason::Blocked, &lower)
                && (lower.contains("try again later") || lower.contains("temporar"))))
    {
        // A temporary refusal that says nothing more than "not now" (a 4.7.1 code alone
        // would read as a block): the receiver is busy or deferring.
        reason = BounceReason::SystemError;
    }
    let hard = reasons::is_hard(reason, reply.is_permanent());
    Classification { reason, hard }
}

/// Reasons that will fail the same way next time (Sisimai's hard bounces).
pub fn is_hard(reason: BounceReason) -> bool {
    reasons::is_hard(reason, true)
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
    fn a_providers_reply_reads_by_the_host_that_answered() {
        let r = reply(
            554,
            None,
            "delivery error: dd a@b.example is no longer valid.",
        );
        // From anyone: the address is not valid any more.
        assert_eq!(classify_reply(&r).reason, BounceReason::UserUnknown);
        // From Yahoo's MX: its documented wording for a disabled account.
        assert_eq!(
            classify_reply_from(&r, Some("mta6.am0.yahoodns.net")).reason,
            BounceReason::Suspend
        );
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
                NotAccept,
                true,
            ),
            (
                450,
                Some("4.2.1"),
                "The user you are trying to contact is receiving mail too quickly",
                Speeding,
                false,
            ),
            (
                550,
                Some("5.2.1"),
                "The email account that you tried to reach is disabled",
                Suspend,
                false,
            ),
            // Postfix's failed lookup of one of its own tables: the receiving system's
            // (docs/research/transport-wordings.md).
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
            (
                550,
                None,
                "Administrative prohibition",
                PolicyViolation,
                false,
            ),
            (554, None, "", OnHold, false),
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
                UserUnknown,
                true,
            ),
        ];
        for (code, enh, text, reason, hard) in cases {
            let c = classify_reply(&reply(code, enh, text));
            assert_eq!((c.reason, c.hard), (reason, hard), "{code} {enh:?} {text}");
        }
    }

    #[test]
    fn amavis_names_its_category_after_the_message_id() {
        use BounceReason::*;
        for (text, reason) in [
            (
                "Reject, id=03217-09 - INFECTED: Win.Test.EICAR_HDB-1",
                VirusDetected,
            ),
            (
                "Reject, id=03217-09 - BANNED: .exe,zip,invoice.pdf.exe",
                PolicyViolation,
            ),
            ("Reject, id=03217-09 - SPAM", SpamDetected),
            (
                "Reject, id=03217-09 - BAD HEADER SECTION: Improper use of control character",
                ContentError,
            ),
        ] {
            let c = classify_reply(&reply(554, Some("5.7.0"), text));
            assert_eq!(c.reason, reason, "{text}");
        }
    }

    #[test]
    fn a_refused_smtp_login_is_a_security_error_not_a_failed_spf_check() {
        use BounceReason::*;
        let reason = |code, enh, text| classify_reply(&reply(code, enh, text)).reason;
        // RFC 4954's codes for AUTH: the sender's own login, not the message's SPF/DKIM/DMARC.
        assert_eq!(
            reason(535, None, "Error: authentication failed"),
            SecurityError
        );
        assert_eq!(
            reason(535, Some("5.7.8"), "Authentication credentials invalid"),
            SecurityError
        );
        assert_eq!(
            reason(534, Some("5.7.9"), "Authentication mechanism is too weak"),
            SecurityError
        );
        // The code alone is not a login ("534 SIZE=Message too big" at MAIL FROM).
        assert_eq!(reason(534, None, "SIZE=Message too big"), MesgTooBig);
        // Words of the message's own authentication, whatever the code.
        assert_eq!(reason(535, None, "DKIM authentication failed"), AuthFailure);
    }

    #[test]
    fn a_connection_not_authorized_refuses_the_sending_host() {
        use BounceReason::*;
        let reason = |code, enh, text| classify_reply(&reply(code, enh, text)).reason;
        assert_eq!(
            reason(
                554,
                Some("5.7.1"),
                "mx.example.net Connection not authorized"
            ),
            Blocked
        );
        assert_eq!(
            reason(554, None, "Connection not authorized from 192.0.2.7"),
            Blocked
        );
    }

    #[test]
    fn enhanced_code_may_lead_the_text() {
        let c = classify_reply(&reply(550, None, "5.1.1 mailbox unavailable"));
        assert_eq!(c.reason, BounceReason::UserUnknown);
    }
}
