//! What can go wrong in a command, as one line for stderr and an exit code by class.

use std::fmt;

use tonic::{Code, Status};

use crate::telemetry::code_name;

/// A command's failure.
#[derive(Debug)]
pub(crate) enum CliError {
    /// The service (or the transport) answered with an error status.
    Status(Status),
    /// A flag or argument the service was never asked about.
    Usage(String),
    /// Anything else: a file that cannot be read, output that cannot be encoded.
    Other(String),
    /// The reader of stdout went away (`| head`): not worth a message.
    BrokenPipe,
}

impl CliError {
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        CliError::Usage(message.into())
    }

    /// 0 ok, 1 other, 2 usage or invalid argument, 3 not found, 4 the resource's state
    /// refuses the call, 5 try again later, 6 not allowed.
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            CliError::Status(status) => exit_code_of(status.code()),
            CliError::Usage(_) => 2,
            CliError::Other(_) => 1,
            CliError::BrokenPipe => 0,
        }
    }
}

fn exit_code_of(code: Code) -> u8 {
    match code {
        Code::Ok => 0,
        Code::InvalidArgument | Code::OutOfRange => 2,
        Code::NotFound => 3,
        Code::FailedPrecondition | Code::AlreadyExists | Code::Aborted => 4,
        Code::Unavailable | Code::DeadlineExceeded | Code::ResourceExhausted => 5,
        Code::PermissionDenied | Code::Unauthenticated => 6,
        Code::Cancelled | Code::Unknown | Code::Unimplemented | Code::Internal | Code::DataLoss => {
            1
        }
    }
}

/// `CODE: message`, and the reason of the status's ErrorInfo when it carries one.
pub(crate) fn describe(status: &Status) -> String {
    let mut line = format!("{}: {}", code_name(status.code()), message_of(status));
    if let Some(reason) = super::output::error_reason(status.details()) {
        line.push_str(&format!(" (reason: {reason})"));
    }
    line
}

/// The status's message; for a transport failure with none, its cause.
fn message_of(status: &Status) -> String {
    let message = status.message().trim();
    let mut cause = std::error::Error::source(status);
    let mut causes = Vec::new();
    while let Some(error) = cause {
        causes.push(error.to_string());
        cause = error.source();
    }
    match (message.is_empty(), causes.last()) {
        (true, Some(root)) => root.clone(),
        (false, Some(root)) if !message.contains(root.as_str()) => format!("{message}: {root}"),
        _ => message.to_owned(),
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Status(status) => f.write_str(&describe(status)),
            CliError::Usage(message) | CliError::Other(message) => f.write_str(message),
            CliError::BrokenPipe => f.write_str("broken pipe"),
        }
    }
}

impl From<Status> for CliError {
    fn from(status: Status) -> Self {
        // tonic reports its own client-side deadline (`--timeout`) as CANCELLED; to the
        // caller it is a deadline like the service's own DEADLINE_EXCEEDED, worth a retry.
        if status.code() == Code::Cancelled && status.message() == "Timeout expired" {
            return CliError::Status(Status::deadline_exceeded("no answer within --timeout"));
        }
        CliError::Status(status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_class_of_code_has_its_exit_code() {
        assert_eq!(CliError::from(Status::not_found("x")).exit_code(), 3);
        assert_eq!(
            CliError::from(Status::failed_precondition("x")).exit_code(),
            4
        );
        assert_eq!(CliError::from(Status::unavailable("x")).exit_code(), 5);
        assert_eq!(
            CliError::from(Status::permission_denied("x")).exit_code(),
            6
        );
        assert_eq!(CliError::from(Status::internal("x")).exit_code(), 1);
        assert_eq!(CliError::usage("x").exit_code(), 2);
    }

    #[test]
    fn the_reason_of_an_error_info_follows_the_message() {
        // google.rpc.Status { code: 5, details: [Any { type_url, ErrorInfo { reason } }] }
        let info = [b"\x0a\x10DOMAIN_NOT_FOUND".as_slice()].concat();
        let type_url = b"type.googleapis.com/google.rpc.ErrorInfo";
        let mut any = vec![0x0a, type_url.len() as u8];
        any.extend_from_slice(type_url);
        any.extend_from_slice(&[0x12, info.len() as u8]);
        any.extend_from_slice(&info);
        let mut details = vec![0x08, 0x05, 0x1a, any.len() as u8];
        details.extend_from_slice(&any);
        let status = Status::with_details(Code::NotFound, "no domain web", details.into());

        assert_eq!(
            CliError::from(status).to_string(),
            "NOT_FOUND: no domain web (reason: DOMAIN_NOT_FOUND)"
        );
    }

    #[test]
    fn a_status_reads_as_its_code_and_message() {
        let status = Status::not_found("domain \"web\" not found");
        assert_eq!(
            CliError::from(status).to_string(),
            "NOT_FOUND: domain \"web\" not found"
        );
    }
}
