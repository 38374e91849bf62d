//! The SMTP client session (RFC 5321) used for delivery.
//!
//! Written on smtp-proto's reply and EHLO parsers rather than with a client crate, because
//! Herald needs what the crates do not give: every line of every reply kept as evidence, the
//! reply of each stage of a pipelined transaction (RFC 2920) told apart, the TLS parameters,
//! and a timeout per stage. To a relay it also speaks TLS from the first byte (RFC 8314) or
//! required STARTTLS, and AUTH PLAIN or LOGIN (RFC 4954); those are a few lines each on top of
//! the same reply reader.

use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use herald_domain::{Reply, TlsInfo};
use smtp_proto::{AUTH_LOGIN, AUTH_PLAIN, EXT_DSN, EXT_PIPELINING, EXT_START_TLS, EhloResponse};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::timeout;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use super::tls::version_name;

/// Longest reply accepted; longer is a protocol error (RFC 5321 allows 512 per line).
const MAX_REPLY: usize = 64 * 1024;

/// Timeouts per stage (RFC 5321 §4.5.3.2 gives 5 min for commands and 10 min after the data).
#[derive(Debug, Clone)]
pub struct Timeouts {
    pub connect: Duration,
    pub command: Duration,
    pub data: Duration,
}

/// Where one session goes.
#[derive(Debug, Clone)]
pub struct Target {
    pub host: String,
    pub preference: Option<u16>,
    pub addr: SocketAddr,
}

/// The SMTP stage a reply or an error belongs to (one type for the engine and the classifier).
pub use herald_domain::SmtpStage;

/// A session-level failure: nothing was decided for the message by the server.
#[derive(Debug, Clone)]
pub struct SessionError {
    pub stage: SmtpStage,
    /// The server's reply when it refused (e.g. a 421 greeting), or None for local errors.
    pub reply: Option<Reply>,
    pub message: String,
}

/// The result of one mail transaction.
#[derive(Debug, Clone)]
#[must_use]
pub enum TxResult {
    /// 2xx after the message data: the server took responsibility.
    Accepted(Reply),
    /// The server refused at `stage` with this reply (4xx or 5xx).
    Refused { stage: SmtpStage, reply: Reply },
    /// The connection failed mid-transaction; the session is unusable.
    Broken(SessionError),
}

enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
    /// Only while the plain stream is moved into the TLS handshake.
    Upgrading,
}

fn upgrading() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::NotConnected,
        "stream is being upgraded to TLS",
    )
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
            Stream::Upgrading => Poll::Ready(Err(upgrading())),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
            Stream::Upgrading => Poll::Ready(Err(upgrading())),
        }
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
            Stream::Upgrading => Poll::Ready(Err(upgrading())),
        }
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
            Stream::Upgrading => Poll::Ready(Err(upgrading())),
        }
    }
}

/// The local addresses a node sends from (`[delivery] source_ips`), taken in turn, one per
/// connection, among those of the target's address family.
#[derive(Debug, Clone, Default)]
pub struct SourceIps {
    ips: Arc<[IpAddr]>,
    next: Arc<std::sync::atomic::AtomicUsize>,
}

impl SourceIps {
    pub fn new(ips: Vec<IpAddr>) -> Self {
        Self {
            ips: ips.into(),
            next: Arc::default(),
        }
    }

    /// The address to bind for a connection to an IPv4 (`v4`) or IPv6 target: `Ok(None)` when
    /// none are configured (the system chooses), an error when none is of that family —
    /// sending from an unlisted address would fail SPF.
    pub fn pick(&self, v4: bool) -> Result<Option<IpAddr>, String> {
        if self.ips.is_empty() {
            return Ok(None);
        }
        // Per connection: counted and picked in place, no list built.
        let family = || self.ips.iter().copied().filter(|ip| ip.is_ipv4() == v4);
        let count = family().count();
        if count == 0 {
            return Err(format!(
                "no IPv{} address among [delivery] source_ips to send from",
                if v4 { 4 } else { 6 }
            ));
        }
        let n = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(family().nth(n % count))
    }
}

