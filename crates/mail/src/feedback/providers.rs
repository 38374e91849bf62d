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
    Aol,
    Apple,
    /// AT&T's mail (att.net, SBC, BellSouth), received on Yahoo-run prodigy.net hosts.
    Att,
    /// Comcast / Xfinity.
    Comcast,
    Cox,
    Docomo,
    Facebook,
    GoDaddy,
    Google,
    GoogleGroups,
    /// Google's own outbound (a Gmail / Workspace DSN, `Reporting-MTA: dns; googlemail.com`).
    GoogleMail,
    Hotmail,
    Kddi,
    MessageLabs,
    Microsoft,
    Mimecast,
    /// NetEase (163.com, 126.com, yeah.net) and its Coremail codes.
    NetEase,
    Orange,
    /// Rackspace Email (`emailsrvr.com`).
    Rackspace,
    /// Seznam.cz.
    Seznam,
    /// Sophos Email (Central).
    Sophos,
    Spectrum,
    Tencent,
    /// Deutsche Telekom's T-Online.
    TOnline,
    /// United Internet's GMX, WEB.DE, mail.com and 1&1 / IONOS.
    UnitedInternet,
    Verizon,
    Yahoo,
    Yandex,
}

/// Host names (and names under them) each provider receives mail on (and, for AOL, the
/// postmaster pages its refusals link to).
const HOSTS: &[(Provider, &[&str])] = &[
    // (Its error pages name it too: "… (RTR:BB) http://postmaster.info.aol.com/errors/….")
    (
        Provider::Aol,
        &["mail.aol.com", "mx.aol.com", "postmaster.info.aol.com"],
    ),
    (
        Provider::Apple,
        &[
            "mail.icloud.com",
            "icloud.com",
            "apple.com",
            "me.com",
            "mac.com",
        ],
    ),
    (
        Provider::Att,
        &["att.net", "prodigy.net", "sbcglobal.net", "bellsouth.net"],
    ),
    (Provider::Comcast, &["comcast.net", "xfinity.com"]),
    (Provider::Cox, &["cox.net"]),
    (Provider::Docomo, &["docomo.ne.jp"]),
    (Provider::Facebook, &["facebook.com"]),
    (Provider::GoDaddy, &["secureserver.net"]),
    (
        Provider::Google,
        &[
            "aspmx.l.google.com",
            "gmail-smtp-in.l.google.com",
            "l.google.com",
        ],
    ),
    (Provider::GoogleMail, &["googlemail.com"]),
    (Provider::Kddi, &["ezweb.ne.jp", "au.com"]),
    (
        Provider::Microsoft,
        &[
            "prod.outlook.com",
            "protection.outlook.com",
            "onmicrosoft.com",
            "exchangelabs.com",
        ],
    ),
    (Provider::Mimecast, &["mimecast.com"]),
    (
        Provider::NetEase,
        &["163.com", "126.com", "yeah.net", "188.com", "netease.com"],
    ),
    (Provider::Rackspace, &["emailsrvr.com"]),
    (Provider::Seznam, &["seznam.cz", "email.cz"]),
    (Provider::Sophos, &["sophos.com"]),
    (Provider::TOnline, &["t-online.de"]),
    (
        Provider::UnitedInternet,
        &[
            "gmx.net",
            "gmx.de",
            "gmx.com",
            "web.de",
            "mail.com",
            "ionos.de",
            "ionos.com",
            "kundenserver.de",
        ],
    ),
    (
        Provider::Yandex,
        &["yandex.ru", "yandex.net", "yandex.com", "ya.ru"],
    ),
    (Provider::Tencent, &["qq.com"]),
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
    (
        Provider::Yahoo,
        &["yahoodns.net", "yahoo.com", "yahooinc.com"],
    ),
];

