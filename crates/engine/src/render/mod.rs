//! Stage `render`: personalise a campaign for one recipient and encode it for DATA.
//!
//! Input: a claimed delivery (with its contact's fields) and its campaign.
//! Output: a [`Prepared`] message, or the reason it cannot be rendered (missing data), which
//! becomes `not_sent/missing_data` rather than a send of a broken message.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use herald_domain::{EmailAddress, SentMessage};
use herald_mail::tracking::{Keyset, TokenKind, encode_url, rewrite_links, rewrite_text_links};
use herald_mail::verp::VerpKey;
use herald_mail::{
    CampaignTemplates, MessageAttachment, OutgoingMessage, TemplateError, build_message, smtp_data,
};
use herald_store::{Campaign, CampaignId, ClaimedDelivery};
use minijinja::Value;

use crate::deliver::Prepared;

pub mod web;

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
    /// Signed links: unsubscribe always, opens and clicks as the campaign says.
    tracking: Option<Tracking>,
    /// The connected domain whose drift holds this campaign's sends (`None` when it is not
    /// connected, or the campaign was created with the gate override).
    hold_domain: Option<String>,
    /// `List-Id` of the campaign's list (RFC 2919; Gmail's bulk-sender guidelines ask for it).
    list_id: String,
    /// `Reply-To`, when the campaign has one.
    reply_to: Option<(Option<String>, EmailAddress)>,
    /// The list's name, `{{ list.name }}` in templates.
    list_name: String,
    /// A campaign a user wrote, or a list's confirmation (`{{ confirm_url }}` is the
    /// recipient's signed link) or welcome message.
    kind: herald_domain::CampaignKind,
    /// The campaign has an A/B test (a copy without a variant gets the winner, once picked).
    ab_test: bool,
    /// Files every copy carries (read once per campaign; their total is capped).
    attachments: Arc<[herald_store::Attachment]>,
}

