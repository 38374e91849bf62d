//! The session loop. Pipelining-safe: every command in a read is answered in order and the
//! replies are flushed together (RFC 2920).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use smtp_proto::request::receiver::{DataReceiver, RequestReceiver};
use smtp_proto::{Error as ProtoError, Request};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::time::Instant;

/// A reply the server sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerReply {
    pub code: u16,
    pub enhanced: &'static str,
    pub text: String,
}

impl ServerReply {
    pub fn new(code: u16, enhanced: &'static str, text: impl Into<String>) -> Self {
        Self {
            code,
            enhanced,
            text: text.into(),
        }
    }
    fn write_to(&self, out: &mut Vec<u8>) {
        let text = self.text.replace(['\r', '\n'], " ");
        if self.enhanced.is_empty() {
            out.extend_from_slice(format!("{} {}\r\n", self.code, text).as_bytes());
        } else {
            out.extend_from_slice(
                format!("{} {} {}\r\n", self.code, self.enhanced, text).as_bytes(),
            );
        }
    }
}

/// Decides what the server answers. Called from the session task; keep it quick.
pub trait Handler: Send + Sync + 'static {
    /// Answer `RCPT TO`. 250 accepts.
    fn rcpt(&self, from: &str, rcpt: &str) -> ServerReply;
    /// Answer the end of DATA for an accepted message. Store it before returning 250.
    fn data(&self, from: &str, rcpts: &[String], message: &[u8]) -> ServerReply;
}

/// Limits of the listener.
///
/// Deadlines are absolute, not per read: a client trickling one byte every few seconds used
/// to keep its connection (and, with a few more, the whole listener) for as long as it liked.
/// Now each command must be complete within `timeout` of the previous reply, and the DATA
/// within `timeout` plus one second per `min_data_rate` bytes received (Postfix's
/// `smtpd_min_data_rate` rule: a large message on a slow link still gets through, a trickle
/// does not).
#[derive(Debug, Clone)]
pub struct Limits {
    pub hostname: String,
    pub max_message_bytes: usize,
    pub max_recipients: usize,
    pub max_connections: usize,
    /// Connections at once from one address (0: no cap).
    pub max_connections_per_ip: usize,
    /// Time allowed for each command, and the base allowance of the whole DATA transfer.
    pub timeout: Duration,
    /// Bytes per second a DATA transfer must average (each byte earns `1/min_data_rate` s).
    pub min_data_rate: u64,
    /// Offer STARTTLS with this configuration (RFC 3207).
    pub tls: Option<Arc<rustls::ServerConfig>>,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            hostname: "localhost".into(),
            max_message_bytes: 25 * 1024 * 1024,
            max_recipients: 100,
            max_connections: 256,
            max_connections_per_ip: 10,
            timeout: Duration::from_secs(300),
            min_data_rate: 500,
            tls: None,
        }
    }
}

/// Commands that carry no message (NOOP, RSET, greetings, errors) allowed between messages.
const JUNK_LIMIT: u32 = 50;

/// Serve until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    handler: Arc<dyn Handler>,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    let limits = Arc::new(limits);
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let per_ip = Arc::new(herald_domain::connections::PerAddress::default());
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => return,
            accepted = listener.accept() => {
                let Ok((mut stream, peer)) = accepted else {
                    // Out of file descriptors and the like: wait a little instead of spinning.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                let (handler, limits, slots) = (handler.clone(), limits.clone(), slots.clone());
                let ip_slot = per_ip.take(peer.ip(), limits.max_connections_per_ip);
                tokio::spawn(async move {
                    let busy = |mut s: tokio::net::TcpStream, text: &'static [u8]| async move {
                        let _ = tokio::time::timeout(Duration::from_secs(1), s.write_all(text)).await;
                    };
                    let Some(ip_slot) = ip_slot else {
                        busy(stream, b"421 4.7.0 Too many connections from your address, try again later\r\n").await;
                        return;
                    };
                    let Ok(slot) = slots.try_acquire_owned() else {
                        busy(stream, b"421 4.7.0 Too many connections, try again later\r\n").await;
                        return;
                    };
                    if let Err(e) = session(&mut stream, handler.as_ref(), &limits).await {
                        tracing::debug!(error = %e, "inbound session ended");
                    }
                    // The slots are free before the client sees the connection close: a client
                    // that waits for the close after QUIT may connect again at once.
                    drop((ip_slot, slot));
                    drop(stream);
                });
            }
        }
    }
}