/// Documented reply texts per provider (lower case), in the provider's vocabulary.
#[rustfmt::skip]
const REPLIES: &[(Provider, &str, BounceReason)] = &[
    // Yahoo's error-code page and its long-standing delivery-error texts.
    (Provider::Yahoo, "this user doesn't have a", BounceReason::UserUnknown),
    (Provider::Yahoo, "is no longer valid", BounceReason::Suspend),
    (Provider::Yahoo, "this mailbox is disabled", BounceReason::Suspend),
    (Provider::Yahoo, "mailbox not found", BounceReason::UserUnknown),
    (Provider::Yahoo, "not accepted for policy reasons", BounceReason::PolicyViolation),
    (Provider::Yahoo, "receiving mail too quickly", BounceReason::Speeding),
    (Provider::Yahoo, " will be permanently deferred", BounceReason::Rejected),
    (Provider::Yahoo, "due to unresolvable rfc.5321 domain", BounceReason::Rejected),
    // Outlook.com / Hotmail: the classic answer for an address it does not have.
    (Provider::Hotmail, "mailbox unavailable", BounceReason::UserUnknown),
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
    (Provider::MessageLabs, "no such user", BounceReason::UserUnknown),
    (Provider::MessageLabs, "invalid recipient", BounceReason::UserUnknown),
    (Provider::MessageLabs, "recipient mailbox is not allowed", BounceReason::UserUnknown),
    // Google's and Microsoft's error-code pages, Apple's, AOL's, Mimecast's, GoDaddy's,
    // Tencent's, Cox's and au's postmaster notes.
    (Provider::Aol, "host or domain name not found", BounceReason::HostUnknown),
    // The member's own block of our sender (AOL's "Is Not Accepting Mail From This Sender").
    (Provider::Aol, "not accepting mail from this sender", BounceReason::Filtered),
    (Provider::Aol, "type=mx: malformed or unexpected name server reply", BounceReason::NotAccept),
    (Provider::Apple, "s dmarc policy", BounceReason::AuthFailure),
    (Provider::Apple, "failing both spf and dkim", BounceReason::AuthFailure),
    (Provider::Apple, "spamhaus", BounceReason::Blocked),
    (Provider::Apple, "dnsbl-lookup", BounceReason::Blocked),
    (Provider::Apple, "not accepting connections", BounceReason::Blocked),
    (Provider::Apple, "recipient no longer on server", BounceReason::HasMoved),
    (Provider::Apple, "user is over quota", BounceReason::MailboxFull),
    (Provider::Apple, "relay access denied", BounceReason::NoRelaying),
    (Provider::Apple, "host/domain does not accept mail", BounceReason::NotAccept),
    (Provider::Apple, "due to local policy", BounceReason::PolicyViolation),
    (Provider::Apple, "sender address rejected", BounceReason::Rejected),
    (Provider::Apple, "due to excessive volume", BounceReason::Speeding),
    (Provider::Apple, "inactive email address", BounceReason::UserUnknown),
    (Provider::Apple, "user does not exist", BounceReason::UserUnknown),
    (Provider::Apple, "unknown or illegal alias", BounceReason::UserUnknown),
    (Provider::Cox, "rejected - no rdns", BounceReason::RequirePtr),
    (Provider::Cox, "too many invalid recipients", BounceReason::Blocked),
    (Provider::Cox, "attachment extension is forbidden", BounceReason::PolicyViolation),
    (Provider::Cox, "esmtp no data before greeting", BounceReason::PolicyViolation),
    (Provider::Cox, "sender rejected", BounceReason::Rejected),
    (Provider::Cox, "esmtp server temporarily not available", BounceReason::SystemError),
    (Provider::Cox, "too many sessions from", BounceReason::TooManyConn),
    (Provider::Cox, "message threshold exceeded", BounceReason::TooManyConn),
    (Provider::Cox, "recipient rejected", BounceReason::UserUnknown),
    (Provider::GoDaddy, "rbl reject", BounceReason::Blocked),
    (Provider::GoDaddy, "has been in the queue too long", BounceReason::Expired),
    (Provider::GoDaddy, "delivery timeout", BounceReason::Expired),
    (Provider::GoDaddy, "account storage limit", BounceReason::MailboxFull),
    (Provider::GoDaddy, "message rejected for spam or virus content", BounceReason::SpamDetected),
    (Provider::GoDaddy, "account disabled", BounceReason::Suspend),
    (Provider::GoDaddy, "message is looping", BounceReason::SystemError),
    (Provider::GoDaddy, "recipient not found", BounceReason::UserUnknown),
    (Provider::GoDaddy, "account does not exist", BounceReason::UserUnknown),
    // Gmail's SMTP error reference.
    (Provider::Google, "the spf record of the sending domain", BounceReason::AuthFailure),
    (Provider::Google, "authenticate with either spf or dkim", BounceReason::AuthFailure),
    (Provider::Google, "spf record with a hard fail", BounceReason::AuthFailure),
    (Provider::Google, "domain's dmarc policy", BounceReason::AuthFailure),
    (Provider::Google, "fails to pass authentication checks", BounceReason::AuthFailure),
    (Provider::Google, "authenticate with spf", BounceReason::AuthFailure),
    (Provider::Google, "authenticate their email with", BounceReason::AuthFailure),
    (Provider::Google, "authenticate with dkim", BounceReason::AuthFailure),
    (Provider::Google, "aligned with either the authenticated spf or dkim", BounceReason::AuthFailure),
    (Provider::Google, "to add a dmarc record to", BounceReason::AuthFailure),
    (Provider::Google, "very low reputation of the sending", BounceReason::BadReputation),
    (Provider::Google, "ip not in whitelist for rcpt domain", BounceReason::Blocked),
    (Provider::Google, "try again later, closing connection.", BounceReason::Blocked),
    (Provider::Google, "helo/ehlo argument not allowed", BounceReason::Blocked),
    (Provider::Google, "helo/ehlo argument is invalid", BounceReason::Blocked),
    (Provider::Google, "an unusual rate of", BounceReason::Blocked),
    (Provider::Google, "exceeds google's limit of", BounceReason::ExceedLimit),
    (Provider::Google, "message header size limit", BounceReason::ExceedLimit),
    (Provider::Google, "bytes per individual header size", BounceReason::ExceedLimit),
    (Provider::Google, "header name limit of", BounceReason::ExceedLimit),
    (Provider::Google, "connection expired", BounceReason::Expired),
    (Provider::Google, "timeout - closing connection", BounceReason::Expired),
    (Provider::Google, "must issue a starttls command first", BounceReason::FailedStartTls),
    (Provider::Google, "starttls may not be repeated", BounceReason::FailedStartTls),
    (Provider::Google, "tls required for rcpt domain", BounceReason::FailedStartTls),
    (Provider::Google, "senders to use tls/ssl for smtp", BounceReason::FailedStartTls),
    (Provider::Google, "inbox is out of storage space", BounceReason::MailboxFull),
    (Provider::Google, "is over quota", BounceReason::MailboxFull),
    (Provider::Google, "email quota exceeded", BounceReason::MailboxFull),
    (Provider::Google, "exceeded google's message size limits", BounceReason::MesgTooBig),
    (Provider::Google, "exceeds google's message size limit", BounceReason::MesgTooBig),
    (Provider::Google, "message exceeded 50 hops", BounceReason::NetworkError),
    (Provider::Google, "mail relay denied", BounceReason::NoRelaying),
    (Provider::Google, "invalid credentials for relay", BounceReason::NoRelaying),
    (Provider::Google, "not authorized to send email directly to our servers", BounceReason::NoRelaying),
    (Provider::Google, "missing a valid address in the from: header", BounceReason::NotCompliantRfc),
    (Provider::Google, "multiple addresses in from: header", BounceReason::NotCompliantRfc),
    (Provider::Google, "is not rfc 5322 compliant", BounceReason::NotCompliantRfc),
    (Provider::Google, "missing a valid message-id: header", BounceReason::NotCompliantRfc),
    (Provider::Google, "unicode character in a disallowed header", BounceReason::NotCompliantRfc),
    (Provider::Google, "encoded-word syntax is not permitted", BounceReason::NotCompliantRfc),
    (Provider::Google, "is not a valid rfc 5321 address", BounceReason::NotCompliantRfc),
    (Provider::Google, "mail message is malformed", BounceReason::NotCompliantRfc),
    (Provider::Google, "illegal attachment on your message", BounceReason::PolicyViolation),
    (Provider::Google, "content presents a potential security issue", BounceReason::PolicyViolation),
    (Provider::Google, "has a policy that prohibited", BounceReason::PolicyViolation),
    (Provider::Google, "sending messages with the same message-id", BounceReason::PolicyViolation),
    (Provider::Google, "mail sending denied", BounceReason::Rejected),
    (Provider::Google, "unauthenticated email is not accepted", BounceReason::Rejected),
    (Provider::Google, "does not have a ptr record", BounceReason::RequirePtr),
    (Provider::Google, "have a ptr record, or the ptr record", BounceReason::RequirePtr),
    (Provider::Google, "guidelines regarding ptr records", BounceReason::RequirePtr),
    (Provider::Google, "does not match the ip address of the hostname", BounceReason::RequirePtr),
    (Provider::Google, "too many login attempts", BounceReason::SecurityError),
    (Provider::Google, "cannot decode response", BounceReason::SecurityError),
    (Provider::Google, "no identity changes permitted", BounceReason::SecurityError),
    (Provider::Google, "authentication required.", BounceReason::SecurityError),
    (Provider::Google, "application-specific password required", BounceReason::SecurityError),
    (Provider::Google, "log in with your web browser", BounceReason::SecurityError),
    (Provider::Google, "log in through your web browser", BounceReason::SecurityError),
    (Provider::Google, "username and password not accepted", BounceReason::SecurityError),
    (Provider::Google, "nature of the content or the links within", BounceReason::SpamDetected),
    (Provider::Google, "likely unsolicited mail", BounceReason::SpamDetected),
    (Provider::Google, "receiving mail too quickly", BounceReason::Speeding),
    (Provider::Google, "peak smtp relay limit exceeded", BounceReason::Speeding),
    (Provider::Google, "rate that prevents additional messages", BounceReason::Speeding),
    (Provider::Google, "daily sending quota exceeded", BounceReason::Speeding),
    (Provider::Google, "daily user sending limit exceeded", BounceReason::Speeding),
    (Provider::Google, "daily smtp relay", BounceReason::Speeding),
    (Provider::Google, "this mail has been rate limited", BounceReason::Speeding),
    (Provider::Google, "account that you tried to reach is disabled", BounceReason::Suspend),
    (Provider::Google, "account that you tried to reach is inactive", BounceReason::Suspend),
    (Provider::Google, "smtp protocol violation", BounceReason::SyntaxError),
    (Provider::Google, "optional argument not permitted", BounceReason::SyntaxError),
    (Provider::Google, "unrecognized command", BounceReason::SyntaxError),
    (Provider::Google, "unimplemented command", BounceReason::SyntaxError),
    (Provider::Google, "bad sequence of commands", BounceReason::SyntaxError),
    (Provider::Google, "unrecognized authentication type", BounceReason::SyntaxError),
    (Provider::Google, "too many unauthenticated commands", BounceReason::SyntaxError),
    (Provider::Google, "syntax error", BounceReason::SyntaxError),
    (Provider::Google, "temporary system problem", BounceReason::SystemError),
    (Provider::Google, "server busy", BounceReason::SystemError),
    (Provider::Google, "multiple destination domains per transaction", BounceReason::SystemError),
    (Provider::Google, "temporarily rejected", BounceReason::SystemError),
    (Provider::Google, "domain policy size per transaction exceeded", BounceReason::SystemError),
    (Provider::Google, "has too many recipients", BounceReason::TooManyConn),
    (Provider::Google, "too many recipients for this sender", BounceReason::TooManyConn),
    (Provider::Google, "account that you tried to reach does not exist", BounceReason::UserUnknown),
    (Provider::Google, "weren't able to find the recipient domain", BounceReason::UserUnknown),
    (Provider::Kddi, "550 : user unknown", BounceReason::Filtered),
    (Provider::Kddi, ">: user unknown", BounceReason::UserUnknown),
    (Provider::Mimecast, "spf sender invalid", BounceReason::AuthFailure),
    (Provider::Mimecast, "dkim sender invalid", BounceReason::AuthFailure),
    (Provider::Mimecast, "dmarc sender invalid", BounceReason::AuthFailure),
    (Provider::Mimecast, "local ct ip reputation", BounceReason::BadReputation),
    (Provider::Mimecast, "internal resources are temporarily unavailable", BounceReason::BadReputation),
    (Provider::Mimecast, "sender address blocked", BounceReason::Blocked),
    (Provider::Mimecast, "recipient temporarily unavailable", BounceReason::Blocked),
    (Provider::Mimecast, "ip temporarily blacklisted", BounceReason::Blocked),
    (Provider::Mimecast, "this route requires", BounceReason::FailedStartTls),
    (Provider::Mimecast, "configuration is invalid for this certificate", BounceReason::FailedStartTls),
    (Provider::Mimecast, "maximum email size exceeded", BounceReason::MesgTooBig),
    (Provider::Mimecast, "the incorrect hostname used for inbounds", BounceReason::NetworkError),
    (Provider::Mimecast, "mail loop detected", BounceReason::NetworkError),
    (Provider::Mimecast, "open relay not allowed", BounceReason::NoRelaying),
    (Provider::Mimecast, "open relay is not allowed", BounceReason::NoRelaying),
    (Provider::Mimecast, "account inbounds disabled", BounceReason::NotAccept),
    (Provider::Mimecast, "anti-spoofing policy", BounceReason::PolicyViolation),
    (Provider::Mimecast, "content examination policy", BounceReason::PolicyViolation),
    (Provider::Mimecast, "host network not allowed", BounceReason::PolicyViolation),
    (Provider::Mimecast, "host network, not allowed", BounceReason::PolicyViolation),
    (Provider::Mimecast, "envelope blocked", BounceReason::Rejected),
    (Provider::Mimecast, "blocked senders", BounceReason::Rejected),
    (Provider::Mimecast, "block policy for", BounceReason::Rejected),
    (Provider::Mimecast, "incorrect authentication data", BounceReason::SecurityError),
    (Provider::Mimecast, "submitter failed to", BounceReason::SecurityError),
    (Provider::Mimecast, "unable to process", BounceReason::SystemError),
    (Provider::Mimecast, "message ended early", BounceReason::SystemError),
    (Provider::Mimecast, "account service is temporarily unavailable", BounceReason::TooManyConn),
    (Provider::Mimecast, "too many recipients", BounceReason::TooManyConn),
    (Provider::Mimecast, "exceeding outbound thread limit", BounceReason::TooManyConn),
    (Provider::Mimecast, "invalid address", BounceReason::UserUnknown),
    (Provider::Mimecast, "user unknown", BounceReason::UserUnknown),
    (Provider::Mimecast, "invalid recipient", BounceReason::UserUnknown),
    (Provider::Mimecast, "email rejected due to security policies", BounceReason::VirusDetected),
    (Provider::Tencent, "spf check failed", BounceReason::AuthFailure),
    (Provider::Tencent, "dmarc check failed", BounceReason::AuthFailure),
    (Provider::Tencent, "suspected bounce attacks", BounceReason::Blocked),
    (Provider::Tencent, "suspected spam ip", BounceReason::Blocked),
    (Provider::Tencent, "connection denied", BounceReason::Blocked),
    (Provider::Tencent, "message too large", BounceReason::MesgTooBig),
    (Provider::Tencent, "spam is embedded in the email", BounceReason::SpamDetected),
    (Provider::Tencent, "mail content denied", BounceReason::SpamDetected),
    (Provider::Tencent, "suspected spam", BounceReason::Rejected),
    (Provider::Tencent, "mail is rejected by recipients", BounceReason::Rejected),
    (Provider::Tencent, "mailbox unavailable or access denined", BounceReason::Speeding),
    (Provider::Tencent, "frequency of receiving messages is limited", BounceReason::Speeding),
    (Provider::Tencent, "is a deactivated mailbox", BounceReason::Suspend),
    (Provider::Tencent, "bad address syntax", BounceReason::SyntaxError),
    (Provider::Tencent, "frequency limited", BounceReason::TooManyConn),
    (Provider::Tencent, "mailbox not found", BounceReason::UserUnknown),
    // Comcast's postmaster error codes: ES* a dynamic or residential IP, BL000000 its own
    // spam-pattern block (the other BL codes name the block lists that listed the IP), RL*
    // throttling; "Not our Customer" is its answer for an address it does not have.
    (Provider::Comcast, "bl000000", BounceReason::BadReputation),
    (Provider::Comcast, "#bl0", BounceReason::Blocked),
    (Provider::Comcast, "#es0", BounceReason::Blocked),
    (Provider::Comcast, "#rl0", BounceReason::Speeding),
    (Provider::Comcast, "too many sessions opened", BounceReason::TooManyConn),
    (Provider::Comcast, "not our customer", BounceReason::UserUnknown),
    // AT&T's block and account pages.
    (Provider::Att, "dnsbl:attrbl", BounceReason::Blocked),
    (Provider::Att, "blocked for abuse", BounceReason::Blocked),
    (Provider::Att, "unauthorized interface for", BounceReason::Blocked),
    (Provider::Att, "requires valid sender domain", BounceReason::Rejected),
    (Provider::Att, "mailbox currently suspended", BounceReason::Suspend),
    // NetEase's bounce-code table (HL: the sending IP, MI: the sender, RP: the recipients,
    // DT: the content, WM: the allow lists).
    (Provider::NetEase, "hl:rep", BounceReason::BadReputation),
    (Provider::NetEase, "hl:mep", BounceReason::BadReputation),
    (Provider::NetEase, "hl:ihu", BounceReason::BadReputation),
    (Provider::NetEase, "hl:icc", BounceReason::TooManyConn),
    (Provider::NetEase, "hl:ifc", BounceReason::Speeding),
    (Provider::NetEase, "hl:ifq", BounceReason::Speeding),
    (Provider::NetEase, "hl:itc", BounceReason::Speeding),
    (Provider::NetEase, "hl:ipb", BounceReason::Blocked),
    (Provider::NetEase, "dt:rbl", BounceReason::Blocked),
    (Provider::NetEase, "wm:bli", BounceReason::Blocked),
    (Provider::NetEase, "ip in blacklist", BounceReason::Blocked),
    (Provider::NetEase, "dt:spm", BounceReason::SpamDetected),
    (Provider::NetEase, "mi:spf", BounceReason::AuthFailure),
    (Provider::NetEase, "mi:dma", BounceReason::AuthFailure),
    (Provider::NetEase, "mi:sfq", BounceReason::Speeding),
    (Provider::NetEase, "mi:stc", BounceReason::Speeding),
    (Provider::NetEase, "mi:dmc", BounceReason::Speeding),
    (Provider::NetEase, "rp:qrc", BounceReason::Speeding),
    (Provider::NetEase, "rp:trc", BounceReason::Speeding),
    (Provider::NetEase, "rp:rcl", BounceReason::ExceedLimit),
    (Provider::NetEase, "rp:drc", BounceReason::ExceedLimit),
    (Provider::NetEase, "too much recipient", BounceReason::ExceedLimit),
    (Provider::NetEase, "rp:frl", BounceReason::NoRelaying),
    (Provider::NetEase, "mi:imf", BounceReason::Rejected),
    (Provider::NetEase, "mi:spb", BounceReason::Rejected),
    (Provider::NetEase, "wm:blu", BounceReason::Rejected),
    (Provider::NetEase, "user in blacklist", BounceReason::Rejected),
    (Provider::NetEase, "mi:nhd", BounceReason::SyntaxError),
    (Provider::NetEase, "user suspended", BounceReason::Suspend),
    (Provider::NetEase, "invalid user", BounceReason::UserUnknown),
    (Provider::NetEase, "illegal attachment", BounceReason::PolicyViolation),
    // Rackspace's (Gnn) codes.
    (Provider::Rackspace, "(g2)", BounceReason::TooManyConn),
    (Provider::Rackspace, "(g1f)", BounceReason::RequirePtr),
    (Provider::Rackspace, "(g30)", BounceReason::Speeding),
    (Provider::Rackspace, "(g28)", BounceReason::Speeding),
    (Provider::Rackspace, "(g16)", BounceReason::SystemError),
    (Provider::Rackspace, "(g6)", BounceReason::SystemError),
    (Provider::Rackspace, "too much spam from your mail server", BounceReason::BadReputation),
    // Seznam: a name with no mailbox behind it.
    (Provider::Seznam, "hasn't got the service mapped", BounceReason::UserUnknown),
    // T-Online's bracketed block tags: no (or a bad) reputation yet, a dial-up address, its
    // block list.
    (Provider::TOnline, "(nowl)", BounceReason::BadReputation),
    (Provider::TOnline, "(dial)", BounceReason::Blocked),
    (Provider::TOnline, "(bl)", BounceReason::Blocked),
    // GMX / WEB.DE give no enhanced codes: the case code of their explanation link decides.
    (Provider::UnitedInternet, "case?c=r0201", BounceReason::Blocked),
    (Provider::UnitedInternet, "case?c=r0601", BounceReason::RequirePtr),
    (Provider::UnitedInternet, "received in a short period of time", BounceReason::Speeding),
    (Provider::UnitedInternet, "rate limit reached", BounceReason::Speeding),
    (Provider::UnitedInternet, "421 reject due to policy violations", BounceReason::BadReputation),
    (Provider::UnitedInternet, "too many messages on server", BounceReason::MailboxFull),
    // Yandex's bounce help pages.
    (Provider::Yandex, "policy rejection on the target address", BounceReason::Suspend),
    (Provider::Yandex, "blocked by spam statistics", BounceReason::BadReputation),
    (Provider::Yandex, "rejected under suspicion of spam", BounceReason::SpamDetected),
];

