//! Reading domains: list, get, XML.

use super::table::{domain_table, parse_state};
use crate::{
    cli::{connect::Ctx, error::CliError, paging::all_pages},
    grpc::pb,
};

#[derive(Debug, clap::Args)]
pub(crate) struct ListArgs {
    /// Only domains in this state (running, shutoff, paused, ...).
    #[arg(long, value_parser = parse_state)]
    state: Option<pb::DomainState>,
    /// Only domains whose labels match (Kubernetes selector syntax: `app=web,tier in (a,b)`).
    #[arg(long, short = 'l')]
    selector: Option<String>,
    /// Ask libvirt rather than the service's inventory.
    #[arg(long)]
    live: bool,
    /// One page of at most this many domains.
    #[arg(long)]
    page_size: Option<i32>,
    /// The page after this token (from a previous page's `nextPageToken`).
    #[arg(long)]
    page_token: Option<String>,
}

#[derive(Debug, clap::Args)]
pub(crate) struct GetArgs {
    /// The domain's name or UUID.
    domain: String,
    /// Ask libvirt rather than the service's inventory.
    #[arg(long)]
    live: bool,
}

#[derive(Debug, clap::Args)]
pub(crate) struct XmlArgs {
    /// The domain's name or UUID.
    domain: String,
    /// Include secrets such as graphics passwords (needs an admin token).
    #[arg(long)]
    secure: bool,
    /// The persistent definition rather than the live one.
    #[arg(long)]
    inactive: bool,
}

fn consistency(live: bool) -> i32 {
    if live {
        pb::ReadConsistency::Live as i32
    } else {
        pb::ReadConsistency::Unspecified as i32
    }
}

pub(crate) async fn list(ctx: &Ctx, args: ListArgs) -> Result<(), CliError> {
    let ListArgs {
        state,
        selector,
        live,
        page_size,
        page_token,
    } = args;
    let one_page = page_size.is_some() || page_token.is_some();
    let request = pb::ListDomainsRequest {
        page_size: page_size.unwrap_or(0),
        page_token: page_token.unwrap_or_default(),
        state: state.map_or(0, |s| s as i32),
        label_selector: selector.unwrap_or_default(),
        consistency: consistency(live),
    };
    let client = ctx.domains();
    let all = if one_page {
        client.clone().list_domains(request).await?.into_inner()
    } else {
        all_pages(|page_token| {
            let mut client = client.clone();
            let request = pb::ListDomainsRequest {
                page_token,
                ..request.clone()
            };
            async move { client.list_domains(request).await }
        })
        .await?
    };
    ctx.out.table(&all, |all| domain_table(&all.domains))
}

pub(crate) async fn get(ctx: &Ctx, args: GetArgs) -> Result<(), CliError> {
    let domain = ctx
        .domains()
        .get_domain(pb::GetDomainRequest {
            domain: args.domain,
            consistency: consistency(args.live),
        })
        .await?
        .into_inner();
    ctx.out.table(&domain, |domain| domain_table([domain]))
}

pub(crate) async fn xml(ctx: &Ctx, args: XmlArgs) -> Result<(), CliError> {
    let reply = ctx
        .domains()
        .get_domain_xml(pb::GetDomainXmlRequest {
            domain: args.domain,
            secure: args.secure,
            inactive: args.inactive,
        })
        .await?
        .into_inner();
    ctx.out.text(&reply, &reply.xml)
}
