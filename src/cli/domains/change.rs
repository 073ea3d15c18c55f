//! Changing domains: define, undefine, autostart, resources, labels.

use super::{command::Target, table::domain_table};
use crate::{
    cli::{connect::Ctx, error::CliError, input::read_text},
    grpc::pb,
};

#[derive(Debug, clap::Args)]
pub(crate) struct DefineArgs {
    /// A file with the domain's libvirt XML; "-" reads stdin.
    file: std::path::PathBuf,
    /// Refuse (ALREADY_EXISTS) instead of replacing an existing definition.
    #[arg(long)]
    create_only: bool,
    /// Makes the call safe to retry.
    #[arg(long)]
    request_id: Option<String>,
}

#[derive(Debug, clap::Args)]
pub(crate) struct UndefineArgs {
    #[command(flatten)]
    target: Target,
    /// Succeed when the domain does not exist.
    #[arg(long)]
    allow_missing: bool,
    /// Also remove its managed save image.
    #[arg(long)]
    remove_managed_save: bool,
    /// Also remove its snapshots' metadata.
    #[arg(long)]
    remove_snapshots: bool,
    /// Also remove its NVRAM file.
    #[arg(long)]
    remove_nvram: bool,
}

#[derive(Debug, clap::Args)]
pub(crate) struct AutostartArgs {
    #[command(flatten)]
    target: Target,
    /// on or off.
    #[arg(action = clap::ArgAction::Set, value_parser = clap::builder::BoolishValueParser::new())]
    enabled: bool,
}

#[derive(Debug, clap::Args)]
pub(crate) struct ResourcesArgs {
    #[command(flatten)]
    target: Target,
    /// The number of virtual CPUs.
    #[arg(long)]
    vcpus: Option<u32>,
    /// Memory assigned to the domain, in KiB.
    #[arg(long)]
    memory_kib: Option<u64>,
    /// Maximum memory, in KiB.
    #[arg(long)]
    max_memory_kib: Option<u64>,
    /// Change the running domain.
    #[arg(long)]
    live: bool,
    /// Change the persistent definition.
    #[arg(long)]
    config: bool,
}

#[derive(Debug, clap::Args)]
pub(crate) struct LabelsArgs {
    #[command(flatten)]
    target: Target,
    /// A label to set, `key=value` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE", value_parser = crate::cli::input::key_value)]
    set: Vec<(String, String)>,
    /// A label to remove (repeatable).
    #[arg(long = "remove", value_name = "KEY")]
    remove: Vec<String>,
}

pub(crate) async fn define(ctx: &Ctx, args: DefineArgs) -> Result<(), CliError> {
    let xml = read_text(&args.file)?;
    let domain = ctx
        .domains()
        .define_domain(pb::DefineDomainRequest {
            xml,
            create_only: args.create_only,
            request_id: args.request_id.unwrap_or_default(),
        })
        .await?
        .into_inner();
    ctx.out.table(&domain, |domain| domain_table([domain]))
}

pub(crate) async fn undefine(ctx: &Ctx, args: UndefineArgs) -> Result<(), CliError> {
    let UndefineArgs {
        target,
        allow_missing,
        remove_managed_save,
        remove_snapshots,
        remove_nvram,
    } = args;
    let request_id = target.request_id();
    let reply = ctx
        .domains()
        .undefine_domain(pb::UndefineDomainRequest {
            domain: target.domain.clone(),
            allow_missing,
            remove_managed_save,
            remove_snapshots,
            remove_nvram,
            request_id,
        })
        .await?
        .into_inner();
    ctx.out
        .done(&reply, &format!("domain {} undefined", target.domain))
}

pub(crate) async fn autostart(ctx: &Ctx, args: AutostartArgs) -> Result<(), CliError> {
    let request_id = args.target.request_id();
    let domain = ctx
        .domains()
        .set_domain_autostart(pb::SetDomainAutostartRequest {
            domain: args.target.domain,
            autostart: args.enabled,
            request_id,
        })
        .await?
        .into_inner();
    ctx.out.table(&domain, |domain| domain_table([domain]))
}

pub(crate) async fn resources(ctx: &Ctx, args: ResourcesArgs) -> Result<(), CliError> {
    let request_id = args.target.request_id();
    let domain = ctx
        .domains()
        .set_domain_resources(pb::SetDomainResourcesRequest {
            domain: args.target.domain,
            vcpus: args.vcpus,
            memory_kib: args.memory_kib,
            max_memory_kib: args.max_memory_kib,
            live: args.live,
            config: args.config,
            request_id,
        })
        .await?
        .into_inner();
    ctx.out.table(&domain, |domain| domain_table([domain]))
}

pub(crate) async fn labels(ctx: &Ctx, args: LabelsArgs) -> Result<(), CliError> {
    let request_id = args.target.request_id();
    let domain = ctx
        .domains()
        .update_domain_labels(pb::UpdateDomainLabelsRequest {
            domain: args.target.domain,
            set: args.set.into_iter().collect(),
            remove: args.remove,
            request_id,
        })
        .await?
        .into_inner();
    ctx.out.record(&domain)
}
