//! The one map from the service's errors to gRPC statuses, for every service.
//!
//! Client errors say exactly what was wrong; internal errors are logged with their
//! cause and answered with a stable message and an error id that finds the log line:
//! libvirt's and the database's raw text can name paths, hosts and internals that
//! are no client's business.

use tonic::Status;
use tracing::error;

use crate::{
    amqp::PublishError,
    console::{Ending, OpenError},
    host::HostError,
    hypervisor::HypervisorError,
    model::{InvalidArgument, PathRefusal},
    store::StoreError,
};

impl From<HypervisorError> for Status {
    fn from(err: HypervisorError) -> Self {
        let message = err.to_string();
        match err {
            HypervisorError::Unavailable { .. } | HypervisorError::ConnectionLost { .. } => {
                Status::unavailable(message)
            }
            // Busy with another job: the client may retry the same call later.
            HypervisorError::Busy { .. } => Status::aborted(message),
            HypervisorError::DomainNotFound { .. }
            | HypervisorError::DomainGone { .. }
            | HypervisorError::NotFound { .. } => Status::not_found(message),
            HypervisorError::OutOfRange { .. } => Status::out_of_range(message),
            HypervisorError::InvalidArgument { .. } => Status::invalid_argument(message),
            HypervisorError::DomainState { .. } | HypervisorError::FailedPrecondition { .. } => {
                Status::failed_precondition(message)
            }
            HypervisorError::AlreadyExists { .. } => Status::already_exists(message),
            HypervisorError::Unsupported { .. } => Status::unimplemented(message),
            HypervisorError::Timeout { .. } => Status::deadline_exceeded(message),
            HypervisorError::Internal { .. } => {
                internal("libvirt call failed", &message, "libvirt")
            }
        }
    }
}

impl From<OpenError> for Status {
    fn from(err: OpenError) -> Self {
        match err {
            OpenError::Hypervisor(e) => e.into(),
            held @ OpenError::Held { .. } => Status::failed_precondition(held.to_string()),
        }
    }
}

/// How a console stream ends: the code tells a client whether to reopen (UNAVAILABLE),
/// give up on a stopped domain (FAILED_PRECONDITION) or on a console someone else
/// took (ABORTED).
impl From<Ending> for Status {
    fn from(ending: Ending) -> Self {
        let message = ending.to_string();
        match ending {
            Ending::TakenOver { .. } | Ending::StreamClosed { .. } => Status::aborted(message),
            Ending::DomainStopped { .. } => Status::failed_precondition(message),
            Ending::ConnectionLost { .. } | Ending::ServiceStopping => Status::unavailable(message),
            Ending::BadInput(_) => Status::invalid_argument(message),
            Ending::ClientGone => Status::cancelled(message),
        }
    }
}

/// A malformed path is the client's typo; a well-formed one outside the allowed roots
/// is a refusal of what it asked for.
impl From<PathRefusal> for Status {
    fn from(err: PathRefusal) -> Self {
        match err {
            PathRefusal::Malformed(invalid) => invalid.into(),
            outside @ PathRefusal::OutsideRoots { .. } => {
                Status::permission_denied(outside.to_string())
            }
        }
    }
}

impl From<InvalidArgument> for Status {
    fn from(err: InvalidArgument) -> Self {
        Status::invalid_argument(err.message)
    }
}

impl From<PublishError> for Status {
    fn from(err: PublishError) -> Self {
        let message = err.to_string();
        match err {
            PublishError::UnknownBroker(_) | PublishError::NotFound(_) => {
                Status::not_found(message)
            }
            PublishError::Invalid(_) => Status::invalid_argument(message),
            PublishError::Exhausted(_) => Status::resource_exhausted(message),
            PublishError::Unavailable(_) => Status::unavailable(message),
            PublishError::Unroutable { .. } | PublishError::Rejected(_) => {
                Status::failed_precondition(message)
            }
            PublishError::Nacked => Status::aborted(message),
            PublishError::Denied(_) => Status::permission_denied(message),
            PublishError::DeadlineExceeded(_) => Status::deadline_exceeded(message),
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
        let busy = Status::from(HypervisorError::Busy {
            operation: "start domain",
            message: "cannot acquire state change lock".into(),
        });
        assert_eq!(busy.code(), tonic::Code::Aborted);
        assert!(busy.message().contains("cannot acquire state change lock"));
        let lost = Status::from(HypervisorError::ConnectionLost {
            operation: "list",
            message: "x".into(),
        });
        assert_eq!(lost.code(), tonic::Code::Unavailable);
    }

    #[test]
    fn internal_errors_answer_an_id_and_never_the_cause() {
        let first = Status::from(HypervisorError::internal("read", "/var/lib/secret path"));
        let second = Status::from(HypervisorError::internal("read", "/var/lib/secret path"));
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