/// Sophos Email's `XGEMAIL_nnnn` codes (its SMTP error codes page); the code names the
/// service wherever the reply is relayed.
#[rustfmt::skip]
const SOPHOS_CODES: &[(&str, BounceReason)] = &[
    ("xgemail_0001", BounceReason::AuthFailure),
    ("xgemail_0002", BounceReason::AuthFailure),
    ("xgemail_0003", BounceReason::AuthFailure),
    ("xgemail_0004", BounceReason::Blocked),
    ("xgemail_0005", BounceReason::BadReputation),
    ("xgemail_0009", BounceReason::Filtered),
    ("xgemail_0010", BounceReason::NoRelaying),
    ("xgemail_0011", BounceReason::UserUnknown),
    ("xgemail_0012", BounceReason::MesgTooBig),
    ("xgemail_0013", BounceReason::ExceedLimit),
    ("xgemail_0014", BounceReason::Speeding),
    ("xgemail_0015", BounceReason::Speeding),
];

/// Microsoft 365 / Exchange Online: (status, phrase) pairs from its NDR reference; the
/// status must be the one given (a `*` detail takes any).
#[rustfmt::skip]
const MICROSOFT: &[(&str, &str, BounceReason)] = &[
    ("4.7.26", "must pass either spf or dkim validation", BounceReason::AuthFailure),
    ("5.7.23", "sender policy framework violation", BounceReason::AuthFailure),
    ("5.7.509", "does not pass dmarc verification", BounceReason::AuthFailure),
    ("5.7.515", "doesn't meet the required authentication level", BounceReason::AuthFailure),
    ("4.7.650", "rate limited due to ip reputation", BounceReason::BadReputation),
    ("4.4.2", "connection dropped", BounceReason::Blocked),
    ("4.7.*", "access denied, please try again later", BounceReason::Blocked),
    ("5.7.25", "must have a reverse dns record", BounceReason::Blocked),
    ("5.7.506", "access denied, bad helo", BounceReason::Blocked),
    ("5.7.507", "access denied, rejected by recipient", BounceReason::Blocked),
    ("5.7.510", "does not accept email over ipv6", BounceReason::Blocked),
    ("5.7.511", "access denied, banned sender", BounceReason::Blocked),
    ("5.7.513", "using customer block list", BounceReason::Blocked),
    ("5.7.*", "access denied, banned sending ip", BounceReason::Blocked),
    ("5.5.4", "invalid domain name", BounceReason::Blocked),
    ("5.7.1", "part of their network is on our block list", BounceReason::Blocked),
    ("5.3.0", "too many related errors", BounceReason::ContentError),
    ("5.6.11", "invalid characters", BounceReason::ContentError),
    ("5.4.11", "agent generated message depth exceeded", BounceReason::ContentError),
    ("5.5.6", "invalid message content", BounceReason::ContentError),
    ("5.2.3", "message too large for this recipient", BounceReason::MesgTooBig),
    ("5.3.4", "message size exceeds fixed maximum message size", BounceReason::MesgTooBig),
    ("5.3.4", "message too big for system", BounceReason::MesgTooBig),
    ("4.4.1", "connection timed out", BounceReason::Expired),
    ("4.4.7", "message delayed", BounceReason::Expired),
    ("4.4.7", "message expired", BounceReason::Expired),
    ("5.4.300", "message expired", BounceReason::Expired),
    ("5.4.316", "message expired", BounceReason::Expired),
    ("*.4.8", "failed mta-sts validation", BounceReason::FailedStartTls),
    ("*.4.317", "starttls is required to send mail", BounceReason::FailedStartTls),
    ("*.7.5", "remote certificate failed mta-sts validation", BounceReason::FailedStartTls),
    ("*.7.321", "starttls-not-supported", BounceReason::FailedStartTls),
    ("5.7.322", "certificate-expired", BounceReason::FailedStartTls),
    ("5.2.2", "mailbox full", BounceReason::MailboxFull),
    ("5.4.4", "nonexistent domain", BounceReason::NetworkError),
    ("5.4.4", "invalid arguments", BounceReason::NetworkError),
    ("5.4.6", "hop count exceeded", BounceReason::NetworkError),
    ("*.4.312", "dns query failed", BounceReason::NetworkError),
    ("*.4.316", "connection refused", BounceReason::NetworkError),
    ("5.4.14", "routing loop detected", BounceReason::NetworkError),
    ("5.4.6", "routing loop detected", BounceReason::NetworkError),
    ("5.7.1", "unable to relay", BounceReason::NoRelaying),
    ("5.4.1", "relay access denied", BounceReason::NoRelaying),
    ("5.7.64", "relay access denied", BounceReason::NoRelaying),
    ("5.4.310", "does not exist", BounceReason::NoRelaying),
    ("4.3.2", "system not accepting network messages", BounceReason::NotAccept),
    ("4.4.4", "has no mail-enabled subscriptions", BounceReason::NotAccept),
    ("5.3.2", "missing or bad storedriver mdb properties", BounceReason::NotAccept),
    ("5.0.350", "x-dg-ref header is too long", BounceReason::PolicyViolation),
    ("5.0.350", "policy violation detected", BounceReason::PolicyViolation),
    ("5.7.*", "delivery not authorized, message refused", BounceReason::PolicyViolation),
    ("5.1.7", "invalid address", BounceReason::Rejected),
    ("5.1.7", "unknown sender address", BounceReason::Rejected),
    ("5.1.0", "sender denied", BounceReason::Rejected),
    ("5.1.8", "bad outbound sender", BounceReason::Rejected),
    ("5.7.1", "delivery not authorized", BounceReason::Rejected),
    ("5.7.12", "sender was not authenticated by organization", BounceReason::Rejected),
    ("5.7.124", "sender not in allowed-senders list", BounceReason::Rejected),
    ("5.7.133", "sender not authenticated for group", BounceReason::Rejected),
    ("5.7.134", "sender was not authenticated for mailbox", BounceReason::Rejected),
    ("5.7.13*", "sender was not authenticated", BounceReason::Rejected),
    ("5.7.50*", "access denied, spam abuse detected", BounceReason::Rejected),
    ("5.7.512", "must be rfc 5322 section 3.6.2 compliant", BounceReason::Rejected),
    ("5.7.750", "client blocked from sending from unregistered domains", BounceReason::Rejected),
    ("5.7.3", "cannot achieve exchange server authentication", BounceReason::SecurityError),
    ("5.7.3", "not authorized", BounceReason::SecurityError),
    ("5.7.57", "client was not authenticated to send anonymous mail", BounceReason::SecurityError),
    ("5.7.1", "client was not authenticated", BounceReason::SecurityError),
    ("5.2.1", "content filter agent quarantined this message", BounceReason::SpamDetected),
    ("*.5.3", "too many recipients", BounceReason::TooManyConn),
    ("4.3.2", "recipient thread limit exceeded", BounceReason::TooManyConn),
    ("4.7.652", "exceeded the maximum number of connections", BounceReason::TooManyConn),
    ("5.1.90", "daily limit for message recipients", BounceReason::Speeding),
    ("5.2.2", "submission quota exceeded", BounceReason::Speeding),
    ("5.2.12*", "per hour message receive limit", BounceReason::Speeding),
    ("5.2.122", "has exceeded their limit for", BounceReason::Speeding),
    ("5.7.508", "has exceeded permitted limits within", BounceReason::Speeding),
    ("5.7.7*", "tenant has exceeded threshold", BounceReason::Speeding),
    ("5.7.7*", "traffic not accepted from this ip", BounceReason::Speeding),
    ("5.7.504", "recipient address rejected: access denied", BounceReason::Suspend),
    ("5.7.505", "access denied, banned recipient", BounceReason::Suspend),
    ("5.2.1", "mailbox cannot be accessed", BounceReason::Suspend),
    ("5.3.3", "unrecognized command", BounceReason::SyntaxError),
    ("5.5.2", "send hello first", BounceReason::SyntaxError),
    ("4.3.2", "service not available", BounceReason::SystemError),
    ("4.3.2", "service not active", BounceReason::SystemError),
    ("5.3.5", "system incorrectly configured", BounceReason::SystemError),
    ("5.0.0", "helo / ehlo requires domain address", BounceReason::SystemError),
    ("5.1.4", "destination mailbox address ambiguous", BounceReason::SystemError),
    ("5.2.4", "mailing list expansion problem", BounceReason::SystemError),
    ("5.2.14", "misconfigured forwarding address", BounceReason::SystemError),
    ("4.4.2*", "message failed to be replicated", BounceReason::SystemError),
    ("4.4.3", "temporary server error. please try again later", BounceReason::SystemError),
    ("4.7.0", "temporary server error. please try again later", BounceReason::SystemError),
    ("*.4.318", "(suspiciousremoteservererror)", BounceReason::SystemError),
    ("4.7.500", "server busy. please try again later", BounceReason::SystemError),
    ("4.7.700", "pfa agent busy", BounceReason::SystemError),
    ("4.3.1", "insufficient system resources", BounceReason::SystemFull),
    ("5.1.1", "resolver.adr.exrecipnotfound", BounceReason::UserUnknown),
    ("5.1.1", "user unknown", BounceReason::UserUnknown),
    ("5.1.1", "bad destination mailbox address", BounceReason::UserUnknown),
    ("5.1.3", "invalid recipient address", BounceReason::UserUnknown),
    ("5.1.4", "recipient address reserved by rfc 2606", BounceReason::UserUnknown),
    ("5.1.5", "recipient address reserved by rfc 2606", BounceReason::UserUnknown),
    ("5.1.6", "recipient addresses in single label domains not accepted", BounceReason::UserUnknown),
    ("5.1.10", "recipient not found", BounceReason::UserUnknown),
    ("5.4.1", "recipient address rejected: access denied", BounceReason::UserUnknown),
    ("5.5.0", "requested action not taken: mailbox unavailable", BounceReason::UserUnknown),
    ("5.1.2", "invalid x.400 address", BounceReason::UserUnknown),
    ("5.1.351", "unknown recipient or mailbox unavailable", BounceReason::UserUnknown),
];

