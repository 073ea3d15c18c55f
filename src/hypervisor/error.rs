//! What can go wrong talking to libvirt, classified the way a client must react.

use std::time::Duration;

use virt::{error::Error as VirtError, sys};

/// A failed hypervisor operation.
#[derive(Debug, Clone, thiserror::Error)]
pub enum HypervisorError {
    /// libvirt cannot be reached: the connect failed, or the service is closing.
    #[error("{0}")]
    Unavailable(String),
    /// A call found the connection broken, and a ping on it failed too: the
    /// connection is replaced.
    #[error("{0}")]
    ConnectionLost(String),
    /// One domain is busy (libvirt's `VIR_ERR_OPERATION_TIMEOUT`, QEMU's "cannot
    /// acquire state change lock" during a migration or a backup). The connection
    /// is healthy; the call may be tried again later.
    #[error("{0}")]
    Busy(String),
    /// No domain has this UUID or name.
    #[error("{0}")]
    DomainNotFound(String),
    /// The request was malformed; carries libvirt's own explanation.
    #[error("{0}")]
    InvalidArgument(String),
    /// The operation is not valid in the domain's current state.
    #[error("{0}")]
    FailedPrecondition(String),
    /// A domain with this name or UUID exists already.
    #[error("{0}")]
    AlreadyExists(String),
    /// The hypervisor driver does not implement the operation.
    #[error("{0}")]
    Unsupported(String),
    /// libvirt did not answer in time.
    #[error("libvirt did not answer {operation} within {after:?}")]
    Timeout {
        operation: &'static str,
        after: Duration,
    },
    /// Any other libvirt failure.
    #[error("{0}")]
    Internal(String),
}

/// How a libvirt error code (and the part of libvirt that raised it) is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorClass {
    /// The connection may be gone: confirm with a ping before replacing it.
    ConnectionLoss,
    Busy,
    DomainNotFound,
    InvalidArgument,
    FailedPrecondition,
    AlreadyExists,
    Unsupported,
    Internal,
}

impl HypervisorError {
    /// Classifies a libvirt error raised by `operation`.
    pub(crate) fn from_virt(operation: &'static str, err: &VirtError) -> Self {
        let message = format!("{operation}: {}", err.message());
        match classify(err.code().to_raw(), err.domain().to_raw()) {
            ErrorClass::ConnectionLoss => {
                HypervisorError::ConnectionLost(format!("libvirt connection lost during {message}"))
            }
            ErrorClass::Busy => HypervisorError::Busy(format!(
                "{message} (the domain is busy with another operation; try again later)"
            )),
            ErrorClass::DomainNotFound => HypervisorError::DomainNotFound(message),
            ErrorClass::InvalidArgument => HypervisorError::InvalidArgument(message),
            ErrorClass::FailedPrecondition => HypervisorError::FailedPrecondition(message),
            ErrorClass::AlreadyExists => HypervisorError::AlreadyExists(message),
            ErrorClass::Unsupported => HypervisorError::Unsupported(message),
            ErrorClass::Internal => HypervisorError::Internal(message),
        }
    }

    /// True when the error says the connection itself may be gone.
    pub fn is_connection_loss(&self) -> bool {
        matches!(self, HypervisorError::ConnectionLost(_))
    }
}

