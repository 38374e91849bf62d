//! Stage `deliver`: hand prepared messages for one destination domain to its MX hosts over as
//! few SMTP sessions as possible, and report one [`Attempt`] per message with its evidence.
//!
//! Input: a destination's MX hosts ([`resolve`]) and its prepared messages, arriving on a
//! channel as they are rendered (≤ messages per connection).
//! Output: one `Attempt` per message, sent on `out` as soon as it is known.
//! Invariant: every message given in gets exactly one attempt out.

pub mod limits;
pub mod mx;
pub mod pace;
pub mod smtp;
pub mod throttle;
pub mod tls;

use std::net::SocketAddr;
use std::sync::Arc;

use herald_domain::{Evidence, Reply, SentMessage};
use time::OffsetDateTime;
use tokio::sync::mpsc;

pub use mx::{DnsMx, FixedRoute, MxAnswer, MxHost, MxResolver, SharedResolver, StaticMx};
pub use pace::{Pace, Rate};
pub use smtp::{
    Credentials, Session, SessionConfig, SessionError, SmtpStage, Target, Timeouts, TlsMode,
    TxResult,
};

/// A message ready to go: rendered, encoded for DATA.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub key: i64,
    /// The campaign it belongs to (a halted campaign's messages are left unattempted).
    pub campaign: herald_store::CampaignId,
    pub mail_from: String,
    pub rcpt_to: String,
    pub message_id: String,
    pub data: Vec<u8>,
    /// The copy as the recipient sees it, kept with every attempt's evidence.
    pub sent: SentMessage,
}

