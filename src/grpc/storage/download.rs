//! `DownloadVolume`: the volume's bytes as `data` messages, then an `end` with their
//! count and checksum, pumped by a task of its own that stops when the client goes.

use std::num::NonZeroU64;

use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Status;

use super::{StorageApi, api::DownloadStream};
use crate::{
    grpc::convert::{checksum_fields, checksum_kind},
    grpc::pb::{self, download_volume_response::Response},
    hypervisor::{HypervisorError, VolumeDownload},
    model::{TransferSummary, VolumeRef},
};

/// Messages buffered between the download and its HTTP/2 stream.
const BUFFERED: usize = 4;

impl StorageApi {
    pub(super) async fn download(
        &self,
        request: pb::DownloadVolumeRequest,
    ) -> Result<DownloadStream, Status> {
        let pb::DownloadVolumeRequest {
            pool,
            volume,
            offset,
            length,
            checksum,
        } = request;
        let volume = VolumeRef::parse(pool, volume)?;
        let checksum = checksum_kind(checksum)?;
        // Opened before the stream answers, so a missing volume is the call's status.
        let mut download = VolumeDownload::open(
            &self.hypervisor,
            volume.clone(),
            offset,
            NonZeroU64::new(length),
            checksum,
        )
        .await?;
        let (tx, rx) = mpsc::channel(BUFFERED);
        tokio::spawn(async move {
            loop {
                let next = tokio::select! {
                    next = download.next() => next,
                    () = tx.closed() => return,
                };
                let (message, last) = match next {
                    Ok(Some(data)) => (Ok(message(Response::Data(data))), false),
                    Ok(None) => (end(&volume, offset, download.summary().await), true),
                    Err(e) => (Err(Status::from(e)), true),
                };
                if tx.send(message).await.is_err() || last {
                    return;
                }
            }
        });
        Ok(Box::pin(ReceiverStream::new(rx)))
    }
}

/// The last message: what was sent, or why its digest is missing.
fn end(
    volume: &VolumeRef,
    offset: u64,
    summary: Result<TransferSummary, HypervisorError>,
) -> Result<pb::DownloadVolumeResponse, Status> {
    let TransferSummary {
        bytes,
        kind,
        checksum,
    } = summary?;
    tracing::info!(%volume, offset, bytes, checksum = %checksum, "volume downloaded");
    let (sha256, crc32c) = checksum_fields(kind, checksum);
    Ok(message(Response::End(pb::DownloadVolumeEnd {
        bytes_read: bytes,
        sha256,
        crc32c,
    })))
}

fn message(response: Response) -> pb::DownloadVolumeResponse {
    pb::DownloadVolumeResponse {
        response: Some(response),
    }
}
