//! Pools on the test driver: listed (paged), read, created under a storage root,
//! stopped, started, refreshed and deleted.

use std::path::PathBuf;

use tonic::Code;
use virtplane::grpc::pb::{self, StoragePoolState};

use crate::support::{
    TEST_DRIVER, TestApp, TestOptions,
    storage::{Storage, client},
    unique_name,
};

/// The storage root these tests allow; the test driver keeps pools in memory, so it
/// need not exist.
fn root() -> PathBuf {
    PathBuf::from("/srv/virtplane-test-pools")
}

async fn app() -> (TestApp, Storage) {
    let app = TestApp::spawn(TestOptions::new(TEST_DRIVER).storage_root(root())).await;
    let storage = client(&app);
    (app, storage)
}

async fn list_all(storage: &mut Storage) -> Vec<pb::StoragePool> {
    let (mut all, mut page_token) = (Vec::new(), String::new());
    loop {
        let page = storage
            .list_storage_pools(pb::ListStoragePoolsRequest {
                page_size: 1,
                page_token,
            })
            .await
            .expect("ListStoragePools")
            .into_inner();
        all.extend(page.pools);
        if page.next_page_token.is_empty() {
            return all;
        }
        page_token = page.next_page_token;
    }
}

async fn get(storage: &mut Storage, pool: &str) -> Result<pb::StoragePool, tonic::Status> {
    storage
        .get_storage_pool(pb::GetStoragePoolRequest { pool: pool.into() })
        .await
        .map(tonic::Response::into_inner)
}

#[tokio::test]
async fn the_test_drivers_pool_is_listed_with_its_space_and_state() {
    let (_app, mut storage) = app().await;
    let pools = list_all(&mut storage).await;
    let default = pools
        .iter()
        .find(|p| p.name == "default-pool")
        .expect("the test driver's pool is listed");
    assert_eq!(default.r#type, "dir");
    assert_eq!(default.state(), StoragePoolState::Running);
    assert!(default.persistent);
    assert_eq!(default.capacity_bytes, 100 << 30);
    assert_eq!(
        default.allocation_bytes + default.available_bytes,
        default.capacity_bytes
    );
    assert_eq!(default.target_path, "/default-pool");
    assert_eq!(
        get(&mut storage, "default-pool").await.ok().as_ref(),
        Some(default)
    );
}

#[tokio::test]
async fn a_directory_pool_is_created_stopped_started_refreshed_and_deleted() {
    let (_app, mut storage) = app().await;
    let name = unique_name("pool");
    let target = root().join(&name).display().to_string();

    let created = storage
        .create_storage_pool(pb::CreateStoragePoolRequest {
            name: name.clone(),
            target_path: target.clone(),
            autostart: true,
            ..Default::default()
        })
        .await
        .expect("CreateStoragePool")
        .into_inner();
    assert_eq!(created.name, name);
    assert_eq!(created.r#type, "dir");
    assert_eq!(created.state(), StoragePoolState::Running);
    assert!(created.persistent && created.autostart);
    assert_eq!(created.target_path, target);
    assert!(!created.uuid.is_empty());
    let names: Vec<String> = list_all(&mut storage)
        .await
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert!(names.contains(&name) && names.contains(&"default-pool".to_owned()));

    let stopped = storage
        .stop_storage_pool(pb::StopStoragePoolRequest {
            pool: name.clone(),
            ..Default::default()
        })
        .await
        .expect("StopStoragePool")
        .into_inner();
    assert_eq!(stopped.state(), StoragePoolState::Inactive);
    let refresh_stopped = storage
        .refresh_storage_pool(pb::RefreshStoragePoolRequest { pool: name.clone() })
        .await
        .expect_err("a stopped pool cannot be rescanned");
    assert_eq!(refresh_stopped.code(), Code::FailedPrecondition);
    assert!(
        refresh_stopped.message().contains("not running"),
        "{refresh_stopped:?}"
    );

    let started = storage
        .start_storage_pool(pb::StartStoragePoolRequest {
            pool: name.clone(),
            ..Default::default()
        })
        .await
        .expect("StartStoragePool")
        .into_inner();
    assert_eq!(started.state(), StoragePoolState::Running);
    let again = storage
        .start_storage_pool(pb::StartStoragePoolRequest {
            pool: name.clone(),
            ..Default::default()
        })
        .await
        .expect_err("it runs already");
    assert_eq!(again.code(), Code::FailedPrecondition);
    assert!(again.message().contains("running already"), "{again:?}");

    let refreshed = storage
        .refresh_storage_pool(pb::RefreshStoragePoolRequest { pool: name.clone() })
        .await
        .expect("RefreshStoragePool")
        .into_inner();
    assert_eq!(refreshed.state(), StoragePoolState::Running);

    storage
        .delete_storage_pool(pb::DeleteStoragePoolRequest {
            pool: name.clone(),
            remove_directory: true,
            ..Default::default()
        })
        .await
        .expect("DeleteStoragePool");
    let gone = get(&mut storage, &name).await.expect_err("deleted");
    assert_eq!(gone.code(), Code::NotFound);
}

#[tokio::test]
async fn a_pool_is_created_once_per_request_id() {
    let (_app, mut storage) = app().await;
    let name = unique_name("pool");
    let request = pb::CreateStoragePoolRequest {
        name: name.clone(),
        target_path: root().join(&name).display().to_string(),
        request_id: unique_name("create-pool"),
        ..Default::default()
    };
    let first = storage
        .create_storage_pool(request.clone())
        .await
        .expect("first")
        .into_inner();
    let retried = storage
        .create_storage_pool(request)
        .await
        .expect("a retry gets the first reply, not ALREADY_EXISTS")
        .into_inner();
    assert_eq!(first, retried);
}
