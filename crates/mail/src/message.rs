//! Building the RFC 5322 message for one recipient, and its SMTP DATA encoding.

use herald_domain::EmailAddress;
use mail_builder::MessageBuilder;
use mail_builder::headers::address::Address;
use mail_builder::headers::raw::Raw;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    #[error("header {0} contains a line break")]
    LineBreak(&'static str),
    #[error("could not write the message: {0}")]
    Write(String),
}

/// Everything needed to build one personalised message.
pub struct OutgoingMessage<'a> {
    pub from_name: Option<&'a str>,
    pub from: &'a EmailAddress,
    pub to_name: Option<&'a str>,
    pub to: &'a EmailAddress,
    pub subject: &'a str,
    pub html: &'a str,
    pub text: &'a str,
    /// Without angle brackets.
    pub message_id: &'a str,
    /// Seconds since the Unix epoch.
    pub date: i64,
    /// `Reply-To`: a display name and an address.
    pub reply_to: Option<(Option<&'a str>, &'a EmailAddress)>,
    /// Extra headers (name, value), e.g. X-Herald-Delivery.
    pub headers: &'a [(&'a str, String)],
    /// Files sent with the message (after the text and HTML, in a multipart/mixed).
    pub attachments: &'a [MessageAttachment<'a>],
}

/// A file an [`OutgoingMessage`] carries: its name (RFC 2231-encoded when not ASCII), MIME
/// type, and content (base64 on the wire).
#[derive(Debug, Clone, Copy)]
pub struct MessageAttachment<'a> {
    pub name: &'a str,
    pub content_type: &'a str,
    pub content: &'a [u8],
}

/// The `List-Id` (RFC 2919) of list `name` (number `list`) sending from `domain`:
/// `"Newsletter" <newsletter-3.example.com>`. The identifier is the name's letters and digits
/// (others become `-`, at most 40) and the list's number (so "News!" and "news" differ) under
/// the sending domain: the same for every campaign to the list. The quoted phrase is the name
/// when it is printable ASCII and at most 100 characters (else left out: the identifier alone
/// is valid).
pub fn list_id_header(name: &str, list: i64, domain: &str) -> String {
    let mut slug = String::new();
    for c in name.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
        if slug.len() >= 40 {
            break;
        }
    }
    let slug = slug.trim_end_matches('-');
    let id = if slug.is_empty() {
        format!("list{list}.{domain}")
    } else {
        format!("{slug}-{list}.{domain}")
    };
    if !name.is_empty()
        && name.len() <= 100
        && name.chars().all(|c| c.is_ascii_graphic() || c == ' ')
    {
        let phrase = name.replace('\\', "\\\\").replace('"', "\\\"");
        format!("\"{phrase}\" <{id}>")
    } else {
        format!("<{id}>")
    }
}

fn no_break(name: &'static str, v: &str) -> Result<(), MessageError> {
    if v.contains(['\r', '\n']) {
        Err(MessageError::LineBreak(name))
    } else {
        Ok(())
    }
}

