//! The SMTP server side: a listener on smtp-proto's request parser, with limits, driving a
//! [`Handler`] that decides each recipient and each message.
//!
//! Used by the sandbox capture server ([`capture`]), by test peers, and (with its own issue)
//! by the return-path / feedback listener (with STARTTLS when given a certificate). No maintained tokio SMTP server crate exists, so
//! the session loop is written here (see `../shared/stack.md`).

pub mod capture;
pub mod server;
pub mod tls;

pub use capture::Capture;
pub use server::{Handler, Limits, ServerReply, serve, session};
