//! Who may call what: the API's one access table, method by method, and field by
//! field where a field is sensitive.
//!
//! A method missing from the table needs `admin`, so a new RPC is never open to
//! readers by accident; a test walks the service descriptors and fails on any
//! method the table does not name.

use crate::security::{Caller, Role};

/// What a call needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No token at all: probes and tools (health, reflection).
    Open,
    /// Any valid token.
    Read,
    /// An `admin` token.
    Admin,
}

/// One method's rule.
#[derive(Debug)]
pub struct Rule {
    /// `/package.Service/Method`.
    pub method: &'static str,
    pub access: Access,
    /// Request fields that need more than `access` when set.
    pub sensitive: &'static [Sensitive],
}

/// A request field that raises what a call needs when it is set.
#[derive(Debug)]
pub struct Sensitive {
    pub field: &'static str,
    pub access: Access,
    /// Why, for the refusal's message.
    pub reason: &'static str,
}

/// `GetDomainXml.secure`: the secure XML carries graphics passwords.
pub const GET_DOMAIN_XML: &str = "/virtplane.v1.DomainService/GetDomainXml";

const fn rule(method: &'static str, access: Access) -> Rule {
    Rule {
        method,
        access,
        sensitive: &[],
    }
}

/// Every method the server serves.
pub const TABLE: &[Rule] = &[
    // Typing into a console is root on the guest.
    rule("/virtplane.v1.ConsoleService/OpenConsole", Access::Admin),
    rule("/virtplane.v1.DeviceService/ListDevices", Access::Read),
    rule("/virtplane.v1.DeviceService/AttachDevice", Access::Admin),
    rule("/virtplane.v1.DeviceService/DetachDevice", Access::Admin),
    rule("/virtplane.v1.DomainService/ListDomains", Access::Read),
    rule("/virtplane.v1.DomainService/GetDomain", Access::Read),
    rule("/virtplane.v1.DomainService/DefineDomain", Access::Admin),
    rule("/virtplane.v1.DomainService/UndefineDomain", Access::Admin),
    rule("/virtplane.v1.DomainService/StartDomain", Access::Admin),
    rule("/virtplane.v1.DomainService/ShutdownDomain", Access::Admin),
    rule("/virtplane.v1.DomainService/DestroyDomain", Access::Admin),
    rule("/virtplane.v1.DomainService/RebootDomain", Access::Admin),
    rule("/virtplane.v1.DomainService/SuspendDomain", Access::Admin),
    rule("/virtplane.v1.DomainService/ResumeDomain", Access::Admin),
    rule("/virtplane.v1.DomainService/ResetDomain", Access::Admin),
    rule(
        "/virtplane.v1.DomainService/SetDomainAutostart",
        Access::Admin,
    ),
    rule(
        "/virtplane.v1.DomainService/SetDomainResources",
        Access::Admin,
    ),
    rule("/virtplane.v1.DomainService/SaveDomain", Access::Admin),
    rule("/virtplane.v1.DomainService/RestoreDomain", Access::Admin),
    rule(
        "/virtplane.v1.DomainService/ManagedSaveDomain",
        Access::Admin,
    ),
    rule(
        "/virtplane.v1.DomainService/RemoveManagedSave",
        Access::Admin,
    ),
    rule(
        "/virtplane.v1.DomainService/UpdateDomainLabels",
        Access::Admin,
    ),
    rule(
        "/virtplane.v1.SnapshotService/CreateSnapshot",
        Access::Admin,
    ),
    rule("/virtplane.v1.StatsService/GetDomainStats", Access::Read),
    rule("/virtplane.v1.GuestService/GetGuestInfo", Access::Read),
    rule("/virtplane.v1.StatsService/ListDomainStats", Access::Read),
    rule("/virtplane.v1.SnapshotService/ListSnapshots", Access::Read),
    rule("/virtplane.v1.SnapshotService/GetSnapshot", Access::Read),
    rule(
        "/virtplane.v1.SnapshotService/RevertToSnapshot",
        Access::Admin,
    ),
    rule(
        "/virtplane.v1.SnapshotService/DeleteSnapshot",
        Access::Admin,
    ),
    Rule {
        method: GET_DOMAIN_XML,
        access: Access::Read,
        sensitive: &[Sensitive {
            field: "secure",
            access: Access::Admin,
            reason: "secure XML includes graphics passwords",
        }],
    },
    rule("/virtplane.v1.NetworkService/ListNetworks", Access::Read),
    rule("/virtplane.v1.NetworkService/GetNetwork", Access::Read),
    rule(
        "/virtplane.v1.NetworkService/ListNetworkLeases",
        Access::Read,
    ),
    // Changing networks changes the host's own networking; the host's configuration
    // must allow it too (`libvirt.manage_networks`).
    rule("/virtplane.v1.NetworkService/DefineNetwork", Access::Admin),
    rule("/virtplane.v1.NetworkService/StartNetwork", Access::Admin),
    rule("/virtplane.v1.NetworkService/StopNetwork", Access::Admin),
    rule(
        "/virtplane.v1.NetworkService/UndefineNetwork",
        Access::Admin,
    ),
    rule(
        "/virtplane.v1.NetworkService/SetNetworkAutostart",
        Access::Admin,
    ),
    rule("/virtplane.v1.HostService/GetHost", Access::Read),
    rule("/virtplane.v1.HostService/ListHosts", Access::Read),
    rule("/virtplane.v1.HostService/WatchHosts", Access::Read),
    rule("/virtplane.v1.HostService/GetHostCapacity", Access::Read),
    rule("/virtplane.v1.HostService/SetHostEnabled", Access::Admin),
    rule(
        "/virtplane.v1.HostService/ListLifecycleEvents",
        Access::Read,
    ),
    rule(
        "/virtplane.v1.HostService/WatchLifecycleEvents",
        Access::Read,
    ),
    rule("/virtplane.v1.PublishService/Publish", Access::Admin),
    rule("/virtplane.v1.PublishService/PublishBatch", Access::Admin),
    rule("/virtplane.v1.PublishService/ListBrokers", Access::Read),
    rule("/virtplane.v1.PoolService/ListPools", Access::Read),
    rule("/virtplane.v1.WebhookService/ListWebhooks", Access::Read),
    rule(
        "/virtplane.v1.WebhookService/ListWebhookDeliveries",
        Access::Read,
    ),
    rule(
        "/virtplane.v1.StorageService/ListStoragePools",
        Access::Read,
    ),
    rule("/virtplane.v1.StorageService/GetStoragePool", Access::Read),
    rule(
        "/virtplane.v1.StorageService/CreateStoragePool",
        Access::Admin,
    ),
    rule(
        "/virtplane.v1.StorageService/StartStoragePool",
        Access::Admin,
    ),
    rule(
        "/virtplane.v1.StorageService/StopStoragePool",
        Access::Admin,
    ),
    rule(
        "/virtplane.v1.StorageService/DeleteStoragePool",
        Access::Admin,
    ),
    rule(
        "/virtplane.v1.StorageService/RefreshStoragePool",
        Access::Admin,
    ),
    rule("/virtplane.v1.StorageService/ListVolumes", Access::Read),
    rule("/virtplane.v1.StorageService/GetVolume", Access::Read),
    rule("/virtplane.v1.StorageService/CreateVolume", Access::Admin),
    rule("/virtplane.v1.StorageService/CloneVolume", Access::Admin),
    rule("/virtplane.v1.StorageService/ResizeVolume", Access::Admin),
    rule("/virtplane.v1.StorageService/DeleteVolume", Access::Admin),
    rule("/virtplane.v1.StorageService/UploadVolume", Access::Admin),
    // A volume's bytes are a guest's disk: its secrets too.
    rule("/virtplane.v1.StorageService/DownloadVolume", Access::Admin),
    rule("/grpc.health.v1.Health/Check", Access::Open),
    rule("/grpc.health.v1.Health/Watch", Access::Open),
    rule(
        "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
        Access::Open,
    ),
    rule(
        "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
        Access::Open,
    ),
];

