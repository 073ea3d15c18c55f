//! Domain statistics at host scale, against a baseline in the same run: on a private
//! libvirtd (test driver) with 200 domains, `ListDomainStats` through the service
//! against one direct bulk-stats call (`virConnectGetAllDomainStats`, the same groups
//! and flags, made with the `virt` crate's raw bindings on a blocking thread), and a
//! `/metrics` scrape with those 200 domains (its time and size).
//!
//! Run with `make bench` (or `cargo bench --bench stats`). The target is the service
//! within 1.5x the direct call plus 1 ms; printed, not asserted.

#[allow(
    dead_code,
    unreachable_pub,
    reason = "the test suite's private libvirtd, shared as a file: the bench uses part of it"
)]
#[path = "../tests/api/support/libvirtd.rs"]
mod libvirtd;

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tonic::transport::Channel;
use virt::connect::Connect;
use virtplane::{
    App,
    config::Config,
    grpc::pb::{self, stats_service_client::StatsServiceClient},
};

const DOMAINS: usize = 200;
const WARMUP: usize = 20;
const SAMPLES: usize = 300;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let daemon = libvirtd::Libvirtd::start();
    // Holds the daemon's test-driver state, and makes the direct calls.
    let conn = Connect::open(Some(&daemon.uri())).expect("direct connection");
    for i in 0..DOMAINS {
        let xml = format!(
            "<domain type='test'><name>stats-{i:03}</name><memory unit='KiB'>131072</memory>\
             <vcpu>1</vcpu><os><type arch='x86_64'>hvm</type></os></domain>"
        );
        let dom = conn.define_domain_xml(&xml).expect("define");
        if i % 2 == 0 {
            dom.create().expect("start");
        }
    }
    runtime.block_on(async {
        let (grpc, metrics, stop) = serve(&daemon.uri()).await;
        let mut client = StatsServiceClient::new(
            Channel::from_shared(format!("http://{grpc}"))
                .expect("uri")
                .connect()
                .await
                .expect("connect"),
        );
        println!(
            "virtplane stats benchmark: {DOMAINS} domains on a private libvirtd (test driver)\n"
        );
        let (mut service, mut direct) = (Vec::new(), Vec::new());
        for i in 0..WARMUP + SAMPLES {
            // Alternate which side goes first, so drift falls on both.
            let (s, d) = if i % 2 == 0 {
                let s = list_through_service(&mut client).await;
                (s, list_directly(&conn).await)
            } else {
                let d = list_directly(&conn).await;
                (list_through_service(&mut client).await, d)
            };
            if i >= WARMUP {
                service.push(s);
                direct.push(d);
            }
        }
        report(&service, &direct);
        scrapes(metrics).await;
        let _ = stop.send(());
    });
}

async fn serve(
    uri: &str,
) -> (
    std::net::SocketAddr,
    std::net::SocketAddr,
    tokio::sync::oneshot::Sender<()>,
) {
    let dir = tempfile::tempdir().expect("tempdir").keep();
    let toml = format!(
        "listen = \"127.0.0.1:0\"\nhostname = \"bench\"\n[libvirt]\nuri = \"{uri}\"\n\
         [metrics]\nlisten = \"127.0.0.1:0\"\n[database]\nurl = \"sqlite://{}/bench.db\"\n",
        dir.display()
    );
    let app = App::build(Config::from_toml(&toml).expect("config"))
        .await
        .expect("app");
    let grpc = app.local_addr().expect("addr");
    let metrics = app.metrics_addr().expect("metrics addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run(async {
        let _ = stopped.await;
    }));
    (grpc, metrics, stop)
}

async fn list_through_service(client: &mut StatsServiceClient<Channel>) -> Duration {
    let clock = Instant::now();
    let reply = client
        .list_domain_stats(pb::ListDomainStatsRequest::default())
        .await
        .expect("ListDomainStats")
        .into_inner();
    let elapsed = clock.elapsed();
    assert!(reply.domains.len() >= DOMAINS);
    elapsed
}

