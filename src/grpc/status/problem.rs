//! A status with google.rpc details: the code and message a client always had, and
//! the reason and details a program acts on without parsing the message.

use std::{collections::HashMap, time::Duration};

use tonic::{Code, Status};
use tonic_types::{
    BadRequest, ErrorDetail, ErrorInfo, FieldViolation, PreconditionFailure, PreconditionViolation,
    ResourceInfo, RetryInfo, StatusExt,
};

use crate::grpc::pb::ErrorReason;

/// `ErrorInfo.domain` of every error: the API's package, which owns the reasons.
pub(crate) const ERROR_DOMAIN: &str = "virtplane.v1";

/// A failure on its way to the client.
#[derive(Debug)]
pub(crate) struct Problem {
    code: Code,
    message: String,
    reason: ErrorReason,
    metadata: HashMap<String, String>,
    resource: Option<ResourceInfo>,
    fields: Vec<FieldViolation>,
    preconditions: Vec<PreconditionViolation>,
    retry: Option<Duration>,
}

impl Problem {
    pub(crate) fn new(code: Code, reason: ErrorReason, message: impl Into<String>) -> Self {
        Problem {
            code,
            message: message.into(),
            reason,
            metadata: HashMap::new(),
            resource: None,
            fields: Vec::new(),
            preconditions: Vec::new(),
            retry: None,
        }
    }

    /// Names a resource or a circumstance in `ErrorInfo.metadata`. An empty value is
    /// left out: "unknown" is no key rather than a key a client must special-case.
    /// Never a secret: metadata reaches every client and every log that prints it.
    pub(crate) fn meta(mut self, key: &'static str, value: impl Into<String>) -> Self {
        let value = value.into();
        if !value.is_empty() {
            self.metadata.insert(key.to_owned(), value);
        }
        self
    }

    /// The resource that was not found (or found in the way), as `ResourceInfo`.
    pub(crate) fn resource(
        mut self,
        kind: &str,
        name: impl Into<String>,
        description: impl Into<String>,
    ) -> Self {
        self.resource = Some(ResourceInfo::new(kind, name, "", description));
        self
    }

    /// A request field that was wrong, by its path (`domain`, `disk.path`).
    pub(crate) fn field(mut self, path: impl Into<String>, description: impl Into<String>) -> Self {
        self.fields.push(FieldViolation::new(path, description));
        self
    }

    /// A state that does not allow the call: `kind` is a short type ("STATE"),
    /// `subject` what is in it ("domain/web-1"), `description` what the call needs.
    pub(crate) fn precondition(
        mut self,
        kind: &str,
        subject: impl Into<String>,
        description: impl Into<String>,
    ) -> Self {
        self.preconditions
            .push(PreconditionViolation::new(kind, subject, description));
        self
    }

    /// When trying again has a chance; `Duration::ZERO` for at once.
    pub(crate) fn retry_after(mut self, delay: Duration) -> Self {
        self.retry = Some(delay);
        self
    }
}

impl From<Problem> for Status {
    fn from(problem: Problem) -> Self {
        let Problem {
            code,
            message,
            reason,
            metadata,
            resource,
            fields,
            preconditions,
            retry,
        } = problem;
        // ErrorInfo first: the one detail every error has, and the one clients read.
        let mut details = vec![ErrorDetail::from(ErrorInfo::new(
            reason.as_str_name(),
            ERROR_DOMAIN,
            metadata,
        ))];
        if let Some(resource) = resource {
            details.push(resource.into());
        }
        if !fields.is_empty() {
            details.push(BadRequest::new(fields).into());
        }
        if !preconditions.is_empty() {
            details.push(PreconditionFailure::new(preconditions).into());
        }
        if let Some(delay) = retry {
            details.push(RetryInfo::new(Some(delay)).into());
        }
        Status::with_error_details_vec(code, message, details)
    }
}
