//! Stage `feedback`: what comes back after the SMTP transaction.
//!
//! The inbound listener (crate `inbound`) asks [`ReturnPath`] about every recipient and every
//! message. A recipient is accepted only at a return-path domain of this installation
//! (`bounces.<connected domain>` or `[inbound] return_path_domain`), and there only when it is
//! a return path Herald signed (`b+<id>.<mac>@…`, see `herald_mail::verp`) or a feedback
//! address (`fbl@`, `dmarc@`, `abuse@`); everything else gets `550`, so the listener is no
//! relay and no backscatter source. An accepted message is written to the spool and fsynced
//! *before* the 250 (never acknowledge what could be lost); [`process_spool`] then classifies
//! it on a blocking thread under a time limit, keeps it raw in the database, applies its
//! effects (event, late bounce, suppression) and removes the spool file. A crash between the
//! two leaves the file for the next start; a message that cannot be classified in time, or
//! crashes the classifier, is moved to `quarantine/` beside the spool instead of being tried
//! for ever.
//!
//! Only a signature changes anything: a message takes effect on a delivery when it came to
//! that delivery's signed return path, or when it carries one of Herald's signed addresses
//! (the returned original's Return-Path or List-Unsubscribe). A report naming only a
//! Message-ID, which every viewer and anyone with a forwarded copy knows, is kept and changes
//! nothing. Raw messages are dropped after `[inbound] retention` ([`prune_raw`]).

pub mod dmarc;
pub mod engagement;
pub mod sns;
pub mod webhooks;

use herald_domain::EventKind;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use herald_domain::BounceReason;
use herald_inbound::{Handler, ServerReply};
use herald_mail::feedback::{Classified, Kind, Verdict, classify_message};
use herald_mail::verp::VerpKey;
use herald_store::{DeliveryId, DeliveryRef, FeedbackEffect, InboundRecord, Store, StoreError};
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use crate::domains::Keyring;

/// Local parts accepted at a return-path domain besides signed `b+`/`u+` addresses.
const FEEDBACK_LOCALS: &[&str] = &["fbl", "dmarc", "abuse", "unsubscribe"];

/// Policy for what feedback does to the suppression list, and how it is processed.
#[derive(Debug, Clone)]
pub struct FeedbackPolicy {
    /// Suppress an address after this many soft bounces in a row (0: never).
    pub soft_bounce_limit: u32,
    /// Time one message may take to classify before it is quarantined.
    pub classify_timeout: Duration,
    /// Raw messages are kept this long.
    pub retention: Duration,
    /// The time of day messages are stamped with when their envelope is unreadable, and
    /// retention counts from.
    pub clock: crate::Clock,
}

impl Default for FeedbackPolicy {
    fn default() -> Self {
        Self {
            soft_bounce_limit: 3,
            classify_timeout: Duration::from_secs(10),
            retention: Duration::from_secs(30 * 24 * 3600),
            clock: crate::Clock::system(),
        }
    }
}

/// The inbound handler of the return-path listener.
pub struct ReturnPath {
    key: Arc<VerpKey>,
    /// The `[inbound] return_path_domain`, besides `bounces.<connected domain>`.
    domain: Option<String>,
    /// The connected domains (read at each check: domains connected while serving count).
    keyring: Keyring,
    spool: PathBuf,
    counter: AtomicU64,
    notify: Arc<Notify>,
    /// Stamps each message's receipt.
    clock: crate::Clock,
}

/// The envelope, written as the first line of a spool file.
#[derive(Debug, Serialize, Deserialize)]
struct Envelope {
    received_at_ms: i64,
    mail_from: String,
    rcpts: Vec<String>,
}

impl ReturnPath {
    pub fn new(
        key: Arc<VerpKey>,
        domain: Option<String>,
        keyring: Keyring,
        spool: PathBuf,
        notify: Arc<Notify>,
    ) -> std::io::Result<Self> {
        create_private_dir(&spool)?;
        Ok(Self {
            key,
            domain: domain.map(|d| d.to_ascii_lowercase()),
            keyring,
            spool,
            counter: AtomicU64::new(0),
            notify,
            clock: crate::Clock::system(),
        })
    }

