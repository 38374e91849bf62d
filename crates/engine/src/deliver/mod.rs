//! Stage `deliver`: hand prepared messages for one destination domain to its MX hosts over as
//! few SMTP sessions as possible, and report one [`Attempt`] per message with its evidence.
//!
//! Input: a destination domain and its prepared messages (≤ messages per connection).
//! Output: one `Attempt` per message, sent on `out` as soon as it is known.
//! Invariant: every message given in gets exactly one attempt out.

pub mod mx;
pub mod smtp;
pub mod tls;

use std::net::SocketAddr;

use herald_domain::{Evidence, Reply};
use time::OffsetDateTime;
use tokio::sync::mpsc;

pub use mx::{DnsMx, FixedRoute, MxAnswer, MxHost, MxResolver, SharedResolver, StaticMx};
pub use smtp::{Session, SessionConfig, SessionError, Stage, Target, Timeouts, TxResult};

/// A message ready to go: rendered, encoded for DATA.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub key: i64,
    pub mail_from: String,
    pub rcpt_to: String,
    pub message_id: String,
    pub data: Vec<u8>,
}

/// What happened to one message.
#[derive(Debug, Clone)]
pub enum AttemptResult {
    /// 2xx after DATA.
    Accepted(Reply),
    /// Refused by the server at a stage, with its reply.
    Refused { stage: Stage, reply: Reply },
    /// No decision by the server: connection, timeout, TLS or protocol trouble.
    LocalError {
        stage: Stage,
        message: String,
        reply: Option<Reply>,
    },
    /// DNS: the domain does not exist or has no mail host.
    NoSuchDomain(String),
    /// DNS: RFC 7505 null MX.
    NullMx,
    /// DNS: lookup failed for now.
    DnsTempFail(String),
}

#[derive(Debug, Clone)]
pub struct Attempt {
    pub key: i64,
    pub result: AttemptResult,
    pub evidence: Evidence,
}

/// How sessions are routed and opened.
#[derive(Clone)]
pub struct DeliverConfig {
    pub session: SessionConfig,
    /// TCP port for every MX (25 in the real world; test worlds use a high port).
    pub mx_port: u16,
    /// "mx" for direct delivery, "relay" or "sandbox" for a fixed route.
    pub route: &'static str,
    /// Sessions a job may open after a broken one before deferring the rest.
    pub max_reconnects: u32,
}

fn evidence(m: &Prepared, started: OffsetDateTime, route: &str) -> Evidence {
    Evidence {
        started_at: started,
        ended_at: OffsetDateTime::now_utc(),
        mx: None,
        mx_preference: None,
        remote_ip: None,
        local_ip: None,
        tls: None,
        reply: None,
        stage: None,
        error: None,
        remote_queue_id: None,
        message_id: m.message_id.clone(),
        bytes: 0,
        route: route.to_string(),
    }
}

