//! Statuses for the request's own faults, publishing, the host and the database.
//!
//! Internal errors are logged with their cause and answered with a stable message
//! and an error id that finds the log line: the database's raw text can name paths,
//! hosts and internals that are no client's business.

use tonic::{Code, Status};
use tracing::error;

use super::Problem;
use crate::{
    amqp::PublishError,
    grpc::pb::ErrorReason as R,
    host::HostError,
    model::{InvalidArgument, PathRefusal},
    store::{StoreError, WRITER_LOCK_RETRY},
};

/// A malformed path is the client's typo; a well-formed one outside the allowed roots
/// is a refusal of what it asked for.
impl From<PathRefusal> for Status {
    fn from(err: PathRefusal) -> Self {
        let message = err.to_string();
        match err {
            PathRefusal::Malformed(invalid) => invalid.into(),
            PathRefusal::OutsideRoots { field, path, .. } => {
                Problem::new(Code::PermissionDenied, R::PathOutsideRoots, message)
                    .meta("field", field)
                    .meta("path", path)
                    .into()
            }
        }
    }
}

impl From<InvalidArgument> for Status {
    fn from(err: InvalidArgument) -> Self {
        let InvalidArgument { field, message } = err;
        Problem::new(Code::InvalidArgument, R::InvalidArgument, message.clone())
            .meta("field", field)
            .field(field, message)
            .into()
    }
}

impl From<PublishError> for Status {
    fn from(err: PublishError) -> Self {
        publish_failure(err, "")
    }
}

/// A publish's failure, naming the broker (by its configured name, never its URL,
/// which holds the password).
pub(crate) fn publish_failure(err: PublishError, broker: &str) -> Status {
    let message = err.to_string();
    let problem = match err {
        PublishError::UnknownBroker(name) => Problem::new(
            Code::NotFound,
            R::BrokerNotFound,
            message.clone(),
        )
        .resource("virtplane.v1.Broker", name, message),
        PublishError::NotFound(_) => Problem::new(Code::NotFound, R::ExchangeNotFound, message),
        PublishError::Invalid(InvalidArgument { field, .. }) => {
            Problem::new(Code::InvalidArgument, R::InvalidArgument, message.clone())
                .meta("field", field)
                .field(field, message)
        }
        PublishError::Exhausted { retry_after, .. } => {
            let problem = Problem::new(Code::ResourceExhausted, R::PoolExhausted, message);
            match retry_after {
                Some(delay) => problem.retry_after(delay),
                None => problem,
            }
        }
        PublishError::Unavailable { retry_after, .. } => {
            Problem::new(Code::Unavailable, R::BrokerUnavailable, message).retry_after(retry_after)
        }
        PublishError::Unroutable {
            exchange,
            routing_key,
            ..
        } => Problem::new(Code::FailedPrecondition, R::Unroutable, message)
            .precondition(
                "ROUTE",
                format!("exchange/{exchange}/routing_key/{routing_key}"),
                "a mandatory message needs a queue bound to the exchange with the routing key",
            )
            .meta("exchange", exchange)
            .meta("routing_key", routing_key),
        PublishError::Rejected(_) => {
            Problem::new(Code::FailedPrecondition, R::BrokerRejected, message)
        }
        PublishError::Nacked => Problem::new(Code::Aborted, R::BrokerNacked, message),
        PublishError::Denied(_) => {
            Problem::new(Code::PermissionDenied, R::BrokerAccessRefused, message)
        }
        PublishError::DeadlineExceeded(_) => {
            Problem::new(Code::DeadlineExceeded, R::ConfirmTimeout, message)
        }
    };
    problem.meta("broker", broker).into()
}

impl From<HostError> for Status {
    fn from(err: HostError) -> Self {
        let message = err.to_string();
        match err {
            HostError::InvalidReason(m) => InvalidArgument::new("reason", m).into(),
            HostError::Disabled {
                hostname,
                reason,
                operation,
            } => Problem::new(Code::FailedPrecondition, R::HostDisabled, message)
                .precondition(
                    "HOST",
                    format!("host/{hostname}"),
                    format!("the host is disabled; {operation} needs it enabled"),
                )
                .meta("host", hostname)
                .meta("disabled_reason", reason)
                .meta("operation", operation)
                .into(),
            HostError::Store(e) => e.into(),
        }
    }
}

impl From<StoreError> for Status {
    fn from(err: StoreError) -> Self {
        if let StoreError::NotWriter = err {
            // The writer lock's connection dropped: a moment, not a bug. The lock is
            // tried again on a new connection after this pause first.
            return Problem::new(Code::Unavailable, R::DatabaseNotWriter, err.to_string())
                .retry_after(WRITER_LOCK_RETRY)
                .into();
        }
        internal("database operation failed", &err, "database")
    }
}

/// Logs `cause` under a fresh error id and answers with that id alone.
pub(super) fn internal(what: &str, cause: &dyn std::fmt::Display, source: &str) -> Status {
    let error_id = format!("{:016x}", fastrand::u64(..));
    error!(%error_id, error = %cause, "{what}");
    Problem::new(
        Code::Internal,
        R::Internal,
        format!(
            "internal {source} error; the service log has the details under error_id={error_id}"
        ),
    )
    .meta("error_id", error_id)
    .meta("source", source)
    .into()
}
