//! `herald user add|remove|list` and `herald token create|list|revoke` (the rules:
//! `herald_http::accounts`, shared with the UI and the API).

use herald_domain::Role;
use herald_http::accounts::{self, AccountError};

use crate::bad_input;
use crate::cli::{TokenCmd, UserCmd};
use crate::startup::App;

/// An account error as the CLI reports it: the user's to fix (exit 2) or a failure (exit 1).
fn cli_error(e: AccountError) -> anyhow::Error {
    match e {
        AccountError::BadInput(m) => bad_input(m),
        AccountError::NotFound(m) if m.starts_with("no user ") => {
            let who = m.trim_start_matches("no user ").to_string();
            bad_input(format!("{m} (herald user add {who} --password-file …)"))
        }
        AccountError::NotFound(m) => bad_input(m),
        other => anyhow::Error::new(other),
    }
}

pub async fn user(app: App, cmd: UserCmd) -> anyhow::Result<()> {
    match cmd {
        UserCmd::Add {
            email,
            password_file,
            role,
        } => add(app, email, password_file, role).await,
        UserCmd::Remove { email } => {
            let email = accounts::remove_user(&app.store, &email)
                .await
                .map_err(cli_error)?;
            eprintln!("user {email} removed; its sessions and API tokens no longer work");
            Ok(())
        }
        UserCmd::List { json } => {
            let rows = accounts::users(&app.store).await.map_err(cli_error)?;
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
    let Some(role) = Role::parse(&role) else {
        return Err(bad_input(format!(
            "--role {role:?}: expected admin or viewer"
        )));
    };
    let text = std::fs::read_to_string(&password_file)
        .map_err(|e| bad_input(format!("{}: {e}", password_file.display())))?;
    let password = text.lines().next().unwrap_or("");
    let (email, ended) = accounts::add_user(&app.store, &email, password, role, app.clock.now_ms())
        .await
        .map_err(|e| match e {
            AccountError::BadInput(m) if m.starts_with("the password") => {
                bad_input(format!("{}: {m}", password_file.display()))
            }
            e => cli_error(e),
        })?;
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
            let lifetime = accounts::lifetime(expires.as_deref().unwrap_or(""))
                .map_err(|e| bad_input(format!("--{e}")))?;
            let t = accounts::create_token(&app.store, &user, &name, lifetime, app.clock.now_ms())
                .await
                .map_err(cli_error)?;
            if json {
                crate::output::json(&t)?;
            } else {
                println!("{}", t.token);
            }
            eprintln!(
                "API token {:?} for {}{}; shown once: keep it safe",
                t.name,
                t.user,
                t.expires_at
                    .as_ref()
                    .map(|e| format!(", valid until {e}"))
                    .unwrap_or_default()
            );
            Ok(())
        }
        TokenCmd::List { user, json } => {
            let rows = accounts::tokens(&app.store, user.as_deref(), app.clock.now_ms())
                .await
                .map_err(cli_error)?;
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
            let n = accounts::revoke_token(&app.store, &user, &name)
                .await
                .map_err(|e| match e {
                    AccountError::NotFound(m) if m.contains("no API token") => {
                        bad_input(format!("{m} (herald token list --user {user})"))
                    }
                    e => cli_error(e),
                })?;
            eprintln!("{n} API token(s) {name:?} of {user} revoked");
            Ok(())
        }
    }
}
