//! One signed POST of an event: hyper's pooled client (connections kept alive per endpoint)
//! over rustls with the Mozilla roots (and `[webhooks] ca_file`, for a private CA).

use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::deliver::tls::{TlsConfigError, verified_config};

type Https = hyper_rustls::HttpsConnector<HttpConnector>;

/// hyper's pooled HTTP/1.1 client over rustls (Mozilla's roots, and `ca_file`'s), plain http
/// allowed, connecting within `timeout`: what Herald posts and asks other services with.
pub(crate) fn http_client(
    timeout: Duration,
    ca_file: Option<&std::path::Path>,
) -> Result<Client<Https, Full<Bytes>>, TlsConfigError> {
    let tls = (*verified_config(ca_file)?).clone();
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_connect_timeout(Some(timeout));
    http.set_nodelay(true);
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    Ok(Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(60))
        .build(https))
}

/// The most of an answer's body read (then dropped): enough to keep the connection reusable.
const MAX_ANSWER: usize = 64 * 1024;

/// Posts events; cheap to clone (one shared pool).
#[derive(Clone)]
pub struct Poster {
    client: Client<Https, Full<Bytes>>,
    timeout: Duration,
    user_agent: String,
}

impl Poster {
    pub fn new(
        timeout: Duration,
        ca_file: Option<&std::path::Path>,
    ) -> Result<Self, TlsConfigError> {
        Ok(Self {
            client: http_client(timeout, ca_file)?,
            timeout,
            user_agent: format!("Herald-Webhooks/{}", env!("CARGO_PKG_VERSION")),
        })
    }

    /// POST `body` to `url`, signed with `secret`; the HTTP status, or why there was none.
    pub async fn post(
        &self,
        url: &str,
        secret: &str,
        event_id: &str,
        event: &str,
        body: Vec<u8>,
    ) -> Result<u16, String> {
        // The receiver checks the signature's time against its own clock: the system's.
        let signed_at = time::OffsetDateTime::now_utc().unix_timestamp();
        let signature = herald_mail::webhook_signature::sign(secret, signed_at, &body);
        let request = hyper::Request::post(url)
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .header(hyper::header::USER_AGENT, &self.user_agent)
            .header(herald_mail::webhook_signature::HEADER, signature)
            .header("Herald-Event-Id", event_id)
            .header("Herald-Event", event)
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| format!("the request could not be built: {e}"))?;
        let exchange = async {
            let response = self.client.request(request).await.map_err(describe)?;
            let status = response.status().as_u16();
            // Read (a bounded part of) the answer so the connection can carry the next post.
            let _ = Limited::new(response.into_body(), MAX_ANSWER)
                .collect()
                .await;
            Ok(status)
        };
        match tokio::time::timeout(self.timeout, exchange).await {
            Ok(r) => r,
            Err(_) => Err(format!("no answer within {:?}", self.timeout)),
        }
    }
}

/// A client error in words, with its causes (hyper's top-level text is often just
/// "client error (Connect)").
fn describe(e: hyper_util::client::legacy::Error) -> String {
    let mut s = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        s.push_str(": ");
        s.push_str(&cause.to_string());
        source = cause.source();
    }
    s
}
