//! `DownloadVolume`: the volume's bytes as `data` messages, then an `end` with their
//! count and SHA-256, pumped by a task of its own that stops when the client goes.

use std::num::NonZeroU64;

use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Status;

use super::{StorageApi, api::DownloadStream};
use crate::{
    grpc::pb::{self, download_volume_response::Response},
    hypervisor::VolumeDownload,
    model::VolumeRef,
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
        } = request;
        let volume = VolumeRef::parse(pool, volume)?;
        // Opened before the stream answers, so a missing volume is the call's status.
        let mut download = VolumeDownload::open(
            &self.hypervisor,
            volume.clone(),
            offset,
            NonZeroU64::new(length),
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
                    Ok(None) => {
                        let summary = download.summary();
                        tracing::info!(%volume, offset, bytes = summary.bytes, sha256 = %summary.sha256, "volume downloaded");
                        let end = pb::DownloadVolumeEnd {
                            bytes_read: summary.bytes,
                            sha256: summary.sha256,
                        };
                        (Ok(message(Response::End(end))), true)
                    }
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

fn message(response: Response) -> pb::DownloadVolumeResponse {
    pb::DownloadVolumeResponse {
        response: Some(response),
    }
}
