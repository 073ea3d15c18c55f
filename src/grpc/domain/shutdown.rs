//! A graceful shutdown: ask the guest, and with a timeout wait until it is off,
//! destroying it when it did not comply and the client said so (Nova's
//! `power_off(timeout)`, ironcore's graceful-shutdown timeout).

use std::time::Duration;

use tokio::time::Instant;
use tonic::Status;

use super::DomainApi;
use crate::{
    grpc::pb,
    grpc::status,
    hypervisor::{DestroyDomain, GetDomain, HypervisorError, ShutdownDomain},
    model::{DomainRef, DomainState, DomainSummary, InvalidArgument},
};

/// The longest a client may ask the call to wait.
const MAX_TIMEOUT_S: u32 = 3600;
/// How often the domain's state is read while waiting.
const POLL: Duration = Duration::from_millis(100);

impl DomainApi {
    pub(super) async fn shutdown(
        &self,
        request: pb::ShutdownDomainRequest,
        answer_by: Option<Instant>,
    ) -> Result<pb::ShutdownDomainResponse, Status> {
        let domain = DomainRef::parse(&request.domain)?;
        let answer = self.shutdown_and_wait(request, answer_by).await;
        if answer.is_ok() {
            self.written(&domain).await;
        }
        answer
    }

    async fn shutdown_and_wait(
        &self,
        request: pb::ShutdownDomainRequest,
        answer_by: Option<Instant>,
    ) -> Result<pb::ShutdownDomainResponse, Status> {
        let pb::ShutdownDomainRequest {
            domain,
            timeout_s,
            force_after_timeout,
            request_id: _,
        } = request;
        let domain = DomainRef::parse(&domain)?;
        let timeout = wait_timeout(timeout_s, force_after_timeout)?;
        let started = Instant::now();
        let asked = self.perform(ShutdownDomain(domain)).await?;
        let Some(timeout) = timeout else {
            return Ok(reply(asked, pb::ShutdownOutcome::Requested, started));
        };
        // From here on the domain is named by its UUID: a rename cannot mislead the wait.
        let domain = DomainRef::Uuid(asked.uuid.clone());
        let until = started + timeout;
        let last = self
            .wait_until_off(&domain, asked, until, answer_by)
            .await?;
        if last.state.is_off() {
            return Ok(reply(last, pb::ShutdownOutcome::ShutOff, started));
        }
        if answer_by.is_some_and(|by| by < until) {
            return Err(status::client_deadline(
                format!(
                    "the client's deadline came before `timeout_s` ({}s): domain {:?} was asked to shut down and is still {}",
                    timeout.as_secs(),
                    last.name,
                    last.state.word()
                ),
                &last.name,
                pb::DomainState::from(last.state).as_str_name(),
            ));
        }
        if !force_after_timeout {
            return Ok(reply(last, pb::ShutdownOutcome::TimedOut, started));
        }
        match self.perform(DestroyDomain(domain.clone())).await {
            Ok(destroyed) => Ok(reply(destroyed, pb::ShutdownOutcome::Forced, started)),
            // The guest made it between the last look and the destroy.
            Err(status) if status.code() == tonic::Code::FailedPrecondition => {
                let now = self.perform(GetDomain(domain)).await?;
                Ok(reply(now, pb::ShutdownOutcome::ShutOff, started))
            }
            Err(status) => Err(status),
        }
    }

    /// Reads the domain's state until it is off, `until` or `answer_by` comes.
    async fn wait_until_off(
        &self,
        domain: &DomainRef,
        mut last: DomainSummary,
        until: Instant,
        answer_by: Option<Instant>,
    ) -> Result<DomainSummary, Status> {
        let stop = answer_by.map_or(until, |by| by.min(until));
        while !last.state.is_off() && Instant::now() < stop {
            tokio::time::sleep_until((Instant::now() + POLL).min(stop)).await;
            last = match self.hypervisor.run(GetDomain(domain.clone())).await {
                Ok(summary) => summary,
                // A transient domain is gone once it is off.
                Err(HypervisorError::DomainNotFound { .. }) => DomainSummary {
                    state: DomainState::Shutoff,
                    state_reason: "shutdown".into(),
                    id: None,
                    ..last
                },
                Err(e) => return Err(e.into()),
            };
        }
        Ok(last)
    }
}

/// The wait `timeout_s` asks for; `None` to only ask.
fn wait_timeout(
    timeout_s: Option<u32>,
    force_after_timeout: bool,
) -> Result<Option<Duration>, InvalidArgument> {
    match timeout_s {
        None if force_after_timeout => Err(InvalidArgument::new(
            "force_after_timeout",
            "`force_after_timeout` needs `timeout_s`: how long the guest has before it is destroyed",
        )),
        None => Ok(None),
        Some(secs) if secs == 0 || secs > MAX_TIMEOUT_S => Err(InvalidArgument::new(
            "timeout_s",
            format!("`timeout_s` must be between 1 and {MAX_TIMEOUT_S} seconds; {secs} is not"),
        )),
        Some(secs) => Ok(Some(Duration::from_secs(u64::from(secs)))),
    }
}

fn reply(
    domain: DomainSummary,
    outcome: pb::ShutdownOutcome,
    started: Instant,
) -> pb::ShutdownDomainResponse {
    pb::ShutdownDomainResponse {
        domain: Some(domain.into()),
        outcome: outcome.into(),
        waited_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    }
}