    /// Stamp receipts by `clock` instead of the system's.
    pub fn with_clock(mut self, clock: crate::Clock) -> Self {
        self.clock = clock;
        self
    }

    fn is_return_path_domain(&self, domain: &str) -> bool {
        let d = domain.to_ascii_lowercase();
        if self.domain.as_deref() == Some(d.as_str()) {
            return true;
        }
        d.strip_prefix("bounces.")
            .is_some_and(|connected| self.keyring.is_connected(connected))
    }

    fn spool_write(&self, env: &Envelope, message: &[u8]) -> std::io::Result<String> {
        use std::io::Write;
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let name = format!("{}-{}-{n}", env.received_at_ms, std::process::id());
        let tmp = self.spool.join(format!(".{name}.tmp"));
        let path = self.spool.join(format!("{name}.msg"));
        let mut f = create_private_file(&tmp)?;
        serde_json::to_writer(&mut f, env)?;
        f.write_all(b"\n")?;
        f.write_all(message)?;
        f.sync_all()?;
        std::fs::rename(&tmp, &path)?;
        if let Ok(dir) = std::fs::File::open(&self.spool) {
            let _ = dir.sync_all();
        }
        Ok(name)
    }
}

impl Handler for ReturnPath {
    fn rcpt(&self, _from: &str, rcpt: &str) -> ServerReply {
        let Some((local, domain)) = rcpt.rsplit_once('@') else {
            return ServerReply::new(550, "5.1.1", "No such recipient here");
        };
        if !self.is_return_path_domain(domain) {
            return ServerReply::new(550, "5.7.1", "Relaying denied: not a return-path domain");
        }
        let ok = self.key.verify(rcpt).is_some()
            || self.key.verify_unsubscribe(rcpt).is_some()
            || FEEDBACK_LOCALS
                .iter()
                .any(|l| local.eq_ignore_ascii_case(l));
        if ok {
            ServerReply::new(250, "2.1.5", "Ok")
        } else {
            ServerReply::new(550, "5.1.1", "No such recipient here")
        }
    }

    fn data(&self, from: &str, rcpts: &[String], message: &[u8]) -> ServerReply {
        let env = Envelope {
            received_at_ms: self.clock.now_ms(),
            mail_from: from.to_string(),
            rcpts: rcpts.to_vec(),
        };
        match self.spool_write(&env, message) {
            Ok(id) => {
                self.notify.notify_one();
                ServerReply::new(250, "2.0.0", format!("Ok: queued as {id}"))
            }
            Err(e) => {
                tracing::error!(spool = %self.spool.display(), error = %e, "could not spool an inbound message");
                ServerReply::new(451, "4.3.0", "Local error in processing, try again later")
            }
        }
    }
}

/// Process spooled messages until `shutdown`: at start, whenever the handler notifies, and
/// every few seconds. A file is removed only after its record is committed. Hourly, raw
/// messages older than the retention are dropped.
pub async fn process_spool<S: Store>(
    store: S,
    key: Arc<VerpKey>,
    spool: PathBuf,
    policy: FeedbackPolicy,
    notify: Arc<Notify>,
    shutdown: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    let mut next_prune = tokio::time::Instant::now();
    loop {
        match process_once(&store, &key, &spool, &policy).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(messages = n, "feedback processed"),
            Err(e) => tracing::warn!(error = %e, "feedback processing failed; will retry"),
        }
        if tokio::time::Instant::now() >= next_prune {
            next_prune += Duration::from_secs(3600);
            match prune_raw(&store, &policy, policy.clock.now_ms()).await {
                Ok(0) => {}
                Ok(n) => {
                    tracing::info!(messages = n, "raw inbound messages past retention dropped")
                }
                Err(e) => tracing::warn!(error = %e, "dropping old raw inbound messages failed"),
            }
            let before = policy.clock.now_ms() - dmarc::RETENTION_MS;
            match store.prune_dmarc(before).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(reports = n, "DMARC reports past retention dropped"),
                Err(e) => tracing::warn!(error = %e, "dropping old DMARC reports failed"),
            }
        }
        tokio::select! {
            _ = &mut shutdown => return,
            _ = notify.notified() => {}
            _ = tokio::time::sleep(Duration::from_secs(5)) => {}
        }
    }
}