/// What happened to one message.
#[derive(Debug, Clone)]
pub enum AttemptResult {
    /// 2xx after DATA.
    Accepted(Reply),
    /// Refused by the server at a stage, with its reply.
    Refused { stage: SmtpStage, reply: Reply },
    /// No decision by the server: connection, timeout, TLS or protocol trouble.
    LocalError {
        stage: SmtpStage,
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
    /// "mx" for direct delivery, "relay:generic" or "sandbox" for a fixed route.
    pub route: &'static str,
    /// The fixed route is a relay: its 250 means the relay took the message, not the
    /// recipient's server (the delivery becomes `relayed`, not `delivered`).
    pub relay: bool,
    /// The relay is this provider's: each message carries the delivery's id in the provider's
    /// metadata header, so its webhook events find their delivery.
    pub provider: Option<herald_mail::webhooks::Provider>,
    /// Messages per period this node may send on this route, across all its connections.
    pub pace: Option<Arc<Pace>>,
    /// A session waits at most this long for a message's pace slot; longer, it is closed and
    /// a new one opened when the slot comes (servers drop idle sessions after a few minutes).
    pub pace_idle: std::time::Duration,
    /// Sessions a job may open after a broken one before deferring the rest.
    pub max_reconnects: u32,
    /// The time of day for evidence, due times and leases (the queue reads it from here).
    pub clock: crate::Clock,
}

/// Blank evidence of an attempt on `message_id` that began at `started` and ended at `ended`.
pub fn evidence(
    message_id: &str,
    (started, ended): (OffsetDateTime, OffsetDateTime),
    route: &str,
) -> Evidence {
    Evidence {
        started_at: started,
        ended_at: ended,
        mx: None,
        mx_preference: None,
        remote_ip: None,
        local_ip: None,
        tls: None,
        reply: None,
        stage: None,
        error: None,
        remote_queue_id: None,
        message_id: message_id.to_string(),
        bytes: 0,
        route: route.to_string(),
        node: None,
        sent: None,
    }
}

/// What DNS means for every message to `domain`: the hosts to try, or the result for all.
pub async fn resolve(
    resolver: &dyn MxResolver,
    domain: &str,
) -> Result<Vec<MxHost>, (AttemptResult, String)> {
    match resolver.resolve(domain).await {
        MxAnswer::Hosts(h) => Ok(h),
        MxAnswer::NoSuchDomain(e) => Err((AttemptResult::NoSuchDomain(e.clone()), e)),
        MxAnswer::NullMx => Err((
            AttemptResult::NullMx,
            format!("{domain} publishes a null MX (RFC 7505): it accepts no mail"),
        )),
        MxAnswer::TempFail(e) => Err((AttemptResult::DnsTempFail(e.clone()), e)),
    }
}

/// Whether a message waiting to be sent is to be left unattempted (its campaign was paused or
/// cancelled since it was rendered): no attempt is sent on `out` for it, and the caller gives
/// its delivery back.
pub type Skip<'a> = &'a (dyn Fn(&Prepared) -> bool + Send + Sync);

/// The next message of `msgs` not to be skipped.
async fn next_message(msgs: &mut mpsc::Receiver<Prepared>, skip: Skip<'_>) -> Option<Prepared> {
    while let Some(m) = msgs.recv().await {
        if !skip(&m) {
            return Some(m);
        }
    }
    None
}

/// Deliver the messages arriving on `msgs` (all for one domain, whose MX `hosts` are known),
/// sending one attempt per message on `out`. Messages arrive as they are rendered; `skip`
/// is asked just before each is sent.
#[tracing::instrument(skip_all, fields(host = hosts.first().map(|h| h.name.as_str()).unwrap_or("")))]
pub async fn deliver_to_hosts(
    cfg: &DeliverConfig,
    hosts: &[MxHost],
    mut msgs: mpsc::Receiver<Prepared>,
    skip: Skip<'_>,
    out: &mpsc::Sender<Attempt>,
) {
    let targets = targets(hosts, cfg.mx_port);
    let mut reconnects = 0;
    let mut next = next_message(&mut msgs, skip).await;
    // Whether `next` already waited for its pace slot (it was parked, see below).
    let mut slotted = false;
    while let Some(first) = next.take() {
        let first = if slotted {
            first
        } else {
            match paced(cfg, first, &mut msgs, skip).await {
                Some(m) => m,
                None => return,
            }
        };
        slotted = false;
        let mut session = match open_any(&targets, &cfg.session).await {
            Ok(s) => s,
            Err((stage, message, reply)) => {
                return fail_rest(
                    cfg,
                    Some(first),
                    &mut msgs,
                    skip,
                    (stage, message, reply),
                    out,
                )
                .await;
            }
        };
        let mut current = Some(first);
        let mut broken = false;
        // A message whose slot is far off: the session is closed while it waits.
        let mut parked = None;
        while let Some(m) = current.take() {
            let t0 = cfg.clock.now();
            let tx = session.send(&m.mail_from, &m.rcpt_to, &m.data).await;
            let (result, ev) = attempt_of(&m, (t0, cfg.clock.now()), &session, tx, cfg.route);
            broken = matches!(result, AttemptResult::LocalError { .. });
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
            current = next_message(&mut msgs, skip).await;
            if let Some(pace) = &cfg.pace
                && let Some(m) = current.take()
            {
                let slot = pace.reserve();
                if slot > tokio::time::Instant::now() + cfg.pace_idle {
                    parked = Some((m, slot));
                    break;
                }
                tokio::time::sleep_until(slot).await;
                // Asked again after the wait: the campaign may have been paused meanwhile.
                current = if skip(&m) {
                    next_message(&mut msgs, skip).await
                } else {
                    Some(m)
                };
            }
        }
        if !broken {
            session.quit().await;
            let Some((m, slot)) = parked else { return };
            // Not a broken session: a fresh one for the parked message once its slot comes.
            tokio::time::sleep_until(slot).await;
            next = if skip(&m) {
                next_message(&mut msgs, skip).await
            } else {
                slotted = true;
                Some(m)
            };
            continue;
        }
        reconnects += 1;
        next = next_message(&mut msgs, skip).await;
        if reconnects > cfg.max_reconnects {
            let message = "not tried: earlier sessions to this destination broke".to_string();
            return fail_rest(
                cfg,
                next,
                &mut msgs,
                skip,
                (SmtpStage::Connect, message, None),
                out,
            )
            .await;
        }
    }
}

/// `m` once its pace slot has come (at once without a pace), or the next message not to be
/// skipped if the campaign of `m` was halted during the wait.
async fn paced(
    cfg: &DeliverConfig,
    m: Prepared,
    msgs: &mut mpsc::Receiver<Prepared>,
    skip: Skip<'_>,
) -> Option<Prepared> {
    let Some(pace) = &cfg.pace else {
        return Some(m);
    };
    let mut m = m;
    loop {
        pace.wait().await;
        if !skip(&m) {
            return Some(m);
        }
        m = next_message(msgs, skip).await?;
    }
}

/// Give `first` and every message still to come the same local error (no session to try them).
async fn fail_rest(
    cfg: &DeliverConfig,
    first: Option<Prepared>,
    msgs: &mut mpsc::Receiver<Prepared>,
    skip: Skip<'_>,
    (stage, message, reply): (SmtpStage, String, Option<Reply>),
    out: &mpsc::Sender<Attempt>,
) {
    let mut next = first;
    while let Some(m) = next.take() {
        let now = cfg.clock.now();
        let mut ev = evidence(&m.message_id, (now, now), cfg.route);
        ev.sent = Some(m.sent.clone());
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
        next = next_message(msgs, skip).await;
    }
}

/// What one transaction on `session` came to, with its evidence: where it went (MX, IP,
/// TLS), the reply and at which stage, the remote queue id, the bytes sent.
fn attempt_of(
    m: &Prepared,
    span: (OffsetDateTime, OffsetDateTime),
    session: &smtp::Session,
    tx: TxResult,
    route: &str,
) -> (AttemptResult, Evidence) {
    let mut ev = evidence(&m.message_id, span, route);
    ev.sent = Some(m.sent.clone());
    ev.mx = Some(session.target.host.clone());
    ev.mx_preference = session.target.preference;
    ev.remote_ip = Some(session.target.addr.ip().to_string());
    ev.local_ip = session.local_ip.map(|i| i.to_string());
    ev.tls = session.tls.clone();
    let result = match tx {
        TxResult::Accepted(reply) => {
            ev.stage = Some(SmtpStage::EndOfData.as_str().into());
            ev.bytes = m.data.len() as u64;
            ev.remote_queue_id = herald_mail::remote_queue_id(&reply.text());
            ev.reply = Some(reply.clone());
            AttemptResult::Accepted(reply)
        }
        TxResult::Refused { stage, reply } => {
            ev.stage = Some(stage.as_str().into());
            if stage == SmtpStage::EndOfData {
                ev.bytes = m.data.len() as u64;
            }
            ev.reply = Some(reply.clone());
            AttemptResult::Refused { stage, reply }
        }
        TxResult::Broken(e) => {
            ev.stage = Some(e.stage.as_str().into());
            ev.error = Some(e.message.clone());
            ev.reply = e.reply.clone();
            AttemptResult::LocalError {
                stage: e.stage,
                message: e.message,
                reply: e.reply,
            }
        }
    };
    (result, ev)
}

/// Every address of every host, in the hosts' order, on `port`.
fn targets(hosts: &[MxHost], port: u16) -> Vec<Target> {
    hosts
        .iter()
        .flat_map(|h| {
            h.addrs.iter().map(|ip| Target {
                host: h.name.clone(),
                preference: h.preference,
                addr: SocketAddr::new(*ip, port),
            })
        })
        .collect()
}

/// Open a session with the first target that works, in order.
async fn open_any(
    targets: &[Target],
    cfg: &SessionConfig,
) -> Result<Session, (SmtpStage, String, Option<Reply>)> {
    if targets.is_empty() {
        return Err((SmtpStage::Connect, "no MX host has an address".into(), None));
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
    let stage = last.as_ref().map(|e| e.stage).unwrap_or(SmtpStage::Connect);
    let reply = last.and_then(|e| e.reply);
    Err((stage, errors.join("; "), reply))
}