/// Outlook.com's block codes: (code, reply code, reason).
#[rustfmt::skip]
const OUTLOOK_CODES: &[(&str, u16, BounceReason)] = &[
    ("rp-001", 421, BounceReason::BadReputation),
    ("rp-002", 421, BounceReason::BadReputation),
    ("rp-003", 421, BounceReason::BadReputation),
    ("sc-001", 550, BounceReason::BadReputation),
    ("sc-002", 550, BounceReason::PolicyViolation),
    ("sc-003", 550, BounceReason::Blocked),
    ("sc-004", 550, BounceReason::Blocked),
    ("dy-001", 550, BounceReason::Blocked),
    ("dy-002", 550, BounceReason::VirusDetected),
    ("ou-001", 550, BounceReason::Blocked),
    ("ou-002", 550, BounceReason::BadReputation),
];

/// Facebook's response codes (its postmaster page).
#[rustfmt::skip]
const FACEBOOK_CODES: &[(&str, BounceReason)] = &[
    ("pol-p7", BounceReason::AuthFailure),
    ("pol-p1", BounceReason::Blocked),
    ("pol-p2", BounceReason::Blocked),
    ("pol-p3", BounceReason::Blocked),
    ("pol-p4", BounceReason::Blocked),
    ("pol-t1", BounceReason::Blocked),
    ("pol-t2", BounceReason::Blocked),
    ("pol-t3", BounceReason::Blocked),
    ("msg-p2", BounceReason::ContentError),
    ("rcp-p2", BounceReason::Filtered),
    ("rcp-p3", BounceReason::Filtered),
    ("msg-p1", BounceReason::MesgTooBig),
    ("int-p2", BounceReason::MesgTooBig),
    ("msg-p3", BounceReason::NotCompliantRfc),
    ("dns-p1", BounceReason::Rejected),
    ("dns-p2", BounceReason::Rejected),
    ("dns-t1", BounceReason::Rejected),
    ("dns-p3", BounceReason::RequirePtr),
    ("dns-t2", BounceReason::RequirePtr),
    ("pol-p6", BounceReason::SpamDetected),
    ("rcp-t4", BounceReason::Suspend),
    ("rcp-t1", BounceReason::SystemError),
    ("con-t1", BounceReason::TooManyConn),
    ("con-t2", BounceReason::TooManyConn),
    ("con-t3", BounceReason::TooManyConn),
    ("con-t4", BounceReason::TooManyConn),
    ("msg-t1", BounceReason::TooManyConn),
    ("rcp-p1", BounceReason::UserUnknown),
    ("int-p1", BounceReason::UserUnknown),
    ("int-p3", BounceReason::UserUnknown),
    ("int-p4", BounceReason::UserUnknown),
    ("pol-p5", BounceReason::VirusDetected),
];

