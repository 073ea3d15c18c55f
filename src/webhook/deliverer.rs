//! Delivers one webhook's outbox: every row POSTed in order, marked delivered on a
//! 2xx, retried with backoff while the receiver is unreachable or answers 408, 429
//! or 5xx, and set aside as a permanent failure on any other answer.

use std::{
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use tokio::sync::Notify;
use tracing::{debug, info, warn};

use super::{Settings, signature::sign};
use crate::{
    delivery::{Pacing, Pass, Sink, drive},
    http::{HttpPools, OutgoingRequest, RequestOptions},
    secret::Secret,
    store::{OutboxRow, Store},
};

const BATCH: usize = 100;
/// Enough of a refusal's body to tell an operator why.
const REASON_BYTES: usize = 200;

/// The headers a receiver reads.
pub mod headers {
    /// The lifecycle event's id on its host; with the host, the deduplication key.
    pub const EVENT_ID: &str = "x-virtplane-event-id";
    /// `lifecycle.<type>`.
    pub const EVENT_TYPE: &str = "x-virtplane-event-type";
    pub const HOST: &str = "x-virtplane-host";
    /// Unix seconds when this attempt was signed.
    pub const TIMESTAMP: &str = "x-virtplane-timestamp";
    /// `sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`.
    pub const SIGNATURE: &str = "x-virtplane-signature";
}

/// What one attempt came to.
enum Outcome {
    Delivered(StatusCode),
    /// The receiver refused the delivery for good.
    Rejected(StatusCode, String),
    /// Worth another try later.
    Retry(Option<StatusCode>, String),
}

/// Delivers one webhook's pending rows.
#[derive(Debug)]
pub struct Deliverer {
    store: Store,
    pools: Arc<HttpPools>,
    hostname: String,
    hook: Settings,
    wake: Arc<Notify>,
    /// The signing secret in use: from the configuration, then from `secret_file`.
    secret: Secret,
}

impl Deliverer {
    pub fn new(
        store: Store,
        pools: Arc<HttpPools>,
        hostname: String,
        hook: Settings,
        wake: Arc<Notify>,
    ) -> Self {
        Deliverer {
            secret: hook.secret.clone(),
            store,
            pools,
            hostname,
            hook,
            wake,
        }
    }

    /// Delivers until `stop` fires, then keeps delivering while the receiver accepts,
    /// until the deadline `stop` carries; what is left waits in the outbox for the
    /// next start.
    pub async fn run(mut self, stop: crate::workers::Drain) {
        let wake = Arc::clone(&self.wake);
        let pacing = Pacing {
            retry_initial: self.hook.retry_initial,
            retry_max: self.hook.retry_max,
            idle_poll: Duration::from_secs(30),
        };
        drive(&mut self, &wake, stop, pacing).await;
    }

    /// The signing secret: re-read from its file, if it has one, so a rotation applies
    /// without a restart; a file that cannot be read keeps the last secret in use.
    async fn refresh_secret(&mut self) {
        let Some(path) = &self.hook.secret_file else {
            return;
        };
        match tokio::fs::read_to_string(path).await {
            Ok(text) => {
                let value = text.trim_end_matches(['\n', '\r']);
                if value.is_empty() {
                    warn!(webhook = %self.hook.name, path = %path.display(), "webhook secret file is empty; keeping the previous secret");
                } else if value != self.secret.expose() {
                    self.secret = Secret::new(value.to_owned());
                    info!(webhook = %self.hook.name, "webhook secret reloaded");
                }
            }
            Err(e) => {
                warn!(webhook = %self.hook.name, path = %path.display(), error = %e, "cannot read the webhook secret file; keeping the previous secret")
            }
        }
    }

    async fn deliver_pending(&mut self) -> Pass {
        let rows = match self
            .store
            .pending(&self.hostname, &self.hook.sink(), BATCH)
            .await
        {
            Ok(rows) => rows,
            Err(e) => {
                warn!(webhook = %self.hook.name, error = %e, "cannot read the outbox");
                return Pass::Blocked;
            }
        };
        if !rows.is_empty() {
            self.refresh_secret().await;
        }
        for row in &rows {
            let (status, error, permanent, retry) = match self.deliver(row).await {
                Outcome::Delivered(status) => (Some(status), String::new(), false, false),
                Outcome::Rejected(status, reason) => {
                    warn!(webhook = %self.hook.name, url = %self.hook.redacted_url(), id = row.id, %reason, "delivery refused; not retried");
                    (Some(status), reason, true, false)
                }
                Outcome::Retry(status, reason) => {
                    warn!(webhook = %self.hook.name, url = %self.hook.redacted_url(), %reason, "delivery failed; retrying with backoff");
                    (status, reason, false, true)
                }
            };
            let recorded = self
                .store
                .record_attempt(row.id, status.map(|s| s.as_u16()), &error, permanent)
                .await;
            if let Err(e) = &recorded {
                // A delivery not recorded is sent again: at least once.
                warn!(webhook = %self.hook.name, error = %e, "cannot record a delivery attempt");
            }
            // The head of the queue waits for the backoff; nothing overtakes it.
            if retry || recorded.is_err() {
                return Pass::Blocked;
            }
        }
        if !rows.is_empty() {
            debug!(webhook = %self.hook.name, count = rows.len(), "webhook deliveries done");
        }
        if rows.len() == BATCH {
            Pass::More
        } else {
            Pass::Idle
        }
    }

    async fn deliver(&self, row: &OutboxRow) -> Outcome {
        let request = self.request(row);
        let options = RequestOptions {
            block: self.hook.block,
            pool_timeout: self.hook.pool_timeout,
            timeout: self.hook.timeout,
            // A few quick retries for connect failures; longer outages are the
            // outbox's backoff.
            retries: 2,
            backoff_initial: Duration::from_millis(50),
            backoff_max: Duration::from_millis(500),
            idempotent: self.hook.idempotent,
            // Whatever a receiver answers with a 2xx is delivered; of a refusal only
            // the start is recorded. Nothing more is read (the connection is closed
            // instead of draining a large body).
            max_response_bytes: 4 * REASON_BYTES,
        };
        match self.pools.send(&request, &options).await {
            Ok(response) if response.status.is_success() => Outcome::Delivered(response.status),
            Ok(response)
                if response.status.is_server_error()
                    || response.status == StatusCode::REQUEST_TIMEOUT
                    || response.status == StatusCode::TOO_MANY_REQUESTS =>
            {
                Outcome::Retry(
                    Some(response.status),
                    format!("the receiver answered {}", response.status),
                )
            }
            Ok(response) => {
                let mut reason = format!("the receiver answered {}", response.status);
                let body = String::from_utf8_lossy(&response.body);
                let body: String = body
                    .chars()
                    .filter(|c| !c.is_control())
                    .take(REASON_BYTES)
                    .collect();
                if !body.trim().is_empty() {
                    reason.push_str(": ");
                    reason.push_str(body.trim());
                }
                Outcome::Rejected(response.status, reason)
            }
            Err(e) => Outcome::Retry(None, e.to_string()),
        }
    }

    fn request(&self, row: &OutboxRow) -> OutgoingRequest {
        #[derive(serde::Deserialize)]
        struct Head {
            id: i64,
        }
        let event_id = serde_json::from_str::<Head>(&row.payload).map_or(row.id, |h| h.id);
        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let body = Bytes::from(row.payload.clone());
        let signature = sign(self.secret.expose().as_bytes(), timestamp, &body);
        let value = |v: &str| HeaderValue::from_str(v).unwrap_or(HeaderValue::from_static("?"));
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers.insert(
            header::USER_AGENT,
            HeaderValue::from_static(concat!("virtplane/", env!("CARGO_PKG_VERSION"))),
        );
        headers.insert(headers::EVENT_ID, HeaderValue::from(event_id));
        headers.insert(headers::EVENT_TYPE, value(&row.routing_key));
        headers.insert(headers::HOST, value(&self.hostname));
        headers.insert(headers::TIMESTAMP, HeaderValue::from(timestamp));
        headers.insert(headers::SIGNATURE, value(&signature));
        OutgoingRequest {
            method: Method::POST,
            url: self.hook.url.clone(),
            headers,
            body,
        }
    }
}

impl Sink for Deliverer {
    fn pass(&mut self) -> impl Future<Output = Pass> + Send {
        self.deliver_pending()
    }
}

/// Logs the webhooks at start, URLs without their query.
pub fn announce(hooks: &[Settings]) {
    for hook in hooks {
        info!(webhook = %hook.name, url = %hook.redacted_url(), pool = %hook.key, "delivering lifecycle events to a webhook");
    }
}
