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

/// The public archive copy of campaign `c`: its HTML (the A/B winner's, once picked) for no one
/// in particular — every contact field empty (a template's `default()` applies), no unsubscribe,
/// preference or web-copy link, no tracking: nothing personal.
pub fn archive_copy(c: &Campaign) -> Result<String, WebCopyError> {
    let c = match crate::campaign::ab::AbTest::of(c) {
        Some(t) => t.apply(c, c.ab_winner.unwrap_or(0)),
        None => c.clone(),
    };
    let templates = CampaignTemplates::compile(&c.subject, &c.html, Some(""))?;
    let links = Links {
        unsubscribe_url: None,
        preferences_url: None,
        confirm_url: None,
        view_url: None,
    };
    let ctx = context_with("", serde_json::Map::new(), links, &c.list_name);
    Ok(templates.render_lenient(&ctx)?.html)
}
