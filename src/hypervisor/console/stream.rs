//! An open console, as the async side holds it.

use std::sync::Arc;

use bytes::Bytes;

use super::pipe::Pipe;
use crate::hypervisor::ffi::EventStream;

/// An open console: output to take, input to give, and a signal when either moved.
/// Dropping it closes the stream on a blocking thread (closing is a round trip).
#[derive(Debug)]
pub struct ConsoleStream {
    stream: Option<EventStream>,
    pipe: Arc<Pipe>,
}

impl ConsoleStream {
    pub(super) fn new(stream: EventStream, pipe: Arc<Pipe>) -> Self {
        ConsoleStream {
            stream: Some(stream),
            pipe,
        }
    }

    fn stream(&self) -> &EventStream {
        self.stream.as_ref().expect("present until dropped")
    }

    /// The guest's output so far (none unless `output`: a client that has not taken
    /// the last output leaves the rest in the pipe, which bounds it), whether the
    /// stream ended, and whether input fits.
    pub fn take(&self, output: bool) -> super::Taken {
        self.pipe.take(&self.stream().io(), output)
    }

    /// Queues `data` for the guest. Call only when the last [`ConsoleStream::take`]
    /// said there is room: the pipe holds a bounded amount.
    pub fn write(&self, data: Bytes) {
        self.pipe.push_input(&self.stream().io(), data);
    }

    /// Resolves when output arrived, input drained or the stream ended since the last
    /// [`ConsoleStream::take`].
    pub async fn changed(&self) {
        self.pipe.changed().await;
    }
}

impl Drop for ConsoleStream {
    fn drop(&mut self) {
        let Some(stream) = self.stream.take() else {
            return;
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => drop(runtime.spawn_blocking(move || drop(stream))),
            Err(_) => drop(stream),
        }
    }
}