/// AOL's family codes ("554- (RTR:BB) http://postmaster.info.aol.com/errors/554rtrbb.html"),
/// by its error pages: RTR and RLY its lists of IPs (dynamic ranges, complaints, compromised
/// networks), except RLY:SN, a disallowed AOL name as our From; HVU a blocked domain or URL in
/// the body; DYN its temporary throttle; DNS the connecting IP's reverse DNS. (CON:B1, "you've
/// topped our thresholds", is left to the words: its code says a disabled mailbox.)
#[rustfmt::skip]
const AOL_CODES: &[(&str, BounceReason)] = &[
    ("rly:sn", BounceReason::Rejected),
    ("rtr:", BounceReason::Blocked),
    ("rly:", BounceReason::Blocked),
    ("hvu:", BounceReason::SpamDetected),
    ("dyn:", BounceReason::Speeding),
    ("dns:", BounceReason::RequirePtr),
];

/// The first of AOL's family codes `reply` carries as a word of its own ("(RTR:BB)", "554
/// RLY:B1"; not "yearly:").
fn aol_code(reply: &str) -> Option<BounceReason> {
    AOL_CODES
        .iter()
        .find(|(code, _)| {
            reply.match_indices(code).any(|(at, _)| {
                reply[..at]
                    .chars()
                    .next_back()
                    .is_none_or(|c| !c.is_alphanumeric())
            })
        })
        .map(|(_, r)| *r)
}

