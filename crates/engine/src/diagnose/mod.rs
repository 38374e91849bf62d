//! Stage `diagnose`: "why didn't they get it?" for one recipient of one campaign (design §7).
//!
//! Input: everything recorded about the delivery (attempts, events, suppression), the campaign,
//! how it was sent (DKIM domain, return path, sending IPs) and who receives for the domain (MX
//! names). Output: the timeline, findings in plain words — each with a code, a severity and its
//! evidence — and the IT report, a handover the recipient's mail admin can search with.
//! Pure: no I/O; the caller looks things up.

use herald_domain::DeliveryState;
use herald_mail::filters::{FilterProduct, detect};
use herald_store::{Campaign, DeliveryDetail};
use serde::Serialize;
use time::OffsetDateTime;

use crate::reports::{EvidenceReport, ms_to_rfc3339, rfc3339_ms};

/// How the campaign was sent, as far as the sender's side knows.
#[derive(Debug, Clone, Default)]
pub struct SendContext {
    /// The DKIM d= the From domain signs with (None: not connected, unsigned).
    pub dkim_domain: Option<String>,
    pub dkim_selector: Option<String>,
    /// The envelope sender (VERP return path) of this delivery.
    pub envelope_sender: Option<String>,
    /// Addresses Herald sends from.
    pub sending_ips: Vec<String>,
    /// MX host names of the recipient's domain (looked up now, plus those connected to).
    pub mx_hosts: Vec<String>,
    /// Where this campaign's seed copies landed.
    pub seeds: Vec<SeedResult>,
}

