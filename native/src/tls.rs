//! Server TLS: the certificate and key files, the handshake, and reloading the certificate
//! without a restart (docs/DECISIONS.md, "TLS").
//!
//! rustls on the `ring` provider (no OpenSSL, no aws-lc). One [`ServerConfig`] serves the HTTP
//! listener (`https://`, `wss://`) and the TCP one (`tls://`); its certificate comes from a
//! resolver that holds the current [`CertifiedKey`] behind a lock. [`ServerTls::reload`] reads
//! the files again and swaps it: handshakes after the swap present the new certificate, open
//! connections keep the session they made. A file that does not load leaves the old one.

use std::{
    fmt, io,
    path::{Path, PathBuf},
    sync::{Arc, RwLock},
};

use rustls::{
    ServerConfig,
    crypto::{CryptoProvider, ring},
    server::{ClientHello, ResolvesServerCert},
    sign::CertifiedKey,
};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject as _};
use tokio::net::TcpStream;
use tokio_rustls::{TlsAcceptor, server::TlsStream};

use crate::{metrics::Metrics, server::Context, sync};

/// Where the certificate chain and its private key are (PEM files).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFiles {
    /// The certificate chain, leaf first (PEM `CERTIFICATE` blocks).
    pub cert: PathBuf,
    /// The private key of the leaf (PEM: PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// Why the certificate or key could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// A file is not PEM of the expected kind.
    #[error("{path}: {reason}")]
    Pem {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// rustls refused the pair (an unsupported key, a key that does not match the certificate).
    #[error("{cert} and {key}: {source}")]
    Rustls {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
        /// Why.
        source: rustls::Error,
    },
}

impl From<TlsError> for io::Error {
    fn from(error: TlsError) -> Self {
        io::Error::new(io::ErrorKind::InvalidInput, error)
    }
}

/// The server's TLS: the acceptor every TLS listener uses, and the reloadable certificate.
/// Cheap to clone.
#[derive(Clone)]
pub struct ServerTls {
    files: TlsFiles,
    current: Arc<Current>,
    acceptor: TlsAcceptor,
}

impl fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerTls").field("files", &self.files).finish_non_exhaustive()
    }
}

/// The certificate handshakes present now.
#[derive(Debug)]
struct Current(RwLock<Arc<CertifiedKey>>);

impl ResolvesServerCert for Current {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(sync::read(&self.0).clone())
    }
}

impl ServerTls {
    /// Loads the files and builds the server configuration.
    pub fn load(files: TlsFiles) -> Result<ServerTls, TlsError> {
        let provider = Arc::new(ring::default_provider());
        let key = certified_key(&files, &provider)?;
        let current = Arc::new(Current(RwLock::new(Arc::new(key))));
        let config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|source| TlsError::Rustls {
                cert: files.cert.clone(),
                key: files.key.clone(),
                source,
            })?
            .with_no_client_auth()
            .with_cert_resolver(current.clone());
        Ok(ServerTls { files, current, acceptor: TlsAcceptor::from(Arc::new(config)) })
    }

    /// Reads the files again and, if they load, presents the new certificate to every handshake
    /// from now on (open connections keep theirs). If they do not, the old one stays.
    pub fn reload(&self) -> Result<(), TlsError> {
        let provider = ring::default_provider();
        let key = certified_key(&self.files, &provider)?;
        *sync::write(&self.current.0) = Arc::new(key);
        Ok(())
    }

    /// The files this certificate is read from.
    pub fn files(&self) -> &TlsFiles {
        &self.files
    }

    /// The server side of the handshake on an accepted connection, bounded by the header
    /// timeout so that a client that never finishes it (or never starts it) cannot hold the
    /// connection, and cut by the shutdown deadline. A failure is logged at debug and counted;
    /// `None` then.
    pub(crate) async fn accept(
        &self,
        stream: TcpStream,
        ctx: &Context,
    ) -> Option<TlsStream<TcpStream>> {
        let peer = stream.peer_addr().ok();
        let timeout = ctx.config.header_timeout;
        // Fallible: a failed handshake hands the socket back, so that it closes only once the
        // failure is counted (a test reading the metric after the close sees it).
        let handshake = self.acceptor.accept(stream).into_fallible();
        tokio::pin!(handshake);
        let (failure, _socket) = tokio::select! {
            () = ctx.abort.cancelled() => return None,
            handshake = tokio::time::timeout(timeout, &mut handshake) => match handshake {
                Ok(Ok(stream)) => return Some(stream),
                Ok(Err((error, socket))) => (error.to_string(), Some(socket)),
                Err(_) => ("timed out".to_owned(), None),
            },
        };
        Metrics::add(&ctx.hub.metrics().tls_handshake_failures, 1);
        tracing::debug!(?peer, error = failure, "tls handshake failed");
        None
    }
}

/// Reads and checks the pair.
fn certified_key(files: &TlsFiles, provider: &CryptoProvider) -> Result<CertifiedKey, TlsError> {
    let pem_error = |path: &Path, reason: String| TlsError::Pem { path: path.to_owned(), reason };
    let cert_pem = read(&files.cert)?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| pem_error(&files.cert, error.to_string()))?;
    if chain.is_empty() {
        return Err(pem_error(&files.cert, "no CERTIFICATE block".to_owned()));
    }
    let key_pem = read(&files.key)?;
    let key = PrivateKeyDer::from_pem_slice(&key_pem)
        .map_err(|error| pem_error(&files.key, format!("no private key: {error}")))?;
    CertifiedKey::from_der(chain, key, provider).map_err(|source| TlsError::Rustls {
        cert: files.cert.clone(),
        key: files.key.clone(),
        source,
    })
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read { path: path.to_owned(), source })
}
