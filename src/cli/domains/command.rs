//! The `domains` subcommands and their arguments.

use clap::Subcommand;

use super::{change, power, read};
use crate::cli::{connect::Ctx, error::CliError};

/// A domain named by UUID or name, and a request id that makes the call safe to retry.
#[derive(Debug, clap::Args)]
pub(crate) struct Target {
    /// The domain's name or UUID.
    pub(crate) domain: String,
    /// Makes the call safe to retry: a repeat with the same id does not act again.
    #[arg(long)]
    pub(crate) request_id: Option<String>,
}

impl Target {
    pub(crate) fn request_id(&self) -> String {
        self.request_id.clone().unwrap_or_default()
    }
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Lists the host's domains (every page unless --page-size or --page-token).
    List(read::ListArgs),
    /// Shows one domain.
    Get(read::GetArgs),
    /// Prints a domain's libvirt XML.
    Xml(read::XmlArgs),
    /// Defines (creates or updates) a domain from libvirt XML in a file ("-": stdin).
    Define(change::DefineArgs),
    /// Removes a domain's definition.
    Undefine(change::UndefineArgs),
    /// Boots a shut-off domain.
    Start(Target),
    /// Asks the guest to shut down; with --timeout waits for it.
    Shutdown(power::ShutdownArgs),
    /// Stops a domain at once (pulls the power cord).
    Destroy(Target),
    /// Asks the guest to reboot.
    Reboot(Target),
    /// Resets a running domain at once (its reset button).
    Reset(Target),
    /// Pauses a running domain.
    Suspend(Target),
    /// Resumes a paused domain.
    Resume(Target),
    /// Sets whether the domain starts with the host's libvirt.
    Autostart(change::AutostartArgs),
    /// Changes vCPUs, memory or maximum memory.
    Resources(change::ResourcesArgs),
    /// Sets and removes labels.
    Labels(change::LabelsArgs),
    /// Saves a domain's memory to a file in the service's save directory and stops it.
    Save(power::SaveArgs),
    /// Starts a domain from a file written by `save`.
    Restore(power::RestoreArgs),
    /// Saves a domain's memory to libvirt's managed save image and stops it.
    ManagedSave(Target),
    /// Discards a domain's managed save image.
    RemoveManagedSave(Target),
}

impl Command {
    pub(crate) async fn run(self, ctx: &Ctx) -> Result<(), CliError> {
        match self {
            Command::List(args) => read::list(ctx, args).await,
            Command::Get(args) => read::get(ctx, args).await,
            Command::Xml(args) => read::xml(ctx, args).await,
            Command::Define(args) => change::define(ctx, args).await,
            Command::Undefine(args) => change::undefine(ctx, args).await,
            Command::Shutdown(args) => power::shutdown(ctx, args).await,
            Command::Autostart(args) => change::autostart(ctx, args).await,
            Command::Resources(args) => change::resources(ctx, args).await,
            Command::Labels(args) => change::labels(ctx, args).await,
            Command::Save(args) => power::save(ctx, args).await,
            Command::Restore(args) => power::restore(ctx, args).await,
            Command::Start(target) => power::start(ctx, target).await,
            Command::Destroy(target) => power::destroy(ctx, target).await,
            Command::Reboot(target) => power::reboot(ctx, target).await,
            Command::Reset(target) => power::reset(ctx, target).await,
            Command::Suspend(target) => power::suspend(ctx, target).await,
            Command::Resume(target) => power::resume(ctx, target).await,
            Command::ManagedSave(target) => power::managed_save(ctx, target).await,
            Command::RemoveManagedSave(target) => power::remove_managed_save(ctx, target).await,
        }
    }
}
