//! Stage `outcome`: turn an attempt into a delivery state transition. Pure policy.
//!
//! Every result type is matched without a wildcard, so a new kind of result does not compile
//! until someone decides whether it is temporary or permanent.

use herald_domain::{BounceReason, DeliveryState, Reply, RetryDecision, RetrySchedule};
use herald_mail::classify_reply_at;
use time::OffsetDateTime;

use crate::deliver::{AttemptResult, SmtpStage};

/// The new state of a delivery after an attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct Decision {
    pub state: DeliveryState,
    pub reason: Option<BounceReason>,
    pub hard: bool,
    pub next_attempt_at: Option<OffsetDateTime>,
}

/// Whose answer an attempt carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hop {
    /// The recipient's own mail server (its MX, or the sandbox standing in for it).
    Recipient,
    /// A relay or provider between us and the recipient: its 250 is not the recipient's.
    Relay,
}

/// Decide what an attempt means. `attempts` counts attempts before this one; `mx` is the host
/// that answered, when one did (a provider's replies mean what it documents).
pub fn decide(
    result: &AttemptResult,
    hop: Hop,
    attempts: u32,
    first_attempt_at: Option<OffsetDateTime>,
    now: OffsetDateTime,
    schedule: &RetrySchedule,
    mx: Option<&str>,
) -> Decision {
    let temporary = |reason: BounceReason| match schedule.decide(
        attempts + 1,
        first_attempt_at.unwrap_or(now),
        now,
    ) {
        RetryDecision::RetryAt(t) => Decision {
            state: DeliveryState::Deferred,
            reason: Some(reason),
            hard: false,
            next_attempt_at: Some(t),
        },
        RetryDecision::Expire => Decision {
            state: DeliveryState::Expired,
            reason: Some(reason),
            hard: false,
            next_attempt_at: None,
        },
    };
    let bounced = |reason: BounceReason, hard: bool| Decision {
        state: DeliveryState::Bounced,
        reason: Some(reason),
        hard,
        next_attempt_at: None,
    };
    match result {
        AttemptResult::Accepted(_) => Decision {
            state: match hop {
                Hop::Recipient => DeliveryState::Delivered,
                Hop::Relay => DeliveryState::Relayed,
            },
            reason: None,
            hard: false,
            next_attempt_at: None,
        },
        AttemptResult::Refused { stage, reply } => {
            // The stage says what a refusal is about: a 550 5.1.1 to RCPT TO is an unknown
            // address; the same after the message is a filter's verdict on it.
            let c = classify_reply_at(reply, mx, *stage);
            if is_temporary(*stage, reply)
                || hop == Hop::Relay && about_our_account(*stage, c.reason)
            {
                temporary(c.reason)
            } else {
                bounced(c.reason, c.hard)
            }
        }
        AttemptResult::LocalError { reply, stage, .. } => match reply {
            // e.g. a 421 greeting from every MX host.
            Some(r) => temporary(classify_reply_at(r, mx, *stage).reason),
            None => temporary(BounceReason::NetworkError),
        },
        AttemptResult::NoSuchDomain(_) => bounced(BounceReason::HostUnknown, true),
        AttemptResult::NullMx => bounced(BounceReason::NotAccept, true),
        AttemptResult::DnsTempFail(_) => temporary(BounceReason::NetworkError),
    }
}

/// A relay's refusal that is about our account with it (not relaying for us, the sender not
/// verified there, our login, our envelope sender), not about the recipient: nothing the
/// recipient did, so it is retried (until `expiry`) while the operator fixes the account, and
/// no address is suppressed for it. A refusal of the content itself still bounces.
fn about_our_account(stage: SmtpStage, reason: BounceReason) -> bool {
    stage == SmtpStage::MailFrom
        || matches!(reason, BounceReason::NoRelaying | BounceReason::AuthFailure)
}