enum Phase {
    Command,
    Data {
        receiver: DataReceiver,
        too_big: bool,
    },
}

/// How a run of the command loop ended.
enum Ended<S> {
    Closed,
    /// The client asked for STARTTLS and was told to go ahead: continue over TLS.
    StartTls(S),
}

/// One SMTP session over any byte stream (a TCP connection; an in-memory pipe in the fuzz
/// target). Ends on QUIT, EOF, a protocol error or the idle timeout.
pub async fn session<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    handler: &dyn Handler,
    limits: &Limits,
) -> std::io::Result<()> {
    stream
        .write_all(format!("220 {} ESMTP Herald\r\n", limits.hostname).as_bytes())
        .await?;
    let tls = limits.tls.clone();
    match run(stream, handler, limits, tls.is_some()).await? {
        Ended::Closed => Ok(()),
        Ended::StartTls(stream) => {
            let Some(config) = tls else { return Ok(()) };
            let acceptor = tokio_rustls::TlsAcceptor::from(config);
            let tls_stream =
                match tokio::time::timeout(limits.timeout, acceptor.accept(stream)).await {
                    Ok(Ok(s)) => s,
                    Ok(Err(e)) => return Err(e),
                    Err(_) => return Ok(()),
                };
            // A fresh session over TLS: the client greets again (RFC 3207 §4.2).
            match run(tls_stream, handler, limits, false).await? {
                Ended::Closed | Ended::StartTls(_) => Ok(()),
            }
        }
    }
}

/// Write the replies within `timeout`; false when the client did not take them in time (a
/// client that does not read its replies cannot hold the connection either).
async fn write_within<S: AsyncWrite + Unpin>(
    stream: &mut S,
    out: &[u8],
    timeout: Duration,
) -> std::io::Result<bool> {
    match tokio::time::timeout(timeout, stream.write_all(out)).await {
        Ok(r) => r.map(|()| true),
        Err(_) => Ok(false),
    }
}

/// When the current message must be complete: the timeout, plus the time its bytes so far
/// earned at `min_data_rate` (bytes past the size limit earn no more: the message is refused
/// anyway).
fn data_deadline(limits: &Limits, data_started: Instant, data_bytes: u64) -> Instant {
    let counted = data_bytes.min(limits.max_message_bytes as u64);
    let earned = Duration::from_secs_f64(counted as f64 / limits.min_data_rate.max(1) as f64);
    data_started + limits.timeout + earned
}

/// Read what the client sent by `deadline`; None when it closed, or it was too slow (then told
/// so with a 421).
async fn read_until<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    buf: &mut [u8],
    deadline: Instant,
    in_data: bool,
) -> std::io::Result<Option<usize>> {
    match tokio::time::timeout_at(deadline, stream.read(buf)).await {
        Ok(Ok(0)) => Ok(None),
        Ok(Ok(n)) => Ok(Some(n)),
        Ok(Err(e)) => Err(e),
        Err(_) => {
            let text: &[u8] = if in_data {
                b"421 4.4.2 Message transfer too slow, closing connection\r\n"
            } else {
                b"421 4.4.2 Command timeout, closing connection\r\n"
            };
            let _ = tokio::time::timeout(Duration::from_secs(1), stream.write_all(text)).await;
            Ok(None)
        }
    }
}

/// What a session knows between commands: the transaction so far and how much it chatted.
struct Session<'a> {
    handler: &'a dyn Handler,
    limits: &'a Limits,
    offer_tls: bool,
    from: Option<String>,
    rcpts: Vec<String>,
    /// Commands since the last message that were not part of one.
    junk: u32,
}

/// What the command loop does after a command.
enum Next {
    Continue,
    /// Read the message (354 was answered).
    Data,
    /// Close after the replies are written.
    Quit,
    /// Write the replies, then hand the stream over for TLS.
    StartTls,
}

