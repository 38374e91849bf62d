//! The human-readable side: one SMTP reply text ([`classify_text`]), and the text, addresses
//! and headers of a report whose machine-readable part is missing or not to be trusted.

use super::wordings;
use super::*;

/// Classify one SMTP reply or diagnostic text ("550 5.1.1 <a@b>: user unknown").
pub fn classify_text(text: &str) -> Classified {
    // One reply says what it has to say in a few KB; the bound keeps the scans linear.
    let text = truncate(text.trim(), 8 * 1024);
    // A multi-line reply flattened into one ("… at a rate that 550-5.2.1 prevents …"): the
    // words are read without the repeated codes between them.
    let said = text;
    let unfolded = unfold_reply(text);
    let text = unfolded.as_str();
    let lower = text.to_ascii_lowercase();
    if VACATION_WORDS.iter().any(|w| lower.contains(w)) && leading_reply_code(text).is_none() {
        return word_alone(BounceReason::Vacation, false, text, Kind::Autoreply);
    }
    // PowerMTA's verdict alone, as its accounting file or an ESP's event names it ("bad-mailbox",
    // Marigold's "bounce_bad-mailbox"). PowerMTA gives 4.x.x replies categories too, so its own
    // is no final word; Marigold documents its bounce_ events as 5.x.x refusals.
    let marigold = lower.strip_prefix("bounce_");
    if let Some(reason) = dsn::powermta_category(marigold.unwrap_or(&lower)) {
        let hard = reasons::is_hard(reason, marigold.is_some());
        return word_alone(reason, hard, text, Kind::Reply);
    }
    // A relay's record of the next hop's reply ("host mx[192.0.2.1] said: 550 …", qmail's
    // "Remote host said: 553 …") carries the reply code after its prefix.
    let reply_code = leading_reply_code(text).or_else(|| {
        lower
            .find(" said: ")
            .and_then(|at| leading_reply_code(&text[at + " said: ".len()..]))
    });
    let status = Status::find(text);
    // A bare reply answers one recipient unless it says otherwise.
    let stage = stage_in(&lower).or(Some(SmtpStage::RcptTo));
    // Said in reply to MAIL FROM ("(in reply to MAIL FROM command)"), a refusal came before any
    // recipient was named: the rules of that stage read it (an unknown address or domain there
    // is our sender's: Sendmail's "Illegal MX record for host …", Courier's "Domain does not
    // exist: …"), not the words' usual verdict on a recipient. Not when the text names RCPT too:
    // a pasted session's refusal may be the recipient's.
    let at_mail_from = (stage == Some(SmtpStage::MailFrom)
        && lower.contains("mail from")
        && !lower.contains("rcpt"))
        || reasons::said_only_of_our_sender(reply_code, &lower);
    // Otherwise a bare text has no session around it: what it states decides, then its code,
    // then the rules a refusal in a report is read by.
    let limit = status.is_some_and(|s| (s.subject, s.detail) == (2, 3));
    // amavisd-new's reply names its verdict after the message's id, and a refused SMTP login is
    // ours, before any statement ("535 5.7.8 Authentication failed: account disabled").
    let reason = mta::amavis_reply(&lower)
        .or_else(|| {
            reasons::smtp_login_refused(reply_code, &lower).then_some(BounceReason::SecurityError)
        })
        .or_else(|| {
            // Said in reply to MAIL FROM, only the statements about the connection, its rate
            // and the client are read before the stage's rules: an address or a mailbox named
            // there is our sender's.
            wordings::spoken(&lower, limit).filter(|r| {
                !at_mail_from
                    || SAID_OF_THE_SESSION.contains(r)
                    // A block of the client, in a reply that names no address (a listed
                    // address there is our sender's).
                    || (*r == BounceReason::Blocked && !lower.contains('@'))
            })
        })
        .or_else(|| {
            (!at_mail_from)
                .then(|| status.and_then(reasons::Status::name))
                .flatten()
        })
        .unwrap_or_else(|| {
            reasons::decide(&Refusal {
                status,
                reply_code,
                text,
                stage,
                gave_up: false,
                ..Refusal::default()
            })
        });
    // One reply is one attempt: a connection that failed is the cause, not an expiry, unless
    // the text says the queue gave up ("delivery temporarily suspended: connect to …: Connection
    // timed out" is Postfix's deferral).
    let gave_up = scrape::says_gave_up(&lower)
        || [
            "expired",
            "giving up",
            "gave up",
            "tried all mx",
            "for a long time",
        ]
        .iter()
        .any(|w| lower.contains(w));
    let reason =
        if reason == BounceReason::Expired && !gave_up && reasons::says_connection_failed(&lower) {
            BounceReason::NetworkError
        } else {
            reason
        };
    // A provider's reply that names its own hosts ("… - mta1061.mail.ne1.yahoo.com").
    let reason = providers::reason(text, &lower, stage).unwrap_or(reason);
    // Whatever read it, an address or a domain refused in reply to MAIL FROM, or in a text about
    // our sender ("553 5.1.0 Sender address syntax error"), is our sender's.
    let reason = if at_mail_from || wordings::names_our_sender(&lower) {
        reasons::at_stage(reason, Some(SmtpStage::MailFrom))
    } else {
        reason
    };
    let permanent = permanence(status, reply_code);
    Classified {
        recipients: vec![Verdict {
            email: scrape::first_address(said),
            reason,
            hard: reasons::is_hard(reason, permanent),
            status: status.map(|s| format!("{}.{}.{}", s.class, s.subject, s.detail)),
            reply_code: reply_code.map(|c| c.to_string()),
            diagnostic: Some(clip(said)),
            action: None,
            remote_mta: None,
        }],
        ..Classified::empty(Kind::Reply)
    }
}

