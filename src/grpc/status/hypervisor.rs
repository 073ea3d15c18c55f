//! Statuses for libvirt's failures and for consoles, which live on the connection.

use std::time::{Duration, Instant};

use tonic::{Code, Status};

use super::{Problem, service::internal};
use crate::{
    console::{Ending, OpenError},
    grpc::pb::{self, ErrorReason as R},
    hypervisor::{HypervisorError, Missing, NextAttempt},
};

/// The resource type a domain has in `ResourceInfo`: the API's message for it.
const DOMAIN: &str = "virtplane.v1.Domain";

impl From<HypervisorError> for Status {
    fn from(err: HypervisorError) -> Self {
        let message = err.to_string();
        match err {
            HypervisorError::Unavailable { next_attempt, .. } => unavailable(message, next_attempt),
            // The call that found the connection broken already replaced it (or
            // failed to, which is `Unavailable`): a retry finds a fresh one.
            HypervisorError::ConnectionLost { operation, .. } => {
                Problem::new(Code::Unavailable, R::LibvirtConnectionLost, message)
                    .meta("operation", operation)
                    .retry_after(Duration::ZERO)
                    .into()
            }
            // Busy with another job: the client may retry the same call later.
            HypervisorError::Busy { operation, .. } => {
                Problem::new(Code::Aborted, R::DomainBusy, message)
                    .meta("operation", operation)
                    .into()
            }
            HypervisorError::DomainNotFound { domain } => {
                Problem::new(Code::NotFound, R::DomainNotFound, message.clone())
                    .meta("domain", domain.as_str())
                    .resource(DOMAIN, domain.as_str(), message)
                    .into()
            }
            HypervisorError::DomainGone { operation, .. } => {
                Problem::new(Code::NotFound, R::DomainNotFound, message.clone())
                    .meta("operation", operation)
                    .resource(DOMAIN, "", message)
                    .into()
            }
            HypervisorError::NotFound {
                operation, missing, ..
            } => not_found(message, operation, missing),
            HypervisorError::OutOfRange { operation, .. } => {
                Problem::new(Code::OutOfRange, R::ValueOutOfRange, message)
                    .meta("operation", operation)
                    .into()
            }
            HypervisorError::InvalidArgument { operation, .. } => {
                Problem::new(Code::InvalidArgument, R::LibvirtRejected, message)
                    .meta("operation", operation)
                    .into()
            }
            HypervisorError::DomainState {
                ref domain,
                state,
                action,
                needs,
            } => {
                let state_name = pb::DomainState::from(state).as_str_name();
                Problem::new(Code::FailedPrecondition, R::DomainState, message.clone())
                    .meta("domain", domain.as_str())
                    .meta("state", state_name)
                    .meta("action", format!("{action:?}"))
                    .meta("needs", needs)
                    .precondition(
                        "STATE",
                        format!("domain/{domain}"),
                        format!("the domain is {}; {action:?} needs {needs}", state.word()),
                    )
                    .into()
            }
            HypervisorError::FailedPrecondition { operation, .. } => Problem::new(
                Code::FailedPrecondition,
                R::LibvirtPrecondition,
                message.clone(),
            )
            .meta("operation", operation)
            .precondition("STATE", operation, message)
            .into(),
            HypervisorError::AlreadyExists { operation, .. } => {
                Problem::new(Code::AlreadyExists, R::AlreadyExists, message)
                    .meta("operation", operation)
                    .into()
            }
            HypervisorError::Unsupported { operation, .. } => {
                Problem::new(Code::Unimplemented, R::OperationUnsupported, message)
                    .meta("operation", operation)
                    .into()
            }
            HypervisorError::Timeout { operation, after } => {
                Problem::new(Code::DeadlineExceeded, R::LibvirtTimeout, message)
                    .meta("operation", operation)
                    .meta("timeout_ms", after.as_millis().to_string())
                    .into()
            }
            HypervisorError::Internal { .. } => {
                internal("libvirt call failed", &message, "libvirt")
            }
        }
    }
}

