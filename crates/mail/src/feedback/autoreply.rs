//! Telling bounces from everything else that comes back: reports that only look like
//! bounces, mailing-list refusals, and RFC 3834 auto-replies (vacation messages).

use super::*;

/// Subjects that say a delivery failed (a mail system's words for its report).
const FAILURE_SUBJECTS: &[&str] = &[
    "undeliver",
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
    "could not be delivered",
    "delivery has failed",
];

/// Broader words a bounce's subject may have (and other notices too).
const BROAD_SUBJECTS: &[&str] = &[
    "mail system error",
    "rejected",
    "bounce",
    "warning: could not",
    "notice",
    "error",
    "failed",
];

pub(super) fn looks_like_bounce(message: &Message<'_>) -> bool {
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
    let returns_original = message
        .parts
        .iter()
        .any(|p| is_type(p, "message", "rfc822") || is_type(p, "text", "rfc822-headers"));
    // A person's reply or forward is not a bounce, whatever words its subject repeats ("Re:
    // your parcel could not be delivered"): a reply prefix and the reply's threading headers.
    // (Some gateways write "RE: …: non remis" as a bounce's subject, without threading.)
    const REPLYING: &[&str] = &[
        "re:", "aw:", "sv:", "vs:", "antw:", "fw:", "fwd:", "wg:", "tr:",
    ];
    let replying = REPLYING.iter().any(|p| subject.trim_start().starts_with(p))
        && (message.header_raw("In-Reply-To").is_some()
            || message.header_raw("References").is_some());
    message.header_raw("X-Failed-Recipients").is_some()
        || is_delivery_report(message)
        || SENDERS.iter().any(|s| from.contains(s))
        || (null_sender(message) && returns_original && !is_autoreply(message))
        || (!replying
            && FAILURE_SUBJECTS
                .iter()
                .chain(BROAD_SUBJECTS)
                .any(|s| subject.contains(s))
            && !is_autoreply(message))
}

/// Sent with the null reverse path (RFC 5321 §4.5.5), as the receiving MTA recorded it.
fn null_sender(message: &Message<'_>) -> bool {
    message
        .header_raw("Return-Path")
        .is_some_and(|v| v.trim() == "<>")
}

/// An RFC 3464 delivery report, whatever became of its parts.
pub(super) fn is_delivery_report(message: &Message<'_>) -> bool {
    message
        .content_type()
        .and_then(|ct| ct.attribute("report-type"))
        .is_some_and(|t| t.eq_ignore_ascii_case("delivery-status"))
}

/// A mail system's report that a delivery failed, even when it names no recipient: an RFC 3464
/// delivery report, or a message from the mailer daemon or the postmaster that says a delivery
/// failed (its subject) and is sent like a bounce (the null reverse path) — not an auto-reply,
/// a list's refusal or notice, whatever address it comes from.
pub(super) fn is_unaddressed_bounce(message: &Message<'_>) -> bool {
    if is_delivery_report(message) {
        return true;
    }
    let from = message
        .from()
        .and_then(|a| a.first())
        .and_then(|a| a.address())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let local = from.split('@').next().unwrap_or_default();
    let subject = message.subject().unwrap_or_default().to_ascii_lowercase();
    ["mailer-daemon", "postmaster"].contains(&local)
        && (null_sender(message) || FAILURE_SUBJECTS.iter().any(|s| subject.contains(s)))
        && !is_autoreply(message)
        && list_refusal(message).is_none()
        && message.header_raw("List-Id").is_none()
}

/// Words of a mailing list manager refusing a post from someone who may not post.
pub(super) const LIST_REFUSALS: &[&str] = &[
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
pub(super) fn list_refusal(message: &Message<'_>) -> Option<Classified> {
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
    let list = scrape::recipients(&text, &[], &own, super::mta::Reporter::Other, false)
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
            remote_mta: None,
        }],
        ..Classified::empty(Kind::Dsn)
    })
}

pub(super) fn is_autoreply(message: &Message<'_>) -> bool {
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
pub(super) const VACATION_WORDS: &[&str] = &[
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
