//! Service benchmark, reported side by side with a baseline measured in the same run:
//!
//! - `GetDomain` / `ListDomains` latency through gRPC against the same reads made
//!   directly with the `virt` crate (in-process test driver, and a private libvirtd);
//! - the release binary's time from start to `DomainService` SERVING, and its idle RSS.
//!
//! Run with `make bench` (or `cargo bench --bench service`). Figures, not assertions:
//! the machine is shared, so ratios within one run are what to compare.

#[path = "common/private_libvirtd.rs"]
mod private_libvirtd;

use std::{
    net::SocketAddr,
    process::{Child, Command, Stdio},
    sync::Arc,
    time::{Duration, Instant},
};

use private_libvirtd::PrivateLibvirtd;
use tonic::transport::Channel;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
use virt::connect::Connect;
use virtplane::{
    App,
    config::Config,
    grpc::pb::{self, domain_service_client::DomainServiceClient},
};

const WARMUP: usize = 200;
const SAMPLES: usize = 3000;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    println!(
        "virtplane service benchmark ({SAMPLES} sequential calls each, after {WARMUP} warm-up)\n"
    );
    println!("{:<44} {:>10} {:>10}", "", "p50", "p99");

    runtime.block_on(latency_suite(
        "test:///default (in-process)",
        "test:///default",
    ));
    let daemon = PrivateLibvirtd::start();
    runtime.block_on(latency_suite(
        "private libvirtd (test driver)",
        &daemon.uri(),
    ));
    drop(daemon);
    runtime.block_on(close_detection());

    println!();
    startup_and_rss();
}

async fn latency_suite(label: &str, uri: &str) {
    println!("-- {label}");
    let dir = tempfile::tempdir().expect("tempdir");
    let toml = format!(
        "listen = \"127.0.0.1:0\"\nhostname = \"bench\"\n[libvirt]\nuri = \"{uri}\"\n\
         [database]\nurl = \"sqlite://{}/bench.db\"\n",
        dir.path().display()
    );
    let app = App::build(Config::from_toml(&toml).expect("config"))
        .await
        .expect("app");
    let addr = app.local_addr().expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run(async {
        let _ = stopped.await;
    }));
    let mut client = DomainServiceClient::new(channel(addr).await);
    // The transport's own cost: a health check answered from memory by the same server.
    let floor = measure_from_client_thread(addr, |channel| {
        let mut health = HealthClient::new(channel);
        async move {
            health
                .check(HealthCheckRequest::default())
                .await
                .expect("health check");
        }
    })
    .await;

    let direct = Arc::new(Connect::open(Some(uri)).expect("direct libvirt connection"));
    let get_direct = measure_blocking(Arc::clone(&direct), |conn| {
        let dom = conn.lookup_domain_by_name("test").expect("lookup");
        read_domain(&dom);
    })
    .await;
    let get_service = measure_from_client_thread(addr, |channel| {
        let mut client = DomainServiceClient::new(channel);
        async move {
            client
                .get_domain(pb::GetDomainRequest {
                    domain: "test".into(),
                    ..Default::default()
                })
                .await
                .expect("GetDomain");
        }
    })
    .await;
    let get_direct_hopping = {
        let direct = Arc::clone(&direct);
        measure(move || {
            let direct = Arc::clone(&direct);
            async move {
                tokio::task::spawn_blocking(move || {
                    let dom = direct.lookup_domain_by_name("test").expect("lookup");
                    read_domain(&dom);
                })
                .await
                .expect("blocking call");
            }
        })
        .await
    };
    let list_direct = measure_blocking(Arc::clone(&direct), |conn| {
        for dom in conn.list_all_domains(0).expect("list") {
            read_domain(&dom);
        }
    })
    .await;
    let list_service = measure_from_client_thread(addr, |channel| {
        let mut client = DomainServiceClient::new(channel);
        async move {
            client
                .list_domains(pb::ListDomainsRequest::default())
                .await
                .expect("ListDomains");
        }
    })
    .await;

    report("gRPC floor: Health/Check on the same server", &floor);
    report("GetDomain via virtplane (gRPC)", &get_service);
    report("GetDomain direct (virt crate)", &get_direct);
    report_added("GetDomain added by the service", &get_service, &get_direct);
    report(
        "GetDomain direct, one spawn_blocking per call",
        &get_direct_hopping,
    );
    report("ListDomains via virtplane (gRPC)", &list_service);
    report("ListDomains direct (virt crate)", &list_direct);
    report_added(
        "ListDomains added by the service",
        &list_service,
        &list_direct,
    );

    // The direct connection is released without the `virt` crate's panicking Drop path
    // mattering: closing a healthy connection does not fail.
    drop(direct);
    let _ = client.list_domains(pb::ListDomainsRequest::default()).await;
    let _ = stop.send(());
    let _ = server.await;
}

/// What the service reads for one domain, done directly.
fn read_domain(dom: &virt::domain::Domain) {
    let _ = dom.info().expect("info");
    let _ = dom.state().expect("state");
    let _ = dom.uuid_string().expect("uuid");
    let _ = dom.name().expect("name");
    let _ = dom.is_persistent().expect("persistent");
    let _ = dom.autostart().expect("autostart");
}

async fn measure<F, Fut>(mut call: F) -> Vec<Duration>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for _ in 0..WARMUP {
        call().await;
    }
    let mut samples = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        let start = Instant::now();
        call().await;
        samples.push(start.elapsed());
    }
    samples
}

