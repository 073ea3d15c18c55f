//! The one map from internal errors to gRPC statuses.
//!
//! Client errors say exactly what was wrong; internal errors are logged with their
//! cause and answered with a stable message and an error id that finds the log line:
//! libvirt's and the database's raw text can name paths, hosts and internals that
//! are no client's business.

use tonic::Status;
use tracing::error;

use crate::{
    host::HostError, hypervisor::HypervisorError, model::InvalidArgument, store::StoreError,
};

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
            HypervisorError::Internal(m) => internal("libvirt call failed", &m, "libvirt"),
        }
    }
}

impl From<InvalidArgument> for Status {
    fn from(err: InvalidArgument) -> Self {
        Status::invalid_argument(err.message)
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
        if let StoreError::NotWriter = err {
            // The writer lock's connection dropped: a moment, not a bug.
            return Status::unavailable(err.to_string());
        }
        internal("database operation failed", &err, "database")
    }
}

/// Logs `cause` under a fresh error id and answers with that id alone.
fn internal(what: &str, cause: &dyn std::fmt::Display, source: &str) -> Status {
    let error_id = format!("{:016x}", fastrand::u64(..));
    error!(%error_id, error = %cause, "{what}");
    Status::internal(format!(
        "internal {source} error; the service log has the details under error_id={error_id}"
    ))
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

    #[test]
    fn internal_errors_answer_an_id_and_never_the_cause() {
        let first = Status::from(HypervisorError::Internal("/var/lib/secret path".into()));
        let second = Status::from(HypervisorError::Internal("/var/lib/secret path".into()));
        assert_eq!(first.code(), tonic::Code::Internal);
        assert!(!first.message().contains("secret"), "{}", first.message());
        assert!(first.message().contains("error_id="));
        assert_ne!(
            first.message(),
            second.message(),
            "each error has its own id"
        );
    }
}
