//! Stage `domains`: connected sending domains and their DKIM keys (design §5).
//!
//! Keys live on disk under the keyring directory, one folder per domain, files 0600 in a 0700
//! folder, never logged. A domain is connected once its `selector` file exists: it is written
//! last, after the keys, so an interrupted `domain add` leaves nothing half-connected.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use herald_domain::address::normalise_domain;
use herald_mail::dkim::{self, KeyPair, Signer};
use serde::Serialize;

pub mod gate;
pub mod ips;
pub mod verify;

#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    #[error("{0:?} is not a valid domain name")]
    BadDomain(String),
    #[error("selector {0:?}: use letters, digits and '-' (at most 40)")]
    BadSelector(String),
    #[error("{0} is already connected (selector {1})")]
    AlreadyConnected(String, String),
    #[error("{path}: {what}")]
    Io { path: PathBuf, what: String },
    #[error("{0}: key file must be readable by its owner only (chmod 600)")]
    Permissions(PathBuf),
    #[error(transparent)]
    Dkim(#[from] dkim::DkimError),
}

fn io(path: &Path, e: std::io::Error) -> DomainError {
    DomainError::Io {
        path: path.to_path_buf(),
        what: e.to_string(),
    }
}

/// A DNS record to publish.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DnsRecord {
    pub kind: &'static str,
    #[serde(rename = "type")]
    pub rtype: &'static str,
    pub name: String,
    pub value: String,
    /// The value split into ≤255-byte strings, as TXT records need.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub strings: Vec<String>,
}

/// Where the records point: this installation's identity.
pub struct RecordContext<'a> {
    pub source_ips: &'a [std::net::IpAddr],
    pub helo_name: &'a str,
    pub tracking_host: &'a str,
}

#[derive(Debug, Clone, Serialize)]
pub struct ConnectedDomain {
    pub domain: String,
    pub selector: String,
    pub records: Vec<DnsRecord>,
}

pub struct Keyring {
    dir: PathBuf,
}

impl Keyring {
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    fn domain_dir(&self, domain: &str) -> PathBuf {
        self.dir.join(domain)
    }

    /// Connect a domain: generate its keys and return the records to publish.
    pub fn add(
        &self,
        domain: &str,
        selector: Option<&str>,
        ctx: &RecordContext<'_>,
    ) -> Result<ConnectedDomain, DomainError> {
        let domain =
            normalise_domain(domain).map_err(|_| DomainError::BadDomain(domain.to_string()))?;
        let selector = match selector {
            Some(s) => s.to_string(),
            None => format!(
                "hd{}",
                time::OffsetDateTime::now_utc()
                    .date()
                    .to_string()
                    .replace('-', "")
            ),
        };
        if selector.is_empty()
            || selector.len() > 40
            || !selector
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(DomainError::BadSelector(selector));
        }
        if let Some((existing, _)) = self.load(&domain)? {
            return Err(DomainError::AlreadyConnected(domain, existing));
        }
        let keys = dkim::generate()?;
        let dir = self.domain_dir(&domain);
        std::fs::create_dir_all(&dir).map_err(|e| io(&dir, e))?;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| io(&dir, e))?;
        write_private(&dir.join(format!("{selector}.rsa.pk8")), &keys.rsa_pkcs8)?;
        write_private(
            &dir.join(format!("{selector}.ed25519.pk8")),
            &keys.ed25519_pkcs8,
        )?;
        write_private(&dir.join("selector"), selector.as_bytes())?;
        let records = records(&domain, &selector, &keys, ctx)?;
        Ok(ConnectedDomain {
            domain,
            selector,
            records,
        })
    }

    /// The selector and keys of a connected domain.
    pub fn load(&self, domain: &str) -> Result<Option<(String, KeyPair)>, DomainError> {
        let dir = self.domain_dir(domain);
        let sel_path = dir.join("selector");
        let selector = match std::fs::read_to_string(&sel_path) {
            Ok(s) => s.trim().to_string(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(&sel_path, e)),
        };
        let read = |name: String| -> Result<Vec<u8>, DomainError> {
            let p = dir.join(name);
            let meta = std::fs::metadata(&p).map_err(|e| io(&p, e))?;
            if meta.permissions().mode() & 0o077 != 0 {
                return Err(DomainError::Permissions(p));
            }
            std::fs::read(&p).map_err(|e| io(&p, e))
        };
        let keys = KeyPair {
            rsa_pkcs8: read(format!("{selector}.rsa.pk8"))?,
            ed25519_pkcs8: read(format!("{selector}.ed25519.pk8"))?,
        };
        Ok(Some((selector, keys)))
    }

    /// The connected domain that signs mail From `from_domain`, with its selector and keys: the
    /// domain itself or its closest connected parent (a subdomain is aligned with its parent
    /// under relaxed DMARC alignment).
    pub fn connected_for(
        &self,
        from_domain: &str,
    ) -> Result<Option<(String, String, KeyPair)>, DomainError> {
        let mut candidate = from_domain.to_ascii_lowercase();
        loop {
            if let Some((selector, keys)) = self.load(&candidate)? {
                return Ok(Some((candidate, selector, keys)));
            }
            match candidate.split_once('.') {
                Some((_, parent)) if parent.contains('.') => candidate = parent.to_string(),
                _ => return Ok(None),
            }
        }
    }

    /// The signer for mail From `from_domain` (see [`Keyring::connected_for`]).
    pub fn signer_for(&self, from_domain: &str) -> Result<Option<(String, Signer)>, DomainError> {
        match self.connected_for(from_domain)? {
            Some((domain, selector, keys)) => {
                let signer = Signer::new(&domain, &selector, &keys)?;
                Ok(Some((domain, signer)))
            }
            None => Ok(None),
        }
    }
}

