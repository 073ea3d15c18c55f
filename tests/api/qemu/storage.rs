//! StorageService on a QEMU daemon's storage driver: a directory pool in the daemon's
//! scratch folder (the only storage root), 64 MiB uploaded and downloaded through
//! libvirt's streams with their checksums, a copy-on-write overlay, a clone, a resize,
//! and the refusals that need real files: uploads past the capacity, a volume a
//! domain uses, a pool directory that still holds volumes.

use std::path::PathBuf;

use tonic::Code;
use virtplane::grpc::pb::{self, StoragePoolState};

use crate::support::{
    TestApp, TestOptions,
    qemu::QemuDaemon,
    storage::{
        Storage, client, create_volume, download, get_volume, random_bytes, sha256_hex, upload,
    },
    unique_name,
};

const MIB: u64 = 1 << 20;

/// The app on `daemon`, allowed to keep pools under `root` only, with room for
/// QEMU's slower calls; and a running directory pool in `root/images`.
pub(super) async fn app_with_pool(daemon: &QemuDaemon) -> (TestApp, Storage, PathBuf) {
    let root = daemon.dir().join("pools");
    let app = TestApp::spawn(
        TestOptions::new(daemon.uri())
            .call_timeout_ms(60_000)
            .storage_root(&root),
    )
    .await;
    let mut storage = client(&app);
    let target = root.join("images");
    let pool = storage
        .create_storage_pool(pb::CreateStoragePoolRequest {
            name: "images".into(),
            target_path: target.display().to_string(),
            ..Default::default()
        })
        .await
        .expect("CreateStoragePool")
        .into_inner();
    assert_eq!(pool.state(), StoragePoolState::Running);
    assert!(target.is_dir(), "libvirt built the pool's directory");
    (app, storage, target)
}

