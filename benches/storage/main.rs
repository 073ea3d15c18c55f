//! Volume transfers through the service against `virsh vol-upload` and
//! `vol-download` on the same private QEMU libvirtd, in the same run: 256 MiB into and
//! out of a raw volume in a directory pool, each side reading its data from (and
//! writing it to) a file in the page cache, the sides taking turns to go first. The
//! gRPC client runs on a thread of its own, as a separate process would; virsh's
//! figures include its start and its connection (a few ms).
//!
//! The service computes the checksum the client asks for: SHA-256 (the default) and
//! CRC32C are both measured, each against the same virsh figures.
//!
//! Beside the throughput it reports the CPU time each side costs per GiB, the daemon's
//! included (from /proc: this process, or the virsh processes it waited for, plus
//! libvirtd): on a machine shared with other work the throughput follows the CPU a
//! side needs more than its own pipeline.
//!
//! Run with `make bench` (or `cargo bench --bench storage`). The target is the service
//! at 0.8x virsh's throughput or better; printed, not asserted.

#[allow(
    dead_code,
    unreachable_pub,
    reason = "the test suite's QEMU daemon, shared as a file: the bench uses part of it"
)]
#[path = "../../tests/api/support/qemu.rs"]
mod qemu;
mod report;

use std::{
    io::{Read, Write},
    path::{Path, PathBuf},
    process::Command,
    time::{Duration, Instant},
};

use futures_util::{StreamExt, stream};
use tonic::transport::Channel;
use virtplane::{
    App,
    config::Config,
    grpc::pb::{
        self, download_volume_response::Response, storage_service_client::StorageServiceClient,
        upload_volume_request::Request,
    },
};

use report::{Cpu, Results, Sample};

pub(crate) const SIZE: usize = 256 << 20;
pub(crate) const ROUNDS: usize = 7;
/// One upload message, as a client would send it.
const CHUNK: usize = 1 << 20;
const POOL: &str = "bench";

fn main() {
    let daemon = qemu::QemuDaemon::start();
    let root = daemon.dir().join("pools");
    let server = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("server runtime");
    let addr = server.block_on(serve(&daemon.uri(), &root));
    // The client on a thread of its own, like a separate process.
    let client = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("client runtime");
    let mut storage = client.block_on(async {
        let channel = Channel::from_shared(format!("http://{addr}"))
            .expect("uri")
            .connect()
            .await
            .expect("connect");
        StorageServiceClient::new(channel)
    });
    client.block_on(prepare(&mut storage, &root));

    let files = tempfile::tempdir().expect("scratch");
    let source = files.path().join("source.img");
    let mut data = vec![0_u8; SIZE];
    fastrand::Rng::with_seed(7).fill(&mut data);
    std::fs::write(&source, &data).expect("source file");
    let (expected_sha, expected_crc) =
        (sha256_hex(&data), format!("{:08x}", crc32c::crc32c(&data)));
    drop(data);
    let virsh = Virsh {
        uri: daemon.uri(),
        source: source.clone(),
        sink: files.path().join("virsh-download.img"),
    };
    let service_sink = files.path().join("service-download.img");

    let cpu = Cpu::of_daemon(&daemon);
    let mut results = Results::default();
    // Round 0 is not counted: it warms the page cache and the daemon.
    for round in 0..=ROUNDS {
        let mut measured = [Sample::default(); 6];
        // Each side goes first in turn.
        for side in (0..3).map(|i| (i + round) % 3) {
            if side == 2 {
                let before = cpu.virsh();
                let up = virsh.upload();
                let middle = cpu.virsh();
                let down = virsh.download();
                measured[2] = Sample::new(up, middle - before);
                measured[3] = Sample::new(down, cpu.virsh() - middle);
                continue;
            }
            let (checksum, expected, columns) = if side == 0 {
                (pb::TransferChecksum::Sha256, &expected_sha, (0, 1))
            } else {
                (pb::TransferChecksum::Crc32c, &expected_crc, (4, 5))
            };
            let before = cpu.service();
            let (up, sum) = client.block_on(upload(&mut storage, &source, checksum));
            assert_eq!(&sum, expected, "the service's {checksum:?} of the upload");
            let middle = cpu.service();
            let (down, sum) = client.block_on(download(&mut storage, &service_sink, checksum));
            assert_eq!(&sum, expected, "the service's {checksum:?} of the download");
            measured[columns.0] = Sample::new(up, middle - before);
            measured[columns.1] = Sample::new(down, cpu.service() - middle);
        }
        assert_eq!(
            sha256_hex(&std::fs::read(&virsh.sink).expect("virsh's download")),
            expected_sha,
            "virsh downloaded what was uploaded"
        );
        if round > 0 {
            results.push(measured);
        }
    }
    results.report();
    drop(server);
}