/// GoDaddy's `IBnnn` codes.
#[rustfmt::skip]
const GODADDY_CODES: &[(&str, BounceReason)] = &[
    ("ib401", BounceReason::SecurityError),
    ("ib501", BounceReason::NotCompliantRfc),
    ("ib502", BounceReason::NotCompliantRfc),
    ("ib506", BounceReason::Rejected),
    ("ib508", BounceReason::AuthFailure),
    ("ib108", BounceReason::RequirePtr),
    ("ib212", BounceReason::SpamDetected),
    ("ib705", BounceReason::VirusDetected),
    ("ib605", BounceReason::TooManyConn),
    ("ib007", BounceReason::TooManyConn),
    ("ib101", BounceReason::Speeding),
    ("ib504", BounceReason::Speeding),
    ("ib510", BounceReason::Speeding),
    ("ib607", BounceReason::Speeding),
    ("ib103", BounceReason::BadReputation),
    ("ib104", BounceReason::Blocked),
    ("ib105", BounceReason::Blocked),
    ("ib106", BounceReason::Blocked),
    ("ib110", BounceReason::Blocked),
    ("ib111", BounceReason::Blocked),
    ("ib112", BounceReason::Blocked),
    ("ib113", BounceReason::Blocked),
];

/// Does status `s` fit `pattern` ("5.7.1", "*.4.8", "5.7.*", "5.2.12*")?
fn status_fits(pattern: &str, s: Status) -> bool {
    let parts: Vec<&str> = pattern.split('.').collect();
    let [c, sub, det] = parts[..] else {
        return false;
    };
    let fits = |p: &str, v: u16| {
        p == "*"
            || p.parse::<u16>().is_ok_and(|n| n == v)
            || p.strip_suffix('*').is_some_and(|head| {
                v.to_string().starts_with(head) && v.to_string().len() > head.len()
            })
    };
    fits(c, u16::from(s.class)) && fits(sub, s.subject) && fits(det, s.detail)
}

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

/// The providers `hosts` names (remote and reporting hosts, the recipient's domain, the
/// report's own lines naming the host that answered), in the order they are named: a reply
/// can name more than one (an AT&T address answered by Yahoo's servers).
fn named(hosts: &str) -> Vec<Provider> {
    let lower = hosts.to_ascii_lowercase();
    let mut out = Vec::new();
    // Gmail signs every reply "… <id> - gsmtp"; Sophos's codes name it wherever relayed.
    if lower.trim_end().ends_with(" gsmtp") || lower.contains(" - gsmtp") {
        out.push(Provider::Google);
    }
    if lower.contains("xgemail_0") {
        out.push(Provider::Sophos);
    }
    let tokens = lower
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '-'))
        .map(|t| t.trim_matches('.'))
        .filter(|t| t.contains('.'));
    for token in tokens {
        let found = HOSTS.iter().find_map(|(provider, names)| {
            names
                .iter()
                .any(|n| {
                    token == *n
                        || token
                            .strip_suffix(n)
                            .is_some_and(|head| head.ends_with('.'))
                })
                .then_some(*provider)
        });
        if let Some(p) = found.filter(|p| !out.contains(p)) {
            out.push(p);
        }
    }
    out
}

/// The provider's own reading of `reply` (lower case), when `hosts` shows who answered: the
/// first provider named whose documentation reads it.
pub fn reason(hosts: &str, reply: &str, stage: Option<SmtpStage>) -> Option<BounceReason> {
    named(hosts)
        .into_iter()
        .find_map(|provider| reading(provider, reply, stage))
        // A provider's verdict on an address, said in reply to MAIL FROM, is about our sender.
        .map(|reason| super::reasons::at_stage(reason, stage))
}