/// How a session uses TLS.
#[derive(Clone)]
pub enum TlsMode {
    /// Plaintext throughout.
    Off,
    /// STARTTLS when the server offers it; a failed handshake is retried in plaintext (direct MX
    /// delivery, RFC 7435: see `tls.rs`).
    Opportunistic(Arc<rustls::ClientConfig>),
    /// STARTTLS or nothing: a server that does not offer it, refuses it or fails the handshake
    /// fails the session (a relay on port 587).
    Required(Arc<rustls::ClientConfig>),
    /// TLS from the first byte, before the greeting (a relay on port 465, RFC 8314).
    Implicit(Arc<rustls::ClientConfig>),
}

/// A relay login. The password is never printed (`Debug` hides it) nor logged.
#[derive(Clone)]
pub struct Credentials {
    pub username: String,
    password: String,
}

impl Credentials {
    pub fn new(username: String, password: String) -> Self {
        Self { username, password }
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<hidden>")
            .finish()
    }
}

/// How to open a session.
#[derive(Clone)]
pub struct SessionConfig {
    pub helo_name: String,
    pub source_ips: SourceIps,
    pub timeouts: Timeouts,
    pub tls: TlsMode,
    /// Log in after EHLO (a relay); None for MX delivery.
    pub auth: Option<Arc<Credentials>>,
    /// Ask for delivery status notifications (RFC 3461: `NOTIFY=SUCCESS,FAILURE,DELAY`) when
    /// the server offers DSN: through a relay, its success DSN is how the recipient's server's
    /// answer comes back to us.
    pub request_dsn: bool,
}

/// An open SMTP session, greeted and EHLO'd, ready for transactions.
pub struct Session {
    stream: Stream,
    rbuf: Vec<u8>,
    pipelining: bool,
    /// DSNs are asked for in each transaction (asked for, and the server offers them).
    notify: bool,
    pub target: Target,
    pub local_ip: Option<IpAddr>,
    pub tls: Option<TlsInfo>,
    /// A failed transaction leaves state on the server: RSET before the next one.
    needs_rset: bool,
    timeouts: Timeouts,
}

/// What an EHLO reply offers.
#[derive(Debug, Clone, Copy, Default)]
struct Offered {
    capabilities: u32,
    auth_mechanisms: u64,
}

fn err(stage: SmtpStage, message: impl Into<String>) -> SessionError {
    SessionError {
        stage,
        reply: None,
        message: message.into(),
    }
}

impl Session {
    /// Connect, read the greeting, EHLO (HELO if refused), TLS as `cfg.tls` says, AUTH when
    /// `cfg.auth` is set. An opportunistic TLS handshake that fails is retried in plaintext.
    pub async fn open(target: &Target, cfg: &SessionConfig) -> Result<Session, SessionError> {
        match Self::open_once(target, cfg, &cfg.tls).await {
            Err(e)
                if e.stage == SmtpStage::StartTls
                    && e.reply.is_none()
                    && matches!(cfg.tls, TlsMode::Opportunistic(_)) =>
            {
                tracing::info!(host = %target.host, error = %e.message, "TLS handshake failed; retrying in plaintext");
                Self::open_once(target, cfg, &TlsMode::Off).await
            }
            other => other,
        }
    }

