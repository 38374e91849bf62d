//! Stage `reports`: the campaign report, in the names of the interface contract
//! (`campaign report ID --recipients --json`); pages of recipients and campaigns
//! (`recipients`), a contact's timeline (`contact`), the seed-placement tally (`seeds`).

mod contact;
pub mod dmarc;
pub mod health;
pub mod recipients;
mod seeds;
pub mod waiting;

pub use contact::{contact_timeline, contact_view};
pub use recipients::{TAB_NAMES, campaign_list, event_view, recipients_page, tab_filter};
pub use seeds::placement_tally;

use herald_domain::{DeliveryState, Evidence};
use herald_store::{Campaign, CampaignId, RecipientRow, Store, StoreError};
use serde::Serialize;
use time::OffsetDateTime;

const PAGE: u32 = 10_000;

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct CampaignReport {
    pub campaign: CampaignSummary,
    pub counts: Counts,
    /// `not_sent` recipients per reason (previously_bounced, complained, unsubscribed, …).
    pub not_sent_reasons: std::collections::BTreeMap<String, u64>,
    /// Its A/B test: each variant's figures and the winner (null: it has none).
    pub ab: Option<crate::campaign::ab::AbReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recipients: Option<Vec<RecipientReport>>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct CampaignSummary {
    pub id: String,
    pub name: String,
    pub list: String,
    /// The other lists it goes to (each person once).
    pub also_lists: Vec<String>,
    /// The lists whose subscribed members it keeps out (`not_sent: excluded`).
    pub exclude_lists: Vec<String>,
    pub subject: String,
    pub from: FromAddress,
    pub status: &'static str,
    /// Why the From-alignment gate was bypassed; null when the campaign passed it.
    pub gate_override: Option<String>,
    /// Why it was sent despite a spam-complaint rate past 0.3 %, and by whom; null otherwise.
    pub complaint_override: Option<String>,
    /// Published on its public archive page (`campaign archive`).
    pub archive: bool,
    pub created_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    /// When a scheduled campaign starts (kept once it started), UTC.
    pub scheduled_at: Option<String>,
    /// The zone the schedule was given in (`--tz`), if one was.
    pub schedule_tz: Option<String>,
    /// Why its scheduled start was refused (it is a draft again), if it was.
    pub schedule_error: Option<String>,
    /// `Reply-To` of its messages, if set.
    pub reply_to: Option<String>,
    /// Sent in each recipient's local time: the local date and time each gets it at.
    pub local_time: Option<String>,
    /// The list's number (its `List-Id` is derived from the name and this).
    #[serde(skip)]
    pub list_number: i64,
    #[serde(skip)]
    pub created_at_ms: i64,
    /// The last pre-send check as saved (JSON).
    #[serde(skip)]
    pub presend_check: Option<String>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct FromAddress {
    pub name: Option<String>,
    pub address: String,
}

#[derive(Debug, Default, Serialize, schemars::JsonSchema, PartialEq, Eq)]
pub struct Counts {
    pub recipients: u64,
    pub not_sent: u64,
    pub queued: u64,
    pub deferred: u64,
    /// A relay or provider accepted it; the recipient's server not heard from yet.
    pub relayed: u64,
    pub delivered: u64,
    pub bounced: u64,
    pub expired: u64,
    pub failed: u64,
    pub opened: u64,
    pub clicked: u64,
    pub unsubscribed: u64,
    pub complained: u64,
    /// Recipients with a machine's open/click (Apple MPP, scanners). `opened`/`clicked` count
    /// only recipients with a human one.
    pub machine_opened: u64,
    pub machine_clicked: u64,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct RecipientReport {
    pub email: String,
    pub state: DeliveryState,
    pub reason: Option<String>,
    pub hard: bool,
    pub attempts: u32,
    pub possible_duplicate: bool,
    pub message_id: String,
    pub next_attempt_at: Option<String>,
    pub evidence: Option<EvidenceReport>,
    pub events: Vec<crate::api_types::EventView>,
}

/// The evidence of the last attempt, flattened for readers.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct EvidenceReport {
    pub at: String,
    pub started_at: String,
    pub stage: Option<String>,
    pub mx: Option<String>,
    pub mx_preference: Option<u16>,
    pub ip: Option<String>,
    pub local_ip: Option<String>,
    pub tls: Option<String>,
    pub code: Option<u16>,
    pub enhanced: Option<String>,
    pub reply: Option<String>,
    pub reply_lines: Vec<String>,
    pub error: Option<String>,
    pub remote_queue_id: Option<String>,
    pub message_id: String,
    pub bytes: u64,
    pub route: String,
    /// The Herald node that made the attempt.
    pub node: Option<String>,
    /// The subject of the copy handed over (personalised), when recorded.
    pub subject: Option<String>,
    /// Its From header, when recorded.
    pub from: Option<String>,
    /// SHA-256 of the bytes handed over, when recorded.
    pub sha256: Option<String>,
}

/// RFC 3339 UTC with milliseconds: `2026-11-26T10:00:00.123Z`.
pub fn rfc3339_ms(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        t.month() as u8,
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

pub fn ms_to_rfc3339(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .map(rfc3339_ms)
        .unwrap_or_default()
}

impl From<&Evidence> for EvidenceReport {
    fn from(e: &Evidence) -> Self {
        EvidenceReport {
            at: rfc3339_ms(e.ended_at),
            started_at: rfc3339_ms(e.started_at),
            stage: e.stage.clone(),
            mx: e.mx.clone(),
            mx_preference: e.mx_preference,
            ip: e.remote_ip.clone(),
            local_ip: e.local_ip.clone(),
            tls: e.tls.as_ref().map(|t| t.to_string()),
            code: e.reply.as_ref().map(|r| r.code),
            enhanced: e.reply.as_ref().and_then(|r| r.enhanced.clone()),
            reply: e.reply.as_ref().map(|r| r.full()),
            reply_lines: e
                .reply
                .as_ref()
                .map(|r| r.lines.clone())
                .unwrap_or_default(),
            error: e.error.clone(),
            remote_queue_id: e.remote_queue_id.clone(),
            message_id: e.message_id.clone(),
            bytes: e.bytes,
            route: e.route.clone(),
            node: e.node.clone(),
            subject: e.sent.as_ref().map(|s| s.subject.clone()),
            from: e.sent.as_ref().map(|s| s.from.clone()),
            sha256: e.sent.as_ref().map(|s| s.sha256.clone()),
        }
    }
}

impl From<RecipientRow> for RecipientReport {
    fn from(r: RecipientRow) -> Self {
        RecipientReport {
            email: r.email,
            state: r.state,
            reason: r.reason,
            hard: r.hard,
            attempts: r.attempts,
            possible_duplicate: r.possible_duplicate,
            message_id: r.message_id,
            // While its campaign is paused a waiting delivery sits out of the due range
            // (`PAUSE_SHIFT_MS`): its time is the one it resumes at.
            next_attempt_at: r
                .next_attempt_at_ms
                .filter(|_| matches!(r.state, DeliveryState::Deferred | DeliveryState::Queued))
                .map(herald_store::unshifted)
                .map(ms_to_rfc3339),
            evidence: r.evidence.as_ref().map(EvidenceReport::from),
            events: Vec::new(),
        }
    }
}

fn summary(c: &Campaign) -> CampaignSummary {
    CampaignSummary {
        id: c.id.to_string(),
        name: c.name.clone(),
        list: c.list_name.clone(),
        also_lists: c.also_lists.iter().map(|(_, n)| n.clone()).collect(),
        exclude_lists: c.exclude_lists.iter().map(|(_, n)| n.clone()).collect(),
        subject: c.subject.clone(),
        from: FromAddress {
            name: c.from_name.clone(),
            address: c.from_address.clone(),
        },
        status: c.status.as_str(),
        gate_override: c.gate_override.clone(),
        complaint_override: c.complaint_override.clone(),
        archive: c.archive,
        created_at: ms_to_rfc3339(c.created_at_ms),
        started_at: c.started_at_ms.map(ms_to_rfc3339),
        finished_at: c.finished_at_ms.map(ms_to_rfc3339),
        scheduled_at: c.scheduled_at_ms.map(ms_to_rfc3339),
        schedule_tz: c.schedule_tz.clone(),
        schedule_error: c.schedule_error.clone(),
        reply_to: c.reply_to.clone(),
        local_time: c.local_time.clone(),
        list_number: c.list.0,
        created_at_ms: c.created_at_ms,
        presend_check: c.presend_check.clone(),
    }
}

/// Build the report; `None` if the campaign does not exist.
pub async fn campaign_report<S: Store>(
    store: &S,
    id: CampaignId,
    with_recipients: bool,
) -> Result<Option<CampaignReport>, StoreError> {
    let Some(c) = store.campaign(id).await? else {
        return Ok(None);
    };
    let sc = store.counts(id).await?;
    let counts = Counts {
        recipients: sc.total(),
        not_sent: sc.get(DeliveryState::NotSent),
        queued: sc.get(DeliveryState::Queued),
        deferred: sc.get(DeliveryState::Deferred),
        relayed: sc.get(DeliveryState::Relayed),
        delivered: sc.get(DeliveryState::Delivered),
        bounced: sc.get(DeliveryState::Bounced),
        expired: sc.get(DeliveryState::Expired),
        failed: sc.get(DeliveryState::Failed),
        complained: sc.with_event("complaint"),
        unsubscribed: sc.with_event("unsubscribe"),
        opened: sc.with_event("open"),
        clicked: sc.with_event("click"),
        machine_opened: sc.with_event("open:machine"),
        machine_clicked: sc.with_event("click:machine"),
    };
    let recipients = if with_recipients {
        let mut all = Vec::new();
        let mut after = 0;
        loop {
            let page = store.recipients(id, after, PAGE).await?;
            let Some(last) = page.last() else { break };
            after = last.id.0;
            let ids: Vec<_> = page.iter().map(|r| r.id).collect();
            let mut events = store.events(&ids).await?.into_iter().peekable();
            for row in page {
                let id = row.id;
                let mut report = RecipientReport::from(row);
                while let Some((_, e)) = events.next_if(|(d, _)| *d == id) {
                    report.events.push(event_view(&e));
                }
                all.push(report);
            }
        }
        Some(all)
    } else {
        None
    };
    Ok(Some(CampaignReport {
        campaign: summary(&c),
        counts,
        not_sent_reasons: sc.not_sent_reasons.iter().cloned().collect(),
        ab: crate::campaign::ab::report(store, &c).await?,
        recipients,
    }))
}
