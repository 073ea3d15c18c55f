//! An upload into a volume: a non-blocking libvirt stream driven by the event loop
//! (no thread per upload), fed through a bounded pipe, checked against the volume's
//! capacity as the data comes, and finished only once libvirt confirmed it.

use std::sync::Arc;

use bytes::Bytes;
use virt::connect::Connect;

use super::{
    stream_end::{FinishStream, release},
    tally::Tally,
    upload_pipe::{Progress, UploadPipe},
};
use crate::{
    hypervisor::{
        Admission, Hypervisor, HypervisorError, Operation, Retry, ffi::EventStream, storage::lookup,
    },
    model::{ChecksumKind, TransferSummary, VolumeRef},
};

/// Opens an upload stream into a volume, refusing one that cannot fit.
#[derive(Debug, Clone)]
struct OpenUpload {
    volume: VolumeRef,
    offset: u64,
    /// What the client declared it will send.
    length: Option<u64>,
}

/// An opened upload stream.
#[derive(Debug)]
struct Opened {
    stream: EventStream,
    pipe: Arc<UploadPipe>,
    capacity: u64,
}

impl Operation for OpenUpload {
    type Output = Opened;
    const NAME: &'static str = "upload volume";
    const RETRY: Retry = Retry::OnlyIfUnsent;
    // Disk writes, not the host's CPU or memory.
    const ADMISSION: Admission = Admission::Always;

    fn call(&self, conn: &Connect) -> Result<Self::Output, HypervisorError> {
        let fail = |e: virt::error::Error| HypervisorError::from_virt(Self::NAME, &e);
        let (_, vol) = lookup::volume(conn, &self.volume)?;
        let capacity = vol.info().map_err(fail)?.capacity;
        let end = self.offset.saturating_add(self.length.unwrap_or(0));
        if self.offset > capacity || end > capacity {
            return Err(HypervisorError::OutOfRange {
                operation: Self::NAME,
                message: format!(
                    "`offset` {} plus `length` {} ends at byte {end}, past the capacity of volume {} ({capacity} bytes); nothing was written",
                    self.offset,
                    self.length.unwrap_or(0),
                    self.volume
                ),
            });
        }
        let mut stream = EventStream::new(conn).map_err(fail)?;
        // Without a declared length libvirt writes until the stream finishes; the
        // capacity is then enforced as the data comes.
        stream
            .upload(&vol, self.offset, self.length.unwrap_or(0))
            .map_err(fail)?;
        let pipe = Arc::new(UploadPipe::default());
        stream
            .watch(pipe.initial_events(), pipe.clone())
            .map_err(fail)?;
        Ok(Opened {
            stream,
            pipe,
            capacity,
        })
    }
}

/// An upload in progress. Dropping it aborts the transfer (on a blocking thread):
/// what was written stays written.
#[derive(Debug)]
pub struct VolumeUpload {
    hypervisor: Arc<Hypervisor>,
    /// Present until finished.
    stream: Option<Arc<EventStream>>,
    pipe: Arc<UploadPipe>,
    volume: VolumeRef,
    offset: u64,
    capacity: u64,
    declared: Option<u64>,
    tally: Tally,
}

impl VolumeUpload {
    /// Opens an upload of `length` bytes (when declared) into `volume` from `offset`,
    /// summed with `checksum`.
    ///
    /// # Errors
    /// The volume is missing, `offset` and `length` go past its capacity
    /// (`OutOfRange`), or libvirt refused (the test driver has no uploads).
    pub async fn open(
        hypervisor: &Arc<Hypervisor>,
        volume: VolumeRef,
        offset: u64,
        length: Option<u64>,
        checksum: ChecksumKind,
    ) -> Result<Self, HypervisorError> {
        let Opened {
            stream,
            pipe,
            capacity,
        } = hypervisor
            .run(OpenUpload {
                volume: volume.clone(),
                offset,
                length,
            })
            .await?;
        Ok(VolumeUpload {
            hypervisor: Arc::clone(hypervisor),
            stream: Some(Arc::new(stream)),
            pipe,
            volume,
            offset,
            capacity,
            declared: length,
            tally: Tally::new(checksum),
        })
    }

    /// Queues `data` to be written after what came before, once the pipe has room.
    ///
    /// # Errors
    /// `OutOfRange` when `data` would go past the volume's capacity, `InvalidArgument`
    /// past the declared length, or the stream's failure. The upload is over then.
    pub async fn write(&mut self, data: Bytes) -> Result<(), HypervisorError> {
        let written = self.tally.bytes();
        let end = self.offset + written + data.len() as u64;
        if end > self.capacity {
            return Err(HypervisorError::OutOfRange {
                operation: OpenUpload::NAME,
                message: format!(
                    "the data reaches byte {end} of volume {}, past its capacity of {} bytes; the upload was aborted after {written} bytes",
                    self.volume, self.capacity
                ),
            });
        }
        if let Some(declared) = self.declared
            && written + data.len() as u64 > declared
        {
            return Err(self.not_as_declared(declared, "more than"));
        }
        self.wait(|progress| progress.room).await?;
        self.tally.add(data.clone()).await?;
        let stream = self.stream.as_ref().expect("present until finished");
        self.pipe.push(&stream.io(), data);
        Ok(())
    }

    /// Waits until libvirt has every byte and confirmed the write.
    ///
    /// # Errors
    /// Fewer bytes than declared (`InvalidArgument`), or the stream's failure.
    pub async fn finish(mut self) -> Result<TransferSummary, HypervisorError> {
        if let Some(declared) = self.declared
            && self.tally.bytes() != declared
        {
            return Err(self.not_as_declared(declared, "fewer than"));
        }
        self.wait(|progress| progress.drained).await?;
        self.pipe.close();
        let stream = self.stream.take().expect("present until finished");
        let finished = self.hypervisor.run(FinishStream(Arc::clone(&stream))).await;
        release(stream);
        finished?;
        self.tally.summary().await
    }

    async fn wait(&self, ready: impl Fn(&Progress) -> bool) -> Result<(), HypervisorError> {
        loop {
            let progress = self.pipe.progress();
            if let Some(failed) = progress.failed {
                return Err(failed);
            }
            if ready(&progress) {
                return Ok(());
            }
            self.pipe.changed().await;
        }
    }

    fn not_as_declared(&self, declared: u64, relation: &str) -> HypervisorError {
        HypervisorError::InvalidArgument {
            operation: OpenUpload::NAME,
            message: format!(
                "the upload into volume {} sent {relation} the {declared} bytes its header's `length` declared; it was aborted",
                self.volume
            ),
        }
    }
}

impl Drop for VolumeUpload {
    fn drop(&mut self) {
        if let Some(stream) = self.stream.take() {
            release(stream);
        }
    }
}
