//! A download of a volume: non-blocking libvirt streams driven by the event loop (no
//! thread per download), read through a bounded pipe, one segment at a time.
//!
//! Why segments: libvirt's remote client reads whatever the daemon sends into a queue
//! of its own, without bound (its event loop drains the socket whether or not anyone
//! reads the stream), so a client slower than the daemon would have the whole volume
//! pile up in this process. Asking for at most [`SEGMENT`] bytes per stream bounds
//! that queue; the next segment is asked for once the client has taken this one.

use std::{num::NonZeroU64, sync::Arc};

use bytes::Bytes;
use virt::connect::Connect;

use super::{
    download_pipe::{DownloadPipe, Taken},
    stream_end::{FinishStream, release},
    tally::Tally,
};
use crate::{
    hypervisor::{
        Admission, Hypervisor, HypervisorError, Operation, Retry, ffi::EventStream, storage::lookup,
    },
    model::{ChecksumKind, TransferSummary, VolumeRef},
};

/// The most one stream of a download asks libvirt for.
const SEGMENT: u64 = 16 * 1024 * 1024;

/// Opens a download stream of `length` bytes of a volume from `offset`.
#[derive(Debug, Clone)]
struct OpenDownload {
    volume: VolumeRef,
    offset: u64,
    length: u64,
}

impl Operation for OpenDownload {
    type Output = Segment;
    const NAME: &'static str = "download volume";
    const RETRY: Retry = Retry::Safe;
    const ADMISSION: Admission = Admission::Always;

    fn call(&self, conn: &Connect) -> Result<Self::Output, HypervisorError> {
        let fail = |e: virt::error::Error| HypervisorError::from_virt(Self::NAME, &e);
        let (_, vol) = lookup::volume(conn, &self.volume)?;
        let mut stream = EventStream::new(conn).map_err(fail)?;
        stream
            .download(&vol, self.offset, self.length)
            .map_err(fail)?;
        let pipe = Arc::new(DownloadPipe::default());
        stream
            .watch(pipe.initial_events(), pipe.clone())
            .map_err(fail)?;
        Ok(Segment {
            stream: Some(Arc::new(stream)),
            pipe,
            length: self.length,
            received: 0,
        })
    }
}

/// One stream of a download.
#[derive(Debug)]
struct Segment {
    /// Present until finished.
    stream: Option<Arc<EventStream>>,
    pipe: Arc<DownloadPipe>,
    /// What it asked libvirt for: fewer bytes mean the volume ended.
    length: u64,
    received: u64,
}

impl Drop for Segment {
    fn drop(&mut self) {
        if let Some(stream) = self.stream.take() {
            release(stream);
        }
    }
}

/// A download in progress. Dropping it aborts the transfer (on a blocking thread).
#[derive(Debug)]
pub struct VolumeDownload {
    hypervisor: Arc<Hypervisor>,
    volume: VolumeRef,
    /// The stream being read; `None` once the download is complete.
    segment: Option<Segment>,
    /// Where the next segment starts.
    next_offset: u64,
    /// Bytes still wanted after the current segment's; `None`: to the volume's end.
    remaining: Option<u64>,
    tally: Tally,
}

impl VolumeDownload {
    /// Opens a download of `volume` from `offset`, of at most `length` bytes (`None`:
    /// to the end), summed with `checksum`.
    ///
    /// # Errors
    /// The volume is missing, or libvirt refused.
    pub async fn open(
        hypervisor: &Arc<Hypervisor>,
        volume: VolumeRef,
        offset: u64,
        length: Option<NonZeroU64>,
        checksum: ChecksumKind,
    ) -> Result<Self, HypervisorError> {
        let mut download = VolumeDownload {
            hypervisor: Arc::clone(hypervisor),
            volume,
            segment: None,
            next_offset: offset,
            remaining: length.map(NonZeroU64::get),
            tally: Tally::new(checksum),
        };
        download.open_segment().await?;
        Ok(download)
    }

    /// The next bytes of the volume, in order; `None` once all were read.
    ///
    /// # Errors
    /// The stream failed, or the next segment could not be opened.
    pub async fn next(&mut self) -> Result<Option<Bytes>, HypervisorError> {
        loop {
            let Some(segment) = self.segment.as_mut() else {
                return Ok(None);
            };
            let taken = match &segment.stream {
                Some(stream) => segment.pipe.take(&stream.io()),
                None => Taken::Ended,
            };
            match taken {
                Taken::Data(chunk) => {
                    segment.received += chunk.len() as u64;
                    let chunk = Bytes::from(chunk);
                    self.tally.add(chunk.clone()).await?;
                    return Ok(Some(chunk));
                }
                Taken::Nothing => segment.pipe.changed().await,
                Taken::Failed(e) => return Err(e),
                Taken::Ended => self.next_segment().await?,
            }
        }
    }

    /// What was read so far: all of it once [`VolumeDownload::next`] said `None`.
    ///
    /// # Errors
    /// The digest could not be completed.
    pub async fn summary(&mut self) -> Result<TransferSummary, HypervisorError> {
        self.tally.summary().await
    }

    /// Finishes the segment that ended and opens the next, unless the volume (or
    /// what was asked for) ended with it.
    async fn next_segment(&mut self) -> Result<(), HypervisorError> {
        let Some(mut ended) = self.segment.take() else {
            return Ok(());
        };
        self.next_offset += ended.received;
        if let Some(remaining) = self.remaining.as_mut() {
            *remaining = remaining.saturating_sub(ended.received);
        }
        if let Some(stream) = ended.stream.take() {
            let finished = self.hypervisor.run(FinishStream(Arc::clone(&stream))).await;
            release(stream);
            finished?;
        }
        let volume_ended = ended.received < ended.length;
        if volume_ended || self.remaining == Some(0) {
            return Ok(());
        }
        self.open_segment().await
    }

    async fn open_segment(&mut self) -> Result<(), HypervisorError> {
        let length = self
            .remaining
            .map_or(SEGMENT, |remaining| remaining.min(SEGMENT));
        let segment = self
            .hypervisor
            .run(OpenDownload {
                volume: self.volume.clone(),
                offset: self.next_offset,
                length,
            })
            .await?;
        self.segment = Some(segment);
        Ok(())
    }
}
