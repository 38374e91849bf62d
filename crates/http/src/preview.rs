//! A message as a list's first contact would get it, from content not saved yet: the compose
//! page's live preview (`POST /campaigns/preview`) and the API's `POST
//! /api/v1/campaigns/preview`. Templates are the user's input: compiled and rendered off the
//! async workers, within a time limit (the size and nesting caps in `CampaignTemplates` bound
//! the work as well).

use herald_engine::api_types::BodyFormat;
use herald_mail::CampaignTemplates;
use herald_store::Store;
use schemars::JsonSchema;
use serde::Serialize;

/// The longest one preview may take.
const PREVIEW_LIMIT: std::time::Duration = std::time::Duration::from_secs(5);

/// A rendered preview.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Preview {
    /// Whom it was rendered for (the list's first contact; `someone@example.com` without one).
    pub email: String,
    pub subject: String,
    pub html: String,
}

/// Render `subject` and `html` (in `format`) for list `list`'s first contact; Err says what is
/// wrong in words.
pub async fn render<S: Store>(
    store: &S,
    list: &str,
    subject: String,
    html: String,
    format: BodyFormat,
) -> Result<Preview, String> {
    let member = match store.find_list(list).await {
        Ok(Some(list)) => store
            .audience_page(list, 0, 1)
            .await
            .ok()
            .and_then(|p| p.into_iter().next()),
        _ => None,
    };
    let (email, fields) = match &member {
        Some(m) => (
            m.email.clone(),
            serde_json::from_str(&m.fields).unwrap_or_default(),
        ),
        None => ("someone@example.com".to_string(), serde_json::Map::new()),
    };
    let to = email.clone();
    let job = herald_engine::bounded(PREVIEW_LIMIT, move || {
        let html = format
            .to_html(html)
            .map_err(|e| format!("HTML (MJML): {e}"))?;
        let templates =
            CampaignTemplates::compile(&subject, &html, None).map_err(|e| e.to_string())?;
        templates
            .render(&herald_engine::render::context(&to, fields, None))
            .map_err(|e| e.to_string())
    });
    match job.await {
        Ok(Ok(r)) => Ok(Preview {
            email,
            subject: r.subject,
            html: r.html,
        }),
        Ok(Err(e)) => Err(e),
        Err(herald_engine::Unfinished::Panicked(e)) => {
            tracing::error!(error = %e, "rendering a preview failed");
            Err("the preview could not be rendered".into())
        }
        Err(herald_engine::Unfinished::TooSlow) => Err(format!(
            "the preview took longer than {} s to render; simplify the template",
            PREVIEW_LIMIT.as_secs()
        )),
    }
}
