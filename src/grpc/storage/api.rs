//! The service: one line per RPC, dispatching to the handlers.

use std::{path::PathBuf, pin::Pin, sync::Arc};

use futures_util::Stream;
use tonic::{Request, Response, Status, Streaming};

use super::upload::MAX_CHUNK;
use crate::{
    grpc::{
        Requests,
        pb::{self, storage_service_server::StorageService},
        retry_safe::mutation,
    },
    hypervisor::Hypervisor,
};

/// The stream type of `DownloadVolume`.
pub(super) type DownloadStream =
    Pin<Box<dyn Stream<Item = Result<pb::DownloadVolumeResponse, Status>> + Send>>;

/// Serves `StorageService` over the host's hypervisor connection.
#[derive(Debug, Clone)]
pub struct StorageApi {
    pub(super) hypervisor: Arc<Hypervisor>,
    requests: Requests,
    /// Where pools may be created: `libvirt.storage_roots`.
    pub(super) roots: Arc<Vec<PathBuf>>,
}

impl StorageApi {
    /// The largest request the service decodes: an upload's `data` of [`MAX_CHUNK`]
    /// bytes with room for its framing.
    pub const MAX_MESSAGE: usize = MAX_CHUNK + 1024;

    pub fn new(hypervisor: Arc<Hypervisor>, requests: Requests, roots: Vec<PathBuf>) -> Self {
        StorageApi {
            hypervisor,
            requests,
            roots: Arc::new(roots),
        }
    }
}

type Reply<T> = Result<Response<T>, Status>;

#[tonic::async_trait]
impl StorageService for StorageApi {
    type DownloadVolumeStream = DownloadStream;

    async fn list_storage_pools(
        &self,
        request: Request<pb::ListStoragePoolsRequest>,
    ) -> Reply<pb::ListStoragePoolsResponse> {
        self.list_pools(request.into_inner())
            .await
            .map(Response::new)
    }

    async fn get_storage_pool(
        &self,
        request: Request<pb::GetStoragePoolRequest>,
    ) -> Reply<pb::StoragePool> {
        self.get_pool(request.into_inner()).await.map(Response::new)
    }

    async fn create_storage_pool(
        &self,
        request: Request<pb::CreateStoragePoolRequest>,
    ) -> Reply<pb::StoragePool> {
        mutation!(
            self,
            "StorageService",
            request,
            "CreateStoragePool",
            create_pool
        )
    }

    async fn start_storage_pool(
        &self,
        request: Request<pb::StartStoragePoolRequest>,
    ) -> Reply<pb::StoragePool> {
        mutation!(
            self,
            "StorageService",
            request,
            "StartStoragePool",
            start_pool
        )
    }

    async fn stop_storage_pool(
        &self,
        request: Request<pb::StopStoragePoolRequest>,
    ) -> Reply<pb::StoragePool> {
        mutation!(
            self,
            "StorageService",
            request,
            "StopStoragePool",
            stop_pool
        )
    }

    async fn delete_storage_pool(
        &self,
        request: Request<pb::DeleteStoragePoolRequest>,
    ) -> Reply<pb::DeleteStoragePoolResponse> {
        mutation!(
            self,
            "StorageService",
            request,
            "DeleteStoragePool",
            delete_pool
        )
    }

    async fn refresh_storage_pool(
        &self,
        request: Request<pb::RefreshStoragePoolRequest>,
    ) -> Reply<pb::StoragePool> {
        self.refresh_pool(request.into_inner())
            .await
            .map(Response::new)
    }

    async fn list_volumes(
        &self,
        request: Request<pb::ListVolumesRequest>,
    ) -> Reply<pb::ListVolumesResponse> {
        self.volume_page(request.into_inner())
            .await
            .map(Response::new)
    }

    async fn get_volume(&self, request: Request<pb::GetVolumeRequest>) -> Reply<pb::Volume> {
        self.volume(request.into_inner()).await.map(Response::new)
    }

    async fn create_volume(&self, request: Request<pb::CreateVolumeRequest>) -> Reply<pb::Volume> {
        mutation!(self, "StorageService", request, "CreateVolume", add_volume)
    }

    async fn clone_volume(&self, request: Request<pb::CloneVolumeRequest>) -> Reply<pb::Volume> {
        mutation!(self, "StorageService", request, "CloneVolume", copy_volume)
    }

    async fn resize_volume(&self, request: Request<pb::ResizeVolumeRequest>) -> Reply<pb::Volume> {
        mutation!(self, "StorageService", request, "ResizeVolume", resize)
    }

    async fn delete_volume(
        &self,
        request: Request<pb::DeleteVolumeRequest>,
    ) -> Reply<pb::DeleteVolumeResponse> {
        mutation!(
            self,
            "StorageService",
            request,
            "DeleteVolume",
            remove_volume
        )
    }

    async fn upload_volume(
        &self,
        request: Request<Streaming<pb::UploadVolumeRequest>>,
    ) -> Reply<pb::UploadVolumeResponse> {
        self.upload(request.into_inner()).await.map(Response::new)
    }

    async fn download_volume(
        &self,
        request: Request<pb::DownloadVolumeRequest>,
    ) -> Reply<Self::DownloadVolumeStream> {
        self.download(request.into_inner()).await.map(Response::new)
    }
}
