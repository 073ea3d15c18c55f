//! A connection checked out for one attempt: pooled (with `block`/`pool_timeout`), or
//! an extra one beyond a full pool; given back after a clean response, else closed.

use super::{
    HostKey, HttpPools, RequestOptions,
    connection::{HttpConnection, HttpManager},
    error::{Failure, classify},
};
use crate::pool::{Acquire, AcquireError, Overflow, Pooled};

/// A checked-out connection: pooled, or an extra one beyond a full pool.
pub(super) enum Lease {
    Pooled(Pooled<HttpManager>),
    Overflow(Overflow<HttpManager>),
}

impl Lease {
    pub(super) fn conn(&mut self) -> &mut HttpConnection {
        match self {
            Lease::Pooled(conn) => conn,
            Lease::Overflow(conn) => conn,
        }
    }
}

impl HttpPools {
    pub(super) async fn checkout(
        &self,
        key: &HostKey,
        options: &RequestOptions,
    ) -> Result<Lease, Failure> {
        let mode = if options.block {
            Acquire::Blocking(options.pool_timeout)
        } else {
            Acquire::NonBlocking
        };
        match self.group.acquire(key, mode).await {
            Ok(conn) => Ok(Lease::Pooled(conn)),
            Err(AcquireError::Exhausted { .. }) if !options.block => self
                .group
                .overflow(key)
                .await
                .map(Lease::Overflow)
                .map_err(classify),
            Err(e) => Err(classify(e)),
        }
    }

    pub(super) fn discard(&self, key: &HostKey, lease: Lease) {
        match lease {
            Lease::Pooled(conn) => self.group.discard(key, conn),
            // Dropping an extra connection closes it and counts it.
            Lease::Overflow(conn) => drop(conn),
        }
    }
}
