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
mod error;
mod exchange;
mod key;
mod lease;
mod pools;
mod request;
mod send;
mod settings;

pub use connection::{ConnectError, HttpConnection, HttpManager};
pub use error::HttpError;
pub use key::{HostKey, Scheme, UrlError, redact_url};
pub use pools::{HostPoolSettings, HttpPools};
pub use request::{HttpResponse, OutgoingRequest, RequestOptions};
pub use settings::Settings;
