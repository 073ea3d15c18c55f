//! One libvirt operation, one type: its name, whether it may be repeated after a
//! reconnect and whether it needs an enabled host stand beside its call, with no
//! defaults, so a new operation does not compile until someone has decided them.

use virt::connect::Connect;

use super::{Hypervisor, HypervisorError};

/// Whether an operation may be repeated after a reconnect when the connection broke
/// while it was in flight (it may or may not have reached libvirt).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Reads: repeating them is harmless.
    Safe,
    /// Mutations: repeated only if the connection was found dead before sending.
    OnlyIfUnsent,
}

/// Whether an operation may run on a disabled host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Reads, and changes that take load off the host (stop, pause, undefine).
    Always,
    /// New work: defining or starting a domain. Refused while the host is disabled.
    EnabledHost,
}

/// A libvirt operation.
pub trait Operation: Send + Sync + 'static {
    type Output: Send + 'static;
    /// The operation's name in messages ("libvirt did not answer NAME within ...").
    const NAME: &'static str;
    const RETRY: Retry;
    const ADMISSION: Admission;

    /// The libvirt calls. Blocking: runs on a blocking thread, inside
    /// [`Hypervisor::run`].
    ///
    /// # Errors
    /// libvirt's error, classified.
    fn call(&self, conn: &Connect) -> Result<Self::Output, HypervisorError>;
}

impl Hypervisor {
    /// Runs `operation` over the connection (see [`Hypervisor::call`]). Admission is
    /// the caller's to check: the hypervisor does not know the host's state.
    ///
    /// # Errors
    /// The operation's own error, or the connection's.
    pub async fn run<O: Operation>(&self, operation: O) -> Result<O::Output, HypervisorError> {
        self.call(O::NAME, O::RETRY, move |conn| operation.call(conn))
            .await
    }
}