/// Write a secret atomically (temp file, 0600 from creation, fsync, rename).
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), DomainError> {
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(|e| io(&tmp, e))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(|e| io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| io(path, e))
}

/// The records to publish for a connected domain.
pub fn records(
    domain: &str,
    selector: &str,
    keys: &KeyPair,
    ctx: &RecordContext<'_>,
) -> Result<Vec<DnsRecord>, DomainError> {
    let (rsa, ed) = dkim::public_records(keys)?;
    let (rsa_sel, ed_sel) = dkim::selectors(selector);
    let txt = |kind, name: String, value: String| DnsRecord {
        kind,
        rtype: "TXT",
        strings: dkim::txt_strings(&value),
        name,
        value,
    };
    let spf_sources = if ctx.source_ips.is_empty() {
        format!("a:{}", ctx.helo_name)
    } else {
        ctx.source_ips
            .iter()
            .map(|ip| {
                if ip.is_ipv4() {
                    format!("ip4:{ip}")
                } else {
                    format!("ip6:{ip}")
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    Ok(vec![
        txt("dkim", format!("{rsa_sel}._domainkey.{domain}"), rsa),
        txt("dkim", format!("{ed_sel}._domainkey.{domain}"), ed),
        txt(
            "spf",
            domain.to_string(),
            format!("v=spf1 {spf_sources} ~all"),
        ),
        txt(
            "dmarc",
            format!("_dmarc.{domain}"),
            format!("v=DMARC1; p=none; rua=mailto:dmarc@bounces.{domain}"),
        ),
        DnsRecord {
            kind: "return_path",
            rtype: "MX",
            name: format!("bounces.{domain}"),
            value: format!("10 {}.", ctx.helo_name),
            strings: Vec::new(),
        },
        DnsRecord {
            kind: "tracking",
            rtype: "CNAME",
            name: format!("track.{domain}"),
            value: format!("{}.", ctx.tracking_host),
            strings: Vec::new(),
        },
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> RecordContext<'static> {
        RecordContext {
            source_ips: &[],
            helo_name: "mail.herald.test",
            tracking_host: "herald.test",
        }
    }

    #[test]
    fn add_writes_private_keys_and_signs_for_subdomains() {
        let dir = tempfile::tempdir().unwrap();
        let k = Keyring::new(dir.path().join("dkim"));
        let c = k.add("Sender.TEST", Some("s1"), &ctx()).unwrap();
        assert_eq!(
            (c.domain.as_str(), c.selector.as_str()),
            ("sender.test", "s1")
        );
        let kinds: Vec<_> = c
            .records
            .iter()
            .map(|r| (r.kind, r.name.as_str()))
            .collect();
        assert_eq!(
            kinds,
            vec![
                ("dkim", "s1._domainkey.sender.test"),
                ("dkim", "s1-ed25519._domainkey.sender.test"),
                ("spf", "sender.test"),
                ("dmarc", "_dmarc.sender.test"),
                ("return_path", "bounces.sender.test"),
                ("tracking", "track.sender.test"),
            ]
        );
        let key = dir.path().join("dkim/sender.test/s1.rsa.pk8");
        assert_eq!(
            std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert!(matches!(
            k.add("sender.test", None, &ctx()),
            Err(DomainError::AlreadyConnected(..))
        ));
        assert_eq!(
            k.signer_for("news.sender.test")
                .unwrap()
                .map(|(d, _)| d)
                .as_deref(),
            Some("sender.test")
        );
        assert!(k.signer_for("other.test").unwrap().is_none());

        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            k.signer_for("sender.test"),
            Err(DomainError::Permissions(_))
        ));
        assert!(matches!(
            k.add("bad_domain!", None, &ctx()),
            Err(DomainError::BadDomain(_))
        ));
        assert!(matches!(
            k.add("x.test", Some("a b"), &ctx()),
            Err(DomainError::BadSelector(_))
        ));
    }
}
