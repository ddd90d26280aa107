//! TLS for the server and the load generator: a self-signed certificate for `localhost`,
//! `127.0.0.1` and `::1` generated at start-up (rcgen; never written to disk), a rustls
//! server configuration offering HTTP/2 and HTTP/1.1 by ALPN, and a client configuration.
//!
//! Both sides use rustls's aws-lc-rs provider explicitly (not the process default), so this
//! never interferes with the JWT crypto backend chosen in [`crate::crypto`]. The only
//! client verifier accepts **any** certificate (it still checks handshake signatures): it
//! is for the generated certificate on loopback, used only when asked (`--insecure`).

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

/// ALPN protocol id of HTTP/2.
pub const ALPN_H2: &[u8] = b"h2";
/// ALPN protocol id of HTTP/1.1.
pub const ALPN_HTTP11: &[u8] = b"http/1.1";

/// Why a certificate or a TLS configuration could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("TLS: {0}")]
pub struct TlsError(pub String);

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// A fresh self-signed certificate and its private key.
pub fn self_signed() -> Result<(CertificateDer<'static>, PrivateKeyDer<'static>), TlsError> {
    let names = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ];
    let ck = rcgen::generate_simple_self_signed(names).map_err(|e| TlsError(e.to_string()))?;
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(ck.signing_key.serialize_der()));
    Ok((ck.cert.der().clone(), key))
}

/// A fresh self-signed certificate for loopback and `extra_names` (host names a browser
/// maps to loopback, e.g. `site.test`), with the SHA-256 of its public key.
#[derive(Debug)]
pub struct NamedCertificate {
    /// The certificate.
    pub cert: CertificateDer<'static>,
    /// Its private key.
    pub key: PrivateKeyDer<'static>,
    /// Base64 of the SHA-256 of its SubjectPublicKeyInfo: what Chromium's
    /// `--ignore-certificate-errors-spki-list` takes to trust this key and no other.
    pub spki_sha256_b64: String,
}

/// A fresh self-signed certificate covering `localhost`, `127.0.0.1`, `::1` and
/// `extra_names` (see [`NamedCertificate`]).
pub fn self_signed_for(extra_names: &[&str]) -> Result<NamedCertificate, TlsError> {
    use base64::Engine;
    use rcgen::PublicKeyData;
    let mut names = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ];
    names.extend(extra_names.iter().map(|n| (*n).to_owned()));
    let ck = rcgen::generate_simple_self_signed(names).map_err(|e| TlsError(e.to_string()))?;
    let spki = ck.signing_key.subject_public_key_info();
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &spki);
    Ok(NamedCertificate {
        cert: ck.cert.der().clone(),
        key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(ck.signing_key.serialize_der())),
        spki_sha256_b64: base64::engine::general_purpose::STANDARD.encode(digest.as_ref()),
    })
}

/// A server configuration with a freshly generated certificate, ALPN `h2` then `http/1.1`.
pub fn server_config() -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let (cert, key) = self_signed()?;
    server_config_with(cert, key)
}

/// A server configuration presenting `cert` (signed by `key`), ALPN `h2` then `http/1.1`.
pub fn server_config_with(
    cert: CertificateDer<'static>,
    key: PrivateKeyDer<'static>,
) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let mut config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .map_err(|e| TlsError(e.to_string()))?;
    config.alpn_protocols = vec![ALPN_H2.to_vec(), ALPN_HTTP11.to_vec()];
    Ok(Arc::new(config))
}

/// A client configuration that accepts any server certificate (loopback, `--insecure`)
/// and offers `alpn`.
pub fn insecure_client_config(alpn: &[&[u8]]) -> Result<Arc<rustls::ClientConfig>, TlsError> {
    let provider = provider();
    let mut config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider)))
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(Arc::new(config))
}

/// Accepts any certificate, but still verifies that the server holds its key.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

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
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
