//! Getting a live connection: the cached one, or a single-flight connect with
//! backoff whose outcome every waiting caller shares.

use std::{
    sync::{Arc, Mutex as StdMutex, PoisonError, atomic::Ordering},
    time::Instant,
};

use tokio::sync::Semaphore;
use tracing::{Instrument, info, warn};

use super::{Hypervisor, LiveConnection, Slot};
use crate::hypervisor::{
    HypervisorError, NextAttempt,
    event_sink::CloseSignal,
    listener::{Outcome, Ticket},
    open::{self, Opened},
    uri,
};

impl Hypervisor {
    /// The live connection, opened or replaced if needed.
    ///
    /// A caller that made a connect attempt, or shares the failure of one, waits
    /// until that outcome's effects (host state, notifications) are applied; the
    /// lock is not held meanwhile, so other callers are not held up by them.
    pub(super) async fn connection(&self) -> Result<Arc<LiveConnection>, HypervisorError> {
        let (result, ticket) = {
            let mut slot = self.slot.lock().await;
            if self.shut_down.load(Ordering::Acquire) {
                return Err(HypervisorError::unavailable_until(
                    "the service is shutting down; libvirt is closed",
                    NextAttempt::Never,
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
                    let err = HypervisorError::unavailable("libvirt is unreachable");
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

    pub(super) async fn connect(
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
                self.set_status(|s| s.next_attempt = None);
                let reconnect = slot.successes > 0;
                slot.successes += 1;
                let live = Arc::new(LiveConnection {
                    conn: StdMutex::new(Some(conn)),
                    signal,
                    calls: Arc::new(Semaphore::new(self.settings.max_concurrent_calls)),
                    registrations,
                    generation: slot.successes,
                });
                self.delivers_events.store(
                    live.registrations.delivers_lifecycle_events(),
                    Ordering::Release,
                );
                slot.live = Some(Arc::clone(&live));
                self.generation.store(slot.successes, Ordering::Release);
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
                let now = Instant::now();
                let delay = slot.backoff.record_failure(now);
                warn!(uri = %self.redacted_uri, error = %message, retry_in = ?delay, "cannot connect to libvirt");
                // Callers sharing this failure until the backoff ends are told the
                // same moment: the attempt that can answer them differently.
                let err = HypervisorError::unavailable_until(
                    message.clone(),
                    NextAttempt::At(now + delay),
                );
                self.set_status(|s| {
                    s.next_attempt = Some(now + delay);
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
    pub(super) fn lost(&self, live: &Arc<LiveConnection>, reason: &str) {
        if !live.signal.closed.swap(true, Ordering::AcqRel) {
            self.mark_lost(live, reason);
            self.closed.notify_one();
        }
    }

    pub(super) fn mark_lost(&self, live: &LiveConnection, reason: &str) {
        let _ = self.generation.compare_exchange(
            live.generation,
            0,
            Ordering::AcqRel,
            Ordering::Acquire,
        );
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
    pub(super) fn scrub(&self, message: &str) -> String {
        let message = uri::redact(message);
        match &self.settings.passphrase {
            Some(secret) if !secret.expose().is_empty() => message.replace(secret.expose(), "***"),
            _ => message,
        }
    }
}

/// Deregisters the callbacks and closes a connection, on a blocking thread: for a
/// remote URI both are RPCs.
pub(super) async fn close_in_background(live: Arc<LiveConnection>) {
    live.signal.closed.store(true, Ordering::Release);
    let conn = live
        .conn
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take();
    let registrations = live.registrations.clone();
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