/// Build the message (multipart/alternative text + HTML; with attachments, that and the files
/// in a multipart/mixed).
pub fn build_message(m: &OutgoingMessage<'_>) -> Result<Vec<u8>, MessageError> {
    no_break("Subject", m.subject)?;
    no_break("From", m.from_name.unwrap_or(""))?;
    no_break("To", m.to_name.unwrap_or(""))?;
    no_break("Message-ID", m.message_id)?;
    if let Some((name, _)) = m.reply_to {
        no_break("Reply-To", name.unwrap_or(""))?;
    }
    for (name, value) in m.headers {
        no_break("extra header", name)?;
        no_break("extra header", value)?;
    }
    for a in m.attachments {
        no_break("attachment name", a.name)?;
        no_break("attachment type", a.content_type)?;
    }
    let from = match m.from_name {
        Some(n) if !n.is_empty() => Address::new_address(Some(n.to_string()), m.from.to_string()),
        _ => Address::new_address(None::<String>, m.from.to_string()),
    };
    let to = match m.to_name {
        Some(n) if !n.is_empty() => Address::new_address(Some(n.to_string()), m.to.to_string()),
        _ => Address::new_address(None::<String>, m.to.to_string()),
    };
    let mut b = MessageBuilder::new()
        .from(from)
        .to(to)
        .subject(m.subject.to_string())
        .message_id(m.message_id.to_string())
        .date(m.date)
        .text_body(m.text.to_string())
        .html_body(m.html.to_string());
    if let Some((name, addr)) = m.reply_to {
        b = b.reply_to(match name {
            Some(n) if !n.is_empty() => Address::new_address(Some(n.to_string()), addr.to_string()),
            _ => Address::new_address(None::<String>, addr.to_string()),
        });
    }
    for (name, value) in m.headers {
        b = b.header(name.to_string(), Raw::new(value.clone()));
    }
    for a in m.attachments {
        b = b.attachment(a.content_type, a.name, a.content);
    }
    b.write_to_vec()
        .map_err(|e| MessageError::Write(e.to_string()))
}

/// Encode a message for the DATA phase (RFC 5321 §4.5.2): CRLF line ends, leading dots doubled,
/// terminated by `CRLF.CRLF`.
pub fn smtp_data(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + message.len() / 64 + 5);
    // Whole lines are copied at once: this runs for every byte of every message sent.
    for line in message.split_inclusive(|&b| b == b'\n') {
        if line.first() == Some(&b'.') {
            out.push(b'.');
        }
        match line {
            [.., b'\r', b'\n'] => out.extend_from_slice(line),
            [body @ .., b'\n'] => {
                out.extend_from_slice(body);
                out.extend_from_slice(b"\r\n");
            }
            _ => out.extend_from_slice(line),
        }
    }
    if !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}

/// The message an [`smtp_data`] encoding carries: the final `.` line gone, doubled leading dots
/// single again (what a receiver stores, and what a filter is given to score).
pub fn from_smtp_data(data: &[u8]) -> Vec<u8> {
    let body = data.strip_suffix(b".\r\n").unwrap_or(data);
    let mut out = Vec::with_capacity(body.len());
    for line in body.split_inclusive(|&b| b == b'\n') {
        out.extend_from_slice(line.strip_prefix(b".").unwrap_or(line));
    }
    out
}

