//! Storage pools and volumes, to the API; a transfer's checksum both ways.

use tonic::Status;

use crate::{
    grpc::pb,
    model::{BackingStore, ChecksumKind, InvalidArgument, PoolState, StoragePoolInfo, VolumeInfo},
};

/// A transfer's `checksum` field: SHA-256 when unset.
pub(crate) fn checksum_kind(raw: i32) -> Result<ChecksumKind, Status> {
    match pb::TransferChecksum::try_from(raw) {
        Ok(pb::TransferChecksum::Unspecified | pb::TransferChecksum::Sha256) => {
            Ok(ChecksumKind::Sha256)
        }
        Ok(pb::TransferChecksum::Crc32c) => Ok(ChecksumKind::Crc32c),
        Err(_) => Err(InvalidArgument::new(
            "checksum",
            format!(
                "`checksum` {raw} is not a TransferChecksum value: use \
                 TRANSFER_CHECKSUM_SHA256 (1) or TRANSFER_CHECKSUM_CRC32C (2)"
            ),
        )
        .into()),
    }
}

/// A transfer's checksum as the replies carry it: `(sha256, crc32c)`, one empty.
pub(crate) fn checksum_fields(kind: ChecksumKind, checksum: String) -> (String, String) {
    match kind {
        ChecksumKind::Sha256 => (checksum, String::new()),
        ChecksumKind::Crc32c => (String::new(), checksum),
    }
}

impl From<PoolState> for pb::StoragePoolState {
    fn from(state: PoolState) -> Self {
        match state {
            PoolState::Inactive => pb::StoragePoolState::Inactive,
            PoolState::Building => pb::StoragePoolState::Building,
            PoolState::Running => pb::StoragePoolState::Running,
            PoolState::Degraded => pb::StoragePoolState::Degraded,
            PoolState::Inaccessible => pb::StoragePoolState::Inaccessible,
        }
    }
}

impl From<StoragePoolInfo> for pb::StoragePool {
    fn from(info: StoragePoolInfo) -> Self {
        let StoragePoolInfo {
            name,
            uuid,
            kind,
            state,
            persistent,
            autostart,
            capacity_bytes,
            allocation_bytes,
            available_bytes,
            target_path,
        } = info;
        pb::StoragePool {
            name,
            uuid,
            r#type: kind,
            state: pb::StoragePoolState::from(state).into(),
            persistent,
            autostart,
            capacity_bytes,
            allocation_bytes,
            available_bytes,
            target_path,
        }
    }
}

impl From<VolumeInfo> for pb::Volume {
    fn from(info: VolumeInfo) -> Self {
        let VolumeInfo {
            pool,
            name,
            path,
            kind,
            format,
            capacity_bytes,
            allocation_bytes,
            backing,
        } = info;
        pb::Volume {
            pool,
            name,
            path,
            r#type: kind,
            format,
            capacity_bytes,
            allocation_bytes,
            backing_store: backing
                .map(|BackingStore { path, format }| pb::BackingStore { path, format }),
        }
    }
}