impl Session<'_> {
    /// The message of this transaction has arrived (`too_big`: it went past the size limit):
    /// answer it, and start over.
    fn message(&mut self, too_big: bool, message: &[u8], out: &mut Vec<u8>) {
        let from = self.from.take().unwrap_or_default();
        let reply = if too_big || message.len() > self.limits.max_message_bytes {
            ServerReply::new(552, "5.3.4", "Message size exceeds fixed limit")
        } else {
            self.handler.data(&from, &self.rcpts, message)
        };
        reply.write_to(out);
        self.rcpts.clear();
        self.junk = 0;
    }

    /// A command that does not parse.
    fn unreadable(&mut self, e: ProtoError, out: &mut Vec<u8>) {
        let text = match e {
            ProtoError::ResponseTooLong => "Line too long".to_string(),
            other => format!("Syntax error: {other:?}"),
        };
        ServerReply::new(500, "5.5.2", text).write_to(out);
        self.junk += 1;
    }

    /// Answer one command into `out`.
    fn command(&mut self, request: Request<String>, out: &mut Vec<u8>) -> Next {
        match request {
            Request::Ehlo { host } | Request::Lhlo { host } => {
                self.junk += 1;
                self.from = None;
                self.rcpts.clear();
                out.extend_from_slice(
                    format!(
                        "250-{} greets {}\r\n250-PIPELINING\r\n250-SIZE {}\r\n{}250-ENHANCEDSTATUSCODES\r\n250 8BITMIME\r\n",
                        self.limits.hostname, host.replace(['\r', '\n'], ""), self.limits.max_message_bytes,
                        if self.offer_tls { "250-STARTTLS\r\n" } else { "" }
                    )
                    .as_bytes(),
                );
            }
            Request::Helo { .. } => {
                self.junk += 1;
                self.from = None;
                self.rcpts.clear();
                ServerReply::new(250, "", self.limits.hostname.clone()).write_to(out);
            }
            Request::Mail { from: f } => {
                if self.from.is_some() {
                    ServerReply::new(503, "5.5.1", "Nested MAIL command").write_to(out);
                } else if f.size > self.limits.max_message_bytes {
                    ServerReply::new(552, "5.3.4", "Message size exceeds fixed limit")
                        .write_to(out);
                } else {
                    self.from = Some(f.address);
                    ServerReply::new(250, "2.1.0", "Ok").write_to(out);
                }
            }
            Request::Rcpt { to } => match &self.from {
                None => ServerReply::new(503, "5.5.1", "Need MAIL command").write_to(out),
                Some(_) if self.rcpts.len() >= self.limits.max_recipients => {
                    ServerReply::new(452, "4.5.3", "Too many recipients").write_to(out)
                }
                Some(f) => {
                    let reply = self.handler.rcpt(f, &to.address);
                    if reply.code / 100 == 2 {
                        self.rcpts.push(to.address);
                    }
                    reply.write_to(out);
                }
            },
            Request::Data => {
                if self.from.is_none() || self.rcpts.is_empty() {
                    ServerReply::new(554, "5.5.1", "No valid recipients").write_to(out);
                } else {
                    ServerReply::new(354, "", "End data with <CR><LF>.<CR><LF>").write_to(out);
                    return Next::Data;
                }
            }
            Request::Rset => {
                self.junk += 1;
                self.from = None;
                self.rcpts.clear();
                ServerReply::new(250, "2.0.0", "Ok").write_to(out);
            }
            Request::Noop { .. } => {
                self.junk += 1;
                ServerReply::new(250, "2.0.0", "Ok").write_to(out)
            }
            Request::Quit => {
                ServerReply::new(221, "2.0.0", "Bye").write_to(out);
                return Next::Quit;
            }
            Request::StartTls if self.offer_tls => {
                ServerReply::new(220, "2.0.0", "Ready to start TLS").write_to(out);
                return Next::StartTls;
            }
            Request::StartTls => ServerReply::new(454, "4.7.0", "TLS not available").write_to(out),
            other => {
                self.junk += 1;
                ServerReply::new(502, "5.5.1", format!("{} not implemented", other.name()))
                    .write_to(out)
            }
        }
        Next::Continue
    }
}

