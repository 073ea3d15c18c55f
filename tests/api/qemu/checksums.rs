//! A volume transfer's checksum, chosen by the client: SHA-256 unless CRC32C is asked
//! for, over gRPC and through `virtplanectl`; an unknown choice is refused naming
//! the field.

use tonic::Code;
use virtplane::grpc::pb::{self, TransferChecksum};

use super::storage::app_with_pool;
use crate::support::{
    ctl,
    qemu::QemuDaemon,
    storage::{create_volume, download_with, random_bytes, sha256_hex, upload_with},
};

const MIB: u64 = 1 << 20;

fn header(volume: &str, checksum: TransferChecksum) -> pb::UploadVolumeHeader {
    pb::UploadVolumeHeader {
        pool: "images".into(),
        volume: volume.into(),
        checksum: checksum.into(),
        ..pb::UploadVolumeHeader::default()
    }
}

fn crc32c_hex(data: &[u8]) -> String {
    format!("{:08x}", crc32c::crc32c(data))
}

#[tokio::test]
async fn a_client_choosing_crc32c_gets_the_crc_of_the_bytes_moved_instead_of_sha256() {
    let daemon = QemuDaemon::start();
    let (_app, mut storage, _) = app_with_pool(&daemon).await;
    create_volume(&mut storage, "images", "crc.img", "raw", 8 * MIB).await;
    let data = random_bytes(3 << 20);

    // Upload: the CRC32C of what was written, and no SHA-256.
    let uploaded = upload_with(
        &mut storage,
        header("crc.img", TransferChecksum::Crc32c),
        &data,
        MIB as usize,
    )
    .await
    .expect("UploadVolume");
    assert_eq!(uploaded.bytes_written, data.len() as u64);
    assert_eq!(uploaded.crc32c, crc32c_hex(&data));
    assert_eq!(uploaded.sha256, "");

    // Download of a range: the CRC32C of exactly the bytes sent.
    let (bytes, end) = download_with(
        &mut storage,
        pb::DownloadVolumeRequest {
            pool: "images".into(),
            volume: "crc.img".into(),
            offset: MIB,
            length: MIB,
            checksum: TransferChecksum::Crc32c.into(),
        },
    )
    .await
    .expect("DownloadVolume");
    assert_eq!(bytes, data[(1 << 20)..(2 << 20)]);
    assert_eq!(end.crc32c, crc32c_hex(&bytes));
    assert_eq!(end.sha256, "");

    // Asked for explicitly, SHA-256 is what an unset field gives.
    let sha = upload_with(
        &mut storage,
        header("crc.img", TransferChecksum::Sha256),
        &data,
        MIB as usize,
    )
    .await
    .expect("UploadVolume");
    assert_eq!(sha.sha256, sha256_hex(&data));
    assert_eq!(sha.crc32c, "");
}

#[tokio::test]
async fn an_unknown_checksum_is_refused_naming_the_field_before_anything_moves() {
    let daemon = QemuDaemon::start();
    let (_app, mut storage, _) = app_with_pool(&daemon).await;
    create_volume(&mut storage, "images", "odd.img", "raw", MIB).await;
    let mut odd = header("odd.img", TransferChecksum::Crc32c);
    odd.checksum = 9;

    let upload = upload_with(&mut storage, odd, &[1, 2, 3], 3)
        .await
        .expect_err("checksum 9");
    let download = download_with(
        &mut storage,
        pb::DownloadVolumeRequest {
            pool: "images".into(),
            volume: "odd.img".into(),
            checksum: 9,
            ..pb::DownloadVolumeRequest::default()
        },
    )
    .await
    .expect_err("checksum 9");

    for status in [upload, download] {
        assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
        assert!(status.message().contains("`checksum` 9"), "{status:?}");
    }
}

#[tokio::test]
async fn virtplanectl_uploads_and_downloads_with_the_checksum_asked_for() {
    let daemon = QemuDaemon::start();
    let (app, mut storage, _) = app_with_pool(&daemon).await;
    create_volume(&mut storage, "images", "cli.img", "raw", 2 * MIB).await;
    let files = tempfile::tempdir().expect("scratch");
    let (source, sink) = (files.path().join("in.img"), files.path().join("out.img"));
    let data = random_bytes(2 << 20);
    std::fs::write(&source, &data).expect("source file");
    let (source, sink) = (source.display().to_string(), sink.display().to_string());

    let up = ctl(
        app.addr,
        &[
            "storage",
            "volumes",
            "upload",
            "images",
            "cli.img",
            &source,
            "--checksum",
            "crc32c",
        ],
    )
    .await;
    let down = ctl(
        app.addr,
        &["storage", "volumes", "download", "images", "cli.img", &sink],
    )
    .await;

    assert_eq!(up.code, Some(0), "{up:?}");
    assert!(
        up.stdout.contains(&format!(
            "2097152 bytes written, crc32c {}",
            crc32c_hex(&data)
        )),
        "{up:?}"
    );
    assert_eq!(down.code, Some(0), "{down:?}");
    assert!(
        down.stdout
            .contains(&format!("2097152 bytes read, sha256 {}", sha256_hex(&data))),
        "{down:?}"
    );
    assert_eq!(std::fs::read(&sink).expect("downloaded"), data);
}