/// What `provider` documents `reply` (lower case) to mean.
fn reading(provider: Provider, reply: &str, stage: Option<SmtpStage>) -> Option<BounceReason> {
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
    let status = Status::find(reply);
    let code = super::scrape::reply_code_in(reply);
    match provider {
        Provider::Microsoft => {
            if let Some(s) = status
                && let Some((_, _, r)) = MICROSOFT
                    .iter()
                    .find(|(p, text, _)| status_fits(p, s) && reply.contains(text))
            {
                return Some(*r);
            }
            if let Some((_, _, r)) = OUTLOOK_CODES
                .iter()
                .find(|(c, reply_code, _)| reply.contains(c) && code == Some(*reply_code))
            {
                return Some(*r);
            }
            return None;
        }
        Provider::GoogleMail => {
            // Google's own DNS verdicts: NXDOMAIN is the domain's absence only when Google
            // gave up on it for good.
            let permanent = status.is_some_and(|s| s.class == 5) && code.is_some_and(|c| c >= 500);
            if reply.contains("null mx") {
                return Some(BounceReason::NotAccept);
            }
            if reply.contains("responded with code nxdomain")
                || reply.contains("domain name not found")
            {
                return Some(if permanent {
                    BounceReason::HostUnknown
                } else {
                    BounceReason::NetworkError
                });
            }
            if reply.contains(" had no relevant answers") && !permanent {
                return Some(BounceReason::NetworkError);
            }
            if reply.contains("address couldn't be found") {
                return Some(BounceReason::UserUnknown);
            }
            return None;
        }
        Provider::Sophos => return code_in(SOPHOS_CODES, reply),
        Provider::Aol => {
            if let Some(r) = aol_code(reply) {
                return Some(r);
            }
        }
        Provider::Facebook => return code_in(FACEBOOK_CODES, reply),
        Provider::GoDaddy => {
            if let Some(r) = code_in(GODADDY_CODES, reply) {
                return Some(r);
            }
        }
        _ => {}
    }
    REPLIES
        .iter()
        .find(|(p, text, _)| *p == provider && reply.contains(text))
        .map(|(_, _, r)| *r)
}