/// One verdict read from words alone (no code, no address, no stage): an auto-reply's, a
/// PowerMTA category's.
fn word_alone(reason: BounceReason, hard: bool, text: &str, kind: Kind) -> Classified {
    Classified {
        recipients: vec![Verdict {
            email: None,
            reason,
            hard,
            status: None,
            reply_code: None,
            diagnostic: Some(clip(text)),
            action: None,
            remote_mta: None,
        }],
        ..Classified::empty(kind)
    }
}

/// Statements about the session rather than an address (a connection limit, a sending rate,
/// TLS, the command, the system's storage): read as such at MAIL FROM too. (Not a failed
/// lookup: at MAIL FROM it is of our sender's domain.)
const SAID_OF_THE_SESSION: &[BounceReason] = &[
    BounceReason::TooManyConn,
    // The client's missing reverse DNS ("… the sending IPv6 address … must have a reverse DNS
    // record").
    BounceReason::RequirePtr,
    BounceReason::Speeding,
    BounceReason::FailedStartTls,
    BounceReason::SyntaxError,
    BounceReason::SystemFull,
];

/// `text` without the reply codes a multi-line reply repeats inside it once flattened
/// ("550-5.2.1 The user … at a rate that 550-5.2.1 prevents … 550 5.2.1 https://…"). The
/// reply's code is the text's first word or the word after "said:" / "smtp;"; every later
/// `NNN-`, `NNN-x.y.z` or `NNN x.y.z` of that code is dropped when its status is the reply's
/// own (a different status, a second reply quoted inside, stays). The first one stays: the
/// reply's code and status are read from it.
fn unfold_reply(text: &str) -> String {
    let is_status = |t: &str| {
        let parts: Vec<&str> = t.split('.').collect();
        parts.len() == 3
            && matches!(parts[0], "2" | "4" | "5")
            && parts[1..]
                .iter()
                .all(|p| (1..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()))
    };
    let code_of = |t: &str| {
        let b = t.as_bytes();
        (b.len() >= 3
            && b[..3].iter().all(u8::is_ascii_digit)
            && (b'2'..=b'5').contains(&b[0])
            && (b.len() == 3 || b[3] == b'-'))
            .then(|| t[..3].to_string())
    };
    // Each word with its byte offset.
    let mut words = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                words.push((s, &text[s..i]));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        words.push((s, &text[s..]));
    }
    // The reply's code: the text's first word, or the word after a relay's "said:" or a
    // DSN's "smtp;" (not a number in the prose).
    let Some(first) = (0..words.len()).find(|&i| {
        code_of(words[i].1).is_some() && (i == 0 || words[i - 1].1.ends_with([':', ';']))
    }) else {
        return text.to_string();
    };
    let code = code_of(words[first].1).unwrap_or_default();
    // Its status ("550-5.2.1", "550 5.2.1"): only a repeat of the same one is dropped later.
    let first_status = words[first]
        .1
        .get(4..)
        .filter(|s| is_status(s))
        .or_else(|| {
            words
                .get(first + 1)
                .map(|(_, w)| *w)
                .filter(|w| is_status(w))
        });
    // Byte ranges to drop.
    let mut drop = Vec::new();
    let mut i = first + 1;
    while i < words.len() {
        let (at, w) = words[i];
        if let Some(rest) = w.strip_prefix(&code).and_then(|r| r.strip_prefix('-')) {
            if rest.is_empty() || Some(rest) == first_status {
                drop.push((at, at + w.len()));
            } else if !is_status(rest) {
                drop.push((at, at + code.len() + 1));
            }
        } else if w == code
            && words
                .get(i + 1)
                .is_some_and(|(_, n)| Some(*n) == first_status)
        {
            let (next_at, next) = words[i + 1];
            drop.push((at, next_at + next.len()));
            i += 1;
        }
        i += 1;
    }
    if drop.is_empty() {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut from = 0;
    for (a, b) in drop {
        out.push_str(&text[from..a]);
        // The spaces after the dropped code go with it (not a line's end).
        from = b + text[b..].len() - text[b..].trim_start_matches([' ', '\t']).len();
    }
    out.push_str(&text[from..]);
    out
}

