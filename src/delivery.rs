//! The loop every outbox sink runs (AMQP notifications, each webhook): deliver what is
//! pending, wait for a wake-up when nothing is, back off while the head of the queue
//! fails, and flush at shutdown until the stop deadline; whatever is left waits for the
//! next start.

use std::{future::Future, time::Duration};

use tokio::{sync::Notify, time::Instant};

use crate::{backoff::Backoff, workers::Drain};

/// How one pass over a sink's pending rows ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    /// Nothing more is pending (as far as this pass saw).
    Idle,
    /// A full batch was delivered: more may be waiting.
    More,
    /// The head of the queue failed (or the outbox could not be read): wait, retry it.
    Blocked,
}

/// A sink that delivers pending rows one batch per pass, in order.
///
/// A pass may be dropped at any await point (at the stop deadline): rows are marked
/// delivered only after their delivery, so a dropped pass leaves them pending.
pub trait Sink: Send {
    fn pass(&mut self) -> impl Future<Output = Pass> + Send;
}

/// When to try again.
#[derive(Debug, Clone, Copy)]
pub struct Pacing {
    /// Backoff while the head of the queue fails.
    pub retry_initial: Duration,
    pub retry_max: Duration,
    /// A look at the outbox now and then even without a wake-up (rows enqueued by
    /// another process, or a wake-up that raced the previous pass).
    pub idle_poll: Duration,
}

/// Runs `drain` until `stop` fires, then keeps delivering while passes deliver full
/// batches, until the deadline the stop carries; the pass under way at the deadline is
/// dropped.
pub async fn drive<D: Sink>(sink: &mut D, wake: &Notify, mut stop: Drain, pacing: Pacing) {
    let mut backoff = Backoff::new(pacing.retry_initial, pacing.retry_max);
    loop {
        let pass = {
            let pass = sink.pass();
            tokio::pin!(pass);
            tokio::select! {
                pass = &mut pass => Ok(pass),
                deadline = stop.requested() => {
                    // The pass under way is part of the flush.
                    Err((deadline, tokio::time::timeout_at(deadline, pass).await))
                }
            }
        };
        let pass = match pass {
            Ok(pass) => pass,
            Err((deadline, last)) => {
                if last == Ok(Pass::More) {
                    flush(sink, deadline).await;
                }
                return;
            }
        };
        let wait = match pass {
            Pass::More => {
                backoff.record_success();
                continue;
            }
            Pass::Idle => {
                backoff.record_success();
                pacing.idle_poll
            }
            Pass::Blocked => backoff.record_failure(std::time::Instant::now()),
        };
        tokio::select! {
            () = wake.notified(), if pass == Pass::Idle => {}
            () = tokio::time::sleep(wait) => {}
            deadline = stop.requested() => {
                flush(sink, deadline).await;
                return;
            }
        }
    }
}

async fn flush<D: Sink>(sink: &mut D, deadline: Instant) {
    let _ =
        tokio::time::timeout_at(deadline, async { while sink.pass().await == Pass::More {} }).await;
}
