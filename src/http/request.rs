//! One request as callers describe it (where, how it is sent, how long it may take,
//! whether it may be retried) and the response they get back.

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode, Uri};

/// How one request is sent.
#[derive(Debug, Clone)]
pub struct RequestOptions {
    /// Wait for a free connection (up to `pool_timeout`) when the pool is full;
    /// otherwise open an extra connection, closed after use.
    pub block: bool,
    pub pool_timeout: Duration,
    /// Per attempt: from sending the request to the end of the response body.
    pub timeout: Duration,
    /// Further attempts after a failed one.
    pub retries: u32,
    pub backoff_initial: Duration,
    pub backoff_max: Duration,
    /// Retry even a non-idempotent request that may have reached the peer (the
    /// receiver deduplicates by the id the request carries).
    pub idempotent: bool,
    /// Read at most this much of a response body. The rest is left unread: the
    /// response is marked `truncated` and its connection is closed, never reused
    /// (what is still on the wire would be taken for the next response).
    pub max_response_bytes: usize,
}

impl Default for RequestOptions {
    fn default() -> Self {
        RequestOptions {
            block: true,
            pool_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(10),
            retries: 2,
            backoff_initial: Duration::from_millis(100),
            backoff_max: Duration::from_secs(2),
            idempotent: false,
            max_response_bytes: 1 << 20,
        }
    }
}

/// A request to send; the URL names its pool.
#[derive(Debug, Clone)]
pub struct OutgoingRequest {
    pub method: Method,
    pub url: Uri,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// A response, its body read to its end or to `max_response_bytes`.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// The body went on past `max_response_bytes`; `body` is its start.
    pub truncated: bool,
}
