//! Users and API tokens as the CLI (`herald user`, `herald token`), the UI (`/users`) and the
//! API (`/api/v1/tokens`) manage them: one set of rules (the last admin is kept, a password has
//! 10 characters or more, a token is shown once and stored as its hash).

use std::time::Duration;

use herald_domain::{EmailAddress, Role};
use herald_store::{NewUser, Store, StoreError, User};
use schemars::JsonSchema;
use serde::Serialize;

use crate::auth::{AuthError, hash_password, random_token, token_hash};

/// Shortest password.
pub const MIN_PASSWORD: usize = 10;
/// Longest token name, in characters.
pub const MAX_TOKEN_NAME: usize = 100;
/// Longest token lifetime (ten years): past it, no expiry at all is the honest setting.
pub const MAX_LIFETIME: Duration = Duration::from_secs(10 * 366 * 24 * 3600);

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("{0}")]
    BadInput(String),
    #[error("{0}")]
    NotFound(String),
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A user as listed.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct UserView {
    pub email: String,
    /// `admin` or `viewer`.
    pub role: String,
}

/// An API token as listed (never its secret).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TokenView {
    pub user: String,
    pub name: String,
    pub created_at: String,
    /// `null`: never expires.
    pub expires_at: Option<String>,
    pub expired: bool,
}

/// A token just made: the secret, shown this once (`token create --json`).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct NewToken {
    pub token: String,
    pub user: String,
    pub name: String,
    pub expires_at: Option<String>,
}

/// The tokens list (`GET /api/v1/tokens`).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TokenList {
    pub tokens: Vec<TokenView>,
    /// Pass as `?after=` for the next page; null on the last one.
    pub next: Option<String>,
}

fn rfc3339(ms: i64) -> String {
    herald_engine::reports::ms_to_rfc3339(ms)
}

/// The user with this address.
pub async fn existing<S: Store>(store: &S, email: &str) -> Result<User, AccountError> {
    let key = email.trim().to_ascii_lowercase();
    store
        .user_by_email(&key)
        .await?
        .ok_or_else(|| AccountError::NotFound(format!("no user {key}")))
}

async fn admins<S: Store>(store: &S) -> Result<usize, AccountError> {
    Ok(store
        .users()
        .await?
        .iter()
        .filter(|u| u.role == Role::Admin)
        .count())
}

pub async fn users<S: Store>(store: &S) -> Result<Vec<UserView>, AccountError> {
    Ok(store
        .users()
        .await?
        .into_iter()
        .map(|u| UserView {
            email: u.email,
            role: u.role.to_string(),
        })
        .collect())
}

/// Add a user, or give an existing one this password and role (its sessions end). The number
/// of sessions ended.
pub async fn add_user<S: Store>(
    store: &S,
    email: &str,
    password: &str,
    role: Role,
    now_ms: i64,
) -> Result<(String, u64), AccountError> {
    let email = EmailAddress::parse(email.trim())
        .map_err(|e| AccountError::BadInput(format!("{email:?}: {e}")))?
        .key();
    if password.chars().count() < MIN_PASSWORD {
        return Err(AccountError::BadInput(format!(
            "the password must have at least {MIN_PASSWORD} characters"
        )));
    }
    // Demoting the last admin would leave nobody who can administer the installation.
    if role != Role::Admin
        && let Some(existing) = store.user_by_email(&email).await?
        && existing.role == Role::Admin
        && admins(store).await? <= 1
    {
        return Err(AccountError::BadInput(format!(
            "{email} is the last admin: add another admin before making it a {role}"
        )));
    }
    let id = store
        .add_user(&NewUser {
            email: email.clone(),
            password_hash: hash_password(password)?,
            role,
            created_at_ms: now_ms,
        })
        .await?;
    // A new password (or role) ends every login made with the old one.
    let ended = store.end_sessions(id).await?;
    Ok((email, ended))
}

/// Remove a user with its sessions and tokens (never the last admin).
pub async fn remove_user<S: Store>(store: &S, email: &str) -> Result<String, AccountError> {
    let u = existing(store, email).await?;
    if u.role == Role::Admin && admins(store).await? <= 1 {
        return Err(AccountError::BadInput(format!(
            "{} is the last admin: add another admin before removing it",
            u.email
        )));
    }
    store.remove_user(u.id).await?;
    Ok(u.email)
}

/// A new API token for `user` named `name`, valid for `expires` (None: until revoked).
pub async fn create_token<S: Store>(
    store: &S,
    user: &str,
    name: &str,
    expires: Option<Duration>,
    now_ms: i64,
) -> Result<NewToken, AccountError> {
    let name = name.trim();
    if name.is_empty()
        || name.chars().count() > MAX_TOKEN_NAME
        || name.chars().any(char::is_control)
    {
        return Err(AccountError::BadInput(format!(
            "a token's name is 1–{MAX_TOKEN_NAME} characters, without control characters"
        )));
    }
    let u = existing(store, user).await?;
    let expires_at_ms = expires.map(|d| now_ms.saturating_add(d.as_millis() as i64));
    if expires.is_some_and(|d| d > MAX_LIFETIME) {
        return Err(AccountError::BadInput(
            "a token's lifetime is at most 10 years (none: until revoked)".into(),
        ));
    }
    let token = random_token()?;
    store
        .create_api_token(&token_hash(&token), u.id, name, now_ms, expires_at_ms)
        .await?;
    Ok(NewToken {
        token,
        user: u.email,
        name: name.to_string(),
        expires_at: expires_at_ms.map(rfc3339),
    })
}

/// API tokens (all, or one user's), newest last per user; never their secrets.
pub async fn tokens<S: Store>(
    store: &S,
    user: Option<&str>,
    now_ms: i64,
) -> Result<Vec<TokenView>, AccountError> {
    let key = user.map(|u| u.trim().to_ascii_lowercase());
    Ok(store
        .api_tokens(key.as_deref())
        .await?
        .into_iter()
        .map(|t| TokenView {
            user: t.user,
            name: t.name,
            created_at: rfc3339(t.created_at_ms),
            expires_at: t.expires_at_ms.map(rfc3339),
            expired: t.expires_at_ms.is_some_and(|e| e <= now_ms),
        })
        .collect())
}

/// Revoke `user`'s tokens named `name`: how many there were (NotFound when none).
pub async fn revoke_token<S: Store>(
    store: &S,
    user: &str,
    name: &str,
) -> Result<u64, AccountError> {
    let u = existing(store, user).await?;
    // Names are kept trimmed (as `create_token` stores them).
    let name = name.trim();
    let n = store.revoke_api_tokens(u.id, name).await?;
    if n == 0 {
        return Err(AccountError::NotFound(format!(
            "{} has no API token named {name:?}",
            u.email
        )));
    }
    Ok(n)
}

/// `90d`, `12h` …: a token's lifetime as typed.
pub fn lifetime(text: &str) -> Result<Option<Duration>, AccountError> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    humantime::parse_duration(t).map(Some).map_err(|e| {
        AccountError::BadInput(format!("expires {t:?}: not a duration like 90d ({e})"))
    })
}
