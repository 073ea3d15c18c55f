//! `virtplanectl networks`: the host's libvirt networks and their DHCP leases.

use clap::Subcommand;

use super::{
    connect::Ctx,
    error::CliError,
    input::read_text,
    output::{Table, bool_word, enum_word, time},
    paging::all_pages,
};
use crate::grpc::pb;

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Lists the host's networks.
    List,
    /// Lists a network's DHCP leases.
    Leases {
        network: String,
        /// Only the lease of this MAC address.
        #[arg(long)]
        mac: Option<String>,
    },
    /// Removes a network's definition.
    Undefine {
        network: String,
        /// Succeed when the network does not exist.
        #[arg(long)]
        allow_missing: bool,
        #[arg(long)]
        request_id: Option<String>,
    },
    #[command(flatten)]
    Change(Change),
}

/// The calls that answer the network.
#[derive(Debug, Subcommand)]
pub(crate) enum Change {
    /// Shows one network.
    Get { network: String },
    /// Defines a network from libvirt XML in a file ("-": stdin).
    Define {
        file: std::path::PathBuf,
        /// Refuse instead of replacing an existing definition.
        #[arg(long)]
        create_only: bool,
        #[arg(long)]
        request_id: Option<String>,
    },
    /// Starts a network.
    Start {
        network: String,
        #[arg(long)]
        request_id: Option<String>,
    },
    /// Stops a network.
    Stop {
        network: String,
        #[arg(long)]
        request_id: Option<String>,
    },
    /// Sets whether the network starts with the host's libvirt (on or off).
    Autostart {
        network: String,
        #[arg(action = clap::ArgAction::Set, value_parser = clap::builder::BoolishValueParser::new())]
        enabled: bool,
        #[arg(long)]
        request_id: Option<String>,
    },
}

fn network_table<'a>(networks: impl IntoIterator<Item = &'a pb::Network>) -> Table {
    let mut table = Table::new(&[
        "NAME",
        "ACTIVE",
        "FORWARD",
        "BRIDGE",
        "AUTOSTART",
        "ADDRESSES",
        "UUID",
    ]);
    for network in networks {
        let forward = pb::ForwardMode::try_from(network.forward_mode).ok();
        let addresses: Vec<String> = network
            .addresses
            .iter()
            .map(|a| format!("{}/{}", a.address, a.prefix))
            .collect();
        table.row(vec![
            network.name.clone(),
            bool_word(network.active),
            enum_word(
                forward.as_ref().map(pb::ForwardMode::as_str_name),
                "FORWARD_MODE_",
                network.forward_mode,
            ),
            network.bridge.clone(),
            bool_word(network.autostart),
            addresses.join(","),
            network.uuid.clone(),
        ]);
    }
    table
}

fn leases_table(reply: &pb::ListNetworkLeasesResponse) -> Table {
    let mut table = Table::new(&["MAC", "IP", "HOSTNAME", "EXPIRES", "INTERFACE"]);
    for lease in &reply.leases {
        table.row(vec![
            lease.mac.clone(),
            format!("{}/{}", lease.ip, lease.prefix),
            lease.hostname.clone(),
            time(lease.expire_time.as_ref()),
            lease.interface.clone(),
        ]);
    }
    table
}

async fn list(ctx: &Ctx) -> Result<(), CliError> {
    let client = ctx.networks();
    let all = all_pages(|page_token| {
        let mut client = client.clone();
        let request = pb::ListNetworksRequest {
            page_token,
            ..Default::default()
        };
        async move { client.list_networks(request).await }
    })
    .await?;
    ctx.out.table(&all, |all| network_table(&all.networks))
}

impl Command {
    pub(crate) async fn run(self, ctx: &Ctx) -> Result<(), CliError> {
        match self {
            Command::List => list(ctx).await,
            Command::Leases { network, mac } => {
                let reply = ctx
                    .networks()
                    .list_network_leases(pb::ListNetworkLeasesRequest {
                        network,
                        mac: mac.unwrap_or_default(),
                    })
                    .await?
                    .into_inner();
                ctx.out.table(&reply, leases_table)
            }
            Command::Undefine {
                network,
                allow_missing,
                request_id,
            } => {
                let reply = ctx
                    .networks()
                    .undefine_network(pb::UndefineNetworkRequest {
                        network: network.clone(),
                        allow_missing,
                        request_id: request_id.unwrap_or_default(),
                    })
                    .await?
                    .into_inner();
                ctx.out
                    .done(&reply, &format!("network {network} undefined"))
            }
            Command::Change(change) => {
                let network = change.call(ctx).await?;
                ctx.out.table(&network, |n| network_table([n]))
            }
        }
    }
}

impl Change {
    async fn call(self, ctx: &Ctx) -> Result<pb::Network, CliError> {
        let mut client = ctx.networks();
        let reply = match self {
            Change::Get { network } => {
                client
                    .get_network(pb::GetNetworkRequest { network })
                    .await?
            }
            Change::Define {
                file,
                create_only,
                request_id,
            } => {
                let request = pb::DefineNetworkRequest {
                    xml: read_text(&file)?,
                    create_only,
                    request_id: request_id.unwrap_or_default(),
                };
                client.define_network(request).await?
            }
            Change::Start {
                network,
                request_id,
            } => {
                let request_id = request_id.unwrap_or_default();
                client
                    .start_network(pb::StartNetworkRequest {
                        network,
                        request_id,
                    })
                    .await?
            }
            Change::Stop {
                network,
                request_id,
            } => {
                let request_id = request_id.unwrap_or_default();
                client
                    .stop_network(pb::StopNetworkRequest {
                        network,
                        request_id,
                    })
                    .await?
            }
            Change::Autostart {
                network,
                enabled,
                request_id,
            } => {
                let request = pb::SetNetworkAutostartRequest {
                    network,
                    autostart: enabled,
                    request_id: request_id.unwrap_or_default(),
                };
                client.set_network_autostart(request).await?
            }
        };
        Ok(reply.into_inner())
    }
}
