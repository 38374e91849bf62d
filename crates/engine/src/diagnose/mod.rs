//! Stage `diagnose`: "why didn't they get it?" for one recipient of one campaign (design §7).
//!
//! Input: everything recorded about the delivery (attempts, events, suppression), the campaign,
//! how it was sent (DKIM domain, return path, sending IPs) and who receives for the domain (MX
//! names). Output: the timeline, findings in plain words — each with a code, a severity and its
//! evidence — and the IT report, a handover the recipient's mail admin can search with.
//! Pure: no I/O; the caller looks things up.

mod findings;
mod it_report;
mod timeline;

use herald_domain::DeliveryState;
use herald_mail::filters::{FilterProduct, detect};
use herald_store::{Campaign, DeliveryDetail};
use serde::Serialize;

use crate::reports::EvidenceReport;
use it_report::ItReport;

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
    /// None while unknown.
    pub placement: Option<herald_domain::Placement>,
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
    // What the receiving side said, and who it is.
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
        .find(|a| a.outcome == herald_domain::AttemptOutcome::Delivered)
        .map(|a| &a.evidence);
    let facts = findings::Facts {
        c,
        d,
        ctx,
        row,
        last,
        delivered_attempt,
        domain: herald_domain::address::domain_part(&row.email).to_ascii_lowercase(),
        filter,
        events: d.events.iter().map(|e| (e, event_detail(e))).collect(),
    };
    let mut out = findings::Findings::default();
    let placement = findings::all(&facts, &mut out);
    let timeline = timeline::timeline(d);
    let offset = contact_offset(d.fields.as_deref());
    let report = ItReport::new(c, d, ctx, delivered_attempt, facts.filter.as_ref(), offset);
    Diagnosis {
        email: row.email.clone(),
        subject: sent_subject(c, delivered_attempt.or(last)),
        state: row.state,
        reason: row.reason.clone(),
        evidence: last.map(EvidenceReport::from),
        timeline,
        placement,
        filter: facts.filter,
        findings: out.0,
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
        "cancelled" => "the campaign was cancelled before this message went out".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use herald_domain::{Evidence, Reply};
    use herald_store::{
        AttemptRow, CampaignId, CampaignStatus, DeliveryId, EventRow, ListId, RecipientRow,
    };
    use time::OffsetDateTime;

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
            scheduled_at_ms: None,
            schedule_tz: None,
            schedule_error: None,
            reply_to: None,
            presend_check: None,
            local_time: None,
            kind: herald_domain::CampaignKind::Campaign,
            segment: None,
            exclude: None,
            also_lists: Vec::new(),
            exclude_lists: Vec::new(),
            complaint_override: None,
            ab: None,
            ab_decide_at_ms: None,
            ab_winner: None,
            ab_result: None,
            archive: false,
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
                outcome: herald_domain::AttemptOutcome::Delivered,
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
            kind: herald_domain::EventKind::Open,
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
            kind: herald_domain::EventKind::AsyncBounce,
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
