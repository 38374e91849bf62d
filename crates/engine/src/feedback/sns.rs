//! Amazon SNS's side of SES events: the signing certificates a message names, and the
//! subscription confirmations. Both are fetched over HTTPS verified against the Mozilla roots,
//! and only from Amazon SNS's own addresses in the region of a configured topic
//! (`herald_mail::webhooks::ses::certificate_url_ok`, `subscribe_url_ok`): a message cannot make
//! Herald fetch anything else, and a certificate from anywhere else is never trusted.
//!
//! A fetched certificate is kept for the process's life, by address (SNS names a new address
//! when Amazon rotates its key), at most [`MAX_CACHED`] of them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use herald_mail::webhooks::ses;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;

use crate::deliver::tls::TlsConfigError;

type Client = hyper_util::client::legacy::Client<
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
    Full<Bytes>,
>;

/// Certificates kept at most (distinct addresses; a flood of new ones empties the cache).
pub const MAX_CACHED: usize = 32;
/// The most of an answer read: a certificate is about 2 KB.
const MAX_ANSWER: usize = 64 * 1024;

/// Fetches SNS's signing certificates and confirms subscriptions.
pub struct Sns {
    client: Client,
    timeout: Duration,
    cache: Mutex<HashMap<String, Arc<Vec<Vec<u8>>>>>,
}

impl Sns {
    pub fn new(timeout: Duration) -> Result<Self, TlsConfigError> {
        Ok(Self {
            client: crate::webhooks::post::http_client(timeout, None)?,
            timeout,
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// The certificates (DER) at `url`, an Amazon SNS signing-certificate address in the
    /// region of `topic_arn`.
    pub async fn certificates(
        &self,
        url: &str,
        topic_arn: &str,
    ) -> Result<Arc<Vec<Vec<u8>>>, String> {
        if !ses::certificate_url_ok(url, topic_arn) {
            return Err(format!(
                "SigningCertURL {url:?} is not an Amazon SNS certificate address"
            ));
        }
        if let Some(c) = self.cached(url) {
            return Ok(c);
        }
        let (status, body) = self.get(url).await?;
        if status != 200 {
            return Err(format!("{url} answered HTTP {status}"));
        }
        let certs = Arc::new(ses::certificates_from_pem(&body).map_err(|e| format!("{url}: {e}"))?);
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= MAX_CACHED {
                cache.clear();
            }
            cache.insert(url.to_string(), certs.clone());
        }
        Ok(certs)
    }

    fn cached(&self, url: &str) -> Option<Arc<Vec<Vec<u8>>>> {
        self.cache.lock().ok()?.get(url).cloned()
    }

    /// Confirm the subscription to `topic_arn` by visiting `url`, its `SubscribeURL`.
    pub async fn confirm(&self, url: &str, topic_arn: &str) -> Result<(), String> {
        if !ses::subscribe_url_ok(url, topic_arn) {
            return Err(format!(
                "SubscribeURL {url:?} is not Amazon SNS's confirmation for {topic_arn}"
            ));
        }
        match self.get(url).await? {
            (200, _) => Ok(()),
            (status, _) => Err(format!("the confirmation answered HTTP {status}")),
        }
    }

    async fn get(&self, url: &str) -> Result<(u16, Vec<u8>), String> {
        let request = hyper::Request::get(url)
            .header(
                hyper::header::USER_AGENT,
                concat!("Herald/", env!("CARGO_PKG_VERSION")),
            )
            .body(Full::new(Bytes::new()))
            .map_err(|e| format!("the request could not be built: {e}"))?;
        let exchange = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| e.to_string())?;
            let status = response.status().as_u16();
            let body = Limited::new(response.into_body(), MAX_ANSWER)
                .collect()
                .await
                .map_err(|e| format!("reading the answer: {e}"))?
                .to_bytes();
            Ok((status, body.to_vec()))
        };
        match tokio::time::timeout(self.timeout, exchange).await {
            Ok(r) => r,
            Err(_) => Err(format!("no answer within {:?}", self.timeout)),
        }
    }
}
