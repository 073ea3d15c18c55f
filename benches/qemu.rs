//! QEMU operations through the service against the same calls made directly with the
//! `virt` crate, on one private QEMU libvirtd (TCG), in the same run:
//! `StartDomain`, `SaveDomain`, `RestoreDomain` and `CreateSnapshot` of a BIOS-only
//! domain with a qcow2 disk. Rounds alternate which side goes first, so drift in the
//! machine's load falls on both.
//!
//! Run with `make bench` (or `cargo bench --bench qemu`). The target is the service
//! within 1.1x the direct call plus 1 ms; printed, not asserted.

#[allow(
    dead_code,
    unreachable_pub,
    reason = "the test suite's QEMU daemon, shared as a file: the bench uses part of it"
)]
#[path = "../tests/api/support/qemu.rs"]
mod qemu;

use std::{
    path::Path,
    time::{Duration, Instant},
};

use tonic::transport::Channel;
use virt::{connect::Connect, domain::Domain};
use virtplane::{
    App,
    config::Config,
    grpc::pb::{
        self, domain_service_client::DomainServiceClient,
        snapshot_service_client::SnapshotServiceClient,
    },
};

const ROUNDS: usize = 8;
const OPERATIONS: [&str; 4] = [
    "StartDomain",
    "CreateSnapshot",
    "SaveDomain",
    "RestoreDomain",
];

/// One side's timings, by operation, in `OPERATIONS` order.
#[derive(Default)]
struct Timings([Vec<Duration>; 4]);

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let daemon = qemu::QemuDaemon::start();
    let save_dir = daemon.dir().join("service-save");
    runtime.block_on(async {
        let (addr, stop) = serve(&daemon.uri(), &save_dir).await;
        let channel = Channel::from_shared(format!("http://{addr}"))
            .expect("uri")
            .connect()
            .await
            .expect("connect");
        let mut service = Service {
            domains: DomainServiceClient::new(channel.clone()),
            snapshots: SnapshotServiceClient::new(channel),
        };
        let direct = Connect::open(Some(&daemon.uri())).expect("direct connection");
        let service_name = define(&direct, &daemon, "bench-service");
        let direct_name = define(&direct, &daemon, "bench-direct");
        let (mut via_service, mut via_direct) = (Timings::default(), Timings::default());
        // One unmeasured round each: QEMU's first start pays for caches.
        service.round(&service_name, 0).await;
        direct_round(&direct, &direct_name, daemon.dir(), 0).await;
        for round in 1..=ROUNDS {
            let service_first = round % 2 == 0;
            if service_first {
                via_service.add(service.round(&service_name, round).await);
            }
            via_direct.add(direct_round(&direct, &direct_name, daemon.dir(), round).await);
            if !service_first {
                via_service.add(service.round(&service_name, round).await);
            }
        }
        report(&via_service, &via_direct);
        let _ = stop.send(());
    });
}

/// The app on `uri`, serving on a free port.
async fn serve(
    uri: &str,
    save_dir: &Path,
) -> (std::net::SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let dir = tempfile::tempdir().expect("tempdir").keep();
    let toml = format!(
        "listen = \"127.0.0.1:0\"\nhostname = \"bench\"\n[libvirt]\nuri = \"{uri}\"\n\
         call_timeout_ms = 120000\nsave_dir = \"{}\"\n[database]\nurl = \"sqlite://{}/bench.db\"\n",
        save_dir.display(),
        dir.display()
    );
    let app = App::build(Config::from_toml(&toml).expect("config"))
        .await
        .expect("app");
    let addr = app.local_addr().expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run(async {
        let _ = stopped.await;
    }));
    (addr, stop)
}

/// A BIOS-only domain with an empty qcow2 disk: it starts in well under a second, and
/// internal snapshots (disk and memory) need a qcow2 disk.
fn define(conn: &Connect, daemon: &qemu::QemuDaemon, name: &str) -> String {
    let disk = daemon.dir().join(format!("{name}.qcow2"));
    qemu::create_qcow2(&disk, 16);
    let xml = qemu::bios_domain_xml(name).replace(
        "<devices>",
        &format!(
            "<devices><disk type='file' device='disk'><driver name='qemu' type='qcow2'/>\
             <source file='{}'/><target dev='vda' bus='virtio'/></disk>",
            disk.display()
        ),
    );
    conn.define_domain_xml(&xml).expect("define");
    name.to_owned()
}

struct Service {
    domains: DomainServiceClient<Channel>,
    snapshots: SnapshotServiceClient<Channel>,
}

