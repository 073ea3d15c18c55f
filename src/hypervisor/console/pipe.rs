//! The bytes between a console's libvirt stream and its client, moved on libvirt's
//! event loop thread: reads when the stream is readable, writes when it is writable
//! and something waits to be written. Both directions are bounded: a slow client
//! stops the reads (the guest's output waits in its pseudo-terminal, nothing is
//! dropped), and a fast one is not read from until what it sent has been written.

use std::{
    collections::VecDeque,
    os::raw::c_int,
    sync::{Mutex, PoisonError},
};

use bytes::Bytes;
use tokio::sync::Notify;

use crate::hypervisor::ffi::{ERROR, HANGUP, Io, READABLE, StreamEvents, StreamIo, WRITABLE};

/// Guest output held for the client before reads pause.
const INBOX_LIMIT: usize = 64 * 1024;
/// Client input held for the guest before the client is no longer read from.
pub(super) const OUTBOX_LIMIT: usize = 64 * 1024;
/// One read from the stream.
const READ_SIZE: usize = 16 * 1024;

/// Why a console's stream ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamEnd {
    /// The other end closed it (the pseudo-terminal closed: usually the domain stopped).
    Closed,
    /// libvirt reported an error on it, in its own words.
    Failed(String),
}

/// What the client side takes from the pipe at once.
#[derive(Debug, Default)]
pub struct Taken {
    /// Guest output, in order.
    pub output: Vec<Bytes>,
    /// Set once the stream ended; no output follows.
    pub ended: Option<StreamEnd>,
    /// Whether the pipe takes more input now.
    pub room_for_input: bool,
}

#[derive(Debug, Default)]
struct State {
    inbox: VecDeque<Bytes>,
    inbox_bytes: usize,
    outbox: VecDeque<Bytes>,
    outbox_bytes: usize,
    ended: Option<StreamEnd>,
    /// The events the stream's callback is registered for now.
    events: c_int,
}

impl State {
    fn wanted_events(&self) -> c_int {
        if self.ended.is_some() {
            return 0;
        }
        let mut events = 0;
        if self.inbox_bytes < INBOX_LIMIT {
            events |= READABLE;
        }
        if !self.outbox.is_empty() {
            events |= WRITABLE;
        }
        events
    }

    /// Registers for what the state now needs. Called with the state locked, so the
    /// event thread and the client side never leave a stale mask behind.
    fn update_events(&mut self, io: &StreamIo<'_>) {
        let wanted = self.wanted_events();
        if wanted != self.events {
            if let Err(e) = io.set_events(wanted) {
                self.ended = Some(StreamEnd::Failed(e.message().to_owned()));
                self.events = 0;
                return;
            }
            self.events = wanted;
        }
    }

    fn read(&mut self, io: &StreamIo<'_>) {
        while self.ended.is_none() && self.inbox_bytes < INBOX_LIMIT {
            let mut buf = vec![0; READ_SIZE];
            match io.recv(&mut buf) {
                Io::Moved(n) => {
                    buf.truncate(n);
                    self.inbox_bytes += n;
                    self.inbox.push_back(Bytes::from(buf));
                }
                Io::WouldBlock => break,
                Io::End => self.ended = Some(StreamEnd::Closed),
                Io::Failed(e) => self.ended = Some(StreamEnd::Failed(e.message().to_owned())),
            }
        }
    }

    fn write(&mut self, io: &StreamIo<'_>) {
        while self.ended.is_none() {
            let Some(front) = self.outbox.front_mut() else {
                break;
            };
            match io.send(front) {
                Io::Moved(n) => {
                    self.outbox_bytes -= n.min(front.len());
                    let _ = front.split_to(n.min(front.len()));
                    if front.is_empty() {
                        self.outbox.pop_front();
                    }
                }
                Io::WouldBlock | Io::End => break,
                Io::Failed(e) => self.ended = Some(StreamEnd::Failed(e.message().to_owned())),
            }
        }
    }
}

/// The pipe, shared by the stream's callback and the client side.
#[derive(Debug, Default)]
pub(super) struct Pipe {
    state: Mutex<State>,
    /// Woken when output arrives, input drains or the stream ends. One task waits.
    changed: Notify,
}

impl Pipe {
    /// The events to register the callback with at first.
    pub(super) fn initial_events(&self) -> c_int {
        let mut state = self.lock();
        state.events = state.wanted_events();
        state.events
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes the output read so far (none unless `output`), and says whether the
    /// stream ended and whether more input fits; reads resume if they had paused.
    pub(super) fn take(&self, io: &StreamIo<'_>, output: bool) -> Taken {
        let mut state = self.lock();
        let output: Vec<Bytes> = if output {
            state.inbox_bytes = 0;
            state.inbox.drain(..).collect()
        } else {
            Vec::new()
        };
        state.update_events(io);
        Taken {
            output,
            ended: state.ended.clone(),
            room_for_input: state.outbox_bytes < OUTBOX_LIMIT,
        }
    }

    /// Queues `data` for the guest; the event loop writes it.
    pub(super) fn push_input(&self, io: &StreamIo<'_>, data: Bytes) {
        let mut state = self.lock();
        if state.ended.is_some() || data.is_empty() {
            return;
        }
        state.outbox_bytes += data.len();
        state.outbox.push_back(data);
        state.update_events(io);
    }

    /// Resolves when something changed since the last [`Pipe::take`].
    pub(super) async fn changed(&self) {
        self.changed.notified().await;
    }
}

impl StreamEvents for Pipe {
    fn on_events(&self, io: &StreamIo<'_>, events: c_int) {
        let mut state = self.lock();
        if state.ended.is_some() {
            return;
        }
        // Data may still wait behind a hangup or an error: read it first.
        if events & (READABLE | HANGUP | ERROR) != 0 {
            state.read(io);
        }
        if events & WRITABLE != 0 {
            state.write(io);
        }
        if state.ended.is_none() && events & ERROR != 0 {
            state.ended = Some(StreamEnd::Failed("the console stream failed".into()));
        } else if state.ended.is_none() && events & HANGUP != 0 {
            state.ended = Some(StreamEnd::Closed);
        }
        state.update_events(io);
        drop(state);
        self.changed.notify_one();
    }
}