/// Drop the raw text of inbound messages older than the retention (classification, summary
/// and effects stay). Returns how many were dropped.
pub async fn prune_raw<S: Store>(
    store: &S,
    policy: &FeedbackPolicy,
    now_ms: i64,
) -> Result<u64, StoreError> {
    let before = now_ms.saturating_sub(policy.retention.as_millis() as i64);
    store.prune_inbound_raw(before).await
}

/// Where messages that could not be classified are kept for a person to look at.
pub fn quarantine_dir(spool: &Path) -> PathBuf {
    spool
        .parent()
        .map_or_else(|| spool.join("quarantine"), |p| p.join("quarantine"))
}

/// Move a spool file out of the way, saying why.
fn quarantine(spool: &Path, path: &Path, why: &str) {
    let dir = quarantine_dir(spool);
    let moved = create_private_dir(&dir).and_then(|()| {
        let to = dir.join(path.file_name().unwrap_or_default());
        std::fs::rename(path, &to).map(|()| to)
    });
    match moved {
        Ok(to) => tracing::warn!(path = %to.display(), why, "inbound message quarantined"),
        Err(e) => {
            tracing::error!(path = %path.display(), error = %e, why, "could not quarantine an inbound message; removing it");
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Classify on the blocking pool within `limit`: untrusted input must never stall the loop
/// that records every other bounce, complaint and unsubscribe.
async fn classify_bounded(raw: Vec<u8>, limit: Duration) -> Result<(Vec<u8>, Classified), String> {
    crate::bounded(limit, move || {
        let c = classify_message(&raw);
        (raw, c)
    })
    .await
    .map_err(|e| match e {
        crate::Unfinished::Panicked(e) => format!("the classifier failed: {e}"),
        crate::Unfinished::TooSlow => format!("not classified within {limit:?}"),
    })
}

/// Process every file in the spool once. Returns how many were recorded.
pub async fn process_once<S: Store>(
    store: &S,
    key: &VerpKey,
    spool: &Path,
    policy: &FeedbackPolicy,
) -> Result<usize, StoreError> {
    let mut files: Vec<PathBuf> = match std::fs::read_dir(spool) {
        Ok(rd) => rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "msg"))
            .collect(),
        Err(_) => return Ok(0),
    };
    files.sort();
    let mut done = 0;
    for path in files {
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        let (env, raw) = match bytes.iter().position(|b| *b == b'\n') {
            Some(nl) => match serde_json::from_slice::<Envelope>(&bytes[..nl]) {
                Ok(env) => (env, bytes[nl + 1..].to_vec()),
                Err(_) => (unknown_envelope(policy.clock.now_ms()), bytes),
            },
            None => (unknown_envelope(policy.clock.now_ms()), bytes),
        };
        let (raw, mut classified) = match classify_bounded(raw, policy.classify_timeout).await {
            Ok(x) => x,
            Err(why) => {
                quarantine(spool, &path, &why);
                continue;
            }
        };
        // An aggregate report to dmarc@ is kept before the message is recorded: a crash
        // between the two processes the spool file again, and the report is kept once. One
        // that cannot be kept is logged and the message still recorded (it can be imported
        // later): a hostile report must never hold up the bounces behind it.
        if let Some(report) = classified.dmarc_report.take()
            && env.rcpts.iter().any(|r| {
                r.split('@')
                    .next()
                    .is_some_and(|l| l.eq_ignore_ascii_case("dmarc"))
            })
        {
            match dmarc::keep(store, &report, env.received_at_ms, "mail").await {
                Ok(new) => tracing::info!(new, "DMARC aggregate report kept"),
                Err(e) => tracing::warn!(error = %e, "a mailed DMARC report was not kept"),
            }
        }
        let record = interpret(store, key, policy, env, raw, classified).await?;
        store.record_inbound(&record).await?;
        if let Err(e) = std::fs::remove_file(&path) {
            tracing::warn!(path = %path.display(), error = %e, "could not remove a processed spool file");
        }
        done += 1;
    }
    Ok(done)
}

/// A directory only this user can read (the spool holds working unsubscribe addresses).
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
}

