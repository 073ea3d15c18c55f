//! One receiver of lifecycle events as configured: where, signed with what, which
//! events, and how its host pool and retries behave.

use std::{path::PathBuf, time::Duration};

use http::Uri;

use crate::{http::HostKey, model::EventType, secret::Secret};

/// A receiver of lifecycle events.
#[derive(Debug, Clone)]
pub struct Settings {
    pub name: String,
    pub url: Uri,
    pub key: HostKey,
    /// Signs every delivery (HMAC-SHA256 of timestamp and body): the value read at
    /// start.
    pub secret: Secret,
    /// Where the secret was read from, re-read before each round of deliveries so a
    /// rotated secret takes effect without a restart.
    pub secret_file: Option<PathBuf>,
    /// `None`: every lifecycle event type.
    pub types: Option<Vec<EventType>>,
    /// Per attempt, from sending to the end of the response.
    pub timeout: Duration,
    /// The receiver deduplicates by event id, so a delivery that may have reached it
    /// can be sent again at once rather than on the next outbox pass.
    pub idempotent: bool,
    /// urllib3's `maxsize`, `block` and `pool_timeout` for this host's pool.
    pub max_size: usize,
    pub block: bool,
    pub pool_timeout: Duration,
    /// CA certificates to trust instead of the system's (https only).
    pub ca_file: Option<PathBuf>,
    /// Backoff between delivery attempts while the receiver is down or failing.
    pub retry_initial: Duration,
    pub retry_max: Duration,
}

impl Settings {
    /// The URL as it may be shown (no query: tokens hide there).
    pub fn redacted_url(&self) -> String {
        crate::http::redact_url(&self.url, &self.key)
    }

    /// The outbox sink this webhook's deliveries wait in.
    pub fn sink(&self) -> String {
        format!("webhook:{}", self.name)
    }
}
