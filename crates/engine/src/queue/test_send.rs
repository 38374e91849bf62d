//! A test send: one copy of a campaign to an address the sender gives, personalised as for a
//! sample contact, rendered, signed and delivered exactly like the real messages — and recorded
//! nowhere, so it counts for nothing and never touches the campaign's recipients.

use herald_domain::EmailAddress;
use herald_store::{CampaignId, ClaimedDelivery, DeliveryId, Store, StoreError};
use serde::Serialize;
use tokio::sync::mpsc;

use super::{Queue, Unusable};
use crate::deliver::{self, AttemptResult, DeliverConfig, Prepared, SharedResolver};

/// What the receiving server did with the test copy.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct TestSend {
    pub to: String,
    pub accepted: bool,
    /// The server's reply or what went wrong, in words.
    pub result: String,
    pub mx: Option<String>,
    pub remote_queue_id: Option<String>,
    pub message_id: String,
}

/// Why a test copy was not sent.
#[derive(Debug, thiserror::Error)]
pub enum TestSendError {
    /// The campaign or this address cannot be sent to as it stands (a template that fails for
    /// the contact it is personalised for, an unusable campaign, a domain that takes no mail):
    /// the user can fix it.
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The render or send task died.
    #[error("{0}")]
    Internal(String),
}

impl<S: Store> Queue<S> {
    /// One copy of `campaign` for `to`, personalised with `fields` (a JSON object), rendered
    /// and signed exactly as it would be sent, and recorded nowhere: a test send's message, and
    /// what the pre-send check gives a spam filter to score.
    pub async fn render_copy(
        &self,
        campaign: CampaignId,
        to: &EmailAddress,
        fields: String,
    ) -> Result<Prepared, TestSendError> {
        Ok(self.copy_and_route(campaign, to, fields).await?.0)
    }

    /// [`Self::render_copy`], and the route the campaign's copy to `to` takes.
    async fn copy_and_route(
        &self,
        campaign: CampaignId,
        to: &EmailAddress,
        fields: String,
    ) -> Result<(Prepared, &DeliverConfig, &SharedResolver), TestSendError> {
        let render = match self.campaign_render(campaign, Some(0)).await? {
            Ok(r) => r,
            Err(Unusable::NotSent(e) | Unusable::Hold(e)) => return Err(TestSendError::Refused(e)),
        };
        let message_id = format!(
            "<{}@{}>",
            uuid::Uuid::now_v7().simple(),
            render.from().domain()
        );
        // Delivery 0 exists nowhere: a bounce or a click of the copy is refused like any
        // unknown reference.
        let d = ClaimedDelivery {
            id: DeliveryId(0),
            campaign,
            email: to.as_str().to_string(),
            domain: to.domain().to_string(),
            message_id,
            attempts: 0,
            first_attempt_at_ms: None,
            possible_duplicate: false,
            fields,
            seed: false,
            state: herald_domain::DeliveryState::Queued,
            reason: None,
            suppressed: None,
            variant: Some(0),
        };
        let date = self.clock().now().unix_timestamp();
        let (route, resolver) = self.route_for(render.from().domain(), to.domain());
        let provider = route.provider;
        let prepared = tokio::task::spawn_blocking(move || render.prepare(&d, date, provider))
            .await
            .map_err(|e| TestSendError::Internal(e.to_string()))?
            .map_err(|e| TestSendError::Refused(e.to_string()))?;
        Ok((prepared, route, resolver))
    }

    /// Send one test copy of `campaign` to `to`, personalised with `fields` (a JSON object).
    pub async fn send_test(
        &self,
        campaign: CampaignId,
        to: &EmailAddress,
        fields: String,
    ) -> Result<TestSend, TestSendError> {
        // The content first (what the user must fix is said before anything about DNS), and
        // the route the campaign's own copy to this address would take.
        let (prepared, route, resolver) = self.copy_and_route(campaign, to, fields).await?;
        let domain = to.domain().to_string();
        let hosts =
            deliver::resolve(resolver.as_ref(), &domain)
                .await
                .map_err(|(r, e)| match r {
                    // DNS not answering now is nobody's mistake: try again later.
                    AttemptResult::DnsTempFail(_) => TestSendError::Internal(e),
                    _ => TestSendError::Refused(e),
                })?;
        let message_id = prepared.message_id.clone();
        let (msg_tx, msg_rx) = mpsc::channel(1);
        let (tx, mut rx) = mpsc::channel(4);
        msg_tx
            .send(prepared)
            .await
            .map_err(|e| TestSendError::Internal(e.to_string()))?;
        drop(msg_tx);
        deliver::deliver_to_hosts(route, &hosts, msg_rx, &|_| false, &tx).await;
        drop(tx);
        let attempt = rx
            .recv()
            .await
            .ok_or_else(|| TestSendError::Internal("no attempt was made".into()))?;
        let (accepted, result) = match &attempt.result {
            AttemptResult::Accepted(r) => (true, r.full()),
            AttemptResult::Refused { reply, .. } => (false, reply.full()),
            AttemptResult::LocalError { message, .. } => (false, message.clone()),
            AttemptResult::NoSuchDomain(e) | AttemptResult::DnsTempFail(e) => (false, e.clone()),
            AttemptResult::NullMx => (false, format!("{domain} accepts no mail (null MX)")),
        };
        Ok(TestSend {
            to: to.as_str().to_string(),
            accepted,
            result,
            mx: attempt.evidence.mx.clone(),
            remote_queue_id: attempt.evidence.remote_queue_id.clone(),
            message_id,
        })
    }
}
