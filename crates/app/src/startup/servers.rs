//! The long-running parts `serve` starts: the queue and its transport, the HTTP and inbound
//! listeners, the sandbox capture server, drift checks and the webhook sender.

use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;

use anyhow::{Context, bail};
use herald_domain::RetrySchedule;
use herald_engine::deliver::mx::build_resolver;
use herald_engine::deliver::smtp::{SessionConfig, SourceIps, Timeouts};
use herald_engine::deliver::{
    Credentials, DeliverConfig, DnsMx, FixedRoute, MxHost, Pace, Rate, SharedResolver, TlsMode, tls,
};
use herald_engine::domains::drift::{self, Holds};
use herald_engine::feedback::engagement::{Cidr, Rules};
use herald_engine::feedback::{FeedbackPolicy, ReturnPath, process_spool};
use herald_engine::queue::{Queue, QueueConfig, TrackingSetup};
use herald_http::public::{IpPolicy, Public};
use herald_inbound::Limits;
use herald_mail::webhooks::Provider;
use herald_store::AnyStore;
use tokio::sync::oneshot;

use super::*;

impl App {
    /// Re-verify the connected domains now, then every `[domains] reverify_every` (drift).
    /// The holds start as the last recorded checks left them and are brought up to date before
    /// this returns, so a restarted node never sends from a domain that broke meanwhile. The
    /// task stops when the returned guard is dropped.
    pub async fn spawn_drift(&self) -> anyhow::Result<(Arc<Holds>, AbortOnDrop)> {
        let holds = Arc::new(Holds::load(&self.store).await?);
        let resolver = build_resolver(&self.settings.dns.nameservers, self.settings.dns.timeout.0)
            .map_err(anyhow::Error::msg)?;
        let keyring = self.keyring();
        if let Err(e) = drift::check_all(
            &self.store,
            &keyring,
            &resolver,
            &self.record_context(),
            &holds,
            &self.clock,
        )
        .await
        {
            tracing::error!(error = %e, "re-verifying sending domains");
        }
        let task = tokio::spawn(drift::run(
            self.store.clone(),
            Arc::new(keyring),
            resolver,
            self.record_context(),
            holds.clone(),
            self.settings.domains.reverify_every.0,
            self.clock.clone(),
        ));
        Ok((holds, AbortOnDrop(task)))
    }

    /// The outbound webhook sender of this node (`[webhooks]`), posting as `owner`.
    pub fn spawn_webhooks(&self, owner: &str) -> anyhow::Result<AbortOnDrop> {
        let w = &self.settings.webhooks;
        let poster = herald_engine::webhooks::Poster::new(w.timeout.0, w.ca_file.as_deref())
            .context("[webhooks] ca_file")?;
        Ok(AbortOnDrop(tokio::spawn(herald_engine::webhooks::run(
            self.store.clone(),
            poster,
            owner.to_string(),
            herald_engine::webhooks::SenderSettings {
                clock: self.clock.clone(),
                ..w.sender()
            },
            std::future::pending(),
        ))))
    }

