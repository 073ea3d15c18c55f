//! The `storage` subcommands.

use clap::Subcommand;

use super::{pools, volumes};
use crate::cli::{connect::Ctx, error::CliError};

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Storage pools.
    #[command(subcommand)]
    Pools(pools::Command),
    /// Volumes of a storage pool.
    #[command(subcommand)]
    Volumes(volumes::Command),
}

impl Command {
    pub(crate) async fn run(self, ctx: &Ctx) -> Result<(), CliError> {
        match self {
            Command::Pools(command) => command.run(ctx).await,
            Command::Volumes(command) => command.run(ctx).await,
        }
    }
}
