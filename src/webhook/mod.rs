//! Webhooks: every lifecycle event POSTed as signed JSON to the configured receivers,
//! at least once, through the outbox (like AMQP notifications) and the HTTP host
//! pools.

mod deliverer;
mod pools;
mod settings;
mod signature;

pub use deliverer::{Deliverer, announce, headers};
pub use pools::host_pools;
pub use settings::Settings;
pub use signature::{sign, verify};
