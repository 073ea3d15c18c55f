//! GetHostCapacity on the QEMU driver: this machine's CPUs and memory, and the
//! machine types QEMU offers.

use virtplane::grpc::pb;

use super::guest::app_on;
use crate::support::qemu::QemuDaemon;

#[tokio::test]
async fn the_qemu_host_reports_this_machines_cpus_memory_and_machine_types() {
    let daemon = QemuDaemon::start();
    let mut app = app_on(&daemon).await;
    let capacity = app
        .host
        .get_host_capacity(pb::GetHostCapacityRequest {})
        .await
        .expect("capacity")
        .into_inner();
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    assert_eq!(capacity.cpus as usize, cpus);
    assert_eq!(capacity.arch, "x86_64");
    assert!(capacity.memory_kib > 0 && capacity.free_memory_kib <= capacity.memory_kib);
    assert!(!capacity.numa_cells.is_empty(), "{capacity:?}");
    let x86 = capacity
        .guests
        .iter()
        .find(|g| g.os_type == "hvm" && g.arch == "x86_64")
        .expect("x86_64 hvm guests");
    assert!(x86.domain_types.iter().any(|t| t == "qemu"), "{x86:?}");
    assert!(x86.machines.iter().any(|m| m == "pc"), "{x86:?}");
    app.stop().await;
}
