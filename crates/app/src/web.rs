//! What the web layer asks of the application: the same functions the CLI uses.

use std::sync::Arc;

use futures_util::future::BoxFuture;
use herald_engine::api_types::{
    CampaignDetails, Diagnosis, DomainStatus, IpsReport, TestSend, Verification,
};
use herald_http::Failure;
use herald_store::{CampaignId, StoreError};

use crate::commands::{
    campaign_details, delete_draft, diagnose_for, domain_statuses, duplicate_campaign, ips_report,
    start_send_despite, test_send, verify_domain,
};
use crate::startup::App;

pub struct AppActions(pub Arc<App>);

/// What a service error means to a web caller. What the user can fix is said; a database that
/// did not answer is `Unavailable`; anything else is logged with its whole chain and answered
/// as `Internal`, without its text.
fn failure(e: anyhow::Error) -> Failure {
    if let Some(n) = e.downcast_ref::<crate::NotFound>() {
        return Failure::NotFound(n.0.clone());
    }
    if let Some(b) = e.downcast_ref::<crate::BadInput>() {
        return Failure::BadInput(b.0.clone());
    }
    if let Some(c) = e.downcast_ref::<crate::Conflict>() {
        return Failure::Conflict(c.0.clone());
    }
    let outage = e.chain().any(|c| {
        c.downcast_ref::<StoreError>()
            .is_some_and(|s| !matches!(s, StoreError::Corrupt(_)))
    });
    if outage {
        tracing::error!(error = format!("{e:#}"), "the database did not answer");
        return Failure::Unavailable;
    }
    tracing::error!(error = format!("{e:#}"), "a web action failed");
    Failure::Internal
}

