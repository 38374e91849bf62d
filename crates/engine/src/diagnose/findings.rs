//! The findings of a diagnosis, one function per question, each adding what it finds.

use herald_domain::DeliveryState;
use herald_mail::filters::FilterProduct;
use herald_store::{Campaign, DeliveryDetail, EventRow, RecipientRow};

use super::{Finding, SendContext, Severity, is_human, not_sent_words};
use crate::reports::{ms_to_rfc3339, rfc3339_ms};

/// What every finding reads: the delivery, its campaign, how it was sent.
pub(super) struct Facts<'a> {
    pub c: &'a Campaign,
    pub d: &'a DeliveryDetail,
    pub ctx: &'a SendContext,
    pub row: &'a RecipientRow,
    /// The last attempt's evidence.
    pub last: Option<&'a herald_domain::Evidence>,
    /// The attempt that was accepted, if one was.
    pub delivered_attempt: Option<&'a herald_domain::Evidence>,
    /// The recipient's domain, lower-case.
    pub domain: String,
    pub filter: Option<FilterProduct>,
    /// Events with their parsed detail.
    pub events: Vec<(&'a EventRow, serde_json::Value)>,
}

type Event<'a, 'b> = Option<&'b (&'a EventRow, serde_json::Value)>;

impl<'a> Facts<'a> {
    /// The late bounce, a person's open or click, a machine's.
    fn engagement(&self) -> (Event<'a, '_>, Event<'a, '_>, Event<'a, '_>) {
        let late_bounce = self
            .events
            .iter()
            .find(|(e, _)| e.kind == herald_domain::EventKind::AsyncBounce);
        let human = self.events.iter().find(|(e, det)| {
            matches!(
                e.kind,
                herald_domain::EventKind::Open | herald_domain::EventKind::Click
            ) && is_human(det)
        });
        let machine = self.events.iter().find(|(e, det)| {
            matches!(
                e.kind,
                herald_domain::EventKind::Open | herald_domain::EventKind::Click
            ) && !is_human(det)
        });
        (late_bounce, human, machine)
    }
}

/// The findings so far, in order.
#[derive(Default)]
pub(super) struct Findings(pub Vec<Finding>);

impl Findings {
    fn add(
        &mut self,
        code: &'static str,
        severity: Severity,
        text: String,
        evidence: serde_json::Value,
    ) {
        self.0.push(Finding {
            code,
            severity,
            text,
            evidence,
        });
    }
}

/// Every finding, in the order they are shown; returns the probable placement.
pub(super) fn all(x: &Facts, out: &mut Findings) -> &'static str {
    state(x, out);
    accepted(x, out);
    relay_delivered(x, out);
    late_bounce(x, out);
    filter_product(x, out);
    authentication(x, out);
    engagement(x, out);
    complaints(x, out);
    suppression(x, out);
    duplicate(x, out);
    let placement = seed_placement(x, out);
    ask_it(x, out);
    placement
}

