//! Stage `placement`: where did the seed copies land? (design §6)
//!
//! Every campaign sends a copy to each seed mailbox (addresses the sender controls at real
//! providers). This stage logs in to each seed over IMAP, looks in every folder for each
//! delivered copy by its Message-ID, and records a `placement` event: `inbox`, `junk`,
//! `other:<folder>`, or `missing` once `missing_after` has passed without a trace (held by a
//! filter, or dropped). A seed that cannot be reached records its error and is tried again on
//! the next poll; nothing else waits for it (each seed has its own time limit).

use herald_domain::Placement;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::TryStreamExt;
use herald_store::{DeliveryId, EngagementRecord, PendingPlacement, Seed, Store, StoreError};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

/// What one poll did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PollSummary {
    pub placed: usize,
    pub missing: usize,
    pub waiting: usize,
    /// (seed address, error) for seeds that could not be searched.
    pub errors: Vec<(String, String)>,
}

/// Where one copy was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub placement: Placement,
    pub folder: String,
}

/// A mailbox's role from its name and RFC 6154 special-use attributes. Everything that is not
/// the Inbox or a junk folder (Trash included) is `other:<name>`.
pub fn classify_folder(name: &str, junk_attr: bool) -> Placement {
    let leaf = name
        .rsplit(['/', '.'])
        .next()
        .unwrap_or(name)
        .to_ascii_lowercase();
    if name.eq_ignore_ascii_case("INBOX") {
        Placement::Inbox
    } else if junk_attr
        || matches!(
            leaf.as_str(),
            "junk" | "spam" | "bulk" | "bulk mail" | "junk e-mail" | "junk email" | "spamverdacht"
        )
    {
        Placement::Junk
    } else {
        Placement::Other(name.to_string())
    }
}

/// Log in to one seed's mailbox and list its folders, within `limit`: Ok, or what failed
/// (connecting, TLS, the login, LIST) in words.
pub async fn test_login(seed: &Seed, password: &str, limit: Duration) -> Result<(), String> {
    search_seed(seed, password, &[], limit).await.map(|_| ())
}

/// Search one seed's mailbox for `message_ids`, within `limit`.
pub async fn search_seed(
    seed: &Seed,
    password: &str,
    message_ids: &[String],
    limit: Duration,
) -> Result<HashMap<String, Found>, String> {
    match tokio::time::timeout(limit, search_seed_inner(seed, password, message_ids)).await {
        Ok(r) => r,
        Err(_) => Err(format!("no answer within {}s", limit.as_secs())),
    }
}

async fn search_seed_inner(
    seed: &Seed,
    password: &str,
    message_ids: &[String],
) -> Result<HashMap<String, Found>, String> {
    let addr = format!("{}:{}", seed.imap_host, seed.imap_port);
    let tcp = TcpStream::connect(&addr)
        .await
        .map_err(|e| format!("connecting to {addr}: {e}"))?;
    match seed.security.as_str() {
        "plain" => search_on(greeted(tcp).await?, seed, password, message_ids).await,
        "tls" => {
            let tls = tls_connect(&seed.imap_host, tcp).await?;
            search_on(greeted(tls).await?, seed, password, message_ids).await
        }
        "starttls" => {
            let mut client = greeted(tcp).await?;
            client
                .run_command_and_check_ok("STARTTLS", None)
                .await
                .map_err(|e| format!("STARTTLS: {e}"))?;
            let tls = tls_connect(&seed.imap_host, client.into_inner()).await?;
            // No greeting after STARTTLS (RFC 3501 §6.2.1).
            search_on(async_imap::Client::new(tls), seed, password, message_ids).await
        }
        other => Err(format!("unknown security {other:?}")),
    }
}

async fn greeted<T>(stream: T) -> Result<async_imap::Client<T>, String>
where
    T: AsyncRead + AsyncWrite + Unpin + std::fmt::Debug + Send,
{
    let mut client = async_imap::Client::new(stream);
    client
        .read_response()
        .await
        .map_err(|e| format!("reading the greeting: {e}"))?
        .ok_or("the server closed the connection before greeting")?;
    Ok(client)
}

