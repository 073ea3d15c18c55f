//! Attempts until every message of a call has its answer or the deadline has come,
//! retrying connection failures under the broker's retry policy.

use tokio::time::Instant;
use tracing::warn;

use super::{PublishError, Publisher, deadline::not_confirmed_by_deadline, fate::Fate};
use crate::{
    amqp::Message,
    amqp::{BrokerSettings, RetryPolicy},
};

/// One answer per message, `None` while it has none yet.
type Results = Vec<Option<Result<(), PublishError>>>;

impl Publisher {
    /// Attempts until every message has its answer or the deadline has come.
    pub(super) async fn publish_all(
        &self,
        broker: &BrokerSettings,
        messages: &[Message],
        deadline: Instant,
    ) -> Vec<Result<(), PublishError>> {
        let mut results: Results = messages
            .iter()
            .map(|m| {
                m.validate(broker.max_body_bytes)
                    .err()
                    .map(|e| Err(PublishError::Invalid(e)))
            })
            .collect();
        let mut retries = 0;
        loop {
            let pending: Vec<usize> = (0..messages.len())
                .filter(|i| results[*i].is_none())
                .collect();
            if pending.is_empty() {
                break;
            }
            if Instant::now() >= deadline {
                for index in pending {
                    results[index] = Some(Err(not_confirmed_by_deadline()));
                }
                break;
            }
            let batch: Vec<&Message> = pending.iter().map(|i| &messages[*i]).collect();
            let fates = self.attempt(broker, &batch, deadline).await;
            if let Some(reason) = record(&pending, fates, &mut results)
                && let Err(e) = self
                    .retry_or_fail(broker, &mut retries, reason, deadline)
                    .await
            {
                for slot in results.iter_mut().filter(|r| r.is_none()) {
                    *slot = Some(Err(e.clone()));
                }
            }
        }
        results.into_iter().map(|r| r.unwrap_or(Ok(()))).collect()
    }

    async fn retry_or_fail(
        &self,
        broker: &BrokerSettings,
        attempt: &mut u32,
        reason: String,
        deadline: Instant,
    ) -> Result<(), PublishError> {
        let RetryPolicy {
            max_retries,
            interval_start,
            interval_step,
            interval_max,
        } = broker.retry;
        let wait = (interval_start + interval_step * *attempt).min(interval_max);
        if *attempt >= max_retries {
            // The wait the policy would have made next is the client's to make.
            return Err(PublishError::Unavailable {
                message: format!(
                    "broker {:?} ({}) is unavailable after {} attempts: {reason}",
                    broker.name,
                    broker.key,
                    *attempt + 1
                ),
                retry_after: wait,
            });
        }
        warn!(broker = %broker.name, pool = %broker.key, retry_in = ?wait, %reason, "publish failed; retrying on a fresh connection");
        *attempt += 1;
        tokio::time::sleep_until(deadline.min(Instant::now() + wait)).await;
        Ok(())
    }
}

/// Records the answers one attempt gave for the `pending` messages; the reason to
/// retry when the attempt calls for another.
fn record(
    pending: &[usize],
    fates: Vec<Fate>,
    results: &mut [Option<Result<(), PublishError>>],
) -> Option<String> {
    let (mut retry, mut resend, mut progressed) = (None, false, false);
    for (index, fate) in pending.iter().zip(fates) {
        let result = match fate {
            Fate::Confirmed => Ok(()),
            Fate::Final(e) => Err(e),
            Fate::Late => Err(not_confirmed_by_deadline()),
            Fate::Retry(reason) => {
                retry = Some(reason);
                continue;
            }
            // Resolved inside the attempt; never left over.
            Fate::Resend | Fate::ChannelClosed(_) | Fate::Unsent => {
                resend = true;
                continue;
            }
        };
        results[*index] = Some(result);
        progressed = true;
    }
    // Resending is free only while it moves: a channel closed under nothing but
    // resends counts as a failed attempt, so the loop always ends.
    if resend && !progressed && retry.is_none() {
        retry = Some("the broker closed the channel before the messages were processed".into());
    }
    retry
}
