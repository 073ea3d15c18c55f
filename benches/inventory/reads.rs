//! Single-domain reads: freshness, concurrent throughput against a plain libvirt
//! client, and against the cheapest call the server answers.

use std::{
    process::Command,
    sync::Arc,
    time::{Duration, Instant},
};

use tonic::transport::Channel;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
use virt::connect::Connect;
use virtplane::grpc::pb::{
    self, DomainState, ReadConsistency, domain_service_client::DomainServiceClient,
};

use super::{CALLERS, Service, WINDOW, load, row};

const CHANGES: usize = 300;
/// The plain client's threads, as the baseline in the issue that set the target.
const PLAIN_THREADS: usize = 4;
/// The thread running libvirt's event loop in the service.
const EVENT_THREAD: &str = "libvirt-events";

/// From a change made by another libvirt client until `GetDomain` shows it.
pub(crate) async fn freshness(service: &Service, uri: &str) {
    let mut client = DomainServiceClient::connect(service.addr.clone())
        .await
        .expect("client");
    let other = Arc::new(Connect::open(Some(uri)).expect("another libvirt client"));
    let mut samples = Vec::with_capacity(CHANGES);
    for i in 0..CHANGES {
        let (pause, want) = if i % 2 == 0 {
            (true, DomainState::Paused)
        } else {
            (false, DomainState::Running)
        };
        let started = Instant::now();
        let other = Arc::clone(&other);
        tokio::task::spawn_blocking(move || {
            let dom = other.lookup_domain_by_name("test").expect("lookup");
            if pause {
                dom.suspend().expect("suspend");
            } else {
                dom.resume().expect("resume");
            }
        })
        .await
        .expect("change");
        while get(&mut client, ReadConsistency::Cached).await.state != i32::from(want) {
            tokio::task::yield_now().await;
        }
        samples.push(started.elapsed());
    }
    let (p50, p99, max) = load::percentiles(&samples);
    row(
        &format!("freshness: virsh-like change -> GetDomain ({CHANGES})"),
        &format!("p50 {p50:.2} ms, p99 {p99:.2} ms, max {max:.2} ms"),
    );
}

/// 64 concurrent `GetDomain` callers, from the inventory and LIVE, against the plain
/// client on the same daemon.
pub(crate) async fn concurrent_get(service: &Service, uri: &str) {
    let plain = plain_client(uri);
    let report = |label: &str, run: &load::Throughput, events: Duration, all: Duration| {
        row(
            label,
            &format!(
                "{:>8.0}/s  p50 {:>6.2} ms  p99 {:>6.2} ms  {:>5.2}x plain",
                run.per_second(),
                run.p50.as_secs_f64() * 1e3,
                run.p99.as_secs_f64() * 1e3,
                run.per_second() / plain
            ),
        );
        let per_kcall = |cpu: Duration| cpu.as_secs_f64() * 1e3 / (run.calls as f64 / 1e3);
        row(
            "  CPU per 1,000 calls: event thread / process (callers too)",
            &format!("{:>8.1} ms / {:.1} ms", per_kcall(events), per_kcall(all)),
        );
    };
    row(
        &format!("plain python-libvirt client ({PLAIN_THREADS} threads, 5 reads)"),
        &format!("{plain:>8.0}/s"),
    );
    for (label, consistency) in [
        ("GetDomain x64, inventory", ReadConsistency::Cached),
        ("GetDomain x64, LIVE", ReadConsistency::Live),
    ] {
        let (events, all) = (load::cpu_time(Some(EVENT_THREAD)), load::cpu_time(None));
        let run = load::closed_loop(&service.addr, CALLERS, WINDOW, move |channel| async move {
            get(&mut DomainServiceClient::new(channel), consistency).await;
        })
        .await;
        let events = load::cpu_time(Some(EVENT_THREAD)) - events;
        let all = load::cpu_time(None) - all;
        report(label, &run, events, all);
    }
}

/// In process on `test:///default`: `GetDomain` against `Health/Check`, the cheapest
/// call the same server answers.
pub(crate) async fn in_process(service: &Service) {
    let health = load::closed_loop(
        &service.addr,
        CALLERS,
        WINDOW,
        |channel: Channel| async move {
            HealthClient::new(channel)
                .check(HealthCheckRequest {
                    service: String::new(),
                })
                .await
                .expect("Health/Check");
        },
    )
    .await;
    let domain = load::closed_loop(&service.addr, CALLERS, WINDOW, |channel| async move {
        get(
            &mut DomainServiceClient::new(channel),
            ReadConsistency::Cached,
        )
        .await;
    })
    .await;
    row(
        "in process: Health/Check x64",
        &format!("{:>8.0}/s", health.per_second()),
    );
    row(
        "in process: GetDomain x64, inventory",
        &format!(
            "{:>8.0}/s  {:.2}x Health/Check",
            domain.per_second(),
            domain.per_second() / health.per_second()
        ),
    );
}

async fn get(
    client: &mut DomainServiceClient<Channel>,
    consistency: ReadConsistency,
) -> pb::Domain {
    client
        .get_domain(pb::GetDomainRequest {
            domain: "test".into(),
            consistency: consistency.into(),
        })
        .await
        .expect("GetDomain")
        .into_inner()
}

/// The plain client's calls per second (Debian's python3 with python3-libvirt).
fn plain_client(uri: &str) -> f64 {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/plain_client.py");
    let out = Command::new("/usr/bin/python3")
        .args([script, uri, "test", &WINDOW.as_secs().to_string()])
        .arg(PLAIN_THREADS.to_string())
        .output()
        .expect("python3 with python3-libvirt");
    assert!(
        out.status.success(),
        "plain client failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let field = |name: &str| -> f64 {
        text.split_whitespace()
            .find_map(|kv| kv.strip_prefix(name))
            .and_then(|v| v.parse().ok())
            .expect("plain client output")
    };
    field("calls=") / field("seconds=")
}
