//! Erasure and right of access (GDPR): `contacts erase` and `contacts export-person`.
//!
//! Erasing removes the person and keeps the record of what was sent: their contact, fields,
//! memberships and consent records go; each delivery stays (a campaign's counts never change)
//! under a placeholder address; evidence, event details and inbound messages lose the address,
//! the personalised subject, IPs and user agents; the suppression list keeps a keyed hash of the
//! address (`herald_mail::erasure`), so imports, `contacts add`, the API and sign-up forms
//! refuse it from then on.

use herald_domain::EmailAddress;
use herald_mail::erasure::ErasureKey;
use herald_store::{EraseOutcome, Erased, Erasure, Store, StoreError};
use schemars::JsonSchema;
use serde::Serialize;

use super::AudienceError;
use crate::api_types::ContactTimeline;
use crate::reports::ms_to_rfc3339;

/// The spellings of an address stored text may hold: as given, as stored, lower case, and
/// percent-encoded in a URL.
fn needles(spellings: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in spellings {
        for v in [
            s.to_string(),
            s.replace('@', "%40"),
            s.replace('@', "%40").replace('+', "%2B"),
        ] {
            if !out.iter().any(|o| o.eq_ignore_ascii_case(&v)) {
                out.push(v);
            }
        }
    }
    out
}

/// The spellings of `addr` stored text may hold: as given, lower case, as the contact was
/// stored, and their URL forms.
async fn person_needles<S: Store>(
    store: &S,
    addr: &EmailAddress,
) -> Result<Vec<String>, StoreError> {
    let key = addr.key();
    let stored = store.contact(&key).await?.map(|c| c.email);
    let mut spellings = vec![addr.as_str(), key.as_str()];
    if let Some(s) = &stored {
        spellings.push(s);
    }
    Ok(needles(&spellings))
}

/// Erase `email` (see the module). `source` says who asked, for the suppression log.
pub async fn erase<S: Store>(
    store: &S,
    key: &ErasureKey,
    email: &str,
    source: &str,
    now_ms: i64,
) -> Result<Erased, AudienceError> {
    let addr =
        EmailAddress::parse(email.trim()).map_err(|e| AudienceError::BadEmail(e.to_string()))?;
    let email_key = addr.key();
    let erasure = Erasure {
        token: key.token(&email_key),
        placeholder: key.placeholder(&email_key),
        needles: person_needles(store, &addr).await?,
        email_key,
        source: source.to_string(),
        at_ms: now_ms,
    };
    match store.erase_person(&erasure).await? {
        EraseOutcome::Erased(done) => {
            // The address is not logged: after this call it is nowhere.
            tracing::info!(source, deliveries = done.deliveries, "a person was erased");
            Ok(done)
        }
        EraseOutcome::Unknown => Err(AudienceError::UnknownContact(addr.to_string())),
        EraseOutcome::InFlight => Err(AudienceError::EraseInFlight(addr.to_string())),
    }
}

/// Everything Herald holds on one person (`contacts export-person`), as JSON.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PersonExport {
    pub email: String,
    pub exported_at: String,
    /// The contact, consents and deliveries with their events, as the contact page shows them.
    pub timeline: ContactTimeline,
    /// Every attempt to hand a message over, with its evidence as recorded.
    pub attempts: Vec<AttemptExport>,
    /// Bounces, complaints and replies about the person's messages, with their text.
    pub inbound: Vec<InboundExport>,
    pub suppression: Option<SuppressionExport>,
    /// Additions to and removals from the suppression list, oldest first.
    pub suppression_log: Vec<SuppressionLogExport>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct AttemptExport {
    pub delivery: String,
    pub outcome: String,
    pub reason: Option<String>,
    pub started_at: String,
    pub ended_at: String,
    pub evidence: serde_json::Value,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct InboundExport {
    pub delivery: Option<String>,
    pub received_at: String,
    pub kind: String,
    pub mail_from: String,
    pub summary: serde_json::Value,
    /// The message as received (lossless where it was UTF-8; emptied after `[inbound] retention`).
    pub raw: String,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SuppressionExport {
    pub reason: String,
    pub source: String,
    pub at: String,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SuppressionLogExport {
    pub action: String,
    pub reason: String,
    pub source: String,
    pub at: String,
}

/// What Herald holds on `email`; `None` when nothing (or not an address).
pub async fn export_person<S: Store>(
    store: &S,
    email: &str,
    now_ms: i64,
) -> Result<Option<PersonExport>, StoreError> {
    let Ok(addr) = EmailAddress::parse(email.trim()) else {
        return Ok(None);
    };
    let key = addr.key();
    let record = store
        .person_record(&key, &person_needles(store, &addr).await?)
        .await?;
    let timeline = match crate::reports::contact_timeline(store, addr.as_str()).await? {
        Some(t) => t,
        None if record.suppression.is_some() || !record.suppression_log.is_empty() => {
            ContactTimeline {
                email: addr.to_string(),
                contact: None,
                consents: Vec::new(),
                deliveries: Vec::new(),
            }
        }
        None => return Ok(None),
    };
    let json = |s: &str| {
        serde_json::from_str(s).unwrap_or_else(|_| serde_json::Value::String(s.to_string()))
    };
    Ok(Some(PersonExport {
        email: timeline.email.clone(),
        exported_at: ms_to_rfc3339(now_ms),
        attempts: record
            .attempts
            .iter()
            .map(
                |(d, outcome, reason, started, ended, evidence)| AttemptExport {
                    delivery: d.to_string(),
                    outcome: outcome.clone(),
                    reason: reason.clone(),
                    started_at: ms_to_rfc3339(*started),
                    ended_at: ms_to_rfc3339(*ended),
                    evidence: json(evidence),
                },
            )
            .collect(),
        inbound: record
            .inbound
            .iter()
            .map(|i| InboundExport {
                delivery: i.delivery.map(|d| d.to_string()),
                received_at: ms_to_rfc3339(i.received_at_ms),
                kind: i.kind.clone(),
                mail_from: i.mail_from.clone(),
                summary: json(&i.summary),
                raw: String::from_utf8_lossy(&i.raw).into_owned(),
            })
            .collect(),
        suppression: record
            .suppression
            .map(|(reason, source, at)| SuppressionExport {
                reason,
                source,
                at: ms_to_rfc3339(at),
            }),
        suppression_log: record
            .suppression_log
            .into_iter()
            .map(|(action, reason, source, at)| SuppressionLogExport {
                action,
                reason,
                source,
                at: ms_to_rfc3339(at),
            })
            .collect(),
        timeline,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn needles_cover_spellings_and_url_forms() {
        let n = needles(&["Eve+news@Example.org", "eve+news@example.org"]);
        assert!(n.contains(&"Eve+news@Example.org".to_string()));
        assert!(n.contains(&"Eve+news%40Example.org".to_string()));
        assert!(n.contains(&"Eve%2Bnews%40Example.org".to_string()));
        // The lower-case spelling adds nothing new: matching ignores ASCII case.
        assert_eq!(n.len(), 3);
    }
}
