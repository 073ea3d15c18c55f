//! What can go wrong talking to libvirt, classified the way a client must react.

use std::time::Duration;

use virt::{error::Error as VirtError, sys};

/// A failed hypervisor operation.
#[derive(Debug, Clone, thiserror::Error)]
pub enum HypervisorError {
    /// libvirt cannot be reached: the connect failed or the connection was lost.
    #[error("{0}")]
    Unavailable(String),
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

impl HypervisorError {
    /// Classifies a libvirt error raised by `operation`.
    pub(crate) fn from_virt(operation: &'static str, err: &VirtError) -> Self {
        let message = format!("{operation}: {}", err.message());
        let code = err.code().to_raw();
        if is_connection_loss(err) {
            return HypervisorError::Unavailable(format!(
                "libvirt connection lost during {message}"
            ));
        }
        match code {
            sys::VIR_ERR_NO_DOMAIN => HypervisorError::DomainNotFound(message),
            sys::VIR_ERR_XML_ERROR
            | sys::VIR_ERR_XML_DETAIL
            | sys::VIR_ERR_INVALID_ARG
            | sys::VIR_ERR_CONFIG_UNSUPPORTED
            | sys::VIR_ERR_XML_INVALID_SCHEMA
            | sys::VIR_ERR_NO_NAME
            | sys::VIR_ERR_INVALID_DOMAIN
            | sys::VIR_ERR_OS_TYPE => HypervisorError::InvalidArgument(message),
            sys::VIR_ERR_OPERATION_INVALID | sys::VIR_ERR_OPERATION_DENIED => {
                HypervisorError::FailedPrecondition(message)
            }
            sys::VIR_ERR_DOM_EXIST => HypervisorError::AlreadyExists(message),
            sys::VIR_ERR_NO_SUPPORT | sys::VIR_ERR_OPERATION_UNSUPPORTED => {
                HypervisorError::Unsupported(message)
            }
            sys::VIR_ERR_OPERATION_TIMEOUT => HypervisorError::Unavailable(message),
            _ => HypervisorError::Internal(message),
        }
    }

    /// True when the error means the connection itself is gone.
    pub fn is_connection_loss(&self) -> bool {
        matches!(self, HypervisorError::Unavailable(_))
    }
}

/// Nova's test for a broken connection: a system or internal error raised by the
/// remote driver or the RPC layer, or an explicitly invalid connection.
pub(crate) fn is_connection_loss(err: &VirtError) -> bool {
    let code = err.code().to_raw();
    let domain = err.domain().to_raw();
    let from_transport = domain == sys::VIR_FROM_REMOTE || domain == sys::VIR_FROM_RPC;
    (from_transport
        && matches!(
            code,
            sys::VIR_ERR_SYSTEM_ERROR | sys::VIR_ERR_INTERNAL_ERROR
        ))
        || matches!(
            code,
            sys::VIR_ERR_INVALID_CONN | sys::VIR_ERR_NO_CONNECT | sys::VIR_ERR_RPC
        )
}
