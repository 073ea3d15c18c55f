//! Sending a request: attempts through its host's pool, retrying connect failures,
//! requests that never reached the peer and (only) idempotent ones that may have.

use std::time::Instant;

use http::Method;
use tracing::debug;

use super::{
    HostKey, HttpError, HttpPools, HttpResponse, OutgoingRequest, RequestOptions, error::Failure,
};
use crate::backoff::Backoff;

impl HttpPools {
    /// Sends a request through its host's pool, retrying connect failures, requests
    /// that never reached the peer and (only) idempotent ones that may have.
    ///
    /// # Errors
    /// [`HttpError`] once retries are spent, or at once when retrying cannot help.
    pub async fn send(
        &self,
        request: &OutgoingRequest,
        options: &RequestOptions,
    ) -> Result<HttpResponse, HttpError> {
        let key = HostKey::from_uri(&request.url)?;
        let idempotent = options.idempotent || is_idempotent(&request.method);
        let mut backoff = Backoff::new(options.backoff_initial, options.backoff_max);
        let mut attempt = 0;
        let mut stale_retried = false;
        loop {
            let error = match self.attempt(&key, request, options).await {
                Ok(response) => return Ok(response),
                Err(Failure::Final(e)) => return Err(e),
                Err(Failure::MaybeSent(e)) if !idempotent => return Err(e),
                Err(Failure::Stale(e)) if !stale_retried => {
                    debug!(pool = %key, error = %e, "pooled connection closed under us; trying another");
                    stale_retried = true;
                    continue;
                }
                Err(Failure::Stale(e) | Failure::NotSent(e) | Failure::MaybeSent(e)) => e,
            };
            if attempt >= options.retries {
                return Err(error);
            }
            attempt += 1;
            let delay = backoff.record_failure(Instant::now());
            debug!(pool = %key, error = %error, retry_in = ?delay, "HTTP request failed; retrying");
            tokio::time::sleep(delay).await;
        }
    }
}

/// RFC 9110's idempotent methods.
fn is_idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS | Method::TRACE
    )
}
