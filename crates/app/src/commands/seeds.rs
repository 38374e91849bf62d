//! `herald seeds add|list|remove` and `herald placement ID`.

use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::Context;
use herald_domain::EmailAddress;
use herald_engine::placement::{Imap, PollSummary, poll_once};
use herald_engine::reports::ms_to_rfc3339;
use herald_store::prelude::*;
use herald_store::{NewSeed, Seed};
use serde::Serialize;

use super::campaign_id;
use crate::bad_input;
use crate::cli::SeedsCmd;
use crate::output;
use crate::startup::App;

fn password_path(data_dir: &Path, seed_id: i64) -> PathBuf {
    data_dir
        .join("secrets")
        .join("seeds")
        .join(format!("{seed_id}.password"))
}

/// The stored password of a seed, if any.
pub fn seed_password(data_dir: &Path, seed: &Seed) -> Option<String> {
    std::fs::read_to_string(password_path(data_dir, seed.id))
        .ok()
        .map(|s| s.trim_end_matches(['\r', '\n']).to_string())
}

pub async fn run(app: App, cmd: SeedsCmd) -> anyhow::Result<()> {
    match cmd {
        SeedsCmd::Add {
            provider,
            imap,
            user,
            password_file,
            address,
            tls: _,
            starttls,
            plain,
        } => {
            add(
                &app,
                provider,
                imap,
                user,
                password_file,
                address,
                starttls,
                plain,
            )
            .await
        }
        SeedsCmd::List { json } => {
            let rows: Vec<herald_engine::api_types::SeedView> = app
                .store
                .seeds()
                .await?
                .into_iter()
                .map(Into::into)
                .collect();
            if json {
                return output::json(&rows);
            }
            if rows.is_empty() {
                println!("no seed mailboxes (herald seeds add …)");
            }
            for r in rows {
                println!(
                    "{}  {}  {} ({})  last poll {}{}",
                    r.address,
                    r.provider,
                    r.imap,
                    r.security,
                    r.last_poll_at.as_deref().unwrap_or("never"),
                    r.last_error
                        .map(|e| format!("  ERROR: {e}"))
                        .unwrap_or_default()
                );
            }
            Ok(())
        }
        SeedsCmd::Remove { address } => {
            let key = EmailAddress::parse(&address)
                .map_err(|e| bad_input(format!("{address:?}: {e}")))?
                .key();
            if app.store.remove_seed(&key).await? {
                println!("seed {key} removed; new campaigns no longer send it a copy");
                Ok(())
            } else {
                Err(bad_input(format!("{key} is not a seed")))
            }
        }
    }
}

