//! Per-domain series on `/metrics` for real QEMU guests, parsed by Prometheus' own
//! client library: info and state for every domain, CPU, vCPU, memory and block
//! counters labelled with the host's domains and devices only, and inactive domains
//! kept with their state.

use std::collections::BTreeSet;

use super::guest::{define, start};
use crate::support::{
    TestApp, TestOptions,
    metrics::{parse, scrape},
    qemu::{self, QemuDaemon},
    unique_name,
};

#[tokio::test]
async fn domains_and_their_devices_have_bounded_series() {
    let daemon = QemuDaemon::start();
    let mut app = TestApp::spawn(
        TestOptions::new(daemon.uri())
            .call_timeout_ms(60_000)
            .metrics_listener(),
    )
    .await;
    let running = unique_name("metrics-run");
    let disk = daemon.dir().join("metrics.qcow2");
    qemu::create_qcow2(&disk, 16);
    let xml = qemu::bios_with_disk_xml(&running, &disk);
    define(&mut app, xml).await;
    start(&mut app, &running).await;
    let off = unique_name("metrics-off");
    define(&mut app, qemu::bios_domain_xml(&off)).await;

    let samples = parse(&scrape(app.metrics_addr.expect("metrics listener")).await);
    let value = |name: &str, domain: &str| {
        samples
            .iter()
            .find(|s| s.name == name && s.labels.get("domain").map(String::as_str) == Some(domain))
            .map(|s| s.value)
    };
    assert_eq!(value("virtplane_domain_info", &running), Some(1.0));
    assert_eq!(
        value("virtplane_domain_state", &running),
        Some(1.0),
        "running"
    );
    assert_eq!(
        value("virtplane_domain_state", &off),
        Some(5.0),
        "shut off, still listed"
    );
    assert!(value("virtplane_domain_cpu_seconds_total", &running).is_some_and(|v| v > 0.0));
    assert_eq!(value("virtplane_domain_vcpus", &running), Some(1.0));
    assert_eq!(
        value("virtplane_domain_memory_maximum_bytes", &running),
        Some(64.0 * 1024.0 * 1024.0)
    );
    assert_eq!(
        value("virtplane_domain_block_capacity_bytes", &running),
        Some(16.0 * 1024.0 * 1024.0)
    );
    assert!(
        value("virtplane_domain_cpu_seconds_total", &off).is_none(),
        "an inactive domain has no counters"
    );

    // Labels name the host's domains and devices only: nothing else can grow them.
    let domains: BTreeSet<&str> = samples
        .iter()
        .filter(|s| s.name.starts_with("virtplane_domain_"))
        .filter_map(|s| s.labels.get("domain").map(String::as_str))
        .collect();
    assert_eq!(domains, BTreeSet::from([off.as_str(), running.as_str()]));
    let devices: BTreeSet<&str> = samples
        .iter()
        .filter_map(|s| s.labels.get("device").map(String::as_str))
        .collect();
    assert_eq!(devices, BTreeSet::from(["vda"]));
    for sample in samples
        .iter()
        .filter(|s| s.name.starts_with("virtplane_domain_"))
    {
        let keys: BTreeSet<&str> = sample.labels.keys().map(String::as_str).collect();
        assert!(
            keys.is_subset(&BTreeSet::from(["domain", "uuid", "device", "vcpu"])),
            "{sample:?}"
        );
    }
    app.stop().await;
}
