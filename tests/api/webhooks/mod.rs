//! Webhooks: lifecycle events POSTed as signed JSON to a real HTTP server on loopback,
//! at least once through a receiver outage and a restart of the service, 4xx recorded
//! as permanent failures visible over gRPC.

mod delivery;
mod retries;
mod trust;
