//! The host's capacity: node info, free memory per NUMA cell, and the capabilities
//! XML parsed into fields (clients never parse libvirt XML).

use virt::connect::Connect;

use crate::{
    hypervisor::{
        Admission, HypervisorError, Operation, Retry,
        xml::{self, child as find},
    },
    model::{GuestCapability, HostCapacity, NumaCell},
};

const NAME: &str = "get host capacity";

/// Reads the host's CPUs, memory, NUMA cells and guest capabilities.
#[derive(Debug, Clone, Copy)]
pub struct GetHostCapacity;

impl Operation for GetHostCapacity {
    type Output = HostCapacity;
    const NAME: &'static str = NAME;
    const RETRY: Retry = Retry::Safe;
    const ADMISSION: Admission = Admission::Always;

    fn call(&self, conn: &Connect) -> Result<Self::Output, HypervisorError> {
        let fail = |e: virt::error::Error| HypervisorError::from_virt(NAME, &e);
        let node = conn.node_info().map_err(fail)?;
        let capabilities = parse(&conn.capabilities().map_err(fail)?)?;
        // Free memory per cell is in bytes; a driver without NUMA data reports none.
        let cells = u32::try_from(capabilities.cells.len()).unwrap_or(u32::MAX);
        let free_per_cell = if cells > 0 {
            conn.cells_free_memory(0, i32::try_from(cells).unwrap_or(i32::MAX))
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        let free_memory_kib = conn.free_memory().map_err(fail)? / 1024;
        let numa_cells = capabilities
            .cells
            .into_iter()
            .enumerate()
            .map(|(i, (id, memory_kib, cpus))| NumaCell {
                id,
                memory_kib,
                free_memory_kib: free_per_cell.get(i).map_or(0, |bytes| bytes / 1024),
                cpus,
            })
            .collect();
        Ok(HostCapacity {
            cpu_model: capabilities.cpu_model.unwrap_or(node.model),
            arch: capabilities.arch,
            cpus: node.cpus,
            mhz: node.mhz,
            sockets: node.sockets * node.nodes.max(1),
            cores_per_socket: node.cores,
            threads_per_core: node.threads,
            memory_kib: node.memory,
            free_memory_kib,
            numa_cells,
            guests: capabilities.guests,
        })
    }
}

/// What the capabilities XML says.
#[derive(Debug, Default, PartialEq, Eq)]
struct Capabilities {
    arch: String,
    cpu_model: Option<String>,
    /// (id, memory in KiB, CPUs) per NUMA cell.
    cells: Vec<(u32, u64, u32)>,
    guests: Vec<GuestCapability>,
}

fn parse(xml: &str) -> Result<Capabilities, HypervisorError> {
    let doc = roxmltree::Document::parse(xml).map_err(|e| {
        HypervisorError::internal(NAME, format!("capabilities XML unreadable: {e}"))
    })?;
    let root = doc.root_element();
    let host = find(root, "host");
    let cpu = host.and_then(|h| find(h, "cpu"));
    let cells = host
        .and_then(|h| find(h, "topology"))
        .and_then(|t| find(t, "cells"))
        .map(|cells| {
            cells
                .children()
                .filter(|n| n.has_tag_name("cell"))
                .map(|cell| {
                    let id = cell
                        .attribute("id")
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(0);
                    let memory = find(cell, "memory").and_then(xml::memory_kib).unwrap_or(0);
                    let cpus = find(cell, "cpus")
                        .and_then(|c| c.attribute("num")?.parse().ok())
                        .unwrap_or(0);
                    (id, memory, cpus)
                })
                .collect()
        })
        .unwrap_or_default();
    let guests = root
        .children()
        .filter(|n| n.has_tag_name("guest"))
        .filter_map(|guest| {
            let arch = find(guest, "arch")?;
            let mut machines: Vec<String> = arch
                .children()
                .filter(|n| n.has_tag_name("machine"))
                .filter_map(|m| m.text().map(|t| t.trim().to_owned()))
                .collect();
            machines.dedup();
            Some(GuestCapability {
                os_type: xml::child_text(guest, "os_type").unwrap_or_default(),
                arch: arch.attribute("name").unwrap_or_default().to_owned(),
                domain_types: arch
                    .children()
                    .filter(|n| n.has_tag_name("domain"))
                    .filter_map(|d| d.attribute("type").map(str::to_owned))
                    .collect(),
                machines,
            })
        })
        .collect();
    Ok(Capabilities {
        arch: cpu
            .and_then(|c| xml::child_text(c, "arch"))
            .unwrap_or_default(),
        cpu_model: cpu.and_then(|c| xml::child_text(c, "model")),
        cells,
        guests,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_capabilities_xml_is_read_into_fields() {
        let xml = "<capabilities><host><cpu><arch>x86_64</arch><model>Skylake</model></cpu>\
            <topology><cells num='1'><cell id='0'><memory unit='KiB'>2048</memory>\
            <cpus num='4'/></cell></cells></topology></host>\
            <guest><os_type>hvm</os_type><arch name='x86_64'><machine>pc-i440fx</machine>\
            <machine canonical='pc-i440fx'>pc</machine><domain type='qemu'/><domain type='kvm'/>\
            </arch></guest></capabilities>";
        let caps = parse(xml).expect("parses");
        assert_eq!(caps.arch, "x86_64");
        assert_eq!(caps.cpu_model.as_deref(), Some("Skylake"));
        assert_eq!(caps.cells, vec![(0, 2048, 4)]);
        assert_eq!(caps.guests[0].domain_types, ["qemu", "kvm"]);
        assert_eq!(caps.guests[0].machines, ["pc-i440fx", "pc"]);
    }
}