/// The human-readable text of the report (not the returned original).
pub(super) fn human_text(message: &Message<'_>) -> String {
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
pub(super) fn raw_body_text(raw: &[u8]) -> String {
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
pub(super) fn all_text(message: &Message<'_>) -> String {
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

pub(super) fn html_to_text(html: &str) -> String {
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
pub(super) fn own_addresses(message: &Message<'_>) -> Vec<String> {
    message
        .from()
        .into_iter()
        .flat_map(|a| a.iter())
        .filter_map(|a| a.address())
        .map(str::to_ascii_lowercase)
        .collect()
}

/// Addresses the report's headers name as failed (Exim's `X-Failed-Recipients`, and others).
pub(super) fn header_list(message: &Message<'_>) -> Vec<String> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use herald_domain::BounceReason::{self, *};

    fn read(text: &str) -> BounceReason {
        classify_text(text).recipients[0].reason
    }

    /// Refusals of our sender (its address, its domain) must never be read as a dead
    /// recipient: that would suppress a good address. Wordings from receiving servers' own
    /// sources and documentation (docs/research/sender-side-wordings.md).
    /// Said in reply to MAIL FROM, with or without a leading reply code (a relay's "host …
    /// said: …", Exim's "SMTP error … after MAIL FROM"), by broad words, a provider's table
    /// or a status code that names a domain accepting no mail: never a dead recipient.
    #[test]
    fn an_address_refused_at_mail_from_is_never_a_dead_recipient() {
        for text in [
            "host mx.example.net[192.0.2.1] said: 550 Mailbox not available (in reply to MAIL FROM command)",
            "SMTP error from remote mail server after MAIL FROM:<dsn@example.org> SIZE=1234: 550 Unknown domain",
            "host mx.example.net[192.0.2.1] said: 550 example.org does not accept mail (in reply to MAIL FROM command)",
            "host cluster9.us.messagelabs.com[67.219.246.1] said: 550 No such user (in reply to MAIL FROM command)",
            "550 5.3.2 Service currently unavailable (in reply to MAIL FROM command)",
            "550 5.1.6 Mailbox has moved (in reply to MAIL FROM command)",
        ] {
            let v = &classify_text(text).recipients[0];
            assert!(!v.hard, "{text}: {:?}", v.reason);
            assert!(
                !matches!(v.reason, UserUnknown | HostUnknown | NotAccept | HasMoved),
                "{text}: {:?}",
                v.reason
            );
        }
    }

    #[test]
    fn a_refusal_of_our_sender_is_never_a_dead_recipient() {
        let sender = |text: &str, want: BounceReason| {
            let v = &classify_text(text).recipients[0];
            assert_eq!((v.reason, v.hard), (want, false), "{text}");
        };
        // Postfix's refusal of a sender it finds no such local user for (reject_unlisted_sender),
        // and of one its address verification found undeliverable: what follows "Sender address
        // rejected" is why the sender was refused, the probe's own "Recipient address rejected"
        // included.
        sender(
            "550 5.1.0 <dsn@example.org>: Sender address rejected: User unknown in local recipient table",
            Rejected,
        );
        sender(
            "550 5.1.7 <dsn@example.org>: Sender address rejected: undeliverable address: host mx.example.org[192.0.2.1] said: 550 5.1.1 <dsn@example.org>: Recipient address rejected: User unknown in local recipient table (in reply to RCPT TO command)",
            Rejected,
        );
        // Exim's sender verification by callout quotes our own server's answer.
        sender(
            "550-Verification failed for <dsn@example.org>\n550-Called:   192.0.2.1\n550-Sent:     RCPT TO:<dsn@example.org>\n550-Response: 550 5.1.1 <dsn@example.org>: Recipient address rejected: User unknown in local recipient table\n550 Sender verify failed",
            Rejected,
        );
        sender(
            "550-Verification failed for <dsn@example.org>\n550-No Such User Here\n550 Sender verify failed",
            Rejected,
        );
        // maddy's null MX of the MAIL FROM domain; Sendmail's FEATURE(badmx) and Courier's
        // unknown domain, in reply to MAIL FROM.
        sender(
            "501 5.7.27 Domain in MAIL FROM has null MX record",
            Rejected,
        );
        sender(
            "501 5.7.27 Domain in MAIL FROM does not have any MX records",
            Rejected,
        );
        sender(
            "550 5.1.2 Illegal MX record for host example.org (in reply to MAIL FROM command)",
            Rejected,
        );
        sender(
            "517-Domain does not exist: example.org.\n517 Invalid domain, see <URL:ftp://ftp.isi.edu/in-notes/rfc1035.txt> (in reply to MAIL FROM command)",
            Rejected,
        );
        // Other kinds of sender refused: a domain required (Sendmail), denied (qmail's qregex),
        // not allowed (Stalwart, maddy), GoDaddy's From: domain, Yahoo's unresolvable domain.
        sender(
            "553 5.5.4 Domain name required for sender address dsn",
            Rejected,
        );
        sender(
            "553 sorry, your envelope sender has been denied (#5.7.1)",
            Rejected,
        );
        sender(
            "501 5.5.4 You are not allowed to send from this address.",
            Rejected,
        );
        sender("553 5.7.0 Unauthorized use of sender address", Rejected);
        // (Gmail's "553 5.1.7 The sender address … is not a valid RFC 5321 address" stays
        // `notcompliantrfc`, as Sisimai's table for Google has it: soft either way.)
        sender(
            "553 5.1.7 The sender address dsn@example.org is not a valid RFC 5321 address.",
            NotCompliantRfc,
        );
        sender(
            "550 example.org From: Domain is invalid. Provide a valid From: IB506",
            Rejected,
        );
        sender(
            "451 Message temporarily deferred due to unresolvable RFC.5321 from domain.",
            Rejected,
        );
        // SPF failures in gateways' words (Proofpoint, Cisco, MailChannels).
        sender(
            "550 5.7.1 Message rejected per sender's SPF policy - OXSUS001_514",
            AuthFailure,
        );
        sender(
            "550 #5.7.1 SPF unauthorized mail is prohibited.",
            AuthFailure,
        );
        sender("550 5.7.1 [BFD] Sender prohibited by SPF", AuthFailure);
        // A pasted session that refused the recipient after MAIL FROM was accepted.
        assert_eq!(
            read(
                ">>> MAIL From:<dsn@example.org>\n<<< 250 ok\n>>> RCPT To:<dead@example.net>\n<<< 550 5.1.1 User unknown"
            ),
            UserUnknown
        );
        // ... but a recipient refused in the same breath as our sender is still the recipient.
        assert_eq!(
            read(
                "550 5.1.1 <rcpt@example.net>: Recipient address rejected: User unknown in virtual mailbox table"
            ),
            UserUnknown
        );
    }

    #[test]
    fn who_or_what_the_words_name_decides_over_a_vaguer_code() {
        // A client refused by its IP ("Mail from <ip> refused"), whatever list said so.
        assert_eq!(
            read(
                "550 5.7.1 Mail from 192.0.2.7 refused. Rejected for bad WHOIS info on IP of your SMTP server - see http://www.rfc-ignorant.org/"
            ),
            Blocked
        );
        assert_eq!(
            read(
                "550 Mail from 192.0.2.7 refused by rbl-plus.mail-abuse.org. Please refer to http://mail-abuse.org/rbl+/"
            ),
            Blocked
        );
        assert_eq!(
            read("550 Mail from [192.0.2.7] refused, see the link"),
            Blocked
        );
        // A relay refusal in the same words stays the relay's.
        assert_eq!(
            read("550 Mail from 192.0.2.7 refused because relaying denied"),
            NoRelaying
        );
        // ... but mail from a sender address that was refused is the sender's.
        assert_eq!(
            read("550 5.7.1 Mail from <a@b.example> refused: sender address rejected"),
            Rejected
        );
        // A kind of sender refused.
        assert_eq!(read("550 Domain-literal senders not allowed"), Rejected);
        // x.1.2 says "bad destination system": when the words say it is the sender's
        // domain, the sender was refused.
        assert_eq!(
            read("554 5.1.2 Sender contains a disallowed domain"),
            Rejected
        );
        assert_eq!(
            read("550 5.1.2 Host unknown (Name server: host not found)"),
            HostUnknown
        );
        // Broken headers are the content's fault; a field given twice breaks the RFC.
        assert_eq!(read("554 Header data malformed"), ContentError);
        assert_eq!(read("554 Message-ID header appears twice"), NotCompliantRfc);
        assert_eq!(
            read("554 5.6.0 Subject header appears twice"),
            NotCompliantRfc
        );
        // Spam suspected is spam judged.
        assert_eq!(
            read(
                "554 5.7.1 [2] Message rejected under suspicion of SPAM; https://ya.cc/1IrBc 1234"
            ),
            SpamDetected
        );
        assert_eq!(
            read("550 5.7.1 Rejected: suspected to be spam"),
            SpamDetected
        );
        // A sender whose From header is malformed is still the sender refused.
        assert_eq!(
            read("550 5.1.7 Sender address in From header is malformed"),
            Rejected
        );
    }

    #[test]
    fn servers_own_wordings_for_a_dead_a_disabled_or_a_full_mailbox() {
        // (reply, reason): wordings from the servers' sources, tests or documentation.
        let cases = [
            // Postfix's smtpd, a recipient domain with a null MX (its smtpd_nullmx test).
            (
                "556 5.1.0 <a@nullmx.example>: Recipient address rejected: Domain nullmx.example does not accept mail",
                NotAccept,
            ),
            // Exchange's NDR text; hMailServer; vmailmgr's quota.
            (
                "The e-mail address you entered couldn't be found. Please check the recipient's e-mail address and try to resend the message.",
                UserUnknown,
            ),
            ("550 Recipient not in route list.", UserUnknown),
            // The recipient's own refusal of this sender (Interia's documented reply).
            ("550 5.7.1 Recipient doesn't want your mail", Filtered),
            ("Invalid final delivery userid: <a@b.example>", UserUnknown),
            ("delivery failed due to system quota violation", MailboxFull),
            // Italian, Spanish, Polish, Chinese and French servers.
            ("550 <a@b.example>, destin. Sconosciuto", UserUnknown),
            ("550 Indirizzo inesistente", UserUnknown),
            (
                "550 El usuario no tiene una cuenta en este servidor",
                UserUnknown,
            ),
            ("550 Nie ma takiego konta", UserUnknown),
            ("550 您要发送的收件人不存在", UserUnknown),
            ("550 Questo indirizzo e' bloccato per inutilizzo", Suspend),
            ("550 El usuario esta en estado: inactivo", Suspend),
            (
                "550 Podane konto jest zablokowane administracyjnie lub nieaktywne",
                Suspend,
            ),
            (
                "550 5.5.0 Le compte du destinataire est bloque. The recipient account isblocked. LPN007_426",
                Suspend,
            ),
        ];
        for (reply, want) in cases {
            assert_eq!(read(reply), want, "{reply}");
        }
        // A sender's domain with a null MX is the sender refused, not the recipient's domain.
        assert_eq!(
            read(
                "550 5.7.27 <s@nullmx.example>: Sender address rejected: Domain nullmx.example does not accept mail"
            ),
            Rejected
        );
    }

    /// `text` read as other than `want`, or hard where `hard` says soft (or the reverse): what
    /// was read, for the test's report.
    fn misread(text: &str, want: BounceReason, hard: bool) -> Option<String> {
        let v = &classify_text(text).recipients[0];
        ((v.reason, v.hard) != (want, hard))
            .then(|| format!("{want:?} read {:?} (hard {}): {text}", v.reason, v.hard))
    }

    /// Wordings from the later surveys of docs/research (sender-, legacy-, codes-, isp- and
    /// ownwords-wordings.md), each cited there.
    #[test]
    fn surveyed_wordings_of_our_sender_of_old_products_and_of_codes() {
        let wrong = std::cell::RefCell::new(Vec::new());
        let reads = |text: &str, want: BounceReason, hard: bool| {
            wrong.borrow_mut().extend(misread(text, want, hard));
        };
        // Refusals of our sender, whatever stage they are (not) said at: never a dead
        // recipient.
        reads(
            "550-Postmaster verification failed while checking <news@example.org>\n550-Called:   198.51.100.7\n550-Sent:     RCPT TO:<postmaster@example.org>\n550-Response: 550 Unknown user\n550 Sender verify failed",
            Rejected,
            false,
        );
        reads(
            "550 5.1.2 Illegal MX record for host example.org",
            Rejected,
            false,
        );
        reads(
            "Email from that domain is not accepted here.",
            Rejected,
            false,
        );
        reads("553 5.1.0 Sender address syntax error", Rejected, false);
        reads(
            "550 5.1.2 Invalid MX record for host example.org (in reply to RCPT TO command)",
            Rejected,
            false,
        );
        reads(
            "517-Domain does not exist: example.org.\n517 Invalid domain, see <URL:ftp://ftp.isi.edu/in-notes/rfc1035.txt>",
            Rejected,
            false,
        );
        reads(
            "451-Could not complete sender verify callout for <news@example.org>.\n451-The mail server(s) for the domain may be temporarily unreachable",
            Rejected,
            false,
        );
        // Our own HELO name is not the recipient's domain.
        reads(
            "host mx.example.com[192.0.2.10] said: 550 5.7.1 <mail.example.org>: Helo command rejected: Host not found (in reply to RCPT TO command)",
            Blocked,
            false,
        );
        // Our HELO name refused (OpenSMTPD's smtp_check_helo, a "Host not found" in reply to
        // EHLO) is no verdict on the recipient's domain.
        for helo in [
            "501 5.5.4 Invalid command arguments: Invalid domain name",
            "host mx.example.com[192.0.2.10] said: 550 5.7.1 Host not found (in reply to EHLO command)",
        ] {
            let v = &classify_text(helo).recipients[0];
            assert!(!v.hard && v.reason != HostUnknown, "{v:?}");
        }
        // The recipient's side, as the products word it: AOL's family codes, wherever the reply
        // was relayed.
        reads(
            "554- (RTR:BB)  http://postmaster.info.aol.com/errors/554rtrbb.html 554  Connecting IP: 192.0.2.7",
            Blocked,
            false,
        );
        reads(
            "host mailin-03.mx.aol.com[192.0.2.22] said: 421 4.7.1 : (DYN:T1) http://postmaster.info.aol.com/errors/421dynt1.html (in reply to MAIL FROM command)",
            Speeding,
            false,
        );
        reads(
            "host mailin-04.mx.aol.com[192.0.2.23] said: 421 4.2.1 :  (DNS:NR)  http://postmaster.info.aol.com/errors/421dnsnr.html (in reply to end of DATA command)",
            RequirePtr,
            false,
        );
        // The sending MTA's own failures: a program that did not run, its own routing to
        // itself, qmail's lookup that failed for now.
        reads(
            "Child process of address_pipe transport returned 127 (could mean unable to exec or command does not exist) from command: /usr/local/bin/ticket-handler",
            MailerError,
            false,
        );
        reads(
            "Child process of cyrus_delivery transport returned 67 (could mean user nonexistent) from command: /usr/cyrus/bin/deliver",
            UserUnknown,
            true,
        );
        reads(
            "550 lowest numbered MX record points to local host",
            SystemError,
            false,
        );
        reads(
            "Sorry, I couldn't find any host by that name. (#4.1.2)",
            NetworkError,
            false,
        );
        reads("bounce_bad-mailbox", UserUnknown, true);
        reads("bad-domain", HostUnknown, false);
        reads("bounce_inactive-mailbox", Suspend, false);
        reads(
            "host mx.example.com[192.0.2.52] said: 550 5.7.25 Access denied, the sending IPv6 address [2001:db8::10] must have a reverse DNS record (in reply to MAIL FROM command)",
            RequirePtr,
            false,
        );
        reads(
            "550 5.7.512 Access denied, message must be RFC 5322 section 3.6.2 compliant",
            NotCompliantRfc,
            false,
        );
        reads(
            "550 5.7.321 starttls-not-supported: Destination mail server must support TLS to receive mail.",
            FailedStartTls,
            false,
        );
        reads(
            "550 5.7.1 The user or domain that you are sending to (or from) has a policy that prohibits the email that you sent. - gsmtp",
            PolicyViolation,
            false,
        );
        let wrong = wrong.into_inner();
        assert!(wrong.is_empty(), "{wrong:#?}");
    }

    /// Wordings from the surveys of docs/research (account-, transport- and content-wordings.md),
    /// each cited there: what they mean, and never a dead recipient where they say otherwise.
    #[test]
    fn surveyed_wordings_of_the_path_the_account_and_the_content() {
        let wrong = std::cell::RefCell::new(Vec::new());
        let reads = |text: &str, want: BounceReason, hard: bool| {
            wrong.borrow_mut().extend(misread(text, want, hard));
        };
        // A name server that failed for now is no verdict on the domain; an ESP's suppression
        // list is the ESP's, not the receiver's; SPF named in a 5.1.0 refusal is SPF.
        reads(
            "Host or domain name not found. Name service error for name=example.com type=MX: Host not found, try again",
            NetworkError,
            false,
        );
        reads(
            "all host address lookups failed temporarily",
            NetworkError,
            false,
        );
        reads(
            "CNAME lookup failed temporarily. (#4.4.3)",
            NetworkError,
            false,
        );
        reads(
            "host mx.example.com[192.0.2.44] said: 550 5.1.0 0bcW1i00G0jifNx01bcmHa blocked by SPF (in reply to RCPT TO command)",
            AuthFailure,
            false,
        );
        reads(
            "host mx.example.org[192.0.2.60] said: 550 5.7.1 <jane@example.org>: Recipient address rejected: Message rejected due to: SPF fail - not authorized. (in reply to RCPT TO command)",
            AuthFailure,
            false,
        );
        reads(
            "Amazon SES has suppressed sending to this address because it has a recent history of bouncing as an invalid address.",
            Suppressed,
            false,
        );
        reads(
            "Amazon SES did not send the message to this address because it is on the suppression list for your account.",
            Suppressed,
            false,
        );
        reads(
            "605 Not delivering to previously bounced address",
            Suppressed,
            false,
        );
        // RFC 5321's own 551, the address moved.
        reads(
            "host mx.example.com[192.0.2.10] said: 551 User not local; please try <jane@example.org> (in reply to RCPT TO command)",
            HasMoved,
            true,
        );
        // RFC 5321's template copied without an address to try is no forwarding address.
        reads(
            "host mx.example.net[192.0.2.5] said: 551 User not local; please try <forward-path> (in reply to RCPT TO command)",
            OnHold,
            false,
        );
        // A domain that does not exist, whose text goes on to advise "try again".
        reads(
            "The domain example.con couldn't be found. Check for typos or unnecessary spaces and try again. DNS Error: DNS type 'mx' lookup of example.con responded with code NXDOMAIN",
            HostUnknown,
            true,
        );
        // At MAIL FROM a listed address and a failed lookup are our sender's.
        reads(
            "550 5.1.0 <news@example.org> listed at dbl.spamhaus.org (in reply to MAIL FROM command)",
            Rejected,
            false,
        );
        reads(
            "451 4.1.8 <news@example.org>: lookup failed temporarily (in reply to MAIL FROM command)",
            Rejected,
            false,
        );
        // A command out of order, an address Sendmail could not parse.
        reads(
            "host mx.example.com[192.0.2.10] said: 503 5.5.1 Error: need RCPT command (in reply to DATA command)",
            SyntaxError,
            false,
        );
        reads(
            "host mx.example.com[192.0.2.10] said: 553 <jane@example.com... Unbalanced '<' (in reply to RCPT TO command)",
            SyntaxError,
            false,
        );
        // What the filter found decides over a 5.6.x code; an attachment refused is a policy.
        reads("554 5.6.3 Spam Body rejected", SpamDetected, false);
        reads("554 5.6.4 Virus E-Mail Blocked", VirusDetected, false);
        reads(
            "host mail.example.com[192.0.2.50] said: 550 5.7.1 Message rejected due to unacceptable attachments (in reply to end of DATA command)",
            PolicyViolation,
            false,
        );
        reads(
            "554 5.7.1 Forbidden attachment name extension",
            PolicyViolation,
            false,
        );
        reads(
            "host mx.example.com[192.0.2.10] said: 501 5.7.1 Message is too long (in reply to end of DATA command)",
            MesgTooBig,
            false,
        );
        // TLS that could not be had.
        reads(
            "host mx.example.com[192.0.2.10] said: 454 4.7.0 TLS not available due to local problem (in reply to STARTTLS command)",
            FailedStartTls,
            false,
        );
        reads("Cannot start TLS: handshake failure", FailedStartTls, false);
        reads(
            "500 Remote server does not support TLS (state 6)",
            FailedStartTls,
            false,
        );
        // The path, the queue, the connections and the rate.
        reads(
            "Remote host mx.example.com [192.0.2.10] closed connection in response to initial connection",
            NetworkError,
            false,
        );
        reads("Cannot send message for 5 days", Expired, false);
        reads(
            "421 mwinf5c79 ME Trop de connexions, veuillez verifier votre configuration. Too many connections, slow down. OFR005_104 [104]",
            TooManyConn,
            false,
        );
        reads(
            "host mx02.example.com[192.0.2.20] said: 452 4.3.2 Connection rate limit exceeded. (in reply to MAIL FROM command)",
            TooManyConn,
            false,
        );
        reads(
            "host mx.example.com[192.0.2.10] said: 450 4.7.1 Error: too much mail from 198.51.100.7 (in reply to MAIL FROM command)",
            Speeding,
            false,
        );
        reads(
            "550-5.2.1 The user you are trying to contact is receiving mail at a rate that 550-5.2.1 prevents additional messages from being delivered. For more 550-5.2.1 information, please visit 550 5.2.1 https://support.google.com/mail/?p=ReceivingRatePerm - gsmtp",
            Speeding,
            false,
        );
        // Whose address: our sender's mailbox.
        reads(
            "host relay.example.net[192.0.2.12] said: 550 5.7.1 <news@example.org>: Sender address rejected: mailbox disabled (in reply to RCPT TO command)",
            Rejected,
            false,
        );
        reads(
            "host 192.0.2.7[192.0.2.7] said: 451 4.2.1 Delivery to mailbox is disabled (in reply to RCPT TO command)",
            Suspend,
            false,
        );
        // qmail's "Giving up on <ip>" follows any permanent refusal: the refusal decides.
        reads(
            "198.51.100.9 does not like recipient. Remote host said: 553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1) Giving up on 198.51.100.9.",
            NoRelaying,
            false,
        );
        // Our SMTP login, and a filter's block of the client with its lookup page.
        reads(
            "host smtp.office365.com[192.0.2.29] said: 550 5.7.30 Basic authentication is not supported for Client Submission. (in reply to AUTH command)",
            SecurityError,
            false,
        );
        reads(
            "host mx0a.pphosted.com[192.0.2.33] said: 554 5.7.0 Blocked - see https://ipcheck.proofpoint.com/?ip=198.51.100.7 (in reply to MAIL FROM command)",
            Blocked,
            false,
        );
        // The receiver's own table lookup failed: its system, not the network.
        reads(
            "451 4.3.0 <jane@example.com>: Temporary lookup failure (in reply to RCPT TO command)",
            SystemError,
            false,
        );
        // Localised notices and the English reply they wrap (languages-wordings.md).
        reads(
            "Die eingegebene E-Mail-Adresse konnte nicht gefunden werden. Überprüfen Sie die E-Mail-Adresse des Empfängers.",
            UserUnknown,
            true,
        );
        reads("550 该用户不存在", UserUnknown, true);
        reads("552 收件人空间不足", MailboxFull, false);
        reads(
            "The user(s) account is disabled. <jane@example.jp>: 550 user unknown (in reply to RCPT TO command)",
            Suspend,
            false,
        );
        reads("550 5.1.1 Suspended user", Suspend, false);
        reads(
            "Falha na entrega aos seguintes destinatários: jane@example.com.br Remote Server returned '<example.com.br #5.0.0 smtp;550 Verification failed for <bruno@example.org> No Such User Here Sender verify failed>'",
            Rejected,
            false,
        );
        reads(
            "421 smtp.example.fr [192.0.2.1] Emetteur invalide. Invalid Sender. SPF check failed, please verify the SPF/DNS configuration for your domain name.",
            AuthFailure,
            false,
        );
        // Never a dead address: a feature the recipient has not enabled, a sender refused for
        // SPF that also names a host, a system out of space.
        reads("550 该用户未开通外域收信功能", OnHold, false);
        reads(
            "550 5.7.1 Invalid sender: SPF check failed, host mail.example.org not found",
            AuthFailure,
            false,
        );
        // Our sender's own account, not the recipient's.
        reads(
            "550 5.7.0, Mail Sending denied. This error occurs if the sender account is disabled or not registered within your Google Workspace domain.",
            Rejected,
            false,
        );
        let wrong = wrong.into_inner();
        assert!(wrong.is_empty(), "{wrong:#?}");
    }
}