/// The reason of the first of a provider's codes `reply` carries.
fn code_in(table: &[(&str, BounceReason)], reply: &str) -> Option<BounceReason> {
    table
        .iter()
        .find(|(code, _)| reply.contains(code))
        .map(|(_, r)| *r)
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

    /// A provider's table reads a recipient's verdict; said in reply to MAIL FROM it is our
    /// sender's, whichever path asks (a report's Remote-MTA, a bare reply).
    #[test]
    fn a_providers_address_verdict_at_mail_from_is_our_sender() {
        let hosts = "cluster9.us.messagelabs.com";
        let reply = "550 no such user";
        assert_eq!(
            reason(hosts, reply, Some(SmtpStage::RcptTo)),
            Some(BounceReason::UserUnknown)
        );
        assert_eq!(
            reason(hosts, reply, Some(SmtpStage::MailFrom)),
            Some(BounceReason::Rejected)
        );
    }

    #[test]
    fn providers_are_known_by_their_hosts_only() {
        assert_eq!(
            named("mta6.am0.yahoodns.net").first(),
            Some(&Provider::Yahoo)
        );
        assert_eq!(
            named("rfc822; someone@yahoo.com").first(),
            Some(&Provider::Yahoo)
        );
        assert!(named("notyahoo.com").is_empty());
        // A name is matched whole or under a dot: gmail.com is not mail.com, nor matt.net AT&T.
        assert_eq!(named("mx.hotmail.com").first(), Some(&Provider::Hotmail));
        assert!(named("gmail.com").is_empty());
        assert!(named("matt.net").is_empty());
        assert_eq!(
            named("mx00.mail.com").first(),
            Some(&Provider::UnitedInternet)
        );
        // An AT&T address answered by Yahoo's servers: both are named, Yahoo's texts read it.
        assert_eq!(
            named("rfc822; x@att.net\nmta7.am0.yahoodns.net"),
            [Provider::Att, Provider::Yahoo]
        );
        assert_eq!(
            reason(
                "rfc822; x@att.net\nmta7.am0.yahoodns.net",
                "554 5.7.9 message not accepted for policy reasons.",
                None
            ),
            Some(BounceReason::PolicyViolation)
        );
        assert!(named("mx.example.org").is_empty());
        assert_eq!(
            named("550 5.7.26 unauthenticated mail … d2e1a72fcca58-7253a12b1b4si1234.288 - gsmtp")
                .first(),
            Some(&Provider::Google)
        );
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
    fn documented_codes_of_more_receivers() {
        use BounceReason::*;
        // (a host that answered, its reply, what the provider's pages say it means)
        let cases = [
            (
                "mx1a1.comcast.net",
                "550 5.1.0 Not our Customer",
                UserUnknown,
            ),
            (
                "mx1a1.comcast.net",
                "554 resimta-ch2-12v.sys.comcast.net resimta-ch2-12v.sys.comcast.net 1.2.3.4 found on one or more DNSBLs, see http://postmaster.comcast.net/smtp-error-codes.php#BL000010",
                Blocked,
            ),
            (
                "mx1a1.comcast.net",
                "550 mx.comcast.net comcast 1.2.3.4 Comcast block for spam.  Please see http://postmaster.comcast.net/smtp-error-codes.php#BL000000",
                BadReputation,
            ),
            (
                "mx1a1.comcast.net",
                "550 5.7.1 1.2.3.4 dynamic/residential IP, see https://postmaster.comcast.net/smtp-error-codes.php#ES000010",
                Blocked,
            ),
            (
                "mx1a1.comcast.net",
                "451 4.2.0 Throttled - https://postmaster.comcast.net/smtp-error-codes.php#RL000010",
                Speeding,
            ),
            (
                "mx1a1.comcast.net",
                "421 Too many sessions opened",
                TooManyConn,
            ),
            (
                "ff-ip4-mx-vip1.prodigy.net",
                "553 5.3.0 flph829 DNSBL:ATTRBL 521< 1.2.3.4 >_is_blocked.For assistance forward this email to abuse_rbl@abuse-att.net",
                Blocked,
            ),
            (
                "ff-ip4-mx-vip1.prodigy.net",
                "550 [suspend] Mailbox currently suspended--Please contact correspondent directly.",
                Suspend,
            ),
            (
                "mx00.gmx.net",
                "554-gmx.net (mxgmx104) Nemesis ESMTP Service not available 554-No SMTP service 554-IP address is block listed. 554 For explanation visit https://postmaster.gmx.net/en/case?c=r0201&i=ip&v=1.2.3.4&r=1ABCD",
                Blocked,
            ),
            (
                "mx00.gmx.net",
                "554-gmx.net (mxgmx104) Nemesis ESMTP Service not available 554-No SMTP service 554-Bad DNS PTR resource record. 554 For explanation visit https://postmaster.gmx.net/en/case?c=r0601&i=ip&v=1.2.3.4&r=1ABCD",
                RequirePtr,
            ),
            (
                "mx-ha01.web.de",
                "421-web.de (mxweb113) Nemesis ESMTP Service not available 421-Service unavailable 421-Reject due to policy restrictions. 421 Too many messages have been received in a short period of time",
                Speeding,
            ),
            (
                "mx00.ionos.de",
                "421 Rate limit reached. Please try again later",
                Speeding,
            ),
            (
                "mx00.ionos.de",
                "421 Reject due to policy violations",
                BadReputation,
            ),
            (
                "163mx01.mxmail.netease.com",
                "550 MI:SPF mx3 http://mail.163.com/help/help_spam_16.htm?ip=1.2.3.4&hostid=mx3&time=1",
                AuthFailure,
            ),
            (
                "163mx01.mxmail.netease.com",
                "554 DT:SPM 163 smtp14,EsCowAD http://mail.163.com/help/help_spam_16.htm?ip=1.2.3.4",
                SpamDetected,
            ),
            (
                "163mx01.mxmail.netease.com",
                "421 HL:ICC http://mail.163.com/help/help_spam_16.htm?ip=1.2.3.4",
                TooManyConn,
            ),
            (
                "163mx01.mxmail.netease.com",
                "450 DT:RBL http://mail.163.com/help/help_spam_16.htm?ip=1.2.3.4",
                Blocked,
            ),
            (
                "163mx01.mxmail.netease.com",
                "550 RP:RCL http://mail.163.com/help/help_spam_16.htm?ip=1.2.3.4",
                ExceedLimit,
            ),
            ("163mx01.mxmail.netease.com", "550 User suspended", Suspend),
            (
                "163mx01.mxmail.netease.com",
                "552 Illegal Attachment",
                PolicyViolation,
            ),
            (
                "163mx01.mxmail.netease.com",
                "554 HL:IHU http://mail.163.com/help/help_spam_16.htm?ip=1.2.3.4",
                BadReputation,
            ),
            (
                "163mx01.mxmail.netease.com",
                "550 Invalid User",
                UserUnknown,
            ),
            (
                "163mx01.mxmail.netease.com",
                "550 Requested mail action not taken: too much recipient",
                ExceedLimit,
            ),
            (
                "mx.yandex.ru",
                "550 5.7.1 Policy rejection on the target address",
                Suspend,
            ),
            (
                "mx.yandex.ru",
                "554 5.7.1 [2] Message rejected under suspicion of SPAM; https://ya.cc/1IrBc 1234",
                SpamDetected,
            ),
            (
                "mx.yandex.ru",
                "554 5.7.1 [3] Blocked by spam statistics - see https://ya.cc/1IrBc",
                BadReputation,
            ),
            (
                "mx1.emailsrvr.com",
                "421 4.7.0 Too many concurrent connections from this client (G2)",
                TooManyConn,
            ),
            (
                "mx1.emailsrvr.com",
                "450 4.7.1 Client host 1.2.3.4 has no PTR record (G1F)",
                RequirePtr,
            ),
            (
                "mx1.emailsrvr.com",
                "450 4.2.1 <a@b.example>: Mailbox received too much email in a short period of time (G30)",
                Speeding,
            ),
            (
                "mx1.emailsrvr.com",
                "451 4.7.1 Received too many messages from a new or untrusted IP (G28)",
                Speeding,
            ),
            (
                "mx1.emailsrvr.com",
                "451 4.3.0 <mx1.example[1.2.3.4]>: Client host rejected: Throttled - Too much spam from your mail server. Try again later.",
                BadReputation,
            ),
            (
                "mx00.t-online.de",
                "554 IP=1.2.3.4 - None/bad reputation. Ask your postmaster for help or to contact tobr@rx.t-online.de for reset. (NOWL)",
                BadReputation,
            ),
            (
                "mx00.t-online.de",
                "554 Dialup/transient IP not allowed. Use a mailgateway or contact toda@rx.t-online.de if obsolete. (DIAL)",
                Blocked,
            ),
            (
                "mx00.t-online.de",
                "554 IP=1.2.3.4 - A problem occurred. (Ask your postmaster for help or to contact tosa@rx.t-online.de to clarify.) (BL)",
                Blocked,
            ),
            (
                "mx-01-us-west-2.prod.hydra.sophos.com",
                "550 5.7.1 Message rejected XGEMAIL_0011 Recipient address does not exist",
                UserUnknown,
            ),
            (
                "mx-01-us-west-2.prod.hydra.sophos.com",
                "550 XGEMAIL_0004",
                Blocked,
            ),
            (
                "mx-01-us-west-2.prod.hydra.sophos.com",
                "550 XGEMAIL_0012",
                MesgTooBig,
            ),
            (
                "mx-01-us-west-2.prod.hydra.sophos.com",
                "550 XGEMAIL_0002",
                AuthFailure,
            ),
            (
                "mx-01-us-west-2.prod.hydra.sophos.com",
                "451 XGEMAIL_0015",
                Speeding,
            ),
            (
                "mx1.seznam.cz",
                "550 5.1.1 szn; User hasn't got the service mapped",
                UserUnknown,
            ),
        ];
        for (host, reply, want) in cases {
            let got = reason(host, &reply.to_ascii_lowercase(), Some(SmtpStage::RcptTo));
            assert_eq!(got, Some(want), "{host}: {reply}");
        }
        // The codes mean nothing from another host (Comcast's BL codes, T-Online's tags).
        assert_eq!(
            reason(
                "mx.example.org",
                "550 see smtp-error-codes.php#bl000010",
                None
            ),
            None
        );
        assert_eq!(
            reason("mx.example.org", "554 a problem occurred. (bl)", None),
            None
        );
        // Sophos's codes name it wherever they are relayed.
        assert_eq!(
            reason(
                "550 5.7.1 xgemail_0011 recipient address does not exist",
                "550 5.7.1 xgemail_0011 recipient address does not exist",
                None
            ),
            Some(UserUnknown)
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
    fn microsoft_google_and_code_tables() {
        let ms = "dns; am7pr02mb1234.eurprd02.prod.outlook.com";
        assert_eq!(
            reason(
                ms,
                "550 5.1.10 resolver.adr.recipientnotfound; recipient not found by smtp address lookup",
                None
            ),
            Some(BounceReason::UserUnknown)
        );
        // The phrase needs its status: the same words under another code say nothing here.
        assert_eq!(reason(ms, "550 5.7.1 recipient not found", None), None);
        assert_eq!(
            reason(
                ms,
                "550 5.7.606 access denied, banned sending ip [192.0.2.1]",
                None
            ),
            Some(BounceReason::Blocked)
        );
        assert!(Status::parse("5.2.121").is_some_and(|s| status_fits("5.2.12*", s)));
        assert!(!Status::parse("5.2.12").is_some_and(|s| status_fits("5.2.12*", s)));
        // Google's own DNS verdict: NXDOMAIN is the domain's absence only when it gave up for good.
        let g = "dns; googlemail.com";
        let nx = "dns error: dns type 'mx' lookup of example.invalid responded with code nxdomain";
        assert_eq!(
            reason(g, &format!("4.0.0 {nx}"), None),
            Some(BounceReason::NetworkError)
        );
        assert_eq!(
            reason(g, &format!("550 5.1.2 {nx}"), None),
            Some(BounceReason::HostUnknown)
        );
        assert_eq!(
            reason(
                "mx.facebook.com",
                "550 5.1.1 rcp-p2 refused due to recipient preferences",
                None
            ),
            Some(BounceReason::Filtered)
        );
        assert_eq!(
            reason(
                "smtp.secureserver.net",
                "550 5.1.1 too many recipients this hour ib607",
                None
            ),
            Some(BounceReason::Speeding)
        );
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
