//! Changing a domain's power state; each returns the domain afterwards.

use virt::connect::Connect;

use super::libvirt;
use crate::{
    hypervisor::{Admission, HypervisorError, Operation, Retry},
    model::{DomainAction, DomainRef, DomainSummary},
};

/// Declares one power operation: its type, name, admission and action.
macro_rules! power_operation {
    ($(#[$doc:meta])* $name:ident, $label:literal, $admission:expr, $action:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $name(pub DomainRef);

        impl Operation for $name {
            type Output = DomainSummary;
            const NAME: &'static str = $label;
            const RETRY: Retry = Retry::OnlyIfUnsent;
            const ADMISSION: Admission = $admission;

            fn call(&self, conn: &Connect) -> Result<Self::Output, HypervisorError> {
                libvirt::act(conn, &self.0, $action)
            }
        }
    };
}

power_operation!(
    /// Boots a shut-off domain: new work, refused on a disabled host.
    StartDomain,
    "start domain",
    Admission::EnabledHost,
    DomainAction::Start
);
power_operation!(
    /// Asks the guest to shut down (ACPI).
    ShutdownDomain,
    "shut down domain",
    Admission::Always,
    DomainAction::Shutdown
);
power_operation!(
    /// Stops a domain at once.
    DestroyDomain,
    "destroy domain",
    Admission::Always,
    DomainAction::Destroy
);
power_operation!(
    /// Asks the guest to reboot.
    RebootDomain,
    "reboot domain",
    Admission::Always,
    DomainAction::Reboot
);
power_operation!(
    /// Pauses a running domain.
    SuspendDomain,
    "suspend domain",
    Admission::Always,
    DomainAction::Suspend
);
power_operation!(
    /// Resets a running domain at once, without asking the guest.
    ResetDomain,
    "reset domain",
    Admission::Always,
    DomainAction::Reset
);
power_operation!(
    /// Resumes a paused domain.
    ResumeDomain,
    "resume domain",
    Admission::Always,
    DomainAction::Resume
);
