//! `UploadVolume`: the header names the volume, the `data` messages after it are
//! written in order, and the reply comes once libvirt confirmed the write.

use tonic::{Status, Streaming};

use super::StorageApi;
use crate::{
    grpc::convert::{checksum_fields, checksum_kind},
    grpc::pb::{self, upload_volume_request::Request},
    grpc::status,
    hypervisor::VolumeUpload,
    model::InvalidArgument,
    model::{TransferSummary, VolumeRef},
};

/// The most one `data` message may carry.
pub(super) const MAX_CHUNK: usize = 4 * 1024 * 1024;

impl StorageApi {
    pub(super) async fn upload(
        &self,
        mut input: Streaming<pb::UploadVolumeRequest>,
    ) -> Result<pb::UploadVolumeResponse, Status> {
        let pb::UploadVolumeHeader {
            pool,
            volume,
            offset,
            length,
            checksum,
        } = header(&mut input).await?;
        let volume = VolumeRef::parse(pool, volume)?;
        let checksum = checksum_kind(checksum)?;
        let mut upload =
            VolumeUpload::open(&self.hypervisor, volume.clone(), offset, length, checksum).await?;
        while let Some(message) = input.message().await? {
            match message.request {
                Some(Request::Data(data)) if data.len() <= MAX_CHUNK => {
                    upload.write(data).await?;
                }
                // Over the limit, as a request over the decoder's limit is answered.
                Some(Request::Data(data)) => {
                    return Err(status::message_too_large(
                        format!(
                            "a `data` message carries {} bytes; at most {MAX_CHUNK} are allowed",
                            data.len()
                        ),
                        "data",
                        MAX_CHUNK,
                    ));
                }
                Some(Request::Header(_)) => {
                    return Err(Status::from(InvalidArgument::new(
                        "header",
                        "`header` was sent twice: only the first UploadVolumeRequest names the volume",
                    )));
                }
                None => {
                    return Err(Status::from(InvalidArgument::new(
                        "request",
                        "an UploadVolumeRequest carries neither `header` nor `data`",
                    )));
                }
            }
        }
        let TransferSummary {
            bytes,
            kind,
            checksum,
        } = upload.finish().await?;
        tracing::info!(%volume, offset, bytes, checksum = %checksum, "volume uploaded");
        let (sha256, crc32c) = checksum_fields(kind, checksum);
        Ok(pb::UploadVolumeResponse {
            bytes_written: bytes,
            sha256,
            crc32c,
        })
    }
}

/// The first message: which volume, and where in it.
async fn header(
    input: &mut Streaming<pb::UploadVolumeRequest>,
) -> Result<pb::UploadVolumeHeader, Status> {
    match input.message().await? {
        Some(pb::UploadVolumeRequest {
            request: Some(Request::Header(header)),
        }) => Ok(header),
        Some(_) => Err(Status::from(InvalidArgument::new(
            "request",
            "the first UploadVolumeRequest must be `header`, naming the pool and the volume",
        ))),
        None => Err(Status::from(InvalidArgument::new(
            "header",
            "the stream ended before `header`: the first UploadVolumeRequest must name the volume",
        ))),
    }
}