/// A new file only this user can read.
fn create_private_file(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
}

fn unknown_envelope(now_ms: i64) -> Envelope {
    Envelope {
        received_at_ms: now_ms,
        mail_from: String::new(),
        rcpts: Vec::new(),
    }
}

/// Classify one message and decide its effects.
async fn interpret<S: Store>(
    store: &S,
    key: &VerpKey,
    policy: &FeedbackPolicy,
    env: Envelope,
    raw: Vec<u8>,
    classified: Classified,
) -> Result<InboundRecord, StoreError> {
    // A mail to a signed `u+…` address is an unsubscribe (RFC 8058's mailto), whatever it says.
    for rcpt in &env.rcpts {
        if let Some(id) = key.verify_unsubscribe(rcpt)
            && let Some(d) = store.delivery_ref(DeliveryId(id)).await?
        {
            return Ok(InboundRecord {
                received_at_ms: env.received_at_ms,
                mail_from: env.mail_from.clone(),
                rcpt_to: env.rcpts.join(", "),
                delivery: Some(d.id),
                kind: "unsubscribe".into(),
                summary: "{}".into(),
                effects: vec![FeedbackEffect {
                    delivery: d.id,
                    campaign: d.campaign,
                    email_key: d.email_key.clone(),
                    kind: herald_domain::EventKind::Unsubscribe,
                    at_ms: env.received_at_ms,
                    detail: serde_json::json!({"verdict": "human", "via": "mailto"}).to_string(),
                    bounce: None,
                    suppress: Some(herald_domain::SuppressionReason::Unsubscribed),
                    soft_bounce_limit: None,
                    delivered: false,
                }],
                raw,
            });
        }
    }
    let mut delivery: Option<DeliveryRef> = None;
    for rcpt in &env.rcpts {
        if let Some(id) = key.verify(rcpt) {
            delivery = store.delivery_ref(DeliveryId(id)).await?;
            if delivery.is_some() {
                break;
            }
        }
    }
    // Sent to a shared feedback address: the report must carry one of our signed addresses
    // (a Message-ID alone proves nothing; see the module doc).
    if delivery.is_none()
        && matches!(classified.kind, Kind::Arf | Kind::Dsn)
        && let Some(id) = key.find_signed(&raw)
    {
        delivery = store.delivery_ref(DeliveryId(id)).await?;
    }
    if delivery.is_none() && classified.original_message_id.is_some() {
        tracing::info!(
            kind = ?classified.kind,
            "a report names a Message-ID but no signed return path: kept, without effect"
        );
    }
    let effects = match &delivery {
        Some(d) => effects(d, &classified, policy, env.received_at_ms),
        None => Vec::new(),
    };
    let kind = serde_json::to_value(classified.kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| "not_bounce".into());
    Ok(InboundRecord {
        received_at_ms: env.received_at_ms,
        mail_from: env.mail_from,
        rcpt_to: env.rcpts.join(", "),
        delivery: delivery.map(|d| d.id),
        kind,
        summary: serde_json::to_string(&classified).unwrap_or_else(|_| "{}".into()),
        raw,
        effects,
    })
}

/// The verdict about this delivery's address, if the report names several.
fn verdict_for<'a>(c: &'a Classified, d: &DeliveryRef) -> Option<&'a Verdict> {
    c.recipients
        .iter()
        .find(|v| {
            v.email
                .as_deref()
                .is_some_and(|e| e.eq_ignore_ascii_case(&d.email))
        })
        .or_else(|| c.recipients.first())
}