/// The classifier Nova (`_test_connection`) and VDSM use: system, internal and RPC
/// errors raised by the remote driver or the RPC layer, or an explicitly missing or
/// invalid connection, mean the connection may be gone. Everything else is about
/// the request or one domain, never about the connection.
pub(crate) fn classify(code: sys::virErrorNumber, domain: sys::virErrorDomain) -> ErrorClass {
    let from_transport = domain == sys::VIR_FROM_REMOTE || domain == sys::VIR_FROM_RPC;
    match code {
        sys::VIR_ERR_SYSTEM_ERROR | sys::VIR_ERR_INTERNAL_ERROR if from_transport => {
            ErrorClass::ConnectionLoss
        }
        sys::VIR_ERR_INVALID_CONN | sys::VIR_ERR_NO_CONNECT | sys::VIR_ERR_RPC => {
            ErrorClass::ConnectionLoss
        }
        sys::VIR_ERR_OPERATION_TIMEOUT => ErrorClass::Busy,
        sys::VIR_ERR_NO_DOMAIN => ErrorClass::DomainNotFound,
        sys::VIR_ERR_XML_ERROR
        | sys::VIR_ERR_XML_DETAIL
        | sys::VIR_ERR_INVALID_ARG
        | sys::VIR_ERR_CONFIG_UNSUPPORTED
        | sys::VIR_ERR_XML_INVALID_SCHEMA
        | sys::VIR_ERR_NO_NAME
        | sys::VIR_ERR_INVALID_DOMAIN
        | sys::VIR_ERR_OS_TYPE => ErrorClass::InvalidArgument,
        sys::VIR_ERR_OPERATION_INVALID | sys::VIR_ERR_OPERATION_DENIED => {
            ErrorClass::FailedPrecondition
        }
        sys::VIR_ERR_DOM_EXIST => ErrorClass::AlreadyExists,
        sys::VIR_ERR_NO_SUPPORT | sys::VIR_ERR_OPERATION_UNSUPPORTED => ErrorClass::Unsupported,
        _ => ErrorClass::Internal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every code the classifier names, from the remote driver, the RPC layer and a
    /// hypervisor driver (QEMU), and what each must mean.
    #[test]
    fn each_libvirt_error_code_is_classified_as_nova_and_vdsm_do() {
        use ErrorClass::*;
        let transport_only = [sys::VIR_ERR_SYSTEM_ERROR, sys::VIR_ERR_INTERNAL_ERROR];
        for code in transport_only {
            assert_eq!(
                classify(code, sys::VIR_FROM_REMOTE),
                ConnectionLoss,
                "{code}"
            );
            assert_eq!(classify(code, sys::VIR_FROM_RPC), ConnectionLoss, "{code}");
            // The same code from a hypervisor driver is about the request.
            assert_eq!(classify(code, sys::VIR_FROM_QEMU), Internal, "{code}");
            assert_eq!(classify(code, sys::VIR_FROM_NONE), Internal, "{code}");
        }
        let table = [
            (sys::VIR_ERR_INVALID_CONN, ConnectionLoss),
            (sys::VIR_ERR_NO_CONNECT, ConnectionLoss),
            (sys::VIR_ERR_RPC, ConnectionLoss),
            (sys::VIR_ERR_OPERATION_TIMEOUT, Busy),
            (sys::VIR_ERR_NO_DOMAIN, DomainNotFound),
            (sys::VIR_ERR_XML_ERROR, InvalidArgument),
            (sys::VIR_ERR_XML_DETAIL, InvalidArgument),
            (sys::VIR_ERR_INVALID_ARG, InvalidArgument),
            (sys::VIR_ERR_CONFIG_UNSUPPORTED, InvalidArgument),
            (sys::VIR_ERR_XML_INVALID_SCHEMA, InvalidArgument),
            (sys::VIR_ERR_NO_NAME, InvalidArgument),
            (sys::VIR_ERR_INVALID_DOMAIN, InvalidArgument),
            (sys::VIR_ERR_OS_TYPE, InvalidArgument),
            (sys::VIR_ERR_OPERATION_INVALID, FailedPrecondition),
            (sys::VIR_ERR_OPERATION_DENIED, FailedPrecondition),
            (sys::VIR_ERR_DOM_EXIST, AlreadyExists),
            (sys::VIR_ERR_NO_SUPPORT, Unsupported),
            (sys::VIR_ERR_OPERATION_UNSUPPORTED, Unsupported),
            (sys::VIR_ERR_OPERATION_FAILED, Internal),
            (sys::VIR_ERR_NO_MEMORY, Internal),
            (sys::VIR_ERR_AUTH_FAILED, Internal),
        ];
        for (code, class) in table {
            for domain in [sys::VIR_FROM_REMOTE, sys::VIR_FROM_RPC, sys::VIR_FROM_QEMU] {
                assert_eq!(classify(code, domain), class, "code {code} from {domain}");
            }
        }
    }

    #[test]
    fn only_a_lost_connection_counts_as_one() {
        assert!(HypervisorError::ConnectionLost("x".into()).is_connection_loss());
        assert!(!HypervisorError::Busy("x".into()).is_connection_loss());
        assert!(!HypervisorError::Unavailable("x".into()).is_connection_loss());
    }
}
