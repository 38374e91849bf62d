//! What a large mailbox provider's own replies mean.
//!
//! Big receivers answer with their own fixed texts and codes and document what each means
//! (Yahoo's and Spectrum's error-code pages, Broadcom's notes on MessageLabs, NTT docomo's
//! filter). The same words can mean different things at different receivers ("Unknown user"
//! at docomo after the message was sent is its sender filter, not a missing mailbox), so these
//! readings apply only when the report shows the reply came from that provider: a remote host,
//! the reporting host or the recipient's domain under one of its names.

use herald_domain::BounceReason;

use super::reasons::{SmtpStage, Status};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Provider {
    Docomo,
    GoogleGroups,
    Hotmail,
    MessageLabs,
    Orange,
    Spectrum,
    Verizon,
    Yahoo,
}

/// Host names (and names under them) each provider receives mail on.
const HOSTS: &[(Provider, &[&str])] = &[
    (Provider::Docomo, &["docomo.ne.jp"]),
    (Provider::GoogleGroups, &["googlegroups.com"]),
    (Provider::Hotmail, &["hotmail.com"]),
    (Provider::MessageLabs, &["messagelabs.com"]),
    // Orange and La Poste (France Télécom's mail platforms).
    (
        Provider::Orange,
        &["orange.fr", "wanadoo.fr", "laposte.net"],
    ),
    (Provider::Spectrum, &["charter.net", "spectrum.net"]),
    // Verizon's e-mail-to-SMS and MMS gateways.
    (Provider::Verizon, &["vtext.com", "vzwpix.com"]),
    (Provider::Yahoo, &["yahoodns.net", "yahoo.com"]),
];

/// Documented reply texts per provider (lower case), in the provider's vocabulary.
const REPLIES: &[(Provider, &str, BounceReason)] = &[
    // Yahoo's error-code page and its long-standing delivery-error texts.
    (
        Provider::Yahoo,
        "this user doesn't have a",
        BounceReason::UserUnknown,
    ),
    (Provider::Yahoo, "is no longer valid", BounceReason::Suspend),
    (
        Provider::Yahoo,
        "this mailbox is disabled",
        BounceReason::Suspend,
    ),
    (
        Provider::Yahoo,
        "mailbox not found",
        BounceReason::UserUnknown,
    ),
    (
        Provider::Yahoo,
        "not accepted for policy reasons",
        BounceReason::PolicyViolation,
    ),
    (
        Provider::Yahoo,
        "receiving mail too quickly",
        BounceReason::Speeding,
    ),
    // Outlook.com / Hotmail: the classic answer for an address it does not have.
    (
        Provider::Hotmail,
        "mailbox unavailable",
        BounceReason::UserUnknown,
    ),
    // Outlook.com's block codes: SC (spam/policy), DY (dynamic IP), OU (policy) are blocks of
    // the sending IP, not of the message.
    (Provider::Hotmail, "sc-001", BounceReason::Blocked),
    (Provider::Hotmail, "sc-002", BounceReason::Blocked),
    (Provider::Hotmail, "sc-003", BounceReason::Blocked),
    (Provider::Hotmail, "sc-004", BounceReason::Blocked),
    (Provider::Hotmail, "dy-001", BounceReason::Blocked),
    (Provider::Hotmail, "dy-002", BounceReason::Blocked),
    (Provider::Hotmail, "ou-001", BounceReason::Blocked),
    (Provider::Hotmail, "ou-002", BounceReason::Blocked),
    // A number that is not a Verizon subscriber's.
    (Provider::Verizon, "no such user", BounceReason::UserUnknown),
    // Symantec (Broadcom) Email Security.cloud: its invalid-recipient answers.
    (
        Provider::MessageLabs,
        "no such user",
        BounceReason::UserUnknown,
    ),
    (
        Provider::MessageLabs,
        "invalid recipient",
        BounceReason::UserUnknown,
    ),
    (
        Provider::MessageLabs,
        "recipient mailbox is not allowed",
        BounceReason::UserUnknown,
    ),
];

