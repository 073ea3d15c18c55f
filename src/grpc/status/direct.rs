//! Statuses the gRPC layer answers on its own: access, request ids, and refusals
//! that belong to one handler, each with its reason.

use std::time::Duration;

use tonic::{Code, Status};

use super::Problem;
use crate::{
    grpc::pb::ErrorReason as R,
    security::{AuthError, Caller},
};

/// A token whose role may not make the call (`field` empty) or set `field`. The
/// token is named by its configured name, never its value.
pub(crate) fn token_role(message: String, caller: &Caller, method: &str, field: &str) -> Status {
    Problem::new(Code::PermissionDenied, R::TokenRole, message)
        .meta("token", caller.token.as_str())
        .meta("role", caller.role.as_str())
        .meta("method", method)
        .meta("field", field)
        .into()
}

/// No token, a malformed header, or a token nobody configured.
pub(crate) fn token_invalid(err: &AuthError) -> Status {
    Problem::new(Code::Unauthenticated, R::TokenInvalid, err.to_string()).into()
}

/// An earlier request with the same id still runs; its outcome is what a retry gets.
pub(crate) fn request_in_progress(message: String, request_id: &str) -> Status {
    Problem::new(Code::Aborted, R::RequestInProgress, message)
        .meta("request_id", request_id)
        .into()
}

/// A request id already used for a different request.
pub(crate) fn request_id_reused(message: String, request_id: &str) -> Status {
    Problem::new(Code::InvalidArgument, R::RequestIdReused, message.clone())
        .meta("request_id", request_id)
        .meta("field", "request_id")
        .field("request_id", message)
        .into()
}

/// The host's configuration does not allow the change, whoever asks.
pub(crate) fn network_changes_disabled(message: String, method: &str) -> Status {
    Problem::new(Code::FailedPrecondition, R::NetworkChangesDisabled, message)
        .precondition(
            "CONFIGURATION",
            "libvirt.manage_networks",
            "network changes need `libvirt.manage_networks = true`",
        )
        .meta("method", method)
        .meta("setting", "libvirt.manage_networks")
        .into()
}

/// `field` needs a read-write libvirt connection and the service's is read-only.
pub(crate) fn read_only_connection(message: &str, field: &'static str) -> Status {
    Problem::new(Code::FailedPrecondition, R::ReadOnlyConnection, message)
        .precondition(
            "CONFIGURATION",
            "libvirt.read_only",
            "a read-write libvirt connection",
        )
        .meta("field", field)
        .into()
}

/// The client's deadline came before the wait it asked for ended.
pub(crate) fn client_deadline(message: String, domain: &str, state: &str) -> Status {
    Problem::new(Code::DeadlineExceeded, R::ClientDeadline, message)
        .meta("domain", domain)
        .meta("state", state)
        .into()
}

/// A watcher fell behind the live events; it resumes at once from `after_id`.
pub(crate) fn watcher_lagged(message: String, after_id: i64) -> Status {
    Problem::new(Code::ResourceExhausted, R::WatcherLagged, message)
        .meta("after_id", after_id.to_string())
        .retry_after(Duration::ZERO)
        .into()
}

/// A cursor older than the oldest kept event.
pub(crate) fn events_pruned(message: String, watermark: i64) -> Status {
    Problem::new(Code::OutOfRange, R::EventsPruned, message)
        .meta("oldest_kept_after", watermark.to_string())
        .into()
}

/// One message over a size limit: no retry helps, so no RetryInfo.
pub(crate) fn message_too_large(message: String, field: &'static str, limit: usize) -> Status {
    Problem::new(Code::ResourceExhausted, R::MessageTooLarge, message.clone())
        .meta("field", field)
        .meta("limit", limit.to_string())
        .field(field, message)
        .into()
}

/// A webhook name that is not configured.
pub(crate) fn webhook_not_found(name: &str) -> Status {
    let message = format!("webhook {name:?} is not configured on this host");
    Problem::new(Code::NotFound, R::WebhookNotFound, message.clone())
        .meta("webhook", name)
        .resource("virtplane.v1.Webhook", name, message)
        .into()
}

/// A hostname no agent has written to the shared database.
pub(crate) fn host_not_found(hostname: &str) -> Status {
    let message = format!("`hostname` {hostname:?}: no such host in the database");
    Problem::new(Code::NotFound, R::HostNotFound, message.clone())
        .meta("hostname", hostname)
        .resource("virtplane.v1.Host", hostname, message)
        .into()
}

/// A failure with nothing for the client but the fact.
pub(crate) fn internal_unexpected(message: &'static str) -> Status {
    Problem::new(Code::Internal, R::Internal, message).into()
}
