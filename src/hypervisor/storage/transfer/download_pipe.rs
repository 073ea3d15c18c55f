//! The bytes between a download's libvirt stream and its client, read on libvirt's
//! event loop thread whenever the stream has some, up to a bound: a slow client stops
//! the reads until it has taken what waits.

use std::{
    collections::VecDeque,
    os::raw::c_int,
    sync::{Mutex, MutexGuard, PoisonError},
};

use tokio::sync::Notify;

use crate::hypervisor::{
    HypervisorError,
    ffi::{ERROR, HANGUP, Io, READABLE, StreamEvents, StreamIo},
};

const NAME: &str = "download volume";
/// Volume data held for the client before reads pause.
const INBOX_LIMIT: usize = 4 * 1024 * 1024;
/// One read from the stream: a libvirt stream packet's size, and one `data` message.
pub(super) const READ_SIZE: usize = 256 * 1024;

/// What the client side takes from the pipe.
#[derive(Debug)]
pub(super) enum Taken {
    Data(Vec<u8>),
    /// Nothing yet: wait for [`DownloadPipe::changed`].
    Nothing,
    /// The other end sent everything it had.
    Ended,
    Failed(HypervisorError),
}

#[derive(Debug, Default)]
struct State {
    inbox: VecDeque<Vec<u8>>,
    inbox_bytes: usize,
    /// `Ok` once the other end finished sending, `Err` once the stream failed.
    end: Option<Result<(), HypervisorError>>,
    /// The events the stream's callback is registered for now.
    events: c_int,
}

impl State {
    fn wanted_events(&self) -> c_int {
        if self.end.is_none() && self.inbox_bytes < INBOX_LIMIT {
            READABLE
        } else {
            0
        }
    }

    /// Registers for what the state now needs (with the state locked).
    fn update_events(&mut self, io: &StreamIo<'_>) {
        let wanted = self.wanted_events();
        if wanted != self.events {
            if let Err(e) = io.set_events(wanted) {
                self.end = Some(Err(HypervisorError::from_virt(NAME, &e)));
                self.events = 0;
                return;
            }
            self.events = wanted;
        }
    }

    /// Reads what the stream has, until the inbox is full. A read never waits: it
    /// copies what libvirt has received already.
    fn read(&mut self, io: &StreamIo<'_>) {
        while self.end.is_none() && self.inbox_bytes < INBOX_LIMIT {
            let mut buf = vec![0; READ_SIZE];
            match io.recv(&mut buf) {
                Io::Moved(n) => {
                    buf.truncate(n);
                    self.inbox_bytes += n;
                    self.inbox.push_back(buf);
                }
                Io::WouldBlock => break,
                Io::End => self.end = Some(Ok(())),
                Io::Failed(e) => self.end = Some(Err(HypervisorError::from_virt(NAME, &e))),
            }
        }
    }
}

/// The pipe, shared by the stream's callback and the client side.
#[derive(Debug, Default)]
pub(super) struct DownloadPipe {
    state: Mutex<State>,
    /// Woken when data arrives or the stream ends. One task waits.
    changed: Notify,
}

impl DownloadPipe {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The events to register the callback with at first.
    pub(super) fn initial_events(&self) -> c_int {
        let mut state = self.lock();
        state.events = state.wanted_events();
        state.events
    }

    /// The next chunk read, or how the stream stands; reads resume if they had paused.
    pub(super) fn take(&self, io: &StreamIo<'_>) -> Taken {
        let mut state = self.lock();
        if let Some(chunk) = state.inbox.pop_front() {
            state.inbox_bytes -= chunk.len();
            state.update_events(io);
            return Taken::Data(chunk);
        }
        match &state.end {
            None => Taken::Nothing,
            Some(Ok(())) => Taken::Ended,
            Some(Err(e)) => Taken::Failed(e.clone()),
        }
    }

    /// Resolves when something changed since the last [`DownloadPipe::take`].
    pub(super) async fn changed(&self) {
        self.changed.notified().await;
    }
}

impl StreamEvents for DownloadPipe {
    fn on_events(&self, io: &StreamIo<'_>, events: c_int) {
        let mut state = self.lock();
        if state.end.is_some() {
            return;
        }
        // Data may still wait behind a hangup or an error: read it first.
        if events & (READABLE | HANGUP | ERROR) != 0 {
            state.read(io);
        }
        if state.end.is_none() && events & ERROR != 0 {
            state.end = Some(Err(HypervisorError::internal(
                NAME,
                "the download stream failed",
            )));
        } else if state.end.is_none() && events & HANGUP != 0 {
            state.end = Some(Ok(()));
        }
        state.update_events(io);
        drop(state);
        self.changed.notify_one();
    }
}
