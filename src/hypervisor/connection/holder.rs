//! The connection holder: its state, how it is built, and what it tells about itself.

use std::{
    sync::{Arc, Mutex as StdMutex, PoisonError, atomic::Ordering},
    time::{Duration, Instant},
};

use tokio::sync::{Mutex, Notify, Semaphore};
use virt::connect::Connect;

use super::close_in_background;
use crate::hypervisor::Settings;
use crate::hypervisor::{
    HypervisorError, NextAttempt, event_loop,
    event_sink::{CloseSignal, EventSink},
    listener::{ConnectionListener, Effects, Ticket},
    open::{self, HypervisorInfo, Registrations},
    uri,
};

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
    /// When the next connect is due after a failed one; `None` while connected or
    /// when the next call may connect at once.
    pub next_attempt: Option<Instant>,
    /// The libvirt library this process runs with, known before any connect.
    pub local_libvirt_version: String,
}

/// The process's libvirt connection holder.
pub struct Hypervisor {
    pub(super) settings: Settings,
    pub(super) redacted_uri: String,
    pub(super) slot: Mutex<Slot>,
    pub(super) status: StdMutex<ConnectionStatus>,
    pub(super) effects: Effects,
    pub(super) events: Arc<EventSink>,
    /// Woken by a connection's close callback, or by a call that found it broken.
    pub(super) closed: Arc<Notify>,
    /// Set by [`Hypervisor::close`]: no connection is opened after it.
    pub(super) shut_down: std::sync::atomic::AtomicBool,
    /// The generation of the live connection (its number among successful connects),
    /// 0 while none is live.
    pub(super) generation: std::sync::atomic::AtomicU64,
    /// Whether the live connection delivers lifecycle events: without them, nothing
    /// kept in memory can follow the host.
    pub(super) delivers_events: std::sync::atomic::AtomicBool,
}

pub(super) struct Slot {
    pub(super) live: Option<Arc<LiveConnection>>,
    pub(super) backoff: crate::backoff::Backoff,
    pub(super) last_failure: Option<(HypervisorError, Ticket)>,
    pub(super) successes: u64,
    /// Connect outcomes queued so far; numbers the next one.
    pub(super) outcomes: u64,
}

/// One open connection plus the cap on calls in flight over it.
pub(super) struct LiveConnection {
    pub(super) conn: StdMutex<Option<Connect>>,
    /// `signal.closed` is this connection's "dead" flag, set by the close callback
    /// or by a call that found the connection broken.
    pub(super) signal: Arc<CloseSignal>,
    pub(super) calls: Arc<Semaphore>,
    pub(super) registrations: Registrations,
    /// Its number among successful connects.
    pub(super) generation: u64,
}

pub(super) enum CallError {
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
        settings: Settings,
        listener: Arc<dyn ConnectionListener>,
        events: Arc<EventSink>,
    ) -> Result<Self, HypervisorError> {
        // Before any connection opens, or libvirt never delivers events for it.
        event_loop::ensure_running()
            .map_err(|e| HypervisorError::internal("start libvirt's event loop", e))?;
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
            generation: std::sync::atomic::AtomicU64::new(0),
            delivers_events: std::sync::atomic::AtomicBool::new(false),
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

    pub(super) async fn retry_delay(&self) -> Duration {
        self.slot
            .lock()
            .await
            .backoff
            .remaining(Instant::now())
            .unwrap_or_default()
    }

    /// When the service tries to connect next, read without waiting for a connect
    /// in progress: what a client told "unavailable" should wait for.
    pub fn next_attempt(&self) -> NextAttempt {
        if self.shut_down.load(Ordering::Acquire) {
            return NextAttempt::Never;
        }
        match self.status().next_attempt {
            Some(at) if at > Instant::now() => NextAttempt::At(at),
            _ => NextAttempt::Now,
        }
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

    /// Which connection is live: its number among successful connects, `None` while
    /// none is. What lives on one connection (a console's stream) dies with it: a
    /// different number means it is gone.
    pub fn live_generation(&self) -> Option<u64> {
        Some(self.generation.load(Ordering::Acquire)).filter(|g| *g > 0)
    }

    /// Whether the live connection (or the last one) delivers domain lifecycle
    /// events; a URI without them is seen only by reading libvirt.
    pub fn delivers_events(&self) -> bool {
        self.delivers_events.load(Ordering::Acquire)
    }

    /// Makes sure a live connection exists, connecting if needed.
    ///
    /// # Errors
    /// [`HypervisorError::Unavailable`] when libvirt cannot be reached.
    pub async fn ensure_connected(&self) -> Result<(), HypervisorError> {
        self.connection().await.map(drop)
    }

    /// Closes the connection for good (shutdown): later calls fail with
    /// [`HypervisorError::Unavailable`] instead of opening a new one, whose callbacks
    /// nobody would deregister.
    pub async fn close(&self) {
        let mut slot = self.slot.lock().await;
        self.shut_down.store(true, Ordering::Release);
        self.generation.store(0, Ordering::Release);
        if let Some(live) = slot.live.take() {
            close_in_background(live).await;
        }
        self.set_status(|s| s.connected = false);
    }

    pub(super) fn set_status(&self, update: impl FnOnce(&mut ConnectionStatus)) {
        update(&mut self.status.lock().unwrap_or_else(PoisonError::into_inner));
    }
}