#[tokio::test]
async fn a_volume_takes_64_mib_and_gives_them_back_and_is_cloned_overlaid_resized_and_deleted() {
    let daemon = QemuDaemon::start();
    let (_app, mut storage, dir) = app_with_pool(&daemon).await;
    let disk = create_volume(&mut storage, "images", "disk.img", "raw", 64 * MIB).await;
    assert_eq!(disk.path, dir.join("disk.img").display().to_string());
    assert_eq!(
        (disk.format.as_str(), disk.capacity_bytes),
        ("raw", 64 * MIB)
    );

    let data = random_bytes(64 << 20);
    // In messages of 4 MiB, the most one may carry.
    let uploaded = upload(
        &mut storage,
        "images",
        "disk.img",
        0,
        Some(64 * MIB),
        &data,
        4 << 20,
    )
    .await
    .expect("UploadVolume");
    assert_eq!(uploaded.bytes_written, 64 * MIB);
    assert_eq!(uploaded.sha256, sha256_hex(&data));
    assert!(
        std::fs::read(dir.join("disk.img")).expect("the volume's file") == data,
        "the file holds what was uploaded"
    );

    let (downloaded, end) = download(&mut storage, "images", "disk.img", 0, 0)
        .await
        .expect("DownloadVolume");
    assert_eq!(end.bytes_read, 64 * MIB);
    assert!(
        downloaded == data,
        "the download is byte for byte the upload"
    );
    assert_eq!(end.sha256, uploaded.sha256);
    // A window: 1 MiB from 63 MiB in.
    let (window, end) = download(&mut storage, "images", "disk.img", 63 * MIB, MIB)
        .await
        .expect("a window");
    assert!(
        window == data[(63 << 20)..],
        "the window is the volume's last MiB"
    );
    assert_eq!(end.sha256, sha256_hex(&data[(63 << 20)..]));

    let copy = storage
        .clone_volume(pb::CloneVolumeRequest {
            pool: "images".into(),
            volume: "disk.img".into(),
            name: "copy.img".into(),
            ..Default::default()
        })
        .await
        .expect("CloneVolume")
        .into_inner();
    assert_eq!(
        (copy.format.as_str(), copy.capacity_bytes),
        ("raw", 64 * MIB)
    );
    let (copied, end) = download(&mut storage, "images", "copy.img", 0, 0)
        .await
        .expect("download the copy");
    assert!(copied == data, "the clone holds the same bytes");
    assert_eq!(end.sha256, uploaded.sha256);

    let overlay = storage
        .create_volume(pb::CreateVolumeRequest {
            pool: "images".into(),
            name: "overlay.qcow2".into(),
            backing_volume: "disk.img".into(),
            ..Default::default()
        })
        .await
        .expect("a copy-on-write overlay")
        .into_inner();
    assert_eq!(overlay.format, "qcow2");
    assert_eq!(overlay.capacity_bytes, 64 * MIB);
    assert!(
        overlay.allocation_bytes < MIB,
        "an overlay starts nearly empty"
    );
    let backing = overlay.backing_store.expect("a backing store");
    assert_eq!(
        (backing.path, backing.format),
        (disk.path.clone(), "raw".into())
    );
    let info = daemon.virsh(&["vol-dumpxml", "--pool", "images", "overlay.qcow2"]);
    assert!(
        info.contains(&disk.path),
        "libvirt sees the backing file:\n{info}"
    );

    let grown = storage
        .resize_volume(pb::ResizeVolumeRequest {
            pool: "images".into(),
            volume: "copy.img".into(),
            capacity_bytes: 96 * MIB,
            ..Default::default()
        })
        .await
        .expect("ResizeVolume")
        .into_inner();
    assert_eq!(grown.capacity_bytes, 96 * MIB);
    let full = storage
        .resize_volume(pb::ResizeVolumeRequest {
            pool: "images".into(),
            volume: "copy.img".into(),
            capacity_bytes: 32 * MIB,
            shrink: true,
            ..Default::default()
        })
        .await
        .expect_err("the copy is allocated in full");
    assert_eq!(full.code(), Code::FailedPrecondition);
    assert!(full.message().contains("allocated"), "{full:?}");

    // A sparse volume with 1 MiB written shrinks, keeping what is before the new end.
    create_volume(&mut storage, "images", "sparse.img", "raw", 64 * MIB).await;
    upload(
        &mut storage,
        "images",
        "sparse.img",
        0,
        None,
        &data[..(1 << 20)],
        1 << 20,
    )
    .await
    .expect("1 MiB into the sparse volume");
    let shrunk = storage
        .resize_volume(pb::ResizeVolumeRequest {
            pool: "images".into(),
            volume: "sparse.img".into(),
            capacity_bytes: 32 * MIB,
            shrink: true,
            ..Default::default()
        })
        .await
        .expect("a shrink, allowed")
        .into_inner();
    assert_eq!(shrunk.capacity_bytes, 32 * MIB);
    let (rest, _) = download(&mut storage, "images", "sparse.img", 0, 0)
        .await
        .expect("download the shrunk volume");
    assert_eq!(rest.len(), 32 << 20);
    assert!(
        rest[..(1 << 20)] == data[..(1 << 20)],
        "the written MiB is kept"
    );
    assert!(
        rest[(1 << 20)..].iter().all(|b| *b == 0),
        "the rest reads as zeros"
    );

    for volume in ["overlay.qcow2", "copy.img", "sparse.img", "disk.img"] {
        storage
            .delete_volume(pb::DeleteVolumeRequest {
                pool: "images".into(),
                volume: volume.into(),
                ..Default::default()
            })
            .await
            .expect("DeleteVolume");
        assert!(!dir.join(volume).exists(), "{volume} is gone from disk");
    }
    storage
        .delete_storage_pool(pb::DeleteStoragePoolRequest {
            pool: "images".into(),
            remove_directory: true,
            ..Default::default()
        })
        .await
        .expect("DeleteStoragePool");
    assert!(!dir.exists(), "the emptied pool directory was removed");
}