/// The command loop. `offer_tls`: STARTTLS is advertised and accepted.
async fn run<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    handler: &dyn Handler,
    limits: &Limits,
    offer_tls: bool,
) -> std::io::Result<Ended<S>> {
    let mut receiver = RequestReceiver::default();
    let mut phase = Phase::Command;
    let mut session = Session {
        handler,
        limits,
        offer_tls,
        from: None,
        rcpts: Vec::new(),
        junk: 0,
    };
    let mut message: Vec<u8> = Vec::new();
    let mut buf = vec![0u8; 16 * 1024];
    let mut out = Vec::with_capacity(1024);
    // The next command must be complete by this instant.
    let mut command_deadline = Instant::now() + limits.timeout;
    // When the current DATA began, and how many bytes it has brought.
    let mut data_started = Instant::now();
    let mut data_bytes: u64 = 0;
    loop {
        let deadline = match phase {
            Phase::Command => command_deadline,
            Phase::Data { .. } => data_deadline(limits, data_started, data_bytes),
        };
        let in_data = matches!(phase, Phase::Data { .. });
        let Some(n) = read_until(&mut stream, &mut buf, deadline, in_data).await? else {
            return Ok(Ended::Closed);
        };
        if matches!(phase, Phase::Data { .. }) {
            data_bytes += n as u64;
        }
        let mut bytes = buf[..n].iter();
        let mut quit = false;
        let mut completed = false;
        while bytes.len() > 0 || matches!(phase, Phase::Command) {
            // A session that only chats (NOOP, RSET, greetings, errors) cannot hold its slot
            // by answering just before each deadline (Postfix: smtpd_junk_command_limit).
            if session.junk > JUNK_LIMIT {
                ServerReply::new(421, "4.7.0", "Too many commands without a message, closing")
                    .write_to(&mut out);
                quit = true;
                break;
            }
            match &mut phase {
                Phase::Data {
                    receiver: data,
                    too_big,
                } => {
                    if data.ingest(&mut bytes, &mut message) {
                        session.message(*too_big, &message, &mut out);
                        message.clear();
                        phase = Phase::Command;
                        completed = true;
                    } else {
                        if message.len() > limits.max_message_bytes {
                            *too_big = true;
                            message.clear();
                        }
                        break;
                    }
                }
                Phase::Command => {
                    let unread = bytes.len();
                    let request = match receiver.ingest(&mut bytes) {
                        Ok(r) => {
                            completed = true;
                            r.into_owned()
                        }
                        Err(ProtoError::NeedsMoreData { .. }) => break,
                        Err(e) => {
                            session.unreadable(e, &mut out);
                            if bytes.len() == unread {
                                // The parser made no progress: drop the client rather than spin.
                                let _ =
                                    tokio::time::timeout(limits.timeout, stream.write_all(&out))
                                        .await;
                                return Ok(Ended::Closed);
                            }
                            continue;
                        }
                    };
                    match session.command(request, &mut out) {
                        Next::Continue => {}
                        Next::Data => {
                            phase = Phase::Data {
                                receiver: DataReceiver::new(),
                                too_big: false,
                            };
                            data_started = Instant::now();
                            data_bytes = bytes.len() as u64;
                        }
                        Next::Quit => {
                            quit = true;
                            break;
                        }
                        Next::StartTls => {
                            if !write_within(&mut stream, &out, limits.timeout).await? {
                                return Ok(Ended::Closed);
                            }
                            // Whatever was pipelined after STARTTLS is dropped, never executed
                            // inside the TLS session (RFC 3207 §5, the command-injection fix).
                            return Ok(Ended::StartTls(stream));
                        }
                    }
                }
            }
        }
        if !out.is_empty() {
            if !write_within(&mut stream, &out, limits.timeout).await? {
                return Ok(Ended::Closed);
            }
            out.clear();
        }
        if completed {
            command_deadline = Instant::now() + limits.timeout;
        }
        if quit {
            return Ok(Ended::Closed);
        }
    }
}
