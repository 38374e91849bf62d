//! A campaign's attachments (issue 19, item 4): files sent with every copy. Off unless
//! `[attachments] enabled = true`: bulk mail with attachments is filtered more often, some
//! receivers strip them, and every copy carries the whole file (a link to it is kinder to
//! inboxes). Changed only while the campaign is a draft; their total is capped
//! (`[attachments] max_bytes`), which also bounds what a send holds in memory per message.

use herald_store::{Attached, Attachment, AttachmentMeta, CampaignId, Store, StoreError};
use schemars::JsonSchema;
use serde::Serialize;

/// The largest cap `[attachments] max_bytes` may set: base64 makes 10 MiB about 13.7 MB on the
/// wire, already past some receivers' size limits (many stop at 20–25 MB a message).
pub const MAX_CAP: u64 = 10 * 1024 * 1024;

/// The longest file name, in characters.
pub const MAX_NAME: usize = 200;

/// What an installation allows (`[attachments]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub enabled: bool,
    /// Every attachment of one campaign together, in bytes.
    pub max_bytes: u64,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            enabled: false,
            max_bytes: 2 * 1024 * 1024,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AttachmentError {
    #[error(
        "attachments are off on this installation: set [attachments] enabled = true in herald.toml to allow them (bulk mail with attachments is filtered more often; a link to the file on your site is safer)"
    )]
    Off,
    #[error("unknown campaign {0}")]
    UnknownCampaign(CampaignId),
    #[error("campaign {0} is {1}: attachments change only while it is a draft")]
    NotDraft(CampaignId, &'static str),
    #[error(
        "a file name is 1–{MAX_NAME} characters without control characters, / or \\ (got {0:?})"
    )]
    BadName(String),
    #[error("content type {0:?} is not a type/subtype like application/pdf")]
    BadType(String),
    #[error("{0:?} is empty")]
    Empty(String),
    #[error(
        "with {name:?} the campaign's attachments would weigh {total} bytes, over the {max} bytes [attachments] max_bytes allows"
    )]
    TooBig { name: String, total: i64, max: u64 },
    #[error("campaign {0} has no attachment {1:?}")]
    NotFound(CampaignId, String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// An attachment as `campaign show --json`, the API and the campaign's page show it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct AttachmentView {
    pub name: String,
    pub content_type: String,
    pub size: i64,
    /// SHA-256 of the content, hex: compare with the file the recipient saved.
    pub sha256: String,
    pub added_at: String,
}

impl From<AttachmentMeta> for AttachmentView {
    fn from(a: AttachmentMeta) -> Self {
        AttachmentView {
            added_at: crate::reports::ms_to_rfc3339(a.created_at_ms),
            name: a.name,
            content_type: a.content_type,
            size: a.size,
            sha256: a.sha256,
        }
    }
}

/// The file name a recipient sees, checked: it goes into a MIME header's `filename`.
pub fn check_name(name: &str) -> Result<(), AttachmentError> {
    let n = name.chars().count();
    if n == 0
        || n > MAX_NAME
        || name.trim().is_empty()
        || name.chars().any(|c| {
            c.is_control()
                || c == '/'
                || c == '\\'
                // Bidirectional controls make "invoice\u{202e}fdp.exe" read as "invoiceexe.pdf".
                || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        })
    {
        return Err(AttachmentError::BadName(name.to_string()));
    }
    Ok(())
}

/// A MIME type `type/subtype` (RFC 2045 tokens), lowercased; it goes into a header.
pub fn check_type(t: &str) -> Result<String, AttachmentError> {
    let token = |s: &str| {
        !s.is_empty()
            && s.len() <= 127
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
    };
    match t.trim().split_once('/') {
        Some((a, b)) if token(a) && token(b) => Ok(t.trim().to_ascii_lowercase()),
        _ => Err(AttachmentError::BadType(t.to_string())),
    }
}

/// The content type of a file by its name's extension (the common office, image and archive
/// types); anything else is `application/octet-stream`.
pub fn type_for(name: &str) -> &'static str {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "pdf" => "application/pdf",
        "txt" => "text/plain",
        "csv" => "text/csv",
        "ics" => "text/calendar",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "svg" => "image/svg+xml",
        "zip" => "application/zip",
        "doc" => "application/msword",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xls" => "application/vnd.ms-excel",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "ppt" => "application/vnd.ms-powerpoint",
        "pptx" => "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "odt" => "application/vnd.oasis.opendocument.text",
        "ods" => "application/vnd.oasis.opendocument.spreadsheet",
        _ => "application/octet-stream",
    }
}

