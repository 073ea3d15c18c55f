//! Inventory benchmark: how soon a change made by another libvirt client shows through
//! `GetDomain` (the inventory's freshness), and what a read costs from the inventory
//! against the same read asked LIVE of libvirt, on a private libvirtd (test driver).
//!
//! Run with `cargo bench --bench inventory`. Figures, not assertions.

use std::{
    process::{Child, Command, Stdio},
    sync::Arc,
    time::{Duration, Instant},
};

use virt::connect::Connect;
use virtplane::{
    App,
    config::Config,
    grpc::pb::{self, DomainState, ReadConsistency, domain_service_client::DomainServiceClient},
};

const CHANGES: usize = 300;
const READS: usize = 2000;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let daemon = PrivateLibvirtd::start();
    runtime.block_on(run(&daemon.uri()));
}

async fn run(uri: &str) {
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
    let mut client = DomainServiceClient::connect(format!("http://{addr}"))
        .await
        .expect("client");
    // Until the first refill: a fresh inventory answers with `stale = false` and the
    // same state a LIVE read gives.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let other = Arc::new(Connect::open(Some(uri)).expect("another libvirt client"));
    let mut freshness = Vec::with_capacity(CHANGES);
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
        loop {
            let domain = get(&mut client, ReadConsistency::Cached).await;
            if domain.state == i32::from(want) {
                break;
            }
            tokio::task::yield_now().await;
        }
        freshness.push(started.elapsed());
    }
    println!("inventory benchmark (private libvirtd, test driver)\n");
    println!("{:<52} {:>10} {:>10} {:>10}", "", "p50", "p99", "max");
    report(
        &format!("change by another client -> GetDomain ({CHANGES})"),
        &freshness,
    );

    for (label, consistency) in [
        ("GetDomain from the inventory", ReadConsistency::Cached),
        ("GetDomain LIVE (libvirt)", ReadConsistency::Live),
    ] {
        let mut samples = Vec::with_capacity(READS);
        for _ in 0..READS {
            let started = Instant::now();
            get(&mut client, consistency).await;
            samples.push(started.elapsed());
        }
        report(label, &samples);
    }
    let _ = stop.send(());
    let _ = server.await;
}

async fn get(
    client: &mut DomainServiceClient<tonic::transport::Channel>,
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

fn report(label: &str, samples: &[Duration]) {
    let mut sorted = samples.to_vec();
    sorted.sort();
    let at = |p: f64| sorted[((sorted.len() as f64 - 1.0) * p).round() as usize];
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "{label:<52} {:>8.2}ms {:>8.2}ms {:>8.2}ms",
        ms(at(0.50)),
        ms(at(0.99)),
        ms(at(1.0))
    );
}

/// A libvirtd hosting only the test driver, in a scratch folder.
struct PrivateLibvirtd {
    dir: tempfile::TempDir,
    child: Child,
}

impl PrivateLibvirtd {
    fn start() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("drivers")).expect("drivers");
        std::fs::write(
            dir.path().join("libvirtd.conf"),
            format!(
                "unix_sock_dir = \"{}\"\nauth_unix_rw = \"none\"\nauth_unix_ro = \"none\"\n",
                dir.path().display()
            ),
        )
        .expect("config");
        let child = Command::new("/usr/sbin/libvirtd")
            .arg("-f")
            .arg(dir.path().join("libvirtd.conf"))
            .arg("-p")
            .arg(dir.path().join("pid"))
            .env("LIBVIRT_DRIVER_DIR", dir.path().join("drivers"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("libvirtd");
        let socket = dir.path().join("libvirt-sock");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::os::unix::net::UnixStream::connect(&socket).is_err() {
            assert!(Instant::now() < deadline, "libvirtd did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        PrivateLibvirtd { dir, child }
    }

    fn uri(&self) -> String {
        format!(
            "test+unix:///default?socket={}",
            self.dir.path().join("libvirt-sock").display()
        )
    }
}

impl Drop for PrivateLibvirtd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