/// How a campaign's messages carry signed links (design §6).
#[derive(Clone)]
pub struct Tracking {
    pub keys: Arc<Keyset>,
    /// `[http] public_url`, without a trailing slash.
    pub base_url: String,
    pub opens: bool,
    pub clicks: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("campaign {0}: From address {1:?} is invalid: {2}")]
    From(CampaignId, String, herald_domain::AddressError),
    #[error("template {0}")]
    Template(#[from] TemplateError),
    #[error("campaign {0}: Reply-To {1:?} is invalid: {2}")]
    ReplyTo(CampaignId, String, String),
    #[error("recipient address {0:?} is invalid: {1}")]
    Recipient(String, herald_domain::AddressError),
    #[error("building the message: {0}")]
    Message(#[from] herald_mail::MessageError),
    #[error("DKIM: {0}")]
    Dkim(#[from] herald_mail::dkim::DkimError),
    #[error("a confirmation message needs signed links: [http] public_url and tracking keys")]
    NoConfirmLink,
}

impl CampaignRender {
    pub fn compile(
        c: &Campaign,
        signer: Option<Arc<herald_mail::dkim::Signer>>,
    ) -> Result<Self, RenderError> {
        let from = EmailAddress::parse(&c.from_address)
            .map_err(|e| RenderError::From(c.id, c.from_address.clone(), e))?;
        let reply_to = match &c.reply_to {
            Some(r) => Some(
                crate::campaign::parse_from(r)
                    .map_err(|e| RenderError::ReplyTo(c.id, r.clone(), e))?,
            ),
            None => None,
        };
        Ok(Self {
            id: c.id,
            list_id: herald_mail::list_id_header(&c.list_name, c.list.0, from.domain()),
            reply_to,
            templates: CampaignTemplates::compile(&c.subject, &c.html, c.text.as_deref())?,
            from,
            from_name: c.from_name.clone(),
            signer,
            return_path: None,
            tracking: None,
            hold_domain: None,
            list_name: c.list_name.clone(),
            kind: c.kind,
            ab_test: false,
            attachments: Arc::new([]),
        })
    }

    /// A list's confirmation message (not a campaign a user wrote).
    pub fn is_confirmation(&self) -> bool {
        self.kind == herald_domain::CampaignKind::Confirmation
    }

    /// A campaign a user wrote (not one of a list's own messages): what a warm-up paces.
    pub fn is_campaign(&self) -> bool {
        self.kind == herald_domain::CampaignKind::Campaign
    }

    /// Mark the campaign as having an A/B test.
    pub fn with_ab_test(mut self, ab_test: bool) -> Self {
        self.ab_test = ab_test;
        self
    }

    pub fn with_attachments(mut self, a: Vec<herald_store::Attachment>) -> Self {
        self.attachments = a.into();
        self
    }

    /// Its copies carry files (each copy the whole of them, base64).
    pub fn has_attachments(&self) -> bool {
        !self.attachments.is_empty()
    }

    pub fn has_ab_test(&self) -> bool {
        self.ab_test
    }

    pub fn with_hold_domain(mut self, domain: Option<String>) -> Self {
        self.hold_domain = domain;
        self
    }

    pub fn hold_domain(&self) -> Option<&str> {
        self.hold_domain.as_deref()
    }

    pub fn with_tracking(mut self, t: Option<Tracking>) -> Self {
        self.tracking = t;
        self
    }

    pub fn with_return_path(mut self, rp: Option<(Arc<VerpKey>, String)>) -> Self {
        self.return_path = rp;
        self
    }

    pub fn from(&self) -> &EmailAddress {
        &self.from
    }
    /// Tracking for one copy: links rewritten to signed click redirects (our own pages left
    /// alone), the open pixel, and the List-Unsubscribe headers (RFC 2369 + RFC 8058).
    #[allow(clippy::too_many_arguments)]
    fn track(
        &self,
        t: &Tracking,
        r: &mut herald_mail::Rendered,
        headers: &mut Vec<(&'static str, String)>,
        delivery: i64,
        date: i64,
        unsub: &str,
        preferences_url: Option<&str>,
    ) {
        if t.clicks {
            let tracked = |u: &str| {
                let token = t.keys.sign(TokenKind::Click, delivery, date, u);
                format!("{}/t/c/{token}?u={}", t.base_url, encode_url(u))
            };
            // Our own signed pages (unsubscribe, preferences, the web copy) are not tracked as
            // clicks.
            let own = |u: &str| {
                u == unsub
                    || Some(u) == preferences_url
                    || u.strip_prefix(t.base_url.as_str())
                        .is_some_and(|path| path.starts_with("/v/"))
            };
            r.html = rewrite_links(&r.html, own, tracked);
            r.text = rewrite_text_links(&r.text, own, tracked);
        }
        if t.opens {
            let token = t.keys.sign(TokenKind::Open, delivery, date, "");
            let pixel = format!(
                "<img src=\"{}/t/o/{token}\" width=\"1\" height=\"1\" alt=\"\" style=\"display:block;border:0\">",
                t.base_url
            );
            match r.html.to_ascii_lowercase().rfind("</body>") {
                Some(at) => r.html.insert_str(at, &pixel),
                None => r.html.push_str(&pixel),
            }
        }
        // RFC 2369 + RFC 8058: the https URL takes the one-click POST; the mailto reaches
        // the inbound listener.
        let mut list_unsubscribe = format!("<{unsub}>");
        if let Some((key, domain)) = &self.return_path {
            list_unsubscribe.push_str(&format!(
                ", <mailto:{}?subject=unsubscribe>",
                key.unsubscribe_address(delivery, domain)
            ));
        }
        headers.push(("List-Unsubscribe", list_unsubscribe));
        headers.push((
            "List-Unsubscribe-Post",
            "List-Unsubscribe=One-Click".to_string(),
        ));
    }

    /// Render for one delivery at `date` (Unix seconds), to be sent through `provider`'s
    /// relay if given (its metadata header then carries the delivery's id).
    pub fn prepare(
        &self,
        d: &ClaimedDelivery,
        date: i64,
        provider: Option<herald_mail::webhooks::Provider>,
    ) -> Result<Prepared, RenderError> {
        let to = EmailAddress::parse(&d.email)
            .map_err(|e| RenderError::Recipient(d.email.clone(), e))?;
        let fields: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&d.fields).unwrap_or_default();
        let to_name = display_name(&fields);
        // A confirmation message is the answer to the person's own request, not a list's mail:
        // no List-Unsubscribe (a mail client's Unsubscribe there would leave everything).
        let unsubscribe_url = self
            .tracking
            .as_ref()
            .filter(|_| !self.is_confirmation())
            .map(|t| {
                let token = t.keys.sign(TokenKind::Unsubscribe, d.id.0, date, "");
                format!("{}/u/{token}", t.base_url)
            });
        let confirm_url = match (&self.tracking, self.is_confirmation()) {
            (_, false) => None,
            (Some(t), true) => Some(format!(
                "{}/s/confirm/{}",
                t.base_url,
                t.keys.sign(TokenKind::Confirm, d.id.0, date, "")
            )),
            (None, true) => return Err(RenderError::NoConfirmLink),
        };
        let preferences_url = self.tracking.as_ref().map(|t| {
            let token = t.keys.sign(TokenKind::Preferences, d.id.0, date, "");
            format!("{}/p/{token}", t.base_url)
        });
        let view_url = self.tracking.as_ref().map(|t| {
            let token = t.keys.sign(TokenKind::View, d.id.0, date, "");
            format!("{}/v/{token}", t.base_url)
        });
        let render = |ctx: &minijinja::Value| {
            if d.seed {
                self.templates.render_lenient(ctx)
            } else {
                self.templates.render(ctx)
            }
        };
        let mut r = render(&context_with(
            &d.email,
            fields,
            Links {
                unsubscribe_url: unsubscribe_url.as_deref(),
                preferences_url: preferences_url.as_deref(),
                confirm_url: confirm_url.as_deref(),
                view_url: view_url.as_deref(),
            },
            &self.list_name,
        ))?;
        // Names the campaign in every copy: seed pollers and the recipient's IT can search by it.
        let mut headers: Vec<(&str, String)> = vec![
            ("X-Herald-Campaign", self.id.to_string()),
            ("List-Id", self.list_id.clone()),
        ];
        if let Some(p) = provider {
            let (name, value) = p.metadata_header(d.id.0);
            headers.push((name, value));
        }
        if let (Some(t), Some(unsub)) = (&self.tracking, &unsubscribe_url) {
            self.track(
                t,
                &mut r,
                &mut headers,
                d.id.0,
                date,
                unsub,
                preferences_url.as_deref(),
            );
        }
        let message_id = d.message_id.trim_matches(['<', '>']).to_string();
        let attachments: Vec<MessageAttachment<'_>> = self
            .attachments
            .iter()
            .map(|a| MessageAttachment {
                name: &a.meta.name,
                content_type: &a.meta.content_type,
                content: &a.content,
            })
            .collect();
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
            reply_to: self
                .reply_to
                .as_ref()
                .map(|(name, addr)| (name.as_deref(), addr)),
            headers: &headers,
            attachments: &attachments,
        })?;
        let raw = match &self.signer {
            Some(s) => s.sign(&raw)?,
            None => raw,
        };
        let data = smtp_data(&raw);
        let sent = SentMessage {
            subject: r.subject.clone(),
            from: match &self.from_name {
                Some(n) => format!("{n} <{}>", self.from),
                None => self.from.to_string(),
            },
            sha256: herald_mail::sha256_hex(&data),
        };
        Ok(Prepared {
            key: d.id.0,
            campaign: d.campaign,
            mail_from: match &self.return_path {
                Some((key, domain)) => key.address(d.id.0, domain),
                None => self.from.to_string(),
            },
            rcpt_to: to.to_string(),
            message_id: d.message_id.clone(),
            data,
            sent,
        })
    }
}

