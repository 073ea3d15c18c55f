//! `virtplanectl stats`: domain statistics.

use clap::Subcommand;

use super::{
    connect::Ctx,
    domains::state_word,
    error::CliError,
    output::{Table, kib},
};
use crate::grpc::pb;

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Every domain's statistics, one row each.
    List {
        /// Only domains whose labels match.
        #[arg(long, short = 'l')]
        selector: Option<String>,
    },
    /// One domain's statistics in full.
    Get {
        /// The domain's name or UUID.
        domain: String,
    },
}

impl Command {
    pub(crate) async fn run(self, ctx: &Ctx) -> Result<(), CliError> {
        let mut client = ctx.stats();
        match self {
            Command::List { selector } => {
                let reply = client
                    .list_domain_stats(pb::ListDomainStatsRequest {
                        label_selector: selector.unwrap_or_default(),
                    })
                    .await?
                    .into_inner();
                ctx.out.table(&reply, |reply| {
                    let mut table = Table::new(&[
                        "NAME", "STATE", "CPU TIME", "VCPUS", "BALLOON", "RSS", "DISKS", "NICS",
                    ]);
                    for stats in &reply.domains {
                        table.row(vec![
                            stats.name.clone(),
                            state_word(stats.state),
                            stats
                                .cpu
                                .as_ref()
                                .map_or("-".into(), |c| format!("{:.2}s", c.time_ns as f64 / 1e9)),
                            stats
                                .vcpu
                                .as_ref()
                                .map_or("-".into(), |v| format!("{}/{}", v.current, v.maximum)),
                            stats
                                .balloon
                                .as_ref()
                                .map_or("-".into(), |b| kib(b.current_kib)),
                            stats
                                .balloon
                                .as_ref()
                                .map_or("-".into(), |b| kib(b.rss_kib)),
                            stats.blocks.len().to_string(),
                            stats.interfaces.len().to_string(),
                        ]);
                    }
                    table
                })
            }
            Command::Get { domain } => {
                let stats = client
                    .get_domain_stats(pb::GetDomainStatsRequest { domain })
                    .await?
                    .into_inner();
                ctx.out.record(&stats)
            }
        }
    }
}