async fn tls_connect(
    host: &str,
    tcp: TcpStream,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>, String> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = rustls_pki_types::ServerName::try_from(host.to_string())
        .map_err(|e| format!("{host}: {e}"))?;
    tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .map_err(|e| format!("TLS with {host}: {e}"))
}

async fn search_on<T>(
    client: async_imap::Client<T>,
    seed: &Seed,
    password: &str,
    message_ids: &[String],
) -> Result<HashMap<String, Found>, String>
where
    T: AsyncRead + AsyncWrite + Unpin + std::fmt::Debug + Send,
{
    let mut session = client
        .login(&seed.username, password)
        .await
        .map_err(|(e, _)| format!("login as {}: {e}", seed.username))?;
    // Every selectable folder, the Inbox first, Junk next, "All Mail" (a copy of everything) last.
    let mut folders: Vec<(String, bool, bool)> = {
        let names: Vec<async_imap::types::Name> = session
            .list(Some(""), Some("*"))
            .await
            .map_err(|e| format!("LIST: {e}"))?
            .try_collect()
            .await
            .map_err(|e| format!("LIST: {e}"))?;
        names
            .iter()
            .filter(|n| {
                !n.attributes()
                    .iter()
                    .any(|a| matches!(a, async_imap::types::NameAttribute::NoSelect))
            })
            .map(|n| {
                let has = |f: fn(&async_imap::types::NameAttribute<'_>) -> bool| {
                    n.attributes().iter().any(f)
                };
                (
                    n.name().to_string(),
                    has(|a| matches!(a, async_imap::types::NameAttribute::Junk)),
                    has(|a| matches!(a, async_imap::types::NameAttribute::All)),
                )
            })
            .collect()
    };
    folders.sort_by_key(|(name, junk, all)| {
        (
            *all,
            !name.eq_ignore_ascii_case("INBOX"),
            !*junk,
            name.clone(),
        )
    });
    let mut found: HashMap<String, Found> = HashMap::new();
    for (name, junk, _) in &folders {
        if found.len() == message_ids.len() {
            break;
        }
        session
            .examine(name)
            .await
            .map_err(|e| format!("EXAMINE {name}: {e}"))?;
        let wanted: Vec<&String> = message_ids
            .iter()
            .filter(|m| !found.contains_key(*m))
            .collect();
        for mid in wanted {
            let hits = session
                .search(format!("HEADER Message-ID {}", quote(mid)))
                .await
                .map_err(|e| format!("SEARCH in {name}: {e}"))?;
            if !hits.is_empty() {
                found.insert(
                    mid.clone(),
                    Found {
                        placement: classify_folder(name, *junk),
                        folder: name.clone(),
                    },
                );
            }
        }
    }
    let _ = session.logout().await;
    Ok(found)
}

/// An IMAP quoted string (RFC 3501 §4.3).
fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Where a seed's copies are looked for.
pub trait SeedSearch {
    /// The copies of `message_ids` found in `seed`'s mailbox, or why it could not be searched.
    fn search(
        &self,
        seed: &Seed,
        message_ids: &[String],
    ) -> impl std::future::Future<Output = Result<HashMap<String, Found>, String>> + Send;
}

/// The seeds' real mailboxes, over IMAP. `password` gives a seed's password (None: not
/// configured, recorded as the seed's error); `limit` bounds each seed's search.
pub struct Imap<F> {
    pub password: F,
    pub limit: Duration,
}

impl<F: Fn(&Seed) -> Option<String> + Sync> SeedSearch for Imap<F> {
    async fn search(
        &self,
        seed: &Seed,
        message_ids: &[String],
    ) -> Result<HashMap<String, Found>, String> {
        match (self.password)(seed) {
            Some(pw) => search_seed(seed, &pw, message_ids, self.limit).await,
            None => {
                Err("no password stored for this seed (herald seeds add … --password-file)".into())
            }
        }
    }
}

/// A copy the sandbox's capture server accepted: nothing is logged in to, it is where that
/// server's simulated receiver filed it — Inbox, Junk, or nowhere when it was held in a quarantine
/// ([`herald_inbound::capture::filing`]).
pub struct SandboxSeeds;

