//! Closed vocabularies of what the store records: the kinds of events, the outcomes of
//! attempts and the reasons an address is suppressed. Records carry these types; the store
//! writes their names and parses them back, and a name outside the vocabulary is a corrupt
//! record, never silently something else.

use std::fmt;
use std::str::FromStr;

use crate::reason::string_enum;

string_enum! {
    /// What happened to a delivery after its attempts (the `events` table).
    EventKind {
        /// An open of the message (human or machine: the detail's verdict says which).
        Open => "open",
        /// A click on a tracked link.
        Click => "click",
        /// The recipient unsubscribed (one click, the page, the preference centre, a provider).
        Unsubscribe => "unsubscribe",
        /// A bounce that came after the message was accepted (a DSN, a provider's event).
        AsyncBounce => "async_bounce",
        /// A feedback-loop complaint (ARF, a provider's event).
        Complaint => "complaint",
        /// A delay notice (a DSN with `Action: delayed`, a provider's deferral).
        Delayed => "delayed",
        /// A relay's success DSN: the recipient's server took it.
        DsnDelivered => "dsn_delivered",
        /// A provider's delivered event: the recipient's server took it.
        ProviderDelivered => "provider_delivered",
        /// An auto-reply (RFC 3834: out of office and the like).
        Autoreply => "autoreply",
        /// A DMARC failure report about this message.
        AuthFailureReport => "auth_failure_report",
        /// Where a seed copy landed (Inbox, Junk, …), read over IMAP.
        Placement => "placement",
        /// The contact left another of their lists in the preference centre.
        ListLeft => "list_left",
        /// The contact joined a list again in the preference centre.
        ListRejoined => "list_rejoined",
    }
}

string_enum! {
    /// What one attempt came to (the `attempts` table).
    AttemptOutcome {
        /// The recipient's server accepted the message.
        Delivered => "delivered",
        /// Our relay accepted it; the recipient's side is not known yet.
        Relayed => "relayed",
        /// Refused for good.
        Bounced => "bounced",
        /// Refused for now (or a connection failed): tried again later.
        Deferred => "deferred",
        /// Herald could not try (a broken template, an unusable key, …).
        Failed => "failed",
    }
}

string_enum! {
    /// Why an address is on the suppression list.
    SuppressionReason {
        Unsubscribed => "unsubscribed",
        PreviouslyBounced => "previously_bounced",
        Complained => "complained",
        /// Added by an operator.
        Suppressed => "suppressed",
        /// The person was erased at their request (the list keeps only a keyed hash).
        Erased => "erased",
    }
}

impl AttemptOutcome {
    /// The outcome an attempt that ended a delivery in `state` had (None: no attempt ends a
    /// delivery queued or not sent).
    pub fn of(state: crate::DeliveryState) -> Option<Self> {
        use crate::DeliveryState as S;
        match state {
            S::Delivered => Some(AttemptOutcome::Delivered),
            S::Relayed => Some(AttemptOutcome::Relayed),
            S::Bounced => Some(AttemptOutcome::Bounced),
            S::Deferred | S::Expired => Some(AttemptOutcome::Deferred),
            S::Failed => Some(AttemptOutcome::Failed),
            S::NotSent | S::Queued => None,
        }
    }
}

impl SuppressionReason {
    /// A reason an operator may give (`erased` is Herald's own, for erasures only).
    pub fn settable(name: &str) -> Option<Self> {
        name.parse()
            .ok()
            .filter(|r| *r != SuppressionReason::Erased)
    }

    /// The `not_sent` reason of a contact suppressed for this reason.
    pub fn not_sent(self) -> crate::NotSentReason {
        use crate::NotSentReason as N;
        match self {
            SuppressionReason::Unsubscribed => N::Unsubscribed,
            SuppressionReason::PreviouslyBounced => N::PreviouslyBounced,
            SuppressionReason::Complained => N::Complained,
            SuppressionReason::Suppressed | SuppressionReason::Erased => N::Suppressed,
        }
    }
}

/// Where a seed copy was found: the Inbox, a junk folder, another folder (by name), or
/// nowhere within `[placement] missing_after` (held in a quarantine, or dropped).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Placement {
    Inbox,
    Junk,
    Missing,
    /// Another folder (Promotions, Trash, …), named as the mailbox names it.
    Other(String),
}

impl Placement {
    /// The stored name: `inbox`, `junk`, `missing`, `other:<folder>`.
    pub fn name(&self) -> String {
        match self {
            Placement::Inbox => "inbox".into(),
            Placement::Junk => "junk".into(),
            Placement::Missing => "missing".into(),
            Placement::Other(folder) => format!("other:{folder}"),
        }
    }

    /// `inbox`, `junk`, `missing` or `other` (without the folder).
    pub fn bucket(&self) -> &'static str {
        match self {
            Placement::Inbox => "inbox",
            Placement::Junk => "junk",
            Placement::Missing => "missing",
            Placement::Other(_) => "other",
        }
    }
}

impl fmt::Display for Placement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

impl FromStr for Placement {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "inbox" => Ok(Placement::Inbox),
            "junk" => Ok(Placement::Junk),
            "missing" => Ok(Placement::Missing),
            other => match other.strip_prefix("other:") {
                Some(folder) => Ok(Placement::Other(folder.to_string())),
                None => Err(format!("unknown Placement: {other:?}")),
            },
        }
    }
}

impl serde::Serialize for Placement {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_strangers_are_refused() {
        for k in EventKind::ALL {
            assert_eq!(k.as_str().parse::<EventKind>(), Ok(*k));
        }
        for o in AttemptOutcome::ALL {
            assert_eq!(o.as_str().parse::<AttemptOutcome>(), Ok(*o));
        }
        for r in SuppressionReason::ALL {
            assert_eq!(r.as_str().parse::<SuppressionReason>(), Ok(*r));
        }
        for p in [
            Placement::Inbox,
            Placement::Junk,
            Placement::Missing,
            Placement::Other("Promotions".into()),
        ] {
            assert_eq!(p.name().parse::<Placement>(), Ok(p));
        }
        assert!("spam".parse::<Placement>().is_err());
        assert!("opened".parse::<EventKind>().is_err());
        assert!("none".parse::<AttemptOutcome>().is_err());
        assert!("whatever".parse::<SuppressionReason>().is_err());
        assert_eq!(
            SuppressionReason::settable("complained"),
            Some(SuppressionReason::Complained)
        );
        assert_eq!(SuppressionReason::settable("erased"), None);
        assert_eq!(SuppressionReason::settable("graymail"), None);
    }
}