    /// The delivery queue of this node. `sandbox`: route everything to that capture server.
    pub fn queue(&self, sandbox: Option<&SandboxServer>) -> anyhow::Result<Queue<AnyStore>> {
        let d = &self.settings.delivery;
        tls::install_crypto_provider();
        let opportunistic = || -> anyhow::Result<TlsMode> {
            Ok(if d.starttls {
                TlsMode::Opportunistic(tls::opportunistic_config().context("TLS configuration")?)
            } else {
                TlsMode::Off
            })
        };
        let direct = |resolver: SharedResolver, name, port| -> anyhow::Result<Route> {
            Ok(Route {
                resolver,
                name,
                port,
                relay: false,
                provider: None,
                tls: opportunistic()?,
                auth: None,
                request_dsn: false,
                pace: None,
                max_connections: d.max_connections.max(1),
            })
        };
        let via = |transport: Transport| -> anyhow::Result<Route> {
            match transport {
                Transport::Relay => relay_route(&self.settings.relay, d.max_connections.max(1)),
                Transport::Mx => {
                    let dns =
                        DnsMx::new(&self.settings.dns.nameservers, self.settings.dns.timeout.0)
                            .map_err(anyhow::Error::msg)?;
                    direct(Arc::new(dns), "mx", d.mx_port)
                }
            }
        };
        let route = if let Some(sb) = sandbox {
            let host = MxHost {
                name: "sandbox".into(),
                preference: None,
                addrs: vec![sb.addr.ip()],
            };
            direct(Arc::new(FixedRoute { host }), "sandbox", sb.addr.port())?
        } else {
            via(d.transport)?
        };
        // `[[relay.route]]`: the deliveries its rules send the other way (none in a sandbox:
        // everything goes to the capture server).
        let rules = &self.settings.relay.route;
        let other = match sandbox {
            None if rules.iter().any(|r| r.via != d.transport) => {
                let other_transport = match d.transport {
                    Transport::Mx => Transport::Relay,
                    Transport::Relay => Transport::Mx,
                };
                Some((via(other_transport)?, other_transport))
            }
            _ => None,
        };
        let source_ips = SourceIps::new(d.source_ips.clone());
        let deliver_cfg = |route: Route| -> (DeliverConfig, SharedResolver, usize) {
            let cfg = DeliverConfig {
                session: SessionConfig {
                    helo_name: d.helo_name.clone(),
                    source_ips: source_ips.clone(),
                    timeouts: Timeouts {
                        connect: d.connect_timeout.0,
                        command: d.command_timeout.0,
                        data: d.data_timeout.0,
                    },
                    tls: route.tls,
                    auth: route.auth,
                    request_dsn: route.request_dsn,
                },
                mx_port: route.port,
                route: route.name,
                relay: route.relay,
                provider: route.provider,
                pace: route.pace,
                pace_idle: std::time::Duration::from_secs(30),
                max_reconnects: 2,
                clock: self.clock.clone(),
            };
            (cfg, route.resolver, route.max_connections)
        };
        let other_route = other.map(|(route, transport)| {
            let (cfg, resolver, max) = deliver_cfg(route);
            let rules = rules
                .iter()
                .map(|r| herald_engine::queue::routes::RouteRule {
                    from_domains: r.from_domains.clone(),
                    recipient_domains: r.recipient_domains.clone(),
                    other_route: r.via == transport,
                })
                .collect();
            herald_engine::queue::routes::OtherRoute::new(rules, cfg, resolver, max)
        });
        let (deliver, resolver, max_connections) = deliver_cfg(route);
        let cfg = QueueConfig {
            deliver,
            retry: RetrySchedule {
                intervals: d.retry_schedule.iter().map(|x| x.0).collect(),
                expiry: d.expiry.0,
            },
            lease: d.lease.0,
            node: self.node_name(),
            claim_batch: d.claim_batch.max(1),
            max_in_flight: d.max_in_flight.max(1),
            max_connections_per_domain: d.max_connections_per_domain.max(1),
            max_connections,
            max_messages_per_connection: d.max_messages_per_connection.max(1),
            poll: std::time::Duration::from_millis(500),
            warmup: d.warmup.clone(),
            limits: Arc::new(d.limits().map_err(anyhow::Error::msg)?),
        };
        // host:pid:unique — the host and pid let a restarted node tell its own dead
        // predecessor from another machine using the same name (see `register_node`).
        let owner = format!(
            "{}:{}:{}",
            hostname(),
            std::process::id(),
            uuid::Uuid::now_v7().simple()
        );
        let queue =
            Queue::new(self.store.clone(), cfg, resolver, owner).with_other_route(other_route);
        let queue = match &self.live {
            Some(live) => queue.with_runtime(live.clone()),
            None => queue,
        };
        Ok(queue
            .with_keyring(Arc::new(self.keyring()))
            .with_return_path(
                self.verp_key()?,
                self.settings.inbound.return_path_domain.clone(),
            )
            .with_tracking(TrackingSetup {
                keys: self.tracking_keys()?,
                base_url: self.settings.http.public_url.clone(),
                track: self.settings.tracking.enabled,
            }))
    }

