//! The one libvirt connection of the process, opened lazily and repaired on use.
//!
//! Modelled on Nova's `LibvirtDriver._get_connection`: a lock around the cached
//! connection, a liveness test before use, a reconnect when it is dead. Callers that
//! arrive during an outage share one connect attempt: the attempt runs under the
//! lock, and while its backoff delay lasts later callers fail fast with its error
//! instead of trying again, so 100 callers never cause 100 connects.

use std::{
    ffi::CString,
    future::Future,
    os::raw::c_int,
    pin::Pin,
    sync::{Arc, Mutex as StdMutex, PoisonError, atomic::Ordering},
    time::Instant,
};

use tokio::sync::{Mutex, Notify, OwnedSemaphorePermit, Semaphore};
use tracing::{Instrument, Span, debug, info, warn};
use virt::{connect::Connect, sys};

use super::{
    HypervisorError, event_loop,
    event_sink::{CloseSignal, EventSink},
    ffi, uri,
};
use crate::config::LibvirtConfig;

/// A boxed future, for the listener's object-safe async hooks.
pub type BoxFuture<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// Told about every connect outcome, before the caller that triggered it continues.
///
/// This is where the host is enabled or disabled and health is updated; running it
/// inline (not on a channel) means a caller that saw a failure also sees its effects.
pub trait ConnectionListener: Send + Sync + 'static {
    /// A connection was (re)established.
    fn connected(&self) -> BoxFuture<'_>;
    /// A connect attempt failed or a live connection was lost; `reason` is safe to show.
    fn disconnected<'a>(&'a self, reason: &'a str) -> BoxFuture<'a>;
}

/// Several listeners, told in order.
pub struct Listeners(pub Vec<Arc<dyn ConnectionListener>>);

impl std::fmt::Debug for Listeners {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Listeners({})", self.0.len())
    }
}

impl ConnectionListener for Listeners {
    fn connected(&self) -> BoxFuture<'_> {
        Box::pin(async move {
            for listener in &self.0 {
                listener.connected().await;
            }
        })
    }

    fn disconnected<'a>(&'a self, reason: &'a str) -> BoxFuture<'a> {
        Box::pin(async move {
            for listener in &self.0 {
                listener.disconnected(reason).await;
            }
        })
    }
}

/// What the hypervisor said about itself when the connection was opened.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HypervisorInfo {
    pub hypervisor_type: String,
    pub hypervisor_version: String,
    pub libvirt_version: String,
}

/// A snapshot of the connection's state for `GetHost`.
#[derive(Debug, Clone, Default)]
pub struct ConnectionStatus {
    pub connected: bool,
    pub uri: String,
    pub read_only: bool,
    pub info: Option<HypervisorInfo>,
    pub reconnects: u64,
    pub connect_attempts: u64,
    pub connect_failures: u64,
    pub last_error: Option<String>,
    /// The libvirt library this process runs with, known before any connect.
    pub local_libvirt_version: String,
}

/// The process's libvirt connection holder.
pub struct Hypervisor {
    settings: LibvirtConfig,
    redacted_uri: String,
    slot: Mutex<Slot>,
    status: StdMutex<ConnectionStatus>,
    listener: Arc<dyn ConnectionListener>,
    events: Arc<EventSink>,
    /// Woken by a connection's close callback.
    closed: Arc<Notify>,
    /// Set by [`Hypervisor::close`]: no connection is opened after it.
    shut_down: std::sync::atomic::AtomicBool,
}

struct Slot {
    live: Option<Arc<LiveConnection>>,
    backoff: crate::backoff::Backoff,
    last_failure: Option<HypervisorError>,
    successes: u64,
}

/// One open connection plus the cap on calls in flight over it.
struct LiveConnection {
    conn: StdMutex<Option<Connect>>,
    /// `signal.closed` is this connection's "dead" flag, set by the close callback
    /// or by a call that found the connection broken.
    signal: Arc<CloseSignal>,
    calls: Arc<Semaphore>,
    registrations: Registrations,
}

/// What was registered on a connection and must be removed before it is closed.
#[derive(Debug, Default, Clone, Copy)]
struct Registrations {
    lifecycle: Option<c_int>,
    close: bool,
}

/// Whether an operation may be repeated after a reconnect when the connection broke
/// while it was in flight (it may or may not have reached libvirt).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Reads: repeating them is harmless.
    Safe,
    /// Mutations: repeated only if the connection was found dead before sending.
    OnlyIfUnsent,
}