/// The state itself: not sent, queued, deferred, refused, expired, failed.
fn state(x: &Facts, out: &mut Findings) {
    let Facts { row, last, .. } = x;
    let (late_bounce, _, _) = x.engagement();
    match row.state {
        DeliveryState::NotSent => out.add(
            "not_sent",
            Severity::Problem,
            format!(
                "Herald did not send this campaign to this address: {}.",
                not_sent_words(row.reason.as_deref().unwrap_or("unknown"))
            ),
            serde_json::json!({"reason": row.reason}),
        ),
        DeliveryState::Relayed => {
            let relay = last.and_then(|e| e.mx.clone()).unwrap_or_else(|| "Your relay".into());
            let queue_id = last.and_then(|e| e.remote_queue_id.clone());
            out.add(
                "relayed",
                Severity::Warning,
                format!(
                    "Your relay ({relay}) accepted it{}{}; the recipient's server has not been heard from. The relay may still be trying, or may have delivered it: a bounce it sends back will show here. Its own log{} says what the recipient's server answered.",
                    last.map(|e| format!(" at {}", rfc3339_ms(e.ended_at)))
                        .unwrap_or_default(),
                    queue_id
                        .as_deref()
                        .map(|q| format!(" with queue id {q}"))
                        .unwrap_or_default(),
                    queue_id
                        .as_deref()
                        .map(|q| format!(", under queue id {q},"))
                        .unwrap_or_default(),
                ),
                serde_json::json!({
                    "relay": relay,
                    "queue_id": queue_id,
                    "reply": last.and_then(|e| e.reply.as_ref()).map(|r| r.full()),
                }),
            )
        }
        DeliveryState::Queued => out.add(
            "not_yet_sent",
            Severity::Info,
            "The message is queued and has not been attempted yet.".into(),
            serde_json::Value::Null,
        ),
        DeliveryState::Deferred => out.add(
            "still_deferred",
            Severity::Warning,
            format!(
                "The receiving server has not accepted it yet: its last answer was {}. Herald retries{}.",
                last.and_then(|e| e.reply.as_ref())
                    .map(|r| format!("\"{}\"", r.text()))
                    .or_else(|| last.and_then(|e| e.error.clone()))
                    .unwrap_or_else(|| "no answer".into()),
                row.next_attempt_at_ms
                    .map(|t| if t >= herald_store::PAUSE_SHIFT_MS {
                        // Out of the due range: its campaign is paused.
                        format!(
                            " once the campaign is resumed (it was due at {})",
                            ms_to_rfc3339(herald_store::unshifted(t))
                        )
                    } else {
                        format!(" at {}", ms_to_rfc3339(t))
                    })
                    .unwrap_or_default()
            ),
            serde_json::json!({"attempts": row.attempts, "next_attempt_at": row.next_attempt_at_ms.map(herald_store::unshifted).map(ms_to_rfc3339)}),
        ),
        DeliveryState::Bounced if late_bounce.is_none() => out.add(
            "rejected",
            Severity::Problem,
            format!(
                "It was refused ({}): {}. {}",
                row.reason.as_deref().unwrap_or("undefined"),
                last.and_then(|e| e.reply.as_ref())
                    .map(|r| format!("the receiving server answered \"{}\"", r.text()))
                    .or_else(|| last.and_then(|e| e.error.clone()))
                    .unwrap_or_else(|| "no answer recorded".into()),
                if row.hard {
                    "The address does not work; it is not mailed again."
                } else {
                    "This is about the message or the sender, not the address."
                }
            ),
            serde_json::json!({"reason": row.reason, "hard": row.hard}),
        ),
        DeliveryState::Expired => out.add(
            "expired",
            Severity::Problem,
            format!(
                "Herald gave up after {} attempts over the retry period; the last answer was {}.",
                row.attempts,
                last.and_then(|e| e.reply.as_ref())
                    .map(|r| format!("\"{}\"", r.text()))
                    .or_else(|| last.and_then(|e| e.error.clone()))
                    .unwrap_or_else(|| "none".into())
            ),
            serde_json::json!({"attempts": row.attempts}),
        ),
        DeliveryState::Failed => out.add(
            "failed",
            Severity::Problem,
            format!(
                "It could not be delivered: {}.",
                last.and_then(|e| e.error.clone())
                    .or_else(|| row.reason.clone())
                    .unwrap_or_else(|| "no reason recorded".into())
            ),
            serde_json::json!({"reason": row.reason}),
        ),
        _ => {}
    }
}