/// Spectrum's `AUP#I-nnnn` / `AUP#O-nnnn` codes (its "understanding email error codes" page),
/// as inclusive ranges.
const SPECTRUM_CODES: &[(u16, u16, BounceReason)] = &[
    (1000, 1000, BounceReason::Blocked),
    (1010, 1080, BounceReason::Rejected),
    (1090, 1090, BounceReason::SystemError),
    (1100, 1150, BounceReason::RequirePtr),
    (1160, 1190, BounceReason::PolicyViolation),
    (1200, 1250, BounceReason::Blocked),
    (1260, 1260, BounceReason::NetworkError),
    (1300, 1340, BounceReason::TooManyConn),
    (1350, 1490, BounceReason::Speeding),
    (1500, 1520, BounceReason::Rejected),
    (1530, 1530, BounceReason::MesgTooBig),
    (1540, 1550, BounceReason::Speeding),
    (1560, 1560, BounceReason::PolicyViolation),
    (1580, 1580, BounceReason::Speeding),
];

/// Orange's and La Poste's reply labels (`LPN007_420`, `OFR_416`, `OFR004_405 [405]`): the
/// last three digits name the cause (Orange's postmaster error-code list).
const ORANGE_CODES: &[(u16, BounceReason)] = &[
    (101, BounceReason::Blocked),
    (102, BounceReason::Blocked),
    (103, BounceReason::Blocked),
    (104, BounceReason::TooManyConn),
    (305, BounceReason::SecurityError),
    (401, BounceReason::AuthFailure),
    (402, BounceReason::SecurityError),
    (403, BounceReason::Rejected),
    (405, BounceReason::Rejected),
    (415, BounceReason::Rejected),
    (416, BounceReason::UserUnknown),
    (417, BounceReason::MailboxFull),
    (420, BounceReason::Suspend),
    (421, BounceReason::Rejected),
    (426, BounceReason::Suspend),
    (505, BounceReason::SystemError),
    (506, BounceReason::SpamDetected),
    (510, BounceReason::Blocked),
    (514, BounceReason::MesgTooBig),
    (517, BounceReason::AuthFailure),
    (630, BounceReason::PolicyViolation),
    (999, BounceReason::Blocked),
];

/// The provider a reply came from, judged from host names in `hosts` (remote and reporting
/// hosts, the recipient's domain, the report's own lines naming the host that answered).
fn identify(hosts: &str) -> Option<Provider> {
    let lower = hosts.to_ascii_lowercase();
    lower
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '-'))
        .map(|t| t.trim_matches('.'))
        .filter(|t| t.contains('.'))
        .find_map(|token| {
            HOSTS.iter().find_map(|(provider, names)| {
                names
                    .iter()
                    .any(|n| {
                        token == *n
                            || token
                                .strip_suffix(n)
                                .is_some_and(|head| head.ends_with('.'))
                    })
                    .then_some(*provider)
            })
        })
}

/// The provider's own reading of `reply` (lower case), when `hosts` shows who answered.
pub fn reason(hosts: &str, reply: &str, stage: Option<SmtpStage>) -> Option<BounceReason> {
    let provider = identify(hosts)?;
    if provider == Provider::Docomo && reply.contains("unknown user") {
        // docomo answers "Unknown user" to RCPT for a missing address, and after the
        // message for a recipient whose filter refuses the sender.
        return match stage {
            Some(SmtpStage::RcptTo) => Some(BounceReason::UserUnknown),
            Some(s) if s.is_content() => Some(BounceReason::Rejected),
            _ => None,
        };
    }
    if provider == Provider::GoogleGroups && Status::find(reply).is_none() {
        // Google Groups answers in the sender's language; its refusal without a status code
        // always means "no permission to post to this group".
        return Some(BounceReason::Rejected);
    }
    if provider == Provider::Spectrum {
        return spectrum_code(reply).and_then(|code| {
            SPECTRUM_CODES
                .iter()
                .find(|(from, to, _)| (*from..=*to).contains(&code))
                .map(|(_, _, r)| *r)
        });
    }
    if provider == Provider::Orange
        && let Some(code) = orange_code(reply)
    {
        return ORANGE_CODES
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(_, r)| *r);
    }
    REPLIES
        .iter()
        .find(|(p, text, _)| *p == provider && reply.contains(text))
        .map(|(_, _, r)| *r)
}