    async fn open_once(
        target: &Target,
        cfg: &SessionConfig,
        tls: &TlsMode,
    ) -> Result<Session, SessionError> {
        let t = &cfg.timeouts;
        let socket = match target.addr {
            SocketAddr::V4(_) => TcpSocket::new_v4(),
            SocketAddr::V6(_) => TcpSocket::new_v6(),
        }
        .map_err(|e| err(SmtpStage::Connect, format!("socket: {e}")))?;
        let source = cfg
            .source_ips
            .pick(target.addr.is_ipv4())
            .map_err(|e| err(SmtpStage::Connect, e))?;
        if let Some(ip) = source {
            socket.bind(SocketAddr::new(ip, 0)).map_err(|e| {
                err(
                    SmtpStage::Connect,
                    format!("binding source address {ip}: {e}"),
                )
            })?;
        }
        let tcp = match timeout(t.connect, socket.connect(target.addr)).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                return Err(err(
                    SmtpStage::Connect,
                    format!("connecting to {}: {e}", target.addr),
                ));
            }
            Err(_) => {
                return Err(err(
                    SmtpStage::Connect,
                    format!(
                        "connecting to {} timed out after {:?}",
                        target.addr, t.connect
                    ),
                ));
            }
        };
        let _ = tcp.set_nodelay(true);
        let local_ip = tcp.local_addr().ok().map(|a| a.ip());
        let mut s = Session {
            stream: Stream::Plain(tcp),
            rbuf: Vec::with_capacity(1024),
            pipelining: false,
            notify: false,
            target: target.clone(),
            local_ip,
            tls: None,
            needs_rset: false,
            timeouts: t.clone(),
        };
        if let TlsMode::Implicit(config) = tls {
            s.start_tls(config.clone()).await?;
        }
        let greeting = s.read_reply(SmtpStage::Greeting, t.command).await?;
        if greeting.code != 220 {
            return Err(SessionError {
                stage: SmtpStage::Greeting,
                message: format!("greeting refused: {}", greeting.full()),
                reply: Some(greeting),
            });
        }
        let mut caps = s.ehlo(&cfg.helo_name).await?;
        match tls {
            TlsMode::Opportunistic(config) | TlsMode::Required(config)
                if caps.capabilities & EXT_START_TLS != 0 =>
            {
                s.write(SmtpStage::StartTls, b"STARTTLS\r\n").await?;
                let r = s.read_reply(SmtpStage::StartTls, t.command).await?;
                if r.code == 220 {
                    s.start_tls(config.clone()).await?;
                    caps = s.ehlo(&cfg.helo_name).await?;
                } else if matches!(tls, TlsMode::Required(_)) {
                    return Err(SessionError {
                        stage: SmtpStage::StartTls,
                        message: format!("{} refused STARTTLS: {}", target.host, r.full()),
                        reply: Some(r),
                    });
                } else {
                    // Refused STARTTLS: carry on in plaintext on the same connection.
                    tracing::info!(host = %target.host, reply = %r.full(), "STARTTLS refused");
                }
            }
            TlsMode::Required(_) => {
                return Err(err(
                    SmtpStage::StartTls,
                    format!(
                        "{} does not offer STARTTLS, which tls = \"starttls\" requires \
                         (port 465 speaks TLS from the start: tls = \"tls\")",
                        target.host
                    ),
                ));
            }
            _ => {}
        }
        if let Some(login) = &cfg.auth {
            s.authenticate(login, caps.auth_mechanisms).await?;
        }
        s.pipelining = caps.capabilities & EXT_PIPELINING != 0;
        s.notify = cfg.request_dsn && caps.capabilities & EXT_DSN != 0;
        Ok(s)
    }

    /// AUTH PLAIN (RFC 4616), else LOGIN (what some relays still offer alone), with the
    /// mechanisms the server listed after TLS. A refusal is a session error with the reply.
    async fn authenticate(
        &mut self,
        login: &Credentials,
        offered: u64,
    ) -> Result<(), SessionError> {
        let stage = SmtpStage::Auth;
        let limit = self.timeouts.command;
        let reply = if offered & AUTH_PLAIN != 0 {
            let token = B64.encode(format!("\0{}\0{}", login.username, login.password));
            self.write(stage, format!("AUTH PLAIN {token}\r\n").as_bytes())
                .await?;
            self.read_reply(stage, limit).await?
        } else if offered & AUTH_LOGIN != 0 {
            self.write(stage, b"AUTH LOGIN\r\n").await?;
            let mut r = self.read_reply(stage, limit).await?;
            for answer in [&login.username, &login.password] {
                if r.code != 334 {
                    break;
                }
                self.write(stage, format!("{}\r\n", B64.encode(answer)).as_bytes())
                    .await?;
                r = self.read_reply(stage, limit).await?;
            }
            r
        } else {
            return Err(err(
                stage,
                format!(
                    "{} offers no login Herald speaks (AUTH PLAIN or LOGIN){}",
                    self.target.host,
                    if offered == 0 {
                        "; it offers no AUTH at all on this connection (some relays offer it \
                         only after TLS)"
                    } else {
                        ""
                    }
                ),
            ));
        };
        if reply.code == 235 {
            return Ok(());
        }
        Err(SessionError {
            stage,
            message: format!(
                "{} refused the login as {:?}: {}",
                self.target.host,
                login.username,
                reply.full()
            ),
            reply: Some(reply),
        })
    }

    async fn start_tls(&mut self, config: Arc<rustls::ClientConfig>) -> Result<(), SessionError> {
        let name = match self.target.host.parse::<IpAddr>() {
            Ok(ip) => rustls::pki_types::ServerName::IpAddress(ip.into()),
            Err(_) => {
                rustls::pki_types::ServerName::try_from(self.target.host.clone()).map_err(|e| {
                    err(
                        SmtpStage::StartTls,
                        format!("bad TLS server name {}: {e}", self.target.host),
                    )
                })?
            }
        };
        let plain = match std::mem::replace(&mut self.stream, Stream::Upgrading) {
            Stream::Plain(p) => p,
            _ => return Err(err(SmtpStage::StartTls, "TLS already active")),
        };
        let tls = timeout(
            self.timeouts.command,
            TlsConnector::from(config).connect(name, plain),
        )
        .await
        .map_err(|_| err(SmtpStage::StartTls, "TLS handshake timed out"))?
        .map_err(|e| {
            err(
                SmtpStage::StartTls,
                format!("TLS handshake with {} failed: {e}", self.target.host),
            )
        })?;
        let conn = tls.get_ref().1;
        self.tls = Some(TlsInfo {
            version: conn
                .protocol_version()
                .map(version_name)
                .unwrap_or_default(),
            cipher: conn
                .negotiated_cipher_suite()
                .map(|c| format!("{:?}", c.suite()))
                .unwrap_or_default(),
        });
        self.stream = Stream::Tls(Box::new(tls));
        self.rbuf.clear();
        Ok(())
    }

    /// EHLO, falling back to HELO when EHLO is refused. Returns what the server offers.
    async fn ehlo(&mut self, helo_name: &str) -> Result<Offered, SessionError> {
        self.write(SmtpStage::Ehlo, format!("EHLO {helo_name}\r\n").as_bytes())
            .await?;
        let (reply, raw) = self
            .read_reply_raw(SmtpStage::Ehlo, self.timeouts.command)
            .await?;
        if reply.code == 250 {
            return Ok(EhloResponse::parse(&mut raw.iter())
                .map(|e| Offered {
                    capabilities: e.capabilities,
                    auth_mechanisms: e.auth_mechanisms,
                })
                .unwrap_or_default());
        }
        self.write(SmtpStage::Ehlo, format!("HELO {helo_name}\r\n").as_bytes())
            .await?;
        let r = self
            .read_reply(SmtpStage::Ehlo, self.timeouts.command)
            .await?;
        if r.code == 250 {
            Ok(Offered::default())
        } else {
            Err(SessionError {
                stage: SmtpStage::Ehlo,
                message: format!("HELO refused: {}", r.full()),
                reply: Some(r),
            })
        }
    }

    /// Send one message to one recipient. `data` is already dot-stuffed and terminated.
    pub async fn send(&mut self, mail_from: &str, rcpt_to: &str, data: &[u8]) -> TxResult {
        match self.send_inner(mail_from, rcpt_to, data).await {
            Ok(r) => r,
            Err(e) => TxResult::Broken(e),
        }
    }

    async fn send_inner(
        &mut self,
        mail_from: &str,
        rcpt_to: &str,
        data: &[u8],
    ) -> Result<TxResult, SessionError> {
        let t = self.timeouts.clone();
        if self.needs_rset {
            self.write(SmtpStage::MailFrom, b"RSET\r\n").await?;
            let _ = self.read_reply(SmtpStage::MailFrom, t.command).await?;
            self.needs_rset = false;
        }
        let (mail, rcpt) = if self.notify {
            // Headers only come back (RET=HDRS): enough to match, no copy of the content.
            (
                format!("MAIL FROM:<{mail_from}> RET=HDRS\r\n"),
                format!(
                    "RCPT TO:<{rcpt_to}> NOTIFY=SUCCESS,FAILURE,DELAY ORCPT=rfc822;{}\r\n",
                    xtext(rcpt_to)
                ),
            )
        } else {
            (
                format!("MAIL FROM:<{mail_from}>\r\n"),
                format!("RCPT TO:<{rcpt_to}>\r\n"),
            )
        };
        let (mail_r, rcpt_r, data_r);
        if self.pipelining {
            // RFC 2920: MAIL, RCPT and DATA in one write; replies come back in order.
            let mut batch = Vec::with_capacity(mail.len() + rcpt.len() + 6);
            batch.extend_from_slice(mail.as_bytes());
            batch.extend_from_slice(rcpt.as_bytes());
            batch.extend_from_slice(b"DATA\r\n");
            self.write(SmtpStage::MailFrom, &batch).await?;
            mail_r = self.read_reply(SmtpStage::MailFrom, t.command).await?;
            rcpt_r = self.read_reply(SmtpStage::RcptTo, t.command).await?;
            data_r = self.read_reply(SmtpStage::Data, t.command).await?;
        } else {
            self.write(SmtpStage::MailFrom, mail.as_bytes()).await?;
            mail_r = self.read_reply(SmtpStage::MailFrom, t.command).await?;
            if !mail_r.is_positive() {
                self.needs_rset = true;
                return Ok(TxResult::Refused {
                    stage: SmtpStage::MailFrom,
                    reply: mail_r,
                });
            }
            self.write(SmtpStage::RcptTo, rcpt.as_bytes()).await?;
            rcpt_r = self.read_reply(SmtpStage::RcptTo, t.command).await?;
            if !rcpt_r.is_positive() {
                self.needs_rset = true;
                return Ok(TxResult::Refused {
                    stage: SmtpStage::RcptTo,
                    reply: rcpt_r,
                });
            }
            self.write(SmtpStage::Data, b"DATA\r\n").await?;
            data_r = self.read_reply(SmtpStage::Data, t.command).await?;
        }
        if !mail_r.is_positive() {
            self.needs_rset = true;
            return Ok(TxResult::Refused {
                stage: SmtpStage::MailFrom,
                reply: mail_r,
            });
        }
        if !rcpt_r.is_positive() {
            self.needs_rset = true;
            return Ok(TxResult::Refused {
                stage: SmtpStage::RcptTo,
                reply: rcpt_r,
            });
        }
        if data_r.code != 354 {
            self.needs_rset = true;
            return Ok(TxResult::Refused {
                stage: SmtpStage::Data,
                reply: data_r,
            });
        }
        self.write(SmtpStage::EndOfData, data).await?;
        let final_r = self.read_reply(SmtpStage::EndOfData, t.data).await?;
        if final_r.is_positive() {
            Ok(TxResult::Accepted(final_r))
        } else {
            Ok(TxResult::Refused {
                stage: SmtpStage::EndOfData,
                reply: final_r,
            })
        }
    }

    /// Say QUIT politely; errors do not matter any more. After the 221 the server closes
    /// (RFC 5321 §4.1.1.10): waiting a moment for that close keeps the connection counted
    /// against a receiver's limit until the receiver itself has let it go, so the next
    /// connection is not refused as one too many.
    pub async fn quit(mut self) {
        if self.write(SmtpStage::MailFrom, b"QUIT\r\n").await.is_ok()
            && self
                .read_reply(SmtpStage::MailFrom, Duration::from_secs(5))
                .await
                .is_ok()
        {
            let mut chunk = [0u8; 512];
            let closed = async {
                while let Ok(n) = self.stream.read(&mut chunk).await {
                    if n == 0 {
                        break;
                    }
                }
            };
            let _ = timeout(Duration::from_secs(1), closed).await;
        }
        let _ = self.stream.shutdown().await;
    }

    async fn write(&mut self, stage: SmtpStage, bytes: &[u8]) -> Result<(), SessionError> {
        let limit = if stage == SmtpStage::EndOfData {
            self.timeouts.data
        } else {
            self.timeouts.command
        };
        match timeout(limit, async {
            self.stream.write_all(bytes).await?;
            self.stream.flush().await
        })
        .await
        {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(err(stage, format!("writing to {}: {e}", self.target.addr))),
            Err(_) => Err(err(
                stage,
                format!("writing to {} timed out after {limit:?}", self.target.addr),
            )),
        }
    }

    async fn read_reply(
        &mut self,
        stage: SmtpStage,
        limit: Duration,
    ) -> Result<Reply, SessionError> {
        self.read_reply_raw(stage, limit).await.map(|(r, _)| r)
    }

    /// Read one complete (possibly multi-line) reply; returns it parsed and raw.
    async fn read_reply_raw(
        &mut self,
        stage: SmtpStage,
        limit: Duration,
    ) -> Result<(Reply, Vec<u8>), SessionError> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            if let Some(end) = complete_reply_len(&self.rbuf) {
                let raw: Vec<u8> = self.rbuf.drain(..end).collect();
                let reply = parse_reply(&raw).ok_or_else(|| {
                    err(
                        stage,
                        format!("malformed reply: {:?}", String::from_utf8_lossy(&raw)),
                    )
                })?;
                return Ok((reply, raw));
            }
            if self.rbuf.len() > MAX_REPLY {
                return Err(err(stage, "reply longer than 64 KiB"));
            }
            let mut chunk = [0u8; 4096];
            let n = match tokio::time::timeout_at(deadline, self.stream.read(&mut chunk)).await {
                Ok(Ok(0)) => return Err(err(stage, "connection closed by the server")),
                Ok(Ok(n)) => n,
                Ok(Err(e)) => return Err(err(stage, format!("reading the reply: {e}"))),
                Err(_) => {
                    return Err(err(
                        stage,
                        format!("no reply to {} within {limit:?}", stage.as_str()),
                    ));
                }
            };
            self.rbuf.extend_from_slice(&chunk[..n]);
        }
    }
}

