//! The one libvirt connection of the process, opened lazily and repaired on use.
//!
//! Modelled on Nova's `LibvirtDriver._get_connection`: a lock around the cached
//! connection, a liveness test before use, a reconnect when it is dead. Callers that
//! arrive during an outage share one connect attempt: the attempt runs under the
//! lock, and while its backoff delay lasts later callers fail fast with its error
//! instead of trying again, so 100 callers never cause 100 connects. A background
//! task keeps reconnecting from the start, so a host whose libvirtd comes up after
//! the agent becomes ready without waiting for an RPC.

use std::{
    sync::{Arc, Mutex as StdMutex, PoisonError, atomic::Ordering},
    time::{Duration, Instant},
};

use tokio::sync::{Mutex, Notify, OwnedSemaphorePermit, Semaphore};
use tracing::{Instrument, Span, info, warn};
use virt::connect::Connect;

use super::{
    HypervisorError, event_loop,
    event_sink::{CloseSignal, EventSink},
    listener::{ConnectionListener, Effects, Outcome, Ticket},
    open::{self, HypervisorInfo, Opened, Registrations},
    uri,
};
use crate::config::LibvirtConfig;

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
    effects: Effects,
    events: Arc<EventSink>,
    /// Woken by a connection's close callback, or by a call that found it broken.
    closed: Arc<Notify>,
    /// Set by [`Hypervisor::close`]: no connection is opened after it.
    shut_down: std::sync::atomic::AtomicBool,
}

struct Slot {
    live: Option<Arc<LiveConnection>>,
    backoff: crate::backoff::Backoff,
    last_failure: Option<(HypervisorError, Ticket)>,
    successes: u64,
    /// Connect outcomes queued so far; numbers the next one.
    outcomes: u64,
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
    /// Prepares the connection holder; nothing is opened until the first call or
    /// [`Hypervisor::keep_connected`]. Must be called on the Tokio runtime: the task
    /// that tells `listener` about connect outcomes starts here.
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
            local_libvirt_version: Connect::version()
                .map(open::format_version)
                .unwrap_or_default(),
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
                outcomes: 0,
            }),
            status: StdMutex::new(status),
            effects: Effects::start(listener),
            events,
            closed: Arc::new(Notify::new()),
            shut_down: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// Connects now and reconnects whenever the connection is lost, without waiting
    /// for a caller, with the same backoff and single flight as callers. Runs until
    /// [`Hypervisor::close`] or until the task is aborted.
    pub async fn keep_connected(self: Arc<Self>) {
        loop {
            while let Err(e) = self.connection().await {
                if self.shut_down.load(Ordering::Acquire) {
                    return;
                }
                let wait = self.retry_delay().await;
                tracing::debug!(error = %e, retry_in = ?wait, "libvirt still unreachable");
                tokio::time::sleep(wait.max(Duration::from_millis(10))).await;
            }
            self.closed.notified().await;
        }
    }

    async fn retry_delay(&self) -> Duration {
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
                self.lost(&live, "libvirt connection found closed");
                let fresh = self.connection().await?;
                self.call_once(&fresh, operation, op)
                    .await
                    .map_err(into_error)
            }
            Err(CallError::Failed(e)) if e.is_connection_loss() => {
                self.lost(&live, &e.to_string());
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
    ///
    /// A caller that made a connect attempt, or shares the failure of one, waits
    /// until that outcome's effects (host state, notifications) are applied; the
    /// lock is not held meanwhile, so other callers are not held up by them.
    async fn connection(&self) -> Result<Arc<LiveConnection>, HypervisorError> {
        let (result, ticket) = {
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
                    let reason = open::close_reason(dead.signal.reason.load(Ordering::Acquire));
                    self.mark_lost(&dead, reason);
                    // Deregistering on a dead connection is quick, but need not be
                    // waited for under the lock.
                    tokio::spawn(close_in_background(dead));
                }
            }
            if slot.backoff.remaining(Instant::now()).is_some() {
                // Another caller's attempt failed moments ago: share its outcome.
                let (err, ticket) = slot.last_failure.clone().unwrap_or_else(|| {
                    let err = HypervisorError::Unavailable("libvirt is unreachable".into());
                    (err, Ticket::default())
                });
                (Err(err), ticket)
            } else {
                self.connect(&mut slot)
                    .instrument(tracing::info_span!("libvirt_connect"))
                    .await
            }
        };
        self.effects.wait(ticket).await;
        result
    }

    async fn connect(
        &self,
        slot: &mut Slot,
    ) -> (Result<Arc<LiveConnection>, HypervisorError>, Ticket) {
        self.set_status(|s| s.connect_attempts += 1);
        let signal = Arc::new(CloseSignal {
            wake: Arc::clone(&self.closed),
            ..CloseSignal::default()
        });
        let opened = open::open_within(
            self.settings.clone(),
            Arc::clone(&self.events),
            Arc::clone(&signal),
            self.settings.connect_timeout,
        )
        .await;
        slot.outcomes += 1;
        let seq = slot.outcomes;
        match opened {
            Ok(Opened {
                conn,
                info,
                registrations,
            }) => {
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
                (Ok(live), self.effects.push(seq, Outcome::Connected))
            }
            Err(reason) => {
                let message = format!(
                    "cannot connect to libvirt at {}: {}",
                    self.redacted_uri,
                    self.scrub(&reason)
                );
                let delay = slot.backoff.record_failure(Instant::now());
                warn!(uri = %self.redacted_uri, error = %message, retry_in = ?delay, "cannot connect to libvirt");
                let err = HypervisorError::Unavailable(message.clone());
                self.set_status(|s| {
                    s.connected = false;
                    s.connect_failures += 1;
                    s.last_error = Some(message.clone());
                });
                let ticket = self.effects.push(seq, Outcome::Disconnected(message));
                slot.last_failure = Some((err.clone(), ticket));
                (Err(err), ticket)
            }
        }
    }

    /// Marks `live` dead, found broken by a call, and wakes the background reconnect.
    fn lost(&self, live: &Arc<LiveConnection>, reason: &str) {
        if !live.signal.closed.swap(true, Ordering::AcqRel) {
            self.mark_lost(live, reason);
            self.closed.notify_one();
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
        let result = confirm_loss(&conn, op(&conn));
        open::release(conn);
        result.map_err(CallError::Failed)
    }
}