/// Runs the client on its own thread and single-threaded runtime, as a separate
/// client process would, so it does not compete with the server's workers.
async fn measure_from_client_thread<F, Fut>(addr: SocketAddr, call: F) -> Vec<Duration>
where
    F: Fn(Channel) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()>,
{
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("client runtime");
        let samples = runtime.block_on(async {
            let channel = channel(addr).await;
            measure(|| call(channel.clone())).await
        });
        let _ = tx.send(samples);
    });
    rx.await.expect("client thread")
}

/// The direct baseline runs on a plain thread, as a synchronous libvirt client would.
async fn measure_blocking(
    conn: Arc<Connect>,
    call: impl Fn(&Connect) + Send + 'static,
) -> Vec<Duration> {
    tokio::task::spawn_blocking(move || {
        for _ in 0..WARMUP {
            call(&conn);
        }
        (0..SAMPLES)
            .map(|_| {
                let start = Instant::now();
                call(&conn);
                start.elapsed()
            })
            .collect()
    })
    .await
    .expect("direct measurement")
}

fn percentile(samples: &[Duration], p: f64) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

fn report(label: &str, samples: &[Duration]) {
    println!(
        "{label:<44} {:>8.1}µs {:>8.1}µs",
        micros(percentile(samples, 0.50)),
        micros(percentile(samples, 0.99))
    );
}

fn report_added(label: &str, service: &[Duration], direct: &[Duration]) {
    println!(
        "{label:<44} {:>8.1}µs {:>8.1}µs",
        micros(percentile(service, 0.50)) - micros(percentile(direct, 0.50)),
        micros(percentile(service, 0.99)) - micros(percentile(direct, 0.99)),
    );
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

async fn channel(addr: SocketAddr) -> Channel {
    Channel::from_shared(format!("http://{addr}"))
        .expect("uri")
        .connect()
        .await
        .expect("connect")
}

/// How long after libvirtd dies the service reports DomainService NOT_SERVING with
/// no RPC made: the close callback's reaction time (keepalive set far longer).
async fn close_detection() {
    let mut samples = Vec::new();
    for _ in 0..5 {
        let mut daemon = PrivateLibvirtd::start();
        let dir = tempfile::tempdir().expect("tempdir");
        let toml = format!(
            "listen = \"127.0.0.1:0\"\nhostname = \"bench\"\n[libvirt]\nuri = \"{}\"\n\
             keepalive_interval_s = 60\n[database]\nurl = \"sqlite://{}/bench.db\"\n",
            daemon.uri(),
            dir.path().display()
        );
        let app = App::build(Config::from_toml(&toml).expect("config"))
            .await
            .expect("app");
        let addr = app.local_addr().expect("addr");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(app.run(async {
            let _ = stopped.await;
        }));
        let mut health = HealthClient::new(channel(addr).await);
        let domain_service = || HealthCheckRequest {
            service: "virtplane.v1.DomainService".into(),
        };
        while health
            .check(domain_service())
            .await
            .expect("check")
            .get_ref()
            .status
            != 1
        {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let killed = Instant::now();
        daemon.kill();
        while health
            .check(domain_service())
            .await
            .expect("check")
            .get_ref()
            .status
            == 1
        {
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
        samples.push(killed.elapsed());
        let _ = stop.send(());
        drop(health);
        let _ = server.await;
    }
    samples.sort();
    println!(
        "\nlibvirtd killed -> DomainService NOT_SERVING, no RPC made: median {:.1} ms (max {:.1})",
        samples[2].as_secs_f64() * 1e3,
        samples[4].as_secs_f64() * 1e3
    );
}

/// Starts the release binary five times; reports time to SERVING and idle RSS.
fn startup_and_rss() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut to_serving = Vec::new();
    let mut rss_kib = Vec::new();
    for round in 0..5 {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let started = Instant::now();
        let mut child = Command::new(env!("CARGO_BIN_EXE_virtplane"))
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--libvirt-uri", "test:///default", "--hostname", "bench"])
            .arg("--database-url")
            .arg(format!("sqlite://{}/db.sqlite", dir.path().display()))
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("binary starts");
        runtime.block_on(wait_serving(port));
        to_serving.push(started.elapsed());
        std::thread::sleep(Duration::from_secs(1));
        rss_kib.push(rss_of(&child));
        stop(&mut child);
        if round == 0 {
            // The first start also creates the SQLite file and runs migrations.
            println!(
                "first start (creates the database): {:.1} ms",
                to_serving[0].as_secs_f64() * 1e3
            );
        }
    }
    to_serving.sort();
    rss_kib.sort();
    println!(
        "time from exec to DomainService SERVING: median {:.1} ms (min {:.1}, max {:.1})",
        to_serving[2].as_secs_f64() * 1e3,
        to_serving[0].as_secs_f64() * 1e3,
        to_serving[4].as_secs_f64() * 1e3
    );
    println!(
        "idle RSS after 1 s: median {:.1} MiB (min {:.1}, max {:.1})",
        rss_kib[2] as f64 / 1024.0,
        rss_kib[0] as f64 / 1024.0,
        rss_kib[4] as f64 / 1024.0
    );
}

async fn wait_serving(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        assert!(
            Instant::now() < deadline,
            "the service did not become SERVING"
        );
        let endpoint = Channel::from_shared(format!("http://127.0.0.1:{port}")).expect("uri");
        if let Ok(channel) = endpoint.connect().await {
            let mut health = HealthClient::new(channel);
            loop {
                let status = health
                    .check(HealthCheckRequest {
                        service: "virtplane.v1.DomainService".into(),
                    })
                    .await;
                match status {
                    Ok(reply) if reply.get_ref().status == 1 => return,
                    Ok(_) => tokio::time::sleep(Duration::from_millis(1)).await,
                    Err(_) => break,
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

fn rss_of(child: &Child) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).expect("status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

fn stop(child: &mut Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}
