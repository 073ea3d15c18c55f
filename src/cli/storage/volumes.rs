//! `storage volumes`: list, get, create, clone, resize, delete, upload, download.

use clap::Subcommand;

use super::transfer;
use crate::{
    cli::{
        connect::Ctx,
        error::CliError,
        output::{Table, bytes},
        paging::all_pages,
    },
    grpc::pb,
};

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Lists a pool's volumes.
    List { pool: String },
    /// Deletes a volume.
    Delete {
        pool: String,
        volume: String,
        /// Even when a domain uses it.
        #[arg(long)]
        force: bool,
        #[arg(long)]
        request_id: Option<String>,
    },
    /// Writes a file ("-": stdin) into a volume.
    Upload(transfer::UploadArgs),
    /// Reads a volume into a file ("-": stdout).
    Download(transfer::DownloadArgs),
    #[command(flatten)]
    Change(Change),
}

/// The calls that answer the volume.
#[derive(Debug, Subcommand)]
pub(crate) enum Change {
    /// Shows one volume.
    Get { pool: String, volume: String },
    /// Creates a volume.
    Create {
        pool: String,
        name: String,
        /// Its size in bytes.
        #[arg(long)]
        capacity_bytes: u64,
        /// raw or qcow2.
        #[arg(long, default_value = "")]
        format: String,
        /// A volume of the same pool to back a qcow2 overlay.
        #[arg(long, default_value = "")]
        backing_volume: String,
        #[arg(long)]
        preallocate: bool,
        #[arg(long)]
        request_id: Option<String>,
    },
    /// Copies a volume.
    Clone {
        pool: String,
        volume: String,
        /// The copy's name.
        name: String,
        /// Another pool for the copy.
        #[arg(long, default_value = "")]
        target_pool: String,
        #[arg(long)]
        request_id: Option<String>,
    },
    /// Changes a volume's size.
    Resize {
        pool: String,
        volume: String,
        #[arg(long)]
        capacity_bytes: u64,
        /// Allow a smaller size.
        #[arg(long)]
        shrink: bool,
        #[arg(long)]
        force: bool,
        #[arg(long)]
        request_id: Option<String>,
    },
}

fn volume_table<'a>(volumes: impl IntoIterator<Item = &'a pb::Volume>) -> Table {
    let mut table = Table::new(&[
        "POOL",
        "NAME",
        "FORMAT",
        "CAPACITY",
        "ALLOCATION",
        "BACKING",
        "PATH",
    ]);
    for volume in volumes {
        table.row(vec![
            volume.pool.clone(),
            volume.name.clone(),
            volume.format.clone(),
            bytes(volume.capacity_bytes),
            bytes(volume.allocation_bytes),
            volume
                .backing_store
                .as_ref()
                .map_or_else(String::new, |b| b.path.clone()),
            volume.path.clone(),
        ]);
    }
    table
}

async fn list(ctx: &Ctx, pool: String) -> Result<(), CliError> {
    let client = ctx.storage();
    let all = all_pages(|page_token| {
        let mut client = client.clone();
        let request = pb::ListVolumesRequest {
            pool: pool.clone(),
            page_token,
            ..Default::default()
        };
        async move { client.list_volumes(request).await }
    })
    .await?;
    ctx.out.table(&all, |all| volume_table(&all.volumes))
}

impl Command {
    pub(crate) async fn run(self, ctx: &Ctx) -> Result<(), CliError> {
        match self {
            Command::List { pool } => list(ctx, pool).await,
            Command::Delete {
                pool,
                volume,
                force,
                request_id,
            } => {
                let reply = ctx
                    .storage()
                    .delete_volume(pb::DeleteVolumeRequest {
                        pool: pool.clone(),
                        volume: volume.clone(),
                        force,
                        request_id: request_id.unwrap_or_default(),
                    })
                    .await?
                    .into_inner();
                ctx.out
                    .done(&reply, &format!("volume {volume} of {pool} deleted"))
            }
            Command::Upload(args) => transfer::upload(ctx, args).await,
            Command::Download(args) => transfer::download(ctx, args).await,
            Command::Change(change) => {
                let volume = change.call(ctx).await?;
                ctx.out.table(&volume, |v| volume_table([v]))
            }
        }
    }
}

impl Change {
    async fn call(self, ctx: &Ctx) -> Result<pb::Volume, CliError> {
        let mut client = ctx.storage();
        let reply = match self {
            Change::Get { pool, volume } => {
                client
                    .get_volume(pb::GetVolumeRequest { pool, volume })
                    .await?
            }
            Change::Create {
                pool,
                name,
                capacity_bytes,
                format,
                backing_volume,
                preallocate,
                request_id,
            } => {
                client
                    .create_volume(pb::CreateVolumeRequest {
                        pool,
                        name,
                        format,
                        capacity_bytes,
                        backing_volume,
                        preallocate,
                        request_id: request_id.unwrap_or_default(),
                    })
                    .await?
            }
            Change::Clone {
                pool,
                volume,
                name,
                target_pool,
                request_id,
            } => {
                client
                    .clone_volume(pb::CloneVolumeRequest {
                        pool,
                        volume,
                        name,
                        target_pool,
                        request_id: request_id.unwrap_or_default(),
                    })
                    .await?
            }
            Change::Resize {
                pool,
                volume,
                capacity_bytes,
                shrink,
                force,
                request_id,
            } => {
                client
                    .resize_volume(pb::ResizeVolumeRequest {
                        pool,
                        volume,
                        capacity_bytes,
                        shrink,
                        force,
                        request_id: request_id.unwrap_or_default(),
                    })
                    .await?
            }
        };
        Ok(reply.into_inner())
    }
}
