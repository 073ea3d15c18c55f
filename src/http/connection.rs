//! One pooled HTTP/1.1 keep-alive connection, and the deadpool manager that opens
//! and checks them.

use std::{io, sync::Arc};

use bytes::Bytes;
use deadpool::managed::{Manager, Metrics, RecycleError, RecycleResult};
use http_body_util::Full;
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use tokio::{net::TcpStream, task::JoinHandle};
use tokio_rustls::TlsConnector;
use tracing::debug;

use super::{HostKey, Scheme};

/// An open connection: hyper's request sender, and the task that drives the socket.
pub struct HttpConnection {
    pub(super) sender: SendRequest<Full<Bytes>>,
    driver: JoinHandle<()>,
    /// The local address, which tells connections apart (tests, logs).
    local: Option<std::net::SocketAddr>,
}

impl std::fmt::Debug for HttpConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpConnection")
            .field("local", &self.local)
            .field("closed", &self.sender.is_closed())
            .finish()
    }
}

impl HttpConnection {
    /// The connection's local socket address.
    pub fn local_addr(&self) -> Option<std::net::SocketAddr> {
        self.local
    }
}

impl Drop for HttpConnection {
    // Stopping the driver drops the socket: the connection is closed, not leaked.
    fn drop(&mut self) {
        self.driver.abort();
    }
}

/// Why a connection could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("TCP connect failed: {0}")]
    Tcp(io::Error),
    #[error("TLS handshake failed: {0}")]
    Tls(io::Error),
    #[error("HTTP handshake failed: {0}")]
    Http(hyper::Error),
}

/// Opens connections to one host and checks idle ones on checkout.
pub struct HttpManager {
    key: HostKey,
    tls: Option<TlsConnector>,
}

impl std::fmt::Debug for HttpManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpManager")
            .field("key", &self.key)
            .field("tls", &self.tls.is_some())
            .finish()
    }
}

impl HttpManager {
    /// A manager for `key`; `tls` is required for https hosts.
    pub fn new(key: HostKey, tls: Option<TlsConnector>) -> Self {
        HttpManager { key, tls }
    }
}

impl Manager for HttpManager {
    type Type = HttpConnection;
    type Error = ConnectError;

    async fn create(&self) -> Result<HttpConnection, ConnectError> {
        let stream = TcpStream::connect((self.key.bare_host(), self.key.port()))
            .await
            .map_err(ConnectError::Tcp)?;
        // Requests are small and written at once; waiting for ACKs only adds latency.
        let _ = stream.set_nodelay(true);
        let local = stream.local_addr().ok();
        let (sender, driver) = match (self.key.scheme(), &self.tls) {
            (Scheme::Https, Some(tls)) => {
                let name = ServerName::try_from(self.key.bare_host().to_owned()).map_err(|e| {
                    ConnectError::Tls(io::Error::new(io::ErrorKind::InvalidInput, e))
                })?;
                let stream = tls.connect(name, stream).await.map_err(ConnectError::Tls)?;
                handshake(TokioIo::new(stream)).await?
            }
            (Scheme::Https, None) => {
                return Err(ConnectError::Tls(io::Error::other(
                    "no TLS configuration for an https host",
                )));
            }
            (Scheme::Http, _) => handshake(TokioIo::new(stream)).await?,
        };
        Ok(HttpConnection {
            sender,
            driver,
            local,
        })
    }

    /// urllib3's `is_connection_dropped`: a connection the peer closed while it sat
    /// idle is refused here (and replaced), never used. hyper's driver reads the idle
    /// socket, so a peer's FIN marks the sender closed.
    async fn recycle(&self, conn: &mut HttpConnection, _: &Metrics) -> RecycleResult<ConnectError> {
        if conn.sender.is_closed() {
            return Err(RecycleError::message("the peer closed the idle connection"));
        }
        // Right after a response the driver may not have signalled readiness yet.
        conn.sender
            .ready()
            .await
            .map_err(|_| RecycleError::message("the peer closed the idle connection"))
    }
}

async fn handshake<T>(io: T) -> Result<(SendRequest<Full<Bytes>>, JoinHandle<()>), ConnectError>
where
    T: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (sender, connection) = http1::handshake(io).await.map_err(ConnectError::Http)?;
    let driver = tokio::spawn(async move {
        if let Err(e) = connection.await {
            debug!(error = %e, "HTTP connection ended with an error");
        }
    });
    Ok((sender, driver))
}

/// TLS client settings: the system's trust store, or the CA files configured for
/// a host instead.
pub(super) fn tls_connector(ca_files: &[std::path::PathBuf]) -> Result<TlsConnector, String> {
    let mut roots = rustls::RootCertStore::empty();
    if ca_files.is_empty() {
        let native = rustls_native_certs::load_native_certs();
        for cert in native.certs {
            let _ = roots.add(cert);
        }
        if roots.is_empty() {
            return Err("no CA certificates found in the system's trust store".into());
        }
    } else {
        for path in ca_files {
            for cert in crate::security::load_ca_certs(path)? {
                roots
                    .add(cert)
                    .map_err(|e| format!("{}: not a usable CA certificate: {e}", path.display()))?;
            }
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}