/// Poll the seeds (bounded per seed) and report where each copy of the campaign landed.
pub async fn placement(app: App, id: &str, json: bool) -> anyhow::Result<()> {
    let id = campaign_id(id)?;
    if app.store.campaign(id).await?.is_none() {
        return Err(bad_input(format!("unknown campaign {id}")));
    }
    let summary = poll(
        &app.store,
        &app.data_dir,
        &app.settings.placement,
        app.clock.now_ms(),
    )
    .await?;
    let rows = app.store.placements(id).await?;
    #[derive(Serialize)]
    struct SeedRow {
        seed: String,
        provider: String,
        state: String,
        placement: String,
        folder: Option<String>,
        at: Option<String>,
        error: Option<String>,
    }
    let seeds: Vec<SeedRow> = rows
        .into_iter()
        .map(|p| SeedRow {
            placement: p.placement.as_ref().map(|p| p.name()).unwrap_or_else(|| {
                if matches!(
                    p.state,
                    herald_domain::DeliveryState::Delivered | herald_domain::DeliveryState::Relayed
                ) {
                    "pending".into()
                } else {
                    format!("not delivered ({})", p.state)
                }
            }),
            seed: p.seed.address,
            provider: p.seed.provider,
            state: p.state.to_string(),
            folder: p.folder,
            at: p.at_ms.map(ms_to_rfc3339),
            error: p.seed.last_error,
        })
        .collect();
    let mut providers: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for s in &seeds {
        let bucket = s.placement.split(':').next().unwrap_or("").to_string();
        *providers
            .entry(s.provider.clone())
            .or_default()
            .entry(bucket)
            .or_default() += 1;
    }
    if json {
        return output::json(&serde_json::json!({
            "campaign": id.to_string(),
            "seeds": seeds,
            "providers": providers,
            "poll": {"placed": summary.placed, "missing": summary.missing, "waiting": summary.waiting,
                     "errors": summary.errors.iter().map(|(s, e)| serde_json::json!({"seed": s, "error": e})).collect::<Vec<_>>()},
        }));
    }
    if seeds.is_empty() {
        println!(
            "campaign {id} has no seed copies (add seeds before creating a campaign: herald seeds add …)"
        );
    }
    for (provider, counts) in &providers {
        let parts: Vec<String> = counts.iter().map(|(k, n)| format!("{k} {n}")).collect();
        println!("{provider}: {}", parts.join(" · "));
    }
    for s in &seeds {
        println!(
            "  {}  {}{}{}",
            s.seed,
            s.placement,
            s.folder
                .as_deref()
                .map(|f| format!(" (folder {f})"))
                .unwrap_or_default(),
            s.error
                .as_deref()
                .map(|e| format!("  last error: {e}"))
                .unwrap_or_default()
        );
    }
    Ok(())
}

/// Search the seed mailboxes once over IMAP (a copy the sandbox took: where its simulated
/// receiver filed it).
pub async fn poll(
    store: &herald_store::AnyStore,
    data_dir: &Path,
    p: &crate::settings::Placement,
    now_ms: i64,
) -> Result<PollSummary, herald_store::StoreError> {
    let imap = Imap {
        password: |s: &Seed| seed_password(data_dir, s),
        limit: p.poll_timeout.0,
    };
    poll_once(store, &imap, p.missing_after.0, now_ms).await
}

/// Search the seed mailboxes every `[placement] poll_interval` until the sender is dropped.
pub fn spawn_poller(app: &App) -> tokio::sync::oneshot::Sender<()> {
    let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
    let store = app.store.clone();
    let data_dir = app.data_dir.clone();
    let mut p = app.settings.placement.clone();
    let live = app.live.clone();
    let clock = app.clock.clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = &mut stopped => return,
                _ = tokio::time::sleep(p.poll_interval.0) => {}
            }
            // `missing_after` as in force now (the Settings page can change it).
            if let Some(live) = &live {
                p.missing_after = crate::settings::Dur(live.get().missing_after);
            }
            match poll(&store, &data_dir, &p, clock.now_ms()).await {
                Ok(s) if s.placed + s.missing > 0 => {
                    tracing::info!(
                        placed = s.placed,
                        missing = s.missing,
                        "seed placements recorded"
                    )
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "seed polling failed"),
            }
        }
    });
    stop
}

/// How long a login test may take: well under `[http] request_timeout` (60 s), so a server
/// that never answers is reported as such, not as a timed-out request.
fn login_limit(app: &App) -> std::time::Duration {
    app.settings
        .placement
        .poll_timeout
        .0
        .min(std::time::Duration::from_secs(15))
}

