//! `storage pools`: list, get, create, start, stop, refresh, delete.

use clap::Subcommand;

use crate::{
    cli::{
        connect::Ctx,
        error::CliError,
        output::{Table, bool_word, bytes, enum_word},
        paging::all_pages,
    },
    grpc::pb,
};

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Lists the storage pools.
    List,
    /// Deletes a pool.
    Delete {
        pool: String,
        /// Also remove its (empty) directory.
        #[arg(long)]
        remove_directory: bool,
        #[arg(long)]
        request_id: Option<String>,
    },
    #[command(flatten)]
    Change(Change),
}

/// The calls that answer the pool.
#[derive(Debug, Subcommand)]
pub(crate) enum Change {
    /// Shows one pool.
    Get { pool: String },
    /// Creates a directory pool under the service's storage roots.
    Create {
        name: String,
        /// The directory.
        #[arg(long)]
        target_path: String,
        /// The pool type ("dir").
        #[arg(long, default_value = "dir")]
        r#type: String,
        #[arg(long)]
        autostart: bool,
        #[arg(long)]
        request_id: Option<String>,
    },
    /// Starts a pool.
    Start {
        pool: String,
        #[arg(long)]
        request_id: Option<String>,
    },
    /// Stops a pool.
    Stop {
        pool: String,
        #[arg(long)]
        request_id: Option<String>,
    },
    /// Re-reads a pool's volumes from disk.
    Refresh { pool: String },
}

fn pool_table<'a>(pools: impl IntoIterator<Item = &'a pb::StoragePool>) -> Table {
    let mut table = Table::new(&[
        "NAME",
        "STATE",
        "TYPE",
        "CAPACITY",
        "ALLOCATION",
        "AVAILABLE",
        "AUTOSTART",
        "PATH",
    ]);
    for pool in pools {
        let state = pb::StoragePoolState::try_from(pool.state).ok();
        table.row(vec![
            pool.name.clone(),
            enum_word(
                state.as_ref().map(pb::StoragePoolState::as_str_name),
                "STORAGE_POOL_STATE_",
                pool.state,
            ),
            pool.r#type.clone(),
            bytes(pool.capacity_bytes),
            bytes(pool.allocation_bytes),
            bytes(pool.available_bytes),
            bool_word(pool.autostart),
            pool.target_path.clone(),
        ]);
    }
    table
}

async fn list(ctx: &Ctx) -> Result<(), CliError> {
    let client = ctx.storage();
    let all = all_pages(|page_token| {
        let mut client = client.clone();
        let request = pb::ListStoragePoolsRequest {
            page_token,
            ..Default::default()
        };
        async move { client.list_storage_pools(request).await }
    })
    .await?;
    ctx.out.table(&all, |all| pool_table(&all.pools))
}

impl Command {
    pub(crate) async fn run(self, ctx: &Ctx) -> Result<(), CliError> {
        match self {
            Command::List => list(ctx).await,
            Command::Delete {
                pool,
                remove_directory,
                request_id,
            } => {
                let reply = ctx
                    .storage()
                    .delete_storage_pool(pb::DeleteStoragePoolRequest {
                        pool: pool.clone(),
                        remove_directory,
                        request_id: request_id.unwrap_or_default(),
                    })
                    .await?
                    .into_inner();
                ctx.out
                    .done(&reply, &format!("storage pool {pool} deleted"))
            }
            Command::Change(change) => {
                let pool = change.call(ctx).await?;
                ctx.out.table(&pool, |p| pool_table([p]))
            }
        }
    }
}

impl Change {
    async fn call(self, ctx: &Ctx) -> Result<pb::StoragePool, CliError> {
        let mut client = ctx.storage();
        let reply = match self {
            Change::Get { pool } => {
                client
                    .get_storage_pool(pb::GetStoragePoolRequest { pool })
                    .await?
            }
            Change::Create {
                name,
                target_path,
                r#type,
                autostart,
                request_id,
            } => {
                client
                    .create_storage_pool(pb::CreateStoragePoolRequest {
                        name,
                        r#type,
                        target_path,
                        autostart,
                        request_id: request_id.unwrap_or_default(),
                    })
                    .await?
            }
            Change::Start { pool, request_id } => {
                client
                    .start_storage_pool(pb::StartStoragePoolRequest {
                        pool,
                        request_id: request_id.unwrap_or_default(),
                    })
                    .await?
            }
            Change::Stop { pool, request_id } => {
                client
                    .stop_storage_pool(pb::StopStoragePoolRequest {
                        pool,
                        request_id: request_id.unwrap_or_default(),
                    })
                    .await?
            }
            Change::Refresh { pool } => {
                client
                    .refresh_storage_pool(pb::RefreshStoragePoolRequest { pool })
                    .await?
            }
        };
        Ok(reply.into_inner())
    }
}
