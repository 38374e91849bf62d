//! `herald init`: data directory, settings file, database, and the first admin login.

use std::path::Path;

use anyhow::Context;
use herald_domain::EmailAddress;
use herald_http::auth::{hash_password, random_token};
use herald_store::NewUser;
use herald_store::prelude::*;

use crate::settings::TEMPLATE;
use crate::startup::App;
use crate::{bad_input, output};

pub async fn run(
    data_dir: &Path,
    config: Option<&Path>,
    admin: &str,
    json: bool,
) -> anyhow::Result<()> {
    let admin = EmailAddress::parse(admin)
        .map_err(|e| bad_input(format!("--admin {admin:?}: {e}")))?
        .key();
    crate::startup::create_private_dir(data_dir)?;
    let file = config
        .map(Path::to_path_buf)
        .unwrap_or_else(|| data_dir.join("herald.toml"));
    if !file.exists() {
        std::fs::write(&file, TEMPLATE).with_context(|| format!("writing {}", file.display()))?;
        crate::startup::set_private(&file, 0o600)?;
        eprintln!("wrote {}", file.display());
    }
    let app = App::open(data_dir, config).await?;
    eprintln!(
        "database ready: {}",
        herald_store::redact_url(&app.settings.database.url)
    );
    let login_url = format!("{}/login", app.settings.http.public_url);
    // The first admin, on a new installation only: init run again never adds or resets one.
    let created = if app.store.users().await?.is_empty() {
        let password = random_token()?;
        app.store
            .add_user(&NewUser {
                email: admin.clone(),
                password_hash: hash_password(&password)?,
                role: herald_domain::Role::Admin,
                created_at_ms: app.clock.now_ms(),
            })
            .await?;
        Some(password)
    } else {
        None
    };
    if json {
        return output::json(&serde_json::json!({
            "data_dir": data_dir.display().to_string(),
            "url": login_url,
            "admin": created.as_ref().map(|p| serde_json::json!({"email": admin, "password": p})),
        }));
    }
    match created {
        Some(password) => {
            println!("admin login: {admin}");
            println!("password:    {password}");
            println!("log in at:   {login_url}");
            println!(
                "first run:   {}/start walks you through it (domain, records, seeds, contacts, a test, the send)",
                app.settings.http.public_url
            );
            eprintln!(
                "the password is shown once; set your own with `herald user add {admin} --password-file FILE`"
            );
        }
        None => eprintln!("users exist already: no admin was created (herald user list)"),
    }
    Ok(())
}
