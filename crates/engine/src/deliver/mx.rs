//! MX resolution (RFC 5321 §5.1): MX records in preference order (equal preferences shuffled),
//! the domain's own A/AAAA as an implicit MX when it has no MX, and RFC 7505 null MX.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use hickory_resolver::config::{
    ConnectionConfig, NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts,
};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::{RData, RecordType};
use hickory_resolver::{Resolver, TokioResolver};

/// One host to try, with its addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MxHost {
    pub name: String,
    /// None for an implicit MX (the domain's own address).
    pub preference: Option<u16>,
    pub addrs: Vec<IpAddr>,
}

/// What DNS says about where a domain's mail goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MxAnswer {
    /// Hosts in the order to try them; some may have no address (tried and skipped).
    Hosts(Vec<MxHost>),
    /// The domain does not exist, or has neither MX nor address: a permanent failure.
    NoSuchDomain(String),
    /// RFC 7505: the domain accepts no mail.
    NullMx,
    /// The lookup failed (timeout, SERVFAIL): try again later.
    TempFail(String),
}

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Resolves a recipient domain to MX hosts. Tests use a static table.
pub trait MxResolver: Send + Sync + 'static {
    fn resolve<'a>(&'a self, domain: &'a str) -> BoxFuture<'a, MxAnswer>;
}

/// A hickory resolver on the configured nameservers (`IP:PORT`; empty = the system's).
pub fn build_resolver(
    nameservers: &[SocketAddr],
    timeout: Duration,
) -> Result<TokioResolver, String> {
    let mut opts = ResolverOpts::default();
    opts.timeout = timeout;
    opts.attempts = 2;
    let builder = if nameservers.is_empty() {
        Resolver::builder_tokio()
            .map_err(|e| format!("reading the system resolver configuration: {e}"))?
    } else {
        // Configured nameservers are the only source of truth: /etc/hosts would answer, e.g.,
        // the reverse of a loopback address with the machine's own name.
        opts.use_hosts_file = ResolveHosts::Never;
        let servers = nameservers
            .iter()
            .map(|sa| {
                let mut udp = ConnectionConfig::udp();
                udp.port = sa.port();
                let mut tcp = ConnectionConfig::tcp();
                tcp.port = sa.port();
                let mut ns = NameServerConfig::udp_and_tcp(sa.ip());
                ns.connections = vec![udp, tcp];
                ns
            })
            .collect();
        Resolver::builder_with_config(
            ResolverConfig::from_name_servers(servers),
            TokioRuntimeProvider::default(),
        )
    };
    builder
        .with_options(opts)
        .build()
        .map_err(|e| format!("building the DNS resolver: {e}"))
}

/// The real resolver (hickory), caching answers by their TTL.
pub struct DnsMx {
    resolver: TokioResolver,
}

impl DnsMx {
    /// `nameservers` empty: the system's resolver configuration.
    pub fn new(nameservers: &[SocketAddr], timeout: Duration) -> Result<Self, String> {
        Ok(Self {
            resolver: build_resolver(nameservers, timeout)?,
        })
    }

    async fn addrs(&self, host: &str) -> Result<Vec<IpAddr>, String> {
        match self.resolver.lookup_ip(host).await {
            Ok(l) => Ok(l.iter().collect()),
            Err(e) if e.is_nx_domain() || e.is_no_records_found() => Ok(Vec::new()),
            Err(e) => Err(e.to_string()),
        }
    }

    async fn resolve_inner(&self, domain: &str) -> MxAnswer {
        let fqdn = format!("{}.", domain.trim_end_matches('.'));
        let mut mx: Vec<(u16, String)> =
            match self.resolver.lookup(fqdn.as_str(), RecordType::MX).await {
                Ok(l) => l
                    .answers()
                    .iter()
                    .filter_map(|r| match &r.data {
                        RData::MX(m) => Some((m.preference, m.exchange.to_utf8())),
                        _ => None,
                    })
                    .collect(),
                Err(e) if e.is_nx_domain() => {
                    return MxAnswer::NoSuchDomain(format!("{domain}: NXDOMAIN"));
                }
                Err(e) if e.is_no_records_found() => Vec::new(),
                Err(e) => return MxAnswer::TempFail(format!("MX lookup for {domain} failed: {e}")),
            };
        if mx.len() == 1 && (mx[0].1 == "." || mx[0].1.is_empty()) {
            return MxAnswer::NullMx;
        }
        if mx.is_empty() {
            // Implicit MX: the domain's own address (RFC 5321 §5.1).
            return match self.addrs(&fqdn).await {
                Ok(a) if a.is_empty() => {
                    MxAnswer::NoSuchDomain(format!("{domain} has no MX and no A/AAAA record"))
                }
                Ok(addrs) => MxAnswer::Hosts(vec![MxHost {
                    name: domain.to_string(),
                    preference: None,
                    addrs,
                }]),
                Err(e) => MxAnswer::TempFail(format!("address lookup for {domain} failed: {e}")),
            };
        }
        order_by_preference(&mut mx);
        let mut hosts = Vec::with_capacity(mx.len());
        let mut last_err = None;
        for (pref, name) in mx {
            match self.addrs(&name).await {
                Ok(addrs) => hosts.push(MxHost {
                    name: name.trim_end_matches('.').to_string(),
                    preference: Some(pref),
                    addrs,
                }),
                Err(e) => last_err = Some(e),
            }
        }
        if hosts.iter().all(|h| h.addrs.is_empty())
            && let Some(e) = last_err
        {
            return MxAnswer::TempFail(format!(
                "address lookup of {domain}'s MX hosts failed: {e}"
            ));
        }
        MxAnswer::Hosts(hosts)
    }
}

/// Sort by preference; shuffle hosts of equal preference so load spreads (RFC 5321 §5.1).
fn order_by_preference(mx: &mut [(u16, String)]) {
    use std::hash::BuildHasher;
    // RandomState is seeded randomly: a fresh random order among equals on every call.
    let random = std::collections::hash_map::RandomState::new();
    mx.sort_by_cached_key(|(p, name)| (*p, random.hash_one(name)));
}

impl MxResolver for DnsMx {
    fn resolve<'a>(&'a self, domain: &'a str) -> BoxFuture<'a, MxAnswer> {
        Box::pin(self.resolve_inner(domain))
    }
}

/// A fixed answer for every domain: the sandbox capture server, a relay, or a test peer.
pub struct FixedRoute {
    pub host: MxHost,
}

impl MxResolver for FixedRoute {
    fn resolve<'a>(&'a self, _domain: &'a str) -> BoxFuture<'a, MxAnswer> {
        Box::pin(std::future::ready(MxAnswer::Hosts(vec![self.host.clone()])))
    }
}

/// A table of answers per domain, for tests; unknown domains do not exist.
#[derive(Default)]
pub struct StaticMx {
    pub table: std::collections::HashMap<String, MxAnswer>,
}

impl MxResolver for StaticMx {
    fn resolve<'a>(&'a self, domain: &'a str) -> BoxFuture<'a, MxAnswer> {
        let a = self
            .table
            .get(domain)
            .cloned()
            .unwrap_or_else(|| MxAnswer::NoSuchDomain(domain.to_string()));
        Box::pin(std::future::ready(a))
    }
}

pub type SharedResolver = Arc<dyn MxResolver>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preference_order_is_kept() {
        let mut mx = vec![
            (20, "b.example".to_string()),
            (10, "a.example".to_string()),
            (30, "c.example".into()),
        ];
        order_by_preference(&mut mx);
        assert_eq!(mx.iter().map(|m| m.0).collect::<Vec<_>>(), vec![10, 20, 30]);
    }
}