/// 4xx is temporary; so is 552 to RCPT, which RFC 5321 §4.5.3.1.10 says clients must treat
/// as 452 (too many recipients, not "mailbox full for good").
fn is_temporary(stage: SmtpStage, reply: &Reply) -> bool {
    reply.is_transient()
        || (stage == SmtpStage::RcptTo && reply.code == 552)
        || !reply.is_permanent() && !reply.is_positive()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use time::macros::datetime;

    fn reply(code: u16, enh: &str, text: &str) -> Reply {
        Reply {
            code,
            enhanced: Some(enh.into()),
            lines: vec![text.into()],
        }
    }

    fn schedule() -> RetrySchedule {
        RetrySchedule {
            intervals: vec![Duration::from_secs(60)],
            expiry: Duration::from_secs(600),
        }
    }

    #[test]
    fn table() {
        let now = datetime!(2026-11-26 10:00 UTC);
        let s = schedule();
        let d = decide(
            &AttemptResult::Accepted(reply(250, "2.0.0", "Ok: queued as X")),
            Hop::Recipient,
            0,
            None,
            now,
            &s,
            None,
        );
        assert_eq!(d.state, DeliveryState::Delivered);
        // The same 250 from a relay is the relay's, not the recipient's.
        let d = decide(
            &AttemptResult::Accepted(reply(250, "2.0.0", "Ok: queued as X")),
            Hop::Relay,
            0,
            None,
            now,
            &s,
            None,
        );
        assert_eq!((d.state, d.reason), (DeliveryState::Relayed, None));
        // A relay that will not relay for us is about our account: retried, nobody bounced.
        let d = decide(
            &AttemptResult::Refused {
                stage: SmtpStage::RcptTo,
                reply: reply(554, "5.7.1", "<ann@example.com>: Relay access denied"),
            },
            Hop::Relay,
            0,
            None,
            now,
            &s,
            None,
        );
        assert_eq!(d.state, DeliveryState::Deferred);

        let d = decide(
            &AttemptResult::Refused {
                stage: SmtpStage::RcptTo,
                reply: reply(550, "5.1.1", "User unknown"),
            },
            Hop::Recipient,
            0,
            None,
            now,
            &s,
            None,
        );
        assert_eq!(
            (d.state, d.reason, d.hard),
            (
                DeliveryState::Bounced,
                Some(BounceReason::UserUnknown),
                true
            )
        );

        // The same words after the message are a filter's verdict on it, not a statement that
        // the address does not exist: bounced, but not hard (the address is not suppressed).
        let d = decide(
            &AttemptResult::Refused {
                stage: SmtpStage::EndOfData,
                reply: reply(550, "5.1.1", "User unknown"),
            },
            Hop::Recipient,
            0,
            None,
            now,
            &s,
            None,
        );
        assert_eq!(
            (d.state, d.reason, d.hard),
            (DeliveryState::Bounced, Some(BounceReason::Filtered), false)
        );

        let d = decide(
            &AttemptResult::Refused {
                stage: SmtpStage::RcptTo,
                reply: reply(451, "4.7.1", "Try again later"),
            },
            Hop::Recipient,
            0,
            None,
            now,
            &s,
            None,
        );
        assert_eq!(
            (d.state, d.next_attempt_at),
            (DeliveryState::Deferred, Some(now + Duration::from_secs(60)))
        );

        let d = decide(
            &AttemptResult::Refused {
                stage: SmtpStage::RcptTo,
                reply: reply(552, "5.2.2", "Mailbox full"),
            },
            Hop::Recipient,
            0,
            None,
            now,
            &s,
            None,
        );
        assert_eq!(d.state, DeliveryState::Deferred, "552 at RCPT is temporary");

        let d = decide(
            &AttemptResult::Refused {
                stage: SmtpStage::EndOfData,
                reply: reply(552, "5.3.4", "Message too big"),
            },
            Hop::Recipient,
            0,
            None,
            now,
            &s,
            None,
        );
        assert_eq!(
            (d.state, d.reason),
            (DeliveryState::Bounced, Some(BounceReason::MesgTooBig))
        );

        let d = decide(
            &AttemptResult::LocalError {
                stage: SmtpStage::Connect,
                message: "refused".into(),
                reply: None,
            },
            Hop::Recipient,
            3,
            Some(now - Duration::from_secs(601)),
            now,
            &s,
            None,
        );
        assert_eq!(
            (d.state, d.reason),
            (DeliveryState::Expired, Some(BounceReason::NetworkError))
        );

        let d = decide(
            &AttemptResult::NoSuchDomain("x".into()),
            Hop::Recipient,
            0,
            None,
            now,
            &s,
            None,
        );
        assert_eq!(
            (d.state, d.reason, d.hard),
            (
                DeliveryState::Bounced,
                Some(BounceReason::HostUnknown),
                true
            )
        );
        let d = decide(
            &AttemptResult::NullMx,
            Hop::Recipient,
            0,
            None,
            now,
            &s,
            None,
        );
        assert_eq!(
            (d.state, d.reason),
            (DeliveryState::Bounced, Some(BounceReason::NotAccept))
        );
        let d = decide(
            &AttemptResult::DnsTempFail("timeout".into()),
            Hop::Recipient,
            0,
            None,
            now,
            &s,
            None,
        );
        assert_eq!(d.state, DeliveryState::Deferred);
    }
}
