//! RFC 3464 / RFC 6533 delivery status notifications: the `message/(global-)delivery-status`
//! part read field by field, per recipient (with PowerMTA's and Exim's extensions).

use super::*;

pub(super) fn permanence(status: Option<Status>, reply_code: Option<u16>) -> bool {
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

/// The text's words joined by single spaces (an MTA's wrapped, indented lines as one).
pub(crate) fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub(crate) fn clip(s: &str) -> String {
    let s = one_line(s);
    if s.len() <= MAX_DIAGNOSTIC {
        return s;
    }
    let mut end = MAX_DIAGNOSTIC;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

pub(super) fn field<'a>(block: &'a [(String, String)], name: &str) -> Option<&'a str> {
    block
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// The comment after a status code when it is a reply ("5.1.10 (556 Domain … (NULL MX))"),
/// without its outer parentheses. A comment that only names the code ("(bad destination
/// mailbox address)") says nothing the code does not.
fn status_comment(status: &str) -> Option<&str> {
    let (_, rest) = status.trim().split_once(char::is_whitespace)?;
    let inner = rest.trim().strip_prefix('(')?.strip_suffix(')')?.trim();
    leading_reply_code(inner).map(|_| inner)
}

/// An exit code alone, or text led by a program's name and a colon ("procmail: Couldn't …").
pub(super) fn program_output(diagnostic: &str) -> bool {
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

/// What Postfix's words say about a delivery command (pipe(8), local(8)'s `|command`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Command {
    /// It failed for itself: it died ("Command died with status 1: …", "… with signal 6"), or
    /// exited with a code that names no recipient's cause and printed a program's message
    /// ("temporary failure. Command output: avpcheck: unable to connect …").
    Failed,
    /// It said the recipient is unknown (EX_NOUSER, EX_NOHOST), and Postfix says so: "user
    /// unknown. Command output: …", whatever the program printed.
    NamedTheRecipient,
}

fn delivery_command(text: &str) -> Option<Command> {
    // Postfix wraps its text (a 4-space indent): compare the words, not the lines.
    let lower = one_line(text).to_ascii_lowercase();
    if lower.contains("command died with status") || lower.contains("command died with signal") {
        return Some(Command::Failed);
    }
    const NAMES_THE_RECIPIENT: &[&str] = &["user unknown", "host name unknown"];
    let at = lower.find("command output:")?;
    let meaning = lower[..at].trim_end().trim_end_matches('.');
    if NAMES_THE_RECIPIENT.iter().any(|m| meaning.ends_with(m)) {
        Some(Command::NamedTheRecipient)
    } else {
        program_output(&lower[at + "command output:".len()..]).then_some(Command::Failed)
    }
}

/// PowerMTA's bounce categories (`X-PowerMTA-BounceCategory`, its accounting's `bounceCat`)
/// in Sisimai's vocabulary; `other` and unknown names say nothing.
pub(super) fn powermta_category(category: &str) -> Option<BounceReason> {
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

/// What a DSN says around its per-recipient blocks.
struct Report<'a> {
    /// The human-readable part, and lower-cased.
    human: &'a str,
    human_lower: &'a str,
    /// The text says the sender's queue gave up.
    gave_up: bool,
    /// Every recipient the report names.
    all_rcpts: &'a [String],
    reporting_mta: &'a str,
    /// Whose template the report follows.
    reporter: mta::Reporter,
    /// The report carries au's `X-SPASIGN: NG` (its filter refused the message).
    spam_sign: bool,
    /// The cause a Sendmail-style subject names ("Returned mail: User unknown"), lower-case.
    subject_cause: Option<String>,
}

/// What the sending MTA itself says decides what the reply leaves open: PowerMTA's own verdict
/// per recipient, and a local program's output (about the program, unless it names the
/// mailbox's own limits).
fn mta_verdict(
    block: &[(String, String)],
    reason: BounceReason,
    read_status: Option<Status>,
    local_program: bool,
) -> BounceReason {
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
    if local_program
        && !matches!(
            reason,
            BounceReason::MailboxFull
                | BounceReason::MesgTooBig
                | BounceReason::ExceedLimit
                | BounceReason::Delivered
        )
    {
        BounceReason::MailerError
    } else {
        reason
    }
}

/// The verdict on one recipient's block (None: the block names no recipient).
fn recipient_verdict(block: &[(String, String)], r: &Report<'_>) -> Option<Verdict> {
    let email = recipient_of(block)?;
    Some(block_verdict(block, Some(email), r))
}

/// The verdict on a per-recipient block for `email` (None: the report names nobody; the
/// verdict is about the delivery whose return path the report came to).
fn block_verdict(block: &[(String, String)], email: Option<String>, r: &Report<'_>) -> Verdict {
    let action = field(block, "action").map(|a| a.to_ascii_lowercase());
    let status = field(block, "status").and_then(Status::find);
    // A diagnostic says what it has to say in a few KB; the bound keeps the scans linear.
    // Without a Diagnostic-Code, a comment after the status code is the MTA's own words
    // (Haraka: "Status: 5.1.2 (550 Tried all MXs example.org)").
    // `Diagnostic-Code: <type>; <text>` (RFC 3464 §2.3.6): `X-Unix` is what a local delivery
    // reports.
    let (diagnostic_type, diagnostic_text) = match field(block, "diagnostic-code") {
        Some(d) => match d.split_once(';') {
            Some((t, text)) => (Some(t.trim()), Some(text.trim())),
            None => (None, Some(d.trim())),
        },
        None => (None, None),
    };
    let x_unix = diagnostic_type.is_some_and(|t| t.eq_ignore_ascii_case("x-unix"));
    let diagnostic = diagnostic_text
        .or_else(|| status_comment(field(block, "status")?))
        .map(|d| truncate(d, 8 * 1024).to_string())
        .unwrap_or_default();
    // The human-readable part often carries the words the DSN fields leave out (all of it,
    // for a report that names nobody).
    let context = match &email {
        Some(email) => scrape::context_for(r.human, email, r.all_rcpts),
        None => truncate(r.human, 8 * 1024).to_string(),
    };
    // A delivery program failed: Postfix says so (in the diagnostic, or in this recipient's
    // lines of the text, whatever the diagnostic's type: `X-Postfix` before `X-Unix`), or an
    // X-Unix diagnostic is a program's exit code ("71") or its own output ("procmail: …").
    // Not when the program said the user is unknown; and Postfix's own local delivery, in its
    // own words ("no mailbox here by that name"), stays an unknown user.
    let local_program = match delivery_command(&diagnostic).or_else(|| delivery_command(&context)) {
        Some(command) => command == Command::Failed,
        None => x_unix && program_output(&diagnostic),
    };
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
    let conventions = mta::conventions(r.reporter, &lower, r.human_lower, r.spam_sign);
    // The stage this recipient's own lines name; the whole report's text only when it names
    // no other recipient: Postfix's "(in reply to end of DATA command)" about a full mailbox
    // is not the stage of the unknown user listed beside it.
    let stage = conventions
        .stage
        .or_else(|| stage_in(&lower))
        .or_else(|| stage_in(&context.to_ascii_lowercase()))
        .or_else(|| {
            (r.all_rcpts.len() <= 1)
                .then(|| stage_in(r.human_lower))
                .flatten()
        })
        .or_else(|| reasons::command_in(&diagnostic));
    // A vague DSN status (x.0.0) says less than a precise code in the words.
    let read_status = if diagnostic.is_empty() {
        Status::find(&lower)
            .filter(|s| !s.is_vague())
            .or(status)
            .or_else(|| Status::find(&lower))
    } else {
        prefer(status, Status::find(&diagnostic), reply_code)
    };
    let decide = |text: &str| {
        reasons::decide(&Refusal {
            status: read_status,
            reply_code,
            text,
            stage,
            gave_up: r.gave_up,
            delayed: delayed && !r.gave_up,
            preset: conventions.reason,
            local: x_unix,
        })
    };
    let reason = match action.as_deref() {
        Some("delivered" | "relayed" | "expanded") => BounceReason::Delivered,
        _ => match decide(&words) {
            // Sendmail's subject names the failure when there is one ("Returned mail: User
            // unknown"): the report's own words, for its one recipient, when the block's
            // leave the reason open.
            reason @ (BounceReason::OnHold | BounceReason::Undefined) if r.all_rcpts.len() <= 1 => {
                match &r.subject_cause {
                    Some(cause) => decide(&format!("{words}\n{cause}")),
                    None => reason,
                }
            }
            reason => reason,
        },
    };
    // A big provider's reply means what the provider documents it to mean.
    let hosts = format!(
        "{} {} {}\n{context}",
        field(block, "remote-mta").unwrap_or_default(),
        r.reporting_mta,
        email.as_deref().unwrap_or_default()
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
    let reason = mta_verdict(block, reason, read_status, local_program);
    let temporary = delayed
        || read_status.or(status).is_some_and(|s| s.class == 4)
        || (read_status.or(status).is_none() && reply_code.is_some_and(|c| c < 500));
    Verdict {
        email,
        reason,
        hard: !delayed && reasons::is_hard_report(reason, temporary),
        status: status.map(|s| format!("{}.{}.{}", s.class, s.subject, s.detail)),
        reply_code: reply_code.map(|c| c.to_string()),
        diagnostic: (!diagnostic.is_empty()).then(|| clip(&diagnostic)),
        action,
        remote_mta: field(block, "remote-mta")
            .map(|m| clip(m.split_once(';').map_or(m, |(_, v)| v)))
            .filter(|m| !m.is_empty()),
    }
}

/// The DSN's `Status:` field or the code in its diagnostic, whichever says more: the field,
/// unless it is vague (x.0.0, a class the reply code contradicts, codes MTAs use as catch-alls)
/// and the diagnostic's is not.
pub(super) fn prefer(
    field: Option<Status>,
    text: Option<Status>,
    reply_code: Option<u16>,
) -> Option<Status> {
    let (f, t) = match (field, text) {
        (Some(f), Some(t)) => (f, t),
        (f, t) => return f.or(t),
    };
    if let Some(code) = reply_code
        && f.class != t.class
    {
        let class = (code / 100) as u8;
        if t.class == class {
            return Some(t);
        }
        if f.class == class {
            return Some(f);
        }
    }
    let has_zero = |s: Status| s.subject == 0 || s.detail == 0;
    let catch_all = |s: Status| {
        matches!((s.class, s.subject, s.detail), (4, 4, 7) | (4, 7, 0))
            || (s.class == 5 && s.subject == 3)
            || (s.subject == 5 && matches!(s.detail, 1 | 2 | 4 | 5))
    };
    Some(if f == t {
        f
    } else if f.subject == 0 && f.detail == 0 {
        if t.subject == 0 && t.detail == 0 {
            f
        } else {
            t
        }
    } else if has_zero(f) && !has_zero(t) {
        t
    } else if t.subject == 0 && t.detail == 0 {
        f
    } else if catch_all(f) {
        t
    } else if (f.class, f.subject, f.detail) == (5, 1, 1) {
        if has_zero(t) || (t.class == 5 && t.subject == 5) {
            f
        } else {
            t
        }
    } else if (f.class, f.subject, f.detail) == (5, 1, 3) && t.class == 5 && t.subject == 7 {
        t
    } else {
        f
    })
}

/// au (KDDI)'s `X-SPASIGN: NG`: its filter refused the message.
pub(super) fn spam_sign(message: &Message<'_>) -> bool {
    message
        .header_raw("X-SPASIGN")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("NG"))
}

/// The address a block is about: `Final-Recipient`; when that is not a mail address (a
/// receiver rewrote it to an internal mailbox, "user@ims-ms-daemon"), the one the sender gave
/// (`Original-Recipient`, RFC 3464 §2.3.1, xtext-decoded), since that is the contact's.
/// A valid Final is never replaced: for an alias that expanded, the member that failed is
/// the one the verdict is about, not the alias (which still exists).
fn recipient_of(block: &[(String, String)]) -> Option<String> {
    let usable = |a: &String| herald_domain::EmailAddress::parse(a).is_ok();
    let last = field(block, "final-recipient").map(typed_address);
    if last.as_ref().is_some_and(usable) {
        return last;
    }
    field(block, "original-recipient")
        .filter(|v| {
            v.split_once(';')
                .is_some_and(|(kind, _)| kind.trim().eq_ignore_ascii_case("rfc822"))
        })
        .map(|v| xtext_decoded(&typed_address(v)))
        .filter(usable)
        .or(last)
}

/// RFC 3461 §4 xtext: `+XX` is the byte XX; anything else is itself.
fn xtext_decoded(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = b
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match hex
            .filter(|_| b[i] == b'+')
            .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(b[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `rfc822; a@b` → `a@b`; a display name some MTAs copy from RCPT TO
/// (`rfc822; "Ann" <a@b>`) is dropped.
pub(super) fn typed_address(v: &str) -> String {
    let v = v.split_once(';').map_or(v, |(_, a)| a).trim();
    // A comment after the address ("<a@b> (was …)") is not part of it.
    let v = match v.rfind('(') {
        Some(open) if open > 0 && v.ends_with(')') => v[..open].trim(),
        _ => v,
    };
    if v.ends_with('>')
        && let Some(open) = v.rfind('<')
        && let Some(len) = v[open + 1..].find('>')
        && v[open + 1..open + 1 + len].contains('@')
    {
        // The whole address quoted inside its brackets (<"ann@example.com">) is that address.
        let inner = v[open + 1..open + 1 + len].trim();
        let unquoted = inner
            .strip_prefix('"')
            .and_then(|i| i.strip_suffix('"'))
            .filter(|i| !i.contains('"') && herald_domain::EmailAddress::parse(i).is_ok());
        return unquoted.unwrap_or(inner).to_string();
    }
    v.trim_matches(['<', '>', ' ', '"']).to_string()
}

/// The cause in a Sendmail-style subject, "Returned mail: <cause>", unless it is the stock
/// "see transcript for details": Sendmail writes the failure's own words there, where other
/// templates ("Undeliverable: …") quote the original's subject, which may say anything.
fn returned_mail_cause(subject: &str) -> Option<String> {
    let lower = subject.trim().to_ascii_lowercase();
    let cause = lower.strip_prefix("returned mail:")?.trim();
    (!cause.is_empty() && !cause.starts_with("see transcript")).then(|| cause.to_string())
}

/// An RFC 3464 / RFC 6533 DSN.
pub(super) fn delivery_status(message: &Message<'_>) -> Option<Classified> {
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
    let all_rcpts: Vec<String> = blocks.iter().filter_map(|b| recipient_of(b)).collect();
    let reporting_mta = blocks
        .iter()
        .find_map(|b| field(b, "reporting-mta"))
        .unwrap_or_default();
    let report = Report {
        human: &human,
        human_lower: &human_lower,
        gave_up,
        all_rcpts: &all_rcpts,
        reporting_mta,
        reporter: mta::Reporter::identify(message, &human),
        spam_sign: spam_sign(message),
        subject_cause: returned_mail_cause(message.subject().unwrap_or_default()),
    };
    let mut recipients: Vec<Verdict> = blocks
        .iter()
        .filter_map(|block| recipient_verdict(block, &report))
        .take(MAX_RECIPIENTS)
        .collect();
    if recipients.is_empty() {
        // A report part with no recipient fields: read the text instead.
        let scraped = scrape::recipients(
            &human,
            &header_list(message),
            &own_addresses(message),
            report.reporter,
            report.spam_sign,
        );
        // One per-recipient block that names nobody (no Final-Recipient) is still that
        // recipient's account: its status and diagnostic, for the one address the text or
        // the headers (X-Failed-Recipients) name, or, when nothing names one, for the
        // delivery whose return path the report came to.
        let nameless: Vec<_> = blocks
            .iter()
            .filter(|b| field(b, "action").is_some() || field(b, "status").is_some())
            .collect();
        recipients = match (nameless.as_slice(), scraped.as_slice()) {
            ([block], []) => {
                // Hard only when the block's own status (or its diagnostic's code) says
                // so: with no address, the words may be the original's (a subject quoted
                // in the text).
                let mut verdict = block_verdict(block, None, &report);
                let names = |name: &str| {
                    field(block, name)
                        .and_then(Status::find)
                        .and_then(Status::name)
                        == Some(verdict.reason)
                };
                verdict.hard &= names("status") || names("diagnostic-code");
                vec![verdict]
            }
            ([block], [one]) => vec![block_verdict(block, one.email.clone(), &report)],
            _ => scraped,
        };
        if recipients.is_empty() {
            return None;
        }
    }
    Some(Classified {
        recipients,
        ..Classified::empty(Kind::Dsn)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_address_the_sender_gave_is_the_recipient() {
        let block = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        // Rewritten to an internal mailbox: the original is the contact's address.
        let b = block(&[
            ("original-recipient", "rfc822;someone@example.com"),
            ("final-recipient", "rfc822;someone@ims-ms-daemon"),
        ]);
        assert_eq!(recipient_of(&b).as_deref(), Some("someone@example.com"));
        // As the sender encoded it in ORCPT (xtext).
        let b = block(&[
            ("original-recipient", "rfc822;ann+2Bnews@example.com"),
            ("final-recipient", "rfc822;ann@ims-ms-daemon"),
        ]);
        assert_eq!(recipient_of(&b).as_deref(), Some("ann+news@example.com"));
        // An alias that expanded: the member that failed is the recipient, not the alias.
        let b = block(&[
            ("original-recipient", "rfc822;team@example.com"),
            ("final-recipient", "rfc822;member@example.net"),
        ]);
        assert_eq!(recipient_of(&b).as_deref(), Some("member@example.net"));
        // An original that is not a usable mail address leaves the final one as it is.
        for original in [
            "x-local;someone@example.com",
            "rfc822;<>",
            "rfc822;Name <a@b.example",
        ] {
            let b = block(&[
                ("original-recipient", original),
                ("final-recipient", "rfc822;someone@ims-ms-daemon"),
            ]);
            assert_eq!(recipient_of(&b).as_deref(), Some("someone@ims-ms-daemon"));
        }
        assert_eq!(recipient_of(&block(&[("action", "failed")])), None);
        // A display name copied into the field is not part of the address.
        let b = block(&[("final-recipient", "rfc822; \"Ann Lee\" <ann@example.com>")]);
        assert_eq!(recipient_of(&b).as_deref(), Some("ann@example.com"));
        assert_eq!(
            typed_address("rfc822; <ann@example.com>"),
            "ann@example.com"
        );
        // An address in a comment after the address is not the address.
        assert_eq!(
            typed_address("rfc822; ann@example.com (was <old@example.com>)"),
            "ann@example.com"
        );
        assert_eq!(
            typed_address("rfc822; <ann@example.com> (a comment)"),
            "ann@example.com"
        );
        assert_eq!(xtext_decoded("a+2Bb+3Dc+zz+4"), "a+b=c+zz+4");
        // The whole address quoted inside its brackets is still that address.
        assert_eq!(
            typed_address("rfc822; <\"ann@example.com\">"),
            "ann@example.com"
        );
    }

    fn dsn(fields: &str, headers: &str) -> Classified {
        titled("Undelivered Mail Returned to Sender", fields, headers)
    }

    fn titled(subject: &str, fields: &str, headers: &str) -> Classified {
        written(subject, "Delivery failed.\r\n", fields, headers)
    }

    /// A report with its subject, its human-readable text and its recipients' fields.
    fn written(subject: &str, text: &str, fields: &str, headers: &str) -> Classified {
        let raw = format!(
            "From: MAILER-DAEMON@mx.example.com\r\nTo: sender@example.net\r\n{headers}\
             Subject: {subject}\r\n\
             Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n\
             --B\r\nContent-Type: text/plain\r\n\r\n{text}\r\n\
             --B\r\nContent-Type: message/delivery-status\r\n\r\n\
             Reporting-MTA: dns; mx.example.com\r\n\r\n{fields}\r\n--B--\r\n"
        );
        classify_message(raw.as_bytes())
    }

    #[test]
    fn a_block_that_names_nobody_still_gives_its_status() {
        // The recipient named only in X-Failed-Recipients: the one block's status is its.
        let c = dsn(
            "Action: failed\r\nStatus: 5.1.1\r\n",
            "X-Failed-Recipients: ann@example.com\r\n",
        );
        assert_eq!(c.kind, Kind::Dsn);
        assert_eq!(c.recipients.len(), 1);
        let v = &c.recipients[0];
        assert_eq!(v.email.as_deref(), Some("ann@example.com"));
        assert_eq!(v.status.as_deref(), Some("5.1.1"));
        assert_eq!(v.reason, BounceReason::UserUnknown);
        assert!(v.hard);
        // Named nowhere: one verdict without an address (the return path's delivery), from
        // the structured status, which a quoted subject cannot be.
        let c = dsn("Action: failed\r\nStatus: 5.1.1\r\n", "");
        assert_eq!(c.kind, Kind::Dsn);
        assert_eq!(c.recipients.len(), 1);
        let v = &c.recipients[0];
        assert_eq!(v.email, None);
        assert_eq!(v.status.as_deref(), Some("5.1.1"));
        assert_eq!(v.reason, BounceReason::UserUnknown);
        assert!(v.hard);
        // ... and not hard on its words alone, but on the block's own diagnostic's code.
        let c = dsn("Action: failed\r\nStatus: 5.0.0\r\n", "");
        assert_eq!(c.recipients.len(), 1);
        assert!(!c.recipients[0].hard);
        let c = dsn(
            "Action: failed\r\nStatus: 5.0.0\r\nDiagnostic-Code: smtp; 550 5.1.1 user unknown\r\n",
            "",
        );
        assert_eq!(c.recipients[0].reason, BounceReason::UserUnknown);
        assert!(c.recipients[0].hard);
        // Two blocks that name nobody cannot be told apart: not paired with one address.
        let c = dsn(
            "Action: failed\r\nStatus: 5.1.1\r\n\r\nAction: failed\r\nStatus: 5.2.2\r\n",
            "X-Failed-Recipients: ann@example.com\r\n",
        );
        assert!(c.recipients.iter().all(|v| v.status.is_none()));
    }

    #[test]
    fn sendmails_subject_names_the_failure_the_block_leaves_open() {
        let ann = "Final-Recipient: rfc822; ann@example.com\r\nAction: failed\r\nStatus: 5.0.0\r\n";
        let c = titled("Returned mail: User unknown", ann, "");
        assert_eq!(c.recipients.len(), 1);
        assert_eq!(c.recipients[0].reason, BounceReason::UserUnknown);
        assert!(c.recipients[0].hard);
        // The stock subject says nothing; another template's subject quotes the original's.
        for subject in [
            "Returned mail: see transcript for details",
            "Undeliverable: User unknown",
        ] {
            let v = &titled(subject, ann, "").recipients[0];
            assert_eq!(v.reason, BounceReason::OnHold, "{subject}");
            assert!(!v.hard, "{subject}");
        }
        // Of two recipients, the subject may name either's failure.
        let two = format!(
            "{ann}\r\nFinal-Recipient: rfc822; bob@example.com\r\nAction: failed\r\nStatus: 5.0.0\r\n"
        );
        let c = titled("Returned mail: User unknown", &two, "");
        assert_eq!(c.recipients.len(), 2);
        assert!(
            c.recipients
                .iter()
                .all(|v| v.reason == BounceReason::OnHold && !v.hard)
        );
        // The block's own words still come first.
        let full = "Final-Recipient: rfc822; ann@example.com\r\nAction: failed\r\nStatus: 5.0.0\r\n\
                    Diagnostic-Code: smtp; 552 mailbox full\r\n";
        let c = titled("Returned mail: User unknown", full, "");
        assert_eq!(c.recipients[0].reason, BounceReason::MailboxFull);
    }

    #[test]
    fn a_delivery_command_that_failed_is_a_mailer_error() {
        // Postfix's words in the text for the recipient (wrapped as Postfix wraps them), its
        // diagnostic the command's output.
        let report = |text: &str, fields: &str| {
            written("Undelivered Mail Returned to Sender", text, fields, "").recipients[0].clone()
        };
        let v = report(
            "<a-long-mailbox-name-for-wrapping@tickets.example.com>: Command died with\r\n    \
             status 1: \"/usr/local/bin/gateway\". Command output: ticket gateway: cannot\r\n    \
             connect to the ticket database\r\n",
            "Final-Recipient: rfc822; a-long-mailbox-name-for-wrapping@tickets.example.com\r\n\
             Action: failed\r\nStatus: 5.3.0\r\n\
             Diagnostic-Code: x-unix; ticket gateway: cannot connect to the ticket database\r\n",
        );
        assert_eq!(v.reason, BounceReason::MailerError);
        assert!(!v.hard);
        // The command said the user is unknown (EX_NOUSER), and Postfix says so; the
        // diagnostic holds only what the command printed.
        let v = report(
            "<ann@example.com>: user unknown. Command output: gateway: no such user\r\n    \
             here\r\n",
            "Final-Recipient: rfc822; ann@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n\
             Diagnostic-Code: x-unix; gateway: no such user here\r\n",
        );
        assert_eq!(v.reason, BounceReason::UserUnknown);
        assert!(v.hard);
        // A command's message after a code that names no recipient's cause, in the diagnostic.
        let c = dsn(
            "Final-Recipient: rfc822; ann@example.com\r\nAction: delayed\r\nStatus: 4.0.0\r\n\
             Diagnostic-Code: X-Postfix; temporary failure. Command output: avpcheck: unable\r\n \
             to connect to avp daemon: Connection refused\r\n",
            "",
        );
        assert_eq!(c.recipients[0].reason, BounceReason::MailerError);
        // A mailbox's own limit, printed by the command, is still the mailbox's.
        let c = dsn(
            "Final-Recipient: rfc822; ann@example.com\r\nAction: failed\r\nStatus: 5.2.2\r\n\
             Diagnostic-Code: X-Postfix; Command died with status 77: maildrop: maildir over quota.\r\n",
            "",
        );
        assert_eq!(c.recipients[0].reason, BounceReason::MailboxFull);
    }

    #[test]
    fn a_report_that_names_nobody_yields_to_the_report_it_returns() {
        // A gateway's report naming nobody, returning the DSN that names the recipient.
        let raw = "From: MAILER-DAEMON@gw.example.com\r\nTo: sender@example.net\r\n\
             Subject: Undelivered Mail Returned to Sender\r\n\
             Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n\
             --B\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n\r\n\
             --B\r\nContent-Type: message/delivery-status\r\n\r\n\
             Reporting-MTA: dns; gw.example.com\r\n\r\nAction: failed\r\nStatus: 5.0.0\r\n\r\n\
             --B\r\nContent-Type: message/rfc822\r\n\r\n\
             From: MAILER-DAEMON@mx.example.org\r\nTo: sender@example.net\r\n\
             Subject: Undelivered Mail Returned to Sender\r\n\
             Content-Type: multipart/report; report-type=delivery-status; boundary=\"C\"\r\n\r\n\
             --C\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n\r\n\
             --C\r\nContent-Type: message/delivery-status\r\n\r\n\
             Reporting-MTA: dns; mx.example.org\r\n\r\n\
             Final-Recipient: rfc822; bob@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n\
             --C--\r\n\r\n--B--\r\n";
        let c = classify_message(raw.as_bytes());
        assert_eq!(c.recipients.len(), 1);
        assert_eq!(c.recipients[0].email.as_deref(), Some("bob@example.org"));
        assert_eq!(c.recipients[0].reason, BounceReason::UserUnknown);
        assert!(c.recipients[0].hard);
    }

    #[test]
    fn recipients_without_a_blank_line_between_them() {
        for fields in [
            "Final-Recipient: rfc822; ann@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n\
             Final-Recipient: rfc822; bob@example.com\r\nAction: failed\r\nStatus: 5.2.2\r\n",
            "Action: failed\r\nFinal-Recipient: rfc822; ann@example.com\r\nStatus: 5.1.1\r\n\
             Action: failed\r\nFinal-Recipient: rfc822; bob@example.com\r\nStatus: 5.2.2\r\n",
            // Each recipient's fields in the orders Postfix and Amazon SES write them.
            "Final-Recipient: rfc822; ann@example.com\r\nOriginal-Recipient: rfc822;ann@example.com\r\n\
             Action: failed\r\nStatus: 5.1.1\r\n\r\n\
             Action: failed\r\nFinal-Recipient: rfc822; bob@example.com\r\n\
             Original-Recipient: rfc822; bob@example.com\r\nStatus: 5.2.2\r\n",
        ] {
            let c = dsn(fields, "");
            let got: Vec<_> = c
                .recipients
                .iter()
                .map(|v| (v.email.clone().unwrap_or_default(), v.reason))
                .collect();
            assert_eq!(
                got,
                vec![
                    ("ann@example.com".to_string(), BounceReason::UserUnknown),
                    ("bob@example.com".to_string(), BounceReason::MailboxFull),
                ],
                "{fields}"
            );
        }
    }

    fn st(s: &str) -> Option<Status> {
        Status::parse(s)
    }

    #[test]
    fn the_field_or_the_diagnostics_code_whichever_says_more() {
        // A vague field yields to a precise code in the diagnostic, and the reverse.
        assert_eq!(prefer(st("5.0.0"), st("5.1.1"), Some(550)), st("5.1.1"));
        assert_eq!(prefer(st("5.1.1"), st("5.0.0"), Some(550)), st("5.1.1"));
        // A catch-all field (4.4.7) yields to what the reply said.
        assert_eq!(prefer(st("4.4.7"), st("4.4.5"), Some(452)), st("4.4.5"));
        // The reply code's class decides between classes.
        assert_eq!(prefer(st("5.0.0"), st("4.2.2"), Some(452)), st("4.2.2"));
        // Otherwise the field stands.
        assert_eq!(prefer(st("5.2.2"), st("5.7.1"), Some(550)), st("5.2.2"));
        assert_eq!(prefer(None, st("5.7.1"), None), st("5.7.1"));
    }
}