/// One seed copy of the campaign.
#[derive(Debug, Clone, Default)]
pub struct SeedResult {
    pub address: String,
    pub provider: String,
    /// inbox | junk | other:<folder> | missing; None while unknown.
    pub placement: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warning,
    Problem,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Finding {
    pub code: &'static str,
    pub severity: Severity,
    pub text: String,
    pub evidence: serde_json::Value,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct TimelineEntry {
    pub at: String,
    pub what: String,
    pub detail: serde_json::Value,
}

impl TimelineEntry {
    /// What the server or the report said at this step: the SMTP reply, else the error, else
    /// the reason (empty when there is none).
    pub fn said(&self) -> &str {
        ["reply", "error", "reason"]
            .iter()
            .find_map(|k| self.detail.get(*k).and_then(|v| v.as_str()))
            .unwrap_or("")
    }
}

/// The answer, in the interface's names (`why ID EMAIL --json`).
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Diagnosis {
    pub email: String,
    /// The subject this recipient's copy had (personalised); the campaign's subject template
    /// when no copy was made for them.
    pub subject: String,
    pub state: DeliveryState,
    pub reason: Option<String>,
    pub evidence: Option<EvidenceReport>,
    pub timeline: Vec<TimelineEntry>,
    /// inbox | junk | other | missing | unknown: where the seed at the same provider landed (a
    /// probability, worded so in the findings); unknown without such a seed.
    pub placement: &'static str,
    pub filter: Option<FilterProduct>,
    pub findings: Vec<Finding>,
    pub it_report: String,
    pub it_report_html: String,
}

fn event_detail(e: &herald_store::EventRow) -> serde_json::Value {
    serde_json::from_str(&e.detail).unwrap_or(serde_json::Value::Null)
}

fn is_human(detail: &serde_json::Value) -> bool {
    detail["verdict"] != "machine"
}

/// `"+02:00"` from the contact's `utc_offset` field, if it has a valid one.
fn contact_offset(fields: Option<&str>) -> Option<time::UtcOffset> {
    let v: serde_json::Value = serde_json::from_str(fields?).ok()?;
    let s = v.get("utc_offset")?.as_str()?.trim();
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let (h, m) = rest.split_once(':').unwrap_or((rest, "0"));
    let (h, m): (i8, i8) = (h.parse().ok()?, m.parse().ok()?);
    time::UtcOffset::from_hms(sign * h, sign * m, 0).ok()
}

/// Diagnose one delivery.
pub fn diagnose(c: &Campaign, d: &DeliveryDetail, ctx: &SendContext) -> Diagnosis {
    let row = &d.row;
    let last = row.evidence.as_ref();
    let mut findings = Vec::new();
    let mut f =
        |code: &'static str, severity: Severity, text: String, evidence: serde_json::Value| {
            findings.push(Finding {
                code,
                severity,
                text,
                evidence,
            })
        };
    let domain = herald_domain::address::domain_part(&row.email).to_ascii_lowercase();

    // What the receiving side said.
    let texts: Vec<String> = d
        .attempts
        .iter()
        .filter_map(|a| a.evidence.reply.as_ref().map(|r| r.text()))
        .collect();
    let mut hosts: Vec<&str> = ctx.mx_hosts.iter().map(String::as_str).collect();
    hosts.extend(d.attempts.iter().filter_map(|a| a.evidence.mx.as_deref()));
    let filter = detect(hosts, texts.iter().map(String::as_str));

    let delivered_attempt = d
        .attempts
        .iter()
        .rev()
        .find(|a| a.outcome == "delivered")
        .map(|a| &a.evidence);
    let events: Vec<(&herald_store::EventRow, serde_json::Value)> =
        d.events.iter().map(|e| (e, event_detail(e))).collect();
    let late_bounce = events.iter().find(|(e, _)| e.kind == "async_bounce");
    let human_engagement = events
        .iter()
        .find(|(e, det)| matches!(e.kind.as_str(), "open" | "click") && is_human(det));
    let machine_engagement = events
        .iter()
        .find(|(e, det)| matches!(e.kind.as_str(), "open" | "click") && !is_human(det));

    match row.state {
        DeliveryState::NotSent => f(
            "not_sent",
            Severity::Problem,
            format!(
                "Herald did not send this campaign to this address: {}.",
                not_sent_words(row.reason.as_deref().unwrap_or("unknown"))
            ),
            serde_json::json!({"reason": row.reason}),
        ),
        DeliveryState::Queued => f(
            "not_yet_sent",
            Severity::Info,
            "The message is queued and has not been attempted yet.".into(),
            serde_json::Value::Null,
        ),
        DeliveryState::Deferred => f(
            "still_deferred",
            Severity::Warning,
            format!(
                "The receiving server has not accepted it yet: its last answer was {}. Herald retries{}.",
                last.and_then(|e| e.reply.as_ref())
                    .map(|r| format!("\"{}\"", r.text()))
                    .or_else(|| last.and_then(|e| e.error.clone()))
                    .unwrap_or_else(|| "no answer".into()),
                row.next_attempt_at_ms
                    .map(|t| format!(" at {}", ms_to_rfc3339(t)))
                    .unwrap_or_default()
            ),
            serde_json::json!({"attempts": row.attempts, "next_attempt_at": row.next_attempt_at_ms.map(ms_to_rfc3339)}),
        ),
        DeliveryState::Bounced if late_bounce.is_none() => f(
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
        DeliveryState::Expired => f(
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
        DeliveryState::Failed => f(
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

    if let Some(e) = delivered_attempt {
        f(
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
    if let Some((e, det)) = late_bounce {
        f(
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
    if let Some(p) = &filter
        && row.state != DeliveryState::NotSent
    {
        f(
            "filter_product",
            Severity::Info,
            format!(
                "{} receives mail for {domain}. {} Held or filtered mail is found by {}.",
                p.name, p.accepted_means, p.quarantine
            ),
            serde_json::json!({"product": p.code, "mx": ctx.mx_hosts}),
        );
    }
    if row.state != DeliveryState::NotSent {
        match (&ctx.dkim_domain, &c.gate_override) {
            (Some(d), None) => f(
                "authenticated",
                Severity::Info,
                format!(
                    "Signed with DKIM as d={d}, aligned with the From domain; the domain passed Herald's checks when the campaign was created."
                ),
                serde_json::json!({"dkim_domain": d, "selector": ctx.dkim_selector}),
            ),
            (dkim, Some(why)) => f(
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
            (None, None) => f(
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
    match (human_engagement, machine_engagement) {
        (Some((e, det)), _) => f(
            "engaged",
            Severity::Info,
            format!(
                "A person {} it at {}: the message reached the recipient.",
                if e.kind == "click" { "clicked a link in" } else { "opened" },
                ms_to_rfc3339(e.at_ms)
            ),
            det.clone(),
        ),
        (None, Some((e, det))) => f(
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
        (None, None) if row.state == DeliveryState::Delivered => f(
            "no_engagement",
            Severity::Info,
            "No open or click was recorded. Many mail clients block images, so this proves nothing either way.".into(),
            serde_json::Value::Null,
        ),
        _ => {}
    }
    for (e, det) in &events {
        match e.kind.as_str() {
            "complaint" => f(
                "complaint",
                Severity::Problem,
                format!(
                    "The recipient reported it as spam at {}.",
                    ms_to_rfc3339(e.at_ms)
                ),
                det.clone(),
            ),
            "unsubscribe" => f(
                "unsubscribed",
                Severity::Warning,
                format!("The recipient unsubscribed at {}.", ms_to_rfc3339(e.at_ms)),
                det.clone(),
            ),
            _ => {}
        }
    }
    if let Some((reason, source, at)) = &d.suppression {
        f(
            "suppressed",
            Severity::Warning,
            format!(
                "The address is on the suppression list ({reason}, since {}, source {source}): later campaigns skip it.",
                ms_to_rfc3339(*at)
            ),
            serde_json::json!({"reason": reason, "source": source}),
        );
    }
    if row.possible_duplicate {
        f(
            "possible_duplicate",
            Severity::Info,
            "Herald restarted while this message was in flight: the recipient may have received it twice.".into(),
            serde_json::Value::Null,
        );
    }
    // Seeds at the same provider (same domain, or a provider named like the filter product).
    let seed = (row.state == DeliveryState::Delivered)
        .then(|| {
            ctx.seeds
                .iter()
                .filter(|s| s.placement.is_some())
                .find(|s| {
                    let seed_domain = herald_domain::address::domain_part(&s.address);
                    let provider = s.provider.to_ascii_lowercase();
                    seed_domain.eq_ignore_ascii_case(&domain)
                        || filter.is_some_and(|p| {
                            provider == p.code || provider.contains(&p.name.to_ascii_lowercase())
                        })
                })
        })
        .flatten();
    let mut placement = "unknown";
    if let Some(s) = seed {
        let p = s.placement.as_deref().unwrap_or("");
        let (sev, text) = match p {
            "inbox" => {
                placement = "inbox";
                (
                    Severity::Info,
                    format!(
                        "The seed mailbox at {} ({}) got this campaign in its Inbox: the copy for {} probably reached the inbox too.",
                        s.provider, s.address, row.email
                    ),
                )
            }
            "junk" => {
                placement = "junk";
                (
                    Severity::Warning,
                    format!(
                        "The seed mailbox at {} ({}) got this campaign in Junk: the copy for {} is probably in Junk too. Ask them to look there and move it to the Inbox.",
                        s.provider, s.address, row.email
                    ),
                )
            }
            "missing" => {
                placement = "missing";
                (
                    Severity::Warning,
                    format!(
                        "Accepted at {}{}, but the seed copy at {} ({}) never reached any folder: likely held by a filter. Forward the IT report to the recipient's IT.",
                        delivered_attempt
                            .map(|e| rfc3339_ms(e.ended_at))
                            .unwrap_or_default(),
                        delivered_attempt
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
                (
                    Severity::Info,
                    format!(
                        "The seed mailbox at {} ({}) got this campaign in {}: the copy for {} is probably in a similar folder.",
                        s.provider,
                        s.address,
                        other.trim_start_matches("other:"),
                        row.email
                    ),
                )
            }
        };
        f(
            if p == "missing" {
                "likely_quarantine"
            } else {
                "seed_placement"
            },
            sev,
            text,
            serde_json::json!({"seed": s.address, "provider": s.provider, "placement": p, "probable": true}),
        );
    }
    if row.state == DeliveryState::Delivered && late_bounce.is_none() && human_engagement.is_none()
    {
        f(
            "ask_it",
            Severity::Info,
            "If it is neither in the inbox nor in Junk, the receiving side holds it after accepting it: forward the IT report to the recipient's IT. They can find it by its Message-ID and the queue id above.".into(),
            serde_json::Value::Null,
        );
    }

    let timeline = timeline(d);
    let offset = contact_offset(d.fields.as_deref());
    let report = ItReport::new(c, d, ctx, delivered_attempt, filter.as_ref(), offset);
    Diagnosis {
        email: row.email.clone(),
        subject: sent_subject(c, delivered_attempt.or(last)),
        state: row.state,
        reason: row.reason.clone(),
        evidence: last.map(EvidenceReport::from),
        timeline,
        placement,
        filter,
        findings,
        it_report: report.text(),
        it_report_html: report.html(),
    }
}

/// The subject of the copy the attempt `ev` handed over, else the campaign's template.
fn sent_subject(c: &Campaign, ev: Option<&herald_domain::Evidence>) -> String {
    ev.and_then(|e| e.sent.as_ref())
        .map_or_else(|| c.subject.clone(), |s| s.subject.clone())
}

fn not_sent_words(reason: &str) -> String {
    match reason {
        "unsubscribed" => "the contact unsubscribed".into(),
        "previously_bounced" => "the address bounced before (hard bounce)".into(),
        "complained" => "the contact reported an earlier message as spam".into(),
        "suppressed" => "the address is on the suppression list".into(),
        "invalid_address" => "the address is not valid".into(),
        "missing_data" => "the template needs a field this contact does not have".into(),
        "unaligned_domain" => "the From domain was not connected and aligned".into(),
        other => other.to_string(),
    }
}

fn timeline(d: &DeliveryDetail) -> Vec<TimelineEntry> {
    let mut t: Vec<(i64, TimelineEntry)> = Vec::new();
    for a in &d.attempts {
        let e = &a.evidence;
        t.push((
            a.ended_at_ms,
            TimelineEntry {
                at: ms_to_rfc3339(a.ended_at_ms),
                what: format!("attempt: {}", a.outcome),
                detail: serde_json::json!({
                    "mx": e.mx, "ip": e.remote_ip, "reply": e.reply.as_ref().map(|r| r.full()),
                    "error": e.error, "queue_id": e.remote_queue_id, "reason": a.reason,
                }),
            },
        ));
    }
    for e in &d.events {
        t.push((
            e.at_ms,
            TimelineEntry {
                at: ms_to_rfc3339(e.at_ms),
                what: e.kind.clone(),
                detail: event_detail(e),
            },
        ));
    }
    t.sort_by_key(|(at, _)| *at);
    t.into_iter().map(|(_, e)| e).collect()
}

/// The handover for the recipient's IT.
struct ItReport {
    intro: &'static str,
    fields: Vec<(&'static str, String)>,
    note: &'static str,
}

impl ItReport {
    fn new(
        c: &Campaign,
        d: &DeliveryDetail,
        ctx: &SendContext,
        delivered: Option<&herald_domain::Evidence>,
        filter: Option<&FilterProduct>,
        offset: Option<time::UtcOffset>,
    ) -> Self {
        let ev = delivered.or(d.row.evidence.as_ref());
        let rfc2822 = |t: OffsetDateTime| {
            t.format(&time::format_description::well_known::Rfc2822)
                .unwrap_or_default()
        };
        let when = |t: OffsetDateTime| {
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
        };
        let mut fields: Vec<(&'static str, String)> = vec![
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
        ];
        if let Some(e) = ev {
            fields.push((
                if delivered.is_some() {
                    "Delivery time"
                } else {
                    "Last attempt"
                },
                when(e.ended_at),
            ));
            fields.push((
                "Receiving server",
                format!(
                    "{} [{}]",
                    e.mx.as_deref().unwrap_or("?"),
                    e.remote_ip.as_deref().unwrap_or("?")
                ),
            ));
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
            fields.push((
                "TLS",
                e.tls
                    .as_ref()
                    .map(|t| t.to_string())
                    .unwrap_or_else(|| "none".into()),
            ));
        }
        let mut ips = ctx.sending_ips.clone();
        if let Some(local) = ev.and_then(|e| e.local_ip.clone())
            && !ips.contains(&local)
        {
            ips.push(local);
        }
        fields.push((
            "Our sending IPs (to allowlist)",
            if ips.is_empty() {
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

    fn text(&self) -> String {
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

    fn html(&self) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;
    use herald_domain::{Evidence, Reply};
    use herald_store::{
        AttemptRow, CampaignId, CampaignStatus, DeliveryId, EventRow, ListId, RecipientRow,
    };

    fn campaign(gate_override: Option<&str>) -> Campaign {
        Campaign {
            id: CampaignId(1),
            name: "Nov".into(),
            list: ListId(1),
            list_name: "l".into(),
            from_name: Some("Ann <Lee>".into()),
            from_address: "ann@sender.test".into(),
            subject: "Hello".into(),
            html: String::new(),
            text: None,
            status: CampaignStatus::Sent,
            gate_override: gate_override.map(str::to_string),
            track_opens: true,
            track_clicks: true,
            send_to_seeds: true,
            created_at_ms: 0,
            started_at_ms: None,
            finished_at_ms: None,
        }
    }

    fn delivered(events: Vec<EventRow>, state: DeliveryState) -> DeliveryDetail {
        let t = OffsetDateTime::from_unix_timestamp(1_800_000_000).expect("time");
        let evidence = Evidence {
            started_at: t,
            ended_at: t,
            mx: Some("contoso-com.mail.protection.outlook.com".into()),
            mx_preference: Some(0),
            remote_ip: Some("203.0.113.5".into()),
            local_ip: Some("192.0.2.10".into()),
            tls: None,
            reply: Some(Reply {
                code: 250,
                enhanced: Some("2.6.0".into()),
                lines: vec!["<x@sender.test> [InternalId=1] Queued mail for delivery".into()],
            }),
            stage: Some("data".into()),
            error: None,
            remote_queue_id: Some("ABC123".into()),
            message_id: "<x@sender.test>".into(),
            bytes: 1000,
            route: "mx".into(),
            node: None,
            sent: Some(herald_domain::SentMessage {
                subject: "Hello, Bob".into(),
                from: "Ann <ann@sender.test>".into(),
                sha256: "ab".repeat(32),
            }),
        };
        DeliveryDetail {
            row: RecipientRow {
                id: DeliveryId(7),
                email: "bob@contoso.com".into(),
                state,
                reason: (state == DeliveryState::Bounced).then(|| "filtered".into()),
                hard: false,
                attempts: 1,
                possible_duplicate: false,
                message_id: "<x@sender.test>".into(),
                next_attempt_at_ms: None,
                evidence: Some(evidence.clone()),
            },
            campaign: CampaignId(1),
            email_key: "bob@contoso.com".into(),
            fields: None,
            attempts: vec![AttemptRow {
                outcome: "delivered".into(),
                reason: None,
                started_at_ms: 1_800_000_000_000,
                ended_at_ms: 1_800_000_000_000,
                evidence,
            }],
            events,
            suppression: None,
        }
    }

    fn codes(d: &Diagnosis) -> Vec<&'static str> {
        d.findings.iter().map(|f| f.code).collect()
    }

    #[test]
    fn microsoft_365_recipient_with_a_signed_message() {
        let ctx = SendContext {
            dkim_domain: Some("sender.test".into()),
            dkim_selector: Some("s1".into()),
            ..SendContext::default()
        };
        let d = diagnose(
            &campaign(None),
            &delivered(vec![], DeliveryState::Delivered),
            &ctx,
        );
        assert_eq!(
            codes(&d),
            [
                "accepted",
                "filter_product",
                "authenticated",
                "no_engagement",
                "ask_it"
            ]
        );
        assert_eq!(d.filter.map(|f| f.code), Some("microsoft365"));
        assert!(
            d.findings[1].text.contains("Quarantine"),
            "{}",
            d.findings[1].text
        );
        assert!(
            d.it_report.contains("d=sender.test s=s1"),
            "{}",
            d.it_report
        );
        assert!(d.it_report.contains("ABC123") && d.it_report.contains("192.0.2.10"));
        // The subject the recipient saw, not the campaign's template.
        assert_eq!(d.subject, "Hello, Bob");
        assert!(
            d.it_report.contains("Subject") && d.it_report.contains("Hello, Bob"),
            "{}",
            d.it_report
        );
        assert!(
            d.it_report
                .contains(&format!("1000 bytes, {}", "ab".repeat(32)))
        );
        // Escaped in HTML.
        assert!(
            d.it_report_html.contains("Ann &lt;Lee&gt;"),
            "{}",
            d.it_report_html
        );
    }

    #[test]
    fn a_human_open_says_it_arrived_and_a_late_bounce_says_it_did_not() {
        let open = EventRow {
            kind: "open".into(),
            at_ms: 1_800_000_100_000,
            detail: r#"{"verdict":"human"}"#.into(),
        };
        let d = diagnose(
            &campaign(None),
            &delivered(vec![open], DeliveryState::Delivered),
            &SendContext::default(),
        );
        let c = codes(&d);
        assert!(c.contains(&"engaged") && !c.contains(&"ask_it"), "{c:?}");

        let bounce = EventRow {
            kind: "async_bounce".into(),
            at_ms: 1_800_000_200_000,
            detail: r#"{"reason":"filtered","diagnostic":"550 5.7.1 content rejected"}"#.into(),
        };
        let d = diagnose(
            &campaign(Some("--allow-unverified")),
            &delivered(vec![bounce], DeliveryState::Bounced),
            &SendContext::default(),
        );
        let c = codes(&d);
        assert!(
            c.contains(&"late_bounce") && c.contains(&"accepted"),
            "{c:?}"
        );
        assert!(
            c.contains(&"unaligned_from") && !c.contains(&"rejected"),
            "{c:?}"
        );
        assert_eq!(d.timeline.len(), 2);
    }
}