/// The three digits after the last `lpn…_`, `ofr…_` or `ouk…_` label.
fn orange_code(reply: &str) -> Option<u16> {
    ["lpn", "ofr", "ouk"]
        .iter()
        .filter_map(|label| reply.rfind(label).map(|at| &reply[at + label.len()..]))
        .find_map(|rest| {
            let token = rest.split(|c: char| c.is_whitespace()).next()?;
            let (_, digits) = token.rsplit_once('_')?;
            let digits = digits.trim_end_matches(|c: char| !c.is_ascii_digit());
            (digits.len() == 3 && digits.bytes().all(|b| b.is_ascii_digit()))
                .then(|| digits.parse().ok())
                .flatten()
        })
}

/// The four digits of an `AUP#In-1310`-style code.
fn spectrum_code(reply: &str) -> Option<u16> {
    let at = reply.find("aup#")?;
    let rest = &reply[at + 4..];
    let start = rest.find(|c: char| c.is_ascii_digit())?;
    // Only the label's own characters may stand between "AUP#" and the digits.
    if !rest[..start]
        .bytes()
        .all(|b| b.is_ascii_alphabetic() || b == b'-')
    {
        return None;
    }
    let digits: String = rest[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    (digits.len() == 4).then(|| digits.parse().ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn providers_are_known_by_their_hosts_only() {
        assert_eq!(identify("mta6.am0.yahoodns.net"), Some(Provider::Yahoo));
        assert_eq!(identify("rfc822; someone@yahoo.com"), Some(Provider::Yahoo));
        assert_eq!(identify("notyahoo.com"), None);
        assert_eq!(identify("mx.example.org"), None);
        // The same words from anyone else mean nothing here.
        assert_eq!(
            reason(
                "mx.example.org",
                "554 delivery error: dd this user doesn't have a example.org account",
                None
            ),
            None
        );
        assert_eq!(
            reason(
                "mx.yahoodns.net",
                "554 delivery error: dd this user doesn't have a yahoo.com account",
                None
            ),
            Some(BounceReason::UserUnknown)
        );
    }

    #[test]
    fn docomo_unknown_user_depends_on_the_stage() {
        let reply = "550 unknown user a@docomo.ne.jp";
        let host = "mfsmax.docomo.ne.jp";
        assert_eq!(
            reason(host, reply, Some(SmtpStage::EndOfData)),
            Some(BounceReason::Rejected)
        );
        assert_eq!(
            reason(host, reply, Some(SmtpStage::RcptTo)),
            Some(BounceReason::UserUnknown)
        );
        assert_eq!(reason(host, reply, None), None);
    }

    #[test]
    fn orange_labels() {
        let host = "smtp-in.orange.fr";
        assert_eq!(
            reason(host, "554 5.7.1 client host rejected lpn000_630", None),
            Some(BounceReason::PolicyViolation)
        );
        assert_eq!(
            reason(host, "550 invalid recipient. ofr_416 [416]", None),
            Some(BounceReason::UserUnknown)
        );
        assert_eq!(
            reason(
                host,
                "archived recipient. lpn007_420 (in reply to rcpt to command)",
                None
            ),
            Some(BounceReason::Suspend)
        );
        assert_eq!(
            reason(host, "service refused, please try later", None),
            None
        );
        assert_eq!(reason("mx.example.org", "lpn000_630", None), None);
    }

    #[test]
    fn spectrum_codes() {
        let host = "dns; mx.charter.net";
        assert_eq!(
            reason(host, "550 5.1.0 sender rejected. aup#in-1310", None),
            Some(BounceReason::TooManyConn)
        );
        assert_eq!(
            reason(host, "aup#o-1530 too big", None),
            Some(BounceReason::MesgTooBig)
        );
        assert_eq!(reason(host, "aup#in-9999", None), None);
        assert_eq!(reason(host, "aup# see 1310", None), None);
    }
}
