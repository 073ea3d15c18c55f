//! Which domains use a volume: a disk whose source (or a source in its backing chain)
//! is the volume's path, or names its pool and volume. Both the live and the
//! persistent definition count: a running domain may have a disk in its next boot's
//! definition only.

use roxmltree::Document;
use virt::{connect::Connect, sys};

use crate::{
    hypervisor::{HypervisorError, xml},
    model::VolumeInfo,
};

/// Refuses `operation` on a volume a domain uses, naming the domains; `advice` says
/// how to go ahead anyway.
pub(super) fn refuse_if_used(
    conn: &Connect,
    volume: &VolumeInfo,
    operation: &'static str,
    advice: &str,
) -> Result<(), HypervisorError> {
    let users = users(conn, volume)?;
    if users.is_empty() {
        return Ok(());
    }
    let domains = if users.len() == 1 {
        "domain"
    } else {
        "domains"
    };
    Err(HypervisorError::FailedPrecondition {
        operation,
        message: format!(
            "volume {:?} in pool {:?} is in use by {domains} {}; {advice}",
            volume.name,
            volume.pool,
            users.join(", ")
        ),
    })
}

/// The names of the domains with a disk on `volume`, sorted.
fn users(conn: &Connect, volume: &VolumeInfo) -> Result<Vec<String>, HypervisorError> {
    let domains = conn
        .list_all_domains(0)
        .map_err(|e| HypervisorError::from_virt("list domains", &e))?;
    let mut users = Vec::new();
    for dom in &domains {
        let read = |flags| match dom.xml_desc(flags) {
            Ok(xml) => Ok(Some(xml)),
            Err(e) => match HypervisorError::from_virt("read domain XML", &e) {
                // Undefined since the listing: it uses nothing.
                HypervisorError::DomainGone { .. } => Ok(None),
                // Any other failure leaves the answer unknown: never "unused".
                other => Err(other),
            },
        };
        let (Some(live), Some(inactive)) = (read(0)?, read(sys::VIR_DOMAIN_XML_INACTIVE)?) else {
            continue;
        };
        if uses(&live, volume) || uses(&inactive, volume) {
            users.push(dom.name().unwrap_or_default());
        }
    }
    users.sort();
    Ok(users)
}

/// Whether a domain XML has a disk on `volume`.
fn uses(domain_xml: &str, volume: &VolumeInfo) -> bool {
    let Ok(doc) = Document::parse(domain_xml) else {
        return false;
    };
    let Some(devices) = xml::child(doc.root_element(), "devices") else {
        return false;
    };
    let matches = |source: roxmltree::Node<'_, '_>| {
        let by_path = ["file", "dev", "dir"]
            .iter()
            .any(|attr| !volume.path.is_empty() && source.attribute(*attr) == Some(&volume.path));
        let by_name = source.attribute("pool") == Some(&volume.pool)
            && source.attribute("volume") == Some(&volume.name);
        by_path || by_name
    };
    devices
        .children()
        .filter(|n| n.has_tag_name("disk"))
        .flat_map(|disk| disk.descendants())
        .filter(|n| n.has_tag_name("source"))
        .any(matches)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn volume() -> VolumeInfo {
        VolumeInfo {
            pool: "images".into(),
            name: "base.qcow2".into(),
            path: "/srv/vm/images/base.qcow2".into(),
            kind: "file".into(),
            format: "qcow2".into(),
            capacity_bytes: 0,
            allocation_bytes: 0,
            backing: None,
        }
    }

    #[test]
    fn a_disk_on_the_volumes_path_or_name_uses_it() {
        let by_path = "<domain><devices><disk type='file'>\
            <source file='/srv/vm/images/base.qcow2'/></disk></devices></domain>";
        let by_name = "<domain><devices><disk type='volume'>\
            <source pool='images' volume='base.qcow2'/></disk></devices></domain>";
        assert!(uses(by_path, &volume()));
        assert!(uses(by_name, &volume()));
    }

    #[test]
    fn a_backing_chain_counts_and_other_devices_do_not() {
        let chain = "<domain><devices><disk type='file'><source file='/srv/vm/images/web.qcow2'/>\
            <backingStore type='file'><source file='/srv/vm/images/base.qcow2'/></backingStore>\
            </disk></devices></domain>";
        assert!(uses(chain, &volume()));
        let other = "<domain><devices><disk type='file'><source file='/srv/vm/images/web.qcow2'/>\
            </disk><filesystem><source dir='/srv/vm/images/base.qcow2'/></filesystem>\
            </devices></domain>";
        assert!(!uses(other, &volume()));
        assert!(!uses("not xml", &volume()));
    }
}