/// Deliver `msgs` (all for `domain`), sending one attempt per message on `out`.
/// `msgs` is consumed lazily: each message is produced (rendered) just before it is sent.
#[tracing::instrument(skip_all, fields(domain = %domain))]
pub async fn deliver_domain(
    cfg: &DeliverConfig,
    resolver: &dyn MxResolver,
    domain: &str,
    msgs: impl Iterator<Item = Prepared> + Send,
    out: &mpsc::Sender<Attempt>,
) {
    let started = OffsetDateTime::now_utc();
    let hosts = match resolver.resolve(domain).await {
        MxAnswer::Hosts(h) => h,
        MxAnswer::NoSuchDomain(e) => {
            return dns_failure(
                cfg,
                msgs,
                started,
                AttemptResult::NoSuchDomain(e.clone()),
                e,
                out,
            )
            .await;
        }
        MxAnswer::NullMx => {
            let e = format!("{domain} publishes a null MX (RFC 7505): it accepts no mail");
            return dns_failure(cfg, msgs, started, AttemptResult::NullMx, e, out).await;
        }
        MxAnswer::TempFail(e) => {
            return dns_failure(
                cfg,
                msgs,
                started,
                AttemptResult::DnsTempFail(e.clone()),
                e,
                out,
            )
            .await;
        }
    };
    let targets: Vec<Target> = hosts
        .iter()
        .flat_map(|h| {
            h.addrs.iter().map(|ip| Target {
                host: h.name.clone(),
                preference: h.preference,
                addr: SocketAddr::new(*ip, cfg.mx_port),
            })
        })
        .collect();

    let mut pending = msgs.peekable();
    let mut reconnects = 0;
    while pending.peek().is_some() {
        let opened = open_any(&targets, &cfg.session).await;
        let mut session = match opened {
            Ok(s) => s,
            Err((stage, message, reply)) => {
                for m in pending {
                    let mut ev = evidence(&m, started, cfg.route);
                    ev.error = Some(message.clone());
                    ev.stage = Some(stage.as_str().into());
                    ev.reply = reply.clone();
                    let result = AttemptResult::LocalError {
                        stage,
                        message: message.clone(),
                        reply: reply.clone(),
                    };
                    let _ = out
                        .send(Attempt {
                            key: m.key,
                            result,
                            evidence: ev,
                        })
                        .await;
                }
                return;
            }
        };
        let mut broken = false;
        for m in pending.by_ref() {
            let t0 = OffsetDateTime::now_utc();
            let tx = session.send(&m.mail_from, &m.rcpt_to, &m.data).await;
            let mut ev = evidence(&m, t0, cfg.route);
            ev.mx = Some(session.target.host.clone());
            ev.mx_preference = session.target.preference;
            ev.remote_ip = Some(session.target.addr.ip().to_string());
            ev.local_ip = session.local_ip.map(|i| i.to_string());
            ev.tls = session.tls.clone();
            let result = match tx {
                TxResult::Accepted(reply) => {
                    ev.stage = Some(Stage::Message.as_str().into());
                    ev.bytes = m.data.len() as u64;
                    ev.remote_queue_id = herald_mail::remote_queue_id(&reply.text());
                    ev.reply = Some(reply.clone());
                    AttemptResult::Accepted(reply)
                }
                TxResult::Refused { stage, reply } => {
                    ev.stage = Some(stage.as_str().into());
                    if stage == Stage::Message {
                        ev.bytes = m.data.len() as u64;
                    }
                    ev.reply = Some(reply.clone());
                    AttemptResult::Refused { stage, reply }
                }
                TxResult::Broken(e) => {
                    ev.stage = Some(e.stage.as_str().into());
                    ev.error = Some(e.message.clone());
                    ev.reply = e.reply.clone();
                    broken = true;
                    AttemptResult::LocalError {
                        stage: e.stage,
                        message: e.message,
                        reply: e.reply,
                    }
                }
            };
            let _ = out
                .send(Attempt {
                    key: m.key,
                    result,
                    evidence: ev,
                })
                .await;
            if broken {
                break;
            }
        }
        if broken {
            reconnects += 1;
            if reconnects > cfg.max_reconnects {
                for m in pending {
                    let mut ev = evidence(&m, OffsetDateTime::now_utc(), cfg.route);
                    let message =
                        "not tried: earlier sessions to this destination broke".to_string();
                    ev.error = Some(message.clone());
                    ev.stage = Some("connect".into());
                    let result = AttemptResult::LocalError {
                        stage: Stage::Connect,
                        message,
                        reply: None,
                    };
                    let _ = out
                        .send(Attempt {
                            key: m.key,
                            result,
                            evidence: ev,
                        })
                        .await;
                }
                return;
            }
        } else {
            session.quit().await;
        }
    }
}

/// Every message gets the same DNS outcome.
async fn dns_failure(
    cfg: &DeliverConfig,
    msgs: impl Iterator<Item = Prepared>,
    started: OffsetDateTime,
    result: AttemptResult,
    error: String,
    out: &mpsc::Sender<Attempt>,
) {
    for m in msgs {
        let mut ev = evidence(&m, started, cfg.route);
        ev.error = Some(error.clone());
        ev.stage = Some("dns".into());
        let _ = out
            .send(Attempt {
                key: m.key,
                result: result.clone(),
                evidence: ev,
            })
            .await;
    }
}

/// Open a session with the first target that works, in order.
async fn open_any(
    targets: &[Target],
    cfg: &SessionConfig,
) -> Result<Session, (Stage, String, Option<Reply>)> {
    if targets.is_empty() {
        return Err((Stage::Connect, "no MX host has an address".into(), None));
    }
    let mut errors = Vec::new();
    let mut last: Option<SessionError> = None;
    for t in targets {
        match Session::open(t, cfg).await {
            Ok(s) => return Ok(s),
            Err(e) => {
                tracing::debug!(host = %t.host, addr = %t.addr, error = %e.message, "MX host failed");
                errors.push(format!("{} [{}]: {}", t.host, t.addr, e.message));
                last = Some(e);
            }
        }
    }
    let stage = last.as_ref().map(|e| e.stage).unwrap_or(Stage::Connect);
    let reply = last.and_then(|e| e.reply);
    Err((stage, errors.join("; "), reply))
}
