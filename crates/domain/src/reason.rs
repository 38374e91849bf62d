//! Reasons in a fixed vocabulary: bounce reasons follow Sisimai's taxonomy so public labelled
//! corpora can test the classifier; not-sent reasons say why a contact got no message.

use std::fmt;
use std::str::FromStr;

macro_rules! string_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident => $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($(#[$vm])* $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $s),+ }
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_str()) }
        }
        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s { $($s => Ok($name::$variant),)+ other => Err(format!("unknown {}: {other:?}", stringify!($name))) }
            }
        }
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> { s.serialize_str(self.as_str()) }
        }
    };
}

string_enum! {
    /// Why a message bounced, or what a feedback message says (Sisimai's reason names, so the
    /// public labelled corpora can test the classifier).
    BounceReason {
        UserUnknown => "userunknown",
        MailboxFull => "mailboxfull",
        Filtered => "filtered",
        Blocked => "blocked",
        SpamDetected => "spamdetected",
        PolicyViolation => "policyviolation",
        HostUnknown => "hostunknown",
        Expired => "expired",
        Suspend => "suspend",
        AuthFailure => "authfailure",
        RequirePtr => "requireptr",
        NetworkError => "networkerror",
        OnHold => "onhold",
        NotAccept => "notaccept",
        Rejected => "rejected",
        SystemError => "systemerror",
        SystemFull => "systemfull",
        MesgTooBig => "mesgtoobig",
        ExceedLimit => "exceedlimit",
        TooManyConn => "toomanyconn",
        Speeding => "speeding",
        ContentError => "contenterror",
        SecurityError => "securityerror",
        NoRelaying => "norelaying",
        BadReputation => "badreputation",
        HasMoved => "hasmoved",
        MailerError => "mailererror",
        NotCompliantRfc => "notcompliantrfc",
        VirusDetected => "virusdetected",
        SyntaxError => "syntaxerror",
        FailedStartTls => "failedstarttls",
        Suppressed => "suppressed",
        /// A successful DSN (`Action: delivered`, `relayed`, `expanded`).
        Delivered => "delivered",
        /// A feedback-loop complaint (ARF).
        Feedback => "feedback",
        /// An RFC 3834 auto-reply: not a bounce.
        Vacation => "vacation",
        Undefined => "undefined",
    }
}

string_enum! {
    /// Why a contact of the audience was not sent the campaign.
    NotSentReason {
        Unsubscribed => "unsubscribed",
        PreviouslyBounced => "previously_bounced",
        Complained => "complained",
        Suppressed => "suppressed",
        InvalidAddress => "invalid_address",
        Duplicate => "duplicate",
        UnalignedDomain => "unaligned_domain",
        MissingData => "missing_data",
        Graymail => "graymail",
        /// The campaign was cancelled before this recipient's message went out.
        Cancelled => "cancelled",
        /// Signed up to a double opt-in list and has not confirmed yet.
        PendingConfirmation => "pending_confirmation",
        /// Matched the campaign's exclusion segment (`campaign audience --exclude`).
        Excluded => "excluded",
    }
}

pub(crate) use string_enum;