impl SeedSearch for SandboxSeeds {
    async fn search(
        &self,
        seed: &Seed,
        message_ids: &[String],
    ) -> Result<HashMap<String, Found>, String> {
        use herald_inbound::capture::{Filing, filing};
        let found = match filing(&seed.address) {
            Filing::Inbox => Found {
                placement: Placement::Inbox,
                folder: "INBOX".into(),
            },
            Filing::Junk => Found {
                placement: Placement::Junk,
                folder: "Junk".into(),
            },
            Filing::Quarantine => return Ok(HashMap::new()),
        };
        Ok(message_ids
            .iter()
            .map(|id| (id.clone(), found.clone()))
            .collect())
    }
}

/// Look for every pending seed copy once: with `search` (the seeds' mailboxes), or — for a copy
/// the sandbox's capture server took — where its simulated receiver filed it. Decided per copy,
/// so copies a real node delivered are never given a made-up placement.
pub async fn poll_once<S: Store>(
    store: &S,
    search: &impl SeedSearch,
    missing_after: Duration,
    now_ms: i64,
) -> Result<PollSummary, StoreError> {
    let pending = store.pending_placements().await?;
    let mut by_seed: Vec<(Seed, bool, Vec<PendingPlacement>)> = Vec::new();
    for p in pending {
        match by_seed
            .iter_mut()
            .find(|(s, sandboxed, _)| s.id == p.seed.id && *sandboxed == p.sandboxed)
        {
            Some((_, _, list)) => list.push(p),
            None => by_seed.push((p.seed.clone(), p.sandboxed, vec![p])),
        }
    }
    let mut summary = PollSummary::default();
    let mut records = Vec::new();
    for (seed, sandboxed, items) in by_seed {
        let ids: Vec<String> = items.iter().map(|p| p.message_id.clone()).collect();
        let result = if sandboxed {
            SandboxSeeds.search(&seed, &ids).await
        } else {
            search.search(&seed, &ids).await
        };
        match &result {
            Ok(found) => {
                for p in &items {
                    let place = match found.get(&p.message_id) {
                        Some(f) => Some((f.placement.clone(), Some(f.folder.clone()))),
                        None if now_ms - p.delivered_at_ms >= missing_after.as_millis() as i64 => {
                            Some((Placement::Missing, None))
                        }
                        None => None,
                    };
                    match place {
                        Some((placement, folder)) => {
                            if placement == Placement::Missing {
                                summary.missing += 1;
                            } else {
                                summary.placed += 1;
                            }
                            records.push(EngagementRecord {
                                delivery: DeliveryId(p.delivery.0),
                                kind: herald_domain::EventKind::Placement,
                                at_ms: now_ms,
                                detail: serde_json::json!({
                                    "placement": placement.name(), "folder": folder,
                                    "seed": seed.address, "provider": seed.provider,
                                })
                                .to_string(),
                            });
                        }
                        None => summary.waiting += 1,
                    }
                }
                store.seed_polled(seed.id, now_ms, None).await?;
            }
            Err(e) => {
                tracing::warn!(seed = %seed.address, error = %e, "seed mailbox not searched");
                summary.waiting += items.len();
                summary.errors.push((seed.address.clone(), e.clone()));
                store.seed_polled(seed.id, now_ms, Some(e)).await?;
            }
        }
    }
    store.record_engagement(&records).await?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders() {
        assert_eq!(classify_folder("INBOX", false), Placement::Inbox);
        assert_eq!(classify_folder("Junk", false), Placement::Junk);
        assert_eq!(classify_folder("[Gmail]/Spam", false), Placement::Junk);
        assert_eq!(classify_folder("Bulk Mail", false), Placement::Junk);
        assert_eq!(classify_folder("Quarantaine", true), Placement::Junk);
        assert_eq!(
            classify_folder("Promotions", false),
            Placement::Other("Promotions".into())
        );
        assert_eq!(
            classify_folder("Trash", false),
            Placement::Other("Trash".into())
        );
        assert_eq!(quote("<a\"b@c>"), "\"<a\\\"b@c>\"");
    }
}