impl herald_http::Actions for AppActions {
    fn why(
        &self,
        campaign: CampaignId,
        email: String,
    ) -> BoxFuture<'static, Result<Option<Diagnosis>, Failure>> {
        let app = self.0.clone();
        Box::pin(async move { diagnose_for(&app, campaign, &email).await.map_err(failure) })
    }

    fn send(
        &self,
        campaign: CampaignId,
        despite: Option<String>,
    ) -> BoxFuture<'static, Result<(), Failure>> {
        let app = self.0.clone();
        Box::pin(async move {
            start_send_despite(&app, campaign, despite)
                .await
                .map_err(failure)
        })
    }

    fn check_from(&self, from_address: String) -> BoxFuture<'static, Result<(), Failure>> {
        let app = self.0.clone();
        Box::pin(async move { app.check_from(&from_address).await.map_err(failure) })
    }

    fn details(
        &self,
        campaign: CampaignId,
    ) -> BoxFuture<'static, Result<Option<CampaignDetails>, Failure>> {
        let app = self.0.clone();
        Box::pin(async move { campaign_details(&app, campaign).await.map_err(failure) })
    }

    fn domains(&self) -> BoxFuture<'static, Result<Vec<DomainStatus>, Failure>> {
        let app = self.0.clone();
        Box::pin(async move { domain_statuses(&app).await.map_err(failure) })
    }

    fn verify_domain(
        &self,
        domain: String,
    ) -> BoxFuture<'static, Result<Option<Verification>, Failure>> {
        let app = self.0.clone();
        Box::pin(async move { verify_domain(&app, &domain).await.map_err(failure) })
    }

    fn add_domain(
        &self,
        domain: String,
        selector: Option<String>,
    ) -> BoxFuture<'static, Result<(herald_engine::domains::ConnectedDomain, Vec<String>), Failure>>
    {
        let app = self.0.clone();
        Box::pin(async move {
            crate::commands::connect_domain(&app, &domain, selector.as_deref())
                .await
                .map_err(failure)
        })
    }

    fn rotate_domain(
        &self,
        domain: String,
    ) -> BoxFuture<'static, Result<herald_engine::domains::Rotation, Failure>> {
        let app = self.0.clone();
        Box::pin(async move {
            crate::commands::rotate_domain(&app, &domain, None, false).map_err(failure)
        })
    }

    fn add_seed(
        &self,
        seed: herald_http::SeedRequest,
    ) -> BoxFuture<'static, Result<String, Failure>> {
        let app = self.0.clone();
        Box::pin(async move {
            crate::commands::add_seed(&app, seed, true)
                .await
                .map_err(failure)
        })
    }

    fn test_seed(
        &self,
        address: String,
    ) -> BoxFuture<'static, Result<Result<(), String>, Failure>> {
        let app = self.0.clone();
        Box::pin(async move {
            crate::commands::test_seed(&app, &address)
                .await
                .map_err(failure)
        })
    }

    fn ips(&self) -> BoxFuture<'static, Result<IpsReport, Failure>> {
        let app = self.0.clone();
        Box::pin(async move { ips_report(&app).await.map_err(failure) })
    }

    fn dmarc(
        &self,
        domain: Option<String>,
        days: u32,
    ) -> BoxFuture<'static, Result<herald_engine::reports::dmarc::DmarcView, Failure>> {
        let app = self.0.clone();
        Box::pin(async move {
            crate::commands::dmarc_report(&app, domain.as_deref(), days)
                .await
                .map_err(failure)
        })
    }

    fn duplicate(
        &self,
        campaign: CampaignId,
        name: Option<String>,
    ) -> BoxFuture<'static, Result<CampaignId, Failure>> {
        let app = self.0.clone();
        Box::pin(async move {
            duplicate_campaign(&app, campaign, name)
                .await
                .map_err(failure)
        })
    }

    fn delete_draft(&self, campaign: CampaignId) -> BoxFuture<'static, Result<(), Failure>> {
        let app = self.0.clone();
        Box::pin(async move { delete_draft(&app, campaign).await.map_err(failure) })
    }

    fn edit(
        &self,
        campaign: CampaignId,
        patch: herald_engine::api_types::CampaignPatch,
        how: String,
    ) -> BoxFuture<'static, Result<(), Failure>> {
        let app = self.0.clone();
        Box::pin(async move {
            crate::commands::edit_campaign(&app, campaign, patch, &how)
                .await
                .map(|_| ())
                .map_err(failure)
        })
    }

    fn check(
        &self,
        campaign: CampaignId,
        at: &'static str,
    ) -> BoxFuture<'static, Result<herald_engine::api_types::CampaignCheck, Failure>> {
        let app = self.0.clone();
        Box::pin(async move {
            crate::commands::check_campaign(&app, campaign, at)
                .await
                .map_err(failure)
        })
    }

    fn schedule(
        &self,
        campaign: CampaignId,
        when: herald_http::ScheduleRequest,
    ) -> BoxFuture<'static, Result<herald_engine::api_types::CampaignScheduled, Failure>> {
        let app = self.0.clone();
        Box::pin(async move {
            crate::commands::schedule_as_given(&app, campaign, &when)
                .await
                .map_err(failure)
        })
    }

    fn set_ab(
        &self,
        campaign: CampaignId,
        test: Option<herald_engine::campaign::ab::AbTest>,
    ) -> BoxFuture<'static, Result<Option<herald_engine::campaign::ab::AbReport>, Failure>> {
        let app = self.0.clone();
        Box::pin(async move {
            crate::commands::set_ab(&app, campaign, test)
                .await
                .map_err(failure)
        })
    }

    fn archive(
        &self,
        campaign: CampaignId,
        on: bool,
    ) -> BoxFuture<'static, Result<herald_engine::api_types::ArchiveState, Failure>> {
        let app = self.0.clone();
        Box::pin(async move {
            crate::commands::set_archive(&app, campaign, on)
                .await
                .map_err(failure)
        })
    }

    fn unschedule(
        &self,
        campaign: CampaignId,
    ) -> BoxFuture<'static, Result<herald_engine::api_types::CampaignScheduled, Failure>> {
        let app = self.0.clone();
        Box::pin(async move {
            crate::commands::unschedule_campaign(&app, campaign)
                .await
                .map_err(failure)
        })
    }

    fn control(
        &self,
        campaign: CampaignId,
        what: herald_engine::campaign::Control,
    ) -> BoxFuture<'static, Result<herald_engine::api_types::CampaignControlled, Failure>> {
        let app = self.0.clone();
        Box::pin(async move {
            crate::commands::control_campaign(&app, campaign, what)
                .await
                .map_err(failure)
        })
    }

    fn test_send(
        &self,
        campaign: CampaignId,
        to: String,
    ) -> BoxFuture<'static, Result<TestSend, Failure>> {
        let app = self.0.clone();
        Box::pin(async move { test_send(&app, campaign, &to).await.map_err(failure) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_become_failures_without_their_internals() {
        assert_eq!(
            failure(crate::not_found("unknown campaign 9")),
            Failure::NotFound("unknown campaign 9".into())
        );
        assert_eq!(
            failure(crate::bad_input("\"x\" is not an address")),
            Failure::BadInput("\"x\" is not an address".into())
        );
        assert_eq!(
            failure(crate::conflict("example.com does not verify")),
            Failure::Conflict("example.com does not verify".into())
        );
        let outage =
            anyhow::Error::new(StoreError::Database(sqlx::Error::PoolTimedOut)).context("reading");
        assert_eq!(failure(outage), Failure::Unavailable);
        let corrupt = anyhow::Error::new(StoreError::Corrupt("row 7".into()));
        assert_eq!(failure(corrupt), Failure::Internal);
        let other = anyhow::anyhow!("secret path /var/lib/x failed");
        let f = failure(other);
        assert_eq!(f, Failure::Internal);
        assert!(!f.to_string().contains("secret"));
    }
}
