//! Power: start, shutdown, destroy, reboot, reset, suspend, resume, save, restore.

use super::{
    command::Target,
    table::{domain_table, state_word},
};
use crate::{
    cli::{
        connect::Ctx,
        error::CliError,
        output::{Table, enum_word},
    },
    grpc::pb,
};

#[derive(Debug, clap::Args)]
pub(crate) struct ShutdownArgs {
    #[command(flatten)]
    target: Target,
    /// Wait at most this many seconds (1 to 3600) for the domain to be off.
    #[arg(long, value_name = "SECONDS")]
    timeout: Option<u32>,
    /// With --timeout: destroy the domain if the guest has not shut down in time.
    #[arg(long, requires = "timeout")]
    force: bool,
}

#[derive(Debug, clap::Args)]
pub(crate) struct SaveArgs {
    #[command(flatten)]
    target: Target,
    /// The file's name in the service's save directory (default: <name>.save).
    #[arg(long)]
    file: Option<String>,
}

#[derive(Debug, clap::Args)]
pub(crate) struct RestoreArgs {
    /// The file's name in the service's save directory.
    file: String,
    /// Leave the restored domain paused.
    #[arg(long)]
    paused: bool,
    /// Makes the call safe to retry.
    #[arg(long)]
    request_id: Option<String>,
}

/// The calls that take a domain and a request id and answer the domain.
macro_rules! domain_calls {
    ($($name:ident => $method:ident($request:ident)),* $(,)?) => {
        $(
            pub(crate) async fn $name(ctx: &Ctx, target: Target) -> Result<(), CliError> {
                let request_id = target.request_id();
                let domain = ctx
                    .domains()
                    .$method(pb::$request {
                        domain: target.domain,
                        request_id,
                    })
                    .await?
                    .into_inner();
                ctx.out.table(&domain, |domain| domain_table([domain]))
            }
        )*
    };
}

domain_calls!(
    start => start_domain(StartDomainRequest),
    destroy => destroy_domain(DestroyDomainRequest),
    reboot => reboot_domain(RebootDomainRequest),
    reset => reset_domain(ResetDomainRequest),
    suspend => suspend_domain(SuspendDomainRequest),
    resume => resume_domain(ResumeDomainRequest),
    managed_save => managed_save_domain(ManagedSaveDomainRequest),
    remove_managed_save => remove_managed_save(RemoveManagedSaveRequest),
);

pub(crate) async fn shutdown(ctx: &Ctx, args: ShutdownArgs) -> Result<(), CliError> {
    let request_id = args.target.request_id();
    let reply = ctx
        .domains()
        .shutdown_domain(pb::ShutdownDomainRequest {
            domain: args.target.domain,
            timeout_s: args.timeout,
            force_after_timeout: args.force,
            request_id,
        })
        .await?
        .into_inner();
    ctx.out.table(&reply, |reply| {
        let outcome = pb::ShutdownOutcome::try_from(reply.outcome).ok();
        let mut table = Table::new(&["NAME", "STATE", "OUTCOME", "WAITED"]);
        let (name, state) = reply
            .domain
            .as_ref()
            .map_or_else(Default::default, |d| (d.name.clone(), state_word(d.state)));
        table.row(vec![
            name,
            state,
            enum_word(
                outcome.as_ref().map(pb::ShutdownOutcome::as_str_name),
                "SHUTDOWN_OUTCOME_",
                reply.outcome,
            ),
            format!("{} ms", reply.waited_ms),
        ]);
        table
    })
}

pub(crate) async fn save(ctx: &Ctx, args: SaveArgs) -> Result<(), CliError> {
    let request_id = args.target.request_id();
    let domain = ctx
        .domains()
        .save_domain(pb::SaveDomainRequest {
            domain: args.target.domain,
            file: args.file.unwrap_or_default(),
            request_id,
        })
        .await?
        .into_inner();
    ctx.out.table(&domain, |domain| domain_table([domain]))
}

pub(crate) async fn restore(ctx: &Ctx, args: RestoreArgs) -> Result<(), CliError> {
    let domain = ctx
        .domains()
        .restore_domain(pb::RestoreDomainRequest {
            file: args.file,
            paused: args.paused,
            request_id: args.request_id.unwrap_or_default(),
        })
        .await?
        .into_inner();
    ctx.out.table(&domain, |domain| domain_table([domain]))
}