/// Through a relay: what the relay reported about the next server (its success DSN).
fn relay_delivered(x: &Facts, out: &mut Findings) {
    let Facts { events, last, .. } = x;
    let Some((e, det)) = events.iter().rev().find(|(e, _)| {
        e.kind == herald_domain::EventKind::DsnDelivered
            || e.kind == herald_domain::EventKind::ProviderDelivered
    }) else {
        return;
    };
    let relay = last
        .and_then(|e| e.mx.clone())
        .unwrap_or_else(|| "Your relay".into());
    let text = |k: &str| det[k].as_str().map(str::to_string);
    let who = match text("provider") {
        // A provider's event webhook.
        Some(p) => format!("Your sending provider ({p}, through {relay})"),
        None => format!("Your relay ({relay})"),
    };
    out.add(
        "relay_delivered",
        Severity::Info,
        format!(
            "{who} reports that {} accepted it at {}{}{}. \"Delivered\" means only this: after accepting, the receiving side can still file it in Junk, hold it in a quarantine, or drop it.",
            text("remote_mta").unwrap_or_else(|| "the recipient's server".into()),
            ms_to_rfc3339(e.at_ms),
            text("diagnostic")
                .or_else(|| text("reply"))
                .map(|d| format!(", answering \"{d}\""))
                .unwrap_or_default(),
            text("remote_queue_id")
                .map(|q| format!(" (queue id {q})"))
                .unwrap_or_default(),
        ),
        det.clone(),
    );
}

/// Who accepted it, when, with which queue id and TLS.
fn accepted(x: &Facts, out: &mut Findings) {
    let Facts {
        delivered_attempt, ..
    } = x;
    if let Some(e) = delivered_attempt {
        out.add(
            "accepted",
            Severity::Info,
            format!(
                "{} ({}) accepted the message at {}{}{}. \"Delivered\" means only this: after accepting, the receiving side can still file it in Junk, hold it in a quarantine, or drop it.",
                e.mx.as_deref().unwrap_or("The receiving server"),
                e.remote_ip.as_deref().unwrap_or("?"),
                rfc3339_ms(e.ended_at),
                e.remote_queue_id
                    .as_deref()
                    .map(|q| format!(" with queue id {q}"))
                    .unwrap_or_default(),
                e.tls
                    .as_ref()
                    .map(|t| format!(" over {t}"))
                    .unwrap_or_else(|| " without TLS".into()),
            ),
            serde_json::json!({
                "mx": e.mx, "ip": e.remote_ip, "at": rfc3339_ms(e.ended_at),
                "queue_id": e.remote_queue_id, "reply": e.reply.as_ref().map(|r| r.full()),
            }),
        );
    }
}

/// A bounce that came after the acceptance.
fn late_bounce(x: &Facts, out: &mut Findings) {
    let (late_bounce, _, _) = x.engagement();
    if let Some((e, det)) = late_bounce {
        out.add(
            "late_bounce",
            Severity::Problem,
            format!(
                "After accepting it, the receiving side bounced it at {}: {} ({}).",
                ms_to_rfc3339(e.at_ms),
                det["diagnostic"].as_str().unwrap_or("no diagnostic"),
                det["reason"].as_str().unwrap_or("undefined")
            ),
            det.clone(),
        );
    }
}

/// The filter product in front of the recipient's mailbox and what its 250 means.
fn filter_product(x: &Facts, out: &mut Findings) {
    let Facts {
        ctx,
        row,
        domain,
        filter,
        ..
    } = x;
    if let Some(p) = &filter
        && row.state != DeliveryState::NotSent
    {
        out.add(
            "filter_product",
            Severity::Info,
            format!(
                "{} receives mail for {domain}. {} Held or filtered mail is found by {}.",
                p.name, p.accepted_means, p.quarantine
            ),
            serde_json::json!({"product": p.code, "mx": ctx.mx_hosts}),
        );
    }
}

