//! `virtplanectl guest`: what the guest agent (or DHCP leases, or ARP) reports.

use clap::Subcommand;

use super::{connect::Ctx, error::CliError};
use crate::grpc::pb;

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Shows a domain's addresses, OS, users and filesystems.
    Info {
        /// The domain's name or UUID.
        domain: String,
        /// Where addresses come from: agent (default), lease or arp.
        #[arg(long, value_parser = parse_source)]
        address_source: Option<pb::AddressSource>,
    },
}

fn parse_source(text: &str) -> Result<pb::AddressSource, String> {
    pb::AddressSource::from_str_name(&format!("ADDRESS_SOURCE_{}", text.to_ascii_uppercase()))
        .ok_or_else(|| format!("no address source {text:?} (agent, lease, arp)"))
}

impl Command {
    pub(crate) async fn run(self, ctx: &Ctx) -> Result<(), CliError> {
        let Command::Info {
            domain,
            address_source,
        } = self;
        let info = ctx
            .guest()
            .get_guest_info(pb::GetGuestInfoRequest {
                domain,
                address_source: address_source.map_or(0, |s| s as i32),
            })
            .await?
            .into_inner();
        ctx.out.record(&info)
    }
}
