//! Pure email mechanics, sans-IO: message building, templates, SMTP reply reading and the
//! classification of bounces, complaints and other feedback. Nothing here touches a socket, a file or a clock.

pub mod classify;
pub mod dkim;
pub mod erasure;
pub mod feedback;
pub mod filters;
pub mod message;
pub mod mjml;
pub mod reply;
pub mod spf;
pub mod template;
pub mod tracking;
pub mod verp;
pub mod webhook_signature;
pub mod webhooks;

pub use classify::{Classification, classify_reply, classify_reply_at, classify_reply_from};
pub use feedback::{Classified, Kind, Verdict, classify_message, classify_text};
pub use message::{
    MessageAttachment, MessageError, OutgoingMessage, build_message, from_smtp_data,
    list_id_header, sha256_hex, smtp_data,
};
pub use reply::remote_queue_id;
pub use template::{CampaignTemplates, Rendered, TemplateError};
