//! What a running guest says about itself: its interface addresses (from a chosen
//! source), and through its agent its hostname, OS, time zone, users and file
//! systems. An absent or silent agent is a clear refusal, never a long wait.

use std::collections::BTreeMap;

use virt::{connect::Connect, domain::Domain, sys};

use crate::{
    hypervisor::{
        Admission, HypervisorError, Operation, Retry,
        domain::lookup,
        ffi::{self, ParamValue},
    },
    model::{
        AddressSource, DomainRef, GuestAddress, GuestFilesystem, GuestInfo, GuestInterface,
        GuestOs, GuestTimezone, GuestUser,
    },
};

const NAME: &str = "get guest info";

/// A running guest's information.
#[derive(Debug, Clone)]
pub struct GetGuestInfo {
    pub domain: DomainRef,
    pub source: AddressSource,
}

impl Operation for GetGuestInfo {
    type Output = GuestInfo;
    const NAME: &'static str = NAME;
    const RETRY: Retry = Retry::Safe;
    const ADMISSION: Admission = Admission::Always;

    fn call(&self, conn: &Connect) -> Result<Self::Output, HypervisorError> {
        let dom = lookup(conn, &self.domain)?;
        if !dom
            .is_active()
            .map_err(|e| HypervisorError::from_virt(NAME, &e))?
        {
            return Err(HypervisorError::FailedPrecondition {
                operation: NAME,
                message: format!(
                    "domain {} is not running: a guest answers only while it runs",
                    self.domain
                ),
            });
        }
        let hostname = dom.hostname(0).map_err(|e| agent_error(&self.domain, &e))?;
        let mut info = GuestInfo {
            hostname,
            ..GuestInfo::default()
        };
        let types = sys::VIR_DOMAIN_GUEST_INFO_OS
            | sys::VIR_DOMAIN_GUEST_INFO_TIMEZONE
            | sys::VIR_DOMAIN_GUEST_INFO_USERS
            | sys::VIR_DOMAIN_GUEST_INFO_FILESYSTEM;
        match ffi::guest_info(&dom, types, 0) {
            Ok(params) => read_agent_info(&mut info, &params.into_iter().collect()),
            Err(e) if unsupported(&e) => info
                .unsupported
                .push(format!("os, timezone, users, filesystems: {}", e.message())),
            Err(e) => return Err(agent_error(&self.domain, &e)),
        }
        info.interfaces =
            interfaces(&dom, self.source).map_err(|e| agent_error(&self.domain, &e))?;
        Ok(info)
    }
}

fn unsupported(e: &virt::error::Error) -> bool {
    matches!(
        e.code().to_raw(),
        sys::VIR_ERR_NO_SUPPORT | sys::VIR_ERR_OPERATION_UNSUPPORTED
    )
}

/// An agent that is not configured, not connected or not answering is a state of the
/// guest, not a fault of the service: FAILED_PRECONDITION, saying so.
fn agent_error(domain: &DomainRef, e: &virt::error::Error) -> HypervisorError {
    match e.code().to_raw() {
        sys::VIR_ERR_AGENT_UNRESPONSIVE
        | sys::VIR_ERR_AGENT_UNSYNCED
        | sys::VIR_ERR_ARGUMENT_UNSUPPORTED => HypervisorError::FailedPrecondition {
            operation: NAME,
            message: format!(
                "the guest agent of domain {domain} does not answer: {} (the guest needs qemu-guest-agent running and a guest-agent channel in its XML)",
                e.message()
            ),
        },
        _ => HypervisorError::from_virt(NAME, e),
    }
}