async fn editable<S: Store>(store: &S, id: CampaignId) -> Result<(), AttachmentError> {
    let Some(c) = store.campaign(id).await? else {
        return Err(AttachmentError::UnknownCampaign(id));
    };
    match c.status {
        herald_store::CampaignStatus::Draft | herald_store::CampaignStatus::Scheduled => Ok(()),
        other => Err(AttachmentError::NotDraft(id, other.as_str())),
    }
}

/// Attach `content` to draft `id` as `name` (replacing one of that name): `campaign attach`,
/// `PUT /api/v1/campaigns/{id}/attachments/{name}`, the campaign's page. The content type is
/// `content_type` or guessed from the name. True when it replaced one.
pub async fn attach<S: Store>(
    store: &S,
    policy: Policy,
    id: CampaignId,
    name: &str,
    content_type: Option<&str>,
    content: Vec<u8>,
    now_ms: i64,
) -> Result<(AttachmentView, bool), AttachmentError> {
    if !policy.enabled {
        return Err(AttachmentError::Off);
    }
    check_name(name)?;
    let content_type = match content_type {
        Some(t) if !t.trim().is_empty() => check_type(t)?,
        _ => type_for(name).to_string(),
    };
    if content.is_empty() {
        return Err(AttachmentError::Empty(name.to_string()));
    }
    editable(store, id).await?;
    let a = Attachment {
        meta: AttachmentMeta {
            name: name.to_string(),
            content_type,
            size: content.len() as i64,
            sha256: herald_mail::sha256_hex(&content),
            created_at_ms: now_ms,
        },
        content,
    };
    let max = i64::try_from(policy.max_bytes).unwrap_or(i64::MAX);
    match store.add_attachment(id, &a, max, now_ms).await? {
        Attached::Added => Ok((a.meta.into(), false)),
        Attached::Replaced => Ok((a.meta.into(), true)),
        // Its send started between the two looks.
        Attached::NotDraft => Err(AttachmentError::NotDraft(id, "sending")),
        Attached::OverCap { total } => Err(AttachmentError::TooBig {
            name: name.to_string(),
            total,
            max: policy.max_bytes,
        }),
    }
}

/// Remove draft `id`'s attachment `name`.
pub async fn remove<S: Store>(
    store: &S,
    id: CampaignId,
    name: &str,
    now_ms: i64,
) -> Result<(), AttachmentError> {
    editable(store, id).await?;
    match store.remove_attachment(id, name, now_ms).await? {
        Some(true) => Ok(()),
        Some(false) => Err(AttachmentError::NotFound(id, name.to_string())),
        None => Err(AttachmentError::NotDraft(id, "sending")),
    }
}

/// Campaign `id`'s attachments.
pub async fn list<S: Store>(
    store: &S,
    id: CampaignId,
) -> Result<Vec<AttachmentView>, AttachmentError> {
    if store.campaign(id).await?.is_none() {
        return Err(AttachmentError::UnknownCampaign(id));
    }
    Ok(store
        .attachments(id)
        .await?
        .into_iter()
        .map(AttachmentView::from)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_types_that_reach_a_header_are_checked() {
        assert!(check_name("Programme 2027.pdf").is_ok());
        assert!(check_name("zażółć.txt").is_ok());
        for bad in [
            "",
            "  ",
            "a/b.pdf",
            "..\\x",
            "a\r\nBcc: x",
            "invoice\u{202e}fdp.exe",
            &"x".repeat(201),
        ] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
        assert_eq!(check_type("Application/PDF").unwrap(), "application/pdf");
        for bad in [
            "pdf",
            "text/",
            "/x",
            "text/plain; charset=x",
            "a b/c",
            "text/pl\nain",
        ] {
            assert!(check_type(bad).is_err(), "{bad:?}");
        }
        assert_eq!(type_for("report.PDF"), "application/pdf");
        assert_eq!(type_for("noext"), "application/octet-stream");
    }
}
