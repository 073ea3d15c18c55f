//! Shell completion scripts, generated from the command definitions themselves.

use clap::CommandFactory;
use clap_complete::Shell;

use super::{args::Cli, error::CliError};

/// Writes the completion script for `shell` to stdout.
pub(crate) fn write(shell: Shell) -> Result<(), CliError> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "virtplanectl", &mut script);
    super::output::write_stdout(&script)
}
