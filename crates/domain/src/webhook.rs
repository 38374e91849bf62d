//! What Herald tells other systems through outbound webhooks (`herald webhooks add URL --events
//! …`): a closed vocabulary of events, and how an endpoint's subscription is written.

use std::fmt;
use std::str::FromStr;

use crate::DeliveryState;

/// One kind of event an endpoint can subscribe to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookEvent {
    /// The recipient's server answered 2xx after DATA (or a relay's success DSN, or a
    /// provider's delivered event, said it did).
    Delivered,
    /// A relay or provider answered 2xx; the recipient's server not heard from yet.
    Relayed,
    /// A temporary failure (Herald's own attempt, a relay's delay notice or a provider's
    /// deferral): it is retried.
    Deferred,
    /// Refused for good: at the SMTP dialogue or by a bounce that came back later.
    Bounced,
    /// Still deferred when `[delivery] expiry` ran out.
    Expired,
    /// The recipient reported it as spam (an ARF report or a provider's complaint event).
    Complained,
    /// The recipient unsubscribed (the link, one-click `List-Unsubscribe`, the preference
    /// page, an ARF opt-out).
    Unsubscribed,
    /// The tracking pixel was fetched (the detail says whether by a person or a machine).
    Opened,
    /// A tracked link was followed (the detail says whether by a person or a scanner).
    Clicked,
}

impl WebhookEvent {
    pub const ALL: [WebhookEvent; 9] = [
        Self::Delivered,
        Self::Relayed,
        Self::Deferred,
        Self::Bounced,
        Self::Expired,
        Self::Complained,
        Self::Unsubscribed,
        Self::Opened,
        Self::Clicked,
    ];

    /// The name in `--events`, in the stored subscription and in the payload's `type`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Delivered => "delivered",
            Self::Relayed => "relayed",
            Self::Deferred => "deferred",
            Self::Bounced => "bounced",
            Self::Expired => "expired",
            Self::Complained => "complained",
            Self::Unsubscribed => "unsubscribed",
            Self::Opened => "opened",
            Self::Clicked => "clicked",
        }
    }

    /// The event an attempt's outcome is, if it is one (`queued`, `not_sent` and `failed`
    /// are not).
    pub fn of_outcome(state: DeliveryState) -> Option<Self> {
        match state {
            DeliveryState::Delivered => Some(Self::Delivered),
            DeliveryState::Relayed => Some(Self::Relayed),
            DeliveryState::Deferred => Some(Self::Deferred),
            DeliveryState::Bounced => Some(Self::Bounced),
            DeliveryState::Expired => Some(Self::Expired),
            DeliveryState::NotSent | DeliveryState::Queued | DeliveryState::Failed => None,
        }
    }

    /// The event a recorded engagement or feedback event is, for the kinds that are one by
    /// themselves (`open`, `click`, `unsubscribe`, `complaint`, `delayed`). A bounce or a
    /// confirmed delivery is one only when it changed the delivery's state: the store decides.
    pub fn of_event_kind(kind: crate::EventKind) -> Option<Self> {
        use crate::EventKind as K;
        match kind {
            K::Open => Some(Self::Opened),
            K::Click => Some(Self::Clicked),
            K::Unsubscribe => Some(Self::Unsubscribed),
            K::Complaint => Some(Self::Complained),
            K::Delayed => Some(Self::Deferred),
            _ => None,
        }
    }
}

impl fmt::Display for WebhookEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for WebhookEvent {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|e| e.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown webhook event {s:?} (one of: {}, or all)",
                    Self::ALL.map(|e| e.as_str()).join(", ")
                )
            })
    }
}

/// The events an endpoint receives: `all`, or a set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subscription {
    All,
    Only(Vec<WebhookEvent>),
}

impl Subscription {
    /// `all` (or `*`), or a comma-separated list of event names (`delivered,bounced`);
    /// spaces around names are ignored, repeats collapse, an unknown name is an error naming it.
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s == "all" || s == "*" {
            return Ok(Self::All);
        }
        let mut events = Vec::new();
        for name in s.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            events.push(name.parse::<WebhookEvent>()?);
        }
        if events.is_empty() {
            return Err("no webhook events given (name some, or all)".into());
        }
        events.sort_unstable();
        events.dedup();
        if events.len() == WebhookEvent::ALL.len() {
            return Ok(Self::All);
        }
        Ok(Self::Only(events))
    }

    /// The stored form: `*`, or the names between commas (`,delivered,bounced,`), so one
    /// `LIKE '%,name,%'` matches a name and never a part of one.
    pub fn stored(&self) -> String {
        match self {
            Self::All => "*".into(),
            Self::Only(events) => {
                let mut s = String::from(",");
                for e in events {
                    s.push_str(e.as_str());
                    s.push(',');
                }
                s
            }
        }
    }

    /// Reads the stored form back.
    pub fn from_stored(s: &str) -> Result<Self, String> {
        if s == "*" {
            Ok(Self::All)
        } else {
            Self::parse(s.trim_matches(','))
        }
    }

    /// The event names, as shown (`["all"]` or each name).
    pub fn names(&self) -> Vec<&'static str> {
        match self {
            Self::All => vec!["all"],
            Self::Only(events) => events.iter().map(|e| e.as_str()).collect(),
        }
    }

    pub fn includes(&self, e: WebhookEvent) -> bool {
        match self {
            Self::All => true,
            Self::Only(events) => events.contains(&e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for e in WebhookEvent::ALL {
            assert_eq!(e.as_str().parse::<WebhookEvent>(), Ok(e));
        }
        let err = "deliverd".parse::<WebhookEvent>().unwrap_err();
        assert!(err.contains("\"deliverd\"") && err.contains("delivered, relayed"));
    }

    #[test]
    fn subscriptions_parse_store_and_match() {
        let s = Subscription::parse(" bounced, delivered ,bounced").unwrap();
        assert_eq!(
            s,
            Subscription::Only(vec![WebhookEvent::Delivered, WebhookEvent::Bounced])
        );
        assert_eq!(s.stored(), ",delivered,bounced,");
        assert_eq!(Subscription::from_stored(&s.stored()), Ok(s.clone()));
        assert!(s.includes(WebhookEvent::Bounced) && !s.includes(WebhookEvent::Opened));
        assert_eq!(Subscription::parse("all"), Ok(Subscription::All));
        assert_eq!(Subscription::from_stored("*"), Ok(Subscription::All));
        let every = WebhookEvent::ALL.map(|e| e.as_str()).join(",");
        assert_eq!(Subscription::parse(&every), Ok(Subscription::All));
        assert!(Subscription::parse(" , ").is_err());
        assert!(
            Subscription::parse("delivered,opend")
                .unwrap_err()
                .contains("opend")
        );
    }

    #[test]
    fn outcomes_and_event_kinds_map() {
        assert_eq!(
            WebhookEvent::of_outcome(DeliveryState::Bounced),
            Some(WebhookEvent::Bounced)
        );
        assert_eq!(WebhookEvent::of_outcome(DeliveryState::Queued), None);
        assert_eq!(
            WebhookEvent::of_event_kind(crate::EventKind::Click),
            Some(WebhookEvent::Clicked)
        );
        assert_eq!(
            WebhookEvent::of_event_kind(crate::EventKind::AsyncBounce),
            None
        );
        assert_eq!(
            WebhookEvent::of_event_kind(crate::EventKind::Placement),
            None
        );
    }
}
