//! `virtplanectl host`: the host's state and capacity; enabling and disabling it.

use clap::Subcommand;

use super::{connect::Ctx, error::CliError};
use crate::grpc::pb;

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Shows the host: enabled, connected, libvirt versions, reconnects, last error.
    Get,
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
            Command::Get => {
                let host = client.get_host(pb::GetHostRequest {}).await?.into_inner();
                ctx.out.record(&host)
            }
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
