//! The one map from the service's errors to gRPC statuses, for every service: each
//! error kind gets its code, its message and one `ErrorReason` with google.rpc
//! details, here and nowhere else.

mod direct;
mod hypervisor;
mod problem;
mod service;
#[cfg(test)]
mod tests;

pub(crate) use direct::*;
#[cfg(test)]
use problem::ERROR_DOMAIN;
pub(crate) use problem::Problem;
pub(crate) use service::publish_failure;
