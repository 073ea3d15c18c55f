//! Safe retries: a mutating RPC sent with a `request_id` acts once, and its repeats get
//! the first one's reply, also after a restart of the service.
//!
//! The database is the source of truth (`idempotent_requests`, per host). The first
//! request with an id claims it, acts, and stores its reply when it succeeded or
//! releases the claim when it failed, so that a retry acts again. A repeat that finds
//! the claim pending waits: an in-process signal wakes it as soon as any claim is
//! settled (one process writes for a host, so every settle of its ids happens here),
//! and it polls the database as a safety net.
//!
//! The act runs in a task of its own, not in the caller's future. A client that gives
//! up (its deadline passed, it cancelled) drops the handler's future, yet the action
//! it started may well happen: a libvirt call already sent runs to its end on its
//! blocking thread. Releasing the claim then would let the retry act a second time,
//! which is exactly what a retry after a timeout must not do. So the act always runs
//! to its end and its outcome is recorded; the retry waits for it and gets its reply.

use std::{future::Future, sync::Arc, time::Duration};

use prost::Message;
use ring::digest;
use tokio::{sync::Notify, task::JoinError, time::Instant};
use tonic::Status;
use tracing::{Instrument, debug, warn};

use crate::{
    grpc::status,
    model::InvalidArgument,
    store::{Claim, Store, StoreError},
};

/// The longest a request id may be, in bytes.
const MAX_ID_BYTES: usize = 128;
/// How often a repeat polls a pending claim when nothing woke it: a safety net, since
/// every settle of this host's ids wakes the waiters at once.
const POLL_EVERY: Duration = Duration::from_millis(250);
/// How long a repeat waits for the first request with its id: well beyond any
/// operation's own timeout. A client deadline ends the wait sooner (tonic drops the
/// handler).
const MAX_WAIT: Duration = Duration::from_secs(120);
/// Attempts to record an outcome the database refused, with the first delay between
/// them (doubling).
const SETTLE_ATTEMPTS: u32 = 6;
const SETTLE_RETRY: Duration = Duration::from_millis(200);

/// How long the replies of requests with an id are kept (`[requests]`; the default
/// lives with the configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// A repeat within this time of the first request's success replays its reply;
    /// after it, the id is free again.
    pub retention: Duration,
}

/// Runs mutating requests at most once per request id, for one host.
#[derive(Debug, Clone)]
pub struct Requests {
    store: Store,
    hostname: Arc<str>,
    ttl: Duration,
    /// Signalled after every settle (reply stored or claim released): waiters look again.
    settled: Arc<Notify>,
}

/// A claimed id and the request it is claimed for.
#[derive(Debug, Clone)]
struct Key {
    id: String,
    fingerprint: String,
}

/// What a request with an id does once it holds its turn.
enum Turn {
    Act,
    Replay(Vec<u8>),
}

impl Requests {
    /// Request ids of `hostname`, kept in `store` for `settings.retention`.
    #[must_use]
    pub fn new(store: Store, hostname: impl Into<Arc<str>>, settings: &Settings) -> Requests {
        Requests {
            store,
            hostname: hostname.into(),
            ttl: settings.retention,
            settled: Arc::new(Notify::new()),
        }
    }

    /// Runs `act` for `request` unless a request with `request_id` already did: then
    /// answers with that one's reply. An empty `request_id` just runs `act`.
    ///
    /// `method` names the RPC (e.g. `"/virtplane.v1.DomainService/StartDomain"`): the
    /// same id with another method, or with other fields, is refused. `act` is handed
    /// the request once its fingerprint is taken (no copy of a large batch), and runs in a
    /// task of its own and to its end, even when the caller is dropped (see the module
    /// documentation); hence `'static`.
    ///
    /// # Errors
    /// `INVALID_ARGUMENT` for a malformed id or one used for a different request;
    /// `ABORTED` when the first request with the id is still running after two
    /// minutes; the database's errors; and `act`'s own error, as it is.
    pub async fn once<Req, Resp, Fut>(
        &self,
        method: &'static str,
        request_id: &str,
        request: Req,
        act: impl FnOnce(Req) -> Fut,
    ) -> Result<Resp, Status>
    where
        Req: Message,
        Resp: Message + Default + 'static,
        Fut: Future<Output = Result<Resp, Status>> + Send + 'static,
    {
        if request_id.is_empty() {
            return act(request).await;
        }
        check_request_id(request_id)?;
        let key = Key {
            id: request_id.to_owned(),
            fingerprint: fingerprint(method, &request),
        };
        match self.take_turn(method, &key).await? {
            Turn::Replay(reply) => {
                debug!(request_id, method, "replaying the stored reply");
                Resp::decode(reply.as_slice()).map_err(|e| {
                    StoreError::Corrupt(format!("stored reply of {method}: {e}")).into()
                })
            }
            Turn::Act => self.act_and_settle(key, act(request)).await,
        }
    }