/// How the From domain was authenticated.
fn authentication(x: &Facts, out: &mut Findings) {
    let Facts { c, ctx, row, .. } = x;
    if row.state != DeliveryState::NotSent {
        match (&ctx.dkim_domain, &c.gate_override) {
            (Some(d), None) => out.add(
                "authenticated",
                Severity::Info,
                format!(
                    "Signed with DKIM as d={d}, aligned with the From domain; the domain passed Herald's checks when the campaign was created."
                ),
                serde_json::json!({"dkim_domain": d, "selector": ctx.dkim_selector}),
            ),
            (dkim, Some(why)) => out.add(
                "unaligned_from",
                Severity::Problem,
                format!(
                    "The From domain {} was not connected and verified when this campaign was created ({}). {} Receivers that enforce DMARC (Gmail, Yahoo, Microsoft) put such mail in Junk or reject it.",
                    herald_domain::address::domain_part(&c.from_address),
                    why,
                    if dkim.is_some() {
                        "Its DNS records did not all pass."
                    } else {
                        "The message carried no DKIM signature aligned with it."
                    }
                ),
                serde_json::json!({"gate_override": why, "dkim_domain": dkim}),
            ),
            (None, None) => out.add(
                "unaligned_from",
                Severity::Problem,
                format!(
                    "The From domain {} is not connected: the message carried no DKIM signature aligned with it, so receivers that enforce DMARC put it in Junk or reject it.",
                    herald_domain::address::domain_part(&c.from_address)
                ),
                serde_json::Value::Null,
            ),
        }
    }
}

/// Opens and clicks: a person's, or only machines'.
fn engagement(x: &Facts, out: &mut Findings) {
    let Facts { row, .. } = x;
    let (_, human_engagement, machine_engagement) = x.engagement();
    match (human_engagement, machine_engagement) {
        (Some((e, det)), _) => out.add(
            "engaged",
            Severity::Info,
            format!(
                "A person {} it at {}: the message reached the recipient.",
                if e.kind == herald_domain::EventKind::Click { "clicked a link in" } else { "opened" },
                ms_to_rfc3339(e.at_ms)
            ),
            det.clone(),
        ),
        (None, Some((e, det))) => out.add(
            "machine_engagement_only",
            Severity::Info,
            format!(
                "Only machines fetched it ({} at {}, {}): that proves nothing about a person seeing it.",
                e.kind,
                ms_to_rfc3339(e.at_ms),
                det["reason"].as_str().unwrap_or("machine")
            ),
            det.clone(),
        ),
        (None, None) if row.state == DeliveryState::Delivered => out.add(
            "no_engagement",
            Severity::Info,
            "No open or click was recorded. Many mail clients block images, so this proves nothing either way.".into(),
            serde_json::Value::Null,
        ),
        _ => {}
    }
}

/// Complaints and unsubscribes.
fn complaints(x: &Facts, out: &mut Findings) {
    let Facts { events, .. } = x;
    for (e, det) in events {
        match e.kind.as_str() {
            "complaint" => out.add(
                "complaint",
                Severity::Problem,
                format!(
                    "The recipient reported it as spam at {}.",
                    ms_to_rfc3339(e.at_ms)
                ),
                det.clone(),
            ),
            "unsubscribe" => out.add(
                "unsubscribed",
                Severity::Warning,
                format!("The recipient unsubscribed at {}.", ms_to_rfc3339(e.at_ms)),
                det.clone(),
            ),
            _ => {}
        }
    }
}

/// The suppression list.
fn suppression(x: &Facts, out: &mut Findings) {
    let Facts { d, .. } = x;
    if let Some((reason, source, at)) = &d.suppression {
        out.add(
            "suppressed",
            Severity::Warning,
            format!(
                "The address is on the suppression list ({reason}, since {}, source {source}): later campaigns skip it.",
                ms_to_rfc3339(*at)
            ),
            serde_json::json!({"reason": reason, "source": source}),
        );
    }
}

/// A restart while the message was in flight.
fn duplicate(x: &Facts, out: &mut Findings) {
    let Facts { row, .. } = x;
    if row.possible_duplicate {
        out.add(
            "possible_duplicate",
            Severity::Info,
            "Herald restarted while this message was in flight: the recipient may have received it twice.".into(),
            serde_json::Value::Null,
        );
    }
}

