//! Storage pools and volumes, to the API.

use crate::{
    grpc::pb,
    model::{BackingStore, PoolState, StoragePoolInfo, VolumeInfo},
};

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