/// RFC 3461 §4 xtext: `+`, `=`, controls, space and non-ASCII as `+XX`.
fn xtext(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if (33..=126).contains(&b) && b != b'+' && b != b'=' {
            out.push(b as char);
        } else {
            out.push_str(&format!("+{b:02X}"));
        }
    }
    out
}

/// Length of the first complete reply in `buf`: lines up to one whose 4th byte is not '-'.
fn complete_reply_len(buf: &[u8]) -> Option<usize> {
    let mut start = 0;
    while let Some(nl) = buf[start..].iter().position(|&b| b == b'\n') {
        let line = &buf[start..start + nl];
        start += nl + 1;
        if line.get(3) != Some(&b'-') {
            return Some(start);
        }
    }
    None
}

/// Parse a complete reply: code and enhanced code via smtp-proto, each line's text kept.
pub fn parse_reply(raw: &[u8]) -> Option<Reply> {
    let mut receiver = smtp_proto::response::parser::ResponseReceiver::default();
    let parsed = receiver.parse(&mut raw.iter()).ok()?;
    let enhanced = (parsed.esc[0] != 0)
        .then(|| format!("{}.{}.{}", parsed.esc[0], parsed.esc[1], parsed.esc[2]));
    let lines = String::from_utf8_lossy(raw)
        .lines()
        .map(|l| {
            let rest = l.get(4..).unwrap_or("").trim_end_matches('\r');
            match &enhanced {
                Some(e) => rest
                    .strip_prefix(e.as_str())
                    .map(str::trim_start)
                    .unwrap_or(rest)
                    .to_string(),
                None => rest.to_string(),
            }
        })
        .collect();
    Some(Reply {
        code: parsed.code,
        enhanced,
        lines,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_with_and_without_enhanced_codes() {
        let r = parse_reply(b"250 2.0.0 Ok: queued as 4Xk2\r\n").unwrap();
        assert_eq!(
            (r.code, r.enhanced.as_deref(), r.lines.clone()),
            (250, Some("2.0.0"), vec!["Ok: queued as 4Xk2".to_string()])
        );
        let r = parse_reply(
            b"550-5.1.1 The email account\r\n550-5.1.1 does not exist.\r\n550 5.1.1 Try again.\r\n",
        )
        .unwrap();
        assert_eq!(r.code, 550);
        assert_eq!(
            r.lines,
            vec!["The email account", "does not exist.", "Try again."]
        );
        let r = parse_reply(b"421 Service not available\r\n").unwrap();
        assert_eq!((r.code, r.enhanced), (421, None));
        assert!(parse_reply(b"garbage\r\n").is_none());
    }

    #[test]
    fn xtext_encodes_plus_equals_and_non_ascii() {
        assert_eq!(xtext("ann+news@x.test"), "ann+2Bnews@x.test");
        assert_eq!(xtext("a=b@x.test"), "a+3Db@x.test");
        assert_eq!(xtext("zoë@x.test"), "zo+C3+AB@x.test");
    }

    /// After the 221 the session waits for the server's close (a receiver counts the
    /// connection until then), but not for long.
    #[tokio::test]
    async fn quit_waits_for_the_servers_close_within_a_bound() {
        use std::sync::atomic::{AtomicBool, Ordering};
        use tokio::io::{AsyncBufReadExt, BufReader};
        // A server that answers, then after QUIT takes a moment before it closes (or never
        // closes); `closed` is set just before it does.
        async fn serve(close: bool) -> (SocketAddr, Arc<AtomicBool>) {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let closed = Arc::new(AtomicBool::new(false));
            let flag = closed.clone();
            tokio::spawn(async move {
                let (socket, _) = listener.accept().await.unwrap();
                let (r, mut w) = socket.into_split();
                let mut lines = BufReader::new(r).lines();
                w.write_all(b"220 test ESMTP\r\n").await.unwrap();
                while let Ok(Some(line)) = lines.next_line().await {
                    if line.eq_ignore_ascii_case("QUIT") {
                        w.write_all(b"221 bye\r\n").await.unwrap();
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        if close {
                            flag.store(true, Ordering::SeqCst);
                            return;
                        }
                        std::future::pending::<()>().await;
                    }
                    w.write_all(b"250 test\r\n").await.unwrap();
                }
            });
            (addr, closed)
        }
        let cfg = SessionConfig {
            helo_name: "client.test".into(),
            source_ips: SourceIps::new(Vec::new()),
            timeouts: Timeouts {
                connect: Duration::from_secs(5),
                command: Duration::from_secs(5),
                data: Duration::from_secs(5),
            },
            tls: TlsMode::Off,
            auth: None,
            request_dsn: false,
        };
        let target = |addr| Target {
            host: "mx.test".into(),
            preference: None,
            addr,
        };
        let (addr, closed) = serve(true).await;
        Session::open(&target(addr), &cfg)
            .await
            .unwrap()
            .quit()
            .await;
        assert!(
            closed.load(Ordering::SeqCst),
            "quit returned before the server closed"
        );
        // A server that never closes does not hold the session for ever.
        let (addr, closed) = serve(false).await;
        let quit = Session::open(&target(addr), &cfg).await.unwrap().quit();
        assert!(
            timeout(Duration::from_secs(30), quit).await.is_ok(),
            "quit waited for ever"
        );
        assert!(!closed.load(Ordering::SeqCst));
    }

    #[test]
    fn finds_the_end_of_a_multiline_reply() {
        assert_eq!(complete_reply_len(b"250-a\r\n250-b\r\n"), None);
        assert_eq!(complete_reply_len(b"250-a\r\n250 b\r\nxx"), Some(14));
        assert_eq!(complete_reply_len(b"250\r\n"), Some(5));
    }
}
