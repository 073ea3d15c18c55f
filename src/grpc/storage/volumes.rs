//! Listing, reading, creating, cloning, resizing and deleting volumes.

use tonic::Status;

use super::StorageApi;
use crate::{
    grpc::{paging::Paging, pb},
    hypervisor::{CloneVolume, CreateVolume, DeleteVolume, GetVolume, ListVolumes, ResizeVolume},
    model::{InvalidArgument, NewVolume, VolumeFormat, VolumeRef, check_storage_name},
};

impl StorageApi {
    pub(super) async fn volume_page(
        &self,
        request: pb::ListVolumesRequest,
    ) -> Result<pb::ListVolumesResponse, Status> {
        let pb::ListVolumesRequest {
            pool,
            page_size,
            page_token,
        } = request;
        check_storage_name("pool", &pool)?;
        let paging = Paging::parse(page_size, &page_token, pool.clone())?;
        let volumes = self
            .hypervisor
            .run(ListVolumes {
                pool,
                after: paging.after.clone(),
                limit: paging.fetch(),
            })
            .await?;
        let mut page: Vec<pb::Volume> = volumes.into_iter().map(pb::Volume::from).collect();
        let next_page_token = paging.finish(&mut page, |v| v.name.clone());
        Ok(pb::ListVolumesResponse {
            volumes: page,
            next_page_token,
        })
    }

    pub(super) async fn volume(&self, request: pb::GetVolumeRequest) -> Result<pb::Volume, Status> {
        let pb::GetVolumeRequest { pool, volume } = request;
        let volume = VolumeRef::parse(pool, volume)?;
        Ok(self.hypervisor.run(GetVolume(volume)).await?.into())
    }

    pub(super) async fn add_volume(
        &self,
        request: pb::CreateVolumeRequest,
    ) -> Result<pb::Volume, Status> {
        let pb::CreateVolumeRequest {
            pool,
            name,
            format,
            capacity_bytes,
            backing_volume,
            preallocate,
            request_id: _,
        } = request;
        check_storage_name("pool", &pool)?;
        check_storage_name("name", &name)?;
        let backing_volume = if backing_volume.is_empty() {
            None
        } else {
            check_storage_name("backing_volume", &backing_volume)?;
            Some(backing_volume)
        };
        let format = VolumeFormat::parse(&format, backing_volume.is_some())?;
        let capacity_bytes = match (capacity_bytes, &backing_volume) {
            (0, Some(_)) => None,
            (0, None) => {
                return Err(InvalidArgument::new(
                    "capacity_bytes",
                    "`capacity_bytes` is required (more than 0) without a `backing_volume`",
                )
                .into());
            }
            (bytes, _) => Some(bytes),
        };
        let volume = NewVolume {
            pool,
            name,
            format,
            capacity_bytes,
            backing_volume,
            preallocate,
        };
        Ok(self.hypervisor.run(CreateVolume(volume)).await?.into())
    }

    pub(super) async fn copy_volume(
        &self,
        request: pb::CloneVolumeRequest,
    ) -> Result<pb::Volume, Status> {
        let pb::CloneVolumeRequest {
            pool,
            volume,
            name,
            target_pool,
            request_id: _,
        } = request;
        let source = VolumeRef::parse(pool, volume)?;
        check_storage_name("name", &name)?;
        let target_pool = if target_pool.is_empty() {
            None
        } else {
            check_storage_name("target_pool", &target_pool)?;
            Some(target_pool)
        };
        let clone = CloneVolume {
            source,
            name,
            target_pool,
        };
        Ok(self.hypervisor.run(clone).await?.into())
    }

    pub(super) async fn resize(
        &self,
        request: pb::ResizeVolumeRequest,
    ) -> Result<pb::Volume, Status> {
        let pb::ResizeVolumeRequest {
            pool,
            volume,
            capacity_bytes,
            shrink,
            force,
            request_id: _,
        } = request;
        let volume = VolumeRef::parse(pool, volume)?;
        if capacity_bytes == 0 {
            return Err(InvalidArgument::new(
                "capacity_bytes",
                "`capacity_bytes` is required: the new capacity, more than 0",
            )
            .into());
        }
        let resize = ResizeVolume {
            volume,
            capacity_bytes,
            shrink,
            force,
        };
        Ok(self.hypervisor.run(resize).await?.into())
    }

    pub(super) async fn remove_volume(
        &self,
        request: pb::DeleteVolumeRequest,
    ) -> Result<pb::DeleteVolumeResponse, Status> {
        let pb::DeleteVolumeRequest {
            pool,
            volume,
            force,
            request_id: _,
        } = request;
        let volume = VolumeRef::parse(pool, volume)?;
        self.hypervisor.run(DeleteVolume { volume, force }).await?;
        Ok(pb::DeleteVolumeResponse {})
    }
}
