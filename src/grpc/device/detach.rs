//! DetachDevice: ask libvirt to unplug, then wait for the guest's answer: libvirt's
//! DEVICE_REMOVED or DEVICE_REMOVAL_FAILED event, or the device's absence from the
//! running domain, within the timeout. A device still present is never reported
//! removed (libvirt's own `virsh detach-device` says "detached successfully" for a
//! device a guest never let go).

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use tokio::sync::broadcast;
use tonic::Status;

use super::DeviceApi;
use crate::{
    grpc::pb::{self, detach_device_request::Device},
    hypervisor::{DetachDevice, Detached, DeviceGone},
    model::{
        ChangeScope, DetachOutcome, DeviceSelector, DomainRef, EventType, InvalidArgument,
        LifecycleEvent, MacAddress, check_disk_target,
    },
};

const DEFAULT_TIMEOUT_S: u32 = 10;
const MAX_TIMEOUT_S: u32 = 300;
/// How often the running domain is checked besides the events (an event a lagging
/// watcher skipped must not turn a removal into a timeout).
const CHECK_EVERY: Duration = Duration::from_secs(1);

impl DeviceApi {
    pub(super) async fn detach(
        &self,
        request: pb::DetachDeviceRequest,
    ) -> Result<pb::DetachDeviceResponse, Status> {
        let pb::DetachDeviceRequest {
            domain,
            device,
            live,
            config,
            timeout_s,
            request_id: _,
        } = request;
        let domain = DomainRef::parse(&domain)?;
        let selector = selector(device)?;
        let timeout = match timeout_s {
            None => Duration::from_secs(DEFAULT_TIMEOUT_S.into()),
            Some(s) if (1..=MAX_TIMEOUT_S).contains(&s) => Duration::from_secs(s.into()),
            Some(s) => {
                return Err(InvalidArgument::new(
                    "timeout_s",
                    format!("`timeout_s` {s} is out of range: give 1 to {MAX_TIMEOUT_S} seconds"),
                )
                .into());
            }
        };
        // Before the unplug, so the guest's answer cannot come first.
        let events = self.hub.subscribe();
        let started = Instant::now();
        let Detached {
            domain_uuid,
            live_alias,
            from_config,
        } = self
            .domains
            .perform(DetachDevice {
                domain: domain.clone(),
                selector,
                scope: ChangeScope { live, config },
            })
            .await?;
        let outcome = match &live_alias {
            Some(alias) => {
                self.await_release(events, &domain, &domain_uuid, alias, timeout)
                    .await?
            }
            None => DetachOutcome::Removed,
        };
        self.domains
            .written(&DomainRef::Uuid(domain_uuid.clone()))
            .await;
        Ok(pb::DetachDeviceResponse {
            outcome: pb::DetachOutcome::from(outcome).into(),
            alias: live_alias.unwrap_or_default(),
            removed_from_config: from_config,
            waited_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        })
    }

    /// The guest's answer to the unplug of `alias`, or StillPresent at the timeout.
    async fn await_release(
        &self,
        mut events: broadcast::Receiver<Arc<LifecycleEvent>>,
        domain: &DomainRef,
        uuid: &str,
        alias: &str,
        timeout: Duration,
    ) -> Result<DetachOutcome, Status> {
        let deadline = tokio::time::Instant::now() + timeout;
        let gone = || {
            self.domains.perform(DeviceGone {
                domain: domain.clone(),
                alias: alias.to_owned(),
            })
        };
        let mut check = tokio::time::interval(CHECK_EVERY);
        check.tick().await;
        let mut events_open = true;
        loop {
            tokio::select! {
                event = events.recv(), if events_open => match event {
                    Ok(event) if event.domain_uuid == uuid && event.detail == alias => {
                        match event.kind {
                            EventType::DeviceRemoved => return Ok(DetachOutcome::Removed),
                            EventType::DeviceRemovalFailed => return Ok(DetachOutcome::RemovalFailed),
                            _ => {}
                        }
                    }
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                    // The feed ends only with the service: the checks carry on alone.
                    Err(broadcast::error::RecvError::Closed) => events_open = false,
                },
                _ = check.tick() => {
                    if gone().await? {
                        return Ok(DetachOutcome::Removed);
                    }
                }
                () = tokio::time::sleep_until(deadline) => {
                    // The last word is the domain's: a removal whose event is late
                    // is still a removal.
                    return Ok(if gone().await? {
                        DetachOutcome::Removed
                    } else {
                        DetachOutcome::StillPresent
                    });
                }
            }
        }
    }
}

fn selector(device: Option<Device>) -> Result<DeviceSelector, Status> {
    match device {
        Some(Device::DiskTarget(target)) => {
            check_disk_target("disk_target", &target)?;
            Ok(DeviceSelector::DiskTarget(target))
        }
        Some(Device::InterfaceMac(mac)) => Ok(DeviceSelector::InterfaceMac(MacAddress::parse(
            "interface_mac",
            &mac,
        )?)),
        Some(Device::Alias(alias)) if !alias.is_empty() => Ok(DeviceSelector::Alias(alias)),
        _ => Err(Status::from(InvalidArgument::new(
            "device",
            "one of `disk_target`, `interface_mac` or `alias` is required: the device to detach",
        ))),
    }
}

impl From<DetachOutcome> for pb::DetachOutcome {
    fn from(outcome: DetachOutcome) -> Self {
        match outcome {
            DetachOutcome::Removed => pb::DetachOutcome::Removed,
            DetachOutcome::RemovalFailed => pb::DetachOutcome::RemovalFailed,
            DetachOutcome::StillPresent => pb::DetachOutcome::StillPresent,
        }
    }
}
