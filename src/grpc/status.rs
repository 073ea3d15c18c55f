//! The one map from internal errors to gRPC statuses.
//!
//! Client errors say exactly what was wrong; internal errors are logged with their
//! cause and answered with an opaque message.

use tonic::Status;
use tracing::error;

use crate::{host::HostError, hypervisor::HypervisorError, store::StoreError};

impl From<HypervisorError> for Status {
    fn from(err: HypervisorError) -> Self {
        match err {
            HypervisorError::Unavailable(m) | HypervisorError::ConnectionLost(m) => {
                Status::unavailable(m)
            }
            // Busy with another job: the client may retry the same call later.
            HypervisorError::Busy(m) => Status::aborted(m),
            HypervisorError::DomainNotFound(m) => Status::not_found(m),
            HypervisorError::InvalidArgument(m) => Status::invalid_argument(m),
            HypervisorError::FailedPrecondition(m) => Status::failed_precondition(m),
            HypervisorError::AlreadyExists(m) => Status::already_exists(m),
            HypervisorError::Unsupported(m) => Status::unimplemented(m),
            e @ HypervisorError::Timeout { .. } => Status::deadline_exceeded(e.to_string()),
            HypervisorError::Internal(m) => {
                error!(error = %m, "libvirt call failed");
                Status::internal(m)
            }
        }
    }
}

impl From<HostError> for Status {
    fn from(err: HostError) -> Self {
        match err {
            HostError::InvalidReason(m) => Status::invalid_argument(m),
            e @ HostError::Disabled { .. } => Status::failed_precondition(e.to_string()),
            HostError::Store(e) => e.into(),
        }
    }
}

impl From<StoreError> for Status {
    fn from(err: StoreError) -> Self {
        error!(error = %err, "database operation failed");
        Status::internal("internal database error; the service log has the details")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_domain_is_aborted_with_libvirts_message_and_a_lost_connection_unavailable() {
        let busy = Status::from(HypervisorError::Busy(
            "start domain: cannot acquire state change lock".into(),
        ));
        assert_eq!(busy.code(), tonic::Code::Aborted);
        assert!(busy.message().contains("cannot acquire state change lock"));
        let lost = Status::from(HypervisorError::ConnectionLost("x".into()));
        assert_eq!(lost.code(), tonic::Code::Unavailable);
    }
}