/// libvirt unreachable, with the time until the holder's next connect: a retry
/// before it only shares the last failure.
fn unavailable(message: String, next_attempt: NextAttempt) -> Status {
    let delay = match next_attempt {
        NextAttempt::Now => Duration::ZERO,
        NextAttempt::At(at) => at.saturating_duration_since(Instant::now()),
        NextAttempt::Never => {
            return Problem::new(Code::Unavailable, R::ServiceStopping, message).into();
        }
    };
    Problem::new(Code::Unavailable, R::LibvirtUnavailable, message)
        .retry_after(delay)
        .into()
}

/// What was not found, in ResourceInfo as the API's type and its name, and in the
/// metadata under the request field's name.
fn not_found(message: String, operation: &'static str, missing: Missing) -> Status {
    let found =
        |reason| Problem::new(Code::NotFound, reason, message.clone()).meta("operation", operation);
    let (problem, kind, name) = match missing {
        Missing::Snapshot(name) => (
            found(R::SnapshotNotFound).meta("snapshot", name.clone()),
            "Snapshot",
            name,
        ),
        Missing::Network(name) => (
            found(R::NetworkNotFound).meta("network", name.clone()),
            "Network",
            name,
        ),
        Missing::StoragePool(name) => (
            found(R::StoragePoolNotFound).meta("pool", name.clone()),
            "StoragePool",
            name,
        ),
        Missing::Volume { pool, volume } => {
            let name = if pool.is_empty() {
                String::new()
            } else {
                format!("{pool}/{volume}")
            };
            let problem = found(R::VolumeNotFound)
                .meta("pool", pool)
                .meta("volume", volume);
            (problem, "Volume", name)
        }
        Missing::SaveFile(name) => (
            found(R::SaveFileNotFound).meta("file", name.clone()),
            "SaveFile",
            name,
        ),
        Missing::Device(name) => (
            found(R::DeviceNotFound).meta("device", name.clone()),
            "Device",
            name,
        ),
    };
    problem
        .resource(&format!("virtplane.v1.{kind}"), name, message)
        .into()
}

impl From<OpenError> for Status {
    fn from(err: OpenError) -> Self {
        let message = err.to_string();
        match err {
            OpenError::Hypervisor(e) => e.into(),
            OpenError::Held {
                device,
                domain,
                since,
            } => Problem::new(Code::FailedPrecondition, R::ConsoleInUse, message)
                .precondition(
                    "CONSOLE",
                    format!("domain/{domain}/console/{device}"),
                    "another client holds the console; `force` takes it over",
                )
                .meta("domain", domain)
                .meta("device", device)
                .meta("since", since)
                .into(),
        }
    }
}

/// How a console stream ends: the code tells a client whether to reopen (UNAVAILABLE),
/// give up on a stopped domain (FAILED_PRECONDITION) or on a console someone else
/// took (ABORTED).
impl From<Ending> for Status {
    fn from(ending: Ending) -> Self {
        let message = ending.to_string();
        let problem = match ending {
            Ending::TakenOver { device, domain } => {
                Problem::new(Code::Aborted, R::ConsoleTakenOver, message)
                    .meta("domain", domain)
                    .meta("device", device)
            }
            Ending::StreamClosed { domain, .. } => {
                Problem::new(Code::Aborted, R::ConsoleClosed, message).meta("domain", domain)
            }
            Ending::DomainStopped { domain, .. } => {
                Problem::new(Code::FailedPrecondition, R::DomainState, message)
                    .precondition(
                        "STATE",
                        format!("domain/{domain}"),
                        "the domain stopped; a console needs it running",
                    )
                    .meta("domain", domain)
                    .meta("state", pb::DomainState::Shutoff.as_str_name())
            }
            // The service reconnects on its own; the console reopens on the new one.
            Ending::ConnectionLost { .. } => {
                Problem::new(Code::Unavailable, R::LibvirtConnectionLost, message)
                    .retry_after(Duration::ZERO)
            }
            Ending::ServiceStopping => Problem::new(Code::Unavailable, R::ServiceStopping, message),
            Ending::BadInput(invalid) => return invalid.into(),
            Ending::ClientGone => Problem::new(Code::Cancelled, R::ClientGone, message),
        };
        problem.into()
    }
}
