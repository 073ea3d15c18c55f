//! Every error kind has its reason, and the reasons are the proto's.

use std::{
    collections::BTreeSet,
    time::{Duration, Instant},
};

use prost::Message as _;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use super::*;
use crate::{
    amqp::PublishError,
    console::{Ending, OpenError},
    grpc::pb::{self, ErrorReason},
    host::HostError,
    hypervisor::{HypervisorError, Missing, NextAttempt},
    model::{DomainAction, DomainRef, DomainState, InvalidArgument, PathRefusal},
    security::{AuthError, Caller, Role},
    store::StoreError,
};

fn lost(operation: &'static str) -> HypervisorError {
    HypervisorError::ConnectionLost {
        operation,
        message: "x".into(),
    }
}

fn not_found(missing: Missing) -> Status {
    HypervisorError::NotFound {
        operation: "look up",
        missing,
        message: "gone".into(),
    }
    .into()
}

fn hypervisor_samples() -> Vec<Status> {
    let op = |f: fn(&'static str, String) -> HypervisorError| f("op", "m".into()).into();
    vec![
        HypervisorError::unavailable("down").into(),
        HypervisorError::unavailable_until("stopping", NextAttempt::Never).into(),
        lost("list").into(),
        op(|operation, message| HypervisorError::Busy { operation, message }),
        HypervisorError::DomainNotFound {
            domain: DomainRef::Name("web".into()),
        }
        .into(),
        op(|operation, message| HypervisorError::DomainGone { operation, message }),
        not_found(Missing::Snapshot("s".into())),
        not_found(Missing::Network("n".into())),
        not_found(Missing::StoragePool("p".into())),
        not_found(Missing::Volume {
            pool: "p".into(),
            volume: "v".into(),
        }),
        not_found(Missing::SaveFile("f".into())),
        not_found(Missing::Device("vdb".into())),
        op(|operation, message| HypervisorError::OutOfRange { operation, message }),
        op(|operation, message| HypervisorError::InvalidArgument { operation, message }),
        domain_state(),
        op(|operation, message| HypervisorError::FailedPrecondition { operation, message }),
        op(|operation, message| HypervisorError::AlreadyExists { operation, message }),
        op(|operation, message| HypervisorError::Unsupported { operation, message }),
        HypervisorError::Timeout {
            operation: "op",
            after: Duration::from_secs(1),
        }
        .into(),
        HypervisorError::internal("op", "secret").into(),
    ]
}

fn domain_state() -> Status {
    HypervisorError::DomainState {
        domain: "web".into(),
        state: DomainState::Running,
        action: DomainAction::Resume,
        needs: "a paused domain",
    }
    .into()
}

fn console_samples() -> Vec<Status> {
    let held = OpenError::Held {
        device: "serial0".into(),
        domain: "web".into(),
        since: "2026-01-01T00:00:00Z".into(),
    };
    let (d, m) = (String::from("web"), String::from("m"));
    vec![
        held.into(),
        Ending::TakenOver {
            device: "serial0".into(),
            domain: d.clone(),
        }
        .into(),
        Ending::DomainStopped {
            domain: d.clone(),
            detail: m.clone(),
        }
        .into(),
        Ending::ConnectionLost { reason: m.clone() }.into(),
        Ending::StreamClosed {
            domain: d,
            message: m,
        }
        .into(),
        Ending::BadInput(InvalidArgument::new("data", "too big")).into(),
        Ending::ClientGone.into(),
        Ending::ServiceStopping.into(),
    ]
}

fn publish_samples() -> Vec<Status> {
    let s = String::from;
    [
        PublishError::UnknownBroker(s("b")),
        PublishError::Invalid(InvalidArgument::new("body", "m")),
        PublishError::Exhausted {
            message: s("m"),
            retry_after: Some(Duration::from_millis(20)),
        },
        PublishError::Unavailable {
            message: s("m"),
            retry_after: Duration::from_millis(300),
        },
        PublishError::Unroutable {
            exchange: s("x"),
            routing_key: s("k"),
            code: 312,
            text: s("NO_ROUTE"),
        },
        PublishError::Nacked,
        PublishError::NotFound(s("m")),
        PublishError::Denied(s("m")),
        PublishError::Rejected(s("m")),
        PublishError::DeadlineExceeded(s("m")),
    ]
    .into_iter()
    .map(|e| publish_failure(e, "main"))
    .collect()
}

fn other_samples() -> Vec<Status> {
    vec![
        InvalidArgument::new("page_size", "negative").into(),
        PathRefusal::OutsideRoots {
            field: "disk.path",
            path: "/etc/passwd".into(),
            roots: "/srv".into(),
        }
        .into(),
        HostError::InvalidReason("long".into()).into(),
        HostError::Disabled {
            hostname: "h".into(),
            reason: "maintenance".into(),
            operation: "start domain",
        }
        .into(),
        StoreError::NotWriter.into(),
        StoreError::Corrupt("x".into()).into(),
        token_role(
            "no".into(),
            &Caller {
                token: "ci".into(),
                role: Role::Reader,
            },
            "virtplane.v1.DomainService/StartDomain",
            "",
        ),
        token_invalid(&AuthError::Unknown),
        request_in_progress("later".into(), "r1"),
        request_id_reused("used".into(), "r1"),
        network_changes_disabled("no".into(), "DefineNetwork"),
        read_only_connection("read-only", "secure"),
        client_deadline("late".into(), "web", "DOMAIN_STATE_RUNNING"),
        watcher_lagged("behind".into(), 7),
        events_pruned("pruned".into(), 7),
        message_too_large("big".into(), "data", 4),
        webhook_not_found("hook"),
        host_not_found("hv-9"),
        internal_unexpected("oops"),
    ]
}

fn details(status: &Status) -> ErrorDetails {
    status
        .check_error_details()
        .expect("the details decode as google.rpc.Status")
}

fn reason(status: &Status) -> String {
    let details = details(status);
    let info = details.error_info().expect("every error has an ErrorInfo");
    assert_eq!(info.domain, ERROR_DOMAIN);
    info.reason.clone()
}

/// The value names of `virtplane.v1.ErrorReason` as the compiled proto has them.
fn proto_reason_names() -> BTreeSet<String> {
    let set = prost_types::FileDescriptorSet::decode(pb::FILE_DESCRIPTOR_SET).expect("descriptors");
    set.file
        .iter()
        .flat_map(|file| &file.enum_type)
        .filter(|e| e.name() == "ErrorReason")
        .flat_map(|e| &e.value)
        .map(|v| v.name().to_owned())
        .filter(|name| name != "ERROR_REASON_UNSPECIFIED")
        .collect()
}

#[test]
fn every_reason_of_the_proto_is_given_to_some_error_kind_and_no_other_is() {
    let samples: Vec<Status> = [
        hypervisor_samples(),
        console_samples(),
        publish_samples(),
        other_samples(),
    ]
    .concat();
    let used: BTreeSet<String> = samples.iter().map(reason).collect();
    assert_eq!(used, proto_reason_names());
    let rust_names: BTreeSet<String> = (1..1000)
        .filter_map(|n| ErrorReason::try_from(n).ok())
        .map(|r| r.as_str_name().to_owned())
        .collect();
    assert_eq!(rust_names, used, "the generated enum is the proto's");
}

#[test]
fn messages_and_codes_are_unchanged_by_the_details() {
    let status = domain_state();
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert_eq!(
        status.message(),
        "domain \"web\" is running; Resume needs a paused domain"
    );
    let failure = details(&status);
    let violation = &failure
        .precondition_failure()
        .expect("precondition")
        .violations[0];
    assert_eq!(violation.subject, "domain/web");
    assert!(violation.description.contains("running"), "{violation:?}");
    let info = failure.error_info().expect("info");
    assert_eq!(info.metadata["state"], "DOMAIN_STATE_RUNNING");
    assert_eq!(info.metadata["needs"], "a paused domain");
}

#[test]
fn an_invalid_argument_names_its_field_as_a_violation() {
    let status = Status::from(InvalidArgument::new(
        "page_size",
        "`page_size` must not be negative",
    ));
    let details = details(&status);
    let violations = &details.bad_request().expect("bad request").field_violations;
    assert_eq!(violations.len(), 1);
    assert_eq!(violations[0].field, "page_size");
    assert_eq!(status.message(), "`page_size` must not be negative");
}

#[test]
fn unavailable_libvirt_tells_the_time_left_until_the_next_connect() {
    let at = Instant::now() + Duration::from_secs(3);
    let status = Status::from(HypervisorError::unavailable_until(
        "down",
        NextAttempt::At(at),
    ));
    let delay = details(&status)
        .retry_info()
        .and_then(|r| r.retry_delay)
        .expect("a retry delay");
    assert!(
        delay <= Duration::from_secs(3) && delay > Duration::from_secs(2),
        "{delay:?}"
    );
    let stopping = Status::from(HypervisorError::unavailable_until(
        "bye",
        NextAttempt::Never,
    ));
    assert!(
        details(&stopping).retry_info().is_none(),
        "no retry on a stopping service"
    );
}

#[test]
fn a_missing_resource_is_named_in_resource_info_and_metadata() {
    let status = not_found(Missing::Volume {
        pool: "default".into(),
        volume: "disk.qcow2".into(),
    });
    let details = details(&status);
    let resource = details.resource_info().expect("resource info");
    assert_eq!(resource.resource_type, "virtplane.v1.Volume");
    assert_eq!(resource.resource_name, "default/disk.qcow2");
    let info = details.error_info().expect("info");
    assert_eq!(info.reason, "VOLUME_NOT_FOUND");
    assert_eq!(info.metadata["volume"], "disk.qcow2");
}

#[test]
fn internal_errors_carry_their_error_id_in_metadata_but_never_the_cause() {
    let status = Status::from(HypervisorError::internal("read", "/var/lib/secret path"));
    let info = details(&status).error_info().cloned().expect("info");
    assert!(status.message().contains(&info.metadata["error_id"]));
    assert!(!format!("{:?}", status.details()).contains("secret"));
}

#[test]
fn a_busy_domain_is_aborted_with_libvirts_message_and_a_lost_connection_unavailable() {
    let busy = Status::from(HypervisorError::Busy {
        operation: "start domain",
        message: "cannot acquire state change lock".into(),
    });
    assert_eq!(busy.code(), Code::Aborted);
    assert!(busy.message().contains("cannot acquire state change lock"));
    assert_eq!(Status::from(lost("list")).code(), Code::Unavailable);
}

#[test]
fn internal_errors_answer_an_id_and_never_the_cause() {
    let first = Status::from(HypervisorError::internal("read", "/var/lib/secret path"));
    let second = Status::from(HypervisorError::internal("read", "/var/lib/secret path"));
    assert_eq!(first.code(), Code::Internal);
    assert!(!first.message().contains("secret"), "{}", first.message());
    assert!(first.message().contains("error_id="));
    assert_ne!(
        first.message(),
        second.message(),
        "each error has its own id"
    );
}