/// SHA-256 of `bytes`, lower-case hex: the fingerprint of a message as it was handed over.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes);
    digest
        .as_ref()
        .iter()
        .fold(String::with_capacity(64), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_ids() {
        assert_eq!(
            list_id_header("Newsletter", 3, "example.com"),
            "\"Newsletter\" <newsletter-3.example.com>"
        );
        assert_eq!(
            list_id_header("Kunden Berlin (2026)", 3, "shop.example"),
            "\"Kunden Berlin (2026)\" <kunden-berlin-2026-3.shop.example>"
        );
        assert_eq!(
            list_id_header("Say \"hi\"", 3, "x.test"),
            "\"Say \\\"hi\\\"\" <say-hi-3.x.test>"
        );
        assert_eq!(list_id_header("Nowości", 7, "x.test"), "<nowo-ci-7.x.test>");
        assert_eq!(list_id_header("日本", 7, "x.test"), "<list7.x.test>");
        assert!(!list_id_header("a\r\nBcc: x", 1, "x.test").contains('\n'));
        assert_ne!(
            list_id_header("News!", 1, "x.test"),
            list_id_header("news", 2, "x.test")
        );
        assert_eq!(
            list_id_header(&"n".repeat(300), 1, "x.test"),
            format!("<{}-1.x.test>", "n".repeat(40))
        );
    }

    #[test]
    fn sha256_is_the_standard_one() {
        // FIPS 180-2, appendix B.1.
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn smtp_data_decodes_back() {
        let m = b"Subject: x\r\n\r\n.hidden\r\n..two\r\nend\r\n";
        assert_eq!(from_smtp_data(&smtp_data(m)), m.to_vec());
        assert_eq!(
            from_smtp_data(&smtp_data(b"no end")),
            b"no end\r\n".to_vec()
        );
    }

    #[test]
    fn dot_stuffing_and_line_ends() {
        assert_eq!(smtp_data(b"a\n.b\r\n..c"), b"a\r\n..b\r\n...c\r\n.\r\n");
        assert_eq!(smtp_data(b".\r\n"), b"..\r\n.\r\n");
        assert_eq!(smtp_data(b""), b"\r\n.\r\n");
        assert_eq!(smtp_data(b"a\r\n\r\n.\n"), b"a\r\n\r\n..\r\n.\r\n");
    }

    #[test]
    fn builds_a_multipart_message_and_refuses_header_injection() {
        let from = EmailAddress::parse("ann@sender.test").unwrap();
        let to = EmailAddress::parse("bob@inbox.test").unwrap();
        let mut m = OutgoingMessage {
            from_name: Some("Ann Example"),
            from: &from,
            to_name: None,
            to: &to,
            subject: "Hello",
            html: "<p>Hi</p>",
            text: "Hi",
            message_id: "abc@sender.test",
            date: 1_764_151_200,
            reply_to: None,
            headers: &[],
            attachments: &[],
        };
        let raw = String::from_utf8(build_message(&m).unwrap()).unwrap();
        assert!(
            raw.contains("From: \"Ann Example\" <ann@sender.test>"),
            "{raw}"
        );
        assert!(raw.contains("Message-ID: <abc@sender.test>"), "{raw}");
        assert!(raw.contains("multipart/alternative"), "{raw}");
        m.subject = "x\r\nBcc: evil@example.com";
        assert_eq!(build_message(&m), Err(MessageError::LineBreak("Subject")));
    }

    #[test]
    fn attachments_arrive_whole_after_the_text_and_html() {
        use mail_parser::MimeHeaders;
        let from = EmailAddress::parse("ann@sender.test").unwrap();
        let to = EmailAddress::parse("bob@inbox.test").unwrap();
        let pdf: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
        let files = [
            MessageAttachment {
                name: "Programm 2027 – Übersicht.pdf",
                content_type: "application/pdf",
                content: &pdf,
            },
            MessageAttachment {
                name: "notes.txt",
                content_type: "text/plain",
                content: b"line one\n.line two\n",
            },
        ];
        let mut m = OutgoingMessage {
            from_name: None,
            from: &from,
            to_name: None,
            to: &to,
            subject: "Files",
            html: "<p>Hi</p>",
            text: "Hi",
            message_id: "files@sender.test",
            date: 1_764_151_200,
            reply_to: None,
            headers: &[],
            attachments: &files,
        };
        let raw = build_message(&m).unwrap();
        let parsed = mail_parser::MessageParser::default().parse(&raw).unwrap();
        assert_eq!(parsed.body_text(0).as_deref(), Some("Hi"));
        assert_eq!(parsed.body_html(0).as_deref(), Some("<p>Hi</p>"));
        assert_eq!(parsed.attachment_count(), 2);
        let got: Vec<(String, Vec<u8>)> = parsed
            .attachments()
            .map(|a| {
                (
                    a.attachment_name().unwrap_or_default().to_string(),
                    a.contents().to_vec(),
                )
            })
            .collect();
        assert_eq!(
            got[0],
            ("Programm 2027 – Übersicht.pdf".to_string(), pdf.clone())
        );
        assert_eq!(got[1].1, b"line one\n.line two\n".to_vec());
        // What reaches DATA unstuffs to the same message.
        assert_eq!(from_smtp_data(&smtp_data(&raw)).len(), raw.len());
        let bad = [MessageAttachment {
            name: "x\r\nBcc: evil@example.com",
            content_type: "text/plain",
            content: b"x",
        }];
        m.attachments = &bad;
        assert_eq!(
            build_message(&m),
            Err(MessageError::LineBreak("attachment name"))
        );
    }
}
