//! `virtplanectl host`: the host's state and capacity; enabling and disabling it.

use clap::Subcommand;

use super::{
    connect::Ctx,
    error::CliError,
    output::{Table, bool_word, time},
};
use crate::grpc::pb;

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Shows the host: enabled, connected, libvirt versions, reconnects, last error.
    Get {
        /// Another host of the fleet, as its last heartbeat left it.
        #[arg(long)]
        hostname: Option<String>,
    },
    /// Lists the hosts of the fleet sharing this host's database.
    List {
        /// Only hosts whose labels match (`k=v,k2 in (a,b)`).
        #[arg(long)]
        label_selector: Option<String>,
        /// Only hosts whose heartbeat is older than the down threshold.
        #[arg(long, conflicts_with = "up")]
        down: bool,
        /// Only hosts with a recent heartbeat.
        #[arg(long)]
        up: bool,
    },
    /// Shows the host's CPUs, memory, NUMA cells and guest kinds.
    Capacity,
    /// Lets the host accept new domains and starts again.
    Enable {
        /// Makes the call safe to retry.
        #[arg(long)]
        request_id: Option<String>,
    },
    /// Refuses new domains and starts on this host.
    Disable {
        /// Why (required; shown in `host get`).
        #[arg(long)]
        reason: String,
        /// Makes the call safe to retry.
        #[arg(long)]
        request_id: Option<String>,
    },
}

impl Command {
    pub(crate) async fn run(self, ctx: &Ctx) -> Result<(), CliError> {
        let mut client = ctx.host();
        match self {
            Command::Get { hostname } => {
                let host = client
                    .get_host(pb::GetHostRequest {
                        hostname: hostname.unwrap_or_default(),
                    })
                    .await?
                    .into_inner();
                ctx.out.record(&host)
            }
            Command::List {
                label_selector,
                down,
                up,
            } => list(ctx, label_selector.unwrap_or_default(), up, down).await,
            Command::Capacity => {
                let capacity = client
                    .get_host_capacity(pb::GetHostCapacityRequest {})
                    .await?
                    .into_inner();
                ctx.out.record(&capacity)
            }
            Command::Enable { request_id } => {
                let host = client
                    .set_host_enabled(pb::SetHostEnabledRequest {
                        enabled: true,
                        reason: String::new(),
                        request_id: request_id.unwrap_or_default(),
                    })
                    .await?
                    .into_inner();
                ctx.out.record(&host)
            }
            Command::Disable { reason, request_id } => {
                let host = client
                    .set_host_enabled(pb::SetHostEnabledRequest {
                        enabled: false,
                        reason,
                        request_id: request_id.unwrap_or_default(),
                    })
                    .await?
                    .into_inner();
                ctx.out.record(&host)
            }
        }
    }
}

/// Every page of the fleet's hosts, as one table.
async fn list(ctx: &Ctx, label_selector: String, up: bool, down: bool) -> Result<(), CliError> {
    let liveness = match (up, down) {
        (true, _) => pb::HostLiveness::Up,
        (_, true) => pb::HostLiveness::Down,
        _ => pb::HostLiveness::Unspecified,
    };
    let mut client = ctx.host();
    let mut all = pb::ListHostsResponse::default();
    loop {
        let page = client
            .list_hosts(pb::ListHostsRequest {
                page_token: std::mem::take(&mut all.next_page_token),
                label_selector: label_selector.clone(),
                liveness: liveness as i32,
                ..Default::default()
            })
            .await?
            .into_inner();
        all.hosts.extend(page.hosts);
        if page.next_page_token.is_empty() {
            break;
        }
        all.next_page_token = page.next_page_token;
    }
    ctx.out.table(&all, |all| {
        let mut table = Table::new(&[
            "HOSTNAME",
            "UP",
            "ENABLED",
            "CONNECTED",
            "HEARTBEAT",
            "AGENT",
        ]);
        for host in &all.hosts {
            table.row(vec![
                host.hostname.clone(),
                bool_word(host.up),
                bool_word(host.enabled),
                bool_word(host.connected),
                time(host.heartbeat_time.as_ref()),
                host.agent_version.clone(),
            ]);
        }
        table
    })
}
