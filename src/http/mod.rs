//! HTTP host pools after urllib3's `PoolManager` / `HTTPConnectionPool`, on the same
//! keyed-pool mechanism as the AMQP pools ([`crate::pool`]).
//!
//! One pool per (scheme, host, port); each keeps up to `maxsize` HTTP/1.1 keep-alive
//! connections (hyper's `client::conn`, one handshake per pooled connection),
//! hands out the most recently used first, checks on checkout that the peer did not
//! drop the connection, and closes a connection that failed mid-request. hyper-util's
//! legacy client is not used: it caps idle connections per host, never open ones, so
//! it cannot give `maxsize`/`block`.

mod connection;
mod key;
mod pools;
mod settings;

pub use connection::{ConnectError, HttpConnection, HttpManager};
pub use key::{HostKey, Scheme, UrlError, redact_url};
pub use pools::{
    HostPoolSettings, HttpError, HttpPools, HttpResponse, OutgoingRequest, RequestOptions,
};
pub use settings::Settings;

/// Checks that a CA file holds PEM certificates; the error names the file only.
///
/// # Errors
/// Unreadable, not PEM, or no certificate in it.
pub fn check_ca_file(path: &std::path::Path) -> Result<(), String> {
    connection::load_pem_certs(path).map(|_| ())
}

/// The certificates of a PEM file (a CA bundle); the error names the file only.
///
/// # Errors
/// Unreadable, not PEM, or no certificate in it.
pub fn load_ca_certs(
    path: &std::path::Path,
) -> Result<Vec<rustls::pki_types::CertificateDer<'static>>, String> {
    connection::load_pem_certs(path)
}