#[tokio::test]
async fn uploads_past_the_capacity_are_out_of_range() {
    let daemon = QemuDaemon::start();
    let (_app, mut storage, dir) = app_with_pool(&daemon).await;
    create_volume(&mut storage, "images", "small.img", "raw", 4 * MIB).await;
    let data = random_bytes(5 << 20);

    // Declared: refused before a byte is written.
    let declared = upload(
        &mut storage,
        "images",
        "small.img",
        MIB,
        Some(4 * MIB),
        &data[..(4 << 20)],
        MIB as usize,
    )
    .await
    .expect_err("1 MiB + 4 MiB does not fit in 4 MiB");
    assert_eq!(declared.code(), Code::OutOfRange);
    assert!(
        declared.message().contains("nothing was written"),
        "{declared:?}"
    );
    let file = std::fs::read(dir.join("small.img")).expect("the volume's file");
    assert!(file.iter().all(|b| *b == 0), "nothing was written");

    // Undeclared: the stream is aborted when the data reaches past the end.
    let undeclared = upload(
        &mut storage,
        "images",
        "small.img",
        0,
        None,
        &data,
        MIB as usize,
    )
    .await
    .expect_err("5 MiB do not fit in 4 MiB");
    assert_eq!(undeclared.code(), Code::OutOfRange);
    assert!(
        undeclared.message().contains("capacity of 4194304 bytes"),
        "{undeclared:?}"
    );
    assert_eq!(
        get_volume(&mut storage, "images", "small.img")
            .await
            .capacity_bytes,
        4 * MIB,
        "the volume did not grow"
    );

    // A message over 4 MiB is over the size limit.
    let oversized = upload(
        &mut storage,
        "images",
        "small.img",
        0,
        None,
        &data,
        (4 << 20) + 1,
    )
    .await
    .expect_err("4 MiB + 1 in one message");
    assert_eq!(oversized.code(), Code::ResourceExhausted, "{oversized:?}");

    // Fewer bytes than declared is the client's mistake, said as such.
    let short = upload(
        &mut storage,
        "images",
        "small.img",
        0,
        Some(2 * MIB),
        &data[..(1 << 20)],
        MIB as usize,
    )
    .await
    .expect_err("1 MiB sent of 2 declared");
    assert_eq!(short.code(), Code::InvalidArgument);
    assert!(short.message().contains("`length`"), "{short:?}");
}

#[tokio::test]
async fn a_volume_a_domain_uses_is_neither_deleted_nor_shrunk_unless_forced() {
    let daemon = QemuDaemon::start();
    let (mut app, mut storage, _dir) = app_with_pool(&daemon).await;
    let volume = create_volume(&mut storage, "images", "root.qcow2", "qcow2", 16 * MIB).await;
    let domain = unique_name("with-volume");
    let xml = crate::support::qemu::bios_with_disk_xml(&domain, std::path::Path::new(&volume.path));
    app.domains
        .define_domain(pb::DefineDomainRequest {
            xml,
            ..Default::default()
        })
        .await
        .expect("a domain with the volume as its disk");

    let delete = |force| pb::DeleteVolumeRequest {
        pool: "images".into(),
        volume: "root.qcow2".into(),
        force,
        ..Default::default()
    };
    let refused = storage
        .delete_volume(delete(false))
        .await
        .expect_err("in use");
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(
        refused
            .message()
            .contains(&format!("in use by domain {domain}")),
        "{refused:?}"
    );
    let shrink = storage
        .resize_volume(pb::ResizeVolumeRequest {
            pool: "images".into(),
            volume: "root.qcow2".into(),
            capacity_bytes: 8 * MIB,
            shrink: true,
            ..Default::default()
        })
        .await
        .expect_err("in use");
    assert_eq!(shrink.code(), Code::FailedPrecondition);
    assert!(shrink.message().contains(&domain), "{shrink:?}");

    // The pool's directory holds the volume: it is not removed with the pool.
    let keep = storage
        .delete_storage_pool(pb::DeleteStoragePoolRequest {
            pool: "images".into(),
            remove_directory: true,
            ..Default::default()
        })
        .await
        .expect_err("a volume is left");
    assert_eq!(keep.code(), Code::FailedPrecondition);
    assert!(keep.message().contains("root.qcow2"), "{keep:?}");

    storage.delete_volume(delete(true)).await.expect("forced");
    assert!(!std::path::Path::new(&volume.path).exists());
}