/// The app on `uri`, allowed to keep pools under `root`, serving on a free port.
async fn serve(uri: &str, root: &Path) -> std::net::SocketAddr {
    let dir = tempfile::tempdir().expect("tempdir").keep();
    let toml = format!(
        "listen = \"127.0.0.1:0\"\nhostname = \"bench\"\n[libvirt]\nuri = \"{uri}\"\n\
         call_timeout_ms = 120000\nsave_dir = \"{}/save\"\nstorage_roots = [\"{}\"]\n\
         [database]\nurl = \"sqlite://{}/bench.db\"\n",
        dir.display(),
        root.display(),
        dir.display()
    );
    let app = App::build(Config::from_toml(&toml).expect("config"))
        .await
        .expect("app");
    let addr = app.local_addr().expect("addr");
    tokio::spawn(app.run(std::future::pending()));
    addr
}

/// The pool and its two volumes: one per side, so neither reads what the other wrote.
async fn prepare(storage: &mut StorageServiceClient<Channel>, root: &Path) {
    storage
        .create_storage_pool(pb::CreateStoragePoolRequest {
            name: POOL.into(),
            target_path: root.join(POOL).display().to_string(),
            ..Default::default()
        })
        .await
        .expect("pool");
    for name in ["service.img", "virsh.img"] {
        storage
            .create_volume(pb::CreateVolumeRequest {
                pool: POOL.into(),
                name: name.into(),
                format: "raw".into(),
                capacity_bytes: SIZE as u64,
                ..Default::default()
            })
            .await
            .expect("volume");
    }
}

/// `UploadVolume` of `source`, read a chunk at a time: its time and the checksum.
async fn upload(
    storage: &mut StorageServiceClient<Channel>,
    source: &Path,
    checksum: pb::TransferChecksum,
) -> (Duration, String) {
    let clock = Instant::now();
    let mut file = std::fs::File::open(source).expect("source");
    let header = pb::UploadVolumeRequest {
        request: Some(Request::Header(pb::UploadVolumeHeader {
            pool: POOL.into(),
            volume: "service.img".into(),
            offset: 0,
            length: Some(SIZE as u64),
            checksum: checksum.into(),
        })),
    };
    let chunks = stream::iter(std::iter::from_fn(move || {
        let mut chunk = Vec::with_capacity(CHUNK);
        let n = (&mut file)
            .take(CHUNK as u64)
            .read_to_end(&mut chunk)
            .expect("read source");
        (n > 0).then(|| pb::UploadVolumeRequest {
            request: Some(Request::Data(chunk.into())),
        })
    }));
    let reply = storage
        .upload_volume(stream::iter([header]).chain(chunks))
        .await
        .expect("UploadVolume")
        .into_inner();
    assert_eq!(reply.bytes_written, SIZE as u64);
    (clock.elapsed(), reply.sha256 + &reply.crc32c)
}

/// `DownloadVolume` into `sink`: its time and the checksum.
async fn download(
    storage: &mut StorageServiceClient<Channel>,
    sink: &Path,
    checksum: pb::TransferChecksum,
) -> (Duration, String) {
    let clock = Instant::now();
    let mut file = std::fs::File::create(sink).expect("sink");
    let mut stream = storage
        .download_volume(pb::DownloadVolumeRequest {
            pool: POOL.into(),
            volume: "service.img".into(),
            checksum: checksum.into(),
            ..Default::default()
        })
        .await
        .expect("DownloadVolume")
        .into_inner();
    while let Some(message) = stream.next().await {
        match message.expect("download message").response {
            Some(Response::Data(data)) => file.write_all(&data).expect("write sink"),
            Some(Response::End(end)) => {
                assert_eq!(end.bytes_read, SIZE as u64);
                return (clock.elapsed(), end.sha256 + &end.crc32c);
            }
            None => panic!("an empty message"),
        }
    }
    panic!("the download ended without its end");
}

/// `virsh vol-upload` and `vol-download` of the same file on the same daemon.
struct Virsh {
    uri: String,
    source: PathBuf,
    sink: PathBuf,
}

impl Virsh {
    fn upload(&self) -> Duration {
        self.run("vol-upload", &self.source)
    }

    fn download(&self) -> Duration {
        self.run("vol-download", &self.sink)
    }

    fn run(&self, command: &str, file: &Path) -> Duration {
        let clock = Instant::now();
        let out = Command::new("virsh")
            .args(["-c", &self.uri, command, "--pool", POOL, "virsh.img"])
            .arg(file)
            .output()
            .expect("virsh runs");
        let elapsed = clock.elapsed();
        assert!(
            out.status.success(),
            "virsh {command} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        elapsed
    }
}

fn sha256_hex(data: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, data)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
