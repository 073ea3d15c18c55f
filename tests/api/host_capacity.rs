//! GetHostCapacity: the host's CPUs, memory, NUMA cells and guest capabilities, read
//! from libvirt and parsed into fields, on the test driver (whose host is fixed) and
//! refused while libvirt is unreachable.

use tonic::Code;
use virtplane::grpc::pb;

use crate::support::{TEST_DRIVER, TestApp, TestOptions, libvirtd::Libvirtd};

#[tokio::test]
async fn the_test_drivers_host_is_reported_field_by_field() {
    let mut app = TestApp::spawn(TestOptions::new(TEST_DRIVER)).await;
    let capacity = app
        .host
        .get_host_capacity(pb::GetHostCapacityRequest {})
        .await
        .expect("capacity")
        .into_inner();
    // The test driver's fixed host (`virsh nodeinfo`, `capabilities`, `freecell`).
    assert_eq!((capacity.cpus, capacity.mhz), (16, 1400));
    assert_eq!(
        (
            capacity.sockets,
            capacity.cores_per_socket,
            capacity.threads_per_core
        ),
        (4, 2, 2),
        "2 sockets per cell, 2 cells"
    );
    assert_eq!(capacity.arch, "i686");
    assert_eq!(capacity.memory_kib, 3_145_728);
    let cells: Vec<(u32, u64, u64, u32)> = capacity
        .numa_cells
        .iter()
        .map(|c| (c.id, c.memory_kib, c.free_memory_kib, c.cpus))
        .collect();
    assert_eq!(cells, [(0, 2_097_152, 2_048, 8), (1, 4_194_304, 4_096, 8)]);
    let hvm = capacity
        .guests
        .iter()
        .find(|g| g.os_type == "hvm")
        .expect("an hvm guest");
    assert_eq!(
        (hvm.arch.as_str(), hvm.domain_types.as_slice()),
        ("i686", &["test".to_owned()][..])
    );
    app.stop().await;
}

#[tokio::test]
async fn capacity_is_unavailable_while_libvirt_is_down() {
    let mut daemon = Libvirtd::start();
    let mut app = TestApp::spawn(TestOptions::new(daemon.uri())).await;
    app.settled().await;
    daemon.kill();
    let status = app
        .host
        .get_host_capacity(pb::GetHostCapacityRequest {})
        .await
        .expect_err("no libvirt");
    assert_eq!(status.code(), Code::Unavailable, "{}", status.message());
    app.stop().await;
}