/// The same bulk call: every domain, the same groups and flags, records freed.
async fn list_directly(conn: &Connect) -> Duration {
    let conn = conn.clone();
    tokio::task::spawn_blocking(move || {
        let clock = Instant::now();
        let count = bulk_stats(&conn);
        let elapsed = clock.elapsed();
        assert!(count >= DOMAINS);
        elapsed
    })
    .await
    .expect("direct call")
}

#[allow(
    unsafe_code,
    reason = "virt 0.5 neither reads nor frees the bulk records"
)]
fn bulk_stats(conn: &Connect) -> usize {
    use virt::sys;
    let stats = sys::VIR_DOMAIN_STATS_STATE
        | sys::VIR_DOMAIN_STATS_CPU_TOTAL
        | sys::VIR_DOMAIN_STATS_BALLOON
        | sys::VIR_DOMAIN_STATS_VCPU
        | sys::VIR_DOMAIN_STATS_INTERFACE
        | sys::VIR_DOMAIN_STATS_BLOCK;
    let flags = sys::VIR_CONNECT_GET_ALL_DOMAINS_STATS_ACTIVE
        | sys::VIR_CONNECT_GET_ALL_DOMAINS_STATS_INACTIVE
        | sys::VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT;
    let mut list: *mut sys::virDomainStatsRecordPtr = std::ptr::null_mut();
    // SAFETY: a valid connection; libvirt allocates the list, freed below.
    let count = unsafe { sys::virConnectGetAllDomainStats(conn.as_ptr(), stats, &mut list, flags) };
    assert!(count >= 0, "bulk stats failed");
    // SAFETY: the list came from the call above and is freed once.
    unsafe { sys::virDomainStatsRecordListFree(list) };
    usize::try_from(count).unwrap_or(0)
}

fn median(samples: &[Duration]) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    sorted[sorted.len() / 2]
}

fn p99(samples: &[Duration]) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    sorted[(sorted.len() * 99 / 100).min(sorted.len() - 1)]
}

fn report(service: &[Duration], direct: &[Duration]) {
    let (s, d) = (median(service), median(direct));
    let met = s.as_secs_f64() <= d.as_secs_f64() * 1.5 + 0.001;
    println!("{:<44} {:>10} {:>10}", "", "p50", "p99");
    println!(
        "{:<44} {:>10.2?} {:>10.2?}",
        "ListDomainStats through virtplane",
        s,
        p99(service)
    );
    println!(
        "{:<44} {:>10.2?} {:>10.2?}",
        "one bulk-stats call with the virt crate",
        d,
        p99(direct)
    );
    println!(
        "ratio {:.2}x, added {:.2} ms: target <= 1.5x + 1 ms {}\n",
        s.as_secs_f64() / d.as_secs_f64(),
        (s.as_secs_f64() - d.as_secs_f64()) * 1e3,
        if met { "met" } else { "MISSED" }
    );
}

/// A scrape that makes the bulk call (the shared sample is older than 5 s), and
/// scrapes served from the shared sample.
async fn scrapes(addr: std::net::SocketAddr) {
    let mut cold = Vec::new();
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(5100)).await;
        cold.push(scrape(addr).await);
    }
    let mut warm = Vec::new();
    for _ in 0..50 {
        warm.push(scrape(addr).await);
    }
    let (cold_time, bytes) = cold[cold.len() / 2];
    let warm_times: Vec<Duration> = warm.iter().map(|(t, _)| *t).collect();
    println!(
        "/metrics with {DOMAINS} domains: {bytes} bytes; {cold_time:.2?} with a fresh bulk sample, \
         {:.2?} p50 from the shared one",
        median(&warm_times)
    );
}

async fn scrape(addr: std::net::SocketAddr) -> (Duration, usize) {
    let clock = Instant::now();
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: m\r\nConnection: close\r\n\r\n")
        .await
        .expect("request");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.expect("response");
    (clock.elapsed(), response.len())
}
