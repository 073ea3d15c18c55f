//! Listing, reading, creating, starting, stopping, deleting and refreshing pools.

use tonic::Status;

use super::StorageApi;
use crate::{
    grpc::{paging::Paging, pb},
    hypervisor::{
        CreateStoragePool, DeleteStoragePool, GetStoragePool, ListStoragePools, RefreshStoragePool,
        StartStoragePool, StopStoragePool,
    },
    model::{HostPath, InvalidArgument, NewPool, check_storage_name},
};

impl StorageApi {
    pub(super) async fn list_pools(
        &self,
        request: pb::ListStoragePoolsRequest,
    ) -> Result<pb::ListStoragePoolsResponse, Status> {
        let pb::ListStoragePoolsRequest {
            page_size,
            page_token,
        } = request;
        let paging = Paging::parse(page_size, &page_token, String::new())?;
        let pools = self.hypervisor.run(ListStoragePools).await?;
        let mut page: Vec<pb::StoragePool> = pools
            .into_iter()
            .filter(|p| paging.after.as_ref().is_none_or(|after| &p.name > after))
            .take(paging.fetch())
            .map(pb::StoragePool::from)
            .collect();
        let next_page_token = paging.finish(&mut page, |p| p.name.clone());
        Ok(pb::ListStoragePoolsResponse {
            pools: page,
            next_page_token,
        })
    }

    pub(super) async fn get_pool(
        &self,
        request: pb::GetStoragePoolRequest,
    ) -> Result<pb::StoragePool, Status> {
        let pb::GetStoragePoolRequest { pool } = request;
        check_storage_name("pool", &pool)?;
        Ok(self.hypervisor.run(GetStoragePool(pool)).await?.into())
    }

    pub(super) async fn create_pool(
        &self,
        request: pb::CreateStoragePoolRequest,
    ) -> Result<pb::StoragePool, Status> {
        let pb::CreateStoragePoolRequest {
            name,
            r#type,
            target_path,
            autostart,
            request_id: _,
        } = request;
        check_storage_name("name", &name)?;
        if !(r#type.is_empty() || r#type == "dir") {
            return Err(InvalidArgument::new(
                "type",
                format!(
                    "`type` {type:?} is not supported: only \"dir\" pools (a directory under libvirt.storage_roots) can be created",
                    type = r#type
                ),
            )
            .into());
        }
        let target = HostPath::parse("target_path", &target_path, &self.roots)?;
        let pool = NewPool {
            name,
            target,
            autostart,
        };
        Ok(self.hypervisor.run(CreateStoragePool(pool)).await?.into())
    }

    pub(super) async fn start_pool(
        &self,
        request: pb::StartStoragePoolRequest,
    ) -> Result<pb::StoragePool, Status> {
        let pb::StartStoragePoolRequest {
            pool,
            request_id: _,
        } = request;
        check_storage_name("pool", &pool)?;
        Ok(self.hypervisor.run(StartStoragePool(pool)).await?.into())
    }

    pub(super) async fn stop_pool(
        &self,
        request: pb::StopStoragePoolRequest,
    ) -> Result<pb::StoragePool, Status> {
        let pb::StopStoragePoolRequest {
            pool,
            request_id: _,
        } = request;
        check_storage_name("pool", &pool)?;
        Ok(self.hypervisor.run(StopStoragePool(pool)).await?.into())
    }

    pub(super) async fn delete_pool(
        &self,
        request: pb::DeleteStoragePoolRequest,
    ) -> Result<pb::DeleteStoragePoolResponse, Status> {
        let pb::DeleteStoragePoolRequest {
            pool,
            remove_directory,
            request_id: _,
        } = request;
        check_storage_name("pool", &pool)?;
        self.hypervisor
            .run(DeleteStoragePool {
                name: pool,
                remove_directory,
            })
            .await?;
        Ok(pb::DeleteStoragePoolResponse {})
    }

    pub(super) async fn refresh_pool(
        &self,
        request: pb::RefreshStoragePoolRequest,
    ) -> Result<pb::StoragePool, Status> {
        let pb::RefreshStoragePoolRequest { pool } = request;
        check_storage_name("pool", &pool)?;
        Ok(self.hypervisor.run(RefreshStoragePool(pool)).await?.into())
    }
}
