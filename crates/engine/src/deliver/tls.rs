//! Opportunistic STARTTLS (RFC 3207 with RFC 7435's stance): encrypt whenever the server offers
//! it, without authenticating its certificate, because MX certificates are mostly self-signed or
//! for another name and refusing them would only push mail back to plaintext. Authenticated
//! policies (MTA-STS, DANE) are a per-domain upgrade for later.
//!
//! A relay is another matter: it receives our login, so its certificate is checked against
//! the Mozilla roots (bundled: a fresh machine may have no CA store) plus any private CA the
//! operator names ([`verified_config`]).

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};

#[derive(Debug)]
struct AcceptAnyCertificate(WebPkiSupportedAlgorithms);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_schemes()
    }
}

/// The client configuration for opportunistic STARTTLS.
pub fn opportunistic_config() -> Result<Arc<ClientConfig>, rustls::Error> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier = AcceptAnyCertificate(provider.signature_verification_algorithms);
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Why a verified TLS configuration could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TlsConfigError {
    #[error("reading CA certificates from {path}: {source}")]
    CaFile {
        path: String,
        source: rustls::pki_types::pem::Error,
    },
    #[error("{path} holds no CA certificate (PEM, `-----BEGIN CERTIFICATE-----`)")]
    EmptyCaFile { path: String },
    #[error("CA certificate in {path}: {source}")]
    BadCa { path: String, source: rustls::Error },
    #[error(transparent)]
    Rustls(#[from] rustls::Error),
}

/// A client configuration that checks the server's certificate and name: the Mozilla roots,
/// and the certificates in `ca_file` (PEM) when given.
pub fn verified_config(
    ca_file: Option<&std::path::Path>,
) -> Result<Arc<ClientConfig>, TlsConfigError> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = ca_file {
        let shown = path.display().to_string();
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
            .and_then(|i| i.collect::<Result<_, _>>())
            .map_err(|source| TlsConfigError::CaFile {
                path: shown.clone(),
                source,
            })?;
        if certs.is_empty() {
            return Err(TlsConfigError::EmptyCaFile { path: shown });
        }
        for c in certs {
            roots.add(c).map_err(|source| TlsConfigError::BadCa {
                path: shown.clone(),
                source,
            })?;
        }
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Install aws-lc-rs as the process-wide rustls provider (start-up; harmless if repeated).
pub fn install_crypto_provider() {
    let _ = CryptoProvider::install_default(rustls::crypto::aws_lc_rs::default_provider());
}

/// "TLSv1.3" from rustls' `TLSv1_3`.
pub fn version_name(v: rustls::ProtocolVersion) -> String {
    match v {
        rustls::ProtocolVersion::TLSv1_3 => "TLSv1.3".into(),
        rustls::ProtocolVersion::TLSv1_2 => "TLSv1.2".into(),
        other => format!("{other:?}"),
    }
}
