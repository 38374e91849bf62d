//! `herald user add|remove|list` and `herald token create|list|revoke`.

use herald_domain::{EmailAddress, Role};
use herald_http::auth::{hash_password, random_token, token_hash};
use herald_store::prelude::*;
use herald_store::{NewUser, User};
use serde::Serialize;

use crate::bad_input;
use crate::cli::{TokenCmd, UserCmd};
use crate::startup::App;

/// The user with this address, or a bad-input error that says how to create one.
async fn existing(app: &App, email: &str) -> anyhow::Result<User> {
    let key = email.trim().to_ascii_lowercase();
    app.store.user_by_email(&key).await?.ok_or_else(|| {
        bad_input(format!(
            "no user {key} (herald user add {key} --password-file …)"
        ))
    })
}

/// How many admins the installation has.
async fn admins(app: &App) -> anyhow::Result<usize> {
    Ok(app
        .store
        .users()
        .await?
        .iter()
        .filter(|u| u.role == Role::Admin)
        .count())
}

fn rfc3339(ms: i64) -> String {
    herald_engine::reports::ms_to_rfc3339(ms)
}

pub async fn user(app: App, cmd: UserCmd) -> anyhow::Result<()> {
    match cmd {
        UserCmd::Add {
            email,
            password_file,
            role,
        } => add(app, email, password_file, role).await,
        UserCmd::Remove { email } => {
            let u = existing(&app, &email).await?;
            if u.role == Role::Admin && admins(&app).await? <= 1 {
                return Err(bad_input(format!(
                    "{} is the last admin: add another admin before removing it",
                    u.email
                )));
            }
            app.store.remove_user(u.id).await?;
            eprintln!(
                "user {} removed; its sessions and API tokens no longer work",
                u.email
            );
            Ok(())
        }
        UserCmd::List { json } => {
            #[derive(Serialize)]
            struct Row {
                email: String,
                role: Role,
            }
            let rows: Vec<Row> = app
                .store
                .users()
                .await?
                .into_iter()
                .map(|u| Row {
                    email: u.email,
                    role: u.role,
                })
                .collect();
            if json {
                return crate::output::json(&rows);
            }
            for r in rows {
                println!("{}\t{}", r.email, r.role);
            }
            Ok(())
        }
    }
}

async fn add(
    app: App,
    email: String,
    password_file: std::path::PathBuf,
    role: String,
) -> anyhow::Result<()> {
    let email = EmailAddress::parse(&email)
        .map_err(|e| bad_input(format!("{email:?}: {e}")))?
        .key();
    let Some(role) = Role::parse(&role) else {
        return Err(bad_input(format!(
            "--role {role:?}: expected admin or viewer"
        )));
    };
    let text = std::fs::read_to_string(&password_file)
        .map_err(|e| bad_input(format!("{}: {e}", password_file.display())))?;
    let password = text.lines().next().unwrap_or("");
    if password.chars().count() < 10 {
        return Err(bad_input(format!(
            "{}: the password must have at least 10 characters",
            password_file.display()
        )));
    }
    // Demoting the last admin would leave nobody who can administer the installation.
    if role != Role::Admin
        && let Some(existing) = app.store.user_by_email(&email).await?
        && existing.role == Role::Admin
        && admins(&app).await? <= 1
    {
        return Err(bad_input(format!(
            "{email} is the last admin: add another admin before making it a {role}"
        )));
    }
    let hash = hash_password(password)?;
    let id = app
        .store
        .add_user(&NewUser {
            email: email.clone(),
            password_hash: hash,
            role,
            created_at_ms: app.clock.now_ms(),
        })
        .await?;
    // A new password (or role) ends every login made with the old one.
    let ended = app.store.end_sessions(id).await?;
    if ended > 0 {
        eprintln!("{ended} session(s) of {email} ended: log in again with the new password");
    }
    println!(
        "user {email} ({role}) can log in at {}/login",
        app.settings.http.public_url
    );
    Ok(())
}

pub async fn token(app: App, cmd: TokenCmd) -> anyhow::Result<()> {
    match cmd {
        TokenCmd::Create {
            user,
            name,
            expires,
            json,
        } => {
            let u = existing(&app, &user).await?;
            let now = app.clock.now_ms();
            let expires_at_ms = match &expires {
                None => None,
                Some(d) => {
                    let d = humantime::parse_duration(d).map_err(|e| {
                        bad_input(format!("--expires {d:?}: not a duration like 90d ({e})"))
                    })?;
                    Some(now.saturating_add(d.as_millis() as i64))
                }
            };
            let token = random_token()?;
            app.store
                .create_api_token(&token_hash(&token), u.id, &name, now, expires_at_ms)
                .await?;
            if json {
                crate::output::json(&serde_json::json!({
                    "token": token, "user": u.email, "name": name,
                    "expires_at": expires_at_ms.map(rfc3339),
                }))?;
            } else {
                println!("{token}");
            }
            eprintln!(
                "API token {name:?} for {} ({}){}; shown once: keep it safe",
                u.email,
                u.role,
                expires_at_ms
                    .map(|e| format!(", valid until {}", rfc3339(e)))
                    .unwrap_or_default()
            );
            Ok(())
        }
        TokenCmd::List { user, json } => {
            let key = user.map(|u| u.trim().to_ascii_lowercase());
            let now = app.clock.now_ms();
            #[derive(Serialize)]
            struct Row {
                user: String,
                name: String,
                created_at: String,
                expires_at: Option<String>,
                expired: bool,
            }
            let rows: Vec<Row> = app
                .store
                .api_tokens(key.as_deref())
                .await?
                .into_iter()
                .map(|t| Row {
                    user: t.user,
                    name: t.name,
                    created_at: rfc3339(t.created_at_ms),
                    expires_at: t.expires_at_ms.map(rfc3339),
                    expired: t.expires_at_ms.is_some_and(|e| e <= now),
                })
                .collect();
            if json {
                return crate::output::json(&rows);
            }
            for r in rows {
                println!(
                    "{}\t{}\tcreated {}\t{}",
                    r.user,
                    r.name,
                    r.created_at,
                    match (&r.expires_at, r.expired) {
                        (None, _) => "never expires".to_string(),
                        (Some(e), true) => format!("expired {e}"),
                        (Some(e), false) => format!("expires {e}"),
                    }
                );
            }
            Ok(())
        }
        TokenCmd::Revoke { user, name } => {
            let u = existing(&app, &user).await?;
            let n = app.store.revoke_api_tokens(u.id, &name).await?;
            if n == 0 {
                return Err(bad_input(format!(
                    "{} has no API token named {name:?} (herald token list --user {})",
                    u.email, u.email
                )));
            }
            eprintln!("{n} API token(s) {name:?} of {} revoked", u.email);
            Ok(())
        }
    }
}
