//! What can go wrong talking to libvirt, classified the way a client must react.

use std::time::{Duration, Instant};

use virt::{error::Error as VirtError, sys};

use crate::model::{DomainAction, DomainRef, DomainState};

/// A failed hypervisor operation. Variants carry what a client (or an error detail)
/// needs to know: the operation, the domain, the state, libvirt's own words.
#[derive(Debug, Clone, thiserror::Error)]
pub enum HypervisorError {
    /// libvirt cannot be reached: the connect failed, or the service is closing.
    #[error("{reason}")]
    Unavailable {
        reason: String,
        /// When the service tries to connect again: what a client's retry waits for.
        next_attempt: NextAttempt,
    },
    /// A call found the connection broken, and a ping on it failed too: the
    /// connection is replaced.
    #[error("libvirt connection lost during {operation}: {message}")]
    ConnectionLost {
        operation: &'static str,
        message: String,
    },
    /// One domain is busy (libvirt's `VIR_ERR_OPERATION_TIMEOUT`, QEMU's "cannot
    /// acquire state change lock" during a migration or a backup). The connection
    /// is healthy; the call may be tried again later.
    #[error("{operation}: {message} (the domain is busy with another operation; try again later)")]
    Busy {
        operation: &'static str,
        message: String,
    },
    /// No domain has this UUID or name.
    #[error("domain {domain} not found: no domain has this UUID or name")]
    DomainNotFound { domain: DomainRef },
    /// A domain vanished while an operation read it (libvirt's own words).
    #[error("{operation}: {message}")]
    DomainGone {
        operation: &'static str,
        message: String,
    },
    /// Something else the request names (a snapshot, a save file, a storage pool or
    /// volume) does not exist.
    #[error("{operation}: {message}")]
    NotFound {
        operation: &'static str,
        missing: Missing,
        message: String,
    },
    /// A requested value is above a limit the domain has now (its maximum vCPUs or
    /// memory); the message names the limit.
    #[error("{operation}: {message}")]
    OutOfRange {
        operation: &'static str,
        message: String,
    },
    /// The domain's state does not allow the operation.
    #[error("domain {domain:?} is {}; {action:?} needs {needs}", state.word())]
    DomainState {
        domain: String,
        state: DomainState,
        action: DomainAction,
        needs: &'static str,
    },
    /// libvirt refused the request as malformed, in its own words.
    #[error("{operation}: {message}")]
    InvalidArgument {
        operation: &'static str,
        message: String,
    },
    /// libvirt refused the operation in the domain's current state.
    #[error("{operation}: {message}")]
    FailedPrecondition {
        operation: &'static str,
        message: String,
    },
    /// A domain with this name or UUID exists already.
    #[error("{operation}: {message}")]
    AlreadyExists {
        operation: &'static str,
        message: String,
    },
    /// The hypervisor driver does not implement the operation.
    #[error("{operation}: {message}")]
    Unsupported {
        operation: &'static str,
        message: String,
    },
    /// libvirt did not answer in time.
    #[error("libvirt did not answer {operation} within {after:?}")]
    Timeout {
        operation: &'static str,
        after: Duration,
    },
    /// Any other failure; its text is for the log, not for clients.
    #[error("{operation}: {message}")]
    Internal {
        operation: &'static str,
        message: String,
    },
}

/// When a connect will be tried again, as far as the connection holder knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextAttempt {
    /// No attempt waits for a backoff: the next call makes one.
    Now,
    /// The backoff after a failed connect ends then.
    At(Instant),
    /// Never on this instance: the service is shutting down.
    Never,
}

/// What a [`HypervisorError::NotFound`] did not find, by name where it is known
/// (libvirt's own "not found" errors do not say which name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Missing {
    Snapshot(String),
    Network(String),
    StoragePool(String),
    Volume { pool: String, volume: String },
    SaveFile(String),
    Device(String),
}

/// How a libvirt error code (and the part of libvirt that raised it) is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorClass {
    /// The connection may be gone: confirm with a ping before replacing it.
    ConnectionLoss,
    Busy,
    DomainNotFound,
    NotFound,
    InvalidArgument,
    FailedPrecondition,
    AlreadyExists,
    Unsupported,
    Internal,
}

