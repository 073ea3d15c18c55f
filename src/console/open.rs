//! Opening a console session: find the device, claim it, connect the stream.

use std::sync::Arc;

use super::{Consoles, Session};
use crate::{
    events::EventHub,
    hypervisor::{Hypervisor, HypervisorError, OpenConsole, ResolveConsole},
    model::{DomainRef, rfc3339},
};

/// Why a console could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    Hypervisor(#[from] HypervisorError),
    /// Another client of this service holds the console.
    #[error(
        "console {device:?} of domain {domain} is open by another client (since {since}); open it with force to take it over"
    )]
    Held {
        device: String,
        domain: String,
        since: String,
    },
}

/// Opens `device` (an alias, or empty for the first console) of running `domain`.
///
/// # Errors
/// The domain or device is missing or not running, the console is held by another
/// client (without `force`), or libvirt refused.
pub async fn open(
    hypervisor: &Arc<Hypervisor>,
    hub: &EventHub,
    consoles: &Consoles,
    domain: DomainRef,
    device: String,
    force: bool,
) -> Result<Session, OpenError> {
    let target = hypervisor.run(ResolveConsole { domain, device }).await?;
    let claim = consoles
        .claim(&target, force)
        .map_err(|held| OpenError::Held {
            device: target.device.alias.clone(),
            domain: target.name.clone(),
            since: rfc3339(held.since),
        })?;
    // Before the stream opens, so a stop right after it is not missed.
    let events = hub.subscribe();
    let generation = hypervisor.live_generation();
    let stream = hypervisor
        .run(OpenConsole {
            target: target.clone(),
            force,
        })
        .await?;
    // The same connection before and after: the stream is on it, and the session
    // can tell when it goes.
    let generation = generation
        .filter(|g| hypervisor.live_generation() == Some(*g))
        .ok_or_else(|| {
            HypervisorError::unavailable(
                "the libvirt connection changed while the console opened; open it again",
            )
        })?;
    Ok(Session::new(
        Arc::clone(hypervisor),
        target,
        stream,
        claim,
        events,
        generation,
    ))
}
