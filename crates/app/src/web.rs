//! What the web layer asks of the application: the same functions the CLI uses.

use std::sync::Arc;

use futures_util::future::BoxFuture;
use herald_engine::diagnose::Diagnosis;
use herald_store::CampaignId;

use crate::commands::{
    campaign_details, diagnose_for, domain_statuses, ips_report, start_send, test_send,
    verify_domain,
};
use crate::startup::App;

pub struct AppActions(pub Arc<App>);

impl herald_http::Actions for AppActions {
    fn why(
        &self,
        campaign: CampaignId,
        email: String,
    ) -> BoxFuture<'static, Result<Option<Diagnosis>, String>> {
        let app = self.0.clone();
        Box::pin(async move {
            diagnose_for(&app, campaign, &email)
                .await
                .map_err(|e| format!("{e:#}"))
        })
    }

    fn send(&self, campaign: CampaignId) -> BoxFuture<'static, Result<(), String>> {
        let app = self.0.clone();
        Box::pin(async move {
            start_send(&app, campaign)
                .await
                .map_err(|e| format!("{e:#}"))
        })
    }

    fn check_from(&self, from_address: String) -> BoxFuture<'static, Result<(), String>> {
        let app = self.0.clone();
        Box::pin(async move {
            app.check_from(&from_address)
                .await
                .map_err(|e| format!("{e:#}"))
        })
    }

    fn details(
        &self,
        campaign: CampaignId,
    ) -> BoxFuture<'static, Result<Option<serde_json::Value>, String>> {
        let app = self.0.clone();
        Box::pin(async move {
            campaign_details(&app, campaign)
                .await
                .map_err(|e| format!("{e:#}"))
        })
    }

    fn domains(&self) -> BoxFuture<'static, Result<serde_json::Value, String>> {
        let app = self.0.clone();
        Box::pin(async move {
            let d = domain_statuses(&app).await.map_err(|e| format!("{e:#}"))?;
            serde_json::to_value(d).map_err(|e| e.to_string())
        })
    }

    fn verify_domain(
        &self,
        domain: String,
    ) -> BoxFuture<'static, Result<Option<serde_json::Value>, String>> {
        let app = self.0.clone();
        Box::pin(async move {
            let v = verify_domain(&app, &domain)
                .await
                .map_err(|e| format!("{e:#}"))?;
            v.map(|v| serde_json::to_value(v).map_err(|e| e.to_string()))
                .transpose()
        })
    }

    fn ips(&self) -> BoxFuture<'static, Result<serde_json::Value, String>> {
        let app = self.0.clone();
        Box::pin(async move {
            let r = ips_report(&app).await.map_err(|e| format!("{e:#}"))?;
            serde_json::to_value(r).map_err(|e| e.to_string())
        })
    }

    fn test_send(
        &self,
        campaign: CampaignId,
        to: String,
    ) -> BoxFuture<'static, Result<serde_json::Value, String>> {
        let app = self.0.clone();
        Box::pin(async move {
            let sent = test_send(&app, campaign, &to)
                .await
                .map_err(|e| format!("{e:#}"))?;
            serde_json::to_value(sent).map_err(|e| e.to_string())
        })
    }
}
