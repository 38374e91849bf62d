//! `campaign archive ID [--off]`: a campaign's public archive page (`GET /a/{token}`, signed
//! with the tracking keys), shown without personal data once its send started.

use herald_engine::api_types::ArchiveState;
use herald_mail::tracking::TokenKind;
use herald_store::CampaignId;
use herald_store::prelude::*;

use crate::commands::campaign_id;
use crate::output;
use crate::startup::App;

/// The public address of campaign `id`'s archive page.
pub fn archive_url(app: &App, id: CampaignId) -> anyhow::Result<String> {
    let token = app.tracking_keys()?.sign(TokenKind::Archive, id.0, 0, "");
    Ok(format!(
        "{}/a/{token}",
        app.settings.http.public_url.trim_end_matches('/')
    ))
}

/// Publish campaign `id` on its archive page, or stop (`on` false).
pub async fn set_archive(app: &App, id: CampaignId, on: bool) -> anyhow::Result<ArchiveState> {
    if !app.store.set_campaign_archive(id, on).await? {
        return Err(crate::not_found(format!("unknown campaign {id}")));
    }
    Ok(ArchiveState {
        id: id.to_string(),
        public: on,
        url: on.then(|| archive_url(app, id)).transpose()?,
    })
}

/// `campaign archive`.
pub(super) async fn archive_cmd(app: &App, id: &str, off: bool, json: bool) -> anyhow::Result<()> {
    let id = campaign_id(id)?;
    let state = set_archive(app, id, !off).await?;
    if json {
        return output::json(&state);
    }
    match &state.url {
        Some(url) => println!(
            "campaign {id} is on its public archive page (once its send started, without personal data): {url}"
        ),
        None => println!("campaign {id} is not on a public archive page"),
    }
    Ok(())
}
