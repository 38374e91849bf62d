//! Pure email mechanics, sans-IO: message building, templates, SMTP reply reading and the
//! first bounce classifier. Nothing here touches a socket, a file or a clock.

pub mod classify;
pub mod dkim;
pub mod message;
pub mod reply;
pub mod template;

pub use classify::{Classification, classify_reply};
pub use message::{MessageError, OutgoingMessage, build_message, smtp_data};
pub use reply::remote_queue_id;
pub use template::{CampaignTemplates, Rendered, TemplateError};
