//! Volumes on the test driver's `default-pool`: created raw and as a qcow2 overlay,
//! listed (paged), read, cloned and deleted; refused while a domain uses one.

use tonic::Code;
use virtplane::grpc::pb;

use crate::support::{
    TEST_DRIVER, TestApp, TestOptions,
    storage::{Storage, client, create_volume, get_volume},
    unique_name,
};

const POOL: &str = "default-pool";

async fn list_all(storage: &mut Storage, pool: &str) -> Vec<pb::Volume> {
    let (mut all, mut page_token) = (Vec::new(), String::new());
    loop {
        let page = storage
            .list_volumes(pb::ListVolumesRequest {
                pool: pool.into(),
                page_size: 2,
                page_token,
            })
            .await
            .expect("ListVolumes")
            .into_inner();
        assert!(page.volumes.len() <= 2);
        all.extend(page.volumes);
        if page.next_page_token.is_empty() {
            return all;
        }
        page_token = page.next_page_token;
    }
}

#[tokio::test]
async fn volumes_are_created_overlaid_listed_cloned_and_deleted() {
    let app = TestApp::spawn(TestOptions::new(TEST_DRIVER)).await;
    let mut storage = client(&app);

    let base = create_volume(&mut storage, POOL, "base.img", "", 64 << 20).await;
    assert_eq!(base.pool, POOL);
    assert_eq!(base.name, "base.img");
    assert_eq!(base.path, "/default-pool/base.img");
    assert_eq!(base.r#type, "file");
    assert_eq!(base.format, "raw");
    assert_eq!(base.capacity_bytes, 64 << 20);
    assert_eq!(base.backing_store, None);

    // Over a backing volume: qcow2 by default, the backing volume's capacity.
    let overlay = storage
        .create_volume(pb::CreateVolumeRequest {
            pool: POOL.into(),
            name: "web.qcow2".into(),
            backing_volume: "base.img".into(),
            ..Default::default()
        })
        .await
        .expect("an overlay")
        .into_inner();
    assert_eq!(overlay.format, "qcow2");
    assert_eq!(overlay.capacity_bytes, 64 << 20);
    assert_eq!(
        overlay.backing_store,
        Some(pb::BackingStore {
            path: base.path.clone(),
            format: "raw".into()
        })
    );

    let copy = storage
        .clone_volume(pb::CloneVolumeRequest {
            pool: POOL.into(),
            volume: "web.qcow2".into(),
            name: "web-copy.qcow2".into(),
            ..Default::default()
        })
        .await
        .expect("CloneVolume")
        .into_inner();
    assert_eq!(copy.format, "qcow2");
    assert_eq!(copy.capacity_bytes, 64 << 20);
    assert_eq!(get_volume(&mut storage, POOL, "web-copy.qcow2").await, copy);

    let names: Vec<String> = list_all(&mut storage, POOL)
        .await
        .into_iter()
        .map(|v| v.name)
        .collect();
    assert_eq!(names, ["base.img", "web-copy.qcow2", "web.qcow2"]);

    for name in ["web-copy.qcow2", "web.qcow2"] {
        storage
            .delete_volume(pb::DeleteVolumeRequest {
                pool: POOL.into(),
                volume: name.into(),
                ..Default::default()
            })
            .await
            .expect("DeleteVolume");
    }
    let names: Vec<String> = list_all(&mut storage, POOL)
        .await
        .into_iter()
        .map(|v| v.name)
        .collect();
    assert_eq!(names, ["base.img"]);
}

#[tokio::test]
async fn a_volume_a_domain_uses_is_deleted_only_with_force_and_the_refusal_names_the_domain() {
    let mut app = TestApp::spawn(TestOptions::new(TEST_DRIVER)).await;
    let mut storage = client(&app);
    let volume = create_volume(&mut storage, POOL, "disk.img", "raw", 1 << 20).await;
    let domain = unique_name("uses-disk");
    app.domains
        .define_domain(pb::DefineDomainRequest {
            xml: format!(
                "<domain type='test'><name>{domain}</name><memory unit='KiB'>131072</memory>\
                 <vcpu>1</vcpu><os><type arch='x86_64'>hvm</type></os><devices>\
                 <disk type='file' device='disk'><source file='{}'/>\
                 <target dev='vda' bus='virtio'/></disk></devices></domain>",
                volume.path
            ),
            ..Default::default()
        })
        .await
        .expect("a domain with the volume as its disk");
    let delete = |force| pb::DeleteVolumeRequest {
        pool: POOL.into(),
        volume: "disk.img".into(),
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
    assert!(refused.message().contains("force"), "{refused:?}");
    get_volume(&mut storage, POOL, "disk.img").await;

    storage
        .delete_volume(delete(true))
        .await
        .expect("forced delete");
    let gone = storage
        .get_volume(pb::GetVolumeRequest {
            pool: POOL.into(),
            volume: "disk.img".into(),
        })
        .await
        .expect_err("deleted");
    assert_eq!(gone.code(), Code::NotFound);
}

#[tokio::test]
async fn a_volume_is_created_once_per_request_id() {
    let app = TestApp::spawn(TestOptions::new(TEST_DRIVER)).await;
    let mut storage = client(&app);
    let request = pb::CreateVolumeRequest {
        pool: POOL.into(),
        name: "once.img".into(),
        capacity_bytes: 1 << 20,
        request_id: unique_name("create-volume"),
        ..Default::default()
    };
    let first = storage
        .create_volume(request.clone())
        .await
        .expect("first")
        .into_inner();
    let retried = storage
        .create_volume(request.clone())
        .await
        .expect("a retry gets the first reply")
        .into_inner();
    assert_eq!(first, retried);
    let taken = storage
        .create_volume(pb::CreateVolumeRequest {
            request_id: String::new(),
            ..request
        })
        .await
        .expect_err("the name is taken");
    assert_eq!(taken.code(), Code::AlreadyExists);
    assert!(taken.message().contains("once.img"), "{taken:?}");
}