/// The template context: `contact` with every field and `email`, and `unsubscribe_url` (the
/// recipient's signed unsubscribe page; a placeholder where tracking is off, as when a
/// campaign's templates are checked at creation).
pub fn context(
    email: &str,
    fields: serde_json::Map<String, serde_json::Value>,
    unsubscribe_url: Option<&str>,
) -> Value {
    context_with(
        email,
        fields,
        Links {
            unsubscribe_url,
            ..Links::default()
        },
        "",
    )
}

/// A message's signed links (`None`: a placeholder, as when templates are checked).
#[derive(Debug, Clone, Copy, Default)]
pub struct Links<'a> {
    pub unsubscribe_url: Option<&'a str>,
    /// The recipient's preference centre.
    pub preferences_url: Option<&'a str>,
    /// In a list's confirmation message only.
    pub confirm_url: Option<&'a str>,
    /// The message's signed web copy.
    pub view_url: Option<&'a str>,
}

/// [`context`] with every link and `list` (its `name`).
pub fn context_with(
    email: &str,
    mut fields: serde_json::Map<String, serde_json::Value>,
    links: Links<'_>,
    list_name: &str,
) -> Value {
    fields.insert("email".into(), serde_json::Value::String(email.to_string()));
    // Our own URLs (settings + a base64url token): safe, so autoescape leaves their slashes.
    let url = |u: Option<&str>, placeholder: &str| {
        Value::from_safe_string(u.unwrap_or(placeholder).to_string())
    };
    minijinja::context! {
        contact => Value::from(minijinja::value::Serde(fields)),
        list => minijinja::context! { name => list_name },
        unsubscribe_url => url(links.unsubscribe_url, "#unsubscribe"),
        preferences_url => url(links.preferences_url, "#preferences"),
        confirm_url => url(links.confirm_url, "#confirm"),
        view_in_browser_url => url(links.view_url, "#view"),
    }
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

/// Compiled campaigns, loaded once per process: per campaign and A/B variant (0: the
/// campaign as written).
#[derive(Default)]
pub struct Renderer {
    cache: Mutex<HashMap<(CampaignId, u32), Arc<CampaignRender>>>,
    /// The A/B winner of campaigns whose test was decided (it never changes then).
    winners: Mutex<HashMap<CampaignId, u32>>,
}

impl Renderer {
    pub fn get(&self, id: CampaignId, variant: u32) -> Option<Arc<CampaignRender>> {
        self.cache.lock().ok()?.get(&(id, variant)).cloned()
    }
    pub fn insert(&self, variant: u32, r: CampaignRender) -> Arc<CampaignRender> {
        let r = Arc::new(r);
        if let Ok(mut c) = self.cache.lock() {
            c.insert((r.id, variant), r.clone());
        }
        r
    }
    pub fn winner(&self, id: CampaignId) -> Option<u32> {
        self.winners.lock().ok()?.get(&id).copied()
    }
    pub fn set_winner(&self, id: CampaignId, variant: u32) {
        if let Ok(mut w) = self.winners.lock() {
            w.insert(id, variant);
        }
    }
}
