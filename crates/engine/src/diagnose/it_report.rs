//! The IT report: what the recipient's mail admin needs to find the message.

use herald_mail::filters::FilterProduct;
use herald_store::{Campaign, DeliveryDetail};
use time::OffsetDateTime;

use super::{SendContext, sent_subject};

/// The handover for the recipient's IT.
pub(super) struct ItReport {
    intro: &'static str,
    fields: Vec<(&'static str, String)>,
    note: &'static str,
}

impl ItReport {
    pub(super) fn new(
        c: &Campaign,
        d: &DeliveryDetail,
        ctx: &SendContext,
        delivered: Option<&herald_domain::Evidence>,
        filter: Option<&FilterProduct>,
        offset: Option<time::UtcOffset>,
    ) -> Self {
        let ev = delivered.or(d.row.evidence.as_ref());
        let mut fields = identity(c, d, ctx, ev);
        let via_relay = ev.is_some_and(|e| e.route.starts_with("relay"));
        if let Some(e) = ev {
            hop(&mut fields, d, e, delivered.is_some(), via_relay, offset);
        }
        sender(&mut fields, c, ctx, ev, via_relay);
        if let Some(p) = filter {
            fields.push((
                "Your filter (from your MX)",
                format!("{} — {}", p.name, p.quarantine),
            ));
        }
        ItReport {
            intro: if delivered.is_some() {
                "A message sent to an address of your organisation was accepted by your mail server, but the recipient cannot find it. Please search your mail logs and quarantine with these details:"
            } else {
                "A message sent to an address of your organisation was not accepted by your mail server. These are the details of the attempt:"
            },
            fields,
            note: "Note for the recipient: please look in your Junk or Spam folder; if the message is there, move it to the Inbox and add the sender's address to your contacts so the next one arrives.",
        }
    }

    pub(super) fn text(&self) -> String {
        let width = self.fields.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
        let mut out = format!("{}\n\n", self.intro);
        for (k, v) in &self.fields {
            out.push_str(&format!("{k:<width$}  {v}\n"));
        }
        out.push('\n');
        out.push_str(self.note);
        out.push('\n');
        out
    }

