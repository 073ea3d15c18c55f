//! Snapshots, to the API.

use crate::{grpc::pb, model::SnapshotInfo};

impl From<SnapshotInfo> for pb::Snapshot {
    fn from(info: SnapshotInfo) -> Self {
        let SnapshotInfo {
            name,
            domain_uuid,
            description,
            domain_state,
            created_at_s,
            parent,
            current,
            has_memory,
        } = info;
        pb::Snapshot {
            name,
            domain_uuid,
            description,
            domain_state: pb::DomainState::from(domain_state).into(),
            create_time: Some(prost_types::Timestamp {
                seconds: created_at_s,
                nanos: 0,
            }),
            parent: parent.unwrap_or_default(),
            current,
            has_memory,
        }
    }
}
