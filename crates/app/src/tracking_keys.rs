//! The tracking keys file: `<data dir>/secrets/tracking.keys` (JSON, 0600).
//!
//! The newest key signs; each older key records when it was retired and verifies links for
//! `[tracking] key_grace` after that, so rotating never breaks links already in inboxes.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, bail};
use herald_mail::tracking::{Keyset, TrackingKey};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredKey {
    pub id: u8,
    /// Hex.
    pub secret: String,
    pub created_at_ms: i64,
    pub retired_at_ms: Option<i64>,
}

const FILE: &str = "tracking.keys";

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

fn fresh(id: u8) -> anyhow::Result<StoredKey> {
    let secret = herald_mail::verp::VerpKey::generate_secret()
        .context("no system randomness for a tracking key")?;
    Ok(StoredKey {
        id,
        secret: hex(&secret),
        created_at_ms: herald_engine::Clock::system().now_ms(),
        retired_at_ms: None,
    })
}

fn write(dir: &Path, keys: &[StoredKey]) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    let tmp = dir.join(format!(".{FILE}.tmp"));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .with_context(|| format!("creating {}", tmp.display()))?;
    f.write_all(serde_json::to_string_pretty(keys)?.as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, dir.join(FILE))?;
    Ok(())
}

/// The stored keys, newest first; a first key is created when there is none.
pub fn load_or_create(dir: &Path) -> anyhow::Result<Vec<StoredKey>> {
    let path = dir.join(FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let mut keys: Vec<StoredKey> = serde_json::from_str(&text)
                .with_context(|| format!("{}: not a tracking key list", path.display()))?;
            keys.sort_by(|a, b| b.created_at_ms.cmp(&a.created_at_ms).then(b.id.cmp(&a.id)));
            if keys.is_empty() {
                bail!(
                    "{}: no keys; remove the file to create a new one",
                    path.display()
                );
            }
            Ok(keys)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let keys = vec![fresh(1)?];
            write(dir, &keys)?;
            Ok(keys)
        }
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// The key set for signing and verifying; `grace_ms` after retirement, a key stops verifying.
pub fn keyset(keys: &[StoredKey], grace_ms: i64) -> anyhow::Result<Arc<Keyset>> {
    let mut out = Vec::with_capacity(keys.len());
    for k in keys {
        let secret = unhex(&k.secret)
            .filter(|s| s.len() >= 32)
            .with_context(|| {
                format!("tracking key {}: the secret is not 32+ bytes of hex", k.id)
            })?;
        out.push(TrackingKey::new(
            k.id,
            &secret,
            k.retired_at_ms.map(|r| r.saturating_add(grace_ms)),
        ));
    }
    Ok(Arc::new(Keyset::new(out)?))
}

/// Create a new signing key; the current one is retired now. Returns (new id, retired id).
pub fn rotate(dir: &Path) -> anyhow::Result<(u8, u8)> {
    let mut keys = load_or_create(dir)?;
    let now = herald_engine::Clock::system().now_ms();
    let old = keys[0].id;
    for k in keys.iter_mut().filter(|k| k.retired_at_ms.is_none()) {
        k.retired_at_ms = Some(now);
    }
    let id = (1..=u8::MAX)
        .find(|id| !keys.iter().any(|k| k.id == *id))
        .context("255 tracking keys exist: remove retired ones from the keys file")?;
    keys.insert(0, fresh(id)?);
    write(dir, &keys)?;
    Ok((id, old))
}