    pub(super) fn html(&self) -> String {
        let esc = |s: &str| {
            s.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&quot;")
        };
        let mut out = format!(
            "<!doctype html><meta charset=\"utf-8\"><title>Message trace request</title><p>{}</p><table>",
            esc(self.intro)
        );
        for (k, v) in &self.fields {
            out.push_str(&format!(
                "<tr><th align=\"left\">{}</th><td>{}</td></tr>",
                esc(k),
                esc(v)
            ));
        }
        out.push_str(&format!("</table><p>{}</p>", esc(self.note)));
        out
    }
}

/// A time as the admin reads it: RFC 2822 in UTC, and in the recipient's zone when known.
fn when(t: OffsetDateTime, offset: Option<time::UtcOffset>) -> String {
    let rfc2822 = |t: OffsetDateTime| {
        t.format(&time::format_description::well_known::Rfc2822)
            .unwrap_or_default()
    };
    let utc = format!("{} (UTC)", rfc2822(t.to_offset(time::UtcOffset::UTC)));
    match offset {
        Some(o) => format!(
            "{utc}; {} in the recipient's zone, UTC{}{:02}:{:02}",
            rfc2822(t.to_offset(o)),
            if o.is_negative() { '-' } else { '+' },
            o.whole_hours().unsigned_abs(),
            o.minutes_past_hour().unsigned_abs()
        ),
        None => utc,
    }
}

/// What identifies the message: recipient, subject, From, envelope sender, Message-ID, size
/// and hash, and the result.
fn identity(
    c: &Campaign,
    d: &DeliveryDetail,
    ctx: &SendContext,
    ev: Option<&herald_domain::Evidence>,
) -> Vec<(&'static str, String)> {
    vec![
        ("Recipient", d.row.email.clone()),
        ("Subject", sent_subject(c, ev)),
        (
            "From name",
            c.from_name.clone().unwrap_or_else(|| "(none)".into()),
        ),
        ("From address", c.from_address.clone()),
        (
            "Envelope sender (Return-Path)",
            ctx.envelope_sender
                .clone()
                .unwrap_or_else(|| c.from_address.clone()),
        ),
        ("Message-ID", d.row.message_id.clone()),
        (
            "Message size and SHA-256",
            match ev.and_then(|e| e.sent.as_ref().map(|s| (e.bytes, s))) {
                Some((bytes, s)) if bytes > 0 => format!("{bytes} bytes, {}", s.sha256),
                Some((_, s)) => s.sha256.clone(),
                None => "(not recorded)".into(),
            },
        ),
        (
            "Result",
            format!(
                "{}{}",
                d.row.state,
                d.row
                    .reason
                    .as_deref()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default()
            ),
        ),
    ]
}

/// The hop that took it: when, which server (or our relay, and where the relay delivered it),
/// the queue id, the reply, TLS.
fn hop(
    fields: &mut Vec<(&'static str, String)>,
    d: &DeliveryDetail,
    e: &herald_domain::Evidence,
    delivered: bool,
    via_relay: bool,
    offset: Option<time::UtcOffset>,
) {
    // Through a relay, the recipient's server is known only from the relay's success DSN.
    let onward = d
        .events
        .iter()
        .rev()
        .find(|e| {
            e.kind == herald_domain::EventKind::DsnDelivered
                || e.kind == herald_domain::EventKind::ProviderDelivered
        })
        .map(|e| (e.at_ms, super::event_detail(e)));
    let when = |t| when(t, offset);
    fields.push((
        if delivered {
            "Delivery time"
        } else if via_relay {
            "Handed to our relay"
        } else {
            "Last attempt"
        },
        when(e.ended_at),
    ));
    let server = format!(
        "{} [{}]",
        e.mx.as_deref().unwrap_or("?"),
        e.remote_ip.as_deref().unwrap_or("?")
    );
    if via_relay {
        fields.push(("Our relay", server));
        fields.push((
            "Our relay's queue id",
            e.remote_queue_id
                .clone()
                .unwrap_or_else(|| "(not given)".into()),
        ));
        match &onward {
            Some((at, det)) => {
                fields.push((
                    "Delivery time (reported by our relay)",
                    OffsetDateTime::from_unix_timestamp_nanos(*at as i128 * 1_000_000)
                        .map(when)
                        .unwrap_or_default(),
                ));
                let text = |k: &str| det[k].as_str().unwrap_or("(not given)").to_string();
                fields.push(("Receiving server", text("remote_mta")));
                fields.push(("Receiving server's queue id", text("remote_queue_id")));
                fields.push((
                    "Its reply",
                    det["diagnostic"]
                        .as_str()
                        .or(det["reply"].as_str())
                        .unwrap_or("(not given)")
                        .to_string(),
                ));
            }
            None => fields.push((
                "Receiving server",
                "not reported yet: our relay has not said where it went".into(),
            )),
        }
    } else {
        fields.push(("Receiving server", server));
        fields.push((
            "Receiving server's queue id",
            e.remote_queue_id
                .clone()
                .unwrap_or_else(|| "(not given)".into()),
        ));
        fields.push((
            "Its reply",
            e.reply
                .as_ref()
                .map(|r| r.text())
                .or_else(|| e.error.clone())
                .unwrap_or_default(),
        ));
    }
    fields.push((
        if via_relay { "TLS to our relay" } else { "TLS" },
        e.tls
            .as_ref()
            .map(|t| t.to_string())
            .unwrap_or_else(|| "none".into()),
    ));
}

/// Who sent it: our sending IPs to allowlist, DKIM, and what the sender checked.
fn sender(
    fields: &mut Vec<(&'static str, String)>,
    c: &Campaign,
    ctx: &SendContext,
    ev: Option<&herald_domain::Evidence>,
    via_relay: bool,
) {
    let mut ips = ctx.sending_ips.clone();
    if let Some(local) = ev.and_then(|e| e.local_ip.clone())
        && !ips.contains(&local)
    {
        ips.push(local);
    }
    fields.push((
        "Our sending IPs (to allowlist)",
        if via_relay {
            // Our own addresses only ever talked to the relay.
            format!(
                "those of our relay {}: the message reached you from the relay's servers, not from ours",
                ev.and_then(|e| e.mx.as_deref()).unwrap_or("")
            )
        } else if ips.is_empty() {
            "(not configured)".into()
        } else {
            ips.join(", ")
        },
    ));
    fields.push((
        "DKIM",
        match &ctx.dkim_domain {
            Some(dom) => format!(
                "signed, d={dom}{}",
                ctx.dkim_selector
                    .as_deref()
                    .map(|s| format!(" s={s} (RSA) and s={s}-ed25519"))
                    .unwrap_or_default()
            ),
            None => "not signed (the From domain is not connected)".into(),
        },
    ));
    fields.push((
        "Authentication",
        match &c.gate_override {
            None if ctx.dkim_domain.is_some() => "DKIM, SPF and DMARC records of the From domain passed the sender's checks when the campaign was created".into(),
            None => "the From domain's records were not checked".into(),
            Some(why) => format!("NOT verified by the sender: {why}"),
        },
    ));
}
