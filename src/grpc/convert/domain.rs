//! Domains and their states, to and from the API.

use tonic::Status;

use crate::{
    grpc::pb,
    model::InvalidArgument,
    model::{DomainState, DomainSummary},
};

impl From<DomainState> for pb::DomainState {
    fn from(state: DomainState) -> Self {
        match state {
            DomainState::NoState => pb::DomainState::Nostate,
            DomainState::Running => pb::DomainState::Running,
            DomainState::Blocked => pb::DomainState::Blocked,
            DomainState::Paused => pb::DomainState::Paused,
            DomainState::Shutdown => pb::DomainState::Shutdown,
            DomainState::Shutoff => pb::DomainState::Shutoff,
            DomainState::Crashed => pb::DomainState::Crashed,
            DomainState::PmSuspended => pb::DomainState::Pmsuspended,
        }
    }
}

/// The state filter of a request: `None` for UNSPECIFIED (all states).
pub(crate) fn state_filter(raw: i32) -> Result<Option<DomainState>, Status> {
    let state = pb::DomainState::try_from(raw).map_err(|_| {
        Status::from(InvalidArgument::new(
            "state",
            format!("`state` {raw} is not a DomainState value"),
        ))
    })?;
    Ok(match state {
        pb::DomainState::Unspecified => None,
        pb::DomainState::Nostate => Some(DomainState::NoState),
        pb::DomainState::Running => Some(DomainState::Running),
        pb::DomainState::Blocked => Some(DomainState::Blocked),
        pb::DomainState::Paused => Some(DomainState::Paused),
        pb::DomainState::Shutdown => Some(DomainState::Shutdown),
        pb::DomainState::Shutoff => Some(DomainState::Shutoff),
        pb::DomainState::Crashed => Some(DomainState::Crashed),
        pb::DomainState::Pmsuspended => Some(DomainState::PmSuspended),
    })
}

impl From<DomainSummary> for pb::Domain {
    fn from(summary: DomainSummary) -> Self {
        let DomainSummary {
            uuid,
            name,
            state,
            state_reason,
            id,
            vcpus,
            memory_kib,
            max_memory_kib,
            persistent,
            autostart,
            has_managed_save,
            labels,
        } = summary;
        pb::Domain {
            uuid,
            name,
            state: pb::DomainState::from(state).into(),
            state_reason,
            id: id.unwrap_or(0),
            vcpus,
            memory_kib,
            max_memory_kib,
            persistent,
            autostart,
            has_managed_save,
            labels,
            stale: false,
        }
    }
}
