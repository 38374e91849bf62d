//! One contact's deliveries across campaigns, each with its events.

use std::collections::BTreeMap;

use herald_domain::EmailAddress;
use herald_store::{ContactRow, Store, StoreError};

use super::{event_view, ms_to_rfc3339};
use crate::api_types::{
    CampaignRef, ConsentView, ContactDeliveryView, ContactTimeline, ContactView, FieldValue,
    MembershipView,
};

/// A contact as the API and the contact page show it.
pub fn contact_view(c: &ContactRow) -> ContactView {
    let fields: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&c.fields).unwrap_or_default();
    ContactView {
        email: c.email.clone(),
        fields: fields
            .into_iter()
            .map(|(k, v)| {
                let v = match v {
                    serde_json::Value::String(s) => FieldValue::Text(s),
                    other => FieldValue::Other(other),
                };
                (k, v)
            })
            .collect::<BTreeMap<_, _>>(),
        lists: c.lists.clone(),
        memberships: c
            .lists
            .iter()
            .zip(&c.statuses)
            .map(|(list, status)| MembershipView {
                list: list.clone(),
                status: status.as_str().to_string(),
            })
            .collect(),
        created_at: ms_to_rfc3339(c.created_at_ms),
    }
}

/// The contact `email` and its deliveries, newest campaign first; None when the address is
/// neither a contact nor a recipient (or not an address).
pub async fn contact_timeline<S: Store>(
    store: &S,
    email: &str,
) -> Result<Option<ContactTimeline>, StoreError> {
    let Ok(address) = EmailAddress::parse(email) else {
        return Ok(None);
    };
    let key = address.key();
    let contact = store.contact(&key).await?;
    let deliveries = store.contact_deliveries(&key).await?;
    if contact.is_none() && deliveries.is_empty() {
        return Ok(None);
    }
    let ids: Vec<_> = deliveries.iter().map(|d| d.delivery).collect();
    let events = store.events(&ids).await?;
    let deliveries = deliveries
        .iter()
        .map(|d| ContactDeliveryView {
            campaign: CampaignRef {
                id: d.campaign.to_string(),
                name: d.campaign_name.clone(),
                subject: d.subject.clone(),
            },
            subject: d.sent_subject.clone().unwrap_or_else(|| d.subject.clone()),
            state: d.state.as_str().to_string(),
            reason: d.reason.clone(),
            attempts: d.attempts,
            updated_at: ms_to_rfc3339(d.updated_at_ms),
            events: events
                .iter()
                .filter(|(id, _)| *id == d.delivery)
                .map(|(_, e)| event_view(e))
                .collect(),
        })
        .collect();
    let consents = store
        .consents(&key)
        .await?
        .into_iter()
        .map(|c| ConsentView {
            list: c.list,
            source: c.source,
            at: ms_to_rfc3339(c.created_at_ms),
            ip: c.ip,
            user_agent: c.user_agent,
            text: c.form_text,
            confirmed_at: c.confirmed_at_ms.map(ms_to_rfc3339),
            confirm_ip: c.confirm_ip,
        })
        .collect();
    Ok(Some(ContactTimeline {
        email: contact.as_ref().map_or(key, |c| c.email.clone()),
        contact: contact.as_ref().map(contact_view),
        consents,
        deliveries,
    }))
}
