//! QEMU operations through the service against the same calls made directly with the
//! `virt` crate, on one private QEMU libvirtd (TCG), in the same run:
//! `StartDomain`, `SaveDomain`, `RestoreDomain` and `CreateSnapshot` of a BIOS-only
//! domain with a qcow2 disk. Each operation runs on both sides back to back, the
//! first side alternating by round, so the machine's load at that moment falls on
//! both; QEMU's own times vary a lot under TCG (a restore takes 0.5 s or 1 s).
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

const ROUNDS: usize = 15;
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
        let conn = Connect::open(Some(&daemon.uri())).expect("direct connection");
        let mut service = Service {
            domains: DomainServiceClient::new(channel.clone()),
            snapshots: SnapshotServiceClient::new(channel),
            name: define(&conn, &daemon, "bench-service"),
        };
        let direct = Direct {
            name: define(&conn, &daemon, "bench-direct"),
            conn,
            dir: daemon.dir().to_path_buf(),
        };
        let (mut via_service, mut via_direct) = (Timings::default(), Timings::default());
        // Round 0 is not counted: QEMU's first start pays for its caches.
        for round in 0..=ROUNDS {
            // Each operation on both sides back to back, the first side alternating,
            // so the machine's load at that moment falls on both.
            for (op, _) in OPERATIONS.iter().enumerate() {
                let (s, d) = if round % 2 == 0 {
                    let s = service.op(op, round).await;
                    (s, direct.op(op, round).await)
                } else {
                    let d = direct.op(op, round).await;
                    (service.op(op, round).await, d)
                };
                if round > 0 {
                    via_service.0[op].push(s);
                    via_direct.0[op].push(d);
                }
            }
            service.undo(round).await;
            direct.undo(round).await;
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
    let xml = qemu::bios_with_disk_xml(name, &disk);
    conn.define_domain_xml(&xml).expect("define");
    name.to_owned()
}

/// The calls through the service's gRPC API.
struct Service {
    domains: DomainServiceClient<Channel>,
    snapshots: SnapshotServiceClient<Channel>,
    name: String,
}

impl Service {
    /// Operation `op` of `OPERATIONS`, timed.
    async fn op(&mut self, op: usize, round: usize) -> Duration {
        let domain = self.name.clone();
        let file = format!("round-{round}.save");
        let clock = Instant::now();
        let done = match op {
            0 => self
                .domains
                .start_domain(pb::StartDomainRequest {
                    domain,
                    ..Default::default()
                })
                .await
                .map(drop),
            1 => self
                .snapshots
                .create_snapshot(pb::CreateSnapshotRequest {
                    domain,
                    name: format!("s{round}"),
                    ..Default::default()
                })
                .await
                .map(drop),
            2 => self
                .domains
                .save_domain(pb::SaveDomainRequest {
                    domain,
                    file,
                    ..Default::default()
                })
                .await
                .map(drop),
            _ => self
                .domains
                .restore_domain(pb::RestoreDomainRequest {
                    file,
                    ..Default::default()
                })
                .await
                .map(drop),
        };
        done.expect("service call");
        clock.elapsed()
    }

    /// Deletes the round's snapshot and stops the domain (not timed).
    async fn undo(&mut self, round: usize) {
        self.snapshots
            .delete_snapshot(pb::DeleteSnapshotRequest {
                domain: self.name.clone(),
                name: format!("s{round}"),
                ..Default::default()
            })
            .await
            .expect("delete snapshot");
        self.domains
            .destroy_domain(pb::DestroyDomainRequest {
                domain: self.name.clone(),
                ..Default::default()
            })
            .await
            .expect("destroy");
    }
}

/// The same calls made directly with the `virt` crate, each on a blocking thread as
/// the service makes them.
struct Direct {
    conn: Connect,
    name: String,
    dir: std::path::PathBuf,
}

impl Direct {
    async fn op(&self, op: usize, round: usize) -> Duration {
        let (conn, name) = (self.conn.clone(), self.name.clone());
        let file = self.dir.join(format!("direct-{round}.save"));
        tokio::task::spawn_blocking(move || {
            let dom = conn.lookup_domain_by_name(&name).expect("lookup");
            let xml = format!("<domainsnapshot><name>s{round}</name></domainsnapshot>");
            let clock = Instant::now();
            let done = match op {
                0 => dom.create().map(drop),
                1 => dom.create_snapshot_xml(&xml, 0).map(drop),
                2 => save(&dom, &file),
                _ => conn.restore_domain(path_str(&file)),
            };
            done.expect("direct call");
            clock.elapsed()
        })
        .await
        .expect("direct call")
    }

    async fn undo(&self, round: usize) {
        let (conn, name) = (self.conn.clone(), self.name.clone());
        tokio::task::spawn_blocking(move || {
            let dom = conn.lookup_domain_by_name(&name).expect("lookup");
            Domain::lookup_snapshot_by_name(&dom, &format!("s{round}"), 0)
                .and_then(|s| s.delete(0))
                .expect("delete snapshot");
            dom.destroy().expect("destroy");
        })
        .await
        .expect("undo");
    }
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

fn median(samples: &[Duration]) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    sorted[sorted.len() / 2]
}

fn report(service: &Timings, direct: &Timings) {
    println!(
        "virtplane QEMU benchmark: {ROUNDS} rounds, each operation paired in time \
         (TCG, BIOS-only domain with a qcow2 disk)\n"
    );
    println!(
        "{:<16} {:>12} {:>12} {:>10} {:>12} {:>12}  target <= 1.1x + 1 ms",
        "", "service p50", "direct p50", "p50 ratio", "pair ratio", "added p50"
    );
    for (i, operation) in OPERATIONS.iter().enumerate() {
        let (s, d) = (median(&service.0[i]), median(&direct.0[i]));
        let ratio = s.as_secs_f64() / d.as_secs_f64();
        // The median of each pair's ratio: the machine's drift cancels within a pair.
        let mut pairs: Vec<f64> = service.0[i]
            .iter()
            .zip(&direct.0[i])
            .map(|(s, d)| s.as_secs_f64() / d.as_secs_f64())
            .collect();
        pairs.sort_by(f64::total_cmp);
        let pair_ratio = pairs[pairs.len() / 2];
        let added_ms = (s.as_secs_f64() - d.as_secs_f64()) * 1e3;
        let met = s.as_secs_f64() <= d.as_secs_f64() * 1.1 + 0.001;
        println!(
            "{operation:<16} {:>10.1}ms {:>10.1}ms {ratio:>9.3}x {pair_ratio:>11.3}x {added_ms:>10.2}ms  {}",
            s.as_secs_f64() * 1e3,
            d.as_secs_f64() * 1e3,
            if met { "met" } else { "MISSED" }
        );
    }
}