impl Service {
    /// Start, snapshot, save, restore through gRPC; then undo (unmeasured).
    async fn round(&mut self, name: &str, round: usize) -> [Duration; 4] {
        let domain = || name.to_owned();
        let file = format!("round-{round}.save");
        let start = timed(self.domains.start_domain(pb::StartDomainRequest {
            domain: domain(),
            ..Default::default()
        }))
        .await;
        let snapshot = timed(self.snapshots.create_snapshot(pb::CreateSnapshotRequest {
            domain: domain(),
            name: format!("s{round}"),
            ..Default::default()
        }))
        .await;
        let save = timed(self.domains.save_domain(pb::SaveDomainRequest {
            domain: domain(),
            file: file.clone(),
            ..Default::default()
        }))
        .await;
        let restore = timed(self.domains.restore_domain(pb::RestoreDomainRequest {
            file,
            ..Default::default()
        }))
        .await;
        self.snapshots
            .delete_snapshot(pb::DeleteSnapshotRequest {
                domain: domain(),
                name: format!("s{round}"),
                ..Default::default()
            })
            .await
            .expect("delete snapshot");
        self.domains
            .destroy_domain(pb::DestroyDomainRequest {
                domain: domain(),
                ..Default::default()
            })
            .await
            .expect("destroy");
        [start, snapshot, save, restore]
    }
}

async fn timed<T>(call: impl std::future::Future<Output = Result<T, tonic::Status>>) -> Duration {
    let clock = Instant::now();
    call.await.expect("service call");
    clock.elapsed()
}

/// The same four calls made directly, each on a blocking thread as the service does.
async fn direct_round(conn: &Connect, name: &str, dir: &Path, round: usize) -> [Duration; 4] {
    let (conn, name) = (conn.clone(), name.to_owned());
    let file = dir.join(format!("direct-{round}.save"));
    tokio::task::spawn_blocking(move || {
        let dom = conn.lookup_domain_by_name(&name).expect("lookup");
        let start = blocking(|| dom.create().map(drop));
        let snapshot_xml = format!("<domainsnapshot><name>s{round}</name></domainsnapshot>");
        let snapshot = blocking(|| dom.create_snapshot_xml(&snapshot_xml, 0).map(drop));
        let save = blocking(|| save(&dom, &file));
        let restore = blocking(|| conn.restore_domain(path_str(&file)));
        let dom = conn.lookup_domain_by_name(&name).expect("lookup");
        Domain::lookup_snapshot_by_name(&dom, &format!("s{round}"), 0)
            .and_then(|s| s.delete(0))
            .expect("delete snapshot");
        dom.destroy().expect("destroy");
        [start, snapshot, save, restore]
    })
    .await
    .expect("direct round")
}

fn blocking(call: impl FnOnce() -> Result<(), virt::error::Error>) -> Duration {
    let clock = Instant::now();
    call().expect("direct call");
    clock.elapsed()
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("UTF-8 path")
}

/// `virDomainSaveFlags`, which `virt` 0.5 does not wrap (the service's own wrapper is
/// internal to it).
#[allow(unsafe_code, reason = "one FFI call the virt crate lacks")]
fn save(dom: &Domain, path: &Path) -> Result<(), virt::error::Error> {
    let path = std::ffi::CString::new(path_str(path)).expect("no NUL");
    // SAFETY: `dom` holds a valid domain reference and `path` outlives the call; a
    // NULL replacement XML is allowed.
    let rc =
        unsafe { virt::sys::virDomainSaveFlags(dom.as_ptr(), path.as_ptr(), std::ptr::null(), 0) };
    if rc < 0 {
        Err(virt::error::Error::last_error())
    } else {
        Ok(())
    }
}

impl Timings {
    fn add(&mut self, round: [Duration; 4]) {
        for (samples, sample) in self.0.iter_mut().zip(round) {
            samples.push(sample);
        }
    }
}

fn median(samples: &[Duration]) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    sorted[sorted.len() / 2]
}

fn report(service: &Timings, direct: &Timings) {
    println!(
        "virtplane QEMU benchmark: {ROUNDS} rounds, medians (TCG, BIOS-only domain with a qcow2 disk)\n"
    );
    println!(
        "{:<16} {:>12} {:>12} {:>8} {:>14}  target <= 1.1x + 1 ms",
        "", "service", "direct", "ratio", "added"
    );
    for (i, operation) in OPERATIONS.iter().enumerate() {
        let (s, d) = (median(&service.0[i]), median(&direct.0[i]));
        let ratio = s.as_secs_f64() / d.as_secs_f64();
        let added_ms = (s.as_secs_f64() - d.as_secs_f64()) * 1e3;
        let met = s.as_secs_f64() <= d.as_secs_f64() * 1.1 + 0.001;
        println!(
            "{operation:<16} {:>10.1}ms {:>10.1}ms {ratio:>7.3}x {added_ms:>12.2}ms  {}",
            s.as_secs_f64() * 1e3,
            d.as_secs_f64() * 1e3,
            if met { "met" } else { "MISSED" }
        );
    }
}
