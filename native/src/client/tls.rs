//! TLS for `wss://` and `tls://`: rustls on the `ring` provider, trusting the certificates of a
//! CA file ([`Options::ca_file`](super::Options::ca_file)) or, without one, Mozilla's roots
//! (`webpki-roots`, compiled in: no platform store to probe, nothing else to install).

use std::{io, path::Path, sync::Arc};

use rustls::{ClientConfig, RootCertStore, crypto::ring};
use rustls_pki_types::{CertificateDer, ServerName, pem::PemObject as _};
use tokio::net::TcpStream;
use tokio_rustls::{TlsConnector, client::TlsStream};

use super::{Error, TransportError};

/// The client's TLS settings for every connection it makes: built once, when the client starts.
pub(crate) fn connector(ca_file: Option<&Path>) -> Result<TlsConnector, Error> {
    let mut roots = RootCertStore::empty();
    match ca_file {
        Some(path) => {
            let invalid = |reason: String| Error::CaFile { path: path.to_owned(), reason };
            let pem = std::fs::read(path).map_err(|error| invalid(error.to_string()))?;
            let certs = CertificateDer::pem_slice_iter(&pem)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|error| invalid(error.to_string()))?;
            if certs.is_empty() {
                return Err(invalid("no CERTIFICATE block".to_owned()));
            }
            for cert in certs {
                roots.add(cert).map_err(|error| invalid(error.to_string()))?;
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let config = ClientConfig::builder_with_provider(Arc::new(ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|error| Error::CaFile {
            path: ca_file.unwrap_or(Path::new("")).to_owned(),
            reason: error.to_string(),
        })?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}

/// Connects to `addr` (`host:port`) and makes the TLS handshake, checking the certificate for
/// `host` (a name or an IP address).
pub(crate) async fn connect(
    connector: &TlsConnector,
    addr: &str,
) -> Result<TlsStream<TcpStream>, TransportError> {
    let host = addr.rsplit_once(':').map_or(addr, |(host, _)| host);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let name = ServerName::try_from(host.to_owned())
        .map_err(|error| io::Error::new(io::ErrorKind::InvalidInput, error))?;
    let tcp = TcpStream::connect(addr).await?;
    tcp.set_nodelay(true)?;
    Ok(connector.connect(name, tcp).await?)
}
