//! The bytes between an upload's client and its libvirt stream. The client side
//! queues what the client sent, up to a bound (the client is not read from while the
//! queue is full); libvirt's event loop thread writes the queue to the stream whenever
//! it can, one packet at a time, and hears of the other end's failure.

use std::{
    collections::VecDeque,
    os::raw::c_int,
    sync::{Mutex, MutexGuard, PoisonError},
};

use bytes::Bytes;
use tokio::sync::Notify;

use crate::hypervisor::{
    HypervisorError,
    ffi::{ERROR, HANGUP, Io, READABLE, StreamEvents, StreamIo, WRITABLE},
};

const NAME: &str = "upload volume";
/// Client data held for libvirt before the client is no longer read from.
const QUEUE_LIMIT: usize = 8 * 1024 * 1024;
/// The most one stream packet carries: libvirt's `VIR_NET_MESSAGE_LEGACY_PAYLOAD_MAX`,
/// what `virStreamSendAll` (and so `virsh vol-upload`) sends too.
const PACKET: usize = 256 * 1024 - 24;

/// Where an upload stands, as the client side sees it.
#[derive(Debug)]
pub(super) struct Progress {
    /// The queue takes more data.
    pub(super) room: bool,
    /// Everything queued has been handed to libvirt.
    pub(super) drained: bool,
    pub(super) failed: Option<HypervisorError>,
}

#[derive(Debug, Default)]
struct State {
    queue: VecDeque<Bytes>,
    /// Bytes queued or being sent.
    pending: usize,
    failed: Option<HypervisorError>,
    /// The stream is being finished: the event thread leaves it alone.
    closing: bool,
    /// The events the stream's callback is registered for now.
    events: c_int,
}

impl State {
    fn wanted_events(&self) -> c_int {
        if self.closing || self.failed.is_some() {
            return 0;
        }
        // Nothing comes back on an upload stream but the other end's error, and with
        // READABLE that error is heard as soon as it arrives.
        let mut events = READABLE;
        if !self.queue.is_empty() {
            events |= WRITABLE;
        }
        events
    }

    /// Registers for what the state now needs (with the state locked, so the event
    /// thread and the client side never leave a stale mask behind).
    fn update_events(&mut self, io: &StreamIo<'_>) {
        let wanted = self.wanted_events();
        if wanted != self.events {
            if let Err(e) = io.set_events(wanted) {
                self.failed = Some(HypervisorError::from_virt(NAME, &e));
                self.events = 0;
                return;
            }
            self.events = wanted;
        }
    }
}

/// The pipe, shared by the stream's callback and the client side.
#[derive(Debug, Default)]
pub(super) struct UploadPipe {
    state: Mutex<State>,
    /// Woken when the queue drains a packet or the stream fails. One task waits.
    changed: Notify,
}

impl UploadPipe {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The events to register the callback with at first.
    pub(super) fn initial_events(&self) -> c_int {
        let mut state = self.lock();
        state.events = state.wanted_events();
        state.events
    }

    pub(super) fn progress(&self) -> Progress {
        let state = self.lock();
        Progress {
            room: state.pending < QUEUE_LIMIT,
            drained: state.pending == 0,
            failed: state.failed.clone(),
        }
    }

    /// Queues `data` for the stream; the event loop writes it. Call only when
    /// [`UploadPipe::progress`] says there is room.
    pub(super) fn push(&self, io: &StreamIo<'_>, data: Bytes) {
        let mut state = self.lock();
        if state.failed.is_some() || data.is_empty() {
            return;
        }
        state.pending += data.len();
        state.queue.push_back(data);
        state.update_events(io);
    }

    /// Stops the event thread's work before the stream is finished: afterwards it
    /// touches the stream no more.
    pub(super) fn close(&self) {
        self.lock().closing = true;
    }

    /// Resolves when something changed since the last [`UploadPipe::progress`].
    pub(super) async fn changed(&self) {
        self.changed.notified().await;
    }

    /// Notes the other end's failure, or its closing the stream early.
    fn check_failure(&self, io: &StreamIo<'_>, events: c_int) {
        let mut state = self.lock();
        if state.closing || state.failed.is_some() {
            return;
        }
        let mut probe = [0_u8; 1];
        state.failed = match io.recv(&mut probe) {
            Io::Failed(e) => Some(HypervisorError::from_virt(NAME, &e)),
            Io::End => Some(HypervisorError::internal(
                NAME,
                "libvirt closed the upload stream before it finished",
            )),
            Io::Moved(_) | Io::WouldBlock if events & (ERROR | HANGUP) != 0 => {
                Some(HypervisorError::internal(NAME, "the upload stream failed"))
            }
            Io::Moved(_) | Io::WouldBlock => None,
        };
    }

    /// Writes the queue, a packet at a time, until it is empty or the stream would
    /// block. The lock is not held while sending: a remote stream's send returns once
    /// the packet is on the socket, which waits while the daemon is busy writing, and
    /// the client side must not wait on the lock meanwhile.
    fn write(&self, io: &StreamIo<'_>) {
        loop {
            let packet = {
                let mut state = self.lock();
                if state.closing || state.failed.is_some() {
                    return;
                }
                let Some(front) = state.queue.front_mut() else {
                    return;
                };
                if front.len() > PACKET {
                    front.split_to(PACKET)
                } else {
                    state.queue.pop_front().unwrap_or_default()
                }
            };
            let outcome = io.send(&packet);
            let mut state = self.lock();
            match outcome {
                Io::Moved(n) => {
                    state.pending = state.pending.saturating_sub(n);
                    if n < packet.len() {
                        state.queue.push_front(packet.slice(n..));
                    }
                }
                Io::WouldBlock | Io::End => {
                    state.queue.push_front(packet);
                    return;
                }
                Io::Failed(e) => {
                    state.failed = Some(HypervisorError::from_virt(NAME, &e));
                    return;
                }
            }
            drop(state);
            self.changed.notify_one();
        }
    }
}

impl StreamEvents for UploadPipe {
    fn on_events(&self, io: &StreamIo<'_>, events: c_int) {
        if events & (READABLE | ERROR | HANGUP) != 0 {
            self.check_failure(io, events);
        }
        if events & WRITABLE != 0 {
            self.write(io);
        }
        let mut state = self.lock();
        if !state.closing {
            state.update_events(io);
        }
        drop(state);
        self.changed.notify_one();
    }
}
