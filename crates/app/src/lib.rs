//! Herald's application: the composition root (`startup`), the settings, and one module per
//! command (`commands`), used by the `herald` binary and by in-process tests
//! (`herald_testkit::app::spawn_app`).

pub mod cli;
pub mod commands;
mod output;
pub mod settings;
pub mod startup;
mod tracking_keys;
mod web;

/// An error caused by the user's input (exit status 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BadInput(pub String);

pub fn bad_input(msg: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(BadInput(msg.into()))
}

/// What the user named does not exist (exit status 2; HTTP 404).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct NotFound(pub String);

pub fn not_found(msg: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(NotFound(msg.into()))
}

/// The request is fine but the installation's state refuses it (exit status 2; HTTP 409).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Conflict(pub String);

pub fn conflict(msg: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(Conflict(msg.into()))
}

/// Whether the user can fix `e` by changing what they asked (exit status 2).
pub fn users_to_fix(e: &anyhow::Error) -> bool {
    e.downcast_ref::<BadInput>().is_some()
        || e.downcast_ref::<NotFound>().is_some()
        || e.downcast_ref::<Conflict>().is_some()
}