/// Keep a seed (or update the one with the same address): its password in a file of its own
/// (0600, never in the database, never shown again). With `test_first`, the login is tried
/// first and a failure keeps nothing. The seed's address.
pub async fn add_seed(
    app: &App,
    input: herald_http::SeedRequest,
    test_first: bool,
) -> anyhow::Result<String> {
    let imap = input.imap.trim();
    let (host, port) = imap
        .rsplit_once(':')
        .and_then(|(h, p)| {
            Some((
                h.trim_matches(['[', ']']).to_string(),
                p.parse::<u16>().ok()?,
            ))
        })
        .filter(|(h, _)| !h.is_empty())
        .ok_or_else(|| bad_input(format!("IMAP server {imap:?}: expected HOST:PORT")))?;
    let user = input.user.trim().to_string();
    let address = EmailAddress::parse(input.address.as_deref().unwrap_or(&user).trim())
        .map_err(|e| {
            bad_input(format!(
                "seed address: {e} (give the address when the login is not one)"
            ))
        })?
        .key();
    let password = input.password.lines().next().unwrap_or("").to_string();
    if password.is_empty() {
        return Err(bad_input("the password must not be empty"));
    }
    let provider = input.provider.trim().to_string();
    if provider.is_empty()
        || provider.chars().count() > 100
        || provider.chars().any(char::is_control)
    {
        return Err(bad_input("the provider is 1–100 characters, e.g. gmail"));
    }
    if !matches!(input.security.as_str(), "tls" | "starttls" | "plain") {
        return Err(bad_input(format!(
            "security {:?}: tls, starttls or plain",
            input.security
        )));
    }
    let seed = NewSeed {
        provider,
        address: address.clone(),
        imap_host: host,
        imap_port: port,
        username: user,
        security: input.security,
        created_at_ms: app.clock.now_ms(),
    };
    if test_first {
        let probe = Seed {
            id: 0,
            provider: seed.provider.clone(),
            address: seed.address.clone(),
            imap_host: seed.imap_host.clone(),
            imap_port: seed.imap_port,
            username: seed.username.clone(),
            security: seed.security.clone(),
            enabled: true,
            last_poll_at_ms: None,
            last_error: None,
        };
        herald_engine::placement::test_login(&probe, &password, login_limit(app))
            .await
            .map_err(|e| bad_input(format!("the seed was not added: {e}")))?;
    }
    let id = app.store.add_seed(&seed).await?;
    let path = password_path(&app.data_dir, id);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&path)
        .with_context(|| format!("writing {}", path.display()))?;
    f.write_all(password.as_bytes())?;
    f.sync_all()?;
    Ok(address)
}

/// Log in to the seed `address` now with its stored password: Ok, or what failed.
pub async fn test_seed(app: &App, address: &str) -> anyhow::Result<Result<(), String>> {
    let key = EmailAddress::parse(address.trim())
        .map_err(|e| bad_input(format!("{address:?}: {e}")))?
        .key();
    let seeds = app.store.seeds().await?;
    let seed = seeds
        .iter()
        .find(|s| s.address == key)
        .ok_or_else(|| crate::NotFound(format!("{key} is not a seed")))?;
    let Some(password) = seed_password(&app.data_dir, seed) else {
        return Ok(Err(
            "its password file is missing: add the seed again".into()
        ));
    };
    Ok(herald_engine::placement::test_login(seed, &password, login_limit(app)).await)
}

/// `seeds add` (the login is tried by the first poll, so a seed can be added before its
/// server is up; the web UI tries it first).
#[allow(clippy::too_many_arguments)]
async fn add(
    app: &App,
    provider: String,
    imap: String,
    user: String,
    password_file: std::path::PathBuf,
    address: Option<String>,
    starttls: bool,
    plain: bool,
) -> anyhow::Result<()> {
    let password = std::fs::read_to_string(&password_file)
        .map_err(|e| bad_input(format!("{}: {e}", password_file.display())))?;
    if password.lines().next().unwrap_or("").is_empty() {
        return Err(bad_input(format!(
            "{}: the first line is empty",
            password_file.display()
        )));
    }
    let security = if plain {
        "plain"
    } else if starttls {
        "starttls"
    } else {
        "tls"
    };
    let address = add_seed(
        app,
        herald_http::SeedRequest {
            provider: provider.clone(),
            imap,
            user,
            password,
            address,
            security: security.into(),
        },
        false,
    )
    .await?;
    println!("seed {address} ({provider}) added; every new campaign sends it a copy");
    Ok(())
}
