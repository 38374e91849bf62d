//! Stage `domains`: connected sending domains and their DKIM keys (design §5).
//!
//! Keys live on disk under the keyring directory, one folder per domain, files 0600 in a 0700
//! folder, never logged. A domain is connected once its `selector` file exists: it is written
//! last, after the keys, so an interrupted `domain add` leaves nothing half-connected.
//!
//! Rotation (`domain rotate`): the new selector's keys are written, then a `pending` file names
//! it. Signing goes on with the active selector until the new DKIM records are found in DNS
//! (`domain verify`, or the periodic re-verification in `serve`), then `selector` is replaced
//! atomically and the old selector is kept in `previous` (its records may be removed once
//! messages signed with it are no longer verified, a week later).

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use herald_domain::address::normalise_domain;
use herald_mail::dkim::{self, KeyPair, Signer};
use herald_mail::spf::{self, SpfError};
use serde::Serialize;

pub mod drift;
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
    #[error("{0} is not connected (herald domain add {0})")]
    NotConnected(String),
    #[error("selector {0} is already in use for this domain")]
    SelectorInUse(String),
    #[error(transparent)]
    Dkim(#[from] dkim::DkimError),
    #[error("{0}")]
    Spf(#[from] SpfError),
}

fn io(path: &Path, e: std::io::Error) -> DomainError {
    DomainError::Io {
        path: path.to_path_buf(),
        what: e.to_string(),
    }
}

/// A DNS record to publish.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema, PartialEq, Eq)]
pub struct DnsRecord {
    pub kind: &'static str,
    #[serde(rename = "type")]
    pub rtype: &'static str,
    pub name: String,
    pub value: String,
    /// The value split into ≤255-byte strings, as TXT records need.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub strings: Vec<String>,
    /// An existing record this one replaces (publish it instead, never beside it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replaces: Option<String>,
}

/// Where the records point: this installation's identity.
#[derive(Debug, Clone, Default)]
pub struct RecordContext {
    pub source_ips: Vec<std::net::IpAddr>,
    pub helo_name: String,
    pub tracking_host: String,
    /// TXT records already published at the SPF name (the return-path domain): Herald's terms
    /// are merged into an SPF record found there.
    pub existing_spf: Vec<String>,
}

/// The envelope-sender (return-path) domain of mail signed by `domain`: bounces come back
/// there (VERP), and SPF is checked there (RFC 7208 §2.4), aligned with `domain` under
/// relaxed DMARC alignment.
pub fn return_path_domain(domain: &str) -> String {
    format!("bounces.{domain}")
}

/// The envelope sender's domain of a campaign (where its bounces come back): the configured
/// `[inbound] return_path_domain`, else `bounces.<the connected domain that signs it>`, else
/// none (bounces go to the From address and are not collected).
pub fn return_path_for(configured: Option<&str>, signing_domain: Option<&str>) -> Option<String> {
    configured
        .map(str::to_string)
        .or_else(|| signing_domain.map(return_path_domain))
}

/// Herald's SPF terms: the sending IPs, or the EHLO host's addresses when none are listed.
pub fn spf_terms(ctx: &RecordContext) -> Vec<String> {
    if ctx.source_ips.is_empty() {
        vec![format!("a:{}", ctx.helo_name)]
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
            .collect()
    }
}

/// The result of `domain rotate`.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Rotation {
    pub domain: String,
    /// The selector that signs until the new one is found in DNS.
    pub active: String,
    pub next: String,
    /// The new selector's DKIM records to publish (beside the active ones).
    pub records: Vec<DnsRecord>,
    /// Signing already switched (`--now`).
    pub switched: bool,
}

