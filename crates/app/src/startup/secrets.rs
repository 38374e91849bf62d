//! The installation's secrets: the VERP, erasure and tracking keys, provider webhook secrets
//! (files at 0600 in the data directory, created on first use).

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, bail};
use herald_mail::verp::VerpKey;
use herald_mail::webhooks::{HookSecret, Provider};
use herald_store::prelude::*;

use super::*;

impl App {
    /// The key that signs VERP return paths (`<data dir>/secrets/verp.key`, 0600), created
    /// on first use. Losing it only means bounces to messages sent before are not matched.
    pub fn verp_key(&self) -> anyhow::Result<Arc<VerpKey>> {
        Ok(Arc::new(VerpKey::new(
            &self.secret_file("verp.key", "the VERP key")?,
        )))
    }

    /// The key behind erasure tokens (`<data dir>/secrets/erasure.key`, 0600), created on
    /// first use. It must never change: with another key, erased people could be imported
    /// again. So the database keeps a check value of the key it was first used with, and a
    /// key that does not match it (replaced, lost and re-created, not copied to this node) is
    /// refused, naming the file.
    pub async fn erasure_key(&self) -> anyhow::Result<Arc<herald_mail::erasure::ErasureKey>> {
        let path = self.data_dir.join("secrets").join("erasure.key");
        let kept = self.store.key_check("erasure").await?;
        if kept.is_some() && !path.exists() {
            bail!(
                "{} is missing, but this database was used with an erasure key: restore the file \
                 from a backup (or copy it from the first node's secrets/); a new key would let \
                 erased people be imported again",
                path.display()
            );
        }
        let key = herald_mail::erasure::ErasureKey::new(
            &self.secret_file("erasure.key", "the erasure key")?,
        );
        let check = key.token("herald-erasure-key-check");
        let claimed = self
            .store
            .claim_key_check("erasure", &check, self.clock.now_ms())
            .await?;
        if claimed != check {
            bail!(
                "{} is not the erasure key this database was used with: restore the original \
                 (from a backup, or the first node's secrets/)",
                path.display()
            );
        }
        Ok(Arc::new(key))
    }

    /// The 32 or more secret bytes in `<data dir>/secrets/<name>` (0600), created on first use.
    pub(crate) fn secret_file(&self, name: &str, what: &str) -> anyhow::Result<Vec<u8>> {
        use std::io::Write;
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        let dir = self.data_dir.join("secrets");
        let path = dir.join(name);
        if let Ok(bytes) = std::fs::read(&path) {
            if bytes.len() < 32 {
                bail!(
                    "{} is shorter than 32 bytes: remove it to create a new key",
                    path.display()
                );
            }
            return Ok(bytes);
        }
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))?;
        let secret = VerpKey::generate_secret()
            .with_context(|| format!("no system randomness for {what}"))?;
        let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .with_context(|| format!("creating {}", tmp.display()))?;
        f.write_all(&secret)?;
        f.sync_all()?;
        // Linked into place only if no other process made the file meanwhile; then its key
        // is the one (both processes agree on it).
        let linked = std::fs::hard_link(&tmp, &path);
        let _ = std::fs::remove_file(&tmp);
        match linked {
            Ok(()) => Ok(secret.to_vec()),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                std::fs::read(&path).with_context(|| format!("reading {}", path.display()))
            }
            Err(e) => Err(e).with_context(|| format!("creating {}", path.display())),
        }
    }

    /// The keys that sign tracking and unsubscribe links (`<data dir>/secrets/tracking.keys`,
    /// 0600), created on first use. The newest signs; older ones verify until their grace ends.
    pub fn tracking_keys(&self) -> anyhow::Result<Arc<herald_mail::tracking::Keyset>> {
        let stored = crate::tracking_keys::load_or_create(&self.data_dir.join("secrets"))?;
        let grace = self.settings.tracking.key_grace.0.as_millis() as i64;
        crate::tracking_keys::keyset(&stored, grace)
    }

    /// The providers' webhook credentials of `[hooks.*]`, read from their files.
    pub fn hook_secrets(&self) -> anyhow::Result<std::collections::HashMap<Provider, HookSecret>> {
        let h = &self.settings.hooks;
        let mut out = std::collections::HashMap::new();
        if let Some(m) = &h.mailgun {
            let key =
                read_secret(&m.signing_key_file).context("[hooks.mailgun] signing_key_file")?;
            out.insert(Provider::Mailgun, HookSecret::HmacKey(key.into_bytes()));
        }
        if let Some(p) = &h.postmark {
            let password =
                read_secret(&p.password_file).context("[hooks.postmark] password_file")?;
            out.insert(
                Provider::Postmark,
                HookSecret::Basic {
                    username: p.username.clone(),
                    password,
                },
            );
        }
        if let Some(sg) = &h.sendgrid {
            let text = std::fs::read_to_string(&sg.public_key_file).with_context(|| {
                format!(
                    "[hooks.sendgrid] public_key_file {}",
                    sg.public_key_file.display()
                )
            })?;
            let key = HookSecret::sendgrid_key(&text).map_err(|e| {
                anyhow::anyhow!(
                    "[hooks.sendgrid] public_key_file {}: {e}",
                    sg.public_key_file.display()
                )
            })?;
            out.insert(Provider::Sendgrid, key);
        }
        if let Some(b) = &h.brevo {
            let token = read_secret(&b.token_file).context("[hooks.brevo] token_file")?;
            out.insert(Provider::Brevo, HookSecret::Bearer(token));
        }
        if let Some(ses) = &h.ses {
            ses.check().map_err(|e| anyhow::anyhow!(e))?;
            let mut pinned = Vec::new();
            for f in &ses.certificate_files {
                let pem = std::fs::read(f)
                    .with_context(|| format!("[hooks.ses] certificate_files {}", f.display()))?;
                pinned.extend(
                    herald_mail::webhooks::ses::certificates_from_pem(&pem).map_err(|e| {
                        anyhow::anyhow!("[hooks.ses] certificate_files {}: {e}", f.display())
                    })?,
                );
            }
            out.insert(
                Provider::Ses,
                HookSecret::Sns {
                    topic_arns: ses.topic_arns.clone(),
                    pinned,
                },
            );
        }
        Ok(out)
    }
}

/// A secret's first line, from a file only its owner may read (a password readable by
/// others is refused rather than used).
pub(crate) fn read_secret(path: &Path) -> anyhow::Result<String> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path).with_context(|| format!("reading {}", path.display()))?;
    if meta.permissions().mode() & 0o077 != 0 {
        bail!(
            "{} must be readable by its owner only (chmod 600): it holds a password",
            path.display()
        );
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let secret = text.lines().next().unwrap_or("").trim_end_matches('\r');
    if secret.is_empty() {
        bail!(
            "{} is empty: put the password on its first line",
            path.display()
        );
    }
    Ok(secret.to_string())
}
