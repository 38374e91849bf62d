//! `herald user add` and `herald token create`.

use herald_domain::EmailAddress;
use herald_http::auth::{hash_password, random_token, token_hash};
use herald_store::{NewUser, Store};

use crate::bad_input;
use crate::cli::{TokenCmd, UserCmd};
use crate::startup::App;

pub async fn user(app: App, cmd: UserCmd) -> anyhow::Result<()> {
    let UserCmd::Add {
        email,
        password_file,
        role,
    } = cmd;
    let email = EmailAddress::parse(&email)
        .map_err(|e| bad_input(format!("{email:?}: {e}")))?
        .key();
    if !matches!(role.as_str(), "admin" | "viewer") {
        return Err(bad_input(format!(
            "--role {role:?}: expected admin or viewer"
        )));
    }
    let text = std::fs::read_to_string(&password_file)
        .map_err(|e| bad_input(format!("{}: {e}", password_file.display())))?;
    let password = text.lines().next().unwrap_or("");
    if password.chars().count() < 10 {
        return Err(bad_input(format!(
            "{}: the password must have at least 10 characters",
            password_file.display()
        )));
    }
    let hash = hash_password(password)?;
    app.store
        .add_user(&NewUser {
            email: email.clone(),
            password_hash: hash,
            role: role.clone(),
            created_at_ms: herald_engine::now_ms(),
        })
        .await?;
    println!(
        "user {email} ({role}) can log in at {}/login",
        app.settings.http.public_url
    );
    Ok(())
}

pub async fn token(app: App, cmd: TokenCmd) -> anyhow::Result<()> {
    let TokenCmd::Create { user, name } = cmd;
    let key = user.trim().to_ascii_lowercase();
    let Some(u) = app.store.user_by_email(&key).await? else {
        return Err(bad_input(format!(
            "no user {key} (herald user add {key} --password-file …)"
        )));
    };
    let token = random_token()?;
    app.store
        .create_api_token(&token_hash(&token), u.id, &name, herald_engine::now_ms())
        .await?;
    println!("{token}");
    eprintln!(
        "API token {name:?} for {key} ({}); shown once: keep it safe",
        u.role
    );
    Ok(())
}
