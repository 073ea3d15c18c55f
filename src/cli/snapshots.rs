//! `virtplanectl snapshots`: a domain's snapshots.

use clap::Subcommand;

use super::{
    connect::Ctx,
    domains::{domain_table, state_word},
    error::CliError,
    output::{Table, bool_word, time},
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

impl Command {
    pub(crate) async fn run(self, ctx: &Ctx) -> Result<(), CliError> {
        let mut client = ctx.snapshots();
        match self {
            Command::List { domain } => {
                let mut request = pb::ListSnapshotsRequest {
                    domain,
                    ..Default::default()
                };
                let mut all = client.list_snapshots(request.clone()).await?.into_inner();
                while !all.next_page_token.is_empty() {
                    request.page_token = std::mem::take(&mut all.next_page_token);
                    let page = client.list_snapshots(request.clone()).await?.into_inner();
                    all.snapshots.extend(page.snapshots);
                    all.next_page_token = page.next_page_token;
                }
                ctx.out.table(&all, |all| snapshot_table(&all.snapshots))
            }
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
