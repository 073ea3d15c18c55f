//! `virtplanectl snapshots`: a domain's snapshots.

use clap::Subcommand;

use super::{
    connect::Ctx,
    domains::{domain_table, state_word},
    error::CliError,
    output::{Table, bool_word, time},
    paging::all_pages,
};
use crate::grpc::pb;

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Lists a domain's snapshots.
    List {
        /// The domain's name or UUID.
        domain: String,
    },
    /// Shows one snapshot.
    Get { domain: String, name: String },
    /// Takes a snapshot (with memory when the domain runs).
    Create {
        domain: String,
        name: String,
        #[arg(long, default_value = "")]
        description: String,
        /// Makes the call safe to retry.
        #[arg(long)]
        request_id: Option<String>,
    },
    /// Reverts the domain to a snapshot.
    Revert {
        domain: String,
        name: String,
        /// Makes the call safe to retry.
        #[arg(long)]
        request_id: Option<String>,
    },
    /// Deletes a snapshot.
    Delete {
        domain: String,
        name: String,
        /// Also delete its descendants.
        #[arg(long)]
        with_children: bool,
        /// Makes the call safe to retry.
        #[arg(long)]
        request_id: Option<String>,
    },
}

fn snapshot_table<'a>(snapshots: impl IntoIterator<Item = &'a pb::Snapshot>) -> Table {
    let mut table = Table::new(&[
        "NAME",
        "CREATED",
        "STATE",
        "PARENT",
        "CURRENT",
        "MEMORY",
        "DESCRIPTION",
    ]);
    for snapshot in snapshots {
        table.row(vec![
            snapshot.name.clone(),
            time(snapshot.create_time.as_ref()),
            state_word(snapshot.domain_state),
            snapshot.parent.clone(),
            bool_word(snapshot.current),
            bool_word(snapshot.has_memory),
            snapshot.description.clone(),
        ]);
    }
    table
}

async fn list(ctx: &Ctx, domain: String) -> Result<(), CliError> {
    let client = ctx.snapshots();
    let all = all_pages(|page_token| {
        let mut client = client.clone();
        let request = pb::ListSnapshotsRequest {
            domain: domain.clone(),
            page_token,
            ..Default::default()
        };
        async move { client.list_snapshots(request).await }
    })
    .await?;
    ctx.out.table(&all, |all| snapshot_table(&all.snapshots))
}

impl Command {
    pub(crate) async fn run(self, ctx: &Ctx) -> Result<(), CliError> {
        let mut client = ctx.snapshots();
        match self {
            Command::List { domain } => list(ctx, domain).await,
            Command::Get { domain, name } => {
                let snapshot = client
                    .get_snapshot(pb::GetSnapshotRequest { domain, name })
                    .await?
                    .into_inner();
                ctx.out.table(&snapshot, |s| snapshot_table([s]))
            }
            Command::Create {
                domain,
                name,
                description,
                request_id,
            } => {
                let snapshot = client
                    .create_snapshot(pb::CreateSnapshotRequest {
                        domain,
                        name,
                        description,
                        request_id: request_id.unwrap_or_default(),
                    })
                    .await?
                    .into_inner();
                ctx.out.table(&snapshot, |s| snapshot_table([s]))
            }
            Command::Revert {
                domain,
                name,
                request_id,
            } => {
                let domain = client
                    .revert_to_snapshot(pb::RevertToSnapshotRequest {
                        domain,
                        name,
                        request_id: request_id.unwrap_or_default(),
                    })
                    .await?
                    .into_inner();
                ctx.out.table(&domain, |d| domain_table([d]))
            }
            Command::Delete {
                domain,
                name,
                with_children,
                request_id,
            } => {
                let reply = client
                    .delete_snapshot(pb::DeleteSnapshotRequest {
                        domain: domain.clone(),
                        name: name.clone(),
                        with_children,
                        request_id: request_id.unwrap_or_default(),
                    })
                    .await?
                    .into_inner();
                ctx.out
                    .done(&reply, &format!("snapshot {name} of {domain} deleted"))
            }
        }
    }
}
