//! The command line: connection and output options shared by every command, and the
//! command groups.

use clap::{Parser, Subcommand};
use clap_complete::Shell;

use super::{
    connect::Connection, console, devices, domains, events, guest, host, messaging, networks,
    output::Format, snapshots, stats, storage, webhooks,
};

/// Command-line client of a virtplane agent.
///
/// Exit codes: 0 ok, 1 other failure, 2 usage or invalid argument, 3 not found,
/// 4 failed precondition, already exists or aborted, 5 unavailable, deadline exceeded
/// or resource exhausted, 6 unauthenticated or permission denied.
#[derive(Debug, Parser)]
#[command(name = "virtplanectl", version)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) connection: Connection,
    /// Output format: human tables, or the API's JSON mapping, or YAML.
    #[arg(
        short = 'o',
        long,
        global = true,
        value_enum,
        env = "VIRTPLANE_OUTPUT",
        default_value_t = Format::Table
    )]
    pub(crate) output: Format,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Domains (virtual machines): list, read, define, power and change them.
    #[command(subcommand)]
    Domains(domains::Command),
    /// The host's lifecycle event journal, listed or watched.
    #[command(subcommand)]
    Events(events::Command),
    /// The host: its state, capacity, and whether it accepts new work.
    #[command(subcommand)]
    Host(host::Command),
    /// The configured AMQP brokers.
    #[command(subcommand)]
    Brokers(messaging::BrokersCommand),
    /// The service's outbound connection pools (AMQP and HTTP).
    #[command(subcommand)]
    Pools(messaging::PoolsCommand),
    /// Publishes one message to a configured broker.
    Publish(messaging::PublishArgs),
    /// Webhooks and their deliveries.
    #[command(subcommand)]
    Webhooks(webhooks::Command),
    /// Domain snapshots.
    #[command(subcommand)]
    Snapshots(snapshots::Command),
    /// Disks and network interfaces of a domain.
    #[command(subcommand)]
    Devices(devices::Command),
    /// Domain statistics (CPU, memory, disks, interfaces).
    #[command(subcommand)]
    Stats(stats::Command),
    /// What the guest agent reports: addresses, OS, users, filesystems.
    #[command(subcommand)]
    Guest(guest::Command),
    /// Attaches the terminal to a running domain's serial console (Ctrl-] leaves).
    Console(console::Args),
    /// Storage pools and volumes.
    #[command(subcommand)]
    Storage(storage::Command),
    /// The host's libvirt networks.
    #[command(subcommand)]
    Networks(networks::Command),
    /// Prints a shell completion script.
    Completions {
        /// The shell to complete in.
        #[arg(value_enum)]
        shell: Shell,
    },
}
