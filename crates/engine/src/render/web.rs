//! The web copy of one delivery's message (`{{ view_in_browser_url }}`): its HTML as the
//! recipient got it — personalised with the contact's fields, with working unsubscribe and
//! preference links — but with tracking off: no open pixel, links to their destinations.

use herald_mail::CampaignTemplates;
use herald_store::Campaign;

use super::{Links, context_with};

/// Why there is no web copy.
#[derive(Debug, thiserror::Error)]
pub enum WebCopyError {
    /// The contact is gone (deleted or erased): their copy is gone with them.
    #[error("the contact of this message no longer exists")]
    ContactGone,
    #[error("the campaign's templates no longer render: {0}")]
    Template(#[from] herald_mail::TemplateError),
}

/// Render the HTML part of `c` for `email` with `fields` (None: the contact is gone). A seed's
/// copy (no contact, `seed`) renders missing fields empty, as its message did.
pub fn web_copy(
    c: &Campaign,
    email: &str,
    fields: Option<&str>,
    seed: bool,
    links: Links<'_>,
) -> Result<String, WebCopyError> {
    let fields: serde_json::Map<String, serde_json::Value> = match (fields, seed) {
        (Some(f), _) => serde_json::from_str(f).unwrap_or_default(),
        (None, true) => serde_json::Map::new(),
        (None, false) => return Err(WebCopyError::ContactGone),
    };
    // Only the HTML part is shown: an empty text template spares deriving one from the HTML.
    let templates = CampaignTemplates::compile(&c.subject, &c.html, Some(""))?;
    let ctx = context_with(email, fields, links, &c.list_name);
    let rendered = if seed {
        templates.render_lenient(&ctx)?
    } else {
        templates.render(&ctx)?
    };
    Ok(rendered.html)
}
