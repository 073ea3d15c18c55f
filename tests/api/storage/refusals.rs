//! What StorageService refuses, and with which code, on the test driver: paths outside
//! the storage roots or malformed, unsupported pool types and formats, bad names,
//! unknown pools and volumes, uploads that cannot fit, and what the driver cannot do.

use tonic::Code;
use virtplane::grpc::pb::{self, upload_volume_request::Request};

use crate::support::{
    TEST_DRIVER, TestApp, TestOptions,
    storage::{Storage, client, create_volume, download, upload},
};

const POOL: &str = "default-pool";

async fn app() -> (TestApp, Storage) {
    let app = TestApp::spawn(TestOptions::new(TEST_DRIVER).storage_root("/srv/vm")).await;
    let storage = client(&app);
    (app, storage)
}

fn pool_at(target_path: &str) -> pb::CreateStoragePoolRequest {
    pb::CreateStoragePoolRequest {
        name: "images".into(),
        target_path: target_path.into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_pool_outside_the_storage_roots_is_denied_and_a_malformed_path_invalid() {
    let (_app, mut storage) = app().await;

    let outside = storage
        .create_storage_pool(pool_at("/etc/images"))
        .await
        .expect_err("outside the roots");
    assert_eq!(outside.code(), Code::PermissionDenied);
    assert!(
        outside.message().contains("`target_path`") && outside.message().contains("/srv/vm"),
        "the refusal names the field and the roots: {outside:?}"
    );

    for malformed in ["images", "/srv/vm/../etc", "/srv/vm/./images", ""] {
        let refused = storage
            .create_storage_pool(pool_at(malformed))
            .await
            .expect_err(malformed);
        assert_eq!(refused.code(), Code::InvalidArgument, "{malformed}");
        assert!(refused.message().contains("`target_path`"), "{refused:?}");
    }
}

#[tokio::test]
async fn only_directory_pools_with_free_file_names_are_created() {
    let (_app, mut storage) = app().await;
    let logical = storage
        .create_storage_pool(pb::CreateStoragePoolRequest {
            r#type: "logical".into(),
            ..pool_at("/srv/vm/images")
        })
        .await
        .expect_err("not a dir pool");
    assert_eq!(logical.code(), Code::InvalidArgument);
    assert!(logical.message().contains("\"dir\""), "{logical:?}");

    for bad in ["a/b", "..", ""] {
        let refused = storage
            .create_storage_pool(pb::CreateStoragePoolRequest {
                name: bad.into(),
                ..pool_at("/srv/vm/images")
            })
            .await
            .expect_err(bad);
        assert_eq!(refused.code(), Code::InvalidArgument, "{bad}");
        assert!(refused.message().contains("`name`"), "{refused:?}");
    }

    let taken = storage
        .create_storage_pool(pb::CreateStoragePoolRequest {
            name: POOL.into(),
            ..pool_at("/srv/vm/images")
        })
        .await
        .expect_err("the test driver's pool has that name");
    assert_eq!(taken.code(), Code::AlreadyExists);
}

#[tokio::test]
async fn unknown_pools_and_volumes_are_not_found_naming_them() {
    let (_app, mut storage) = app().await;
    let check = |status: tonic::Status, what: &str| {
        assert_eq!(status.code(), Code::NotFound, "{what}: {status:?}");
        assert!(status.message().contains("\"nope\""), "{what}: {status:?}");
    };
    check(
        storage
            .get_storage_pool(pb::GetStoragePoolRequest {
                pool: "nope".into(),
            })
            .await
            .expect_err("pool"),
        "GetStoragePool",
    );
    check(
        storage
            .list_volumes(pb::ListVolumesRequest {
                pool: "nope".into(),
                ..Default::default()
            })
            .await
            .expect_err("pool"),
        "ListVolumes",
    );
    check(
        storage
            .get_volume(pb::GetVolumeRequest {
                pool: POOL.into(),
                volume: "nope".into(),
            })
            .await
            .expect_err("volume"),
        "GetVolume",
    );
    check(
        storage
            .delete_volume(pb::DeleteVolumeRequest {
                pool: POOL.into(),
                volume: "nope".into(),
                ..Default::default()
            })
            .await
            .expect_err("volume"),
        "DeleteVolume",
    );
    check(
        storage
            .create_volume(pb::CreateVolumeRequest {
                pool: POOL.into(),
                name: "overlay".into(),
                backing_volume: "nope".into(),
                ..Default::default()
            })
            .await
            .expect_err("backing volume"),
        "CreateVolume over a missing backing volume",
    );
    check(
        upload(&mut storage, POOL, "nope", 0, None, b"x", 1)
            .await
            .expect_err("volume"),
        "UploadVolume",
    );
    check(
        download(&mut storage, POOL, "nope", 0, 0)
            .await
            .expect_err("volume"),
        "DownloadVolume",
    );
}

#[tokio::test]
async fn volume_requests_are_checked_field_by_field() {
    let (_app, mut storage) = app().await;
    let create = |format: &str, capacity_bytes, backing_volume: &str| pb::CreateVolumeRequest {
        pool: POOL.into(),
        name: "v".into(),
        format: format.into(),
        capacity_bytes,
        backing_volume: backing_volume.into(),
        ..Default::default()
    };
    for (request, field) in [
        (create("vmdk", 1 << 20, ""), "`format`"),
        (create("raw", 1 << 20, "base"), "`format`"),
        (create("raw", 0, ""), "`capacity_bytes`"),
        (
            pb::CreateVolumeRequest {
                name: "a/b".into(),
                ..create("raw", 1 << 20, "")
            },
            "`name`",
        ),
    ] {
        let refused = storage.create_volume(request).await.expect_err(field);
        assert_eq!(refused.code(), Code::InvalidArgument, "{field}");
        assert!(refused.message().contains(field), "{field}: {refused:?}");
    }

    create_volume(&mut storage, POOL, "small.img", "raw", 1 << 20).await;
    let shrink = storage
        .resize_volume(pb::ResizeVolumeRequest {
            pool: POOL.into(),
            volume: "small.img".into(),
            capacity_bytes: 1 << 10,
            ..Default::default()
        })
        .await
        .expect_err("a shrink needs `shrink`");
    assert_eq!(shrink.code(), Code::FailedPrecondition);
    assert!(shrink.message().contains("`shrink`"), "{shrink:?}");
}

#[tokio::test]
async fn an_upload_declared_past_the_capacity_is_out_of_range_before_anything_is_written() {
    let (_app, mut storage) = app().await;
    create_volume(&mut storage, POOL, "one-mib.img", "raw", 1 << 20).await;
    let refused = upload(
        &mut storage,
        POOL,
        "one-mib.img",
        4096,
        Some(1 << 20),
        b"",
        1,
    )
    .await
    .expect_err("4 KiB past the end");
    assert_eq!(refused.code(), Code::OutOfRange);
    assert!(
        refused.message().contains("1048576 bytes")
            && refused.message().contains("nothing was written"),
        "{refused:?}"
    );
}

#[tokio::test]
async fn an_upload_must_start_with_its_header() {
    let (_app, mut storage) = app().await;
    let refused = storage
        .upload_volume(tokio_stream::iter([pb::UploadVolumeRequest {
            request: Some(Request::Data(b"data first".to_vec().into())),
        }]))
        .await
        .expect_err("no header");
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(refused.message().contains("`header`"), "{refused:?}");
}

#[tokio::test]
async fn what_the_test_driver_cannot_do_is_unimplemented() {
    let (_app, mut storage) = app().await;
    create_volume(&mut storage, POOL, "v.img", "raw", 1 << 20).await;
    let upload = upload(&mut storage, POOL, "v.img", 0, None, b"data", 4)
        .await
        .expect_err("no uploads on the test driver");
    assert_eq!(upload.code(), Code::Unimplemented, "{upload:?}");
    let download = download(&mut storage, POOL, "v.img", 0, 0)
        .await
        .expect_err("no downloads on the test driver");
    assert_eq!(download.code(), Code::Unimplemented, "{download:?}");
    let resize = storage
        .resize_volume(pb::ResizeVolumeRequest {
            pool: POOL.into(),
            volume: "v.img".into(),
            capacity_bytes: 2 << 20,
            ..Default::default()
        })
        .await
        .expect_err("no resizes on the test driver");
    assert_eq!(resize.code(), Code::Unimplemented, "{resize:?}");
}