    /// The human-or-machine rules and the IP policy from `[tracking]`.
    pub fn tracking_rules(&self) -> anyhow::Result<(Rules, IpPolicy)> {
        let t = &self.settings.tracking;
        let proxy_networks = t
            .proxy_networks
            .iter()
            .map(|n| {
                Cidr::parse(n)
                    .map_err(|e| crate::bad_input(format!("[tracking] proxy_networks: {e}")))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let rules = Rules {
            proxy_networks,
            min_click_seconds: t.min_click_delay.0.as_secs() as i64,
            min_open_seconds: t.min_open_delay.0.as_secs() as i64,
            burst_clicks: t.burst_clicks.max(1),
        };
        let ip = match t.ip.as_str() {
            "full" => IpPolicy::Full,
            "none" => IpPolicy::None,
            _ => IpPolicy::Anonymized,
        };
        Ok((rules, ip))
    }

    /// Start the HTTP server (`[http] listen`): the UI, `/api/v1`, and the public endpoints
    /// (open pixel, click redirect, unsubscribe). Returns the address, a stop sender, and the task that ends once every
    /// queued event is written (with how many were).
    pub async fn start_http(
        &self,
    ) -> anyhow::Result<(
        SocketAddr,
        oneshot::Sender<()>,
        tokio::task::JoinHandle<u64>,
    )> {
        let listener = tokio::net::TcpListener::bind(&self.settings.http.listen)
            .await
            .with_context(|| {
                format!(
                    "binding the HTTP server to [http] listen = {:?}",
                    self.settings.http.listen
                )
            })?;
        let addr = listener.local_addr()?;
        let (rules, ip_policy) = self.tracking_rules()?;
        let http = &self.settings.http;
        let client_ip = herald_http::ClientIp {
            trust_forwarded: http.trust_forwarded_for,
            trusted_proxies: http
                .proxies()
                .map_err(|e| crate::bad_input(format!("{e:#}")))?,
        };
        let mut login = herald_http::LoginLimits {
            failures_per_ip: http.login_failures_per_ip,
            failures_per_account: http.login_failures_per_account,
            max_backoff: http.login_max_backoff.0,
            ..herald_http::LoginLimits::default()
        };
        if http.login_concurrency > 0 {
            login.concurrency = http.login_concurrency;
            login.queue = http.login_concurrency * 4;
        }
        let limits = herald_http::ServerLimits {
            max_connections: http.max_connections,
            max_connections_per_ip: http.max_connections_per_ip,
            header_timeout: http.header_timeout.0,
            request_timeout: http.request_timeout.0,
        };
        // Read (and checked against the database) once for the public pages and the UI/API.
        let erasure = self.erasure_key().await?;
        let (events, writer) = herald_http::public::writer::start(self.store.clone());
        let public = Public::new(
            self.store.clone(),
            self.tracking_keys()?,
            rules,
            ip_policy,
            client_ip.clone(),
            events,
        )
        .with_clock(self.clock.clone())
        .with_signup(herald_http::public::signup::SignupRules {
            confirm_within: self.settings.lists.confirm_within.0,
            preferences_within: self.settings.lists.preferences_within.0,
            min_fill: self.settings.lists.min_fill.0,
            per_ip_per_hour: self.settings.lists.signups_per_ip_per_hour,
            unsubscribe_leaves_list_only: self.settings.lists.unsubscribe == "list",
            erasure: erasure.clone(),
        });
        let state = Arc::new(match &self.live {
            Some(live) => public.with_runtime(live.clone()),
            None => public,
        });
        let web = Arc::new(herald_http::Web {
            store: self.store.clone(),
            actions: Arc::new(crate::web::AppActions(Arc::new(self.clone()))),
            secure_cookies: self.settings.http.public_url.starts_with("https://"),
            public_url: self.settings.http.public_url.clone(),
            session_ttl_ms: 12 * 3600 * 1000,
            login: herald_http::LoginGuard::new(login),
            client_ip,
            erasure,
            ip_policy,
            clock: self.clock.clone(),
            runtime_base: self.runtime_base.clone(),
            attachments: self.settings.attachments.policy(),
        });
        let secrets = self.hook_secrets()?;
        let sns = match secrets.contains_key(&herald_mail::webhooks::Provider::Ses) {
            true => Some(
                herald_engine::feedback::sns::Sns::new(std::time::Duration::from_secs(10))
                    .context("[hooks.ses]: the HTTPS client")?,
            ),
            false => None,
        };
        let hooks = Arc::new(herald_http::hooks::Hooks {
            store: self.store.clone(),
            secrets,
            policy: self.feedback_policy(),
            sns,
        });
        let router = herald_http::app(web, state, hooks);
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            if let Err(e) = herald_http::serve(listener, router, limits, async {
                let _ = stopped.await;
            })
            .await
            {
                tracing::error!(error = %e, "HTTP server stopped");
            }
            // The router (and its event sender) is gone: the writer drains and ends.
            let n = writer.await.unwrap_or(0);
            tracing::info!(events = n, "engagement events written");
            n
        });
        Ok((addr, stop, task))
    }

    /// How feedback (bounces, complaints; from the inbound listener and from webhooks) acts.
    pub(crate) fn feedback_policy(&self) -> FeedbackPolicy {
        let cfg = &self.settings.inbound;
        FeedbackPolicy {
            soft_bounce_limit: cfg.soft_bounce_limit,
            retention: cfg.retention.0,
            clock: self.clock.clone(),
            ..FeedbackPolicy::default()
        }
    }

