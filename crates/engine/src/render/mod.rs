//! Stage `render`: personalise a campaign for one recipient and encode it for DATA.
//!
//! Input: a claimed delivery (with its contact's fields) and its campaign.
//! Output: a [`Prepared`] message, or the reason it cannot be rendered (missing data), which
//! becomes `not_sent/missing_data` rather than a send of a broken message.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use herald_domain::EmailAddress;
use herald_mail::verp::VerpKey;
use herald_mail::{CampaignTemplates, OutgoingMessage, TemplateError, build_message, smtp_data};
use herald_store::{Campaign, CampaignId, ClaimedDelivery};
use minijinja::Value;

use crate::deliver::Prepared;

/// A campaign compiled for rendering.
pub struct CampaignRender {
    pub id: CampaignId,
    templates: CampaignTemplates,
    from: EmailAddress,
    from_name: Option<String>,
    /// DKIM signer of the From domain (or its connected parent), when connected.
    signer: Option<Arc<herald_mail::dkim::Signer>>,
    /// VERP key and return-path domain; `None`: the From address is the envelope sender.
    return_path: Option<(Arc<VerpKey>, String)>,
}

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("campaign {0}: From address {1:?} is invalid: {2}")]
    From(CampaignId, String, herald_domain::AddressError),
    #[error("template {0}")]
    Template(#[from] TemplateError),
    #[error("recipient address {0:?} is invalid: {1}")]
    Recipient(String, herald_domain::AddressError),
    #[error("building the message: {0}")]
    Message(#[from] herald_mail::MessageError),
    #[error("DKIM: {0}")]
    Dkim(#[from] herald_mail::dkim::DkimError),
}

impl CampaignRender {
    pub fn compile(
        c: &Campaign,
        signer: Option<Arc<herald_mail::dkim::Signer>>,
    ) -> Result<Self, RenderError> {
        let from = EmailAddress::parse(&c.from_address)
            .map_err(|e| RenderError::From(c.id, c.from_address.clone(), e))?;
        Ok(Self {
            id: c.id,
            templates: CampaignTemplates::compile(&c.subject, &c.html, c.text.as_deref())?,
            from,
            from_name: c.from_name.clone(),
            signer,
            return_path: None,
        })
    }

    pub fn with_return_path(mut self, rp: Option<(Arc<VerpKey>, String)>) -> Self {
        self.return_path = rp;
        self
    }

    pub fn from(&self) -> &EmailAddress {
        &self.from
    }

    /// Render for one delivery at `date` (Unix seconds).
    pub fn prepare(&self, d: &ClaimedDelivery, date: i64) -> Result<Prepared, RenderError> {
        let to = EmailAddress::parse(&d.email)
            .map_err(|e| RenderError::Recipient(d.email.clone(), e))?;
        let fields: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&d.fields).unwrap_or_default();
        let to_name = display_name(&fields);
        let r = self.templates.render(&context(&d.email, fields))?;
        let message_id = d.message_id.trim_matches(['<', '>']).to_string();
        let raw = build_message(&OutgoingMessage {
            from_name: self.from_name.as_deref(),
            from: &self.from,
            to_name: to_name.as_deref(),
            to: &to,
            subject: &r.subject,
            html: &r.html,
            text: &r.text,
            message_id: &message_id,
            date,
            headers: &[],
        })?;
        let raw = match &self.signer {
            Some(s) => s.sign(&raw)?,
            None => raw,
        };
        Ok(Prepared {
            key: d.id.0,
            mail_from: match &self.return_path {
                Some((key, domain)) => key.address(d.id.0, domain),
                None => self.from.to_string(),
            },
            rcpt_to: to.to_string(),
            message_id: d.message_id.clone(),
            data: smtp_data(&raw),
        })
    }
}

/// The template context: `contact` with every field and `email`.
pub fn context(email: &str, mut fields: serde_json::Map<String, serde_json::Value>) -> Value {
    fields.insert("email".into(), serde_json::Value::String(email.to_string()));
    minijinja::context! { contact => Value::from(minijinja::value::Serde(fields)) }
}

fn display_name(f: &serde_json::Map<String, serde_json::Value>) -> Option<String> {
    let get = |k: &str| {
        f.get(k)
            .and_then(|v| v.as_str())
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    if let Some(n) = get("name") {
        return Some(n.to_string());
    }
    match (get("first_name"), get("last_name")) {
        (Some(a), Some(b)) => Some(format!("{a} {b}")),
        (Some(a), None) | (None, Some(a)) => Some(a.to_string()),
        (None, None) => None,
    }
}

/// Compiled campaigns, loaded once per process.
#[derive(Default)]
pub struct Renderer {
    cache: Mutex<HashMap<CampaignId, Arc<CampaignRender>>>,
}

impl Renderer {
    pub fn get(&self, id: CampaignId) -> Option<Arc<CampaignRender>> {
        self.cache.lock().ok()?.get(&id).cloned()
    }
    pub fn insert(&self, r: CampaignRender) -> Arc<CampaignRender> {
        let r = Arc::new(r);
        if let Ok(mut c) = self.cache.lock() {
            c.insert(r.id, r.clone());
        }
        r
    }
}
