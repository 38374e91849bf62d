//! The SMTP stage a reply answered (RFC 5321 §3.3): the same refusal means different things at
//! different stages (a `550 5.1.1` to RCPT TO is an unknown address; to the message content,
//! a filter's verdict), so the stage travels with every reply from the engine to the classifier.

/// Where in an SMTP session a reply or an error came.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SmtpStage {
    /// Opening the connection (no reply yet).
    Connect,
    /// The server's 220 greeting.
    Greeting,
    /// EHLO or HELO.
    Ehlo,
    StartTls,
    /// AUTH (RFC 4954) to a relay: a refusal is about our login, not a message.
    Auth,
    MailFrom,
    RcptTo,
    /// The DATA command itself (the reply before the content is sent).
    Data,
    /// The reply after the content's final dot: the verdict on the message.
    EndOfData,
}

impl SmtpStage {
    /// The name kept in evidence records (stable: stored).
    pub fn as_str(self) -> &'static str {
        match self {
            SmtpStage::Connect => "connect",
            SmtpStage::Greeting => "greeting",
            SmtpStage::Ehlo => "ehlo",
            SmtpStage::StartTls => "starttls",
            SmtpStage::Auth => "auth",
            SmtpStage::MailFrom => "mail",
            SmtpStage::RcptTo => "rcpt",
            SmtpStage::Data => "data",
            SmtpStage::EndOfData => "message",
        }
    }

    /// Before any transaction: a refusal here is about the sending host, not a message.
    pub fn is_session_setup(self) -> bool {
        matches!(
            self,
            SmtpStage::Connect
                | SmtpStage::Greeting
                | SmtpStage::Ehlo
                | SmtpStage::StartTls
                | SmtpStage::Auth
        )
    }

    /// A reply about the message content (DATA or its end).
    pub fn is_content(self) -> bool {
        matches!(self, SmtpStage::Data | SmtpStage::EndOfData)
    }
}

#[cfg(test)]
mod tests {
    use super::SmtpStage::*;

    #[test]
    fn names_and_groups() {
        let all = [
            Connect, Greeting, Ehlo, StartTls, Auth, MailFrom, RcptTo, Data, EndOfData,
        ];
        let names: Vec<_> = all.iter().map(|s| s.as_str()).collect();
        assert_eq!(
            names,
            [
                "connect", "greeting", "ehlo", "starttls", "auth", "mail", "rcpt", "data",
                "message"
            ]
        );
        assert!(all.iter().filter(|s| s.is_session_setup()).count() == 5);
        assert!(EndOfData.is_content() && Data.is_content() && !RcptTo.is_content());
    }
}