    /// Start the return-path / feedback listener (`[inbound] listen`) and its processor.
    /// Both stop when the returned sender is dropped.
    pub async fn start_inbound(&self) -> anyhow::Result<(SocketAddr, oneshot::Sender<()>)> {
        let cfg = &self.settings.inbound;
        let key = self.verp_key()?;
        let spool = self.data_dir.join("inbound").join("spool");
        let notify = Arc::new(tokio::sync::Notify::new());
        let handler = ReturnPath::new(
            key.clone(),
            cfg.return_path_domain.clone(),
            self.keyring(),
            spool.clone(),
            notify.clone(),
        )
        .with_context(|| format!("creating {}", spool.display()))?
        .with_clock(self.clock.clone());
        let listener = tokio::net::TcpListener::bind(&cfg.listen)
            .await
            .with_context(|| {
                format!(
                    "binding the inbound listener to [inbound] listen = {:?}",
                    cfg.listen
                )
            })?;
        let addr = listener.local_addr()?;
        let tls = match (&cfg.tls_cert, &cfg.tls_key) {
            (Some(cert), Some(key)) => Some(
                herald_inbound::tls::server_config(cert, key)
                    .map_err(|e| crate::bad_input(format!("[inbound] tls_cert / tls_key: {e}")))?,
            ),
            (None, None) => None,
            _ => {
                return Err(crate::bad_input(
                    "[inbound] tls_cert and tls_key go together: give both or neither",
                ));
            }
        };
        let limits = Limits {
            hostname: self.settings.delivery.helo_name.clone(),
            max_message_bytes: cfg.max_message_bytes,
            max_recipients: 50,
            max_connections: cfg.max_connections.max(1),
            max_connections_per_ip: cfg.max_connections_per_ip,
            timeout: cfg.timeout.0,
            min_data_rate: cfg.min_data_rate,
            tls,
        };
        let (stop, stopped) = oneshot::channel::<()>();
        let stopped = shared_stop(stopped);
        tokio::spawn(herald_inbound::serve(
            listener,
            Arc::new(handler),
            limits,
            {
                let s = stopped.clone();
                async move { s.wait().await }
            },
        ));
        let policy = self.feedback_policy();
        tokio::spawn(process_spool(
            self.store.clone(),
            key,
            spool,
            policy,
            notify,
            async move { stopped.wait().await },
        ));
        Ok((addr, stop))
    }
}

/// Where and how a node's sessions go.
pub(crate) struct Route {
    resolver: SharedResolver,
    name: &'static str,
    port: u16,
    relay: bool,
    provider: Option<Provider>,
    tls: TlsMode,
    auth: Option<Arc<Credentials>>,
    request_dsn: bool,
    pace: Option<Arc<Pace>>,
    max_connections: usize,
}

/// The route through `[relay]`: its address resolved now (a name that does not resolve is a
/// start-up error, not a queue of deferrals), TLS as configured, the password read from its
/// owner-only file.
pub(crate) fn relay_route(r: &Relay, node_max: usize) -> anyhow::Result<Route> {
    let name = r.name();
    // Every address the name has, tried in turn by each connection (resolved at start: a
    // relay whose addresses change needs a restart).
    let addrs: Vec<std::net::IpAddr> = (r.bare_host(), r.port())
        .to_socket_addrs()
        .with_context(|| format!("[relay] host {name}: cannot resolve it"))?
        .map(|a| a.ip())
        .collect();
    if addrs.is_empty() {
        bail!("[relay] host {name} has no address");
    }
    let tls = match r.tls {
        RelayTls::None => TlsMode::Off,
        mode => {
            let config = if r.verify_certificate {
                tls::verified_config(r.ca_file.as_deref())
                    .with_context(|| format!("[relay] TLS for {name}"))?
            } else {
                tracing::warn!(
                    relay = %name,
                    "[relay] verify_certificate = false: the relay's certificate is not checked, so anyone on the path can pose as it{}",
                    if r.username.is_some() { " and take the password" } else { "" }
                );
                tls::opportunistic_config().context("TLS configuration")?
            };
            if mode == RelayTls::Tls {
                TlsMode::Implicit(config)
            } else {
                TlsMode::Required(config)
            }
        }
    };
    let auth = match (&r.username, &r.password_file) {
        (Some(user), Some(file)) => Some(Arc::new(Credentials::new(
            user.clone(),
            read_secret(file).context("[relay] password_file")?,
        ))),
        _ => None,
    };
    let provider = Provider::parse(&r.provider);
    let pace = match &r.rate {
        Some(rate) => Some(Arc::new(Pace::new(
            rate.parse::<Rate>().map_err(anyhow::Error::msg)?,
        ))),
        None => None,
    };
    Ok(Route {
        resolver: Arc::new(FixedRoute {
            host: MxHost {
                name: r.bare_host().to_string(),
                preference: None,
                addrs,
            },
        }),
        name: match provider {
            None => "relay:generic",
            Some(Provider::Mailgun) => "relay:mailgun",
            Some(Provider::Postmark) => "relay:postmark",
            Some(Provider::Sendgrid) => "relay:sendgrid",
            Some(Provider::Brevo) => "relay:brevo",
            Some(Provider::Ses) => "relay:ses",
        },
        port: r.port(),
        relay: true,
        provider,
        tls,
        auth,
        request_dsn: r.request_dsn,
        pace,
        max_connections: r.max_connections.min(node_max).max(1),
    })
}
