//! urllib3's `PoolManager` over the keyed pool group: requests go to the pool of
//! their (scheme, host, port), with `block`/`pool_timeout`, stale connections
//! replaced, broken ones closed, and retries only where they are safe.

use std::{
    collections::HashMap,
    path::PathBuf,
    sync::{Arc, OnceLock},
    time::{Duration, Instant},
};

use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode, Uri, header};
use http_body_util::{BodyExt, Full};
use tokio_rustls::TlsConnector;
use tracing::{debug, warn};

use super::{
    HostKey, Scheme,
    connection::{HttpConnection, HttpManager, tls_connector},
};
use crate::{
    backoff::Backoff,
    pool::{Acquire, AcquireError, Overflow, PoolGroup, PoolSettings, PoolStats, Pooled},
};

/// How one host's pool is set up (the largest size wins when several users share it).
#[derive(Debug, Clone)]
pub struct HostPoolSettings {
    pub key: HostKey,
    /// urllib3's `maxsize`: connections kept (and, when blocking, open at most).
    pub max_size: usize,
    /// CA certificates to trust instead of the system's, for https.
    pub ca_files: Vec<PathBuf>,
}

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
enum Failure {
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

/// A checked-out connection: pooled, or an extra one beyond a full pool.
enum Lease {
    Pooled(Pooled<HttpManager>),
    Overflow(Overflow<HttpManager>),
}

impl Lease {
    fn conn(&mut self) -> &mut HttpConnection {
        match self {
            Lease::Pooled(conn) => conn,
            Lease::Overflow(conn) => conn,
        }
    }
}

/// Every HTTP host pool of the service.
pub struct HttpPools {
    group: PoolGroup<HostKey, HttpManager>,
}

impl std::fmt::Debug for HttpPools {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpPools")
            .field("group", &self.group)
            .finish()
    }
}

impl HttpPools {
    /// At most `max_pools` host pools; `hosts` sizes (and sets CAs for) the known
    /// ones, others get `default_max_size` and the system's CAs.
    ///
    /// # Errors
    /// A CA file cannot be read or holds no certificate.
    pub fn new(
        max_pools: usize,
        default_max_size: usize,
        connect_timeout: Duration,
        hosts: &[HostPoolSettings],
    ) -> Result<HttpPools, String> {
        let mut sizes: HashMap<HostKey, usize> = HashMap::new();
        let mut cas: HashMap<HostKey, Vec<PathBuf>> = HashMap::new();
        for host in hosts {
            let size = sizes.entry(host.key.clone()).or_insert(0);
            *size = (*size).max(host.max_size);
            cas.entry(host.key.clone())
                .or_default()
                .extend(host.ca_files.iter().cloned());
        }
        let mut connectors: HashMap<HostKey, TlsConnector> = HashMap::new();
        for (key, files) in cas {
            if key.scheme() == Scheme::Https && !files.is_empty() {
                connectors.insert(key, tls_connector(&files)?);
            }
        }
        let system: Arc<OnceLock<Option<TlsConnector>>> = Arc::new(OnceLock::new());
        // Reading the system's trust store is blocking file I/O: do it now, before
        // serving, when a known https host will need it.
        if hosts
            .iter()
            .any(|h| h.key.scheme() == Scheme::Https && !connectors.contains_key(&h.key))
        {
            let _ = system.set(load_system_roots());
        }
        let settings = PoolSettings {
            max_size: default_max_size,
            create_timeout: connect_timeout,
            // The check waits at most for hyper's driver to notice the last response ended.
            recycle_timeout: Some(Duration::from_secs(1)),
            lifo: true,
        };
        let group = PoolGroup::new("http", max_pools, settings, move |key: &HostKey| {
            let tls = match key.scheme() {
                Scheme::Http => None,
                Scheme::Https => connectors
                    .get(key)
                    .cloned()
                    .or_else(|| system.get_or_init(load_system_roots).clone()),
            };
            HttpManager::new(key.clone(), tls)
        })
        .with_max_size_for(move |key| sizes.get(key).copied().unwrap_or(default_max_size));
        Ok(HttpPools { group })
    }

    /// Sends a request through its host's pool, retrying connect failures, requests
    /// that never reached the peer and (only) idempotent ones that may have.
    ///
    /// # Errors
    /// [`HttpError`] once retries are spent, or at once when retrying cannot help.
    pub async fn send(
        &self,
        request: &OutgoingRequest,
        options: &RequestOptions,
    ) -> Result<HttpResponse, HttpError> {
        let key = HostKey::from_uri(&request.url)?;
        let idempotent = options.idempotent || is_idempotent(&request.method);
        let mut backoff = Backoff::new(options.backoff_initial, options.backoff_max);
        let mut attempt = 0;
        let mut stale_retried = false;
        loop {
            let error = match self.attempt(&key, request, options).await {
                Ok(response) => return Ok(response),
                Err(Failure::Final(e)) => return Err(e),
                Err(Failure::MaybeSent(e)) if !idempotent => return Err(e),
                Err(Failure::Stale(e)) if !stale_retried => {
                    debug!(pool = %key, error = %e, "pooled connection closed under us; trying another");
                    stale_retried = true;
                    continue;
                }
                Err(Failure::Stale(e) | Failure::NotSent(e) | Failure::MaybeSent(e)) => e,
            };
            if attempt >= options.retries {
                return Err(error);
            }
            attempt += 1;
            let delay = backoff.record_failure(Instant::now());
            debug!(pool = %key, error = %error, retry_in = ?delay, "HTTP request failed; retrying");
            tokio::time::sleep(delay).await;
        }
    }