/// What calling `method` needs; `Admin` for anything the table does not name.
pub fn access_of(method: &str) -> Access {
    TABLE
        .iter()
        .find(|rule| rule.method == method)
        .map_or(Access::Admin, |rule| rule.access)
}

/// Whether `role` satisfies `access`.
pub fn allows(role: Role, access: Access) -> bool {
    match access {
        Access::Open | Access::Read => true,
        Access::Admin => role == Role::Admin,
    }
}

/// Checks a sensitive field that is set in a request of `method`. `caller` is
/// `None` when the API asks for no tokens.
///
/// # Errors
/// `PERMISSION_DENIED` naming the token, the field and why it needs more.
pub fn check_field(
    caller: Option<&Caller>,
    method: &'static str,
    field: &'static str,
) -> Result<(), tonic::Status> {
    let Some(caller) = caller else {
        return Ok(());
    };
    let sensitive = TABLE
        .iter()
        .find(|rule| rule.method == method)
        .and_then(|rule| rule.sensitive.iter().find(|s| s.field == field));
    match sensitive {
        Some(rule) if !allows(caller.role, rule.access) => Err(super::status::token_role(
            format!(
                "token {:?} has the reader role; `{field}` needs an admin token ({})",
                caller.token, rule.reason
            ),
            caller,
            method,
            field,
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unnamed_method_needs_admin_and_each_method_is_named_once() {
        assert_eq!(access_of("/virtplane.v1.DomainService/Nope"), Access::Admin);
        let mut methods: Vec<&str> = TABLE.iter().map(|r| r.method).collect();
        methods.sort_unstable();
        let before = methods.len();
        methods.dedup();
        assert_eq!(methods.len(), before, "a method is listed twice");
    }

    #[test]
    fn secure_xml_needs_admin_and_plain_xml_does_not() {
        let reader = Caller {
            token: "dash".into(),
            role: Role::Reader,
        };
        let admin = Caller {
            token: "ops".into(),
            role: Role::Admin,
        };
        let denied = check_field(Some(&reader), GET_DOMAIN_XML, "secure").expect_err("reader");
        assert_eq!(denied.code(), tonic::Code::PermissionDenied);
        assert!(denied.message().contains("dash") && denied.message().contains("secure"));
        assert!(check_field(Some(&admin), GET_DOMAIN_XML, "secure").is_ok());
        assert!(check_field(None, GET_DOMAIN_XML, "secure").is_ok());
        assert_eq!(access_of(GET_DOMAIN_XML), Access::Read);
    }
}
