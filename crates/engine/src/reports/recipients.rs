//! Pages of a campaign's recipients (the performance page's tabs, the API) and the list of
//! campaigns with their counts.

use herald_domain::DeliveryState;
use herald_store::{CampaignId, CampaignStatus, EventRow, RecipientFilter, Store, StoreError};
use schemars::JsonSchema;
use serde::Serialize;

use super::{RecipientReport, campaign_report, ms_to_rfc3339};
use crate::api_types::{CampaignEntry, CampaignList, EventView};

/// A recorded event as readers see it (its detail parsed; an unreadable one is null).
pub fn event_view(e: &EventRow) -> EventView {
    EventView {
        kind: e.kind.to_string(),
        at: ms_to_rfc3339(e.at_ms),
        detail: serde_json::from_str(&e.detail).unwrap_or(serde_json::Value::Null),
    }
}

/// Every name [`tab_filter`] knows.
pub const TAB_NAMES: &[&str] = &[
    "all",
    "sent",
    "delivered",
    "relayed",
    "deferred",
    "bounced",
    "expired",
    "failed",
    "queued",
    "not_sent",
    "opened",
    "clicked",
    "unsubscribed",
    "complained",
];

/// The performance page's tabs (and the API's `?tab=`), by name (one of [`TAB_NAMES`]).
pub fn tab_filter(tab: &str) -> Option<RecipientFilter> {
    use DeliveryState as D;
    Some(match tab {
        "all" => RecipientFilter::All,
        "sent" => RecipientFilter::Sent,
        "delivered" => RecipientFilter::State(D::Delivered),
        "relayed" => RecipientFilter::State(D::Relayed),
        "deferred" => RecipientFilter::State(D::Deferred),
        "bounced" => RecipientFilter::State(D::Bounced),
        "expired" => RecipientFilter::State(D::Expired),
        "failed" => RecipientFilter::State(D::Failed),
        "queued" => RecipientFilter::State(D::Queued),
        "not_sent" => RecipientFilter::State(D::NotSent),
        "opened" => RecipientFilter::Event("open".into()),
        "clicked" => RecipientFilter::Event("click".into()),
        "unsubscribed" => RecipientFilter::Event("unsubscribe".into()),
        "complained" => RecipientFilter::Event("complaint".into()),
        _ => return None,
    })
}

/// One page of recipients with their events (`GET /api/v1/campaigns/{id}/recipients`).
#[derive(Debug, Serialize, JsonSchema)]
pub struct RecipientsPage {
    pub recipients: Vec<RecipientReport>,
    /// Pass as `?after=` for the next page; null on the last one.
    pub next_after: Option<i64>,
}

/// Recipients of campaign `id` matching `filter` and the address search `q`, after the
/// delivery id `after`, at most `limit`.
pub async fn recipients_page<S: Store>(
    store: &S,
    id: CampaignId,
    filter: &RecipientFilter,
    q: Option<&str>,
    after: i64,
    limit: u32,
) -> Result<RecipientsPage, StoreError> {
    let rows = store
        .recipients_filtered(id, filter, q.filter(|q| !q.is_empty()), after, limit)
        .await?;
    let next_after = (rows.len() as u32 == limit)
        .then(|| rows.last().map(|r| r.id.0))
        .flatten();
    let ids: Vec<_> = rows.iter().map(|r| r.id).collect();
    let mut events = store.events(&ids).await?.into_iter().peekable();
    let mut recipients = Vec::with_capacity(rows.len());
    for row in rows {
        let rid = row.id;
        let mut r = RecipientReport::from(row);
        while let Some((_, e)) = events.next_if(|(d, _)| *d == rid) {
            r.events.push(event_view(&e));
        }
        recipients.push(r);
    }
    Ok(RecipientsPage {
        recipients,
        next_after,
    })
}

/// The newest `limit` campaigns older than `before` (of one status, when given), each with its
/// counts, and the cursor of the next page (None on the last).
pub async fn campaign_list<S: Store>(
    store: &S,
    before: Option<CampaignId>,
    status: Option<CampaignStatus>,
    limit: u32,
) -> Result<CampaignList, StoreError> {
    let page = store.campaigns(before, status, limit).await?;
    let next = (page.len() as u32 == limit)
        .then(|| page.last().map(|c| c.id.0.to_string()))
        .flatten();
    let mut campaigns = Vec::with_capacity(page.len());
    for c in page {
        if let Some(r) = campaign_report(store, c.id, false).await? {
            campaigns.push(CampaignEntry {
                campaign: r.campaign,
                counts: r.counts,
            });
        }
    }
    Ok(CampaignList { campaigns, next })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tab_name_is_known() {
        for t in TAB_NAMES {
            assert!(tab_filter(t).is_some(), "{t}");
        }
        assert!(tab_filter("nope").is_none());
    }
}