/// The result of `domain add`: the records to publish.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
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

    /// The folder of `domain`'s keys. Only a normalised host name gets one: anything else
    /// (`../../etc`, a URL-decoded path from a request) is refused here, whatever the caller
    /// checked, so no name can reach outside the key folder.
    fn domain_dir(&self, domain: &str) -> Result<PathBuf, DomainError> {
        match normalise_domain(domain) {
            Ok(d) if d == domain => Ok(self.dir.join(d)),
            _ => Err(DomainError::BadDomain(domain.to_string())),
        }
    }

    /// Connect a domain: generate its keys and return the records to publish.
    pub fn add(
        &self,
        domain: &str,
        selector: Option<&str>,
        ctx: &RecordContext,
    ) -> Result<ConnectedDomain, DomainError> {
        let domain =
            normalise_domain(domain).map_err(|_| DomainError::BadDomain(domain.to_string()))?;
        let selector =
            check_selector(selector.map_or_else(|| default_selector(&[]), str::to_string))?;
        if let Some((existing, _)) = self.load(&domain)? {
            return Err(DomainError::AlreadyConnected(domain, existing));
        }
        let keys = dkim::generate()?;
        // Everything that can fail on input (an existing SPF record that does not parse) fails
        // before anything is written.
        let records = records(&domain, &selector, &keys, ctx)?;
        let dir = self.create_domain_dir(&domain)?;
        self.write_keys(&dir, &selector, &keys)?;
        write_private(&dir.join("selector"), selector.as_bytes())?;
        Ok(ConnectedDomain {
            domain,
            selector,
            records,
        })
    }

    fn create_domain_dir(&self, domain: &str) -> Result<PathBuf, DomainError> {
        let dir = self.domain_dir(domain)?;
        std::fs::create_dir_all(&dir).map_err(|e| io(&dir, e))?;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| io(&dir, e))?;
        Ok(dir)
    }

    fn write_keys(&self, dir: &Path, selector: &str, keys: &KeyPair) -> Result<(), DomainError> {
        write_private(&dir.join(format!("{selector}.rsa.pk8")), &keys.rsa_pkcs8)?;
        write_private(
            &dir.join(format!("{selector}.ed25519.pk8")),
            &keys.ed25519_pkcs8,
        )
    }

    /// Whether `domain` is connected (one file check; no keys read).
    pub fn is_connected(&self, domain: &str) -> bool {
        self.domain_dir(domain)
            .is_ok_and(|d| d.join("selector").is_file())
    }

    /// Every connected domain, by name.
    pub fn domains(&self) -> Result<Vec<String>, DomainError> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io(&self.dir, e)),
        };
        let mut out: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter(|e| e.path().join("selector").is_file())
            .filter_map(|e| e.file_name().to_str().map(str::to_string))
            .collect();
        out.sort();
        Ok(out)
    }

    /// Start a key rotation: new keys under a new selector, signing with the active one until
    /// the new records are published (see the module doc). `now` switches at once (a leaked
    /// key): signatures fail until the new records are in DNS.
    pub fn rotate(
        &self,
        domain: &str,
        selector: Option<&str>,
        now: bool,
        ctx: &RecordContext,
    ) -> Result<Rotation, DomainError> {
        let domain = domain.to_ascii_lowercase();
        let Some((active, _)) = self.load(&domain)? else {
            return Err(DomainError::NotConnected(domain));
        };
        let pending = self.pending(&domain)?.map(|(s, _)| s);
        let taken: Vec<&str> = [Some(active.as_str()), pending.as_deref()]
            .into_iter()
            .flatten()
            .collect();
        let next =
            check_selector(selector.map_or_else(|| default_selector(&taken), str::to_string))?;
        if taken.contains(&next.as_str()) {
            return Err(DomainError::SelectorInUse(next));
        }
        let keys = dkim::generate()?;
        let dir = self.domain_dir(&domain)?;
        self.write_keys(&dir, &next, &keys)?;
        write_private(&dir.join("pending"), next.as_bytes())?;
        let all = records(&domain, &next, &keys, ctx)?;
        let records = all.into_iter().filter(|r| r.kind == "dkim").collect();
        let switched = if now {
            self.promote(&domain)?;
            true
        } else {
            false
        };
        Ok(Rotation {
            domain,
            active,
            next,
            records,
            switched,
        })
    }

    /// The selector and keys waiting to take over (a rotation in progress).
    pub fn pending(&self, domain: &str) -> Result<Option<(String, KeyPair)>, DomainError> {
        self.load_named(domain, "pending")
    }

    /// Finish a rotation: the pending selector signs from now on; the active one becomes
    /// `previous`. Returns the selector that was replaced, if a rotation was pending.
    pub fn promote(&self, domain: &str) -> Result<Option<String>, DomainError> {
        let Some((next, _)) = self.pending(domain)? else {
            return Ok(None);
        };
        let dir = self.domain_dir(domain)?;
        let old = self.load(domain)?.map(|(s, _)| s);
        if let Some(old) = &old {
            write_private(&dir.join("previous"), old.as_bytes())?;
        }
        write_private(&dir.join("selector"), next.as_bytes())?;
        let p = dir.join("pending");
        std::fs::remove_file(&p).map_err(|e| io(&p, e))?;
        Ok(old)
    }

    /// The selector and keys of a connected domain.
    pub fn load(&self, domain: &str) -> Result<Option<(String, KeyPair)>, DomainError> {
        self.load_named(domain, "selector")
    }

    /// The keys of the selector named in the file `which` (`selector` or `pending`).
    fn load_named(
        &self,
        domain: &str,
        which: &str,
    ) -> Result<Option<(String, KeyPair)>, DomainError> {
        let Ok(dir) = self.domain_dir(domain) else {
            return Ok(None); // not a domain name: certainly not connected
        };
        let sel_path = dir.join(which);
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

/// `hd<yyyymmdd>`, with `-2`, `-3`… when that is taken (a second rotation the same day). Only a
/// name (uniqueness comes from `taken`), so it is dated by the system's clock, not the engine's.
fn default_selector(taken: &[&str]) -> String {
    let base = format!(
        "hd{}",
        time::OffsetDateTime::now_utc()
            .date()
            .to_string()
            .replace('-', "")
    );
    let mut candidate = base.clone();
    let mut n = 2;
    while taken.contains(&candidate.as_str()) {
        candidate = format!("{base}-{n}");
        n += 1;
    }
    candidate
}

fn check_selector(selector: String) -> Result<String, DomainError> {
    if selector.is_empty()
        || selector.len() > 40
        || !selector
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return Err(DomainError::BadSelector(selector));
    }
    Ok(selector)
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
    ctx: &RecordContext,
) -> Result<Vec<DnsRecord>, DomainError> {
    let (rsa, ed) = dkim::public_records(keys)?;
    let (rsa_sel, ed_sel) = dkim::selectors(selector);
    let txt = |kind, name: String, value: String| DnsRecord {
        kind,
        rtype: "TXT",
        strings: dkim::txt_strings(&value),
        name,
        value,
        replaces: None,
    };
    let return_path = return_path_domain(domain);
    // SPF is checked at the envelope sender's domain, which is the return path (VERP), not
    // the From domain: that is where the record must be, merged into any record found there.
    let spf = spf::merge(&ctx.existing_spf, &spf_terms(ctx))?;
    Ok(vec![
        txt("dkim", format!("{rsa_sel}._domainkey.{domain}"), rsa),
        txt("dkim", format!("{ed_sel}._domainkey.{domain}"), ed),
        DnsRecord {
            replaces: spf.replaces,
            ..txt("spf", return_path.clone(), spf.record)
        },
        txt(
            "dmarc",
            format!("_dmarc.{domain}"),
            format!("v=DMARC1; p=none; rua=mailto:dmarc@{return_path}"),
        ),
        DnsRecord {
            kind: "return_path",
            rtype: "MX",
            name: return_path.clone(),
            value: format!("10 {}.", ctx.helo_name),
            strings: Vec::new(),
            replaces: None,
        },
        DnsRecord {
            kind: "tracking",
            rtype: "CNAME",
            name: format!("track.{domain}"),
            value: format!("{}.", ctx.tracking_host),
            strings: Vec::new(),
            replaces: None,
        },
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_return_path_rule() {
        assert_eq!(
            return_path_for(Some("bounces.example.net"), Some("sender.test")).as_deref(),
            Some("bounces.example.net"),
            "the configured domain wins"
        );
        assert_eq!(
            return_path_for(None, Some("sender.test")).as_deref(),
            Some("bounces.sender.test")
        );
        assert_eq!(return_path_for(None, None), None);
    }

    fn ctx() -> RecordContext {
        RecordContext {
            helo_name: "mail.herald.test".into(),
            tracking_host: "herald.test".into(),
            ..Default::default()
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
        assert!(k.is_connected("sender.test"));
        assert!(!k.is_connected("other.test") && !k.is_connected("../dkim"));
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
                ("spf", "bounces.sender.test"),
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
        // A broken SPF record where ours must go: refused, and nothing is written.
        let broken = RecordContext {
            existing_spf: vec!["v=spf1 ip4:300.1.1.1 -all".into()],
            ..ctx()
        };
        assert!(matches!(
            k.add("spf.test", None, &broken),
            Err(DomainError::Spf(_))
        ));
        assert!(!dir.path().join("dkim/spf.test").exists());
        assert_eq!(k.domains().unwrap(), vec!["sender.test".to_string()]);
    }

    #[test]
    fn rotation_signs_with_the_old_key_until_promoted() {
        let dir = tempfile::tempdir().unwrap();
        let k = Keyring::new(dir.path().join("dkim"));
        k.add("r.test", Some("s1"), &ctx()).unwrap();
        let r = k.rotate("r.test", Some("s2"), false, &ctx()).unwrap();
        assert_eq!((r.active.as_str(), r.next.as_str()), ("s1", "s2"));
        assert_eq!(
            r.records
                .iter()
                .map(|r| r.name.as_str())
                .collect::<Vec<_>>(),
            vec!["s2._domainkey.r.test", "s2-ed25519._domainkey.r.test"]
        );
        assert_eq!(k.load("r.test").unwrap().unwrap().0, "s1");
        assert!(matches!(
            k.rotate("r.test", Some("s1"), false, &ctx()),
            Err(DomainError::SelectorInUse(_))
        ));
        assert_eq!(k.promote("r.test").unwrap().as_deref(), Some("s1"));
        assert_eq!(k.load("r.test").unwrap().unwrap().0, "s2");
        assert!(k.pending("r.test").unwrap().is_none());
        assert_eq!(k.promote("r.test").unwrap(), None);
        // --now: switched at once; a default selector never reuses a taken one.
        let r = k.rotate("r.test", None, true, &ctx()).unwrap();
        assert!(r.switched);
        assert_eq!(k.load("r.test").unwrap().unwrap().0, r.next);
        assert!(matches!(
            k.rotate("nope.test", None, false, &ctx()),
            Err(DomainError::NotConnected(_))
        ));
    }
}