/// An error that looks like a lost connection is believed only when a cheap ping
/// (`virConnectGetLibVersion`) fails too, as Nova's `_test_connection` does: tearing
/// down a healthy connection would deregister every callback and report every
/// domain's state as unknown.
fn confirm_loss<T>(
    conn: &Connect,
    result: Result<T, HypervisorError>,
) -> Result<T, HypervisorError> {
    match result {
        Err(HypervisorError::ConnectionLost(message)) if conn.lib_version().is_ok() => {
            Err(HypervisorError::Unavailable(format!(
                "{message} (the connection still answers and is kept)"
            )))
        }
        other => other,
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
            open::deregister(&conn, registrations);
            open::release(conn);
        })
        .await;
        if let Err(e) = closed {
            warn!(error = %e, "closing the libvirt connection failed");
        }
    }
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
    use crate::hypervisor::{BoxFuture, HypervisorError};

    struct Quiet;

    impl ConnectionListener for Quiet {
        fn connected(&self) -> BoxFuture<'_> {
            Box::pin(async {})
        }

        fn disconnected<'a>(&'a self, _reason: &'a str) -> BoxFuture<'a> {
            Box::pin(async {})
        }
    }

    /// The in-process test driver: a real libvirt connection.
    fn test_driver() -> Hypervisor {
        let settings = LibvirtConfig {
            uri: "test:///default".into(),
            read_only: false,
            username: None,
            passphrase: None,
            connect_timeout: Duration::from_secs(5),
            call_timeout: Duration::from_secs(5),
            max_concurrent_calls: 4,
            reconnect_backoff_initial: Duration::from_millis(100),
            reconnect_backoff_max: Duration::from_millis(400),
            keepalive_interval_secs: 5,
            keepalive_count: 3,
        };
        let (sink, _source) = EventSink::new(16);
        Hypervisor::new(settings, Arc::new(Quiet), sink).expect("hypervisor")
    }

    async fn attempts_after(hypervisor: &Hypervisor, error: HypervisorError) -> HypervisorError {
        let failed = hypervisor
            .call("fail", Retry::Safe, move |_| Err::<(), _>(error.clone()))
            .await
            .expect_err("the operation fails");
        hypervisor
            .call("list", Retry::Safe, |conn| {
                conn.num_of_domains()
                    .map_err(|e| HypervisorError::from_virt("list", &e))
            })
            .await
            .expect("the connection still works");
        failed
    }

    #[tokio::test]
    async fn a_busy_domain_keeps_the_connection() {
        let hypervisor = test_driver();
        let busy = HypervisorError::Busy("cannot acquire state change lock".into());
        let failed = attempts_after(&hypervisor, busy).await;
        assert!(matches!(failed, HypervisorError::Busy(m) if m.contains("state change lock")));
        let status = hypervisor.status();
        assert_eq!(status.connect_attempts, 1, "no reconnect");
        assert!(status.connected);
        hypervisor.close().await;
    }

    #[tokio::test]
    async fn a_loss_that_the_ping_disproves_keeps_the_connection() {
        let hypervisor = test_driver();
        let lost = HypervisorError::ConnectionLost("list: broken pipe".into());
        let failed = attempts_after(&hypervisor, lost).await;
        assert!(
            matches!(&failed, HypervisorError::Unavailable(m) if m.contains("still answers")),
            "{failed:?}"
        );
        let status = hypervisor.status();
        assert_eq!(status.connect_attempts, 1, "no reconnect");
        assert_eq!(status.reconnects, 0);
        assert!(status.connected);
        hypervisor.close().await;
    }
}