/// What a classified message does to its delivery (pure: table-tested below).
pub fn effects(
    d: &DeliveryRef,
    c: &Classified,
    policy: &FeedbackPolicy,
    at_ms: i64,
) -> Vec<FeedbackEffect> {
    let base = |kind: EventKind, detail: serde_json::Value| FeedbackEffect {
        delivery: d.id,
        campaign: d.campaign,
        email_key: d.email_key.clone(),
        kind,
        at_ms,
        detail: detail.to_string(),
        bounce: None,
        suppress: None,
        soft_bounce_limit: None,
        delivered: false,
    };
    match c.kind {
        Kind::Dsn => {
            let Some(v) = verdict_for(c, d) else {
                return Vec::new();
            };
            let detail = serde_json::json!({
                "reason": v.reason, "hard": v.hard, "status": v.status,
                "reply_code": v.reply_code, "diagnostic": v.diagnostic, "action": v.action,
                "remote_mta": v.remote_mta,
                "remote_queue_id": v.diagnostic.as_deref().and_then(herald_mail::remote_queue_id),
            });
            match (v.action.as_deref(), v.reason) {
                // A relay's word that the next server took it (RFC 3464: `delivered` into
                // the mailbox, `relayed` to a server that sends no DSNs itself, such as the
                // recipient's MX, `expanded` to an alias's members; the event names that
                // server and keeps its reply). Only the Action field says so: a 2xx found in
                // the words of a failure report is no delivery.
                (Some("delivered" | "relayed" | "expanded"), _) => {
                    let mut e = base(EventKind::DsnDelivered, detail);
                    e.delivered = true;
                    vec![e]
                }
                (_, BounceReason::Delivered) => Vec::new(),
                (Some("delayed"), _) => vec![base(EventKind::Delayed, detail)],
                _ => {
                    let mut e = base(EventKind::AsyncBounce, detail);
                    e.bounce = Some((v.reason.as_str().to_string(), v.hard));
                    if v.hard {
                        e.suppress = Some(herald_domain::SuppressionReason::PreviouslyBounced);
                    } else if policy.soft_bounce_limit > 0 {
                        e.soft_bounce_limit = Some(policy.soft_bounce_limit);
                    }
                    vec![e]
                }
            }
        }
        Kind::Arf => {
            let ft = c.feedback_type.as_deref().unwrap_or("abuse");
            let detail = serde_json::json!({ "feedback_type": ft });
            match ft {
                // A DMARC failure report is about authentication, not about the person.
                "auth-failure" => vec![base(EventKind::AuthFailureReport, detail)],
                "opt-out" => {
                    let mut e = base(EventKind::Unsubscribe, detail);
                    e.suppress = Some(herald_domain::SuppressionReason::Unsubscribed);
                    vec![e]
                }
                _ => {
                    let mut e = base(EventKind::Complaint, detail);
                    e.suppress = Some(herald_domain::SuppressionReason::Complained);
                    vec![e]
                }
            }
        }
        Kind::Autoreply => {
            let detail = serde_json::json!({
                "subject": c.recipients.first().and_then(|v| v.diagnostic.clone()),
            });
            vec![base(EventKind::Autoreply, detail)]
        }
        Kind::Dmarc | Kind::NotBounce | Kind::Reply => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use herald_domain::DeliveryState;
    use herald_store::CampaignId;

    fn d() -> DeliveryRef {
        DeliveryRef {
            id: DeliveryId(7),
            campaign: CampaignId(1),
            email: "Ann@Example.test".into(),
            email_key: "ann@example.test".into(),
            state: DeliveryState::Delivered,
            seed: false,
            variant: None,
        }
    }

    fn dsn(reason: BounceReason, hard: bool, action: &str) -> Classified {
        let mut c = herald_mail::feedback::classify_text("550 5.1.1 user unknown");
        c.kind = Kind::Dsn;
        c.recipients[0].email = Some("ann@example.test".into());
        c.recipients[0].reason = reason;
        c.recipients[0].hard = hard;
        c.recipients[0].action = Some(action.into());
        c
    }

    #[test]
    fn effect_table() {
        let p = FeedbackPolicy::default();
        let e = effects(&d(), &dsn(BounceReason::UserUnknown, true, "failed"), &p, 1);
        assert_eq!(e[0].kind.as_str(), "async_bounce");
        assert_eq!(e[0].bounce, Some(("userunknown".into(), true)));
        assert_eq!(
            e[0].suppress.map(|r| r.as_str()),
            Some("previously_bounced")
        );
        assert!(!e[0].delivered);

        // A relay's success DSN: the delivery is confirmed, nothing is suppressed.
        let e = effects(&d(), &dsn(BounceReason::Delivered, false, "relayed"), &p, 1);
        assert_eq!(
            (
                e[0].kind.as_str(),
                e[0].delivered,
                &e[0].bounce,
                &e[0].suppress
            ),
            ("dsn_delivered", true, &None, &None)
        );

        let e = effects(
            &d(),
            &dsn(BounceReason::MailboxFull, false, "failed"),
            &p,
            1,
        );
        assert_eq!(e[0].suppress, None);
        assert_eq!(e[0].soft_bounce_limit, Some(3));

        let e = effects(&d(), &dsn(BounceReason::Expired, false, "delayed"), &p, 1);
        assert_eq!((e[0].kind.as_str(), e[0].bounce.clone()), ("delayed", None));

        let mut arf = dsn(BounceReason::Feedback, false, "");
        arf.kind = Kind::Arf;
        arf.feedback_type = Some("abuse".into());
        let e = effects(&d(), &arf, &p, 1);
        assert_eq!(
            (e[0].kind.as_str(), e[0].suppress.map(|r| r.as_str())),
            ("complaint", Some("complained"))
        );
        arf.feedback_type = Some("auth-failure".into());
        assert_eq!(effects(&d(), &arf, &p, 1)[0].suppress, None);

        // A bounce cut down to its preamble names nobody: it still bounces the delivery its
        // signed return path names, soft, with no cause to give.
        let cut = classify_message(
            b"From: MAILER-DAEMON@mx.example.test\r\nSubject: Undelivered Mail Returned to Sender\r\n\r\n\
This is the mail system at host mx.example.test.\r\n\r\nI'm sorry to have to inform you that your \
message could not\r\nbe delivered to one or more recipients.\r\n",
        );
        let e = effects(&d(), &cut, &p, 1);
        assert_eq!(
            (e[0].kind.as_str(), e[0].bounce.clone(), e[0].suppress),
            ("async_bounce", Some(("onhold".into(), false)), None)
        );
        assert_eq!(e[0].soft_bounce_limit, Some(3));
    }

    #[test]
    fn listener_accepts_only_signed_return_paths() {
        let dir = tempfile::tempdir().expect("tempdir");
        let key = Arc::new(VerpKey::new(&[1u8; 32]));
        let h = ReturnPath::new(
            key.clone(),
            Some("bounces.sender.test".into()),
            Keyring::new(dir.path().join("dkim")),
            dir.path().join("spool"),
            Arc::new(Notify::new()),
        )
        .expect("spool");
        let good = key.address(5, "bounces.sender.test");
        assert_eq!(h.rcpt("", &good).code, 250);
        assert_eq!(h.rcpt("", "fbl@bounces.sender.test").code, 250);
        assert_eq!(h.rcpt("", &good.replace("b+5.", "b+6.")).code, 550);
        assert_eq!(h.rcpt("", "someone@elsewhere.test").code, 550);
        assert_eq!(h.rcpt("", &key.address(5, "elsewhere.test")).code, 550);
        // Any `bounces.` domain is not enough: only this installation's.
        assert_eq!(h.rcpt("", "abuse@bounces.any.test").code, 550);
        assert_eq!(h.rcpt("", &key.address(5, "bounces.any.test")).code, 550);
        let r = h.data("", &[good], b"Subject: x\r\n\r\nbody\r\n");
        assert_eq!(r.code, 250);
        let files: Vec<_> = std::fs::read_dir(dir.path().join("spool"))
            .expect("read")
            .collect::<Result<_, _>>()
            .expect("entries");
        assert_eq!(files.len(), 1, "spooled before the 250");
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).expect("stat").permissions().mode() & 0o777;
        assert_eq!(mode(&files[0].path()), 0o600);
        assert_eq!(mode(&dir.path().join("spool")), 0o700);
    }
}
