//! Why a request failed, and how far a failed attempt got (which decides whether it
//! may be retried).

use std::time::Duration;

use crate::pool::AcquireError;

/// Why a request failed. Messages name the pool (scheme, host, port), never the
/// URL's path or query.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("invalid URL: {0}")]
    Url(#[from] super::UrlError),
    /// `block = true` and no connection came free within `pool_timeout`.
    #[error("{0}")]
    PoolExhausted(String),
    /// Too many pools in use, or the pools were closed.
    #[error("{0}")]
    Pool(String),
    #[error("{0}")]
    Connect(String),
    #[error("{pool}: no complete response within {} ms", .after.as_millis())]
    Timeout { pool: String, after: Duration },
    #[error("{pool}: request failed: {reason}")]
    Transport { pool: String, reason: String },
}

/// How far an attempt got, which decides whether it may be retried.
pub(super) enum Failure {
    /// A pooled connection turned out closed as the request was handed to it: the
    /// request never left, and another connection is tried at once.
    Stale(HttpError),
    /// Nothing reached the peer (connect failed): always safe to retry.
    NotSent(HttpError),
    /// The request may have reached the peer.
    MaybeSent(HttpError),
    /// Retrying cannot help (pool exhausted, too many pools).
    Final(HttpError),
}

/// A failed checkout as the failure of an attempt.
pub(super) fn classify(e: AcquireError<super::ConnectError>) -> Failure {
    match e {
        AcquireError::Exhausted { .. } => Failure::Final(HttpError::PoolExhausted(e.to_string())),
        AcquireError::Connect { .. } | AcquireError::Timeout { .. } => {
            Failure::NotSent(HttpError::Connect(e.to_string()))
        }
        AcquireError::TooManyPools { .. } | AcquireError::Closed { .. } => {
            Failure::Final(HttpError::Pool(e.to_string()))
        }
    }
}
