//! `campaign attach ID FILE` and `campaign detach ID NAME`: a draft's attachments (off unless
//! `[attachments] enabled = true`; their total is capped by `[attachments] max_bytes`).

use std::path::Path;

use herald_engine::campaign::attachments::{self, AttachmentError, AttachmentView};
use herald_store::CampaignId;

use crate::commands::campaign_id;
use crate::output;
use crate::startup::App;

/// An attachment refusal as the CLI's and the API's errors: what is refused now (off, not a
/// draft, over the cap) is a conflict; a bad name or type is bad input.
fn attachment_error(e: AttachmentError) -> anyhow::Error {
    match e {
        AttachmentError::Store(s) => anyhow::Error::new(s).context("changing the attachments"),
        AttachmentError::UnknownCampaign(_) | AttachmentError::NotFound(..) => {
            crate::not_found(e.to_string())
        }
        AttachmentError::Off | AttachmentError::NotDraft(..) | AttachmentError::TooBig { .. } => {
            crate::conflict(e.to_string())
        }
        other => crate::bad_input(other.to_string()),
    }
}

/// `campaign attach`.
pub(super) async fn attach_cmd(
    app: &App,
    id: &str,
    file: &Path,
    name: Option<String>,
    content_type: Option<String>,
    json: bool,
) -> anyhow::Result<()> {
    let id = campaign_id(id)?;
    let policy = app.settings.attachments.policy();
    // Refused before the file is read.
    if !policy.enabled {
        return Err(attachment_error(AttachmentError::Off));
    }
    let name = match name {
        Some(n) => n,
        None => file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| crate::bad_input(format!("{}: not a file", file.display())))?,
    };
    // Read at most one byte past the cap: a device or a pipe has no size to look at first.
    let mut content = Vec::new();
    {
        use std::io::Read;
        std::fs::File::open(file)
            .and_then(|f| f.take(policy.max_bytes + 1).read_to_end(&mut content))
            .map_err(|e| crate::bad_input(format!("{}: {e}", file.display())))?;
    }
    if content.len() as u64 > policy.max_bytes {
        return Err(attachment_error(AttachmentError::TooBig {
            name,
            total: content.len() as i64,
            max: policy.max_bytes,
        }));
    }
    let (view, replaced) = attachments::attach(
        &app.store,
        policy,
        id,
        &name,
        content_type.as_deref(),
        content,
        app.clock.now_ms(),
    )
    .await
    .map_err(attachment_error)?;
    if json {
        return output::json(&view);
    }
    println!(
        "{} {:?} ({}, {} bytes) to campaign {id}",
        if replaced { "replaced" } else { "attached" },
        view.name,
        view.content_type,
        view.size
    );
    eprintln!(
        "note: bulk mail with attachments is filtered more often; `herald campaign check {id}` says so too"
    );
    Ok(())
}

/// `campaign detach`.
pub(super) async fn detach_cmd(app: &App, id: &str, name: &str) -> anyhow::Result<()> {
    let id = campaign_id(id)?;
    attachments::remove(&app.store, id, name, app.clock.now_ms())
        .await
        .map_err(attachment_error)?;
    println!("removed {name:?} from campaign {id}");
    Ok(())
}

/// Campaign `id`'s attachments (`campaign show`, the API).
pub async fn attachment_list(app: &App, id: CampaignId) -> anyhow::Result<Vec<AttachmentView>> {
    attachments::list(&app.store, id)
        .await
        .map_err(attachment_error)
}