enum CallError {
    /// The liveness check failed before anything was sent.
    DeadBeforeSend,
    Failed(HypervisorError),
}

impl std::fmt::Debug for Hypervisor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hypervisor")
            .field("uri", &self.redacted_uri)
            .finish_non_exhaustive()
    }
}

impl Hypervisor {
    /// Prepares the connection holder; nothing is opened until the first call.
    ///
    /// # Errors
    /// libvirt's event loop could not be started.
    pub fn new(
        settings: LibvirtConfig,
        listener: Arc<dyn ConnectionListener>,
        events: Arc<EventSink>,
    ) -> Result<Self, HypervisorError> {
        // Before any connection opens, or libvirt never delivers events for it.
        event_loop::ensure_running().map_err(HypervisorError::Internal)?;
        let redacted_uri = uri::redact(&settings.uri);
        let backoff = crate::backoff::Backoff::new(
            settings.reconnect_backoff_initial,
            settings.reconnect_backoff_max,
        );
        let status = ConnectionStatus {
            uri: redacted_uri.clone(),
            read_only: settings.read_only,
            local_libvirt_version: Connect::version().map(format_version).unwrap_or_default(),
            ..ConnectionStatus::default()
        };
        Ok(Hypervisor {
            settings,
            redacted_uri,
            slot: Mutex::new(Slot {
                live: None,
                backoff,
                last_failure: None,
                successes: 0,
            }),
            status: StdMutex::new(status),
            listener,
            events,
            closed: Arc::new(Notify::new()),
            shut_down: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// Reconnects in the background whenever libvirt closes the connection, without
    /// waiting for a caller. Runs until the task is aborted.
    pub async fn watch_connection(self: Arc<Self>) {
        loop {
            self.closed.notified().await;
            loop {
                match self.connection().await {
                    Ok(_) => break,
                    Err(_) => {
                        let wait = self.retry_delay().await;
                        tokio::time::sleep(wait.max(std::time::Duration::from_millis(10))).await;
                    }
                }
            }
        }
    }

    async fn retry_delay(&self) -> std::time::Duration {
        self.slot
            .lock()
            .await
            .backoff
            .remaining(Instant::now())
            .unwrap_or_default()
    }

    /// The libvirt URI with any password hidden.
    pub fn redacted_uri(&self) -> &str {
        &self.redacted_uri
    }

    /// Whether the connection is opened read-only.
    pub fn read_only(&self) -> bool {
        self.settings.read_only
    }

    /// The connection's current state.
    pub fn status(&self) -> ConnectionStatus {
        self.status
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Makes sure a live connection exists, connecting if needed.
    ///
    /// # Errors
    /// [`HypervisorError::Unavailable`] when libvirt cannot be reached.
    pub async fn ensure_connected(&self) -> Result<(), HypervisorError> {
        self.connection().await.map(drop)
    }

    /// Runs `op` against the connection on a blocking thread.
    ///
    /// The connection is checked for liveness first; if it is dead it is replaced
    /// and `op` runs on the new one. If it breaks while `op` is in flight, `op` is
    /// repeated once on a fresh connection when `retry` allows it.
    ///
    /// # Errors
    /// `op`'s own error, [`HypervisorError::Unavailable`] when libvirt cannot be
    /// reached, [`HypervisorError::Timeout`] when it does not answer in time.
    pub async fn call<T, F>(
        &self,
        operation: &'static str,
        retry: Retry,
        op: F,
    ) -> Result<T, HypervisorError>
    where
        T: Send + 'static,
        F: Fn(&Connect) -> Result<T, HypervisorError> + Send + Sync + 'static,
    {
        let op = Arc::new(op);
        let live = self.connection().await?;
        match self.call_once(&live, operation, Arc::clone(&op)).await {
            Ok(value) => Ok(value),
            Err(CallError::DeadBeforeSend) => {
                self.lost(&live, "libvirt connection found closed").await;
                let fresh = self.connection().await?;
                self.call_once(&fresh, operation, op)
                    .await
                    .map_err(into_error)
            }
            Err(CallError::Failed(e)) if e.is_connection_loss() => {
                self.lost(&live, &e.to_string()).await;
                let fresh = self.connection().await?;
                if retry == Retry::Safe {
                    self.call_once(&fresh, operation, op)
                        .await
                        .map_err(into_error)
                } else {
                    Err(e)
                }
            }
            Err(CallError::Failed(e)) => Err(e),
        }
    }

    /// Closes the connection for good (shutdown): later calls fail with
    /// [`HypervisorError::Unavailable`] instead of opening a new one, whose callbacks
    /// nobody would deregister.
    pub async fn close(&self) {
        let mut slot = self.slot.lock().await;
        self.shut_down.store(true, Ordering::Release);
        if let Some(live) = slot.live.take() {
            close_in_background(live).await;
        }
        self.set_status(|s| s.connected = false);
    }

    async fn call_once<T, F>(
        &self,
        live: &Arc<LiveConnection>,
        operation: &'static str,
        op: Arc<F>,
    ) -> Result<T, CallError>
    where
        T: Send + 'static,
        F: Fn(&Connect) -> Result<T, HypervisorError> + Send + Sync + 'static,
    {
        let deadline = Instant::now() + self.settings.call_timeout;
        let timeout = || {
            CallError::Failed(HypervisorError::Timeout {
                operation,
                after: self.settings.call_timeout,
            })
        };
        // libvirtd serves a handful of requests per client at once: queue here, not there.
        let permit =
            tokio::time::timeout_at(deadline.into(), Arc::clone(&live.calls).acquire_owned())
                .await
                .map_err(|_| timeout())?
                .map_err(|_| {
                    CallError::Failed(HypervisorError::Unavailable(
                        "libvirt connection closed".into(),
                    ))
                })?;
        let live = Arc::clone(live);
        let span = Span::current();
        let task = tokio::task::spawn_blocking(move || {
            let _permit: OwnedSemaphorePermit = permit;
            span.in_scope(|| live.run(|conn| op(conn)))
        });
        match tokio::time::timeout_at(deadline.into(), task).await {
            Ok(Ok(result)) => result,
            Ok(Err(join)) => Err(CallError::Failed(HypervisorError::Internal(format!(
                "{operation} panicked: {join}"
            )))),
            // The blocking thread keeps its permit until libvirt answers.
            Err(_) => Err(timeout()),
        }
    }

    /// The live connection, opened or replaced if needed.
    async fn connection(&self) -> Result<Arc<LiveConnection>, HypervisorError> {
        let mut slot = self.slot.lock().await;
        if self.shut_down.load(Ordering::Acquire) {
            return Err(HypervisorError::Unavailable(
                "the service is shutting down; libvirt is closed".into(),
            ));
        }
        if let Some(live) = &slot.live {
            if !live.is_dead() {
                return Ok(Arc::clone(live));
            }
            if let Some(dead) = slot.live.take() {
                let reason = close_reason(dead.signal.reason.load(Ordering::Acquire));
                self.mark_lost(&dead, reason);
                close_in_background(dead).await;
            }
        }
        if slot.backoff.remaining(Instant::now()).is_some() {
            // Another caller's attempt failed moments ago: share its outcome.
            return Err(slot
                .last_failure
                .clone()
                .unwrap_or_else(|| HypervisorError::Unavailable("libvirt is unreachable".into())));
        }
        self.connect(&mut slot)
            .instrument(tracing::info_span!("libvirt_connect"))
            .await
    }

    async fn connect(&self, slot: &mut Slot) -> Result<Arc<LiveConnection>, HypervisorError> {
        self.set_status(|s| s.connect_attempts += 1);
        let signal = Arc::new(CloseSignal {
            wake: Arc::clone(&self.closed),
            ..CloseSignal::default()
        });
        match self.open_with_timeout(Arc::clone(&signal)).await {
            Ok((conn, info, registrations)) => {
                slot.backoff.record_success();
                slot.last_failure = None;
                let reconnect = slot.successes > 0;
                slot.successes += 1;
                let live = Arc::new(LiveConnection {
                    conn: StdMutex::new(Some(conn)),
                    signal,
                    calls: Arc::new(Semaphore::new(self.settings.max_concurrent_calls)),
                    registrations,
                });
                slot.live = Some(Arc::clone(&live));
                info!(uri = %self.redacted_uri, hypervisor = %info.hypervisor_type, reconnect, "connected to libvirt");
                self.set_status(|s| {
                    s.connected = true;
                    s.reconnects += u64::from(reconnect);
                    s.info = Some(info);
                });
                self.listener.connected().await;
                Ok(live)
            }
            Err(message) => {
                let delay = slot.backoff.record_failure(Instant::now());
                warn!(uri = %self.redacted_uri, error = %message, retry_in = ?delay, "cannot connect to libvirt");
                let err = HypervisorError::Unavailable(message.clone());
                slot.last_failure = Some(err.clone());
                self.set_status(|s| {
                    s.connected = false;
                    s.connect_failures += 1;
                    s.last_error = Some(message.clone());
                });
                self.listener.disconnected(&message).await;
                Err(err)
            }
        }
    }

    /// Opens a connection on a blocking thread; `virConnectOpen` against a hung daemon
    /// would otherwise wait forever.
    async fn open_with_timeout(
        &self,
        signal: Arc<CloseSignal>,
    ) -> Result<(Connect, HypervisorInfo, Registrations), String> {
        let settings = self.settings.clone();
        let timeout = settings.connect_timeout;
        let events = Arc::clone(&self.events);
        let task = tokio::task::spawn_blocking(move || open(&settings, events, signal));
        let outcome = match tokio::time::timeout(timeout, task).await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(join)) => Err(format!("connect task failed: {join}")),
            Err(_) => Err(format!("no answer within {timeout:?}")),
        };
        outcome.map_err(|reason| {
            format!(
                "cannot connect to libvirt at {}: {}",
                self.redacted_uri,
                self.scrub(&reason)
            )
        })
    }

    /// Marks `live` dead, found broken by a call.
    async fn lost(&self, live: &Arc<LiveConnection>, reason: &str) {
        if !live.signal.closed.swap(true, Ordering::AcqRel) {
            self.mark_lost(live, reason);
        }
    }

    fn mark_lost(&self, live: &LiveConnection, reason: &str) {
        if live.signal.reported.swap(true, Ordering::AcqRel) {
            return;
        }
        warn!(uri = %self.redacted_uri, reason, "libvirt connection lost");
        self.set_status(|s| {
            s.connected = false;
            s.last_error = Some(reason.to_owned());
        });
    }

    /// Hides the configured passphrase should libvirt echo it in a message.
    fn scrub(&self, message: &str) -> String {
        let message = uri::redact(message);
        match &self.settings.passphrase {
            Some(secret) if !secret.expose().is_empty() => message.replace(secret.expose(), "***"),
            _ => message,
        }
    }

    fn set_status(&self, update: impl FnOnce(&mut ConnectionStatus)) {
        update(&mut self.status.lock().unwrap_or_else(PoisonError::into_inner));
    }
}

impl LiveConnection {
    fn is_dead(&self) -> bool {
        self.signal.closed.load(Ordering::Acquire)
    }

    /// Runs `op` if the connection is still alive. Blocking.
    fn run<T>(
        &self,
        op: impl FnOnce(&Connect) -> Result<T, HypervisorError>,
    ) -> Result<T, CallError> {
        let guard = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(conn) = guard.as_ref() else {
            return Err(CallError::DeadBeforeSend);
        };
        // A cheap local check: the event loop flags a remote socket that hit EOF.
        if self.is_dead() || !conn.is_alive().unwrap_or(false) {
            return Err(CallError::DeadBeforeSend);
        }
        // The connect cannot be shared across threads while a call runs on it, but
        // libvirt connections are thread-safe: hold a clone, not the lock.
        let conn = conn.clone();
        drop(guard);
        let result = op(&conn);
        release(conn);
        result.map_err(CallError::Failed)
    }
}

/// Deregisters the callbacks and closes a connection, on a blocking thread: for a
/// remote URI both are RPCs.
async fn close_in_background(live: Arc<LiveConnection>) {
    live.signal.closed.store(true, Ordering::Release);
    let conn = live
        .conn
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take();
    let registrations = live.registrations;
    if let Some(conn) = conn {
        let closed = tokio::task::spawn_blocking(move || {
            deregister(&conn, registrations);
            release(conn);
        })
        .await;
        if let Err(e) = closed {
            warn!(error = %e, "closing the libvirt connection failed");
        }
    }
}

/// Releases one reference on a connection without `virt`'s panicking `Drop`.
fn release(conn: Connect) {
    if let Err(e) = ffi::close(conn) {
        debug!(error = %e.message(), "libvirt reported an error while closing a connection");
    }
}

/// Removes the callbacks registered on `conn`; libvirt frees their contexts.
fn deregister(conn: &Connect, registrations: Registrations) {
    if let Some(id) = registrations.lifecycle
        && let Err(e) = ffi::deregister_lifecycle(conn, id)
    {
        debug!(error = %e.message(), "lifecycle callback not deregistered (connection gone)");
    }
    if registrations.close
        && let Err(e) = ffi::unregister_close(conn)
    {
        debug!(error = %e.message(), "close callback not unregistered (connection gone)");
    }
}

/// Registers the lifecycle callback and, where a socket can drop, the close callback.
fn register(
    conn: &Connect,
    uri: &str,
    events: Arc<EventSink>,
    signal: Arc<CloseSignal>,
) -> Registrations {
    let lifecycle = match ffi::register_lifecycle(conn, events) {
        Ok(id) => Some(id),
        Err(e) => {
            warn!(error = %e.message(), "this libvirt URI delivers no lifecycle events; changes are seen only at reconciliation");
            None
        }
    };
    // In-process drivers never close by themselves, and some accept the registration
    // without keeping it (so its context would never be freed): remote URIs only.
    let close = uri::is_remote(uri)
        && match ffi::register_close(conn, signal) {
            Ok(()) => true,
            Err(e) => {
                warn!(error = %e.message(), "no close callback: a dropped connection is noticed on use");
                false
            }
        };
    Registrations { lifecycle, close }
}

/// libvirt's close reason as words.
fn close_reason(reason: i32) -> &'static str {
    match u32::try_from(reason).unwrap_or(u32::MAX) {
        sys::VIR_CONNECT_CLOSE_REASON_EOF => "libvirt closed the connection (end of file)",
        sys::VIR_CONNECT_CLOSE_REASON_KEEPALIVE => "libvirt stopped answering keepalives",
        sys::VIR_CONNECT_CLOSE_REASON_CLIENT => "the connection was closed by this service",
        _ => "the libvirt connection failed",
    }
}

/// Opens, describes and subscribes to a connection. Blocking.
fn open(
    settings: &LibvirtConfig,
    events: Arc<EventSink>,
    signal: Arc<CloseSignal>,
) -> Result<(Connect, HypervisorInfo, Registrations), String> {
    let creds = ffi::Credentials {
        username: settings
            .username
            .as_deref()
            .map(CString::new)
            .transpose()
            .map_err(|_| "libvirt.username contains a NUL byte".to_owned())?,
        passphrase: settings
            .passphrase
            .as_ref()
            .map(|p| CString::new(p.expose()))
            .transpose()
            .map_err(|_| "libvirt.passphrase_file contains a NUL byte".to_owned())?,
    };
    let conn = ffi::open_auth(&settings.uri, &creds, settings.read_only)
        .map_err(|e| e.message().to_owned())?;
    if uri::is_remote(&settings.uri) {
        // Notices a hung daemon within interval * (count + 1) seconds.
        if let Err(e) = conn.set_keep_alive(
            settings.keepalive_interval_secs as i32,
            settings.keepalive_count,
        ) {
            debug!(error = %e.message(), "libvirt keepalive not enabled");
        }
    }
    match describe(&conn) {
        Ok(info) => {
            let registrations = register(&conn, &settings.uri, events, signal);
            Ok((conn, info, registrations))
        }
        Err(e) => {
            release(conn);
            Err(e)
        }
    }
}

fn describe(conn: &Connect) -> Result<HypervisorInfo, String> {
    let hypervisor_type = conn.driver_type().map_err(|e| e.message().to_owned())?;
    let hypervisor_version = conn.hyp_version().map(format_version).unwrap_or_default();
    let libvirt_version = conn
        .lib_version()
        .or_else(|_| Connect::version())
        .map(format_version)
        .unwrap_or_default();
    Ok(HypervisorInfo {
        hypervisor_type,
        hypervisor_version,
        libvirt_version,
    })
}

/// libvirt packs versions as major * 1,000,000 + minor * 1,000 + release.
fn format_version(packed: u32) -> String {
    format!(
        "{}.{}.{}",
        packed / 1_000_000,
        packed / 1_000 % 1_000,
        packed % 1_000
    )
}

fn into_error(e: CallError) -> HypervisorError {
    match e {
        CallError::DeadBeforeSend => {
            HypervisorError::Unavailable("libvirt connection closed right after connecting".into())
        }
        CallError::Failed(e) => e,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_unpack_like_virsh_prints_them() {
        assert_eq!(format_version(9_000_000), "9.0.0");
        assert_eq!(format_version(10_010_002), "10.10.2");
    }
}