impl HypervisorError {
    /// Classifies a libvirt error raised by `operation`.
    pub(crate) fn from_virt(operation: &'static str, err: &VirtError) -> Self {
        let message = err.message().to_owned();
        match classify(err.code().to_raw(), err.domain().to_raw()) {
            ErrorClass::ConnectionLoss => HypervisorError::ConnectionLost { operation, message },
            ErrorClass::Busy => HypervisorError::Busy { operation, message },
            ErrorClass::DomainNotFound => HypervisorError::DomainGone { operation, message },
            ErrorClass::NotFound => HypervisorError::NotFound {
                operation,
                missing: missing_kind(err.code().to_raw()),
                message,
            },
            ErrorClass::InvalidArgument => HypervisorError::InvalidArgument { operation, message },
            ErrorClass::FailedPrecondition => {
                HypervisorError::FailedPrecondition { operation, message }
            }
            ErrorClass::AlreadyExists => HypervisorError::AlreadyExists { operation, message },
            ErrorClass::Unsupported => HypervisorError::Unsupported { operation, message },
            ErrorClass::Internal => HypervisorError::Internal { operation, message },
        }
    }

    /// A failure with no libvirt error behind it.
    pub(crate) fn internal(operation: &'static str, message: impl Into<String>) -> Self {
        HypervisorError::Internal {
            operation,
            message: message.into(),
        }
    }

    /// libvirt is unreachable and no backoff holds the next connect back.
    pub(crate) fn unavailable(reason: impl Into<String>) -> Self {
        HypervisorError::Unavailable {
            reason: reason.into(),
            next_attempt: NextAttempt::Now,
        }
    }

    /// libvirt is unreachable until at least `next_attempt`.
    pub(crate) fn unavailable_until(reason: impl Into<String>, next_attempt: NextAttempt) -> Self {
        HypervisorError::Unavailable {
            reason: reason.into(),
            next_attempt,
        }
    }

    /// True when the error says the connection itself may be gone.
    pub fn is_connection_loss(&self) -> bool {
        matches!(self, HypervisorError::ConnectionLost { .. })
    }
}

/// Which kind of thing a libvirt "no such ..." code is about; the classifier has
/// already put `code` among the not-found ones.
fn missing_kind(code: sys::virErrorNumber) -> Missing {
    match code {
        sys::VIR_ERR_NO_STORAGE_POOL => Missing::StoragePool(String::new()),
        sys::VIR_ERR_NO_STORAGE_VOL => Missing::Volume {
            pool: String::new(),
            volume: String::new(),
        },
        sys::VIR_ERR_NO_NETWORK => Missing::Network(String::new()),
        // The classifier's only other not-found code is VIR_ERR_NO_DOMAIN_SNAPSHOT.
        _ => Missing::Snapshot(String::new()),
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
        sys::VIR_ERR_NO_DOMAIN_SNAPSHOT
        | sys::VIR_ERR_NO_STORAGE_POOL
        | sys::VIR_ERR_NO_STORAGE_VOL
        | sys::VIR_ERR_NO_NETWORK => ErrorClass::NotFound,
        sys::VIR_ERR_INVALID_MAC => ErrorClass::InvalidArgument,
        sys::VIR_ERR_NETWORK_EXIST => ErrorClass::AlreadyExists,
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
        sys::VIR_ERR_DOM_EXIST | sys::VIR_ERR_STORAGE_VOL_EXIST => ErrorClass::AlreadyExists,
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
            (sys::VIR_ERR_NO_DOMAIN_SNAPSHOT, NotFound),
            (sys::VIR_ERR_NO_STORAGE_POOL, NotFound),
            (sys::VIR_ERR_NO_STORAGE_VOL, NotFound),
            (sys::VIR_ERR_NO_NETWORK, NotFound),
            (sys::VIR_ERR_INVALID_MAC, InvalidArgument),
            (sys::VIR_ERR_NETWORK_EXIST, AlreadyExists),
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
            (sys::VIR_ERR_STORAGE_VOL_EXIST, AlreadyExists),
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
        let lost = HypervisorError::ConnectionLost {
            operation: "list",
            message: "x".into(),
        };
        let busy = HypervisorError::Busy {
            operation: "list",
            message: "x".into(),
        };
        assert!(lost.is_connection_loss());
        assert!(!busy.is_connection_loss());
        assert!(!HypervisorError::unavailable("x").is_connection_loss());
    }
}