/// The handover to the recipient's IT, when nothing else explains it.
fn ask_it(x: &Facts, out: &mut Findings) {
    let Facts { row, .. } = x;
    let (late_bounce, human_engagement, _) = x.engagement();
    if row.state == DeliveryState::Delivered && late_bounce.is_none() && human_engagement.is_none()
    {
        out.add(
            "ask_it",
            Severity::Info,
            "If it is neither in the inbox nor in Junk, the receiving side holds it after accepting it: forward the IT report to the recipient's IT. They can find it by its Message-ID and the queue id above.".into(),
            serde_json::Value::Null,
        );
    }
}

/// Where the seed at the same provider landed: a probable placement (`inbox`, `junk`,
/// `other`, `missing`; `unknown` without such a seed).
fn seed_placement(x: &Facts, out: &mut Findings) -> &'static str {
    let Facts {
        ctx,
        row,
        domain,
        filter,
        delivered_attempt,
        last,
        ..
    } = x;
    // Seeds at the same provider (same domain, or a provider named like the filter product).
    // Through a relay too: the seed's copy went the same way.
    let seed = matches!(row.state, DeliveryState::Delivered | DeliveryState::Relayed)
        .then(|| {
            ctx.seeds
                .iter()
                .filter(|s| s.placement.is_some())
                .find(|s| {
                    let seed_domain = herald_domain::address::domain_part(&s.address);
                    let provider = s.provider.to_ascii_lowercase();
                    seed_domain.eq_ignore_ascii_case(domain)
                        || filter.is_some_and(|p| {
                            provider == p.code || provider.contains(&p.name.to_ascii_lowercase())
                        })
                })
        })
        .flatten();
    let mut placement = "unknown";
    if let Some(s) = seed {
        use herald_domain::Placement;
        let (sev, text) = match &s.placement {
            Some(Placement::Inbox) => {
                placement = "inbox";
                (
                    Severity::Info,
                    format!(
                        "The seed mailbox at {} ({}) got this campaign in its Inbox: the copy for {} probably reached the inbox too.",
                        s.provider, s.address, row.email
                    ),
                )
            }
            Some(Placement::Junk) => {
                placement = "junk";
                (
                    Severity::Warning,
                    format!(
                        "The seed mailbox at {} ({}) got this campaign in Junk: the copy for {} is probably in Junk too. Ask them to look there and move it to the Inbox.",
                        s.provider, s.address, row.email
                    ),
                )
            }
            Some(Placement::Missing) => {
                placement = "missing";
                (
                    Severity::Warning,
                    format!(
                        "Accepted at {}{}, but the seed copy at {} ({}) never reached any folder: likely held by a filter. Forward the IT report to the recipient's IT.",
                        // Through a relay: the relay's acceptance.
                        delivered_attempt
                            .or(*last)
                            .map(|e| rfc3339_ms(e.ended_at))
                            .unwrap_or_default(),
                        delivered_attempt
                            .or(*last)
                            .and_then(|e| e.remote_queue_id.as_deref())
                            .map(|q| format!(" with queue id {q}"))
                            .unwrap_or_default(),
                        s.provider,
                        s.address
                    ),
                )
            }
            other => {
                placement = "other";
                let folder = match other {
                    Some(Placement::Other(folder)) => folder.as_str(),
                    _ => "",
                };
                (
                    Severity::Info,
                    format!(
                        "The seed mailbox at {} ({}) got this campaign in {}: the copy for {} is probably in a similar folder.",
                        s.provider, s.address, folder, row.email
                    ),
                )
            }
        };
        out.add(
            if s.placement == Some(Placement::Missing) {
                "likely_quarantine"
            } else {
                "seed_placement"
            },
            sev,
            text,
            serde_json::json!({
                "seed": s.address,
                "provider": s.provider,
                "placement": s.placement.as_ref().map(|p| p.name()).unwrap_or_default(),
                "probable": true,
            }),
        );
    }
    placement
}