    /// Claims the id, waiting while another request holds it pending.
    async fn take_turn(&self, method: &str, key: &Key) -> Result<Turn, Status> {
        let give_up = Instant::now() + MAX_WAIT;
        loop {
            // Registered before the look, so a settle between the two still wakes us.
            let settled = self.settled.notified();
            tokio::pin!(settled);
            settled.as_mut().enable();
            let claim = self
                .store
                .claim_request(&self.hostname, &key.id, method, &key.fingerprint, self.ttl)
                .await?;
            match claim {
                Claim::Acquired => return Ok(Turn::Act),
                Claim::Done(reply) => return Ok(Turn::Replay(reply)),
                Claim::Mismatch { method: first } => {
                    return Err(mismatch(&key.id, method, &first));
                }
                Claim::Pending => {}
            }
            let now = Instant::now();
            if now >= give_up {
                return Err(status::request_in_progress(
                    format!(
                        "an earlier request with request_id {:?} is still being processed; \
                         retry later with the same request_id",
                        key.id
                    ),
                    &key.id,
                ));
            }
            tokio::select! {
                () = settled => {}
                () = tokio::time::sleep_until(give_up.min(now + POLL_EVERY)) => {}
            }
        }
    }

    /// Runs `act` in a task of its own, then stores its reply or releases the claim,
    /// whether or not the caller is still there.
    async fn act_and_settle<Resp, Fut>(&self, key: Key, act: Fut) -> Result<Resp, Status>
    where
        Resp: Message + 'static,
        Fut: Future<Output = Result<Resp, Status>> + Send + 'static,
    {
        let requests = self.clone();
        let task = async move {
            // A task of its own for the act too: a panic in it then still settles.
            let result = tokio::spawn(act.in_current_span())
                .await
                .unwrap_or_else(|e| Err(act_failed(&e)));
            let reply = result.as_ref().ok().map(Message::encode_to_vec);
            requests.settle(key, reply).await;
            result
        };
        tokio::spawn(task.in_current_span())
            .await
            .unwrap_or_else(|e| Err(act_failed(&e)))
    }

    /// Stores `reply` (success) or releases the claim (failure), then wakes waiters.
    /// When the database refuses, a background task tries again: the caller gets its
    /// answer now, and the claim stays pending (repeats wait) until it is settled.
    async fn settle(self, key: Key, reply: Option<Vec<u8>>) {
        match self.record(&key, reply.as_deref()).await {
            Ok(()) => self.settled.notify_waiters(),
            Err(e) => {
                warn!(error = %e, request_id = %key.id, "cannot record a request's outcome; retrying");
                tokio::spawn(self.settle_later(key, reply).in_current_span());
            }
        }
    }

    /// Retries recording an outcome with a doubling delay; gives up after a few
    /// attempts, leaving the claim pending until it expires or the service restarts.
    async fn settle_later(self, key: Key, reply: Option<Vec<u8>>) {
        let mut delay = SETTLE_RETRY;
        for attempt in 1..=SETTLE_ATTEMPTS {
            tokio::time::sleep(delay).await;
            delay *= 2;
            match self.record(&key, reply.as_deref()).await {
                Ok(()) => {
                    self.settled.notify_waiters();
                    return;
                }
                Err(e) if attempt == SETTLE_ATTEMPTS => {
                    warn!(error = %e, request_id = %key.id, "giving up recording a request's outcome; its repeats wait until the service restarts or the id expires");
                }
                Err(_) => {}
            }
        }
    }

    /// One attempt at storing `reply`, or at releasing the claim when there is none.
    async fn record(&self, key: &Key, reply: Option<&[u8]>) -> Result<(), StoreError> {
        let (host, id, fingerprint) = (&*self.hostname, &key.id, &key.fingerprint);
        let held = match reply {
            Some(reply) => {
                self.store
                    .complete_request(host, id, fingerprint, reply, self.ttl)
                    .await?
            }
            None => self.store.release_request(host, id, fingerprint).await?,
        };
        if !held && reply.is_some() {
            // Only after the claim outlived its whole retention: nothing to undo.
            warn!(request_id = %id, "a request's claim expired before it finished; its reply is not kept");
        }
        Ok(())
    }
}

/// A request id is at most 128 bytes of printable ASCII without spaces.
fn check_request_id(id: &str) -> Result<(), Status> {
    if id.len() <= MAX_ID_BYTES && id.bytes().all(|b| b.is_ascii_graphic()) {
        return Ok(());
    }
    Err(Status::from(InvalidArgument::new(
        "request_id",
        format!(
            "`request_id` must be at most {MAX_ID_BYTES} printable ASCII characters without \
         spaces (or empty for none)"
        ),
    )))
}

/// SHA-256 over the method and the encoded request, in hex. Map fields are ordered
/// maps (build.rs), so one request always encodes to the same bytes.
fn fingerprint(method: &str, request: &impl Message) -> String {
    let mut context = digest::Context::new(&digest::SHA256);
    context.update(method.as_bytes());
    // No method contains a NUL: the boundary between the two parts is unambiguous.
    context.update(&[0]);
    context.update(&request.encode_to_vec());
    crate::hex::encode(context.finish().as_ref())
}

fn mismatch(id: &str, method: &str, first: &str) -> Status {
    let used_for = if first == method {
        format!("another {first} request (other fields)")
    } else {
        first.to_owned()
    };
    status::request_id_reused(
        format!(
            "`request_id` {id:?} was already used for {used_for}; a different request needs \
             its own request_id"
        ),
        id,
    )
}

/// The act panicked, or the runtime is shutting down under it.
fn act_failed(err: &JoinError) -> Status {
    warn!(error = %err, "a request's action did not finish");
    status::internal_unexpected("the request's action failed unexpectedly")
}

#[cfg(test)]
mod tests;