    async fn attempt(
        &self,
        key: &HostKey,
        request: &OutgoingRequest,
        options: &RequestOptions,
    ) -> Result<HttpResponse, Failure> {
        let mut lease = self.checkout(key, options).await?;
        let outgoing = build_request(key, request).map_err(Failure::Final)?;
        let pool = || key.to_string();
        let exchange = async {
            let response = match lease.conn().sender.try_send_request(outgoing).await {
                Ok(response) => response,
                Err(mut e) => {
                    let error = HttpError::Transport {
                        pool: pool(),
                        reason: e.error().to_string(),
                    };
                    return Err(if e.take_message().is_some() {
                        Failure::Stale(error)
                    } else {
                        Failure::MaybeSent(error)
                    });
                }
            };
            let (parts, body) = response.into_parts();
            let (body, truncated) = read_prefix(body, options.max_response_bytes)
                .await
                .map_err(|e| {
                    Failure::MaybeSent(HttpError::Transport {
                        pool: pool(),
                        reason: e.to_string(),
                    })
                })?;
            Ok(HttpResponse {
                status: parts.status,
                headers: parts.headers,
                body,
                truncated,
            })
        };
        let outcome = match tokio::time::timeout(options.timeout, exchange).await {
            Ok(outcome) => outcome,
            Err(_) => Err(Failure::MaybeSent(HttpError::Timeout {
                pool: pool(),
                after: options.timeout,
            })),
        };
        match &outcome {
            Ok(response) if keeps_alive(response) => drop(lease),
            // Failed mid-request, cut off by the timeout, or closing: never reused.
            _ => self.discard(key, lease),
        }
        outcome
    }

    async fn checkout(&self, key: &HostKey, options: &RequestOptions) -> Result<Lease, Failure> {
        let mode = if options.block {
            Acquire::Blocking(options.pool_timeout)
        } else {
            Acquire::NonBlocking
        };
        match self.group.acquire(key, mode).await {
            Ok(conn) => Ok(Lease::Pooled(conn)),
            Err(AcquireError::Exhausted { .. }) if !options.block => self
                .group
                .overflow(key)
                .await
                .map(Lease::Overflow)
                .map_err(classify),
            Err(e) => Err(classify(e)),
        }
    }

    fn discard(&self, key: &HostKey, lease: Lease) {
        match lease {
            Lease::Pooled(conn) => self.group.discard(key, conn),
            // Dropping an extra connection closes it and counts it.
            Lease::Overflow(conn) => drop(conn),
        }
    }

    /// A snapshot of every host pool (kind "http").
    pub fn stats(&self) -> Vec<PoolStats> {
        self.group.stats()
    }

    /// Closes every pool.
    pub fn close(&self) {
        self.group.close_all();
    }
}

/// A connector trusting the system's CAs; `None` (logged) when there are none.
fn load_system_roots() -> Option<TlsConnector> {
    tls_connector(&[])
        .map_err(|e| warn!(error = %e, "https hosts cannot be verified"))
        .ok()
}

fn classify(e: AcquireError<super::ConnectError>) -> Failure {
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

/// RFC 9110's idempotent methods.
fn is_idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS | Method::TRACE
    )
}

/// Reads `body` up to `limit` bytes; true when more was left unread.
async fn read_prefix(
    mut body: hyper::body::Incoming,
    limit: usize,
) -> Result<(Bytes, bool), hyper::Error> {
    let mut prefix = bytes::BytesMut::new();
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame?.into_data() else {
            continue;
        };
        let room = limit - prefix.len();
        if data.len() > room {
            prefix.extend_from_slice(&data[..room]);
            return Ok((prefix.freeze(), true));
        }
        prefix.extend_from_slice(&data);
    }
    Ok((prefix.freeze(), false))
}

/// Whether the connection may serve another request after this response.
fn keeps_alive(response: &HttpResponse) -> bool {
    !response.truncated
        && !response
            .headers
            .get_all(header::CONNECTION)
            .iter()
            .any(|v| {
                v.to_str()
                    .is_ok_and(|v| v.to_ascii_lowercase().contains("close"))
            })
}

fn build_request(
    key: &HostKey,
    request: &OutgoingRequest,
) -> Result<hyper::Request<Full<Bytes>>, HttpError> {
    let path = request
        .url
        .path_and_query()
        .map_or("/", http::uri::PathAndQuery::as_str);
    let mut builder = hyper::Request::builder()
        .method(request.method.clone())
        .uri(path)
        .header(header::HOST, key.host_header());
    if let Some(headers) = builder.headers_mut() {
        for (name, value) in &request.headers {
            headers.append(name, value.clone());
        }
    }
    builder
        .body(Full::new(request.body.clone()))
        .map_err(|e| HttpError::Transport {
            pool: key.to_string(),
            reason: format!("cannot build the request: {e}"),
        })
}