fn interfaces(
    dom: &Domain,
    source: AddressSource,
) -> Result<Vec<GuestInterface>, virt::error::Error> {
    let source = match source {
        AddressSource::Lease => sys::VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE,
        AddressSource::Agent => sys::VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT,
        AddressSource::Arp => sys::VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_ARP,
    };
    Ok(dom
        .interface_addresses(source, 0)?
        .into_iter()
        .map(|iface| GuestInterface {
            name: iface.name,
            mac: iface.hwaddr.unwrap_or_default(),
            addresses: iface
                .addrs
                .into_iter()
                .map(|a| GuestAddress {
                    address: a.addr,
                    prefix: u32::try_from(a.prefix).unwrap_or(0),
                    ipv6: a.typed == i64::from(sys::VIR_IP_ADDR_TYPE_IPV6),
                })
                .collect(),
        })
        .collect())
}

/// The agent's `os.*`, `timezone.*`, `user.N.*` and `fs.N.*` fields.
fn read_agent_info(info: &mut GuestInfo, p: &BTreeMap<String, ParamValue>) {
    let text = |k: &str| match p.get(k) {
        Some(ParamValue::Text(t)) => t.clone(),
        _ => String::new(),
    };
    let num = |k: &str| match p.get(k) {
        Some(ParamValue::UInt(v)) => i64::try_from(*v).unwrap_or(i64::MAX),
        Some(ParamValue::Int(v)) => *v,
        _ => 0,
    };
    let unsigned = |k: &str| u64::try_from(num(k)).unwrap_or(0);
    if p.keys().any(|k| k.starts_with("os.")) {
        info.os = Some(GuestOs {
            id: text("os.id"),
            name: text("os.name"),
            pretty_name: text("os.pretty-name"),
            version: text("os.version"),
            version_id: text("os.version-id"),
            kernel_release: text("os.kernel-release"),
            kernel_version: text("os.kernel-version"),
            machine: text("os.machine"),
        });
    }
    if p.contains_key("timezone.offset") {
        info.timezone = Some(GuestTimezone {
            name: text("timezone.name"),
            offset_s: num("timezone.offset"),
        });
    }
    info.users = (0..unsigned("user.count"))
        .map(|i| GuestUser {
            name: text(&format!("user.{i}.name")),
            domain: text(&format!("user.{i}.domain")),
            login_time_ms: unsigned(&format!("user.{i}.login-time")),
        })
        .collect();
    info.filesystems = (0..unsigned("fs.count"))
        .map(|i| GuestFilesystem {
            mountpoint: text(&format!("fs.{i}.mountpoint")),
            name: text(&format!("fs.{i}.name")),
            fstype: text(&format!("fs.{i}.fstype")),
            total_bytes: unsigned(&format!("fs.{i}.total-bytes")),
            used_bytes: unsigned(&format!("fs.{i}.used-bytes")),
        })
        .collect();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_agents_fields_are_read_into_the_model() {
        let p: BTreeMap<String, ParamValue> = [
            ("os.id", ParamValue::Text("debian".into())),
            ("os.pretty-name", ParamValue::Text("Debian 12".into())),
            ("timezone.name", ParamValue::Text("UTC".into())),
            ("timezone.offset", ParamValue::Int(3600)),
            ("user.count", ParamValue::UInt(1)),
            ("user.0.name", ParamValue::Text("root".into())),
            ("user.0.login-time", ParamValue::UInt(1_700_000_000_000)),
            ("fs.count", ParamValue::UInt(1)),
            ("fs.0.mountpoint", ParamValue::Text("/".into())),
            ("fs.0.total-bytes", ParamValue::UInt(1024)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let mut info = GuestInfo::default();
        read_agent_info(&mut info, &p);
        assert_eq!(
            info.os.as_ref().map(|o| o.pretty_name.as_str()),
            Some("Debian 12")
        );
        assert_eq!(info.timezone.as_ref().map(|t| t.offset_s), Some(3600));
        assert_eq!(info.users[0].login_time_ms, 1_700_000_000_000);
        assert_eq!(
            (
                info.filesystems[0].mountpoint.as_str(),
                info.filesystems[0].total_bytes
            ),
            ("/", 1024)
        );
    }
}
