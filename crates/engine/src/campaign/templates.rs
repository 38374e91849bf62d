//! Saved templates (issue 19): a subject, an HTML layout and a text part kept by name and
//! reused across campaigns. A layout's `{{ content }}` takes a campaign's own content (its
//! header, footer and styles stay the template's); a template without it is a whole message a
//! campaign starts from. `campaign create --template NAME` (the API's `template`, the compose
//! page's menu) combines them once, when the campaign is made: a later change to the template
//! does not change campaigns made from it.

use herald_mail::CampaignTemplates;
use herald_store::{Store, StoreError, TemplateRecord};
use schemars::JsonSchema;
use serde::Serialize;

/// Where a layout takes a campaign's content.
pub const CONTENT_SLOT: &str = "{{ content }}";

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("a template name is 1–100 characters, without control characters")]
    BadName,
    #[error("no template {0:?} (herald templates list shows them)")]
    NotFound(String),
    #[error("template {name:?}: {why}")]
    Bad { name: String, why: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A template as `templates list|show --json`, the API and the Templates page show it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TemplateView {
    pub name: String,
    pub subject: Option<String>,
    pub html: String,
    pub text: Option<String>,
    /// The HTML is a layout: its `{{ content }}` takes each campaign's own content.
    pub layout: bool,
    pub created_at: String,
    pub updated_at: String,
}

impl From<TemplateRecord> for TemplateView {
    fn from(t: TemplateRecord) -> Self {
        TemplateView {
            layout: is_layout(&t.html),
            created_at: crate::reports::ms_to_rfc3339(t.created_at_ms),
            updated_at: crate::reports::ms_to_rfc3339(t.updated_at_ms),
            name: t.name,
            subject: t.subject,
            html: t.html,
            text: t.text,
        }
    }
}

fn is_layout(html: &str) -> bool {
    html.contains(CONTENT_SLOT) || html.contains("{{content}}")
}

/// `layout` with `content` in its `{{ content }}` (unchanged without one).
pub fn fill(layout: &str, content: &str) -> String {
    layout
        .replace(CONTENT_SLOT, content)
        .replace("{{content}}", content)
}

fn check_name(name: &str) -> Result<&str, TemplateError> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > 100 || n.chars().any(char::is_control) {
        return Err(TemplateError::BadName);
    }
    Ok(n)
}

/// Save template `name` (replacing one of that name): its templates must compile, as a
/// campaign's do. The template, and whether it is new.
pub async fn save<S: Store>(
    store: &S,
    name: &str,
    subject: Option<&str>,
    html: &str,
    text: Option<&str>,
    now_ms: i64,
) -> Result<(TemplateView, bool), TemplateError> {
    let name = check_name(name)?;
    let bad = |why: String| TemplateError::Bad {
        name: name.to_string(),
        why,
    };
    if html.trim().is_empty() {
        return Err(bad("the HTML is empty".into()));
    }
    let subject = subject.map(str::trim).filter(|s| !s.is_empty());
    if subject.is_some_and(|s| s.chars().count() > 2000 || s.contains(['\r', '\n'])) {
        return Err(bad(
            "the subject is one line of at most 2000 characters".into()
        ));
    }
    // Compiled as a campaign would be, with a content stand-in in a layout's slot.
    CampaignTemplates::compile(subject.unwrap_or("-"), &fill(html, "<p></p>"), text)
        .map_err(|e| bad(e.to_string()))?;
    let created_at_ms = store
        .template(name)
        .await?
        .map_or(now_ms, |t| t.created_at_ms);
    let record = TemplateRecord {
        name: name.to_string(),
        subject: subject.map(str::to_string),
        html: html.to_string(),
        text: text.map(str::to_string).filter(|t| !t.trim().is_empty()),
        created_at_ms,
        updated_at_ms: now_ms,
    };
    let new = store.save_template(&record).await?;
    Ok((record.into(), new))
}

pub async fn list<S: Store>(store: &S) -> Result<Vec<TemplateView>, TemplateError> {
    Ok(store
        .templates()
        .await?
        .into_iter()
        .map(Into::into)
        .collect())
}

pub async fn show<S: Store>(store: &S, name: &str) -> Result<TemplateView, TemplateError> {
    store
        .template(name.trim())
        .await?
        .map(Into::into)
        .ok_or_else(|| TemplateError::NotFound(name.trim().to_string()))
}

pub async fn delete<S: Store>(store: &S, name: &str) -> Result<(), TemplateError> {
    if !store.delete_template(name.trim()).await? {
        return Err(TemplateError::NotFound(name.trim().to_string()));
    }
    Ok(())
}

/// A campaign's subject, HTML and text made from template `name` and its own parts: a layout
/// takes `content` in its `{{ content }}`; the campaign's subject and text win over the
/// template's.
pub async fn apply<S: Store>(
    store: &S,
    name: &str,
    subject: Option<&str>,
    content: Option<&str>,
    text: Option<&str>,
) -> Result<(String, String, Option<String>), TemplateError> {
    let t = store
        .template(name.trim())
        .await?
        .ok_or_else(|| TemplateError::NotFound(name.trim().to_string()))?;
    let bad = |why: &str| TemplateError::Bad {
        name: t.name.clone(),
        why: why.to_string(),
    };
    let html = match (is_layout(&t.html), content) {
        (true, Some(c)) => fill(&t.html, c),
        (true, None) => {
            return Err(bad(
                "it is a layout: give the campaign's content (--html or --mjml) for its {{ content }}",
            ));
        }
        (false, Some(_)) => {
            return Err(bad(
                "it has no {{ content }} for the campaign's own content: leave out --html to send the template as it is",
            ));
        }
        (false, None) => t.html.clone(),
    };
    let subject = subject
        .map(str::to_string)
        .or(t.subject.clone())
        .ok_or_else(|| bad("it has no subject: give --subject"))?;
    let text = text.map(str::to_string).or(t.text.clone());
    Ok((subject, html, text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_layout_takes_the_content_in_its_slot() {
        assert!(is_layout("<div>{{ content }}</div>"));
        assert!(is_layout("<div>{{content}}</div>"));
        assert!(!is_layout("<div>{{ contact.name }}</div>"));
        assert_eq!(
            fill("<header/>{{ content }}<footer/>", "<p>Hi</p>"),
            "<header/><p>Hi</p><footer/>"
        );
    }

    #[test]
    fn names_are_checked() {
        assert!(check_name(" Monthly ").is_ok_and(|n| n == "Monthly"));
        assert!(check_name("").is_err());
        assert!(check_name("a\nb").is_err());
        assert!(check_name(&"x".repeat(101)).is_err());
    }
}
